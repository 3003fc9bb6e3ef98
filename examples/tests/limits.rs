//! Limits: an answer far larger than any real page (50 MB, above the
//! transport's `max_body_bytes`, 32 MiB by default) is rejected with a
//! clear, typed, non-retryable error before it is read into memory; the
//! client keeps working afterwards. Through three connectors' clients
//! against their fakes. See RELIABILITY.md.

#![allow(clippy::unwrap_used)]

use integration_core::ErrorKind;
use integration_core::testing::{Fault, ResponseTemplate};

const FIFTY_MB: usize = 50 * 1024 * 1024;

/// A 50 MB JSON body: an envelope whose list never ends.
fn huge() -> Fault {
    let mut body = Vec::with_capacity(FIFTY_MB + 64);
    body.extend_from_slice(br#"{"code":1,"msg":"ok","result":{"list":["#);
    while body.len() < FIFTY_MB {
        body.extend_from_slice(br#"{"id":1,"name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"#);
    }
    body.extend_from_slice(b"{}]}}");
    Fault::Respond(Box::new(
        ResponseTemplate::new(200).set_body_raw(body, "application/json"),
    ))
}

fn assert_too_large(kind: ErrorKind, retryable: bool, message: &str) {
    assert_eq!(kind, ErrorKind::BodyTooLarge, "{message}");
    assert!(!retryable, "{message}");
    assert!(message.contains("larger than"), "{message}");
}

#[tokio::test]
async fn xbongbong_rejects_a_50_mb_answer() {
    let fake = xbongbong::testing::FakeXbongbong::start().await;
    let client = fake.client();
    fake.faults().inject(huge(), 1);
    let err = client
        .forms()
        .get(xbongbong::testing::CONTRACT_FORM_ID)
        .await
        .unwrap_err();
    assert_too_large(err.kind(), err.is_retryable(), &err.to_string());
    client
        .forms()
        .get(xbongbong::testing::CONTRACT_FORM_ID)
        .await
        .unwrap();
}

#[tokio::test]
async fn kingdee_rejects_a_50_mb_answer() {
    let fake = kingdee_cloud::testing::FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    // The login is answered normally; the query gets the huge page.
    client.query_business_info("BD_Customer").await.unwrap();
    fake.faults().inject(huge(), 1);
    let err = client.query_business_info("BD_Customer").await.unwrap_err();
    assert_too_large(err.kind(), err.is_retryable(), &err.to_string());
    client.query_business_info("BD_Customer").await.unwrap();
}

#[tokio::test]
async fn jackyun_rejects_a_50_mb_answer() {
    let fake = jackyun::testing::FakeJackyun::start().await;
    let client = fake.client();
    fake.faults().inject(huge(), 1);
    let err = client
        .warehouses()
        .list(&jackyun::WarehouseQuery::new(50))
        .await
        .unwrap_err();
    assert_too_large(err.kind(), err.is_retryable(), &err.to_string());
    client
        .warehouses()
        .list(&jackyun::WarehouseQuery::new(50))
        .await
        .unwrap();
}
