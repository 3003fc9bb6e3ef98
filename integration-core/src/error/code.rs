//! A vendor's error [`Code`], as text whatever JSON type it came as.

use std::fmt;

/// A vendor's error code as it sent it (`"999"`, `11`, `"310036"`): kept as
/// text, comparable with numbers and text, so every connector's errors carry
/// codes the same way whatever JSON type the vendor uses.
///
/// ```
/// use integration_core::error::Code;
/// let code = Code::from(11);
/// assert!(code == 11 && code == "11");
/// assert_eq!(Code::from(" 999 ").as_i64(), Some(999));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    /// The code as sent, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The code as a number, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    /// A code from a JSON value: text or a number; anything else (null,
    /// empty text, objects) is no code.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(Self::from(s.as_str())),
            serde_json::Value::Number(n) => Some(Self(n.to_string())),
            _ => None,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Code {
    fn from(s: &str) -> Self {
        Self(s.trim().to_owned())
    }
}

impl From<String> for Code {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<i64> for Code {
    fn from(n: i64) -> Self {
        Self(n.to_string())
    }
}

impl PartialEq<i64> for Code {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
