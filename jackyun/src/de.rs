//! The value formats only Jackyun uses. Everything else is read with the
//! core's [`integration_core::lenient`] helpers (absent is `None`, junk is
//! an error).

use integration_core::lenient;
use integration_core::types::{BeijingTime, UnixMillis};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serializer};
use serde_json::Value;

/// `Option<BeijingTime>` from `yyyy-MM-dd HH:mm:ss` text or, as some
/// methods send, a unix-ms number; `null` and `""` are absent.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| UnixMillis(ms).to_utc())
            .map(|t| Some(BeijingTime::from_utc(t)))
            .ok_or_else(|| de::Error::custom(format!("not a time: {n}"))),
        other => lenient::opt_beijing_time(other).map_err(de::Error::custom),
    }
}

/// Serializes a list as one comma-separated string (`goodsNos`, `tradeNo`).
pub(crate) fn comma_list<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(","))
}

/// Rows of a list whose `data` is the array itself, or an object holding
/// one array (under one of `names` or, failing that, its only array field).
pub(crate) fn rows_of(data: &Value, names: &[&str]) -> Option<Value> {
    match data {
        Value::Array(_) => Some(data.clone()),
        Value::Null => Some(Value::Array(vec![])),
        Value::Object(map) => {
            for name in names {
                match map.get(*name) {
                    Some(v @ Value::Array(_)) => return Some(v.clone()),
                    Some(Value::Null) => return Some(Value::Array(vec![])),
                    _ => {}
                }
            }
            let mut arrays = map.values().filter(|v| v.is_array());
            match (arrays.next(), arrays.next()) {
                (Some(v), None) => Some(v.clone()),
                // No array at all: an empty page (nothing can be lost).
                (None, None) => Some(Value::Array(vec![])),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The rows of a list answer (see [`rows_of`]) as `T`; a `data` without
/// them is a decode error saying it holds no `what` list.
pub(crate) fn list_rows<T: DeserializeOwned>(
    method: &str,
    data: &Value,
    names: &[&str],
    what: &str,
) -> crate::error::Result<Vec<T>> {
    let rows = rows_of(data, names).ok_or_else(|| {
        let what = format!("result.data holds no {what} list");
        crate::Error::decode(method, what, data.to_string().as_bytes())
    })?;
    crate::client::decode_data(method, rows)
}

/// What a cursor-paged list answers next to its rows: the `scrollId` and
/// the `totalResults`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScrollMeta {
    #[serde(rename = "scrollId", default, deserialize_with = "lenient::opt_text")]
    pub(crate) scroll_id: Option<String>,
    #[serde(rename = "totalResults", default, deserialize_with = "opt_count")]
    pub(crate) total_results: Option<u64>,
}

impl ScrollMeta {
    /// The members next to the rows of `data` (none when `data` is the
    /// row array itself).
    pub(crate) fn of(method: &str, data: &Value) -> crate::error::Result<Self> {
        let Value::Object(map) = data else {
            return Ok(Self::default());
        };
        // Only these members, not the rows again.
        let meta = ["scrollId", "totalResults"]
            .iter()
            .filter_map(|k| Some(((*k).to_owned(), map.get(*k)?.clone())))
            .collect();
        crate::client::decode_data(method, Value::Object(meta))
    }
}

/// A count: a non-negative integer (number or text); absent is `None`.
fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient::opt_i64(d)?
        .map(|n| u64::try_from(n).map_err(|_| de::Error::custom(format!("negative count {n}"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_time")]
        at: Option<BeijingTime>,
    }

    #[test]
    fn times_from_text_or_millis() {
        let t: T = lenient::decode(json!({"at": "2026-01-02 10:20:30"})).unwrap();
        assert_eq!(t.at.unwrap().to_string(), "2026-01-02 10:20:30");
        let t: T = lenient::decode(json!({"at": 1_767_320_430_000_i64})).unwrap();
        assert_eq!(t.at.unwrap().to_string(), "2026-01-02 10:20:30");
        let t: T = lenient::decode(json!({"at": ""})).unwrap();
        assert!(t.at.is_none());
        let err = lenient::decode::<T>(json!({"at": "yesterday"})).unwrap_err();
        assert_eq!(err.path, "at");
    }

    #[test]
    fn scroll_meta_reads_text_or_numbers_and_rejects_junk() {
        let m: ScrollMeta = lenient::decode(json!({"scrollId": 12, "totalResults": "30"})).unwrap();
        assert_eq!(
            (m.scroll_id.as_deref(), m.total_results),
            (Some("12"), Some(30))
        );
        let m: ScrollMeta = lenient::decode(json!({"scrollId": "", "trades": []})).unwrap();
        assert_eq!((m.scroll_id, m.total_results), (None, None));
        for junk in [json!({"totalResults": "many"}), json!({"totalResults": -1})] {
            let err = lenient::decode::<ScrollMeta>(junk).unwrap_err();
            assert_eq!(err.path, "totalResults");
        }
    }
}
