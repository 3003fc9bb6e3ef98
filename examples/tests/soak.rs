//! Fault soak: the four schemes against their fakes, at the same time, each
//! over 1,000 source records in `cargo test` and 10,000 in CI. Every fake throttles, fails with 5xx, answers
//! slowly or not within the client's timeout, expires tokens and sessions
//! and sends malformed / truncated / HTML / empty bodies on about 15% of its
//! calls (seeded, reproducible); K/3 Cloud also rejects single models inside
//! otherwise successful BatchSave answers, Jackyun and YonBIP single
//! customers / merchants. Runs are restarted until one
//! completes under those faults, and about half of them are killed at a
//! random moment. Then a run and a dead-letter replay without faults. At the
//! end every source record must be in the target exactly once (by key) or in
//! the dead letters with its reason, and the target must hold nothing else.
//!
//! Reproducible: the seed is printed; set `SOAK_SEED` to replay it.
//! `SOAK_RECORDS` sets the number of source records per scheme (default
//! 1,000; CI sets 10,000); `SOAK_ONLY=jdy-to-jackyun,…` runs only the schemes named.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use examples::runner::{Job, Progress};
use examples::schemes::{huke_to_kingdee, jdy_to_jackyun, okki_to_yonbip, xbongbong_to_kingdee};
use examples::settings::Settings;
use integration_core::testing::Faults;
use integration_core::{MemoryStore, StateStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

mod common;
use common::*;

/// How long a run that is not killed on purpose may take (a faulty
/// 10,000-record run takes up to about four minutes, while the other
/// schemes share the two cores).
const STALLED: Duration = Duration::from_secs(600);
/// Faulty runs before the soak gives up on one completing.
const MAX_ROUNDS: u32 = 400;

/// Records per scheme when `SOAK_RECORDS` is not set: small, so that
/// `cargo test --workspace` stays quick; CI runs the full soak with
/// `SOAK_RECORDS=10000`.
const DEFAULT_RECORDS: u64 = 1_000;

/// What happened during a soak of one scheme.
#[derive(Debug, Default)]
struct Tally {
    completed: u32,
    failed: u32,
    killed: u32,
    stalled: u32,
    faults: u64,
    calls: usize,
    rejected: u64,
    seconds: f64,
}

/// Runs `job` with random faults on every fake in `faults` until a run
/// completes (at most [`MAX_ROUNDS`] runs); about half of the runs are
/// killed after a random time.
async fn faulty(label: &str, job: &dyn Job, faults: &[(&Faults, bool)], rng: &mut StdRng) -> Tally {
    let mut tally = Tally::default();
    inject(faults, rng);
    for round in 0..MAX_ROUNDS {
        let kill_after = rng
            .random_bool(0.5)
            .then(|| Duration::from_millis(rng.random_range(20..3_000)));
        // A run left alone is still cut after STALLED, so that a stuck run
        // is reported instead of holding up the test run for ever.
        let limit = kill_after.unwrap_or(STALLED);
        let outcome = tokio::time::timeout(limit, job.run()).await.ok();
        if outcome.is_none() && kill_after.is_none() {
            tally.stalled += 1;
            println!("{label}: faulty run {round} STALLED: no end after {STALLED:?}");
        }
        match outcome {
            Some(Ok(_)) => {
                tally.completed += 1;
                break;
            }
            Some(Err(e)) => {
                tally.failed += 1;
                if tally.failed <= 5 {
                    println!("{label}: faulty run {round} stopped: {e}");
                }
            }
            None => tally.killed += 1,
        }
    }
    for (f, _) in faults {
        tally.faults += f.injected();
        f.clear();
    }
    assert_eq!(
        tally.completed, 1,
        "{label}: no run completed in {MAX_ROUNDS} faulty runs"
    );
    tally
}

/// Without faults: runs once more and replays the dead letters.
async fn clean(label: &str, job: &dyn Job) {
    // Without faults: a run to completion, then the replay of what was
    // dead-lettered during the faults (as an operator runs `--replay`).
    let reports = job.run().await.unwrap_or_else(|e| panic!("{label}: {e}"));
    for r in &reports {
        assert_eq!(r.unaccounted(), 0, "{label}: {r}");
    }
    let replays = job
        .replay()
        .await
        .unwrap_or_else(|e| panic!("{label}: replay: {e}"));
    for r in reports.iter().chain(&replays) {
        println!(
            "{label}: {} {}: read {}, written {}, failed {}, retried {}",
            r.pipeline, r.started_at, r.read, r.written, r.failed, r.retried
        );
    }
}

/// The [`REJECTED`] share of `codes`, chosen at random: the records a
/// target refuses while the faults last.
fn to_reject(codes: impl IntoIterator<Item = String>, rng: &mut StdRng) -> BTreeSet<String> {
    codes
        .into_iter()
        .filter(|_| rng.random_bool(REJECTED))
        .collect()
}

/// Without faults: a clean run and the replay; then the scheme's check,
/// and the counts printed.
async fn finish(
    label: &str,
    job: &dyn Job,
    state: &dyn StateStore,
    pipelines: &[&str],
    records: usize,
    mut tally: Tally,
    started: Instant,
) {
    clean(label, job).await;
    let dead = dead_letters(state, pipelines).await;
    let summary = job
        .verify()
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    tally.seconds = started.elapsed().as_secs_f64();
    report(label, records as u64, &tally, &summary, &dead);
}

/// Every dead letter names its reason; returns their count by pipeline.
async fn dead_letters(state: &dyn StateStore, pipelines: &[&str]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for p in pipelines {
        let letters = state.dead_letters(p).await.unwrap();
        for l in &letters {
            assert!(!l.error.trim().is_empty(), "{p}: {} has no reason", l.key);
            println!("  dead letter {p}/{}: {} ({})", l.key, l.error, l.stage);
        }
        counts.insert((*p).to_owned(), letters.len());
    }
    counts
}

fn report(label: &str, records: u64, tally: &Tally, summary: &str, dead: &BTreeMap<String, usize>) {
    let share = tally.faults as f64 / tally.calls.max(1) as f64;
    println!(
        "SOAK {label}: {records} source records in {:.1} s; faulty runs until one completed: {} stopped by an error, {} killed, {} stalled; \
         {} faults injected into {} calls ({:.1}%), {} records rejected by the target; \
         after a clean run and the replay: {summary}; dead letters {dead:?}",
        tally.seconds,
        tally.failed,
        tally.killed,
        tally.stalled,
        tally.faults,
        tally.calls,
        100.0 * share,
        tally.rejected,
    );
    TOTAL.0.fetch_add(tally.faults, Ordering::SeqCst);
    TOTAL.1.fetch_add(tally.calls as u64, Ordering::SeqCst);
}

/// Faults and calls over all schemes: the 10% floor is checked on the sum,
/// as a scheme with few calls may fall below it by chance.
static TOTAL: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

/// Whether `SOAK_ONLY` (a comma-separated list of scheme names; default:
/// all) includes `scheme`.
fn wanted(scheme: &str) -> bool {
    std::env::var("SOAK_ONLY")
        .map(|only| only.split(',').any(|s| s.trim() == scheme))
        .unwrap_or(true)
}

/// Settings for the soak: every system on its fake, with a short timeout.
fn settings() -> Settings {
    let toml: String = examples::settings::SYSTEMS
        .iter()
        .map(|s| format!("[{s}]\ntimeout_secs = {TIMEOUT_SECS}\n"))
        .collect();
    Settings::from_sources(Some(&toml), []).unwrap()
}

/// Scheme 1: 销帮帮 → K/3 Cloud, half customers and half contracts.
async fn xbongbong_to_kingdee_soak(records: usize, seed: u64) {
    if !wanted("xbongbong-to-kingdee") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let scheme_started = Instant::now();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job =
        xbongbong_to_kingdee::setup(&settings(), Arc::clone(&state), Progress::hidden("soak"))
            .await
            .unwrap();
    let xbb = job.xbongbong.fake.as_ref().unwrap();
    xbb.state().records.clear();
    xbb.seed_customers(records / 2);
    xbb.seed_contracts(records - records / 2);
    let k3 = job.kingdee.fake.as_ref().unwrap();
    k3.reject_models(rng.random(), REJECTED);
    let mut tally = faulty(
        "xbongbong-to-kingdee",
        &job,
        &[(xbb.faults(), false), (k3.faults(), true)],
        &mut rng,
    )
    .await;
    tally.calls = xbb.received().await.len() + k3.received().await.len();
    tally.rejected = k3.rejected_models();
    k3.reject_models(0, 0.0);
    finish(
        "xbongbong-to-kingdee",
        &job,
        state.as_ref(),
        &[
            xbongbong_to_kingdee::CUSTOMERS,
            xbongbong_to_kingdee::CONTRACTS,
        ],
        records,
        tally,
        scheme_started,
    )
    .await;
}

/// Scheme 2: jdy purchase inbound bills → Jackyun customers; the source
/// records are suppliers, so every bill gets its own supplier.
async fn jdy_to_jackyun_soak(records: usize, seed: u64) {
    if !wanted("jdy-to-jackyun") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let scheme_started = Instant::now();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = jdy_to_jackyun::setup(&settings(), Arc::clone(&state), Progress::hidden("soak"))
        .await
        .unwrap();
    let jdy = job.jdy.fake.as_ref().unwrap();
    {
        let mut s = jdy.state();
        let templates = std::mem::take(&mut s.pur_inbound);
        for i in 0..records {
            let mut bill = templates[i % templates.len()].clone();
            bill["id"] = json!(format!("{}", 7_000_000_000_u64 + i as u64));
            bill["bill_no"] = json!(format!("CGRK-SOAK-{i:06}"));
            bill["supplier_id"] = json!(format!("{}", 8_000_000_000_u64 + i as u64));
            bill["supplier_number"] = json!(format!("GYS-SOAK-{i:06}"));
            bill["supplier_name"] = json!(format!("浙江测试供应商{i}号有限公司"));
            s.pur_inbound.push(bill);
        }
    }
    let jackyun = job.jackyun.fake.as_ref().unwrap();
    // Jackyun refuses some customers (a business error on their add) while
    // the faults last; they are dead-lettered, then replayed.
    let rejected = to_reject((0..records).map(|i| format!("GYS-SOAK-{i:06}")), &mut rng);
    jackyun.state().reject_codes = rejected.clone();
    let mut tally = faulty(
        "jdy-to-jackyun",
        &job,
        &[(jdy.faults(), true), (jackyun.faults(), false)],
        &mut rng,
    )
    .await;
    tally.calls = jdy.received_on("").await.len() + jackyun.received().await.len();
    tally.rejected = rejected.len() as u64;
    jackyun.state().reject_codes.clear();
    finish(
        "jdy-to-jackyun",
        &job,
        state.as_ref(),
        &[jdy_to_jackyun::NAME],
        records,
        tally,
        scheme_started,
    )
    .await;
}

/// Scheme 3: OKKI companies → YonBIP merchants.
async fn okki_to_yonbip_soak(records: usize, seed: u64) {
    if !wanted("okki-to-yonbip") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let scheme_started = Instant::now();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = okki_to_yonbip::setup(&settings(), Arc::clone(&state), Progress::hidden("soak"))
        .await
        .unwrap();
    let okki = job.okki.fake.as_ref().unwrap();
    {
        let mut s = okki.state();
        s.companies.clear();
        s.opportunities.clear();
        s.orders.clear();
        s.users.clear();
    }
    okki.seed_demo(records);
    let yonbip = job.yonbip.fake.as_ref().unwrap();
    // YonBIP refuses some merchants (by their code, the OKKI serial) while
    // the faults last; they are dead-lettered, then replayed.
    let serials: Vec<String> = okki
        .state()
        .companies
        .values()
        .filter_map(|c| {
            c.data
                .get("serial_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let rejected = to_reject(serials, &mut rng);
    yonbip.state().reject_codes = rejected.clone();
    let mut tally = faulty(
        "okki-to-yonbip",
        &job,
        &[(okki.faults(), true), (yonbip.faults(), true)],
        &mut rng,
    )
    .await;
    tally.calls = okki.received_on("").await.len() + yonbip.server().received().await.len();
    tally.rejected = rejected.len() as u64;
    yonbip.state().reject_codes.clear();
    finish(
        "okki-to-yonbip",
        &job,
        state.as_ref(),
        &[okki_to_yonbip::NAME],
        records,
        tally,
        scheme_started,
    )
    .await;
}

/// Scheme 4: Huke trades → K/3 Cloud customers; the source records are
/// buyers, so every trade gets its own buyer.
async fn huke_to_kingdee_soak(records: usize, seed: u64) {
    if !wanted("huke-to-kingdee") {
        return;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let scheme_started = Instant::now();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = huke_to_kingdee::setup(&settings(), Arc::clone(&state), Progress::hidden("soak"))
        .await
        .unwrap();
    let huke = job.huke.fake.as_ref().unwrap();
    huke.state().trades_mut().clear();
    let now = Utc::now();
    huke.seed_trades_between(records, seed, now - chrono::Duration::hours(19), now);
    for (i, trade) in huke.state().trades_mut().iter_mut().enumerate() {
        trade.insert("buyerCid".into(), Value::String(format!("SOAK{i:06}")));
    }
    let k3 = job.kingdee.fake.as_ref().unwrap();
    k3.reject_models(rng.random(), REJECTED);
    let mut tally = faulty(
        "huke-to-kingdee",
        &job,
        &[(huke.faults(), true), (k3.faults(), true)],
        &mut rng,
    )
    .await;
    tally.calls = huke.received_on("").await.len() + k3.received().await.len();
    tally.rejected = k3.rejected_models();
    k3.reject_models(0, 0.0);
    finish(
        "huke-to-kingdee",
        &job,
        state.as_ref(),
        &[huke_to_kingdee::TRADES, huke_to_kingdee::NAME],
        records,
        tally,
        scheme_started,
    )
    .await;
    customer_numbers(k3, "huke-to-kingdee");
}

/// The four schemes at the same time (each on its own fakes, with its own
/// random sequence derived from the seed, so `SOAK_ONLY` replays a scheme
/// exactly as the full soak ran it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_soak_of_all_four_schemes() {
    let seed = env_number("SOAK_SEED", Utc::now().timestamp_millis() as u64);
    let records = env_number("SOAK_RECORDS", DEFAULT_RECORDS) as usize;
    println!("SOAK seed {seed} (SOAK_SEED={seed} reproduces it), {records} records per scheme");
    let started = Instant::now();
    let schemes = [
        tokio::spawn(xbongbong_to_kingdee_soak(records, seed ^ 1)),
        tokio::spawn(jdy_to_jackyun_soak(records, seed ^ 2)),
        tokio::spawn(okki_to_yonbip_soak(records, seed ^ 3)),
        tokio::spawn(huke_to_kingdee_soak(records, seed ^ 4)),
    ];
    for scheme in schemes {
        // A scheme's failed assertion fails the soak (its message is above).
        scheme.await.unwrap();
    }
    println!("SOAK done in {:.1} s", started.elapsed().as_secs_f64());
    let (faults, calls) = (
        TOTAL.0.load(Ordering::SeqCst),
        TOTAL.1.load(Ordering::SeqCst),
    );
    assert!(
        faults as f64 >= 0.10 * calls as f64,
        "only {faults} of {calls} calls had a fault"
    );
}
