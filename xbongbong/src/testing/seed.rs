//! Demo data: customers and contracts.

use chrono::TimeZone;
use integration_core::types::beijing;
use serde_json::{Map, Value, json};

use super::{CONTRACT_FORM_ID, CUSTOMER_FORM_ID, FakeXbongbong, USER_ID};

impl FakeXbongbong {
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
