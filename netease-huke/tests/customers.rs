//! `customer/*` endpoints and the raw call against the fake.

use integration_core::{ErrorKind, ErrorMeta};
use netease_huke::Error;
use netease_huke::customer::{AddCustomerOutcome, AddCustomerRequest};
use netease_huke::testing::FakeHuke;
use serde_json::{Map, Value, json};

fn customer(name: &str, mobile: &str) -> Map<String, Value> {
    json!({"name": name, "mobile": mobile, "address": "浙江省杭州市西湖区文三路90号", "remark": "来自测试"})
        .as_object()
        .cloned()
        .expect("an object")
}

#[tokio::test]
async fn fields_then_add_then_duplicate() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();

    let fields = client.customers().fields().await.unwrap();
    let keys: Vec<_> = fields.iter().filter_map(|f| f.key()).collect();
    assert!(
        keys.contains(&"name") && keys.contains(&"mobile"),
        "{keys:?}"
    );
    assert_eq!(fields[0].label(), Some("客户名称"));

    let created = client
        .customers()
        .create(&AddCustomerRequest::one(customer("王芳", "13812345678")))
        .await
        .unwrap();
    let AddCustomerOutcome::Created(data) = created else {
        panic!("{created:?}")
    };
    assert_eq!(data["successCount"], 1);
    {
        let state = fake.state();
        assert_eq!(state.customers.len(), 1);
        assert_eq!(state.customers[0]["name"], "王芳");
        assert_eq!(state.customers[0]["status"], 1);
    }

    // Same mobile again: Huke's 1011, surfaced as a duplicate, not an error.
    let again = client
        .customers()
        .create(&AddCustomerRequest::one(customer(
            "王芳(新)",
            "13812345678",
        )))
        .await
        .unwrap();
    assert!(
        matches!(again, AddCustomerOutcome::Duplicate { ref message } if message.contains("已存在")),
        "{again:?}"
    );
    assert_eq!(fake.state().customers.len(), 1);

    // A validation error keeps its code and message.
    let err = client
        .customers()
        .create(&AddCustomerRequest::one(customer("", "13900000000")))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code()),
        (ErrorKind::Business, Some("1002"))
    );
    assert_eq!(err.message(), "客户名称不能为空");
}

/// The metadata every connector's error gives, read through the trait as
/// generic code would.
fn meta(e: &impl ErrorMeta) -> (&'static str, &str, Option<&str>, &str, ErrorKind) {
    (e.system(), e.api(), e.code(), e.message(), e.kind())
}

#[tokio::test]
async fn an_api_error_gives_its_metadata() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    let err = client
        .customers()
        .create(&AddCustomerRequest::one(customer("", "13900000000")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(_)) && err.code() == Some("1002"),
        "{err:?}"
    );
    let expected = (
        "netease-huke",
        "customer/addCustomer",
        Some("1002"),
        "客户名称不能为空",
        ErrorKind::Business,
    );
    assert_eq!(meta(&err), expected);
    assert!(!err.is_retryable());
    assert_eq!(err.request_id(), None, "Huke's envelope carries none");
    let core = integration_core::Error::from(err);
    assert_eq!(meta(&core), expected, "converts with the same metadata");
}

#[tokio::test]
async fn raw_call_reuses_signing_and_decoding() {
    let fake = FakeHuke::start().await;
    fake.seed_trades(4, 8);
    let client = fake.client_builder().build().unwrap();

    let data = client
        .call_raw("openapi/customer/fields", Value::Null)
        .await
        .unwrap();
    assert!(data.as_array().is_some_and(|a| a.len() == 5));

    let now = chrono::Utc::now().timestamp_millis();
    let data = client
        .call_raw(
            "trade/searchTrades",
            json!({"timeRanges": [{"timeType": "1", "startTime": (now - 400 * 86_400_000).to_string(), "endTime": now.to_string()}], "page": 1, "pageSize": 2}),
        )
        .await
        .unwrap();
    assert_eq!(data["total"], 4);
    assert_eq!(data["list"].as_array().unwrap().len(), 2);

    // An endpoint the fake does not know: HTTP 404, a typed error.
    let err = client
        .call_raw("trade/getTrade", json!({"tid": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert!(err.to_string().contains("404"), "{err}");

    // A wrong secret on the raw call is the same auth error as on typed calls.
    let bad = fake.client_builder().app_secret("nope").build().unwrap();
    assert_eq!(
        bad.call_raw("customer/fields", json!({}))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
}
