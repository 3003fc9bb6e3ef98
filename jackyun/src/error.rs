//! The crate's error type: the gateway's envelope errors (with `subCode`,
//! `msg` and `contextId` kept), transport failures and undecodable answers.

use std::fmt;

use integration_core::ErrorKind;
use integration_core::error::{Code, Failure};

/// The system name used in errors, logs and spans.
pub const SYSTEM: &str = "jackyun";

/// Sub-code: the app was not found or has not subscribed to this method
/// (`appKey=<k>,method=<m>,未查询到应用或应用未订阅此API`).
pub const SUB_NOT_SUBSCRIBED: &str = "0130020310";
/// Sub-code: the sign was rejected (one project's reading of the docs).
pub const SUB_SIGN_ERROR: &str = "0858030801";
/// Sub-code: the appkey does not exist (one project's reading of the docs).
pub const SUB_APPKEY_ERROR: &str = "0858030802";
/// Sub-code: the ISV token is invalid or expired (one project's reading).
pub const SUB_TOKEN_ERROR: &str = "0858030803";
/// Sub-code: throttled or temporarily unavailable; retry later.
pub const SUB_THROTTLED: &str = "0859999999";
/// Sub-code: a business parameter is missing or out of range (e.g. a time
/// window that is too long).
pub const SUB_INVALID_PARAMETER: &str = "0050030002";
/// Sub-code: generic failure (`未知错误`), as in every doc example.
pub const SUB_UNKNOWN: &str = "0130020001";
/// Sub-code seen *with success* (`code=200`, `msg=操作成功`).
pub const SUB_SUCCESS_MARKER: &str = "0030000004";

/// What an error envelope of the gateway means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorClass {
    /// The app does not exist or has not subscribed to the method: a person
    /// must subscribe it in the open-platform console.
    NotSubscribed,
    /// The sign did not match (wrong secret, or a proxy altered the body).
    SignRejected,
    /// The appkey is unknown.
    AppKeyRejected,
    /// The ISV token is invalid or expired.
    TokenRejected,
    /// The timestamp was outside the allowed skew. Retried: every attempt is
    /// signed with a fresh timestamp; persistent failures mean the local
    /// clock is wrong.
    TimestampRejected,
    /// Too many calls or the service is temporarily unavailable; retried.
    Throttled,
    /// A business parameter is missing or out of range.
    InvalidParameter,
    /// Any other business error.
    Business,
}

impl ApiErrorClass {
    /// Classifies an error envelope by its `subCode`, then by its message.
    pub fn classify(sub_code: &str, msg: &str) -> Self {
        match sub_code {
            SUB_NOT_SUBSCRIBED => return Self::NotSubscribed,
            SUB_SIGN_ERROR => return Self::SignRejected,
            SUB_APPKEY_ERROR => return Self::AppKeyRejected,
            SUB_TOKEN_ERROR => return Self::TokenRejected,
            SUB_THROTTLED => return Self::Throttled,
            SUB_INVALID_PARAMETER => return Self::InvalidParameter,
            _ => {}
        }
        let lower = msg.to_lowercase();
        if msg.contains("未订阅") || msg.contains("未查询到应用") {
            Self::NotSubscribed
        } else if msg.contains("签名") || lower.contains("sign") {
            Self::SignRejected
        } else if msg.contains("时间戳") || lower.contains("timestamp") {
            Self::TimestampRejected
        } else if lower.contains("token") {
            Self::TokenRejected
        } else if lower.contains("appkey") {
            Self::AppKeyRejected
        } else if integration_core::error::mentions_throttling(msg)
            // The gateway's own phrases besides the shared list.
            || msg.contains("超限")
            || msg.contains("稍后")
        {
            Self::Throttled
        } else {
            Self::Business
        }
    }

    /// The core error kind of this class.
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::NotSubscribed
            | Self::SignRejected
            | Self::AppKeyRejected
            | Self::TokenRejected
            | Self::TimestampRejected => ErrorKind::Auth,
            Self::Throttled => ErrorKind::RateLimited,
            Self::InvalidParameter | Self::Business => ErrorKind::Business,
        }
    }

    /// Whether the same call may succeed when sent again (re-signed).
    pub fn retryable(self) -> bool {
        matches!(self, Self::Throttled | Self::TimestampRejected)
    }
}

/// Everything that can go wrong calling Jackyun.
///
/// The variants are the same as in every connector of this workspace
/// (`Api`, `Auth`, `Throttled` with the gateway's [`Failure`], `Config`,
/// `Core`); Jackyun has no session or refreshable token, so there is no
/// `AuthExpired`. The metadata (`code()`, `message()`, `kind()`,
/// `request_id()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta).
/// Errors from the gateway's envelope keep its `contextId` as the request id
/// (for support tickets) and say what they mean with [`Error::class`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gateway refused the call: a business error or a refused
    /// parameter ([`ApiErrorClass::Business`],
    /// [`ApiErrorClass::InvalidParameter`]). Not retried. The code is the
    /// 10-digit `subCode` (the top-level `code` when the answer has none),
    /// the message the gateway's `msg`, the request id `result.contextId`.
    #[error("jackyun API error in {0}")]
    Api(Failure),
    /// The app is not subscribed to the method, or its sign, appkey, ISV
    /// token or timestamp was rejected ([`Error::class`] says which). Not
    /// retried, except a timestamp rejection: every attempt is signed with
    /// a fresh timestamp, so only a wrong local clock makes it last. The
    /// ISV token is never refreshed (how it is obtained is not public), so
    /// a rejected token is this variant too. Code, message and request id
    /// as for `Api`.
    #[error("jackyun authentication failed in {0}")]
    Auth(Failure),
    /// Throttled or temporarily unavailable (`subCode` `0859999999` or a
    /// throttling message). Retried with backoff; Jackyun sends no
    /// retry-after hint.
    #[error("jackyun throttled in {0}")]
    Throttled(Failure),
    /// The client was configured wrongly or a request cannot be built (not
    /// sent); the message starts with the method when there is one.
    #[error("jackyun: invalid configuration or request: {0}")]
    Config(String),
    /// Connecting, sending or receiving failed, the HTTP status was not
    /// 2xx, the answer was too large, or it could not be decoded
    /// (malformed, truncated, HTML, empty, or a shape that does not match
    /// the method; with a short redacted excerpt of the body).
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

impl Error {
    /// The error of an envelope with `code != 200`, by its class.
    pub(crate) fn envelope(
        method: &str,
        code: Code,
        sub_code: String,
        msg: String,
        context_id: Option<String>,
    ) -> Self {
        let class = ApiErrorClass::classify(&sub_code, &msg);
        let code = if sub_code.is_empty() {
            code
        } else {
            Code::from(sub_code)
        };
        let failure = Failure::new(method, msg)
            .with_code(code)
            .with_request_id(context_id);
        match class.kind() {
            ErrorKind::Auth => Self::Auth(failure),
            ErrorKind::RateLimited => Self::Throttled(failure),
            _ => Self::Api(failure),
        }
    }

    /// A request that cannot be built (`method: message`), or a bad setting
    /// (`method` is `"client"`).
    pub fn invalid(method: impl Into<String>, message: impl Into<String>) -> Self {
        let (method, message) = (method.into(), message.into());
        match method.as_str() {
            "client" => Self::Config(message),
            _ => Self::Config(format!("{method}: {message}")),
        }
    }

    /// A decode error about `what`, with a redacted excerpt of `body`.
    pub fn decode(method: &str, what: impl fmt::Display, body: &[u8]) -> Self {
        Self::Core(Box::new(integration_core::Error::decode(
            SYSTEM, method, what, body,
        )))
    }

    /// What an error of the gateway's envelope means (`None` for other
    /// errors): its `subCode` and `msg` classified as when it was decoded.
    pub fn class(&self) -> Option<ApiErrorClass> {
        match self {
            Self::Api(f) | Self::Auth(f) | Self::Throttled(f) => Some(ApiErrorClass::classify(
                f.code_str().unwrap_or(""),
                &f.message,
            )),
            Self::Config(_) | Self::Core(_) => None,
        }
    }
}

integration_core::connector_error! {
    Error(SYSTEM) { Api, Throttled }
    match {
        // Every attempt is signed anew: a stale timestamp is worth a retry.
        e @ Error::Auth(f) => f
            .meta(ErrorKind::Auth)
            .retryable(e.class() == Some(ApiErrorClass::TimestampRejected)),
    }
}

/// A shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(
            ApiErrorClass::classify(SUB_NOT_SUBSCRIBED, ""),
            ApiErrorClass::NotSubscribed
        );
        assert_eq!(
            ApiErrorClass::classify("", "appKey=1,method=x,未查询到应用或应用未订阅此API"),
            ApiErrorClass::NotSubscribed
        );
        assert_eq!(
            ApiErrorClass::classify("0858000000", "签名错误"),
            ApiErrorClass::SignRejected
        );
        assert_eq!(
            ApiErrorClass::classify("", "时间戳已过期"),
            ApiErrorClass::TimestampRejected
        );
        assert_eq!(
            ApiErrorClass::classify(SUB_THROTTLED, ""),
            ApiErrorClass::Throttled
        );
        assert_eq!(
            ApiErrorClass::classify(SUB_UNKNOWN, "未知错误"),
            ApiErrorClass::Business
        );
        assert!(ApiErrorClass::Throttled.retryable());
        assert!(!ApiErrorClass::SignRejected.retryable());
    }

    #[test]
    fn core_conversion_keeps_sub_code_and_context_id() {
        let e = Error::envelope(
            "crm.customer.add",
            "0".into(),
            SUB_SIGN_ERROR.into(),
            "签名错误".into(),
            Some("1".into()),
        );
        assert!(matches!(&e, Error::Auth(_)) && e.code() == Some(SUB_SIGN_ERROR));
        assert_eq!(e.request_id(), Some("1"));
        let core: integration_core::Error = e.into();
        assert_eq!(core.code(), Some(SUB_SIGN_ERROR));
        assert_eq!(core.kind(), ErrorKind::Auth);
        assert_eq!(core.api_name(), "crm.customer.add");
        assert!(
            core.to_string().contains("签名错误 (request id 1)"),
            "{core}"
        );
    }

    /// Every class lands in the variant of its kind, retried as it says.
    #[test]
    fn envelope_errors_keep_their_class() {
        for (sub_code, msg, class) in [
            (SUB_NOT_SUBSCRIBED, "", ApiErrorClass::NotSubscribed),
            (SUB_SIGN_ERROR, "", ApiErrorClass::SignRejected),
            (SUB_APPKEY_ERROR, "", ApiErrorClass::AppKeyRejected),
            (SUB_TOKEN_ERROR, "", ApiErrorClass::TokenRejected),
            ("", "时间戳已过期", ApiErrorClass::TimestampRejected),
            (SUB_THROTTLED, "", ApiErrorClass::Throttled),
            (SUB_INVALID_PARAMETER, "x", ApiErrorClass::InvalidParameter),
            (SUB_UNKNOWN, "未知错误", ApiErrorClass::Business),
            ("", "未知错误", ApiErrorClass::Business),
        ] {
            let e = Error::envelope("m", "0".into(), sub_code.into(), msg.into(), None);
            assert_eq!(e.class(), Some(class), "{e:?}");
            assert_eq!(e.kind(), class.kind(), "{e:?}");
            assert_eq!(e.is_retryable(), class.retryable(), "{e:?}");
            let code = if sub_code.is_empty() { "0" } else { sub_code };
            assert_eq!(e.code(), Some(code));
            assert_eq!(e.message(), msg);
            assert_eq!(
                integration_core::Error::from(e).is_retryable(),
                class.retryable()
            );
        }
        let e = Error::envelope("m", "0".into(), "".into(), "".into(), Some("9".into()));
        assert_eq!(
            e.to_string(),
            "jackyun API error in m [code 0]: (no message) (request id 9)"
        );
    }

    #[test]
    fn invalid_requests_are_config_errors_naming_the_method() {
        let e = Error::invalid("crm.customer.add", "customerCode is empty");
        assert!(matches!(&e, Error::Config(m) if m == "crm.customer.add: customerCode is empty"));
        assert_eq!((e.api(), e.kind()), ("client", ErrorKind::InvalidRequest));
        assert!(matches!(Error::invalid("client", "x"), Error::Config(m) if m == "x"));
    }
}
