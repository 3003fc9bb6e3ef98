//! Gateway behaviour against the fake: signing, envelopes, errors, retries.

use std::time::Duration;

use integration_core::ErrorKind;
use integration_core::testing::{Fault, ResponseTemplate, form_pairs};
use jackyun::error::{SUB_NOT_SUBSCRIBED, SUB_SIGN_ERROR, SUB_THROTTLED};
use jackyun::testing::{self, FakeJackyun};
use jackyun::{ApiErrorClass, Client, Credentials, Error, WarehouseQuery};
use serde_json::json;

fn warehouses() -> serde_json::Value {
    json!({"pageIndex": 0, "pageSize": 50})
}

/// One page of `size` warehouses, the typed call most tests make.
async fn list_warehouses(client: &Client, size: u32) -> Result<(), Error> {
    client
        .warehouses()
        .list(&WarehouseQuery::new(size))
        .await
        .map(drop)
}

/// The value of the form field `key` of a request.
fn form_field(request: &integration_core::testing::Request, key: &str) -> String {
    let form = form_pairs(request);
    let field = form.into_iter().find(|(k, _)| k == key);
    field.expect("the form has the field").1
}

#[tokio::test]
async fn requests_are_signed_form_posts_with_beijing_timestamps() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 0, 0, chrono::Utc::now());
    let client = fake
        .client_builder()
        .credentials(FakeJackyun::credentials().with_token("isv-token-1"))
        .build()
        .unwrap();
    client
        .call_raw("erp.warehouse.get", warehouses())
        .await
        .unwrap();
    let req = &fake.received().await[0];
    assert_eq!(req.method.as_str(), "POST");
    assert!(
        req.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let form = form_pairs(req);
    let get = |k: &str| form_field(req, k);
    assert_eq!(get("method"), "erp.warehouse.get");
    assert_eq!(get("appkey"), testing::APPKEY);
    assert_eq!(get("version"), "v1.0");
    assert_eq!(get("contenttype"), "json");
    assert_eq!(get("token"), "isv-token-1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&get("bizcontent")).unwrap(),
        warehouses()
    );
    // The timestamp is Beijing time: within a minute of now + 8 h.
    let ts = chrono::NaiveDateTime::parse_from_str(&get("timestamp"), "%Y-%m-%d %H:%M:%S").unwrap();
    let beijing_now = chrono::Utc::now().naive_utc() + chrono::Duration::hours(8);
    assert!((beijing_now - ts).num_seconds().abs() < 60);
    // The sign covers everything but sign and token.
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(jackyun::auth::sign(&pairs, testing::SECRET), get("sign"));
    assert!(!req.url.as_str().contains("sign"), "nothing in the URL");
}

#[tokio::test]
async fn wrong_secret_is_a_sign_error_and_not_retried() {
    let fake = FakeJackyun::start().await;
    let client = fake
        .client_builder()
        .app(testing::APPKEY, "wrong-secret")
        .build()
        .unwrap();
    let err = client
        .call_raw("erp.warehouse.get", warehouses())
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Auth(_)), "{err:?}");
    assert_eq!(err.code(), Some(SUB_SIGN_ERROR));
    assert_eq!(err.class(), Some(ApiErrorClass::SignRejected));
    assert!(err.message().contains("签名错误"));
    assert!(err.request_id().is_some());
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert_eq!(fake.received().await.len(), 1);
    assert!(!format!("{err:?}{err}").contains("wrong-secret"));
}

#[tokio::test]
async fn unknown_appkey_and_unsubscribed_method() {
    let fake = FakeJackyun::start().await;
    let client = fake.client_builder().app("99999999", "x").build().unwrap();
    let err = client
        .call_raw("erp.warehouse.get", warehouses())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(SUB_NOT_SUBSCRIBED));
    assert_eq!(
        err.message(),
        "appKey=99999999,method=erp.warehouse.get,未查询到应用或应用未订阅此API"
    );

    fake.state()
        .apps
        .get_mut(testing::APPKEY)
        .unwrap()
        .methods
        .remove("erp.warehouse.get");
    let err = list_warehouses(&fake.client(), 50).await.unwrap_err();
    assert_eq!(err.class(), Some(ApiErrorClass::NotSubscribed));
    let err = fake
        .client()
        .call_raw("erp.vend.get", json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(SUB_NOT_SUBSCRIBED));
}

#[tokio::test]
async fn stale_timestamp_is_rejected_and_a_fresh_signature_recovers() {
    let fake = FakeJackyun::start().await;
    // A hand-made request signed an hour ago.
    let creds = Credentials::new(testing::APPKEY, testing::SECRET);
    let old = chrono::Utc::now() - chrono::Duration::hours(1);
    let form = jackyun::auth::signed_form(&creds, "erp.warehouse.get", "v1.0", "{}", old);
    let gateway = format!("{}/open/openapi/do", fake.uri());
    let sent = reqwest::Client::new().post(gateway).form(&form).send();
    let body: serde_json::Value = sent.await.unwrap().json().await.unwrap();
    assert_eq!(body["code"], 0);
    assert!(body["msg"].as_str().unwrap().contains("时间戳"));

    // The client re-signs each attempt, so one stale answer is survived.
    fake.faults()
        .inject(Fault::Respond(Box::new(testing::timestamp_rejection())), 1);
    let client = fake.client();
    list_warehouses(&client, 50).await.unwrap();
    let stamps: Vec<String> = fake
        .received()
        .await
        .iter()
        .skip(1)
        .map(|r| form_field(r, "timestamp"))
        .collect();
    assert_eq!(stamps.len(), 2, "one rejected attempt, one retry");
}

#[tokio::test]
async fn throttling_then_success_and_persistent_throttling() {
    let fake = FakeJackyun::start().await;
    fake.seed(0, 3, 0, chrono::Utc::now());
    fake.faults().inject(Fault::Throttled, 2);
    let client = fake.client();
    let page = client.goods().list(&Default::default()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.received().await.len(), 3);

    fake.faults().inject(Fault::Throttled, 10);
    let err = client.goods().list(&Default::default()).await.unwrap_err();
    assert!(matches!(&err, Error::Throttled(_)), "{err:?}");
    assert_eq!(err.code(), Some(SUB_THROTTLED));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    fake.faults().clear();
}

#[tokio::test]
async fn isv_token_rejection_is_an_auth_error() {
    let fake = FakeJackyun::start().await;
    fake.faults().inject(Fault::AuthExpired, 1);
    let err = list_warehouses(&fake.client(), 50).await.unwrap_err();
    assert!(matches!(&err, Error::Auth(_)), "{err:?}");
    assert_eq!(err.class(), Some(ApiErrorClass::TokenRejected));
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(fake.received().await.len(), 1);
}

#[tokio::test]
async fn a_json_body_of_the_wrong_shape_is_a_decode_error() {
    let fake = FakeJackyun::start().await;
    let client = fake.client();
    fake.faults().inject(
        Fault::Respond(Box::new(ResponseTemplate::new(200).set_body_json(
            json!({"code": 200, "result": {"data": {"warehouseInfo": [{"warehouseId": {"x": 1}}]}}}),
        ))),
        1,
    );
    let err = list_warehouses(&client, 50).await.unwrap_err();
    assert!(matches!(&err, Error::Core(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried() {
    let fake = FakeJackyun::start().await;
    fake.faults().inject(Fault::ServerError(502), 2);
    list_warehouses(&fake.client(), 50).await.unwrap();
    assert_eq!(fake.received().await.len(), 3);

    let client = fake
        .client_builder()
        .timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    fake.faults()
        .inject(Fault::Delay(Duration::from_secs(2)), 1);
    list_warehouses(&client, 50).await.unwrap();
}

#[tokio::test]
async fn success_sub_code_and_data_as_json_text_are_success() {
    let fake = FakeJackyun::start().await;
    fake.seed(3, 2, 0, chrono::Utc::now());
    let client = fake.client();
    let reply = client
        .call_reply(
            "erp.storage.goodslist",
            &json!({"pageIndex": 0, "pageSize": 10}),
        )
        .await
        .unwrap();
    assert_eq!(
        (reply.sub_code.as_str(), reply.msg.as_str()),
        ("0030000004", "操作成功")
    );
    assert_eq!(reply.data["goods"].as_array().unwrap().len(), 2);

    fake.state().data_as_text.insert("crm.customer.list".into());
    let page = client.customers().list(&Default::default()).await.unwrap();
    assert_eq!(page.items.len(), 3);
}

#[tokio::test]
async fn page_size_is_clamped_and_the_fake_enforces_200() {
    let fake = FakeJackyun::start().await;
    let client = fake.client();
    list_warehouses(&client, 1000).await.unwrap();
    let biz = form_field(&fake.received().await[0], "bizcontent");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&biz).unwrap()["pageSize"],
        200
    );
    let err = client
        .call_raw(
            "erp.warehouse.get",
            json!({"pageIndex": 0, "pageSize": 500}),
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api(_)), "{err:?}");
    assert_eq!(err.class(), Some(ApiErrorClass::InvalidParameter));
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let fake = FakeJackyun::start().await;
    let client = fake
        .client_builder()
        .credentials(FakeJackyun::credentials().with_token("tok-secret-xyz"))
        .build()
        .unwrap();
    let builder = Client::builder().app("1", testing::SECRET);
    for text in [
        format!("{client:?}"),
        format!("{builder:?}"),
        format!("{:?}", FakeJackyun::credentials()),
    ] {
        assert!(!text.contains(testing::SECRET), "{text}");
        assert!(!text.contains("tok-secret-xyz"), "{text}");
    }
    let client = fake.client_builder().app(testing::APPKEY, "bad").build();
    let err = list_warehouses(&client.unwrap(), 1).await.unwrap_err();
    let core: integration_core::Error = err.into();
    assert!(!format!("{core:?} {core}").contains(testing::SECRET));
}

#[test]
fn builder_requires_credentials_and_a_web_base_url() {
    assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
    let ftp = Client::builder()
        .app("1", "s")
        .base_url("ftp://open.jackyun.com");
    let err = ftp.build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.message().contains("base_url"), "{err}");
    let c = Client::builder().app("1", "s").build().unwrap();
    assert_eq!(
        c.gateway().as_str(),
        "https://open.jackyun.com/open/openapi/do"
    );
}

#[tokio::test]
async fn shared_settings_reach_the_gateway() {
    let fake = FakeJackyun::start().await;
    let client = fake
        .client_builder()
        .base_url(format!("{}/open/openapi/do/", fake.uri()))
        .user_agent("acme-sync/1.0")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), fake.uri());
    list_warehouses(&client, 1).await.unwrap();
    let received = fake.received().await;
    assert_eq!(received[0].url.path(), "/open/openapi/do");
    assert_eq!(received[0].headers["user-agent"], "acme-sync/1.0");

    list_warehouses(&fake.client(), 1).await.unwrap();
    let agent = fake.received().await[1].headers["user-agent"].clone();
    assert!(
        agent.to_str().unwrap().starts_with("jackyun-rs/"),
        "{agent:?}"
    );

    let defaults = Client::builder();
    let settings = integration_core::ClientConfig::settings(&defaults);
    assert_eq!(
        settings.rate_limit,
        Some(integration_core::RateLimit::new(5, 5))
    );
    assert_eq!(settings.timeout, Some(Duration::from_secs(60)));
    assert_eq!(settings.connect_timeout, Duration::from_secs(10));
}

#[tokio::test]
async fn error_meta_describes_an_api_error() {
    use integration_core::ErrorMeta as Meta;

    let fake = FakeJackyun::start().await;
    let too_big = json!({"pageIndex": 0, "pageSize": 500});
    let call = fake.client().call_raw("erp.warehouse.get", too_big).await;
    let err = call.unwrap_err();
    assert_eq!(
        (Meta::system(&err), Meta::api(&err)),
        ("jackyun", "erp.warehouse.get")
    );
    assert_eq!(
        Meta::code(&err),
        Some(jackyun::error::SUB_INVALID_PARAMETER)
    );
    assert!(!Meta::message(&err).is_empty());
    assert!(matches!(&err, Error::Api(_)) && err.code() == Some("0050030002"));
    assert_eq!(Meta::kind(&err), ErrorKind::Business);
    assert!(!err.is_retryable());
    assert!(err.request_id().is_some());
    let core = integration_core::Error::from(err);
    assert_eq!(
        (core.kind(), core.code()),
        (ErrorKind::Business, Some("0050030002"))
    );
}

/// The fake is driven as every connector's fake is, through the shared
/// trait; hostile bodies are the core's decode error.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeJackyun as Fake>::start().await;
    let client = Fake::client_builder(&fake).build().unwrap();
    conformance::check_read(&fake, || async {
        let result = list_warehouses(&client, 50).await;
        if let Err(err) = &result {
            let core = matches!(err, Error::Core(_));
            assert!(core || err.kind() != ErrorKind::Decode, "{err:?}");
        }
        result
    })
    .await;
    assert_eq!(Fake::base_url(&fake), fake.uri());
    assert_eq!(Fake::credentials(&fake).appkey, testing::APPKEY);
}
