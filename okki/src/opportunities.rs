//! Opportunities (商机), scope `opportunity`, through the [`Opportunities`]
//! handle ([`Client::opportunities`]): `GET /v1/opportunity/list` and
//! `GET /v1/opportunity/info`.

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

/// Parameters of `GET /v1/opportunity/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityQuery {
    /// `start_index`: the 1-based page number.
    pub page: u32,
    /// `count`: page size (default 10, clamped to 1..=100).
    pub page_size: u32,
    /// `start_time`: updated at or after (Beijing).
    pub start_time: Option<BeijingTime>,
    /// `end_time`: updated at or before (Beijing).
    pub end_time: Option<BeijingTime>,
}

impl Default for OpportunityQuery {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: 10,
            start_time: None,
            end_time: None,
        }
    }
}

impl OpportunityQuery {
    /// Page 1, 10 a page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Opportunities updated in `[start, end]`.
    pub fn updated_between(mut self, start: Option<BeijingTime>, end: Option<BeijingTime>) -> Self {
        self.start_time = start;
        self.end_time = end;
        self
    }

    /// The list's own parameters (the window), sent after the page's.
    fn params(&self, q: &mut Vec<(String, String)>) {
        pagination::push_window(q, None, self.start_time.as_ref(), self.end_time.as_ref());
    }
}

list_query!(OpportunityQuery => Opportunity, "/v1/opportunity/list", TotalItem);

/// An opportunity. Amounts arrive as strings or numbers; they are decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    /// Opportunity id.
    pub opportunity_id: Id,
    /// Number.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub serial_id: Option<Id>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The company.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub company_id: Option<Id>,
    /// Main owner.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub main_user: Option<Id>,
    /// Team members.
    #[serde(default, deserialize_with = "lenient::id_list")]
    pub user_id: Vec<Id>,
    /// Handlers.
    #[serde(default, deserialize_with = "lenient::id_list")]
    pub handler: Vec<Id>,
    /// Creator.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub create_user: Option<Id>,
    /// Currency code, e.g. `CNY`, `USD`.
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
    /// Expected closing date (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub account_date: Option<BeijingTime>,
    /// Stage id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub stage: Option<Id>,
    /// Stage type (1 in progress, …).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub stage_type: Option<i64>,
    /// Stage type name.
    #[serde(default)]
    pub stage_type_name: Option<String>,
    /// Remark.
    #[serde(default)]
    pub remark: Option<String>,
    /// Creation time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub create_time: Option<BeijingTime>,
    /// Update time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub update_time: Option<BeijingTime>,
    /// Products (may be `null`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub product_list: Vec<Value>,
    /// Every other key (`external_field_data`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How to name an opportunity for `GET /v1/opportunity/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpportunityRef {
    /// By `opportunity_id`.
    Id(Id),
    /// By `serial_id`.
    Serial(String),
}

impl From<Id> for OpportunityRef {
    fn from(id: Id) -> Self {
        OpportunityRef::Id(id)
    }
}

/// Opportunities (`opportunity/*`). From [`Client::opportunities`]; cheap
/// to clone, and its streams own their client (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Opportunities {
    client: Client,
}

impl Client {
    /// Opportunities.
    pub fn opportunities(&self) -> Opportunities {
        Opportunities {
            client: self.clone(),
        }
    }
}

impl Opportunities {
    /// One page of `GET /v1/opportunity/list`: the query's page; `next` is
    /// the following page, `None` after a short page or once `totalItem` is
    /// reached; `total` is `totalItem`.
    pub async fn list(
        &self,
        query: &OpportunityQuery,
    ) -> Result<Page<Opportunity, OpportunityQuery>> {
        pagination::list(&self.client, query).await
    }

    /// Every page from the query's page on, fetched lazily.
    pub fn pages(
        &self,
        query: OpportunityQuery,
    ) -> impl Stream<Item = Result<Page<Opportunity, OpportunityQuery>>> + Send + 'static {
        pagination::pages(&self.client, query)
    }

    /// Every opportunity matching `query`, lazily, page by page.
    pub fn stream(
        &self,
        query: OpportunityQuery,
    ) -> impl Stream<Item = Result<Opportunity>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// `GET /v1/opportunity/info`.
    pub async fn get(&self, opportunity: impl Into<OpportunityRef>) -> Result<Opportunity> {
        let query = match opportunity.into() {
            OpportunityRef::Id(id) => vec![("opportunity_id".to_owned(), id.to_string())],
            OpportunityRef::Serial(s) => vec![("serial_id".to_owned(), s)],
        };
        self.client.get("/v1/opportunity/info", query).await
    }
}
