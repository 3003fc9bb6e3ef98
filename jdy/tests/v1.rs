//! V1 against the fake: access token, account group selection, envelopes.

use futures::TryStreamExt;
use integration_core::ErrorKind;
use integration_core::testing::Fault;
use integration_core::types::UnixMillis;
use jdy::query::{BillQuery, BillStatus, ListQuery};
use jdy::testing::{self, FakeJdy};
use jdy::{ApiVersion, V1Credentials};

/// One page of a resource with the default query.
macro_rules! first_page {
    ($resource:expr) => {
        $resource.list(&Default::default()).await
    };
}

async fn seeded() -> FakeJdy {
    let fake = FakeJdy::start().await;
    fake.seed(30, 7);
    fake
}

#[tokio::test]
async fn token_group_headers_and_list_with_lines() {
    let fake = seeded().await;
    let client = fake.v1_client();
    assert_eq!(client.version(), ApiVersion::V1);
    let q = BillQuery {
        page_size: Some(10),
        ..BillQuery::default()
    };
    let page = client.pur_inbounds().list(&q).await.unwrap();
    // `totalpage` 3: the next query is page 2, and page 3 is the last.
    assert_eq!(
        (page.items.len(), page.next.as_ref().and_then(|q| q.page)),
        (10, Some(2))
    );
    let last = client
        .pur_inbounds()
        .list(&BillQuery {
            page: Some(3),
            ..q.clone()
        })
        .await
        .unwrap();
    assert_eq!((last.items.len(), last.next.is_none()), (10, true));
    assert!(
        page.items
            .iter()
            .all(|b| !b.material_entity.is_empty() && b.bill_no.is_some())
    );
    assert!(page.items[0].material_entity[0].material_number.is_some());
    let req = fake
        .received_on("/jdy/pur/pur_inbound_list")
        .await
        .remove(0);
    assert_eq!(
        req.headers.get("accountId").unwrap(),
        testing::V1_ACCOUNT_ID
    );
    assert_eq!(
        req.headers.get("groupName").unwrap().as_bytes(),
        testing::V1_GROUP_NAME.as_bytes()
    );
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["starttime"], -1);
    assert_eq!(body["pagesize"], 10);
    let all: Vec<_> = client.pur_inbounds().stream(q).try_collect().await.unwrap();
    assert_eq!(all.len(), 30);
    assert_eq!(fake.state().v1_token_calls, 1);
}

#[tokio::test]
async fn v1_filters_and_detail() {
    let fake = seeded().await;
    let client = fake.v1_client();
    let bills = fake.state().pur_inbound.clone();
    let unaudited = client
        .pur_inbounds()
        .list(&BillQuery {
            bill_status: BillStatus::Unaudited,
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        unaudited.items.len(),
        bills.iter().filter(|b| b["bill_status"] == "Z").count()
    );
    // Modify-time range in milliseconds.
    let cut = chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00+08:00")
        .unwrap()
        .to_utc();
    let recent = client
        .pur_inbounds()
        .list(&BillQuery {
            modify_time_from: Some(UnixMillis::from_utc(cut)),
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert!(
        recent
            .items
            .iter()
            .all(|b| b.modify_time.unwrap().to_utc() >= cut)
    );
    assert_eq!(
        recent.items.len(),
        bills
            .iter()
            .filter(|b| b["modify_time"].as_str().unwrap() >= "2026-04-01")
            .count()
    );
    let dept = client
        .pur_inbounds()
        .list(&BillQuery {
            dept_ids: vec!["10001".into()],
            emp_ids: vec![bills[0]["emp_id"].as_str().unwrap().into()],
            ..BillQuery::default()
        })
        .await
        .unwrap();
    assert!(!dept.items.is_empty());
    let bill = client
        .pur_inbounds()
        .get(&unaudited.items[0].id)
        .await
        .unwrap();
    assert_eq!(bill.id, unaudited.items[0].id);
    let sal = first_page!(client.sal_out_bounds()).unwrap();
    assert_eq!(sal.items.len(), 15);
    let materials = first_page!(client.materials()).unwrap();
    assert_eq!(materials.items.len(), 12);
    let m = client
        .materials()
        .get(materials.items[0].id.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(m.number, materials.items[0].number);
    let saved = client
        .customers()
        .save(&jdy::model::Customer::new("KH7001", "青岛海润水产有限公司"))
        .await
        .unwrap();
    assert_eq!(saved.ids.len(), 1);
    let err = client.pur_inbounds().get(&"404".into()).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::Business, Some("1004"))
    );
}

#[tokio::test]
async fn wrong_password_is_an_auth_error() {
    let fake = seeded().await;
    let creds = V1Credentials::new(
        testing::V1_CLIENT_ID,
        testing::V1_CLIENT_SECRET,
        testing::V1_USERNAME,
        "wrong",
    )
    .group_name(testing::V1_GROUP_NAME);
    let client = fake.client_builder().credentials(creds).build().unwrap();
    let err = first_page!(client.customers()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(!format!("{err:?}").contains(testing::V1_CLIENT_SECRET));
}

#[tokio::test]
async fn several_groups_need_a_selection() {
    let fake = seeded().await;
    let creds = V1Credentials::new(
        testing::V1_CLIENT_ID,
        testing::V1_CLIENT_SECRET,
        testing::V1_USERNAME,
        testing::V1_PASSWORD,
    );
    let client = fake
        .client_builder()
        .credentials(creds.clone())
        .build()
        .unwrap();
    let err = first_page!(client.customers()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.message().contains(testing::V1_GROUP_NAME), "{err}");
    let client = fake
        .client_builder()
        .credentials(creds.group_name(testing::V1_GROUP_NAME))
        .build()
        .unwrap();
    first_page!(client.customers()).unwrap();
}

#[tokio::test]
async fn expired_access_token_is_refreshed() {
    let fake = seeded().await;
    let client = fake.v1_client();
    first_page!(client.suppliers()).unwrap();
    fake.expire_tokens();
    let page = first_page!(client.suppliers()).unwrap();
    assert_eq!(page.items.len(), 8);
    assert_eq!(fake.state().v1_token_calls, 2);
}

#[tokio::test]
async fn v1_faults() {
    let fake = seeded().await;
    let client = fake.v1_client();
    first_page!(client.suppliers()).unwrap();
    fake.faults()
        .inject_on("supplier_list", Fault::Throttled, 1);
    first_page!(client.suppliers()).unwrap();
    fake.faults()
        .inject_on("supplier_list", Fault::Truncated, 1);
    let err = first_page!(client.suppliers()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let err = client
        .call_raw("/jdy/basedata/unknown_list", serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.message()), (Some("404"), "接口不存在"));
}

/// Moves tokio's clock (which the token cache reads) forward at once. The
/// clock is paused only for the jump, so no request sees a frozen clock.
async fn skip(by: std::time::Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
}

async fn list_suppliers(client: &jdy::Client) {
    client
        .suppliers()
        .list(&ListQuery::default())
        .await
        .expect("the supplier list answers");
}

/// The `access_token` each V1 business call on `path` carried, in order.
async fn tokens_sent(fake: &FakeJdy, path: &str) -> Vec<String> {
    fake.received_on(path)
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// A short `expires_in` (number or numeric text) is obeyed: the token is
/// reused while fresh and replaced once it is due (120 s: refreshed 60 s
/// early), before a call uses it, not after a refusal.
#[tokio::test]
async fn v1_token_follows_a_short_expires_in() {
    for expires_in in [serde_json::json!(120), serde_json::json!(" 120 ")] {
        let fake = seeded().await;
        fake.state().v1_expires_in = Some(expires_in.clone());
        let client = fake.v1_client();
        list_suppliers(&client).await;
        skip(std::time::Duration::from_secs(50)).await;
        list_suppliers(&client).await;
        assert_eq!(
            fake.state().v1_token_calls,
            1,
            "{expires_in}: fresh at 50 s"
        );
        skip(std::time::Duration::from_secs(20)).await;
        list_suppliers(&client).await;
        assert_eq!(fake.state().v1_token_calls, 2, "{expires_in}: due at 70 s");
        let sent = tokens_sent(&fake, "/jdy/basedata/supplier_list").await;
        assert_eq!(sent.len(), 3, "{expires_in}: no call was refused first");
        assert_eq!(sent[0], sent[1]);
        assert_ne!(sent[1], sent[2]);
    }
}

/// Without `expires_in` (left out, null or empty) the token is trusted for
/// 1 h, refreshed a minute early.
#[tokio::test]
async fn v1_token_without_expires_in_lasts_an_hour() {
    for expires_in in [
        None,
        Some(serde_json::Value::Null),
        Some(serde_json::json!("")),
    ] {
        let fake = seeded().await;
        fake.state().v1_expires_in = expires_in.clone();
        let client = fake.v1_client();
        list_suppliers(&client).await;
        skip(std::time::Duration::from_secs(58 * 60)).await;
        list_suppliers(&client).await;
        assert_eq!(
            fake.state().v1_token_calls,
            1,
            "{expires_in:?}: fresh at 58 min"
        );
        skip(std::time::Duration::from_secs(2 * 60)).await;
        list_suppliers(&client).await;
        assert_eq!(
            fake.state().v1_token_calls,
            2,
            "{expires_in:?}: due at 60 min"
        );
    }
}

/// An `expires_in` that is not a positive whole number of seconds is a
/// decode error naming the field, not a silent default; the token and the
/// credentials stay out of the error.
#[tokio::test]
async fn v1_junk_expires_in_is_a_decode_error() {
    let fake = seeded().await;
    for junk in [
        serde_json::json!("soon"),
        serde_json::json!(-5),
        serde_json::json!(0),
        serde_json::json!(1.5),
        serde_json::json!("3600s"),
        serde_json::json!(true),
        serde_json::json!({"seconds": 60}),
    ] {
        fake.state().v1_expires_in = Some(junk.clone());
        let client = fake.v1_client();
        let err = first_page!(client.suppliers()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{junk}: {err}");
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("expires_in"), "{shown}");
        for secret in [
            "fake-access-token-",
            testing::V1_CLIENT_SECRET,
            testing::V1_PASSWORD,
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
