//! The crate's error type and the decoding of YonBIP's answer envelopes.

use std::time::Duration;

use integration_core::envelope::Envelope;
use integration_core::error::{Code, Failure};
use integration_core::{ErrorKind, RawResponse, lenient};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::assumed;

/// The system name used in errors and logs.
pub const SYSTEM: &str = "yonbip";

/// A failed YonBIP call.
///
/// The variants are the same as in every connector of this workspace
/// (`Api`, `Auth`, `AuthExpired`, `Throttled` with the vendor's
/// [`Failure`], `Config`, `Core`); the metadata (`code()`, `message()`,
/// `kind()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta). A
/// [`Failure`]'s `api` is the path called, its `code` and `message` the
/// envelope's, verbatim (YonBIP's envelope has no request id). Convert into
/// [`integration_core::Error`] with `?`/`into()` for pipelines.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A business error: the API answered with a code other than success
    /// (validation, duplicate code, missing record, ...), e.g. `999`. Not
    /// retried.
    #[error("yonbip API error in {0}")]
    Api(Failure),
    /// The token endpoint refused the credentials (wrong app key or secret,
    /// bad signature, clock skew) or discovery failed for the tenant.
    #[error("yonbip authentication failed in {0}")]
    Auth(Failure),
    /// The access token is invalid or expired (no code when the envelope's
    /// was neither text nor a number); the client fetches a new one and
    /// repeats the call once before surfacing this.
    #[error("yonbip access token expired in {0}")]
    AuthExpired(Failure),
    /// Too many requests (HTTP 429 or a throttling message), with the
    /// server's `Retry-After`. Retried with backoff, honouring it.
    #[error("yonbip throttled in {0}")]
    Throttled(Failure),
    /// The client was configured wrongly or a request cannot be built.
    #[error("yonbip: invalid configuration or request: {0}")]
    Config(String),
    /// Transport failure, HTTP status, undecodable body (with a redacted
    /// excerpt), body too large.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

integration_core::connector_error!(Error(SYSTEM) { Api, Auth, AuthExpired, Throttled });

/// The envelope's code as text or a number (the core's reading), except
/// that an empty text stays a code (it is not success, so a business error).
fn code_of(envelope: &Envelope) -> Option<Code> {
    match (&envelope.code, envelope.members.get("code")) {
        (Some(code), _) => Some(code.clone()),
        (None, Some(Value::String(_))) => Some(Code::from("")),
        _ => None,
    }
}

/// Classifies a failed answer's code and message: a token code or message
/// first, then throttling by message (never for the business code `999`),
/// else a business error.
pub(crate) fn classify(
    api: &str,
    code: Option<Code>,
    message: String,
    retry_after: Option<Duration>,
) -> Error {
    let code_is = |c: &str| code.as_ref().is_some_and(|code| *code == c);
    if code_is(assumed::TOKEN_EXPIRED_CODE)
        || code_is(assumed::ILLEGAL_TOKEN_CODE)
        || assumed::mentions_expired_token(&message)
    {
        return Error::AuthExpired(Failure::new(api, message).with_opt_code(code));
    }
    if !code_is(assumed::BUSINESS_ERROR_CODE) && assumed::mentions_throttling(&message) {
        let failure = Failure::new(api, message).with_opt_code(code);
        return Error::Throttled(failure.with_retry_after(retry_after));
    }
    match code {
        Some(code) => Error::Api(Failure::new(api, message).with_code(code)),
        None => Error::from(integration_core::Error::new(
            SYSTEM,
            api,
            ErrorKind::Business,
            message,
        )),
    }
}

/// Token and discovery failures other than throttling and transport are
/// authentication failures: the credentials or the tenant are wrong.
pub(crate) fn as_auth_failure(e: Error) -> Error {
    match e {
        Error::Api(f) | Error::AuthExpired(f) => Error::Auth(f),
        other => other,
    }
}

/// Decodes a business answer: `data` of a `code == "200"` envelope as `T`
/// (an error names the field, `recordList[3].payMoney`), or the classified
/// error.
pub(crate) fn decode_business<T: DeserializeOwned>(api: &str, raw: &RawResponse) -> Result<T> {
    let data = decode_envelope(api, raw, assumed::SUCCESS_CODE)?;
    lenient::decode(data)
        .map_err(|e| Error::from(raw.decode_error(format!("unexpected `data` ({e})"))))
}

/// Decodes an envelope whose success code is `success`, returning its
/// `data` (`Null` when absent).
pub(crate) fn decode_envelope(api: &str, raw: &RawResponse, success: &str) -> Result<Value> {
    // Every YonBIP answer: `{"code": "200", "message": "…", "data": …}`.
    let envelope = Envelope::read(raw, &["code"], &["message", "msg"]);
    if !raw.status.is_success() {
        // A gateway may wrap an error envelope (a body with a `code`) in a
        // non-2xx status.
        let wrapped = envelope
            .as_ref()
            .ok()
            .filter(|e| e.members.get("code").is_some_and(|c| !c.is_null()));
        if let Some(envelope) = wrapped {
            let code = code_of(envelope);
            let error = classify(api, code, envelope.message.clone(), raw.retry_after());
            // Throttling and token expiry always count; other envelope codes
            // count on 4xx (a 5xx stays a retryable HTTP error).
            if matches!(error, Error::Throttled(_) | Error::AuthExpired(_))
                || (raw.status.is_client_error() && matches!(error, Error::Api(_)))
            {
                return Err(error);
            }
        }
        if raw.status.as_u16() == 429 {
            let message = integration_core::secret::excerpt(&raw.body, 200);
            let failure = Failure::new(api, message).with_retry_after(raw.retry_after());
            return Err(Error::Throttled(failure));
        }
        if let Some(e) = raw.http_error() {
            return Err(Error::from(e));
        }
    }
    let mut envelope = envelope?;
    let Some(code) = code_of(&envelope) else {
        return Err(Error::from(raw.decode_error("the answer has no `code`")));
    };
    if code == success {
        return Ok(envelope.take("data"));
    }
    Err(classify(
        api,
        Some(code),
        envelope.message,
        raw.retry_after(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::Retry;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            SYSTEM,
            "x",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn success_returns_data() {
        let v: Value = decode_business(
            "x",
            &raw(
                200,
                r#"{"code":"200","message":"操作成功","data":{"id":1}}"#,
            ),
        )
        .unwrap();
        assert_eq!(v["id"], 1);
    }

    #[test]
    fn codes_are_classified() {
        let e = decode_business::<Value>(
            "x",
            &raw(200, r#"{"code":"999","message":"客户名称已存在"}"#),
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::Api(f) if f.code_str() == Some("999") && f.message == "客户名称已存在")
        );
        assert!(!e.is_retryable());
        let e = decode_business::<Value>(
            "x",
            &raw(200, r#"{"code":"1090003500065","message":"token已过期"}"#),
        )
        .unwrap_err();
        assert!(e.is_auth_expired());
        let e =
            decode_business::<Value>("x", &raw(200, r#"{"code":"1","message":"请求过于频繁"}"#))
                .unwrap_err();
        assert!(e.is_retryable() && e.kind() == ErrorKind::RateLimited);
        let e = decode_business::<Value>("x", &raw(429, "slow down")).unwrap_err();
        assert!(e.is_retryable());
        let e = decode_business::<Value>("x", &raw(503, "<html>bad gateway</html>")).unwrap_err();
        assert!(e.is_retryable() && e.kind() == ErrorKind::HttpStatus);
        let e = decode_business::<Value>(
            "x",
            &raw(401, r#"{"code":"1090003500065","message":"非法token"}"#),
        )
        .unwrap_err();
        assert!(e.is_auth_expired());
        let e = decode_business::<Value>("x", &raw(400, r#"{"code":"999","message":"参数错误"}"#))
            .unwrap_err();
        assert_eq!(e.code(), Some("999"));
        let e = decode_business::<Value>("x", &raw(500, r#"{"code":"999","message":"内部错误"}"#))
            .unwrap_err();
        assert!(e.is_retryable() && e.kind() == ErrorKind::HttpStatus);
    }

    /// `1090003500065` (token expired) and `310036` (非法token) mean "fetch a
    /// new token" whatever the message; `310036` is not a duplicate code.
    #[test]
    fn token_codes_mean_a_new_token_whatever_the_message() {
        for (status, body) in [
            (
                200,
                r#"{"code":"1090003500065","message":"上传信息未包含租户及用户信息"}"#,
            ),
            (200, r#"{"code":1090003500065,"message":""}"#),
            (200, r#"{"code":"310036","message":"客户编码重复"}"#),
            (200, r#"{"code":310036}"#),
            (401, r#"{"code":"310036","message":"非法token"}"#),
            (500, r#"{"code":"1090003500065","message":"x"}"#),
        ] {
            let e = decode_business::<Value>("x", &raw(status, body)).unwrap_err();
            assert!(
                e.is_auth_expired() && e.kind() == ErrorKind::AuthExpired,
                "{body}: {e:?}"
            );
        }
        // Other codes count by their message.
        for message in [
            "Token失效",
            "token已过期",
            "非法token",
            "access token invalid",
            "Token expired",
        ] {
            let body = format!(r#"{{"code":"1","message":"{message}"}}"#);
            let e = decode_business::<Value>("x", &raw(200, &body)).unwrap_err();
            assert!(e.is_auth_expired(), "{message}: {e:?}");
        }
        let e = decode_business::<Value>("x", &raw(200, r#"{"code":"1","message":"合同已过期"}"#))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Business, "{e:?}");
    }

    /// `999` is a business refusal whatever its message: never retried, even
    /// when a name in the message looks like throttling.
    #[test]
    fn code_999_is_business_whatever_the_message() {
        for (status, message) in [
            (200, "客户名称已存在"),
            (200, "id不能为空"),
            (200, "客户[上海流量计有限公司]名称已存在"),
            (200, "请求过于频繁"),
            (400, "客户名称已存在"),
        ] {
            let body = format!(r#"{{"code":"999","message":"{message}"}}"#);
            let e = decode_business::<Value>("x", &raw(status, &body)).unwrap_err();
            assert!(
                matches!(&e, Error::Api(f) if f.code_str() == Some("999")) && !e.is_retryable(),
                "{message}: {e:?}"
            );
        }
    }

    /// Throttling is HTTP 429 or a message about 频繁/限流/too many requests;
    /// a message that merely mentions 流量 or "too many" is business.
    #[test]
    fn throttling_is_429_or_a_throttling_message() {
        for body in [
            r#"{"code":"1","message":"请求过于频繁，请稍后重试"}"#,
            r#"{"code":"1","message":"接口限流"}"#,
            r#"{"code":"1","message":"Too Many Requests"}"#,
        ] {
            let e = decode_business::<Value>("x", &raw(200, body)).unwrap_err();
            assert!(
                e.is_retryable() && e.kind() == ErrorKind::RateLimited,
                "{body}: {e:?}"
            );
        }
        let e = decode_business::<Value>("x", &raw(429, r#"{"message":"slow down"}"#)).unwrap_err();
        assert!(
            e.is_retryable() && e.kind() == ErrorKind::RateLimited,
            "{e:?}"
        );
        for body in [
            r#"{"code":"1","message":"物料[电磁流量计]已停用"}"#,
            r#"{"code":"1","message":"too many rows in the request"}"#,
        ] {
            let e = decode_business::<Value>("x", &raw(200, body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Business, "{body}: {e:?}");
        }
    }

    #[test]
    fn hostile_bodies_are_decode_errors_with_redacted_excerpts() {
        for body in [
            "",
            "<html>oops</html>",
            r#"{"code":"200","data":{"id"#,
            r#"{"message":"no code"}"#,
            "[1,2]",
        ] {
            let e = decode_business::<Value>("x", &raw(200, body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{body}: {e}");
        }
        let e = decode_business::<Value>("x", &raw(200, r#"{"access_token":"tok-secret-1","oops"#))
            .unwrap_err();
        assert!(!e.to_string().contains("tok-secret-1"), "{e}");
    }

    #[test]
    fn converts_into_core_keeping_code() {
        let failure = Failure::new("merchant/save", "客户名称已存在").with_code("999");
        let core: integration_core::Error = Error::Api(failure).into();
        assert_eq!(core.code(), Some("999"));
        assert_eq!(core.kind(), ErrorKind::Business);
    }
}
