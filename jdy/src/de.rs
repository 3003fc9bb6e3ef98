//! The decoders only jdy needs, beyond core's [`integration_core::lenient`]
//! (text, integers, decimals, ids, null lists): times as text or unix
//! numbers with `0`/`-1` for "not set", and calendar dates. Absent (null,
//! blank text) is `None`; a value that is present but not understood is an
//! error, never a silent default.

use chrono::NaiveDate;
use integration_core::lenient::opt_text;
use integration_core::types::BeijingTime;
use serde::Deserializer;
use serde::de::Error as _;

/// A Beijing time as `yyyy-MM-dd HH:mm:ss` text (or a bare date), or as unix
/// milliseconds / seconds (number or numeric text; ≥ 10^11 is read as
/// milliseconds). `""`, null, `0` and `-1` are `None`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    match opt_text(d)? {
        None => Ok(None),
        Some(s) => parse_time(&s).map_err(D::Error::custom),
    }
}

fn parse_time(s: &str) -> Result<Option<BeijingTime>, String> {
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
            let head = s.get(..10).unwrap_or(&s);
            NaiveDate::parse_from_str(head, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| D::Error::custom(format!("not a date: {s:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::lenient;
    use rust_decimal::Decimal;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "lenient::opt_decimal")]
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
        let err = lenient::decode_slice::<T>(br#"{"day":"soon"}"#).unwrap_err();
        assert_eq!(err.path, "day");
    }
}
