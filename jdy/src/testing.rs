//! A stateful fake jdy server, V1 and V2 on one port (feature `testing`).
//!
//! It models the real service as the fact sheet describes it:
//!
//! - **V2**: checks the six `X-Api-*` headers on every call, recomputes the
//!   signature from the decoded query with its own encoder, rejects a
//!   timestamp more than 5 minutes off, serves `push_app_authorize` (array of
//!   authorisations) and `kingdee_auth_token` (`data["app-token"]`, checked
//!   against the current, rotatable app secret: `1030002006` when wrong),
//!   requires `app-token` on `/jdy/v2/*`, and answers `404 No Route` to a
//!   wrong `X-GW-Router-Addr`. A missing one is served: the generated
//!   official PHP SDK never sends it and its calls work.
//! - **V1**: `access_token` from client id/secret + user login (with
//!   `expires_in` when [`FakeState::v1_expires_in`] is set), account
//!   groups, business calls checked for the token and the `accountId` /
//!   `groupName` headers; `{success, data}` envelopes, HTTP 519 with
//!   `description_cn` for gateway errors.
//! - Purchase inbound and sales outbound lists with every filter, detail
//!   with lines (the V2 list omits the lines, the V1 list carries them),
//!   customers / suppliers / materials list, detail and save (stored, so
//!   later reads see them), paging with the real rules (page size capped
//!   at 100, `count` as text, `total_page`).
//! - Faults through the core kit; seeding with realistic data.
//!
//! Error codes the fact sheet does not know (bad signature, stale
//! timestamp, invalid token, throttling, validation) are this fake's own
//! choice; see [`codes`].

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::MutexGuard;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use integration_core::ClientConfig;
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, Request, ResponseTemplate, fast_retry, matchers,
};
use integration_core::types::beijing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::client::{Client, ClientBuilder, Credentials, V1Credentials, V2Credentials};

/// The V2 developer application's client id the fake accepts.
pub const CLIENT_ID: &str = "205022";
/// The V2 client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-client-secret-7d1e4c9a2b";
/// The authorisation instance the fake knows.
pub const OUTER_INSTANCE_ID: &str = "1001889900112233";
/// The account book id of the fake's (only) V2 authorisation.
pub const ACCOUNT_ID: &str = "1611260000000000101";
/// The fake's V2 app key.
pub const APP_KEY: &str = "fkApp01";
/// The routing domain the fake hands out (and the only `X-GW-Router-Addr`
/// it accepts when one is sent).
pub const DOMAIN: &str = "https://tf.jdy.com";
/// The V1 client id the fake accepts.
pub const V1_CLIENT_ID: &str = "jdy-v1-demo";
/// The V1 client secret the fake accepts.
pub const V1_CLIENT_SECRET: &str = "fake-v1-secret-55aa";
/// The V1 login the fake accepts.
pub const V1_USERNAME: &str = "13800138000";
/// The V1 password the fake accepts.
pub const V1_PASSWORD: &str = "fake-password-9q8w";
/// The V1 account the fake's credentials select.
pub const V1_ACCOUNT_ID: &str = "8890001";
/// The V1 account group the fake's credentials select (the fake lists a
/// second one, so a selection is required).
pub const V1_GROUP_NAME: &str = "华东贸易账套";

/// Codes the fake answers with. Only [`codes::APP_KEY_CHECK_FAILED`] is
/// documented; the others are the fake's choice (the real ones are unknown).
pub mod codes {
    /// `授权密钥校验失败` (documented).
    pub const APP_KEY_CHECK_FAILED: i64 = 1_030_002_006;
    /// Bad `X-Api-Signature` (fake's choice).
    pub const SIGNATURE: i64 = 1_030_002_001;
    /// Timestamp more than 5 minutes off (fake's choice).
    pub const TIMESTAMP: i64 = 1_030_002_002;
    /// Unknown client id or missing signing header (fake's choice).
    pub const CLIENT: i64 = 1_030_002_003;
    /// Invalid or expired `app-token` (fake's choice).
    pub const TOKEN: i64 = 1_030_002_005;
    /// Validation failure of a save (fake's choice).
    pub const VALIDATION: i64 = 2_000_001_001;
    /// Throttled (fake's choice; sent with HTTP 429).
    pub const THROTTLED: i64 = 429;
}

/// The fake's records and credentials state.
#[derive(Debug, Default)]
pub struct FakeState {
    /// The current V2 app secret (see [`FakeJdy::rotate_app_secret`]).
    pub app_secret: String,
    /// Valid V2 app tokens.
    pub app_tokens: HashSet<String>,
    /// Valid V1 access tokens.
    pub access_tokens: HashSet<String>,
    /// Purchase inbound bills, V2 field names, with `material_entity`.
    pub pur_inbound: Vec<Value>,
    /// Sales outbound bills, V2 field names, with `material_entity`.
    pub sal_out_bound: Vec<Value>,
    /// Customers.
    pub customers: Vec<Value>,
    /// Suppliers.
    pub suppliers: Vec<Value>,
    /// Materials.
    pub materials: Vec<Value>,
    /// `push_app_authorize` calls served.
    pub authorize_calls: u32,
    /// `kingdee_auth_token` calls served (successful or not).
    pub token_calls: u32,
    /// V1 `access_token` calls served.
    pub v1_token_calls: u32,
    /// The `expires_in` the V1 token answer carries next to `access_token`
    /// (`None`: left out). Any JSON value, so tests can send a number,
    /// numeric text or junk.
    pub v1_expires_in: Option<Value>,
    next_id: u64,
}

impl FakeState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 1_700_000_000_000_000_000_u64 + self.next_id)
    }
}

struct JdyFaultStyle;

impl FaultStyle for JdyFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429).set_body_json(json!({
            "errcode": codes::THROTTLED, "description": "请求过于频繁，请稍后再试", "success": false, "data": null
        }))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({
            "errcode": codes::TOKEN, "description": "app-token无效或已过期", "success": false,
            "code": "1001", "description_cn": "token无效或已过期", "data": null
        }))
    }
}

/// A running fake jdy server (V1 and V2).
pub struct FakeJdy {
    server: FakeServer<FakeState>,
}

impl std::fmt::Debug for FakeJdy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeJdy")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl FakeJdy {
    /// Starts an empty fake on a free loopback port.
    pub async fn start() -> Self {
        let server = FakeServer::start(initial_state(), JdyFaultStyle).await;
        Self::mount(server).await
    }

    /// Starts an empty fake on `addr` (for a sandbox on a fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let server = FakeServer::start_on(addr, initial_state(), JdyFaultStyle).await?;
        Ok(Self::mount(server).await)
    }

    async fn mount(server: FakeServer<FakeState>) -> Self {
        server.route(matchers::any(), handle).await;
        Self { server }
    }

    /// The base URL to give [`ClientBuilder::base_url`].
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The address the fake listens on.
    pub fn address(&self) -> &SocketAddr {
        self.server.address()
    }

    /// The V2 credentials the fake accepts.
    pub fn v2_credentials() -> V2Credentials {
        V2Credentials::new(CLIENT_ID, CLIENT_SECRET, OUTER_INSTANCE_ID).account_id(ACCOUNT_ID)
    }

    /// The V1 credentials the fake accepts (with the account group chosen).
    pub fn v1_credentials() -> V1Credentials {
        V1Credentials::new(V1_CLIENT_ID, V1_CLIENT_SECRET, V1_USERNAME, V1_PASSWORD)
            .account_id(V1_ACCOUNT_ID)
            .group_name(V1_GROUP_NAME)
    }

    /// A client builder pointed at the fake, with fast retries and no rate
    /// limit; add credentials.
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .timeout(Some(Duration::from_secs(10)))
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A V2 client for the fake.
    pub fn v2_client(&self) -> Client {
        match self
            .client_builder()
            .credentials(Self::v2_credentials())
            .build()
        {
            Ok(client) => client,
            Err(e) => panic!("the fake's V2 client must build: {e}"),
        }
    }

    /// A V1 client for the fake.
    pub fn v1_client(&self) -> Client {
        match self
            .client_builder()
            .credentials(Self::v1_credentials())
            .build()
        {
            Ok(client) => client,
            Err(e) => panic!("the fake's V1 client must build: {e}"),
        }
    }

    /// The state, locked (do not hold it across an await).
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Requests received so far whose path contains `path_contains`.
    pub async fn received_on(&self, path_contains: &str) -> Vec<Request> {
        self.server.received_on(path_contains).await
    }

    /// Rotates the V2 app secret (as jdy does about daily): tokens asked
    /// for with the old secret's signature get `1030002006`.
    pub fn rotate_app_secret(&self) {
        let mut state = self.state();
        state.next_id += 1;
        state.app_secret = format!("rotated-app-secret-{}", state.next_id);
    }

    /// Invalidates every issued V1 and V2 token.
    pub fn expire_tokens(&self) {
        let mut state = self.state();
        state.app_tokens.clear();
        state.access_tokens.clear();
    }

    /// Seeds reproducible, realistic data: 8 suppliers, 8 customers, 12
    /// materials, `bills` purchase inbound bills and `bills / 2` sales
    /// outbound bills spread over January–June 2026, with 1–4 lines each.
    pub fn seed(&self, bills: usize, seed: u64) {
        let mut state = self.state();
        seed_state(&mut state, bills, seed);
    }

    /// Adds a purchase inbound bill (V2 field names; `id`, times and
    /// `total_amount` are filled when missing) and returns its id.
    pub fn insert_pur_inbound(&self, mut bill: Value) -> String {
        let mut state = self.state();
        let id = state.new_id();
        if let Value::Object(map) = &mut bill {
            map.entry("id").or_insert_with(|| Value::String(id.clone()));
            let now = beijing_text(Utc::now());
            map.entry("create_time")
                .or_insert_with(|| Value::String(now.clone()));
            map.entry("modify_time")
                .or_insert_with(|| Value::String(now));
        }
        let id = bill["id"].as_str().unwrap_or_default().to_owned();
        state.pur_inbound.push(bill);
        id
    }

    /// Marks a purchase inbound bill as modified now; returns whether it exists.
    pub fn touch_pur_inbound(&self, id: &str) -> bool {
        let mut state = self.state();
        let now = beijing_text(Utc::now());
        match state.pur_inbound.iter_mut().find(|b| b["id"] == id) {
            Some(bill) => {
                bill["modify_time"] = Value::String(now);
                true
            }
            None => false,
        }
    }
}

/// The fake as every connector's fake is driven ([`Fake`]), speaking V2 (the
/// current API). Unlike [`FakeJdy::client_builder`], which leaves the version
/// to the test, this builder carries the V2 credentials: the trait's builder
/// comes with the fake's credentials.
#[async_trait::async_trait]
impl Fake for FakeJdy {
    type Builder = ClientBuilder;
    type Credentials = Credentials;

    async fn start() -> Self {
        FakeJdy::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeJdy::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credentials(&self) -> Credentials {
        Self::v2_credentials().into()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeJdy::client_builder(self).credentials(Self::v2_credentials())
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

fn initial_state() -> FakeState {
    FakeState {
        app_secret: "fake-app-secret-0001".to_owned(),
        ..FakeState::default()
    }
}

// ---------------------------------------------------------------- helpers

fn beijing_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn parse_beijing_ms(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(
        beijing()
            .from_local_datetime(&naive)
            .single()?
            .timestamp_millis(),
    )
}

fn v2_error(code: i64, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": code, "description": description, "data": null}))
}

fn v2_ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": 0, "description": "success", "data": data}))
}

fn v1_ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": data}))
}

fn v1_fail(code: &str, cn: &str, en: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"success": false, "code": code, "description_cn": cn, "message": en}))
}

fn v1_gateway(code: &str, cn: &str) -> ResponseTemplate {
    ResponseTemplate::new(519).set_body_json(json!({"code": code, "description_cn": cn}))
}

/// A header as text; raw UTF-8 is accepted (V1 sends `groupName`, often
/// Chinese, as raw UTF-8 bytes).
fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// The fake's own percent-encoder (form encoding, then fixed to RFC 3986),
/// written apart from the client's so the two check each other.
fn fake_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

fn expected_signature(secret: &str, req: &Request, nonce: &str, timestamp: &str) -> String {
    let mut pairs: Vec<(String, String)> = req
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let params: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", fake_encode(k), fake_encode(&fake_encode(v))))
        .collect();
    let text = format!(
        "{}\n{}\n{}\nx-api-nonce:{}\nx-api-timestamp:{}\n",
        req.method.as_str().to_uppercase(),
        fake_encode(req.url.path()),
        params.join("&"),
        nonce,
        timestamp
    );
    crate::auth::hmac_hex_base64(secret, &text)
}

/// The V2 gateway checks; `None` when the request passes.
fn check_v2_signature(req: &Request) -> Option<ResponseTemplate> {
    if header(req, "X-Api-ClientID") != Some(CLIENT_ID) {
        return Some(v2_error(codes::CLIENT, "clientId不存在或未授权"));
    }
    if header(req, "X-Api-Auth-Version") != Some("2.0")
        || header(req, "X-Api-SignHeaders")
            .map(|s| s.replace(' ', "").to_lowercase())
            .as_deref()
            != Some("x-api-timestamp,x-api-nonce")
    {
        return Some(v2_error(
            codes::CLIENT,
            "缺少签名请求头X-Api-Auth-Version/X-Api-SignHeaders",
        ));
    }
    let (Some(timestamp), Some(nonce), Some(signature)) = (
        header(req, "X-Api-TimeStamp"),
        header(req, "X-Api-Nonce"),
        header(req, "X-Api-Signature"),
    ) else {
        return Some(v2_error(codes::CLIENT, "缺少签名请求头"));
    };
    let Ok(ts) = timestamp.parse::<i64>() else {
        return Some(v2_error(codes::TIMESTAMP, "X-Api-TimeStamp格式错误"));
    };
    if (Utc::now().timestamp_millis() - ts).abs() > 5 * 60 * 1000 {
        return Some(v2_error(codes::TIMESTAMP, "时间戳已过期(有效期5分钟)"));
    }
    if expected_signature(CLIENT_SECRET, req, nonce, timestamp) != signature {
        return Some(v2_error(codes::SIGNATURE, "签名校验失败"));
    }
    None
}

fn query_map(req: &Request) -> Map<String, Value> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

// ---------------------------------------------------------------- dispatch

fn handle(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    let path = req.url.path().to_owned();
    let method = req.method.as_str().to_uppercase();
    if path.starts_with("/jdyconnector/") || path.starts_with("/jdy/v2/") {
        if let Some(reject) = check_v2_signature(req) {
            return reject;
        }
        return match (method.as_str(), path.as_str()) {
            ("POST", crate::client::PUSH_APP_AUTHORIZE) => push_app_authorize(state, req),
            ("GET", crate::client::KINGDEE_AUTH_TOKEN) => auth_token(state, req),
            _ if path.starts_with("/jdy/v2/") => v2_business(state, req, &method, &path),
            _ => ResponseTemplate::new(404).set_body_string("No Route"),
        };
    }
    match path.as_str() {
        crate::client::V1_ACCESS_TOKEN => v1_token(state, req),
        crate::client::V1_ACCOUNT_GROUP => v1_groups(state, req),
        _ if path.starts_with("/jdy/") && method == "POST" => v1_business(state, req, &path),
        _ => ResponseTemplate::new(404).set_body_string("No Route"),
    }
}

fn push_app_authorize(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.authorize_calls += 1;
    let q = query_map(req);
    if q.get("outerInstanceId").and_then(Value::as_str) != Some(OUTER_INSTANCE_ID) {
        return v2_ok(json!([]));
    }
    v2_ok(json!([{
        "appKey": APP_KEY,
        "appSecret": state.app_secret,
        "domain": DOMAIN,
        "accountId": ACCOUNT_ID,
        "serviceId": "200000000",
        "accountName": "苏州华创贸易有限公司",
        "agreementCompanyName": "苏州华创贸易有限公司",
        "outerInstanceId": OUTER_INSTANCE_ID,
        "groupName": "华创贸易",
        "status": 1
    }]))
}

fn auth_token(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.token_calls += 1;
    let q = query_map(req);
    let app_key = q.get("app_key").and_then(Value::as_str).unwrap_or_default();
    let signature = q
        .get("app_signature")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if app_key != APP_KEY || signature != crate::auth::app_signature(APP_KEY, &state.app_secret) {
        return v2_error(codes::APP_KEY_CHECK_FAILED, "授权密钥校验失败");
    }
    let token = format!("fake-app-token-{}", state.new_id());
    state.app_tokens.insert(token.clone());
    v2_ok(json!({"uid": 20_000_001, "app-token": token}))
}

fn v1_token(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.v1_token_calls += 1;
    let q = query_map(req);
    let get = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default();
    if get("client_id") != V1_CLIENT_ID || get("client_secret") != V1_CLIENT_SECRET {
        return ResponseTemplate::new(200).set_body_json(
            json!({"errcode": 10_001, "description": "client_id或client_secret错误", "data": null}),
        );
    }
    if get("username") != V1_USERNAME || get("password") != V1_PASSWORD {
        return ResponseTemplate::new(200).set_body_json(
            json!({"errcode": 10_002, "description": "用户名或密码错误", "data": null}),
        );
    }
    let token = format!("fake-access-token-{}", state.new_id());
    state.access_tokens.insert(token.clone());
    let mut data = json!({"access_token": token, "uid": "88000001"});
    if let Some(expires_in) = &state.v1_expires_in {
        data["expires_in"] = expires_in.clone();
    }
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": 0, "description": "成功", "data": data}))
}

fn v1_token_ok(state: &FakeState, req: &Request) -> bool {
    query_map(req)
        .get("access_token")
        .and_then(Value::as_str)
        .is_some_and(|t| state.access_tokens.contains(t))
}

fn v1_groups(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    if !v1_token_ok(state, req) {
        return v1_gateway("1001", "access_token无效或已过期");
    }
    v1_ok(json!([{
        "serviceId": "100200300",
        "accountGroups": [
            {"accountId": V1_ACCOUNT_ID, "groupId": "1", "groupName": V1_GROUP_NAME},
            {"accountId": "8890002", "groupId": "2", "groupName": "华南分公司账套"}
        ]
    }]))
}

// ---------------------------------------------------------------- V2 business

fn v2_business(state: &mut FakeState, req: &Request, method: &str, path: &str) -> ResponseTemplate {
    let token_ok = header(req, "app-token").is_some_and(|t| state.app_tokens.contains(t));
    if !token_ok {
        return v2_error(codes::TOKEN, "app-token无效或已过期");
    }
    // Enforcement is unconfirmed (the PHP SDK never sends the header), so
    // only a wrong value is refused, as the gateway does for a wrong IDC.
    if header(req, "X-GW-Router-Addr").is_some_and(|domain| domain != DOMAIN) {
        return ResponseTemplate::new(404).set_body_string("No Route");
    }
    let q = query_map(req);
    let entity = path.trim_start_matches("/jdy/v2/");
    match (method, entity) {
        ("GET", "scm/pur_inbound") => v2_ok(list_bills(
            &state.pur_inbound,
            &Filter::from_v2(&q),
            false,
            false,
        )),
        ("GET", "scm/sal_out_bound") => v2_ok(list_bills(
            &state.sal_out_bound,
            &Filter::from_v2(&q),
            false,
            false,
        )),
        ("GET", "scm/pur_inbound_detail") => detail_v2(&state.pur_inbound, &q),
        ("GET", "scm/sal_out_bound_detail") => detail_v2(&state.sal_out_bound, &q),
        ("GET", "bd/customer") => {
            v2_ok(list_basedata(&state.customers, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/supplier") => {
            v2_ok(list_basedata(&state.suppliers, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/material") => {
            v2_ok(list_basedata(&state.materials, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/customer_detail") => detail_v2(&state.customers, &q),
        ("GET", "bd/supplier_detail") => detail_v2(&state.suppliers, &q),
        ("GET", "bd/material_detail") => detail_v2(&state.materials, &q),
        ("POST", "bd/customer" | "bd/supplier" | "bd/material") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(_) => return v2_error(codes::VALIDATION, "请求体不是合法的JSON"),
            };
            let id = state.new_id();
            let store = match entity {
                "bd/customer" => &mut state.customers,
                "bd/supplier" => &mut state.suppliers,
                _ => &mut state.materials,
            };
            match save(store, body, id) {
                Ok((id, number)) => {
                    v2_ok(json!({"ids": [id.clone()], "id_number_map": {id: number}}))
                }
                Err(message) => v2_error(codes::VALIDATION, &message),
            }
        }
        _ => ResponseTemplate::new(519).set_body_string("API Not Found"),
    }
}

fn detail_v2(store: &[Value], q: &Map<String, Value>) -> ResponseTemplate {
    let by = |k: &str| q.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let found = match (by("id"), by("number")) {
        (Some(id), _) => store.iter().find(|r| r["id"] == id),
        (None, Some(number)) => store
            .iter()
            .find(|r| r["number"] == number || r["bill_no"] == number),
        (None, None) => return v2_error(codes::VALIDATION, "参数id和number不能同时为空"),
    };
    match found {
        Some(record) => v2_ok(record.clone()),
        None => v2_error(codes::VALIDATION, "数据不存在"),
    }
}

/// Saves a basic-data record: update by id, otherwise create; numbers are
/// unique. Returns (id, number) or the validation message.
fn save(store: &mut Vec<Value>, body: Value, new_id: String) -> Result<(String, String), String> {
    let Value::Object(mut record) = body else {
        return Err("请求体必须是对象".into());
    };
    let name = record
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.trim().is_empty() {
        return Err("参数name不能为空".into());
    }
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let number = match record
        .get("number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_owned(),
        None => format!("AUTO{}", &new_id[new_id.len().saturating_sub(6)..]),
    };
    if let Some(other) = store
        .iter()
        .find(|r| r["number"] == number.as_str() && r["id"].as_str() != id.as_deref())
    {
        return Err(format!(
            "编码[{number}]已存在(id {})",
            other["id"].as_str().unwrap_or_default()
        ));
    }
    let now = beijing_text(Utc::now());
    record.insert("number".into(), Value::String(number.clone()));
    record.insert("modify_time".into(), Value::String(now.clone()));
    match id {
        Some(id) => {
            let Some(existing) = store.iter_mut().find(|r| r["id"] == id.as_str()) else {
                return Err(format!("参数id[{id}]不存在"));
            };
            if let Value::Object(existing) = existing {
                for (k, v) in record {
                    existing.insert(k, v);
                }
            }
            Ok((id, number))
        }
        None => {
            record.insert("id".into(), Value::String(new_id.clone()));
            record.insert("create_time".into(), Value::String(now));
            store.push(Value::Object(record));
            Ok((new_id, number))
        }
    }
}

// ---------------------------------------------------------------- V1 business

fn v1_business(state: &mut FakeState, req: &Request, path: &str) -> ResponseTemplate {
    if !v1_token_ok(state, req) {
        return v1_gateway("1001", "access_token无效或已过期");
    }
    if header(req, "accountId") != Some(V1_ACCOUNT_ID)
        || header(req, "groupName") != Some(V1_GROUP_NAME)
    {
        return v1_fail(
            "1002",
            "账套不存在或无权访问(accountId/groupName)",
            "account not found",
        );
    }
    let body: Value = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => return v1_fail("1003", "请求参数必须是JSON对象", "invalid body"),
    };
    let body_map = body.as_object().cloned().unwrap_or_default();
    let id = body.get("id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_i64().map(|n| n.to_string()))
    });
    let detail = |store: &[Value]| match id
        .as_deref()
        .and_then(|id| store.iter().find(|r| r["id"] == id))
    {
        Some(record) => v1_ok(to_v1(record)),
        None => v1_fail("1004", "单据不存在", "not found"),
    };
    match path {
        "/jdy/pur/pur_inbound_list" => v1_ok(list_bills(
            &state.pur_inbound,
            &Filter::from_v1(&body_map),
            true,
            true,
        )),
        "/jdy/sal/sal_outbound_list" => v1_ok(list_bills(
            &state.sal_out_bound,
            &Filter::from_v1(&body_map),
            true,
            true,
        )),
        "/jdy/pur/pur_inbound_detail" => detail(&state.pur_inbound),
        "/jdy/sal/sal_outbound_detail" => detail(&state.sal_out_bound),
        "/jdy/basedata/customer_list" => v1_ok(list_basedata(
            &state.customers,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/supplier_list" => v1_ok(list_basedata(
            &state.suppliers,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/material_list" => v1_ok(list_basedata(
            &state.materials,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/customer_detail" => detail(&state.customers),
        "/jdy/basedata/supplier_detail" => detail(&state.suppliers),
        "/jdy/basedata/material_detail" => detail(&state.materials),
        "/jdy/basedata/customer_save" | "/jdy/basedata/supplier_save" => {
            let new_id = state.new_id();
            let store = if path.contains("customer") {
                &mut state.customers
            } else {
                &mut state.suppliers
            };
            match save(store, body, new_id) {
                Ok((id, _)) => v1_ok(json!({"successPkIds": [id]})),
                Err(message) => v1_fail("1005", &message, "validation failed"),
            }
        }
        _ => v1_gateway("404", "接口不存在"),
    }
}

/// Renames V2 field names to V1's (`bill_no` → `billno`, `supplier_id` →
/// `supplierid_id`, ...), lines included.
fn to_v1(record: &Value) -> Value {
    const HEAD: &[(&str, &str)] = &[
        ("bill_no", "billno"),
        ("bill_date", "billdate"),
        ("bill_status", "billstatus"),
        ("trans_type", "transtype"),
        ("create_time", "createtime"),
        ("modify_time", "modifytime"),
        ("audit_time", "audittime"),
        ("supplier_id", "supplierid_id"),
        ("supplier_name", "supplierid_name"),
        ("supplier_number", "supplierid_number"),
        ("customer_id", "customerid_id"),
        ("customer_name", "customerid_name"),
        ("customer_number", "customerid_number"),
        ("dept_id", "deptid_id"),
        ("dept_name", "deptid_name"),
        ("emp_id", "empid_id"),
        ("emp_name", "empid_name"),
        ("total_amount", "totalamount"),
    ];
    const LINE: &[(&str, &str)] = &[
        ("material_id", "materialid_id"),
        ("material_name", "materialid_name"),
        ("material_number", "materialid_number"),
        ("material_model", "materialid_model"),
        ("stock_id", "stockid_id"),
        ("stock_name", "stockid_name"),
        ("base_qty", "baseqty"),
        ("batch_no", "batchno"),
        ("remark", "comment"),
    ];
    let rename = |map: &Map<String, Value>, table: &[(&str, &str)]| -> Map<String, Value> {
        map.iter()
            .map(|(k, v)| {
                let k = table
                    .iter()
                    .find(|(v2, _)| v2 == k)
                    .map_or(k.as_str(), |(_, v1)| v1);
                (k.to_owned(), v.clone())
            })
            .collect()
    };
    let Value::Object(map) = record else {
        return record.clone();
    };
    let mut out = rename(map, HEAD);
    if let Some(Value::Array(lines)) = map.get("material_entity") {
        let lines = lines
            .iter()
            .map(|l| match l {
                Value::Object(l) => Value::Object(rename(l, LINE)),
                other => other.clone(),
            })
            .collect();
        out.insert("material_entity".into(), Value::Array(lines));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------- lists

#[derive(Debug, Default)]
struct Filter {
    dept: Vec<String>,
    emp: Vec<String>,
    supplier: Vec<String>,
    customer: Vec<String>,
    status: String,
    create_date: (Option<NaiveDate>, Option<NaiveDate>),
    modify_date: (Option<NaiveDate>, Option<NaiveDate>),
    create_ms: (Option<i64>, Option<i64>),
    modify_ms: (Option<i64>, Option<i64>),
    bill_date: (Option<NaiveDate>, Option<NaiveDate>),
    search: String,
    page: usize,
    page_size: usize,
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Filter {
    fn build(get: impl Fn(&str) -> String, names: [&str; 17]) -> Self {
        let list = |k: &str| -> Vec<String> {
            get(k)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let day = |k: &str| NaiveDate::parse_from_str(&get(k), "%Y-%m-%d").ok();
        let ms = |k: &str| get(k).parse::<i64>().ok().filter(|n| *n >= 0);
        let num = |k: &str, default: usize| {
            get(k)
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        Filter {
            dept: list(names[0]),
            emp: list(names[1]),
            supplier: list(names[2]),
            customer: list(names[3]),
            status: get(names[4]),
            create_date: (day(names[5]), day(names[6])),
            modify_date: (day(names[7]), day(names[8])),
            create_ms: (ms(names[9]), ms(names[10])),
            modify_ms: (ms(names[11]), ms(names[12])),
            bill_date: (day(names[13]), day(names[14])),
            search: get("search"),
            page: num(names[15], 1),
            // Default 10, capped at 100.
            page_size: num(names[16], 10).min(100),
        }
    }

    fn from_v2(q: &Map<String, Value>) -> Self {
        Self::build(
            |k| text_of(q.get(k)),
            [
                "dept_id",
                "emp_id",
                "supplier_id",
                "customer_id",
                "bill_status",
                "start_date",
                "end_date",
                "begin_date",
                "expire_date",
                "create_start_time",
                "create_end_time",
                "modify_start_time",
                "modify_end_time",
                "start_bill_date",
                "end_bill_date",
                "page",
                "page_size",
            ],
        )
    }

    fn from_v1(body: &Map<String, Value>) -> Self {
        Self::build(
            |k| text_of(body.get(k)),
            [
                "deptid",
                "empid",
                "supplierid",
                "customerid",
                "billstatus",
                "startdate",
                "enddate",
                "begindate",
                "expiredate",
                "starttime",
                "endtime",
                "begintime",
                "expiretime",
                "startbilldate",
                "endbilldate",
                "page",
                "pagesize",
            ],
        )
    }

    fn in_ms(range: (Option<i64>, Option<i64>), value: Option<i64>) -> bool {
        match value {
            Some(v) => range.0.is_none_or(|from| v >= from) && range.1.is_none_or(|to| v <= to),
            None => range.0.is_none() && range.1.is_none(),
        }
    }

    fn in_days(range: (Option<NaiveDate>, Option<NaiveDate>), value: Option<NaiveDate>) -> bool {
        match value {
            Some(v) => range.0.is_none_or(|from| v >= from) && range.1.is_none_or(|to| v <= to),
            None => range.0.is_none() && range.1.is_none(),
        }
    }

    fn matches_bill(&self, bill: &Value) -> bool {
        let field = |k: &str| text_of(bill.get(k));
        let one_of = |wanted: &[String], k: &str| wanted.is_empty() || wanted.contains(&field(k));
        let time = |k: &str| parse_beijing_ms(&field(k));
        let day_of_time = |k: &str| {
            NaiveDate::parse_from_str(field(k).get(..10).unwrap_or_default(), "%Y-%m-%d").ok()
        };
        let search_ok = self.search.is_empty() || {
            let mut haystack = vec![
                field("bill_no"),
                field("supplier_name"),
                field("customer_name"),
                field("emp_name"),
            ];
            for line in bill["material_entity"].as_array().into_iter().flatten() {
                haystack.push(text_of(line.get("material_name")));
            }
            haystack.iter().any(|h| h.contains(&self.search))
        };
        one_of(&self.dept, "dept_id")
            && one_of(&self.emp, "emp_id")
            && one_of(&self.supplier, "supplier_id")
            && one_of(&self.customer, "customer_id")
            && (self.status.is_empty() || field("bill_status") == self.status)
            && Self::in_days(self.create_date, day_of_time("create_time"))
            && Self::in_days(self.modify_date, day_of_time("modify_time"))
            && Self::in_ms(self.create_ms, time("create_time"))
            && Self::in_ms(self.modify_ms, time("modify_time"))
            && Self::in_days(
                self.bill_date,
                NaiveDate::parse_from_str(&field("bill_date"), "%Y-%m-%d").ok(),
            )
            && search_ok
    }

    fn matches_basedata(&self, record: &Value) -> bool {
        let field = |k: &str| text_of(record.get(k));
        (self.search.is_empty()
            || field("number").contains(&self.search)
            || field("name").contains(&self.search))
            && Self::in_ms(self.modify_ms, parse_beijing_ms(&field("modify_time")))
    }
}

/// One page of the matching `rows`; only the page's rows are shaped, so that
/// paging a large store stays linear.
fn page_of(rows: Vec<&Value>, filter: &Filter, v1: bool, shape: impl Fn(&Value) -> Value) -> Value {
    let total = rows.len();
    let total_page = total.div_ceil(filter.page_size);
    let page_rows: Vec<Value> = rows
        .into_iter()
        .skip((filter.page - 1) * filter.page_size)
        .take(filter.page_size)
        .map(shape)
        .collect();
    if v1 {
        json!({"rows": page_rows, "totalpage": total_page})
    } else {
        json!({
            "count": total.to_string(),
            "current_page": filter.page,
            "current_page_size": page_rows.len(),
            "page": filter.page,
            "page_size": filter.page_size,
            "total_page": total_page,
            "rows": page_rows,
        })
    }
}

fn list_bills(store: &[Value], filter: &Filter, v1: bool, with_lines: bool) -> Value {
    let rows = store.iter().filter(|b| filter.matches_bill(b)).collect();
    page_of(rows, filter, v1, |b| {
        let mut row = b.clone();
        if !with_lines && let Value::Object(map) = &mut row {
            map.remove("material_entity");
        }
        if v1 { to_v1(&row) } else { row }
    })
}

fn list_basedata(store: &[Value], filter: &Filter, v1: bool) -> Value {
    let rows = store
        .iter()
        .filter(|r| filter.matches_basedata(r))
        .collect();
    page_of(rows, filter, v1, Value::clone)
}

// ---------------------------------------------------------------- seeding

const SUPPLIERS: &[&str] = &[
    "苏州华东五金制品有限公司",
    "宁波恒达塑胶有限公司",
    "东莞市鑫源电子科技有限公司",
    "杭州天元包装材料有限公司",
    "佛山顺德美佳电器配件厂",
    "无锡市锦程纺织品有限公司",
    "温州瑞丰阀门有限公司",
    "合肥科隆化工原料有限公司",
];
const CUSTOMERS: &[(&str, &str)] = &[
    ("上海云启商贸有限公司", "上海市浦东新区张江路88号"),
    ("北京博远科技发展有限公司", "北京市海淀区中关村大街27号"),
    ("广州市粤华贸易有限公司", "广州市天河区体育西路191号"),
    ("深圳前海智联供应链有限公司", "深圳市南山区前海大道1号"),
    ("成都蜀锦商行", "成都市锦江区春熙路45号"),
    ("武汉江汉百货有限公司", "武汉市江汉区解放大道690号"),
    ("南京金陵建材经营部", "南京市鼓楼区中山北路101号"),
    ("西安长安食品批发部", "西安市雁塔区小寨西路26号"),
];
const MATERIALS: &[(&str, &str, &str)] = &[
    ("不锈钢六角螺栓", "M8×30", "盒"),
    ("PP塑料周转箱", "600×400×280", "个"),
    ("贴片电阻", "0603 10KΩ", "卷"),
    ("五层瓦楞纸箱", "50×40×30cm", "个"),
    ("电机散热风扇", "DC12V 80mm", "台"),
    ("涤纶工作服面料", "150cm幅宽", "米"),
    ("铜制球阀", "DN25", "只"),
    ("工业酒精", "95% 25L", "桶"),
    ("LED面板灯", "600×600 36W", "套"),
    ("304不锈钢管", "Φ25×1.5", "根"),
    ("防静电手套", "L码", "双"),
    ("液压油", "46# 18L", "桶"),
];
const DEPTS: &[(&str, &str)] = &[
    ("10001", "采购部"),
    ("10002", "仓储部"),
    ("10003", "销售部"),
];
const EMPS: &[(&str, &str)] = &[
    ("20001", "王建国"),
    ("20002", "李秀英"),
    ("20003", "张伟"),
    ("20004", "刘洋"),
    ("20005", "陈静"),
];
const STOCKS: &[(&str, &str)] = &[("30001", "苏州总仓"), ("30002", "昆山备件仓")];

fn money(rng: &mut StdRng, low: i64, high: i64) -> Decimal {
    Decimal::new(rng.random_range(low * 100..high * 100), 2)
}

fn seed_state(state: &mut FakeState, bills: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let base = Utc
        .with_ymd_and_hms(2026, 1, 5, 1, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let stamp =
        |rng: &mut StdRng| base + chrono::Duration::minutes(rng.random_range(0..(175 * 24 * 60)));

    let mut supplier_ids = Vec::new();
    for (i, name) in SUPPLIERS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        supplier_ids.push((id.clone(), format!("GYS{:04}", i + 1), (*name).to_owned()));
        state.suppliers.push(json!({
            "id": id, "number": format!("GYS{:04}", i + 1), "name": name,
            "contact_person": EMPS[i % EMPS.len()].1, "contact_phone": format!("1390512{:04}", 3000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }
    let mut customer_ids = Vec::new();
    for (i, (name, address)) in CUSTOMERS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        customer_ids.push((id.clone(), format!("KH{:04}", i + 1), (*name).to_owned()));
        state.customers.push(json!({
            "id": id, "number": format!("KH{:04}", i + 1), "name": name, "address": address,
            "contact_phone": format!("1860216{:04}", 5000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }
    let mut material_ids = Vec::new();
    for (i, (name, model, unit)) in MATERIALS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        material_ids.push((
            id.clone(),
            format!("SP{:05}", i + 1),
            (*name).to_owned(),
            (*model).to_owned(),
            (*unit).to_owned(),
        ));
        state.materials.push(json!({
            "id": id, "number": format!("SP{:05}", i + 1), "name": name, "model": model,
            "base_unit_name": unit, "barcode": format!("69{:011}", 12_345_000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }

    let make_bill = |rng: &mut StdRng, state: &mut FakeState, n: usize, purchase: bool| -> Value {
        let id = state.new_id();
        let created = stamp(rng);
        let modified = created + chrono::Duration::minutes(rng.random_range(0..72 * 60));
        let (dept_id, dept_name) = DEPTS[if purchase { 0 } else { 2 }];
        let (emp_id, emp_name) = EMPS[rng.random_range(0..EMPS.len())];
        let mut total = Decimal::ZERO;
        let lines: Vec<Value> = (0..rng.random_range(1..=4))
            .map(|seq| {
                let (mid, mnum, mname, mmodel, unit) = &material_ids[rng.random_range(0..material_ids.len())];
                let (sid, sname) = STOCKS[rng.random_range(0..STOCKS.len())];
                let qty = Decimal::from(rng.random_range(1..200));
                let price = money(rng, 2, 800);
                let amount = (qty * price).round_dp(2);
                total += amount;
                json!({
                    "id": format!("{id}{:02}", seq + 1), "seq": seq + 1,
                    "material_id": mid, "material_number": mnum, "material_name": mname, "material_model": mmodel,
                    "unit_id": "40001", "unit_name": unit, "stock_id": sid, "stock_name": sname,
                    "qty": qty.to_string(), "base_qty": qty.to_string(), "price": price.to_string(),
                    "amount": amount.to_string(), "cess": "13", "batch_no": format!("PH{}", created.format("%Y%m%d")),
                })
            })
            .collect();
        let audited = rng.random_bool(0.7);
        let mut bill = json!({
            "id": id,
            "bill_no": format!("{}{}{:04}", if purchase { "CGRK" } else { "XSCK" }, created.format("%Y%m%d"), n + 1),
            "bill_date": created.with_timezone(&beijing()).format("%Y-%m-%d").to_string(),
            "bill_status": if audited { "C" } else { "Z" },
            "trans_type": if purchase { "2" } else { "1" },
            "create_time": beijing_text(created), "modify_time": beijing_text(modified),
            "audit_time": if audited { beijing_text(modified) } else { String::new() },
            "dept_id": dept_id, "dept_name": dept_name, "emp_id": emp_id, "emp_name": emp_name,
            "total_amount": total.round_dp(2).to_string(),
            "remark": if n % 3 == 0 { "月度补货" } else { "" },
            "material_entity": lines,
        });
        let party = if purchase {
            &supplier_ids
        } else {
            &customer_ids
        };
        let (pid, pnum, pname) = &party[rng.random_range(0..party.len())];
        let prefix = if purchase { "supplier" } else { "customer" };
        bill[format!("{prefix}_id")] = json!(pid);
        bill[format!("{prefix}_number")] = json!(pnum);
        bill[format!("{prefix}_name")] = json!(pname);
        bill
    };
    for n in 0..bills {
        let bill = make_bill(&mut rng, state, n, true);
        state.pur_inbound.push(bill);
    }
    for n in 0..bills / 2 {
        let bill = make_bill(&mut rng, state, n, false);
        state.sal_out_bound.push(bill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_encoder_matches_the_client_encoder() {
        for s in ["abc", "a b+c", "采购 A+B", "x*y~z!'()", "=="] {
            assert_eq!(fake_encode(s), crate::auth::encode(s), "{s}");
        }
    }

    #[test]
    fn seeding_is_reproducible_and_realistic() {
        let mut a = FakeState::default();
        let mut b = FakeState::default();
        seed_state(&mut a, 20, 7);
        seed_state(&mut b, 20, 7);
        assert_eq!(a.pur_inbound, b.pur_inbound);
        assert_eq!(a.pur_inbound.len(), 20);
        assert_eq!(a.sal_out_bound.len(), 10);
        let total: Decimal = a.pur_inbound[0]["total_amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(total.scale(), 2);
        let v1 = to_v1(&a.pur_inbound[0]);
        assert!(
            v1.get("billno").is_some()
                && v1["material_entity"][0].get("materialid_number").is_some()
        );
    }
}
