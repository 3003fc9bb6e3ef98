//! The error every connector's error converts into ([`Error`], with its
//! [`ErrorKind`] and [`Retry`] hints), and what every
//! connector's error is made of: the vendor's [`Failure`], its [`Code`], the
//! [`ErrorMeta`] it answers and the [`connector_error!`](crate::connector_error)
//! macro that implements it.

mod code;
mod connector;
mod macros;

pub use code::Code;
pub use connector::{ConnectorError, ErrorMeta, Failure, Meta};

use std::fmt;
use std::time::Duration;

/// What kind of failure an [`Error`] is. Decides retrying and how a pipeline
/// treats a record (retry later, dead-letter, or stop the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection failed or broke before an answer arrived.
    Transport,
    /// No answer within the request timeout.
    Timeout,
    /// An HTTP status outside 2xx that the API does not wrap in its envelope.
    HttpStatus,
    /// The API or the HTTP layer asked us to slow down.
    RateLimited,
    /// Credentials were rejected (wrong secret, bad signature, no permission).
    Auth,
    /// The token or session expired; a fresh login should fix it.
    AuthExpired,
    /// The API answered with its own business error (validation, duplicate, ...).
    Business,
    /// The answer could not be decoded (malformed, truncated, HTML, empty).
    Decode,
    /// The answer was larger than the configured limit.
    BodyTooLarge,
    /// The request could not be built (bad settings or arguments).
    InvalidRequest,
}

impl ErrorKind {
    /// Whether the transport retries a failure of this kind by default.
    ///
    /// [`ErrorKind::AuthExpired`] is not: the auth layer of a connector
    /// refreshes the token once and repeats the call once
    /// ([`crate::auth::TokenCache::call`]).
    pub fn default_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::RateLimited
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::Transport => "transport error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "HTTP error",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::AuthExpired => "token or session expired",
            ErrorKind::Business => "API error",
            ErrorKind::Decode => "undecodable answer",
            ErrorKind::BodyTooLarge => "answer too large",
            ErrorKind::InvalidRequest => "invalid request",
        };
        f.write_str(s)
    }
}

/// A failed API call: which system and API, what kind of failure, whether it
/// is worth retrying, and the API's own code and message when it gave one.
///
/// Messages never contain secrets: body excerpts and URLs are redacted
/// before they are put here.
#[derive(Debug)]
pub struct Error(Box<Inner>);

/// Boxed so that `Result<T, Error>` stays small on the happy path.
#[derive(Debug)]
struct Inner {
    system: &'static str,
    api: String,
    kind: ErrorKind,
    retryable: bool,
    retry_after: Option<Duration>,
    http_status: Option<u16>,
    code: Option<String>,
    message: String,
    request_id: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Error {
    /// A new error; retryable as [`ErrorKind::default_retryable`] says.
    pub fn new(
        system: &'static str,
        api: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        Self(Box::new(Inner {
            system,
            api: api.into(),
            kind,
            retryable: kind.default_retryable(),
            retry_after: None,
            http_status: None,
            code: None,
            message: message.into(),
            request_id: None,
            source: None,
        }))
    }

    /// An API business error with the API's own code and message.
    pub fn api(
        system: &'static str,
        api: impl Into<String>,
        code: impl fmt::Display,
        message: impl Into<String>,
    ) -> Self {
        Self::new(system, api, ErrorKind::Business, message).with_code(code)
    }

    /// An undecodable answer, with a short redacted excerpt of the body.
    pub fn decode(
        system: &'static str,
        api: impl Into<String>,
        what: impl fmt::Display,
        body: &[u8],
    ) -> Self {
        let excerpt = crate::secret::excerpt(body, 200);
        let message = if body.is_empty() {
            format!("{what}; the body was empty")
        } else {
            format!("{what}; body starts with: {excerpt}")
        };
        Self::new(system, api, ErrorKind::Decode, message)
    }

    /// Sets the API's own error code.
    pub fn with_code(mut self, code: impl fmt::Display) -> Self {
        self.0.code = Some(code.to_string());
        self
    }

    /// Overrides whether the failure is retryable.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.0.retryable = retryable;
        self
    }

    /// Sets how long the server asked us to wait before retrying.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.0.retry_after = after;
        self
    }

    /// Sets the vendor's request or trace id of the answer.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.0.request_id = Some(id.into());
        self
    }

    /// Sets the HTTP status of the answer.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.0.http_status = Some(status);
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// The system's name, e.g. `kingdee-cloud`.
    pub fn system(&self) -> &'static str {
        self.0.system
    }
    /// The API called, e.g. `BatchSave`.
    pub fn api_name(&self) -> &str {
        &self.0.api
    }
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        self.0.retryable
    }
    /// How long the server asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }
    /// The API's own error code, when it gave one.
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// The (redacted) message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.0.system, self.0.api, self.0.kind)?;
        if let Some(status) = self.0.http_status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(code) = &self.0.code {
            write!(f, " [code {code}]")?;
        }
        if !self.0.message.is_empty() {
            write!(f, ": {}", self.0.message)?;
        }
        if let Some(id) = &self.0.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// How the transport should treat a failed attempt.
///
/// Implemented by [`Error`] and by each connector's error type, so connectors
/// decide which of their API's answers are worth retrying (throttle codes,
/// session expiry) while the transport owns the retry loop.
pub trait Retry {
    /// Whether the same request may succeed if sent again.
    fn is_retryable(&self) -> bool;
    /// How long the server asked us to wait before the next attempt.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// Whether the token or session expired, so a fresh login may fix it.
    fn is_auth_expired(&self) -> bool {
        false
    }
    /// What kind of failure this is, when known: the outcome label of the
    /// request metrics ([`crate::telemetry`]).
    fn failure_kind(&self) -> Option<ErrorKind> {
        None
    }
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        self.0.retryable
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    fn is_auth_expired(&self) -> bool {
        self.0.kind == ErrorKind::AuthExpired
    }
    fn failure_kind(&self) -> Option<ErrorKind> {
        Some(self.0.kind)
    }
}

/// The words by which these APIs' messages say "slow down", when they have
/// no throttle code of their own (or to recognise one under an unknown
/// code): 频繁 (too frequent), 限流 (rate limited), 繁忙 (busy), and the
/// English phrases. The one list every connector uses; narrow on purpose
/// (not "too many", which also means "too many rows").
pub const THROTTLE_WORDS: &[&str] = &[
    "频繁",
    "限流",
    "繁忙",
    "too many requests",
    "rate limit",
    "throttl",
];

/// Whether a vendor message says the caller is throttled ([`THROTTLE_WORDS`],
/// case-insensitive).
///
/// ```
/// use integration_core::error::mentions_throttling;
/// assert!(mentions_throttling("请求过于频繁，请稍后再试"));
/// assert!(mentions_throttling("Too Many Requests"));
/// assert!(!mentions_throttling("too many rows in one page"));
/// ```
pub fn mentions_throttling(message: &str) -> bool {
    let lower = message.to_lowercase();
    THROTTLE_WORDS.iter().any(|w| lower.contains(w))
}
