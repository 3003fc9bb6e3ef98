//! Source and Sink roles against the fake.

use std::collections::BTreeSet;
use std::time::Duration;

use integration_core::{
    Change, Checkpoint, ErrorKind, Op, Sink, SinkRecord, Source, SourceRecord, WriteOutcome,
};
use jackyun::customer::NewCustomer;
use jackyun::testing::{self, FakeJackyun};
use jackyun::{CustomerSink, CustomerSource, GoodsSource, OnExisting, TradeSource};

async fn drain<S: Source>(
    source: &S,
    checkpoint: Option<&Checkpoint>,
) -> (Vec<SourceRecord<S::Item>>, Option<Checkpoint>, usize)
where
    S::Item: Clone,
{
    let (mut all, mut last_cp, mut cursor, mut pages) = (Vec::new(), None, None, 0);
    loop {
        let page = source.read(checkpoint, cursor).await.expect("page");
        pages += 1;
        all.extend(page.records);
        if page.checkpoint.is_some() {
            last_cp = page.checkpoint;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    (all, last_cp, pages)
}

#[tokio::test]
async fn trade_source_reads_everything_then_only_changes() {
    let fake = FakeJackyun::start().await;
    let now = chrono::Utc::now();
    fake.seed(0, 0, 40, now);
    let source = TradeSource::new(fake.client())
        .first_run_lookback(chrono::Duration::days(150))
        .page_size(4);
    let (records, cp, pages) = drain(&source, None).await;
    let keys: BTreeSet<String> = records.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), 40);
    assert!(pages >= 3);
    let cp = cp.expect("checkpoint at the end");
    assert!((cp.as_time().unwrap() - now).num_seconds().abs() < 5);

    // Nothing changed: only the overlap is read again (nothing in it).
    let (again, _, _) = drain(&source, Some(&cp)).await;
    assert!(again.is_empty());

    // One trade changes: the next run reads exactly it.
    let changed_key = {
        let mut state = fake.state();
        let trade = &mut state.trades[7];
        trade["gmtModified"] = integration_core::types::BeijingTime::from_utc(chrono::Utc::now())
            .to_string()
            .into();
        trade["tradeId"].as_str().unwrap().to_owned()
    };
    let (changed, cp2, _) = drain(&source, Some(&cp)).await;
    assert_eq!(
        changed.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        vec![changed_key.as_str()]
    );
    assert!(cp2.unwrap().as_time() >= cp.as_time());
}

#[tokio::test]
async fn goods_source_pages_by_sku_and_surfaces_deletes() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 9, 0, chrono::Utc::now());
    let source = GoodsSource::new(fake.client())
        .page_size(2)
        .overlap(Duration::from_secs(60));
    let (records, cp, pages) = drain(&source, None).await;
    assert_eq!(records.len(), 9);
    assert_eq!(pages, 6, "5 pages of data and the empty end page");
    let cp = cp.unwrap();

    {
        let mut state = fake.state();
        let t = (chrono::Utc::now() - chrono::Duration::seconds(5)).timestamp_millis();
        state.goods[2]["skuGmtModified"] = t.into();
        state.goods[4]["skuGmtModified"] = t.into();
        state.goods[4]["isDelete"] = 1.into();
    }
    let (changed, _, _) = drain(&source, Some(&cp)).await;
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[0].op, Op::Upsert);
    assert_eq!(changed[1].op, Op::Delete);
}

fn record(code: &str, name: &str) -> SinkRecord<NewCustomer> {
    SinkRecord {
        key: format!("jdy-{code}"),
        op: Op::Upsert,
        data: NewCustomer::new(code, name),
    }
}

#[tokio::test]
async fn customer_sink_is_idempotent_and_reports_per_record() {
    let fake = FakeJackyun::start().await;
    fake.state().reject_codes.insert("KH20002".into());
    let sink = CustomerSink::new(fake.client());
    assert_eq!(sink.max_batch_size(), 1);
    let batch = vec![
        record("KH20001", "苏州工业园区恒达电子有限公司"),
        record("KH20002", "成都武侯川味食品厂"),
        record("KH20003", "厦门思明海韵茶业"),
        record("", "没有编号的客户"),
        SinkRecord {
            op: Op::Delete,
            ..record("KH20004", "删除")
        },
    ];
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(outcomes.len(), batch.len());
    let ids: Vec<Option<String>> = outcomes
        .iter()
        .map(|o| match o {
            WriteOutcome::Written { target_id, .. } => target_id.clone(),
            _ => None,
        })
        .collect();
    assert!(ids[0].is_some() && ids[2].is_some());
    match &outcomes[1] {
        WriteOutcome::Failed(e) => {
            assert!(!e.retryable);
            assert_eq!(e.code.as_deref(), Some("0050030002"));
            assert!(e.message.contains("KH20002"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&outcomes[3], WriteOutcome::Failed(e) if !e.retryable));
    assert!(matches!(&outcomes[4], WriteOutcome::Skipped { .. }));
    assert_eq!(fake.state().customers().len(), 2);

    // A rerun adds nothing and reports the same ids.
    fake.state().reject_codes.clear();
    let again = sink.write(&batch[..3]).await.unwrap();
    assert_eq!(
        fake.state().customers().len(),
        3,
        "only the previously rejected one is added"
    );
    assert_eq!(
        again[0],
        WriteOutcome::written_as(Change::Unknown, ids[0].clone())
    );
    assert_eq!(
        again[2],
        WriteOutcome::written_as(Change::Unknown, ids[2].clone())
    );
    let adds = fake
        .state()
        .calls
        .iter()
        .filter(|m| *m == "crm.customer.add")
        .count();
    assert_eq!(
        adds, 4,
        "3 adds in the first run (one rejected), 1 in the second"
    );

    let skip = CustomerSink::new(fake.client()).on_existing(OnExisting::Skip);
    assert!(matches!(
        &skip.write(&batch[..1]).await.unwrap()[0],
        WriteOutcome::Skipped { .. }
    ));
}

#[tokio::test]
async fn customer_sink_fails_the_batch_on_bad_credentials_and_retries_throttling() {
    let fake = FakeJackyun::start().await;
    let bad = CustomerSink::new(
        fake.client_builder()
            .app(testing::APPKEY, "nope")
            .build()
            .unwrap(),
    );
    let err = bad
        .write(&[record("KH30001", "杭州西湖龙井茶庄")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code(), Some("0858030801"));

    fake.faults()
        .inject(integration_core::testing::Fault::Throttled, 2);
    let sink = CustomerSink::new(fake.client());
    let out = sink
        .write(&[record("KH30001", "杭州西湖龙井茶庄")])
        .await
        .unwrap();
    assert!(matches!(
        &out[0],
        WriteOutcome::Written {
            target_id: Some(_),
            ..
        }
    ));

    // Throttled beyond the retry budget: a retryable per-record failure.
    fake.faults()
        .inject(integration_core::testing::Fault::Throttled, 20);
    let out = sink
        .write(&[record("KH30002", "上海浦东鑫源贸易")])
        .await
        .unwrap();
    assert!(matches!(&out[0], WriteOutcome::Failed(e) if e.retryable));
    fake.faults().clear();
}

#[tokio::test]
async fn customer_source_reads_everything_then_only_changes() {
    let fake = FakeJackyun::start().await;
    fake.seed(7, 0, 0, chrono::Utc::now());
    let source = CustomerSource::new(fake.client())
        .page_size(3)
        .overlap(Duration::from_secs(60));
    let (records, cp, pages) = drain(&source, None).await;
    let keys: BTreeSet<String> = records.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), 7);
    assert_eq!(pages, 4, "3 pages of data and the empty end page");
    assert!(records.iter().all(|r| r.op == Op::Upsert));
    let cp = cp.expect("checkpoint at the end");
    assert!(
        (cp.as_time().unwrap() - chrono::Utc::now())
            .num_seconds()
            .abs()
            < 5
    );

    // Nothing changed since: nothing is read.
    let (again, _, _) = drain(&source, Some(&cp)).await;
    assert!(again.is_empty());

    // A new customer, a changed one and a deleted one are read, only them.
    CustomerSink::new(fake.client())
        .write(&[record("KH40001", "青岛海纳医疗器械有限公司")])
        .await
        .unwrap();
    let (changed, deleted) = {
        let mut state = fake.state();
        let t = integration_core::types::BeijingTime::from_utc(
            chrono::Utc::now() - chrono::Duration::seconds(5),
        )
        .to_string();
        let rows = state.customers_mut();
        rows[1]["gmtModified"] = t.clone().into();
        rows[4]["gmtModified"] = t.into();
        rows[4]["isDelete"] = 1.into();
        (
            rows[1]["customerId"].as_str().unwrap().to_owned(),
            rows[4]["customerId"].as_str().unwrap().to_owned(),
        )
    };
    let (read, cp2, _) = drain(&source, Some(&cp)).await;
    assert_eq!(read.len(), 3, "{read:?}");
    assert!(read.iter().any(|r| r.key == changed && r.op == Op::Upsert));
    assert!(read.iter().any(|r| r.key == deleted && r.op == Op::Delete));
    assert!(
        read.iter()
            .any(|r| r.data.customer_code.as_deref() == Some("KH40001"))
    );
    assert!(cp2.unwrap().as_time() >= cp.as_time());

    // The filter sent is the checkpoint minus the overlap, to the read's start.
    let sent: Vec<serde_json::Value> = fake
        .received()
        .await
        .iter()
        .map(integration_core::testing::form_pairs)
        .filter(|f| {
            f.iter()
                .any(|(k, v)| k == "method" && v == "crm.customer.list.customized")
        })
        .map(|f| {
            let biz = f.into_iter().find(|(k, _)| k == "bizcontent").unwrap().1;
            serde_json::from_str(&biz).unwrap()
        })
        .collect();
    let last = sent.last().unwrap();
    let begin =
        integration_core::types::BeijingTime::parse(last["gmtModifiedBegin"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        begin.to_utc(),
        cp.as_time().unwrap() - chrono::Duration::seconds(60)
    );
    assert!(last["gmtModifiedEnd"].is_string());
}
