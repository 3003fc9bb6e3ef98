//! The `seed_*` functions and the demo data they generate.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::FakeHuke;
use crate::trade::Trade;

impl FakeHuke {
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
                state.trades_mut().push(map);
            }
        }
        trades
    }
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
