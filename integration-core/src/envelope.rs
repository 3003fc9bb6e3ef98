//! The skeleton every connector's answer decoder shares: the body must be
//! a JSON object (an empty, HTML, truncated or non-object body is a decode
//! error with a short redacted excerpt), and the envelope's code and
//! message are read from the names the API sends them under. What is left
//! to a connector is only its own: which code means success, and how the
//! other codes classify.
//!
//! ```
//! use integration_core::envelope::Envelope;
//! use integration_core::RawResponse;
//! # use reqwest::{StatusCode, header::HeaderMap};
//!
//! let raw = RawResponse::new("x", "list", StatusCode::OK, HeaderMap::new(),
//!     r#"{"code": "999", "msg": "客户名称已存在"}"#);
//! let mut envelope = Envelope::read(&raw, &["code"], &["message", "msg"])?;
//! assert!(envelope.code.as_ref().is_some_and(|c| *c == 999));
//! assert_eq!(envelope.message, "客户名称已存在");
//! assert!(envelope.take("data").is_null());
//!
//! let html = RawResponse::new("x", "list", StatusCode::OK, HeaderMap::new(), "<html>502</html>");
//! assert!(Envelope::read(&html, &["code"], &["msg"]).is_err());
//! # Ok::<(), integration_core::Error>(())
//! ```

use serde_json::{Map, Value};

use crate::error::{Code, Error};
use crate::transport::RawResponse;

/// An answer's envelope: its code and message, and every member as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The code, when one of the code names held text or a number.
    pub code: Option<Code>,
    /// The message (empty when absent); a non-text message is kept as its
    /// JSON text.
    pub message: String,
    /// Every member of the answer object.
    pub members: Map<String, Value>,
}

impl Envelope {
    /// Reads `raw`'s body as an envelope whose code is sent under the first
    /// present of `code_names` and its message under `message_names`.
    pub fn read(
        raw: &RawResponse,
        code_names: &[&str],
        message_names: &[&str],
    ) -> Result<Self, Error> {
        let members = json_object(raw)?;
        let first = |names: &[&str]| names.iter().find_map(|n| members.get(*n));
        let code = first(code_names).and_then(Code::from_json);
        let message = match first(message_names) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        Ok(Self {
            code,
            message,
            members,
        })
    }

    /// Takes a member out (`Null` when absent), e.g. the `data` of a success.
    pub fn take(&mut self, name: &str) -> Value {
        self.members.remove(name).unwrap_or(Value::Null)
    }
}

/// The body of `raw` as a JSON object: a UTF-8 byte-order mark is skipped;
/// an empty, non-JSON (an HTML page, a truncated body) or non-object body is
/// a decode error with a short redacted excerpt.
pub fn json_object(raw: &RawResponse) -> Result<Map<String, Value>, Error> {
    let body: &[u8] = raw.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw.body);
    if body.trim_ascii().is_empty() {
        return Err(raw.decode_error("empty answer"));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err(raw.decode_error("the answer is not a JSON object")),
        Err(e) => Err(raw.decode_error(format!("invalid JSON ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(body: &'static str) -> RawResponse {
        RawResponse::new("x", "api", StatusCode::OK, HeaderMap::new(), body)
    }

    #[test]
    fn hostile_bodies_are_decode_errors_with_an_excerpt() {
        for (body, what) in [
            ("", "empty answer"),
            (" \n", "empty answer"),
            ("<html><body>502 Bad Gateway</body></html>", "invalid JSON"),
            (r#"{"code": 0, "data": ["#, "invalid JSON"),
            ("[1, 2]", "not a JSON object"),
            ("\"ok\"", "not a JSON object"),
        ] {
            let e = json_object(&raw(body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{body:?}");
            assert!(e.message().contains(what), "{body:?}: {e}");
        }
        let e = json_object(&raw("<html>502 Bad Gateway</html>")).unwrap_err();
        assert!(
            e.to_string().contains("502 Bad Gateway"),
            "the excerpt: {e}"
        );
    }

    #[test]
    fn code_and_message_are_read_from_their_names() {
        let e = Envelope::read(
            &raw("\u{feff}{\"errcode\": 0, \"description\": null, \"data\": {\"a\": 1}}"),
            &["code", "errcode"],
            &["msg", "description"],
        )
        .unwrap();
        assert!(e.code.as_ref().is_some_and(|c| *c == 0));
        assert_eq!(e.message, "");
        let e = Envelope::read(
            &raw(r#"{"code": {"x": 1}, "msg": ["a"]}"#),
            &["code"],
            &["msg"],
        )
        .unwrap();
        assert_eq!((e.code, e.message.as_str()), (None, r#"["a"]"#));
        let mut e =
            Envelope::read(&raw(r#"{"code": "200", "data": [1]}"#), &["code"], &["msg"]).unwrap();
        assert_eq!(e.take("data"), serde_json::json!([1]));
        assert!(e.take("data").is_null());
    }
}
