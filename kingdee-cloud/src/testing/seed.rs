//! Demo data: customers and sales orders.

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::FakeK3Cloud;
use super::state::fmt_time;

impl FakeK3Cloud {
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
