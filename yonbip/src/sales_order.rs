//! Sales orders (销售订单)
//! ([`Client::sales_orders`](crate::Client::sales_orders)): list and get
//! (the detail API).

use integration_core::lenient;
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::list::{ListQuery, Resource, Resources};

/// Path of the sales order list API (Medium).
pub const LIST_PATH: &str = "yonbip/sd/voucherorder/list";
/// Path of the sales order detail API (Low: by analogy with the merchant detail).
pub const DETAIL_PATH: &str = "yonbip/sd/voucherorder/detail";

/// A sales order. The fields typed here are the common header fields
/// (Low confidence for their names); lines and everything else stay in
/// [`SalesOrder::extra`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SalesOrder {
    /// The order id.
    #[serde(default)]
    pub id: Option<Id>,
    /// 单据编号.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub code: Option<String>,
    /// 单据日期 (Beijing time).
    #[serde(default, deserialize_with = "lenient::opt_beijing_time")]
    pub vouchdate: Option<BeijingTime>,
    /// 客户id (the merchant).
    #[serde(rename = "agentId", default)]
    pub agent_id: Option<Id>,
    /// 客户名称.
    #[serde(
        rename = "agentId_name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub agent_id_name: Option<String>,
    /// 销售组织id.
    #[serde(rename = "salesOrgId", default)]
    pub sales_org_id: Option<Id>,
    /// 销售组织名称.
    #[serde(
        rename = "salesOrgId_name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub sales_org_id_name: Option<String>,
    /// 交易类型id.
    #[serde(rename = "transactionTypeId", default)]
    pub transaction_type_id: Option<Id>,
    /// 订单状态 (e.g. `CONFIRMORDER`, `DELIVERGOODS`).
    #[serde(
        rename = "nextStatusName",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub next_status_name: Option<String>,
    /// 币种 (e.g. `CNY`).
    #[serde(
        rename = "currency_code",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub currency_code: Option<String>,
    /// 含税金额 (order amount, yuan).
    #[serde(
        rename = "payMoney",
        default,
        deserialize_with = "lenient::opt_decimal"
    )]
    pub pay_money: Option<Decimal>,
    /// 实付金额 (amount after discounts, yuan).
    #[serde(
        rename = "realMoney",
        default,
        deserialize_with = "lenient::opt_decimal"
    )]
    pub real_money: Option<Decimal>,
    /// Last modification time (Beijing time).
    #[serde(default, deserialize_with = "lenient::opt_beijing_time")]
    pub pubts: Option<BeijingTime>,
    /// Every other member, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The query of a sales-order list.
pub type SalesOrderQuery = ListQuery;

/// The sales orders: list, get. Get it from
/// [`Client::sales_orders`](crate::Client::sales_orders).
pub type SalesOrders = Resources<SalesOrder>;

impl Resource for SalesOrder {
    const LIST_PATH: &'static str = LIST_PATH;
    const DETAIL_PATH: &'static str = DETAIL_PATH;
}
