//! The purchase inbound Source and the save Sinks against the fake.

use std::time::Duration;

use integration_core::{Op, Sink, SinkRecord, Source, WriteOutcome};
use jdy::model::{Customer, Material};
use jdy::sink::{CustomerSink, MaterialSink};
use jdy::source::PurInboundSource;
use jdy::testing::FakeJdy;
use serde_json::json;

async fn read_all<S: Source>(
    source: &S,
    checkpoint: Option<&integration_core::Checkpoint>,
) -> (
    Vec<integration_core::SourceRecord<S::Item>>,
    Option<integration_core::Checkpoint>,
    usize,
) {
    let mut cursor = None;
    let mut records = Vec::new();
    let mut pages = 0;
    loop {
        let page = source.read(checkpoint, cursor).await.expect("a page");
        pages += 1;
        records.extend(page.records);
        match page.next {
            Some(next) => {
                assert!(page.checkpoint.is_none());
                cursor = Some(next);
            }
            None => return (records, page.checkpoint, pages),
        }
    }
}

#[tokio::test]
async fn v2_source_lists_then_reads_details_and_is_incremental() {
    let fake = FakeJdy::start().await;
    fake.seed(23, 3);
    let query = jdy::query::BillQuery {
        page_size: Some(10),
        ..Default::default()
    };
    let source = PurInboundSource::new(fake.v2_client())
        .query(query)
        .detail_concurrency(3)
        .overlap(Duration::from_secs(60));
    let (records, checkpoint, pages) = read_all(&source, None).await;
    assert_eq!((records.len(), pages), (23, 3));
    assert!(
        records
            .iter()
            .all(|r| !r.data.material_entity.is_empty() && r.key == r.data.id.to_string())
    );
    assert_eq!(fake.received_on("pur_inbound_detail").await.len(), 23);
    let max = fake
        .state()
        .pur_inbound
        .iter()
        .map(|b| b["modify_time"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    let checkpoint = checkpoint.unwrap();
    assert_eq!(
        integration_core::types::BeijingTime::from_utc(checkpoint.as_time().unwrap()).to_string(),
        max
    );

    // Nothing changed: only the overlap window is read again.
    let (again, _, _) = read_all(&source, Some(&checkpoint)).await;
    assert!(again.len() <= 1, "{}", again.len());
    // A bill changes and a new one arrives: both are read next time.
    let touched = fake.state().pur_inbound[5]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fake.touch_pur_inbound(&touched);
    let new_id = fake.insert_pur_inbound(json!({
        "bill_no": "CGRK202607010001", "bill_date": "2026-07-01", "bill_status": "Z",
        "supplier_name": "宁波恒达塑胶有限公司", "total_amount": "880.00",
        "material_entity": [{"material_number": "SP00002", "material_name": "PP塑料周转箱", "qty": "20", "price": "44.00"}]
    }));
    let (changed, next_cp, _) = read_all(&source, Some(&checkpoint)).await;
    let keys: Vec<&str> = changed.iter().map(|r| r.key.as_str()).collect();
    assert!(
        keys.contains(&touched.as_str()) && keys.contains(&new_id.as_str()),
        "{keys:?}"
    );
    assert!(next_cp.unwrap().as_time() > checkpoint.as_time());
}

#[tokio::test]
async fn v1_source_uses_the_lines_of_the_list() {
    let fake = FakeJdy::start().await;
    fake.seed(12, 5);
    let source = PurInboundSource::new(fake.v1_client());
    let (records, checkpoint, pages) = read_all(&source, None).await;
    assert_eq!((records.len(), pages), (12, 1));
    assert!(checkpoint.is_some());
    assert!(fake.received_on("pur_inbound_detail").await.is_empty());
    let body: serde_json::Value =
        serde_json::from_slice(&fake.received_on("pur_inbound_list").await[0].body).unwrap();
    assert_eq!(body["begintime"], -1);
    assert!(body["expiretime"].as_i64().unwrap() > 0);
}

fn record<T>(key: &str, data: T) -> SinkRecord<T> {
    SinkRecord {
        key: key.into(),
        op: Op::Upsert,
        data,
    }
}

#[tokio::test]
async fn customer_sink_partial_failure_and_idempotent_upsert() {
    let fake = FakeJdy::start().await;
    fake.seed(2, 1);
    let sink = CustomerSink::customers(fake.v2_client());
    let batch = vec![
        record(
            "a",
            Customer::new("KH8001", "厦门鹭岛贸易有限公司")
                .with("address", "厦门市思明区湖滨南路1号"),
        ),
        record("b", Customer::new("KH8002", "")),
        record("c", Customer::new("KH8003", "长沙湘江建材有限公司")),
    ];
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(matches!(
        &outcomes[0],
        WriteOutcome::Written {
            target_id: Some(_),
            ..
        }
    ));
    match &outcomes[1] {
        WriteOutcome::Failed(e) => {
            assert!(!e.retryable);
            assert_eq!(
                e.code.as_deref(),
                Some(jdy::testing::codes::VALIDATION.to_string().as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&outcomes[2], WriteOutcome::Written { .. }));
    let before = fake.state().customers.len();
    // Writing the same numbers again updates instead of duplicating.
    let again = sink
        .write(&[record(
            "a",
            Customer::new("KH8001", "厦门鹭岛贸易有限公司(更名)"),
        )])
        .await
        .unwrap();
    assert_eq!(again[0], outcomes[0]);
    assert_eq!(fake.state().customers.len(), before);
    assert!(
        fake.state()
            .customers
            .iter()
            .any(|c| c["name"] == "厦门鹭岛贸易有限公司(更名)")
    );
}

#[tokio::test]
async fn material_sink_and_whole_batch_auth_failure() {
    let fake = FakeJdy::start().await;
    let sink = MaterialSink::materials(fake.v2_client());
    let outcomes = sink
        .write(&[record(
            "m1",
            Material::new("SP8001", "碳钢法兰").with("model", "DN50 PN16"),
        )])
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], WriteOutcome::Written { .. }));
    assert_eq!(fake.state().materials[0]["model"], "DN50 PN16");
    let bad = fake
        .client_builder()
        .credentials(jdy::V2Credentials::new(
            jdy::testing::CLIENT_ID,
            "wrong",
            jdy::testing::OUTER_INSTANCE_ID,
        ))
        .build()
        .unwrap();
    let err = MaterialSink::materials(bad)
        .write(&[record("m2", Material::new("SP8002", "垫片"))])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), integration_core::ErrorKind::Auth);
    // V1 documents no material save: a permanent per-record failure.
    let v1 = MaterialSink::materials(fake.v1_client());
    let outcomes = v1
        .write(&[record("m3", Material::new("SP8003", "密封圈"))])
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], WriteOutcome::Failed(e) if !e.retryable));
}
