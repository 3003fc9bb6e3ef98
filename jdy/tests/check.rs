//! `Client::check` against the fake, V2 and V1: facts, refused
//! credentials, an unreachable host, a wrong URL, and that nothing is
//! written.

use integration_core::check::CheckError;
use integration_core::testing::{assert_refused, assert_wrong_url, closed_port_url, fast_retry};
use jdy::testing::{
    ACCOUNT_ID, APP_KEY, CLIENT_ID, CLIENT_SECRET, DOMAIN, FakeJdy, OUTER_INSTANCE_ID,
    V1_ACCOUNT_ID, V1_CLIENT_ID, V1_CLIENT_SECRET, V1_GROUP_NAME, V1_PASSWORD, V1_USERNAME,
};
use jdy::{Client, Credentials, CustomerQuery, V1Credentials, V2Credentials};

fn client_at(url: &str, credentials: impl Into<Credentials>) -> Client {
    Client::builder()
        .base_url(url)
        .credentials(credentials)
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

/// `METHOD path` of every request the fake received.
async fn calls(fake: &FakeJdy) -> Vec<String> {
    fake.received()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn v2_check_reports_the_account_book_company_and_user() {
    let fake = FakeJdy::start().await;
    fake.seed(4, 1);
    let checked = fake.v2_client().check().await.expect("the check passes");
    assert_eq!(checked.system, "jdy");
    assert_eq!(checked.url, fake.uri());
    assert_eq!(checked.get("client id"), Some(CLIENT_ID));
    assert_eq!(checked.get("account id"), Some(ACCOUNT_ID));
    assert_eq!(checked.get("account name"), Some("苏州华创贸易有限公司"));
    assert_eq!(checked.get("company"), Some("苏州华创贸易有限公司"));
    assert_eq!(checked.get("app key"), Some(APP_KEY));
    assert_eq!(checked.get("domain"), Some(DOMAIN));
    assert_eq!(checked.get("customers"), Some("8"));
    assert!(checked.elapsed > std::time::Duration::ZERO);
    let app_secret = fake.state().app_secret.clone();
    let text = format!("{checked} {checked:?}");
    assert!(
        !text.contains(CLIENT_SECRET) && !text.contains(&app_secret),
        "{text}"
    );
    assert_eq!(
        calls(&fake).await,
        [
            "POST /jdyconnector/app_management/push_app_authorize",
            "GET /jdyconnector/app_management/kingdee_auth_token",
            "GET /jdy/v2/bd/customer",
        ]
    );
    let list = &fake.received_on("/jdy/v2/bd/customer").await[0];
    assert!(list.url.query().unwrap_or("").contains("page_size=1"));
}

#[tokio::test]
async fn v2_check_logs_in_afresh_even_with_a_cached_token() {
    let fake = FakeJdy::start().await;
    let client = fake.v2_client();
    client
        .customers()
        .list(&CustomerQuery::default())
        .await
        .unwrap();
    let calls_so_far = |fake: &FakeJdy| {
        let state = fake.state();
        (state.authorize_calls, state.token_calls)
    };
    assert_eq!(calls_so_far(&fake), (1, 1));
    client.check().await.expect("the check passes");
    assert_eq!(calls_so_far(&fake), (2, 2), "the check logged in itself");
}

#[tokio::test]
async fn v1_check_reports_the_user_and_account_group() {
    let fake = FakeJdy::start().await;
    let checked = fake.v1_client().check().await.expect("the check passes");
    assert_eq!(checked.get("client id"), Some(V1_CLIENT_ID));
    assert_eq!(checked.get("user"), Some(V1_USERNAME));
    assert_eq!(checked.get("account id"), Some(V1_ACCOUNT_ID));
    assert_eq!(checked.get("account group"), Some(V1_GROUP_NAME));
    assert_eq!(
        calls(&fake).await,
        ["GET /auth/user/access_token", "POST /jdy/sys/accountGroup"]
    );
}

#[tokio::test]
async fn v1_check_without_a_chosen_group_fails_like_every_call() {
    let fake = FakeJdy::start().await;
    let creds = V1Credentials::new(V1_CLIENT_ID, V1_CLIENT_SECRET, V1_USERNAME, V1_PASSWORD);
    let e = client_at(&fake.uri(), creds)
        .check()
        .await
        .expect_err("two groups");
    assert!(matches!(e, CheckError::Failed { .. }), "{e:?}");
    assert!(e.to_string().contains("several account groups"), "{e}");
}

#[tokio::test]
async fn a_wrong_v2_secret_is_refused_without_the_secret_in_the_message() {
    let fake = FakeJdy::start().await;
    let wrong = "wrong-client-secret-0f1e2d";
    let creds = V2Credentials::new(CLIENT_ID, wrong, OUTER_INSTANCE_ID).account_id(ACCOUNT_ID);
    let e = client_at(&fake.uri(), creds)
        .check()
        .await
        .expect_err("refused");
    assert_refused(&e, &fake.uri(), "签名校验失败", &[wrong]);
}

#[tokio::test]
async fn an_unknown_authorisation_is_refused() {
    let fake = FakeJdy::start().await;
    let creds = V2Credentials::new(CLIENT_ID, CLIENT_SECRET, "999").account_id(ACCOUNT_ID);
    let e = client_at(&fake.uri(), creds)
        .check()
        .await
        .expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("no active authorisation"), "{e}");
}

#[tokio::test]
async fn a_wrong_v1_password_is_refused_without_the_password_in_the_message() {
    let fake = FakeJdy::start().await;
    let wrong = "wrong-password-7y6t5r";
    let creds = V1Credentials::new(V1_CLIENT_ID, V1_CLIENT_SECRET, V1_USERNAME, wrong)
        .account_id(V1_ACCOUNT_ID)
        .group_name(V1_GROUP_NAME);
    let e = client_at(&fake.uri(), creds)
        .check()
        .await
        .expect_err("refused");
    assert_refused(
        &e,
        &fake.uri(),
        "用户名或密码错误",
        &[wrong, V1_CLIENT_SECRET],
    );
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let started = std::time::Instant::now();
    let e = client_at(&url, FakeJdy::v2_credentials())
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    let e = client_at(&url, FakeJdy::v1_credentials())
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_is_a_wrong_url() {
    let fake = FakeJdy::start().await;
    let url = format!("{}/openapi", fake.uri());
    for credentials in [
        Credentials::from(FakeJdy::v2_credentials()),
        FakeJdy::v1_credentials().into(),
    ] {
        let e = client_at(&url, credentials)
            .check()
            .await
            .expect_err("wrong URL");
        assert_wrong_url(&e, "No Route");
    }
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeJdy::start().await;
    fake.seed(6, 3);
    let before = {
        let state = fake.state();
        format!(
            "{:?}{:?}{:?}{:?}{}",
            state.customers, state.suppliers, state.materials, state.pur_inbound, state.app_secret
        )
    };
    fake.v2_client().check().await.unwrap();
    fake.v1_client().check().await.unwrap();
    let after = {
        let state = fake.state();
        format!(
            "{:?}{:?}{:?}{:?}{}",
            state.customers, state.suppliers, state.materials, state.pur_inbound, state.app_secret
        )
    };
    assert_eq!(after, before);
    for call in calls(&fake).await {
        assert!(
            call.starts_with("GET ")
                || call == "POST /jdyconnector/app_management/push_app_authorize"
                || call == "POST /jdy/sys/accountGroup",
            "a write: {call}"
        );
    }
}
