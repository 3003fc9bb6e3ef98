//! A stateful fake Huke server (feature `testing`).
//!
//! [`FakeHuke`] listens on loopback and behaves like the model of the API in
//! this crate's docs: it checks the four `ur-*` signature headers of every
//! call against the raw body (wrong → HTTP 200 with `{"code":401,"msg":…}`),
//! stores trades and customers, filters `searchTrades` by `source`,
//! `dealerList` and every `timeRanges` entry on the field its `timeType`
//! names, pages 1-based with a page-size maximum, and injects the kit's
//! faults with Huke's envelopes.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use netease_huke::testing::FakeHuke;
//! let fake = FakeHuke::start().await;
//! fake.seed_trades(30, 7);
//! let client = fake.client_builder().build()?;
//! let fields = client.customers().fields().await?;
//! assert!(!fields.is_empty());
//! # Ok::<(), netease_huke::Error>(())
//! # }).unwrap();
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::MutexGuard;
use std::time::Duration;

use chrono::{DateTime, Utc};
use integration_core::testing::{
    Fake, FakeServer, Match, Request, ResponseTemplate, body_json, fast_retry, header,
    json_response, matchers,
};
pub use integration_core::testing::{Fault, FaultStyle, Faults};
use integration_core::{ClientConfig, Secret};
use md5::{Digest, Md5};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::auth::{
    Credentials, HEADER_APP_KEY, HEADER_CHECKSUM, HEADER_CURTIME, HEADER_SIGN, sign_request,
};
use crate::client::ClientBuilder;
use crate::error::{CODE_AUTH, CODE_DUPLICATE, CODE_SUCCESS, CODE_THROTTLED};
use crate::trade::{Scalar, Trade, time_type};

/// The app key the fake accepts by default.
pub const APP_KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The app secret the fake accepts by default.
pub const APP_SECRET: &str = "00112233445566778899aabbccddeeff";

/// The fake's data and rules. Public so tests can inspect and adjust them.
#[derive(Debug, Clone)]
pub struct HukeState {
    /// Accepted app keys and their secrets.
    pub apps: HashMap<String, String>,
    /// Stored trades, as JSON objects.
    pub trades: Vec<Map<String, Value>>,
    /// Stored customers (from `customer/addCustomer`), each with an `id`.
    pub customers: Vec<Map<String, Value>>,
    /// What `customer/fields` returns.
    pub customer_fields: Vec<Value>,
    /// The largest page size honoured; larger requests are clamped.
    pub max_page_size: u32,
    /// The page size when a request sends none.
    pub default_page_size: u32,
    /// The `code` of signature and credential failures.
    pub auth_error_code: i64,
    /// The accepted distance between `ur-curtime` and the fake's clock
    /// (`None`: any).
    pub max_clock_skew: Option<Duration>,
    next_customer: u64,
}

impl Default for HukeState {
    fn default() -> Self {
        Self {
            apps: HashMap::from([(APP_KEY.to_owned(), APP_SECRET.to_owned())]),
            trades: Vec::new(),
            customers: Vec::new(),
            customer_fields: default_customer_fields(),
            max_page_size: 100,
            default_page_size: 10,
            auth_error_code: CODE_AUTH,
            max_clock_skew: Some(Duration::from_secs(300)),
            next_customer: 1,
        }
    }
}

fn default_customer_fields() -> Vec<Value> {
    vec![
        json!({"key": "name", "label": "客户名称", "type": "text", "required": true}),
        json!({"key": "mobile", "label": "手机号", "type": "phone", "required": false}),
        json!({"key": "company", "label": "公司名称", "type": "text", "required": false}),
        json!({"key": "address", "label": "地址", "type": "address", "required": false}),
        json!({"key": "remark", "label": "备注", "type": "textarea", "required": false}),
    ]
}

/// Huke's envelopes for injected throttling and stale signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct HukeFaultStyle;

impl FaultStyle for HukeFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        envelope(CODE_THROTTLED, "请求过于频繁,请稍后重试", Value::Null)
    }
    fn auth_expired(&self) -> ResponseTemplate {
        envelope(CODE_AUTH, "curtime expired", Value::Null)
    }
}

fn envelope(code: i64, msg: &str, data: Value) -> ResponseTemplate {
    json_response(&json!({"code": code, "msg": msg, "data": data}))
}

fn ok(data: Value) -> ResponseTemplate {
    envelope(CODE_SUCCESS, "success", data)
}

/// A running fake Huke server.
pub struct FakeHuke {
    server: FakeServer<HukeState>,
}

impl std::fmt::Debug for FakeHuke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHuke")
            .field("base_url", &self.base_url())
            .finish()
    }
}

impl FakeHuke {
    /// Starts an empty fake on a free loopback port.
    pub async fn start() -> Self {
        Self::start_with(HukeState::default()).await
    }

    /// Starts a fake with the given state on a free loopback port.
    pub async fn start_with(state: HukeState) -> Self {
        Self::mount(FakeServer::start(state, HukeFaultStyle).await).await
    }

    /// Starts an empty fake on `addr` (for a sandbox on a fixed port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(
            Self::mount(FakeServer::start_on(addr, HukeState::default(), HukeFaultStyle).await?)
                .await,
        )
    }

    async fn mount(server: FakeServer<HukeState>) -> Self {
        server
            .route(PostPath("/openapi/trade/searchTrades"), |state, req| {
                guarded(state, req, search_trades)
            })
            .await;
        server
            .route(PostPath("/openapi/customer/fields"), |state, req| {
                guarded(state, req, |s, _| {
                    ok(Value::Array(s.customer_fields.clone()))
                })
            })
            .await;
        server
            .route(PostPath("/openapi/customer/addCustomer"), |state, req| {
                guarded(state, req, add_customer)
            })
            .await;
        server
            .route(matchers::any(), |_, req| {
                ResponseTemplate::new(404).set_body_json(json!({
                    "timestamp": Utc::now().to_rfc3339(), "status": 404, "error": "Not Found", "path": req.url.path()
                }))
            })
            .await;
        Self { server }
    }

    /// The credentials the fake accepts ([`APP_KEY`], [`APP_SECRET`]).
    pub fn credentials() -> Credentials {
        Credentials::new(APP_KEY, Secret::new(APP_SECRET))
    }

    /// The API root to give [`ClientBuilder::base_url`]: `http://127.0.0.1:port/openapi`.
    pub fn base_url(&self) -> String {
        format!("{}/openapi", self.server.uri())
    }

    /// A client builder pointed at this fake with its credentials, no rate
    /// limit and millisecond retry backoffs ([`fast_retry`]).
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = crate::Client::builder()
            .base_url(self.base_url())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// The underlying kit server (received requests, address).
    pub fn server(&self) -> &FakeServer<HukeState> {
        &self.server
    }

    /// The fake's state, locked.
    pub fn state(&self) -> MutexGuard<'_, HukeState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Requests received on paths containing `path_contains`.
    pub async fn received_on(&self, path_contains: &str) -> Vec<Request> {
        self.server.received_on(path_contains).await
    }

    /// Stores one trade as given.
    pub fn insert_trade(&self, trade: &Trade) {
        if let Ok(Value::Object(map)) = serde_json::to_value(trade) {
            self.state().trades.push(map);
        }
    }

    /// Seeds `count` realistic trades created over the last 180 days
    /// (reproducibly from `seed`), about three per buyer, and returns them.
    pub fn seed_trades(&self, count: usize, seed: u64) -> Vec<Trade> {
        let now = Utc::now();
        self.seed_trades_between(count, seed, now - chrono::Duration::days(180), now)
    }

    /// Seeds `count` realistic trades created between `from` and `to`.
    pub fn seed_trades_between(
        &self,
        count: usize,
        seed: u64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Trade> {
        let trades = generate_trades(count, seed, from, to);
        let mut state = self.state();
        for t in &trades {
            if let Ok(Value::Object(map)) = serde_json::to_value(t) {
                state.trades.push(map);
            }
        }
        trades
    }
}

/// The fake as every connector's fake is driven ([`Fake`]). The base URL is
/// the API root, `/openapi` included ([`FakeHuke::base_url`]).
#[async_trait::async_trait]
impl Fake for FakeHuke {
    type Builder = ClientBuilder;
    type Credentials = Credentials;

    async fn start() -> Self {
        FakeHuke::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeHuke::start_on(addr).await
    }
    fn base_url(&self) -> String {
        FakeHuke::base_url(self)
    }
    fn credentials(&self) -> Credentials {
        Self::credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeHuke::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

/// Matches `POST` on exactly this path.
struct PostPath(&'static str);

impl Match for PostPath {
    fn matches(&self, request: &Request) -> bool {
        request.method.as_str() == "POST" && request.url.path() == self.0
    }
}

/// Runs `handler` if the request is signed correctly and its body is a JSON
/// object; otherwise answers as Huke does.
fn guarded(
    state: &mut HukeState,
    req: &Request,
    handler: impl Fn(&mut HukeState, &Value) -> ResponseTemplate,
) -> ResponseTemplate {
    if let Err(msg) = check_signature(state, req) {
        return envelope(state.auth_error_code, &msg, Value::Null);
    }
    let body = body_json(req);
    if !body.is_object() {
        return envelope(
            400,
            "请求参数格式错误: body must be a JSON object",
            Value::Null,
        );
    }
    handler(state, &body)
}

/// The signature check of the real service, as far as it is known.
fn check_signature(state: &HukeState, req: &Request) -> Result<(), String> {
    let get = |name: &str| header(req, name).map(str::trim).filter(|v| !v.is_empty());
    let (Some(app_key), Some(sign), Some(curtime), Some(checksum)) = (
        get(HEADER_APP_KEY),
        get(HEADER_SIGN),
        get(HEADER_CURTIME),
        get(HEADER_CHECKSUM),
    ) else {
        return Err("missing ur-appkey/ur-sign/ur-curtime/ur-checksum header".to_owned());
    };
    let Some(secret) = state.apps.get(app_key) else {
        return Err("appKey not exist".to_owned());
    };
    if sign != hex::encode(Md5::digest(&req.body)) {
        return Err("sign error: ur-sign is not the md5 of the body".to_owned());
    }
    let Some(curtime_secs) = curtime.parse::<i64>().ok().filter(|_| curtime.len() == 10) else {
        return Err("curtime error: ur-curtime must be unix seconds".to_owned());
    };
    if let Some(max) = state.max_clock_skew {
        let skew = (Utc::now().timestamp() - curtime_secs).unsigned_abs();
        if skew > max.as_secs() {
            return Err("curtime expired".to_owned());
        }
    }
    let expected = sign_request(app_key, secret, &req.body, curtime_secs);
    if !expected.checksum.eq_ignore_ascii_case(checksum) {
        return Err("checksum error".to_owned());
    }
    Ok(())
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn search_trades(state: &mut HukeState, body: &Value) -> ResponseTemplate {
    let ranges = body
        .get("timeRanges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let first = ranges.first();
    let page = as_i64(body.get("page"))
        .or_else(|| as_i64(first.and_then(|r| r.get("page"))))
        .unwrap_or(1);
    let size = as_i64(body.get("pageSize"))
        .or_else(|| as_i64(first.and_then(|r| r.get("pageSize"))))
        .unwrap_or(i64::from(state.default_page_size));
    if page < 1 || size < 1 {
        return envelope(400, "page和pageSize必须大于0", Value::Null);
    }
    let size = size.min(i64::from(state.max_page_size)) as usize;

    let mut filters = Vec::new();
    for range in &ranges {
        let tt = range.get("timeType").and_then(as_text).unwrap_or_default();
        let Some(field) = time_type::field(&Scalar::Text(tt.clone())) else {
            return envelope(400, &format!("不支持的timeType: {tt}"), Value::Null);
        };
        let (Some(start), Some(end)) =
            (as_i64(range.get("startTime")), as_i64(range.get("endTime")))
        else {
            return envelope(400, "startTime和endTime必须是毫秒时间戳", Value::Null);
        };
        filters.push((field, start, end));
    }
    let source = body.get("source").and_then(as_text);
    let dealers: Vec<String> = body
        .get("dealerList")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(as_text).collect())
        .unwrap_or_default();

    let mut hits: Vec<&Map<String, Value>> = state
        .trades
        .iter()
        .filter(|t| {
            source
                .as_ref()
                .is_none_or(|s| t.get("source").and_then(as_text).as_ref() == Some(s))
        })
        .filter(|t| {
            dealers.is_empty()
                || t.get("dealerId")
                    .and_then(as_text)
                    .is_some_and(|d| dealers.contains(&d))
        })
        .filter(|t| {
            filters.iter().all(|(field, start, end)| {
                as_i64(t.get(*field)).is_some_and(|at| *start <= at && at <= *end)
            })
        })
        .collect();
    let sort_field = filters.first().map_or("createTime", |f| f.0);
    // Keys computed once per trade, not once per comparison.
    hits.sort_by_cached_key(|t| {
        (
            as_i64(t.get(sort_field)).unwrap_or(0),
            t.get("tid").and_then(as_text).unwrap_or_default(),
        )
    });
    let total = hits.len();
    let list: Vec<Value> = hits
        .into_iter()
        .skip((page as usize - 1).saturating_mul(size))
        .take(size)
        .map(|t| Value::Object(t.clone()))
        .collect();
    ok(json!({"total": total, "page": page, "pageSize": size, "list": list}))
}

fn add_customer(state: &mut HukeState, body: &Value) -> ResponseTemplate {
    let Some(rows) = body
        .get("data")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return envelope(400, "data不能为空", Value::Null);
    };
    let mut new = Vec::new();
    for row in rows {
        let Some(row) = row.as_object() else {
            return envelope(400, "data的元素必须是对象", Value::Null);
        };
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if name.is_empty() {
            return envelope(1002, "客户名称不能为空", Value::Null);
        }
        let mobile = row.get("mobile").and_then(Value::as_str);
        let duplicate = state
            .customers
            .iter()
            .chain(new.iter())
            .any(|c| match mobile {
                Some(m) => c.get("mobile").and_then(Value::as_str) == Some(m),
                None => c.get("name").and_then(Value::as_str) == Some(name),
            });
        if duplicate {
            return envelope(CODE_DUPLICATE, &format!("客户已存在: {name}"), Value::Null);
        }
        let mut stored = row.clone();
        stored.insert(
            "id".into(),
            json!(format!("{}", 880_000 + state.next_customer)),
        );
        stored.insert(
            "follower".into(),
            body.get("follower").cloned().unwrap_or(Value::Null),
        );
        stored.insert(
            "status".into(),
            body.get("status").cloned().unwrap_or(Value::Null),
        );
        state.next_customer += 1;
        new.push(stored);
    }
    let ids: Vec<Value> = new.iter().filter_map(|c| c.get("id").cloned()).collect();
    state.customers.extend(new);
    ok(json!({"successCount": ids.len(), "ids": ids}))
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "婷婷", "子涵", "浩然", "欣怡",
];
const NICK_STYLES: &[&str] = &[
    "{name}",
    "{name}🌸",
    "小{given}",
    "{given}宝妈",
    "A{name}-家居",
    "{name}(上海)",
    "阳光{given}",
];
const PLACES: &[(&str, &str, &str)] = &[
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "深圳市", "南山区"),
    ("上海市", "上海市", "浦东新区"),
    ("北京市", "北京市", "朝阳区"),
    ("江苏省", "苏州市", "工业园区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
];
const STREETS: &[&str] = &[
    "文三路",
    "科技园南路",
    "张江路",
    "建国路",
    "星湖街",
    "天府大道",
    "珞喻路",
];
const PRODUCTS: &[(&str, &str)] = &[
    ("网易严选 全棉四件套", "299.00"),
    ("云感乳胶枕", "159.00"),
    ("冻干咖啡礼盒 24颗", "89.90"),
    ("日式陶瓷餐具 12件套", "238.00"),
    ("羊毛混纺围巾", "129.50"),
    ("智能体脂秤", "99.00"),
];
const DEALERS: &[(&str, &str)] = &[
    ("1001", "陈晓雯"),
    ("1002", "刘建国"),
    ("1003", "周佳"),
    ("1004", "孙磊"),
];
const STATUSES: &[&str] = &[
    "WAIT_BUYER_PAY",
    "WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
];

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Realistic trades: Chinese buyers (about three trades each), cids, staff,
/// addresses, line items, decimal amounts with two decimals and times in
/// unix milliseconds spread between `from` and `to`.
pub fn generate_trades(
    count: usize,
    seed: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Trade> {
    let mut rng = StdRng::seed_from_u64(seed);
    let buyers: Vec<(String, String, usize)> = (0..count.div_ceil(3).max(1))
        .map(|i| {
            let surname = *pick(&mut rng, SURNAMES);
            let given = *pick(&mut rng, GIVEN);
            let name = format!("{surname}{given}");
            let nick = pick(&mut rng, NICK_STYLES)
                .replace("{name}", &name)
                .replace("{given}", given);
            let cid = (6_290_000_000_000_000u64 + (seed % 10_000) * 100_000_000 + i as u64 * 7919)
                .to_string();
            (nick, cid, rng.random_range(0..PLACES.len()))
        })
        .collect();
    let (start, end) = (
        from.timestamp_millis(),
        to.timestamp_millis().max(from.timestamp_millis() + 1),
    );
    (0..count)
        .map(|i| {
            let (nick, cid, place) = &buyers[rng.random_range(0..buyers.len())];
            let created = rng.random_range(start..end);
            let (province, city, district) = PLACES[*place];
            let status = *pick(&mut rng, STATUSES);
            let mut total = rust_decimal::Decimal::ZERO;
            let items: Vec<Value> = (0..rng.random_range(1..=3))
                .map(|_| {
                    let (title, price) = *pick(&mut rng, PRODUCTS);
                    let num = rng.random_range(1..=3u32);
                    let price: rust_decimal::Decimal = price.parse().unwrap_or_default();
                    total += price * rust_decimal::Decimal::from(num);
                    json!({"title": title, "num": num, "price": format!("{price:.2}")})
                })
                .collect();
            let post_fee = if total >= rust_decimal::Decimal::from(99) { rust_decimal::Decimal::ZERO } else { rust_decimal::Decimal::new(800, 2) };
            let discount = rust_decimal::Decimal::new(rng.random_range(0..2000), 2).min(total);
            let payment = total + post_fee - discount;
            let (dealer_id, dealer_name) = *pick(&mut rng, DEALERS);
            let paid = status != "WAIT_BUYER_PAY" && status != "TRADE_CLOSED";
            let pay_time = paid.then(|| created + rng.random_range(30_000..3_600_000));
            let finish_time = (status == "TRADE_FINISHED").then(|| created + rng.random_range(2..15) * 86_400_000);
            let update_time = finish_time.or(pay_time).unwrap_or(created) + rng.random_range(0..600_000);
            let created_dt = DateTime::from_timestamp_millis(created).unwrap_or(from);
            let mut trade = json!({
                "tid": format!("HK{}{:04}{i:06}", created_dt.format("%Y%m%d"), seed % 10_000),
                "buyerNick": nick,
                "buyerCid": cid,
                "source": rng.random_range(1..=3),
                "dealerId": dealer_id,
                "dealerName": dealer_name,
                "status": status,
                "totalFee": format!("{total:.2}"),
                "postFee": format!("{post_fee:.2}"),
                "discountFee": format!("{discount:.2}"),
                "payment": format!("{payment:.2}"),
                "createTime": created,
                "updateTime": update_time,
                "receiverName": nick.chars().filter(|c| !c.is_ascii() && *c as u32 > 0x4e00 && (*c as u32) < 0x9fff).take(3).collect::<String>(),
                "receiverMobile": format!("1{}{:08}", pick(&mut rng, &["38", "39", "58", "86", "77"]), rng.random_range(0..100_000_000u32)),
                "receiverState": province,
                "receiverCity": city,
                "receiverDistrict": district,
                "receiverAddress": format!("{}{}号{}室", pick(&mut rng, STREETS), rng.random_range(1..999), rng.random_range(101..2505)),
                "items": items,
            });
            if let Some(map) = trade.as_object_mut() {
                if let Some(t) = pay_time {
                    map.insert("payTime".into(), json!(t));
                }
                if let Some(t) = finish_time {
                    map.insert("finishTime".into(), json!(t));
                }
            }
            serde_json::from_value(trade).unwrap_or_default()
        })
        .collect()
}
