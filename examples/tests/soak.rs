//! Fault soak: the four schemes against their fakes, with seeded random
//! faults (throttling, 5xx, slow answers, expired tokens and sessions,
//! malformed / truncated / HTML / empty bodies) on about 15% of all calls,
//! and runs killed at random moments; then a run and a dead-letter replay
//! without faults. At the end every source record must be in the target
//! exactly once (by key) or in the dead letters with its reason, and the
//! target must hold nothing else.
//!
//! Reproducible: the seed is printed; set `SOAK_SEED` to replay it.
//! `SOAK_RECORDS` is the number of source records per scheme: 1,000 by
//! default, so that the test stays short in the debug profile; the full
//! soak is `SOAK_RECORDS=10000` (several minutes, see RELIABILITY.md).
//! `SOAK_ROUNDS` (default 8) is the number of faulty, randomly killed runs.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use examples::runner::{Job, Progress};
use examples::schemes::{huke_to_kingdee, jdy_to_jackyun, okki_to_yonbip, xbongbong_to_kingdee};
use examples::settings::Settings;
use integration_core::testing::{Fault, Faults};
use integration_core::{MemoryStore, StateStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The share of calls that get a fault.
const PROBABILITY: f64 = 0.15;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The faults injected at random.
fn choices() -> Vec<Fault> {
    vec![
        Fault::Throttled,
        Fault::ServerError(500),
        Fault::ServerError(502),
        Fault::ServerError(503),
        Fault::Delay(Duration::from_millis(150)),
        Fault::Malformed,
        Fault::Truncated,
        Fault::Html,
        Fault::Empty,
        Fault::AuthExpired,
    ]
}

/// What happened during a soak of one scheme.
#[derive(Debug, Default)]
struct Tally {
    completed: u32,
    failed: u32,
    killed: u32,
    faults: u64,
    calls: usize,
}

/// Runs `job` `rounds` times with random faults on every fake in `faults`,
/// each run cut short after a random time.
async fn faulty(
    label: &str,
    job: &dyn Job,
    faults: &[&Faults],
    rng: &mut StdRng,
    rounds: u64,
) -> Tally {
    let mut tally = Tally::default();
    for (i, f) in faults.iter().enumerate() {
        f.random(rng.random::<u64>() ^ i as u64, PROBABILITY, choices());
    }
    for round in 0..rounds {
        let kill_after = Duration::from_millis(rng.random_range(20..1_500));
        tokio::select! {
            result = job.run() => match result {
                Ok(_) => tally.completed += 1,
                Err(e) => {
                    tally.failed += 1;
                    println!("{label}: faulty run {round} stopped: {e}");
                }
            },
            () = tokio::time::sleep(kill_after) => {
                tally.killed += 1;
                println!("{label}: faulty run {round} killed after {} ms", kill_after.as_millis());
            }
        }
    }
    for f in faults {
        tally.faults += f.injected();
        f.clear();
    }
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
    job.replay()
        .await
        .unwrap_or_else(|e| panic!("{label}: replay: {e}"));
}

/// Every dead letter names its reason; returns their count by pipeline.
fn dead_letters(state: &dyn StateStore, pipelines: &[&str]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for p in pipelines {
        let letters = state.dead_letters(p).unwrap();
        for l in &letters {
            assert!(!l.error.trim().is_empty(), "{p}: {} has no reason", l.key);
            println!("  dead letter {p}/{}: {} ({})", l.key, l.error, l.stage);
        }
        counts.insert((*p).to_owned(), letters.len());
    }
    counts
}

fn report(label: &str, records: u64, tally: &Tally, summary: &str, dead: &BTreeMap<String, usize>) {
    println!(
        "SOAK {label}: {records} source records; faulty runs: {} completed, {} stopped by an error, {} killed; \
         {} faults injected into {} calls ({:.1}%); after the clean run and replay: {summary}; dead letters {dead:?}",
        tally.completed,
        tally.failed,
        tally.killed,
        tally.faults,
        tally.calls,
        100.0 * tally.faults as f64 / tally.calls.max(1) as f64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_soak_of_all_four_schemes() {
    let seed = env_number("SOAK_SEED", Utc::now().timestamp_millis() as u64);
    let records = env_number("SOAK_RECORDS", 1_000) as usize;
    let rounds = env_number("SOAK_ROUNDS", 8);
    println!(
        "SOAK seed {seed} (SOAK_SEED={seed} reproduces it), {records} records per scheme, {rounds} faulty runs each"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();

    // Scheme 1: 销帮帮 → K/3 Cloud, half customers and half contracts.
    {
        let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let job = xbongbong_to_kingdee::setup(
            &Settings::empty(),
            Arc::clone(&state),
            Progress::hidden("soak"),
        )
        .await
        .unwrap();
        let xbb = job.xbongbong.fake.as_ref().unwrap();
        xbb.state().records.clear();
        xbb.seed_customers(records / 2);
        xbb.seed_contracts(records - records / 2);
        let k3 = job.kingdee.fake.as_ref().unwrap();
        let mut tally = faulty(
            "xbongbong-to-kingdee",
            &job,
            &[xbb.faults(), k3.faults()],
            &mut rng,
            rounds,
        )
        .await;
        tally.calls = xbb.received().await.len() + k3.received().await.len();
        clean("xbongbong-to-kingdee", &job).await;
        let summary = job
            .verify()
            .unwrap_or_else(|e| panic!("xbongbong-to-kingdee: {e}"));
        let dead = dead_letters(
            state.as_ref(),
            &[
                xbongbong_to_kingdee::CUSTOMERS,
                xbongbong_to_kingdee::CONTRACTS,
            ],
        );
        report(
            "xbongbong-to-kingdee",
            records as u64,
            &tally,
            &summary,
            &dead,
        );
    }

    // Scheme 2: jdy purchase inbound bills → Jackyun customers; the source
    // records are suppliers, so every bill gets its own supplier.
    {
        let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let job = jdy_to_jackyun::setup(
            &Settings::empty(),
            Arc::clone(&state),
            Progress::hidden("soak"),
        )
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
        let mut tally = faulty(
            "jdy-to-jackyun",
            &job,
            &[jdy.faults(), jackyun.faults()],
            &mut rng,
            rounds,
        )
        .await;
        tally.calls = jdy.received_on("").await.len() + jackyun.received().await.len();
        clean("jdy-to-jackyun", &job).await;
        let summary = job
            .verify()
            .unwrap_or_else(|e| panic!("jdy-to-jackyun: {e}"));
        let dead = dead_letters(state.as_ref(), &[jdy_to_jackyun::NAME]);
        report("jdy-to-jackyun", records as u64, &tally, &summary, &dead);
    }

    // Scheme 3: OKKI companies → YonBIP merchants.
    {
        let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let job = okki_to_yonbip::setup(
            &Settings::empty(),
            Arc::clone(&state),
            Progress::hidden("soak"),
        )
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
        let mut tally = faulty(
            "okki-to-yonbip",
            &job,
            &[okki.faults(), yonbip.faults()],
            &mut rng,
            rounds,
        )
        .await;
        tally.calls = okki.received_on("").await.len() + yonbip.server().received().await.len();
        clean("okki-to-yonbip", &job).await;
        let summary = job
            .verify()
            .unwrap_or_else(|e| panic!("okki-to-yonbip: {e}"));
        let dead = dead_letters(state.as_ref(), &[okki_to_yonbip::NAME]);
        report("okki-to-yonbip", records as u64, &tally, &summary, &dead);
    }

    // Scheme 4: Huke trades → K/3 Cloud customers; the source records are
    // buyers, so every trade gets its own buyer.
    {
        let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        let job = huke_to_kingdee::setup(
            &Settings::empty(),
            Arc::clone(&state),
            Progress::hidden("soak"),
        )
        .await
        .unwrap();
        let huke = job.huke.fake.as_ref().unwrap();
        huke.state().trades.clear();
        let now = Utc::now();
        huke.seed_trades_between(records, seed, now - chrono::Duration::hours(19), now);
        for (i, trade) in huke.state().trades.iter_mut().enumerate() {
            trade.insert("buyerCid".into(), Value::String(format!("SOAK{i:06}")));
        }
        let k3 = job.kingdee.fake.as_ref().unwrap();
        let mut tally = faulty(
            "huke-to-kingdee",
            &job,
            &[huke.faults(), k3.faults()],
            &mut rng,
            rounds,
        )
        .await;
        tally.calls = huke.received_on("").await.len() + k3.received().await.len();
        clean("huke-to-kingdee", &job).await;
        let summary = job
            .verify()
            .unwrap_or_else(|e| panic!("huke-to-kingdee: {e}"));
        let numbers: Vec<String> = k3
            .records("BD_Customer")
            .iter()
            .map(|c| c["FNumber"].as_str().unwrap_or_default().to_owned())
            .collect();
        let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
        assert_eq!(
            distinct.len(),
            numbers.len(),
            "a customer is in K/3 Cloud twice"
        );
        let dead = dead_letters(
            state.as_ref(),
            &[huke_to_kingdee::TRADES, huke_to_kingdee::NAME],
        );
        report("huke-to-kingdee", records as u64, &tally, &summary, &dead);
    }
    println!("SOAK done in {:.1} s", started.elapsed().as_secs_f64());
}
