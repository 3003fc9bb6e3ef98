//! Typed field values: the API's per-field-type encodings and Rust values.
//!
//! Writes are "flat" (a select is its option text, a user is a userId, a
//! linked record is its numeric dataId, a date is unix seconds); reads may be
//! flat or "rich" (`{id, name}`, `{text, value, color}`, …). Readers here
//! accept both; [`TypedValue::to_write`] produces the flat form.
//!
//! The serde helpers this API needs beyond core's
//! [`integration_core::lenient`] (a decimal written back as a JSON number,
//! required integers, counts) live here too.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use integration_core::lenient;
use integration_core::types::{Id, UnixSeconds, beijing};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::form::{Field, FieldType};

/// A value that does not have the shape its field needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct ValueError {
    /// The field's attr (or a path such as `array_4[1].num_3`).
    pub attr: String,
    /// What is wrong.
    pub reason: String,
    /// `field {attr}: {reason}`, kept so the error's metadata can lend it.
    pub(crate) text: String,
}

impl ValueError {
    /// A new value error.
    pub fn new(attr: impl Into<String>, reason: impl Into<String>) -> Self {
        let (attr, reason) = (attr.into(), reason.into());
        let text = format!("field {attr}: {reason}");
        Self { attr, reason, text }
    }
}

type VResult<T> = std::result::Result<T, ValueError>;

/// A JSON number (or numeric text) as a [`Decimal`], exactly as written.
pub fn decimal_from_json(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// A [`Decimal`] as a JSON number: an integer when it has no fraction,
/// otherwise the shortest `f64` that prints back as the same decimal. A
/// decimal that `f64` cannot carry exactly (more than ~15 significant
/// digits) is an error rather than a silently rounded amount.
pub fn decimal_to_json(value: Decimal) -> Result<Number, String> {
    let normalized = value.normalize();
    if normalized.scale() == 0
        && let Ok(i) = i64::try_from(normalized.mantissa())
    {
        return Ok(Number::from(i));
    }
    let f = f64::try_from(normalized).map_err(|e| e.to_string())?;
    let back = Decimal::from_str(&f.to_string()).map_err(|e| e.to_string())?;
    if back != normalized {
        return Err(format!(
            "{value} cannot be sent as a JSON number without rounding"
        ));
    }
    Number::from_f64(f).ok_or_else(|| format!("{value} is not a finite number"))
}

/// serde helpers for `Option<Decimal>` sent as JSON numbers.
pub mod opt_decimal_number {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Serializes as a JSON number (see [`decimal_to_json`]).
    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(d) => decimal_to_json(*d)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }

    /// Deserializes a JSON number or numeric text exactly (core's
    /// [`lenient::opt_decimal`]: null and blank text are `None`).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        lenient::opt_decimal(d)
    }
}

/// An integer the answer must carry (an id or a code), as a number or
/// numeric text; core's [`lenient::opt_i64`] with "absent" an error.
pub(crate) fn integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    lenient::opt_i64(d)?.ok_or_else(|| serde::de::Error::custom("expected an integer, found none"))
}

/// A count (`totalCount`, `totalPage`): a whole number from 0, as a number
/// or numeric text; a negative one is junk, not "unknown".
pub(crate) fn opt_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient::opt_i64(d)?
        .map(|n| {
            u64::try_from(n)
                .map_err(|_| serde::de::Error::custom(format!("expected a count, found {n}")))
        })
        .transpose()
}

/// A date value: unix **seconds**, shown in Beijing time (UTC+08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct XbbDate(pub UnixSeconds);

impl XbbDate {
    /// From unix seconds.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Self(UnixSeconds(seconds))
    }
    /// The unix seconds sent on the wire.
    pub fn unix_seconds(self) -> i64 {
        (self.0).0
    }
    /// The time in Beijing.
    pub fn to_beijing(self) -> Option<DateTime<FixedOffset>> {
        self.0.to_utc().map(|t| t.with_timezone(&beijing()))
    }
    /// The calendar date in Beijing (what a `yyyy-MM-dd` field shows).
    pub fn beijing_date(self) -> Option<NaiveDate> {
        self.to_beijing().map(|t| t.date_naive())
    }
    /// Midnight of a Beijing calendar date.
    pub fn from_beijing_date(date: NaiveDate) -> Option<Self> {
        let midnight = date.and_hms_opt(0, 0, 0)?;
        let t = beijing().from_local_datetime(&midnight).single()?;
        Some(Self::from_unix_seconds(t.timestamp()))
    }
}

/// A chosen option: its text (what a write sends) and, when read rich, its
/// value and colour.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectValue {
    /// The option text.
    pub text: String,
    /// The option value, when the API sent it.
    #[serde(default)]
    pub value: Option<String>,
    /// Everything else (`color`, `checked`, …), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SelectValue {
    /// An option by its text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            value: None,
            extra: Map::new(),
        }
    }
}

/// A user: its userId (a string; DingTalk ids look numeric but are text)
/// and, when read rich, its name.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The userId.
    pub id: String,
    /// The name, when sent.
    #[serde(default)]
    pub name: Option<String>,
    /// Everything else (`avatar`, `property`, …), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserRef {
    /// A user by id.
    pub fn id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: None,
            extra: Map::new(),
        }
    }
}

/// A linked business record: its dataId and, when read rich, its name.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    /// The linked record's dataId.
    pub id: Id,
    /// Its display name, when sent.
    #[serde(default)]
    pub name: Option<String>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A geographic point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Longitude.
    pub lon: Decimal,
    /// Latitude.
    pub lat: Decimal,
}

/// An address (`address_*`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// 省.
    #[serde(default)]
    pub province: Option<String>,
    /// 市.
    #[serde(default)]
    pub city: Option<String>,
    /// 区.
    #[serde(default)]
    pub district: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Coordinates.
    #[serde(default)]
    pub location: Option<GeoPoint>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A phone number of a customer/contact phone sub-form row
/// (`text_1` type, `text_2` number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// The phone type (an option such as 手机 / 工作).
    pub kind: Option<SelectValue>,
    /// The number.
    pub number: String,
}

impl Phone {
    /// The phones of a phone sub-form value (`[{text_1, text_2}, …]`).
    pub fn from_rows(attr: &str, value: &Value) -> Result<Vec<Phone>, ValueError> {
        let rows = sub_rows(attr, value)?;
        rows.iter()
            .map(|row| {
                let number = match row.get("text_2") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => return Err(ValueError::new(attr, "a phone row has no number (text_2)")),
                };
                let kind = match row.get("text_1") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(select(attr, v)?),
                };
                Ok(Phone { kind, number })
            })
            .collect()
    }

    /// The phone as a sub-form row to write.
    pub fn to_row(&self) -> Map<String, Value> {
        let mut row = Map::new();
        if let Some(kind) = &self.kind {
            row.insert("text_1".into(), Value::String(kind.text.clone()));
        }
        row.insert("text_2".into(), Value::String(self.number.clone()));
        row
    }
}

/// An attachment (`file_*`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// File name.
    #[serde(default)]
    pub filename: Option<String>,
    /// The file's URL.
    #[serde(default)]
    pub attach_index: Option<String>,
    /// Extension.
    #[serde(default)]
    pub ext: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<i64>,
    /// Upload id.
    #[serde(default)]
    pub uid: Option<String>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How values of a field are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Text.
    Text,
    /// Number (Decimal).
    Number,
    /// Date (unix seconds).
    Date,
    /// One option.
    Select,
    /// Several options.
    MultiSelect,
    /// One user.
    User,
    /// Several users (owners, collaborators).
    Users,
    /// A linked business record.
    Link,
    /// Linked records (receivables, products).
    Links,
    /// Sub-form rows.
    SubForm,
    /// Address object.
    Address,
    /// Attachments.
    Attachments,
    /// A serial number (text).
    Serial,
    /// System flag (integer).
    Flag,
    /// No value (buttons).
    None,
    /// Unknown: kept as raw JSON.
    Raw,
}

impl ValueKind {
    /// The encoding of a field: from its type; for unknown codes from the
    /// `attr` prefix and whether it has options.
    pub fn of(field: &Field) -> Self {
        match field.field_type {
            FieldType::Text | FieldType::TextArea => ValueKind::Text,
            FieldType::Number => ValueKind::Number,
            FieldType::Select => ValueKind::Select,
            FieldType::Date | FieldType::CreatedTime | FieldType::UpdatedTime => ValueKind::Date,
            FieldType::Attachment => ValueKind::Attachments,
            FieldType::SystemFlag => ValueKind::Flag,
            FieldType::MultiSelect => ValueKind::MultiSelect,
            FieldType::LinkedProduct | FieldType::LinkedRecord => ValueKind::Link,
            FieldType::User | FieldType::Creator => {
                if field.is_multiple() {
                    ValueKind::Users
                } else {
                    ValueKind::User
                }
            }
            FieldType::Owner | FieldType::CoUsers => ValueKind::Users,
            FieldType::SerialNumber => ValueKind::Serial,
            FieldType::SubForm => ValueKind::SubForm,
            FieldType::LinkedReceivables => ValueKind::Links,
            FieldType::Button => ValueKind::None,
            FieldType::Unknown(_) => Self::from_attr(
                &field.attr,
                !field.options().is_empty(),
                field.is_multiple(),
            ),
        }
    }

    /// The encoding guessed from an `attr` prefix alone.
    pub fn from_attr(attr: &str, has_options: bool, multiple: bool) -> Self {
        let prefix = attr.split('_').next().unwrap_or(attr);
        match (prefix, has_options) {
            ("text", true) => ValueKind::Select,
            ("array", true) => ValueKind::MultiSelect,
            ("text", false) => ValueKind::Text,
            ("num", _) => ValueKind::Number,
            ("date", _) => ValueKind::Date,
            ("subForm", _) => ValueKind::SubForm,
            ("address" | "geo", _) => ValueKind::Address,
            ("file", _) => ValueKind::Attachments,
            ("serialNo", _) => ValueKind::Serial,
            ("ownerId" | "coUserId", _) => ValueKind::Users,
            ("creatorId", _) => ValueKind::User,
            ("addTime" | "updateTime", _) => ValueKind::Date,
            ("array", false) if multiple => ValueKind::Users,
            _ => ValueKind::Raw,
        }
    }
}

/// A field value as a Rust value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedValue {
    /// Text.
    Text(String),
    /// A number, exact.
    Number(Decimal),
    /// A date (unix seconds, Beijing display).
    Date(XbbDate),
    /// One option.
    Select(SelectValue),
    /// Several options.
    MultiSelect(Vec<SelectValue>),
    /// One user.
    User(UserRef),
    /// Several users.
    Users(Vec<UserRef>),
    /// A linked record.
    Link(LinkRef),
    /// Linked records.
    Links(Vec<LinkRef>),
    /// Sub-form rows (each keyed by sub-field attr).
    SubForm(Vec<Map<String, Value>>),
    /// An address.
    Address(Address),
    /// Attachments.
    Attachments(Vec<Attachment>),
    /// A system flag.
    Flag(i64),
    /// Anything this crate cannot type; kept as sent.
    Raw(Value),
}

impl TypedValue {
    /// Decodes a value (flat or rich) of `field`.
    pub fn decode(field: &Field, value: &Value) -> VResult<Self> {
        let attr = field.attr.as_str();
        Ok(match field.kind() {
            ValueKind::Text | ValueKind::Serial => TypedValue::Text(text(attr, value)?),
            ValueKind::Number => TypedValue::Number(number(attr, value)?),
            ValueKind::Date => TypedValue::Date(date(attr, value)?),
            ValueKind::Select => TypedValue::Select(select(attr, value)?),
            ValueKind::MultiSelect => TypedValue::MultiSelect(list(attr, value, select)?),
            ValueKind::User => TypedValue::User(user(attr, value)?),
            ValueKind::Users => TypedValue::Users(list(attr, value, user)?),
            ValueKind::Link => TypedValue::Link(link(attr, value)?),
            ValueKind::Links => TypedValue::Links(list(attr, value, link)?),
            ValueKind::SubForm => TypedValue::SubForm(sub_rows(attr, value)?),
            ValueKind::Address => TypedValue::Address(address(attr, value)?),
            ValueKind::Attachments => TypedValue::Attachments(list(attr, value, attachment)?),
            ValueKind::Flag => TypedValue::Flag(
                number(attr, value)?
                    .try_into()
                    .map_err(|_| ValueError::new(attr, "a flag must be an integer"))?,
            ),
            ValueKind::None | ValueKind::Raw => TypedValue::Raw(value.clone()),
        })
    }

    /// The flat encoding a write (`dataList`) sends.
    pub fn to_write(&self) -> VResult<Value> {
        Ok(match self {
            TypedValue::Text(s) => Value::String(s.clone()),
            TypedValue::Number(d) => {
                Value::Number(decimal_to_json(*d).map_err(|e| ValueError::new("number", e))?)
            }
            TypedValue::Date(d) => Value::from(d.unix_seconds()),
            TypedValue::Select(s) => Value::String(s.text.clone()),
            TypedValue::MultiSelect(v) => {
                Value::Array(v.iter().map(|s| Value::String(s.text.clone())).collect())
            }
            TypedValue::User(u) => Value::String(u.id.clone()),
            TypedValue::Users(v) => {
                Value::Array(v.iter().map(|u| Value::String(u.id.clone())).collect())
            }
            TypedValue::Link(l) => id_to_json(&l.id),
            TypedValue::Links(v) => Value::Array(v.iter().map(|l| id_to_json(&l.id)).collect()),
            TypedValue::SubForm(rows) => {
                Value::Array(rows.iter().cloned().map(Value::Object).collect())
            }
            TypedValue::Address(a) => {
                serde_json::to_value(a).map_err(|e| ValueError::new("address", e.to_string()))?
            }
            TypedValue::Attachments(v) => serde_json::to_value(v)
                .map_err(|e| ValueError::new("attachments", e.to_string()))?,
            TypedValue::Flag(n) => Value::from(*n),
            TypedValue::Raw(v) => v.clone(),
        })
    }
}

fn id_to_json(id: &Id) -> Value {
    id.as_i64()
        .map_or_else(|| Value::String(id.to_string()), Value::from)
}

/// Text of a text field (numbers are formatted).
pub fn text(attr: &str, value: &Value) -> VResult<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Object(m) => m
            .get("text")
            .or_else(|| m.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ValueError::new(attr, format!("expected text, got {}", short(value)))),
        _ => Err(ValueError::new(
            attr,
            format!("expected text, got {}", short(value)),
        )),
    }
}

/// A number field as an exact decimal (a JSON number or numeric text).
pub fn number(attr: &str, value: &Value) -> VResult<Decimal> {
    decimal_from_json(value)
        .ok_or_else(|| ValueError::new(attr, format!("expected a number, got {}", short(value))))
}

/// A date field: unix seconds (a number or numeric text). Values that look
/// like milliseconds (more than 11 digits) are rejected rather than guessed.
pub fn date(attr: &str, value: &Value) -> VResult<XbbDate> {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| ValueError::new(attr, format!("expected unix seconds, got {}", short(value))))?;
    if n.abs() >= 100_000_000_000 {
        return Err(ValueError::new(
            attr,
            format!("{n} looks like milliseconds; dates are unix seconds"),
        ));
    }
    Ok(XbbDate::from_unix_seconds(n))
}

/// One option: its text (flat) or `{text, value, …}` (rich).
pub fn select(attr: &str, value: &Value) -> VResult<SelectValue> {
    match value {
        Value::String(s) => Ok(SelectValue::text(s.clone())),
        Value::Object(_) => {
            let mut v: SelectValue = serde_json::from_value(value.clone()).map_err(|e| {
                ValueError::new(attr, format!("not an option ({e}): {}", short(value)))
            })?;
            if v.value.is_none()
                && let Some(Value::Number(n)) = v.extra.get("value")
            {
                v.value = Some(n.to_string());
            }
            Ok(v)
        }
        _ => Err(ValueError::new(
            attr,
            format!("expected an option, got {}", short(value)),
        )),
    }
}

/// One user: a userId (text or number) or `{id, name, …}`.
pub fn user(attr: &str, value: &Value) -> VResult<UserRef> {
    match value {
        Value::String(s) => Ok(UserRef::id(s.clone())),
        Value::Number(n) => Ok(UserRef::id(n.to_string())),
        Value::Object(m) => {
            let mut m = m.clone();
            let id = match m.remove("id").or_else(|| m.remove("userId")) {
                Some(Value::String(s)) => s,
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(ValueError::new(
                        attr,
                        format!("a user without id: {}", short(value)),
                    ));
                }
            };
            let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned));
            Ok(UserRef { id, name, extra: m })
        }
        _ => Err(ValueError::new(
            attr,
            format!("expected a user, got {}", short(value)),
        )),
    }
}

/// A linked record: a dataId (number or text), `{id, name}` or `{dataId, data}`.
pub fn link(attr: &str, value: &Value) -> VResult<LinkRef> {
    let bare = |id: Id| LinkRef {
        id,
        name: None,
        extra: Map::new(),
    };
    match value {
        Value::Number(_) | Value::String(_) => serde_json::from_value::<Id>(value.clone())
            .map(bare)
            .map_err(|_| ValueError::new(attr, format!("not a record id: {}", short(value)))),
        Value::Object(m) => {
            let mut m = m.clone();
            let id = m
                .remove("id")
                .or_else(|| m.remove("dataId"))
                .and_then(|v| serde_json::from_value::<Id>(v).ok())
                .ok_or_else(|| {
                    ValueError::new(attr, format!("a link without id: {}", short(value)))
                })?;
            let name = m.remove("name").and_then(|v| v.as_str().map(str::to_owned));
            Ok(LinkRef { id, name, extra: m })
        }
        _ => Err(ValueError::new(
            attr,
            format!("expected a record id, got {}", short(value)),
        )),
    }
}

/// Sub-form rows: an array of objects.
pub fn sub_rows(attr: &str, value: &Value) -> VResult<Vec<Map<String, Value>>> {
    let Value::Array(rows) = value else {
        return Err(ValueError::new(
            attr,
            format!("expected an array of rows, got {}", short(value)),
        ));
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Object(m) => Ok(m.clone()),
            other => Err(ValueError::new(
                format!("{attr}[{i}]"),
                format!("a row must be an object, got {}", short(other)),
            )),
        })
        .collect()
}

/// An address object (a bare string is read as the street address).
pub fn address(attr: &str, value: &Value) -> VResult<Address> {
    match value {
        Value::String(s) => Ok(Address {
            address: Some(s.clone()),
            ..Address::default()
        }),
        Value::Object(_) => serde_json::from_value(value.clone())
            .map_err(|e| ValueError::new(attr, format!("not an address ({e})"))),
        _ => Err(ValueError::new(
            attr,
            format!("expected an address, got {}", short(value)),
        )),
    }
}

/// One attachment: an object, or a bare URL (images).
pub fn attachment(attr: &str, value: &Value) -> VResult<Attachment> {
    match value {
        Value::String(url) => Ok(Attachment {
            filename: None,
            attach_index: Some(url.clone()),
            ext: None,
            size: None,
            uid: None,
            extra: Map::new(),
        }),
        Value::Object(_) => serde_json::from_value(value.clone())
            .map_err(|e| ValueError::new(attr, format!("not an attachment ({e})"))),
        _ => Err(ValueError::new(
            attr,
            format!("expected an attachment, got {}", short(value)),
        )),
    }
}

/// A list of values; a single value is read as a list of one.
fn list<T>(attr: &str, value: &Value, one: fn(&str, &Value) -> VResult<T>) -> VResult<Vec<T>> {
    match value {
        Value::Array(items) => items.iter().map(|v| one(attr, v)).collect(),
        Value::Null => Ok(Vec::new()),
        single => Ok(vec![one(attr, single)?]),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Typed readers over a record's `data` (or a sub-form row), by attr.
/// Each returns `Ok(None)` when the attr is absent or `null`.
pub trait DataExt {
    /// The raw value.
    fn raw(&self, attr: &str) -> Option<&Value>;

    /// Text.
    fn text(&self, attr: &str) -> VResult<Option<String>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| text(attr, v))
            .transpose()
    }
    /// An exact number.
    fn decimal(&self, attr: &str) -> VResult<Option<Decimal>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| number(attr, v))
            .transpose()
    }
    /// A date (unix seconds).
    fn date(&self, attr: &str) -> VResult<Option<XbbDate>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| date(attr, v))
            .transpose()
    }
    /// One option.
    fn select(&self, attr: &str) -> VResult<Option<SelectValue>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| select(attr, v))
            .transpose()
    }
    /// Several options.
    fn multi_select(&self, attr: &str) -> VResult<Vec<SelectValue>> {
        self.raw(attr)
            .map_or(Ok(Vec::new()), |v| list(attr, v, select))
    }
    /// One user.
    fn user(&self, attr: &str) -> VResult<Option<UserRef>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| user(attr, v))
            .transpose()
    }
    /// Several users (`ownerId`, `coUserId`).
    fn users(&self, attr: &str) -> VResult<Vec<UserRef>> {
        self.raw(attr)
            .map_or(Ok(Vec::new()), |v| list(attr, v, user))
    }
    /// A linked record.
    fn link(&self, attr: &str) -> VResult<Option<LinkRef>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| link(attr, v))
            .transpose()
    }
    /// Sub-form rows.
    fn sub_form(&self, attr: &str) -> VResult<Vec<Map<String, Value>>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map_or(Ok(Vec::new()), |v| sub_rows(attr, v))
    }
    /// An address.
    fn address(&self, attr: &str) -> VResult<Option<Address>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map(|v| address(attr, v))
            .transpose()
    }
    /// Phones of a phone sub-form.
    fn phones(&self, attr: &str) -> VResult<Vec<Phone>> {
        self.raw(attr)
            .filter(|v| !v.is_null())
            .map_or(Ok(Vec::new()), |v| Phone::from_rows(attr, v))
    }
    /// Attachments.
    fn attachments(&self, attr: &str) -> VResult<Vec<Attachment>> {
        self.raw(attr)
            .map_or(Ok(Vec::new()), |v| list(attr, v, attachment))
    }
}

impl DataExt for Map<String, Value> {
    fn raw(&self, attr: &str) -> Option<&Value> {
        self.get(attr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_are_exact_both_ways() {
        assert_eq!(
            decimal_from_json(&json!(1234.5)).unwrap().to_string(),
            "1234.5"
        );
        assert_eq!(
            decimal_from_json(&json!("88.00")).unwrap().to_string(),
            "88.00"
        );
        assert_eq!(
            decimal_from_json(&json!(9007199254740991u64))
                .unwrap()
                .to_string(),
            "9007199254740991"
        );
        assert_eq!(
            decimal_to_json(Decimal::from_str("1234.50").unwrap())
                .unwrap()
                .to_string(),
            "1234.5"
        );
        assert_eq!(
            decimal_to_json(Decimal::from_str("100.00").unwrap())
                .unwrap()
                .to_string(),
            "100"
        );
        assert!(decimal_to_json(Decimal::from_str("12345678901234.56789").unwrap()).is_err());
    }

    #[test]
    fn data_readers_accept_flat_and_rich() {
        let data: Map<String, Value> = serde_json::from_value(json!({
            "num_1": 128000.5, "date_1": 1767196800, "text_6": {"text": "执行中", "value": "2", "color": "#fff"},
            "ownerId": [{"id": "0123", "name": "张伟"}], "coUserId": ["u2"], "text_2": {"id": 88, "name": "杭州云栖科技"},
            "array_5": ["款到发货"], "address_1": {"province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路90号"},
            "subForm_1": [{"text_1": "手机", "text_2": "13800000000"}],
            "file_1": [{"filename": "合同.pdf", "attachIndex": "https://x/y.pdf", "ext": "pdf", "size": 12}]
        }))
        .unwrap();
        assert_eq!(
            data.decimal("num_1").unwrap().unwrap().to_string(),
            "128000.5"
        );
        let d = data.date("date_1").unwrap().unwrap();
        assert_eq!(d.beijing_date().unwrap().to_string(), "2026-01-01");
        assert_eq!(
            XbbDate::from_beijing_date(d.beijing_date().unwrap()),
            Some(d)
        );
        assert_eq!(
            data.select("text_6").unwrap().unwrap().value.as_deref(),
            Some("2")
        );
        assert_eq!(
            data.users("ownerId").unwrap()[0].name.as_deref(),
            Some("张伟")
        );
        assert_eq!(data.users("coUserId").unwrap()[0].id, "u2");
        assert_eq!(data.link("text_2").unwrap().unwrap().id, Id::from(88));
        assert_eq!(data.multi_select("array_5").unwrap()[0].text, "款到发货");
        assert_eq!(
            data.address("address_1").unwrap().unwrap().city.as_deref(),
            Some("杭州市")
        );
        assert_eq!(data.phones("subForm_1").unwrap()[0].number, "13800000000");
        assert_eq!(data.attachments("file_1").unwrap()[0].size, Some(12));
        assert!(data.decimal("missing").unwrap().is_none());
        assert!(data.date("text_6").is_err());
        let ms: Map<String, Value> =
            serde_json::from_value(json!({"date_1": 1767196800000i64})).unwrap();
        assert!(ms.date("date_1").is_err());
    }
}
