//! The `seed_*` functions and the demo data they generate.

use chrono::{TimeZone, Utc};
use integration_core::types::{BeijingTime, beijing};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::FakeYonBip;
use super::state::{name_zh, record_value};
use super::{CREATE_ORG, CUSTOMER_CLASS};

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
