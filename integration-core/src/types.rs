//! Value types these APIs share: ids that arrive as strings or numbers, and
//! times whose zone and unit are explicit.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// UTC+08:00, the zone of every local time these APIs send or expect.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// A record id as the API sends it: a JSON string or a JSON integer, kept as
/// text so nothing is lost (ids beyond 2^53 stay exact).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Id(String);

impl Id {
    /// An id from text.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The id as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}
impl From<String> for Id {
    fn from(s: String) -> Self {
        Self(s)
    }
}
impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Self(n.to_string())
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                Ok(Id(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                // Some APIs send integral ids as 123.0; anything else is not an id.
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(Id(format!("{}", v as i64)))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// A point in time sent as unix **milliseconds** (a number or numeric text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

/// A point in time sent as unix **seconds** (a number or numeric text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UnixSeconds(pub i64);

macro_rules! unix_time {
    ($ty:ident, $to_utc:expr, $from_utc:expr) => {
        impl $ty {
            /// As a UTC time, when in range.
            pub fn to_utc(self) -> Option<DateTime<Utc>> {
                let f: fn(i64) -> Option<DateTime<Utc>> = $to_utc;
                f(self.0)
            }
            /// From a UTC time.
            pub fn from_utc(t: DateTime<Utc>) -> Self {
                let f: fn(DateTime<Utc>) -> i64 = $from_utc;
                Self(f(t))
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let n = integer_or_text(deserializer)?;
                Ok(Self(n))
            }
        }
    };
}

unix_time!(UnixMillis, DateTime::from_timestamp_millis, |t| t
    .timestamp_millis());
unix_time!(UnixSeconds, |s| DateTime::from_timestamp(s, 0), |t| t
    .timestamp());

fn integer_or_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or integer text")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
    deserializer.deserialize_any(V)
}

/// A local time in Beijing (UTC+08:00) sent as `yyyy-MM-dd HH:mm:ss` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeijingTime(pub DateTime<FixedOffset>);

/// The text format of [`BeijingTime`].
pub const BEIJING_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

impl BeijingTime {
    /// From any UTC time.
    pub fn from_utc(t: DateTime<Utc>) -> Self {
        Self(t.with_timezone(&beijing()))
    }
    /// As UTC.
    pub fn to_utc(self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }
    /// Parses `yyyy-MM-dd HH:mm:ss` (also `yyyy-MM-ddTHH:mm:ss` and a bare
    /// `yyyy-MM-dd`, as some APIs shorten it), read as Beijing time.
    pub fn parse(text: &str) -> Option<Self> {
        let naive = parse_local_time(text)?;
        beijing().from_local_datetime(&naive).single().map(Self)
    }
}

/// Parses a local time without a zone, in the forms these APIs send:
/// `yyyy-MM-dd HH:mm:ss[.fff]`, with `T` or `/` (`yyyy/MM/dd`), without
/// seconds, or a bare date (midnight). The one parser of local times: the
/// lenient values, [`BeijingTime`] and the declarative mapping's
/// `format_date` all read through it.
pub fn parse_local_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    .or_else(|| {
        ["%Y-%m-%d", "%Y/%m/%d"]
            .iter()
            .find_map(|f| chrono::NaiveDate::parse_from_str(text, f).ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
}

impl fmt::Display for BeijingTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.0.with_timezone(&beijing()).format(BEIJING_TIME_FORMAT)
        )
    }
}

impl Serialize for BeijingTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BeijingTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BeijingTime::parse(&text)
            .ok_or_else(|| de::Error::custom(format!("not a Beijing time: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_strings_and_numbers() {
        let ids: Vec<Id> = serde_json::from_str(r#"["A-1", 42, 9007199254740993, 7.0]"#).unwrap();
        assert_eq!(
            ids,
            vec![
                Id::from("A-1"),
                Id::from(42),
                Id::from("9007199254740993"),
                Id::from(7)
            ]
        );
        assert!(serde_json::from_str::<Id>("1.5").is_err());
        assert!(serde_json::from_str::<Id>("null").is_err());
    }

    #[test]
    fn unix_times_accept_text_and_convert() {
        let t: UnixMillis = serde_json::from_str(r#""1700000000123""#).unwrap();
        assert_eq!(t.to_utc().unwrap().timestamp_millis(), 1_700_000_000_123);
        let s: UnixSeconds = serde_json::from_str("1700000000").unwrap();
        assert_eq!(
            s.to_utc().unwrap().to_rfc3339(),
            "2023-11-14T22:13:20+00:00"
        );
    }

    #[test]
    fn beijing_time_round_trips_with_explicit_zone() {
        let t: BeijingTime = serde_json::from_str(r#""2026-01-02 08:00:00""#).unwrap();
        assert_eq!(t.to_utc().to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#""2026-01-02 08:00:00""#
        );
        assert!(BeijingTime::parse("yesterday").is_none());
    }
}
