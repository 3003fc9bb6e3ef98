//! `Client::check` against the fake gateway: facts, refused credentials,
//! an unreachable host, a wrong URL, and that nothing is written.

use integration_core::check::CheckError;
use integration_core::testing::{
    assert_refused, assert_wrong_url, closed_port_url, fast_retry, html_server,
};
use jackyun::Client;
use jackyun::testing::{APPKEY, FakeJackyun, SECRET};

fn client_at(url: &str, appkey: &str, secret: &str) -> Client {
    Client::builder()
        .base_url(url)
        .app(appkey, secret)
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

#[tokio::test]
async fn check_reports_the_app_key_a_warehouse_and_the_request_id() {
    let fake = FakeJackyun::start().await;
    fake.seed(2, 3, 2, chrono::Utc::now());
    let checked = fake.client().check().await.expect("the check passes");
    assert_eq!(checked.system, "jackyun");
    assert_eq!(checked.url, fake.uri());
    assert_eq!(checked.get("app key"), Some(APPKEY));
    let warehouse = checked.get("warehouse").expect("a warehouse");
    assert!(
        warehouse.ends_with(')') && warehouse.contains(" ("),
        "{warehouse}"
    );
    let id = checked.get("request id").expect("a context id");
    assert!(
        id.len() >= 19 && id.chars().all(|c| c.is_ascii_digit()),
        "{id}"
    );
    assert!(checked.elapsed > std::time::Duration::ZERO);
    assert!(!format!("{checked} {checked:?}").contains(SECRET));
    assert_eq!(fake.state().calls, ["erp.warehouse.get"]);
    let request = &fake.received().await[0];
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let biz = form
        .iter()
        .find(|(k, _)| k == "bizcontent")
        .map(|(_, v)| v.as_str());
    assert_eq!(biz, Some(r#"{"pageIndex":0,"pageSize":1}"#));
}

#[tokio::test]
async fn a_tenant_without_warehouses_still_passes() {
    let fake = FakeJackyun::start().await;
    let checked = fake.client().check().await.expect("the check passes");
    assert_eq!(checked.get("warehouse"), None);
    assert_eq!(checked.get("app key"), Some(APPKEY));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeJackyun::start().await;
    let wrong = "wrong-jackyun-secret-5a4b3c2d1e";
    let e = client_at(&fake.uri(), APPKEY, wrong)
        .check()
        .await
        .expect_err("refused");
    let code = assert_refused(&e, &fake.uri(), "签名错误", &[wrong, SECRET]);
    assert_eq!(code.as_deref(), Some("0858030801"));
}

#[tokio::test]
async fn an_unknown_appkey_or_an_unsubscribed_method_is_refused() {
    let fake = FakeJackyun::start().await;
    let e = client_at(&fake.uri(), "99999999", SECRET)
        .check()
        .await
        .expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("未订阅"), "{e}");

    fake.state()
        .apps
        .get_mut(APPKEY)
        .expect("the default app")
        .methods
        .remove("erp.warehouse.get");
    let e = fake.client().check().await.expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("method=erp.warehouse.get"), "{e}");
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let started = std::time::Instant::now();
    let e = client_at(&url, APPKEY, SECRET)
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_or_an_html_page_is_a_wrong_url() {
    let fake = FakeJackyun::start().await;
    let e = client_at(&format!("{}/erp", fake.uri()), APPKEY, SECRET)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "HTTP 404");

    let html = html_server().await;
    let e = client_at(&html.uri(), APPKEY, SECRET)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeJackyun::start().await;
    fake.seed(4, 3, 2, chrono::Utc::now());
    let before = format!("{:?}", fake.state().customers());
    let client = fake.client();
    client.check().await.unwrap();
    client.check().await.unwrap();
    assert_eq!(format!("{:?}", fake.state().customers()), before);
    assert_eq!(
        fake.state().calls,
        ["erp.warehouse.get", "erp.warehouse.get"]
    );
}
