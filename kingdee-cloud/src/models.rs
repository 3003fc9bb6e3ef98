//! Typed models of common forms: customers (`BD_Customer`) and sales orders
//! (`SAL_SaleOrder`). Documented fields are typed; custom fields (`F_xxx`)
//! and everything else round-trip through the flattened `extra` map.

use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A form whose models this crate knows: its form id, the field holding the
/// internal id and the field holding the number (the business key used for
/// upserts).
pub trait FormModel: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The form id, e.g. `BD_Customer`.
    const FORM_ID: &'static str;
    /// The primary-key field of the model, e.g. `FCUSTID` or `FID`.
    const ID_FIELD: &'static str;
    /// The number field, e.g. `FNumber` or `FBillNo`.
    const NUMBER_FIELD: &'static str;
}

/// A reference to base data by number, e.g. `{"FNumber": "100"}` for an
/// organisation.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseDataRef {
    /// The referenced record's number.
    #[serde(rename = "FNumber", alias = "FNUMBER", default)]
    pub number: Option<String>,
    /// Other keys (`FNAME`, `FStaffNumber`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BaseDataRef {
    /// `{"FNumber": number}`.
    pub fn number(number: impl Into<String>) -> Self {
        Self {
            number: Some(number.into()),
            extra: Map::new(),
        }
    }
}

impl From<&str> for BaseDataRef {
    fn from(number: &str) -> Self {
        Self::number(number)
    }
}

/// Serialises an id as a JSON number when it is one (the service expects
/// `"FCUSTID": 100123`), as text otherwise; reads either.
pub mod id_number {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Serialises.
    pub fn serialize<S: Serializer>(id: &Option<Id>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            None => s.serialize_none(),
            Some(id) => match id.as_i64() {
                Some(n) => s.serialize_i64(n),
                None => s.serialize_str(id.as_str()),
            },
        }
    }

    /// Deserialises (null and `""` are `None`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
        integration_core::lenient::opt_id(d)
    }
}

/// Serialises a decimal as a JSON number when that is exact, else as text;
/// reads numbers or text.
pub mod decimal_number {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Serialises.
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        let Some(d) = d else {
            return s.serialize_none();
        };
        let text = d.normalize().to_string();
        match text.parse::<f64>() {
            Ok(f)
                if f.is_finite()
                    && f.to_string().parse::<Decimal>().ok() == Some(d.normalize()) =>
            {
                s.serialize_f64(f)
            }
            _ => s.serialize_str(&text),
        }
    }

    /// Deserialises (numbers or text; null and `""` are `None`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        integration_core::lenient::opt_decimal(d)
    }
}

/// A customer (`BD_Customer`, 客户).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Internal id (`FCUSTID`); absent or 0 creates, an existing id updates.
    #[serde(rename = "FCUSTID", default, with = "id_number")]
    pub id: Option<Id>,
    /// Customer number (客户编码), the business key.
    #[serde(rename = "FNumber", default)]
    pub number: Option<String>,
    /// Name (客户名称).
    #[serde(rename = "FName", default)]
    pub name: Option<String>,
    /// Short name (简称).
    #[serde(rename = "FShortName", default)]
    pub short_name: Option<String>,
    /// Creating organisation (创建组织).
    #[serde(rename = "FCreateOrgId", default)]
    pub create_org: Option<BaseDataRef>,
    /// Using organisation (使用组织).
    #[serde(rename = "FUseOrgId", default)]
    pub use_org: Option<BaseDataRef>,
    /// Country (国家).
    #[serde(rename = "FCOUNTRY", default)]
    pub country: Option<BaseDataRef>,
    /// Province (省份).
    #[serde(rename = "FPROVINCIAL", default)]
    pub province: Option<BaseDataRef>,
    /// Address (通讯地址).
    #[serde(rename = "FADDRESS", default)]
    pub address: Option<String>,
    /// Telephone (联系电话).
    #[serde(rename = "FTEL", default)]
    pub tel: Option<String>,
    /// Tax registration number (纳税登记号).
    #[serde(rename = "FTAXREGISTERCODE", default)]
    pub tax_register_code: Option<String>,
    /// Customer type (客户类别).
    #[serde(rename = "FCustTypeId", default)]
    pub cust_type: Option<BaseDataRef>,
    /// Customer group (客户分组).
    #[serde(rename = "FGroup", default)]
    pub group: Option<BaseDataRef>,
    /// Trading currency (结算币别).
    #[serde(rename = "FTRADINGCURRID", default)]
    pub trading_currency: Option<BaseDataRef>,
    /// Settlement type (结算方式).
    #[serde(rename = "FSETTLETYPEID", default)]
    pub settle_type: Option<BaseDataRef>,
    /// Description (描述).
    #[serde(rename = "FDescription", default)]
    pub description: Option<String>,
    /// Custom fields (`F_ABC_xxx`) and every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FormModel for Customer {
    const FORM_ID: &'static str = "BD_Customer";
    const ID_FIELD: &'static str = "FCUSTID";
    const NUMBER_FIELD: &'static str = "FNumber";
}

/// A sales order (`SAL_SaleOrder`, 销售订单).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SaleOrder {
    /// Internal id (`FID`); absent or 0 creates.
    #[serde(rename = "FID", default, with = "id_number")]
    pub id: Option<Id>,
    /// Bill number (单据编号), the business key.
    #[serde(rename = "FBillNo", default)]
    pub bill_no: Option<String>,
    /// Bill type (单据类型), e.g. `XSDD01_SYS`.
    #[serde(rename = "FBillTypeID", default)]
    pub bill_type: Option<BaseDataRef>,
    /// Order date (日期), Beijing time.
    #[serde(rename = "FDate", default)]
    pub date: Option<BeijingTime>,
    /// Sales organisation (销售组织).
    #[serde(rename = "FSaleOrgId", default)]
    pub sale_org: Option<BaseDataRef>,
    /// Customer (客户).
    #[serde(rename = "FCustId", default)]
    pub customer: Option<BaseDataRef>,
    /// Salesperson (销售员).
    #[serde(rename = "FSalerId", default)]
    pub saler: Option<BaseDataRef>,
    /// Sales department (销售部门).
    #[serde(rename = "FSaleDeptId", default)]
    pub sale_dept: Option<BaseDataRef>,
    /// Finance sub-entity (财务信息).
    #[serde(rename = "FSaleOrderFinance", default)]
    pub finance: Option<SaleOrderFinance>,
    /// Order lines (订单明细).
    #[serde(
        rename = "FSaleOrderEntry",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub entries: Vec<SaleOrderEntry>,
    /// Custom fields and every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FormModel for SaleOrder {
    const FORM_ID: &'static str = "SAL_SaleOrder";
    const ID_FIELD: &'static str = "FID";
    const NUMBER_FIELD: &'static str = "FBillNo";
}

/// The finance sub-entity of a sales order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SaleOrderFinance {
    /// Settlement currency (结算币别), e.g. `PRE001`.
    #[serde(rename = "FSettleCurrId", default)]
    pub settle_currency: Option<BaseDataRef>,
    /// Exchange rate (汇率).
    #[serde(rename = "FExchangeRate", default, with = "decimal_number")]
    pub exchange_rate: Option<Decimal>,
    /// Prices include tax (是否含税).
    #[serde(rename = "FIsIncludedTax", default)]
    pub is_included_tax: Option<bool>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One line of a sales order (`FSaleOrderEntry`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SaleOrderEntry {
    /// Entry id (`FEntryID`); absent creates a line.
    #[serde(rename = "FEntryID", default, with = "id_number")]
    pub entry_id: Option<Id>,
    /// Material (物料编码).
    #[serde(rename = "FMaterialId", default)]
    pub material: Option<BaseDataRef>,
    /// Sales unit (销售单位), e.g. `Pcs`.
    #[serde(rename = "FUnitID", default)]
    pub unit: Option<BaseDataRef>,
    /// Quantity (销售数量).
    #[serde(rename = "FQty", default, with = "decimal_number")]
    pub qty: Option<Decimal>,
    /// Unit price without tax (单价).
    #[serde(rename = "FPrice", default, with = "decimal_number")]
    pub price: Option<Decimal>,
    /// Unit price with tax (含税单价).
    #[serde(rename = "FTaxPrice", default, with = "decimal_number")]
    pub tax_price: Option<Decimal>,
    /// Tax rate in percent (税率%), e.g. `13`.
    #[serde(rename = "FEntryTaxRate", default, with = "decimal_number")]
    pub tax_rate: Option<Decimal>,
    /// Delivery date (要货日期), Beijing time.
    #[serde(rename = "FDeliveryDate", default)]
    pub delivery_date: Option<BeijingTime>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn customer_round_trips_custom_fields_and_refs() {
        let v = json!({"FCUSTID": 100123, "FNumber": "C001", "FName": "上海恒达贸易有限公司",
            "FCreateOrgId": {"FNumber": "100"}, "F_ABC_Level": "VIP", "FUseOrgId": {"FNUMBER": "100"}});
        let c: Customer = serde_json::from_value(v).unwrap();
        assert_eq!(c.id, Some(Id::from(100123)));
        assert_eq!(c.create_org, Some(BaseDataRef::number("100")));
        assert_eq!(c.use_org.as_ref().unwrap().number.as_deref(), Some("100"));
        assert_eq!(c.extra["F_ABC_Level"], "VIP");
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["FCUSTID"], json!(100123));
        assert_eq!(back["F_ABC_Level"], "VIP");
        assert_eq!(back["FUseOrgId"], json!({"FNumber": "100"}));
    }

    #[test]
    fn sale_order_decimals_are_exact() {
        let v = json!({"FBillNo": "XSDD000001", "FDate": "2026-01-05 00:00:00",
            "FSaleOrderEntry": [{"FMaterialId": {"FNumber": "M001"}, "FQty": "3", "FPrice": 12.5, "FTaxPrice": "14.13", "FEntryTaxRate": 13}]});
        let o: SaleOrder = serde_json::from_value(v).unwrap();
        let e = &o.entries[0];
        assert_eq!(e.tax_price.unwrap().to_string(), "14.13");
        assert_eq!(e.qty.unwrap(), Decimal::from(3));
        let back = serde_json::to_value(&o).unwrap();
        assert_eq!(back["FSaleOrderEntry"][0]["FTaxPrice"], json!(14.13));
        assert_eq!(back["FDate"], "2026-01-05 00:00:00");
    }
}
