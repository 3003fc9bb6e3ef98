//! Checking a record against its form before writing it: every problem at
//! once, each named by the field's display name.

use std::fmt;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::form::{Field, FormExplain};
use crate::value::{ValueKind, decimal_from_json};

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A required field is missing or empty.
    Missing,
    /// A select value that is not one of the options' texts.
    UnknownOption {
        /// The text sent.
        given: String,
        /// Set when `given` is an option's *value*: writes send the text.
        value_of: Option<String>,
    },
    /// A number outside the field's enforced limits.
    OutOfRange {
        /// The number sent.
        value: Decimal,
        /// The lowest allowed.
        min: Option<Decimal>,
        /// The highest allowed.
        max: Option<Decimal>,
    },
    /// A number with a fraction in an integer-only field.
    NotInteger {
        /// The number sent.
        value: Decimal,
    },
    /// More decimal places than the field's accuracy.
    TooPrecise {
        /// The number sent.
        value: Decimal,
        /// Decimal places allowed.
        accuracy: u32,
    },
    /// A value of the wrong JSON shape (e.g. a numeric string for a number,
    /// a single userId for `ownerId`, which must be an array).
    WrongShape {
        /// What the field needs.
        expected: String,
    },
    /// An attr the form does not have.
    UnknownField,
}

/// One problem, located by attr path and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path of attrs, e.g. `num_1` or `array_4[2].num_3`.
    pub path: String,
    /// Display names, e.g. `合同金额` or `关联产品 第3行 数量`.
    pub name: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            ProblemKind::Missing => write!(f, "{name}为必填字段 ({})", self.path),
            ProblemKind::UnknownOption { given, value_of } => {
                write!(f, "{name}: 选项不存在: {given:?}")?;
                if let Some(text) = value_of {
                    write!(
                        f,
                        " (that is the value of option {text:?}; send the option text)"
                    )?;
                }
                write!(f, " ({})", self.path)
            }
            ProblemKind::OutOfRange { value, min, max } => {
                let lo = min.map_or("-∞".to_owned(), |d| d.to_string());
                let hi = max.map_or("+∞".to_owned(), |d| d.to_string());
                write!(f, "{name}: {value} is outside [{lo}, {hi}] ({})", self.path)
            }
            ProblemKind::NotInteger { value } => {
                write!(f, "{name}: {value} is not an integer ({})", self.path)
            }
            ProblemKind::TooPrecise { value, accuracy } => {
                write!(
                    f,
                    "{name}: {value} has more than {accuracy} decimal places ({})",
                    self.path
                )
            }
            ProblemKind::WrongShape { expected } => {
                write!(f, "{name}: expected {expected} ({})", self.path)
            }
            ProblemKind::UnknownField => write!(f, "{name}: not a field of the form"),
        }
    }
}

/// Every problem of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    /// The problems, in form order.
    pub problems: Vec<Problem>,
    /// `N problem(s): a; b; …`, rendered once so the error's metadata can
    /// lend the whole list.
    pub(crate) text: String,
}

impl ValidationErrors {
    fn new(problems: Vec<Problem>) -> Self {
        let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let text = format!("{} problem(s): {}", problems.len(), texts.join("; "));
        Self { problems, text }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ValidationErrors {}

/// How strict [`FormExplain::validate_with`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Report attrs that are not fields of the form (default true: catches
    /// mapping typos).
    pub reject_unknown_fields: bool,
    /// Check required fields (default true). Off for partial edits, which
    /// only change the attrs they send.
    pub check_required: bool,
    /// Treat a serial-number field with a generation rule as filled by the
    /// system (default true).
    pub serial_numbers_are_generated: bool,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            reject_unknown_fields: true,
            check_required: true,
            serial_numbers_are_generated: true,
        }
    }
}

impl ValidationOptions {
    /// Options for an edit: only the sent attrs are checked.
    pub fn for_edit() -> Self {
        Self {
            check_required: false,
            ..Self::default()
        }
    }
}

impl FormExplain {
    /// Checks a record for an add with the default options.
    pub fn validate(&self, data: &Map<String, Value>) -> Result<(), ValidationErrors> {
        self.validate_with(data, &ValidationOptions::default())
    }

    /// Checks a record: missing required fields, unknown options, numbers
    /// outside limits, wrong shapes and sub-form rows, all reported at once.
    pub fn validate_with(
        &self,
        data: &Map<String, Value>,
        options: &ValidationOptions,
    ) -> Result<(), ValidationErrors> {
        let mut problems = Vec::new();
        check_fields(&self.explain_list, data, "", "", options, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors::new(problems))
        }
    }
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn check_fields(
    fields: &[Field],
    data: &Map<String, Value>,
    path_prefix: &str,
    name_prefix: &str,
    options: &ValidationOptions,
    problems: &mut Vec<Problem>,
) {
    for field in fields {
        let path = format!("{path_prefix}{}", field.attr);
        let name = format!("{name_prefix}{}", field.attr_name);
        let value = data.get(&field.attr);
        let mut push = |kind| {
            problems.push(Problem {
                path: path.clone(),
                name: name.clone(),
                kind,
            })
        };
        if is_empty(value) {
            let generated = field.is_system()
                || (options.serial_numbers_are_generated && field.serial_number.is_some())
                || field.kind() == ValueKind::None;
            if options.check_required && field.is_required() && !generated {
                push(ProblemKind::Missing);
            }
            continue;
        }
        let Some(value) = value else { continue };
        check_value(field, value, &path, &name, options, problems);
    }
    if options.reject_unknown_fields {
        for attr in data.keys() {
            if !fields.iter().any(|f| &f.attr == attr) {
                problems.push(Problem {
                    path: format!("{path_prefix}{attr}"),
                    name: format!("{name_prefix}{attr}"),
                    kind: ProblemKind::UnknownField,
                });
            }
        }
    }
}

fn check_value(
    field: &Field,
    value: &Value,
    path: &str,
    name: &str,
    options: &ValidationOptions,
    problems: &mut Vec<Problem>,
) {
    let mut push = |kind| {
        problems.push(Problem {
            path: path.to_owned(),
            name: name.to_owned(),
            kind,
        })
    };
    let shape = |expected: &str| ProblemKind::WrongShape {
        expected: expected.to_owned(),
    };
    match field.kind() {
        ValueKind::Number => {
            let Value::Number(_) = value else {
                push(shape("a JSON number"));
                return;
            };
            let Some(d) = decimal_from_json(value) else {
                push(shape("a JSON number"));
                return;
            };
            if let Some((min, max)) = field.enforced_limits()
                && (min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m))
            {
                push(ProblemKind::OutOfRange { value: d, min, max });
            }
            if field.is_integer_only() && !d.fract().is_zero() {
                push(ProblemKind::NotInteger { value: d });
            } else if let Some(accuracy) = field.accuracy
                && d.normalize().scale() > accuracy
            {
                push(ProblemKind::TooPrecise { value: d, accuracy });
            }
        }
        ValueKind::Date => {
            if value.as_i64().is_none_or(|n| n.abs() >= 100_000_000_000) {
                push(shape("unix seconds as a JSON integer"));
            }
        }
        ValueKind::Select => match value {
            Value::String(text) => check_option(field, text, &mut push),
            _ => push(shape("the option text as a string")),
        },
        ValueKind::MultiSelect => match value {
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(text) => check_option(field, text, &mut push),
                        _ => push(shape("an array of option texts")),
                    }
                }
            }
            _ => push(shape("an array of option texts")),
        },
        ValueKind::Users => {
            let ok = matches!(value, Value::Array(items) if items.iter().all(Value::is_string));
            if !ok {
                push(shape("an array of userId strings"));
            }
        }
        ValueKind::User => {
            if !value.is_string() {
                push(shape("a userId string"));
            }
        }
        ValueKind::Link => {
            if !(value.is_i64() || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok())) {
                push(shape("the linked record's numeric dataId"));
            }
        }
        ValueKind::Text | ValueKind::Serial => {
            if !value.is_string() {
                push(shape("a string"));
            }
        }
        ValueKind::Address => {
            if !value.is_object() {
                push(shape(
                    "an address object {province, city, district, address}",
                ));
            }
        }
        ValueKind::Links | ValueKind::Attachments => {
            if !value.is_array() {
                push(shape("an array"));
            }
        }
        ValueKind::SubForm => {
            let Value::Array(rows) = value else {
                push(shape("an array of row objects"));
                return;
            };
            let row_options = ValidationOptions {
                serial_numbers_are_generated: options.serial_numbers_are_generated,
                reject_unknown_fields: options.reject_unknown_fields,
                // Each row sent is a whole row.
                check_required: true,
            };
            for (i, row) in rows.iter().enumerate() {
                let row_path = format!("{path}[{i}].");
                let row_name = format!("{name} 第{}行 ", i + 1);
                match row {
                    Value::Object(row) => check_fields(
                        field.sub_fields(),
                        row,
                        &row_path,
                        &row_name,
                        &row_options,
                        problems,
                    ),
                    _ => problems.push(Problem {
                        path: format!("{path}[{i}]"),
                        name: format!("{name} 第{}行", i + 1),
                        kind: shape("a row object"),
                    }),
                }
            }
        }
        ValueKind::Flag | ValueKind::None | ValueKind::Raw => {}
    }
}

fn check_option(field: &Field, text: &str, push: &mut impl FnMut(ProblemKind)) {
    if field.option_by_text(text).is_some() || field.options().iter().any(|o| o.is_other()) {
        return;
    }
    push(ProblemKind::UnknownOption {
        given: text.to_owned(),
        value_of: field.option_by_value(text).map(|o| o.text.clone()),
    });
}
