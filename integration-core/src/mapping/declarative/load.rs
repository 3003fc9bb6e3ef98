//! Loading a document: compiling its templates into the tree of [`Node`]s
//! a [`DeclarativeMapping`] evaluates, naming each by its target field path,
//! and the TOML date-time fix-up.

use std::collections::BTreeSet;

use minijinja::{Environment, Error as JinjaError};
use serde_json::Value;

use super::render::describe_error;
use super::{CAPTURE, Compiled, DeclarativeMapping, Node, ROOT};
use crate::mapping::MapError;

pub(super) struct Builder<'a> {
    pub(super) env: &'a mut Environment<'static>,
    pub(super) names: BTreeSet<String>,
}

impl Builder<'_> {
    pub(super) fn node(&mut self, path: &str, value: &Value) -> Result<Node, MapError> {
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

pub(super) fn join_key(parent: &str, key: &str) -> String {
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

pub(super) fn json_type(value: &Value) -> &'static str {
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
pub(super) fn toml_datetimes_to_strings(value: Value) -> Value {
    const KEY: &str = "$__toml_private_datetime";
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(s)) = map.get(KEY)
            {
                return Value::String(s.clone());
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

impl DeclarativeMapping {
    pub(super) fn collect_variables(&mut self) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
