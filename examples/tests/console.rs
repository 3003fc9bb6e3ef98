//! A scheme binary with `--console`: the console serves the scheme's state
//! while it watches, `/metrics` counts both connectors' API calls and the
//! pipelines' records and runs, and a non-loopback address without a token is
//! refused before anything runs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_state(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "console-test-{label}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir.join("state.sqlite")
}

/// Starts the binary and reads its stderr until it says where the
/// console is.
fn start(state: &std::path::Path) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"))
        .args(["--watch", "3600", "--console", "127.0.0.1:0", "--state"])
        .arg(state)
        .env_remove("CONSOLE_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (found, url) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("console at ").nth(1) {
                let _ = found.send(url.trim().to_owned());
            }
        }
    });
    let url = url
        .recv_timeout(Duration::from_secs(60))
        .expect("the binary prints the console's address");
    (Running(child), url)
}

async fn get(url: &str) -> String {
    let answer = reqwest::get(url).await.expect("the console answers");
    assert!(answer.status().is_success(), "{url}: {}", answer.status());
    answer.text().await.expect("a body")
}

#[tokio::test]
async fn a_watching_scheme_serves_its_console_and_metrics() {
    let (_binary, url) = start(&temp_state("watch"));
    // Both pipelines of the scheme ran once: the second one's run counted.
    let done =
        r#"integration_runs_total{pipeline="huke-to-kingdee",kind="run",outcome="completed"} 1"#;
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let metrics = get(&format!("{url}metrics")).await;
        if metrics.contains(done) {
            break metrics;
        }
        assert!(
            Instant::now() < deadline,
            "the first run never completed:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let overview = get(&url).await;
    assert!(
        overview.contains("huke-to-kingdee") && overview.contains("completed"),
        "{overview}"
    );
    let run = get(&format!("{url}pipelines/huke-to-kingdee")).await;
    assert!(
        run.contains("Runs") && run.contains("Reset checkpoint"),
        "{run}"
    );
    let trades = get(&format!("{url}collections/huke-trades")).await;
    assert!(
        trades.contains("source data"),
        "the trades collection is listed"
    );

    for needle in [
        r#"integration_api_requests_total{system="netease-huke""#,
        r#"integration_api_requests_total{system="kingdee-cloud""#,
        r#"integration_records_written_total{pipeline="huke-to-kingdee"}"#,
        r#"integration_runs_total{pipeline="huke-trades",kind="run",outcome="completed"} 1"#,
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
}

#[test]
fn a_public_address_without_a_token_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"))
        .args(["--console", "0.0.0.0:0", "--state"])
        .arg(temp_state("public"))
        .env_remove("CONSOLE_TOKEN")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without an access token"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("read"), "nothing ran: {stdout}");
}
