//! The values these APIs send loosely, read with one rule.
//!
//! Chinese SaaS and ERP APIs send numbers as text and text as numbers, `""`
//! or `null` for "no value", `null` for an empty list. Every connector reads
//! such fields with these `deserialize_with` helpers, and all of them follow
//! one rule:
//!
//! - missing, `null` and blank text are *absent* (`None`, or an empty list);
//! - a value that can be read is read (`"12"` and `12` are the integer 12,
//!   `"12.50"` and `12.5` the decimal 12.50);
//! - anything else is an **error**, never a silent default: a field that
//!   cannot be read must not quietly become `None` and lose data.
//!
//! [`decode`] names the field that failed (`data.list[3].amount`), so an
//! error says where the answer went wrong.
//!
//! ```
//! use integration_core::lenient;
//! use rust_decimal::Decimal;
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct Row {
//!     #[serde(default, deserialize_with = "lenient::opt_i64")]
//!     qty: Option<i64>,
//!     #[serde(default, deserialize_with = "lenient::opt_decimal")]
//!     price: Option<Decimal>,
//!     #[serde(default, deserialize_with = "lenient::list")]
//!     tags: Vec<String>,
//! }
//! let row: Row = lenient::decode(serde_json::json!({"qty": "3", "price": 12.5, "tags": null})).unwrap();
//! assert_eq!((row.qty, row.price, row.tags.len()), (Some(3), Some(Decimal::new(125, 1)), 0));
//!
//! let err = lenient::decode::<Vec<Row>>(serde_json::json!([{"qty": 1}, {"qty": "three"}])).unwrap_err();
//! assert_eq!(err.path, "[1].qty");
//! ```

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::types::{BeijingTime, Id, UnixMillis, UnixSeconds};

/// A value that could not be decoded, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Where: `list[3].amount` (empty for the value itself).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `value` into `T`, naming the field that failed.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| DecodeError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// Decodes a borrowed `value` into `T`, naming the field that failed (no
/// copy of the value is made, so the caller keeps it for an excerpt).
pub fn decode_ref<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(value).map_err(|e| DecodeError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// Decodes JSON bytes into `T`, naming the field that failed.
pub fn decode_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json).map_err(|e| DecodeError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// How a JSON value is named in an error ("expected a list, found a
/// string").
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text: strings as sent (trimmed), numbers and booleans
/// printed; `None` when absent.
fn scalar<E: de::Error>(value: Value, expected: &str) -> Result<Option<String>, E> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(E::custom(format!(
            "expected {expected}, found {}",
            describe(&other)
        ))),
    }
}

/// `what` parsed from text, or an error quoting the text.
fn parsed<T: FromStr, E: de::Error>(text: Option<String>, expected: &str) -> Result<Option<T>, E> {
    text.map(|t| {
        t.parse()
            .map_err(|_| E::custom(format!("expected {expected}, found {:?}", short(&t))))
    })
    .transpose()
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{:?}", short(s)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Text from a string, number or boolean; absent as `None`.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    scalar(Value::deserialize(d)?, "text")
}

/// An integer from a number (`12`, `12.0`) or numeric text (`"12"`).
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Value::deserialize(d)?;
    if let Value::Number(n) = &value
        && let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64())
    {
        return if f.fract() == 0.0 && f.abs() < 9.0e15 {
            Ok(Some(f as i64))
        } else {
            Err(de::Error::custom(format!("expected an integer, found {n}")))
        };
    }
    let text =
        scalar(value, "an integer")?.map(|t| t.strip_suffix(".0").map(str::to_owned).unwrap_or(t));
    parsed(text, "an integer")
}

/// A count, page number or lifetime: a non-negative integer (see
/// [`opt_i64`]); a negative one is an error.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    opt_i64(d)?
        .map(|n| {
            u64::try_from(n).map_err(|_| de::Error::custom(format!("expected a count, found {n}")))
        })
        .transpose()
}

/// A decimal from a number or numeric text, exactly as written (`12.50`
/// keeps its scale; a JSON number is read from its text, not through a
/// float).
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let text = scalar(Value::deserialize(d)?, "a decimal")?;
    text.map(|t| {
        Decimal::from_str(&t)
            .or_else(|_| Decimal::from_scientific(&t))
            .map_err(|_| de::Error::custom(format!("expected a decimal, found {:?}", short(&t))))
    })
    .transpose()
}

/// An id from text or a number (a boolean is no id).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Err(de::Error::custom(format!("expected an id, found {b}"))),
        value => Ok(scalar(value, "an id")?.map(Id::new)),
    }
}

/// A boolean from `true`/`false`, `1`/`0`, `"1"`/`"0"`, `"true"`/`"false"`
/// (also `Y`/`N`).
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let text = scalar(Value::deserialize(d)?, "a boolean")?;
    text.map(|t| match t.to_ascii_lowercase().as_str() {
        "true" | "1" | "y" | "yes" => Ok(true),
        "false" | "0" | "n" | "no" => Ok(false),
        _ => Err(de::Error::custom(format!(
            "expected a boolean, found {:?}",
            short(&t)
        ))),
    })
    .transpose()
}

/// A Beijing local time from `yyyy-MM-dd HH:mm:ss` text (the forms
/// [`BeijingTime::parse`] reads).
pub fn opt_beijing_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    let text = scalar(Value::deserialize(d)?, "a time")?;
    text.map(|t| {
        BeijingTime::parse(&t).ok_or_else(|| {
            de::Error::custom(format!(
                "expected a time like 2026-01-02 10:20:30, found {:?}",
                short(&t)
            ))
        })
    })
    .transpose()
}

/// Unix seconds from a number or numeric text.
pub fn opt_unix_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UnixSeconds>, D::Error> {
    Ok(opt_i64(d)?.map(UnixSeconds))
}

/// Unix milliseconds from a number or numeric text.
pub fn opt_unix_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UnixMillis>, D::Error> {
    Ok(opt_i64(d)?.map(UnixMillis))
}

/// A list; `null` (or blank text) is the empty list.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                decode(item).map_err(|e| match e.path.as_str() {
                    "" | "." => de::Error::custom(format!("[{i}]: {}", e.message)),
                    path => de::Error::custom(format!("[{i}].{path}: {}", e.message)),
                })
            })
            .collect(),
        other => Err(de::Error::custom(format!(
            "expected a list, found {}",
            describe(&other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Row {
        #[serde(default, deserialize_with = "opt_text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "opt_i64")]
        qty: Option<i64>,
        #[serde(default, deserialize_with = "opt_decimal")]
        price: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_id")]
        id: Option<Id>,
        #[serde(default, deserialize_with = "opt_bool")]
        on: Option<bool>,
        #[serde(default, deserialize_with = "opt_beijing_time")]
        at: Option<BeijingTime>,
        #[serde(default, deserialize_with = "opt_unix_millis")]
        ms: Option<UnixMillis>,
        #[serde(default, deserialize_with = "list")]
        tags: Vec<String>,
    }

    fn row(v: Value) -> Result<Row, DecodeError> {
        decode(v)
    }

    #[test]
    fn absent_values_are_none_or_empty() {
        let empty = Row {
            name: None,
            qty: None,
            price: None,
            id: None,
            on: None,
            at: None,
            ms: None,
            tags: vec![],
        };
        assert_eq!(row(json!({})).unwrap(), empty);
        let nulls = json!({"name": null, "qty": null, "price": null, "id": null, "on": null, "at": null, "ms": null, "tags": null});
        assert_eq!(row(nulls).unwrap(), empty);
        let blanks = json!({"name": " ", "qty": "", "price": "", "id": "", "on": "", "at": "", "ms": "", "tags": ""});
        assert_eq!(row(blanks).unwrap(), empty);
    }

    #[test]
    fn values_sent_either_way_are_read() {
        let r = row(
            json!({"name": 12, "qty": "7", "price": "12.50", "id": 9007199254740993u64,
            "on": "1", "at": "2026-01-02 10:20:30", "ms": "1700000000000", "tags": ["a"]}),
        )
        .unwrap();
        assert_eq!(r.name.as_deref(), Some("12"));
        assert_eq!(r.qty, Some(7));
        assert_eq!(r.price, Some(Decimal::new(1250, 2)));
        assert_eq!(r.id.unwrap().as_str(), "9007199254740993");
        assert_eq!(r.on, Some(true));
        assert_eq!(r.at.unwrap().to_string(), "2026-01-02 10:20:30");
        assert_eq!(r.ms, Some(UnixMillis(1_700_000_000_000)));
        let r = row(json!({"qty": 7.0, "price": 0.1, "on": false})).unwrap();
        assert_eq!(
            (r.qty, r.price, r.on),
            (Some(7), Some(Decimal::new(1, 1)), Some(false))
        );
    }

    #[test]
    fn junk_is_an_error_naming_the_field() {
        for (field, junk) in [
            ("qty", json!("seven")),
            ("qty", json!(7.5)),
            ("qty", json!({"n": 7})),
            ("price", json!("12,50")),
            ("price", json!([1])),
            ("name", json!({"zh_CN": "x"})),
            ("id", json!(true)),
            ("on", json!("maybe")),
            ("at", json!("yesterday")),
            ("ms", json!("soon")),
            ("tags", json!({"a": 1})),
            ("tags", json!([1])),
        ] {
            let err = decode::<Vec<Row>>(json!([{}, { field: junk }])).unwrap_err();
            assert_eq!(err.path, format!("[1].{field}"), "{field} = {junk}: {err}");
            assert!(
                err.to_string().starts_with(&format!("field `[1].{field}`")),
                "{err}"
            );
        }
        // Inside a list, the item's own field is named too.
        #[derive(Debug, Deserialize)]
        struct Bill {
            #[serde(default, deserialize_with = "list")]
            #[allow(dead_code)]
            lines: Vec<Row>,
        }
        let err = decode::<Bill>(json!({"lines": [{}, {"qty": "two"}]})).unwrap_err();
        assert_eq!(err.path, "lines");
        assert!(
            err.message.starts_with("[1].qty: expected an integer"),
            "{err}"
        );
        #[derive(Debug, Deserialize)]
        struct Count {
            #[serde(default, deserialize_with = "opt_u64")]
            total: Option<u64>,
        }
        let v = json!({"total": "12"});
        assert_eq!(decode_ref::<Count>(&v).unwrap().total, Some(12));
        let err = decode_ref::<Count>(&json!({"total": -1})).unwrap_err();
        assert_eq!(err.path, "total");
        let err = decode_slice::<Row>(br#"{"qty": "x"}"#).unwrap_err();
        assert_eq!(err.path, "qty");
    }
}
