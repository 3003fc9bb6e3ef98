//! Secrets that never reach `Debug`, `Display`, logs or error messages.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// The text shown wherever a secret value would otherwise appear.
pub const REDACTED: &str = "***";

/// A password, app secret, token or session id.
///
/// `Debug` and `Display` print `***`; the value is only reachable through
/// [`Secret::expose`], so every place that uses it is explicit and greppable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value, for signing or sending it. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string (usually a missing setting).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Parameter and field names whose values are secrets in the supported APIs.
///
/// Matching is case-insensitive and ignores `-` and `_`, so `access_token`,
/// `accessToken` and `Access-Token` are all caught.
const SECRET_NAMES: &[&str] = &[
    "accesstoken",
    "apptoken",
    "appsecret",
    "clientsecret",
    "secret",
    "token",
    "sign",
    "signature",
    "password",
    "pwd",
    "sessionid",
    "kdservicesessionid",
    "aspnetsessionid",
    "refreshtoken",
    "xapisignature",
    "xkdsignature",
    "authorization",
    "cookie",
];

/// Whether a parameter, header or JSON field of this name carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-' && *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_NAMES.contains(&folded.as_str())
}

/// A URL with its password and the values of its secret query parameters
/// replaced by `***`.
///
/// Used for every URL that is logged or put into an error.
pub fn redact_url(url: &url::Url) -> String {
    let mut redacted = url.clone();
    if url.password().is_some() {
        // Cannot fail: a URL with a password has a host.
        let _ = redacted.set_password(Some(REDACTED));
    }
    if url.query().is_none() {
        return redacted.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_secret_name(&k) {
                REDACTED.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    redacted.query_pairs_mut().clear().extend_pairs(pairs);
    redacted.to_string()
}

/// Text (a response excerpt, a form body, a JSON body) with the values of
/// secret fields replaced by `***`.
///
/// Recognises `name=value` pairs (query strings, form bodies, cookies) and
/// `"name": "value"` / `"name": value` JSON members. It is a safety net for
/// excerpts of foreign bodies, not a parser: values are cut at the first
/// delimiter that ends them.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Find the next identifier-like run: a candidate name.
        if is_name_byte(bytes[i]) && (i == 0 || !is_name_byte(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
            let name = &text[start..i];
            out.push_str(name);
            if !is_secret_name(name) {
                continue;
            }
            // Optional closing quote of a JSON key, spaces, then `=` or `:`.
            let mut j = i;
            if j < bytes.len() && bytes[j] == b'"' {
                j += 1;
            }
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if j >= bytes.len() || (bytes[j] != b'=' && bytes[j] != b':') {
                continue;
            }
            j += 1;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            out.push_str(&text[i..j]);
            let quoted = j < bytes.len() && bytes[j] == b'"';
            if quoted {
                out.push('"');
                j += 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
            } else {
                while j < bytes.len()
                    && !matches!(
                        bytes[j],
                        b'&' | b';' | b',' | b'}' | b'"' | b' ' | b'\n' | b'\r'
                    )
                {
                    j += 1;
                }
            }
            out.push_str(REDACTED);
            i = j.min(bytes.len());
            continue;
        }
        let ch_len = utf8_len(bytes[i]);
        let end = (i + ch_len).min(bytes.len());
        out.push_str(&text[i..end]);
        i = end;
    }
    out
}

/// A JSON value with the values of secret members replaced by `***` (at
/// any depth) and its strings passed through [`redact_text`]: what a page
/// or a log may show of a stored record or payload.
pub fn redact_value(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, v)| {
                    let v = if is_secret_name(name) && !v.is_null() {
                        Value::String(REDACTED.to_owned())
                    } else {
                        redact_value(v)
                    };
                    (name.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_value).collect()),
        Value::String(text) => Value::String(redact_text(text)),
        other => other.clone(),
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// A short excerpt of a foreign body for an error message: secrets redacted,
/// at most `max_chars` characters, cut on a character boundary.
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let redacted = redact_text(&text);
    let mut cut: String = redacted.chars().take(max_chars).collect();
    if redacted.chars().nth(max_chars).is_some() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_hidden_in_debug_and_display() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn values_lose_their_secret_members_at_any_depth() {
        let record = serde_json::json!({
            "FName": "张三",
            "appSecret": "s3cr3t",
            "nested": [{"access_token": 42, "note": "url?sign=abc&x=1"}],
            "password": null,
        });
        let shown = redact_value(&record);
        assert_eq!(shown["FName"], "张三");
        assert_eq!(shown["appSecret"], REDACTED);
        assert_eq!(shown["nested"][0]["access_token"], REDACTED);
        assert_eq!(shown["nested"][0]["note"], "url?sign=***&x=1");
        assert!(shown["password"].is_null());
        assert!(!shown.to_string().contains("s3cr3t"));
    }

    #[test]
    fn names_are_folded() {
        for n in [
            "access_token",
            "accessToken",
            "Access-Token",
            "sign",
            "kdservice-sessionid",
            "appSecret",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["page", "timestamp", "signature_method_x", "designer"] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn url_secret_parameters_are_redacted() {
        let url = url::Url::parse("https://h/api?access_token=abc123&page=2&sign=DEAD").unwrap();
        let shown = redact_url(&url);
        assert!(
            !shown.contains("abc123") && !shown.contains("DEAD"),
            "{shown}"
        );
        assert!(shown.contains("page=2"));
    }

    #[test]
    fn text_redaction_covers_json_form_and_cookies() {
        let text = r#"{"access_token": "tok-1", "name":"张三", "password":"p w"} token=tok-2&x=1; kdservice-sessionid=sess-3; sign:abc"#;
        let shown = redact_text(text);
        for leaked in ["tok-1", "tok-2", "sess-3", "p w", "abc"] {
            assert!(!shown.contains(leaked), "{leaked} in {shown}");
        }
        assert!(shown.contains("张三") && shown.contains("x=1"), "{shown}");
    }

    #[test]
    fn excerpt_cuts_on_char_boundary() {
        let body = "销帮帮".repeat(100);
        let e = excerpt(body.as_bytes(), 5);
        assert_eq!(e, "销帮帮销帮…");
    }
}
