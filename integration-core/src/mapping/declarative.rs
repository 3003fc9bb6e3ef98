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
//! (JSON `null`, e.g. a field that is present but null) yields `null`.
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
//!   field `cid` equals `buyerCid`" ([`LookupFilter::Field`]);
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

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone, Utc};
use minijinja::value::{Enumerator, Object, ObjectRepr, Rest};
use minijinja::{
    AutoEscape, Environment, Error as JinjaError, ErrorKind, State, UndefinedBehavior,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{LookupFilter, MapContext, MapError, Mapper};
use crate::source::SourceRecord;

type JValue = minijinja::Value;

/// The variable a sole-expression template assigns its value to.
const CAPTURE: &str = "__declarative_value";
/// The variable through which functions reach the [`MapContext`]; not an
/// identifier, so templates cannot name it.
const ROOT: &str = "$mapping_context";
/// Largest absolute unix timestamp read as seconds; larger ones are milliseconds.
const SECONDS_LIMIT: i64 = 100_000_000_000;

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

    /// Maps a source record held in an `Arc`, so that templates see its
    /// fields without the whole record being converted (only the fields a
    /// template reads are).
    fn map_shared(
        &self,
        key: Option<&str>,
        source: Arc<Value>,
        ctx: &MapContext,
    ) -> Result<Value, MapError> {
        let root = Arc::new(Root {
            source,
            whole: OnceLock::new(),
            key: key.map(str::to_owned),
            ctx: ctx.clone(),
            constants: OnceLock::new(),
        });
        let root_value = JValue::from_dyn_object(root.clone());
        let eval = Eval {
            env: &self.env,
            root: &root_value,
            source: &root.source,
            ctx,
            key,
        };
        eval.node(&self.root)
    }

    fn collect_variables(&mut self) {
        fn walk(env: &Environment<'static>, node: &mut Node) {
            match node {
                Node::Constant(_) => {}
                Node::Object(fields) => fields.iter_mut().for_each(|(_, n)| walk(env, n)),
                Node::Array(items) => items.iter_mut().for_each(|n| walk(env, n)),
                Node::Template(c) => {
                    if let Ok(t) = env.get_template(&c.path) {
                        let mut vars: Vec<String> = t
                            .undeclared_variables(true)
                            .into_iter()
                            .filter(|v| {
                                let first = v.split('.').next().unwrap_or(v);
                                first != CAPTURE
                                    && first != ROOT
                                    && env.globals().all(|(g, _)| g != first)
                            })
                            .collect();
                        vars.sort();
                        c.variables = vars;
                    }
                }
            }
        }
        let env = self.env.clone();
        walk(&env, &mut self.root);
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
        let source = serde_json::to_value(&record.data).map_err(|e| {
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
            MapError::new(format!(
                "the mapped record `{}` does not fit the target type `{}`: {e}",
                record.key,
                std::any::type_name::<T>()
            ))
        })
    }
}

// ---------------------------------------------------------------------------
// Loading

struct Builder<'a> {
    env: &'a mut Environment<'static>,
    names: BTreeSet<String>,
}

impl Builder<'_> {
    fn node(&mut self, path: &str, value: &Value) -> Result<Node, MapError> {
        Ok(match value {
            Value::Object(fields) => {
                let mut nodes = Vec::with_capacity(fields.len());
                for (name, v) in fields {
                    nodes.push((name.clone(), self.node(&join_key(path, name), v)?));
                }
                Node::Object(nodes)
            }
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    nodes.push(self.node(&format!("{path}[{i}]"), v)?);
                }
                Node::Array(nodes)
            }
            Value::String(text) if is_template(text) => Node::Template(self.compile(path, text)?),
            other => Node::Constant(other.clone()),
        })
    }

    fn compile(&mut self, path: &str, text: &str) -> Result<Compiled, MapError> {
        // Template names must be unique; paths are, except for odd keys.
        let mut name = path.to_owned();
        let mut n = 1;
        while !self.names.insert(name.clone()) {
            n += 1;
            name = format!("{path}#{n}");
        }
        let load_error = |e: JinjaError| MapError {
            field: Some(path.to_owned()),
            template: Some(text.to_owned()),
            message: describe_error(&e),
        };
        self.env
            .add_template_owned(name.clone(), text.to_owned())
            .map_err(load_error)?;
        let mut sole = false;
        if let Some(expr) = sole_expression(text) {
            let wrapped = format!("{{% set {CAPTURE} = ({expr}) %}}");
            if self.env.add_template_owned(name.clone(), wrapped).is_ok() {
                sole = true;
            } else {
                // Not a single expression after all (e.g. `{{ a }}{{ b }}`):
                // keep the text template.
                self.env
                    .add_template_owned(name.clone(), text.to_owned())
                    .map_err(load_error)?;
            }
        }
        Ok(Compiled {
            path: name,
            source: text.to_owned(),
            sole,
            variables: Vec::new(),
        })
    }
}

fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The expression of a string that is exactly `{{ expr }}`, without the
/// whitespace-control markers.
fn sole_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    if inner.trim().is_empty() || inner.contains("%}") {
        return None;
    }
    Some(inner)
}

fn join_key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| !matches!(c, '.' | '[' | ']' | '"' | '#') && !c.is_whitespace());
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{}]", Value::String(key.to_owned())),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// TOML date-times deserialize into serde_json as a private one-key map;
/// turn them into their text.
fn toml_datetimes_to_strings(value: Value) -> Value {
    const KEY: &str = "$__toml_private_datetime";
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(s)) = map.get(KEY) {
                    return Value::String(s.clone());
                }
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, toml_datetimes_to_strings(v)))
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(toml_datetimes_to_strings).collect())
        }
        other => other,
    }
}

/// Instructions one template may execute: far more than any mapping needs,
/// few enough that a template looping without end (`{% for a in range(99999)
/// %}{% for b in range(99999) %}…`) fails with an error in well under a
/// second instead of hanging the run.
pub const TEMPLATE_FUEL: u64 = 1_000_000;

fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);

    env.add_function("now", fn_now);
    env.add_function(
        "unix_seconds",
        |state: &State<'_, '_>, offset: Option<JValue>| {
            let now = root(state)?.ctx.now();
            let offset = offset_seconds("unix_seconds", offset)?;
            now.timestamp()
                .checked_add(offset)
                .map(JValue::from)
                .ok_or_else(|| invalid("unix_seconds: the offset is out of range"))
        },
    );
    env.add_function(
        "unix_millis",
        |state: &State<'_, '_>, offset: Option<JValue>| {
            let now = root(state)?.ctx.now();
            let offset = offset_seconds("unix_millis", offset)?;
            offset
                .checked_mul(1000)
                .and_then(|ms| now.timestamp_millis().checked_add(ms))
                .map(JValue::from)
                .ok_or_else(|| invalid("unix_millis: the offset is out of range"))
        },
    );
    env.add_function("format_date", fn_format_date);
    env.add_filter("format_date", fn_format_date);

    env.add_function("dec", fn_dec);
    env.add_filter("dec", fn_dec);
    env.add_function("dec_add", fn_dec_add);
    env.add_filter("dec_add", fn_dec_add);
    env.add_function("dec_mul", fn_dec_mul);
    env.add_filter("dec_mul", fn_dec_mul);
    env.add_function("dec_sub", fn_dec_sub);
    env.add_filter("dec_sub", fn_dec_sub);
    env.add_function("dec_div", fn_dec_div);
    env.add_filter("dec_div", fn_dec_div);
    env.add_function("dec_round", fn_dec_round);
    env.add_filter("dec_round", fn_dec_round);
    env.add_function("dec_fmt", fn_dec_fmt);
    env.add_filter("dec_fmt", fn_dec_fmt);
    env.add_function("dec_sum", fn_dec_sum);
    env.add_filter("dec_sum", fn_dec_sum);

    env.add_function("lookup", fn_lookup);
    env
}

// ---------------------------------------------------------------------------
// Evaluation

/// The root of the template context: the source record's fields plus the
/// reserved variables.
#[derive(Debug)]
struct Root {
    source: Arc<Value>,
    /// `_source`, converted for templates on first use.
    whole: OnceLock<JValue>,
    key: Option<String>,
    ctx: MapContext,
    constants: OnceLock<JValue>,
}

impl Object for Root {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        match key.as_str()? {
            "_key" => self.key.as_deref().map(JValue::from),
            "_source" => Some(
                self.whole
                    .get_or_init(|| JValue::from_serialize(&*self.source))
                    .clone(),
            ),
            "const" => Some(
                self.constants
                    .get_or_init(|| JValue::from_serialize(self.ctx.constants()))
                    .clone(),
            ),
            ROOT => Some(JValue::from_dyn_object(self.clone())),
            name => self.source.get(name).map(JValue::from_serialize),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
}

fn root(state: &State<'_, '_>) -> Result<Arc<Root>, JinjaError> {
    state
        .lookup(ROOT)
        .and_then(|v| v.downcast_object::<Root>())
        .ok_or_else(|| invalid("the mapping context is not available"))
}

struct Eval<'a> {
    env: &'a Environment<'static>,
    root: &'a JValue,
    source: &'a Value,
    ctx: &'a MapContext,
    key: Option<&'a str>,
}

impl Eval<'_> {
    fn node(&self, node: &Node) -> Result<Value, MapError> {
        match node {
            Node::Constant(v) => Ok(v.clone()),
            Node::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, n) in fields {
                    out.insert(name.clone(), self.node(n)?);
                }
                Ok(Value::Object(out))
            }
            Node::Array(items) => items
                .iter()
                .map(|n| self.node(n))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Template(c) => self.template(c),
        }
    }

    fn template(&self, c: &Compiled) -> Result<Value, MapError> {
        let fail = |message: String| MapError {
            field: Some(field_name(&c.path)),
            template: Some(c.source.clone()),
            message,
        };
        let template = self.env.get_template(&c.path).map_err(|e| {
            fail(format!(
                "internal error: the compiled template is missing: {e}"
            ))
        })?;
        let jinja_fail = |e: JinjaError| {
            let mut message = describe_error(&e);
            if e.kind() == ErrorKind::UndefinedError {
                message.push_str(&self.undefined_hint(c));
            }
            fail(message)
        };
        if !c.sole {
            return template
                .render(self.root)
                .map(Value::String)
                .map_err(jinja_fail);
        }
        let captured = template.render_captured(self.root).map_err(jinja_fail)?;
        let value = captured
            .state()
            .lookup(CAPTURE)
            .unwrap_or(JValue::UNDEFINED);
        if value.is_undefined() {
            let hint = self.undefined_hint(c);
            let message = if hint.is_empty() {
                "the expression is undefined (a lookup found nothing, or a value is missing); \
                 add `| default(...)` where a value may be absent"
                    .to_owned()
            } else {
                format!("the expression is undefined{hint}")
            };
            return Err(fail(message));
        }
        to_json(&value).map_err(|e| fail(format!("the result cannot become JSON: {e}")))
    }

    /// Names the template's variables that the record does not have.
    fn undefined_hint(&self, c: &Compiled) -> String {
        let missing: Vec<&str> = c
            .variables
            .iter()
            .filter(|v| !self.has_variable(v))
            .map(String::as_str)
            .collect();
        // Report only the shortest missing paths (`a` rather than `a.b`).
        let missing: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|m| {
                !missing
                    .iter()
                    .any(|o| o != m && m.starts_with(&format!("{o}.")))
            })
            .collect();
        if missing.is_empty() {
            return String::new();
        }
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            " ({list} {} not in the record or constants; add `| default(...)` where a value may be absent)",
            if missing.len() == 1 { "is" } else { "are" }
        )
    }

    fn has_variable(&self, path: &str) -> bool {
        let mut parts = path.split('.');
        let Some(first) = parts.next() else {
            return true;
        };
        let mut current = match first {
            "_key" => return self.key.is_some(),
            "_source" => self.source,
            "const" => match parts.next() {
                None => return true,
                Some(name) => match self.ctx.constant(name) {
                    Some(v) => v,
                    None => return false,
                },
            },
            name => match self.source.get(name) {
                Some(v) => v,
                None => return false,
            },
        };
        for part in parts {
            match current {
                Value::Object(map) => match map.get(part) {
                    Some(v) => current = v,
                    None => return false,
                },
                // Arrays and scalars: methods or indexes we cannot judge.
                _ => return true,
            }
        }
        true
    }
}

fn field_name(template_name: &str) -> String {
    match template_name.rsplit_once('#') {
        Some((path, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            path.to_owned()
        }
        _ => template_name.to_owned(),
    }
}

fn describe_error(e: &JinjaError) -> String {
    let mut message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if let (Some(range), Some(source)) = (e.range(), e.template_source()) {
        if let Some(snippet) = source.get(range) {
            if !snippet.trim().is_empty() {
                let _ = write!(message, " at `{}`", snippet.trim());
            }
        }
    } else if let Some(line) = e.line() {
        let _ = write!(message, " on line {line}");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

fn invalid(message: impl Into<String>) -> JinjaError {
    JinjaError::new(ErrorKind::InvalidOperation, message.into())
}

/// Converts a template value into JSON, strictly.
fn to_json(value: &JValue) -> Result<Value, String> {
    use minijinja::value::ValueKind;
    match value.kind() {
        ValueKind::Undefined => Err("it contains an undefined value".to_owned()),
        ValueKind::None => Ok(Value::Null),
        ValueKind::Bool => Ok(Value::Bool(value.is_true())),
        ValueKind::Number => number_to_json(value),
        ValueKind::String => Ok(Value::String(value.as_str().unwrap_or_default().to_owned())),
        ValueKind::Bytes => Err("bytes have no JSON form".to_owned()),
        ValueKind::Seq | ValueKind::Iterable => value
            .try_iter()
            .map_err(|e| e.to_string())?
            .map(|v| to_json(&v))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        ValueKind::Map => {
            let mut out = Map::new();
            for key in value.try_iter().map_err(|e| e.to_string())? {
                let item = value.get_item(&key).map_err(|e| e.to_string())?;
                let name = match key.as_str() {
                    Some(s) => s.to_owned(),
                    None => key.to_string(),
                };
                out.insert(name, to_json(&item)?);
            }
            Ok(Value::Object(out))
        }
        _ => Err(format!("`{value}` has no JSON form")),
    }
}

fn number_to_json(value: &JValue) -> Result<Value, String> {
    if value.is_integer() {
        if let Ok(i) = i64::try_from(value.clone()) {
            return Ok(Value::from(i));
        }
        if let Ok(u) = u64::try_from(value.clone()) {
            return Ok(Value::from(u));
        }
        return Err(format!("the integer {value} does not fit a JSON number"));
    }
    let f = f64::try_from(value.clone()).map_err(|e| e.to_string())?;
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("{f} is not a finite number"))
}

// ---------------------------------------------------------------------------
// Time

fn fn_now(
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

fn fn_format_date(
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

fn offset_seconds(function: &str, offset: Option<JValue>) -> Result<i64, JinjaError> {
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

// ---------------------------------------------------------------------------
// Decimals

/// A decimal result as a template number: an integer when whole, else the
/// float that reads back as exactly this decimal; an error otherwise.
fn dec_value(function: &str, d: Decimal) -> Result<JValue, JinjaError> {
    if d.fract().is_zero() {
        if let Some(i) = d.to_i64() {
            return Ok(JValue::from(i));
        }
    }
    if let Some(f) = d.to_f64() {
        if f.is_finite() && Decimal::from_str(&f.to_string()).is_ok_and(|back| back == d) {
            return Ok(JValue::from(f));
        }
    }
    Err(invalid(format!(
        "{function}: the result {d} has more digits than a number keeps exactly; \
         give the decimal places (dec_div(a, b, places)) or round the inputs"
    )))
}

fn to_decimal(function: &str, value: &JValue) -> Result<Decimal, JinjaError> {
    if value.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            format!("{function}: an argument is undefined"),
        ));
    }
    if value.is_number() {
        if value.is_integer() {
            if let Ok(i) = i64::try_from(value.clone()) {
                return Ok(Decimal::from(i));
            }
            if let Ok(u) = u64::try_from(value.clone()) {
                return Ok(Decimal::from(u));
            }
            return Err(invalid(format!(
                "{function}: {value} is too large for a decimal"
            )));
        }
        let f = f64::try_from(value.clone()).map_err(|e| invalid(format!("{function}: {e}")))?;
        if !f.is_finite() {
            return Err(invalid(format!("{function}: {f} is not a finite number")));
        }
        // Through the shortest text form, so 0.1 is exactly 0.1.
        return Decimal::from_str(&f.to_string())
            .map_err(|_| invalid(format!("{function}: {f} is too large for a decimal")));
    }
    if let Some(text) = value.as_str() {
        let t = text.trim();
        let parsed = if t.contains(['e', 'E']) {
            Decimal::from_scientific(t)
        } else {
            Decimal::from_str(t)
        };
        return parsed.map_err(|_| invalid(format!("{function}: `{text}` is not a number")));
    }
    Err(invalid(format!(
        "{function}: expected a number, not {} `{value}`",
        value.kind()
    )))
}

fn overflow(function: &str) -> JinjaError {
    invalid(format!("{function}: the result overflows a decimal"))
}

fn fn_dec(value: JValue) -> Result<JValue, JinjaError> {
    dec_value("dec", to_decimal("dec", &value)?)
}

fn fn_dec_add(a: JValue, b: JValue, rest: Rest<JValue>) -> Result<JValue, JinjaError> {
    let mut sum = to_decimal("dec_add", &a)?;
    for v in std::iter::once(&b).chain(rest.iter()) {
        sum = sum
            .checked_add(to_decimal("dec_add", v)?)
            .ok_or_else(|| overflow("dec_add"))?;
    }
    dec_value("dec_add", sum)
}

fn fn_dec_mul(a: JValue, b: JValue, rest: Rest<JValue>) -> Result<JValue, JinjaError> {
    let mut product = to_decimal("dec_mul", &a)?;
    for v in std::iter::once(&b).chain(rest.iter()) {
        product = product
            .checked_mul(to_decimal("dec_mul", v)?)
            .ok_or_else(|| overflow("dec_mul"))?;
    }
    dec_value("dec_mul", product)
}

fn fn_dec_sub(a: JValue, b: JValue) -> Result<JValue, JinjaError> {
    let d = to_decimal("dec_sub", &a)?
        .checked_sub(to_decimal("dec_sub", &b)?)
        .ok_or_else(|| overflow("dec_sub"))?;
    dec_value("dec_sub", d)
}

fn fn_dec_div(a: JValue, b: JValue, places: Option<JValue>) -> Result<JValue, JinjaError> {
    let divisor = to_decimal("dec_div", &b)?;
    if divisor.is_zero() {
        return Err(invalid("dec_div: division by zero"));
    }
    let quotient = to_decimal("dec_div", &a)?
        .checked_div(divisor)
        .ok_or_else(|| overflow("dec_div"))?;
    let quotient = match places {
        Some(places) => round_half_up(quotient, decimal_places("dec_div", &places)?),
        None => quotient.normalize(),
    };
    dec_value("dec_div", quotient)
}

/// Decimal places from 0 to 28.
fn decimal_places(function: &str, places: &JValue) -> Result<u32, JinjaError> {
    let d = to_decimal(function, places)?;
    d.to_u32()
        .filter(|dp| d.fract().is_zero() && *dp <= 28)
        .ok_or_else(|| {
            invalid(format!(
                "{function}: the places must be a whole number from 0 to 28, not {d}"
            ))
        })
}

/// Rounds half away from zero (四舍五入) and sets the scale to `dp`.
fn round_half_up(d: Decimal, dp: u32) -> Decimal {
    let mut d = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    d.rescale(dp);
    d
}

fn fn_dec_round(value: JValue, places: JValue) -> Result<JValue, JinjaError> {
    let dp = decimal_places("dec_round", &places)?;
    dec_value(
        "dec_round",
        round_half_up(to_decimal("dec_round", &value)?, dp),
    )
}

fn fn_dec_fmt(value: JValue, places: JValue) -> Result<JValue, JinjaError> {
    let dp = decimal_places("dec_fmt", &places)?;
    Ok(JValue::from(
        round_half_up(to_decimal("dec_fmt", &value)?, dp).to_string(),
    ))
}

fn fn_dec_sum(items: JValue, attribute: Option<String>) -> Result<JValue, JinjaError> {
    if items.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            "dec_sum: the list is undefined",
        ));
    }
    let mut sum = Decimal::ZERO;
    for item in items
        .try_iter()
        .map_err(|e| invalid(format!("dec_sum: expected a list: {e}")))?
    {
        let v = match &attribute {
            Some(attr) => item.get_attr(attr)?,
            None => item,
        };
        sum = sum
            .checked_add(to_decimal("dec_sum", &v)?)
            .ok_or_else(|| overflow("dec_sum"))?;
    }
    dec_value("dec_sum", sum)
}

// ---------------------------------------------------------------------------
// Lookups

fn fn_lookup(
    state: &State<'_, '_>,
    collection: JValue,
    filter: JValue,
    field: JValue,
) -> Result<JValue, JinjaError> {
    let root = root(state)?;
    let collection = lookup_text("the collection", &collection)?;
    let field = lookup_text("the field", &field)?;
    if filter.is_undefined() {
        return Err(JinjaError::new(
            ErrorKind::UndefinedError,
            format!("lookup in `{collection}`: the key is undefined"),
        ));
    }
    let found = if let Some(key) = filter.as_str() {
        root.ctx.lookup(&collection, LookupFilter::Key(key))
    } else if filter.is_number() {
        let key = filter.to_string();
        root.ctx.lookup(&collection, LookupFilter::Key(&key))
    } else if filter.kind() == minijinja::value::ValueKind::Map {
        let keys: Vec<JValue> = filter
            .try_iter()
            .map_err(|e| invalid(format!("lookup in `{collection}`: {e}")))?
            .collect();
        let [name] = keys.as_slice() else {
            return Err(invalid(format!(
                "lookup in `{collection}`: a field filter must have exactly one entry, like {{\"cid\": buyerCid}}, not {} entries",
                keys.len()
            )));
        };
        let name_text = name
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| name.to_string());
        let value = filter.get_item(name)?;
        if value.is_undefined() {
            return Err(JinjaError::new(
                ErrorKind::UndefinedError,
                format!(
                    "lookup in `{collection}`: the value of the filter field `{name_text}` is undefined"
                ),
            ));
        }
        let value = to_json(&value)
            .map_err(|e| invalid(format!("lookup in `{collection}`: the filter value: {e}")))?;
        root.ctx.lookup(
            &collection,
            LookupFilter::Field {
                field: &name_text,
                value: &value,
            },
        )
    } else {
        return Err(invalid(format!(
            "lookup in `{collection}`: the second argument must be a key or a one-entry map like {{\"cid\": buyerCid}}, not {} `{filter}`",
            filter.kind()
        )));
    };
    let entry = found.map_err(|e| invalid(format!("lookup in `{collection}` failed: {e}")))?;
    let Some(entry) = entry else {
        return Ok(JValue::UNDEFINED);
    };
    Ok(match field.as_str() {
        "_target_id" => entry
            .target_id
            .map(JValue::from)
            .unwrap_or(JValue::UNDEFINED),
        "_key" => JValue::from(entry.key),
        "_status" => JValue::from(entry.status.as_str()),
        name => data_field(&entry.data, name).map_or(JValue::UNDEFINED, JValue::from_serialize),
    })
}

fn lookup_text(what: &str, value: &JValue) -> Result<String, JinjaError> {
    match value.as_str() {
        Some(s) => Ok(s.to_owned()),
        None if value.is_undefined() => Err(JinjaError::new(
            ErrorKind::UndefinedError,
            format!("lookup: {what} is undefined"),
        )),
        None => Err(invalid(format!(
            "lookup: {what} must be a string, not {} `{value}`",
            value.kind()
        ))),
    }
}

fn data_field<'a>(data: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(v) = data.get(name) {
        return Some(v);
    }
    if !name.contains('.') {
        return None;
    }
    name.split('.').try_fold(data, |v, part| match v {
        Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
        other => other.get(part),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> MapContext {
        MapContext::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap())
    }

    fn map(doc: Value, source: Value) -> Result<Value, MapError> {
        DeclarativeMapping::from_value(doc)?.map_value(&source, &ctx())
    }

    #[test]
    fn sole_expression_detection() {
        assert_eq!(sole_expression("{{ a }}"), Some(" a "));
        assert_eq!(sole_expression("{{- a -}}"), Some(" a "));
        assert_eq!(sole_expression("x {{ a }}"), None);
        assert_eq!(sole_expression("{{ }}"), None);
        assert_eq!(sole_expression("{{ a %} }}"), None);
    }

    #[test]
    fn paths_name_nested_fields_and_indexes() {
        assert_eq!(join_key("", "FName"), "FName");
        assert_eq!(join_key("FCreateOrgId", "FNumber"), "FCreateOrgId.FNumber");
        assert_eq!(join_key("", "a.b"), "[\"a.b\"]");
        assert_eq!(join_key("x", ""), "x[\"\"]");
    }

    #[test]
    fn sole_expression_keeps_native_types() {
        let out = map(
            json!({"n": "{{ n }}", "o": "{{ o }}", "s": "{{ s }}", "b": "{{ b }}", "z": "{{ z }}", "t": "n={{ n }}"}),
            json!({"n": 7, "o": {"a": [1, 2]}, "s": "x", "b": false, "z": null}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"n": 7, "o": {"a": [1, 2]}, "s": "x", "b": false, "z": null, "t": "n=7"})
        );
    }

    #[test]
    fn object_literal_with_closing_braces_is_native() {
        let out = map(json!({"o": "{{ {\"a\": {\"b\": n}} }}"}), json!({"n": 1})).unwrap();
        assert_eq!(out, json!({"o": {"a": {"b": 1}}}));
    }

    #[test]
    fn two_expressions_are_text() {
        let out = map(json!({"t": "{{ a }}{{ b }}"}), json!({"a": 1, "b": 2})).unwrap();
        assert_eq!(out, json!({"t": "12"}));
    }

    #[test]
    fn decimal_results_are_exact_numbers() {
        assert_eq!(
            dec_value("t", Decimal::new(1200, 2)).unwrap(),
            JValue::from(12)
        );
        assert_eq!(
            dec_value("t", Decimal::new(1250, 2)).unwrap(),
            JValue::from(12.5)
        );
        assert_eq!(
            dec_value("t", Decimal::new(3, 1)).unwrap(),
            JValue::from(0.3)
        );
        assert!(
            dec_value(
                "t",
                Decimal::from_str("0.3333333333333333333333333333").unwrap()
            )
            .is_err()
        );
        assert_eq!(round_half_up(Decimal::new(2345, 3), 2).to_string(), "2.35");
        assert_eq!(round_half_up(Decimal::new(25, 1), 2).to_string(), "2.50");
    }

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
