//! Scheme 4 against the fakes, pointed at them by settings, and the
//! binaries' handling of bad settings.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;

use examples::runner::{Job, Progress};
use examples::schemes::huke_to_kingdee::{NAME, setup};
use examples::settings::Settings;
use integration_core::{SqliteStore, StateStore};
use kingdee_cloud::testing::FakeK3Cloud;
use netease_huke::testing::FakeHuke;

fn memory_state() -> Arc<dyn StateStore> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

#[tokio::test]
async fn against_the_fakes_every_buyer_becomes_one_customer_and_a_rerun_adds_none() {
    let job = setup(&Settings::empty(), memory_state(), Progress::hidden(NAME))
        .await
        .unwrap();
    assert!(
        job.notes().iter().all(|n| n.contains("built-in fake")),
        "{:?}",
        job.notes()
    );
    let first = job.run().await.unwrap();
    assert_eq!(
        first[0].read, 300,
        "every trade of the window reaches the collection"
    );
    assert!(first[1].written > 0 && first[1].unaccounted() == 0);
    assert_eq!(first[1].dead_lettered, 0, "{:?}", first[1].first_errors);
    job.verify().await.unwrap();
    let customers = job.target_records().unwrap();
    assert_eq!(customers as u64, first[1].written);

    let second = job.run().await.unwrap();
    assert_eq!(second.iter().map(|r| r.unaccounted()).sum::<u64>(), 0);
    assert_eq!(
        job.target_records(),
        Some(customers),
        "a rerun duplicates nothing"
    );
    job.verify().await.unwrap();
}

#[tokio::test]
async fn settings_point_the_scheme_at_real_looking_services() {
    // Two "real" services on loopback: the scheme is configured only by
    // settings, so signatures, headers and bodies are what it would send to
    // the real APIs (the fakes check them).
    let huke = FakeHuke::start().await;
    let now = chrono::Utc::now();
    huke.seed_trades_between(40, 7, now - chrono::Duration::hours(3), now);
    let k3 = FakeK3Cloud::start().await;
    let env = vec![
        ("HUKE_BASE_URL".to_string(), huke.base_url()),
        (
            "HUKE_APP_KEY".to_string(),
            netease_huke::testing::APP_KEY.to_string(),
        ),
        (
            "HUKE_APP_SECRET".to_string(),
            netease_huke::testing::APP_SECRET.to_string(),
        ),
        ("KINGDEE_SERVER_URL".to_string(), k3.server_url()),
        (
            "KINGDEE_ACCT_ID".to_string(),
            kingdee_cloud::testing::ACCT_ID.to_string(),
        ),
        (
            "KINGDEE_USER_NAME".to_string(),
            kingdee_cloud::testing::USER_NAME.to_string(),
        ),
        (
            "KINGDEE_APP_ID".to_string(),
            kingdee_cloud::testing::APP_ID.to_string(),
        ),
        (
            "KINGDEE_APP_SECRET".to_string(),
            kingdee_cloud::testing::APP_SECRET.to_string(),
        ),
    ];
    let settings = Settings::from_sources(None, env).unwrap();
    let job = setup(&settings, memory_state(), Progress::hidden(NAME))
        .await
        .unwrap();
    assert!(
        job.notes().iter().all(|n| !n.contains("fake")),
        "{:?}",
        job.notes()
    );
    let reports = job.run().await.unwrap();
    assert_eq!(reports[0].read, 40);
    assert_eq!(reports[1].dead_lettered, 0, "{:?}", reports[1].first_errors);

    let customers = k3.records("BD_Customer");
    assert_eq!(customers.len() as u64, reports[1].written);
    let trades = huke.state().trades().to_vec();
    for c in &customers {
        let number = c["FNumber"].as_str().unwrap();
        let trade = trades
            .iter()
            .find(|t| t["buyerCid"].as_str() == Some(number))
            .unwrap();
        assert_eq!(c["FName"], trade["buyerNick"]);
        // FDescription was looked up from the trades collection by cid.
        let description = c["FDescription"].as_str().unwrap();
        assert!(
            trades
                .iter()
                .any(|t| t["tid"].as_str() == Some(description)
                    && t["buyerCid"] == trade["buyerCid"]),
            "{description}"
        );
    }
    let saves = k3.received_on("BatchSave").await;
    assert!(!saves.is_empty());
    let body: serde_json::Value = serde_json::from_slice(&saves[0].body).unwrap();
    assert_eq!(body["data"]["IsAutoSubmitAndAudit"], true);
    assert_eq!(body["data"]["IsVerifyBaseDataField"], false);
    assert_eq!(body["data"]["Model"][0]["FCreateOrgId"]["FNumber"], "100");
}

fn run_binary(env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"));
    cmd.env_clear().args(args).current_dir(std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_settings_end_with_one_line_naming_the_setting_and_exit_code_2() {
    let (code, stderr) = run_binary(&[("HUKE_APP_KEY", "k")], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim(),
        "huke-to-kingdee: setting HUKE_APP_SECRET: is missing"
    );

    let (code, stderr) = run_binary(
        &[
            ("KINGDEE_SERVER_URL", "k3.example.com/k3cloud"),
            ("KINGDEE_ACCT_ID", "1"),
        ],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("KINGDEE_SERVER_URL") && stderr.lines().count() <= 3,
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let config = std::env::temp_dir().join(format!("bad-system-{}.toml", std::process::id()));
    std::fs::write(&config, "[kingde]\nserver_url = \"https://x/k3cloud\"\n").unwrap();
    let (code, stderr) = run_binary(&[], &["--config", config.to_str().unwrap()]);
    std::fs::remove_file(&config).ok();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("[kingde]") && stderr.contains("unknown system"),
        "{stderr}"
    );
}

#[test]
fn an_empty_state_file_is_refused_until_asked_for_a_fresh_start() {
    let dir = std::env::temp_dir().join(format!("fresh-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("truncated.sqlite");
    std::fs::write(&state, b"").unwrap();
    let state_arg = state.display().to_string();

    let (code, stderr) = run_binary(&[], &["--state", &state_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&state_arg), "names the file: {stderr}");
    assert!(stderr.contains("is empty (0 bytes)"), "{stderr}");
    assert!(
        stderr.contains("--fresh-state"),
        "says what to do: {stderr}"
    );
    assert_eq!(
        std::fs::metadata(&state).unwrap().len(),
        0,
        "left untouched"
    );

    let (code, stderr) = run_binary(&[], &["--state", &state_arg, "--fresh-state"]);
    assert_eq!(code, 0, "{stderr}");
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("truncated.sqlite.replaced-")
        });
    assert!(kept, "the old file was moved aside, not deleted");
    assert!(std::fs::metadata(&state).unwrap().len() > 0, "a new state");
    std::fs::remove_dir_all(&dir).ok();
}
