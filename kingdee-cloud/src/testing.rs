//! A stateful fake K/3 Cloud WebAPI (feature `testing`).
//!
//! It checks the app signature the way the official SDKs build it (with
//! `x-api-timestamp` in seconds, as the Python SDK sends it, or in
//! milliseconds, as the Java SDK does) and the session cookie for session
//! logins, stores models per form id, answers Save/BatchSave with realistic
//! `ResponseStatus` (numbers allocated; duplicate numbers, missing required
//! fields and status refusals as `MsgCode` 11 with `ErrorCode` 500 and the
//! per-model `Errors` by `DIndex`, as real sites answer), filters
//! ExecuteBillQuery with the common string `FilterString` forms and pages
//! it (the array form is refused with `MsgCode` 8, never answered with
//! every row), and accepts both the `{"formid","data"}` and the old
//! `{"parameters":[..]}` bodies. Faults come from the core testing kit;
//! throttling is the call-limit answer (`MsgCode` 14).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use kingdee_cloud::testing::FakeK3Cloud;
//! let fake = FakeK3Cloud::start().await;
//! fake.seed_customers(3);
//! let client = fake.client_builder().build().unwrap();
//! let rows: Vec<(String, String)> = client
//!     .execute_bill_query(&kingdee_cloud::BillQuery::new("BD_Customer", ["FNumber", "FName"]))
//!     .await
//!     .unwrap();
//! assert_eq!(rows.len(), 3);
//! # }
//! ```

pub mod filter;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::MutexGuard;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{NaiveDateTime, TimeZone, Utc};
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, Request, ResponseTemplate, fast_retry, header, matchers,
};
use integration_core::types::beijing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::auth::{AppCredentials, SESSION_COOKIE, derive_client_secret, hmac_hex_b64, quote_path};
use crate::client::ClientBuilder;
use crate::error::msg_code;

/// The data centre id the fake accepts.
pub const ACCT_ID: &str = "62a1b2c3d4e5f6";
/// The user name the fake accepts.
pub const USER_NAME: &str = "demo";
/// The app id the fake accepts (fact-sheet vector 1).
pub const APP_ID: &str = "224466_T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq";
/// The app secret the fake accepts.
pub const APP_SECRET: &str = "b3f1c0e5a8d94e6f9c2b7a1d0e3f4a5b";
/// The password the fake accepts for `ValidateUser`.
pub const PASSWORD: &str = "Kd@2026!demo";
/// The virtual directory of the fake site.
pub const VIRTUAL_DIR: &str = "/k3cloud";
/// The session-lost message the fake sends.
pub const SESSION_LOST_MESSAGE: &str = "会话信息已丢失，请重新登录";
/// The call-limit message the fake sends with `MsgCode` 14 (assumed
/// wording).
pub const CALL_LIMIT_MESSAGE: &str = "接口调用次数超过限制，请稍后再试";

/// How the fake throttles (`MsgCode` 14, the call limit) and reports a lost
/// session (`MsgCode` 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct K3FaultStyle;

impl FaultStyle for K3FaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        json_ok(&failure(msg_code::CALL_LIMIT, CALL_LIMIT_MESSAGE, None))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        json_ok(&failure(msg_code::SESSION_LOST, SESSION_LOST_MESSAGE, None))
    }
}

fn json_ok(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json; charset=utf-8")
}

/// `{"Result":{"ResponseStatus":{IsSuccess:false, ...}}}`.
pub fn failure(msg_code: i64, message: &str, field: Option<&str>) -> Value {
    json!({"Result": {"ResponseStatus": {
        "ErrorCode": 500, "IsSuccess": false,
        "Errors": [{"FieldName": field, "Message": message, "DIndex": 0}],
        "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": msg_code}}})
}

/// What the fake knows about a form.
#[derive(Debug, Clone)]
pub struct FormMeta {
    /// Display name (客户).
    pub name: String,
    /// Primary-key field.
    pub id_field: String,
    /// Number field.
    pub number_field: String,
    /// Prefix of allocated numbers.
    pub number_prefix: String,
    /// Digits of allocated numbers.
    pub number_digits: usize,
    /// Required fields and their labels.
    pub required: Vec<(String, String)>,
    /// Entry collection with its id field.
    pub entry: Option<(String, String)>,
}

impl FormMeta {
    fn for_form(form_id: &str) -> Self {
        match form_id {
            "BD_Customer" => Self {
                name: "客户".into(),
                id_field: "FCUSTID".into(),
                number_field: "FNumber".into(),
                number_prefix: "CUST".into(),
                number_digits: 4,
                required: vec![
                    ("FName".into(), "客户名称".into()),
                    ("FCreateOrgId".into(), "创建组织".into()),
                ],
                entry: None,
            },
            "SAL_SaleOrder" => Self {
                name: "销售订单".into(),
                id_field: "FID".into(),
                number_field: "FBillNo".into(),
                number_prefix: "XSDD".into(),
                number_digits: 6,
                required: vec![
                    ("FBillTypeID".into(), "单据类型".into()),
                    ("FDate".into(), "日期".into()),
                    ("FSaleOrgId".into(), "销售组织".into()),
                    ("FCustId".into(), "客户".into()),
                ],
                entry: Some(("FSaleOrderEntry".into(), "FEntryID".into())),
            },
            other => Self {
                name: other.into(),
                id_field: "FID".into(),
                number_field: "FNumber".into(),
                number_prefix: "NO".into(),
                number_digits: 6,
                required: vec![],
                entry: None,
            },
        }
    }
}

/// The stored models of one form.
#[derive(Debug, Clone)]
pub struct FormStore {
    /// The form's rules.
    pub meta: FormMeta,
    /// The models, with id, number, `FDocumentStatus`, `FCreateDate` and
    /// `FModifyDate` filled in.
    pub records: Vec<Map<String, Value>>,
    next_id: i64,
    next_seq: u64,
    next_entry_id: i64,
}

impl FormStore {
    fn new(form_id: &str) -> Self {
        Self {
            meta: FormMeta::for_form(form_id),
            records: Vec::new(),
            next_id: 100_001,
            next_seq: 1,
            next_entry_id: 200_001,
        }
    }

    fn position_by_id(&self, id: i64) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.get(&self.meta.id_field).and_then(Value::as_i64) == Some(id))
    }

    fn position_by_number(&self, number: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.get(&self.meta.number_field).and_then(Value::as_str) == Some(number))
    }
}

/// The fake's state.
#[derive(Debug)]
pub struct FakeState {
    /// Stored models per form id.
    pub forms: BTreeMap<String, FormStore>,
    /// Live session ids.
    pub sessions: HashSet<String>,
    /// Successful logins so far.
    pub logins: u32,
    /// Largest `Limit` honoured.
    pub max_limit: u32,
    /// Accepted clock difference of `x-api-timestamp`, seconds.
    pub timestamp_tolerance: i64,
    /// Successful Save/BatchSave calls so far.
    pub save_calls: u32,
    /// Models to reject at random, see [`FakeK3Cloud::reject_models`].
    pub rejections: Option<Rejections>,
    /// Numbers (by form id) that another user holds the network-control
    /// lock of, see [`FakeK3Cloud::lock_number`].
    pub locked: HashSet<(String, String)>,
    /// Answer every business call with the licence error (`MsgCode` 7).
    pub licence_expired: bool,
}

/// Random rejection of single models inside otherwise successful
/// Save/BatchSave answers, as K/3 Cloud reports a model that fails its
/// validation: an entry in `Errors` with the model's `DIndex`.
#[derive(Debug)]
pub struct Rejections {
    rng: StdRng,
    probability: f64,
    /// Models rejected so far.
    pub rejected: u64,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            forms: BTreeMap::new(),
            sessions: HashSet::new(),
            logins: 0,
            max_limit: crate::query::MAX_LIMIT,
            timestamp_tolerance: 900,
            save_calls: 0,
            rejections: None,
            locked: HashSet::new(),
            licence_expired: false,
        }
    }
}

impl FakeState {
    /// The store of a form, created on first use.
    pub fn form(&mut self, form_id: &str) -> &mut FormStore {
        self.forms
            .entry(form_id.to_owned())
            .or_insert_with(|| FormStore::new(form_id))
    }

    fn new_session(&mut self) -> String {
        let id: String = {
            let mut rng = rand::rng();
            (0..24)
                .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
                .collect()
        };
        self.sessions.insert(id.clone());
        id
    }
}

/// A fake K/3 Cloud site on loopback.
pub struct FakeK3Cloud {
    server: FakeServer<FakeState>,
}

impl std::fmt::Debug for FakeK3Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeK3Cloud")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl FakeK3Cloud {
    /// Starts a fake on a free loopback port.
    pub async fn start() -> Self {
        let server = FakeServer::start(FakeState::default(), K3FaultStyle).await;
        Self::mount(server).await
    }

    /// Starts a fake on `addr` (for a sandbox on a fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let server = FakeServer::start_on(addr, FakeState::default(), K3FaultStyle).await?;
        Ok(Self::mount(server).await)
    }

    async fn mount(server: FakeServer<FakeState>) -> Self {
        server
            .route(matchers::path_regex(r"\.common\.kdsvc$"), handle)
            .await;
        Self { server }
    }

    /// The site URL to give [`ClientBuilder::server_url`], e.g.
    /// `http://127.0.0.1:41234/k3cloud`.
    pub fn server_url(&self) -> String {
        format!("{}{VIRTUAL_DIR}", self.server.uri())
    }

    /// The address the fake listens on.
    pub fn address(&self) -> &SocketAddr {
        self.server.address()
    }

    /// The app-signature credentials the fake accepts.
    pub fn app_credentials() -> AppCredentials {
        AppCredentials::new(ACCT_ID, USER_NAME, APP_ID, APP_SECRET)
    }

    /// A client builder for this fake with app-signature auth and fast
    /// retries.
    pub fn client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .app_signature(Self::app_credentials())
            .retry(fast_retry())
    }

    /// A client builder for this fake with `ValidateUser` session login.
    pub fn password_client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .password_login(ACCT_ID, USER_NAME, PASSWORD)
            .retry(fast_retry())
    }

    /// A client builder for this fake with `LoginByAppSecret` session login.
    pub fn app_secret_client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .app_secret_login(ACCT_ID, USER_NAME, APP_ID, APP_SECRET)
            .retry(fast_retry())
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// From now on rejects each saved model with `probability` (seeded,
    /// reproducible) with a validation error, while the rest of its batch
    /// is saved; `probability` 0 stops it.
    pub fn reject_models(&self, seed: u64, probability: f64) {
        self.state().rejections = (probability > 0.0).then(|| Rejections {
            rng: StdRng::seed_from_u64(seed),
            probability,
            rejected: 0,
        });
    }

    /// Models rejected by [`reject_models`](Self::reject_models) so far.
    pub fn rejected_models(&self) -> u64 {
        self.state().rejections.as_ref().map_or(0, |r| r.rejected)
    }

    /// From now on refuses to save `number` of `form_id` as a real site does
    /// while another user edits that record: the model fails with `MsgCode`
    /// 13 (网控冲突), the rest of its batch is saved.
    pub fn lock_number(&self, form_id: &str, number: &str) {
        self.state()
            .locked
            .insert((form_id.to_owned(), number.to_owned()));
    }

    /// Releases every lock taken with [`lock_number`](Self::lock_number).
    pub fn unlock_all(&self) {
        self.state().locked.clear();
    }

    /// Whether the site's licence is expired: every business call is then
    /// answered with `MsgCode` 7 (许可错误).
    pub fn set_licence_expired(&self, expired: bool) {
        self.state().licence_expired = expired;
    }

    /// The state, locked.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.server.state()
    }

    /// Every request received so far.
    pub async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }

    /// Requests whose path contains `needle` (e.g. `BatchSave`).
    pub async fn received_on(&self, needle: &str) -> Vec<Request> {
        self.server.received_on(needle).await
    }

    /// Forgets every session: the next call answers "session lost".
    pub fn expire_sessions(&self) {
        self.state().sessions.clear();
    }

    /// The stored models of a form.
    pub fn records(&self, form_id: &str) -> Vec<Map<String, Value>> {
        self.state()
            .forms
            .get(form_id)
            .map(|f| f.records.clone())
            .unwrap_or_default()
    }

    /// Seeds `n` customers with Chinese names, addresses and modification
    /// dates spread over 2025; returns their numbers (`C00001`...).
    pub fn seed_customers(&self, n: usize) -> Vec<String> {
        const CITIES: [(&str, &str); 8] = [
            ("上海", "上海市浦东新区张江路"),
            ("北京", "北京市海淀区中关村大街"),
            ("深圳", "深圳市南山区科技园南路"),
            ("杭州", "杭州市西湖区文三路"),
            ("广州", "广州市天河区体育西路"),
            ("成都", "成都市高新区天府大道"),
            ("苏州", "苏州市工业园区星湖街"),
            ("武汉", "武汉市洪山区珞喻路"),
        ];
        const TRADES: [&str; 6] = [
            "恒达贸易",
            "华信科技",
            "金桥电子",
            "瑞丰食品",
            "博远物流",
            "中南建材",
        ];
        let mut state = self.state();
        let base = Utc
            .with_ymd_and_hms(2025, 1, 3, 1, 0, 0)
            .single()
            .unwrap_or_else(Utc::now);
        let mut numbers = Vec::with_capacity(n);
        for i in 0..n {
            let (city, street) = CITIES[i % CITIES.len()];
            let trade = TRADES[(i / CITIES.len()) % TRADES.len()];
            let number = format!("C{:05}", i + 1);
            let modified = base
                + chrono::Duration::hours(i as i64 * 61 % (24 * 360))
                + chrono::Duration::minutes(i as i64);
            let store = state.form("BD_Customer");
            let id = store.next_id;
            store.next_id += 1;
            let time = fmt_time(modified.naive_utc() + chrono::Duration::hours(8));
            let mut m = Map::new();
            m.insert("FCUSTID".into(), json!(id));
            m.insert("FNumber".into(), json!(number));
            m.insert(
                "FName".into(),
                json!(format!("{city}{trade}有限公司{}", i / 48 + 1)),
            );
            m.insert("FShortName".into(), json!(format!("{city}{trade}")));
            m.insert("FCreateOrgId".into(), json!({"FNumber": "100"}));
            m.insert("FUseOrgId".into(), json!({"FNumber": "100"}));
            m.insert(
                "FADDRESS".into(),
                json!(format!("{street}{}号", 10 + i % 90)),
            );
            m.insert(
                "FTEL".into(),
                json!(format!("021-6{:07}", 1_000_000 + i * 37)),
            );
            m.insert("FDocumentStatus".into(), json!("C"));
            m.insert("FForbidStatus".into(), json!("A"));
            m.insert("FCreateDate".into(), json!(time));
            m.insert("FModifyDate".into(), json!(time));
            store.records.push(m);
            numbers.push(number);
        }
        numbers
    }

    /// Seeds `n` sales orders (2 lines each, two-decimal prices, 13% tax)
    /// for the seeded customers, dated over 2025.
    pub fn seed_sale_orders(&self, n: usize) {
        let mut state = self.state();
        let customers: Vec<String> = state
            .form("BD_Customer")
            .records
            .iter()
            .filter_map(|r| r.get("FNumber").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let store = state.form("SAL_SaleOrder");
        for i in 0..n {
            let id = store.next_id;
            store.next_id += 1;
            let bill_no = format!("XSDD{:06}", store.next_seq);
            store.next_seq += 1;
            let day = Utc
                .with_ymd_and_hms(2025, 1 + (i % 12) as u32, 1 + (i % 27) as u32, 2, 0, 0)
                .single()
                .unwrap_or_else(Utc::now);
            let local = day.naive_utc() + chrono::Duration::hours(8);
            let customer = customers
                .get(i % customers.len().max(1))
                .cloned()
                .unwrap_or_else(|| "C00001".into());
            let mut entries = Vec::new();
            for line in 0..2 {
                let entry_id = store.next_entry_id;
                store.next_entry_id += 1;
                let price =
                    rust_decimal::Decimal::new(1999 + (i as i64 * 137 + line * 50) % 90_000, 2);
                let tax_price = (price * rust_decimal::Decimal::new(113, 2)).round_dp(2);
                entries.push(json!({"FEntryID": entry_id, "FMaterialId": {"FNumber": format!("M{:03}", 1 + (i + line as usize) % 40)},
                    "FUnitID": {"FNumber": "Pcs"}, "FQty": (1 + (i * 3 + line as usize) % 20) as i64,
                    "FPrice": price.to_string(), "FTaxPrice": tax_price.to_string(), "FEntryTaxRate": 13,
                    "FDeliveryDate": fmt_time(local + chrono::Duration::days(14))}));
            }
            let mut m = Map::new();
            m.insert("FID".into(), json!(id));
            m.insert("FBillNo".into(), json!(bill_no));
            m.insert("FBillTypeID".into(), json!({"FNumber": "XSDD01_SYS"}));
            m.insert("FDate".into(), json!(fmt_time(local)));
            m.insert("FSaleOrgId".into(), json!({"FNumber": "100"}));
            m.insert("FCustId".into(), json!({"FNumber": customer}));
            m.insert(
                "FSaleOrderFinance".into(),
                json!({"FSettleCurrId": {"FNumber": "PRE001"}, "FExchangeRate": 1}),
            );
            m.insert("FSaleOrderEntry".into(), Value::Array(entries));
            m.insert("FDocumentStatus".into(), json!("C"));
            m.insert("FCreateDate".into(), json!(fmt_time(local)));
            m.insert(
                "FModifyDate".into(),
                json!(fmt_time(local + chrono::Duration::hours(1))),
            );
            store.records.push(m);
        }
    }
}

/// The fake as every connector's fake is driven ([`Fake`]).
#[async_trait::async_trait]
impl Fake for FakeK3Cloud {
    type Builder = ClientBuilder;
    type Credentials = AppCredentials;

    async fn start() -> Self {
        FakeK3Cloud::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeK3Cloud::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.server_url()
    }
    fn credentials(&self) -> AppCredentials {
        Self::app_credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeK3Cloud::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

/// K/3 Cloud's datetime text in query answers: `2026-01-02T10:20:30.123`.
fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

fn now_local() -> String {
    fmt_time(Utc::now().with_timezone(&beijing()).naive_local())
}

fn cookie(request: &Request, name: &str) -> Option<String> {
    let from_cookie = header(request, "cookie").and_then(|c| {
        c.split(';').find_map(|part| {
            let (n, v) = part.trim().split_once('=')?;
            (n.trim() == name).then(|| v.trim().to_owned())
        })
    });
    from_cookie.or_else(|| header(request, name).map(str::to_owned))
}

/// Checks the app-signature headers exactly as the SDK builds them.
fn verify_signature(state: &FakeState, request: &Request) -> Result<(), String> {
    let h = |name: &str| header(request, name).unwrap_or("").to_owned();
    let app_key = h("X-Kd-Appkey");
    if app_key != APP_ID {
        return Err(format!("应用ID[{app_key}]不存在或未授权"));
    }
    let (client_id, secret_part) = APP_ID.split_once('_').unwrap_or((APP_ID, ""));
    if h("X-Api-ClientID") != client_id || h("X-Api-Auth-Version") != "2.0" {
        return Err("ClientID或认证版本不正确".into());
    }
    let ts = h("x-api-timestamp");
    let nonce = h("x-api-nonce");
    let ts_value: i64 = ts.parse().map_err(|_| "时间戳格式不正确".to_owned())?;
    if (Utc::now().timestamp() - unix_seconds(ts_value)).abs() > state.timestamp_tolerance {
        return Err("请求时间戳已过期".into());
    }
    if !h("x-api-signheaders").eq_ignore_ascii_case("x-api-timestamp,x-api-nonce")
        || nonce.is_empty()
    {
        return Err("签名头信息不完整".into());
    }
    let api_sign = format!(
        "POST\n{}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{ts}\n",
        quote_path(request.url.path())
    );
    let client_secret = derive_client_secret(secret_part, None);
    if h("X-Api-Signature") != hmac_hex_b64(client_secret.as_bytes(), api_sign.as_bytes()) {
        return Err("签名校验失败(X-Api-Signature)".into());
    }
    let app_data = B64
        .decode(h("X-Kd-Appdata"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| "X-Kd-Appdata格式不正确".to_owned())?;
    let parts: Vec<&str> = app_data.split(',').collect();
    if parts.len() != 4 || parts[0] != ACCT_ID {
        return Err("数据中心不存在".into());
    }
    if parts[1] != USER_NAME {
        return Err(format!("用户[{}]不存在", parts[1]));
    }
    if h("X-Kd-Signature")
        != hmac_hex_b64(
            APP_SECRET.as_bytes(),
            format!("{APP_ID}{app_data}").as_bytes(),
        )
    {
        return Err("签名校验失败(X-Kd-Signature)".into());
    }
    Ok(())
}

/// A timestamp in seconds (Python and PHP SDKs) or milliseconds (Java
/// SDK), as seconds: anything past the year 5138 in seconds is taken as
/// milliseconds.
fn unix_seconds(ts: i64) -> i64 {
    if ts.abs() >= 100_000_000_000 {
        ts / 1000
    } else {
        ts
    }
}

/// Parses either body form into (form id, op number, data).
fn parse_body(op: &str, body: &Value) -> Result<(Option<String>, Option<String>, Value), String> {
    let decode = |v: &Value| match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    if let Some(params) = body.get("parameters").and_then(Value::as_array) {
        return Ok(match (op, params.len()) {
            ("ExcuteOperation", _) => (
                text(params.first()),
                text(params.get(1)),
                decode(params.get(2).unwrap_or(&Value::Null)),
            ),
            (_, 1) => (None, None, decode(&params[0])),
            _ => (
                text(params.first()),
                None,
                decode(params.get(1).unwrap_or(&Value::Null)),
            ),
        });
    }
    if !body.is_object() {
        return Err("请求参数格式不正确".into());
    }
    let form = text(body.get("formid").or_else(|| body.get("FormId")));
    let op_number = text(body.get("opNumber"));
    Ok((
        form,
        op_number,
        decode(body.get("data").unwrap_or(&Value::Null)),
    ))
}

fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let last = request.url.path().rsplit('/').next().unwrap_or("");
    let service = last.strip_suffix(".common.kdsvc").unwrap_or(last);
    let op = service.rsplit('.').next().unwrap_or("").to_owned();
    if service.ends_with("AccountService.GetDataCenterList") {
        return json_ok(
            &json!([{"Id": ACCT_ID, "Number": "K3DEMO", "Name": "演示账套", "DatabaseType": 3,
            "ProductId": "Cloud", "CreateTime": "2024-03-01T09:00:00"}]),
        );
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    if service.contains("AuthService.") {
        return login(state, &op, &body);
    }
    let mut new_session = None;
    if header(request, "X-Kd-Appkey").is_some() {
        if let Err(message) = verify_signature(state, request) {
            return json_ok(&failure(msg_code::NO_PERMISSION, &message, None));
        }
        if cookie(request, SESSION_COOKIE).is_none_or(|s| !state.sessions.contains(&s)) {
            new_session = Some(state.new_session());
        }
    } else if cookie(request, SESSION_COOKIE).is_none_or(|s| !state.sessions.contains(&s)) {
        return json_ok(&failure(msg_code::SESSION_LOST, SESSION_LOST_MESSAGE, None));
    }
    if state.licence_expired {
        return json_ok(&failure(
            msg_code::LICENCE,
            "当前产品许可已过期或站点数已超出许可范围，请联系管理员更新许可",
            None,
        ));
    }
    let answer = match parse_body(&op, &body) {
        Err(message) => failure(msg_code::BAD_ARGUMENT, &message, None),
        Ok((form, op_number, data)) => dispatch(state, &op, form, op_number, &data),
    };
    let response = json_ok(&answer);
    match new_session {
        Some(sid) => response.append_header(
            "Set-Cookie",
            format!("{SESSION_COOKIE}={sid}; path=/; HttpOnly"),
        ),
        None => response,
    }
}

fn login(state: &mut FakeState, op: &str, body: &Value) -> ResponseTemplate {
    let params = body.get("parameters").and_then(Value::as_array);
    let get = |name: &str, index: usize| -> String {
        params
            .and_then(|p| p.get(index))
            .or_else(|| body.get(name))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let ok = match op {
        "ValidateUser" => {
            get("acctID", 0) == ACCT_ID
                && get("username", 1) == USER_NAME
                && get("password", 2) == PASSWORD
        }
        "LoginByAppSecret" => {
            get("acctid", 0) == ACCT_ID
                && get("username", 1) == USER_NAME
                && get("appid", 2) == APP_ID
                && get("appsecret", 3) == APP_SECRET
        }
        _ => {
            return ResponseTemplate::new(404)
                .set_body_raw("<html><body>404 Not Found</body></html>", "text/html");
        }
    };
    if !ok {
        return json_ok(
            &json!({"Message": "用户名或密码错误！", "MessageCode": "CheckPasswordPolicy",
            "LoginResultType": 0, "Context": null, "KDSVCSessionId": null}),
        );
    }
    state.logins += 1;
    let sid = state.new_session();
    json_ok(&json!({"Message": null, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 1,
        "Context": {"UserName": USER_NAME, "UserId": 100_008, "DBid": ACCT_ID, "DataCenterName": "演示账套", "LogLocale": "zh-CN"},
        "KDSVCSessionId": sid, "IsSuccessByAPI": true}))
    .append_header("Set-Cookie", format!("{SESSION_COOKIE}={sid}; path=/; HttpOnly"))
    .append_header("Set-Cookie", format!("ASP.NET_SessionId=asp{sid}; path=/; HttpOnly"))
}

fn dispatch(
    state: &mut FakeState,
    op: &str,
    form: Option<String>,
    op_number: Option<String>,
    data: &Value,
) -> Value {
    let form_needed = !matches!(op, "ExecuteBillQuery" | "BillQuery" | "QueryBusinessInfo");
    let form = match (form, form_needed) {
        (Some(f), _) if !f.is_empty() => f,
        (_, true) => {
            return failure(
                msg_code::NO_FORM_ID,
                "业务对象标识FormId不能为空",
                Some("FormId"),
            );
        }
        _ => data
            .get("FormId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    if form.is_empty() {
        return json!([[failure(
            msg_code::NO_FORM_ID,
            "业务对象标识FormId不能为空",
            Some("FormId")
        )]]);
    }
    match op {
        "Save" | "Draft" => save(state, &form, data, false, op == "Draft"),
        "BatchSave" => save(state, &form, data, true, false),
        "Submit" | "Audit" | "UnAudit" | "Delete" => set_status(state, &form, op, data),
        "ExcuteOperation" => set_status(state, &form, op_number.as_deref().unwrap_or(""), data),
        "Allocate" => {
            let ids: Vec<Value> = data
                .get("PkIds")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
                .enumerate()
                .map(|(i, id)| json!({"Id": id, "Number": null, "DIndex": i}))
                .collect();
            ok_result(ids, Value::Null, Value::Null, vec![])
        }
        "View" => view(state, &form, data),
        "ExecuteBillQuery" | "BillQuery" => query(state, &form, data, op == "BillQuery"),
        "QueryBusinessInfo" => {
            let store = state.form(&form);
            let meta = &store.meta;
            let mut fields: Vec<Value> = vec![
                json!({"Key": meta.id_field, "Name": "实体主键"}),
                json!({"Key": meta.number_field, "Name": "编码"}),
            ];
            fields.extend(
                meta.required
                    .iter()
                    .map(|(k, n)| json!({"Key": k, "Name": n, "MustInput": true})),
            );
            json!({"Result": {"ResponseStatus": {"IsSuccess": true, "ErrorCode": 0, "Errors": [], "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": 0},
                "NeedReturnData": {"Id": form, "Name": [{"Key": 2052, "Value": meta.name}], "PkFieldName": meta.id_field,
                    "Entrys": [{"Key": "FBillHead", "Fields": fields}]}}})
        }
        other => failure(
            msg_code::BAD_ARGUMENT,
            &format!("不支持的操作[{other}]"),
            None,
        ),
    }
}

fn ok_result(successes: Vec<Value>, id: Value, number: Value, need_return: Vec<Value>) -> Value {
    json!({"Result": {"ResponseStatus": {"ErrorCode": 0, "IsSuccess": true, "Errors": [], "SuccessEntitys": successes,
        "SuccessMessages": [], "MsgCode": 0}, "Id": id, "Number": number, "NeedReturnData": need_return}})
}

fn id_of(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id != 0)
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Object(m)) => m.values().all(|v| is_blank(Some(v))),
        _ => false,
    }
}

/// Where a form's records are, by id and by number; built once per request
/// so that saving a batch into a large store stays linear.
struct Positions {
    by_id: HashMap<i64, usize>,
    by_number: HashMap<String, usize>,
}

impl Positions {
    fn of(store: &FormStore) -> Self {
        let mut positions = Self {
            by_id: HashMap::new(),
            by_number: HashMap::new(),
        };
        for p in 0..store.records.len() {
            positions.note(store, p, false);
        }
        positions
    }

    /// Records where record `p` is; `replace` for a record just saved.
    fn note(&mut self, store: &FormStore, p: usize, replace: bool) {
        let record = &store.records[p];
        let meta = &store.meta;
        if let Some(id) = record.get(&meta.id_field).and_then(Value::as_i64) {
            self.by_id.entry(id).or_insert(p);
        }
        if let Some(number) = record.get(&meta.number_field).and_then(Value::as_str) {
            if replace {
                self.by_number.insert(number.to_owned(), p);
            } else {
                self.by_number.entry(number.to_owned()).or_insert(p);
            }
        }
    }

    fn by_id(&self, id: i64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Checked against the record, as a saved record may have been renumbered.
    fn by_number(&self, store: &FormStore, number: &str) -> Option<usize> {
        self.by_number.get(number).copied().filter(|&p| {
            store.records[p]
                .get(&store.meta.number_field)
                .and_then(Value::as_str)
                == Some(number)
        })
    }
}

fn save(state: &mut FakeState, form: &str, data: &Value, batch: bool, draft: bool) -> Value {
    let models: Vec<Value> = match (data.get("Model"), batch) {
        (Some(Value::Array(items)), true) => items.clone(),
        (Some(m @ Value::Object(_)), false) => vec![m.clone()],
        _ => return failure(msg_code::BAD_ARGUMENT, "Model参数格式不正确", Some("Model")),
    };
    let need_update: Vec<String> = string_list(data.get("NeedUpDateFields"));
    let need_return: Vec<String> = string_list(data.get("NeedReturnFields"));
    let auto_audit = data
        .get("IsAutoSubmitAndAudit")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let delete_entry = data
        .get("IsDeleteEntry")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    state.save_calls += 1;
    let mut rejections = state.rejections.take();
    let locked: HashSet<String> = state
        .locked
        .iter()
        .filter(|(f, _)| f == form)
        .map(|(_, n)| n.clone())
        .collect();
    let mut any_locked = false;
    let store = state.form(form);
    let meta = store.meta.clone();
    let mut positions = Positions::of(store);
    let mut errors = Vec::new();
    let mut successes = Vec::new();
    let mut returns = Vec::new();
    let now = now_local();
    for (index, model) in models.iter().enumerate() {
        let Some(model) = model.as_object() else {
            errors.push(json!({"FieldName": null, "Message": "数据包格式不正确", "DIndex": index}));
            continue;
        };
        let number = model
            .get(&meta.number_field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(number) = number.filter(|n| locked.contains(*n)) {
            any_locked = true;
            errors.push(json!({"FieldName": null, "Message": format!("网控冲突：{}[{number}]正在被用户[张会计]编辑，请稍后再试", meta.name), "DIndex": index}));
            continue;
        }
        if let Some(r) = rejections.as_mut()
            && r.rng.random_bool(r.probability)
        {
            r.rejected += 1;
            errors.push(json!({"FieldName": meta.number_field, "Message": format!("{}保存失败：数据校验未通过（测试注入的随机拒绝）", meta.name), "DIndex": index}));
            continue;
        }
        let existing = match id_of(model.get(&meta.id_field)) {
            Some(id) => match positions.by_id(id) {
                Some(p) => Some(p),
                None => {
                    errors.push(json!({"FieldName": meta.id_field, "Message": format!("{}内码为[{id}]的数据不存在，可能已被删除", meta.name), "DIndex": index}));
                    continue;
                }
            },
            None => None,
        };
        let mut failed = false;
        if let Some(number) = number {
            let clash = positions
                .by_number(store, number)
                .filter(|p| Some(*p) != existing);
            if clash.is_some() {
                errors.push(json!({"FieldName": meta.number_field,
                    "Message": format!("违反字段唯一性要求：编码唯一。[{number}]已经被[{}]使用。", meta.name), "DIndex": index}));
                failed = true;
            }
        }
        if existing.is_none() && !draft {
            for (field, label) in &meta.required {
                if is_blank(model.get(field)) {
                    errors.push(json!({"FieldName": field, "Message": format!("字段“{label}”是必填项", ), "DIndex": index}));
                    failed = true;
                }
            }
        }
        if failed {
            continue;
        }
        let position = match existing {
            Some(p) => {
                let record = &mut store.records[p];
                for (k, v) in model {
                    if k == &meta.id_field
                        || (!need_update.is_empty()
                            && !need_update.iter().any(|f| f.eq_ignore_ascii_case(k)))
                    {
                        continue;
                    }
                    if let (Some((entry, _)), Value::Array(_)) = (&meta.entry, v)
                        && k == entry
                        && !delete_entry
                    {
                        if let Some(Value::Array(old)) = record.get_mut(k) {
                            old.extend(v.as_array().cloned().unwrap_or_default());
                            continue;
                        }
                    }
                    record.insert(k.clone(), v.clone());
                }
                p
            }
            None => {
                let mut record = model.clone();
                let id = store.next_id;
                store.next_id += 1;
                record.insert(meta.id_field.clone(), json!(id));
                if number.is_none() {
                    let allocated = format!(
                        "{}{:0width$}",
                        meta.number_prefix,
                        store.next_seq,
                        width = meta.number_digits
                    );
                    store.next_seq += 1;
                    record.insert(meta.number_field.clone(), json!(allocated));
                }
                record.insert("FCreateDate".into(), json!(now));
                record.insert(
                    "FDocumentStatus".into(),
                    json!(if draft { "Z" } else { "A" }),
                );
                store.records.push(record);
                store.records.len() - 1
            }
        };
        let next_entry = &mut store.next_entry_id;
        let record = &mut store.records[position];
        if let Some((entry, entry_id)) = &meta.entry
            && let Some(Value::Array(lines)) = record.get_mut(entry)
        {
            for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                if id_of(line.get(entry_id)).is_none() {
                    line.insert(entry_id.clone(), json!(*next_entry));
                    *next_entry += 1;
                }
            }
        }
        record.insert("FModifyDate".into(), json!(now));
        if auto_audit && !draft {
            record.insert("FDocumentStatus".into(), json!("C"));
        }
        let id = record.get(&meta.id_field).cloned().unwrap_or(Value::Null);
        let number = record
            .get(&meta.number_field)
            .cloned()
            .unwrap_or(Value::Null);
        successes.push(json!({"Id": id, "Number": number, "DIndex": index}));
        if !need_return.is_empty() {
            let picked: Map<String, Value> = need_return
                .iter()
                .map(|f| (f.clone(), record.get(f).cloned().unwrap_or(Value::Null)))
                .collect();
            returns.push(Value::Object(picked));
        }
        positions.note(store, position, true);
    }
    state.rejections = rejections;
    let code = if any_locked {
        msg_code::NETWORK_LOCK
    } else {
        refusal_code(&errors)
    };
    let single = (!batch).then(|| successes.first().cloned()).flatten();
    json!({"Result": {"ResponseStatus": {"ErrorCode": if errors.is_empty() { 0 } else { 500 }, "IsSuccess": errors.is_empty(),
        "Errors": errors, "SuccessEntitys": successes, "SuccessMessages": [], "MsgCode": code},
        "Id": single.as_ref().map_or(json!(""), |s| s["Id"].clone()),
        "Number": single.as_ref().map_or(Value::Null, |s| s["Number"].clone()),
        "NeedReturnData": returns}})
}

/// The `MsgCode` of a save or status answer: 11 (validation failed) when
/// any model was refused, as real sites answer duplicates, missing
/// required fields and "already audited".
fn refusal_code(errors: &[Value]) -> i64 {
    if errors.is_empty() {
        msg_code::NONE
    } else {
        msg_code::VALIDATION_FAILED
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn targets(store: &FormStore, data: &Value) -> Vec<(usize, Result<usize, String>)> {
    let mut out = Vec::new();
    for (i, n) in string_list(data.get("Numbers")).iter().enumerate() {
        out.push((
            i,
            store
                .position_by_number(n)
                .ok_or_else(|| format!("编码为[{n}]的{}不存在", store.meta.name)),
        ));
    }
    let offset = out.len();
    for (i, id) in string_list(data.get("Ids")).iter().enumerate() {
        let pos = id.parse().ok().and_then(|id| store.position_by_id(id));
        out.push((
            offset + i,
            pos.ok_or_else(|| format!("内码为[{id}]的{}不存在", store.meta.name)),
        ));
    }
    out
}

fn set_status(state: &mut FakeState, form: &str, op: &str, data: &Value) -> Value {
    let store = state.form(form);
    let found = targets(store, data);
    if found.is_empty() {
        return failure(
            msg_code::BAD_ARGUMENT,
            "没有指定要操作的数据(Numbers或Ids)",
            None,
        );
    }
    let mut errors = Vec::new();
    let mut successes = Vec::new();
    let mut delete = Vec::new();
    for (index, pos) in found {
        let pos = match pos {
            Ok(p) => p,
            Err(message) => {
                errors.push(json!({"FieldName": null, "Message": message, "DIndex": index}));
                continue;
            }
        };
        let record = &mut store.records[pos];
        let status = record
            .get("FDocumentStatus")
            .and_then(Value::as_str)
            .unwrap_or("A")
            .to_owned();
        let number = record
            .get(&store.meta.number_field)
            .cloned()
            .unwrap_or(Value::Null);
        let result: Result<Option<&str>, String> = match (op, status.as_str()) {
            ("Submit", "A" | "D" | "Z") => Ok(Some("B")),
            ("Audit", "B") => Ok(Some("C")),
            ("UnAudit", "B" | "C") => Ok(Some("D")),
            ("Delete", "A" | "D" | "Z") => Ok(None),
            ("Forbid", _) => {
                record.insert("FForbidStatus".into(), json!("B"));
                Ok(Some(""))
            }
            ("Enable", _) => {
                record.insert("FForbidStatus".into(), json!("A"));
                Ok(Some(""))
            }
            ("Submit" | "Audit" | "UnAudit" | "Delete", _) => Err(format!(
                "{}[{}]的数据状态为[{status}]，不能执行{op}操作",
                store.meta.name,
                number.as_str().unwrap_or("")
            )),
            _ => Err(format!("不支持的操作[{op}]")),
        };
        match result {
            Ok(new_status) => {
                match new_status {
                    Some("") => {}
                    Some(s) => {
                        record.insert("FDocumentStatus".into(), json!(s));
                    }
                    None => delete.push(pos),
                }
                record.insert("FModifyDate".into(), json!(now_local()));
                let id = record
                    .get(&store.meta.id_field)
                    .cloned()
                    .unwrap_or(Value::Null);
                successes.push(json!({"Id": id, "Number": number, "DIndex": index}));
            }
            Err(message) => {
                errors.push(json!({"FieldName": null, "Message": message, "DIndex": index}))
            }
        }
    }
    delete.sort_unstable();
    for pos in delete.into_iter().rev() {
        store.records.remove(pos);
    }
    json!({"Result": {"ResponseStatus": {"ErrorCode": if errors.is_empty() { 0 } else { 500 }, "IsSuccess": errors.is_empty(),
        "Errors": errors, "SuccessEntitys": successes, "SuccessMessages": [], "MsgCode": refusal_code(&errors)}}})
}

fn view(state: &mut FakeState, form: &str, data: &Value) -> Value {
    let store = state.form(form);
    let number = data
        .get("Number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let pos = match number {
        Some(n) => store.position_by_number(n),
        None => id_of(data.get("Id")).and_then(|id| store.position_by_id(id)),
    };
    let Some(pos) = pos else {
        return failure(msg_code::NOT_FOUND, "单据不存在或已被删除", None);
    };
    let record = &store.records[pos];
    let mut model = record.clone();
    model.insert(
        "Id".into(),
        record
            .get(&store.meta.id_field)
            .cloned()
            .unwrap_or(Value::Null),
    );
    model.insert(
        "Number".into(),
        record
            .get(&store.meta.number_field)
            .cloned()
            .unwrap_or(Value::Null),
    );
    model.insert(
        "DocumentStatus".into(),
        record
            .get("FDocumentStatus")
            .cloned()
            .unwrap_or(Value::Null),
    );
    json!({"Result": {"ResponseStatus": {"ErrorCode": 0, "IsSuccess": true, "Errors": [], "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": 0},
        "Result": model}})
}

/// Resolves a field key (case-insensitive, `A.B` navigates references)
/// against a header and, for entry rows, an entry line.
fn resolve(header: &Map<String, Value>, line: Option<&Map<String, Value>>, key: &str) -> Value {
    fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        map.get(key).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or("");
    let mut value = line
        .and_then(|l| get(l, first))
        .or_else(|| get(header, first))
        .or_else(|| {
            header
                .values()
                .filter_map(Value::as_object)
                .find_map(|sub| get(sub, first))
        });
    for part in parts {
        value = value.and_then(Value::as_object).and_then(|m| get(m, part));
    }
    match value {
        Some(Value::Object(m)) => get(m, "FNumber").cloned().unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// A header with, for entry rows, one entry line.
type Row<'a> = (&'a Map<String, Value>, Option<&'a Map<String, Value>>);

fn query(state: &mut FakeState, form: &str, data: &Value, objects: bool) -> Value {
    let error = |message: String| json!([[failure(msg_code::BAD_ARGUMENT, &message, None)]]);
    let max_limit = state.max_limit as usize;
    if !state.forms.contains_key(form) && !matches!(form, "BD_Customer" | "SAL_SaleOrder") {
        return error(format!("业务对象[{form}]不存在"));
    }
    let store = state.form(form);
    let keys: Vec<String> = data
        .get("FieldKeys")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return error("FieldKeys不能为空".into());
    }
    // The documented array form (`[{"Left","FieldName","Compare",...}]`)
    // uses compare codes the fact sheet does not list: refused, so that a
    // filter the fake cannot evaluate never answers with every row.
    let filter_text = match data.get("FilterString") {
        None | Some(Value::Null) => "",
        Some(Value::String(text)) => text.as_str(),
        Some(Value::Array(_)) => {
            return error(
                "过滤条件FilterString为数组格式，本测试站点仅支持字符串格式的过滤条件".into(),
            );
        }
        Some(other) => return error(format!("过滤条件FilterString格式不正确：{other}")),
    };
    let filter = match filter::parse(filter_text) {
        Ok(f) => f,
        Err(e) => return error(format!("过滤条件FilterString语法错误：{e}")),
    };
    let order = filter::parse_order(
        data.get("OrderString")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let entry = store.meta.entry.clone();
    let mut rows: Vec<Row<'_>> = Vec::new();
    for record in &store.records {
        let lines: Vec<&Map<String, Value>> = entry
            .as_ref()
            .and_then(|(e, _)| record.get(e))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let wants_entry = !lines.is_empty()
            && keys.iter().any(|k| {
                let first = k.split('.').next().unwrap_or("");
                !record.keys().any(|h| h.eq_ignore_ascii_case(first))
                    && lines[0].keys().any(|l| l.eq_ignore_ascii_case(first))
            });
        if wants_entry {
            rows.extend(lines.into_iter().map(|l| (record, Some(l))));
        } else {
            rows.push((record, None));
        }
    }
    rows.retain(|(h, l)| filter.eval(&|k| resolve(h, *l, k)));
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (key, desc) in &order {
                let ord = filter::compare(&resolve(a.0, a.1, key), &resolve(b.0, b.1, key))
                    .unwrap_or(std::cmp::Ordering::Equal);
                if ord != std::cmp::Ordering::Equal {
                    return if *desc { ord.reverse() } else { ord };
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let top = data.get("TopRowCount").and_then(Value::as_u64).unwrap_or(0) as usize;
    if top > 0 {
        rows.truncate(top);
    }
    let start = data.get("StartRow").and_then(Value::as_u64).unwrap_or(0) as usize;
    let limit = match data.get("Limit").and_then(Value::as_u64).unwrap_or(0) as usize {
        0 => max_limit,
        n => n.min(max_limit),
    };
    let page = rows.into_iter().skip(start).take(limit);
    let out: Vec<Value> = page
        .map(|(h, l)| {
            if objects {
                Value::Object(keys.iter().map(|k| (k.clone(), resolve(h, l, k))).collect())
            } else {
                Value::Array(keys.iter().map(|k| resolve(h, l, k)).collect())
            }
        })
        .collect();
    Value::Array(out)
}
