//! List queries and pagination shared by every list API.
//!
//! Lists take `{"pageIndex": 1, "pageSize": 10, …}` (pages count from 1,
//! `pageSize` at most [`crate::assumed::MAX_PAGE_SIZE`]) and answer
//! `{pageIndex, pageSize, recordCount, pageCount, recordList}`. The last
//! page is the one whose `pageIndex` reaches `pageCount`; an empty
//! `recordList`, or a short page when `pageCount` is absent, also ends.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Client;
use crate::assumed;
use crate::error::Result;

/// One filter condition of a list's `simpleVOs`, e.g. `pubts >= "2024-01-01 00:00:00"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The field, e.g. `pubts` or `code`.
    pub field: String,
    /// The operator: `eq`, `neq`, `gt`, `egt`, `lt`, `elt`, `between`, `like`, `in` (Low confidence).
    pub op: String,
    /// The (first) value.
    pub value1: Value,
    /// The second value of `between`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// The body of a list call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// The page, counted from 1.
    #[serde(rename = "pageIndex")]
    pub page_index: u32,
    /// Records per page; clamped to [`assumed::MAX_PAGE_SIZE`] when sent.
    #[serde(rename = "pageSize")]
    pub page_size: u32,
    /// Filter by code (客户编码 / 单据编号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Filter by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>", serialize = "T: Serialize"))]
pub struct ListPage<T> {
    /// This page's number (from 1).
    #[serde(rename = "pageIndex", default, deserialize_with = "opt_u64")]
    pub page_index: Option<u64>,
    /// The page size used.
    #[serde(rename = "pageSize", default, deserialize_with = "opt_u64")]
    pub page_size: Option<u64>,
    /// Records matching the query, all pages together.
    #[serde(rename = "recordCount", default, deserialize_with = "opt_u64")]
    pub record_count: Option<u64>,
    /// Number of pages.
    #[serde(rename = "pageCount", default, deserialize_with = "opt_u64")]
    pub page_count: Option<u64>,
    /// The records of this page.
    #[serde(
        rename = "recordList",
        default = "Vec::new",
        deserialize_with = "null_as_empty"
    )]
    pub record_list: Vec<T>,
    /// Other members of the answer (sums, `beginPageIndex`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn opt_u64<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a page number, got {n}"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a page number, got {s:?}"))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a page number, got {other}"
        ))),
    }
}

impl<T> ListPage<T> {
    /// Whether a page after this one exists, judged as the API signals it.
    pub fn has_next(&self, requested: &ListQuery) -> bool {
        if self.record_list.is_empty() {
            return false;
        }
        let index = self.page_index.unwrap_or(u64::from(requested.page_index));
        match self.page_count {
            Some(count) => index < count,
            None => self.record_list.len() as u64 >= u64::from(requested.clamped().page_size),
        }
    }
}

/// Fetches one page of the list API at `path`.
pub(crate) async fn page<T: DeserializeOwned>(
    client: &Client,
    path: &str,
    query: &ListQuery,
) -> Result<ListPage<T>> {
    let body =
        serde_json::to_value(query.clamped()).map_err(|e| crate::Error::Config(e.to_string()))?;
    client.send(Method::POST, path, &[], Some(&body)).await
}

/// All pages of the list API at `path`, fetched lazily from `query`'s page on.
pub(crate) fn pages<T: DeserializeOwned + Send + 'static>(
    client: Client,
    path: &'static str,
    query: ListQuery,
) -> impl Stream<Item = Result<ListPage<T>>> + Send + 'static {
    stream::try_unfold(Some(query.clamped()), move |next| {
        let client = client.clone();
        async move {
            let Some(query) = next else {
                return Ok(None);
            };
            let page: ListPage<T> = page(&client, path, &query).await?;
            let next = page.has_next(&query).then(|| {
                let mut q = query.clone();
                q.page_index += 1;
                q
            });
            Ok(Some((page, next)))
        }
    })
}

/// All records of the list API at `path`, one page in memory at a time.
pub(crate) fn records<T: DeserializeOwned + Send + 'static>(
    client: Client,
    path: &'static str,
    query: ListQuery,
) -> impl Stream<Item = Result<T>> + Send + 'static {
    pages::<T>(client, path, query)
        .map_ok(|page| stream::iter(page.record_list.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}
