//! The functions and filters templates get besides minijinja's builtins
//! (registered in [`new_environment`]): the time ones live in
//! [`dates`](super::dates), the decimal ones in [`decimals`](super::decimals),
//! `lookup` here.

use minijinja::{
    AutoEscape, Environment, Error as JinjaError, ErrorKind, State, UndefinedBehavior,
};
use serde_json::Value;

use super::JValue;
use super::dates::{fn_format_date, fn_now, offset_seconds};
use super::decimals::{
    fn_dec, fn_dec_add, fn_dec_div, fn_dec_fmt, fn_dec_mul, fn_dec_round, fn_dec_sub, fn_dec_sum,
};
use super::render::{root, to_json};
use crate::mapping::LookupFilter;

/// Instructions one template may execute: far more than any mapping needs,
/// few enough that a template looping without end (`{% for a in range(99999)
/// %}{% for b in range(99999) %}…`) fails with an error in well under a
/// second instead of hanging the run.
pub const TEMPLATE_FUEL: u64 = 1_000_000;

pub(super) fn new_environment() -> Environment<'static> {
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

pub(super) fn invalid(message: impl Into<String>) -> JinjaError {
    JinjaError::new(ErrorKind::InvalidOperation, message.into())
}

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
    let entry = found.map_err(|e| invalid(e.to_string()))?;
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
