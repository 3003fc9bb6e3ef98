//! A stateful fake of the YonBIP open API (feature `testing`).
//!
//! [`FakeYonBip`] serves, on loopback:
//! - data-centre discovery `GET /open-auth/dataCenter/getGatewayAddress?tenantId=…`
//!   (answers with this server's `/iuap-api-gateway` and `/iuap-api-auth`);
//! - the token call `GET /iuap-api-auth/open-auth/selfAppAuth/base/v1/getAccessToken`
//!   (and the older `…/selfAppAuth/getAccessToken`), which checks the app key,
//!   the timestamp (±10 min) and the HMAC-SHA256 signature, and issues tokens
//!   that expire after [`FakeState::token_ttl`];
//! - merchant save / list / detail, sales order and product list / detail
//!   under `/iuap-api-gateway/yonbip/…`, each checking `access_token`: a token
//!   it never issued is answered with `310036` (非法token), an expired one with
//!   `1090003500065`, as YonBIP does.
//!
//! Business refusals (validation, a duplicate code, a detail query without
//! id) carry YonBIP's business code `999` ([`CODE_INVALID`]); throttling is
//! HTTP 429 (YonBIP has no known throttling code).
//!
//! Saves are stored and visible to later lists; lists paginate with
//! `pageIndex` from 1, `pageSize` ≤ 500, `recordCount`/`pageCount`. Faults
//! are injected through [`FakeYonBip::faults`]. Seeding helpers add
//! realistic Chinese data.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, Mac};
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, KeyIndex, Match, Request, ResponseTemplate, body_json,
    fast_retry, json_response,
};
use integration_core::types::{BeijingTime, beijing};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::assumed;
use crate::client::ClientBuilder;

/// The app key the fake accepts (the fact sheet's first test vector).
pub const APP_KEY: &str = "41e6b3b5a0e24cd6a0e2d4f1c4b7d0a9";
/// The app secret the fake accepts.
pub const APP_SECRET: &str = "7c9d5a1f0e8b4c3a9f2e6d1b5a8c7e4f";
/// The tenant id the fake's discovery knows.
pub const TENANT_ID: &str = "qyic8c7o";
/// A management org id (管理组织) the fake's data uses.
pub const CREATE_ORG: &str = "1481709712348020742";
/// A customer class id (客户分类) the fake's data uses.
pub const CUSTOMER_CLASS: &str = "1481712151907270669";
/// The gateway path prefix under the fake's URI.
pub const GATEWAY_PREFIX: &str = "/iuap-api-gateway";
/// The token service path prefix under the fake's URI.
pub const AUTH_PREFIX: &str = "/iuap-api-auth";
/// The business error code the fake answers validation failures and
/// duplicates with: YonBIP's `999` ([`assumed::BUSINESS_ERROR_CODE`]).
pub const CODE_INVALID: &str = assumed::BUSINESS_ERROR_CODE;
/// The business error code the fake uses for a record that does not exist
/// (invented).
pub const CODE_NOT_FOUND: &str = "310008";
/// The code the fake's discovery answers for an unknown tenant (invented).
pub const CODE_UNKNOWN_TENANT: &str = "1090003502";

/// The fake's state: credentials it accepts, issued tokens, stored records.
#[derive(Debug)]
pub struct FakeState {
    /// The accepted app key.
    pub app_key: String,
    /// The accepted app secret.
    pub app_secret: String,
    /// The tenant known to discovery.
    pub tenant_id: String,
    /// This server's base URI (set at start).
    pub base_uri: String,
    /// The lifetime announced for new tokens (`expire`, seconds).
    pub token_ttl: Duration,
    /// How far the `timestamp` of a token request may be from the fake's clock.
    pub max_clock_skew: Duration,
    /// How many tokens were issued.
    pub token_fetches: u32,
    /// How many discovery calls were answered.
    pub discoveries: u32,
    /// Merchant codes whose save fails with a business error (a customer
    /// class the tenant refuses), for tests of per-record failures.
    pub reject_codes: BTreeSet<String>,
    /// Whether an insert or update whose Chinese name another merchant has
    /// is refused with `999` 客户名称已存在 (YonBIP's pages show that
    /// refusal; whether every tenant enforces it is not known, so off by
    /// default).
    pub unique_names: bool,
    /// Issued tokens and when they expire (kept after expiry, so an expired
    /// token is told apart from one never issued).
    tokens: HashMap<String, Instant>,
    next_id: u64,
    /// Stored merchants, as JSON objects (everything the client sent is
    /// kept): read with [`FakeState::merchants`], change with
    /// [`FakeState::merchants_mut`].
    merchants: Vec<Map<String, Value>>,
    /// Positions in `merchants` by code, built on first use and dropped by
    /// [`FakeState::merchants_mut`], so that saving a merchant and listing
    /// by code do not scan every merchant.
    by_code: KeyIndex,
    /// Stored sales orders.
    pub sales_orders: Vec<Map<String, Value>>,
    /// Stored products.
    pub products: Vec<Map<String, Value>>,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            app_key: APP_KEY.into(),
            app_secret: APP_SECRET.into(),
            tenant_id: TENANT_ID.into(),
            base_uri: String::new(),
            token_ttl: Duration::from_secs(7200),
            max_clock_skew: Duration::from_secs(600),
            token_fetches: 0,
            discoveries: 0,
            reject_codes: BTreeSet::new(),
            unique_names: false,
            tokens: HashMap::new(),
            next_id: 1_790_000_000_000_000_000,
            merchants: Vec::new(),
            by_code: KeyIndex::default(),
            sales_orders: Vec::new(),
            products: Vec::new(),
        }
    }
}

impl FakeState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Makes every issued token expire now, so calls with one are answered
    /// with the token-expired code.
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        self.tokens.values_mut().for_each(|expires| *expires = now);
    }

    /// The stored merchants.
    pub fn merchants(&self) -> &[Map<String, Value>] {
        &self.merchants
    }

    /// The stored merchants, to change them (drops the index by code).
    pub fn merchants_mut(&mut self) -> &mut Vec<Map<String, Value>> {
        self.by_code.clear();
        &mut self.merchants
    }

    /// The stored merchant with this code (the first, if a change through
    /// [`FakeState::merchants_mut`] made codes repeat).
    pub fn merchant_by_code(&self, code: &str) -> Option<&Map<String, Value>> {
        self.by_code
            .position(&self.merchants, |m| text_of(m.get("code")), code)
            .map(|i| &self.merchants[i])
    }

    /// Whether a save of `data` is refused because a merchant other than
    /// `except_id` has its Chinese name (only with [`FakeState::unique_names`]).
    fn name_taken(&self, data: &Map<String, Value>, except_id: Option<&str>) -> bool {
        let Some(name) = name_zh(data.get("name")).filter(|_| self.unique_names) else {
            return false;
        };
        self.merchants.iter().any(|m| {
            name_zh(m.get("name")).as_deref() == Some(name.as_str())
                && text_of(m.get("id")).as_deref() != except_id
        })
    }

    /// Stores a new merchant, keeping the index by code.
    fn push_merchant(&mut self, merchant: Map<String, Value>) {
        self.by_code
            .pushed(text_of(merchant.get("code")), self.merchants.len());
        self.merchants.push(merchant);
    }
}

/// The fake's throttle and token-expired answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct YonBipFaults;

impl FaultStyle for YonBipFaults {
    /// HTTP 429: there is no known throttling code (`999` is a business code).
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429).set_body_json(json!({"message": "请求过于频繁，请稍后重试"}))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        token_expired()
    }
}

fn envelope(code: &str, message: &str, data: Value) -> ResponseTemplate {
    json_response(&json!({"code": code, "message": message, "data": data}))
}

fn ok(data: Value) -> ResponseTemplate {
    envelope(assumed::SUCCESS_CODE, "操作成功", data)
}

fn fail(code: &str, message: &str) -> ResponseTemplate {
    envelope(code, message, Value::Null)
}

fn token_expired() -> ResponseTemplate {
    fail(assumed::TOKEN_EXPIRED_CODE, "token已过期")
}

fn illegal_token() -> ResponseTemplate {
    fail(assumed::ILLEGAL_TOKEN_CODE, "非法token")
}

/// Matches a method and an exact path.
struct Route {
    method: &'static str,
    path: String,
}

impl Match for Route {
    fn matches(&self, request: &Request) -> bool {
        request.method.as_str() == self.method && request.url.path() == self.path
    }
}

fn route(method: &'static str, path: impl Into<String>) -> Route {
    Route {
        method,
        path: path.into(),
    }
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The fake's own HMAC check (independent of the client's code; both are
/// pinned by the fact sheet's vectors).
fn expected_signature(app_key: &str, app_secret: &str, timestamp: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("appKey{app_key}timestamp{timestamp}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn now_beijing() -> String {
    BeijingTime::from_utc(Utc::now()).to_string()
}

/// A running fake YonBIP server.
pub struct FakeYonBip {
    server: FakeServer<FakeState>,
}

impl std::fmt::Debug for FakeYonBip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeYonBip")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl FakeYonBip {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let server = FakeServer::start(FakeState::default(), YonBipFaults).await;
        Self::mount(server).await
    }

    /// Starts the fake on a given address (for a sandbox on fixed ports).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let server = FakeServer::start_on(addr, FakeState::default(), YonBipFaults).await?;
        Ok(Self::mount(server).await)
    }

    /// The app key and app secret the fake accepts.
    pub fn credentials() -> (&'static str, &'static str) {
        (APP_KEY, APP_SECRET)
    }

    /// The base URI, e.g. `http://127.0.0.1:41234` (the discovery host).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The gateway base URL (`{uri}/iuap-api-gateway`).
    pub fn gateway_url(&self) -> String {
        format!("{}{GATEWAY_PREFIX}", self.uri())
    }

    /// The token base URL (`{uri}/iuap-api-auth`).
    pub fn token_url(&self) -> String {
        format!("{}{AUTH_PREFIX}", self.uri())
    }

    /// A client builder for this fake: its credentials, discovery of
    /// [`TENANT_ID`] on this server, and fast retries ([`fast_retry`]).
    pub fn client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .app_key(APP_KEY)
            .app_secret(APP_SECRET)
            .tenant_id(TENANT_ID)
            .base_url(self.uri())
            .retry(fast_retry())
    }

    /// The underlying kit server (received requests, routes).
    pub fn server(&self) -> &FakeServer<FakeState> {
        &self.server
    }

    /// The state, locked.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Makes every issued token expire, so the next call with one is answered
    /// with the token-expired code `1090003500065`.
    pub fn expire_tokens(&self) {
        self.state().expire_tokens();
    }

    /// How many tokens the fake issued.
    pub fn token_fetches(&self) -> u32 {
        self.state().token_fetches
    }

    async fn mount(server: FakeServer<FakeState>) -> Self {
        server.state().base_uri = server.uri();
        server
            .route(route("GET", assumed::DISCOVERY_PATH), discovery)
            .await;
        for path in [crate::auth::TOKEN_PATH, crate::auth::LEGACY_TOKEN_PATH] {
            server
                .route(route("GET", format!("{AUTH_PREFIX}{path}")), issue_token)
                .await;
        }
        let gw = |path: &str| format!("{GATEWAY_PREFIX}/{path}");
        server
            .route(route("POST", gw(crate::merchant::SAVE_PATH)), |s, r| {
                authorized(s, r, merchant_save)
            })
            .await;
        server
            .route(route("POST", gw(crate::merchant::LIST_PATH)), |s, r| {
                authorized(s, r, |s, r| match by_code(s, r) {
                    Some(found) => list(&found, r),
                    None => list(&s.merchants, r),
                })
            })
            .await;
        server
            .route(route("GET", gw(crate::merchant::DETAIL_PATH)), |s, r| {
                authorized(s, r, |s, r| detail(&s.merchants, r, "客户"))
            })
            .await;
        server
            .route(route("POST", gw(crate::sales_order::LIST_PATH)), |s, r| {
                authorized(s, r, |s, r| list(&s.sales_orders, r))
            })
            .await;
        server
            .route(route("GET", gw(crate::sales_order::DETAIL_PATH)), |s, r| {
                authorized(s, r, |s, r| detail(&s.sales_orders, r, "销售订单"))
            })
            .await;
        server
            .route(route("POST", gw(crate::product::LIST_PATH)), |s, r| {
                authorized(s, r, |s, r| list(&s.products, r))
            })
            .await;
        server
            .route(route("GET", gw(crate::product::DETAIL_PATH)), |s, r| {
                authorized(s, r, |s, r| detail(&s.products, r, "物料"))
            })
            .await;
        Self { server }
    }
}

/// The fake as every connector's fake is driven ([`Fake`]). The base URL is
/// the discovery host, as the client then finds the gateway and token URLs
/// there. YonBIP has no credentials type (the builder takes `app_key` and
/// `app_secret`), so this is the `(app_key, app_secret)` pair; the tenant is
/// [`TENANT_ID`].
#[async_trait::async_trait]
impl Fake for FakeYonBip {
    type Builder = ClientBuilder;
    type Credentials = (&'static str, &'static str);

    async fn start() -> Self {
        FakeYonBip::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeYonBip::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credentials(&self) -> (&'static str, &'static str) {
        Self::credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeYonBip::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

fn discovery(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if query(request, "tenantId").as_deref() != Some(state.tenant_id.as_str()) {
        return json_response(
            &json!({"code": CODE_UNKNOWN_TENANT, "message": "租户不存在或未开通", "data": null}),
        );
    }
    state.discoveries += 1;
    json_response(&json!({
        "code": assumed::AUTH_SUCCESS_CODE,
        "message": "成功！",
        "data": {
            "gatewayUrl": format!("{}{GATEWAY_PREFIX}", state.base_uri),
            "tokenUrl": format!("{}{AUTH_PREFIX}", state.base_uri),
        }
    }))
}

fn issue_token(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let refuse = |message: &str| {
        json_response(
            &json!({"code": assumed::BAD_SIGNATURE_CODE, "message": message, "data": null}),
        )
    };
    let (Some(app_key), Some(timestamp), Some(signature)) = (
        query(request, "appKey"),
        query(request, "timestamp"),
        query(request, "signature"),
    ) else {
        return refuse("参数appKey、timestamp、signature不能为空");
    };
    if app_key != state.app_key {
        return refuse("appKey不存在或应用已停用");
    }
    let Ok(millis) = timestamp.parse::<i64>() else {
        return refuse("timestamp格式错误");
    };
    let skew = (Utc::now().timestamp_millis() - millis).unsigned_abs();
    if skew > state.max_clock_skew.as_millis() as u64 {
        return refuse("timestamp已过期");
    }
    if signature != expected_signature(&app_key, &state.app_secret, &timestamp) {
        return refuse("签名验证失败");
    }
    state.token_fetches += 1;
    let token = format!(
        "fake{:032x}",
        u128::from(state.token_fetches) * 0x9e37_79b9_7f4a_7c15 + millis as u128
    );
    state
        .tokens
        .insert(token.clone(), Instant::now() + state.token_ttl);
    json_response(&json!({
        "code": assumed::AUTH_SUCCESS_CODE,
        "message": "成功！",
        "data": {"access_token": token, "expire": state.token_ttl.as_secs()}
    }))
}

fn authorized(
    state: &mut FakeState,
    request: &Request,
    handler: impl FnOnce(&mut FakeState, &Request) -> ResponseTemplate,
) -> ResponseTemplate {
    let token = query(request, "access_token").unwrap_or_default();
    match state.tokens.get(&token) {
        Some(expires) if *expires > Instant::now() => handler(state, request),
        Some(_) => token_expired(),
        None => illegal_token(),
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn name_zh(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map.get("zh_CN").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn merchant_save(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let body = body_json(request);
    let Some(data) = body.get("data").and_then(Value::as_object).cloned() else {
        return fail(CODE_INVALID, "参数data不能为空");
    };
    let code = text_of(data.get("code")).unwrap_or_default();
    if state.reject_codes.contains(&code) {
        return fail(
            CODE_INVALID,
            &format!("客户[{code}]保存失败：客户分类不允许使用"),
        );
    }
    match data.get("_status").and_then(Value::as_str) {
        Some("Insert") => {
            if code.trim().is_empty() {
                return fail(CODE_INVALID, "客户编码不能为空");
            }
            if name_zh(data.get("name")).is_none_or(|n| n.trim().is_empty()) {
                return fail(CODE_INVALID, "客户名称不能为空");
            }
            if text_of(data.get("createOrg")).is_none() {
                return fail(CODE_INVALID, "管理组织不能为空");
            }
            if state.merchant_by_code(&code).is_some() {
                return fail(CODE_INVALID, &format!("客户编码[{code}]已存在"));
            }
            if state.name_taken(&data, None) {
                return fail(CODE_INVALID, "客户名称已存在");
            }
            let mut record = data;
            record.remove("_status");
            record.insert("id".into(), Value::String(state.new_id()));
            let org = record_value(&record, "createOrg");
            record.entry("belongOrg").or_insert(org);
            record.insert("pubts".into(), Value::String(now_beijing()));
            state.push_merchant(record.clone());
            ok(Value::Object(record))
        }
        Some("Update") => {
            let Some(id) = text_of(data.get("id")) else {
                return fail(CODE_INVALID, "修改时客户ID不能为空");
            };
            if !code.is_empty()
                && state
                    .merchant_by_code(&code)
                    .is_some_and(|m| text_of(m.get("id")).as_deref() != Some(&id))
            {
                return fail(CODE_INVALID, &format!("客户编码[{code}]已存在"));
            }
            if state.name_taken(&data, Some(&id)) {
                return fail(CODE_INVALID, "客户名称已存在");
            }
            let Some(position) = state
                .merchants
                .iter()
                .position(|m| text_of(m.get("id")).as_deref() == Some(&id))
            else {
                return fail(CODE_NOT_FOUND, &format!("客户[{id}]不存在或已删除"));
            };
            // A new code moves the merchant in the index.
            if data.contains_key("code")
                && text_of(data.get("code")) != text_of(state.merchants[position].get("code"))
            {
                state.by_code.clear();
            }
            let record = &mut state.merchants[position];
            for (k, v) in data {
                if k != "_status" && k != "pubts" {
                    record.insert(k, v);
                }
            }
            record.insert("pubts".into(), Value::String(now_beijing()));
            ok(Value::Object(record.clone()))
        }
        _ => fail(CODE_INVALID, "操作标识_status必须为Insert或Update"),
    }
}

/// The merchants a list filtered by `code` can match, through the index
/// (`None` without a code filter). The list applies every filter again.
fn by_code(state: &FakeState, request: &Request) -> Option<Vec<Map<String, Value>>> {
    let code = text_of(body_json(request).get("code"))?;
    Some(state.merchant_by_code(&code).cloned().into_iter().collect())
}

fn record_value(record: &Map<String, Value>, key: &str) -> Value {
    record.get(key).cloned().unwrap_or(Value::Null)
}

fn matches_condition(record: &Map<String, Value>, condition: &Value) -> bool {
    let field = condition
        .get("field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let op = condition.get("op").and_then(Value::as_str).unwrap_or("eq");
    let Some(actual) = text_of(record.get(field)) else {
        return false;
    };
    let v1 = text_of(condition.get("value1")).unwrap_or_default();
    let v2 = text_of(condition.get("value2")).unwrap_or_default();
    // Same-format texts ("yyyy-MM-dd HH:mm:ss", codes) compare correctly as strings.
    match op {
        "eq" => actual == v1,
        "neq" => actual != v1,
        "gt" => actual > v1,
        "egt" => actual >= v1,
        "lt" => actual < v1,
        "elt" => actual <= v1,
        "between" => actual >= v1 && actual <= v2,
        "like" => actual.contains(&v1),
        _ => false,
    }
}

fn list(records: &[Map<String, Value>], request: &Request) -> ResponseTemplate {
    let body = body_json(request);
    let number = |name: &str| {
        body.get(name)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    };
    let (Some(page_index), Some(page_size)) = (number("pageIndex"), number("pageSize")) else {
        return fail(CODE_INVALID, "pageIndex和pageSize不能为空");
    };
    if page_index < 1 {
        return fail(CODE_INVALID, "pageIndex必须大于0");
    }
    if page_size < 1 || page_size > u64::from(assumed::MAX_PAGE_SIZE) {
        return fail(
            CODE_INVALID,
            &format!("pageSize必须在1到{}之间", assumed::MAX_PAGE_SIZE),
        );
    }
    let code = text_of(body.get("code"));
    let name = text_of(body.get("name"));
    let conditions = body
        .get("simpleVOs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matching: Vec<&Map<String, Value>> = records
        .iter()
        .filter(|r| {
            code.as_ref()
                .is_none_or(|c| text_of(r.get("code")).as_ref() == Some(c))
        })
        .filter(|r| {
            name.as_ref()
                .is_none_or(|n| name_zh(r.get("name")).is_some_and(|rn| rn.contains(n.as_str())))
        })
        .filter(|r| conditions.iter().all(|c| matches_condition(r, c)))
        .collect();
    matching.sort_by_cached_key(|r| text_of(r.get("id")).map(|id| (id.len(), id)));
    let record_count = matching.len() as u64;
    let page_count = record_count.div_ceil(page_size);
    let start = ((page_index - 1) * page_size) as usize;
    let page: Vec<Value> = matching
        .into_iter()
        .skip(start)
        .take(page_size as usize)
        .map(|r| Value::Object(r.clone()))
        .collect();
    ok(json!({
        "pageIndex": page_index,
        "pageSize": page_size,
        "recordCount": record_count,
        "pageCount": page_count,
        "beginPageIndex": 1,
        "endPageIndex": page_count.max(1),
        "recordList": page,
    }))
}

fn detail(records: &[Map<String, Value>], request: &Request, what: &str) -> ResponseTemplate {
    let Some(id) = query(request, "id") else {
        return fail(CODE_INVALID, "参数id不能为空");
    };
    match records
        .iter()
        .find(|r| text_of(r.get("id")).as_deref() == Some(id.as_str()))
    {
        Some(record) => ok(Value::Object(record.clone())),
        None => fail(CODE_NOT_FOUND, &format!("{what}[{id}]不存在或已删除")),
    }
}

const CITIES: &[&str] = &[
    "上海", "北京", "深圳", "杭州", "苏州", "成都", "武汉", "广州", "南京", "宁波", "青岛", "厦门",
];
const TRADES: &[&str] = &[
    "华东机电设备",
    "恒通国际贸易",
    "鑫达五金制品",
    "联创信息科技",
    "瑞丰纺织",
    "中科电子",
    "金桥物流",
    "海纳医疗器械",
    "东方精细化工",
    "宏远新型建材",
    "万家乐厨具",
    "德润食品",
];
const STATUSES: &[&str] = &["CONFIRMORDER", "DELIVERGOODS", "ENDORDER"];
const SUFFIXES: &[&str] = &["有限公司", "股份有限公司", "贸易有限公司"];
const PEOPLE: &[&str] = &[
    "张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周杰", "吴霞", "徐丽", "孙浩",
];
const INDUSTRIES: &[(&str, &str)] = &[
    ("01", "制造业"),
    ("02", "批发和零售业"),
    ("03", "信息技术服务业"),
    ("04", "交通运输业"),
];
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("不锈钢六角螺栓", "M8×30 304", "个"),
    ("深沟球轴承", "6204-2RS", "套"),
    ("工业级以太网交换机", "8口千兆", "台"),
    ("食品级硅胶管", "内径10mm", "米"),
    ("三相异步电动机", "Y2-132M-4 7.5kW", "台"),
    ("医用外科口罩", "17.5×9.5cm", "盒"),
    ("铝合金型材", "6063-T5 40×40", "根"),
    ("A4复印纸", "70g 500张/包", "包"),
];

/// A Beijing time `days` days (and some hours) after 2024-01-05 09:00.
fn seeded_time(days: i64, hours: i64) -> String {
    let base = beijing()
        .with_ymd_and_hms(2024, 1, 5, 9, 0, 0)
        .single()
        .unwrap_or_else(|| Utc::now().with_timezone(&beijing()));
    let t = base
        + chrono::Duration::days(days)
        + chrono::Duration::hours(hours)
        + chrono::Duration::minutes(hours * 7 % 60);
    BeijingTime(t).to_string()
}

impl FakeYonBip {
    /// Adds `n` merchants (codes `KH000001`…), with Chinese company names,
    /// contacts, phone numbers, credit codes and `pubts` spread over about
    /// a year. Returns their codes.
    pub fn seed_merchants(&self, n: usize) -> Vec<String> {
        let mut state = self.state();
        let start = state.merchants.len();
        (start..start + n)
            .map(|i| {
                let id = state.new_id();
                let code = format!("KH{:06}", i + 1);
                let city = CITIES[i % CITIES.len()];
                let name = format!("{city}{}{}", TRADES[(i / CITIES.len() + i) % TRADES.len()], SUFFIXES[i % SUFFIXES.len()]);
                let person = PEOPLE[(i * 7) % PEOPLE.len()];
                let (industry_code, industry_name) = INDUSTRIES[i % INDUSTRIES.len()];
                let record = json!({
                    "id": id,
                    "code": code,
                    "name": {"zh_CN": name},
                    "createOrg": CREATE_ORG,
                    "createOrg_name": "用友示范集团总部",
                    "belongOrg": CREATE_ORG,
                    "belongOrg_Name": "用友示范集团总部",
                    "customerClass": CUSTOMER_CLASS,
                    "customerClass_Name": "国内客户",
                    "customerClass_code": "0101",
                    "customerIndustry": format!("14817121519072{:05}", 70000 + i % INDUSTRIES.len()),
                    "customerIndustry_Name": industry_name,
                    "customerIndustry_code": industry_code,
                    "merchantOptions": true,
                    "enterpriseName": name,
                    "leaderName": PEOPLE[(i * 5 + 3) % PEOPLE.len()],
                    "creditCode": format!("91{:04}MA{:08}X", 3100 + i % 40, 10_000_000 + i * 7919 % 89_999_999),
                    "contactName": person,
                    "contactTel": format!("138{:08}", 10_000_000 + (i * 104_729) % 89_999_999),
                    "email": format!("sales{:03}@example.cn", i + 1),
                    "regionCode": "310000",
                    "postCode": format!("{:06}", 200_000 + i % 1000),
                    "country_code": "CN",
                    "currencyCode": "CNY",
                    "buildTime": seeded_time(-3650 + (i as i64 * 97) % 3000, 0)[..10].to_owned(),
                    "pubts": seeded_time((i as i64 * 11) % 360, (i as i64 * 5) % 10),
                });
                if let Value::Object(map) = record {
                    state.push_merchant(map);
                }
                code
            })
            .collect()
    }

    /// Adds `n` sales orders for the stored merchants (seed merchants
    /// first), amounts with two decimals, dates spread over months. Returns
    /// their ids.
    pub fn seed_sales_orders(&self, n: usize) -> Vec<String> {
        let mut state = self.state();
        let customers: Vec<(Value, Value)> = state
            .merchants
            .iter()
            .map(|m| (record_value(m, "id"), json!(name_zh(m.get("name")))))
            .collect();
        let start = state.sales_orders.len();
        (start..start + n)
            .map(|i| {
                let id = state.new_id();
                let cents = 50_000 + (i as i64 * 7_919_117) % 9_950_000;
                let pay = Decimal::new(cents, 2);
                let real = Decimal::new(cents - cents % 1000, 2);
                let (agent, agent_name) = customers
                    .get(i % customers.len().max(1))
                    .cloned()
                    .unwrap_or((Value::Null, Value::Null));
                let record = json!({
                    "id": id.parse::<u64>().map(Value::from).unwrap_or(Value::String(id.clone())),
                    "code": format!("SO{}{:05}", 20240100 + (i % 12) as u32 * 100 + 1, i + 1),
                    "vouchdate": seeded_time((i as i64 * 13) % 330, 1),
                    "agentId": agent,
                    "agentId_name": agent_name,
                    "salesOrgId": CREATE_ORG,
                    "salesOrgId_name": "用友示范集团总部",
                    "transactionTypeId": "1481712151907270001",
                    "nextStatusName": STATUSES[i % STATUSES.len()],
                    "currency_code": "CNY",
                    "payMoney": pay.to_string(),
                    "realMoney": real.to_string(),
                    "pubts": seeded_time((i as i64 * 13) % 330 + 1, 3),
                });
                if let Value::Object(map) = record {
                    state.sales_orders.push(map);
                }
                id
            })
            .collect()
    }

    /// Adds `n` products with Chinese names, specifications and units.
    /// Returns their codes.
    pub fn seed_products(&self, n: usize) -> Vec<String> {
        let mut state = self.state();
        let start = state.products.len();
        (start..start + n)
            .map(|i| {
                let id = state.new_id();
                let (name, model, unit) = PRODUCTS[i % PRODUCTS.len()];
                let code = format!("WL{:06}", i + 1);
                let record = json!({
                    "id": id,
                    "code": code,
                    "name": {"zh_CN": name},
                    "modelDescription": model,
                    "unit": format!("14817121519072{:05}", 80000 + i % PRODUCTS.len()),
                    "unit_Name": unit,
                    "manageClass": "1481712151907279001",
                    "manageClass_Name": "原材料",
                    "orgId": CREATE_ORG,
                    "pubts": seeded_time((i as i64 * 17) % 300, 2),
                });
                if let Value::Object(map) = record {
                    state.products.push(map);
                }
                code
            })
            .collect()
    }
}
