//! Lenient but loss-free decoders for the shapes jdy uses: numbers that
//! arrive as text, empty strings meaning "not set", times as text or unix
//! numbers. A value that is present but not understood is an error, never a
//! silent default.

use std::str::FromStr;

use chrono::NaiveDate;
use integration_core::types::BeijingTime;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Text, a number or null; `""` and null are `None`.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => return Err(D::Error::custom(format!("expected text, got {other}"))),
    })
}

/// An integer as a number or as text; `""` and null are `None`.
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected an integer, got {s:?}"))),
    }
}

/// A decimal as a JSON number or as text; `""` and null are `None`.
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => parse_decimal(&s)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a decimal, got {s:?}"))),
    }
}

pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .ok()
}

/// A Beijing time as `yyyy-MM-dd HH:mm:ss` text (or a bare date), or as unix
/// milliseconds / seconds (number or numeric text; ≥ 10^11 is read as
/// milliseconds). `""`, null, `0` and `-1` are `None`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => parse_time(&s).map_err(D::Error::custom),
    }
}

pub(crate) fn parse_time(s: &str) -> Result<Option<BeijingTime>, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        if n <= 0 {
            return Ok(None);
        }
        let utc = if n >= 100_000_000_000 {
            chrono::DateTime::from_timestamp_millis(n)
        } else {
            chrono::DateTime::from_timestamp(n, 0)
        };
        return utc
            .map(|t| Some(BeijingTime::from_utc(t)))
            .ok_or_else(|| format!("time out of range: {s}"));
    }
    BeijingTime::parse(s)
        .map(Some)
        .ok_or_else(|| format!("not a time: {s:?}"))
}

/// A calendar date as `yyyy-MM-dd` (a longer date-time text keeps its date
/// part); `""` and null are `None`.
pub(crate) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => {
            let head = s.trim().get(..10).unwrap_or(s.trim());
            NaiveDate::parse_from_str(head, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| D::Error::custom(format!("not a date: {s:?}")))
        }
    }
}

/// An id as text or a number; `""` and null are `None`.
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<integration_core::types::Id>, D::Error> {
    Ok(opt_text(d)?.map(integration_core::types::Id::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_decimal")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_time")]
        t: Option<BeijingTime>,
        #[serde(default, deserialize_with = "opt_date")]
        day: Option<NaiveDate>,
    }

    #[test]
    fn lenient_but_strict_about_garbage() {
        let v: T =
            serde_json::from_str(r#"{"d":"12.30","t":"2026-01-02 08:00:00","day":"2026-01-02"}"#)
                .unwrap();
        assert_eq!(v.d.unwrap().to_string(), "12.30");
        assert_eq!(v.t.unwrap().to_string(), "2026-01-02 08:00:00");
        assert_eq!(v.day.unwrap().to_string(), "2026-01-02");
        let v: T = serde_json::from_str(r#"{"d":12.5,"t":1767312000000,"day":""}"#).unwrap();
        assert_eq!(v.d.unwrap().to_string(), "12.5");
        assert_eq!(v.t.unwrap().to_string(), "2026-01-02 08:00:00");
        assert!(v.day.is_none());
        let v: T = serde_json::from_str(r#"{"d":"","t":"-1"}"#).unwrap();
        assert!(v.d.is_none() && v.t.is_none());
        assert!(serde_json::from_str::<T>(r#"{"d":"abc"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"t":"yesterday"}"#).is_err());
    }
}
