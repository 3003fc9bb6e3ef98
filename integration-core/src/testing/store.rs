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

/// A lease's time to live in the checks that never let one expire.
const LONG: std::time::Duration = std::time::Duration::from_secs(600);
/// A lease's time to live in the checks that wait for it to expire.
const SHORT: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs every check against `store`, which must be empty; panics naming
/// the first that fails.
pub async fn check_store(store: Arc<dyn StateStore>) {
    checkpoints(&*store).await;
    entries(&*store).await;
    dead_letters(&*store).await;
    run_history(&*store).await;
    changes_apply_atomically(Arc::clone(&store)).await;
    concurrent_access(Arc::clone(&store)).await;
    leases(&*store).await;
    leases_expire_and_fence_a_zombie(&*store).await;
    one_winner_among_racing_workers(Arc::clone(&store)).await;
    rate_budgets(&*store).await;
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

fn checkpoint_under(pipeline: &str, value: i64, fence: crate::state::Fence) -> Changes {
    Changes {
        checkpoint: Some(Checkpoint(json!({ "t": value }))),
        entries: vec![entry(pipeline, &format!("k{value}"), json!({}), 0)],
        fence: Some(fence),
        ..Changes::new(pipeline)
    }
}

async fn leases(store: &dyn StateStore) {
    let a = store
        .acquire_lease("lease-p", "worker-a", LONG)
        .await
        .unwrap();
    let a = a.expect("a free lease is granted");
    assert_eq!(
        (a.name.as_str(), a.holder.as_str()),
        ("lease-p", "worker-a")
    );
    assert!(a.expires_at > Utc::now(), "granted until ttl from now");
    assert_eq!(
        store
            .acquire_lease("lease-p", "worker-b", LONG)
            .await
            .unwrap(),
        None,
        "a held lease is refused to another holder"
    );
    let again = store
        .acquire_lease("lease-p", "worker-a", LONG)
        .await
        .unwrap();
    assert_eq!(
        again.map(|l| l.token),
        Some(a.token),
        "the holder keeps its token"
    );
    let renewed = store.renew_lease(&a, LONG).await.unwrap();
    assert_eq!(renewed.token, a.token);
    assert_eq!(store.leases().await.unwrap(), vec![renewed.clone()]);

    store
        .apply(checkpoint_under("lease-p", 1, a.fence()))
        .await
        .expect("the holder's fenced write is applied");
    store.release_lease(&a, Some(at(5))).await.unwrap();
    assert!(store.leases().await.unwrap().is_empty(), "released");
    let refused = store
        .apply(checkpoint_under("lease-p", 2, a.fence()))
        .await
        .expect_err("a write under a released lease is refused");
    assert!(refused.is_fenced(), "{refused}");
    assert_eq!(
        store.checkpoint("lease-p").await.unwrap(),
        Some(Checkpoint(json!({"t": 1}))),
        "a refused write changes nothing"
    );
    assert_eq!(store.count_entries("lease-p").await.unwrap(), 1);

    let b = store
        .acquire_lease("lease-p", "worker-b", LONG)
        .await
        .unwrap();
    let b = b.expect("a released lease is granted");
    assert!(b.token > a.token, "a new grant gets a larger token");
    assert_eq!(b.done_through, Some(at(5)), "the completed tick is kept");
    assert!(store.renew_lease(&a, LONG).await.unwrap_err().is_fenced());
    store.release_lease(&a, Some(at(9))).await.unwrap();
    assert_eq!(
        store.leases().await.unwrap(),
        vec![b.clone()],
        "a stale release changes nothing"
    );
    store.release_lease(&b, None).await.unwrap();
    let c = store
        .acquire_lease("lease-p", "worker-a", LONG)
        .await
        .unwrap();
    assert_eq!(
        c.map(|c| c.done_through),
        Some(Some(at(5))),
        "done_through only moves forward"
    );
}

async fn leases_expire_and_fence_a_zombie(store: &dyn StateStore) {
    let zombie = store
        .acquire_lease("lease-q", "zombie", SHORT)
        .await
        .unwrap();
    let zombie = zombie.expect("granted");
    store
        .apply(checkpoint_under("lease-q", 1, zombie.fence()))
        .await
        .unwrap();
    tokio::time::sleep(SHORT * 2).await;
    // Expired, but nobody took it: the holder's writes still hold.
    store
        .apply(checkpoint_under("lease-q", 2, zombie.fence()))
        .await
        .expect("an expired lease nobody took still admits its holder");
    let heir = store.acquire_lease("lease-q", "heir", LONG).await.unwrap();
    let heir = heir.expect("an expired lease is taken over");
    assert!(heir.token > zombie.token);
    let refused = store
        .apply(checkpoint_under("lease-q", 3, zombie.fence()))
        .await
        .expect_err("the zombie's write after the takeover is refused");
    assert!(refused.is_fenced(), "{refused}");
    assert!(
        store
            .renew_lease(&zombie, LONG)
            .await
            .unwrap_err()
            .is_fenced()
    );
    store
        .apply(checkpoint_under("lease-q", 4, heir.fence()))
        .await
        .unwrap();
    assert_eq!(
        store.checkpoint("lease-q").await.unwrap(),
        Some(Checkpoint(json!({"t": 4})))
    );
}

async fn one_winner_among_racing_workers(store: Arc<dyn StateStore>) {
    let racers = (0..8).map(|i| {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .acquire_lease("lease-race", &format!("racer-{i}"), LONG)
                .await
                .unwrap()
        })
    });
    let granted = futures::future::join_all(racers)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Some(_))))
        .count();
    assert_eq!(granted, 1, "exactly one racer gets the lease");
}

async fn rate_budgets(store: &dyn StateStore) {
    assert_eq!(
        store.join_budget("kingdee:app", "w1", LONG).await.unwrap(),
        1
    );
    assert_eq!(
        store.join_budget("kingdee:app", "w2", LONG).await.unwrap(),
        2
    );
    assert_eq!(
        store.join_budget("kingdee:app", "w1", LONG).await.unwrap(),
        2,
        "rejoining counts once"
    );
    assert_eq!(
        store.join_budget("okki:app", "w1", LONG).await.unwrap(),
        1,
        "budgets are apart"
    );
    store.leave_budget("kingdee:app", "w1").await.unwrap();
    assert_eq!(
        store.join_budget("kingdee:app", "w2", LONG).await.unwrap(),
        1
    );
    assert_eq!(
        store.join_budget("kingdee:app", "w3", SHORT).await.unwrap(),
        2
    );
    tokio::time::sleep(SHORT * 2).await;
    assert_eq!(
        store.join_budget("kingdee:app", "w2", LONG).await.unwrap(),
        1,
        "a member whose time ran out is forgotten"
    );
}
