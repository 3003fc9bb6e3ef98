//! The client against the fake OKKI server.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use futures::TryStreamExt;
use integration_core::paging::Page;
use integration_core::testing::Fault;
use integration_core::types::{BeijingTime, Id};
use integration_core::{ErrorKind, Retry};
use okki::testing::{CLIENT_ID, CLIENT_SECRET, FakeOkki, PASSWORD};
use okki::{
    Client, CompanyInput, CompanyQuery, CompanySummary, ContactInput, Credentials,
    OpportunityQuery, OrderQuery, OrderRef, OrderTimeType, Pool, UserQuery, UserRef, UserState,
};
use serde_json::json;

/// A company to push: only the required name.
fn new_company() -> CompanyInput {
    CompanyInput {
        name: "青岛海润食品有限公司".into(),
        ..Default::default()
    }
}

async fn fake(n: usize) -> (FakeOkki, Client) {
    let fake = FakeOkki::start().await;
    fake.seed_demo(n);
    let client = fake.client_builder().build().unwrap();
    (fake, client)
}

/// A client of the fake with other credentials (and the default settings).
fn client_as(fake: &FakeOkki, credentials: Credentials) -> Client {
    Client::builder()
        .base_url(fake.uri())
        .credentials(credentials)
        .build()
        .unwrap()
}

/// The first page of companies, as a default query lists them.
async fn first_page(client: &Client) -> okki::Result<Page<CompanySummary, CompanyQuery>> {
    client.companies().list(&CompanyQuery::new()).await
}

/// The error of `call` while `path` answers `fault` to every attempt.
async fn failing<T: std::fmt::Debug>(
    fake: &FakeOkki,
    path: &str,
    fault: Fault,
    call: impl std::future::Future<Output = okki::Result<T>>,
) -> okki::Error {
    fake.faults().inject_on(path, fault, 100);
    let err = call.await.unwrap_err();
    fake.faults().clear();
    err
}

/// A well-formed success envelope around `data`.
fn answer(data: serde_json::Value) -> Fault {
    Fault::Respond(Box::new(integration_core::testing::json_response(
        &json!({"code": 200, "message": "success", "data": data}),
    )))
}

#[tokio::test]
async fn list_pages_across_three_pages_and_stream_all() {
    let (fake, client) = fake(25).await;
    let first = client
        .companies()
        .list(&CompanyQuery::new().page_size(10))
        .await
        .unwrap();
    assert_eq!(
        (first.items.len(), first.total, first.has_next()),
        (10, Some(25), true)
    );
    let sizes: Vec<usize> = client
        .companies()
        .pages(CompanyQuery::new().page_size(10))
        .map_ok(|p| p.items.len())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sizes, [10, 10, 5], "page sizes");
    let all: Vec<_> = client
        .companies()
        .stream(CompanyQuery::new().page_size(10))
        .try_collect()
        .await
        .unwrap();
    let mut ids: Vec<_> = all.iter().map(|c| c.company_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25, "no duplicates, none missing");
    // Newest update first.
    assert!(all.windows(2).all(|w| w[0].update_time >= w[1].update_time));
    let requests = fake.received_on("/v1/company/list").await;
    let last = requests.last().unwrap().url.query().unwrap().to_owned();
    assert!(
        last.contains("start_index=3") && last.contains("count=10"),
        "{last}"
    );
    // Exactly one token for all of it.
    assert_eq!(fake.state().tokens_issued, 1);
    // Bearer header.
    let auth = requests[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(auth.starts_with("Bearer eyJ"), "{auth}");
}

#[tokio::test]
async fn list_filters_removed_pool_group_and_window() {
    let (fake, client) = fake(20).await;
    let all = client
        .companies()
        .list(&CompanyQuery::new().page_size(100))
        .await
        .unwrap();
    let victim: i64 = all.items[3].company_id.as_i64().unwrap();
    assert!(fake.state().delete_company(victim));
    let live = client
        .companies()
        .list(&CompanyQuery::new().page_size(100))
        .await
        .unwrap();
    assert_eq!(live.total, Some(19));
    let removed = client
        .companies()
        .list(&CompanyQuery::new().removed(true))
        .await
        .unwrap();
    assert_eq!(removed.items.len(), 1);
    assert_eq!(removed.items[0].company_id.as_i64(), Some(victim));
    let public = client
        .companies()
        .list(&CompanyQuery::new().pool(Pool::Public))
        .await
        .unwrap();
    let private = client
        .companies()
        .list(&CompanyQuery::new().pool(Pool::Private).page_size(100))
        .await
        .unwrap();
    assert_eq!(public.total.unwrap() + private.total.unwrap(), 19);
    let group = client
        .companies()
        .list(&CompanyQuery::new().group(3001).page_size(100))
        .await
        .unwrap();
    assert!(group.total.unwrap() > 0 && group.total.unwrap() < 19);
    // Window on update time, inclusive at both ends.
    let t = all.items[5].update_time.unwrap();
    let exact = client
        .companies()
        .list(&CompanyQuery::new().updated_between(Some(t), Some(t)))
        .await
        .unwrap();
    assert!(
        exact
            .items
            .iter()
            .any(|c| c.company_id == all.items[5].company_id)
    );
    assert!(exact.items.iter().all(|c| c.update_time == Some(t)));
    let later = client
        .companies()
        .list(&CompanyQuery::new().updated_between(BeijingTime::parse("2030-01-01"), None))
        .await
        .unwrap();
    assert_eq!(
        (later.items.len(), later.total, later.has_next()),
        (0, Some(0), false)
    );
}

#[tokio::test]
async fn detail_with_contacts_and_not_found() {
    let (fake, client) = fake(6).await;
    let row = first_page(&client).await.unwrap().items.remove(0);
    let company = client.companies().get(&row.company_id).await.unwrap();
    assert_eq!(company.name, row.name);
    assert!(company.name.as_deref().unwrap().ends_with("有限公司"));
    assert!(company.next_follow_up_time.is_none(), "1970 means empty");
    assert!(
        company.extra.contains_key("4432264586798"),
        "custom field kept"
    );
    let main = company.main_contact().unwrap();
    assert!(main.is_main() && main.email.as_deref().unwrap().contains('@'));
    let contacts = client.companies().contacts(&row.company_id).await.unwrap();
    assert_eq!(contacts, company.customers);
    let by_serial = client
        .companies()
        .get(okki::CompanyRef::Serial(company.serial_id.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(by_serial.company_id, company.company_id);

    let missing = client.companies().get(1).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert_eq!(missing.code(), Some("404"));
    fake.state()
        .delete_company(row.company_id.as_i64().unwrap());
    assert!(
        client
            .companies()
            .get(&row.company_id)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn push_creates_and_edits_then_reads_see_it_and_remove() {
    let (fake, client) = fake(3).await;
    let input = CompanyInput {
        name: "宁波港联国际物流有限公司".into(),
        serial_id: Some("KH-NB-001".into()),
        province: Some("浙江".into()),
        city: Some("宁波市".into()),
        customers: vec![ContactInput {
            name: Some("钱进".into()),
            email: Some("qian.jin@gl-logistics.cn".into()),
            main_customer_flag: Some(1),
            ..Default::default()
        }],
        extra: [("is_public".to_owned(), json!(1))].into_iter().collect(),
        ..Default::default()
    };
    let pushed = client.companies().save(&input).await.unwrap();
    let contact_id = pushed.customers[0].customer_id.clone().unwrap();
    let company = client.companies().get(&pushed.company_id).await.unwrap();
    assert_eq!(company.serial_id.as_deref(), Some("KH-NB-001"));
    assert_eq!(company.customers[0].name.as_deref(), Some("钱进"));

    // Edit: rename the contact, add another.
    let edit = CompanyInput {
        company_id: Some(pushed.company_id.clone()),
        name: "宁波港联国际物流有限公司".into(),
        customers: vec![
            ContactInput {
                customer_id: Some(contact_id.clone()),
                post: Some("物流总监".into()),
                ..Default::default()
            },
            ContactInput {
                name: Some("孙丽".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    client.companies().save(&edit).await.unwrap();
    let company = client.companies().get(&pushed.company_id).await.unwrap();
    assert_eq!(company.customers.len(), 2);
    assert_eq!(company.customers[0].post.as_deref(), Some("物流总监"));
    let newest = first_page(&client).await.unwrap().items.remove(0);
    assert_eq!(
        newest.company_id, pushed.company_id,
        "edited company is now the newest update"
    );

    // Editing an unknown company is OKKI's 404.
    let bad = CompanyInput {
        company_id: Some(Id::from(42)),
        ..edit.clone()
    };
    assert!(
        client
            .companies()
            .save(&bad)
            .await
            .unwrap_err()
            .is_not_found()
    );

    assert_eq!(
        client.companies().delete(&pushed.company_id).await.unwrap(),
        pushed.company_id
    );
    assert!(
        client
            .companies()
            .get(&pushed.company_id)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let removed = client
        .companies()
        .list(&CompanyQuery::new().removed(true))
        .await
        .unwrap();
    assert_eq!(removed.items[0].company_id, pushed.company_id);
    // A private-pool company cannot be removed.
    let private = client
        .companies()
        .list(&CompanyQuery::new().pool(Pool::Private))
        .await
        .unwrap()
        .items
        .remove(0);
    let err = client
        .companies()
        .delete(&private.company_id)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    drop(fake);
}

#[tokio::test]
async fn opportunities_orders_and_users() {
    let (_fake, client) = fake(23).await;
    let opps: Vec<_> = client
        .opportunities()
        .stream(OpportunityQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(opps.len(), 23);
    let o = &opps[0];
    assert_eq!(o.amount.unwrap().scale(), 2, "two-decimal amounts");
    assert!(o.product_list.is_empty(), "null product_list");
    let again = client
        .opportunities()
        .get(okki::OpportunityRef::Id(o.opportunity_id.clone()))
        .await
        .unwrap();
    assert_eq!(again.amount, o.amount);

    let page = client.orders().list(&OrderQuery::new()).await.unwrap();
    assert_eq!(
        page.total,
        Some(21),
        "total from data.count; 2 of 23 deleted"
    );
    let orders: Vec<_> = client
        .orders()
        .stream(OrderQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(orders.len(), 21);
    let order = &orders[0];
    let line = &order.product_list[0];
    assert_eq!(order.product_total_count, line.count);
    assert!(line.extra.contains_key("unit_price"));
    let deleted = client
        .orders()
        .list(&OrderQuery::new().removed(true).between(
            OrderTimeType::Deleted,
            okki_time("2025-01-01 00:00:00"),
            None,
        ))
        .await
        .unwrap();
    assert_eq!(deleted.total, Some(2));
    let by_no = client
        .orders()
        .get(OrderRef::No(order.order_no.clone().unwrap().to_string()))
        .await
        .unwrap();
    assert_eq!(by_no.order_id, order.order_id);

    let page = client.users().list(&UserQuery::new()).await.unwrap();
    assert_eq!((page.next, page.total), (None, None), "one unpaged list");
    let users = page.items;
    assert_eq!(users.len(), 4);
    assert!(users.iter().all(|u| u.enable_flag == Some(1)));
    let frozen: Vec<_> = client
        .users()
        .stream(UserQuery::new().state(UserState::Frozen))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(frozen.len(), 1);
    let admin = client
        .users()
        .get(UserRef::Id(Id::from("55280038")))
        .await
        .unwrap();
    assert_eq!(admin.is_admin, Some(true));
    assert_eq!(
        admin.departments[0].department_name.as_deref(),
        Some("华东销售部")
    );
}

#[tokio::test]
async fn call_raw_reuses_auth_and_envelope() {
    let (_fake, client) = fake(4).await;
    let data = client
        .call_raw("/v1/company/list", json!({"count": 2, "start_index": 1}))
        .await
        .unwrap();
    assert_eq!(data["list"].as_array().unwrap().len(), 2);
    assert_eq!(data["totalItem"], 4);
    let users = client
        .call_raw("GET /v1/user/list", json!({"enable_flag": 1}))
        .await
        .unwrap();
    assert!(users.is_array());
    let pushed = client
        .call_raw(
            "POST /v1/company/pushCompanyAndCustomers",
            json!({"name": "厦门海湾贸易有限公司", "customers": []}),
        )
        .await
        .unwrap();
    assert!(pushed["company_id"].is_number());
    let err = client
        .call_raw(
            "POST /v1/company/pushCompanyAndCustomers",
            json!({"customers": []}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("-1"));
    assert_eq!(err.kind(), ErrorKind::Business);
}

#[tokio::test]
async fn wrong_credentials_and_missing_scope() {
    let fake = FakeOkki::start().await;
    let wrong = Credentials::client_credentials(CLIENT_ID, "not-the-secret", ["company"]);
    let err = first_page(&client_as(&fake, wrong)).await.unwrap_err();
    assert!(err.is_credentials(), "{err}");
    assert!(
        matches!(&err, okki::Error::Auth(f) if f.http_status == Some(400))
            && err.code() == Some("invalid_client")
    );
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));
    assert_eq!(
        fake.received_on("/v1/oauth2").await.len(),
        1,
        "no retry of a credential failure"
    );

    let unknown_scope =
        Credentials::client_credentials(CLIENT_ID, CLIENT_SECRET, ["company", "payroll"]);
    let err = client_as(&fake, unknown_scope)
        .authenticate()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, okki::Error::Auth(_)) && err.code() == Some("invalid_scope"),
        "{err}"
    );

    let only_users = Credentials::client_credentials(CLIENT_ID, CLIENT_SECRET, ["user"]);
    let err = first_page(&client_as(&fake, only_users)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.to_string().contains("no permission company scopes"),
        "{err}"
    );

    let bad_password = Credentials::password(
        CLIENT_ID,
        CLIENT_SECRET,
        ["company"],
        okki::testing::USERNAME,
        "wrong",
    );
    let err = client_as(&fake, bad_password)
        .authenticate()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, okki::Error::Auth(_)) && err.code() == Some("invalid_grant"),
        "{err}"
    );

    // The raw token without "Bearer" is accepted too.
    let token_answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/oauth2/access_token", fake.uri()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("scope", "user"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token_answer["access_token"].as_str().unwrap();
    let status = reqwest::Client::new()
        .get(format!("{}/v1/user/list", fake.uri()))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    assert!(token_answer.get("refresh_token").is_none());
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_shared_by_clones() {
    let (fake, client) = fake(3).await;
    first_page(&client).await.unwrap();
    fake.expire_tokens();
    let clone = client.clone();
    let q = CompanyQuery::new();
    let (mine, theirs) = (client.companies(), clone.companies());
    let (a, b) = tokio::join!(mine.list(&q), theirs.list(&q));
    a.unwrap();
    b.unwrap();
    assert_eq!(
        fake.state().tokens_issued,
        2,
        "one new token for both callers"
    );

    // A token the server keeps rejecting: one refresh, one retry, then the error.
    fake.faults()
        .inject_on("/v1/company/list", Fault::AuthExpired, 2);
    let err = first_page(&client).await.unwrap_err();
    assert!(err.is_auth_expired(), "{err}");
    assert_eq!(fake.state().tokens_issued, 3);
    first_page(&client).await.unwrap();
}

/// Random "token expired" faults spare the token endpoint when told to: a
/// soak's token fetch is then never answered "expired", every other call is.
#[tokio::test]
async fn random_expiry_faults_can_spare_the_token_endpoint() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(2);
    let client = fake.client_builder().build().unwrap();
    fake.faults().no_expiry_on(okki::auth::ACCESS_TOKEN_PATH);
    fake.faults().random(7, 1.0, vec![Fault::AuthExpired]);
    let err = first_page(&client).await.unwrap_err();
    assert!(err.is_auth_expired(), "{err}");
    let logins = fake.received_on(okki::auth::ACCESS_TOKEN_PATH).await.len();
    let lists = fake.received_on("/v1/company/list").await.len();
    assert_eq!((logins, lists), (2, 2), "a login, a refresh, two lists");
    assert_eq!(fake.faults().injected(), 2, "only the lists were faulted");
}

#[tokio::test]
async fn token_renewed_before_expiry_and_password_grant_uses_refresh_token() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(2);
    // Tokens that live 200 s: inside the 5 min margin, so each call renews.
    fake.state().token_lifetime = 200.0;
    let client = fake
        .client_builder()
        .credentials(FakeOkki::password_credentials())
        .build()
        .unwrap();
    client.users().list(&UserQuery::new()).await.unwrap();
    client.users().list(&UserQuery::new()).await.unwrap();
    let refreshes = fake.received_on("/v1/oauth2/refresh_token").await;
    assert_eq!(
        refreshes.len(),
        1,
        "second call renewed via the refresh token"
    );
    let form = String::from_utf8(refreshes[0].body.clone()).unwrap();
    assert!(form.contains("grant_type=refresh_token") && form.contains("refresh_token=def50200"));
    let logins = fake.received_on("/v1/oauth2/access_token").await;
    let body: serde_json::Value = serde_json::from_slice(&logins[0].body).unwrap();
    assert_eq!(body["password"], okki::auth::hash_password(PASSWORD));
    assert_eq!(body["grant_type"], "password");
}

#[tokio::test]
async fn throttled_then_success_and_server_errors() {
    let (fake, client) = fake(3).await;
    client.authenticate().await.unwrap();
    fake.faults()
        .inject_on("/v1/company/list", Fault::Throttled, 2);
    let page = first_page(&client).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert_eq!(fake.received_on("/v1/company/list").await.len(), 3);

    fake.faults()
        .inject_on("/v1/company/info", Fault::ServerError(502), 1);
    client
        .companies()
        .get(&page.items[0].company_id)
        .await
        .unwrap();

    // Always throttled: the error is a rate-limit error after the attempts.
    let err = failing(
        &fake,
        "/v1/company/list",
        Fault::Throttled,
        first_page(&client),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);

    // A write is not replayed after a 5xx (it may have happened).
    fake.faults()
        .inject_on("/v1/company/push", Fault::ServerError(503), 1);
    let err = client.companies().save(&new_company()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert_eq!(fake.received_on("/v1/company/push").await.len(), 1);
    // But it is retried after a throttle refusal.
    fake.faults()
        .inject_on("/v1/company/push", Fault::Throttled, 1);
    client.companies().save(&new_company()).await.unwrap();
}

#[tokio::test]
async fn hostile_bodies_are_decode_errors() {
    let (fake, client) = fake(2).await;
    client.authenticate().await.unwrap();
    for fault in [
        Fault::Malformed,
        Fault::Truncated,
        Fault::Html,
        Fault::Empty,
    ] {
        // A read is asked again: one bad answer is absorbed...
        fake.faults()
            .inject_on("/v1/company/list", fault.clone(), 1);
        let before = fake.received_on("/v1/company/list").await.len();
        first_page(&client).await.unwrap();
        assert_eq!(fake.received_on("/v1/company/list").await.len(), before + 2);
        // ...and bad answers to every attempt give the decode error.
        let err = failing(
            &fake,
            "/v1/company/list",
            fault.clone(),
            first_page(&client),
        )
        .await;
        assert_eq!(err.kind(), ErrorKind::Decode, "{fault:?}: {err}");
        assert!(!err.is_retryable());
        assert!(err.to_string().len() < 600, "short excerpt: {err}");
    }
    // A write's undecodable answer is not replayed: it may have been applied.
    fake.faults()
        .inject_on("/v1/company/push", Fault::Malformed, 1);
    let err = client.companies().save(&new_company()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(fake.received_on("/v1/company/push").await.len(), 1);
    // A well-formed envelope with an unexpected data shape (on every attempt).
    let junk = answer(json!({"list": [{"company_id": {"x": 1}}]}));
    let err = failing(&fake, "/v1/company/list", junk, first_page(&client)).await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("list[0]"), "{err}");
    // Token endpoint sending HTML.
    let fresh = fake.client_builder().build().unwrap();
    fake.faults()
        .inject_on("/v1/oauth2/access_token", Fault::Html, 1);
    assert_eq!(
        fresh.authenticate().await.unwrap_err().kind(),
        ErrorKind::Decode
    );
}

#[tokio::test]
async fn secrets_never_in_debug() {
    let fake = FakeOkki::start().await;
    let client = fake
        .client_builder()
        .credentials(FakeOkki::password_credentials())
        .build()
        .unwrap();
    client.authenticate().await.unwrap();
    let debug = format!(
        "{client:?} {:?} {:?}",
        FakeOkki::credentials(),
        FakeOkki::password_credentials()
    );
    assert!(!debug.contains(CLIENT_SECRET), "{debug}");
    assert!(!debug.contains(PASSWORD) && !debug.contains(&okki::auth::hash_password(PASSWORD)));
    assert!(!debug.contains("eyJ"), "no token: {debug}");
    assert!(debug.contains(CLIENT_ID));
    let err = Client::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let core: integration_core::Error = err.into();
    assert_eq!(core.system(), "okki");
}

fn okki_time(text: &str) -> Option<BeijingTime> {
    BeijingTime::parse(text)
}

#[tokio::test]
async fn the_shared_settings_reach_the_transport_and_request() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(1);
    fake.client_builder()
        .build()
        .unwrap()
        .users()
        .list(&UserQuery::new())
        .await
        .unwrap();
    let client = fake
        .client_builder()
        .user_agent("crm-sync/3.0")
        .retry(integration_core::RetryPolicy::never())
        .build()
        .unwrap();
    client.users().list(&UserQuery::new()).await.unwrap();
    assert_eq!(client.transport().retry_policy().max_attempts, 1);
    let agents: Vec<_> = fake
        .received_on("/v1/user/list")
        .await
        .iter()
        .map(|r| integration_core::testing::header(r, "user-agent").map(str::to_owned))
        .collect();
    assert!(
        agents[0]
            .as_deref()
            .is_some_and(|a| a.starts_with("okki-rs/")),
        "{agents:?}"
    );
    assert_eq!(agents[1].as_deref(), Some("crm-sync/3.0"));
    let token_agent = fake.received_on("/v1/oauth2/access_token").await;
    assert_eq!(
        integration_core::testing::header(&token_agent[1], "user-agent"),
        Some("crm-sync/3.0"),
        "the token call goes through the same transport"
    );
    let err = fake
        .client_builder()
        .base_url("ftp://api.example")
        .build()
        .unwrap_err();
    assert!(matches!(err, okki::Error::Config(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
}

/// The metadata every connector's error gives, read through the trait as
/// generic code would.
fn meta(
    e: &impl integration_core::ErrorMeta,
) -> (&'static str, &str, Option<&str>, &str, ErrorKind) {
    (e.system(), e.api(), e.code(), e.message(), e.kind())
}

#[tokio::test]
async fn an_api_error_gives_its_metadata() {
    let (_fake, client) = fake(1).await;
    let err = client.companies().get(1).await.unwrap_err();
    assert!(
        matches!(&err, okki::Error::Api(_)) && err.code() == Some("404"),
        "{err:?}"
    );
    let expected = (
        "okki",
        "/v1/company/info",
        Some("404"),
        "Not Found Resource",
        ErrorKind::Business,
    );
    assert_eq!(meta(&err), expected);
    assert!(!err.is_retryable());
    assert_eq!(err.request_id(), None, "OKKI's envelope carries none");
    let core = integration_core::Error::from(err);
    assert_eq!(meta(&core), expected, "converts with the same metadata");

    // An OAuth refusal: its `error` is the code, its HTTP status is kept.
    let fake = FakeOkki::start().await;
    let err = Client::builder()
        .base_url(fake.uri())
        .client_credentials(CLIENT_ID, "not-the-secret", ["company"])
        .build()
        .unwrap()
        .authenticate()
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind(), err.http_status()),
        (Some("invalid_client"), ErrorKind::Auth, Some(400))
    );
    assert_eq!(err.message(), "Client authentication failed");
    let core = integration_core::Error::from(err);
    assert_eq!(
        (core.code(), core.http_status()),
        (Some("invalid_client"), Some(400))
    );
}

/// A value OKKI sends that cannot be read fails the page with a decode
/// error naming the field, never a silent `None`; so does a junk total.
#[tokio::test]
async fn junk_in_a_list_row_is_a_decode_error_naming_the_field() {
    let (fake, client) = fake(2).await;
    let rows = answer(json!({"list": [
        {"opportunity_id": 1, "amount": "12.50"},
        {"opportunity_id": 2, "amount": "lots"},
    ], "totalItem": 2}));
    let err = failing(
        &fake,
        "/v1/opportunity/list",
        rows,
        client.opportunities().list(&OpportunityQuery::new()),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("field `list[1].amount`"), "{err}");

    let total = answer(json!({"list": [], "count": "several"}));
    let err = failing(
        &fake,
        "/v1/invoices/order/list",
        total,
        client.orders().list(&OrderQuery::new()),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("field `count`"), "{err}");

    // A detail names its field too.
    let star = answer(json!({"company_id": 1, "star": "five"}));
    let err = failing(&fake, "/v1/company/info", star, client.companies().get(1)).await;
    assert!(err.to_string().contains("field `star`"), "{err}");
}

/// `next` is the query of the following page and pages end as before.
#[tokio::test]
async fn a_page_carries_the_query_of_the_next() {
    let (_fake, client) = fake(25).await;
    let orders = client.orders();
    let first = orders.list(&OrderQuery::new().page_size(10)).await.unwrap();
    let next = first.next.clone().unwrap();
    assert_eq!((next.page, next.page_size), (2, 10));
    let last = orders.list(&next.page(3)).await.unwrap();
    assert_eq!(
        (last.items.len(), last.next),
        (first.total.unwrap() as usize - 20, None)
    );
    let pages: Vec<_> = orders
        .pages(OrderQuery::new().page_size(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.total == first.total));
}

/// The fake is driven as every connector's fake is, through the shared
/// trait: a sandbox or a generic test needs nothing crate-specific.
#[tokio::test]
async fn the_fake_is_driven_through_the_shared_fake_trait() {
    use integration_core::testing::Fake;

    async fn list_users<F: Fake<Builder = okki::ClientBuilder>>() -> usize {
        let fake = F::start().await;
        let client = fake.client_builder().build().unwrap();
        // The first call fetches the access token: count the second.
        client.users().list(&UserQuery::default()).await.unwrap();
        let before = fake.received().await.len();
        fake.faults().inject(Fault::Throttled, 1);
        client.users().list(&UserQuery::default()).await.unwrap();
        fake.received().await.len() - before
    }
    assert_eq!(
        list_users::<FakeOkki>().await,
        2,
        "throttled, then answered"
    );
    let fake = <FakeOkki as Fake>::start().await;
    assert_eq!(Fake::base_url(&fake), fake.uri());
    assert_eq!(Fake::credentials(&fake).client_id, CLIENT_ID);
}
