//! Pipeline semantics: nothing lost, dead letters and replay, partial batch
//! retries, crash safety, back-pressure, lookups across pipelines.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use integration_core::mapping::{LookupFilter, MapContext, MapError};
use integration_core::memory::{
    CollectSink, FnSink, FnSource, MemorySink, VecSource, collect_only,
};
use integration_core::pipeline::{Hooks, RunErrorCause};
use integration_core::state::{Changes, Lease, RunOutcome, Stage, StateError};
use integration_core::{
    Change, CollectionEntry, Error, ErrorKind, MemoryStore, Page, Pipeline, RecordError,
    RetryPolicy, RunOptions, RunRecord, SinkRecord, SourceRecord, SqliteStore, StateStore,
    WriteOutcome,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: u64,
    name: String,
    cid: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Target {
    number: String,
    name: String,
}

fn customers(n: u64) -> Vec<SourceRecord<Customer>> {
    (0..n)
        .map(|id| {
            SourceRecord::upsert(
                id.to_string(),
                Customer {
                    id,
                    name: format!("客户{id}"),
                    cid: format!("cid-{id}"),
                },
            )
        })
        .collect()
}

fn to_target(record: &SourceRecord<Customer>, _: &MapContext) -> Result<Option<Target>, MapError> {
    Ok(Some(Target {
        number: format!("C{:05}", record.data.id),
        name: record.data.name.clone(),
    }))
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        jitter: false,
        max_retry_after: Duration::from_secs(1),
    }
}

fn pipeline(
    name: &str,
    source: VecSource<Customer>,
    sink: MemorySink<Target>,
    state: Arc<dyn StateStore>,
) -> Pipeline<VecSource<Customer>, MemorySink<Target>> {
    Pipeline::builder(name)
        .source(source)
        .mapper(to_target)
        .sink(sink)
        .state(state)
        .batch_size(20)
        .concurrency(3)
        .retry(quick_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn writes_everything_once_and_a_second_run_reads_nothing_new() {
    let sink = MemorySink::new(50);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let source = VecSource::new(customers(250), 30);
    let p = pipeline("customers", source.clone(), sink.clone(), state.clone());

    let report = p.run().await.unwrap();
    assert_eq!(
        (
            report.read,
            report.mapped,
            report.written,
            report.dead_lettered
        ),
        (250, 250, 250, 0)
    );
    assert_eq!((report.pages, report.unaccounted()), (9, 0));
    assert_eq!((report.created, report.updated), (250, 0), "the sink said");
    assert_eq!(sink.stored().len(), 250);
    assert!(
        sink.writes()
            .iter()
            .filter(|(k, _)| !k.starts_with("attempt:"))
            .all(|(_, n)| *n == 1)
    );
    assert!(sink.batches().iter().all(|b| *b <= 20));
    assert_eq!(state.count_entries("customers").await.unwrap(), 250);
    let entry = state.entry("customers", "7").await.unwrap().unwrap();
    assert_eq!(
        (entry.target_id.as_deref(), entry.data["name"].as_str()),
        (Some("T7"), Some("客户7"))
    );

    let again = p.run().await.unwrap();
    assert_eq!((again.read, again.written), (0, 0));
    source.push(customers(251).pop().unwrap());
    let third = p.run().await.unwrap();
    assert_eq!((third.read, third.written), (1, 1));
    let replayed = p.replay_dead_letters().await.unwrap();
    assert_eq!(replayed.read, 0, "nothing was dead-lettered");

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["written"], 250);
    let table = report.to_string();
    assert!(
        table.contains("written") && table.contains("250"),
        "{table}"
    );
}

#[tokio::test]
async fn permanent_failures_go_to_dead_letters_and_replay_clears_them() {
    let fixed = Arc::new(AtomicBool::new(false));
    let broken = ["13", "101", "222"];
    let rule_fixed = fixed.clone();
    let sink = MemorySink::new(50).failing_when(move |r: &SinkRecord<Target>, _| {
        (!rule_fixed.load(Ordering::SeqCst) && broken.contains(&r.key.as_str())).then(|| {
            RecordError::permanent(format!("客户名称 {} 不合法", r.data.name)).with_code("9")
        })
    });
    let state: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let p = pipeline(
        "dl",
        VecSource::new(customers(250), 50),
        sink.clone(),
        state.clone(),
    );

    let report = p.run().await.unwrap();
    assert_eq!(
        (report.written, report.dead_lettered, report.unaccounted()),
        (247, 3, 0)
    );
    let letters = state.dead_letters("dl").await.unwrap();
    let mut keys: Vec<_> = letters.iter().map(|l| l.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["101", "13", "222"]);
    let letter = letters.iter().find(|l| l.key == "13").unwrap();
    assert_eq!(
        (
            letter.stage.as_str(),
            letter.code.as_deref(),
            letter.attempts
        ),
        ("write", Some("9"), 1)
    );
    assert!(letter.error.contains("客户名称 客户13 不合法"));
    assert_eq!(letter.payload.as_ref().unwrap()["number"], "C00013");
    assert_eq!(letter.source["cid"], "cid-13");
    assert_eq!(report.first_errors.len(), 3);
    assert_eq!(
        report.checkpoint,
        Some(serde_json::json!(250)),
        "dead letters do not hold the checkpoint back"
    );

    // Replay before the fix: still failing, attempts counted.
    let replay = p.replay_dead_letters().await.unwrap();
    assert_eq!((replay.written, replay.dead_lettered), (0, 3));
    assert!(
        state
            .dead_letters("dl")
            .await
            .unwrap()
            .iter()
            .all(|l| l.attempts == 2)
    );

    fixed.store(true, Ordering::SeqCst);
    let replay = p.replay_dead_letters().await.unwrap();
    assert_eq!(
        (replay.read, replay.written, replay.dead_lettered),
        (3, 3, 0)
    );
    assert!(state.dead_letters("dl").await.unwrap().is_empty());
    assert_eq!(sink.stored().len(), 250);
}

#[tokio::test]
async fn a_replay_of_some_keys_leaves_the_other_letters_alone() {
    let fixed = Arc::new(AtomicBool::new(false));
    let rule_fixed = fixed.clone();
    let sink = MemorySink::new(50).failing_when(move |r: &SinkRecord<Target>, _| {
        (!rule_fixed.load(Ordering::SeqCst) && ["3", "7"].contains(&r.key.as_str()))
            .then(|| RecordError::permanent("编码重复"))
    });
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = pipeline(
        "some",
        VecSource::new(customers(10), 5),
        sink.clone(),
        state.clone(),
    );
    assert_eq!(p.run().await.unwrap().dead_lettered, 2);
    fixed.store(true, Ordering::SeqCst);
    let options = RunOptions::new()
        .only(["7"])
        .operator("console (127.0.0.1)");
    let replay = p.replay_dead_letters_with(&options).await.unwrap();
    assert_eq!((replay.read, replay.written), (1, 1));
    let left = state.dead_letters("some").await.unwrap();
    assert_eq!(
        left.iter()
            .map(|l| (l.key.as_str(), l.attempts))
            .collect::<Vec<_>>(),
        [("3", 1)],
        "the other letter is untouched"
    );
    assert!(sink.stored().contains_key("7") && !sink.stored().contains_key("3"));
    let history = p.history(0, 1).await.unwrap();
    assert_eq!(history[0].operator.as_deref(), Some("console (127.0.0.1)"));
}

#[tokio::test]
async fn runs_of_one_pipeline_and_its_clones_never_overlap() {
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let source = VecSource::new(customers(200), 10);
    let p = pipeline("once", source, MemorySink::new(5), state.clone());
    let clone = p.clone();
    let (a, b, reset) = tokio::join!(p.run(), clone.run(), p.reset_checkpoint("an operator"));
    let (a, b) = (a.unwrap(), b.unwrap());
    reset.unwrap();
    let mut history = p.history(0, 10).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history.iter().all(|r| r.outcome == RunOutcome::Completed));
    history.sort_by_key(|r| r.report.started_at);
    for pair in history.windows(2) {
        let ended = pair[0].ended_at.unwrap();
        assert!(
            ended <= pair[1].report.started_at,
            "{:?} started before {:?} ended",
            pair[1].kind,
            pair[0].kind
        );
    }
    // One of them read everything; the other read after it (nothing new, or
    // everything again after the reset).
    assert!(a.read == 200 || b.read == 200, "{} {}", a.read, b.read);
}

#[tokio::test]
async fn retryable_record_failures_are_retried_alone() {
    let sink = MemorySink::new(10).failing_when(|r: &SinkRecord<Target>, attempt| {
        (r.key == "4" && attempt == 1).then(|| RecordError::retryable("单据被锁定"))
    });
    let p = pipeline(
        "partial",
        VecSource::new(customers(10), 10),
        sink.clone(),
        Arc::new(MemoryStore::new()),
    );
    let report = p.run().await.unwrap();
    assert_eq!(
        (
            report.written,
            report.failed,
            report.retried,
            report.dead_lettered
        ),
        (10, 1, 1, 0)
    );
    assert_eq!(
        sink.batches(),
        vec![10, 1],
        "only the failed record is sent again"
    );
    assert!(
        sink.writes()
            .iter()
            .filter(|(k, _)| !k.starts_with("attempt:"))
            .all(|(_, n)| *n == 1)
    );
}

#[tokio::test]
async fn a_record_that_keeps_failing_retryably_is_dead_lettered_after_the_last_attempt() {
    let sink = MemorySink::new(10).failing_when(|r: &SinkRecord<Target>, _| {
        (r.key == "2").then(|| RecordError::retryable("busy"))
    });
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = pipeline(
        "stubborn",
        VecSource::new(customers(5), 10),
        sink,
        state.clone(),
    );
    let report = p.run().await.unwrap();
    assert_eq!(
        (report.written, report.dead_lettered, report.retried),
        (4, 1, 2)
    );
    assert_eq!(state.dead_letters("stubborn").await.unwrap()[0].attempts, 3);
}

#[tokio::test]
async fn an_auth_failure_stops_the_run_without_moving_the_checkpoint() {
    let sink = FnSink::new(10, |_batch: Vec<SinkRecord<Target>>| async {
        Err::<Vec<WriteOutcome>, _>(Error::new(
            "erp",
            "save",
            ErrorKind::Auth,
            "wrong app secret",
        ))
    });
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("auth")
        .source(VecSource::new(customers(5), 10))
        .mapper(to_target)
        .sink(sink)
        .state(state.clone())
        .build()
        .unwrap();
    let e = p.run().await.unwrap_err();
    assert!(
        matches!(e.cause, RunErrorCause::Write(ref inner) if inner.kind() == ErrorKind::Auth),
        "{e}"
    );
    assert_eq!(state.checkpoint("auth").await.unwrap(), None);
    assert!(
        state.dead_letters("auth").await.unwrap().is_empty(),
        "an auth failure is not the records' fault"
    );
}

#[tokio::test]
async fn undecodable_and_retryable_page_reads_are_read_again_and_others_stop_the_run() {
    // The source fails `failures` times with `kind`, then answers.
    async fn run(kind: ErrorKind, failures: u64) -> (Result<u64, RunErrorCause>, u64) {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let source = FnSource::new(move |_, _| {
            let call = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if call < failures {
                    Err(Error::new("crm", "list", kind, "a garbled answer"))
                } else {
                    Ok(Page::last(customers(5), None))
                }
            }
        });
        let sink = MemorySink::new(10);
        let p = Pipeline::builder("reads")
            .source(source)
            .mapper(to_target)
            .sink(sink)
            .state(Arc::new(MemoryStore::new()))
            .retry(quick_retry())
            .build()
            .unwrap();
        let result = p.run().await.map(|r| r.written).map_err(|e| e.cause);
        (result, calls.load(Ordering::SeqCst))
    }

    // Two undecodable answers, then a good one: all five written.
    let (result, calls) = run(ErrorKind::Decode, 2).await;
    assert_eq!((result.unwrap(), calls), (5, 3));
    // Undecodable every time: the run stops after the policy's 3 attempts.
    let (result, calls) = run(ErrorKind::Decode, 100).await;
    assert!(matches!(result, Err(RunErrorCause::Read(ref e)) if e.kind() == ErrorKind::Decode));
    assert_eq!(calls, 3);
    // A failure that outlasted the transport's retries (here a timeout).
    let (result, calls) = run(ErrorKind::Timeout, 2).await;
    assert_eq!((result.unwrap(), calls), (5, 3));
    // A token that expired again after the connector's refresh.
    let (result, calls) = run(ErrorKind::AuthExpired, 1).await;
    assert_eq!((result.unwrap(), calls), (5, 2));
    // Rejected credentials are not asked again.
    let (result, calls) = run(ErrorKind::Auth, 100).await;
    assert!(matches!(result, Err(RunErrorCause::Read(ref e)) if e.kind() == ErrorKind::Auth));
    assert_eq!(calls, 1);
}

/// A sink that upserts into `target` like a real system, and blows up (by
/// panicking or by signalling the runner to drop the run) after `crash_after`
/// successful batch writes.
fn crashing_sink(
    target: MemorySink<Target>,
    crash_after: u64,
    panic: bool,
    crashed: Arc<tokio::sync::Notify>,
) -> impl integration_core::Sink<Item = Target> {
    let writes = Arc::new(AtomicU64::new(0));
    FnSink::new(7, move |batch: Vec<SinkRecord<Target>>| {
        let target = target.clone();
        let writes = writes.clone();
        let crashed = crashed.clone();
        async move {
            use integration_core::Sink;
            let n = writes.fetch_add(1, Ordering::SeqCst);
            if n == crash_after {
                if panic {
                    panic!("injected crash in the sink");
                }
                crashed.notify_one();
                std::future::pending::<()>().await;
            }
            target.write(&batch).await
        }
    })
}

#[tokio::test]
async fn crash_at_any_point_then_rerun_loses_nothing() {
    let source_records = customers(120);
    let expected: BTreeMap<String, Target> = source_records
        .iter()
        .map(|r| {
            (
                r.key.clone(),
                to_target(r, &MapContext::default()).unwrap().unwrap(),
            )
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("ic-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    for (i, crash_after) in [0u64, 1, 2, 3, 5, 8, 11, 13, 16].into_iter().enumerate() {
        for panic in [true, false] {
            let path = dir.join(format!("state-{i}-{panic}.sqlite"));
            let _ = std::fs::remove_file(&path);
            let target = MemorySink::new(7);
            let source = VecSource::new(source_records.clone(), 9);
            let crashed = Arc::new(tokio::sync::Notify::new());

            // The run that dies.
            let state: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).unwrap());
            let p = Pipeline::builder("crashy")
                .source(source.clone())
                .mapper(to_target)
                .sink(crashing_sink(
                    target.clone(),
                    crash_after,
                    panic,
                    crashed.clone(),
                ))
                .state(state)
                .batch_size(7)
                .concurrency(3)
                .build()
                .unwrap();
            if panic {
                let joined = tokio::spawn(async move { p.run().await }).await;
                assert!(joined.unwrap_err().is_panic());
            } else {
                let stopped = p.run_until(crashed.notified()).await;
                assert!(stopped.is_none(), "the run was dropped mid-stream");
            }

            // The checkpoint never passed a record that is not in the target.
            let state: Arc<dyn StateStore> = Arc::new(SqliteStore::open(&path).unwrap());
            let checkpoint = state
                .checkpoint("crashy")
                .await
                .unwrap()
                .map_or(0, |c| c.0.as_u64().unwrap());
            let stored = target.stored();
            for r in &source_records[..checkpoint as usize] {
                assert!(
                    stored.contains_key(&r.key),
                    "crash {crash_after}/{panic}: checkpoint {checkpoint} passed {}",
                    r.key
                );
            }

            // The rerun completes the job.
            let p = Pipeline::builder("crashy")
                .source(source)
                .mapper(to_target)
                .sink(target.clone())
                .state(state.clone())
                .batch_size(7)
                .build()
                .unwrap();
            let report = p.run().await.unwrap();
            assert_eq!(report.unaccounted(), 0);
            assert_eq!(
                target.stored(),
                expected,
                "crash after {crash_after} batches (panic: {panic})"
            );
            assert_eq!(
                state.checkpoint("crashy").await.unwrap().unwrap().0,
                serde_json::json!(120)
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(start_paused = true)]
async fn a_slow_sink_keeps_records_in_flight_bounded() {
    const N: u64 = 1_000_000;
    const PAGE: usize = 500;
    const BATCH: usize = 100;
    const CONCURRENCY: usize = 4;
    let records: Vec<SourceRecord<u64>> = (0..N)
        .map(|i| SourceRecord::upsert(i.to_string(), i))
        .collect();
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    let slow = FnSink::new(BATCH, move |batch: Vec<SinkRecord<u64>>| {
        let counter = counter.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            counter.fetch_add(batch.len() as u64, Ordering::SeqCst);
            Ok(batch
                .iter()
                .map(|_| WriteOutcome::written_as(Change::Unknown, None))
                .collect())
        }
    });
    let p = Pipeline::builder("million")
        .source(VecSource::new(records, PAGE))
        .mapper(|r: &SourceRecord<u64>, _: &MapContext| Ok(Some(r.data)))
        .sink(slow)
        .state(Arc::new(NullStore(MemoryStore::new())))
        .concurrency(CONCURRENCY)
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!((report.read, report.written), (N, N));
    assert_eq!(written.load(Ordering::SeqCst), N);
    // The guarantee in the pipeline's documentation.
    let bound = (2 * PAGE + 2 * BATCH * CONCURRENCY) as u64;
    println!(
        "peak in flight: {} records (bound {bound}) for {N} records",
        report.peak_in_flight
    );
    assert!(
        report.peak_in_flight <= bound,
        "peak {} > bound {bound}",
        report.peak_in_flight
    );
    assert!(
        report.peak_in_flight >= PAGE as u64,
        "the gauge measured something"
    );
}

/// A write that takes long (a timeout and its retry) holds up only its own
/// write slot: the others go on writing the rest of the page, and the
/// checkpoint still moves only when every record before it was settled.
#[tokio::test(start_paused = true)]
async fn a_slow_write_does_not_hold_up_the_others() {
    const PAGE: usize = 100;
    let written = Arc::new(Mutex::new(Vec::<u64>::new()));
    let log = written.clone();
    let sink = FnSink::new(1, move |batch: Vec<SinkRecord<u64>>| {
        let log = log.clone();
        async move {
            let n = batch[0].data;
            let pause = if n == 0 { 60_000 } else { 10 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
            log.lock().unwrap().push(n);
            Ok(vec![WriteOutcome::written_as(Change::Unknown, None)])
        }
    });
    let records: Vec<SourceRecord<u64>> = (0..2 * PAGE as u64)
        .map(|i| SourceRecord::upsert(i.to_string(), i))
        .collect();
    let state = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("slow-head")
        .source(VecSource::new(records, PAGE))
        .mapper(|r: &SourceRecord<u64>, _: &MapContext| Ok(Some(r.data)))
        .sink(sink)
        .state(state.clone())
        .concurrency(4)
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!(report.written, 2 * PAGE as u64);
    let order = written.lock().unwrap().clone();
    let head = order.iter().position(|n| *n == 0).unwrap();
    // Written in order with 4 slots, only 3 records would pass the slow
    // one; out of order, the rest of its page (99) and what the read
    // ahead allows of the next page do.
    assert!(
        head >= PAGE - 1,
        "only {head} records passed the slow write"
    );
    assert_eq!(
        state.checkpoint("slow-head").await.unwrap().unwrap().0,
        serde_json::json!(200)
    );
}

/// A store that keeps nothing: collections of a million records are not
/// what the back-pressure test measures. (Leases are kept, in memory.)
struct NullStore(MemoryStore);
#[integration_core::testing::async_trait]
impl StateStore for NullStore {
    async fn checkpoint(
        &self,
        _: &str,
    ) -> Result<Option<integration_core::Checkpoint>, StateError> {
        Ok(None)
    }
    async fn apply(&self, _: Changes) -> Result<(), StateError> {
        Ok(())
    }
    async fn entry(&self, _: &str, _: &str) -> Result<Option<CollectionEntry>, StateError> {
        Ok(None)
    }
    async fn find_by_field(
        &self,
        _: &str,
        _: &str,
        _: &serde_json::Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        Ok(None)
    }
    async fn count_entries(&self, _: &str) -> Result<u64, StateError> {
        Ok(0)
    }
    async fn dead_letters(&self, _: &str) -> Result<Vec<integration_core::DeadLetter>, StateError> {
        Ok(Vec::new())
    }
    async fn count_dead_letters(&self, _: &str) -> Result<u64, StateError> {
        Ok(0)
    }
    async fn put_run(&self, _: &RunRecord) -> Result<(), StateError> {
        Ok(())
    }
    async fn runs(&self, _: &str, _: usize, _: usize) -> Result<Vec<RunRecord>, StateError> {
        Ok(Vec::new())
    }
    async fn end_unfinished_runs(&self, _: &str) -> Result<u64, StateError> {
        Ok(0)
    }
    // It knows no pipeline, collection or checkpoint, as it keeps none.
    async fn pipelines(&self) -> Result<Vec<String>, StateError> {
        Ok(Vec::new())
    }
    async fn collections(&self) -> Result<Vec<String>, StateError> {
        Ok(Vec::new())
    }
    async fn search_entries(
        &self,
        _: &str,
        _: &integration_core::EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError> {
        Ok(Vec::new())
    }
    async fn reset_checkpoint(&self, _: &str) -> Result<bool, StateError> {
        Ok(false)
    }
    async fn acquire_lease(
        &self,
        n: &str,
        h: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError> {
        self.0.acquire_lease(n, h, ttl).await
    }
    async fn renew_lease(&self, l: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        self.0.renew_lease(l, ttl).await
    }
    async fn release_lease(
        &self,
        l: &Lease,
        done: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), StateError> {
        self.0.release_lease(l, done).await
    }
    async fn leases(&self) -> Result<Vec<Lease>, StateError> {
        self.0.leases().await
    }
    async fn join_budget(&self, b: &str, m: &str, ttl: Duration) -> Result<u32, StateError> {
        self.0.join_budget(b, m, ttl).await
    }
    async fn leave_budget(&self, b: &str, m: &str) -> Result<(), StateError> {
        self.0.leave_budget(b, m).await
    }
}

#[tokio::test]
async fn a_typed_mapping_looks_up_another_pipelines_collection() {
    let state: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    // Pipeline 1 records buyers (with their cid) in its collection.
    let buyers = pipeline(
        "buyers",
        VecSource::new(customers(5), 5),
        MemorySink::new(10),
        state.clone(),
    );
    buyers.run().await.unwrap();

    // Pipeline 2 finds the buyer's target number by cid.
    let sink = MemorySink::new(10);
    let orders = Pipeline::builder("orders")
        .source(VecSource::new(
            vec![SourceRecord::upsert(
                "o-1",
                serde_json::json!({"buyer_cid": "cid-3"}),
            )],
            5,
        ))
        .mapper(|r: &SourceRecord<serde_json::Value>, ctx: &MapContext| {
            let cid = &r.data["buyer_cid"];
            let buyer = ctx
                .lookup(
                    "buyers",
                    LookupFilter::Field {
                        field: "cid",
                        value: cid,
                    },
                )?
                .ok_or_else(|| {
                    MapError::new(format!("no buyer with cid {cid}")).for_field("customer")
                })?;
            Ok(Some(
                serde_json::json!({"customer": buyer.target_id, "name": buyer.data["name"]}),
            ))
        })
        .sink(sink.clone())
        .state(state)
        .build()
        .unwrap();
    orders.run().await.unwrap();
    assert_eq!(
        sink.stored()["o-1"],
        serde_json::json!({"customer": "T3", "name": "客户3"})
    );
}

/// A mapper that maps only from the JSON the pipeline hands it.
struct FromJson;

impl integration_core::Mapper<Customer, Target> for FromJson {
    fn map(&self, _: &SourceRecord<Customer>, _: &MapContext) -> Result<Option<Target>, MapError> {
        Err(MapError::new("the pipeline serialised the record again"))
    }
    fn map_json(
        &self,
        record: &SourceRecord<Customer>,
        json: &Arc<serde_json::Value>,
        _: &MapContext,
    ) -> Result<Option<Target>, MapError> {
        assert_eq!(**json, serde_json::to_value(&record.data).unwrap());
        Ok(Some(Target {
            number: json["cid"].as_str().unwrap().to_owned(),
            name: json["name"].as_str().unwrap().to_owned(),
        }))
    }
}

#[tokio::test]
async fn the_mapper_gets_the_records_json_that_the_collection_keeps() {
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let sink = MemorySink::new(10);
    let p = Pipeline::builder("json")
        .source(VecSource::new(customers(3), 2))
        .mapper(FromJson)
        .sink(sink.clone())
        .state(state.clone())
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!(report.written, 3, "{report:?}");
    assert_eq!(sink.stored()["2"].number, "cid-2");
    let entry = state.entry("json", "2").await.unwrap().unwrap();
    assert_eq!(
        *entry.data,
        serde_json::to_value(&customers(3)[2].data).unwrap()
    );
}

#[tokio::test]
async fn a_collection_only_pipeline_keeps_every_record_for_lookups() {
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("kept")
        .source(VecSource::new(customers(3), 2))
        .mapper(collect_only)
        .sink(CollectSink::new(10))
        .state(state.clone())
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!((report.read, report.written), (3, 3), "{report:?}");
    assert_eq!(state.count_entries("kept").await.unwrap(), 3);
    let found = state
        .find_by_field("kept", "cid", &serde_json::json!("cid-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.key, "1");
    assert_eq!(found.data["name"], "客户1");
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

#[async_trait::async_trait]
impl Hooks<Customer, Target> for Arc<Recorder> {
    async fn before_read(&self, _: u64) {
        self.0.lock().unwrap().push("before_read".into());
    }
    fn after_map(&self, _: &SourceRecord<Customer>, mapped: &mut Target) {
        mapped.name.push_str("（已同步）");
    }
    async fn on_success(&self, key: &str, _: Option<&str>) {
        self.0.lock().unwrap().push(format!("ok {key}"));
    }
    async fn on_failure(&self, letter: &integration_core::DeadLetter) {
        self.0.lock().unwrap().push(format!("dead {}", letter.key));
    }
}

#[tokio::test]
async fn hooks_see_every_stage_and_mapping_errors_are_dead_lettered() {
    let recorder = Arc::new(Recorder::default());
    let sink = MemorySink::new(10);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("hooked")
        .source(VecSource::new(customers(3), 10))
        .mapper(|r: &SourceRecord<Customer>, ctx: &MapContext| {
            if r.key == "1" {
                return Err(MapError::new("name is empty").for_field("FName"));
            }
            to_target(r, ctx)
        })
        .sink(sink.clone())
        .state(state.clone())
        .hooks(recorder.clone())
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!((report.written, report.dead_lettered), (2, 1));
    let events = recorder.0.lock().unwrap().clone();
    assert_eq!(events, ["before_read", "dead 1", "ok 0", "ok 2"]);
    assert_eq!(sink.stored()["0"].name, "客户0（已同步）");
    let letter = &state.dead_letters("hooked").await.unwrap()[0];
    assert_eq!(letter.stage, Stage::Map);
    assert!(letter.error.contains("FName"), "{}", letter.error);
}

#[tokio::test]
async fn a_declarative_mapping_looks_up_another_pipelines_collection_by_field() {
    use integration_core::mapping::declarative::DeclarativeMapping;
    let state: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    // Pipeline 1: buyers with their cid, recorded in the `buyers` collection.
    pipeline(
        "buyers",
        VecSource::new(customers(4), 5),
        MemorySink::new(10),
        state.clone(),
    )
    .run()
    .await
    .unwrap();

    // Pipeline 2: the `_findCollection ... where cid=` case, declaratively.
    let mapping = DeclarativeMapping::from_json_str(
        r#"{
            "FNumber": "{{ buyerCid }}",
            "FName": "{{ lookup('buyers', {'cid': buyerCid}, 'name') | default('unknown') }}",
            "FDescription": "{{ lookup('buyers', {'cid': buyerCid}, '_target_id') | default('') }}"
        }"#,
    )
    .unwrap();
    let sink: MemorySink<serde_json::Value> = MemorySink::new(10);
    let trades = vec![
        SourceRecord::upsert("t1", serde_json::json!({"buyerCid": "cid-2"})),
        SourceRecord::upsert("t2", serde_json::json!({"buyerCid": "cid-99"})),
    ];
    Pipeline::builder("trades")
        .source(VecSource::new(trades, 5))
        .mapper(mapping)
        .sink(sink.clone())
        .state(state)
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let stored = sink.stored();
    assert_eq!(
        stored["t1"],
        serde_json::json!({"FNumber": "cid-2", "FName": "客户2", "FDescription": "T2"})
    );
    assert_eq!(stored["t2"]["FName"], "unknown");
}

#[tokio::test]
async fn two_pipelines_share_one_sqlite_file_concurrently() {
    let dir = std::env::temp_dir().join(format!("ic-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.sqlite");
    let _ = std::fs::remove_file(&path);
    let a_sink = MemorySink::new(10);
    let b_sink = MemorySink::new(10);
    // Two stores opened on the same file, as two jobs of one process would.
    let a = pipeline(
        "a",
        VecSource::new(customers(300), 7),
        a_sink.clone(),
        Arc::new(SqliteStore::open(&path).unwrap()),
    );
    let b = pipeline(
        "b",
        VecSource::new(customers(300), 11),
        b_sink.clone(),
        Arc::new(SqliteStore::open(&path).unwrap()),
    );
    let (ra, rb) = tokio::join!(a.run(), b.run());
    assert_eq!((ra.unwrap().written, rb.unwrap().written), (300, 300));
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        (
            store.count_entries("a").await.unwrap(),
            store.count_entries("b").await.unwrap()
        ),
        (300, 300)
    );
    assert_eq!(
        store.checkpoint("a").await.unwrap().unwrap().0,
        serde_json::json!(300)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(start_paused = true)]
async fn watch_runs_on_an_interval_until_shut_down() {
    let source = VecSource::new(customers(3), 10);
    let p = pipeline(
        "watched",
        source.clone(),
        MemorySink::new(10),
        Arc::new(MemoryStore::new()),
    );
    let mut runs = Vec::new();
    let shutdown = async {
        tokio::time::sleep(Duration::from_millis(2500)).await;
    };
    let adder = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        source.push(customers(4).pop().unwrap());
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = p.run_every(Duration::from_secs(1), shutdown, |r| runs.push(r.unwrap().written)) => {}
        () = adder => {}
    }
    // Runs at 0 s, 1 s and 2 s; the record added at 1.5 s is written by the third.
    assert_eq!(runs, vec![3, 0, 1]);
}

#[tokio::test]
async fn the_sinks_skip_reasons_reach_the_report() {
    let sink = FnSink::new(10, |batch: Vec<SinkRecord<Target>>| async move {
        Ok(batch
            .iter()
            .map(|r| match r.op {
                integration_core::Op::Delete => WriteOutcome::Skipped {
                    reason: format!("{} cannot be deleted here", r.data.number),
                },
                integration_core::Op::Upsert => WriteOutcome::written(r.key.clone()),
            })
            .collect())
    });
    let mut records = customers(3);
    records[1].op = integration_core::Op::Delete;
    let p = Pipeline::builder("skips")
        .source(VecSource::new(records, 10))
        .mapper(to_target)
        .sink(sink)
        .state(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let report = p.run().await.unwrap();
    assert_eq!(
        (report.written, report.skipped, report.unaccounted()),
        (2, 1, 0)
    );
    assert_eq!(report.first_skips.len(), 1);
    assert_eq!(report.first_skips[0].key, "1");
    assert_eq!(
        report.first_skips[0].message,
        "C00001 cannot be deleted here"
    );
    assert!(report.to_string().contains("C00001 cannot be deleted here"));
}
