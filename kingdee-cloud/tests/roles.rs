//! Sink and Source roles, with the acceptance scenarios.

use std::collections::HashSet;
use std::time::Duration;

use integration_core::testing::Fault;
use integration_core::{Checkpoint, Op, Sink, SinkRecord, Source, WriteOutcome};
use kingdee_cloud::sink::{CustomerSink, JsonFormSink, SaleOrderSink};
use kingdee_cloud::source::{FormSource, FormSourceConfig};
use kingdee_cloud::testing::FakeK3Cloud;
use kingdee_cloud::{BaseDataRef, Customer, SaleOrder, SaleOrderEntry, SaveOptions};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

fn customers(n: usize, prefix: &str) -> Vec<SinkRecord<Customer>> {
    (0..n)
        .map(|i| SinkRecord {
            key: format!("huke-{i}"),
            op: Op::Upsert,
            data: Customer {
                number: Some(format!("{prefix}{i:04}")),
                name: Some(format!("深圳博远物流有限公司{i}")),
                create_org: Some(BaseDataRef::number("100")),
                use_org: Some(BaseDataRef::number("100")),
                description: Some(format!("互客客户 {i}")),
                ..Customer::default()
            },
        })
        .collect()
}

fn counts(outcomes: &[WriteOutcome]) -> (usize, usize) {
    let written = outcomes
        .iter()
        .filter(|o| matches!(o, WriteOutcome::Written { .. }))
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, WriteOutcome::Failed(_)))
        .count();
    (written, failed)
}

#[tokio::test]
async fn batch_of_250_with_3_invalid_writes_247_and_reports_kingdee_messages() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let sink = CustomerSink::new(client).batch_size(100).options(
        SaveOptions::new()
            .is_auto_submit_and_audit(true)
            .is_verify_base_data_field(false),
    );
    let mut batch = customers(250, "HK");
    batch[7].data.name = None;
    batch[120].data.create_org = None;
    batch[249].data.name = Some("  ".into());
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(outcomes.len(), 250);
    assert_eq!(counts(&outcomes), (247, 3));
    for i in [7, 120, 249] {
        let WriteOutcome::Failed(e) = &outcomes[i] else {
            panic!("{i}: {:?}", outcomes[i])
        };
        assert!(!e.retryable);
        let expected = if i == 120 {
            "字段“创建组织”是必填项"
        } else {
            "字段“客户名称”是必填项"
        };
        assert_eq!(e.message, expected);
    }
    assert_eq!(fake.records("BD_Customer").len(), 247);
    assert!(
        fake.records("BD_Customer")
            .iter()
            .all(|r| r["FDocumentStatus"] == "C")
    );
    let sent: Vec<usize> = fake
        .received_on("BatchSave")
        .await
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["Model"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sent, vec![100, 100, 50]);
    // Written outcomes carry the internal id.
    let WriteOutcome::Written {
        target_id: Some(id),
        ..
    } = &outcomes[0]
    else {
        panic!()
    };
    assert!(id.parse::<i64>().is_ok());
}

#[tokio::test]
async fn models_rejected_inside_a_successful_batch_answer_fail_alone() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let sink = CustomerSink::new(client).batch_size(100);
    fake.reject_models(7, 0.2);
    let outcomes = sink.write(&customers(200, "RJ")).await.unwrap();
    let rejected = fake.rejected_models() as usize;
    assert!((10..=70).contains(&rejected), "{rejected} of 200 rejected");
    assert_eq!(counts(&outcomes), (200 - rejected, rejected));
    let stored: HashSet<String> = fake
        .records("BD_Customer")
        .iter()
        .map(|r| r["FNumber"].as_str().unwrap().to_owned())
        .collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        let number = format!("RJ{i:04}");
        match outcome {
            WriteOutcome::Written { .. } => assert!(stored.contains(&number), "{number}"),
            WriteOutcome::Failed(e) => {
                assert!(
                    !stored.contains(&number),
                    "{number} was rejected but stored"
                );
                assert!(e.message.contains("随机拒绝"), "{}", e.message);
            }
            other => panic!("{number}: {other:?}"),
        }
    }

    // Without rejections, writing the batch again adds the rest and
    // updates the others (by number): 200 customers, none twice.
    fake.reject_models(0, 0.0);
    let again = sink.write(&customers(200, "RJ")).await.unwrap();
    assert_eq!(counts(&again), (200, 0));
    assert_eq!(fake.records("BD_Customer").len(), 200);
}

/// A BatchSave whose answer comes after the client's timeout was applied
/// all the same; the transport sends it again, and Kingdee refuses every
/// create as a duplicate number. The sink looks those numbers up again and
/// updates them: every record is written, none twice.
#[tokio::test]
async fn a_save_sent_again_after_a_timeout_is_written_not_refused() {
    let fake = FakeK3Cloud::start().await;
    let client = fake
        .client_builder()
        .timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap();
    let sink = CustomerSink::new(client).batch_size(100);
    fake.faults()
        .inject_on("BatchSave", Fault::Delay(Duration::from_millis(700)), 1);
    let outcomes = sink.write(&customers(40, "TO")).await.unwrap();
    assert_eq!(counts(&outcomes), (40, 0), "{:?}", outcomes.first());
    assert_eq!(fake.records("BD_Customer").len(), 40);
    let saves = fake.received_on("BatchSave").await.len();
    assert_eq!(saves, 3, "the late one, the one sent again, the updates");
}

#[tokio::test]
async fn session_lost_mid_run_loses_and_duplicates_nothing() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.password_client_builder().build().unwrap();
    let sink = CustomerSink::new(client).batch_size(50);
    let all = customers(250, "SL");
    let mut outcomes = Vec::new();
    for (n, chunk) in all.chunks(100).enumerate() {
        if n == 1 {
            fake.expire_sessions();
        }
        if n == 2 {
            // Lost again, this time on a BatchSave itself (nothing saved by that call).
            fake.faults().inject_on("BatchSave", Fault::AuthExpired, 1);
        }
        outcomes.extend(sink.write(chunk).await.unwrap());
    }
    assert_eq!(counts(&outcomes), (250, 0));
    let stored = fake.records("BD_Customer");
    let numbers: HashSet<&str> = stored
        .iter()
        .map(|r| r["FNumber"].as_str().unwrap())
        .collect();
    assert_eq!((stored.len(), numbers.len()), (250, 250));
    assert_eq!(fake.state().logins, 3);
    // Replaying the whole run (as after a crash) updates, never duplicates.
    let again = sink.write(&all[..120]).await.unwrap();
    assert_eq!(counts(&again), (120, 0));
    assert_eq!(fake.records("BD_Customer").len(), 250);
}

#[tokio::test]
async fn upsert_updates_existing_numbers_and_repeated_numbers_in_a_batch() {
    let fake = FakeK3Cloud::start().await;
    let seeded = fake.seed_customers(3);
    let client = fake.client_builder().build().unwrap();
    let sink = CustomerSink::new(client).batch_size(10);
    let mut batch = customers(2, "NEW");
    let mut update = customers(1, "X").remove(0);
    update.data.number = Some(seeded[1].clone());
    update.data.name = Some("北京华信科技有限公司(更名)".into());
    let mut repeated = update.clone();
    repeated.data.name = Some("北京华信科技有限公司(再次更名)".into());
    batch.push(update);
    batch.push(repeated);
    batch.push(SinkRecord {
        key: "gone".into(),
        op: Op::Delete,
        data: Customer::default(),
    });
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(counts(&outcomes), (4, 0));
    assert!(matches!(outcomes[4], WriteOutcome::Skipped { .. }));
    let stored = fake.records("BD_Customer");
    assert_eq!(stored.len(), 5);
    let updated = stored
        .iter()
        .find(|r| r["FNumber"] == seeded[1].as_str())
        .unwrap();
    assert_eq!(updated["FName"], "北京华信科技有限公司(再次更名)");
}

#[tokio::test]
async fn huke_style_json_sink_and_sale_order_sink() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let sink = JsonFormSink::json(client.clone(), "BD_Customer", "FCUSTID", "FNumber").options(
        SaveOptions::new()
            .is_auto_submit_and_audit(true)
            .is_verify_base_data_field(false),
    );
    let mapped = |cid: &str, nick: &str| SinkRecord {
        key: cid.to_owned(),
        op: Op::Upsert,
        data: json!({"FName": nick, "FNumber": cid, "FCreateOrgId": {"FNumber": "100"},
            "FUseOrgId": {"FNumber": "100"}, "FDescription": "唯一ID-8842", "F_PAEZ_Source": "huke"}),
    };
    let outcomes = sink
        .write(&[mapped("cid-1", "王小明"), mapped("cid-2", "李娜")])
        .await
        .unwrap();
    assert_eq!(counts(&outcomes), (2, 0));
    assert_eq!(fake.records("BD_Customer")[0]["F_PAEZ_Source"], "huke");

    let orders = SaleOrderSink::new(client);
    let order = |no: &str| SinkRecord {
        key: no.to_owned(),
        op: Op::Upsert,
        data: SaleOrder {
            bill_no: Some(no.to_owned()),
            bill_type: Some("XSDD01_SYS".into()),
            date: integration_core::types::BeijingTime::parse("2026-02-01 00:00:00"),
            sale_org: Some("100".into()),
            customer: Some("cid-1".into()),
            entries: vec![SaleOrderEntry {
                material: Some("M001".into()),
                qty: Some(Decimal::new(2, 0)),
                tax_price: Some(Decimal::new(5650, 2)),
                tax_rate: Some(Decimal::new(13, 0)),
                ..SaleOrderEntry::default()
            }],
            ..SaleOrder::default()
        },
    };
    let mut bad = order("XBB-3");
    bad.data.customer = None;
    let outcomes = orders
        .write(&[order("XBB-1"), order("XBB-2"), bad])
        .await
        .unwrap();
    assert_eq!(counts(&outcomes), (2, 1));
    let WriteOutcome::Failed(e) = &outcomes[2] else {
        panic!()
    };
    assert_eq!(e.message, "字段“客户”是必填项");
    // Written again: updated, lines replaced, nothing duplicated.
    let outcomes = orders.write(&[order("XBB-1")]).await.unwrap();
    assert_eq!(counts(&outcomes), (1, 0));
    let stored = fake.records("SAL_SaleOrder");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["FSaleOrderEntry"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn whole_batch_failure_is_an_error_for_the_pipeline() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let sink = CustomerSink::new(client);
    fake.faults().inject(Fault::ServerError(502), 10);
    let err = sink.write(&customers(3, "E")).await.unwrap_err();
    assert!(err.is_retryable());
    assert!(fake.records("BD_Customer").is_empty());
}

#[tokio::test]
async fn source_reads_pages_and_then_only_changes() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(25);
    let client = fake.client_builder().build().unwrap();
    let mut config = FormSourceConfig::new(
        "BD_Customer",
        "FNumber",
        ["FNumber", "FName", "FCreateOrgId.FNumber"],
    );
    config.page_size = 10;
    config.overlap = Duration::from_secs(600);
    let source: FormSource = FormSource::new(client.clone(), config);

    let mut keys = Vec::new();
    let mut cursor = None;
    let mut checkpoint = None;
    let mut pages = 0;
    loop {
        let page = source.read(None, cursor).await.unwrap();
        pages += 1;
        keys.extend(page.records.iter().map(|r| r.key.clone()));
        checkpoint = page.checkpoint.or(checkpoint);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(keys.len(), 25);
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 25);
    let checkpoint: Checkpoint = checkpoint.unwrap();
    assert!(checkpoint.as_time().unwrap() < chrono::Utc::now());

    // Nothing changed: an incremental read returns only the overlap (the
    // newest record sits at the checkpoint itself).
    let page = source.read(Some(&checkpoint), None).await.unwrap();
    let again: Vec<&str> = page.records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(again, vec![keys.last().unwrap().as_str()]);

    // One change: only it comes back, with its row decoded by field key.
    let changed = serde_json::json!({"FCUSTID": fake.records("BD_Customer")[4]["FCUSTID"], "FName": "成都瑞丰食品有限公司(新)"});
    client
        .save(
            "BD_Customer",
            &changed,
            &SaveOptions::new().need_update_fields(["FName"]),
        )
        .await
        .unwrap();
    let page = source.read(Some(&checkpoint), None).await.unwrap();
    assert_eq!(page.records.len(), 2, "the overlap record and the change");
    assert_eq!(page.records[1].key, "C00005");
    let record: &Map<String, Value> = &page.records[1].data;
    assert_eq!(record["FName"], "成都瑞丰食品有限公司(新)");
    assert_eq!(record["FCreateOrgId.FNumber"], "100");
    assert!(page.checkpoint.unwrap().as_time().unwrap() > checkpoint.as_time().unwrap());
    let body: Value = serde_json::from_slice(
        &fake
            .received_on("ExecuteBillQuery")
            .await
            .pop()
            .unwrap()
            .body,
    )
    .unwrap();
    assert!(
        body["data"]["FilterString"]
            .as_str()
            .unwrap()
            .starts_with("FModifyDate >= '")
    );
}

/// The acceptance scenario through a real pipeline: the 3 invalid customers
/// end in the dead letters with Kingdee's own messages, the 247 others in
/// K/3 Cloud, and a session lost mid-run costs nothing.
#[tokio::test]
async fn through_a_pipeline_247_are_written_and_3_dead_lettered_across_a_lost_session() {
    use integration_core::memory::VecSource;
    use integration_core::{MapContext, MapError, MemoryStore, Pipeline, SourceRecord, StateStore};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    let fake = Arc::new(FakeK3Cloud::start().await);
    let client = fake.password_client_builder().build().unwrap();
    let mut records: Vec<SourceRecord<Customer>> = customers(250, "PL")
        .into_iter()
        .map(|r| SourceRecord::upsert(r.key, r.data))
        .collect();
    records[7].data.name = None;
    records[120].data.create_org = None;
    records[249].data.name = Some("  ".into());
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("huke-to-kingdee")
        .source(VecSource::new(records, 60))
        .mapper(|r: &SourceRecord<Customer>, _: &MapContext| {
            Ok::<_, MapError>(Some(r.data.clone()))
        })
        .sink(CustomerSink::new(client).batch_size(100))
        .state(state.clone())
        .concurrency(1)
        .hooks(ExpireAfterFirstWrite(
            Arc::clone(&fake),
            AtomicBool::new(false),
        ))
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!(
        (report.written, report.dead_lettered, report.unaccounted()),
        (247, 3, 0)
    );
    let letters = state.dead_letters("huke-to-kingdee").await.unwrap();
    // Refused as a real site refuses them: MsgCode 11, validation failed.
    assert!(
        letters.iter().all(|l| l.code.as_deref() == Some("11")),
        "{letters:?}"
    );
    let mut messages: Vec<(String, String)> = letters
        .iter()
        .map(|l| (l.key.clone(), l.error.clone()))
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        vec![
            ("huke-120".to_string(), "字段“创建组织”是必填项".to_string()),
            ("huke-249".to_string(), "字段“客户名称”是必填项".to_string()),
            ("huke-7".to_string(), "字段“客户名称”是必填项".to_string()),
        ]
    );
    let stored = fake.records("BD_Customer");
    let numbers: HashSet<&str> = stored
        .iter()
        .filter_map(|r| r["FNumber"].as_str())
        .collect();
    assert_eq!(
        (stored.len(), numbers.len()),
        (247, 247),
        "nothing lost, nothing duplicated"
    );
}

/// Expires the fake's sessions after the first batch is written, so the
/// next BatchSave meets a lost session.
struct ExpireAfterFirstWrite(std::sync::Arc<FakeK3Cloud>, std::sync::atomic::AtomicBool);

#[async_trait::async_trait]
impl integration_core::Hooks<Customer, Customer> for ExpireAfterFirstWrite {
    async fn after_write(&self, _: &[SinkRecord<Customer>], _: &[WriteOutcome]) {
        if !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.0.expire_sessions();
        }
    }
}

/// A record another user is editing (网控冲突, `MsgCode` 13) fails
/// retryably while the rest of its batch is saved, and is written once the
/// lock is gone.
#[tokio::test]
async fn a_locked_record_fails_retryably_and_is_written_once_released() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let sink = CustomerSink::new(client);
    fake.lock_number("BD_Customer", "LK0001");
    let outcomes = sink.write(&customers(3, "LK")).await.unwrap();
    assert_eq!(counts(&outcomes), (2, 1));
    let WriteOutcome::Failed(e) = &outcomes[1] else {
        panic!("{outcomes:?}")
    };
    assert!(e.retryable, "{e:?}");
    assert_eq!(e.code.as_deref(), Some("13"));
    assert!(e.message.contains("网控冲突"), "{}", e.message);
    fake.unlock_all();
    let outcomes = sink.write(&customers(3, "LK")).await.unwrap();
    assert_eq!(counts(&outcomes), (3, 0));
    assert_eq!(fake.records("BD_Customer").len(), 3);
}

/// Through a pipeline: the locked record is tried again alone after a
/// backoff and written when the lock is released; nothing is
/// dead-lettered.
#[tokio::test]
async fn through_a_pipeline_a_released_lock_costs_no_record() {
    use integration_core::memory::VecSource;
    use integration_core::{
        MapContext, MapError, MemoryStore, Pipeline, RetryPolicy, SourceRecord, StateStore,
    };
    use std::sync::Arc;

    struct UnlockAfterFirstWrite(Arc<FakeK3Cloud>);
    #[async_trait::async_trait]
    impl integration_core::Hooks<Customer, Customer> for UnlockAfterFirstWrite {
        async fn after_write(&self, _: &[SinkRecord<Customer>], _: &[WriteOutcome]) {
            self.0.unlock_all();
        }
    }

    let fake = Arc::new(FakeK3Cloud::start().await);
    fake.lock_number("BD_Customer", "PL0004");
    let client = fake.client_builder().build().unwrap();
    let records: Vec<SourceRecord<Customer>> = customers(10, "PL")
        .into_iter()
        .map(|r| SourceRecord::upsert(r.key, r.data))
        .collect();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("locked")
        .source(VecSource::new(records, 10))
        .mapper(|r: &SourceRecord<Customer>, _: &MapContext| {
            Ok::<_, MapError>(Some(r.data.clone()))
        })
        .sink(CustomerSink::new(client))
        .state(state.clone())
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .hooks(UnlockAfterFirstWrite(Arc::clone(&fake)))
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!(
        (report.written, report.retried, report.dead_lettered),
        (10, 1, 0)
    );
    assert!(state.dead_letters("locked").await.unwrap().is_empty());
    assert_eq!(fake.records("BD_Customer").len(), 10);
}

/// A licence failure (`MsgCode` 7) refuses every call: the run stops with
/// a message that says so, dead-letters nothing and keeps its checkpoint.
#[tokio::test]
async fn a_licence_error_stops_the_run_and_says_why() {
    use integration_core::memory::VecSource;
    use integration_core::pipeline::RunErrorCause;
    use integration_core::{
        ErrorKind, MapContext, MapError, MemoryStore, Pipeline, SourceRecord, StateStore,
    };
    use std::sync::Arc;

    let fake = FakeK3Cloud::start().await;
    fake.set_licence_expired(true);
    let client = fake.client_builder().build().unwrap();
    let records: Vec<SourceRecord<Customer>> = customers(5, "LC")
        .into_iter()
        .map(|r| SourceRecord::upsert(r.key, r.data))
        .collect();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("k3-customers")
        .source(VecSource::new(records, 5))
        .mapper(|r: &SourceRecord<Customer>, _: &MapContext| {
            Ok::<_, MapError>(Some(r.data.clone()))
        })
        .sink(CustomerSink::new(client))
        .state(state.clone())
        .build()
        .unwrap();
    let err = pipeline.run().await.unwrap_err();
    let RunErrorCause::Write(cause) = &err.cause else {
        panic!("{err}")
    };
    assert_eq!(cause.kind(), ErrorKind::Auth);
    assert!(
        err.to_string()
            .contains("许可错误, licence error: 当前产品许可已过期"),
        "{err}"
    );
    assert_eq!(err.report.dead_lettered, 0);
    assert!(state.dead_letters("k3-customers").await.unwrap().is_empty());
    assert!(state.checkpoint("k3-customers").await.unwrap().is_none());
}
