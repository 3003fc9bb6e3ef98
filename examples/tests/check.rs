//! `--check` and the check before every run, through the `huke-to-kingdee`
//! binary pointed at fakes started here: all ok; a wrong K/3 Cloud secret
//! refused with a clear line that does not print the secret, and a run
//! that then reads nothing; `--no-check` reads anyway.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::process::Command;

use examples::systems::huke::seed;
use integration_core::testing::Fake;
use kingdee_cloud::testing::FakeK3Cloud;
use netease_huke::testing::FakeHuke;

/// A secret the fake does not accept, easy to find in any output.
const WRONG_SECRET: &str = "wrong-secret-5f3c9e1a";

struct Fakes {
    huke: FakeHuke,
    k3: FakeK3Cloud,
}

async fn fakes() -> Fakes {
    let huke = FakeHuke::start().await;
    seed(&huke, Some(20));
    Fakes {
        huke,
        k3: FakeK3Cloud::start().await,
    }
}

impl Fakes {
    fn env(&self, app_secret: &str) -> Vec<(&'static str, String)> {
        use kingdee_cloud::testing::{ACCT_ID, APP_ID, USER_NAME};
        use netease_huke::testing::{APP_KEY, APP_SECRET};
        vec![
            ("HUKE_BASE_URL", self.huke.base_url()),
            ("HUKE_APP_KEY", APP_KEY.into()),
            ("HUKE_APP_SECRET", APP_SECRET.into()),
            ("KINGDEE_SERVER_URL", self.k3.base_url()),
            ("KINGDEE_ACCT_ID", ACCT_ID.into()),
            ("KINGDEE_USER_NAME", USER_NAME.into()),
            ("KINGDEE_APP_ID", APP_ID.into()),
            ("KINGDEE_APP_SECRET", app_secret.into()),
        ]
    }
}

/// Runs the binary off the runtime (the fakes keep answering), in a fresh
/// directory for its state file: exit code, stdout and stderr.
async fn run(env: Vec<(&'static str, String)>, args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!(
            "check-test-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"));
        cmd.env_clear().args(&args).current_dir(&dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        std::fs::remove_dir_all(&dir).ok();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_the_fakes_and_changes_nothing() {
    let f = fakes().await;
    let (code, stdout, stderr) = run(f.env(kingdee_cloud::testing::APP_SECRET), &["--check"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "no report: {stdout}");
    let rows: Vec<&str> = stderr.lines().filter(|l| l.contains(": check ")).collect();
    assert_eq!(rows.len(), 2, "{stderr}");
    assert!(rows[0].contains("check huke       ok"), "{stderr}");
    assert!(rows[1].contains("check kingdee    ok"), "{stderr}");
    assert!(
        rows[1].contains(kingdee_cloud::testing::ACCT_ID),
        "the data centre is named: {stderr}"
    );
    assert!(
        f.k3.received_on("BatchSave").await.is_empty(),
        "nothing written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_before_anything_is_read() {
    let f = fakes().await;
    let (code, _, stderr) = run(f.env(WRONG_SECRET), &["--check"]).await;
    assert_eq!(code, 1, "{stderr}");
    let refused = stderr
        .lines()
        .find(|l| l.contains("check kingdee"))
        .unwrap_or_default();
    assert!(refused.contains("auth refused"), "{stderr}");
    assert!(refused.contains("credentials refused"), "{stderr}");
    assert!(stderr.contains("check huke       ok"), "{stderr}");
    assert!(
        !stderr.contains(WRONG_SECRET),
        "the secret is not printed: {stderr}"
    );
    let checked = f.huke.received().await.len();

    // A run checks first, and stops there.
    let (code, stdout, stderr) = run(f.env(WRONG_SECRET), &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("nothing was read"), "{stderr}");
    assert!(!stderr.contains(WRONG_SECRET) && !stdout.contains(WRONG_SECRET));
    assert_eq!(
        f.huke.received().await.len(),
        2 * checked,
        "Huke saw the check's calls and no read"
    );

    // --no-check reads, and fails at the first write.
    let (code, _, stderr) = run(f.env(WRONG_SECRET), &["--no-check"]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains(": check "), "{stderr}");
    assert!(f.huke.received().await.len() > 2 * checked, "Huke was read");
    assert!(!stderr.contains(WRONG_SECRET), "{stderr}");
}
