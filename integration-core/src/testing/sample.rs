//! One realistic CRM record and its K/3 Cloud customer mapping, typed and
//! declarative, so that benchmarks and tests measure and check the same
//! thing.

use serde_json::{Map, Value, json};

use crate::mapping::{MapContext, MapError};
use crate::source::SourceRecord;

/// A 40-field CRM record: a buyer's name and id, an amount, a creation time
/// in unix milliseconds, an address, a phone and 31 custom fields.
pub fn crm_record(i: u64) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i));
    m.insert("buyerNick".into(), json!(format!("买家{i}号")));
    m.insert("buyerCid".into(), json!(format!("CID{i:08}")));
    let amount = format!("{}.{:02}", 100 + i % 9000, i % 100);
    m.insert("amount".into(), json!(amount));
    m.insert("created".into(), json!(1_700_000_000_000u64 + i * 60_000));
    m.insert("province".into(), json!("浙江省"));
    m.insert("city".into(), json!("杭州市"));
    m.insert(
        "address".into(),
        json!(format!("西湖区文三路{}号", i % 500)),
    );
    m.insert("phone".into(), json!(format!("138{:08}", i % 100_000_000)));
    for f in 9..40 {
        m.insert(format!("field_{f}"), json!(format!("值{f}-{i}")));
    }
    Value::Object(m)
}

/// [`crm_customer`] as a declarative template.
pub const CRM_CUSTOMER_TEMPLATE: &str = r#"{
    "FName": "{{ buyerNick }}",
    "FNumber": "{{ buyerCid }}",
    "FCreateOrgId": {"FNumber": "100"},
    "FUseOrgId": {"FNumber": "100"},
    "FADDRESS": "{{ province }}{{ city }}{{ address }}",
    "FTEL": "{{ phone }}"
}"#;

/// A CRM record as a K/3 Cloud customer (`BD_Customer` fields), typed.
pub fn crm_customer(r: &SourceRecord<Value>, _: &MapContext) -> Result<Option<Value>, MapError> {
    let d = &r.data;
    let text = |name: &str| d[name].as_str().unwrap_or("");
    Ok(Some(json!({
        "FName": d["buyerNick"],
        "FNumber": d["buyerCid"],
        "FCreateOrgId": {"FNumber": "100"},
        "FUseOrgId": {"FNumber": "100"},
        "FADDRESS": format!("{}{}{}", text("province"), text("city"), text("address")),
        "FTEL": d["phone"],
    })))
}
