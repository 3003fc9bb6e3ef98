//! Sales orders (销售订单): list and detail.

use futures::Stream;
use integration_core::types::{BeijingTime, Id};
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Client;
use crate::error::Result;
use crate::list::{self, ListPage, ListQuery};
use crate::types::lenient;

/// Path of the sales order list API (Medium).
pub const LIST_PATH: &str = "yonbip/sd/voucherorder/list";
/// Path of the sales order detail API (Low: by analogy with the merchant detail).
pub const DETAIL_PATH: &str = "yonbip/sd/voucherorder/detail";

/// A sales order. The fields typed here are the common header fields
/// (Low confidence for their names); lines and everything else stay in
/// [`SalesOrder::extra`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SalesOrder {
    /// The order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    /// 单据编号.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub code: Option<String>,
    /// 单据日期 (Beijing time).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_time"
    )]
    pub vouchdate: Option<BeijingTime>,
    /// 客户id (the merchant).
    #[serde(rename = "agentId", default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Id>,
    /// 客户名称.
    #[serde(
        rename = "agentId_name",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub agent_id_name: Option<String>,
    /// 销售组织id.
    #[serde(
        rename = "salesOrgId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sales_org_id: Option<Id>,
    /// 销售组织名称.
    #[serde(
        rename = "salesOrgId_name",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub sales_org_id_name: Option<String>,
    /// 交易类型id.
    #[serde(
        rename = "transactionTypeId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transaction_type_id: Option<Id>,
    /// 订单状态 (e.g. `CONFIRMORDER`, `DELIVERGOODS`).
    #[serde(
        rename = "nextStatusName",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub next_status_name: Option<String>,
    /// 币种 (e.g. `CNY`).
    #[serde(
        rename = "currency_code",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_text"
    )]
    pub currency_code: Option<String>,
    /// 含税金额 (order amount, yuan).
    #[serde(rename = "payMoney", default, skip_serializing_if = "Option::is_none")]
    pub pay_money: Option<Decimal>,
    /// 实付金额 (amount after discounts, yuan).
    #[serde(rename = "realMoney", default, skip_serializing_if = "Option::is_none")]
    pub real_money: Option<Decimal>,
    /// Last modification time (Beijing time).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_time"
    )]
    pub pubts: Option<BeijingTime>,
    /// Every other member, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The sales order APIs; get it from [`Client::sales_orders`].
#[derive(Debug, Clone)]
pub struct SalesOrders {
    client: Client,
}

impl SalesOrders {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// One page of sales orders.
    pub async fn list(&self, query: &ListQuery) -> Result<ListPage<SalesOrder>> {
        list::page(&self.client, LIST_PATH, query).await
    }

    /// Every page from `query`'s page on, fetched lazily.
    pub fn pages(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<ListPage<SalesOrder>>> + Send + 'static {
        list::pages(self.client.clone(), LIST_PATH, query)
    }

    /// Every sales order matching `query`, fetched page by page.
    pub fn stream(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<SalesOrder>> + Send + 'static {
        list::records(self.client.clone(), LIST_PATH, query)
    }

    /// The sales order with this id.
    pub async fn detail(&self, id: &Id) -> Result<SalesOrder> {
        self.client
            .send(Method::GET, DETAIL_PATH, &[("id", id.to_string())], None)
            .await
    }
}
