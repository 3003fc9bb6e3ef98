//! `Client::check` against the fake: facts, refused credentials, an
//! unreachable host, a wrong URL, and that nothing is written.

use integration_core::Secret;
use integration_core::check::CheckError;
use integration_core::testing::{
    assert_refused, assert_wrong_url, closed_port_url, fast_retry, html_server,
};
use netease_huke::testing::{APP_KEY, APP_SECRET, FakeHuke};
use netease_huke::{Client, Credentials};

fn client_at(url: &str, app_key: &str, app_secret: &str) -> Client {
    Client::builder()
        .base_url(url)
        .credentials(Credentials::new(app_key, Secret::new(app_secret)))
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

#[tokio::test]
async fn check_reports_the_customer_fields() {
    let fake = FakeHuke::start().await;
    let expected = fake.state().customer_fields.len();
    assert!(expected > 0);
    let checked = fake
        .client_builder()
        .build()
        .unwrap()
        .check()
        .await
        .expect("the check passes");
    assert_eq!(checked.system, "netease-huke");
    assert_eq!(checked.url, fake.base_url());
    assert_eq!(
        checked.get("customer fields"),
        Some(expected.to_string().as_str())
    );
    assert_eq!(
        checked.get("fields"),
        Some("客户名称、手机号、公司名称、地址、备注")
    );
    assert!(checked.elapsed > std::time::Duration::ZERO);
    assert!(!format!("{checked} {checked:?}").contains(APP_SECRET));
    let paths: Vec<String> = fake
        .received()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(paths, ["POST /openapi/customer/fields"]);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeHuke::start().await;
    let wrong = "ffeeddccbbaa99887766554433221100";
    let e = client_at(&fake.base_url(), APP_KEY, wrong)
        .check()
        .await
        .expect_err("refused");
    let code = assert_refused(&e, &fake.base_url(), "checksum error", &[wrong]);
    assert_eq!(code.as_deref(), Some("401"));
}

#[tokio::test]
async fn an_unknown_app_key_is_refused() {
    let fake = FakeHuke::start().await;
    let e = client_at(
        &fake.base_url(),
        "0123456789abcdef0123456789abcdef",
        APP_SECRET,
    )
    .check()
    .await
    .expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("appKey not exist"), "{e}");
    assert!(!e.to_string().contains(APP_SECRET));
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let started = std::time::Instant::now();
    let e = client_at(&url, APP_KEY, APP_SECRET)
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_or_an_html_page_is_a_wrong_url() {
    let fake = FakeHuke::start().await;
    // The site without its `/openapi` root: the web server's 404.
    let e = client_at(&fake.uri(), APP_KEY, APP_SECRET)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "Not Found");

    let html = html_server().await;
    let e = client_at(&format!("{}/openapi", html.uri()), APP_KEY, APP_SECRET)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeHuke::start().await;
    fake.seed_trades(5, 2);
    let before = {
        let state = fake.state();
        format!("{:?}{:?}", state.trades(), state.customers)
    };
    let client = fake.client_builder().build().unwrap();
    client.check().await.unwrap();
    client.check().await.unwrap();
    let after = {
        let state = fake.state();
        format!("{:?}{:?}", state.trades(), state.customers)
    };
    assert_eq!(after, before);
    assert!(fake.received_on("addCustomer").await.is_empty());
    assert_eq!(fake.received_on("customer/fields").await.len(), 2);
}
