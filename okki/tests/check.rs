//! `Client::check` against the fake: facts, refused credentials, an
//! unreachable host, a wrong URL, and that nothing is written.

use integration_core::check::CheckError;
use integration_core::testing::{
    assert_refused, assert_wrong_url, closed_port_url, fast_retry, html_server,
};
use okki::testing::{CLIENT_ID, CLIENT_SECRET, FakeOkki, USERNAME};
use okki::{Client, Credentials};

/// A client of `url` with `credentials` and the fast test retries.
fn client_at(url: &str, credentials: Credentials) -> Client {
    let mut builder = Client::builder()
        .base_url(url)
        .credentials(credentials)
        .retry(fast_retry());
    integration_core::ClientConfig::settings_mut(&mut builder).rate_limit = None;
    builder.build().expect("a valid client")
}

/// `METHOD path` of every request the fake received.
async fn calls(fake: &FakeOkki) -> Vec<String> {
    fake.received()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn client_credentials_check_reports_client_scopes_and_companies() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(7);
    let client = fake.client_builder().build().unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.system, "okki");
    assert_eq!(checked.url, fake.uri());
    assert_eq!(checked.get("client id"), Some(CLIENT_ID));
    assert_eq!(checked.get("grant"), Some("client_credentials"));
    assert_eq!(
        checked.get("scopes"),
        Some("company opportunity invoices user")
    );
    assert_eq!(checked.get("companies"), Some("7"));
    assert_eq!(
        checked.get("user id"),
        None,
        "client_credentials has no subject"
    );
    let valid: u64 = checked
        .get("token valid for")
        .and_then(|v| v.strip_suffix(" s"))
        .and_then(|v| v.parse().ok())
        .expect("a lifetime");
    assert!((28_700..=28_800).contains(&valid), "{valid}");
    assert!(checked.elapsed > std::time::Duration::ZERO);
    assert!(!format!("{checked} {checked:?}").contains(CLIENT_SECRET));
    assert_eq!(
        calls(&fake).await,
        ["POST /v1/oauth2/access_token", "GET /v1/company/list"]
    );
    let list = fake.received_on("/v1/company/list").await;
    let query = list[0].url.query().unwrap_or("");
    assert!(query.contains("count=1"), "{query}");
}

#[tokio::test]
async fn password_check_reports_the_user() {
    let fake = FakeOkki::start().await;
    let client = client_at(&fake.uri(), FakeOkki::password_credentials());
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.get("grant"), Some("password"));
    assert_eq!(checked.get("user"), Some(USERNAME));
    assert_eq!(checked.get("user id"), Some("1"));
    assert_eq!(checked.get("companies"), Some("0"));
}

#[tokio::test]
async fn without_the_company_scope_the_user_list_is_read() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(2);
    let client = client_at(
        &fake.uri(),
        Credentials::client_credentials(CLIENT_ID, CLIENT_SECRET, ["user"]),
    );
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.get("scopes"), Some("user"));
    assert_eq!(checked.get("users"), Some("4"), "the enabled ones");
    assert_eq!(checked.get("companies"), None);
    assert_eq!(
        calls(&fake).await,
        ["POST /v1/oauth2/access_token", "GET /v1/user/list"]
    );
}

#[tokio::test]
async fn the_check_fetches_a_token_even_when_one_is_cached() {
    let fake = FakeOkki::start().await;
    let client = fake.client_builder().build().unwrap();
    client.authenticate().await.unwrap();
    assert_eq!(fake.received_on("/v1/oauth2/access_token").await.len(), 1);
    client.check().await.expect("the check passes");
    assert_eq!(fake.received_on("/v1/oauth2/access_token").await.len(), 2);
    // The check's read went out with the check's own token.
    let token_answers = fake.state().tokens_issued;
    assert_eq!(token_answers, 2);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeOkki::start().await;
    let wrong = "wrong-secret-9f8e7d6c";
    let client = client_at(
        &fake.uri(),
        Credentials::client_credentials(CLIENT_ID, wrong, ["company"]),
    );
    let e = client.check().await.expect_err("refused");
    let code = assert_refused(&e, &fake.uri(), "Client authentication failed", &[wrong]);
    assert_eq!(code.as_deref(), Some("invalid_client"));
    assert_eq!(
        calls(&fake).await,
        ["POST /v1/oauth2/access_token"],
        "no read after a refused token"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_it_or_its_hash_in_the_message() {
    let fake = FakeOkki::start().await;
    let wrong = "Wrong#Pass-2026";
    let client = client_at(
        &fake.uri(),
        Credentials::password(CLIENT_ID, CLIENT_SECRET, ["company"], USERNAME, wrong),
    );
    let e = client.check().await.expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    let hash = okki::auth::hash_password(wrong);
    let (text, debug) = (e.to_string(), format!("{e:?}"));
    for secret in [wrong, hash.as_str(), CLIENT_SECRET] {
        assert!(!text.contains(secret) && !debug.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let client = client_at(&url, FakeOkki::credentials());
    let started = std::time::Instant::now();
    let e = client.check().await.expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_or_an_html_page_is_a_wrong_url() {
    let fake = FakeOkki::start().await;
    let client = client_at(&format!("{}/crm", fake.uri()), FakeOkki::credentials());
    let e = client.check().await.expect_err("wrong URL");
    assert_wrong_url(&e, "404");

    let html = html_server().await;
    let client = client_at(&html.uri(), FakeOkki::credentials());
    let e = client.check().await.expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(5);
    let before = format!("{:?}", fake.state().companies);
    fake.client_builder()
        .build()
        .unwrap()
        .check()
        .await
        .unwrap();
    client_at(&fake.uri(), FakeOkki::password_credentials())
        .check()
        .await
        .unwrap();
    assert_eq!(format!("{:?}", fake.state().companies), before);
    for call in calls(&fake).await {
        assert!(
            call.starts_with("GET ") || call == "POST /v1/oauth2/access_token",
            "a write: {call}"
        );
    }
}
