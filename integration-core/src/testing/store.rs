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
    Changes, CollectionEntry, DeadLetter, EntryQuery, EntryStatus, RunKind, RunOutcome, RunRecord,
    Stage, StateStore,
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
    console_collections(&*store).await;
    console_search(&*store).await;
    console_pipelines(&*store).await;
    console_reset_checkpoint(&*store).await;
    console_run_history(&*store).await;
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
        target_id: None,
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

/// The console's names: the ones of these checks begin with `console-`,
/// so that they are told apart from those of the checks before.
fn ours<'a>(names: &'a [String], prefix: &str) -> Vec<&'a str> {
    names
        .iter()
        .map(String::as_str)
        .filter(|n| n.starts_with(prefix))
        .collect()
}

fn assert_sorted_and_distinct(names: &[String], what: &str) {
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "{what} are sorted by bytes, each once: {names:?}"
    );
}

async fn console_collections(store: &dyn StateStore) {
    store
        .put_entries(vec![
            entry("console-c-people", "1", json!({}), 1),
            entry("console-c-people", "2", json!({}), 1),
            entry("console-c-alpha", "1", json!({}), 1),
            entry("console-c-Zeta", "1", json!({}), 1),
        ])
        .await
        .unwrap();
    let collections = store.collections().await.unwrap();
    assert_sorted_and_distinct(&collections, "collections");
    assert_eq!(
        ours(&collections, "console-c-"),
        ["console-c-Zeta", "console-c-alpha", "console-c-people"],
        "byte order, whatever the database's collation"
    );
    assert!(
        collections.iter().any(|c| c == "buyers"),
        "the earlier checks' collections too: {collections:?}"
    );
}

/// An entry of the searched collection, with its status.
fn person(key: &str, data: Value, minute: i64, status: EntryStatus) -> CollectionEntry {
    CollectionEntry {
        status,
        ..entry("console-people", key, data, minute)
    }
}

async fn console_search(store: &dyn StateStore) {
    use EntryStatus::{Failed, Skipped, Written};
    // Most recently updated first, then by key: this order.
    let people = [
        person("100%_off", json!({"cid": 42}), 12, Written),
        person("p-2", json!({"cid": "42", "city": "上海"}), 12, Failed),
        person("p-3", json!({"cid": "43"}), 11, Skipped),
        person("p-1", json!({"cid": 42, "name": "张三"}), 10, Written),
        person("100xyoff", json!({"cid": 7}), 9, Written),
        person("P-4", json!({"cid": 42}), 8, Written),
        person(
            "张三-5",
            json!({"cid": 42.5, "full name": "李四"}),
            7,
            Written,
        ),
    ];
    // Put in another order, so that no store answers in insertion order.
    let mut shuffled = people.to_vec();
    shuffled.reverse();
    shuffled.swap(0, 3);
    store.put_entries(shuffled).await.unwrap();
    store
        .put_entries(vec![entry(
            "console-people-2",
            "p-9",
            json!({"cid": 42}),
            99,
        )])
        .await
        .unwrap();

    let search = |query: EntryQuery, offset: usize, limit: usize| async move {
        store
            .search_entries("console-people", &query.page(offset, limit))
            .await
            .unwrap()
    };
    let keys = |query: EntryQuery| async move {
        search(query, 0, 100)
            .await
            .into_iter()
            .map(|e| e.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        search(EntryQuery::new(), 0, 100).await,
        people,
        "an empty query finds every entry, newest first, then by key, whole"
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("")).await.len(),
        people.len(),
        "every key contains the empty text"
    );

    // By key.
    assert_eq!(
        keys(EntryQuery::new().key_contains("p-")).await,
        ["p-2", "p-3", "p-1"],
        "a substring, case-sensitive"
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("0%_o")).await,
        ["100%_off"],
        "% and _ are plain characters"
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("_")).await,
        ["100%_off"]
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("张三")).await,
        ["张三-5"],
        "Chinese keys"
    );
    assert!(
        keys(EntryQuery::new().key_contains("nobody"))
            .await
            .is_empty()
    );

    // By field: strings and numbers compare as text.
    let forty_two = ["100%_off", "p-2", "p-1", "P-4"];
    assert_eq!(
        keys(EntryQuery::new().field("cid", 42)).await,
        forty_two,
        "a number finds numbers and text"
    );
    assert_eq!(
        keys(EntryQuery::new().field("cid", "42")).await,
        forty_two,
        "text finds numbers and text"
    );
    assert_eq!(
        keys(EntryQuery::new().field("cid", "42.5")).await,
        ["张三-5"]
    );
    assert_eq!(keys(EntryQuery::new().field("name", "张三")).await, ["p-1"]);
    assert_eq!(
        keys(EntryQuery::new().field("full name", "李四")).await,
        ["张三-5"],
        "any field name"
    );
    assert!(
        keys(EntryQuery::new().field("cid", Value::Null))
            .await
            .is_empty(),
        "null matches nothing"
    );
    assert!(
        keys(EntryQuery::new().field("nothing", 42))
            .await
            .is_empty()
    );

    // By status.
    assert_eq!(keys(EntryQuery::new().status(Failed)).await, ["p-2"]);
    assert_eq!(keys(EntryQuery::new().status(Skipped)).await, ["p-3"]);
    assert_eq!(keys(EntryQuery::new().status(Written)).await.len(), 5);

    // Combined: every set part must hold.
    assert_eq!(
        keys(
            EntryQuery::new()
                .key_contains("p-")
                .field("cid", "42")
                .status(Written)
        )
        .await,
        ["p-1"]
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("p-").status(Skipped)).await,
        ["p-3"]
    );
    assert_eq!(
        keys(EntryQuery::new().field("cid", 42).status(Failed)).await,
        ["p-2"]
    );
    assert_eq!(
        keys(EntryQuery::new().key_contains("off").field("cid", 7)).await,
        ["100xyoff"]
    );

    // Pages.
    assert_eq!(search(EntryQuery::new(), 2, 2).await, people[2..4]);
    assert_eq!(search(EntryQuery::new(), 6, 10).await, people[6..]);
    assert_eq!(search(EntryQuery::new(), 7, 10).await, [], "past the end");
    assert_eq!(search(EntryQuery::new(), 0, 0).await, [], "no room");
    let page = |offset, limit| async move {
        search(EntryQuery::new().field("cid", 42), offset, limit)
            .await
            .into_iter()
            .map(|e| e.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(1, 2).await, ["p-2", "p-1"], "a page of a field search");
    assert_eq!(page(3, 5).await, ["P-4"]);
    assert!(page(4, 5).await.is_empty());

    assert_eq!(
        store
            .search_entries("console-nobody", &EntryQuery::new().page(0, 10))
            .await
            .unwrap(),
        [],
        "an unknown collection"
    );
    // A changed entry moves (to the front: it is the newest now).
    store
        .put_entries(vec![person(
            "P-4",
            json!({"cid": "44", "name": "张三"}),
            13,
            Failed,
        )])
        .await
        .unwrap();
    assert_eq!(
        keys(EntryQuery::new().field("cid", 42)).await,
        forty_two[..3]
    );
    assert_eq!(
        keys(EntryQuery::new().field("name", "张三")).await,
        ["P-4", "p-1"]
    );
    assert_eq!(keys(EntryQuery::new().status(Failed)).await, ["P-4", "p-2"]);
}

async fn console_pipelines(store: &dyn StateStore) {
    store
        .set_checkpoint("console-p-cp", &Checkpoint(json!({"t": "张三"})))
        .await
        .unwrap();
    store.put_run(&run("console-p-run", 1)).await.unwrap();
    let mut letters = Changes::new("console-p-dl");
    letters.dead_letters = vec![letter("console-p-dl", "k", 1, 1)];
    store.apply(letters).await.unwrap();
    // One pipeline with all three, and entries of its collection.
    let mut all = Changes::new("console-p-all");
    all.checkpoint = Some(Checkpoint(json!(7)));
    all.dead_letters = vec![letter("console-p-all", "k", 1, 1)];
    all.entries = vec![entry("console-p-all", "1", json!({"name": "张三"}), 1)];
    store.apply(all).await.unwrap();
    store.put_run(&run("console-p-all", 2)).await.unwrap();
    store.put_run(&run("console-p-all", 3)).await.unwrap();
    // A collection alone, and dead letters all resolved, make no pipeline.
    store
        .put_entries(vec![entry("console-p-entries", "1", json!({}), 1)])
        .await
        .unwrap();
    let mut gone = Changes::new("console-p-gone");
    gone.dead_letters = vec![letter("console-p-gone", "k", 1, 1)];
    store.apply(gone).await.unwrap();
    let mut resolved = Changes::new("console-p-gone");
    resolved.resolved = vec!["k".into()];
    store.apply(resolved).await.unwrap();

    let pipelines = store.pipelines().await.unwrap();
    assert_sorted_and_distinct(&pipelines, "pipelines");
    assert_eq!(
        ours(&pipelines, "console-p-"),
        [
            "console-p-all",
            "console-p-cp",
            "console-p-dl",
            "console-p-run"
        ],
        "from checkpoints, runs and dead letters, each once"
    );
    for earlier in ["cp", "dl", "runs"] {
        assert!(
            pipelines.iter().any(|p| p == earlier),
            "{earlier} (from the earlier checks) in {pipelines:?}"
        );
    }
}

async fn console_reset_checkpoint(store: &dyn StateStore) {
    assert!(
        store.reset_checkpoint("console-p-all").await.unwrap(),
        "there was a checkpoint"
    );
    assert_eq!(store.checkpoint("console-p-all").await.unwrap(), None);
    assert!(
        !store.reset_checkpoint("console-p-all").await.unwrap(),
        "there is none now"
    );
    assert!(!store.reset_checkpoint("console-p-nobody").await.unwrap());
    assert_eq!(
        store.count_dead_letters("console-p-all").await.unwrap(),
        1,
        "dead letters stay"
    );
    assert_eq!(
        store.runs("console-p-all", 0, 10).await.unwrap().len(),
        2,
        "the history stays"
    );
    assert_eq!(
        store.count_entries("console-p-all").await.unwrap(),
        1,
        "the collection stays"
    );
    assert_eq!(
        store.checkpoint("console-p-cp").await.unwrap(),
        Some(Checkpoint(json!({"t": "张三"}))),
        "other pipelines keep theirs"
    );
    assert!(store.reset_checkpoint("console-p-cp").await.unwrap());
    let pipelines = store.pipelines().await.unwrap();
    assert_eq!(
        ours(&pipelines, "console-p-"),
        ["console-p-all", "console-p-dl", "console-p-run"],
        "a pipeline known by its checkpoint alone is gone with it"
    );
    // The next run starts from the beginning, and may checkpoint again.
    store
        .set_checkpoint("console-p-all", &Checkpoint(json!(1)))
        .await
        .unwrap();
    assert_eq!(
        store.checkpoint("console-p-all").await.unwrap(),
        Some(Checkpoint(json!(1)))
    );
}

async fn console_run_history(store: &dyn StateStore) {
    let scheduled = store.runs("console-p-run", 0, 10).await.unwrap();
    assert_eq!(scheduled.len(), 1, "the run of the pipelines' check");
    let mut reset = RunRecord::start(RunKind::Reset, RunReport::new("console-p-run", at(20)));
    reset.operator = Some("console (127.0.0.1) 张三".into());
    reset.outcome = RunOutcome::Completed;
    reset.ended_at = Some(at(20));
    store.put_run(&reset).await.unwrap();
    let history = store.runs("console-p-run", 0, 10).await.unwrap();
    assert_eq!(
        history,
        [reset.clone(), scheduled[0].clone()],
        "a reset and its operator survive whole"
    );
    assert_eq!(history[1].operator, None, "a scheduled run has none");
    let stored = serde_json::to_value(&history[0]).unwrap();
    assert_eq!(
        (&stored["kind"], &stored["operator"]),
        (&json!("reset"), &json!("console (127.0.0.1) 张三"))
    );
    assert!(
        serde_json::to_value(&history[1])
            .unwrap()
            .get("operator")
            .is_none(),
        "no operator, no field"
    );
}
