//! A stateful fake 销帮帮 Pro API (feature `testing`).
//!
//! It checks `sign` over the raw body with the tenant's token (or a
//! personal token it issued), answers with the `{code, msg, success}` error
//! envelope when something is wrong, serves `form/list` and `form/get` (the
//! real contract form of the scheme document and a customer form), stores
//! records per form with `addTime`/`updateTime` in unix seconds, applies
//! list conditions and 1-based paging (page size capped at 100), enforces
//! required fields, option texts, `ownerId` arrays and no-repeat fields on
//! writes, wants `dataId`/`formId` as JSON integers on detail, add, edit,
//! del and `form/get` (lists stay lenient and accept text), and supports the
//! kit's faults (throttle code 100004, auth code 100003).
//!
//! Error codes the real API never showed are fake-server choices, listed in
//! the crate's "Assumptions".

// Handlers return the answer to send as `Err`; a `ResponseTemplate` is large
// and that is fine in a fake.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::TimeZone;
use integration_core::ClientConfig;
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, Match, Request, ResponseTemplate, fast_retry, header,
};
use integration_core::types::beijing;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::client::{Client, ClientBuilder};

/// The corpid the fake knows.
pub const CORPID: &str = "ding-fake-corp-0001";
/// The company API token of [`CORPID`].
pub const TOKEN: &str = "fake-company-token-3f9c2a7b5d1e4c60";
/// A user of the fake (the operator, 14-digit DingTalk-style id).
pub const USER_ID: &str = "01234567890123";
/// The contract form (business type 201), served from the real `form/get`
/// reply of the scheme document.
pub const CONTRACT_FORM_ID: i64 = 572924;
/// The customer form (business type 100).
pub const CUSTOMER_FORM_ID: i64 = 572901;
/// The real `form/get` reply of a contract form (scheme document).
pub const CONTRACT_FORM_GET_JSON: &str =
    include_str!("../tests/fixtures/xbongbong-contract-form-get.json");

/// Throttle code answered by the fake (a fake-server choice: legacy
/// "server busy").
pub const THROTTLE_CODE: i64 = 100004;
/// Code for a bad signature (legacy "权限验证失败").
pub const AUTH_FAILED_CODE: i64 = 100003;
/// Code for a missing required field (legacy "required parameter missing").
pub const REQUIRED_CODE: i64 = 100005;
/// Code for "no such data / form".
pub const NOT_FOUND_CODE: i64 = 100006;
/// Code for a no-repeat violation (legacy duplicate code).
pub const DUPLICATE_CODE: i64 = 201005;

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The corpid.
    pub corpid: &'static str,
    /// The company API token.
    pub token: &'static str,
    /// A known operator user id.
    pub user_id: &'static str,
}

/// The customer form's `explainList` served by the fake.
pub fn customer_form_explain() -> Value {
    let sys = |attr: &str, name: &str, ft: i64| json!({"attr": attr, "attrName": name, "fieldType": ft, "required": 0, "showType": 6, "items": []});
    let select = |texts: &[&str]| -> Value {
        Value::Array(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"checked": false, "isOther": 0, "text": t, "value": (i + 1).to_string()}))
                .collect(),
        )
    };
    json!([
        {"attr": "text_1", "attrName": "客户名称", "fieldType": 1, "required": 1, "noRepeat": 1, "showType": 0, "items": [], "dateType": "yyyy-MM-dd HH:mm"},
        {"attr": "serialNo", "attrName": "客户编号", "fieldType": 10019, "required": 1, "noRepeat": 1, "showType": 0, "items": [],
         "serialNumber": {"dateFormat": "all", "numberDigit": 4, "postfix": "", "prefix": "KH.", "resetCycle": 1, "startNum": 1}},
        {"attr": "text_2", "attrName": "客户类型", "fieldType": 3, "required": 1, "showType": 0, "items": select(&["普通客户", "重点客户", "VIP客户"])},
        {"attr": "text_3", "attrName": "客户来源", "fieldType": 3, "required": 0, "showType": 0, "items": select(&["线上推广", "展会", "老客户介绍", "电话营销"])},
        {"attr": "subForm_1", "attrName": "客户电话", "fieldType": 20004, "required": 0, "showType": 0, "items": [], "subFieldList": [
            {"attr": "text_1", "attrName": "电话类型", "fieldType": 3, "required": 0, "showType": 0, "items": select(&["手机", "工作", "家庭"])},
            {"attr": "text_2", "attrName": "电话号码", "fieldType": 1, "required": 1, "showType": 0}
        ]},
        {"attr": "address_1", "attrName": "客户地址", "fieldType": 12, "required": 0, "showType": 0, "items": []},
        {"attr": "num_1", "attrName": "注册资本(万元)", "fieldType": 2, "required": 0, "showType": 0, "accuracy": 2, "integerOnly": 0, "amountFlag": 1,
         "numericalLimitsFlag": 1, "numericalLimits": {"min": 0, "max": 1000000000}},
        {"attr": "date_1", "attrName": "成立日期", "fieldType": 4, "required": 0, "showType": 0, "dateType": "yyyy-MM-dd", "items": []},
        {"attr": "text_4", "attrName": "官网", "fieldType": 1, "required": 0, "showType": 0, "items": [], "verifyRule": ""},
        {"attr": "array_1", "attrName": "客户标签", "fieldType": 10001, "required": 0, "showType": 0, "items": select(&["高意向", "已报价", "长期合作"])},
        {"attr": "ownerId", "attrName": "负责人", "fieldType": 10017, "required": 1, "multiple": 1, "showType": 10, "items": []},
        {"attr": "coUserId", "attrName": "协同人", "fieldType": 10018, "required": 0, "showType": 10, "items": []},
        {"attr": "file_1", "attrName": "附件", "fieldType": 8, "required": 0, "showType": 0, "items": []},
        sys("creatorId", "创建人", 10013),
        sys("addTime", "创建时间", 10014),
        sys("updateTime", "更新时间", 10015)
    ])
}

/// A form the fake serves.
#[derive(Debug, Clone)]
pub struct FakeForm {
    /// Form id.
    pub form_id: i64,
    /// App id.
    pub app_id: i64,
    /// Menu id.
    pub menu_id: i64,
    /// Business type code.
    pub business_type: i64,
    /// `saasMark` (1 system, 2 custom).
    pub saas_mark: i64,
    /// The module path (`customer`, `contract`, …).
    pub module: String,
    /// Display name.
    pub name: String,
    /// The `explainList`.
    pub explain: Vec<Value>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// Id.
    pub data_id: i64,
    /// Form.
    pub form_id: i64,
    /// Module path.
    pub module: String,
    /// Created, unix seconds.
    pub add_time: i64,
    /// Changed, unix seconds.
    pub update_time: i64,
    /// In the recycle bin.
    pub deleted: bool,
    /// The values as written (flat).
    pub data: Map<String, Value>,
}

/// The fake's state.
#[derive(Debug)]
pub struct FakeState {
    /// corpid → company token.
    pub tenants: HashMap<String, String>,
    /// userId → personal token issued by `user/generateToken`.
    pub personal_tokens: HashMap<String, String>,
    /// Forms.
    pub forms: Vec<FakeForm>,
    /// Records.
    pub records: Vec<StoredRecord>,
    /// Users as `user/list` returns them.
    pub users: Vec<Value>,
    /// Departments as `department/list` returns them.
    pub departments: Vec<Value>,
    /// The fake clock, unix seconds; each write moves it one second on.
    pub now: i64,
    next_id: i64,
    serials: HashMap<i64, i64>,
    tokens_issued: u64,
}

impl Default for FakeState {
    fn default() -> Self {
        let contract: Value = serde_json::from_str(CONTRACT_FORM_GET_JSON).unwrap_or(Value::Null);
        let contract_explain = contract["result"]["explainList"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let customer_explain = customer_form_explain()
            .as_array()
            .cloned()
            .unwrap_or_default();
        let users = [
            (USER_ID, "王建国", 2, "销售总监"),
            ("01234567890124", "李娜", 3, "客户经理"),
            ("01234567890125", "张伟", 3, "客户经理"),
            ("01234567890126", "刘洋", 4, "商务专员"),
            ("01234567890127", "陈静", 4, "财务"),
        ]
        .iter()
        .map(|(id, name, dep, pos)| {
            json!({"userId": id, "name": name, "avatar": "", "position": pos, "jobnumber": format!("XBB{}", &id[10..]), "status": 1,
                   "departmentList": [{"id": dep, "name": dep_name(*dep), "isLeader": 0}], "roleList": [{"id": 2, "name": "销售"}]})
        })
        .collect();
        let departments = (1..=4)
            .map(|id| {
                json!({"id": id, "name": dep_name(id), "parentId": if id == 1 { 0 } else { 1 },
                       "depIdRouter": if id == 1 { "|1|".to_owned() } else { format!("|1|{id}|") }, "sort": id})
            })
            .collect();
        Self {
            tenants: HashMap::from([(CORPID.to_owned(), TOKEN.to_owned())]),
            personal_tokens: HashMap::new(),
            forms: vec![
                FakeForm {
                    form_id: CUSTOMER_FORM_ID,
                    app_id: 311,
                    menu_id: 1201,
                    business_type: 100,
                    saas_mark: 1,
                    module: "customer".into(),
                    name: "客户".into(),
                    explain: customer_explain,
                },
                FakeForm {
                    form_id: CONTRACT_FORM_ID,
                    app_id: 311,
                    menu_id: 1205,
                    business_type: 201,
                    saas_mark: 1,
                    module: "contract".into(),
                    name: "合同订单".into(),
                    explain: contract_explain,
                },
            ]
            .into_iter()
            .chain(
                SIMPLE_FORMS
                    .iter()
                    .map(|(form_id, business_type, module, name, title)| FakeForm {
                        form_id: *form_id,
                        app_id: 311,
                        menu_id: 1300 + business_type % 100,
                        business_type: *business_type,
                        saas_mark: 1,
                        module: (*module).to_owned(),
                        name: (*name).to_owned(),
                        explain: simple_explain(title),
                    }),
            )
            .collect(),
            records: Vec::new(),
            users,
            departments,
            now: beijing()
                .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
                .single()
                .map_or(1_772_326_800, |t| t.timestamp()),
            next_id: 25_430_001,
            serials: HashMap::new(),
            tokens_issued: 0,
        }
    }
}

/// The other system forms the fake serves: (formId, businessType, module, name, title field).
const SIMPLE_FORMS: [(i64, i64, &str, &str, &str); 6] = [
    (572910, 401, "contact", "联系人", "姓名"),
    (572912, 301, "opportunity", "销售机会", "机会名称"),
    (572915, 501, "communicate", "跟进记录", "跟进内容"),
    (572918, 2401, "product", "产品", "产品名称"),
    (572920, 702, "paymentSheet", "回款单", "回款单编号"),
    (572922, 701, "payment", "应收款", "应收款编号"),
];

/// A small explain for the other modules: a required title, an amount, a
/// date, a linked customer and owners.
fn simple_explain(title: &str) -> Vec<Value> {
    vec![
        json!({"attr": "text_1", "attrName": title, "fieldType": 1, "required": 1, "showType": 0, "items": []}),
        json!({"attr": "text_2", "attrName": "关联客户", "fieldType": 20001, "required": 0, "showType": 0, "items": []}),
        json!({"attr": "num_1", "attrName": "金额", "fieldType": 2, "required": 0, "accuracy": 2, "amountFlag": 1, "numericalLimitsFlag": 0,
               "numericalLimits": {"min": -9007199254740991i64, "max": 9007199254740991i64}, "showType": 0, "items": []}),
        json!({"attr": "date_1", "attrName": "日期", "fieldType": 4, "required": 0, "dateType": "yyyy-MM-dd", "showType": 0, "items": []}),
        json!({"attr": "ownerId", "attrName": "负责人", "fieldType": 10017, "required": 0, "multiple": 1, "showType": 10, "items": []}),
        json!({"attr": "addTime", "attrName": "创建时间", "fieldType": 10014, "required": 0, "showType": 6, "items": []}),
        json!({"attr": "updateTime", "attrName": "更新时间", "fieldType": 10015, "required": 0, "showType": 6, "items": []}),
    ]
}

fn dep_name(id: i64) -> &'static str {
    match id {
        1 => "杭州云帆贸易有限公司",
        2 => "销售部",
        3 => "华东大区",
        _ => "商务部",
    }
}

struct Style;

fn envelope_error(code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        json!({"code": code, "msg": msg, "success": false}).to_string(),
        "application/json;charset=UTF-8",
    )
}

fn ok(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        json!({"code": 1, "msg": "操作成功", "success": true, "result": result}).to_string(),
        "application/json;charset=UTF-8",
    )
}

impl FaultStyle for Style {
    fn throttled(&self) -> ResponseTemplate {
        envelope_error(THROTTLE_CODE, "请求过于频繁,请稍后再试")
    }
    fn auth_expired(&self) -> ResponseTemplate {
        envelope_error(AUTH_FAILED_CODE, "权限验证失败")
    }
}

struct ApiPath;

impl Match for ApiPath {
    fn matches(&self, request: &Request) -> bool {
        request.url.path().starts_with("/pro/")
    }
}

/// The fake server.
pub struct FakeXbongbong {
    server: FakeServer<FakeState>,
}

impl std::fmt::Debug for FakeXbongbong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeXbongbong")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl FakeXbongbong {
    /// Starts a fake on a free loopback port.
    pub async fn start() -> Self {
        let server = FakeServer::start(FakeState::default(), Style).await;
        Self::mount(server).await
    }

    /// Starts a fake on a given address (for a sandbox).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let server = FakeServer::start_on(addr, FakeState::default(), Style).await?;
        Ok(Self::mount(server).await)
    }

    async fn mount(server: FakeServer<FakeState>) -> Self {
        server.route(ApiPath, handle).await;
        Self { server }
    }

    /// The credentials the fake accepts.
    pub fn credentials() -> Credentials {
        Credentials {
            corpid: CORPID,
            token: TOKEN,
            user_id: USER_ID,
        }
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The address.
    pub fn address(&self) -> &SocketAddr {
        self.server.address()
    }

    /// A client builder pointed at the fake with its credentials, no rate
    /// limits and fast retries (for tests).
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .corpid(CORPID)
            .token(TOKEN)
            .write_rate_limit(None)
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A client for the fake (see [`FakeXbongbong::client_builder`]).
    pub fn client(&self) -> Client {
        match self.client_builder().build() {
            Ok(c) => c,
            Err(e) => panic!("the fake's client settings are valid: {e}"),
        }
    }

    /// The state, locked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received.
    pub async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }

    /// Requests whose path contains `path`.
    pub async fn received_on(&self, path: &str) -> Vec<Request> {
        self.server.received_on(path).await
    }

    /// Issues a new personal token for `user_id` (as an admin's reset does);
    /// the old one stops working.
    pub fn reset_personal_token(&self, user_id: &str) {
        let mut state = self.state();
        state.tokens_issued += 1;
        let token = format!("user_{:032x}", 0xabc0_0000 + state.tokens_issued);
        state.personal_tokens.insert(user_id.to_owned(), token);
    }

    /// Stores a record as written (no validation) with explicit times.
    pub fn insert(
        &self,
        module: &str,
        form_id: i64,
        add_time: i64,
        update_time: i64,
        data: Map<String, Value>,
    ) -> i64 {
        let mut state = self.state();
        let id = state.next_id;
        state.next_id += 1;
        state.records.push(StoredRecord {
            data_id: id,
            form_id,
            module: module.to_owned(),
            add_time,
            update_time,
            deleted: false,
            data,
        });
        id
    }

    /// Seeds `n` customers with realistic data: company names, phones,
    /// addresses, registered capital with two decimals, and times spread
    /// over the last twelve months. Returns their dataIds.
    pub fn seed_customers(&self, n: usize) -> Vec<i64> {
        let now = self.state().now;
        (0..n)
            .map(|i| {
                let data = seed_customer_data(i);
                let add =
                    now - 86_400 * (365 - (i as i64 * 37) % 360) - (i as i64 * 3_607) % 86_400;
                let update = add + 86_400 * ((i as i64 * 13) % 30) + 600;
                self.insert("customer", CUSTOMER_FORM_ID, add, update.min(now - 1), data)
            })
            .collect()
    }

    /// Seeds `n` contracts (and customers for them when there are none),
    /// valid against the contract form: products, amounts with two
    /// decimals, signing dates spread over months. Returns their dataIds.
    pub fn seed_contracts(&self, n: usize) -> Vec<i64> {
        let mut customers: Vec<i64> = {
            let state = self.state();
            state
                .records
                .iter()
                .filter(|r| r.module == "customer")
                .map(|r| r.data_id)
                .collect()
        };
        if customers.is_empty() {
            customers = self.seed_customers(n.clamp(1, 10));
        }
        let now = self.state().now;
        (0..n)
            .map(|i| {
                let customer = customers[i % customers.len()];
                let signed = now - 86_400 * (10 + (i as i64 * 23) % 300);
                let data = seed_contract_data(i, customer, signed);
                let update = signed + 3_600 * ((i as i64 * 7) % 48 + 1);
                self.insert(
                    "contract",
                    CONTRACT_FORM_ID,
                    signed,
                    update.min(now - 1),
                    data,
                )
            })
            .collect()
    }

    /// Records of a module, in insertion order (recycle bin included).
    pub fn records(&self, module: &str) -> Vec<StoredRecord> {
        self.state()
            .records
            .iter()
            .filter(|r| r.module == module)
            .cloned()
            .collect()
    }
}

/// The fake as every connector's fake is driven ([`Fake`]). xbongbong has
/// no credentials type of its own (the builder takes `corpid` and `token`),
/// so this is the fake's [`Credentials`].
#[async_trait::async_trait]
impl Fake for FakeXbongbong {
    type Builder = ClientBuilder;
    type Credentials = Credentials;

    async fn start() -> Self {
        FakeXbongbong::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeXbongbong::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credentials(&self) -> Credentials {
        Self::credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeXbongbong::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

const COMPANY_CITIES: [&str; 8] = [
    "杭州", "上海", "苏州", "南京", "宁波", "深圳", "成都", "武汉",
];
const COMPANY_WORDS: [&str; 8] = [
    "云帆", "恒信", "瑞丰", "华美", "宏达", "启明", "金桥", "博远",
];
const COMPANY_TRADES: [&str; 6] = [
    "科技有限公司",
    "贸易有限公司",
    "机电设备有限公司",
    "电子有限公司",
    "包装材料有限公司",
    "实业有限公司",
];
const ADDRESSES: [(&str, &str, &str, &str); 8] = [
    ("浙江省", "杭州市", "西湖区", "文三路90号东部软件园3号楼"),
    ("上海市", "上海市", "浦东新区", "张江路665号"),
    ("江苏省", "苏州市", "工业园区", "星湖街328号创意产业园"),
    ("江苏省", "南京市", "江宁区", "秣周东路12号"),
    ("浙江省", "宁波市", "鄞州区", "天童南路588号"),
    ("广东省", "深圳市", "南山区", "科技南十二路2号"),
    ("四川省", "成都市", "高新区", "天府大道中段1268号"),
    ("湖北省", "武汉市", "东湖高新区", "光谷大道77号"),
];

fn seed_customer_data(i: usize) -> Map<String, Value> {
    let name = format!(
        "{}{}{}{}",
        COMPANY_CITIES[i % 8],
        COMPANY_WORDS[(i / 8 + i) % 8],
        COMPANY_TRADES[i % 6],
        if i >= 64 {
            format!("({}分公司)", i / 64)
        } else {
            String::new()
        }
    );
    let (province, city, district, street) = ADDRESSES[i % 8];
    let capital = format!("{}.{:02}", 50 + (i * 137) % 5000, (i * 29) % 100);
    let founded = beijing()
        .with_ymd_and_hms(
            2005 + (i % 18) as i32,
            1 + (i % 12) as u32,
            1 + (i % 28) as u32,
            0,
            0,
            0,
        )
        .single()
        .map_or(1_104_508_800, |t| t.timestamp());
    let owner = ["01234567890124", "01234567890125", USER_ID][i % 3];
    let data = json!({
        "text_1": name,
        "serialNo": format!("KH.{:04}", i + 1),
        "text_2": (["普通客户", "重点客户", "VIP客户"][i % 3]),
        "text_3": (["线上推广", "展会", "老客户介绍", "电话营销"][i % 4]),
        "subForm_1": [{"text_1": "手机", "text_2": format!("13{}{:08}", 5 + i % 4, (i * 79_193) % 100_000_000)}],
        "address_1": {"province": province, "city": city, "district": district, "address": street},
        "num_1": serde_json::Number::from_f64(capital.parse::<f64>().unwrap_or(50.0)).map_or(Value::Null, Value::Number),
        "date_1": founded,
        "array_1": [(["高意向", "已报价", "长期合作"][i % 3])],
        "ownerId": [owner],
        "coUserId": [],
        "creatorId": USER_ID
    });
    data.as_object().cloned().unwrap_or_default()
}

fn seed_contract_data(i: usize, customer: i64, signed: i64) -> Map<String, Value> {
    let price = 1_000 + (i * 2_311) % 90_000;
    let cents = (i * 37) % 100;
    let qty = 1 + i % 20;
    let subtotal_cents = (price * 100 + cents) * qty;
    let amount = format!("{}.{:02}", subtotal_cents / 100, subtotal_cents % 100);
    let num = |s: &str| {
        serde_json::Number::from_f64(s.parse::<f64>().unwrap_or(0.0))
            .map_or(Value::Null, Value::Number)
    };
    let owner = ["01234567890124", "01234567890125", USER_ID][i % 3];
    let data = json!({
        "text_15": (["新签", "复购"][i % 2]),
        "serialNo": format!("SO.{}{:03}", chrono::DateTime::from_timestamp(signed, 0).map_or_else(String::new, |t| t.with_timezone(&beijing()).format("%Y%m%d").to_string()), i + 1),
        "text_2": customer,
        "text_8": owner,
        "date_1": signed,
        "text_6": (["签约", "执行中", "完毕"][i % 3]),
        "ownerId": [owner],
        "array_4": [{"text_1": 30_000_001 + (i % 12) as i64, "num_4": 100, "num_6": num(&format!("{price}.{cents:02}")), "num_3": qty, "text_3": "标准配置"}],
        "num_27": 0,
        "num_28": 0,
        "num_1": num(&amount),
        "array_1": [{"num_1": num(&amount), "date_1": signed + 30 * 86_400}],
        "array_5": [(["款到发货", "票到付款", "1个月内付款"][i % 3])],
        "text_23": "7折及7折以上",
        "text_24": (["华东", "华南", "西南", "华中"][i % 4]),
        "creatorId": owner
    });
    data.as_object().cloned().unwrap_or_default()
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if request.method.as_str() != "POST" {
        return envelope_error(100001, "请使用POST方式请求");
    }
    let Some(api) = request.url.path().strip_prefix("/pro/v2/api/") else {
        return ResponseTemplate::new(404)
            .set_body_raw("<html><body>404 Not Found</body></html>", "text/html");
    };
    let body: Map<String, Value> = match serde_json::from_slice(&request.body) {
        Ok(Value::Object(m)) => m,
        _ => return envelope_error(100007, "data数据不是合法的json格式"),
    };
    let Some(corpid) = body.get("corpid").and_then(Value::as_str) else {
        return envelope_error(100002, "corpid不能为空");
    };
    let Some(company_token) = state.tenants.get(corpid).cloned() else {
        return envelope_error(100008, "公司不存在或未配置API token");
    };
    let sign = header(request, "sign")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let by_company = hex_sha256(&[&request.body, company_token.as_bytes()]) == sign;
    let by_personal = !by_company
        && state
            .personal_tokens
            .values()
            .any(|t| hex_sha256(&[&request.body, t.as_bytes()]) == sign);
    if !(by_company || by_personal) {
        return envelope_error(AUTH_FAILED_CODE, "权限验证失败");
    }
    let (module, action) = api.split_once('/').unwrap_or((api, ""));
    match (module, action) {
        ("form", "list") => form_list(state, &body),
        ("form", "get") => form_get(state, &body),
        ("user", "list") => user_list(state, &body),
        ("department", "list") => department_list(state, &body),
        ("user", "generateToken") => {
            if !by_company {
                return envelope_error(AUTH_FAILED_CODE, "权限验证失败");
            }
            let user = body
                .get("checkUserId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if !state.users.iter().any(|u| u["userId"] == user.as_str()) {
                return envelope_error(NOT_FOUND_CODE, "用户不存在");
            }
            let reset = body.get("resetToken").and_then(Value::as_i64) == Some(1);
            if reset || !state.personal_tokens.contains_key(&user) {
                if !reset {
                    return ok(json!({"personalToken": ""}));
                }
                state.tokens_issued += 1;
                let token = format!("user_{:032x}", 0xabc0_0000 + state.tokens_issued);
                state.personal_tokens.insert(user.clone(), token);
            }
            ok(json!({"personalToken": state.personal_tokens.get(&user)}))
        }
        (m, "list") => record_list(state, m, &body),
        (m, "detail") => record_detail(state, m, &body),
        (m, a) if a == "add" || a.starts_with("add") => record_add(state, m, &body),
        (m, a) if a == "edit" || a.starts_with("edit") => record_edit(state, m, &body),
        (m, "del") => record_del(state, m, &body),
        _ => ResponseTemplate::new(404)
            .set_body_raw("<html><body>404 Not Found</body></html>", "text/html"),
    }
}

fn form_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let Some(mark) = body.get("saasMark").and_then(Value::as_i64) else {
        return envelope_error(REQUIRED_CODE, "saasMark不能为空");
    };
    let business = body.get("businessType").and_then(Value::as_i64);
    let name = body.get("name").and_then(Value::as_str);
    let list: Vec<Value> = state
        .forms
        .iter()
        .filter(|f| f.saas_mark == mark && business.is_none_or(|b| b == f.business_type))
        .filter(|f| name.is_none_or(|n| f.name.contains(n)))
        .map(|f| json!({"formId": f.form_id, "appId": f.app_id, "menuId": f.menu_id, "businessType": f.business_type, "isProcessForm": false, "name": f.name}))
        .collect();
    ok(json!({"formList": list}))
}

fn form_get(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let id = match int_id(body, "formId") {
        Ok(id) => id,
        Err(e) => return e,
    };
    match state.forms.iter().find(|f| Some(f.form_id) == id) {
        Some(f) => ok(json!({"explainList": f.explain})),
        None => envelope_error(NOT_FOUND_CODE, "表单不存在"),
    }
}

/// An integer id outside lists: a JSON integer or absent; text is refused
/// with 701020 (a fake-server choice, the real answer was never seen).
fn int_id(body: &Map<String, Value>, key: &str) -> Result<Option<i64>, ResponseTemplate> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            envelope_error(
                crate::error::codes::FIELD_FORMAT,
                &format!("{key}格式错误,应为数字"),
            )
        }),
    }
}

/// An integer or numeric text (lists are lenient: a public client got data
/// with `formId` as text).
fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn paging(body: &Map<String, Value>) -> (usize, usize) {
    let page = body.get("page").and_then(as_i64).unwrap_or(1).max(1) as usize;
    let size = body
        .get("pageSize")
        .and_then(as_i64)
        .unwrap_or(20)
        .clamp(1, 100) as usize;
    (page, size)
}

fn user_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let (page, size) = paging(body);
    let like = body.get("nameLike").and_then(Value::as_str);
    let ids: Option<Vec<&str>> = body
        .get("userIdIn")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let dep = body.get("departmentId").and_then(as_i64);
    let all: Vec<&Value> = state
        .users
        .iter()
        .filter(|u| like.is_none_or(|l| u["name"].as_str().unwrap_or("").contains(l)))
        .filter(|u| {
            ids.as_ref()
                .is_none_or(|ids| ids.contains(&u["userId"].as_str().unwrap_or("")))
        })
        .filter(|u| {
            dep.is_none_or(|d| {
                u["departmentList"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["id"] == d))
            })
        })
        .collect();
    let total = all.len();
    let list: Vec<&Value> = all.into_iter().skip((page - 1) * size).take(size).collect();
    ok(json!({"userList": list, "totalCount": total, "totalPage": total.div_ceil(size)}))
}

fn department_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let (page, size) = paging(body);
    let like = body.get("nameLike").and_then(Value::as_str);
    let list: Vec<&Value> = state
        .departments
        .iter()
        .filter(|d| like.is_none_or(|l| d["name"].as_str().unwrap_or("").contains(l)))
        .skip((page - 1) * size)
        .take(size)
        .collect();
    ok(json!({"depList": list}))
}

fn default_form<'a>(
    state: &'a FakeState,
    module: &str,
    form_id: Option<i64>,
) -> Option<&'a FakeForm> {
    match form_id {
        Some(id) => state
            .forms
            .iter()
            .find(|f| f.form_id == id && f.module == module),
        None => state.forms.iter().find(|f| f.module == module),
    }
}

/// A stored (flat) value as text for `equal` / `in` / `like`.
fn value_texts(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Array(a)) => a.iter().flat_map(|x| value_texts(Some(x))).collect(),
        Some(Value::Object(o)) => o.values().flat_map(|x| value_texts(Some(x))).collect(),
    }
}

fn condition_holds(record: &StoredRecord, condition: &Value) -> Result<bool, ResponseTemplate> {
    let attr = condition["attr"].as_str().unwrap_or("");
    let symbol = condition["symbol"].as_str().unwrap_or("");
    let Some(values) = condition["value"].as_array() else {
        return Err(envelope_error(REQUIRED_CODE, "conditions.value必须是数组"));
    };
    let wanted: Vec<String> = values.iter().flat_map(|v| value_texts(Some(v))).collect();
    let stored: Value = match attr {
        "addTime" => json!(record.add_time),
        "updateTime" => json!(record.update_time),
        "dataId" => json!(record.data_id),
        _ => match condition["subAttr"].as_str() {
            Some(sub) => Value::Array(
                record
                    .data
                    .get(attr)
                    .and_then(Value::as_array)
                    .map_or_else(Vec::new, |rows| {
                        rows.iter().filter_map(|r| r.get(sub).cloned()).collect()
                    }),
            ),
            None => record.data.get(attr).cloned().unwrap_or(Value::Null),
        },
    };
    let have = value_texts(Some(&stored));
    let number = stored.as_f64();
    let bound = |i: usize| {
        values.get(i).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    Ok(match symbol {
        "equal" | "in" => have.iter().any(|h| wanted.contains(h)),
        "noin" => !have.iter().any(|h| wanted.contains(h)),
        "like" => wanted
            .iter()
            .any(|w| have.iter().any(|h| h.contains(w.as_str()))),
        "greaterequal" => matches!((number, bound(0)), (Some(n), Some(b)) if n >= b),
        "lessequal" => matches!((number, bound(0)), (Some(n), Some(b)) if n <= b),
        "range" => {
            matches!((number, bound(0), bound(1)), (Some(n), Some(a), Some(b)) if n >= a && n <= b)
        }
        other => {
            return Err(envelope_error(
                REQUIRED_CODE,
                &format!("不支持的条件符号: {other}"),
            ));
        }
    })
}

/// The rich form of a stored record's data: option texts become
/// `{text, value}`, users `{id, name}`.
fn render(
    state: &FakeState,
    form: Option<&FakeForm>,
    data: &Map<String, Value>,
) -> Map<String, Value> {
    let Some(form) = form else {
        return data.clone();
    };
    let user = |id: &Value| {
        let name = state
            .users
            .iter()
            .find(|u| u["userId"] == *id)
            .map_or(Value::Null, |u| u["name"].clone());
        json!({"id": id, "name": name})
    };
    let mut out = data.clone();
    for field in &form.explain {
        let attr = field["attr"].as_str().unwrap_or("");
        let Some(v) = data.get(attr) else { continue };
        let option = |text: &Value| {
            let item = field["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["text"] == *text));
            match item {
                Some(i) => {
                    json!({"text": text, "value": i["value"], "color": i.get("color").cloned().unwrap_or(json!("#646566"))})
                }
                None => json!({"text": text, "value": Value::Null}),
            }
        };
        let rendered = match field["fieldType"].as_i64().unwrap_or(0) {
            3 => option(v),
            10001 => Value::Array(
                v.as_array()
                    .map_or_else(Vec::new, |a| a.iter().map(option).collect()),
            ),
            10009 | 10013 => user(v),
            10017 | 10018 => Value::Array(
                v.as_array()
                    .map_or_else(Vec::new, |a| a.iter().map(user).collect()),
            ),
            _ => continue,
        };
        out.insert(attr.to_owned(), rendered);
    }
    out
}

fn record_json(state: &FakeState, r: &StoredRecord) -> Value {
    let form = state.forms.iter().find(|f| f.form_id == r.form_id);
    json!({"dataId": r.data_id, "formId": r.form_id, "addTime": r.add_time, "updateTime": r.update_time, "data": render(state, form, &r.data)})
}

fn record_list(state: &FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    if matches!(
        module,
        "customer" | "contract" | "opportunity" | "clue" | "paas"
    ) && body.get("formId").is_none()
    {
        return envelope_error(REQUIRED_CODE, "formId不能为空");
    }
    let form_id = body.get("formId").and_then(as_i64);
    let Some(form) = default_form(state, module, form_id) else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let (page, size) = paging(body);
    let del = body.get("del").and_then(as_i64) == Some(1);
    let conditions = body
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matched = Vec::new();
    for r in state
        .records
        .iter()
        .filter(|r| r.form_id == form.form_id && r.module == module && r.deleted == del)
    {
        let mut keep = true;
        for c in &conditions {
            match condition_holds(r, c) {
                Ok(true) => {}
                Ok(false) => keep = false,
                Err(e) => return e,
            }
        }
        if keep {
            matched.push(r);
        }
    }
    // Most recently changed first.
    matched.sort_by(|a, b| {
        b.update_time
            .cmp(&a.update_time)
            .then(b.data_id.cmp(&a.data_id))
    });
    let total = matched.len();
    let list: Vec<Value> = matched
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|r| record_json(state, r))
        .collect();
    ok(json!({"list": list, "totalCount": total, "totalPage": total.div_ceil(size)}))
}

/// The live record `dataId` (a JSON integer) names, or the error answer.
fn find_record<'a>(
    state: &'a FakeState,
    module: &str,
    body: &Map<String, Value>,
) -> Result<&'a StoredRecord, ResponseTemplate> {
    int_id(body, "dataId")?
        .and_then(|id| {
            state
                .records
                .iter()
                .find(|r| r.data_id == id && r.module == module && !r.deleted)
        })
        .ok_or_else(|| envelope_error(NOT_FOUND_CODE, "数据不存在"))
}

fn record_detail(state: &FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    match find_record(state, module, body) {
        Ok(r) => ok(record_json(state, r)),
        Err(e) => e,
    }
}

const SYSTEM_TYPES: [i64; 5] = [19, 10013, 10014, 10015, 700001];

/// The fake's own write checks, in the order the real service reports them
/// (first problem only).
fn check_write(
    explain: &[Value],
    data: &Map<String, Value>,
    partial: bool,
) -> Result<(), ResponseTemplate> {
    for field in explain {
        let attr = field["attr"].as_str().unwrap_or("");
        let name = field["attrName"].as_str().unwrap_or(attr);
        let ft = field["fieldType"].as_i64().unwrap_or(0);
        let value = data.get(attr);
        let empty = match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        let generated = SYSTEM_TYPES.contains(&ft) || field.get("serialNumber").is_some();
        if empty {
            if !partial && field["required"].as_i64() == Some(1) && !generated {
                return Err(envelope_error(REQUIRED_CODE, &format!("{name}为必填字段")));
            }
            continue;
        }
        let Some(value) = value else { continue };
        let items: Vec<&str> = field["items"].as_array().map_or_else(Vec::new, |a| {
            a.iter().filter_map(|i| i["text"].as_str()).collect()
        });
        match ft {
            3 if !items.is_empty() && !value.as_str().is_some_and(|t| items.contains(&t)) => {
                return Err(envelope_error(701020, &format!("{name}选项不存在")));
            }
            10001 => {
                let ok = value.as_array().is_some_and(|a| {
                    a.iter()
                        .all(|v| v.as_str().is_some_and(|t| items.contains(&t)))
                });
                if !ok {
                    return Err(envelope_error(701020, &format!("{name}选项不存在")));
                }
            }
            10017 | 10018 if !value.is_array() => {
                return Err(envelope_error(701020, "字段数据格式错误"));
            }
            2 if !value.is_number() => return Err(envelope_error(701020, "字段数据格式错误")),
            20004 => {
                let Some(rows) = value.as_array() else {
                    return Err(envelope_error(701020, "字段数据格式错误"));
                };
                let subs = field["subFieldList"]
                    .as_array()
                    .or(field["subForm"].as_array())
                    .cloned()
                    .unwrap_or_default();
                for row in rows {
                    let Some(row) = row.as_object() else {
                        return Err(envelope_error(701020, "字段数据格式错误"));
                    };
                    check_write(&subs, row, false)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_no_repeat(
    state: &FakeState,
    form: &FakeForm,
    data: &Map<String, Value>,
    except: Option<i64>,
) -> Result<(), ResponseTemplate> {
    for field in form
        .explain
        .iter()
        .filter(|f| f["noRepeat"].as_i64() == Some(1))
    {
        let attr = field["attr"].as_str().unwrap_or("");
        let Some(v) = data.get(attr).filter(|v| !v.is_null()) else {
            continue;
        };
        let dup = state.records.iter().any(|r| {
            r.form_id == form.form_id
                && !r.deleted
                && Some(r.data_id) != except
                && r.data.get(attr) == Some(v)
        });
        if dup {
            let name = field["attrName"].as_str().unwrap_or(attr);
            return Err(envelope_error(
                DUPLICATE_CODE,
                &format!("{name}已存在,不允许重复"),
            ));
        }
    }
    Ok(())
}

fn record_add(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    let form_id = match int_id(body, "formId") {
        Ok(id) => id,
        Err(e) => return e,
    };
    let Some(form) = default_form(state, module, form_id).cloned() else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let Some(data) = body.get("dataList").and_then(Value::as_object) else {
        return envelope_error(REQUIRED_CODE, "dataList不能为空");
    };
    let mut data = data.clone();
    if let Err(e) = check_write(&form.explain, &data, false) {
        return e;
    }
    if let Some(rule) = form
        .explain
        .iter()
        .find(|f| f["attr"] == "serialNo")
        .and_then(|f| f.get("serialNumber"))
    {
        if data
            .get("serialNo")
            .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
        {
            let n = state
                .serials
                .entry(form.form_id)
                .or_insert(rule["startNum"].as_i64().unwrap_or(1) - 1);
            *n += 1;
            let digits = rule["numberDigit"].as_u64().unwrap_or(3) as usize;
            let day = chrono::DateTime::from_timestamp(state.now, 0)
                .map_or_else(String::new, |t| {
                    t.with_timezone(&beijing()).format("%Y%m%d").to_string()
                });
            let serial = format!(
                "{}{day}{:0digits$}{}",
                rule["prefix"].as_str().unwrap_or(""),
                n,
                rule["postfix"].as_str().unwrap_or("")
            );
            data.insert("serialNo".into(), Value::String(serial));
        }
    }
    if let Err(e) = check_no_repeat(state, &form, &data, None) {
        return e;
    }
    if let Some(creator) = body.get("userId").cloned() {
        data.entry("creatorId").or_insert(creator);
    }
    state.now += 1;
    let id = state.next_id;
    state.next_id += 1;
    state.records.push(StoredRecord {
        data_id: id,
        form_id: form.form_id,
        module: module.to_owned(),
        add_time: state.now,
        update_time: state.now,
        deleted: false,
        data,
    });
    ok(json!({"dataId": id}))
}

fn record_edit(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    if let Err(e) = int_id(body, "formId") {
        return e;
    }
    let existing = match find_record(state, module, body) {
        Ok(r) => r.clone(),
        Err(e) => return e,
    };
    let Some(form) = state
        .forms
        .iter()
        .find(|f| f.form_id == existing.form_id)
        .cloned()
    else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let Some(changes) = body.get("dataList").and_then(Value::as_object) else {
        return envelope_error(REQUIRED_CODE, "dataList不能为空");
    };
    if let Err(e) = check_write(&form.explain, changes, true) {
        return e;
    }
    if let Err(e) = check_no_repeat(state, &form, changes, Some(existing.data_id)) {
        return e;
    }
    state.now += 1;
    let now = state.now;
    if let Some(r) = state
        .records
        .iter_mut()
        .find(|r| r.data_id == existing.data_id)
    {
        for (k, v) in changes {
            r.data.insert(k.clone(), v.clone());
        }
        r.update_time = now;
    }
    ok(json!({"dataId": existing.data_id}))
}

fn record_del(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    let id = match find_record(state, module, body) {
        Ok(r) => r.data_id,
        Err(e) => return e,
    };
    state.now += 1;
    let now = state.now;
    if let Some(r) = state.records.iter_mut().find(|r| r.data_id == id) {
        r.deleted = true;
        r.update_time = now;
    }
    ok(json!({"errorDataMemo": ""}))
}
