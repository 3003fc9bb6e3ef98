//! One page of a list, and all pages as a lazy stream.
//!
//! OKKI pages with `start_index` (the **1-based page number**) and `count`
//! (the page size). Lists report their total in `totalItem` (orders: in
//! `count`). A list ends when a page comes back shorter than `count`, or when
//! `page × count` reaches the total.

use std::future::Future;

use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::MAX_PAGE_SIZE;
use crate::error::Result;

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage<T> {
    /// The records on this page, in the server's order.
    pub items: Vec<T>,
    /// The total number of records matching the query, when reported.
    pub total: Option<u64>,
    /// The 1-based page number (`start_index`).
    pub page: u32,
    /// The page size asked for (`count`, after clamping).
    pub page_size: u32,
    /// Any other keys of `data`, kept as sent.
    pub extra: Map<String, Value>,
}

impl<T> ListPage<T> {
    /// Whether another page may follow: this page is full and the total (if
    /// any) is not yet reached.
    pub fn has_more(&self) -> bool {
        let full = self.items.len() as u64 >= u64::from(self.page_size) && !self.items.is_empty();
        let below_total = self
            .total
            .is_none_or(|total| u64::from(self.page) * u64::from(self.page_size) < total);
        full && below_total
    }
}

/// A list query: knows its page and page size.
pub trait PagedQuery: Clone + Send + Sync + 'static {
    /// The 1-based page number.
    fn page(&self) -> u32;
    /// The same query at another page.
    fn at_page(&self, page: u32) -> Self;
}

/// Clamps a page size to `1..=MAX_PAGE_SIZE`.
pub(crate) fn clamp_page_size(size: u32) -> u32 {
    size.clamp(1, MAX_PAGE_SIZE)
}

/// Where a list's total is reported.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TotalField {
    /// `data.totalItem`.
    TotalItem,
    /// `data.count` (orders).
    Count,
}

/// A decoded list: items, total, the other keys of `data`.
pub(crate) type Decoded<T> = (Vec<T>, Option<u64>, Map<String, Value>);

/// Decodes a list's `data` (`{list:[…], totalItem, …}`; an empty list may
/// arrive as `[]` or `null`).
pub(crate) fn decode_list<T: DeserializeOwned>(
    data: Value,
    total_field: TotalField,
) -> std::result::Result<Decoded<T>, String> {
    let mut map = match data {
        Value::Object(map) => map,
        Value::Null => return Ok((Vec::new(), Some(0), Map::new())),
        Value::Array(items) if items.is_empty() => return Ok((Vec::new(), Some(0), Map::new())),
        other => return Err(format!("expected a list object, got {}", kind_of(&other))),
    };
    let list = match map.remove("list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| serde_json::from_value(item).map_err(|e| format!("list[{i}]: {e}")))
            .collect::<std::result::Result<Vec<T>, String>>()?,
        Some(other) => return Err(format!("`list` is {}, not an array", kind_of(&other))),
    };
    let key = match total_field {
        TotalField::TotalItem => "totalItem",
        TotalField::Count => "count",
    };
    let total = match map.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    Ok((list, total, map))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// All pages from `first` on, fetched lazily one at a time.
pub(crate) fn pages<Q, T, F, Fut>(
    first: Q,
    fetch: F,
) -> impl Stream<Item = Result<ListPage<T>>> + Send + 'static
where
    Q: PagedQuery,
    T: Send + 'static,
    F: Fn(Q) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ListPage<T>>> + Send + 'static,
{
    futures::stream::try_unfold((Some(first), fetch), |(next, fetch)| async move {
        let Some(query) = next else {
            return Ok(None);
        };
        let page = fetch(query.clone()).await?;
        let next = page
            .has_more()
            .then(|| query.at_page(query.page().saturating_add(1)));
        Ok(Some((page, (next, fetch))))
    })
}

/// All items of all pages, lazily.
pub(crate) fn items<T: Send + 'static>(
    pages: impl Stream<Item = Result<ListPage<T>>> + Send + 'static,
) -> impl Stream<Item = Result<T>> + Send + 'static {
    pages
        .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, page: u32, total: Option<u64>) -> ListPage<u8> {
        ListPage {
            items: vec![0; n],
            total,
            page,
            page_size: 10,
            extra: Map::new(),
        }
    }

    #[test]
    fn end_detection() {
        assert!(page(10, 1, Some(25)).has_more());
        assert!(!page(10, 1, Some(10)).has_more());
        assert!(!page(5, 3, Some(25)).has_more());
        assert!(page(10, 1, None).has_more());
        assert!(!page(0, 1, None).has_more());
        assert_eq!(clamp_page_size(1000), MAX_PAGE_SIZE);
        assert_eq!(clamp_page_size(0), 1);
    }

    #[test]
    fn list_decoding() {
        let (l, t, _) = decode_list::<u8>(
            serde_json::json!({"list":[1,2],"totalItem":"7","count":2}),
            TotalField::TotalItem,
        )
        .unwrap();
        assert_eq!((l, t), (vec![1, 2], Some(7)));
        let (l, t, _) =
            decode_list::<u8>(serde_json::json!({"list":[1],"count":9}), TotalField::Count)
                .unwrap();
        assert_eq!((l, t), (vec![1], Some(9)));
        let (l, _, _) = decode_list::<u8>(serde_json::json!([]), TotalField::Count).unwrap();
        assert!(l.is_empty());
        assert!(decode_list::<u8>(serde_json::json!({"list":{"a":1}}), TotalField::Count).is_err());
        assert!(
            decode_list::<u8>(serde_json::json!({"list":["x"]}), TotalField::Count)
                .unwrap_err()
                .contains("list[0]")
        );
    }
}
