//! The conformance suite every [`StateStore`] runs: one behaviour for the
//! memory, SQLite and any other store.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! integration_core::testing::store::check_store(Arc::new(integration_core::MemoryStore::new())).await;
//! # });
//! ```

#![allow(clippy::unwrap_used)] // A conformance suite fails by panicking, as a test does.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use crate::report::RunReport;
use crate::source::{Checkpoint, Op};
use crate::state::{
    Changes, CollectionEntry, DeadLetter, EntryStatus, RunKind, RunOutcome, RunRecord, Stage,
    StateStore,
};

/// Runs every check against `store`, which must be empty; panics naming
/// the first that fails.
pub async fn check_store(store: Arc<dyn StateStore>) {
    checkpoints(&*store).await;
    entries(&*store).await;
    dead_letters(&*store).await;
    run_history(&*store).await;
    changes_apply_atomically(Arc::clone(&store)).await;
    concurrent_access(store).await;
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid time")
        + Duration::minutes(minute)
}

fn entry(collection: &str, key: &str, data: Value, minute: i64) -> CollectionEntry {
    CollectionEntry {
        updated_at: at(minute),
        ..CollectionEntry::new(collection, key, data).with_target_id(format!("T{key}"))
    }
}

fn letter(pipeline: &str, key: &str, attempts: u32, minute: i64) -> DeadLetter {
    DeadLetter {
        pipeline: pipeline.into(),
        key: key.into(),
        op: Op::Upsert,
        source: json!({"k": key}),
        payload: None,
        stage: Stage::Write,
        code: Some("9".into()),
        error: "名称不能为空".into(),
        attempts,
        failed_at: at(minute),
    }
}

async fn checkpoints(store: &dyn StateStore) {
    assert_eq!(
        store.checkpoint("cp").await.unwrap(),
        None,
        "no checkpoint yet"
    );
    store
        .set_checkpoint("cp", &Checkpoint(json!({"t": 1})))
        .await
        .unwrap();
    store
        .set_checkpoint("cp", &Checkpoint(json!({"t": 2})))
        .await
        .unwrap();
    assert_eq!(
        store.checkpoint("cp").await.unwrap(),
        Some(Checkpoint(json!({"t": 2}))),
        "the last checkpoint wins"
    );
    assert_eq!(
        store.checkpoint("cp-other").await.unwrap(),
        None,
        "pipelines are separate"
    );
}

async fn entries(store: &dyn StateStore) {
    store
        .put_entries(vec![
            entry("buyers", "1", json!({"cid": "c-9", "n": 1}), 1),
            entry("buyers", "2", json!({"cid": 77, "weird\"field": "x"}), 2),
            entry("buyers", "3", json!({"cid": "c-9", "n": 3}), 3),
            entry("sellers", "1", json!({"cid": "c-9"}), 9),
        ])
        .await
        .unwrap();
    assert_eq!(store.count_entries("buyers").await.unwrap(), 3);
    let two = store.entry("buyers", "2").await.unwrap().expect("entry 2");
    assert_eq!(
        (two.status, two.target_id.as_deref()),
        (EntryStatus::Written, Some("T2"))
    );
    assert_eq!(*two.data, json!({"cid": 77, "weird\"field": "x"}));
    assert_eq!(two.updated_at, at(2), "times survive to the microsecond");
    assert_eq!(store.entry("buyers", "4").await.unwrap(), None);

    let found = |field: &'static str, value: Value| async move {
        store
            .find_by_field("buyers", field, &value)
            .await
            .unwrap()
            .map(|e| e.key)
    };
    assert_eq!(
        found("cid", json!("c-9")).await.as_deref(),
        Some("3"),
        "the most recent match wins"
    );
    assert_eq!(
        found("cid", json!("77")).await.as_deref(),
        Some("2"),
        "text finds a number"
    );
    assert_eq!(
        found("cid", json!(77)).await.as_deref(),
        Some("2"),
        "a number finds a number"
    );
    assert_eq!(
        found("n", json!("1")).await.as_deref(),
        Some("1"),
        "text finds a number"
    );
    assert_eq!(
        found("weird\"field", json!("x")).await.as_deref(),
        Some("2"),
        "any field name"
    );
    assert_eq!(found("cid", json!("none")).await, None);
    assert_eq!(
        found("cid", json!(null)).await,
        None,
        "null matches nothing"
    );
    assert_eq!(
        store
            .find_by_field("nobody", "cid", &json!("c-9"))
            .await
            .unwrap(),
        None,
        "an unknown collection"
    );
    // A changed value moves the entry (no stale index).
    store
        .put_entries(vec![entry(
            "buyers",
            "3",
            json!({"cid": "c-10", "n": 3}),
            4,
        )])
        .await
        .unwrap();
    assert_eq!(found("cid", json!("c-9")).await.as_deref(), Some("1"));
    assert_eq!(found("cid", json!("c-10")).await.as_deref(), Some("3"));
    store
        .put_entries(vec![entry("buyers", "3", json!({"cid": "c-9", "n": 3}), 5)])
        .await
        .unwrap();
    assert_eq!(found("cid", json!("c-9")).await.as_deref(), Some("3"));
    assert_eq!(found("cid", json!("c-10")).await, None);
    assert_eq!(
        store.count_entries("buyers").await.unwrap(),
        3,
        "a replaced entry is not added"
    );
}

async fn dead_letters(store: &dyn StateStore) {
    let mut changes = Changes::new("dl");
    changes.dead_letters = vec![letter("dl", "b", 1, 2), letter("dl", "a", 1, 1)];
    store.apply(changes).await.unwrap();
    let mut again = Changes::new("dl");
    again.dead_letters = vec![letter("dl", "a", 2, 3), letter("dl-other", "a", 1, 1)];
    store.apply(again).await.unwrap();
    let letters = store.dead_letters("dl").await.unwrap();
    let keys: Vec<_> = letters
        .iter()
        .map(|l| (l.key.as_str(), l.attempts))
        .collect();
    assert_eq!(keys, [("b", 1), ("a", 2)], "replaced by key, oldest first");
    assert_eq!(
        letters[1],
        letter("dl", "a", 2, 3),
        "a letter survives whole"
    );
    assert_eq!(store.count_dead_letters("dl").await.unwrap(), 2);
    let mut resolve = Changes::new("dl");
    resolve.resolved = vec!["a".into(), "unknown".into()];
    store.apply(resolve).await.unwrap();
    let keys: Vec<_> = store
        .dead_letters("dl")
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.key)
        .collect();
    assert_eq!(keys, ["b"], "resolved keys leave");
    assert_eq!(
        store.count_dead_letters("dl-other").await.unwrap(),
        1,
        "pipelines are separate"
    );
}

fn run(pipeline: &str, minute: i64) -> RunRecord {
    let mut report = RunReport::new(pipeline, at(minute));
    report.read = minute as u64;
    RunRecord::start(RunKind::Run, report)
}

async fn run_history(store: &dyn StateStore) {
    assert!(store.runs("runs", 0, 10).await.unwrap().is_empty());
    let runs: Vec<RunRecord> = (1..=5).map(|m| run("runs", m)).collect();
    for r in &runs {
        store.put_run(r).await.unwrap();
    }
    store.put_run(&run("runs-other", 9)).await.unwrap();
    let mut finished = runs[3].clone();
    finished.outcome = RunOutcome::Stopped {
        cause: "writing failed".into(),
    };
    finished.ended_at = Some(at(30));
    finished.report.written = 4;
    store.put_run(&finished).await.unwrap();
    let mut done = runs[4].clone();
    done.outcome = RunOutcome::Completed;
    done.kind = RunKind::Replay;
    store.put_run(&done).await.unwrap();

    let newest = store.runs("runs", 0, 2).await.unwrap();
    assert_eq!(
        newest,
        [done.clone(), finished.clone()],
        "newest first, replaced by id"
    );
    let next: Vec<u64> = store
        .runs("runs", 2, 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.report.read)
        .collect();
    assert_eq!(next, [3, 2], "the second page");
    assert_eq!(store.runs("runs", 5, 2).await.unwrap(), [], "past the end");

    assert_eq!(
        store.end_unfinished_runs("runs").await.unwrap(),
        3,
        "three were running"
    );
    let outcomes: Vec<RunOutcome> = store
        .runs("runs", 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            RunOutcome::Completed,
            finished.outcome.clone(),
            RunOutcome::Killed,
            RunOutcome::Killed,
            RunOutcome::Killed
        ]
    );
    assert_eq!(store.end_unfinished_runs("runs").await.unwrap(), 0);
    assert_eq!(
        store.runs("runs-other", 0, 10).await.unwrap()[0].outcome,
        RunOutcome::Running,
        "pipelines are separate"
    );
}

/// A page's entries, dead letters and checkpoint land together: a reader
/// never sees some of them.
async fn changes_apply_atomically(store: Arc<dyn StateStore>) {
    const N: usize = 500;
    let mut changes = Changes::new("atomic");
    changes.entries = (0..N)
        .map(|i| entry("atomic", &i.to_string(), json!({"i": i}), 1))
        .collect();
    changes.dead_letters = vec![letter("atomic", "x", 1, 1)];
    changes.checkpoint = Some(Checkpoint(json!(N)));
    let reader = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            for _ in 0..200 {
                let checkpoint = store.checkpoint("atomic").await.unwrap();
                let n = store.count_entries("atomic").await.unwrap() as usize;
                assert!(n == 0 || n == N, "saw {n} of {N} entries of one apply");
                if checkpoint.is_some() {
                    assert_eq!(n, N, "the checkpoint came before its entries");
                    assert_eq!(store.count_dead_letters("atomic").await.unwrap(), 1);
                    return;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    store.apply(changes).await.unwrap();
    reader.await.expect("the reader");
    assert_eq!(store.count_entries("atomic").await.unwrap() as usize, N);
}

/// Many tasks writing and reading at once lose nothing.
async fn concurrent_access(store: Arc<dyn StateStore>) {
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..25 {
                    let key = format!("{t}-{i}");
                    store
                        .put_entries(vec![entry("shared", &key, json!({"owner": t}), 1)])
                        .await
                        .unwrap();
                    let found = store
                        .find_by_field("shared", "owner", &json!(t))
                        .await
                        .unwrap();
                    assert!(found.is_some(), "task {t} finds its own entries");
                    store
                        .set_checkpoint(&format!("shared-{t}"), &Checkpoint(json!(i)))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer");
    }
    assert_eq!(store.count_entries("shared").await.unwrap(), 200);
    for t in 0..8 {
        assert_eq!(
            store.checkpoint(&format!("shared-{t}")).await.unwrap(),
            Some(Checkpoint(json!(24)))
        );
    }
}
