//! The crate's error type.

use std::time::Duration;

use integration_core::error::{Failure, Meta};
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

/// How an API error code is classified: which [`Error`] variant an answer
/// with `code != 1` becomes (`Auth`, `Throttled` or `Api`).
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
            _ if integration_core::error::mentions_throttling(message) => ApiErrorKind::Throttled,
            _ => ApiErrorKind::Business,
        }
    }
}

/// Everything that can go wrong calling xbongbong. The variants are the
/// same as in every connector of this workspace (`Api`, `Auth`,
/// `Throttled` with the API's [`Failure`], `Config`, `Core`; xbongbong
/// tokens do not expire, so there is no `AuthExpired`), plus
/// [`Error::Invalid`] and [`Error::Value`]; the metadata (`code()`,
/// `message()`, `kind()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API refused the call (`code != 1`, a business answer:
    /// validation, duplicate, not found, ...): the API called (e.g.
    /// `customer/list`), its code ([`codes`]) and its message (usually
    /// Chinese).
    #[error("xbongbong API error in {0}")]
    Api(Failure),
    /// Credentials rejected: bad signature, unknown or missing corpid, wrong
    /// kind of token ([`ApiErrorKind::Auth`]). With a personal token the
    /// client fetches it once more and repeats the call once before
    /// surfacing this (an admin may have reset it); with the company token
    /// it is final.
    #[error("xbongbong authentication failed in {0}")]
    Auth(Failure),
    /// Too many requests or server busy ([`ApiErrorKind::Throttled`]);
    /// retried by the transport. The vendor sends no wait hint, so the
    /// retry-after is the documented client-side 300 ms.
    #[error("xbongbong throttled in {0}")]
    Throttled(Failure),
    /// A record does not match its form; nothing was sent. Crate-specific:
    /// it lists every problem by field ([`ValidationErrors`]), which
    /// `Config`'s text cannot.
    #[error("record does not match the form: {0}")]
    Invalid(ValidationErrors),
    /// A value could not be converted to or from its API encoding.
    /// Crate-specific: it names the field (`attr`) of a record's data.
    #[error("{0}")]
    Value(#[from] crate::value::ValueError),
    /// The client was configured wrongly (missing corpid or token, a bad
    /// base URL); nothing was sent.
    #[error("xbongbong: invalid configuration: {0}")]
    Config(String),
    /// Transport, HTTP status, timeout, decode errors (from the shared core),
    /// boxed to keep `Result`s small.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

/// The documented client-side wait after a throttle answer.
const THROTTLE_WAIT: Duration = Duration::from_millis(300);

impl Error {
    /// The error for an answer with `code != 1`, by [`ApiErrorKind::classify`].
    pub(crate) fn from_answer(api: &str, code: i64, message: &str) -> Self {
        let failure =
            Failure::new(api, integration_core::secret::redact_text(message)).with_code(code);
        match ApiErrorKind::classify(code, message) {
            ApiErrorKind::Auth => Error::Auth(failure),
            ApiErrorKind::Throttled => {
                Error::Throttled(failure.with_retry_after(Some(THROTTLE_WAIT)))
            }
            ApiErrorKind::Business => Error::Api(failure),
        }
    }

    pub(crate) fn decode(api: &str, what: impl std::fmt::Display, body: &[u8]) -> Self {
        Error::from(integration_core::Error::decode(SYSTEM, api, what, body))
    }
}

integration_core::connector_error! {
    Error(SYSTEM) { Api, Auth, Throttled }
    match {
        // The whole list of problems, not a summary.
        Error::Invalid(v) => Meta::new("validate", ErrorKind::InvalidRequest, None, &v.text),
        Error::Value(v) => Meta::new("value", ErrorKind::InvalidRequest, None, &v.text),
    }
    // A signature rejection may mean the (personal) token was reset; the
    // client fetches a personal token once more and retries once. In
    // company-token mode nothing is refetched.
    login_may_fix = |e: &Error| match e {
        Error::Auth(_) => true,
        Error::Core(e) => e.is_auth_expired(),
        _ => false,
    };
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
        let e = Error::from_answer("customer/add", 100004, "busy");
        assert!(matches!(&e, Error::Throttled(_)) && e.code() == Some("100004"));
        assert!(e.is_retryable());
        let core: integration_core::Error = e.into();
        assert_eq!(core.kind(), ErrorKind::RateLimited);
        assert_eq!(core.code(), Some("100004"));
        assert!(core.is_retryable());
        assert_eq!(core.retry_after(), Some(THROTTLE_WAIT));

        let e = Error::from_answer("customer/add", 100003, "权限验证失败");
        assert!(matches!(e, Error::Auth(_)) && e.is_auth_expired() && !e.is_retryable());
        let e = Error::from_answer("customer/add", 201005, "客户名称已存在");
        assert_eq!(
            (e.code(), e.message(), e.kind()),
            (Some("201005"), "客户名称已存在", ErrorKind::Business)
        );
    }
}
