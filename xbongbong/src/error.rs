//! The crate's error type.

use std::time::Duration;

use integration_core::{ErrorKind, Retry};

use crate::validate::ValidationErrors;

/// The system name used in errors and tracing spans.
pub const SYSTEM: &str = "xbongbong";

/// Code of success in the `{code, msg, success, result}` envelope.
pub const CODE_OK: i64 = 1;

/// Well-known error codes. Only `701020` and the web gateway's `100012` were
/// seen on the Pro API; the `1000xx` codes come from the legacy API and are
/// assumed to be reused (see the crate's "Assumptions").
pub mod codes {
    /// Legacy: the request was not a POST.
    pub const NOT_POST: i64 = 100001;
    /// Legacy: `corpid` is missing.
    pub const MISSING_CORPID: i64 = 100002;
    /// Legacy: permission / signature verification failed (bad `sign`).
    pub const AUTH_FAILED: i64 = 100003;
    /// Legacy: server busy. Treated as throttling (retryable).
    pub const BUSY: i64 = 100004;
    /// Legacy: a required parameter is missing.
    pub const MISSING_PARAM: i64 = 100005;
    /// Legacy: no data.
    pub const EMPTY_DATA: i64 = 100006;
    /// Legacy: the body is not valid JSON.
    pub const NOT_JSON: i64 = 100007;
    /// Legacy: unknown `corpid` or no API token configured.
    pub const BAD_CORPID: i64 = 100008;
    /// Web gateway: login session expired (wrong kind of token).
    pub const SESSION_EXPIRED: i64 = 100012;
    /// Pro: a field value is in the wrong format (e.g. `ownerId` not an array).
    pub const FIELD_FORMAT: i64 = 701020;
}

/// How an API error code is classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// Credentials rejected: bad signature, unknown corpid, wrong token.
    Auth,
    /// Too many requests / server busy; worth retrying later.
    Throttled,
    /// Validation, duplicate, not found and every other business answer.
    Business,
}

impl ApiErrorKind {
    /// Classifies an API code (and its message, for throttle answers whose
    /// code is unknown).
    pub fn classify(code: i64, message: &str) -> Self {
        match code {
            codes::AUTH_FAILED
            | codes::BAD_CORPID
            | codes::MISSING_CORPID
            | codes::SESSION_EXPIRED => ApiErrorKind::Auth,
            codes::BUSY => ApiErrorKind::Throttled,
            _ if ["频繁", "限流", "繁忙", "too many", "rate limit"]
                .iter()
                .any(|w| message.to_lowercase().contains(w)) =>
            {
                ApiErrorKind::Throttled
            }
            _ => ApiErrorKind::Business,
        }
    }
}

/// Everything that can go wrong calling xbongbong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with `code != 1`; its code and message are kept.
    #[error("xbongbong {api}: API error [code {code}]: {message}")]
    Api {
        /// The API called, e.g. `customer/list`.
        api: String,
        /// The API's code.
        code: i64,
        /// The API's message (usually Chinese).
        message: String,
        /// How the code is classified.
        kind: ApiErrorKind,
    },
    /// A record does not match its form; nothing was sent.
    #[error("record does not match the form: {0}")]
    Invalid(ValidationErrors),
    /// A value could not be converted to or from its API encoding.
    #[error("{0}")]
    Value(#[from] crate::value::ValueError),
    /// Transport, HTTP status, timeout, decode errors (from the shared core),
    /// boxed to keep `Result`s small.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

impl Error {
    /// The API's code, when the API answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => Some(*code),
            Error::Core(e) => e.code().and_then(|c| c.parse().ok()),
            _ => None,
        }
    }

    /// The core error kind this error maps to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { kind, .. } => match kind {
                ApiErrorKind::Auth => ErrorKind::Auth,
                ApiErrorKind::Throttled => ErrorKind::RateLimited,
                ApiErrorKind::Business => ErrorKind::Business,
            },
            Error::Invalid(_) | Error::Value(_) => ErrorKind::InvalidRequest,
            Error::Core(e) => e.kind(),
        }
    }

    pub(crate) fn decode(api: &str, what: impl std::fmt::Display, body: &[u8]) -> Self {
        Error::from(integration_core::Error::decode(SYSTEM, api, what, body))
    }
}

impl From<integration_core::Error> for Error {
    fn from(e: integration_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Error::Api { kind, .. } => *kind == ApiErrorKind::Throttled,
            Error::Core(e) => e.is_retryable(),
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Core(e) => e.retry_after(),
            // The documented client-side behaviour: wait 300 ms after a
            // throttle answer.
            Error::Api {
                kind: ApiErrorKind::Throttled,
                ..
            } => Some(Duration::from_millis(300)),
            _ => None,
        }
    }

    /// A signature rejection may mean the (personal) token was reset; the
    /// client fetches a personal token once more and retries once. In
    /// company-token mode nothing is refetched.
    fn is_auth_expired(&self) -> bool {
        match self {
            Error::Api { kind, .. } => *kind == ApiErrorKind::Auth,
            Error::Core(e) => e.is_auth_expired(),
            _ => false,
        }
    }
}

impl From<Error> for integration_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(e) => *e,
            Error::Api {
                api,
                code,
                message,
                kind,
            } => {
                let core_kind = match kind {
                    ApiErrorKind::Auth => ErrorKind::Auth,
                    ApiErrorKind::Throttled => ErrorKind::RateLimited,
                    ApiErrorKind::Business => ErrorKind::Business,
                };
                integration_core::Error::new(SYSTEM, api, core_kind, message)
                    .with_code(code)
                    .with_retryable(kind == ApiErrorKind::Throttled)
            }
            Error::Invalid(v) => integration_core::Error::new(
                SYSTEM,
                "validate",
                ErrorKind::InvalidRequest,
                v.to_string(),
            ),
            Error::Value(v) => integration_core::Error::new(
                SYSTEM,
                "value",
                ErrorKind::InvalidRequest,
                v.to_string(),
            ),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            ApiErrorKind::classify(100003, "权限验证失败"),
            ApiErrorKind::Auth
        );
        assert_eq!(ApiErrorKind::classify(100008, ""), ApiErrorKind::Auth);
        assert_eq!(ApiErrorKind::classify(100004, ""), ApiErrorKind::Throttled);
        assert_eq!(
            ApiErrorKind::classify(555, "请求过于频繁"),
            ApiErrorKind::Throttled
        );
        assert_eq!(
            ApiErrorKind::classify(701020, "字段数据格式错误"),
            ApiErrorKind::Business
        );
        let e = Error::Api {
            api: "customer/add".into(),
            code: 100004,
            message: "busy".into(),
            kind: ApiErrorKind::Throttled,
        };
        assert!(e.is_retryable());
        let core: integration_core::Error = e.into();
        assert_eq!(core.kind(), ErrorKind::RateLimited);
        assert_eq!(core.code(), Some("100004"));
        assert!(core.is_retryable());
    }
}
