//! The crate's error type and how Huke's answers are classified.

use std::time::Duration;

use integration_core::{ErrorKind, Retry};

/// The system name used in errors and tracing spans.
pub const SYSTEM: &str = "netease-huke";

/// Huke's success code in the `{code, msg, data}` envelope.
pub const CODE_SUCCESS: i64 = 200;
/// `customer/addCustomer`: the customer already exists (a tolerated,
/// non-fatal answer; the meaning is inferred, see the crate's Assumptions).
pub const CODE_DUPLICATE: i64 = 1011;
/// Credentials or signature rejected (ASSUMED code; the real one is unknown).
pub const CODE_AUTH: i64 = 401;
/// Throttled (ASSUMED code; the real one is unknown).
pub const CODE_THROTTLED: i64 = 429;

/// A failed Huke call.
///
/// Business errors keep Huke's own `code` and `msg`; everything below the
/// envelope (connection, timeout, HTTP status, undecodable body) is an
/// [`integration_core::Error`] inside [`Error::Core`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Huke answered with a business error (`code != 200`).
    #[error("netease-huke {api}: API error [code {code}]: {message}")]
    Api {
        /// The API called, e.g. `trade/searchTrades`.
        api: String,
        /// Huke's `code`.
        code: i64,
        /// Huke's `msg`.
        message: String,
    },
    /// The app key, secret or signature was rejected.
    #[error("netease-huke {api}: authentication failed [code {code}]: {message}")]
    Auth {
        /// The API called.
        api: String,
        /// Huke's `code`.
        code: i64,
        /// Huke's `msg`.
        message: String,
    },
    /// The signature timestamp (`ur-curtime`) was rejected as stale; a
    /// freshly signed request may pass. The client re-signs and retries once.
    #[error("netease-huke {api}: signature timestamp rejected [code {code}]: {message}")]
    AuthExpired {
        /// The API called.
        api: String,
        /// Huke's `code`.
        code: i64,
        /// Huke's `msg`.
        message: String,
    },
    /// Huke asked us to slow down.
    #[error("netease-huke {api}: throttled [code {code}]: {message}")]
    Throttled {
        /// The API called.
        api: String,
        /// Huke's `code`.
        code: i64,
        /// Huke's `msg`.
        message: String,
        /// The wait the server asked for, when it said.
        retry_after: Option<Duration>,
    },
    /// Transport, timeout, HTTP status, undecodable body or invalid request
    /// (boxed: the core error is large and errors travel through `Result`s).
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

impl From<integration_core::Error> for Error {
    fn from(e: integration_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

impl Error {
    /// Huke's own error code, for envelope errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. }
            | Error::Auth { code, .. }
            | Error::AuthExpired { code, .. }
            | Error::Throttled { code, .. } => Some(*code),
            Error::Core(e) => e.code().and_then(|c| c.parse().ok()),
        }
    }

    /// Huke's `msg`, or the core error's (redacted) message.
    pub fn message(&self) -> &str {
        match self {
            Error::Api { message, .. }
            | Error::Auth { message, .. }
            | Error::AuthExpired { message, .. }
            | Error::Throttled { message, .. } => message,
            Error::Core(e) => e.message(),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { .. } => ErrorKind::Business,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::AuthExpired { .. } => ErrorKind::AuthExpired,
            Error::Throttled { .. } => ErrorKind::RateLimited,
            Error::Core(e) => e.kind(),
        }
    }

    /// Whether this is `customer/addCustomer`'s "already exists" answer.
    pub fn is_duplicate(&self) -> bool {
        self.code() == Some(CODE_DUPLICATE) && matches!(self, Error::Api { .. })
    }

    pub(crate) fn invalid_request(api: &str, message: impl Into<String>) -> Self {
        integration_core::Error::new(SYSTEM, api, ErrorKind::InvalidRequest, message).into()
    }

    /// Classifies a non-success envelope. Huke's error codes are not
    /// published: this is the one place where the guesses live (see the
    /// crate's Assumptions).
    pub(crate) fn from_envelope(
        api: &str,
        code: i64,
        message: String,
        retry_after: Option<Duration>,
    ) -> Self {
        let api = api.to_owned();
        let lower = message.to_lowercase();
        let mentions = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        let throttled = code == CODE_THROTTLED
            || mentions(&["频繁", "限流", "too many", "rate limit", "throttl"]);
        let stale_time = mentions(&["curtime", "timestamp", "时间戳", "过期", "expired"]);
        let auth = matches!(code, 401 | 403)
            || mentions(&[
                "checksum",
                "appkey",
                "app key",
                "签名",
                "sign error",
                "校验失败",
                "鉴权",
                "unauthorized",
            ]);
        if throttled {
            Error::Throttled {
                api,
                code,
                message,
                retry_after,
            }
        } else if (auth || matches!(code, 401 | 403)) && stale_time {
            Error::AuthExpired { api, code, message }
        } else if auth {
            Error::Auth { api, code, message }
        } else {
            Error::Api { api, code, message }
        }
    }
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } => true,
            Error::Api { .. } | Error::Auth { .. } | Error::AuthExpired { .. } => false,
            Error::Core(e) => e.is_retryable(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Throttled { retry_after, .. } => *retry_after,
            Error::Core(e) => Retry::retry_after(e.as_ref()),
            _ => None,
        }
    }

    fn is_auth_expired(&self) -> bool {
        matches!(self, Error::AuthExpired { .. })
    }
}

impl From<Error> for integration_core::Error {
    fn from(e: Error) -> Self {
        let retryable = e.is_retryable();
        let retry_after = Retry::retry_after(&e);
        match e {
            Error::Core(core) => *core,
            Error::Api { api, code, message } => {
                integration_core::Error::api(SYSTEM, api, code, message)
            }
            Error::Auth { api, code, message } => {
                integration_core::Error::new(SYSTEM, api, ErrorKind::Auth, message).with_code(code)
            }
            Error::AuthExpired { api, code, message } => {
                integration_core::Error::new(SYSTEM, api, ErrorKind::AuthExpired, message)
                    .with_code(code)
            }
            Error::Throttled {
                api, code, message, ..
            } => integration_core::Error::new(SYSTEM, api, ErrorKind::RateLimited, message)
                .with_code(code)
                .with_retryable(retryable)
                .with_retry_after(retry_after),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_codes_are_classified() {
        let e = Error::from_envelope("x", 401, "checksum error".into(), None);
        assert!(matches!(e, Error::Auth { .. }) && !e.is_retryable() && !e.is_auth_expired());
        let e = Error::from_envelope("x", 401, "curtime expired".into(), None);
        assert!(e.is_auth_expired());
        let e = Error::from_envelope(
            "x",
            429,
            "请求过于频繁".into(),
            Some(Duration::from_secs(2)),
        );
        assert!(e.is_retryable());
        assert_eq!(Retry::retry_after(&e), Some(Duration::from_secs(2)));
        let e = Error::from_envelope("x", 5001, "访问太频繁".into(), None);
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let e = Error::from_envelope("customer/addCustomer", 1011, "客户已存在".into(), None);
        assert!(e.is_duplicate() && !e.is_retryable());
        assert_eq!(e.kind(), ErrorKind::Business);
    }

    #[test]
    fn conversion_keeps_code_and_message() {
        let core: integration_core::Error =
            Error::from_envelope("trade/searchTrades", 1002, "参数错误".into(), None).into();
        assert_eq!(core.code(), Some("1002"));
        assert_eq!(core.message(), "参数错误");
        assert_eq!(core.kind(), ErrorKind::Business);
        let core: integration_core::Error =
            Error::from_envelope("t", 429, "slow down".into(), None).into();
        assert!(core.is_retryable());
        assert_eq!(core.kind(), ErrorKind::RateLimited);
    }
}
