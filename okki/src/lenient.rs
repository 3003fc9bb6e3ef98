//! Lenient decoders for OKKI's loosely typed fields: numbers that arrive as
//! strings, `""` and `1970-01-01 00:00:00` meaning "empty", ids that come as
//! a single value or an array. Anything that cannot be read is an error,
//! never a silent default.

use std::fmt;
use std::str::FromStr;

use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

/// Whether OKKI's time text means "no time".
pub(crate) fn is_empty_time(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.starts_with("1970-01-01") || t.starts_with("0000-00-00")
}

/// Parses OKKI's local time text (Beijing time); empty markers are `None`.
pub(crate) fn parse_time(text: &str) -> Result<Option<BeijingTime>, String> {
    if is_empty_time(text) {
        return Ok(None);
    }
    BeijingTime::parse(text)
        .map(Some)
        .ok_or_else(|| format!("not an OKKI time: {text:?}"))
}

/// `Option<BeijingTime>` from `null`, `""`, `1970-01-01 00:00:00`,
/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => parse_time(&s).map_err(de::Error::custom),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(None),
        other => Err(de::Error::custom(format!(
            "expected a time text, got {other}"
        ))),
    }
}

fn scalar_text<E: de::Error>(v: Value, what: &str) -> Result<Option<String>, E> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(if b { "1" } else { "0" }.to_owned())),
        other => Err(E::custom(format!("expected {what}, got {other}"))),
    }
}

/// `Option<Decimal>` from a number, numeric text, `""` or `null`.
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let Some(text) = scalar_text::<D::Error>(Value::deserialize(d)?, "an amount")? else {
        return Ok(None);
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(Some)
        .map_err(|_| de::Error::custom(format!("not a decimal amount: {text:?}")))
}

/// `Option<i64>` from a number, integer text, `""` or `null`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let Some(text) = scalar_text::<D::Error>(Value::deserialize(d)?, "an integer")? else {
        return Ok(None);
    };
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Some(n));
    }
    match text.parse::<f64>() {
        // 12.0 → 12; anything fractional is not an integer.
        Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        _ => Err(de::Error::custom(format!("not an integer: {text:?}"))),
    }
}

/// `Option<Id>` from a number, text, `""` or `null`.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Id>, D::Error> {
    Ok(scalar_text::<D::Error>(Value::deserialize(d)?, "an id")?.map(Id::new))
}

/// `Vec<Id>` from an array, a single id, a comma-separated text, `""` or `null`.
pub(crate) fn id_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Id>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| scalar_text::<D::Error>(v, "an id").transpose())
            .map(|r| r.map(Id::new))
            .collect(),
        other => Ok(scalar_text::<D::Error>(other, "an id")?
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Id::new)
                    .collect()
            })
            .unwrap_or_default()),
    }
}

/// `Vec<String>` from an array of scalars, one text, `""` or `null`.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| scalar_text::<D::Error>(v, "a text").transpose())
            .collect(),
        other => Ok(scalar_text::<D::Error>(other, "a text")?
            .into_iter()
            .collect()),
    }
}

/// A `Vec<T>` that may arrive as `null`.
pub(crate) fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Formats a value for a query string (for `Display` types).
pub(crate) fn text(v: impl fmt::Display) -> String {
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_time")]
        t: Option<BeijingTime>,
        #[serde(default, deserialize_with = "opt_decimal")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "id_list")]
        ids: Vec<Id>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn lenient_fields() {
        let v = t(r#"{"t":"1970-01-01 00:00:00","d":"0.0100","i":"12","ids":"55280038"}"#).unwrap();
        assert!(v.t.is_none());
        assert_eq!(v.d.unwrap().to_string(), "0.0100");
        assert_eq!(v.i, Some(12));
        assert_eq!(v.ids, vec![Id::from("55280038")]);
        let v = t(r#"{"t":"2025-03-06 16:55:25","d":55566,"i":3.0,"ids":[1,"2",""]}"#).unwrap();
        assert_eq!(v.t.unwrap().to_string(), "2025-03-06 16:55:25");
        assert_eq!(v.d.unwrap().to_string(), "55566");
        assert_eq!(v.ids, vec![Id::from(1), Id::from(2)]);
        let v = t(r#"{"t":"","d":"","i":null,"ids":null}"#).unwrap();
        assert!(v.t.is_none() && v.d.is_none() && v.i.is_none() && v.ids.is_empty());
        assert!(t(r#"{"t":"soon"}"#).is_err());
        assert!(t(r#"{"d":"12,5"}"#).is_err());
        assert!(t(r#"{"i":"1.5"}"#).is_err());
    }
}
