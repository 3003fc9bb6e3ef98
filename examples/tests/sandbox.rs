//! The sandbox binary, seeded with `--records`, and the scheme binaries run
//! against it with the settings it prints: the first run of each scheme
//! syncs every seeded record, and nothing is lost.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use integration_core::RunReport;

/// The line the sandbox prints once every fake is up.
const READY: &str = "Ctrl-C stops them.";

/// A running sandbox: its printed settings and seeded lines; killed on drop.
struct Sandbox {
    child: Child,
    /// `NAME=value` of every `export` line.
    env: BTreeMap<String, String>,
    /// The `seeded:` lines, in the order printed (xbongbong … huke).
    seeded: Vec<String>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits an `export` line's words (`A=b C='d e'`) as a shell would.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => word.push(c),
        }
    }
    if any || !word.is_empty() {
        words.push(word);
    }
    words
}

/// Distinct base ports for the sandboxes of this test binary.
static NEXT_BASE: AtomicU16 = AtomicU16::new(0);

/// Starts the sandbox with `args` on free ports (retrying on a taken one)
/// and reads its startup lines.
fn start_sandbox(args: &[&str]) -> Sandbox {
    for _ in 0..8 {
        let slot = NEXT_BASE.fetch_add(1, Ordering::SeqCst);
        let base = 20_000 + (std::process::id() % 1_000) as u16 * 20 + slot * 10;
        let mut child = Command::new(env!("CARGO_BIN_EXE_sandbox"))
            .args(["--base-port", &base.to_string()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the sandbox starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut lines = Vec::new();
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == READY => break true,
                Ok(line) => lines.push(line),
                Err(_) => break false,
            }
        };
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            if stderr.contains("cannot listen") {
                continue;
            }
            panic!(
                "the sandbox did not come up: {stderr}\n{}",
                lines.join("\n")
            );
        }
        let mut env = BTreeMap::new();
        let mut seeded = Vec::new();
        for line in &lines {
            let line = line.trim();
            if let Some(exports) = line.strip_prefix("export ") {
                for word in shell_words(exports) {
                    let (name, value) = word.split_once('=').expect("NAME=value");
                    env.insert(name.to_owned(), value.to_owned());
                }
            } else if let Some(what) = line.strip_prefix("seeded: ") {
                seeded.push(what.to_owned());
            }
        }
        return Sandbox { child, env, seeded };
    }
    panic!("no free ports for the sandbox");
}

/// A fresh folder for a scheme's state file.
fn state_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sandbox-test-{}-{name}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// Runs a scheme binary once with `--json` against the sandbox, with only
/// the settings of `systems`; its reports.
fn run_scheme(
    binary: &str,
    sandbox: &Sandbox,
    systems: &[&str],
    state: &std::path::Path,
) -> Vec<RunReport> {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .args(["--json", "--state"])
        .arg(state)
        .current_dir(state.parent().expect("the state file's folder"));
    for (name, value) in &sandbox.env {
        if systems.iter().any(|s| name.starts_with(&format!("{s}_"))) {
            cmd.env(name, value);
        }
    }
    let out = cmd.output().expect("the scheme binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{binary}: {stderr}\n{stdout}");
    // The notes name the sandbox's URLs, not built-in fakes.
    assert!(
        !stderr.contains("built-in fake"),
        "{binary} ran against its own fakes: {stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{binary}: {e}: {stdout}"))
}

/// The number before `word` in `text` (`"50 trades of 16 buyers"`, `buyers`).
fn number_before(text: &str, word: &str) -> u64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_end_matches(',') == word)
        .unwrap_or_else(|| panic!("no {word:?} in {text:?}"));
    words[at - 1]
        .parse()
        .unwrap_or_else(|_| panic!("no number before {word:?} in {text:?}"))
}

fn settled(report: &RunReport) {
    assert_eq!(report.unaccounted(), 0, "{report}");
    assert_eq!(report.dead_lettered, 0, "{report}");
    assert_eq!(report.failed, 0, "{report}");
}

#[test]
fn schemes_pointed_at_a_seeded_sandbox_sync_every_record_in_their_first_run() {
    let started = Instant::now();
    let sandbox = start_sandbox(&["--records", "50"]);
    let [xbongbong, kingdee, jdy, jackyun, yonbip, okki, huke] = sandbox.seeded.as_slice() else {
        panic!("seven seeded lines: {:?}", sandbox.seeded);
    };
    assert_eq!(xbongbong, "50 customers, 50 contracts");
    assert!(jdy.starts_with("50 purchase inbound bills of "), "{jdy}");
    assert!(okki.starts_with("50 companies with contacts"), "{okki}");
    assert!(okki.contains("; 3 of them deleted"), "{okki}");
    assert!(huke.starts_with("50 trades of "), "{huke}");
    for target in [kingdee, jackyun, yonbip] {
        assert!(target.starts_with("empty"), "{target}");
    }
    for name in [
        "XBONGBONG_BASE_URL",
        "KINGDEE_SERVER_URL",
        "JDY_BASE_URL",
        "JACKYUN_BASE_URL",
        "YONBIP_DISCOVERY_URL",
        "OKKI_BASE_URL",
        "HUKE_BASE_URL",
        "JDY_GROUP_NAME",
    ] {
        assert!(sandbox.env.contains_key(name), "{name}: {:?}", sandbox.env);
    }

    // huke-to-kingdee: all 50 trades fall into the first run's window,
    // and each of their buyers becomes one K/3 Cloud customer.
    let dir = state_dir("huke");
    let state = dir.join("huke.sqlite");
    let binary = env!("CARGO_BIN_EXE_huke-to-kingdee");
    let reports = run_scheme(binary, &sandbox, &["HUKE", "KINGDEE"], &state);
    let [trades, customers] = reports.as_slice() else {
        panic!("two reports: {reports:?}");
    };
    assert_eq!(trades.pipeline, "huke-trades");
    assert_eq!((trades.read, trades.written), (50, 50), "{trades}");
    settled(trades);
    let buyers = number_before(huke, "buyers");
    assert!((1..50).contains(&buyers), "{huke}");
    assert_eq!(customers.pipeline, "huke-to-kingdee");
    assert_eq!(
        (customers.read, customers.written, customers.created),
        (buyers, buyers, buyers),
        "{customers}"
    );
    settled(customers);
    // A second run finds nothing new and writes nothing twice.
    let again = run_scheme(binary, &sandbox, &["HUKE", "KINGDEE"], &state);
    assert!(
        again.iter().all(|r| r.read == 0 && r.written == 0),
        "{again:?}"
    );
    std::fs::remove_dir_all(&dir).ok();

    // xbongbong-to-kingdee: 50 customers, then 50 contracts (terminated
    // ones skipped), into the same K/3 Cloud.
    let dir = state_dir("xbongbong");
    let reports = run_scheme(
        env!("CARGO_BIN_EXE_xbongbong-to-kingdee"),
        &sandbox,
        &["XBONGBONG", "KINGDEE"],
        &dir.join("xbongbong.sqlite"),
    );
    let [customers, contracts] = reports.as_slice() else {
        panic!("two reports: {reports:?}");
    };
    assert_eq!(customers.pipeline, "xbongbong-customers");
    assert_eq!(
        (customers.read, customers.written, customers.created),
        (50, 50, 50),
        "{customers}"
    );
    settled(customers);
    assert_eq!(contracts.pipeline, "xbongbong-contracts");
    assert_eq!(contracts.read, 50, "{contracts}");
    assert_eq!(contracts.written + contracts.skipped, 50, "{contracts}");
    assert!(contracts.written > 0, "{contracts}");
    settled(contracts);
    std::fs::remove_dir_all(&dir).ok();

    // jdy-to-jackyun: the 50 bills' suppliers, one Jackyun customer each.
    let dir = state_dir("jdy");
    let reports = run_scheme(
        env!("CARGO_BIN_EXE_jdy-to-jackyun"),
        &sandbox,
        &["JDY", "JACKYUN"],
        &dir.join("jdy.sqlite"),
    );
    let suppliers = number_before(jdy, "suppliers");
    let [suppliers_report] = reports.as_slice() else {
        panic!("one report: {reports:?}");
    };
    assert_eq!(
        (suppliers_report.read, suppliers_report.written),
        (suppliers, suppliers),
        "{suppliers_report}"
    );
    assert!(suppliers > 0);
    settled(suppliers_report);
    std::fs::remove_dir_all(&dir).ok();

    drop(sandbox);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn without_records_the_sandbox_seeds_what_the_demo_seeds() {
    use examples::systems::{huke, jdy, okki, xbongbong};
    let sandbox = start_sandbox(&[]);
    let seeded = &sandbox.seeded;
    assert_eq!(seeded.len(), 7, "{seeded:?}");
    assert_eq!(
        seeded[0],
        format!(
            "{} customers, {} contracts",
            xbongbong::SEEDED_CUSTOMERS,
            xbongbong::SEEDED_CONTRACTS
        )
    );
    assert!(
        seeded[2].starts_with(&format!("{} purchase inbound bills", jdy::SEEDED_BILLS)),
        "{}",
        seeded[2]
    );
    assert!(
        seeded[5].starts_with(&format!("{} companies", okki::SEEDED_COMPANIES))
            && seeded[5].contains(&format!("; {} of them deleted", okki::DELETED_COMPANIES)),
        "{}",
        seeded[5]
    );
    assert!(
        seeded[6].starts_with(&format!("{} trades of ", huke::SEEDED_TRADES)),
        "{}",
        seeded[6]
    );
}

#[test]
fn a_bad_records_count_ends_with_a_clear_message_and_exit_code_2() {
    for (value, says) in [
        ("0", "0 seeds nothing"),
        ("100001", "more than 100000"),
        ("lots", "not a number of records"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_sandbox"))
            .args(["--base-port", "1", "--records", value])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--records {value}: {stderr}");
        assert!(
            stderr.contains("--records") && stderr.contains(says),
            "--records {value}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing started: {value}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--records <N>") && help.contains("1 … 100000"),
        "{help}"
    );
}
