//! Value types shared by the YonBIP resources.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A multilingual text as YonBIP sends and expects it:
/// `{"zh_CN": "上海华东机电有限公司", "en_US": "…"}`.
///
/// Also accepts a plain string on input (read as `zh_CN`), since some
/// answers flatten it; always serializes as the object form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct MultiLang(pub BTreeMap<String, String>);

/// The simplified-Chinese locale key.
pub const ZH_CN: &str = "zh_CN";
/// The English locale key.
pub const EN_US: &str = "en_US";
/// The traditional-Chinese locale key.
pub const ZH_TW: &str = "zh_TW";

impl MultiLang {
    /// A text in simplified Chinese only.
    pub fn zh_cn(text: impl Into<String>) -> Self {
        let mut map = BTreeMap::new();
        map.insert(ZH_CN.to_owned(), text.into());
        Self(map)
    }

    /// Adds (or replaces) the text of one locale.
    pub fn with(mut self, locale: &str, text: impl Into<String>) -> Self {
        self.0.insert(locale.to_owned(), text.into());
        self
    }

    /// The text of one locale.
    pub fn get(&self, locale: &str) -> Option<&str> {
        self.0.get(locale).map(String::as_str)
    }

    /// The simplified-Chinese text, else any non-empty text.
    pub fn text(&self) -> Option<&str> {
        self.get(ZH_CN)
            .filter(|s| !s.is_empty())
            .or_else(|| self.0.values().map(String::as_str).find(|s| !s.is_empty()))
    }
}

impl From<&str> for MultiLang {
    fn from(text: &str) -> Self {
        Self::zh_cn(text)
    }
}

impl From<String> for MultiLang {
    fn from(text: String) -> Self {
        Self::zh_cn(text)
    }
}

impl fmt::Display for MultiLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for MultiLang {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MultiLang;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a multilingual object {\"zh_CN\": …} or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MultiLang, E> {
                Ok(MultiLang::zh_cn(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MultiLang, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, Option<serde_json::Value>>()? {
                    match v {
                        Some(serde_json::Value::String(s)) => {
                            out.insert(k, s);
                        }
                        None | Some(serde_json::Value::Null) => {}
                        Some(other) => {
                            out.insert(k, other.to_string());
                        }
                    }
                }
                Ok(MultiLang(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A count, page number or lifetime: a non-negative integer sent as a
/// number or text; absent is `None`, anything else an error (the other
/// loose values are read with [`integration_core::lenient`]).
pub(crate) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    integration_core::lenient::opt_i64(d)?
        .map(|n| {
            u64::try_from(n).map_err(|_| de::Error::custom(format!("expected a count, found {n}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_non_negative_integers() {
        #[derive(Deserialize)]
        struct C {
            #[serde(default, deserialize_with = "opt_count")]
            n: Option<u64>,
        }
        let c: C = serde_json::from_str(r#"{"n": "7"}"#).unwrap();
        assert_eq!(c.n, Some(7));
        let c: C = serde_json::from_str(r#"{"n": ""}"#).unwrap();
        assert_eq!(c.n, None);
        for junk in [r#"{"n": -1}"#, r#"{"n": "many"}"#, r#"{"n": 1.5}"#] {
            assert!(serde_json::from_str::<C>(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn multilang_accepts_object_and_string() {
        let m: MultiLang =
            serde_json::from_str(r#"{"zh_CN":"杭州","en_US":"Hangzhou","zh_TW":null}"#).unwrap();
        assert_eq!(m.get(EN_US), Some("Hangzhou"));
        assert_eq!(m.text(), Some("杭州"));
        let s: MultiLang = serde_json::from_str(r#""杭州""#).unwrap();
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"zh_CN": "杭州"})
        );
    }
}
