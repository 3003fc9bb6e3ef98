//! Seeding: reproducible, realistic demo data (warehouses, customers, goods
//! with their stock, sales orders).

use chrono::{DateTime, Utc};
use integration_core::types::beijing;
use serde_json::json;

use super::state::{FakeState, bj, next_id};

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

fn money(cents: i64) -> String {
    rust_decimal::Decimal::new(cents, 2).to_string()
}

pub(super) fn seed(
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
