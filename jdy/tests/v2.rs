//! V2 against the fake: auth flow, signature, resources, paging, faults.

use futures::TryStreamExt;
use integration_core::testing::Fault;
use integration_core::types::UnixMillis;
use integration_core::{ErrorKind, ErrorMeta};
use jdy::query::{BillQuery, BillStatus, ListQuery};
use jdy::testing::{self, FakeJdy};
use jdy::{ApiVersion, Client, Error, V2Credentials};
use serde_json::json;

/// One page of a resource with the default query.
macro_rules! first_page {
    ($resource:expr) => {
        $resource.list(&Default::default()).await
    };
}

async fn seeded() -> FakeJdy {
    let fake = FakeJdy::start().await;
    fake.seed(25, 42);
    fake
}

#[tokio::test]
async fn auth_flow_signs_and_routes_every_call() {
    let fake = seeded().await;
    let client = fake.v2_client();
    assert_eq!(client.version(), ApiVersion::V2);
    let page = first_page!(client.pur_inbounds()).unwrap();
    assert_eq!(page.items.len(), 25);
    let calls = fake.received_on("/jdy/v2/scm/pur_inbound").await;
    let req = &calls[0];
    let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(h("X-Api-ClientID"), testing::CLIENT_ID);
    assert_eq!(h("X-Api-Auth-Version"), "2.0");
    assert_eq!(h("X-Api-SignHeaders"), "X-Api-TimeStamp,X-Api-Nonce");
    assert_eq!(h("X-GW-Router-Addr"), testing::DOMAIN);
    assert!(h("app-token").starts_with("fake-app-token-"));
    assert_eq!(h("X-Api-Signature").len(), 88);
    // The token was fetched once and reused.
    first_page!(client.customers()).unwrap();
    let state = fake.state();
    assert_eq!((state.authorize_calls, state.token_calls), (1, 1));
}

#[tokio::test]
async fn wrong_client_secret_is_an_auth_error_with_the_api_code() {
    let fake = seeded().await;
    let creds = V2Credentials::new(
        testing::CLIENT_ID,
        "not-the-secret",
        testing::OUTER_INSTANCE_ID,
    );
    let client = fake.client_builder().credentials(creds).build().unwrap();
    let err = first_page!(client.pur_inbounds()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(
        err.code(),
        Some(testing::codes::SIGNATURE.to_string().as_str())
    );
    assert!(err.message().contains("签名"));
}

#[tokio::test]
async fn unknown_instance_has_no_authorisation() {
    let fake = seeded().await;
    let creds = V2Credentials::new(testing::CLIENT_ID, testing::CLIENT_SECRET, "999");
    let client = fake.client_builder().credentials(creds).build().unwrap();
    let err = first_page!(client.customers()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_call_retried() {
    let fake = seeded().await;
    let client = fake.v2_client();
    first_page!(client.materials()).unwrap();
    fake.expire_tokens();
    let page = first_page!(client.materials()).unwrap();
    assert_eq!(page.items.len(), 12);
    assert_eq!(fake.state().token_calls, 2);
    // An injected expired answer also refreshes.
    fake.faults()
        .inject_on("/jdy/v2/bd/material", Fault::AuthExpired, 1);
    first_page!(client.materials()).unwrap();
    assert_eq!(fake.state().token_calls, 3);
}

#[tokio::test]
async fn rotated_app_secret_is_fetched_again_on_app_key_check_failed() {
    let fake = seeded().await;
    let client = fake.v2_client();
    first_page!(client.customers()).unwrap();
    fake.rotate_app_secret();
    fake.expire_tokens();
    first_page!(client.customers()).unwrap();
    let state = fake.state();
    // token (ok), token (1030002006), token (ok after the new authorisation)
    assert_eq!((state.authorize_calls, state.token_calls), (2, 3));
}

#[tokio::test]
async fn concurrent_callers_share_one_token_fetch() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let calls = (0..8).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.suppliers().list(&ListQuery::default()).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    assert_eq!(fake.state().token_calls, 1);
}

#[tokio::test]
async fn paging_across_pages_and_lazy_stream() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let q = BillQuery {
        page_size: Some(10),
        ..BillQuery::default()
    };
    let first = client.pur_inbounds().list(&q).await.unwrap();
    assert_eq!(
        (
            first.items.len(),
            first.total,
            first.next.as_ref().and_then(|q| q.page)
        ),
        (10, Some(25), Some(2))
    );
    let pages: Vec<_> = client
        .pur_inbounds()
        .pages(q.clone())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        vec![10, 10, 5]
    );
    let all: Vec<_> = client.pur_inbounds().stream(q).try_collect().await.unwrap();
    let mut ids: Vec<_> = all.iter().map(|b| b.id.to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    // The page size is clamped to 100.
    client
        .pur_inbounds()
        .list(&BillQuery {
            page_size: Some(1000),
            ..BillQuery::default()
        })
        .await
        .unwrap();
    let last = fake
        .received_on("/jdy/v2/scm/pur_inbound")
        .await
        .pop()
        .unwrap();
    assert!(last.url.query().unwrap().contains("page_size=100"));
}

#[tokio::test]
async fn bill_filters() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let all: Vec<serde_json::Value> = fake.state().pur_inbound.clone();
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| all.iter().filter(|b| f(b)).count();

    let audited = client
        .pur_inbounds()
        .list(&BillQuery {
            bill_status: BillStatus::Audited,
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.items.len(), count(&|b| b["bill_status"] == "C"));
    assert!(
        audited
            .items
            .iter()
            .all(|b| b.bill_status.as_deref() == Some("C"))
    );

    let supplier = all[0]["supplier_id"].as_str().unwrap().to_owned();
    let by_supplier = client
        .pur_inbounds()
        .list(&BillQuery {
            supplier_ids: vec![supplier.clone()],
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_supplier.items.len(),
        count(&|b| b["supplier_id"] == supplier.as_str())
    );

    let from = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let by_date = client
        .pur_inbounds()
        .list(&BillQuery {
            bill_date_from: Some(from),
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert!(by_date.items.iter().all(|b| b.bill_date.unwrap() >= from));
    assert_eq!(
        by_date.items.len(),
        count(&|b| b["bill_date"].as_str().unwrap() >= "2026-04-01")
    );

    let no = all[3]["bill_no"].as_str().unwrap().to_owned();
    let searched = client
        .pur_inbounds()
        .list(&BillQuery {
            search: Some(no.clone()),
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(searched.items.len(), 1);
    assert_eq!(searched.items[0].bill_no.as_deref(), Some(no.as_str()));
}

#[tokio::test]
async fn detail_carries_material_lines_the_list_omits() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let page = first_page!(client.pur_inbounds()).unwrap();
    assert!(page.items[0].material_entity.is_empty());
    let bill = client.pur_inbounds().get(&page.items[0].id).await.unwrap();
    assert!(!bill.material_entity.is_empty());
    let line = &bill.material_entity[0];
    assert!(line.qty.is_some() && line.price.unwrap().scale() == 2);
    assert!(bill.supplier_name.is_some() && bill.modify_time.is_some());
    let sal = first_page!(client.sal_out_bounds()).unwrap();
    assert_eq!(sal.items.len(), 12);
    let sal_bill = client.sal_out_bounds().get(&sal.items[0].id).await.unwrap();
    assert!(sal_bill.customer_name.is_some() && !sal_bill.material_entity.is_empty());
}

#[tokio::test]
async fn basedata_save_list_detail() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let customer = jdy::model::Customer::new("KH9001", "杭州西湖茶业有限公司")
        .with("address", "杭州市西湖区龙井路1号");
    let saved = client.customers().save(&customer).await.unwrap();
    let id = saved.ids[0].clone();
    assert_eq!(saved.id_number_map[id.as_str()], "KH9001");
    let read = client.customers().get(&id).await.unwrap();
    assert_eq!(read.name.as_deref(), Some("杭州西湖茶业有限公司"));
    assert_eq!(read.extra["address"], "杭州市西湖区龙井路1号");
    let by_number = client.customers().get_by_number("KH9001").await.unwrap();
    assert_eq!(by_number.id, Some(id));
    let found = client
        .customers()
        .list(&ListQuery {
            search: Some("西湖".into()),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    let material = client
        .materials()
        .save(&jdy::model::Material::new("SP9001", "龙井茶礼盒"))
        .await
        .unwrap();
    assert_eq!(material.ids.len(), 1);
    let err = client
        .customers()
        .save(&jdy::model::Customer::new("KH9002", ""))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Business);
    assert!(err.message().contains("name"));
}

#[tokio::test]
async fn call_raw_reuses_auth_and_decoding() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let data = client
        .call_raw("/jdy/v2/bd/supplier", json!({"page": 1, "page_size": 3}))
        .await
        .unwrap();
    assert_eq!(data["rows"].as_array().unwrap().len(), 3);
    assert_eq!(data["count"], "8");
    let saved = client
        .call_raw(
            "POST /jdy/v2/bd/supplier",
            json!({"number": "GYS9001", "name": "厦门海峡物流有限公司"}),
        )
        .await
        .unwrap();
    assert!(saved["ids"][0].is_string());
    let err = client
        .call_raw("/jdy/v2/bd/nothing_here", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
}

#[tokio::test]
async fn throttling_then_success() {
    let fake = seeded().await;
    let client = fake.v2_client();
    first_page!(client.suppliers()).unwrap();
    fake.faults()
        .inject_on("/jdy/v2/bd/supplier", Fault::Throttled, 2);
    let page = first_page!(client.suppliers()).unwrap();
    assert_eq!(page.items.len(), 8);
    assert_eq!(fake.faults().injected(), 2);
    fake.faults()
        .inject_on("/jdy/v2/bd/supplier", Fault::Throttled, 5);
    let err = first_page!(client.suppliers()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn secrets_never_show_in_debug_or_errors() {
    let fake = seeded().await;
    let client = fake.v2_client();
    first_page!(client.customers()).unwrap();
    let debug = format!("{client:?} {:?}", FakeJdy::v2_credentials());
    assert!(!debug.contains(testing::CLIENT_SECRET), "{debug}");
    assert!(!debug.contains("fake-app-secret"), "{debug}");
    assert!(!debug.contains("fake-app-token"), "{debug}");
    let bad = fake
        .client_builder()
        .credentials(V2Credentials::new(
            testing::CLIENT_ID,
            "leaky-secret-123",
            testing::OUTER_INSTANCE_ID,
        ))
        .build()
        .unwrap();
    let err = first_page!(bad.customers()).unwrap_err();
    assert!(!format!("{err:?} {err}").contains("leaky-secret-123"));
}

#[tokio::test]
async fn default_base_url_is_the_real_service() {
    let client = Client::builder()
        .credentials(FakeJdy::v2_credentials())
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "https://api.kingdee.com");
    assert!(Client::builder().build().is_err());
}

/// The fake's gateway rejects a stale timestamp and a parameter changed
/// after signing, and accepts a hand-signed request (independent encoder).
#[tokio::test]
async fn fake_gateway_checks_timestamp_and_signed_parameters() {
    let fake = seeded().await;
    let http = reqwest::Client::new();
    let path = jdy::client::PUSH_APP_AUTHORIZE;
    let send = |ts: i64, signed_value: &str, sent_value: &str| {
        let query = vec![("outerInstanceId".to_owned(), signed_value.to_owned())];
        let sig = jdy::auth::sign(
            testing::CLIENT_SECRET,
            "POST",
            path,
            &query,
            "123456789",
            &ts.to_string(),
        );
        http.post(format!("{}{path}?outerInstanceId={sent_value}", fake.uri()))
            .header("X-Api-ClientID", testing::CLIENT_ID)
            .header("X-Api-Auth-Version", "2.0")
            .header("X-Api-TimeStamp", ts.to_string())
            .header("X-Api-Nonce", "123456789")
            .header("X-Api-SignHeaders", "X-Api-TimeStamp,X-Api-Nonce")
            .header("X-Api-Signature", sig)
            .send()
    };
    let now = chrono::Utc::now().timestamp_millis();
    let ok: serde_json::Value = send(now, testing::OUTER_INSTANCE_ID, testing::OUTER_INSTANCE_ID)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok["errcode"], 0);
    assert_eq!(ok["data"][0]["appKey"], testing::APP_KEY);
    let stale: serde_json::Value = send(
        now - 6 * 60 * 1000,
        testing::OUTER_INSTANCE_ID,
        testing::OUTER_INSTANCE_ID,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(stale["errcode"], testing::codes::TIMESTAMP);
    let changed: serde_json::Value = send(now, testing::OUTER_INSTANCE_ID, "42")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(changed["errcode"], testing::codes::SIGNATURE);
}

/// A hand-signed V2 GET with a valid `app-token` and the given
/// `X-GW-Router-Addr` (`None`: not sent, as the generated PHP SDK does).
async fn routed_get(fake: &FakeJdy, path: &str, router: Option<&str>) -> reqwest::Response {
    let token = "hand-made-app-token";
    fake.state().app_tokens.insert(token.to_owned());
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let sig = jdy::auth::sign(testing::CLIENT_SECRET, "GET", path, &[], "987654321", &ts);
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", fake.uri()))
        .header("X-Api-ClientID", testing::CLIENT_ID)
        .header("X-Api-Auth-Version", "2.0")
        .header("X-Api-TimeStamp", &ts)
        .header("X-Api-Nonce", "987654321")
        .header("X-Api-SignHeaders", "X-Api-TimeStamp,X-Api-Nonce")
        .header("X-Api-Signature", sig)
        .header("app-token", token);
    if let Some(router) = router {
        request = request.header("X-GW-Router-Addr", router);
    }
    request.send().await.expect("the fake answers")
}

/// The fake serves a call without `X-GW-Router-Addr` (its enforcement is
/// unconfirmed) and refuses a wrong one as the gateway does (404 No Route).
#[tokio::test]
async fn fake_gateway_accepts_a_missing_router_header_but_not_a_wrong_one() {
    let fake = seeded().await;
    let path = "/jdy/v2/bd/supplier";
    for router in [None, Some(testing::DOMAIN)] {
        let answer = routed_get(&fake, path, router).await;
        assert_eq!(answer.status(), 200, "{router:?}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["errcode"], 0, "{router:?}: {body}");
        assert_eq!(body["data"]["count"], "8");
    }
    for wrong in ["https://vip1-hz.jdy.com", ""] {
        let answer = routed_get(&fake, path, Some(wrong)).await;
        assert_eq!(answer.status(), 404, "{wrong:?}");
        assert_eq!(answer.text().await.unwrap(), "No Route");
    }
}

/// When the authorisation gives no `domain`, the client leaves
/// `X-GW-Router-Addr` out instead of sending an empty (wrong) value.
#[tokio::test]
async fn client_sends_no_router_header_without_a_domain() {
    let fake = seeded().await;
    let app_secret = fake.state().app_secret.clone();
    let row = json!({"appKey": testing::APP_KEY, "appSecret": app_secret,
                     "accountId": testing::ACCOUNT_ID, "status": 1});
    fake.faults().inject_on(
        jdy::client::PUSH_APP_AUTHORIZE,
        Fault::Respond(Box::new(
            integration_core::testing::ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 0, "description": "success", "data": [row]})),
        )),
        1,
    );
    let client = fake.v2_client();
    let page = first_page!(client.suppliers()).unwrap();
    assert_eq!(page.items.len(), 8);
    let req = fake.received_on("/jdy/v2/bd/supplier").await.remove(0);
    assert!(req.headers.get("X-GW-Router-Addr").is_none());
}

/// The raw `name=value` pairs of a request's query, sorted (order is not
/// part of the form; the signature sorts anyway).
fn raw_pairs(req: &integration_core::testing::Request) -> Vec<String> {
    let mut pairs: Vec<String> = req
        .url
        .query()
        .unwrap_or_default()
        .split('&')
        .map(str::to_owned)
        .collect();
    pairs.sort();
    pairs
}

/// V2 list filters travel in the GET query string, encoded once, with no
/// body (the documented form, not the PHP SDK's GET body). Each name is
/// sent once: an `extra` with a built-in name replaces that parameter, as
/// it does in the V1 body.
#[tokio::test]
async fn v2_list_filters_travel_in_the_query_string() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let mut extra = serde_json::Map::new();
    extra.insert("bill_no".into(), json!("CGRK1"));
    extra.insert("bill_status".into(), json!("Z"));
    let q = BillQuery {
        supplier_ids: vec!["11".into(), "12".into()],
        bill_status: BillStatus::Audited,
        modify_time_from: Some(UnixMillis(1_767_225_600_000)),
        search: Some("采购 A".into()),
        page_size: Some(50),
        extra,
        ..BillQuery::default()
    };
    client.pur_inbounds().list(&q).await.unwrap();
    let req = fake.received_on("/jdy/v2/scm/pur_inbound").await.remove(0);
    assert_eq!(req.method.as_str(), "GET");
    assert!(req.body.is_empty());
    assert_eq!(
        raw_pairs(&req),
        vec![
            "bill_no=CGRK1",
            "bill_status=Z",
            "modify_start_time=1767225600000",
            "page=1",
            "page_size=50",
            "search=%E9%87%87%E8%B4%AD%20A",
            "supplier_id=11%2C12",
        ]
    );
    // A raw V2 GET puts its parameters in the same place.
    client
        .call_raw(
            "/jdy/v2/bd/customer",
            json!({"search": "KH0001", "page": 1, "supplier_id": ["1", "2"]}),
        )
        .await
        .unwrap();
    let req = fake.received_on("/jdy/v2/bd/customer").await.remove(0);
    assert_eq!(req.method.as_str(), "GET");
    assert!(req.body.is_empty());
    assert_eq!(
        raw_pairs(&req),
        vec!["page=1", "search=KH0001", "supplier_id=1%2C2"]
    );
}

/// The shared settings reach the transport: the user agent on every call
/// (the auth calls too), the default one otherwise; a bad base URL is a
/// configuration error.
#[tokio::test]
async fn shared_settings_reach_the_transport() {
    let fake = seeded().await;
    let client = fake
        .client_builder()
        .user_agent("erp-sync/2.1")
        .credentials(FakeJdy::v2_credentials())
        .build()
        .unwrap();
    first_page!(client.customers()).unwrap();
    let sent = fake.received_on("/").await;
    assert_eq!(sent.len(), 3, "authorize, token, list");
    for request in &sent {
        assert_eq!(request.headers.get("user-agent").unwrap(), "erp-sync/2.1");
    }
    first_page!(fake.v2_client().suppliers()).unwrap();
    let last = fake.received_on("/jdy/v2/bd/supplier").await.remove(0);
    let agent = last.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(agent.starts_with("jdy-rs/"), "{agent}");

    let err = Client::builder()
        .base_url("ftp://example.com")
        .credentials(FakeJdy::v2_credentials())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);

    // The builder's Debug shows settings, never a secret.
    let builder = fake.client_builder().credentials(FakeJdy::v1_credentials());
    let shown = format!("{builder:?}");
    assert!(shown.contains("settings"), "{shown}");
    assert!(
        !shown.contains(testing::V1_CLIENT_SECRET) && !shown.contains(testing::V1_PASSWORD),
        "{shown}"
    );
}

#[tokio::test]
async fn error_meta_describes_an_api_error() {
    fn meta(e: &impl ErrorMeta) -> (&'static str, String, Option<String>, String, ErrorKind) {
        (
            e.system(),
            e.api().to_owned(),
            e.code().map(str::to_owned),
            e.message().to_owned(),
            e.kind(),
        )
    }
    let fake = seeded().await;
    let err = fake
        .v2_client()
        .customers()
        .save(&jdy::model::Customer::new("KH9003", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(f) if f.http_status == Some(200)),
        "{err:?}"
    );
    let expected = (
        "jdy",
        "/jdy/v2/bd/customer".to_owned(),
        Some(testing::codes::VALIDATION.to_string()),
        "参数name不能为空".to_owned(),
        ErrorKind::Business,
    );
    assert_eq!(meta(&err), expected);
    assert!(!err.is_retryable() && err.request_id().is_none());
    let core = integration_core::Error::from(err);
    assert_eq!(meta(&core), expected);
    assert_eq!(core.http_status(), Some(200));
}

/// Junk in a list row or in a count is a decode error naming the field: a
/// row is not dropped, a total is not quietly unknown.
#[tokio::test]
async fn junk_in_a_list_is_a_decode_error_naming_the_field() {
    let fake = seeded().await;
    let client = fake.v2_client();
    let answer = |data: serde_json::Value| {
        Fault::Respond(Box::new(integration_core::testing::json_response(
            &json!({"errcode": 0, "description": "成功", "data": data}),
        )))
    };
    for (data, field) in [
        (
            json!({"count": "2", "total_page": 1, "rows": [{"id": "1"}, {"id": "2", "total_amount": "12,50"}]}),
            "rows[1].total_amount",
        ),
        (
            json!({"count": "2", "total_page": 1, "rows": [{"id": "1", "material_entity": [{"qty": "two"}]}]}),
            "rows[0].material_entity",
        ),
        (json!({"count": "many", "rows": []}), "count"),
    ] {
        fake.faults()
            .inject_on("/jdy/v2/scm/pur_inbound", answer(data.clone()), 1);
        let err = first_page!(client.pur_inbounds()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{data}: {err}");
        assert!(
            err.to_string().contains(&format!("field `{field}")),
            "{err}"
        );
    }
}

/// The fake is driven as every connector's fake is, through the shared
/// trait: a sandbox or a generic test needs nothing crate-specific.
/// The checks every connector's client passes, through the shared fake
/// trait only: retried throttling and gateway errors, hostile bodies.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeJdy as Fake>::start().await;
    let client = fake.client_builder().build().unwrap();
    conformance::check_read(&fake, || async { first_page!(client.suppliers()) }).await;
    assert_eq!(Fake::base_url(&fake), fake.uri());
    match Fake::credentials(&fake) {
        jdy::Credentials::V2(v2) => assert_eq!(v2.client_id, testing::CLIENT_ID),
        other => panic!("the fake speaks V2: {other:?}"),
    }
}
