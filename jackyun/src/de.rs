//! Lenient-but-lossless field decoders: `null` and `""` are absent; anything
//! else must parse, or decoding fails (no silent defaults).

use std::str::FromStr;

use futures::{Stream, StreamExt, TryStreamExt};
use integration_core::types::{BeijingTime, UnixMillis};
use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serializer};
use serde_json::Value;

use crate::error::Result;

fn absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// `Option<Decimal>` from a number, numeric text, `null` or `""`.
pub(crate) mod opt_decimal {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Decimal>, D::Error> {
        let v = Value::deserialize(d)?;
        if absent(&v) {
            return Ok(None);
        }
        let text = match &v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_owned(),
            other => {
                return Err(de::Error::custom(format!(
                    "expected a decimal, got {other}"
                )));
            }
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Some)
            .map_err(|_| de::Error::custom(format!("not a decimal: {text}")))
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }
}

/// `Option<i64>` from a number, numeric text, `null` or `""`.
pub(crate) mod opt_int {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = Value::deserialize(d)?;
        if absent(&v) {
            return Ok(None);
        }
        match &v {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("not an integer: {n}"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| de::Error::custom(format!("not an integer: {s}"))),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            other => Err(de::Error::custom(format!(
                "expected an integer, got {other}"
            ))),
        }
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_i64(*n),
            None => s.serialize_none(),
        }
    }
}

/// `Option<BeijingTime>` from `yyyy-MM-dd HH:mm:ss` text, `null` or `""`.
pub(crate) mod opt_time {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BeijingTime>, D::Error> {
        let v = Value::deserialize(d)?;
        if absent(&v) {
            return Ok(None);
        }
        match &v {
            Value::String(s) => BeijingTime::parse(s)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("not a Beijing time: {s}"))),
            // Some methods send ms epochs where others send text.
            Value::Number(n) => n
                .as_i64()
                .and_then(|ms| UnixMillis(ms).to_utc())
                .map(|t| Some(BeijingTime::from_utc(t)))
                .ok_or_else(|| de::Error::custom(format!("not a time: {n}"))),
            other => Err(de::Error::custom(format!("expected a time, got {other}"))),
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        v: &Option<BeijingTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }
}

/// `Option<UnixMillis>` from a number, numeric text, `null` or `""`.
pub(crate) mod opt_millis {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<UnixMillis>, D::Error> {
        Ok(opt_int::deserialize(d)?.map(UnixMillis))
    }

    pub(crate) fn serialize<S: Serializer>(
        v: &Option<UnixMillis>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_i64(t.0),
            None => s.serialize_none(),
        }
    }
}

/// A `Vec<T>` where `null` means empty.
pub(crate) fn null_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Serializes a list as one comma-separated string (`goodsNos`, `tradeNo`).
pub(crate) fn comma_list<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(","))
}

/// A lazy stream of items, one page fetched at a time: `fetch(cursor)`
/// returns the page's items and the next cursor (`None` at the end).
pub(crate) fn paginate<T, C, F, Fut>(first: C, mut fetch: F) -> impl Stream<Item = Result<T>> + Send
where
    T: Send + 'static,
    C: Send + 'static,
    F: FnMut(C) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<C>)>> + Send + 'static,
{
    futures::stream::try_unfold(Some(first), move |state: Option<C>| {
        let fut = state.map(&mut fetch);
        async move {
            match fut {
                None => Ok::<_, crate::error::Error>(None),
                Some(fut) => {
                    let (items, next) = fut.await?;
                    Ok(Some((items, next)))
                }
            }
        }
    })
    .map_ok(|items: Vec<T>| futures::stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
    .boxed()
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
