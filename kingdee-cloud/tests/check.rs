//! `Client::check` against the fake: facts, refused credentials, an
//! unreachable site, a wrong URL, and that nothing is written.

use integration_core::check::CheckError;
use integration_core::testing::{
    FakeServer, Request, assert_refused, assert_wrong_url, closed_port_url, html_server,
};
use kingdee_cloud::testing::{self, FakeK3Cloud, K3FaultStyle};
use kingdee_cloud::{AppCredentials, BillQuery, Client};

fn services(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r.url.path().rsplit('.').nth(2).unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn app_signature_check_reports_the_data_centre_user_and_app() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.system, "kingdee-cloud");
    assert_eq!(checked.url, fake.server_url());
    assert_eq!(checked.get("data centre"), Some(testing::ACCT_ID));
    assert_eq!(checked.get("data centre name"), Some("演示账套"));
    assert_eq!(checked.get("user"), Some(testing::USER_NAME));
    assert_eq!(checked.get("app"), Some("224466"));
    assert!(checked.elapsed > std::time::Duration::ZERO);
    let text = format!("{checked} {checked:?}");
    assert!(!text.contains(testing::APP_SECRET), "{text}");
    assert!(
        !text.contains("T8cC4ZmM0ohdQe"),
        "no secret part of the app id: {text}"
    );
    assert_eq!(
        services(&fake.received().await),
        ["GetDataCenterList", "ExecuteBillQuery"]
    );
}

#[tokio::test]
async fn the_signed_query_does_not_ride_on_an_earlier_session() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    // A normal call opens a session; the check must not lean on its cookie.
    client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]))
        .await
        .unwrap();
    let first = fake.received_on("ExecuteBillQuery").await;
    assert!(first[0].headers.get("kdservice-sessionid").is_none());
    client.check().await.expect("the check passes");
    let queries = fake.received_on("ExecuteBillQuery").await;
    assert_eq!(queries.len(), 2);
    assert!(
        queries[1].headers.get("kdservice-sessionid").is_none(),
        "the check's query carried the earlier session"
    );
}

#[tokio::test]
async fn password_login_check_logs_in_afresh_and_reports_the_context() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.password_client_builder().build().unwrap();
    client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]))
        .await
        .unwrap();
    assert_eq!(fake.state().logins, 1);
    let checked = client.check().await.expect("the check passes");
    assert_eq!(fake.state().logins, 2, "the check logged in itself");
    assert_eq!(checked.get("data centre"), Some(testing::ACCT_ID));
    assert_eq!(checked.get("data centre name"), Some("演示账套"));
    assert_eq!(checked.get("user"), Some(testing::USER_NAME));
    assert_eq!(checked.get("user id"), Some("100008"));
    assert_eq!(checked.get("login"), Some("ValidateUser"));
    // The client keeps working on the new session.
    client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_app_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeK3Cloud::start().await;
    let wrong = "0000wrong-app-secret-1111";
    let client = fake
        .client_builder()
        .app_signature(AppCredentials::new(
            testing::ACCT_ID,
            testing::USER_NAME,
            testing::APP_ID,
            wrong,
        ))
        .build()
        .unwrap();
    let e = client.check().await.expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    let (text, debug) = (e.to_string(), format!("{e:?}"));
    assert!(
        text.starts_with(&format!("kingdee-cloud at {}:", fake.server_url())),
        "{text}"
    );
    assert!(
        text.contains("credentials refused") && text.contains("签名"),
        "{text}"
    );
    for secret in [wrong, "T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq"] {
        assert!(
            !text.contains(secret) && !debug.contains(secret),
            "{text} {debug}"
        );
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_the_password_in_the_message() {
    let fake = FakeK3Cloud::start().await;
    let wrong = "Wrong#Password-2026";
    let client = fake
        .password_client_builder()
        .password_login(testing::ACCT_ID, testing::USER_NAME, wrong)
        .build()
        .unwrap();
    let e = client.check().await.expect_err("refused");
    assert_refused(&e, &fake.server_url(), "用户名或密码错误", &[wrong]);
}

#[tokio::test]
async fn an_unreachable_site_is_unreachable() {
    let url = closed_port_url();
    let client = Client::builder()
        .server_url(&url)
        .app_signature(FakeK3Cloud::app_credentials())
        .retry(integration_core::testing::fast_retry())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = client.check().await.expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn an_html_page_is_a_wrong_url() {
    let server = html_server().await;
    let url = format!("{}/k3cloud", server.uri());
    let client = Client::builder()
        .server_url(&url)
        .app_signature(FakeK3Cloud::app_credentials())
        .retry(integration_core::testing::fast_retry())
        .build()
        .unwrap();
    let e = client.check().await.expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
    assert_eq!(e.verdict(), "wrong URL");

    // A server that knows no such path: a bare 404.
    let empty = FakeServer::start((), K3FaultStyle).await;
    let client = Client::builder()
        .server_url(format!("{}/k3cloud", empty.uri()))
        .app_signature(FakeK3Cloud::app_credentials())
        .retry(integration_core::testing::fast_retry())
        .build()
        .unwrap();
    let e = client.check().await.expect_err("wrong URL");
    assert_wrong_url(&e, "HTTP 404 with an empty body");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(3);
    let before = fake.records("BD_Customer");
    for client in [
        fake.client_builder().build().unwrap(),
        fake.password_client_builder().build().unwrap(),
        fake.app_secret_client_builder().build().unwrap(),
    ] {
        client.check().await.expect("the check passes");
    }
    assert_eq!(fake.records("BD_Customer"), before);
    let called = services(&fake.received().await);
    assert_eq!(
        called,
        [
            "GetDataCenterList",
            "ExecuteBillQuery",
            "ValidateUser",
            "LoginByAppSecret"
        ]
    );
}
