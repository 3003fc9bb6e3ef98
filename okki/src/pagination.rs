//! OKKI's paging, behind every handle's `list`.
//!
//! OKKI pages with `start_index` (the **1-based page number**) and `count`
//! (the page size). Lists report their total in `totalItem` (orders: in
//! `count`). A list ends when a page comes back shorter than `count` (or
//! empty), or when `page × count` reaches the total.

use integration_core::lenient::DecodeError;
use integration_core::paging::Page;
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

/// One page of the list at `path`: the 1-based `page` of `page_size`
/// (already clamped, as sent in `params`); `next` is `at_page(page + 1)`
/// unless this page ends the list.
pub(crate) async fn list<T: DeserializeOwned, Q>(
    client: &Client,
    path: &str,
    params: Vec<(String, String)>,
    total_field: TotalField,
    (page, page_size): (u32, u32),
    at_page: impl FnOnce(u32) -> Q,
) -> Result<Page<T, Q>> {
    let (items, total) = client
        .get_with(path, params, move |data| {
            decode_list(data, total_field).map_err(|e| e.to_string())
        })
        .await?;
    let next = has_more(items.len(), total, page, page_size).then(|| at_page(page + 1));
    Ok(Page::new(items, next).with_total(total))
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
                message: format!("expected a list object, found {}", kind_of(&other)),
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
