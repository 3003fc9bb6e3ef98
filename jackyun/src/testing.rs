//! A stateful fake of the Jackyun gateway (feature `testing`).
//!
//! [`FakeJackyun`] serves `POST /open/openapi/do` on loopback and behaves
//! like the gateway: it form-decodes the body, checks the system parameters,
//! the app's subscription to the method, the MD5 sign and the timestamp
//! skew, answers with Jackyun's envelopes and sub-codes, stores customers so
//! a later query sees them, and pages goods (`maxSkuId`), trades (`scrollId`,
//! `fields`, 7-day windows), stock (`maxQuantityId`) and warehouses with
//! `pageSize` at most 200. Faults are injected through the core kit.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::MutexGuard;

use chrono::{DateTime, TimeZone, Utc};
use integration_core::ClientConfig;
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, KeyIndex, Request, ResponseTemplate, fast_retry,
    json_response, matchers,
};
use integration_core::types::{BeijingTime, beijing};
use serde_json::{Map, Value, json};

use crate::auth::{self, Credentials};
use crate::client::{Client, ClientBuilder};
use crate::error::{
    SUB_INVALID_PARAMETER, SUB_NOT_SUBSCRIBED, SUB_SIGN_ERROR, SUB_SUCCESS_MARKER, SUB_THROTTLED,
    SUB_TOKEN_ERROR, SUB_UNKNOWN,
};

/// The appkey the fake accepts by default.
pub const APPKEY: &str = "10000001";
/// The secret of [`APPKEY`].
pub const SECRET: &str = "fake-jackyun-secret-0123456789abcdef";
/// Sub-code the fake sends for a missing system parameter (the real one is
/// not public; this value is invented).
pub const SUB_MISSING_PARAM: &str = "0858030800";
/// Sub-code the fake sends for a stale timestamp (invented; clients
/// recognise the error by `时间戳` in the message).
pub const SUB_TIMESTAMP: &str = "0858030804";
/// Sub-code the fake sends for a duplicate customer code (invented).
pub const SUB_DUPLICATE: &str = "0050030003";

/// Methods the fake implements (and the default app subscribes to).
pub const METHODS: &[&str] = &[
    crate::customer::METHOD_ADD,
    crate::customer::METHOD_LIST,
    crate::customer::METHOD_LIST_CUSTOMIZED,
    crate::goods::METHOD_GOODS_LIST,
    crate::trade::METHOD_TRADES,
    crate::stock::METHOD_STOCK,
    crate::stock::METHOD_WAREHOUSES,
];

/// An app registered with the fake.
#[derive(Debug, Clone)]
pub struct FakeApp {
    /// Its secret.
    pub secret: String,
    /// The methods it subscribed to.
    pub methods: BTreeSet<String>,
}

/// The fake's data and settings; lock it with [`FakeJackyun::state`].
#[derive(Debug)]
pub struct FakeState {
    /// Registered apps by appkey.
    pub apps: BTreeMap<String, FakeApp>,
    /// Customers (as the lists return them): read with
    /// [`FakeState::customers`], change with [`FakeState::customers_mut`].
    customers: Vec<Value>,
    /// Positions in `customers` by code, built on first use; dropped by
    /// [`FakeState::customers_mut`]. Adding a customer and looking a code
    /// up no longer scan every customer (10,000 customers made each add
    /// cost milliseconds).
    by_code: KeyIndex,
    /// Goods rows (one per SKU).
    pub goods: Vec<Value>,
    /// Sales orders.
    pub trades: Vec<Value>,
    /// Stock rows.
    pub stock: Vec<Value>,
    /// Warehouses.
    pub warehouses: Vec<Value>,
    /// Largest accepted difference between a request's timestamp and now.
    pub max_skew: chrono::Duration,
    /// Methods whose `result.data` is sent as JSON text (as some methods do).
    pub data_as_text: BTreeSet<String>,
    /// Methods that answer success with `subCode 0030000004 / 操作成功`.
    pub success_marker: BTreeSet<String>,
    /// Customer codes whose `crm.customer.add` fails with a business error.
    pub reject_codes: BTreeSet<String>,
    /// Methods called, in order (successful or not).
    pub calls: Vec<String>,
    scrolls: HashMap<String, Scroll>,
    next_id: i64,
}

#[derive(Debug)]
struct Scroll {
    method: String,
    rows: Vec<Value>,
    offset: usize,
}

impl Default for FakeState {
    fn default() -> Self {
        let mut apps = BTreeMap::new();
        apps.insert(
            APPKEY.to_owned(),
            FakeApp {
                secret: SECRET.to_owned(),
                methods: METHODS.iter().map(|m| (*m).to_owned()).collect(),
            },
        );
        Self {
            apps,
            customers: Vec::new(),
            by_code: KeyIndex::default(),
            goods: Vec::new(),
            trades: Vec::new(),
            stock: Vec::new(),
            warehouses: Vec::new(),
            max_skew: chrono::Duration::minutes(10),
            data_as_text: BTreeSet::new(),
            success_marker: [crate::goods::METHOD_GOODS_LIST.to_owned()].into(),
            reject_codes: BTreeSet::new(),
            calls: Vec::new(),
            scrolls: HashMap::new(),
            next_id: 2_229_118_837_749_614_720,
        }
    }
}

/// A customer row's code.
fn customer_code(customer: &Value) -> Option<String> {
    customer["customerCode"].as_str().map(str::to_owned)
}

impl FakeState {
    /// The customers, as the lists return them.
    pub fn customers(&self) -> &[Value] {
        &self.customers
    }

    /// The customers, to change them (drops the index by code).
    pub fn customers_mut(&mut self) -> &mut Vec<Value> {
        self.by_code.clear();
        &mut self.customers
    }

    /// The position of the customer with `code` (the first, if a change
    /// through [`FakeState::customers_mut`] made codes repeat).
    fn customer_by_code(&self, code: &str) -> Option<usize> {
        self.by_code.position(&self.customers, customer_code, code)
    }

    /// Appends a customer, keeping the index by code.
    fn push_customer(&mut self, customer: Value) {
        self.by_code
            .pushed(customer_code(&customer), self.customers.len());
        self.customers.push(customer);
    }
}

/// How the fake answers injected throttling and credential faults.
#[derive(Debug, Clone, Copy)]
pub struct JackyunFaults;

impl FaultStyle for JackyunFaults {
    fn throttled(&self) -> ResponseTemplate {
        json_response(&error_body(SUB_THROTTLED, "调用过于频繁，请稍后再试", "1"))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        json_response(&error_body(SUB_TOKEN_ERROR, "token无效或已过期", "1"))
    }
}

fn error_body(sub_code: &str, msg: &str, context_id: &str) -> Value {
    json!({"code": 0, "msg": msg, "result": {"data": null, "contextId": context_id}, "subCode": sub_code})
}

/// The envelope of a stale-timestamp rejection (for fault injection).
pub fn timestamp_rejection() -> ResponseTemplate {
    json_response(&error_body(
        SUB_TIMESTAMP,
        "时间戳已过期，请检查服务器时间",
        "1",
    ))
}

/// A running fake gateway.
pub struct FakeJackyun {
    server: FakeServer<FakeState>,
}

impl std::fmt::Debug for FakeJackyun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeJackyun")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl FakeJackyun {
    /// Starts an empty fake on a free loopback port.
    pub async fn start() -> Self {
        let server = FakeServer::start(FakeState::default(), JackyunFaults).await;
        Self::mount(server).await
    }

    /// Starts an empty fake on `addr` (for a sandbox on a fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let server = FakeServer::start_on(addr, FakeState::default(), JackyunFaults).await?;
        Ok(Self::mount(server).await)
    }

    async fn mount(server: FakeServer<FakeState>) -> Self {
        server
            .route(
                matchers::path(crate::client::GATEWAY_PATH),
                |state: &mut FakeState, request: &Request| handle(state, request),
            )
            .await;
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

    /// The credentials the fake accepts.
    pub fn credentials() -> Credentials {
        Credentials::new(APPKEY, SECRET)
    }

    /// A client builder pointed at the fake, with its credentials, fast
    /// retries ([`fast_retry`]) and no rate limit.
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A client for the fake (see [`FakeJackyun::client_builder`]).
    pub fn client(&self) -> Client {
        // The builder above is valid by construction.
        match self.client_builder().build() {
            Ok(c) => c,
            Err(e) => panic!("fake client: {e}"),
        }
    }

    /// The fake's state, locked.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received so far.
    pub async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }

    /// Seeds realistic data: `customers` customers, `goods` SKUs (with stock
    /// in three warehouses) and `trades` sales orders, modified over the four
    /// months before `until`. Deterministic for a given `until`.
    pub fn seed(&self, customers: usize, goods: usize, trades: usize, until: DateTime<Utc>) {
        let mut state = self.state();
        seed(&mut state, customers, goods, trades, until);
    }
}

/// The fake as every connector's fake is driven ([`Fake`]).
#[async_trait::async_trait]
impl Fake for FakeJackyun {
    type Builder = ClientBuilder;
    type Credentials = Credentials;

    async fn start() -> Self {
        FakeJackyun::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeJackyun::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credentials(&self) -> Credentials {
        Self::credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeJackyun::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        FakeJackyun::received(self).await
    }
}

// ---------------------------------------------------------------- seeding

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛",
    "明",
];
const PLACES: &[(&str, &str, &str)] = &[
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("江苏省", "苏州市", "工业园区"),
    ("上海市", "上海市", "浦东新区"),
    ("北京市", "北京市", "朝阳区"),
    ("四川省", "成都市", "武侯区"),
    ("福建省", "厦门市", "思明区"),
];
const PRODUCTS: &[(&str, &str, i64)] = &[
    ("碧螺春绿茶", "250g礼盒", 12800),
    ("西湖龙井", "500g罐装", 35800),
    ("不锈钢保温杯", "500ml 黑色", 8950),
    ("纯棉T恤", "L 白色", 5900),
    ("蓝牙耳机", "标准版", 19900),
    ("办公椅", "人体工学款", 69900),
    ("有机大米", "5kg", 6880),
];
const WAREHOUSES: &[(&str, &str)] = &[
    ("CK001", "杭州总仓"),
    ("CK002", "广州分仓"),
    ("CK003", "成都分仓"),
];

/// A tiny deterministic generator (no dependency, reproducible data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn bj(t: DateTime<Utc>) -> String {
    BeijingTime::from_utc(t).to_string()
}

fn money(cents: i64) -> String {
    rust_decimal::Decimal::new(cents, 2).to_string()
}

fn seed(
    state: &mut FakeState,
    customers: usize,
    goods: usize,
    trades: usize,
    until: DateTime<Utc>,
) {
    let mut rng = Lcg(until.timestamp() as u64 ^ 0x5eed);
    let span_secs = 120 * 24 * 3600;
    let when = |rng: &mut Lcg, i: usize, n: usize| {
        let base = span_secs as usize * (i + 1) / (n + 1);
        until - chrono::Duration::seconds((span_secs as usize - base + rng.next(3600)) as i64)
    };
    if state.warehouses.is_empty() {
        for (i, (code, name)) in WAREHOUSES.iter().enumerate() {
            state.warehouses.push(json!({
                "warehouseId": (1001 + i as i64).to_string(), "warehouseCode": code, "warehouseName": name,
                "warehouseTypeName": "普通仓", "isBlockup": 0
            }));
        }
    }
    for i in 0..customers {
        let name = format!(
            "{}{}",
            SURNAMES[rng.next(SURNAMES.len())],
            GIVEN[rng.next(GIVEN.len())]
        );
        let (state_name, city, district) = PLACES[rng.next(PLACES.len())];
        let t = bj(when(&mut rng, i, customers));
        let id = next_id(state);
        let n = state.customers.len() + 1;
        state.push_customer(json!({
            "customerId": id, "customerCode": format!("KH{n:05}"), "nickname": name,
            "phone": format!("138{:08}", 10_000_000 + rng.next(89_999_999)),
            "country": "中国", "state": state_name, "city": city, "district": district,
            "address": format!("{state_name}{city}{district}文三路{}号", 1 + rng.next(300)),
            "customerTypeName": "零售客户", "enable": 1, "isDelete": 0, "blackList": 0,
            "gmtCreate": t, "gmtModified": t
        }));
    }
    for i in 0..goods {
        let (name, spec, price) = PRODUCTS[i % PRODUCTS.len()];
        let t = when(&mut rng, i, goods).timestamp_millis();
        let goods_id = next_id(state);
        let sku_id = next_id(state);
        let n = state.goods.len() + 1;
        state.goods.push(json!({
            "goodsId": goods_id, "skuId": sku_id, "goodsNo": format!("SP{n:05}"), "goodsName": name,
            "skuName": spec, "skuNo": format!("SP{n:05}-01"), "skuBarcode": format!("69{:011}", 12_345_678 + n),
            "unitName": "件", "cateId": 3 + (i % 4) as i64, "cateName": "日用百货", "brandName": "吉客优选",
            "isBlockup": 0, "skuIsBlockup": 0, "isDelete": 0, "isPackageGood": 0, "goodsAttr": 1,
            "retailPrice": money(price), "skuWeight": "0.50",
            "goodsGmtModified": t, "skuGmtModified": t, "gmtCreate": t - 86_400_000, "skuGmtCreate": t - 86_400_000,
            "goodsField1": "", "skuField1": ""
        }));
        for (w, (code, wname)) in WAREHOUSES.iter().enumerate() {
            let qty = rng.next(500) as i64;
            let id = next_id(state);
            state.stock.push(json!({
                "quantityId": id, "warehouseId": (1001 + w as i64).to_string(), "warehouseCode": code,
                "warehouseName": wname, "goodsId": goods_id, "goodsNo": format!("SP{n:05}"), "goodsName": name,
                "skuId": sku_id, "skuName": spec, "skuBarcode": format!("69{:011}", 12_345_678 + n), "unitName": "件",
                "currentQuantity": qty.to_string(), "useQuantity": (qty - qty / 10).to_string(),
                "lockedQuantity": (qty / 10).to_string(), "purchasingQuantity": "0", "defectiveQuanity": "0",
                "costPrice": money(price * 6 / 10)
            }));
        }
    }
    for i in 0..trades {
        let created = when(&mut rng, i, trades);
        let modified = created + chrono::Duration::minutes(30 + rng.next(600) as i64);
        let (name, spec, price) = PRODUCTS[rng.next(PRODUCTS.len())];
        let count = 1 + rng.next(3) as i64;
        let post = if rng.next(2) == 0 { 0 } else { 1000 };
        let total = price * count;
        let (st, city, district) = PLACES[rng.next(PLACES.len())];
        let (status, explain) = [
            (9090, "已完成"),
            (6000, "发货在途"),
            (1010, "待审核"),
            (5010, "已取消"),
        ][rng.next(4)];
        let customer = format!(
            "{}{}",
            SURNAMES[rng.next(SURNAMES.len())],
            GIVEN[rng.next(GIVEN.len())]
        );
        let id = next_id(state);
        let sub = next_id(state);
        let n = state.trades.len() + 1;
        let (wcode, wname) = WAREHOUSES[rng.next(WAREHOUSES.len())];
        state.trades.push(json!({
            "tradeId": id, "tradeNo": format!("JY{}{n:05}", created.with_timezone(&beijing()).format("%Y%m%d")),
            "tradeStatus": status, "tradeStatusExplain": explain, "tradeType": 1, "tradeFrom": 1,
            "tradeTime": bj(created), "payTime": bj(created + chrono::Duration::minutes(5)),
            "consignTime": if status == 9090 || status == 6000 { bj(modified) } else { String::new() },
            "gmtCreate": bj(created), "gmtModified": bj(modified),
            "shopId": "3001", "shopName": "天猫旗舰店", "warehouseCode": wcode, "warehouseName": wname,
            "logisticName": "顺丰速运", "customerCode": format!("KH{:05}", 1 + rng.next(999)), "customerName": customer,
            "totalFee": money(total), "discountFee": "0.00", "postFee": money(post), "payment": money(total + post),
            "receivedTotal": money(total + post), "sellerMemo": "", "buyerMemo": "请尽快发货",
            "state": st, "city": city, "district": district, "town": "", "zip": "310000",
            "goodsDetail": [{
                "subTradeId": sub, "goodsId": "1", "goodsNo": "SP00001", "goodsName": name, "specName": spec,
                "barcode": "6900012345679", "sellCount": count.to_string(), "sellPrice": money(price),
                "sellTotal": money(total), "unit": "件", "isGift": 0
            }]
        }));
    }
}

fn next_id(state: &mut FakeState) -> String {
    state.next_id += 1;
    state.next_id.to_string()
}

// ---------------------------------------------------------------- handling

fn ok(state: &mut FakeState, method: &str, data: Value) -> ResponseTemplate {
    let context_id = next_id(state);
    let data = if state.data_as_text.contains(method) {
        Value::String(data.to_string())
    } else {
        data
    };
    let (sub, msg) = if state.success_marker.contains(method) {
        (SUB_SUCCESS_MARKER, "操作成功")
    } else {
        ("", "")
    };
    json_response(
        &json!({"code": 200, "msg": msg, "result": {"data": data, "contextId": context_id}, "subCode": sub}),
    )
}

fn fail(state: &mut FakeState, sub_code: &str, msg: &str) -> ResponseTemplate {
    let context_id = next_id(state);
    json_response(&error_body(sub_code, msg, &context_id))
}

/// Answers one gateway request.
fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if request.method.as_str() != "POST" {
        return ResponseTemplate::new(405).set_body_raw(
            "<html><body>405 Method Not Allowed</body></html>",
            "text/html",
        );
    }
    let mut params: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
    params.extend(url::form_urlencoded::parse(&request.body).into_owned());
    let method = params.get("method").cloned().unwrap_or_default();
    state.calls.push(method.clone());
    for required in [
        "method",
        "appkey",
        "version",
        "contenttype",
        "timestamp",
        "bizcontent",
        "sign",
    ] {
        if params.get(required).is_none_or(|v| v.is_empty()) {
            return fail(
                state,
                SUB_MISSING_PARAM,
                &format!("缺少必要参数:{required}"),
            );
        }
    }
    let appkey = params["appkey"].clone();
    let Some(app) = state.apps.get(&appkey).cloned() else {
        return fail(
            state,
            SUB_NOT_SUBSCRIBED,
            &format!("appKey={appkey},method={method},未查询到应用或应用未订阅此API"),
        );
    };
    if !app.methods.contains(&method) {
        return fail(
            state,
            SUB_NOT_SUBSCRIBED,
            &format!("appKey={appkey},method={method},未查询到应用或应用未订阅此API"),
        );
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if auth::sign(&pairs, &app.secret) != params["sign"] {
        return fail(state, SUB_SIGN_ERROR, "签名错误");
    }
    let fresh = BeijingTime::parse(&params["timestamp"])
        .filter(|_| params["timestamp"].len() == 19)
        .is_some_and(|t| (Utc::now() - t.to_utc()).abs() <= state.max_skew);
    if !fresh {
        return fail(state, SUB_TIMESTAMP, "时间戳已过期，请检查服务器时间");
    }
    if params["contenttype"] != "json" {
        return fail(state, SUB_INVALID_PARAMETER, "contenttype只支持json");
    }
    let biz: Map<String, Value> = match serde_json::from_str(&params["bizcontent"]) {
        Ok(Value::Object(map)) => map,
        _ => return fail(state, SUB_INVALID_PARAMETER, "bizcontent不是合法的JSON对象"),
    };
    if let Some(size) = biz.get("pageSize") {
        match as_i64(size) {
            Some(n) if (1..=200).contains(&n) => {}
            _ => return fail(state, SUB_INVALID_PARAMETER, "pageSize必须在1到200之间"),
        }
    }
    let result = match method.as_str() {
        crate::customer::METHOD_ADD => customer_add(state, &biz),
        crate::customer::METHOD_LIST => customer_list(state, &biz),
        crate::customer::METHOD_LIST_CUSTOMIZED => customer_customized(state, &biz),
        crate::goods::METHOD_GOODS_LIST => goods_list(state, &biz),
        crate::trade::METHOD_TRADES => trades(state, &biz),
        crate::stock::METHOD_STOCK => stock(state, &biz),
        crate::stock::METHOD_WAREHOUSES => warehouses(state, &biz),
        _ => Err((SUB_UNKNOWN, "未知错误".to_owned())),
    };
    match result {
        Ok(data) => ok(state, &method, data),
        Err((sub, msg)) => fail(state, sub, &msg),
    }
}

type Answer = Result<Value, (&'static str, String)>;

fn bad(msg: impl Into<String>) -> (&'static str, String) {
    (SUB_INVALID_PARAMETER, msg.into())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(biz: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    biz.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn time_param(
    biz: &Map<String, Value>,
    key: &str,
) -> Result<Option<BeijingTime>, (&'static str, String)> {
    match text(biz, key) {
        None => Ok(None),
        Some(s) => BeijingTime::parse(s)
            .map(Some)
            .ok_or_else(|| bad(format!("{key}格式错误，应为yyyy-MM-dd HH:mm:ss"))),
    }
}

fn page(biz: &Map<String, Value>) -> (usize, usize) {
    let index = biz.get("pageIndex").and_then(as_i64).unwrap_or(0).max(0) as usize;
    let size = biz.get("pageSize").and_then(as_i64).unwrap_or(50) as usize;
    (index, size)
}

fn in_range(value: Option<&Value>, start: Option<BeijingTime>, end: Option<BeijingTime>) -> bool {
    if start.is_none() && end.is_none() {
        return true;
    }
    let t = match value {
        Some(Value::String(s)) => BeijingTime::parse(s),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(BeijingTime::from_utc),
        _ => None,
    };
    let Some(t) = t else { return false };
    start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
}

fn customer_add(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let code = text(biz, "customerCode")
        .ok_or_else(|| bad("客户编号不能为空"))?
        .to_owned();
    if text(biz, "nickname").is_none() {
        return Err(bad("客户名称不能为空"));
    }
    if state.reject_codes.contains(&code) {
        return Err(bad(format!("客户[{code}]校验失败：客户类别不存在")));
    }
    if state.customer_by_code(&code).is_some() {
        return Err((SUB_DUPLICATE, format!("客户编号[{code}]已存在")));
    }
    let id = next_id(state);
    let now = bj(Utc::now());
    let mut row = biz.clone();
    row.insert("customerId".into(), id.clone().into());
    row.insert("enable".into(), 1.into());
    row.insert("isDelete".into(), 0.into());
    row.insert("blackList".into(), 0.into());
    row.insert("gmtCreate".into(), now.clone().into());
    row.insert("gmtModified".into(), now.into());
    state.push_customer(Value::Object(row));
    Ok(json!({"customerId": id, "customerCode": code}))
}

fn customer_list(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (start, end) = (
        time_param(biz, "gmtModifiedBegin")?,
        time_param(biz, "gmtModifiedEnd")?,
    );
    let enable = biz.get("enable").and_then(as_i64);
    let (index, size) = page(biz);
    let rows: Vec<Value> = state
        .customers
        .iter()
        .filter(|c| in_range(c.get("gmtModified"), start, end))
        .filter(|c| enable.is_none_or(|e| c.get("enable").and_then(as_i64) == Some(e)))
        .skip(index * size)
        .take(size)
        .cloned()
        .collect();
    Ok(Value::Array(rows))
}

fn scroll_page(
    state: &mut FakeState,
    method: &str,
    biz: &Map<String, Value>,
    rows: Vec<Value>,
    key: &str,
) -> Answer {
    let (_, size) = page(biz);
    let scroll_id = match text(biz, "scrollId") {
        Some(id) => {
            if state.scrolls.get(id).is_none_or(|s| s.method != method) {
                return Err(bad("scrollId无效或已过期"));
            }
            id.to_owned()
        }
        None => {
            let id = format!("scroll-{}", next_id(state));
            state.scrolls.insert(
                id.clone(),
                Scroll {
                    method: method.to_owned(),
                    rows,
                    offset: 0,
                },
            );
            id
        }
    };
    let Some(scroll) = state.scrolls.get_mut(&scroll_id) else {
        return Err(bad("scrollId无效或已过期"));
    };
    let total = scroll.rows.len();
    let page: Vec<Value> = scroll
        .rows
        .iter()
        .skip(scroll.offset)
        .take(size)
        .cloned()
        .collect();
    scroll.offset += page.len();
    let mut data = Map::new();
    data.insert(key.into(), Value::Array(page));
    data.insert("scrollId".into(), scroll_id.into());
    if biz.get("hasTotal").and_then(as_i64) == Some(1) {
        data.insert("totalResults".into(), total.into());
    }
    Ok(Value::Object(data))
}

fn customer_customized(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (start, end) = (
        time_param(biz, "gmtModifiedBegin")?,
        time_param(biz, "gmtModifiedEnd")?,
    );
    let list = |key: &str| -> Vec<String> {
        biz.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ids, codes) = (list("customerIdArr"), list("customerCodeArr"));
    // By code through the index; the cheap comparisons first: the time
    // range parses a date per row.
    let by_code: Vec<Value>;
    let candidates: &[Value] = if codes.is_empty() {
        &state.customers
    } else {
        let mut positions: Vec<usize> = codes
            .iter()
            .filter_map(|code| state.customer_by_code(code))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        by_code = positions
            .into_iter()
            .map(|i| state.customers[i].clone())
            .collect();
        &by_code
    };
    let rows: Vec<Value> = candidates
        .iter()
        .filter(|c| {
            ids.is_empty()
                || c["customerId"]
                    .as_str()
                    .is_some_and(|id| ids.iter().any(|x| x == id))
        })
        .filter(|c| {
            codes.is_empty()
                || c["customerCode"]
                    .as_str()
                    .is_some_and(|cc| codes.iter().any(|x| x == cc))
        })
        .filter(|c| in_range(c.get("gmtModified"), start, end))
        .cloned()
        .collect();
    scroll_page(
        state,
        crate::customer::METHOD_LIST_CUSTOMIZED,
        biz,
        rows,
        "customers",
    )
}

fn id_num(v: &Value) -> i128 {
    match v {
        Value::Number(n) => n.as_i64().map_or(0, i128::from),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn goods_list(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    if !biz.contains_key("pageIndex") || !biz.contains_key("pageSize") {
        return Err(bad("pageIndex和pageSize必传"));
    }
    let (index, size) = page(biz);
    let max_sku = biz.get("maxSkuId").map_or(0, id_num);
    let ranges = [
        ("startDate", "endDate", "gmtCreate"),
        (
            "startDateModifiedSku",
            "endDateModifiedSku",
            "skuGmtModified",
        ),
        (
            "startDateModifiedGoods",
            "endDateModifiedGoods",
            "goodsGmtModified",
        ),
    ];
    let mut bounds = Vec::new();
    for (s, e, field) in ranges {
        bounds.push((time_param(biz, s)?, time_param(biz, e)?, field));
    }
    let csv = |key: &str| -> Vec<String> {
        text(biz, key)
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let (goods_nos, barcodes) = (csv("goodsNos"), csv("skuBarcodes"));
    let with_deleted = text(biz, "isQueryDelete") == Some("1");
    let mut rows: Vec<&Value> = state
        .goods
        .iter()
        .filter(|g| id_num(&g["skuId"]) > max_sku)
        .filter(|g| with_deleted || g.get("isDelete").and_then(as_i64) != Some(1))
        .filter(|g| bounds.iter().all(|(s, e, f)| in_range(g.get(*f), *s, *e)))
        .filter(|g| text(biz, "goodsNo").is_none_or(|n| g["goodsNo"] == n))
        .filter(|g| text(biz, "skuBarcode").is_none_or(|n| g["skuBarcode"] == n))
        .filter(|g| {
            goods_nos.is_empty()
                || g["goodsNo"]
                    .as_str()
                    .is_some_and(|n| goods_nos.iter().any(|x| x == n))
        })
        .filter(|g| {
            barcodes.is_empty()
                || g["skuBarcode"]
                    .as_str()
                    .is_some_and(|n| barcodes.iter().any(|x| x == n))
        })
        .collect();
    rows.sort_by_key(|g| id_num(&g["skuId"]));
    let page: Vec<Value> = rows
        .into_iter()
        .skip(index * size)
        .take(size)
        .cloned()
        .collect();
    Ok(json!({"goods": page}))
}

const TRADE_RANGES: &[(&str, &str, &str)] = &[
    ("startModified", "endModified", "gmtModified"),
    ("startCreated", "endCreated", "gmtCreate"),
    ("startAuditTime", "endAuditTime", "auditTime"),
    ("startConsignTime", "endConsignTime", "consignTime"),
    ("startTradeTime", "endTradeTime", "tradeTime"),
    ("startCompleteTime", "endCompleteTime", "completeTime"),
];

fn project(trade: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in fields {
        match f.split_once('.') {
            Some((parent, child)) => children.entry(parent).or_default().push(child),
            None => {
                if let Some(v) = trade.get(*f) {
                    out.insert((*f).to_owned(), v.clone());
                }
            }
        }
    }
    for (parent, kids) in children {
        if out.contains_key(parent) {
            continue;
        }
        if let Some(Value::Array(items)) = trade.get(parent) {
            let items = items
                .iter()
                .map(|item| {
                    Value::Object(
                        kids.iter()
                            .filter_map(|k| Some(((*k).to_owned(), item.get(*k)?.clone())))
                            .collect(),
                    )
                })
                .collect();
            out.insert(parent.to_owned(), Value::Array(items));
        }
    }
    Value::Object(out)
}

fn trades(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let Some(fields) = text(biz, "fields").map(str::to_owned) else {
        return Err(bad("查询字段不能为空"));
    };
    let fields: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let mut bounds = Vec::new();
    for (s, e, field) in TRADE_RANGES {
        let (start, end) = (time_param(biz, s)?, time_param(biz, e)?);
        if let (Some(a), Some(b)) = (start, end) {
            if b.0 - a.0 > chrono::Duration::days(7) {
                return Err(bad("时间范围不能超过7天"));
            }
        } else if start.is_some() || end.is_some() {
            return Err(bad(format!("{s}和{e}必须同时传入")));
        }
        if start.is_some() {
            bounds.push((start, end, *field));
        }
    }
    let trade_nos: Vec<String> = text(biz, "tradeNo")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let trade_ids: Vec<i128> = biz
        .get("tradeIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(id_num).collect())
        .unwrap_or_default();
    let statuses: Vec<i64> = biz
        .get("tradeStatusList")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(as_i64).collect())
        .unwrap_or_default();
    if bounds.is_empty()
        && trade_nos.is_empty()
        && trade_ids.is_empty()
        && text(biz, "sourceTradeNos").is_none()
    {
        return Err(bad("单号或时间范围必传其一"));
    }
    let rows: Vec<Value> = state
        .trades
        .iter()
        .filter(|t| bounds.iter().all(|(s, e, f)| in_range(t.get(*f), *s, *e)))
        .filter(|t| {
            trade_nos.is_empty()
                || t["tradeNo"]
                    .as_str()
                    .is_some_and(|n| trade_nos.iter().any(|x| x == n))
        })
        .filter(|t| trade_ids.is_empty() || trade_ids.contains(&id_num(&t["tradeId"])))
        .filter(|t| {
            statuses.is_empty()
                || t.get("tradeStatus")
                    .and_then(as_i64)
                    .is_some_and(|s| statuses.contains(&s))
        })
        .map(|t| project(t, &fields))
        .collect();
    scroll_page(state, crate::trade::METHOD_TRADES, biz, rows, "trades")
}

fn stock(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (index, size) = page(biz);
    let max_id = biz.get("maxQuantityId").map_or(0, id_num);
    let (start, end) = (
        time_param(biz, "gmtModifiedStart")?,
        time_param(biz, "gmtModifiedEnd")?,
    );
    let mut rows: Vec<&Value> = state
        .stock
        .iter()
        .filter(|r| id_num(&r["quantityId"]) > max_id)
        .filter(|r| {
            (start.is_none() && end.is_none()) || in_range(r.get("gmtModified"), start, end)
        })
        .collect();
    rows.sort_by_key(|r| id_num(&r["quantityId"]));
    let page: Vec<Value> = rows
        .into_iter()
        .skip(index * size)
        .take(size)
        .cloned()
        .collect();
    Ok(json!({"goodsStockQuantity": page}))
}

fn warehouses(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (index, size) = page(biz);
    let page: Vec<Value> = state
        .warehouses
        .iter()
        .skip(index * size)
        .take(size)
        .cloned()
        .collect();
    Ok(json!({"warehouseInfo": page}))
}

/// `now` as the fake's clock sees it, as a gateway timestamp (for tests
/// that build requests by hand).
pub fn now_timestamp() -> String {
    auth::timestamp(Utc::now())
}
