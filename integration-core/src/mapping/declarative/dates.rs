//! The time functions: `now`, `unix_seconds`, `unix_millis` and
//! `format_date`, with the date, offset and format parsing behind them.

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone, Utc};
use minijinja::{Error as JinjaError, ErrorKind, State};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::JValue;
use super::decimals::to_decimal;
use super::functions::invalid;
use super::render::root;

/// Largest absolute unix timestamp read as seconds; larger ones are milliseconds.
const SECONDS_LIMIT: i64 = 100_000_000_000;

pub(super) fn fn_now(
    state: &State<'_, '_>,
    format: Option<String>,
    offset: Option<String>,
) -> Result<JValue, JinjaError> {
    let now = root(state)?.ctx.now();
    let offset = parse_offset(offset.as_deref().unwrap_or("+00:00"))?;
    format_datetime(
        now.with_timezone(&offset),
        format.as_deref().unwrap_or("rfc3339"),
    )
}

pub(super) fn fn_format_date(
    value: JValue,
    format: Option<String>,
    offset: Option<String>,
    naive_offset: Option<String>,
) -> Result<JValue, JinjaError> {
    let offset = parse_offset(offset.as_deref().unwrap_or("+00:00"))?;
    let naive_offset = match naive_offset {
        Some(text) => parse_offset(&text)?,
        None => offset,
    };
    let instant = parse_datetime(&value, naive_offset)?;
    format_datetime(
        instant.with_timezone(&offset),
        format.as_deref().unwrap_or("rfc3339"),
    )
}

pub(super) fn offset_seconds(function: &str, offset: Option<JValue>) -> Result<i64, JinjaError> {
    let Some(offset) = offset else { return Ok(0) };
    let d = to_decimal(function, &offset)?;
    if !d.fract().is_zero() {
        return Err(invalid(format!(
            "{function}: the offset must be whole seconds, not {d}"
        )));
    }
    d.to_i64()
        .ok_or_else(|| invalid(format!("{function}: the offset {d} is out of range")))
}

fn parse_offset(text: &str) -> Result<FixedOffset, JinjaError> {
    let bad = || {
        invalid(format!(
            "`{text}` is not a UTC offset (expected e.g. \"+08:00\", \"-0530\", \"Z\" or \"UTC\")"
        ))
    };
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0).ok_or_else(bad);
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || rest.matches(':').count() > 1 {
        return Err(bad());
    }
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().map_err(|_| bad())?, 0),
        4 => (
            digits[..2].parse::<i32>().map_err(|_| bad())?,
            digits[2..].parse::<i32>().map_err(|_| bad())?,
        ),
        _ => return Err(bad()),
    };
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(bad)
}

fn parse_datetime(
    value: &JValue,
    naive_offset: FixedOffset,
) -> Result<DateTime<FixedOffset>, JinjaError> {
    if value.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            "format_date: the date value is undefined",
        ));
    }
    if let Some(text) = value.as_str() {
        return parse_datetime_text(text, naive_offset);
    }
    if value.is_number() {
        let d = to_decimal("format_date", value)?;
        return from_timestamp(d)
            .ok_or_else(|| invalid(format!("format_date: the timestamp {d} is out of range")));
    }
    Err(invalid(format!(
        "format_date: expected a date string or a unix timestamp, not {} `{value}`",
        value.kind()
    )))
}

fn from_timestamp(d: Decimal) -> Option<DateTime<FixedOffset>> {
    let millis = if d.abs() < Decimal::from(SECONDS_LIMIT) {
        d.checked_mul(Decimal::from(1000))?
    } else {
        d
    };
    let millis = millis
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()?;
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(|t| t.fixed_offset())
}

fn parse_datetime_text(
    text: &str,
    naive_offset: FixedOffset,
) -> Result<DateTime<FixedOffset>, JinjaError> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let d = Decimal::from_str(t)
            .map_err(|_| invalid(format!("format_date: `{t}` is out of range")))?;
        return from_timestamp(d)
            .ok_or_else(|| invalid(format!("format_date: the timestamp {t} is out of range")));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Ok(dt);
        }
    }
    match crate::types::parse_local_time(t) {
        Some(n) => naive_offset
            .from_local_datetime(&n)
            .single()
            .ok_or_else(|| invalid(format!("format_date: `{t}` is out of range"))),
        None => Err(invalid(format!(
            "format_date: `{t}` is not a date (expected RFC 3339, `yyyy-MM-dd HH:mm:ss`, `yyyy-MM-dd` or a unix timestamp)"
        ))),
    }
}

fn format_datetime(t: DateTime<FixedOffset>, format: &str) -> Result<JValue, JinjaError> {
    match format {
        "rfc3339" | "RFC3339" | "rfc_3339" => {
            Ok(JValue::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
        }
        "unix" | "unix_seconds" => Ok(JValue::from(t.timestamp())),
        "unix_ms" | "unix_millis" => Ok(JValue::from(t.timestamp_millis())),
        pattern => {
            let strftime = if pattern.contains('%') {
                pattern.to_owned()
            } else {
                java_to_strftime(pattern)
            };
            let items: Vec<Item<'_>> = StrftimeItems::new(&strftime).collect();
            if items.iter().any(|i| matches!(i, Item::Error)) {
                return Err(invalid(format!("`{pattern}` is not a valid date format")));
            }
            let mut out = String::new();
            write!(out, "{}", t.format_with_items(items.iter()))
                .map_err(|_| invalid(format!("the date cannot be formatted with `{pattern}`")))?;
            Ok(JValue::from(out))
        }
    }
}

/// Translates a Java-style pattern (`yyyy-MM-dd HH:mm:ss.SSS`) to strftime.
fn java_to_strftime(pattern: &str) -> String {
    const TOKENS: [(&str, &str); 7] = [
        ("yyyy", "%Y"),
        ("SSS", "%3f"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let quoted = &rest[1..];
            match quoted.find('\'') {
                Some(end) => {
                    out.push_str(&quoted[..end]);
                    rest = &quoted[end + 1..];
                }
                None => {
                    out.push_str(quoted);
                    rest = "";
                }
            }
            continue;
        }
        for (token, replacement) in TOKENS {
            if let Some(after) = rest.strip_prefix(token) {
                out.push_str(replacement);
                rest = after;
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+08:00").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(parse_offset("+0800").unwrap().local_minus_utc(), 8 * 3600);
        assert_eq!(
            parse_offset("-05:30").unwrap().local_minus_utc(),
            -(5 * 3600 + 1800)
        );
        assert_eq!(parse_offset("Z").unwrap().local_minus_utc(), 0);
        for bad in [
            "",
            "8",
            "+8:00:00",
            "+25:00",
            "Asia/Shanghai",
            "+08:0a",
            "+é",
        ] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn java_patterns_translate() {
        assert_eq!(
            java_to_strftime("yyyy-MM-dd HH:mm:ss.SSS"),
            "%Y-%m-%d %H:%M:%S.%3f"
        );
        assert_eq!(java_to_strftime("yyyy-MM-dd'T'HH:mm"), "%Y-%m-%dT%H:%M");
    }
}
