//! Opportunities (商机), scope `opportunity`: `GET /v1/opportunity/list`
//! and `GET /v1/opportunity/info`.

use futures::Stream;
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::lenient;
use crate::pagination::{self, ListPage, PagedQuery, TotalField};

/// Parameters of `GET /v1/opportunity/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityListQuery {
    /// `start_index`: the 1-based page number.
    pub page: u32,
    /// `count`: page size (default 10, clamped to 1..=100).
    pub page_size: u32,
    /// `start_time`: updated at or after (Beijing).
    pub start_time: Option<BeijingTime>,
    /// `end_time`: updated at or before (Beijing).
    pub end_time: Option<BeijingTime>,
}

impl Default for OpportunityListQuery {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: 10,
            start_time: None,
            end_time: None,
        }
    }
}

impl OpportunityListQuery {
    /// Page 1, 10 a page.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the page size.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }
    /// Opportunities updated in `[start, end]`.
    pub fn updated_between(mut self, start: Option<BeijingTime>, end: Option<BeijingTime>) -> Self {
        self.start_time = start;
        self.end_time = end;
        self
    }
    fn to_query(&self) -> Vec<(String, String)> {
        let mut q = vec![
            ("start_index".to_owned(), self.page.max(1).to_string()),
            (
                "count".to_owned(),
                pagination::clamp_page_size(self.page_size).to_string(),
            ),
        ];
        if let Some(t) = &self.start_time {
            q.push(("start_time".to_owned(), lenient::text(t)));
        }
        if let Some(t) = &self.end_time {
            q.push(("end_time".to_owned(), lenient::text(t)));
        }
        q
    }
}

impl PagedQuery for OpportunityListQuery {
    fn page(&self) -> u32 {
        self.page
    }
    fn at_page(&self, page: u32) -> Self {
        Self {
            page,
            ..self.clone()
        }
    }
}

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
    #[serde(default, deserialize_with = "lenient::null_as_empty")]
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

fn decode(data: Value) -> std::result::Result<pagination::Decoded<Opportunity>, String> {
    pagination::decode_list(data, TotalField::TotalItem)
}

impl Client {
    /// One page of `GET /v1/opportunity/list`.
    pub async fn list_opportunities(
        &self,
        query: &OpportunityListQuery,
    ) -> Result<ListPage<Opportunity>> {
        let (items, total, extra) = self
            .get_with("/v1/opportunity/list", query.to_query(), decode)
            .await?;
        Ok(ListPage {
            items,
            total,
            page: query.page.max(1),
            page_size: pagination::clamp_page_size(query.page_size),
            extra,
        })
    }

    /// Every opportunity matching `query`, lazily, page by page.
    pub fn opportunities(
        &self,
        query: OpportunityListQuery,
    ) -> impl Stream<Item = Result<Opportunity>> + Send + 'static {
        let client = self.clone();
        pagination::items(pagination::pages(query, move |q| {
            let client = client.clone();
            async move { client.list_opportunities(&q).await }
        }))
    }

    /// `GET /v1/opportunity/info`.
    pub async fn opportunity(&self, opportunity: OpportunityRef) -> Result<Opportunity> {
        let query = match opportunity {
            OpportunityRef::Id(id) => vec![("opportunity_id".to_owned(), id.to_string())],
            OpportunityRef::Serial(s) => vec![("serial_id".to_owned(), s)],
        };
        self.get("/v1/opportunity/info", query).await
    }
}
