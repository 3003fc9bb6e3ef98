//! List queries and pagination shared by every list API.
//!
//! Lists take `{"pageIndex": 1, "pageSize": 10, …}` (pages count from 1,
//! `pageSize` at most [`crate::assumed::MAX_PAGE_SIZE`]) and answer
//! `{pageIndex, pageSize, recordCount, pageCount, recordList}`, read as a
//! [`Page`]: the records, the query of the next page and `recordCount` as
//! the total. The last page is the one whose `pageIndex` reaches
//! `pageCount`; an empty `recordList`, or a short page when `pageCount` is
//! absent, also ends. The other members of the answer (`pageCount`, sums,
//! `beginPageIndex`, ...) are in the answer of [`Client::call_raw`].

use std::marker::PhantomData;

use futures::Stream;
use integration_core::paging::{self, Page};
use integration_core::types::Id;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Client;
use crate::assumed;
use crate::error::Result;

/// One filter condition of a list's `simpleVOs`, e.g. `pubts >= "2024-01-01 00:00:00"`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The field, e.g. `pubts` or `code`.
    pub field: String,
    /// The operator: `eq`, `neq`, `gt`, `egt`, `lt`, `elt`, `between`, `like`, `in` (Low confidence).
    pub op: String,
    /// The (first) value.
    pub value1: Value,
    /// The second value of `between`.
    #[serde(default)]
    pub value2: Option<Value>,
}

impl Condition {
    /// `field op value1`.
    pub fn new(field: impl Into<String>, op: impl Into<String>, value1: impl Into<Value>) -> Self {
        Self {
            field: field.into(),
            op: op.into(),
            value1: value1.into(),
            value2: None,
        }
    }
}

/// The body of a list call: the filters and the page to read. One type
/// serves every list ([`MerchantQuery`](crate::MerchantQuery),
/// [`SalesOrderQuery`](crate::SalesOrderQuery),
/// [`ProductQuery`](crate::ProductQuery) are its names per resource).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// The page, counted from 1.
    #[serde(rename = "pageIndex")]
    pub page_index: u32,
    /// Records per page; clamped to [`assumed::MAX_PAGE_SIZE`] when sent.
    #[serde(rename = "pageSize")]
    pub page_size: u32,
    /// Filter by code (客户编码 / 单据编号).
    #[serde(default)]
    pub code: Option<String>,
    /// Filter by name.
    #[serde(default)]
    pub name: Option<String>,
    /// Extra conditions (`simpleVOs`).
    #[serde(rename = "simpleVOs", default, skip_serializing_if = "Vec::is_empty")]
    pub simple_vos: Vec<Condition>,
    /// Any other parameter of the list API, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            page_index: 1,
            page_size: 100,
            code: None,
            name: None,
            simple_vos: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl ListQuery {
    /// Page 1 of 100 records, no filter.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the page (from 1).
    pub fn page_index(mut self, page_index: u32) -> Self {
        self.page_index = page_index.max(1);
        self
    }
    /// Sets the page size (clamped to 1..=[`assumed::MAX_PAGE_SIZE`]).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }
    /// Filters by code.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Filters by name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Adds a `simpleVOs` condition.
    pub fn condition(mut self, condition: Condition) -> Self {
        self.simple_vos.push(condition);
        self
    }
    /// Adds any other parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }

    fn clamped(&self) -> Self {
        let mut q = self.clone();
        q.page_index = q.page_index.max(1);
        q.page_size = q.page_size.clamp(1, assumed::MAX_PAGE_SIZE);
        q
    }
}

/// A list answer as sent (only what paging needs).
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct ListAnswer<T> {
    #[serde(
        rename = "pageIndex",
        default,
        deserialize_with = "crate::types::opt_count"
    )]
    page_index: Option<u64>,
    #[serde(
        rename = "recordCount",
        default,
        deserialize_with = "crate::types::opt_count"
    )]
    record_count: Option<u64>,
    #[serde(
        rename = "pageCount",
        default,
        deserialize_with = "crate::types::opt_count"
    )]
    page_count: Option<u64>,
    // `null` is an empty page; decoded in place, so an error names the
    // field of the row (`recordList[3].payMoney`).
    #[serde(rename = "recordList", default)]
    record_list: Option<Vec<T>>,
}

/// A record type with a list API and a detail API (by `id`).
pub trait Resource: DeserializeOwned + Send + 'static {
    /// The path of the list API.
    const LIST_PATH: &'static str;
    /// The path of the detail API.
    const DETAIL_PATH: &'static str;
}

/// The records of one [`Resource`]: list, pages, stream, get (the detail
/// API). [`Merchants`](crate::Merchants), [`SalesOrders`](crate::SalesOrders)
/// and [`Products`](crate::Products) are its names per resource. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Resources<T> {
    pub(crate) client: Client,
    resource: PhantomData<fn() -> T>,
}

impl<T: Resource> Resources<T> {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            resource: PhantomData,
        }
    }

    /// One page of records; `next` is the next page's query, `None` after
    /// the last page (as the API signals it), `total` the `recordCount`.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<T, ListQuery>> {
        page(&self.client, query).await
    }

    /// Every page from `query`'s page on, fetched lazily.
    pub fn pages(
        &self,
        query: ListQuery,
    ) -> impl Stream<Item = Result<Page<T, ListQuery>>> + Send + 'static {
        let client = self.client.clone();
        paging::paginate(query, move |query| {
            let client = client.clone();
            async move { page(&client, &query).await }
        })
    }

    /// Every record matching `query`, fetched page by page as the stream is
    /// read (one page in memory at a time).
    pub fn stream(&self, query: ListQuery) -> impl Stream<Item = Result<T>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// The record with this id (the detail API).
    pub async fn get(&self, id: &Id) -> Result<T> {
        let query = [("id", id.to_string())];
        self.client
            .send(Method::GET, T::DETAIL_PATH, &query, None)
            .await
    }
}

/// Fetches one page of `T`'s list API.
async fn page<T: Resource>(client: &Client, query: &ListQuery) -> Result<Page<T, ListQuery>> {
    let query = query.clamped();
    let body = serde_json::to_value(&query).map_err(|e| crate::Error::Config(e.to_string()))?;
    let answer: ListAnswer<T> = client
        .send(Method::POST, T::LIST_PATH, &[], Some(&body))
        .await?;
    let records = answer.record_list.unwrap_or_default();
    let has_next = !records.is_empty() && {
        let index = answer.page_index.unwrap_or(u64::from(query.page_index));
        match answer.page_count {
            Some(count) => index < count,
            None => records.len() as u64 >= u64::from(query.page_size),
        }
    };
    let next = has_next.then(|| {
        let mut next = query;
        next.page_index += 1;
        next
    });
    Ok(Page::new(records, next).with_total(answer.record_count))
}
