//! `Client::check` against the fake: facts, refused credentials, an
//! unreachable host, a wrong URL, and that nothing is written.

use integration_core::check::CheckError;
use integration_core::testing::{
    assert_refused, assert_wrong_url, body_json, closed_port_url, fast_retry, header, html_server,
};
use xbongbong::Client;
use xbongbong::auth::{TokenMode, sign};
use xbongbong::testing::{CORPID, FakeXbongbong, TOKEN, USER_ID};

/// A client of `url` with the fake's corpid and `token`, fast retries.
fn client_at(url: &str, token: &str) -> Client {
    Client::builder()
        .base_url(url)
        .corpid(CORPID)
        .token(token)
        .write_rate_limit(None)
        .retry(fast_retry())
        .build()
        .expect("a valid client")
}

/// The API names of every request the fake received.
async fn apis(fake: &FakeXbongbong) -> Vec<String> {
    fake.received()
        .await
        .iter()
        .map(|r| r.url.path().trim_start_matches("/pro/v2/api/").to_owned())
        .collect()
}

#[tokio::test]
async fn company_token_check_reports_corpid_company_and_operator() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client_builder().user_id(USER_ID).build().unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.system, "xbongbong");
    assert_eq!(checked.url, fake.uri());
    assert_eq!(checked.get("corpid"), Some(CORPID));
    assert_eq!(checked.get("company"), Some("杭州云帆贸易有限公司"));
    assert_eq!(checked.get("operator"), Some("01234567890123 王建国"));
    assert_eq!(checked.get("token"), Some("company"));
    assert!(checked.elapsed > std::time::Duration::ZERO);
    assert!(!format!("{checked} {checked:?}").contains(TOKEN));
    assert_eq!(apis(&fake).await, ["department/list", "user/list"]);
    let list = &fake.received_on("department/list").await[0];
    let body = body_json(list);
    assert_eq!(
        (&body["pageSize"], &body["departmentIdIn"]),
        (&serde_json::json!(1), &serde_json::json!([1]))
    );
}

#[tokio::test]
async fn without_an_operator_only_the_department_is_read() {
    let fake = FakeXbongbong::start().await;
    let checked = fake.client().check().await.expect("the check passes");
    assert_eq!(checked.get("operator"), None);
    assert_eq!(apis(&fake).await, ["department/list"]);
}

#[tokio::test]
async fn an_unknown_operator_is_reported() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .user_id("09999999999999")
        .build()
        .unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.get("operator"), Some("09999999999999 (not found)"));
}

#[tokio::test]
async fn personal_mode_asks_for_the_existing_personal_token_and_signs_with_it() {
    let fake = FakeXbongbong::start().await;
    fake.reset_personal_token(USER_ID);
    let personal = fake.state().personal_tokens[USER_ID].clone();
    let client = fake
        .client_builder()
        .user_id(USER_ID)
        .token_mode(TokenMode::Personal)
        .build()
        .unwrap();
    // A normal call caches the personal token; the check asks again.
    client
        .call_raw("department/list", serde_json::json!({}))
        .await
        .unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(checked.get("token"), Some("personal"));
    assert!(!format!("{checked:?}").contains(&personal));
    let exchanges = fake.received_on("user/generateToken").await;
    assert_eq!(exchanges.len(), 2, "the check did not use the cached token");
    assert_eq!(body_json(&exchanges[1])["resetToken"], 0, "never a reset");
    let read = fake.received_on("department/list").await.pop().unwrap();
    assert_eq!(
        header(&read, "sign"),
        Some(sign(&read.body, &personal).as_str()),
        "signed with the personal token"
    );
}

#[tokio::test]
async fn personal_mode_without_a_personal_token_creates_none() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .user_id(USER_ID)
        .token_mode(TokenMode::Personal)
        .build()
        .unwrap();
    let checked = client.check().await.expect("the check passes");
    assert_eq!(
        checked.get("token"),
        Some("company (the operator has no personal token yet)")
    );
    assert!(
        fake.state().personal_tokens.is_empty(),
        "no token was created"
    );
}

#[tokio::test]
async fn a_wrong_token_is_refused_without_the_token_in_the_message() {
    let fake = FakeXbongbong::start().await;
    let wrong = "wrong-company-token-0a1b2c3d4e5f";
    let e = client_at(&fake.uri(), wrong)
        .check()
        .await
        .expect_err("refused");
    let code = assert_refused(&e, &fake.uri(), "权限验证失败", &[wrong]);
    assert_eq!(code.as_deref(), Some("100003"));
}

#[tokio::test]
async fn an_unknown_corpid_is_refused() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .corpid("ding-no-such-corp")
        .build()
        .unwrap();
    let e = client.check().await.expect_err("refused");
    assert!(matches!(e, CheckError::AuthRefused { .. }), "{e:?}");
    assert!(e.to_string().contains("100008"), "{e}");
}

#[tokio::test]
async fn an_unreachable_host_is_unreachable() {
    let url = closed_port_url();
    let started = std::time::Instant::now();
    let e = client_at(&url, TOKEN)
        .check()
        .await
        .expect_err("unreachable");
    assert!(matches!(e, CheckError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&url), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_wrong_path_or_an_html_page_is_a_wrong_url() {
    let fake = FakeXbongbong::start().await;
    let e = client_at(&format!("{}/crm", fake.uri()), TOKEN)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "404");

    let html = html_server().await;
    let e = client_at(&html.uri(), TOKEN)
        .check()
        .await
        .expect_err("wrong URL");
    assert_wrong_url(&e, "nginx");
}

#[tokio::test]
async fn the_check_writes_nothing() {
    let fake = FakeXbongbong::start().await;
    let ids = fake.seed_customers(3);
    let before = format!("{:?}", fake.records("customer"));
    fake.reset_personal_token(USER_ID);
    let tokens = fake.state().personal_tokens.clone();
    fake.client_builder()
        .user_id(USER_ID)
        .build()
        .unwrap()
        .check()
        .await
        .unwrap();
    fake.client_builder()
        .user_id(USER_ID)
        .token_mode(TokenMode::Personal)
        .build()
        .unwrap()
        .check()
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(format!("{:?}", fake.records("customer")), before);
    assert_eq!(fake.state().personal_tokens, tokens, "no token reset");
    for api in apis(&fake).await {
        assert!(
            ["department/list", "user/list", "user/generateToken"].contains(&api.as_str()),
            "not a check call: {api}"
        );
    }
}
