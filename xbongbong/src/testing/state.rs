//! The fake's state: tenants and tokens, the forms it serves, stored
//! records, users, departments and the fake clock.

use std::collections::HashMap;

use chrono::TimeZone;
use integration_core::types::beijing;
use serde_json::{Map, Value, json};

use super::{CONTRACT_FORM_GET_JSON, CONTRACT_FORM_ID, CORPID, CUSTOMER_FORM_ID, TOKEN, USER_ID};

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
        {"attr": "text_5", "attrName": "金蝶客户编码", "fieldType": 1, "required": 0, "showType": 0, "items": []},
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
    pub(super) next_id: i64,
    pub(super) serials: HashMap<i64, i64>,
    pub(super) tokens_issued: u64,
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
