//! What every connector's error is made of, so that all seven read the same:
//! the standard variants `Api`, `Auth`, `AuthExpired`, `Throttled` carry a
//! [`Failure`] (what the vendor said), `Config` a message and `Core` the core
//! [`Error`]. A connector says once, per variant, what [`Meta`] it carries
//! ([`ConnectorError::meta`]); [`ErrorMeta`], [`Retry`] and the conversions
//! follow from that ([`connector_error!`](crate::connector_error)).

use std::fmt;
use std::time::Duration;

use super::{Code, Error, ErrorKind, Retry};

/// What a vendor answered when it refused a call: the payload of the `Api`,
/// `Auth`, `AuthExpired` and `Throttled` variants of every connector's error.
///
/// ```
/// use integration_core::error::Failure;
/// let f = Failure::new("BatchSave", "编码唯一").with_code(11).with_request_id(Some("r-1"));
/// assert_eq!(f.to_string(), "BatchSave [code 11]: 编码唯一 (request id r-1)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The API called, e.g. `BatchSave` or `crm.customer.add`.
    pub api: String,
    /// The vendor's code, when it gave one.
    pub code: Option<Code>,
    /// The vendor's message (redacted).
    pub message: String,
    /// The HTTP status of the answer, where the connector keeps it.
    pub http_status: Option<u16>,
    /// How long the vendor asked us to wait (throttling), when it said.
    pub retry_after: Option<Duration>,
    /// The vendor's request or trace id, when its answers carry one.
    pub request_id: Option<String>,
}

impl Failure {
    /// What the vendor said about a call of `api`.
    pub fn new(api: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            api: api.into(),
            code: None,
            message: message.into(),
            http_status: None,
            retry_after: None,
            request_id: None,
        }
    }

    /// With the vendor's code.
    pub fn with_code(mut self, code: impl Into<Code>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// With the vendor's code, when there is one.
    pub fn with_opt_code(mut self, code: Option<Code>) -> Self {
        self.code = code;
        self
    }

    /// With the HTTP status of the answer.
    pub fn with_http_status(mut self, status: impl Into<Option<u16>>) -> Self {
        self.http_status = status.into();
        self
    }

    /// With the wait the vendor asked for.
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// With the vendor's request id, when there is one.
    pub fn with_request_id(mut self, id: Option<impl Into<String>>) -> Self {
        self.request_id = id.map(Into::into);
        self
    }

    /// The code as text, when there is one.
    pub fn code_str(&self) -> Option<&str> {
        self.code.as_ref().map(Code::as_str)
    }

    /// This failure's metadata as a variant of `kind` (retryable when
    /// throttled, see [`Meta::retryable`]).
    pub fn meta(&self, kind: ErrorKind) -> Meta<'_> {
        Meta::Own {
            api: &self.api,
            kind,
            code: self.code_str(),
            message: &self.message,
            request_id: self.request_id.as_deref(),
            http_status: self.http_status,
            retry_after: self.retry_after,
            retryable: kind == ErrorKind::RateLimited,
        }
    }
}

/// `api [code c] (HTTP s): message (request id r)`, each part when known; a
/// variant's message puts its system and what happened in front.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api)?;
        if let Some(code) = &self.code {
            write!(f, " [code {code}]")?;
        }
        if let Some(status) = self.http_status {
            write!(f, " (HTTP {status})")?;
        }
        match self.message.as_str() {
            "" => f.write_str(": (no message)")?,
            message => write!(f, ": {message}")?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
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
    /// The HTTP status of the answer, when the error keeps it.
    fn http_status(&self) -> Option<u16> {
        None
    }
}

/// What one variant of a connector's error says: a [`Failure`] as a kind
/// ([`Failure::meta`]), a message of the connector's own ([`Meta::new`]), or
/// the core error it wraps ([`Meta::Core`]).
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
        /// The HTTP status of the answer, when kept.
        http_status: Option<u16>,
        /// The wait the vendor asked for, when it said.
        retry_after: Option<Duration>,
        /// Whether sending the same call again may succeed.
        retryable: bool,
    },
    /// The core error of an `Error::Core` variant.
    Core(&'a Error),
}

impl<'a> Meta<'a> {
    /// A variant's metadata from its parts; not retryable.
    pub fn new(api: &'a str, kind: ErrorKind, code: Option<&'a Code>, message: &'a str) -> Self {
        Meta::Own {
            api,
            kind,
            code: code.map(Code::as_str),
            message,
            request_id: None,
            http_status: None,
            retry_after: None,
            retryable: false,
        }
    }

    /// A bad setting or a request that cannot be built: nothing was sent.
    pub fn config(message: &'a str) -> Self {
        Self::new("client", ErrorKind::InvalidRequest, None, message)
    }

    /// The same, retryable or not as the connector knows (a locked record,
    /// a stale timestamp that a fresh signature fixes).
    pub fn retryable(mut self, yes: bool) -> Self {
        if let Meta::Own { retryable, .. } = &mut self {
            *retryable = yes;
        }
        self
    }
}

/// A connector's error: it says once, per variant, what [`Meta`] the
/// variant carries, and gets [`ErrorMeta`] and [`Retry`] from that.
pub trait ConnectorError: std::error::Error {
    /// The system, e.g. `"kingdee-cloud"`.
    const SYSTEM: &'static str;
    /// What this error says.
    fn meta(&self) -> Meta<'_>;
    /// Whether a fresh login may fix it ([`Retry::is_auth_expired`]): by
    /// default when it is [`ErrorKind::AuthExpired`].
    fn login_may_fix(&self) -> bool {
        match self.meta() {
            Meta::Own { kind, .. } => kind == ErrorKind::AuthExpired,
            Meta::Core(e) => e.is_auth_expired(),
        }
    }
}

impl<T: ConnectorError> Retry for T {
    fn is_retryable(&self) -> bool {
        match self.meta() {
            Meta::Own { retryable, .. } => retryable,
            Meta::Core(e) => e.is_retryable(),
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        match self.meta() {
            Meta::Own { retry_after, .. } => retry_after,
            Meta::Core(e) => Retry::retry_after(e),
        }
    }
    fn is_auth_expired(&self) -> bool {
        self.login_may_fix()
    }
    fn failure_kind(&self) -> Option<ErrorKind> {
        Some(match self.meta() {
            Meta::Own { kind, .. } => kind,
            Meta::Core(e) => e.kind(),
        })
    }
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
    fn http_status(&self) -> Option<u16> {
        match self.meta() {
            Meta::Own { http_status, .. } => http_status,
            Meta::Core(e) => e.http_status(),
        }
    }
}

impl Error {
    /// This error of a connector as the core error: system, API, kind,
    /// code, message, HTTP status, request id and retry hints carried over.
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
        if let Some(status) = e.http_status() {
            core = core.with_http_status(status);
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
    fn http_status(&self) -> Option<u16> {
        self.0.http_status
    }
}

#[cfg(test)]
#[allow(dead_code)] // the macro's accessors, unused by these tests
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Sample {
        #[error("sample {0}")]
        Throttled(Failure),
        #[error("sample {0}")]
        Locked(Failure),
        #[error("sample: {0}")]
        Config(String),
        #[error(transparent)]
        Core(Box<Error>),
    }

    crate::connector_error! {
        Sample("sample") { Throttled }
        match {
            Sample::Locked(f) => f.meta(ErrorKind::Business).retryable(true),
        }
    }

    fn locked() -> Sample {
        Sample::Locked(
            Failure::new("save", "another user edits it")
                .with_code(13)
                .with_http_status(200)
                .with_request_id(Some("ctx-42")),
        )
    }

    #[test]
    fn the_core_error_carries_everything_the_connector_said() {
        let core = Error::from(locked());
        assert_eq!(
            (
                core.system(),
                core.api_name(),
                core.kind(),
                core.code(),
                core.message(),
                core.http_status(),
                ErrorMeta::request_id(&core),
            ),
            (
                "sample",
                "save",
                ErrorKind::Business,
                Some("13"),
                "another user edits it",
                Some(200),
                Some("ctx-42"),
            )
        );
        assert!(core.is_retryable());
        assert!(core.to_string().ends_with("(request id ctx-42)"), "{core}");
    }

    #[test]
    fn retry_hints_follow_the_variants_meta() {
        let wait = Some(Duration::from_secs(3));
        let throttled = Sample::Throttled(Failure::new("list", "").with_retry_after(wait));
        assert!(throttled.is_retryable());
        assert_eq!(Retry::retry_after(&throttled), wait);
        assert_eq!(throttled.to_string(), "sample list: (no message)");
        assert!(locked().is_retryable());
        let config = Sample::Config("bad base_url".into());
        assert!(!config.is_retryable());
        assert_eq!(
            (config.api(), config.kind()),
            ("client", ErrorKind::InvalidRequest)
        );
        let core = Sample::from(Error::new("sample", "get", ErrorKind::AuthExpired, "x"));
        assert!(core.is_auth_expired() && !locked().is_auth_expired());
        assert!(matches!(Sample::from(Error::from(core)), Sample::Core(_)));
    }
}
