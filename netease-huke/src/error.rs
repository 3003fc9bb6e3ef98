//! The crate's error type and how Huke's answers are classified.

use std::time::Duration;

use integration_core::error::{Code, Meta};
use integration_core::{ConnectorError, ErrorKind, Retry};

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

/// A failed Huke call. The variants are the same as in every connector of
/// this workspace (`Api`, `Auth`, `AuthExpired`, `Throttled`, `Config`,
/// `Core`); the metadata (`code()`, `message()`, `kind()`, ...) is
/// [`ErrorMeta`](integration_core::ErrorMeta).
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
        code: Code,
        /// Huke's `msg`.
        message: String,
    },
    /// The app key, secret or signature was rejected.
    #[error(
        "netease-huke {api}: authentication failed{}: {message}",
        code_part(code)
    )]
    Auth {
        /// The API called.
        api: String,
        /// Huke's `code` (always set: it comes from the envelope).
        code: Option<Code>,
        /// Huke's `msg`.
        message: String,
    },
    /// The signature timestamp (`ur-curtime`) was rejected as stale; a
    /// freshly signed request may pass. The client re-signs and retries once.
    #[error(
        "netease-huke {api}: signature timestamp rejected{}: {message}",
        code_part(code)
    )]
    AuthExpired {
        /// The API called.
        api: String,
        /// Huke's `code` (always set: it comes from the envelope).
        code: Option<Code>,
        /// Huke's `msg`.
        message: String,
    },
    /// Huke asked us to slow down (in its envelope; an HTTP 429 is
    /// [`Error::Core`] with [`ErrorKind::RateLimited`]).
    #[error("netease-huke {api}: throttled{}: {message}", code_part(code))]
    Throttled {
        /// The API called.
        api: String,
        /// Huke's `code` (always set: it comes from the envelope).
        code: Option<Code>,
        /// Huke's `msg`.
        message: String,
        /// The wait the server asked for, when it said.
        retry_after: Option<Duration>,
    },
    /// The client was configured wrongly or a request cannot be built.
    #[error("netease-huke: invalid configuration or request: {0}")]
    Config(String),
    /// Transport, timeout, HTTP status or undecodable body (boxed: the core
    /// error is large and errors travel through `Result`s).
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

/// ` [code N]`, or nothing when there is no code.
fn code_part(code: &Option<Code>) -> String {
    code.as_ref()
        .map(|c| format!(" [code {c}]"))
        .unwrap_or_default()
}

impl From<integration_core::Error> for Error {
    fn from(e: integration_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

integration_core::error_meta_methods!(Error);

impl ConnectorError for Error {
    const SYSTEM: &'static str = SYSTEM;

    fn meta(&self) -> Meta<'_> {
        use ErrorKind::*;
        match self {
            Error::Api {
                api, code, message, ..
            } => Meta::new(api, Business, Some(code), message),
            Error::Auth {
                api, code, message, ..
            } => Meta::new(api, Auth, code.as_ref(), message),
            Error::AuthExpired {
                api, code, message, ..
            } => Meta::new(api, AuthExpired, code.as_ref(), message),
            Error::Throttled {
                api, code, message, ..
            } => Meta::new(api, RateLimited, code.as_ref(), message),
            Error::Config(message) => Meta::new("client", InvalidRequest, None, message),
            Error::Core(e) => Meta::Core(e),
        }
    }
}

impl Error {
    /// Whether this is `customer/addCustomer`'s "already exists" answer.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Error::Api { code, .. } if *code == CODE_DUPLICATE)
    }

    /// A request that cannot be built (`api: what`), or a bad setting
    /// (`api` is `"client"`).
    pub(crate) fn invalid_request(api: &str, message: impl std::fmt::Display) -> Self {
        match api {
            "client" => Error::Config(message.to_string()),
            _ => Error::Config(format!("{api}: {message}")),
        }
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
        let throttled =
            code == CODE_THROTTLED || integration_core::error::mentions_throttling(&message);
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
        let stale_auth = (auth || matches!(code, 401 | 403)) && stale_time;
        let code = Code::from(code);
        if throttled {
            Error::Throttled {
                api,
                code: Some(code),
                message,
                retry_after,
            }
        } else if stale_auth {
            Error::AuthExpired {
                api,
                code: Some(code),
                message,
            }
        } else if auth {
            Error::Auth {
                api,
                code: Some(code),
                message,
            }
        } else {
            Error::Api { api, code, message }
        }
    }
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } => true,
            Error::Api { .. }
            | Error::Auth { .. }
            | Error::AuthExpired { .. }
            | Error::Config(_) => false,
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
        match e {
            Error::Core(e) => *e,
            other => integration_core::Error::from_meta(&other),
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
            Error::from_envelope("t", 429, "slow down".into(), Some(Duration::from_secs(3))).into();
        assert!(core.is_retryable());
        assert_eq!(core.kind(), ErrorKind::RateLimited);
        assert_eq!(core.retry_after(), Some(Duration::from_secs(3)));
        let config = Error::invalid_request("customer/fields", "bad body");
        assert_eq!(
            (config.kind(), config.api()),
            (ErrorKind::InvalidRequest, "client")
        );
        assert_eq!(config.message(), "customer/fields: bad body");
        assert!(!config.is_retryable());
    }
}
