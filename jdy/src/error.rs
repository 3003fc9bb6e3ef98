//! The crate's error type and the decoding of both API versions' envelopes.

use integration_core::envelope::Envelope;
use integration_core::error::{Code, Failure};
use integration_core::{ErrorKind, RawResponse};
use serde_json::Value;

/// Error codes the fact sheet documents (or that the crate relies on).
pub mod codes {
    /// Success.
    pub const OK: i64 = 0;
    /// `授权密钥校验失败`: the `app_signature` of `kingdee_auth_token` was
    /// rejected, usually because the account book's `appSecret` rotated.
    /// The client fetches the authorisation again and retries once.
    pub const APP_KEY_CHECK_FAILED: i64 = 1_030_002_006;
    /// `系统错误`: a server-side failure (the docs say to file a ticket).
    pub const SYSTEM_ERROR: i64 = 2_000_002_000;
}

/// The system name used in errors and tracing spans.
pub const SYSTEM: &str = "jdy";

/// A failed jdy call. The variants are the same as in every connector of
/// this workspace (`Api`, `Auth`, `AuthExpired`, `Throttled` with the
/// vendor's [`Failure`], `Config`, `Core`); the metadata (`code()`,
/// `message()`, `kind()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta).
/// jdy's answers also keep their HTTP status (often 519 on V1), which goes
/// on into the core error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// jdy refused the call or the record (a business error: validation,
    /// not found, system error, ...): its `errcode` (V2, V1 token) or
    /// `code` (V1 business) and its message (`description_cn`,
    /// `description` or `message`).
    #[error("jdy API error in {0}")]
    Api(Failure),
    /// Credentials or permission refused (bad signature, secret or
    /// password, app key check failed, no authorisation); every failure of
    /// the token endpoints is one. No retry helps.
    #[error("jdy authentication failed in {0}")]
    Auth(Failure),
    /// The `app-token` or access token expired or is invalid; the client
    /// fetches a new one and repeats the call once before surfacing this.
    #[error("jdy token or session expired in {0}")]
    AuthExpired(Failure),
    /// Too many requests (HTTP 429 or a message saying so); retried by the
    /// transport. jdy sends no retry-after hint.
    #[error("jdy rate limited in {0}")]
    Throttled(Failure),
    /// Invalid configuration or arguments; nothing was sent.
    #[error("jdy: {0}")]
    Config(String),
    /// A transport, HTTP, decoding or timeout failure (boxed: the core
    /// error is large).
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

integration_core::connector_error!(Error(SYSTEM) { Api, Auth, AuthExpired, Throttled });

impl Error {
    /// Whether this is jdy's "app key check failed" code (rotated app secret).
    pub fn is_app_key_check_failed(&self) -> bool {
        self.code()
            .is_some_and(|c| Code::from(c) == codes::APP_KEY_CHECK_FAILED)
    }

    /// An answer with jdy's code and message, as the variant [`classify`]
    /// says.
    pub(crate) fn answer(
        api: &str,
        code: impl ToString,
        message: impl Into<String>,
        http_status: Option<u16>,
    ) -> Self {
        let failure = Failure::new(api, message)
            .with_code(code.to_string())
            .with_http_status(http_status);
        match classify(
            failure.code_str().unwrap_or(""),
            &failure.message,
            http_status,
        ) {
            ErrorKind::Auth => Error::Auth(failure),
            ErrorKind::AuthExpired => Error::AuthExpired(failure),
            ErrorKind::RateLimited => Error::Throttled(failure),
            _ => Error::Api(failure),
        }
    }

    /// The same error, classified as a credential rejection (used for the
    /// answers of the token endpoints, whose every failure is one).
    pub(crate) fn into_auth(self) -> Self {
        match self {
            Error::Api(f) | Error::AuthExpired(f) => Error::Auth(f),
            other => other,
        }
    }
}

/// Classifies an API error code and message.
///
/// Only two codes are documented (see [`codes`]); jdy's codes for an
/// expired `app-token`/`access_token`, a bad signature, a stale timestamp
/// and throttling were not found, so those are recognised by HTTP status
/// (401, 429) and by the words of the message (see the crate's Assumptions).
pub fn classify(code: &str, message: &str, http_status: Option<u16>) -> ErrorKind {
    if code == codes::APP_KEY_CHECK_FAILED.to_string() {
        return ErrorKind::Auth;
    }
    let lower = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if http_status == Some(429) || integration_core::error::mentions_throttling(message) {
        return ErrorKind::RateLimited;
    }
    if has(&["token"]) && has(&["过期", "失效", "无效", "不存在", "expired", "invalid"]) {
        return ErrorKind::AuthExpired;
    }
    if http_status == Some(401) {
        return ErrorKind::AuthExpired;
    }
    if has(&[
        "签名",
        "signature",
        "密钥",
        "时间戳",
        "timestamp",
        "clientid",
        "client_id",
        "密码",
        "password",
        "未授权",
        "unauthori",
    ]) {
        return ErrorKind::Auth;
    }
    ErrorKind::Business
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_text(obj: &serde_json::Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| obj.get(*k).and_then(text))
}

/// jdy's message: `description_cn`, followed by the English `description`,
/// `message` or `msg` when that differs (empty texts do not count).
fn message_of(obj: &serde_json::Map<String, Value>) -> String {
    let cn = first_text(obj, &["description_cn"]);
    let en = first_text(obj, &["description", "message", "msg"]);
    match (cn, en) {
        (Some(cn), Some(en)) if cn != en => format!("{cn} ({en})"),
        (Some(m), _) | (None, Some(m)) => m,
        (None, None) => "no message".to_owned(),
    }
}

/// Reads an answer as an envelope whose code is the first of `code_names`
/// (its message is [`message_of`]); a body that is no JSON object is the
/// HTTP error when the status is one.
fn read(raw: &RawResponse, code_names: &[&str]) -> Result<Envelope, Error> {
    Envelope::read(raw, code_names, &[]).map_err(|e| raw.http_error().unwrap_or(e).into())
}

/// The HTTP error when the status is one, else a decode error saying `what`.
fn http_or_decode(raw: &RawResponse, what: &str) -> Error {
    raw.http_error()
        .unwrap_or_else(|| raw.decode_error(what))
        .into()
}

/// jdy's error for an answer with `code`, with its message ([`message_of`]).
fn answer(raw: &RawResponse, code: impl ToString, envelope: &Envelope) -> Error {
    Error::answer(
        raw.api(),
        code,
        message_of(&envelope.members),
        Some(raw.status.as_u16()),
    )
}

/// Decodes an `{errcode, description, data}` envelope (every V2 call and
/// the V1 token endpoint) into its `data`.
pub(crate) fn decode_errcode_envelope(raw: &RawResponse) -> Result<Value, Error> {
    let mut envelope = read(raw, &["errcode", "code"])?;
    let code = envelope.code.as_ref().and_then(Code::as_i64);
    let code = match envelope.members.get("errcode") {
        Some(v) => code.ok_or_else(|| {
            Error::from(raw.decode_error(format!("errcode is not an integer: {v}")))
        })?,
        // `push_app_authorize` has been seen answering `code: 200`.
        None => match code {
            Some(0 | 200) if raw.status.is_success() => codes::OK,
            Some(code) => return Err(answer(raw, code, &envelope)),
            None => return Err(http_or_decode(raw, "the answer has no errcode")),
        },
    };
    if code != codes::OK {
        return Err(answer(raw, code, &envelope));
    }
    if let Some(http) = raw.http_error() {
        return Err(http.into());
    }
    Ok(envelope.take("data"))
}

/// Decodes a V1 business envelope `{success, data, code, message,
/// description_cn}` (also HTTP 519 with `{code, description_cn}`) into its
/// `data`.
pub(crate) fn decode_v1_envelope(raw: &RawResponse) -> Result<Value, Error> {
    let mut envelope = read(raw, &["code", "errcode"])?;
    let api_error = |envelope: &Envelope| {
        let code = envelope.code.as_ref().map_or("unknown", Code::as_str);
        answer(raw, code, envelope)
    };
    let members = &envelope.members;
    match members.get("success").and_then(Value::as_bool) {
        Some(true) if raw.status.is_success() => Ok(envelope.take("data")),
        Some(_) => Err(api_error(&envelope)),
        None if members.contains_key("errcode") => decode_errcode_envelope(raw),
        None if members.contains_key("code") || members.contains_key("description_cn") => {
            Err(api_error(&envelope))
        }
        None => Err(http_or_decode(
            raw,
            "the answer has neither success nor errcode",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::Retry;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            "jdy",
            "/x",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn v2_envelopes() {
        let ok = decode_errcode_envelope(&raw(
            200,
            r#"{"errcode":0,"description":"success","data":{"a":1}}"#,
        ))
        .unwrap();
        assert_eq!(ok["a"], 1);
        let ok = decode_errcode_envelope(&raw(200, r#"{"errcode":"0","data":null}"#)).unwrap();
        assert!(ok.is_null());
        let e = decode_errcode_envelope(&raw(
            200,
            r#"{"errcode":1030002006,"description":"授权密钥校验失败","data":null}"#,
        ))
        .unwrap_err();
        assert!(e.is_app_key_check_failed());
        assert_eq!(e.kind(), ErrorKind::Auth);
        let e = decode_errcode_envelope(&raw(
            200,
            r#"{"errcode":"2000002000","description":"系统错误"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.code()),
            (ErrorKind::Business, Some("2000002000"))
        );
        let e = decode_errcode_envelope(&raw(519, "API Not Found")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HttpStatus);
        let e = decode_errcode_envelope(&raw(200, "<html>502</html>")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let e = decode_errcode_envelope(&raw(200, "")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let e = decode_errcode_envelope(&raw(
            200,
            r#"{"errcode":7,"description":"app-token已过期"}"#,
        ))
        .unwrap_err();
        assert!(e.is_auth_expired());
        let e =
            decode_errcode_envelope(&raw(429, r#"{"errcode":429,"description":"请求过于频繁"}"#))
                .unwrap_err();
        assert!(e.is_retryable());
    }

    #[test]
    fn v1_envelopes() {
        let ok = decode_v1_envelope(&raw(200, r#"{"success":true,"data":{"rows":[]}}"#)).unwrap();
        assert!(ok["rows"].is_array());
        let e = decode_v1_envelope(&raw(519, r#"{"code":"1001","description_cn":"参数错误"}"#))
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.code(), e.message()),
            (ErrorKind::Business, Some("1001"), "参数错误")
        );
        let e = decode_v1_envelope(&raw(
            200,
            r#"{"success":false,"message":"bad","description_cn":"错误"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.message(), "错误 (bad)");
        let e = decode_v1_envelope(&raw(
            200,
            r#"{"errcode":1,"description":"用户名或密码错误"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        let e = decode_v1_envelope(&raw(200, r#"[1,2]"#)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }
}
