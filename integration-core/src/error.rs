//! The error every connector's error converts into, the [`ErrorMeta`] every
//! connector's error implements, and the vendor error [`Code`].

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
}

/// What every connector's error says about itself, the same way in all
/// seven crates (aws-sdk's error metadata): which system and API, what kind
/// of failure, the vendor's code and message, whether retrying may help
/// ([`Retry::is_retryable`]), and the vendor's request id where it gives one.
///
/// ```
/// use integration_core::{Error, ErrorKind, ErrorMeta};
///
/// fn explain(e: &impl ErrorMeta) -> String {
///     format!("{} {} [{}] {}", e.system(), e.api(), e.code().unwrap_or("-"), e.message())
/// }
/// let e = Error::api("kingdee-cloud", "BatchSave", 11, "编码唯一");
/// assert_eq!(explain(&e), "kingdee-cloud BatchSave [11] 编码唯一");
/// assert_eq!(ErrorMeta::kind(&e), ErrorKind::Business);
/// ```
pub trait ErrorMeta: std::error::Error + Retry {
    /// The system, e.g. `"kingdee-cloud"`.
    fn system(&self) -> &'static str;
    /// The API called, e.g. `BatchSave` (`"client"` for a failure before
    /// any call, such as a bad setting).
    fn api(&self) -> &str;
    /// What kind of failure this is.
    fn kind(&self) -> ErrorKind;
    /// The vendor's own error code, as text, when it gave one.
    fn code(&self) -> Option<&str>;
    /// The vendor's message, or ours for failures below the API (redacted).
    fn message(&self) -> &str;
    /// The vendor's request or trace id, when its answers carry one.
    fn request_id(&self) -> Option<&str> {
        None
    }
}

/// What one variant of a connector's error says: its API, kind, code and
/// message ([`Meta::new`]), or the core error it wraps ([`Meta::Core`]).
#[derive(Debug, Clone, Copy)]
pub enum Meta<'a> {
    /// A variant of the connector's own.
    Own {
        /// The API called (`"client"` before any call).
        api: &'a str,
        /// What kind of failure.
        kind: ErrorKind,
        /// The vendor's code, when it gave one.
        code: Option<&'a str>,
        /// The vendor's (or our) message.
        message: &'a str,
        /// The vendor's request or trace id, when it gave one.
        request_id: Option<&'a str>,
    },
    /// The core error of an `Error::Core` variant.
    Core(&'a Error),
}

impl<'a> Meta<'a> {
    /// A variant's metadata, without a request id.
    pub fn new(api: &'a str, kind: ErrorKind, code: Option<&'a Code>, message: &'a str) -> Self {
        Meta::Own {
            api,
            kind,
            code: code.map(Code::as_str),
            message,
            request_id: None,
        }
    }

    /// The same with the vendor's request id.
    pub fn with_request_id(self, id: Option<&'a str>) -> Self {
        match self {
            Meta::Own {
                api,
                kind,
                code,
                message,
                ..
            } => Meta::Own {
                api,
                kind,
                code,
                message,
                request_id: id,
            },
            core => core,
        }
    }
}

/// A connector's error: it says once, per variant, what [`Meta`] the
/// variant carries, and gets [`ErrorMeta`] from that.
pub trait ConnectorError: std::error::Error + Retry {
    /// The system, e.g. `"kingdee-cloud"`.
    const SYSTEM: &'static str;
    /// What this error says.
    fn meta(&self) -> Meta<'_>;
}

impl<T: ConnectorError> ErrorMeta for T {
    fn system(&self) -> &'static str {
        T::SYSTEM
    }
    fn api(&self) -> &str {
        match self.meta() {
            Meta::Own { api, .. } => api,
            Meta::Core(e) => ErrorMeta::api(e),
        }
    }
    fn kind(&self) -> ErrorKind {
        match self.meta() {
            Meta::Own { kind, .. } => kind,
            Meta::Core(e) => e.kind(),
        }
    }
    fn code(&self) -> Option<&str> {
        match self.meta() {
            Meta::Own { code, .. } => code,
            Meta::Core(e) => e.code(),
        }
    }
    fn message(&self) -> &str {
        match self.meta() {
            Meta::Own { message, .. } => message,
            Meta::Core(e) => e.message(),
        }
    }
    fn request_id(&self) -> Option<&str> {
        match self.meta() {
            Meta::Own { request_id, .. } => request_id,
            Meta::Core(e) => ErrorMeta::request_id(e),
        }
    }
}

impl Error {
    /// This error of a connector as the core error: system, API, kind,
    /// code, message and retry hints carried over (a connector's `From`
    /// impl for its non-core variants).
    pub fn from_meta<E: ErrorMeta + ?Sized>(e: &E) -> Self {
        let mut core = Self::new(e.system(), e.api(), e.kind(), e.message())
            .with_retryable(e.is_retryable())
            .with_retry_after(e.retry_after());
        if let Some(code) = e.code() {
            core = core.with_code(code);
        }
        if let Some(id) = e.request_id() {
            core = core.with_request_id(id);
        }
        core
    }
}

impl ErrorMeta for Error {
    fn system(&self) -> &'static str {
        self.0.system
    }
    fn api(&self) -> &str {
        &self.0.api
    }
    fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    fn message(&self) -> &str {
        &self.0.message
    }
    fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
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

/// Gives a connector's error type the [`ErrorMeta`] accessors as inherent
/// methods (`code`, `message`, `api`, `system`, `kind`, `is_retryable`,
/// `request_id`), so callers need no trait import; the type implements
/// [`ErrorMeta`] and [`Retry`] itself.
#[macro_export]
macro_rules! error_meta_methods {
    ($error:ty) => {
        /// The metadata every connector's error gives
        /// ([`ErrorMeta`](integration_core::ErrorMeta)).
        impl $error {
            /// The vendor's own error code, as text, when it gave one.
            pub fn code(&self) -> Option<&str> {
                <Self as $crate::error::ErrorMeta>::code(self)
            }
            /// The vendor's message, or ours for failures below the API.
            pub fn message(&self) -> &str {
                <Self as $crate::error::ErrorMeta>::message(self)
            }
            /// The API called (`"client"` before any call).
            pub fn api(&self) -> &str {
                <Self as $crate::error::ErrorMeta>::api(self)
            }
            /// The system, e.g. `"kingdee-cloud"`.
            pub fn system(&self) -> &'static str {
                <Self as $crate::error::ErrorMeta>::system(self)
            }
            /// What kind of failure this is.
            pub fn kind(&self) -> $crate::error::ErrorKind {
                <Self as $crate::error::ErrorMeta>::kind(self)
            }
            /// Whether sending the same request again may succeed.
            pub fn is_retryable(&self) -> bool {
                <Self as $crate::error::Retry>::is_retryable(self)
            }
            /// The vendor's request or trace id, when its answer had one.
            pub fn request_id(&self) -> Option<&str> {
                <Self as $crate::error::ErrorMeta>::request_id(self)
            }
        }
    };
}

/// A vendor's error code as it sent it (`"999"`, `11`, `"310036"`): kept as
/// text, comparable with numbers and text, so every connector's errors carry
/// codes the same way whatever JSON type the vendor uses.
///
/// ```
/// use integration_core::error::Code;
/// let code = Code::from(11);
/// assert!(code == 11 && code == "11");
/// assert_eq!(Code::from(" 999 ").as_i64(), Some(999));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    /// The code as sent, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The code as a number, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
    /// A code from a JSON value: text or a number; anything else (null,
    /// empty text, objects) is no code.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(Self::from(s.as_str())),
            serde_json::Value::Number(n) => Some(Self(n.to_string())),
            _ => None,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Code {
    fn from(s: &str) -> Self {
        Self(s.trim().to_owned())
    }
}

impl From<String> for Code {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<i64> for Code {
    fn from(n: i64) -> Self {
        Self(n.to_string())
    }
}

impl PartialEq<i64> for Code {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connector error with a request id and a retry hint.
    #[derive(Debug, thiserror::Error)]
    #[error("locked")]
    struct Locked;

    impl Retry for Locked {
        fn is_retryable(&self) -> bool {
            true
        }
        fn retry_after(&self) -> Option<Duration> {
            Some(Duration::from_secs(3))
        }
    }

    impl ErrorMeta for Locked {
        fn system(&self) -> &'static str {
            "x"
        }
        fn api(&self) -> &str {
            "save"
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Business
        }
        fn code(&self) -> Option<&str> {
            Some("13")
        }
        fn message(&self) -> &str {
            "another user edits it"
        }
        fn request_id(&self) -> Option<&str> {
            Some("ctx-42")
        }
    }

    #[test]
    fn from_meta_carries_everything_the_connector_said() {
        let core = Error::from_meta(&Locked);
        assert_eq!(
            (
                core.system(),
                core.api_name(),
                core.kind(),
                core.code(),
                core.message()
            ),
            (
                "x",
                "save",
                ErrorKind::Business,
                Some("13"),
                "another user edits it"
            )
        );
        assert!(core.is_retryable());
        assert_eq!(core.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(ErrorMeta::request_id(&core), Some("ctx-42"));
    }
}
