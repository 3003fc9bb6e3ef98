//! Declarative mappings: a JSON or TOML document from target field to
//! template, in the style of QEasy's integration schemes, evaluated with
//! [minijinja](https://docs.rs/minijinja).
//!
//! # The document
//!
//! The document is an object whose keys are the target's fields. Each value
//! is mapped recursively:
//!
//! | value in the document | result |
//! |---|---|
//! | object | an object, every value mapped recursively |
//! | array | an array, every element mapped recursively |
//! | number, bool, null | copied as is (its JSON type is kept) |
//! | string without `{{`, `{%` or `{#` | copied as is (a constant string) |
//! | string that is exactly one `{{ expr }}` | the expression's *native* value: a number stays a number, an object stays an object |
//! | any other string with template syntax | rendered to a string (`"No. {{ id }}"`) |
//!
//! Every template is compiled once, when the document is loaded; a syntax
//! error fails the load with a [`MapError`] naming the target field path
//! (`FCreateOrgId.FNumber`, `items[2].qty`) and the template.
//!
//! Undefined values are strict: a template that uses a field the record does
//! not have fails with an error naming the target field, the template and the
//! missing variable, instead of silently producing an empty value. Use the
//! `default` filter (`{{ remark | default("") }}`) or the `is defined` test
//! where a field may be absent. A sole expression whose value is `none`
//! (JSON `null`, e.g. a field that is present but null) yields `null`. A
//! typed record (mapped through [`Mapper::map`] or in a pipeline) leaves
//! its `None` fields out, so they are missing, not `null`.
//! Strictness also covers truthiness (`{{ "A" if vip else "B" }}` fails when
//! `vip` is missing) and attributes of a missing object: where `receiver`
//! itself may be absent write `{{ (receiver | default({})).city | default("") }}`
//! or test with `receiver is defined`. `default(x)` replaces only undefined
//! values; `default(x, true)` also replaces `none`, `""` and other falsy ones.
//!
//! # Variables
//!
//! - every top-level field of the source record: `{{ buyerNick }}`,
//!   `{{ receiver.city }}`, `{{ items[0].qty }}`;
//! - `_key`: the source record's key (when mapped through [`Mapper`] or
//!   [`DeclarativeMapping::map_value_with_key`]);
//! - `_source`: the whole source record (also reaches a field named like a
//!   reserved variable: `{{ _source.const }}`);
//! - `const`: the constants of the [`MapContext`]: `{{ const.org_number }}`.
//!
//! `_key`, `_source` and `const` take precedence over source fields of the
//! same name.
//!
//! # Functions and filters
//!
//! Besides minijinja's builtins (`default`, `replace`, `upper`, `lower`,
//! `trim`, `int`, `float`, `string`, `join`, `length`, `tojson`, …):
//!
//! **Time** (always from the context's clock, [`MapContext::now`], never the
//! wall clock, so every record of a run sees the same instant):
//! - `now(format="rfc3339", offset="+00:00")`: the current time formatted
//!   (see *formats* below), e.g. `{{ now("%Y-%m-%d %H:%M:%S", "+08:00") }}`.
//! - `unix_seconds(offset_seconds=0)`: the current unix time in seconds plus
//!   an offset, as an integer.
//! - `unix_millis(offset_seconds=0)`: the current unix time in milliseconds
//!   plus an offset given **in seconds**, as an integer. QEasy's
//!   `REPLACE(unix_timestamp(current_timestamp(3))-72000,'.','')` ("now minus
//!   72000 s, in ms") is `{{ unix_millis(-72000) }}`; as a string,
//!   `{{ unix_millis(-72000) | string }}`.
//! - `format_date(value, format="rfc3339", offset="+00:00", naive_offset=offset)`,
//!   also as a filter `{{ created | format_date("%Y-%m-%d", "+08:00") }}`:
//!   reads `value` and formats it in `offset`. Accepted values: RFC 3339
//!   (`2024-05-01T10:00:00+08:00`), `yyyy-MM-dd HH:mm:ss[.fff][±hh:mm]`,
//!   `yyyy-MM-ddTHH:mm:ss`, `yyyy/MM/dd HH:mm:ss`, `yyyy-MM-dd HH:mm`,
//!   `yyyy-MM-dd`, and unix timestamps as numbers or digit strings (seconds
//!   when below 10^11 in absolute value, milliseconds otherwise). Values
//!   without an offset are read in `naive_offset`, which defaults to the
//!   output `offset` (so reformatting a local time keeps its wall-clock).
//!
//! *Formats*: `"rfc3339"`, `"unix"` (integer seconds), `"unix_ms"` (integer
//! milliseconds), a chrono/strftime pattern (`"%Y-%m-%d %H:%M:%S"`), or a
//! Java-style pattern without `%` (`"yyyy-MM-dd HH:mm:ss.SSS"`; tokens `yyyy`
//! `MM` `dd` `HH` `mm` `ss` `SSS`, text in single quotes is literal).
//! *Offsets*: `"+08:00"`, `"+0800"`, `"+08"`, `"-05:30"`, `"Z"`, `"UTC"`.
//!
//! **Decimal arithmetic** (exact, over [`rust_decimal`]; `0.1 + 0.2 == 0.3`),
//! each a function and a filter whose first argument is the piped value:
//! - `dec(x)`: `x` as a number (`dec("12.50")` → `12.5`);
//! - `dec_add(a, b, ...)`, `dec_mul(a, b, ...)`, `dec_sub(a, b)`;
//! - `dec_div(a, b, places=none)`: the quotient, rounded to `places` when
//!   given (division by zero is an error);
//! - `dec_round(x, places)`: rounded half away from zero (四舍五入:
//!   `2.345` → `2.35`, `-2.5` → `-3`), not banker's rounding;
//! - `dec_fmt(x, places)`: rounded the same way, as **text** keeping exactly
//!   `places` decimals (`dec_fmt(2.5, 2)` → `"2.50"`): use it where money
//!   must show two decimals;
//! - `dec_sum(items, attribute=none)`: the sum of a list, or of one attribute
//!   of each element (`dec_sum(lines, "amount")`).
//!
//! Arguments may be numbers (a float is read through its shortest text, so
//! `0.1` is exactly `0.1`) or numeric strings (`"12.50"`, `" 3 "`, `"1e3"`);
//! anything else, including undefined and none, is an error. Results are
//! ordinary template numbers, so they compare, print and combine like any
//! number and become JSON numbers: an integer when whole, else the float
//! that reads back as exactly the decimal result. A result that no float
//! holds exactly (`dec_div(1, 3)`, or more than about 15 significant digits)
//! is an error instead of a silently rounded value: give `dec_div` its
//! decimal places. Plain `+ - * /` stay minijinja's float arithmetic.
//!
//! **Lookups**: `lookup(collection, key_or_filter, field)` finds one entry of
//! another collection through [`MapContext::lookup`]:
//! - `key_or_filter` is the entry's source key (a string or number), or a
//!   one-entry map `{"cid": buyerCid}` meaning "the entry whose source data
//!   field `cid` equals `buyerCid`" ([`LookupFilter::Field`](super::LookupFilter::Field));
//! - `field` is a field of the entry's source data (top level, or a dotted
//!   path such as `"receiver.city"` when no top-level field has that name),
//!   or `"_target_id"` (the target's id for the entry), `"_key"` (its source
//!   key) or `"_status"` (`written`, `skipped`, `failed`);
//! - when nothing is found (or the entry has no such field, or no target id)
//!   the result is undefined, so `| default("...")` supplies a fallback;
//!   without a default the mapping fails naming the field.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use integration_core::mapping::MapContext;
//! use integration_core::mapping::declarative::DeclarativeMapping;
//! use serde_json::json;
//!
//! let mapping = DeclarativeMapping::from_json_str(
//!     r#"{
//!         "FName": "{{ buyerNick }}",
//!         "FCreateOrgId": { "FNumber": "100" },
//!         "IsAutoSubmitAndAudit": true,
//!         "FAmount": "{{ dec_add(price, fee) }}",
//!         "FAmountText": "{{ dec_fmt(dec_add(price, fee), 2) }}",
//!         "FDate": "{{ created | format_date('%Y-%m-%d %H:%M:%S', '+08:00') }}",
//!         "startTime": "{{ unix_millis(-72000) }}"
//!     }"#,
//! )?;
//! let ctx = MapContext::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap());
//! let source = json!({
//!     "buyerNick": "Alice",
//!     "price": "0.1",
//!     "fee": 0.2,
//!     "created": "2024-04-30T18:30:00Z"
//! });
//! let target = mapping.map_value(&source, &ctx)?;
//! assert_eq!(
//!     target,
//!     json!({
//!         "FName": "Alice",
//!         "FCreateOrgId": { "FNumber": "100" },
//!         "IsAutoSubmitAndAudit": true,
//!         "FAmount": 0.3,
//!         "FAmountText": "0.30",
//!         "FDate": "2024-05-01 02:30:00",
//!         "startTime": 1714449600000_i64
//!     })
//! );
//! # Ok::<(), integration_core::MapError>(())
//! ```

mod dates;
mod decimals;
mod functions;
mod load;
mod render;

pub use functions::TEMPLATE_FUEL;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use minijinja::Environment;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{MapContext, MapError, Mapper};
use crate::source::SourceRecord;
use functions::new_environment;
use load::{Builder, join_key, json_type, toml_datetimes_to_strings};

type JValue = minijinja::Value;

/// The variable a sole-expression template assigns its value to.
const CAPTURE: &str = "__declarative_value";
/// The variable through which functions reach the [`MapContext`]; not an
/// identifier, so templates cannot name it.
const ROOT: &str = "$mapping_context";

/// A mapping from target fields to templates, loaded from a JSON or TOML
/// document and compiled once. See the [module docs](self) for the template
/// language.
///
/// Implements [`Mapper`] for any serializable source and deserializable
/// target; it never skips a record.
#[derive(Clone)]
pub struct DeclarativeMapping {
    document: Value,
    root: Node,
    env: Environment<'static>,
}

#[derive(Debug, Clone)]
enum Node {
    Constant(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Template(Compiled),
}

#[derive(Debug, Clone)]
struct Compiled {
    /// The target field path, also the template's name in the environment.
    path: String,
    /// The template as written in the document.
    source: String,
    /// Whether the template is one `{{ expr }}` yielding a native value.
    sole: bool,
    /// Variables the template reads (dotted paths), for error hints.
    variables: Vec<String>,
}

impl fmt::Debug for DeclarativeMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeclarativeMapping")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

impl DeclarativeMapping {
    /// Loads a mapping from a JSON document (an object).
    pub fn from_json_str(json: &str) -> Result<Self, MapError> {
        let document: Value = serde_json::from_str(json)
            .map_err(|e| MapError::new(format!("the mapping document is not valid JSON: {e}")))?;
        Self::from_value(document)
    }

    /// Loads a mapping from a TOML document. TOML date-times become strings
    /// in their RFC 3339 form.
    pub fn from_toml_str(toml_text: &str) -> Result<Self, MapError> {
        let document: Value = toml::from_str(toml_text)
            .map_err(|e| MapError::new(format!("the mapping document is not valid TOML: {e}")))?;
        Self::from_value(toml_datetimes_to_strings(document))
    }

    /// Loads a mapping from a parsed document, which must be an object.
    pub fn from_value(document: Value) -> Result<Self, MapError> {
        let Value::Object(fields) = &document else {
            return Err(MapError::new(format!(
                "the mapping document must be an object of target fields, not {}",
                json_type(&document)
            )));
        };
        let mut env = new_environment();
        let mut builder = Builder {
            env: &mut env,
            names: BTreeSet::new(),
        };
        let mut nodes = Vec::with_capacity(fields.len());
        for (name, value) in fields {
            let path = join_key("", name);
            nodes.push((name.clone(), builder.node(&path, value)?));
        }
        let mut mapping = Self {
            document: Value::Null,
            root: Node::Object(nodes),
            env,
        };
        mapping.collect_variables();
        mapping.document = document;
        Ok(mapping)
    }

    /// The document the mapping was loaded from.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Maps one source record (without a key: `_key` is undefined).
    pub fn map_value(&self, source: &Value, ctx: &MapContext) -> Result<Value, MapError> {
        self.map_value_with_key(None, source, ctx)
    }

    /// Maps one source record whose key is available to templates as `_key`.
    pub fn map_value_with_key(
        &self,
        key: Option<&str>,
        source: &Value,
        ctx: &MapContext,
    ) -> Result<Value, MapError> {
        self.map_shared(key, Arc::new(source.clone()), ctx)
    }
}

impl Serialize for DeclarativeMapping {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.document.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeclarativeMapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let document = Value::deserialize(deserializer)?;
        Self::from_value(toml_datetimes_to_strings(document)).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for DeclarativeMapping {
    type Err = MapError;

    /// Parses a JSON document, or a TOML one when it is not JSON.
    fn from_str(text: &str) -> Result<Self, MapError> {
        if text.trim_start().starts_with('{') {
            Self::from_json_str(text)
        } else {
            Self::from_toml_str(text)
        }
    }
}

impl<S, T> Mapper<S, T> for DeclarativeMapping
where
    S: Serialize,
    T: DeserializeOwned,
{
    fn map(&self, record: &SourceRecord<S>, ctx: &MapContext) -> Result<Option<T>, MapError> {
        let source = super::record_json(&record.data).map_err(|e| {
            MapError::new(format!(
                "the source record `{}` cannot be serialized: {e}",
                record.key
            ))
        })?;
        self.map_json(record, &Arc::new(source), ctx)
    }

    fn map_json(
        &self,
        record: &SourceRecord<S>,
        json: &Arc<Value>,
        ctx: &MapContext,
    ) -> Result<Option<T>, MapError> {
        let target = self.map_shared(Some(&record.key), Arc::clone(json), ctx)?;
        serde_json::from_value(target).map(Some).map_err(|e| {
            // Rare: render again to find the field that does not fit.
            let field = self
                .map_shared(Some(&record.key), Arc::clone(json), ctx)
                .ok()
                .and_then(|target| serde_path_to_error::deserialize::<_, T>(target).err())
                .map(|e| e.path().to_string());
            let error = MapError::new(format!(
                "the mapped record `{}` does not fit the target type `{}`: {e}",
                record.key,
                std::any::type_name::<T>(),
            ));
            match field {
                Some(field) => error.for_field(field),
                None => error,
            }
        })
    }
}
