//! Soak with real kills: the Huke → K/3 Cloud scheme run by worker
//! *processes* (`huke-to-kingdee --worker`) against the fakes served by this
//! test process, under the fault soak's faults, while workers are SIGKILLed
//! at random moments and replaced. Three workers on one PostgreSQL; one
//! worker at a time on one SQLite file.
//!
//! At the end (faults cleared, workers stopped with SIGTERM): every source
//! record is in K/3 Cloud exactly once or dead-lettered with a reason,
//! nothing else is there; the killed runs are in the history as killed and
//! their leases were taken over; no run is left running.
//!
//! `SOAK_RECORDS` sets the number of trades (default 1,000; CI 10,000),
//! `SOAK_SEED` replays a sequence of faults and kills.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use examples::runner::{Job, Progress};
use examples::schemes::huke_to_kingdee::{self, HukeToKingdee};
use examples::settings::Settings;
use integration_core::state::RunOutcome;
use integration_core::testing::postgres::TestPostgres;
use integration_core::{SqliteStore, StateStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

mod common;
use common::*;

/// How long a worker's lease lasts unless renewed: how soon a killed
/// worker's run is taken over.
const LEASE_TTL_SECS: u64 = 3;
/// Kills in one soak.
const KILLS: u32 = 6;
/// How long the faults last; the kills and the arrival of new trades
/// happen meanwhile...
const FAULTY_PHASE: Duration = Duration::from_secs(24);
/// ...in this many batches of trades.
const ARRIVALS: usize = 48;
/// How long a run may take to complete (under faults, or after them).
const FINISH_WITHIN: Duration = Duration::from_secs(600);

/// Where the workers keep their state.
enum Store {
    Postgres(TestPostgres),
    Sqlite(PathBuf),
}

impl Store {
    async fn open(&self) -> Arc<dyn StateStore> {
        match self {
            Store::Postgres(pg) => Arc::new(pg.builder().connect().await.unwrap()),
            Store::Sqlite(path) => Arc::new(SqliteStore::open(path).unwrap()),
        }
    }

    fn args(&self) -> Vec<String> {
        match self {
            Store::Postgres(pg) => vec![
                "--state".into(),
                pg.url().into(),
                "--state-schema".into(),
                pg.schema().into(),
            ],
            Store::Sqlite(path) => vec!["--state".into(), path.display().to_string()],
        }
    }
}

/// The worker processes and their logs.
struct Workers {
    env: Vec<(String, String)>,
    args: Vec<String>,
    logs: PathBuf,
    running: Vec<Child>,
    started: u32,
}

impl Workers {
    fn start(&mut self) {
        let log = self.logs.join(format!("worker-{}.log", self.started));
        self.started += 1;
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"))
            .args(["--worker", "--watch", "1", "--lease-ttl"])
            .arg(LEASE_TTL_SECS.to_string())
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        self.running.push(child);
    }

    /// SIGKILLs worker `i` and starts another in its place.
    fn kill(&mut self, i: usize) {
        let mut child = self.running.remove(i);
        child.kill().unwrap();
        child.wait().unwrap();
        self.start();
    }

    /// SIGTERMs every worker and waits for each to stop gracefully.
    fn stop(&mut self) {
        for child in &self.running {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        for mut child in self.running.drain(..) {
            let deadline = Instant::now() + Duration::from_secs(120);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                assert!(Instant::now() < deadline, "a worker ignored SIGTERM");
                std::thread::sleep(Duration::from_millis(50));
            };
            assert!(status.success(), "a worker exited with {status}");
        }
    }

    /// Runs `--replay` once and waits for it to succeed.
    fn replay(&mut self) {
        let log = self.logs.join("replay.log");
        let out = std::fs::File::create(&log).unwrap();
        let status = Command::new(env!("CARGO_BIN_EXE_huke-to-kingdee"))
            .arg("--replay")
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .status()
            .unwrap();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(status.success(), "the replay failed: {text}");
    }

    /// Lines of every worker's log that contain `text`.
    fn count_in_logs(&self, text: &str) -> usize {
        (0..self.started)
            .map(|i| std::fs::read_to_string(self.logs.join(format!("worker-{i}.log"))).unwrap())
            .map(|log| log.lines().filter(|l| l.contains(text)).count())
            .sum()
    }

    fn log_tails(&self) -> String {
        (0..self.started)
            .map(|i| {
                let log = std::fs::read_to_string(self.logs.join(format!("worker-{i}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                format!("worker-{i}: {}", tail.join(" | "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The settings that point a worker process at this process's fakes.
fn worker_env(job: &HukeToKingdee) -> Vec<(String, String)> {
    let huke = job.huke.fake.as_ref().unwrap();
    let k3 = job.kingdee.fake.as_ref().unwrap();
    let pairs = [
        ("HUKE_BASE_URL", huke.base_url()),
        ("HUKE_APP_KEY", netease_huke::testing::APP_KEY.into()),
        ("HUKE_APP_SECRET", netease_huke::testing::APP_SECRET.into()),
        ("HUKE_TIMEOUT_SECS", TIMEOUT_SECS.to_string()),
        ("KINGDEE_SERVER_URL", k3.server_url()),
        ("KINGDEE_ACCT_ID", kingdee_cloud::testing::ACCT_ID.into()),
        (
            "KINGDEE_USER_NAME",
            kingdee_cloud::testing::USER_NAME.into(),
        ),
        ("KINGDEE_APP_ID", kingdee_cloud::testing::APP_ID.into()),
        (
            "KINGDEE_APP_SECRET",
            kingdee_cloud::testing::APP_SECRET.into(),
        ),
        ("KINGDEE_TIMEOUT_SECS", TIMEOUT_SECS.to_string()),
    ];
    pairs.map(|(k, v)| (k.to_owned(), v)).to_vec()
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "worker-kills-{label}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits until a run of the scheme's last pipeline that started after
/// `after` has completed.
async fn completed_after(
    label: &str,
    state: &dyn StateStore,
    after: DateTime<Utc>,
    pool: &Workers,
) {
    let deadline = Instant::now() + FINISH_WITHIN;
    loop {
        let latest = state.runs(huke_to_kingdee::NAME, 0, 20).await.unwrap();
        if latest
            .iter()
            .any(|r| r.outcome == RunOutcome::Completed && r.report.started_at > after)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{label}: no run completed {FINISH_WITHIN:?} after {after}\n{}",
            pool.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The soak on `store` with `workers` worker processes at a time.
async fn soak(label: &str, store: Store, workers: usize, dir: &Path) {
    let seed = env_number("SOAK_SEED", Utc::now().timestamp_millis() as u64);
    let records = env_number("SOAK_RECORDS", 1_000) as usize;
    let mut rng = StdRng::seed_from_u64(seed ^ workers as u64);
    let started = Instant::now();
    let state = store.open().await;
    let job = huke_to_kingdee::setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden(label),
    )
    .await
    .unwrap();
    let huke = job.huke.fake.as_ref().unwrap();
    let k3 = job.kingdee.fake.as_ref().unwrap();
    huke.state().trades_mut().clear();
    // Half the trades are there at the start, the rest arrive while the
    // workers run (and are killed), so that most runs have work to do.
    let now = Utc::now();
    let arrive = |count: usize, seed: u64, from| {
        huke.seed_trades_between(count, seed, from, Utc::now());
        for (i, trade) in huke.state().trades_mut().iter_mut().enumerate() {
            trade.insert("buyerCid".into(), Value::String(format!("KILL{i:06}")));
        }
    };
    arrive(records / 2, seed, now - chrono::Duration::hours(19));
    k3.reject_models(rng.random(), REJECTED);
    inject(&[(huke.faults(), true), (k3.faults(), true)], &mut rng);

    let mut pool = Workers {
        env: worker_env(&job),
        args: store.args(),
        logs: dir.to_owned(),
        running: Vec::new(),
        started: 0,
    };
    for _ in 0..workers {
        pool.start();
    }
    // Kills at random moments: the lease holder's process two times out
    // of three (a kill mid-run), else any worker's.
    let (mut kills, mut arrived) = (0, records / 2);
    let mut next_kill = Instant::now() + Duration::from_millis(rng.random_range(500..4_000));
    for batch in 0..ARRIVALS {
        tokio::time::sleep(FAULTY_PHASE / ARRIVALS as u32).await;
        let count = (records - records / 2) / ARRIVALS
            + usize::from(batch < (records - records / 2) % ARRIVALS);
        arrive(
            count,
            seed.wrapping_add(batch as u64 + 1),
            Utc::now() - chrono::Duration::seconds(1),
        );
        arrived += count;
        if kills >= KILLS || Instant::now() < next_kill {
            continue;
        }
        next_kill = Instant::now() + Duration::from_millis(rng.random_range(500..4_000));
        let holder = state
            .leases()
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.name == huke_to_kingdee::NAME)
            .map(|l| l.holder);
        let victim = match holder {
            Some(holder) if rng.random_bool(2.0 / 3.0) => pool
                .running
                .iter()
                .position(|c| holder.contains(&format!("-{}-", c.id()))),
            _ => None,
        }
        .unwrap_or_else(|| rng.random_range(0..pool.running.len()));
        pool.kill(victim);
        kills += 1;
    }
    assert_eq!(arrived, records);
    // The faults stay until a run that started after the last arrival has
    // completed under them: every trade went through faulty calls.
    completed_after(label, &*state, Utc::now(), &pool).await;
    let faults = huke.faults().injected() + k3.faults().injected();
    let calls = huke.received_on("").await.len() + k3.received().await.len();
    huke.faults().clear();
    k3.faults().clear();
    let rejected = k3.rejected_models();
    k3.reject_models(0, 0.0);
    // Without faults the workers catch up.
    completed_after(label, &*state, Utc::now(), &pool).await;
    pool.stop();
    // What an operator does next: replay the dead letters (records whose
    // write failed under the faults, some of them saved all the same).
    pool.replay();
    let summary = job
        .verify()
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));

    let numbers = customer_numbers(k3, label);
    let dead = state.dead_letters(huke_to_kingdee::NAME).await.unwrap();
    assert!(
        dead.iter().all(|d| !d.error.is_empty()),
        "{label}: a dead letter without a reason"
    );
    assert_eq!(numbers.len() + dead.len(), records, "{label}: {summary}");

    let mut runs = Vec::new();
    for pipeline in [huke_to_kingdee::TRADES, huke_to_kingdee::NAME] {
        runs.extend(state.runs(pipeline, 0, 100_000).await.unwrap());
    }
    let killed = runs
        .iter()
        .filter(|r| r.outcome == RunOutcome::Killed)
        .count();
    let completed = runs
        .iter()
        .filter(|r| r.outcome == RunOutcome::Completed)
        .count();
    let holders: BTreeSet<_> = runs.iter().filter_map(|r| r.worker.clone()).collect();
    assert!(
        runs.iter().all(|r| r.outcome != RunOutcome::Running),
        "{label}: a run is left running"
    );
    assert!(killed >= 1, "{label}: no killed run in the history");
    let takeovers = pool.count_in_logs("took over a lease");
    assert!(takeovers >= 1, "{label}: no lease was taken over");
    assert!(holders.len() >= 2, "{label}: runs by {holders:?}");
    println!(
        "KILL-SOAK {label} seed {seed}: {records} trades, {workers} worker process(es) at a time, {} started; {kills} SIGKILLs; {} runs ({completed} completed, {killed} killed); {takeovers} lease takeovers; {faults} faults injected into {calls} calls, {rejected} models rejected; {summary}; lost 0, duplicated 0; {:.1} s",
        pool.started,
        runs.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_worker_processes_on_postgres_survive_random_kills() {
    let Some(pg) =
        TestPostgres::for_test("three_worker_processes_on_postgres_survive_random_kills").await
    else {
        return;
    };
    let dir = temp_dir("postgres");
    soak("postgres", Store::Postgres(pg), 3, &dir).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_process_on_sqlite_survives_random_kills() {
    let dir = temp_dir("sqlite");
    soak("sqlite", Store::Sqlite(dir.join("state.sqlite")), 1, &dir).await;
    std::fs::remove_dir_all(&dir).ok();
}
