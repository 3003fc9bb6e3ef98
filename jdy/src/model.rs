//! Typed records of both API versions.
//!
//! One type serves V1 and V2: fields carry V2's snake_case names and accept
//! V1's names as aliases (`billno` → `bill_no`, `supplierid_id` →
//! `supplier_id`, `materialid_number` → `material_number`, ...). Every field
//! that is not typed is kept, under its original name, in `extra`, so a
//! record read and written back loses nothing (custom fields included).
//!
//! Money, quantities and rates are [`Decimal`]; ids are [`Id`] (text or
//! number on the wire); times are [`BeijingTime`] (jdy sends
//! `yyyy-MM-dd HH:mm:ss` in UTC+08:00; unix milliseconds are accepted too);
//! bill dates are [`NaiveDate`] (a calendar date, no zone).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use integration_core::lenient;
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown and custom fields, kept as received.
pub type Extra = Map<String, Value>;

/// A purchase inbound bill (采购入库单), header and material lines.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurInbound {
    /// The bill's id.
    pub id: Id,
    /// Bill number (V1 `billno`).
    #[serde(default, alias = "billno", deserialize_with = "lenient::opt_text")]
    pub bill_no: Option<String>,
    /// Bill date (V1 `billdate`).
    #[serde(default, alias = "billdate", deserialize_with = "crate::de::opt_date")]
    pub bill_date: Option<NaiveDate>,
    /// `C` audited, `Z` not audited (V1 `billstatus`).
    #[serde(default, alias = "billstatus", deserialize_with = "lenient::opt_text")]
    pub bill_status: Option<String>,
    /// Business type (V1 `transtype`).
    #[serde(default, alias = "transtype", deserialize_with = "lenient::opt_text")]
    pub trans_type: Option<String>,
    /// Created at, Beijing time (V1 `createtime`).
    #[serde(
        default,
        alias = "createtime",
        deserialize_with = "crate::de::opt_time"
    )]
    pub create_time: Option<BeijingTime>,
    /// Last modified at, Beijing time (V1 `modifytime`); the incremental key.
    #[serde(
        default,
        alias = "modifytime",
        deserialize_with = "crate::de::opt_time"
    )]
    pub modify_time: Option<BeijingTime>,
    /// Audited at, Beijing time (V1 `audittime`).
    #[serde(default, alias = "audittime", deserialize_with = "crate::de::opt_time")]
    pub audit_time: Option<BeijingTime>,
    /// Supplier id (V1 `supplierid_id`).
    #[serde(default, alias = "supplierid_id", deserialize_with = "lenient::opt_id")]
    pub supplier_id: Option<Id>,
    /// Supplier name (V1 `supplierid_name`).
    #[serde(
        default,
        alias = "supplierid_name",
        deserialize_with = "lenient::opt_text"
    )]
    pub supplier_name: Option<String>,
    /// Supplier number (V1 `supplierid_number`).
    #[serde(
        default,
        alias = "supplierid_number",
        deserialize_with = "lenient::opt_text"
    )]
    pub supplier_number: Option<String>,
    /// Department id (V1 `deptid_id`).
    #[serde(default, alias = "deptid_id", deserialize_with = "lenient::opt_id")]
    pub dept_id: Option<Id>,
    /// Department name (V1 `deptid_name`).
    #[serde(default, alias = "deptid_name", deserialize_with = "lenient::opt_text")]
    pub dept_name: Option<String>,
    /// Employee (salesman) id (V1 `empid_id`).
    #[serde(default, alias = "empid_id", deserialize_with = "lenient::opt_id")]
    pub emp_id: Option<Id>,
    /// Employee name (V1 `empid_name`).
    #[serde(default, alias = "empid_name", deserialize_with = "lenient::opt_text")]
    pub emp_name: Option<String>,
    /// Bill total (本单成交, V1 `totalamount`).
    #[serde(
        default,
        alias = "totalamount",
        deserialize_with = "lenient::opt_decimal"
    )]
    pub total_amount: Option<Decimal>,
    /// Remark.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub remark: Option<String>,
    /// Material lines (商品分录). Empty when the list did not carry them.
    #[serde(default, deserialize_with = "lenient::list")]
    pub material_entity: Vec<BillEntry>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A sales outbound bill (销售出库单), header and material lines.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalOutBound {
    /// The bill's id.
    pub id: Id,
    /// Bill number (V1 `billno`).
    #[serde(default, alias = "billno", deserialize_with = "lenient::opt_text")]
    pub bill_no: Option<String>,
    /// Bill date (V1 `billdate`).
    #[serde(default, alias = "billdate", deserialize_with = "crate::de::opt_date")]
    pub bill_date: Option<NaiveDate>,
    /// `C` audited, `Z` not audited (V1 `billstatus`).
    #[serde(default, alias = "billstatus", deserialize_with = "lenient::opt_text")]
    pub bill_status: Option<String>,
    /// Created at, Beijing time (V1 `createtime`).
    #[serde(
        default,
        alias = "createtime",
        deserialize_with = "crate::de::opt_time"
    )]
    pub create_time: Option<BeijingTime>,
    /// Last modified at, Beijing time (V1 `modifytime`).
    #[serde(
        default,
        alias = "modifytime",
        deserialize_with = "crate::de::opt_time"
    )]
    pub modify_time: Option<BeijingTime>,
    /// Customer id (V1 `customerid_id`).
    #[serde(default, alias = "customerid_id", deserialize_with = "lenient::opt_id")]
    pub customer_id: Option<Id>,
    /// Customer name (V1 `customerid_name`).
    #[serde(
        default,
        alias = "customerid_name",
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_name: Option<String>,
    /// Customer number (V1 `customerid_number`).
    #[serde(
        default,
        alias = "customerid_number",
        deserialize_with = "lenient::opt_text"
    )]
    pub customer_number: Option<String>,
    /// Bill total (V1 `totalamount`).
    #[serde(
        default,
        alias = "totalamount",
        deserialize_with = "lenient::opt_decimal"
    )]
    pub total_amount: Option<Decimal>,
    /// Remark.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub remark: Option<String>,
    /// Material lines.
    #[serde(default, deserialize_with = "lenient::list")]
    pub material_entity: Vec<BillEntry>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One material line (商品分录) of a bill.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BillEntry {
    /// Line id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub id: Option<Id>,
    /// Line number.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub seq: Option<i64>,
    /// Material id (V1 `materialid_id`).
    #[serde(default, alias = "materialid_id", deserialize_with = "lenient::opt_id")]
    pub material_id: Option<Id>,
    /// Material name (V1 `materialid_name`).
    #[serde(
        default,
        alias = "materialid_name",
        deserialize_with = "lenient::opt_text"
    )]
    pub material_name: Option<String>,
    /// Material number (V1 `materialid_number`).
    #[serde(
        default,
        alias = "materialid_number",
        deserialize_with = "lenient::opt_text"
    )]
    pub material_number: Option<String>,
    /// Material model / specification (V1 `materialid_model`).
    #[serde(
        default,
        alias = "materialid_model",
        deserialize_with = "lenient::opt_text"
    )]
    pub material_model: Option<String>,
    /// Warehouse id (V1 `stockid_id`).
    #[serde(default, alias = "stockid_id", deserialize_with = "lenient::opt_id")]
    pub stock_id: Option<Id>,
    /// Warehouse name (V1 `stockid_name`).
    #[serde(
        default,
        alias = "stockid_name",
        deserialize_with = "lenient::opt_text"
    )]
    pub stock_name: Option<String>,
    /// Unit id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub unit_id: Option<Id>,
    /// Unit name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub unit_name: Option<String>,
    /// Quantity.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub qty: Option<Decimal>,
    /// Quantity in the base unit (V1 `baseqty`).
    #[serde(default, alias = "baseqty", deserialize_with = "lenient::opt_decimal")]
    pub base_qty: Option<Decimal>,
    /// Unit price.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
    /// Line amount, when the API sends one.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub amount: Option<Decimal>,
    /// VAT rate in percent (增值税率).
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub cess: Option<Decimal>,
    /// Batch number (V1 `batchno`).
    #[serde(default, alias = "batchno", deserialize_with = "lenient::opt_text")]
    pub batch_no: Option<String>,
    /// Line remark (V1 `comment`).
    #[serde(default, alias = "comment", deserialize_with = "lenient::opt_text")]
    pub remark: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Extra,
}

macro_rules! basedata {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// The same struct is the body of a save: leave `id` empty to create,
        /// set it to update. Untyped fields in `extra` are sent as they are.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        pub struct $name {
            /// The record's id (empty for a record not saved yet).
            #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
            pub id: Option<Id>,
            /// The record's number (编码), unique per account book.
            #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
            pub number: Option<String>,
            /// The record's name.
            #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
            pub name: Option<String>,
            /// Every other field, as received or to send.
            #[serde(flatten)]
            pub extra: Extra,
        }

        impl $name {
            /// A new record with a number and a name.
            pub fn new(number: impl Into<String>, name: impl Into<String>) -> Self {
                Self {
                    number: Some(number.into()),
                    name: Some(name.into()),
                    ..Self::default()
                }
            }

            /// Sets an untyped field.
            pub fn with(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
                self.extra.insert(field.into(), value.into());
                self
            }
        }

        impl Saveable for $name {
            fn id(&self) -> Option<&Id> {
                self.id.as_ref()
            }
            fn set_id(&mut self, id: Id) {
                self.id = Some(id);
            }
            fn number(&self) -> Option<&str> {
                self.number.as_deref()
            }
        }
    };
}

/// A basic-data record that can be saved and found by its number.
pub trait Saveable:
    Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
    /// The record's id, when it has one.
    fn id(&self) -> Option<&Id>;
    /// Sets the id (turns a create into an update).
    fn set_id(&mut self, id: Id);
    /// The record's number (编码).
    fn number(&self) -> Option<&str>;
}

basedata!(
    /// A customer (客户). V2 fields beyond id/number/name are not documented
    /// in the fact sheet and live in `extra`.
    Customer
);
basedata!(
    /// A supplier (供应商).
    Supplier
);
basedata!(
    /// A material / product (商品). `model` (规格), units, prices and custom
    /// fields live in `extra`.
    Material
);

/// The answer of a save.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SaveResult {
    /// Ids of the saved records (V2 `ids`, V1 `successPkIds`).
    #[serde(default, alias = "successPkIds")]
    pub ids: Vec<Id>,
    /// Saved id → bill/record number (V2).
    #[serde(default)]
    pub id_number_map: BTreeMap<String, String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_names_map_onto_typed_fields_and_unknown_fields_survive() {
        let v1 = serde_json::json!({
            "id": "100", "billno": "CGRK-001", "billdate": "2026-03-04", "billstatus": "C",
            "modifytime": "2026-03-04 10:00:00", "supplierid_name": "苏州华东五金有限公司",
            "totalamount": "1234.50", "contact_address": "江苏省苏州市",
            "material_entity": [{"materialid_number": "SP001", "qty": "2", "price": "617.25", "spid_name": "A-01"}]
        });
        let bill: PurInbound = serde_json::from_value(v1).unwrap();
        assert_eq!(bill.bill_no.as_deref(), Some("CGRK-001"));
        assert_eq!(bill.total_amount.unwrap().to_string(), "1234.50");
        assert_eq!(bill.extra["contact_address"], "江苏省苏州市");
        assert_eq!(
            bill.material_entity[0].material_number.as_deref(),
            Some("SP001")
        );
        assert_eq!(bill.material_entity[0].extra["spid_name"], "A-01");
        let again = serde_json::to_value(&bill).unwrap();
        assert_eq!(again["contact_address"], "江苏省苏州市");
        assert_eq!(again["total_amount"], "1234.50");
    }
}
