//! Seeding: reproducible, realistic demo data (suppliers, customers,
//! materials, purchase inbound and sales outbound bills).

use chrono::{TimeZone, Utc};
use integration_core::types::beijing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::state::{FakeState, beijing_text};

const SUPPLIERS: &[&str] = &[
    "苏州华东五金制品有限公司",
    "宁波恒达塑胶有限公司",
    "东莞市鑫源电子科技有限公司",
    "杭州天元包装材料有限公司",
    "佛山顺德美佳电器配件厂",
    "无锡市锦程纺织品有限公司",
    "温州瑞丰阀门有限公司",
    "合肥科隆化工原料有限公司",
];
const CUSTOMERS: &[(&str, &str)] = &[
    ("上海云启商贸有限公司", "上海市浦东新区张江路88号"),
    ("北京博远科技发展有限公司", "北京市海淀区中关村大街27号"),
    ("广州市粤华贸易有限公司", "广州市天河区体育西路191号"),
    ("深圳前海智联供应链有限公司", "深圳市南山区前海大道1号"),
    ("成都蜀锦商行", "成都市锦江区春熙路45号"),
    ("武汉江汉百货有限公司", "武汉市江汉区解放大道690号"),
    ("南京金陵建材经营部", "南京市鼓楼区中山北路101号"),
    ("西安长安食品批发部", "西安市雁塔区小寨西路26号"),
];
const MATERIALS: &[(&str, &str, &str)] = &[
    ("不锈钢六角螺栓", "M8×30", "盒"),
    ("PP塑料周转箱", "600×400×280", "个"),
    ("贴片电阻", "0603 10KΩ", "卷"),
    ("五层瓦楞纸箱", "50×40×30cm", "个"),
    ("电机散热风扇", "DC12V 80mm", "台"),
    ("涤纶工作服面料", "150cm幅宽", "米"),
    ("铜制球阀", "DN25", "只"),
    ("工业酒精", "95% 25L", "桶"),
    ("LED面板灯", "600×600 36W", "套"),
    ("304不锈钢管", "Φ25×1.5", "根"),
    ("防静电手套", "L码", "双"),
    ("液压油", "46# 18L", "桶"),
];
const DEPTS: &[(&str, &str)] = &[
    ("10001", "采购部"),
    ("10002", "仓储部"),
    ("10003", "销售部"),
];
const EMPS: &[(&str, &str)] = &[
    ("20001", "王建国"),
    ("20002", "李秀英"),
    ("20003", "张伟"),
    ("20004", "刘洋"),
    ("20005", "陈静"),
];
const STOCKS: &[(&str, &str)] = &[("30001", "苏州总仓"), ("30002", "昆山备件仓")];

fn money(rng: &mut StdRng, low: i64, high: i64) -> Decimal {
    Decimal::new(rng.random_range(low * 100..high * 100), 2)
}

pub(super) fn seed_state(state: &mut FakeState, bills: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let base = Utc
        .with_ymd_and_hms(2026, 1, 5, 1, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let stamp =
        |rng: &mut StdRng| base + chrono::Duration::minutes(rng.random_range(0..(175 * 24 * 60)));

    let mut supplier_ids = Vec::new();
    for (i, name) in SUPPLIERS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        supplier_ids.push((id.clone(), format!("GYS{:04}", i + 1), (*name).to_owned()));
        state.suppliers.push(json!({
            "id": id, "number": format!("GYS{:04}", i + 1), "name": name,
            "contact_person": EMPS[i % EMPS.len()].1, "contact_phone": format!("1390512{:04}", 3000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }
    let mut customer_ids = Vec::new();
    for (i, (name, address)) in CUSTOMERS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        customer_ids.push((id.clone(), format!("KH{:04}", i + 1), (*name).to_owned()));
        state.customers.push(json!({
            "id": id, "number": format!("KH{:04}", i + 1), "name": name, "address": address,
            "contact_phone": format!("1860216{:04}", 5000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }
    let mut material_ids = Vec::new();
    for (i, (name, model, unit)) in MATERIALS.iter().enumerate() {
        let id = state.new_id();
        let t = stamp(&mut rng);
        material_ids.push((
            id.clone(),
            format!("SP{:05}", i + 1),
            (*name).to_owned(),
            (*model).to_owned(),
            (*unit).to_owned(),
        ));
        state.materials.push(json!({
            "id": id, "number": format!("SP{:05}", i + 1), "name": name, "model": model,
            "base_unit_name": unit, "barcode": format!("69{:011}", 12_345_000 + i),
            "create_time": beijing_text(t), "modify_time": beijing_text(t),
        }));
    }

    let make_bill = |rng: &mut StdRng, state: &mut FakeState, n: usize, purchase: bool| -> Value {
        let id = state.new_id();
        let created = stamp(rng);
        let modified = created + chrono::Duration::minutes(rng.random_range(0..72 * 60));
        let (dept_id, dept_name) = DEPTS[if purchase { 0 } else { 2 }];
        let (emp_id, emp_name) = EMPS[rng.random_range(0..EMPS.len())];
        let mut total = Decimal::ZERO;
        let lines: Vec<Value> = (0..rng.random_range(1..=4))
            .map(|seq| {
                let (mid, mnum, mname, mmodel, unit) = &material_ids[rng.random_range(0..material_ids.len())];
                let (sid, sname) = STOCKS[rng.random_range(0..STOCKS.len())];
                let qty = Decimal::from(rng.random_range(1..200));
                let price = money(rng, 2, 800);
                let amount = (qty * price).round_dp(2);
                total += amount;
                json!({
                    "id": format!("{id}{:02}", seq + 1), "seq": seq + 1,
                    "material_id": mid, "material_number": mnum, "material_name": mname, "material_model": mmodel,
                    "unit_id": "40001", "unit_name": unit, "stock_id": sid, "stock_name": sname,
                    "qty": qty.to_string(), "base_qty": qty.to_string(), "price": price.to_string(),
                    "amount": amount.to_string(), "cess": "13", "batch_no": format!("PH{}", created.format("%Y%m%d")),
                })
            })
            .collect();
        let audited = rng.random_bool(0.7);
        let mut bill = json!({
            "id": id,
            "bill_no": format!("{}{}{:04}", if purchase { "CGRK" } else { "XSCK" }, created.format("%Y%m%d"), n + 1),
            "bill_date": created.with_timezone(&beijing()).format("%Y-%m-%d").to_string(),
            "bill_status": if audited { "C" } else { "Z" },
            "trans_type": if purchase { "2" } else { "1" },
            "create_time": beijing_text(created), "modify_time": beijing_text(modified),
            "audit_time": if audited { beijing_text(modified) } else { String::new() },
            "dept_id": dept_id, "dept_name": dept_name, "emp_id": emp_id, "emp_name": emp_name,
            "total_amount": total.round_dp(2).to_string(),
            "remark": if n.is_multiple_of(3) { "月度补货" } else { "" },
            "material_entity": lines,
        });
        let party = if purchase {
            &supplier_ids
        } else {
            &customer_ids
        };
        let (pid, pnum, pname) = &party[rng.random_range(0..party.len())];
        let prefix = if purchase { "supplier" } else { "customer" };
        bill[format!("{prefix}_id")] = json!(pid);
        bill[format!("{prefix}_number")] = json!(pnum);
        bill[format!("{prefix}_name")] = json!(pname);
        bill
    };
    for n in 0..bills {
        let bill = make_bill(&mut rng, state, n, true);
        state.pur_inbound.push(bill);
    }
    for n in 0..bills / 2 {
        let bill = make_bill(&mut rng, state, n, false);
        state.sal_out_bound.push(bill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::handlers::to_v1;

    #[test]
    fn seeding_is_reproducible_and_realistic() {
        let mut a = FakeState::default();
        let mut b = FakeState::default();
        seed_state(&mut a, 20, 7);
        seed_state(&mut b, 20, 7);
        assert_eq!(a.pur_inbound, b.pur_inbound);
        assert_eq!(a.pur_inbound.len(), 20);
        assert_eq!(a.sal_out_bound.len(), 10);
        let total: Decimal = a.pur_inbound[0]["total_amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(total.scale(), 2);
        let v1 = to_v1(&a.pur_inbound[0]);
        assert!(
            v1.get("billno").is_some()
                && v1["material_entity"][0].get("materialid_number").is_some()
        );
    }
}
