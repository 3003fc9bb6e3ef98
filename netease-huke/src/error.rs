//! The crate's error type and how Huke's answers are classified.

use std::time::Duration;

use integration_core::error::Failure;

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
/// this workspace (`Api`, `Auth`, `AuthExpired`, `Throttled` with the
/// vendor's [`Failure`], `Config`, `Core`); the metadata (`code()`,
/// `message()`, `kind()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta).
///
/// Business errors keep Huke's own `code` and `msg` (its envelope carries
/// no request id, and comes with HTTP 200); everything below the envelope
/// (connection, timeout, HTTP status, undecodable body) is an
/// [`integration_core::Error`] inside [`Error::Core`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Huke answered with a business error (`code != 200`): the API called
    /// (e.g. `trade/searchTrades`), Huke's `code` and its `msg`.
    #[error("netease-huke API error in {0}")]
    Api(Failure),
    /// The app key, secret or signature was rejected (Huke's `code` and `msg`).
    #[error("netease-huke authentication failed in {0}")]
    Auth(Failure),
    /// The signature timestamp (`ur-curtime`) was rejected as stale; a
    /// freshly signed request may pass. The client re-signs and retries once.
    #[error("netease-huke signature timestamp rejected in {0}")]
    AuthExpired(Failure),
    /// Huke asked us to slow down in its envelope, with the wait it asked
    /// for when it said (an HTTP 429 is [`Error::Core`] with
    /// [`ErrorKind::RateLimited`](integration_core::ErrorKind::RateLimited)).
    #[error("netease-huke throttled in {0}")]
    Throttled(Failure),
    /// The client was configured wrongly or a request cannot be built.
    #[error("netease-huke: invalid configuration or request: {0}")]
    Config(String),
    /// Transport, timeout, HTTP status or undecodable body (boxed: the core
    /// error is large and errors travel through `Result`s).
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

integration_core::connector_error!(Error(SYSTEM) { Api, Auth, AuthExpired, Throttled });

impl Error {
    /// Whether this is `customer/addCustomer`'s "already exists" answer.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Error::Api(f) if f.code.as_ref().is_some_and(|c| *c == CODE_DUPLICATE))
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
        let failure = Failure::new(api, message).with_code(code);
        if throttled {
            Error::Throttled(failure.with_retry_after(retry_after))
        } else if stale_auth {
            Error::AuthExpired(failure)
        } else if auth {
            Error::Auth(failure)
        } else {
            Error::Api(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::{ErrorKind, Retry};

    #[test]
    fn envelope_codes_are_classified() {
        let e = Error::from_envelope("x", 401, "checksum error".into(), None);
        assert!(matches!(e, Error::Auth(_)) && !e.is_retryable() && !e.is_auth_expired());
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
