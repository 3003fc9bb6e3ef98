//! The PostgreSQL store against a real server: its own throwaway cluster
//! (Debian's `postgresql` package), or `DATABASE_URL`'s server. Without
//! either, each test says SKIPPED on a developer machine and fails on CI.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::Arc;
use std::time::Duration;

use integration_core::memory::{MemorySink, VecSource};
use integration_core::state::{Changes, RunOutcome};
use integration_core::testing::postgres::TestPostgres;
use integration_core::testing::store::check_store;
use integration_core::{
    Checkpoint, CollectionEntry, EntryQuery, Pipeline, PostgresStore, SourceRecord, StateStore,
};
use serde_json::json;

const LONG: Duration = Duration::from_secs(600);
const SHORT: Duration = Duration::from_millis(300);

/// A plain connection, for looking behind the store's back.
async fn raw(pg: &TestPostgres) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(pg.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_store_conforms() {
    let Some(pg) = TestPostgres::for_test("the_postgres_store_conforms").await else {
        return;
    };
    let store = pg.builder().connect().await.unwrap();
    assert_eq!(store.schema(), pg.schema());
    check_store(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schemas_on_one_server_are_apart() {
    let Some(pg) = TestPostgres::for_test("two_schemas_on_one_server_are_apart").await else {
        return;
    };
    let a = pg.builder().connect().await.unwrap();
    let b = pg
        .builder()
        .schema(pg.new_schema())
        .connect()
        .await
        .unwrap();
    a.set_checkpoint("p", &Checkpoint(json!(1))).await.unwrap();
    a.put_entries(vec![CollectionEntry::new("c", "1", json!({"cid": "x"}))])
        .await
        .unwrap();
    let lease = a.acquire_lease("p", "worker-a", LONG).await.unwrap();
    assert!(lease.is_some());

    assert_eq!(b.checkpoint("p").await.unwrap(), None);
    assert_eq!(b.count_entries("c").await.unwrap(), 0);
    assert_eq!(
        b.find_by_field("c", "cid", &json!("x")).await.unwrap(),
        None
    );
    assert!(b.leases().await.unwrap().is_empty());
    assert!(
        b.acquire_lease("p", "worker-b", LONG)
            .await
            .unwrap()
            .is_some(),
        "a lease of the same name in another schema is another lease"
    );
    assert_eq!(a.count_entries("c").await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_reopen_and_workers_may_open_at_once() {
    let Some(pg) =
        TestPostgres::for_test("data_survives_a_reopen_and_workers_may_open_at_once").await
    else {
        return;
    };
    let store = Arc::new(pg.builder().connect().await.unwrap());
    store
        .put_entries(vec![CollectionEntry::new(
            "c",
            "1",
            json!({"z": 1, "a": 2}),
        )])
        .await
        .unwrap();
    // A pipeline's run through the store: entries, checkpoint, history.
    let buyers = vec![
        SourceRecord::upsert("b1", json!({"cid": "b1"})),
        SourceRecord::upsert("b2", json!({"cid": "b2"})),
    ];
    let sink = MemorySink::new(10);
    let pipeline = Pipeline::builder("buyers")
        .source(VecSource::new(buyers, 1))
        .map(|r, _ctx| Ok(Some(json!({ "FNumber": r.data["cid"] }))))
        .sink(sink.clone())
        .state(store.clone())
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!((report.read, report.written), (2, 2));
    drop((pipeline, store));

    let reopened = pg.builder().connect().await.unwrap();
    let entry = reopened.entry("c", "1").await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&*entry.data).unwrap(),
        r#"{"z":1,"a":2}"#,
        "the data keep their key order"
    );
    assert_eq!(reopened.count_entries("buyers").await.unwrap(), 2);
    assert!(reopened.checkpoint("buyers").await.unwrap().is_some());
    let runs = reopened.runs("buyers", 0, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Completed);
    assert_eq!(runs[0].report, report);
    let versions = raw(&pg)
        .await
        .query(
            &format!("SELECT version FROM \"{}\".schema_migrations", pg.schema()),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(versions.len(), 1, "each migration is applied once");

    // Workers starting together on a new schema: all open, one migrates.
    let schema = pg.new_schema();
    let opening = (0..6).map(|_| pg.builder().schema(&schema).pool_size(2).connect());
    for opened in futures::future::join_all(opening).await {
        opened.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_leases_and_fence_the_old_holder() {
    let Some(pg) =
        TestPostgres::for_test("two_instances_share_leases_and_fence_the_old_holder").await
    else {
        return;
    };
    // Two pools on one schema: two worker processes.
    let one = pg.builder().connect().await.unwrap();
    let two = pg.builder().connect().await.unwrap();
    let held = one.acquire_lease("p", "worker-1", SHORT).await.unwrap();
    let held = held.expect("a free lease");
    assert_eq!(
        two.acquire_lease("p", "worker-2", LONG).await.unwrap(),
        None,
        "the other worker's lease stands"
    );
    tokio::time::sleep(SHORT * 2).await;
    let taken = two.acquire_lease("p", "worker-2", LONG).await.unwrap();
    let taken = taken.expect("an expired lease is taken over");
    assert!(taken.token > held.token);

    let mut late = Changes::new("p");
    late.checkpoint = Some(Checkpoint(json!("late")));
    late.entries = vec![CollectionEntry::new("p", "k", json!({}))];
    late.fence = Some(held.fence());
    let refused = one.apply(late).await.unwrap_err();
    assert!(refused.is_fenced(), "{refused}");
    assert_eq!(two.checkpoint("p").await.unwrap(), None, "nothing applied");
    assert_eq!(two.count_entries("p").await.unwrap(), 0);
    assert!(one.renew_lease(&held, LONG).await.unwrap_err().is_fenced());

    let mut current = Changes::new("p");
    current.checkpoint = Some(Checkpoint(json!("current")));
    current.fence = Some(taken.fence());
    two.apply(current).await.unwrap();
    assert_eq!(
        one.checkpoint("p").await.unwrap(),
        Some(Checkpoint(json!("current")))
    );

    // A takeover while the old holder keeps writing: once the heir has
    // written, no write of the old holder lands after it.
    let old = one.acquire_lease("race", "worker-1", SHORT).await.unwrap();
    let old = old.expect("a free lease");
    tokio::time::sleep(SHORT * 2).await;
    let zombie = {
        let one = one.clone();
        tokio::spawn(async move {
            for i in 0..1_000 {
                let mut write = Changes::new("race");
                write.checkpoint = Some(Checkpoint(json!(format!("zombie-{i}"))));
                // A long transaction: a wide window for a takeover to race.
                write.entries = (0..2_000)
                    .map(|k| CollectionEntry::new("race", k.to_string(), json!({"i": i})))
                    .collect();
                write.fence = Some(old.fence());
                if let Err(e) = one.apply(write).await {
                    assert!(e.is_fenced(), "{e}");
                    return i;
                }
            }
            panic!("the old holder was never fenced");
        })
    };
    // Taken over once the old holder's writes have begun landing.
    while two.checkpoint("race").await.unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let heir = two.acquire_lease("race", "worker-2", LONG).await.unwrap();
    let mut write = Changes::new("race");
    write.checkpoint = Some(Checkpoint(json!("heir")));
    write.fence = Some(heir.expect("taken over").fence());
    two.apply(write).await.unwrap();
    let zombie_writes = zombie.await.unwrap();
    assert!(
        zombie_writes > 0,
        "the old holder wrote before the takeover"
    );
    assert_eq!(
        one.checkpoint("race").await.unwrap(),
        Some(Checkpoint(json!("heir")))
    );

    // Both create the same field's index at once, several times over.
    one.put_entries(vec![CollectionEntry::new("c", "1", json!({"cid": 7}))])
        .await
        .unwrap();
    let lookups = (0..4).flat_map(|_| {
        [&one, &two].map(|store| async move { store.find_by_field("c", "cid", &json!("7")).await })
    });
    for found in futures::future::join_all(lookups).await {
        assert_eq!(found.unwrap().unwrap().key, "1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_use_an_index_and_survive_nul_characters() {
    let Some(pg) = TestPostgres::for_test("lookups_use_an_index_and_survive_nul_characters").await
    else {
        return;
    };
    let store = pg.builder().connect().await.unwrap();
    store
        .put_entries(vec![
            CollectionEntry::new("c", "plain", json!({"cid": "c-1"})),
            CollectionEntry::new("c", "nul", json!({"cid": "a\u{0}b", "note": "x\u{0}"})),
            CollectionEntry::new("c", "escape", json!({"cid": "a\\u0000b"})),
            CollectionEntry::new("c", "object", json!({"cid": {"a": 1}})),
        ])
        .await
        .unwrap();
    let key = |value: serde_json::Value| {
        let store = &store;
        async move {
            store
                .find_by_field("c", "cid", &value)
                .await
                .unwrap()
                .map(|e| e.key)
        }
    };
    assert_eq!(key(json!("c-1")).await.as_deref(), Some("plain"));
    assert_eq!(key(json!("a\u{0}b")).await.as_deref(), Some("nul"));
    assert_eq!(key(json!("a\\u0000b")).await.as_deref(), Some("escape"));
    assert_eq!(key(json!("a\u{fffd}b")).await, None, "no false match");
    assert_eq!(
        key(json!(r#"{"a": 1}"#)).await,
        None,
        "objects match nothing"
    );
    // Writes go on once the field is indexed, NUL or not.
    store
        .put_entries(vec![CollectionEntry::new(
            "c",
            "later",
            json!({"cid": "\u{0}"}),
        )])
        .await
        .unwrap();
    assert_eq!(key(json!("\u{0}")).await.as_deref(), Some("later"));
    // Searches match as exactly, and page past the candidates they drop.
    let search = |query: EntryQuery, offset: usize| {
        let store = &store;
        async move {
            store
                .search_entries("c", &query.page(offset, 10))
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(EntryQuery::new().field("cid", "a\u{0}b"), 0).await,
        ["nul"]
    );
    assert!(
        search(EntryQuery::new().field("cid", "a\u{fffd}b"), 0)
            .await
            .is_empty(),
        "no false match"
    );
    assert_eq!(
        search(EntryQuery::new().field("cid", "a\\u0000b"), 0).await,
        ["escape"]
    );
    assert!(
        search(EntryQuery::new().key_contains("n\u{0}"), 0)
            .await
            .is_empty(),
        "no key holds a NUL"
    );
    assert_eq!(
        search(EntryQuery::new().key_contains("a"), 1).await,
        ["escape", "plain"],
        "newest first, then by key"
    );

    let client = raw(&pg).await;
    client
        .batch_execute(&format!(
            "SET search_path = \"{}\"; SET enable_seqscan = off",
            pg.schema()
        ))
        .await
        .unwrap();
    let plan = client
        .query(
            r"EXPLAIN SELECT key FROM entries WHERE collection = 'c'
              AND (replace(data, E'\\u0000', E'\\ufffd')::json ->> 'cid') = 'c-1'",
            &[],
        )
        .await
        .unwrap();
    let plan: Vec<String> = plan.iter().map(|r| r.get(0)).collect();
    assert!(
        plan.iter().any(|line| line.contains("entries_by_cid")),
        "{plan:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_rows_are_errors_not_panics() {
    let Some(pg) = TestPostgres::for_test("corrupt_rows_are_errors_not_panics").await else {
        return;
    };
    let store = pg.builder().connect().await.unwrap();
    let client = raw(&pg).await;
    client
        .batch_execute(&format!(
            "SET search_path = \"{}\";
             INSERT INTO entries VALUES ('c', 'json', 'written', NULL, '{{not json', now());
             INSERT INTO entries VALUES ('c', 'status', 'exploded', NULL, '{{}}', now());
             INSERT INTO checkpoints VALUES ('p', '[1,', now());
             INSERT INTO runs VALUES ('r', 'p', now(), true, 'null');
             INSERT INTO leases VALUES ('l', 'w', -5, now(), NULL);
             INSERT INTO dead_letters VALUES ('p', 'k', '{{}}', now());",
            pg.schema()
        ))
        .await
        .unwrap();
    let errors = [
        store.entry("c", "json").await.unwrap_err(),
        store.entry("c", "status").await.unwrap_err(),
        store.checkpoint("p").await.unwrap_err(),
        store.runs("p", 0, 10).await.unwrap_err(),
        store.end_unfinished_runs("p").await.unwrap_err(),
        store.leases().await.unwrap_err(),
        store.acquire_lease("l", "w2", LONG).await.unwrap_err(),
        store.dead_letters("p").await.unwrap_err(),
    ];
    for e in &errors {
        assert!(
            e.to_string().contains("PostgreSQL, "),
            "says which call: {e}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_stay_out_of_debug_and_errors_and_unix_sockets_work() {
    let Some(pg) =
        TestPostgres::for_test("passwords_stay_out_of_debug_and_errors_and_unix_sockets_work")
            .await
    else {
        return;
    };
    let secret = "pw-8c1f2e";
    let with_password = pg
        .url()
        .replacen("postgres@", &format!("postgres:{secret}@"), 1);
    let builder = PostgresStore::builder(&with_password).schema(pg.schema());
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains(secret) && shown.contains(pg.schema()),
        "{shown}"
    );
    // The test server trusts every login, so the password goes unchecked.
    let store = builder.connect().await.unwrap();
    let shown = format!("{store:?}");
    assert!(
        !shown.contains(secret) && shown.contains(pg.schema()),
        "{shown}"
    );

    let nobody = format!(
        "postgres://postgres:{secret}@127.0.0.1:{}/postgres?connect_timeout=5",
        free_port()
    );
    let refused = PostgresStore::connect(&nobody).await.unwrap_err();
    assert!(!refused.to_string().contains(secret), "{refused}");
    assert!(!format!("{refused:?}").contains(secret), "{refused:?}");
    let bad = PostgresStore::connect(&format!("host=x password='{secret}"))
        .await
        .unwrap_err();
    assert!(!format!("{bad:?}").contains(secret), "{bad:?}");

    if let Some(socket) = pg.socket_url() {
        let store = PostgresStore::builder(&socket)
            .schema(pg.schema())
            .connect()
            .await
            .unwrap();
        store
            .set_checkpoint("socket", &Checkpoint(json!(1)))
            .await
            .unwrap();
        let one = pg.builder().connect().await.unwrap();
        assert_eq!(
            one.checkpoint("socket").await.unwrap(),
            Some(Checkpoint(json!(1)))
        );
    }
    let invalid = PostgresStore::builder(pg.url())
        .schema("no-dashes")
        .connect()
        .await
        .unwrap_err();
    assert!(invalid.to_string().contains("schema"), "{invalid}");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
