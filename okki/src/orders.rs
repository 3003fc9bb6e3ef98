//! Sales orders (销售订单), scope `invoices`, through the [`Orders`] handle
//! ([`Client::orders`]): `GET /v1/invoices/order/list` (total in
//! `data.count`) and `GET /v1/invoices/order/info`.

use futures::Stream;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::lenient;
use crate::pagination::{self, list_query};

/// Which time the order list's window filters on (`time_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OrderTimeType {
    /// `1`: update time (default).
    #[default]
    Updated,
    /// `2`: creation time.
    Created,
    /// `3`: order date.
    OrderDate,
    /// `4`: delete time (with `removed`).
    Deleted,
}

impl OrderTimeType {
    fn param(self) -> &'static str {
        match self {
            OrderTimeType::Updated => "1",
            OrderTimeType::Created => "2",
            OrderTimeType::OrderDate => "3",
            OrderTimeType::Deleted => "4",
        }
    }
}

/// Parameters of `GET /v1/invoices/order/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// `start_index`: the 1-based page number.
    pub page: u32,
    /// `count`: page size (default 10, clamped to 1..=100).
    pub page_size: u32,
    /// `time_type`.
    pub time_type: OrderTimeType,
    /// `start_time` (Beijing).
    pub start_time: Option<BeijingTime>,
    /// `end_time` (Beijing).
    pub end_time: Option<BeijingTime>,
    /// `removed=1`: deleted orders.
    pub removed: bool,
    /// `status`: an enterprise-specific status id.
    pub status: Option<Id>,
}

impl Default for OrderQuery {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: 10,
            time_type: OrderTimeType::Updated,
            start_time: None,
            end_time: None,
            removed: false,
            status: None,
        }
    }
}

impl OrderQuery {
    /// Page 1, 10 a page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Orders whose `time_type` time is in `[start, end]`.
    pub fn between(
        mut self,
        time_type: OrderTimeType,
        start: Option<BeijingTime>,
        end: Option<BeijingTime>,
    ) -> Self {
        self.time_type = time_type;
        self.start_time = start;
        self.end_time = end;
        self
    }
    /// Deleted orders.
    pub fn removed(mut self, removed: bool) -> Self {
        self.removed = removed;
        self
    }

    /// The list's own parameters, sent after the page's.
    fn params(&self, q: &mut Vec<(String, String)>) {
        let time_type = Some(self.time_type.param());
        pagination::push_window(
            q,
            time_type,
            self.start_time.as_ref(),
            self.end_time.as_ref(),
        );
        if self.removed {
            q.push(("removed".to_owned(), "1".to_owned()));
        }
        if let Some(s) = &self.status {
            q.push(("status".to_owned(), s.to_string()));
        }
    }
}

list_query!(OrderQuery => Order, "/v1/invoices/order/list", Count);

/// A product line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Line id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub unique_id: Option<Id>,
    /// Product id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub product_id: Option<Id>,
    /// SKU id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub sku_id: Option<Id>,
    /// Quantity.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub count: Option<Decimal>,
    /// Every other key (prices, custom fields, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A sales order. Amounts are decimals (they arrive as strings or numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Order id.
    pub order_id: Id,
    /// Order number.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub order_no: Option<Id>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Order date (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub account_date: Option<BeijingTime>,
    /// Creation time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub create_time: Option<BeijingTime>,
    /// Update time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub update_time: Option<BeijingTime>,
    /// Creator.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub create_user: Option<Id>,
    /// Last editor.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub update_user: Option<Id>,
    /// The company.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub company_id: Option<Id>,
    /// The company's name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// The contact.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub customer_id: Option<Id>,
    /// The contact's name.
    #[serde(default)]
    pub customer_name: Option<String>,
    /// Currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Amount in `currency`.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub amount: Option<Decimal>,
    /// Amount in RMB.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub amount_rmb: Option<Decimal>,
    /// Amount in USD.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub amount_usd: Option<Decimal>,
    /// Exchange rate to RMB.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub exchange_rate: Option<Decimal>,
    /// Exchange rate to USD.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub exchange_rate_usd: Option<Decimal>,
    /// Sum of the product lines.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub product_total_amount: Option<Decimal>,
    /// Total quantity of the product lines.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub product_total_count: Option<Decimal>,
    /// Status id (enterprise-specific).
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub status: Option<Id>,
    /// Status name.
    #[serde(default)]
    pub status_name: Option<String>,
    /// Product lines (may be `null`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub product_list: Vec<OrderLine>,
    /// Every other key (custom fields as numeric-string keys, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How to name an order for `GET /v1/invoices/order/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// By `order_id`.
    Id(Id),
    /// By `order_no`.
    No(String),
}

impl From<Id> for OrderRef {
    fn from(id: Id) -> Self {
        OrderRef::Id(id)
    }
}

/// Sales orders (`invoices/order/*`). From [`Client::orders`]; cheap to
/// clone, and its streams own their client (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Orders {
    client: Client,
}

impl Client {
    /// Sales orders.
    pub fn orders(&self) -> Orders {
        Orders {
            client: self.clone(),
        }
    }
}

impl Orders {
    /// One page of `GET /v1/invoices/order/list`: the query's page; `next`
    /// is the following page, `None` after a short page or once the total
    /// (`data.count`) is reached.
    pub async fn list(&self, query: &OrderQuery) -> Result<Page<Order, OrderQuery>> {
        pagination::list(&self.client, query).await
    }

    /// Every page from the query's page on, fetched lazily.
    pub fn pages(
        &self,
        query: OrderQuery,
    ) -> impl Stream<Item = Result<Page<Order, OrderQuery>>> + Send + 'static {
        pagination::pages(&self.client, query)
    }

    /// Every order matching `query`, lazily, page by page.
    pub fn stream(&self, query: OrderQuery) -> impl Stream<Item = Result<Order>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// `GET /v1/invoices/order/info`.
    pub async fn get(&self, order: impl Into<OrderRef>) -> Result<Order> {
        let query = match order.into() {
            OrderRef::Id(id) => vec![("order_id".to_owned(), id.to_string())],
            OrderRef::No(no) => vec![("order_no".to_owned(), no)],
        };
        self.client.get("/v1/invoices/order/info", query).await
    }
}
