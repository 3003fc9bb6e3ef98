//! Workers sharing one store: each slot runs once between them, a dead
//! worker's pipeline is taken over after its lease's time to live, a
//! paused one is fenced out, and a shutdown settles what was read.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::memory::{FnSink, MemorySink, VecSource};
use integration_core::pipeline::RunErrorCause;
use integration_core::state::RunOutcome;
use integration_core::testing::postgres::TestPostgres;
use integration_core::worker::SlotOutcome;
use integration_core::{
    Checkpoint, MemoryStore, Pipeline, RunOptions, Schedule, SinkRecord, SourceRecord, SqliteStore,
    StateStore, StopSignal, Worker, WriteOutcome,
};
use serde_json::{Value, json};

fn records(n: usize) -> Vec<SourceRecord<Value>> {
    (0..n)
        .map(|i| SourceRecord::upsert(format!("k{i}"), json!({ "n": i })))
        .collect()
}

fn pipeline(
    name: &str,
    source: VecSource<Value>,
    sink: MemorySink<Value>,
    store: &Arc<dyn StateStore>,
) -> Pipeline<VecSource<Value>, MemorySink<Value>> {
    Pipeline::builder(name)
        .source(source)
        .map(|r, _| Ok(Some(r.data.clone())))
        .sink(sink)
        .state(Arc::clone(store))
        .build()
        .unwrap()
}

/// Which worker ran which slot of which pipeline.
type Ran = Arc<Mutex<BTreeMap<(String, DateTime<Utc>), Vec<String>>>>;

fn recording(worker: Worker, ran: &Ran) -> Worker {
    let ran = Arc::clone(ran);
    let id = worker.id().to_owned();
    worker.on_slot(move |name, slot, outcome| {
        if let SlotOutcome::Ran(result) = outcome {
            assert!(result.is_ok(), "{name} at {slot}: {result:?}");
            let mut ran = ran.lock().unwrap();
            ran.entry((name.to_owned(), slot))
                .or_default()
                .push(id.clone());
        }
    })
}

async fn three_workers_run_every_slot_once(store: Arc<dyn StateStore>) {
    let source = VecSource::new(records(10), 4);
    let sink = MemorySink::new(10);
    let ran: Ran = Arc::default();
    let period = Duration::from_millis(300);
    let workers = (0..3).map(|w| {
        let mut worker = Worker::new(Arc::clone(&store))
            .with_id(format!("worker-{w}"))
            .spread(Duration::from_millis(20));
        for p in ["orders", "buyers"] {
            let p = pipeline(p, source.clone(), sink.clone(), &store);
            worker = worker.pipeline(p, Schedule::every(period));
        }
        let worker = recording(worker, &ran);
        tokio::spawn(worker.run_until(tokio::time::sleep(Duration::from_millis(1_650))))
    });
    let summaries: Vec<_> = futures::future::join_all(workers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ran = ran.lock().unwrap().clone();
    for ((name, slot), by) in &ran {
        assert_eq!(by.len(), 1, "{name} at {slot} ran on {by:?}");
    }
    let slots_of = |p: &str| ran.keys().filter(|(name, _)| name == p).count();
    assert!(slots_of("orders") >= 5, "{ran:?}");
    // Both follow one schedule; the stop may fall between the two runs of
    // the last slot (on a loaded machine), so they differ by at most one.
    assert!(
        slots_of("orders").abs_diff(slots_of("buyers")) <= 1,
        "{ran:?}"
    );
    let runners: std::collections::BTreeSet<&String> = ran.values().flatten().collect();
    assert!(runners.len() >= 2, "the slots were spread: {ran:?}");
    let completed: u64 = summaries.iter().map(|s| s.completed).sum();
    let skipped: u64 = summaries.iter().map(|s| s.busy + s.already_done).sum();
    assert_eq!(completed as usize, ran.len());
    assert!(
        skipped >= completed,
        "the others skipped each slot: {summaries:?}"
    );
    assert_eq!(sink.writes().get("k9"), Some(&2), "once per pipeline");
    let history = store.runs("orders", 0, 100).await.unwrap();
    assert_eq!(history.len(), slots_of("orders"));
    assert!(history.iter().all(|r| r.outcome == RunOutcome::Completed));
    assert!(
        history.iter().all(|r| r.worker.is_some()),
        "runs name their worker"
    );
    assert!(store.leases().await.unwrap().is_empty(), "all released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_one_memory_store_run_every_slot_once() {
    three_workers_run_every_slot_once(Arc::new(MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_one_sqlite_file_run_every_slot_once() {
    let dir = std::env::temp_dir().join(format!("ic-workers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = SqliteStore::open(dir.join("state.sqlite")).unwrap();
    three_workers_run_every_slot_once(Arc::new(store)).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_one_postgres_schema_run_every_slot_once() {
    let Some(pg) =
        TestPostgres::for_test("three_workers_on_one_postgres_schema_run_every_slot_once").await
    else {
        return;
    };
    let store = pg.builder().connect().await.unwrap();
    three_workers_run_every_slot_once(Arc::new(store)).await;
}

/// A sink that hangs forever once `hang` is set: a worker that died (or
/// froze) mid-run.
fn hanging_sink(hang: Arc<AtomicBool>) -> impl integration_core::Sink<Item = Value> {
    FnSink::new(10, move |batch: Vec<SinkRecord<Value>>| {
        let hang = Arc::clone(&hang);
        async move {
            if hang.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            Ok(batch
                .iter()
                .map(|r| WriteOutcome::written(r.key.clone()))
                .collect())
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_pipeline_is_taken_over_after_the_lease_ttl() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let source = VecSource::new(records(8), 4);
    let hang = Arc::new(AtomicBool::new(true));
    let build = |sink| {
        Pipeline::builder("p")
            .source(source.clone())
            .map(|r: &SourceRecord<Value>, _| Ok(Some(r.data.clone())))
            .sink(sink)
            .state(Arc::clone(&store))
            .build()
            .unwrap()
    };
    let ttl = Duration::from_millis(400);
    let period = Schedule::every(Duration::from_millis(100));
    // The first worker takes the lease and hangs; its task is then dropped
    // (the process was killed): the lease stays until its time runs out.
    let doomed = Worker::new(Arc::clone(&store))
        .with_id("doomed")
        .lease_ttl(ttl)
        .pipeline(build(hanging_sink(Arc::clone(&hang))), period.clone());
    let killed = tokio::spawn(doomed.run_until(std::future::pending()));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.leases().await.unwrap()[0].holder, "doomed");
    killed.abort();
    hang.store(false, Ordering::SeqCst);

    let heir = Worker::new(Arc::clone(&store))
        .with_id("heir")
        .lease_ttl(ttl)
        .pipeline(build(hanging_sink(Arc::clone(&hang))), period);
    let summary = heir
        .run_until(tokio::time::sleep(Duration::from_millis(900)))
        .await;
    assert_eq!(summary.takeovers, 1, "{summary:?}");
    assert!(summary.completed >= 1, "{summary:?}");
    assert!(
        summary.busy >= 1,
        "refused while the dead lease stood: {summary:?}"
    );
    let history = store.runs("p", 0, 100).await.unwrap();
    let oldest = history.last().unwrap();
    assert_eq!(
        (oldest.outcome.clone(), oldest.worker.as_deref()),
        (RunOutcome::Killed, Some("doomed")),
        "the dead run is marked killed by the next one"
    );
    assert_eq!(
        store.checkpoint("p").await.unwrap(),
        Some(Checkpoint(json!(8)))
    );
}

#[tokio::test]
async fn a_paused_worker_cannot_move_the_checkpoint_after_a_takeover() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let sink = MemorySink::new(10);
    let p = pipeline("p", VecSource::new(records(6), 3), sink.clone(), &store);
    let ttl = Duration::from_millis(100);
    let zombie = store
        .acquire_lease("p", "zombie", ttl)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(ttl * 2).await; // paused past its time to live
    let heir = store
        .acquire_lease("p", "heir", ttl * 50)
        .await
        .unwrap()
        .unwrap();
    let e = p
        .run_with(&RunOptions::new().lease(zombie))
        .await
        .expect_err("the zombie's run is fenced out");
    assert!(
        matches!(&e.cause, RunErrorCause::State(s) if s.is_fenced()),
        "{e}"
    );
    assert_eq!(store.checkpoint("p").await.unwrap(), None, "not moved");
    assert_eq!(store.count_entries("p").await.unwrap(), 0);
    let report = p.run_with(&RunOptions::new().lease(heir)).await.unwrap();
    assert_eq!(report.written, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_settles_the_pages_read_and_releases_the_lease() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let writes = Arc::new(AtomicU64::new(0));
    let sink = {
        let writes = Arc::clone(&writes);
        FnSink::new(5, move |batch: Vec<SinkRecord<Value>>| {
            let writes = Arc::clone(&writes);
            async move {
                tokio::time::sleep(Duration::from_millis(40)).await;
                writes.fetch_add(batch.len() as u64, Ordering::SeqCst);
                Ok(batch
                    .iter()
                    .map(|r| WriteOutcome::written(r.key.clone()))
                    .collect())
            }
        })
    };
    let p = Pipeline::builder("slow")
        .source(VecSource::new(records(500), 5))
        .map(|r: &SourceRecord<Value>, _| Ok(Some(r.data.clone())))
        .sink(sink)
        .state(Arc::clone(&store))
        .concurrency(1)
        .build()
        .unwrap();
    let summary = Worker::new(Arc::clone(&store))
        .spread(Duration::ZERO)
        .pipeline(p, Schedule::every(Duration::from_secs(3600)))
        .run_until(tokio::time::sleep(Duration::from_millis(300)))
        .await;
    assert_eq!((summary.completed, summary.failed), (0, 1), "{summary:?}");
    let written = writes.load(Ordering::SeqCst);
    assert!((5..500).contains(&written), "{written}");
    assert_eq!(
        store.checkpoint("slow").await.unwrap(),
        Some(Checkpoint(json!(written))),
        "every record written is behind the checkpoint"
    );
    assert_eq!(store.count_entries("slow").await.unwrap(), written);
    assert!(store.leases().await.unwrap().is_empty(), "released");
    let run = &store.runs("slow", 0, 1).await.unwrap()[0];
    assert!(
        matches!(&run.outcome, RunOutcome::Stopped { cause } if cause.contains("stopped on request")),
        "{run:?}"
    );
}

#[tokio::test]
async fn a_stop_signal_given_before_a_run_reads_nothing() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let sink = MemorySink::new(10);
    let p = pipeline("p", VecSource::new(records(30), 10), sink.clone(), &store);
    let stop = StopSignal::new();
    stop.stop();
    let e = p
        .run_with(&RunOptions::new().stop_on(stop))
        .await
        .unwrap_err();
    assert!(matches!(e.cause, RunErrorCause::ShutDown), "{e}");
    assert!(sink.stored().is_empty());
    assert_eq!(store.checkpoint("p").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_sharing_a_rate_budget_divide_it_and_rebalance_when_one_leaves() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let heartbeat = Duration::from_millis(50);
    let shares: Vec<_> = (0..3).map(|_| integration_core::RateShare::new()).collect();
    let stops: Vec<_> = (0..3)
        .map(|_| tokio::sync::oneshot::channel::<()>())
        .collect();
    let mut handles = Vec::new();
    let mut senders = Vec::new();
    for (w, ((tx, rx), share)) in stops.into_iter().zip(&shares).enumerate() {
        senders.push(tx);
        // Something to run, so that the worker waits for its shutdown.
        let idle = pipeline(
            &format!("idle-{w}"),
            VecSource::new(Vec::new(), 10),
            MemorySink::new(10),
            &store,
        );
        let worker = Worker::new(Arc::clone(&store))
            .with_id(format!("w{w}"))
            .budget_heartbeat(heartbeat)
            .share_rate("kingdee:app-1", share.clone())
            .pipeline(idle, Schedule::every(Duration::from_secs(3600)));
        handles.push(tokio::spawn(worker.run_until(async move {
            rx.await.ok();
        })));
    }
    tokio::time::sleep(heartbeat * 4).await;
    assert_eq!(
        shares.iter().map(|s| s.members()).collect::<Vec<_>>(),
        vec![3, 3, 3]
    );
    senders.remove(0).send(()).unwrap();
    handles.remove(0).await.unwrap();
    tokio::time::sleep(heartbeat * 3).await;
    assert_eq!(
        (shares[1].members(), shares[2].members()),
        (2, 2),
        "the leaver's part went to the others"
    );
    for tx in senders {
        tx.send(()).unwrap();
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(
        store
            .join_budget("kingdee:app-1", "probe", heartbeat)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_sequence_runs_its_pipelines_in_order_under_one_lease_and_stops_at_a_failure() {
    use integration_core::worker::{Runnable, Sequence};
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let sink = MemorySink::new(10);
    let first = pipeline(
        "first",
        VecSource::new(records(3), 10),
        sink.clone(),
        &store,
    );
    let second = pipeline(
        "second",
        VecSource::new(records(2), 10),
        sink.clone(),
        &store,
    );
    let lease = store
        .acquire_lease("both", "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let both = Sequence::new("both").then(first).then(second);
    assert_eq!(both.name(), "both");
    let reports = both
        .run(&RunOptions::new().lease(lease.clone()))
        .await
        .unwrap();
    let names: Vec<&str> = reports.iter().map(|r| r.pipeline.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    let history = store.runs("second", 0, 1).await.unwrap();
    assert_eq!(
        history[0].worker.as_deref(),
        Some("w"),
        "run under the lease"
    );

    // Once the lease is gone, the first step is fenced out and the second
    // does not run.
    store.release_lease(&lease, None).await.unwrap();
    let third = pipeline(
        "third",
        VecSource::new(records(1), 10),
        sink.clone(),
        &store,
    );
    let fourth = pipeline("fourth", VecSource::new(records(1), 10), sink, &store);
    let stale = Sequence::new("both").then(third).then(fourth);
    let e = stale
        .run(&RunOptions::new().lease(lease))
        .await
        .unwrap_err();
    assert_eq!(e.report.pipeline, "third");
    assert!(store.runs("fourth", 0, 1).await.unwrap().is_empty());
}
