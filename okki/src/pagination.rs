//! OKKI's paging, behind every handle's `list`.
//!
//! OKKI pages with `start_index` (the **1-based page number**) and `count`
//! (the page size). Lists report their total in `totalItem` (orders: in
//! `count`). A list ends when a page comes back shorter than `count` (or
//! empty), or when `page × count` reaches the total.

use futures::Stream;
use integration_core::lenient::DecodeError;
use integration_core::paging::{self, Page};
use integration_core::types::BeijingTime;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{Client, MAX_PAGE_SIZE};
use crate::error::Result;
use crate::lenient;

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

/// Whether another page may follow a page of `read` items: it is full and
/// the total (if any) is not yet reached.
fn has_more(read: usize, total: Option<u64>, page: u32, page_size: u32) -> bool {
    let full = read > 0 && read as u64 >= u64::from(page_size);
    full && total.is_none_or(|total| u64::from(page) * u64::from(page_size) < total)
}

/// A query of one of OKKI's paged lists: what every handle's `list`,
/// `pages` and `stream` need to know of it, so they are written once
/// ([`list`], [`pages`]).
pub(crate) trait ListQuery: Clone + Send + Sync + 'static {
    /// What a row decodes to.
    type Item: DeserializeOwned + Send + 'static;
    /// The list's path, e.g. `/v1/company/list`.
    const PATH: &'static str;
    /// Where the list reports its total.
    const TOTAL: TotalField;
    /// The 1-based page number and the page size, as set.
    fn paging(&self) -> (u32, u32);
    /// The same query at another page.
    fn at_page(self, page: u32) -> Self;
    /// The list's own parameters, pushed after `start_index` and `count`.
    fn push_params(&self, q: &mut Vec<(String, String)>);

    /// Every parameter of the request: the page (at least 1), the page
    /// size (clamped), then the list's own.
    fn to_query(&self) -> Vec<(String, String)> {
        let (page, page_size) = self.paging();
        let mut q = vec![
            ("start_index".to_owned(), page.max(1).to_string()),
            ("count".to_owned(), clamp_page_size(page_size).to_string()),
        ];
        self.push_params(&mut q);
        q
    }
}

/// Makes `$query`, a struct with `page` and `page_size` fields and an
/// inherent `params` pushing the list's own parameters, the [`ListQuery`]
/// of the list at `$path` whose rows are `$item` and whose total is in
/// `$total`; and gives it the `page` and `page_size` setters of every query.
macro_rules! list_query {
    ($query:ident => $item:ty, $path:literal, $total:ident) => {
        impl $query {
            /// Sets the page size (clamped to 1..=100 when sent).
            pub fn page_size(mut self, size: u32) -> Self {
                self.page_size = size;
                self
            }
            /// Sets the page number (1-based).
            pub fn page(mut self, page: u32) -> Self {
                self.page = page.max(1);
                self
            }
        }

        impl $crate::pagination::ListQuery for $query {
            type Item = $item;
            const PATH: &'static str = $path;
            const TOTAL: $crate::pagination::TotalField = $crate::pagination::TotalField::$total;

            fn paging(&self) -> (u32, u32) {
                (self.page, self.page_size)
            }
            fn at_page(self, page: u32) -> Self {
                self.page(page)
            }
            fn push_params(&self, q: &mut Vec<(String, String)>) {
                self.params(q)
            }
        }
    };
}
pub(crate) use list_query;

/// Pushes a time window: `time_type` (when the list has one and either end
/// is set), `start_time` and `end_time` (Beijing time, inclusive).
pub(crate) fn push_window(
    q: &mut Vec<(String, String)>,
    time_type: Option<&str>,
    start: Option<&BeijingTime>,
    end: Option<&BeijingTime>,
) {
    if let Some(time_type) = time_type.filter(|_| start.is_some() || end.is_some()) {
        q.push(("time_type".to_owned(), time_type.to_owned()));
    }
    for (key, time) in [("start_time", start), ("end_time", end)] {
        if let Some(time) = time {
            q.push((key.to_owned(), time.to_string()));
        }
    }
}

/// One page of `query`'s list; `next` is the query at the following page
/// unless this page ends the list.
pub(crate) async fn list<Q: ListQuery>(client: &Client, query: &Q) -> Result<Page<Q::Item, Q>> {
    let (page, page_size) = query.paging();
    let (page, page_size) = (page.max(1), clamp_page_size(page_size));
    let (items, total) = client
        .get_with(Q::PATH, query.to_query(), |data| {
            decode_list(data, Q::TOTAL).map_err(|e| e.to_string())
        })
        .await?;
    let next =
        has_more(items.len(), total, page, page_size).then(|| query.clone().at_page(page + 1));
    Ok(Page::new(items, next).with_total(total))
}

/// Every page of `query`'s list from its page on, fetched lazily.
pub(crate) fn pages<Q: ListQuery>(
    client: &Client,
    query: Q,
) -> impl Stream<Item = Result<Page<Q::Item, Q>>> + Send + 'static {
    let client = client.clone();
    paging::paginate(query, move |query| {
        let client = client.clone();
        async move { list(&client, &query).await }
    })
}

/// A total: a count from 0.
#[derive(Deserialize)]
struct Total(#[serde(deserialize_with = "lenient::opt_i64")] Option<i64>);

/// Decodes a list's `data` (`{list:[…], totalItem, …}`; an empty list may
/// arrive as `[]` or `null`). A value that cannot be read is an error
/// naming it (`list[3].amount`, `totalItem`).
pub(crate) fn decode_list<T: DeserializeOwned>(
    data: Value,
    total_field: TotalField,
) -> std::result::Result<(Vec<T>, Option<u64>), DecodeError> {
    let at = |key: &str, e: DecodeError| DecodeError {
        path: match e.path.as_str() {
            "" | "." => key.to_owned(),
            path => format!("{key}{path}"),
        },
        message: e.message,
    };
    let mut map = match data {
        Value::Object(map) => map,
        Value::Null => return Ok((Vec::new(), Some(0))),
        Value::Array(items) if items.is_empty() => return Ok((Vec::new(), Some(0))),
        other => {
            return Err(DecodeError {
                path: String::new(),
                message: format!(
                    "expected a list object, found {}",
                    integration_core::lenient::json_kind(&other)
                ),
            });
        }
    };
    let items = match map.remove("list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(list) => lenient::decode(list).map_err(|e| at("list", e))?,
    };
    let key = match total_field {
        TotalField::TotalItem => "totalItem",
        TotalField::Count => "count",
    };
    let total = match map.remove(key) {
        None => None,
        Some(value) => {
            let Total(total) = lenient::decode(value).map_err(|e| at(key, e))?;
            total
                .map(|n| {
                    u64::try_from(n).map_err(|_| DecodeError {
                        path: key.to_owned(),
                        message: format!("a total cannot be negative, found {n}"),
                    })
                })
                .transpose()?
        }
    };
    Ok((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn end_detection() {
        assert!(has_more(10, Some(25), 1, 10));
        assert!(!has_more(10, Some(10), 1, 10));
        assert!(!has_more(5, Some(25), 3, 10));
        assert!(has_more(10, None, 1, 10));
        assert!(!has_more(0, None, 1, 10));
        assert_eq!(clamp_page_size(1000), MAX_PAGE_SIZE);
        assert_eq!(clamp_page_size(0), 1);
    }

    #[test]
    fn list_decoding() {
        let (l, t) = decode_list::<u8>(
            json!({"list":[1,2],"totalItem":"7","count":2}),
            TotalField::TotalItem,
        )
        .unwrap();
        assert_eq!((l, t), (vec![1, 2], Some(7)));
        let (l, t) = decode_list::<u8>(json!({"list":[1],"count":9}), TotalField::Count).unwrap();
        assert_eq!((l, t), (vec![1], Some(9)));
        let (l, t) = decode_list::<u8>(json!({"list":null,"count":""}), TotalField::Count).unwrap();
        assert_eq!((l, t), (vec![], None));
        let (l, _) = decode_list::<u8>(json!([]), TotalField::Count).unwrap();
        assert!(l.is_empty());
        assert!(decode_list::<u8>(json!({"list":{"a":1}}), TotalField::Count).is_err());
        assert!(decode_list::<u8>(json!("x"), TotalField::Count).is_err());
        let err = decode_list::<u8>(json!({"list":[1, "x"]}), TotalField::Count).unwrap_err();
        assert_eq!(err.path, "list[1]");
        // A total that cannot be read is an error, not "unknown".
        for (total, message) in [(json!("many"), "an integer"), (json!(-1), "negative")] {
            let err = decode_list::<u8>(
                json!({"list":[], "totalItem": total}),
                TotalField::TotalItem,
            )
            .unwrap_err();
            assert_eq!(err.path, "totalItem");
            assert!(err.message.contains(message), "{err}");
        }
    }
}
