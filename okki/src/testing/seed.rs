//! The `seed_*` functions and the demo data they generate.

use chrono::TimeZone;
use integration_core::types::beijing;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::FakeOkki;
use super::state::{EMPTY_TIME, OkkiState, TIME_FORMAT};

impl FakeOkki {
    /// Seeds `n` companies (with 1–3 contacts each), `n` opportunities, `n`
    /// orders and 5 users, with Chinese names and addresses, amounts with two
    /// decimals and times spread over 2025. Deterministic.
    pub fn seed_demo(&self, n: usize) {
        let mut state = self.state();
        seed(&mut state, n);
    }
}

const CITIES: &[(&str, &str, &str)] = &[
    ("上海", "上海市", "浦东新区张江路"),
    ("北京", "北京市", "朝阳区建国路"),
    ("广东", "深圳市", "南山区科技园南路"),
    ("浙江", "杭州市", "西湖区文三路"),
    ("江苏", "苏州市", "工业园区星湖街"),
    ("广东", "广州市", "天河区珠江新城花城大道"),
    ("四川", "成都市", "高新区天府大道"),
    ("湖北", "武汉市", "洪山区光谷大道"),
];
const WORDS: &[&str] = &[
    "明远", "华信", "鼎盛", "恒通", "瑞丰", "嘉禾", "宏达", "启航", "博源", "中联", "海纳", "金泰",
];
const TRADES: &[&str] = &[
    "贸易",
    "科技",
    "电子",
    "机械",
    "纺织",
    "进出口",
    "实业",
    "供应链",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "婷", "强", "军", "杰", "霞",
];
const PINYIN: &[&str] = &[
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "zhou", "wu", "xu", "sun",
];
const STATUS_NAMES: &[&str] = &["", "初次接触", "报价中", "已成交"];
const CUSTOM_VALUES: &[&str] = &["A1", "B2", "C3"];
const POSTS: &[&str] = &["采购经理", "总经理", "财务主管", "外贸业务员", "技术总监"];

fn seed_time(i: usize, offset_days: i64) -> String {
    let base = beijing()
        .with_ymd_and_hms(2025, 1, 3, 9, 0, 0)
        .single()
        .map(|t| t.naive_local())
        .unwrap_or_default();
    let t = base
        + chrono::Duration::days(((i as i64 * 11) % 330) + offset_days)
        + chrono::Duration::minutes((i as i64 * 137) % 600);
    t.format(TIME_FORMAT).to_string()
}

fn money(i: usize, scale: i64) -> Decimal {
    Decimal::new(
        ((i as i64 * 7919) % 90_000 + 1_000) * scale + (i as i64 * 37 % 100),
        2,
    )
}

fn seed(state: &mut OkkiState, n: usize) {
    let users: Vec<(i64, String, String)> = (0..5)
        .map(|i| {
            let id = 55_280_038 + i as i64;
            let name = format!(
                "{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i + 3) % GIVEN.len()]
            );
            let email = format!("{}.{}@mingyuan-trade.cn", PINYIN[i % PINYIN.len()], i + 1);
            (id, name, email)
        })
        .collect();
    for (i, (id, name, email)) in users.iter().enumerate() {
        let mut u = Map::new();
        u.insert("user_id".into(), json!(id.to_string()));
        u.insert("email".into(), json!(email));
        u.insert("nickname".into(), json!(name));
        u.insert(
            "family_name".into(),
            json!(name.chars().next().map(String::from).unwrap_or_default()),
        );
        u.insert(
            "second_name".into(),
            json!(name.chars().skip(1).collect::<String>()),
        );
        u.insert("full_name".into(), json!(name));
        u.insert("gender".into(), json!(if i % 2 == 0 { "1" } else { "2" }));
        u.insert("enable_flag".into(), json!(if i == 4 { "0" } else { "1" }));
        u.insert("position".into(), json!(POSTS[i % POSTS.len()]));
        u.insert(
            "user_mobile".into(),
            json!(format!("1380013{:04}", 8000 + i)),
        );
        u.insert("employee_no".into(), json!(format!("E{:04}", i + 1)));
        u.insert(
            "department_id".into(),
            json!(if i % 2 == 0 {
                json!(1001)
            } else {
                json!("1002")
            }),
        );
        u.insert(
            "department_name".into(),
            json!(if i % 2 == 0 {
                "华东销售部"
            } else {
                "华南销售部"
            }),
        );
        u.insert(
            "departments".into(),
            json!([{"department_id": if i % 2 == 0 { "1001" } else { "1002" }, "department_name": if i % 2 == 0 { "华东销售部" } else { "华南销售部" }}]),
        );
        state.users.push(u);
    }
    let start = state.companies.len();
    for k in 0..n {
        let i = start + k;
        let (province, city, road) = CITIES[i % CITIES.len()];
        let word = WORDS[i % WORDS.len()];
        let trade = TRADES[(i / WORDS.len()) % TRADES.len()];
        let name = format!("{}{}{}有限公司", city.trim_end_matches('市'), word, trade);
        let owner = &users[i % 4];
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        d.insert("short_name".into(), json!(format!("{word}{trade}")));
        d.insert("serial_id".into(), json!(format!("KH{:06}", i + 1)));
        d.insert("country".into(), json!("CN"));
        d.insert("province".into(), json!(province));
        d.insert("city".into(), json!(city));
        d.insert(
            "address".into(),
            json!(format!("{city}{road}{}号", 10 + i * 7 % 300)),
        );
        d.insert(
            "homepage".into(),
            json!(format!(
                "https://www.{}-{}.cn",
                PINYIN[i % PINYIN.len()],
                i + 1
            )),
        );
        d.insert("fax".into(), json!(""));
        d.insert(
            "tel".into(),
            json!(["+86", format!("021-{:08}", 55_550_000 + i)]),
        );
        d.insert("tel_area_code".into(), json!("86"));
        d.insert(
            "remark".into(),
            json!(if i.is_multiple_of(3) {
                "年度重点客户"
            } else {
                ""
            }),
        );
        d.insert("star".into(), json!(1 + i % 5));
        d.insert(
            "group_id".into(),
            json!(if i.is_multiple_of(2) { 3001 } else { 3002 }),
        );
        d.insert("pool_id".into(), json!(0));
        d.insert(
            "trail_status".into(),
            json!({"status_id": format!("{}", i % 4), "status_name": STATUS_NAMES[i % 4]}),
        );
        d.insert(
            "owner".into(),
            json!([{"user_id": owner.0, "nickname": owner.1}]),
        );
        d.insert("user_id".into(), json!([owner.0.to_string()]));
        d.insert("create_user".into(), json!(owner.0));
        d.insert("last_edit_user".into(), json!(owner.0.to_string()));
        d.insert("create_time".into(), json!(seed_time(i, 0)));
        d.insert("archive_time".into(), json!(seed_time(i, 0)));
        d.insert(
            "update_time".into(),
            json!(seed_time(i, 20 + (i as i64 * 3) % 40)),
        );
        d.insert(
            "edit_time".into(),
            json!(seed_time(i, 20 + (i as i64 * 3) % 40)),
        );
        d.insert(
            "order_time".into(),
            json!(if i.is_multiple_of(4) {
                EMPTY_TIME.to_owned()
            } else {
                seed_time(i, 10)
            }),
        );
        d.insert("next_follow_up_time".into(), json!(EMPTY_TIME));
        d.insert("next_move_to_public_date".into(), json!("1970-01-01"));
        d.insert("archive_type".into(), json!(1 + i % 2));
        d.insert("4432264586798".into(), json!([CUSTOM_VALUES[i % 3]]));
        let contacts = (0..1 + i % 3)
            .map(|j| {
                let s = (i + j * 5) % SURNAMES.len();
                let mut c = Map::new();
                c.insert(
                    "name".into(),
                    json!(format!("{}{}", SURNAMES[s], GIVEN[(i + j) % GIVEN.len()])),
                );
                c.insert(
                    "email".into(),
                    json!(format!(
                        "{}{}@{}-{}.cn",
                        PINYIN[s],
                        j + 1,
                        PINYIN[i % PINYIN.len()],
                        i + 1
                    )),
                );
                c.insert(
                    "tel_list".into(),
                    json!([["+86", format!("139{:08}", 10_000_000 + i * 10 + j)]]),
                );
                c.insert(
                    "contact".into(),
                    json!([{"type": "wechat", "value": format!("wx_{}_{}", i + 1, j + 1)}]),
                );
                c.insert("post".into(), json!(POSTS[(i + j) % POSTS.len()]));
                c.insert("post_grade".into(), json!(""));
                c.insert("birth".into(), json!(""));
                c.insert(
                    "gender".into(),
                    json!(if (i + j).is_multiple_of(2) { "1" } else { "2" }),
                );
                c.insert("remark".into(), json!(""));
                c.insert(
                    "main_customer_flag".into(),
                    json!(if j == 0 { 1 } else { 0 }),
                );
                c.insert("image_list".into(), json!([]));
                c.insert(
                    "external_field_data".into(),
                    json!([{"id": "3301", "name": "客户来源", "value": "展会"}]),
                );
                c
            })
            .collect();
        state.insert_company(d, contacts, i % 5 == 4);

        let mut o = Map::new();
        let oid = state.next_id();
        o.insert("opportunity_id".into(), json!(oid));
        o.insert("serial_id".into(), json!(format!("SJ{:06}", i + 1)));
        o.insert("name".into(), json!(format!("{name}年度采购项目")));
        o.insert("company_id".into(), json!(oid - 1 - ((1 + i % 3) as i64)));
        o.insert("main_user".into(), json!(owner.0));
        o.insert("user_id".into(), json!([owner.0]));
        o.insert("handler".into(), json!([owner.0.to_string()]));
        o.insert("create_user".into(), json!(owner.0));
        o.insert(
            "currency".into(),
            json!(if i.is_multiple_of(3) { "USD" } else { "CNY" }),
        );
        let amount = money(i, 10);
        o.insert("amount".into(), json!(amount.to_string()));
        o.insert("amount_rmb".into(), json!(amount.to_string()));
        o.insert(
            "amount_usd".into(),
            json!((amount / Decimal::new(72, 1)).round_dp(2).to_string()),
        );
        o.insert("exchange_rate".into(), json!("100.0000"));
        o.insert(
            "account_date".into(),
            json!(seed_time(i, 60)[..10].to_owned()),
        );
        o.insert("stage".into(), json!(format!("{}", 9000 + i % 4)));
        o.insert("stage_type".into(), json!(1));
        o.insert("stage_type_name".into(), json!("进行中"));
        o.insert("remark".into(), json!(""));
        o.insert("create_time".into(), json!(seed_time(i, 5)));
        o.insert("update_time".into(), json!(seed_time(i, 25)));
        o.insert("product_list".into(), Value::Null);
        o.insert("external_field_data".into(), json!({}));
        state.opportunities.push(o);

        let mut r = Map::new();
        r.insert("order_id".into(), json!(state.next_id()));
        r.insert("order_no".into(), json!(format!("SO2025{:05}", i + 1)));
        r.insert("name".into(), json!(format!("{word}{trade}销售订单")));
        r.insert(
            "account_date".into(),
            json!(seed_time(i, 30)[..10].to_owned()),
        );
        r.insert("create_time".into(), json!(seed_time(i, 30)));
        r.insert("update_time".into(), json!(seed_time(i, 31)));
        r.insert("create_user".into(), json!(owner.0));
        r.insert("update_user".into(), json!(owner.0.to_string()));
        r.insert("company_id".into(), json!(oid.to_string()));
        r.insert("company_name".into(), json!(name));
        r.insert("currency".into(), json!("CNY"));
        let qty = Decimal::from(1 + (i % 9) as i64);
        let price = money(i, 1);
        let total = (qty * price).round_dp(2);
        r.insert("amount".into(), json!(total.to_string()));
        r.insert("amount_rmb".into(), json!(total.to_string()));
        r.insert("exchange_rate".into(), json!("100"));
        r.insert("product_total_amount".into(), json!(total.to_string()));
        r.insert("product_total_count".into(), json!(qty.to_string()));
        r.insert("status".into(), json!(13_972_831_654i64 + (i % 3) as i64));
        r.insert(
            "status_name".into(),
            json!(["草稿", "已确认", "已发货"][i % 3]),
        );
        r.insert(
            "product_list".into(),
            json!([{"unique_id": format!("{}", 7_000_000 + i), "product_id": 6_000_000 + i, "sku_id": 0, "count": qty.to_string(), "unit_price": price.to_string(), "product_name": format!("{trade}配件{}", i % 7 + 1)}]),
        );
        let deleted = i % 10 == 9;
        r.insert(
            "delete_time".into(),
            json!(if deleted {
                seed_time(i, 40)
            } else {
                EMPTY_TIME.to_owned()
            }),
        );
        state.orders.push((r, deleted));
    }
}
