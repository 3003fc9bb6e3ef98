//! Every state store passes the one conformance suite; stores never stall
//! the runtime; every run leaves a record in the history.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use integration_core::mapping::{LookupFilter, MapContext, MapError};
use integration_core::memory::{MemorySink, VecSource};
use integration_core::state::{Changes, EntryQuery, Lease, RunKind, RunOutcome, StateError};
use integration_core::testing::store::check_store;
use integration_core::{
    Checkpoint, CollectionEntry, DeadLetter, MemoryStore, Pipeline, RunRecord, SourceRecord,
    SqliteStore, StateStore,
};
use serde_json::{Value, json};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ic-{name}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_memory_store_conforms() {
    check_store(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn the_sqlite_store_conforms_in_memory() {
    check_store(Arc::new(SqliteStore::in_memory().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_store_conforms_on_disk_and_a_reopened_file_keeps_everything() {
    let dir = temp_dir("conformance");
    let path = dir.join("state.sqlite");
    check_store(Arc::new(SqliteStore::open(&path).unwrap())).await;
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.count_entries("buyers").await.unwrap(), 3);
    assert_eq!(reopened.count_dead_letters("dl").await.unwrap(), 1);
    assert_eq!(reopened.runs("runs", 0, 10).await.unwrap().len(), 5);
    assert_eq!(
        reopened.checkpoint("cp").await.unwrap(),
        Some(Checkpoint(json!({"t": 2})))
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A store whose every call takes 50 ms of waiting (as a network database
/// may).
struct SlowStore(MemoryStore);

const SLOW: Duration = Duration::from_millis(50);

#[integration_core::testing::async_trait]
impl StateStore for SlowStore {
    async fn checkpoint(&self, p: &str) -> Result<Option<Checkpoint>, StateError> {
        tokio::time::sleep(SLOW).await;
        self.0.checkpoint(p).await
    }
    async fn apply(&self, changes: Changes) -> Result<(), StateError> {
        tokio::time::sleep(SLOW).await;
        self.0.apply(changes).await
    }
    async fn entry(&self, c: &str, k: &str) -> Result<Option<CollectionEntry>, StateError> {
        tokio::time::sleep(SLOW).await;
        self.0.entry(c, k).await
    }
    async fn find_by_field(
        &self,
        c: &str,
        f: &str,
        v: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        tokio::time::sleep(SLOW).await;
        self.0.find_by_field(c, f, v).await
    }
    async fn count_entries(&self, c: &str) -> Result<u64, StateError> {
        self.0.count_entries(c).await
    }
    async fn dead_letters(&self, p: &str) -> Result<Vec<DeadLetter>, StateError> {
        self.0.dead_letters(p).await
    }
    async fn count_dead_letters(&self, p: &str) -> Result<u64, StateError> {
        self.0.count_dead_letters(p).await
    }
    async fn put_run(&self, run: &RunRecord) -> Result<(), StateError> {
        self.0.put_run(run).await
    }
    async fn runs(&self, p: &str, o: usize, l: usize) -> Result<Vec<RunRecord>, StateError> {
        self.0.runs(p, o, l).await
    }
    async fn end_unfinished_runs(&self, p: &str) -> Result<u64, StateError> {
        self.0.end_unfinished_runs(p).await
    }
    async fn pipelines(&self) -> Result<Vec<String>, StateError> {
        self.0.pipelines().await
    }
    async fn collections(&self) -> Result<Vec<String>, StateError> {
        self.0.collections().await
    }
    async fn search_entries(
        &self,
        c: &str,
        q: &EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError> {
        self.0.search_entries(c, q).await
    }
    async fn reset_checkpoint(&self, p: &str) -> Result<bool, StateError> {
        self.0.reset_checkpoint(p).await
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

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Order {
    buyer: String,
}

/// Counts the ticks of a 5 ms timer while `work` runs.
async fn ticks_during(work: impl std::future::Future<Output = ()>) -> (u64, Duration) {
    let ticks = Arc::new(AtomicU64::new(0));
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(5));
            loop {
                interval.tick().await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let started = std::time::Instant::now();
    work.await;
    let elapsed = started.elapsed();
    ticker.abort();
    (ticks.load(Ordering::SeqCst), elapsed)
}

#[tokio::test(flavor = "current_thread")]
async fn a_slow_store_does_not_stall_a_current_thread_runtime_even_through_lookups() {
    slow_store_does_not_stall().await;
}

/// The test body runs in `block_on`, as `#[tokio::main]`'s does: mapping in
/// place there must still let a lookup wait for the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_slow_store_does_not_stall_a_multi_thread_runtime_even_through_lookups() {
    slow_store_does_not_stall().await;
}

/// A pipeline whose mapping looks up a store whose calls take 50 ms each,
/// while a timer task keeps ticking.
async fn slow_store_does_not_stall() {
    let store = Arc::new(SlowStore(MemoryStore::new()));
    store
        .put_entries(vec![
            CollectionEntry::new("buyers", "b1", json!({"cid": "b1"})).with_target_id("CUST-1"),
        ])
        .await
        .unwrap();
    let orders: Vec<_> = (0..6)
        .map(|i| SourceRecord::upsert(i.to_string(), Order { buyer: "b1".into() }))
        .collect();
    let sink = MemorySink::new(10);
    let pipeline = Pipeline::builder("orders")
        .source(VecSource::new(orders, 3))
        .map(|r, ctx| {
            let buyer = ctx.lookup("buyers", LookupFilter::Key(&r.data.buyer))?;
            let buyer = buyer.ok_or_else(|| MapError::new("no buyer"))?;
            Ok(Some(json!({ "customer": buyer.target_id })))
        })
        .sink(sink.clone())
        .state(store)
        .build()
        .unwrap();
    let (ticks, elapsed) = ticks_during(async {
        let report = pipeline.run().await.unwrap();
        assert_eq!(report.written, 6);
    })
    .await;
    assert_eq!(sink.stored()["5"]["customer"], "CUST-1");
    // Six lookups and the checkpoint, page writes and history: at least
    // 6 × 50 ms of waiting on one thread, during which the timer ticked.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    let expected = elapsed.as_millis() as u64 / 5;
    assert!(
        ticks * 2 >= expected,
        "the timer ticked {ticks} times in {elapsed:?} (expected about {expected})"
    );
}

/// Another process holds the file's write lock for 200 ms while the store
/// stores a checkpoint: a timer task keeps ticking.
async fn locked_sqlite_file_does_not_stall(name: &str) {
    let dir = temp_dir(name);
    let path = dir.join("state.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").unwrap();
    });
    let (ticks, elapsed) = ticks_during(async {
        store
            .set_checkpoint("p", &Checkpoint(json!(1)))
            .await
            .unwrap();
    })
    .await;
    release.join().unwrap();
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(ticks >= 15, "the timer ticked {ticks} times in {elapsed:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "current_thread")]
async fn a_locked_sqlite_file_does_not_stall_a_current_thread_runtime() {
    locked_sqlite_file_does_not_stall("locked-current").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_locked_sqlite_file_does_not_stall_a_multi_thread_runtime() {
    locked_sqlite_file_does_not_stall("locked-multi").await;
}

#[tokio::test]
async fn every_run_and_replay_is_in_the_history_and_a_killed_one_is_found() {
    let store: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    // A process died during a run: its record says running.
    let dead = RunRecord::start(RunKind::Run, {
        let pipeline = Pipeline::builder("history")
            .source(VecSource::new(Vec::<SourceRecord<Order>>::new(), 10))
            .map(|_, _| Ok(Some(json!({}))))
            .sink(MemorySink::new(10))
            .state(Arc::clone(&store))
            .build()
            .unwrap();
        let mut report = pipeline.run().await.unwrap();
        report.started_at -= chrono::Duration::hours(1);
        report
    });
    store.put_run(&dead).await.unwrap();

    let orders = vec![
        SourceRecord::upsert("1", Order { buyer: "b".into() }),
        SourceRecord::upsert("2", Order { buyer: "".into() }),
    ];
    let pipeline = Pipeline::builder("history")
        .source(VecSource::new(orders, 10))
        .map(|r, _| match r.data.buyer.as_str() {
            "" => Err(MapError::new("no buyer").for_field("customer")),
            b => Ok(Some(json!({ "customer": b }))),
        })
        .sink(MemorySink::new(10))
        .state(Arc::clone(&store))
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!((report.written, report.dead_lettered), (1, 1));
    pipeline.replay_dead_letters().await.unwrap();

    let history = pipeline.history(0, 10).await.unwrap();
    let kinds: Vec<_> = history
        .iter()
        .map(|r| (r.kind, r.outcome.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (RunKind::Replay, RunOutcome::Completed),
            (RunKind::Run, RunOutcome::Completed),
            (RunKind::Run, RunOutcome::Completed),
            (RunKind::Run, RunOutcome::Killed),
        ]
    );
    let run = &history[1];
    assert_eq!((run.report.read, run.report.written), (2, 1));
    assert!(run.ended_at.is_some());
    assert_eq!(run.report.first_errors[0].key, "2");
    assert!(
        run.report.first_errors[0].message.contains("customer"),
        "{:?}",
        run.report.first_errors
    );
    assert_eq!(pipeline.history(1, 2).await.unwrap(), history[1..3]);
}

#[test]
fn a_mapping_test_gets_its_lookups_from_entries() {
    let ctx = MapContext::default().with_entries([CollectionEntry::new(
        "buyers",
        "c1",
        json!({"cid": "c-1", "n": 7}),
    )
    .with_target_id("CUST-1")]);
    let by_key = ctx.lookup("buyers", LookupFilter::Key("c1")).unwrap();
    assert_eq!(by_key.unwrap().target_id.as_deref(), Some("CUST-1"));
    let by_field = ctx
        .lookup(
            "buyers",
            LookupFilter::Field {
                field: "n",
                value: &json!("7"),
            },
        )
        .unwrap();
    assert_eq!(by_field.unwrap().key, "c1");
    assert!(
        ctx.lookup("sellers", LookupFilter::Key("c1"))
            .unwrap()
            .is_none()
    );
}
