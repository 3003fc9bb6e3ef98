//! How OKKI's loosely typed fields are read: with the workspace's one set of
//! lenient helpers ([`integration_core::lenient`], re-exported here), plus
//! the few forms only OKKI sends: `1970-01-01 00:00:00` meaning "no time",
//! ids that come as one value, an array or comma-separated text, and PHP's
//! empty array `[]` where text is documented. Absent is `None` (or empty);
//! anything that cannot be read is an error, never a silent default.

use integration_core::types::{BeijingTime, Id};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

pub(crate) use integration_core::lenient::{decode, list, opt_decimal, opt_i64, opt_id};

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

/// `Option<BeijingTime>` from `null`, `""`, `0`, `1970-01-01 00:00:00`,
/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BeijingTime>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => parse_time(&s).map_err(de::Error::custom),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(None),
        other => integration_core::lenient::opt_beijing_time(other).map_err(de::Error::custom),
    }
}

/// Text from a string, number or boolean ([`integration_core::lenient::opt_text`]);
/// OKKI's PHP backend sends an empty array (`[]`, `{}`) for an empty value,
/// which is absent too.
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(a) if a.is_empty() => Ok(None),
        Value::Object(o) if o.is_empty() => Ok(None),
        other => integration_core::lenient::opt_text(other).map_err(de::Error::custom),
    }
}

/// `Vec<Id>` from an array, a single id, a comma-separated text, `""` or
/// `null`; blank entries are skipped.
pub(crate) fn id_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Id>, D::Error> {
    let id = |v: Value| integration_core::lenient::opt_id(v).map_err(de::Error::custom);
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| id(v).transpose())
            .collect(),
        other => Ok(id(other)?
            .map(|ids| {
                ids.as_str()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Id::new)
                    .collect()
            })
            .unwrap_or_default()),
    }
}

/// `Vec<String>` from an array of scalars, one text, `""` or `null`; blank
/// entries are skipped.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let text = |v: Value| integration_core::lenient::opt_text(v).map_err(de::Error::custom);
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| text(v).transpose())
            .collect(),
        other => Ok(text(other)?.into_iter().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_time")]
        t: Option<BeijingTime>,
        #[serde(default, deserialize_with = "opt_decimal")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "id_list")]
        ids: Vec<Id>,
        #[serde(default, deserialize_with = "opt_text")]
        s: Option<String>,
        #[serde(default, deserialize_with = "string_list")]
        tel: Vec<String>,
    }

    fn t(json: &str) -> Result<T, integration_core::lenient::DecodeError> {
        integration_core::lenient::decode_slice(json.as_bytes())
    }

    #[test]
    fn lenient_fields() {
        let v = t(
            r#"{"t":"1970-01-01 00:00:00","d":"0.0100","i":"12","ids":"55280038,55280039","s":[]}"#,
        )
        .unwrap();
        assert!(v.t.is_none() && v.s.is_none());
        assert_eq!(v.d.unwrap().to_string(), "0.0100");
        assert_eq!(v.i, Some(12));
        assert_eq!(v.ids, vec![Id::from("55280038"), Id::from("55280039")]);
        let v = t(r#"{"t":"2025-03-06 16:55:25","d":55566,"i":3.0,"ids":[1,"2",""],"s":12,"tel":["+86",""]}"#)
            .unwrap();
        assert_eq!(v.t.unwrap().to_string(), "2025-03-06 16:55:25");
        assert_eq!(v.d.unwrap().to_string(), "55566");
        assert_eq!(v.ids, vec![Id::from(1), Id::from(2)]);
        assert_eq!(
            (v.s.as_deref(), v.tel),
            (Some("12"), vec!["+86".to_owned()])
        );
        let v = t(r#"{"t":"","d":"","i":null,"ids":null,"s":"","tel":""}"#).unwrap();
        assert!(v.t.is_none() && v.d.is_none() && v.i.is_none() && v.ids.is_empty());
        assert!(v.s.is_none() && v.tel.is_empty());
        for (junk, field) in [
            (r#"{"t":"soon"}"#, "t"),
            (r#"{"t":17}"#, "t"),
            (r#"{"d":"12,5"}"#, "d"),
            (r#"{"i":"1.5"}"#, "i"),
            (r#"{"ids":[{"a":1}]}"#, "ids"),
            (r#"{"s":{"zh_CN":"x"}}"#, "s"),
            (r#"{"tel":[["+86"]]}"#, "tel"),
        ] {
            assert_eq!(t(junk).unwrap_err().path, field, "{junk}");
        }
    }
}
