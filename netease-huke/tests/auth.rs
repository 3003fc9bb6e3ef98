//! Signing and credential handling against the fake.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use integration_core::testing::{Fault, header};
use integration_core::{ErrorKind, Retry, RetryPolicy};
use netease_huke::testing::{APP_KEY, APP_SECRET, FakeHuke};
use netease_huke::{Client, ClientBuilder, Error, sign_request};
use serde_json::json;

/// The error of a `customer/fields` call by a client built from `builder`.
async fn fields_error(builder: ClientBuilder) -> Error {
    let client = builder.build().unwrap();
    client.customers().fields().await.unwrap_err()
}

/// The JSON body of the answer to `request`.
async fn answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    let response = request.send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_request_carries_a_valid_signature_over_the_exact_body() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().eid("433").build().unwrap();
    client
        .call_raw("customer/fields", serde_json::Value::Null)
        .await
        .unwrap();
    let received = fake.received_on("customer/fields").await;
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(req.body, b"{}", "an empty body is sent as {{}}");
    assert_eq!(header(req, "content-type"), Some("application/json"));
    assert_eq!(header(req, "eid"), Some("433"));
    let curtime: i64 = header(req, "ur-curtime").unwrap().parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - curtime).abs() < 60,
        "seconds, not milliseconds"
    );
    let expected = sign_request(APP_KEY, APP_SECRET, &req.body, curtime);
    assert_eq!(header(req, "ur-appkey"), Some(APP_KEY));
    assert_eq!(
        header(req, "ur-sign"),
        Some("99914b932bd37a50b983c5e7c90ae93b")
    );
    assert_eq!(header(req, "ur-checksum"), Some(expected.checksum.as_str()));
}

#[tokio::test]
async fn wrong_secret_is_an_auth_error_with_the_envelope_code_and_message() {
    let fake = FakeHuke::start().await;
    let err = fields_error(fake.client_builder().app_secret("wrong-secret")).await;
    assert!(
        matches!(&err, Error::Auth(_)) && err.code() == Some("401"),
        "{err:?}"
    );
    assert_eq!(err.message(), "checksum error");
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert_eq!(
        fake.server().received().await.len(),
        1,
        "auth failures are not retried"
    );
    let core: integration_core::Error = err.into();
    assert_eq!(core.code(), Some("401"));
}

#[tokio::test]
async fn unknown_app_key_is_rejected() {
    let fake = FakeHuke::start().await;
    let unknown = fake
        .client_builder()
        .app_key("ffffffffffffffffffffffffffffffff");
    let err = fields_error(unknown).await;
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.message(), "appKey not exist");
}

#[tokio::test]
async fn tampered_body_and_stale_curtime_are_rejected_by_the_fake() {
    let fake = FakeHuke::start().await;
    let url = format!("{}/customer/fields", fake.base_url());
    let http = reqwest::Client::new();
    let send = |body: &'static str, signed_body: &'static str, curtime: i64| {
        let h = sign_request(APP_KEY, APP_SECRET, signed_body.as_bytes(), curtime);
        let mut req = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in h.pairs() {
            req = req.header(k, v.to_owned());
        }
        answer(req)
    };
    let now = chrono::Utc::now().timestamp();
    assert_eq!(send("{}", "{}", now).await["code"], 200);
    let tampered = send(r#"{"a":1}"#, "{}", now).await;
    assert_eq!(tampered["code"], 401);
    assert!(tampered["msg"].as_str().unwrap().starts_with("sign error"));
    let stale = send("{}", "{}", now - 3600).await;
    assert_eq!(
        stale,
        json!({"code": 401, "msg": "curtime expired", "data": null})
    );
    // Lowercase checksum hex is accepted too (the fact sheet: compare without case).
    let h = sign_request(APP_KEY, APP_SECRET, b"{}", now);
    let resp = answer(
        http.post(&url)
            .header("ur-appkey", APP_KEY)
            .header("ur-sign", h.sign)
            .header("ur-curtime", h.curtime)
            .header("ur-checksum", h.checksum.to_lowercase())
            .body("{}"),
    )
    .await;
    assert_eq!(resp["code"], 200);
    // Missing headers.
    assert_eq!(answer(http.post(&url).body("{}")).await["code"], 401);
}

#[tokio::test]
async fn stale_signature_answer_is_resigned_and_retried_once() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    fake.faults().inject(Fault::AuthExpired, 1);
    assert!(!client.customers().fields().await.unwrap().is_empty());
    assert_eq!(fake.received_on("customer/fields").await.len(), 2);

    // Expired twice in a row: exactly one retry, then the error.
    fake.faults().inject(Fault::AuthExpired, 2);
    let err = client.customers().fields().await.unwrap_err();
    assert!(err.is_auth_expired(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::AuthExpired);
    assert_eq!(fake.received_on("customer/fields").await.len(), 4);
}

#[tokio::test]
async fn retries_sign_each_attempt_afresh() {
    let fake = FakeHuke::start().await;
    let client = fake.client_builder().build().unwrap();
    fake.faults().inject(Fault::ServerError(503), 2);
    client.customers().fields().await.unwrap();
    let received = fake.received_on("customer/fields").await;
    assert_eq!(received.len(), 3);
    for req in &received {
        let curtime: i64 = header(req, "ur-curtime").unwrap().parse().unwrap();
        let expected = sign_request(APP_KEY, APP_SECRET, &req.body, curtime);
        assert_eq!(header(req, "ur-checksum"), Some(expected.checksum.as_str()));
    }
}

#[tokio::test]
async fn secrets_never_show_in_debug_or_errors() {
    let fake = FakeHuke::start().await;
    let builder = fake.client_builder().app_secret("hunter2-secret");
    assert!(!format!("{builder:?}").contains("hunter2"));
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains(APP_KEY),
        "{shown}"
    );
    let err = client.customers().fields().await.unwrap_err();
    for text in [
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", integration_core::Error::from(err)),
    ] {
        assert!(!text.contains("hunter2"), "{text}");
    }
    let creds = FakeHuke::credentials();
    assert!(!format!("{creds:?}").contains(APP_SECRET));
}

#[tokio::test]
async fn the_client_defaults_to_the_real_service() {
    let client = Client::builder()
        .app_key(APP_KEY)
        .app_secret(APP_SECRET)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "https://huke.163.com/openapi");
}

#[tokio::test]
async fn the_shared_settings_reach_the_request() {
    let fake = FakeHuke::start().await;
    let default_agent = fake.client_builder().build().unwrap();
    default_agent.customers().fields().await.unwrap();
    let custom_agent = fake
        .client_builder()
        .user_agent("erp-sync/2.1")
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    custom_agent.customers().fields().await.unwrap();
    let received = fake.received_on("customer/fields").await;
    assert!(
        header(&received[0], "user-agent").is_some_and(|a| a.starts_with("netease-huke-rs/")),
        "{:?}",
        header(&received[0], "user-agent")
    );
    assert_eq!(header(&received[1], "user-agent"), Some("erp-sync/2.1"));

    // A base URL that is not http(s) is refused when building.
    let err = fake
        .client_builder()
        .base_url("ftp://huke.example")
        .build()
        .unwrap_err();
    assert!(matches!(err, netease_huke::Error::Config(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
}
