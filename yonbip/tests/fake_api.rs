//! End-to-end tests of the client against the fake YonBIP server.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use integration_core::testing::{Fault, ResponseTemplate, body_json};
use integration_core::{Change, Checkpoint, ErrorKind, Op, Sink, SinkRecord, Source, WriteOutcome};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use yonbip::testing::{self, FakeYonBip};
use yonbip::{Client, Error, ListQuery, Merchant, MerchantSink, MerchantSource, MultiLang, Retry};

async fn fake() -> (FakeYonBip, Client) {
    let fake = FakeYonBip::start().await;
    let client = fake.client_builder().build().expect("client for the fake");
    (fake, client)
}

/// The first page of merchants, which the test expects to fail.
async fn list_err(client: &Client) -> Error {
    let listed = client.merchants().list(&ListQuery::new()).await;
    listed.expect_err("the list fails")
}

/// The paths the client fetched its tokens from.
async fn token_paths(fake: &FakeYonBip) -> Vec<String> {
    let requests = fake.server().received_on("getAccessToken").await;
    requests.iter().map(|r| r.url.path().to_owned()).collect()
}

fn new_merchant(code: &str, name: &str) -> Merchant {
    let mut m = Merchant::new(code, name, testing::CREATE_ORG, testing::CUSTOMER_CLASS);
    m.contact_name = Some("张伟".into());
    m.contact_tel = Some("13800138000".into());
    m.extra
        .insert("merchantDefine".into(), json!({"define1": "华东大区"}));
    m
}

#[tokio::test]
async fn discovery_token_and_merchant_insert_list_detail() {
    let (fake, client) = fake().await;
    let saved = client
        .merchants()
        .create(&new_merchant("OKKI-1001", "上海恒通国际贸易有限公司"))
        .await
        .unwrap();
    let id = saved.id.clone().expect("saved merchant has an id");
    assert_eq!(saved.code.as_deref(), Some("OKKI-1001"));
    assert!(saved.pubts.is_some());

    let page = client
        .merchants()
        .list(&ListQuery::new().code("OKKI-1001"))
        .await
        .unwrap();
    assert_eq!(page.total, Some(1));
    assert_eq!(page.items[0].name_text(), Some("上海恒通国际贸易有限公司"));
    assert_eq!(
        page.items[0].extra["merchantDefine"]["define1"], "华东大区",
        "custom fields round-trip"
    );

    let detail = client.merchants().get(&id).await.unwrap();
    assert_eq!(detail.contact_name.as_deref(), Some("张伟"));
    assert_eq!(
        detail.create_org.as_ref().map(|o| o.as_str()),
        Some(testing::CREATE_ORG)
    );

    // One discovery and one token for all of it, shared by clones.
    let clone = client.clone();
    clone.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.token_fetches(), 1);
    assert_eq!(fake.state().discoveries, 1);
    let endpoints = client.endpoints().await.unwrap();
    assert_eq!(endpoints.gateway_url, fake.gateway_url());

    // The body is JSON with the documented content type and the token is in the query.
    let saves = fake.server().received_on("merchant/save").await;
    let request = &saves[0];
    assert_eq!(
        request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json;charset=utf-8")
    );
    assert!(request.url.query_pairs().any(|(k, _)| k == "access_token"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["data"]["_status"], "Insert");
    assert_eq!(
        body["data"]["name"],
        json!({"zh_CN": "上海恒通国际贸易有限公司"})
    );
}

#[tokio::test]
async fn token_request_carries_the_exact_signature_encoding() {
    let (fake, client) = fake().await;
    client.merchants().list(&ListQuery::new()).await.unwrap();
    let requests = fake.server().received_on("getAccessToken").await;
    assert_eq!(requests.len(), 1);
    let url = &requests[0].url;
    let timestamp: i64 = url
        .query_pairs()
        .find(|(k, _)| k == "timestamp")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!(
        (chrono::Utc::now().timestamp_millis() - timestamp).abs() < 60_000,
        "timestamp is unix milliseconds"
    );
    assert_eq!(
        url.query(),
        Some(yonbip::auth::token_query(testing::APP_KEY, testing::APP_SECRET, timestamp).as_str())
    );
}

#[tokio::test]
async fn update_by_status_and_business_errors_keep_code_and_message() {
    let (fake, client) = fake().await;
    let merchants = client.merchants();
    let saved = merchants
        .create(&new_merchant("KH-9", "杭州联创信息科技有限公司"))
        .await
        .unwrap();
    let mut change = saved.clone();
    change.contact_tel = Some("13912345678".into());
    change.name =
        Some(MultiLang::zh_cn("杭州联创信息科技股份有限公司").with("en_US", "Hangzhou Lianchuang"));
    let updated = merchants.update(&change).await.unwrap();
    assert_eq!(updated.id, saved.id);
    assert_eq!(
        updated.name.as_ref().and_then(|n| n.get("en_US")),
        Some("Hangzhou Lianchuang")
    );
    assert_eq!(fake.state().merchants().len(), 1);

    let err = merchants
        .create(&new_merchant("KH-9", "重复的客户"))
        .await
        .unwrap_err();
    match &err {
        Error::Api(f) => {
            assert_eq!(f.code_str(), Some(testing::CODE_INVALID));
            assert!(f.message.contains("已存在"), "{}", f.message);
        }
        other => panic!("expected a business error, got {other:?}"),
    }
    assert!(!err.is_retryable());
    let core: integration_core::Error = err.into();
    assert_eq!(
        (core.kind(), core.code()),
        (ErrorKind::Business, Some(testing::CODE_INVALID))
    );

    let mut ghost = new_merchant("KH-404", "不存在的客户");
    ghost.id = Some("1".into());
    let err = merchants.update(&ghost).await.unwrap_err();
    assert_eq!(err.code(), Some(testing::CODE_NOT_FOUND));
    let err = merchants
        .update(&new_merchant("KH-10", "无ID"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let err = merchants.get(&"42".into()).await.unwrap_err();
    assert_eq!(err.code(), Some(testing::CODE_NOT_FOUND));
}

#[tokio::test]
async fn wrong_credentials_and_unknown_tenant_are_auth_errors() {
    let fake = FakeYonBip::start().await;
    let client = fake
        .client_builder()
        .app_secret("not-the-secret")
        .build()
        .unwrap();
    let err = list_err(&client).await;
    assert!(
        matches!(&err, Error::Auth(f) if f.code_str() == Some(yonbip::assumed::BAD_SIGNATURE_CODE)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert_eq!(
        fake.server().received_on("getAccessToken").await.len(),
        1,
        "auth failures are not retried"
    );

    let client = fake
        .client_builder()
        .app_key("someone-else")
        .build()
        .unwrap();
    assert_eq!(list_err(&client).await.kind(), ErrorKind::Auth);

    let client = fake
        .client_builder()
        .tenant_id("no-such-tenant")
        .build()
        .unwrap();
    let err = list_err(&client).await;
    assert_eq!(err.code(), Some(testing::CODE_UNKNOWN_TENANT));
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_call_repeated() {
    let (fake, client) = fake().await;
    fake.seed_merchants(3);
    client.merchants().list(&ListQuery::new()).await.unwrap();
    fake.expire_tokens();
    let page = client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.token_fetches(), 2);

    // Always expired: one refresh, one repeat, then the error.
    fake.faults()
        .inject_on("merchant/list", Fault::AuthExpired, 2);
    let err = list_err(&client).await;
    assert!(err.is_auth_expired(), "{err:?}");
    assert_eq!(err.code(), Some(yonbip::assumed::TOKEN_EXPIRED_CODE));
    assert_eq!(fake.token_fetches(), 3);
}

#[tokio::test]
async fn token_is_replaced_before_its_announced_expiry() {
    let (fake, client) = fake().await;
    fake.state().token_ttl = Duration::from_secs(60); // inside the 5-minute margin
    client.merchants().list(&ListQuery::new()).await.unwrap();
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.token_fetches(), 2);
    fake.state().token_ttl = Duration::from_secs(7200);
    client.merchants().list(&ListQuery::new()).await.unwrap();
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.token_fetches(), 3);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_discovery_and_one_token() {
    let (fake, client) = fake().await;
    let calls = (0..8).map(|_| {
        let client = client.clone();
        async move { client.merchants().list(&ListQuery::new()).await }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(fake.token_fetches(), 1);
    assert_eq!(fake.state().discoveries, 1);
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_then_succeed() {
    let (fake, client) = fake().await;
    fake.seed_merchants(2);
    fake.faults()
        .inject_on("merchant/list", Fault::Throttled, 2);
    let page = client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(fake.server().received_on("merchant/list").await.len(), 3);

    let too_many = ResponseTemplate::new(429)
        .insert_header("Retry-After", "0")
        .set_body_string("Too Many Requests");
    fake.faults()
        .inject_on("merchant/list", Fault::Respond(Box::new(too_many)), 1);
    fake.faults()
        .inject_on("merchant/list", Fault::ServerError(502), 1);
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.server().received_on("merchant/list").await.len(), 6);

    // Throttled beyond the retry budget: a typed, retryable error.
    fake.faults()
        .inject_on("merchant/list", Fault::Throttled, 10);
    let err = list_err(&client).await;
    assert!(
        matches!(&err, Error::Throttled(f) if f.message.contains("频繁")),
        "{err:?}"
    );
    assert!(err.is_retryable());
    fake.faults().clear();
}

/// A success envelope whose data is not a page (hostile bodies are in the
/// shared conformance checks).
#[tokio::test]
async fn a_success_envelope_without_a_page_is_a_decode_error() {
    let (fake, client) = fake().await;
    let odd = ResponseTemplate::new(200).set_body_json(
        json!({"code": "200", "message": "操作成功", "data": {"recordList": "oops"}}),
    );
    fake.faults()
        .inject_on("merchant/list", Fault::Respond(Box::new(odd)), 1);
    let err = list_err(&client).await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        !format!("{err:?}").contains("fake"),
        "no token in errors: {err:?}"
    );
}

#[tokio::test]
async fn merchant_pages_and_stream_cover_every_record() {
    let (fake, client) = fake().await;
    let codes = fake.seed_merchants(23);
    let all: Vec<Merchant> = client
        .merchants()
        .stream(ListQuery::new().page_size(5))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 23);
    let mut seen: Vec<String> = all.iter().filter_map(|m| m.code.clone()).collect();
    seen.sort();
    assert_eq!(seen, codes);
    assert_eq!(fake.server().received_on("merchant/list").await.len(), 5);

    let pages: Vec<_> = client
        .merchants()
        .pages(ListQuery::new().page_size(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    // The third page is the last (`pageIndex` reached `pageCount`).
    assert_eq!(pages[1].next.as_ref().map(|q| q.page_index), Some(3));
    assert_eq!((pages[2].next.as_ref(), pages[2].total), (None, Some(23)));
    assert_eq!(pages[2].items.len(), 3);

    // Lazy: taking the first record fetches one page only.
    let before = fake.server().received_on("merchant/list").await.len();
    let mut stream = std::pin::pin!(client.merchants().stream(ListQuery::new().page_size(5)));
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.code.is_some());
    assert_eq!(
        fake.server().received_on("merchant/list").await.len(),
        before + 1
    );

    // Page sizes above the maximum are clamped (the fake rejects > 500).
    let page = client
        .merchants()
        .list(&ListQuery::new().page_size(10_000))
        .await
        .unwrap();
    let sent = fake.server().received_on("merchant/list").await;
    assert_eq!(body_json(sent.last().unwrap())["pageSize"], 500);
    assert_eq!(page.items.len(), 23);

    // Filtering by name.
    let page = client
        .merchants()
        .list(&ListQuery::new().name("上海"))
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    assert!(
        page.items
            .iter()
            .all(|m| m.name_text().unwrap().contains("上海"))
    );
}

#[tokio::test]
async fn sales_orders_and_products_list_and_detail() {
    let (fake, client) = fake().await;
    fake.seed_merchants(4);
    let order_ids = fake.seed_sales_orders(12);
    fake.seed_products(7);

    let orders: Vec<_> = client
        .sales_orders()
        .stream(ListQuery::new().page_size(5))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(orders.len(), 12);
    let order = &orders[0];
    assert!(order.pay_money.unwrap() > Decimal::ZERO);
    assert_eq!(order.pay_money.unwrap().scale(), 2);
    assert!(order.agent_id_name.is_some() && order.vouchdate.is_some());
    let detail = client
        .sales_orders()
        .get(&order_ids[3].as_str().into())
        .await
        .unwrap();
    assert_eq!(
        detail.id.as_ref().map(|i| i.to_string()),
        Some(order_ids[3].clone()),
        "numeric ids read exactly"
    );

    let page = client
        .products()
        .list(&ListQuery::new().page_size(3))
        .await
        .unwrap();
    assert_eq!(
        (
            page.total,
            page.next.as_ref().map(|q| q.page_index),
            page.items.len()
        ),
        (Some(7), Some(2), 3)
    );
    let product = &page.items[0];
    let detail = client
        .products()
        .get(product.id.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(detail.code, product.code);
    assert!(detail.unit_name.is_some());
}

#[tokio::test]
async fn raw_calls_reuse_auth_and_error_decoding() {
    let (fake, client) = fake().await;
    fake.seed_merchants(3);
    let data = client
        .call_raw(
            "yonbip/digitalModel/merchant/list",
            json!({"pageIndex": 1, "pageSize": 2}),
        )
        .await
        .unwrap();
    assert_eq!(data["recordCount"], 3);
    let id = data["recordList"][0]["id"].as_str().unwrap().to_owned();
    let detail = client
        .call_raw_get("/yonbip/digitalModel/merchant/detail", &[("id", &id)])
        .await
        .unwrap();
    assert_eq!(detail["id"], id.as_str());
    let err = client
        .call_raw(
            "yonbip/digitalModel/merchant/list",
            json!({"pageIndex": 0, "pageSize": 2}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(testing::CODE_INVALID));
    fake.expire_tokens();
    client
        .call_raw(
            "yonbip/digitalModel/merchant/list",
            json!({"pageIndex": 1, "pageSize": 2}),
        )
        .await
        .unwrap();
    assert_eq!(fake.token_fetches(), 2);
}

#[tokio::test]
async fn fixed_endpoints_skip_discovery() {
    let fake = FakeYonBip::start().await;
    let (key, secret) = FakeYonBip::credentials();
    let client = Client::builder()
        .app_key(key)
        .app_secret(secret)
        .gateway_url(fake.gateway_url())
        .token_url(format!("{}/", fake.token_url()))
        .build()
        .unwrap();
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.state().discoveries, 0);
    assert!(
        fake.server()
            .received_on("getGatewayAddress")
            .await
            .is_empty()
    );
}

#[test]
fn builder_rejects_incomplete_settings() {
    let base = || Client::builder().app_key("k").app_secret("s");
    assert!(matches!(base().build(), Err(Error::Config(_))));
    assert!(matches!(
        base().gateway_url("http://127.0.0.1:1").build(),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        Client::builder().app_key("k").tenant_id("t").build(),
        Err(Error::Config(_))
    ));
    assert!(base().tenant_id("t").build().is_ok());
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let (fake, client) = fake().await;
    client.merchants().list(&ListQuery::new()).await.unwrap();
    let token = fake.state().merchants().len(); // touch state
    let _ = token;
    let debug = format!("{client:?} {:?}", fake.client_builder());
    assert!(!debug.contains(testing::APP_SECRET), "{debug}");
    let (token, _) = client.fetch_access_token().await.unwrap();
    assert!(!format!("{token:?} {client:?}").contains(token.expose()));
    fake.faults()
        .inject_on("merchant/list", Fault::AuthExpired, 2);
    let err = list_err(&client).await;
    let shown = format!("{err:?} {err}");
    assert!(
        !shown.contains(token.expose()) && !shown.contains(testing::APP_SECRET),
        "{shown}"
    );
    let bad = fake
        .client_builder()
        .app_secret("wrong-secret-value")
        .build()
        .unwrap();
    let err = bad.merchants().list(&ListQuery::new()).await.unwrap_err();
    let shown = format!("{err:?} {err} {bad:?}");
    assert!(!shown.contains("wrong-secret-value"), "{shown}");
}

#[tokio::test]
async fn sink_upserts_by_code_with_partial_failure() {
    let (fake, client) = fake().await;
    fake.seed_merchants(2);
    let existing = fake.state().merchant_by_code("KH000002").cloned().unwrap();
    let sink = MerchantSink::new(client.clone());
    let mut nameless = new_merchant("OKKI-3", "x");
    nameless.name = None;
    let batch = vec![
        SinkRecord {
            key: "okki-1".into(),
            op: Op::Upsert,
            data: new_merchant("OKKI-1", "苏州瑞丰纺织有限公司"),
        },
        SinkRecord {
            key: "okki-2".into(),
            op: Op::Upsert,
            data: new_merchant("KH000002", "北京恒通国际贸易股份有限公司"),
        },
        SinkRecord {
            key: "okki-3".into(),
            op: Op::Upsert,
            data: nameless,
        },
        SinkRecord {
            key: "okki-4".into(),
            op: Op::Delete,
            data: new_merchant("OKKI-4", "已删除"),
        },
        SinkRecord {
            key: "okki-5".into(),
            op: Op::Upsert,
            data: Merchant::default(),
        },
    ];
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(outcomes.len(), 5);
    assert!(matches!(
        &outcomes[0],
        WriteOutcome::Written {
            target_id: Some(_),
            change: Change::Created
        }
    ));
    assert_eq!(
        outcomes[1],
        WriteOutcome::updated(existing["id"].as_str().unwrap()),
        "existing code is updated"
    );
    match &outcomes[2] {
        WriteOutcome::Failed(e) => {
            assert_eq!(e.code.as_deref(), Some(testing::CODE_INVALID));
            assert!(!e.retryable && e.message.contains("客户名称"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(outcomes[3], WriteOutcome::Skipped { .. }));
    assert!(matches!(&outcomes[4], WriteOutcome::Failed(e) if !e.retryable));
    assert_eq!(fake.state().merchants().len(), 3);
    let updated = fake.state().merchant_by_code("KH000002").cloned().unwrap();
    assert_eq!(updated["name"]["zh_CN"], "北京恒通国际贸易股份有限公司");

    // A rerun duplicates nothing.
    let again = sink.write(&batch[..2]).await.unwrap();
    let WriteOutcome::Written { target_id, .. } = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(
        again[0],
        WriteOutcome::written_as(Change::Updated, target_id.clone()),
        "the second time it is an update"
    );
    assert_eq!(fake.state().merchants().len(), 3);

    // Rejected credentials fail the whole batch.
    let bad = MerchantSink::new(fake.client_builder().app_secret("nope").build().unwrap());
    let err = bad.write(&batch[..1]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn source_reads_all_then_only_changes() {
    let (fake, client) = fake().await;
    fake.seed_merchants(12);
    let source = MerchantSource::new(client.clone()).with_page_size(5);
    let (mut records, mut cursor, mut checkpoint, mut pages) = (Vec::new(), None, None, 0);
    loop {
        let page = source.read(None, cursor.take()).await.unwrap();
        pages += 1;
        if page.next.is_none() {
            checkpoint = page.checkpoint.clone();
        } else {
            assert!(
                page.checkpoint.is_none(),
                "checkpoint only with the last page"
            );
        }
        records.extend(page.records);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!((records.len(), pages), (12, 3));
    let max = fake
        .state()
        .merchants()
        .iter()
        .filter_map(|m| m["pubts"].as_str().map(str::to_owned))
        .max()
        .unwrap();
    let checkpoint: Checkpoint = checkpoint.unwrap();
    let expected = integration_core::types::BeijingTime::parse(&max)
        .unwrap()
        .to_utc();
    assert_eq!(checkpoint.as_time(), Some(expected));
    assert_eq!(
        records[0].key,
        fake.state().merchants()[0]["id"].as_str().unwrap()
    );

    // Nothing changed: only the records inside the overlap window are read
    // again (here just the newest), and the checkpoint is kept.
    let page = source.read(Some(&checkpoint), None).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].data.pubts.unwrap().to_string(), max);
    assert_eq!(page.checkpoint.as_ref(), Some(&checkpoint));
    let no_overlap = source.clone().with_overlap(Duration::ZERO);
    let page = no_overlap.read(Some(&checkpoint), None).await.unwrap();
    assert_eq!(
        page.records.len(),
        1,
        "egt keeps the record at the checkpoint itself"
    );

    // A change is read, and only it (plus the overlap).
    client
        .merchants()
        .create(&new_merchant("OKKI-NEW", "成都德润食品有限公司"))
        .await
        .unwrap();
    let page = source.read(Some(&checkpoint), None).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(
        page.records
            .iter()
            .any(|r| r.data.code.as_deref() == Some("OKKI-NEW"))
    );
    assert!(page.checkpoint.unwrap().as_time().unwrap() > checkpoint.as_time().unwrap());
    let sent = fake.server().received_on("merchant/list").await;
    let body: serde_json::Value = serde_json::from_slice(&sent.last().unwrap().body).unwrap();
    assert_eq!(body["simpleVOs"][0]["field"], "pubts");
    assert_eq!(body["simpleVOs"][0]["op"], "egt");
}

/// The fake finds merchants by code through an index: a code changed by an
/// update, or in the fake's state, is found under the new code only.
#[tokio::test]
async fn a_changed_code_is_found_under_the_new_code_only() {
    let (fake, client) = fake().await;
    fake.seed_merchants(3);
    let merchants = client.merchants();
    let mut second = merchants.find_by_code("KH000002").await.unwrap().unwrap();
    second.code = Some("KH-RENAMED".into());
    merchants.update(&second).await.unwrap();
    assert!(merchants.find_by_code("KH000002").await.unwrap().is_none());
    let found = merchants.find_by_code("KH-RENAMED").await.unwrap().unwrap();
    assert_eq!(found.id, second.id);
    // The old code is free again; the new one is taken.
    merchants
        .create(&new_merchant("KH000002", "新客户"))
        .await
        .unwrap();
    let taken = merchants.create(&new_merchant("KH-RENAMED", "重复")).await;
    assert!(taken.is_err(), "{taken:?}");

    fake.state().merchants_mut()[0].insert("code".into(), json!("KH-EDITED"));
    assert!(merchants.find_by_code("KH000001").await.unwrap().is_none());
    assert!(merchants.find_by_code("KH-EDITED").await.unwrap().is_some());
    assert_eq!(fake.state().merchants().len(), 4);
}

/// A merchant the tenant refuses fails alone, as a permanent record
/// failure with YonBIP's message; the others are written.
#[tokio::test]
async fn a_refused_merchant_fails_alone() {
    let (fake, client) = fake().await;
    fake.state().reject_codes.insert("OKKI-2".into());
    let sink = MerchantSink::new(client);
    let batch: Vec<SinkRecord<Merchant>> = ["OKKI-1", "OKKI-2", "OKKI-3"]
        .iter()
        .map(|code| SinkRecord {
            key: (*code).into(),
            op: Op::Upsert,
            data: new_merchant(code, "苏州瑞丰纺织有限公司"),
        })
        .collect();
    let outcomes = sink.write(&batch).await.unwrap();
    assert!(matches!(outcomes[0], WriteOutcome::Written { .. }));
    assert!(matches!(outcomes[2], WriteOutcome::Written { .. }));
    match &outcomes[1] {
        WriteOutcome::Failed(e) => assert!(!e.retryable && e.message.contains("OKKI-2"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.state().merchants().len(), 2);
}

/// `999` is YonBIP's business refusal (its pages show it for 客户名称已存在
/// and for a detail query without id), not throttling: one request, no retry.
#[tokio::test]
async fn code_999_is_a_business_refusal_never_retried() {
    let (fake, client) = fake().await;
    let merchants = client.merchants();
    merchants
        .create(&new_merchant("KH-1", "宁波金桥物流有限公司"))
        .await
        .unwrap();
    let err = merchants
        .create(&new_merchant("KH-1", "宁波金桥物流股份有限公司"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(f) if f.code_str() == Some("999") && f.message.contains("已存在")),
        "{err:?}"
    );
    assert!(!err.is_retryable() && !err.is_auth_expired(), "{err:?}");
    assert_eq!(
        fake.server().received_on("merchant/save").await.len(),
        2,
        "the refusal is not retried"
    );

    let err = client
        .call_raw_get(yonbip::merchant::DETAIL_PATH, &[])
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        (Some("999"), ErrorKind::Business),
        "{err:?}"
    );
    assert_eq!(fake.server().received_on("merchant/detail").await.len(), 1);
}

/// Another writer inserts the same code between the sink's lookup and its
/// insert: the insert is refused with `999` "已存在", and the sink looks the
/// code up again and updates that merchant instead.
#[tokio::test]
async fn sink_turns_a_999_duplicate_refusal_into_an_update() {
    let (fake, client) = fake().await;
    fake.seed_merchants(1);
    let existing = fake.state().merchant_by_code("KH000001").cloned().unwrap();
    // The premise: inserting a taken code is a 999 business refusal.
    let err = client
        .merchants()
        .create(&new_merchant("KH000001", "重复"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("999"), "{err:?}");

    // The sink's lookup misses the merchant once, as if it came just after.
    let empty = ResponseTemplate::new(200).set_body_json(json!({
        "code": "200", "message": "操作成功",
        "data": {"pageIndex": 1, "pageSize": 100, "recordCount": 0, "pageCount": 0, "recordList": []}
    }));
    fake.faults()
        .inject_on("merchant/list", Fault::Respond(Box::new(empty)), 1);
    let before = fake.server().received_on("merchant/save").await.len();
    let record = SinkRecord {
        key: "okki-1".into(),
        op: Op::Upsert,
        data: new_merchant("KH000001", "上海华东机电设备股份有限公司"),
    };
    let outcomes = MerchantSink::new(client).write(&[record]).await.unwrap();
    assert_eq!(
        outcomes,
        [WriteOutcome::updated(existing["id"].as_str().unwrap())]
    );
    let saves = fake.server().received_on("merchant/save").await;
    let statuses: Vec<Value> = saves[before..]
        .iter()
        .map(|r| body_json(r)["data"]["_status"].clone())
        .collect();
    assert_eq!(statuses, [json!("Insert"), json!("Update")]);
    assert_eq!(fake.state().merchants().len(), 1);
    let updated = fake.state().merchant_by_code("KH000001").cloned().unwrap();
    assert_eq!(updated["name"]["zh_CN"], "上海华东机电设备股份有限公司");
}

/// Asks the fake's merchant detail with `token` and returns the answer's code.
async fn code_for_token(fake: &FakeYonBip, token: &str) -> Value {
    let url = format!("{}/{}", fake.gateway_url(), yonbip::merchant::DETAIL_PATH);
    let answer: Value = reqwest::Client::new()
        .get(url)
        .query(&[("id", "1"), ("access_token", token)])
        .send()
        .await
        .expect("the fake answers")
        .json()
        .await
        .expect("a JSON answer");
    answer["code"].clone()
}

/// The fake answers like YonBIP: `310036` (非法token) for a token it never
/// issued, `1090003500065` for one that expired; the client refreshes.
#[tokio::test]
async fn the_fake_answers_forged_and_expired_tokens_with_yonbips_codes() {
    let (fake, client) = fake().await;
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(code_for_token(&fake, "forged-token").await, "310036");
    let (token, _) = client.fetch_access_token().await.unwrap();
    fake.expire_tokens();
    assert_eq!(code_for_token(&fake, token.expose()).await, "1090003500065");

    // The client's cached token expired too: it fetches a new one once.
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(fake.token_fetches(), 3);
    fake.faults()
        .inject_on("merchant/list", Fault::AuthExpired, 2);
    let err = list_err(&client).await;
    assert!(err.is_auth_expired(), "{err:?}");
    assert_eq!(err.code(), Some("1090003500065"));
}

/// `1090003500065` means "fetch a new token" whatever its message (here one
/// that does not mention the token) and whether it is a number or a string.
#[tokio::test]
async fn code_1090003500065_refreshes_the_token_whatever_the_message() {
    let (fake, client) = fake().await;
    client.merchants().list(&ListQuery::new()).await.unwrap();
    for code in [json!(1_090_003_500_065_u64), json!("1090003500065")] {
        let answer = ResponseTemplate::new(200).set_body_json(
            json!({"code": code, "message": "上传信息未包含租户及用户信息", "data": null}),
        );
        fake.faults()
            .inject_on("merchant/list", Fault::Respond(Box::new(answer)), 1);
        client.merchants().list(&ListQuery::new()).await.unwrap();
    }
    assert_eq!(fake.token_fetches(), 3);
}

/// The token comes from the `base/v1` path, documented since 2023-07.
#[tokio::test]
async fn the_token_is_fetched_from_the_base_v1_path() {
    let (fake, client) = fake().await;
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(
        token_paths(&fake).await,
        [format!(
            "{}/open-auth/selfAppAuth/base/v1/getAccessToken",
            testing::AUTH_PREFIX
        )]
    );
}

/// `merchantOptions` is sent only when the caller sets it (public save
/// examples send `false`, the scheme document's sample `true`).
#[tokio::test]
async fn merchant_options_is_sent_only_when_set() {
    let (fake, client) = fake().await;
    let merchants = client.merchants();
    let merchant = |code: &str, options: Option<bool>| {
        let mut m = Merchant::new(
            code,
            "厦门德润食品有限公司",
            testing::CREATE_ORG,
            testing::CUSTOMER_CLASS,
        );
        // `None` keeps what `Merchant::new` chose.
        if options.is_some() {
            m.merchant_options = options;
        }
        m
    };
    merchants.create(&merchant("KH-A", None)).await.unwrap();
    merchants
        .create(&merchant("KH-B", Some(false)))
        .await
        .unwrap();
    merchants
        .create(&merchant("KH-C", Some(true)))
        .await
        .unwrap();
    let sent: Vec<Option<Value>> = fake
        .server()
        .received_on("merchant/save")
        .await
        .iter()
        .map(|r| body_json(r)["data"].get("merchantOptions").cloned())
        .collect();
    assert_eq!(sent, [None, Some(json!(false)), Some(json!(true))]);
}

/// The older token path stays reachable by configuration (the fake serves
/// both, as YonBIP's documentation shows both).
#[tokio::test]
async fn the_older_token_path_is_reachable_by_configuration() {
    let fake = FakeYonBip::start().await;
    let client = fake
        .client_builder()
        .token_path(yonbip::auth::LEGACY_TOKEN_PATH)
        .build()
        .unwrap();
    client.merchants().list(&ListQuery::new()).await.unwrap();
    assert_eq!(
        token_paths(&fake).await,
        [format!(
            "{}/open-auth/selfAppAuth/getAccessToken",
            testing::AUTH_PREFIX
        )]
    );
}

/// 客户名称已存在 under another code is a `999` business refusal: the sink
/// finds no merchant with the record's code to update, so the record fails
/// alone and permanently, after one save (no retry).
#[tokio::test]
async fn a_999_name_refusal_fails_the_record_permanently() {
    let (fake, client) = fake().await;
    fake.seed_merchants(1);
    fake.state().unique_names = true;
    let taken = fake.state().merchants()[0]["name"]["zh_CN"]
        .as_str()
        .unwrap()
        .to_owned();
    let batch = [
        SinkRecord {
            key: "okki-1".into(),
            op: Op::Upsert,
            data: new_merchant("OKKI-1", &taken),
        },
        SinkRecord {
            key: "okki-2".into(),
            op: Op::Upsert,
            data: new_merchant("OKKI-2", "青岛海纳医疗器械有限公司"),
        },
    ];
    let outcomes = MerchantSink::new(client).write(&batch).await.unwrap();
    match &outcomes[0] {
        WriteOutcome::Failed(e) => {
            assert_eq!(e.code.as_deref(), Some("999"), "{e}");
            assert!(!e.retryable && e.message.contains("客户名称已存在"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(outcomes[1], WriteOutcome::Written { .. }));
    let saves = fake.server().received_on("merchant/save").await;
    assert_eq!(saves.len(), 2, "one save per record");
    assert_eq!(fake.state().merchants().len(), 2);
}

#[tokio::test]
async fn shared_settings_reach_every_call_and_discovery_url_is_base_url() {
    let fake = FakeYonBip::start().await;
    let client = fake
        .client_builder()
        .base_url("http://127.0.0.1:1")
        .discovery_url(format!("{}/", fake.uri()))
        .user_agent("acme-sync/1.0")
        .timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    client.merchants().list(&ListQuery::new()).await.unwrap();
    let received = fake.server().received().await;
    assert_eq!(received.len(), 3, "discovery, token, list");
    for request in &received {
        assert_eq!(
            request.headers["user-agent"], "acme-sync/1.0",
            "{}",
            request.url
        );
    }

    let plain = fake.client_builder().build().unwrap();
    plain.merchants().list(&ListQuery::new()).await.unwrap();
    let agent = fake.server().received().await[3].headers["user-agent"].clone();
    assert!(
        agent.to_str().unwrap().starts_with("yonbip-rs/"),
        "{agent:?}"
    );

    let defaults = Client::builder();
    let settings = integration_core::ClientConfig::settings(&defaults);
    assert_eq!(settings.base_url, None, "the public discovery host");
    assert_eq!(settings.timeout, Some(Duration::from_secs(60)));
    assert_eq!(settings.connect_timeout, Duration::from_secs(10));
    assert_eq!(settings.rate_limit, None);

    let err = Client::builder()
        .app_key("k")
        .app_secret("s")
        .tenant_id("t")
        .base_url("not a url")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.message().contains("base_url"), "{err}");
}

#[tokio::test]
async fn error_meta_describes_an_api_error() {
    fn describe(e: &impl integration_core::ErrorMeta) -> String {
        format!(
            "{} {} [{}] {:?}",
            e.system(),
            e.api(),
            e.code().unwrap_or("-"),
            e.kind()
        )
    }
    let (_fake, client) = fake().await;
    let err = client.merchants().get(&"42".into()).await.unwrap_err();
    assert_eq!(
        describe(&err),
        format!(
            "yonbip yonbip/digitalModel/merchant/detail [{}] Business",
            testing::CODE_NOT_FOUND
        )
    );
    assert!(matches!(&err, Error::Api(f) if f.code_str() == Some(testing::CODE_NOT_FOUND)));
    assert!(!err.message().is_empty());
    assert_eq!(
        err.request_id(),
        None,
        "YonBIP's envelope has no request id"
    );
    assert!(!err.is_retryable());
}

/// Junk in a row is a decode error naming the row and the field, not a
/// silent `None`; blank is absent.
#[tokio::test]
async fn junk_in_a_row_is_a_decode_error_naming_the_field() {
    let (fake, client) = fake().await;
    fake.seed_merchants(2);
    fake.seed_sales_orders(3);
    fake.state().sales_orders[1].insert("payMoney".into(), json!("12,50"));
    let err = client
        .sales_orders()
        .list(&ListQuery::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(
        err.to_string().contains("field `recordList[1].payMoney`"),
        "{err}"
    );
    fake.state().sales_orders[1].insert("payMoney".into(), json!(""));
    let page = client.sales_orders().list(&ListQuery::new()).await.unwrap();
    assert_eq!(page.items[1].pay_money, None);

    fake.state().merchants_mut()[0].insert("merchantOptions".into(), json!("maybe"));
    let err = list_err(&client).await;
    assert!(
        err.to_string()
            .contains("field `recordList[0].merchantOptions`"),
        "{err}"
    );

    // A page count that is not a number is junk too, not "unknown".
    let odd = ResponseTemplate::new(200).set_body_json(json!({
        "code": "200", "message": "操作成功",
        "data": {"pageIndex": 1, "pageCount": "some", "recordList": []}
    }));
    fake.faults()
        .inject_on("merchant/list", Fault::Respond(Box::new(odd)), 1);
    let err = list_err(&client).await;
    assert!(err.to_string().contains("field `pageCount`"), "{err}");
}

/// A token answer whose `expire` cannot be read fails the token call; it
/// does not silently mean the default lifetime.
#[tokio::test]
async fn a_junk_token_lifetime_is_an_error() {
    let (fake, client) = fake().await;
    let answer = ResponseTemplate::new(200).set_body_json(json!({
        "code": "00000", "message": "成功",
        "data": {"access_token": "tok-1", "expire": "two hours"}
    }));
    fake.faults()
        .inject_on("getAccessToken", Fault::Respond(Box::new(answer)), 1);
    let err = client.fetch_access_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err:?}");
    assert!(err.message().contains("expire"), "{err}");
    let (_, lifetime) = client.fetch_access_token().await.unwrap();
    assert_eq!(lifetime, Duration::from_secs(7200));
}

/// The checks every connector's client passes, through the shared fake
/// trait only: retried throttling and gateway errors, hostile bodies.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeYonBip as Fake>::start().await;
    let client = Fake::client_builder(&fake).build().unwrap();
    // The first call discovers the gateway and fetches a token.
    let first_page = || async { client.merchants().list(&ListQuery::new()).await };
    conformance::check_read(&fake, first_page).await;
    assert_eq!(Fake::base_url(&fake), fake.uri());
    assert_eq!(
        Fake::credentials(&fake),
        (testing::APP_KEY, testing::APP_SECRET)
    );
}

#[tokio::test]
async fn sink_writes_a_batchs_records_concurrently_with_outcomes_in_order() {
    let (fake, client) = fake().await;
    // Warm the token so only lookups and saves are timed.
    client.merchants().list(&ListQuery::new()).await.unwrap();
    fake.server()
        .faults()
        .set_latency(integration_core::testing::Latency::Fixed(
            Duration::from_millis(40),
        ));
    let batch: Vec<SinkRecord<Merchant>> = (0..8)
        .map(|i| SinkRecord {
            key: format!("okki-{i}"),
            op: Op::Upsert,
            data: new_merchant(&format!("CONC-{i}"), &format!("并发客户{i}")),
        })
        .collect();
    let sink = MerchantSink::new(client).with_concurrency(4);
    let started = std::time::Instant::now();
    let outcomes = sink.write(&batch).await.unwrap();
    let took = started.elapsed();
    // Each record is a lookup and an insert: 16 calls of 40 ms one after
    // the other would take 640 ms; four at a time, about 160 ms.
    assert!(took < Duration::from_millis(480), "{took:?}");
    for (i, outcome) in outcomes.iter().enumerate() {
        let WriteOutcome::Written { target_id, .. } = outcome else {
            panic!("record {i}: {outcome:?}");
        };
        let saved = fake.state().merchant_by_code(&format!("CONC-{i}")).cloned();
        let id = saved.and_then(|m| {
            m.get("id")
                .map(|id| id.to_string().trim_matches('"').to_owned())
        });
        assert_eq!(
            target_id.as_deref(),
            id.as_deref(),
            "outcome {i} is record {i}'s"
        );
    }
}
