//! `Client::check` against the fake: facts, refused credentials, an
//! unreachable host, a wrong URL, and that nothing is written.

use integration_core::check::CheckError;
use integration_core::testing::{
    Request, assert_refused, assert_wrong_url, closed_port_url, fast_retry, html_server,
};
use yonbip::Client;
use yonbip::testing::{APP_KEY, APP_SECRET, FakeYonBip, TENANT_ID};

/// A client of fixed gateway and token URLs under `base` (no discovery).
fn fixed_client(base: &str, app_secret: &str) -> Client {
    Client::builder()
        .app_key(APP_KEY)
        .app_secret(app_secret)
        .gateway_url(format!("{base}/iuap-api-gateway"))
        .token_url(format!("{base}/iuap-api-auth"))
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

/// A client discovering `tenant` at `discovery`.
fn discovering_client(discovery: &str, tenant: &str) -> Client {
    Client::builder()
        .app_key(APP_KEY)
        .app_secret(APP_SECRET)
        .tenant_id(tenant)
        .base_url(discovery)
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

/// `METHOD path` of every request the fake received.
async fn calls(fake: &FakeYonBip) -> Vec<String> {
    fake.received()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn check_reports_the_app_key_gateway_token_and_merchants() {
    let fake = FakeYonBip::start().await;
    fake.seed_merchants(3);
    let checked = fake
        .client_builder()
        .build()
        .unwrap()
        .check()
        .await
        .expect("the check passes");
    assert_eq!(checked.system, "yonbip");
    assert_eq!(checked.url, fake.gateway_url());
    assert_eq!(checked.get("app key"), Some(APP_KEY));
    assert_eq!(checked.get("gateway"), Some(fake.gateway_url().as_str()));
    let ttl = fake.state().token_ttl.as_secs();
    assert_eq!(
        checked.get("token valid for"),
        Some(format!("{ttl} s").as_str())
    );
    assert_eq!(checked.get("merchants"), Some("3"));
    assert!(checked.elapsed > std::time::Duration::ZERO);
    assert!(!format!("{checked} {checked:?}").contains(APP_SECRET));
    assert_eq!(
        calls(&fake).await,
        [
            "GET /open-auth/dataCenter/getGatewayAddress",
            "GET /iuap-api-auth/open-auth/selfAppAuth/base/v1/getAccessToken",
            "POST /iuap-api-gateway/yonbip/digitalModel/merchant/list",
        ]
    );
    let list = &fake.received_on("merchant/list").await[0];
    let body: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
    assert_eq!(body["pageSize"], 1);
}

#[tokio::test]
async fn the_check_fetches_a_token_even_when_one_is_cached() {
    let fake = FakeYonBip::start().await;
    let client = fake.client_builder().build().unwrap();
    client
        .call_raw(
            "yonbip/digitalModel/merchant/list",
            serde_json::json!({"pageIndex": 1, "pageSize": 1}),
        )
        .await
        .unwrap();
    assert_eq!(fake.token_fetches(), 1);
    client.check().await.expect("the check passes");
    assert_eq!(fake.token_fetches(), 2, "the check asked for its own token");
    let lists = fake.received_on("merchant/list").await;
    let token = |r: &Request| {
        r.url
            .query_pairs()
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    };
    assert_ne!(token(&lists[0]), token(&lists[1]), "not the cached token");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeYonBip::start().await;
    let wrong = "0000000000wrong-app-secret00000";
    let e = fixed_client(&fake.uri(), wrong)
        .check()
        .await
        .expect_err("refused");
    assert_refused(&e, &fake.gateway_url(), "签名验证失败", &[wrong]);
}

#[tokio::test]
async fn an_unknown_tenant_is_refused() {
    let fake = FakeYonBip::start().await;
    let e = discovering_client(&fake.uri(), "no-such-tenant")
        .check()
        .await
        .expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("租户不存在"), "{e}");
    assert!(
        e.to_string().starts_with("yonbip at the discovery host:"),
        "{e}"
    );
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let started = std::time::Instant::now();
    let e = fixed_client(&url, APP_SECRET)
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    let e = discovering_client(&url, TENANT_ID)
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_or_an_html_page_is_a_wrong_url() {
    let fake = FakeYonBip::start().await;
    let e = discovering_client(&format!("{}/yonbip", fake.uri()), TENANT_ID)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "404");

    let html = html_server().await;
    let e = fixed_client(&html.uri(), APP_SECRET)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeYonBip::start().await;
    fake.seed_merchants(4);
    let before = format!("{:?}", fake.state().merchants());
    let client = fake.client_builder().build().unwrap();
    client.check().await.unwrap();
    fixed_client(&fake.uri(), APP_SECRET).check().await.unwrap();
    assert_eq!(format!("{:?}", fake.state().merchants()), before);
    for call in calls(&fake).await {
        assert!(
            call.starts_with("GET ") || call.ends_with("/list"),
            "a write: {call}"
        );
    }
}
