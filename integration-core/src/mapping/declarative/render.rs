//! Evaluating a compiled mapping against one source record: the template
//! context ([`Root`]: the record's fields and the reserved variables), the
//! walk over the [`Node`]s, error messages, and template values into JSON.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error as JinjaError, ErrorKind, State};
use serde_json::{Map, Value};

use super::functions::invalid;
use super::{CAPTURE, Compiled, DeclarativeMapping, JValue, Node, ROOT};
use crate::mapping::{MapContext, MapError};

impl DeclarativeMapping {
    /// Maps a source record held in an `Arc`, so that templates see its
    /// fields without the whole record being converted (only the fields a
    /// template reads are).
    pub(super) fn map_shared(
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
}

/// The root of the template context: the source record's fields plus the
/// reserved variables.
#[derive(Debug)]
pub(super) struct Root {
    source: Arc<Value>,
    /// `_source`, converted for templates on first use.
    whole: OnceLock<JValue>,
    key: Option<String>,
    pub(super) ctx: MapContext,
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

pub(super) fn root(state: &State<'_, '_>) -> Result<Arc<Root>, JinjaError> {
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

pub(super) fn describe_error(e: &JinjaError) -> String {
    let mut message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    if let (Some(range), Some(source)) = (e.range(), e.template_source()) {
        if let Some(snippet) = source.get(range)
            && !snippet.trim().is_empty()
        {
            let _ = write!(message, " at `{}`", snippet.trim());
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

/// Converts a template value into JSON, strictly.
pub(super) fn to_json(value: &JValue) -> Result<Value, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    fn ctx() -> MapContext {
        MapContext::new(Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap())
    }

    fn map(doc: Value, source: Value) -> Result<Value, MapError> {
        DeclarativeMapping::from_value(doc)?.map_value(&source, &ctx())
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
}
