//! The crate's error type: the gateway's envelope errors (with `code`,
//! `subCode`, `msg` and `contextId` kept), transport failures and
//! undecodable answers.

use std::fmt;
use std::time::Duration;

use integration_core::{ErrorKind, Retry};

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
        } else if msg.contains("限流")
            || msg.contains("频繁")
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

/// An error envelope from the gateway (`code != 200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The method called, e.g. `crm.customer.add`.
    pub method: String,
    /// The top-level `code` as sent (usually `0`).
    pub code: String,
    /// The 10-digit `subCode` (empty when absent).
    pub sub_code: String,
    /// The human-readable `msg`.
    pub msg: String,
    /// `result.contextId`, the gateway's request id, for support tickets.
    pub context_id: Option<String>,
    /// What the error means.
    pub class: ApiErrorClass,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "jackyun {}: code {}", self.method, self.code)?;
        if !self.sub_code.is_empty() {
            write!(f, ", subCode {}", self.sub_code)?;
        }
        write!(
            f,
            ": {}",
            if self.msg.is_empty() {
                "(no message)"
            } else {
                &self.msg
            }
        )?;
        if let Some(id) = &self.context_id {
            write!(f, " (contextId {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Everything that can go wrong calling Jackyun.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gateway answered with its error envelope.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The answer could not be decoded (malformed, truncated, HTML, empty,
    /// or a shape that does not match the method). Carries a short redacted
    /// excerpt of the body.
    #[error(transparent)]
    Decode(Box<integration_core::Error>),
    /// Connecting, sending or receiving failed, or the HTTP status was not
    /// 2xx, or the answer was too large.
    #[error(transparent)]
    Transport(Box<integration_core::Error>),
    /// The request was not sent because it is invalid as built.
    #[error("jackyun {method}: invalid request: {message}")]
    InvalidRequest {
        /// The method.
        method: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// An invalid-request error.
    pub fn invalid(method: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            method: method.into(),
            message: message.into(),
        }
    }

    /// A decode error about `what`, with a redacted excerpt of `body`.
    pub fn decode(method: &str, what: impl fmt::Display, body: &[u8]) -> Self {
        Self::Decode(Box::new(integration_core::Error::decode(
            SYSTEM, method, what, body,
        )))
    }

    /// The envelope error, when the gateway sent one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The `subCode` of an envelope error.
    pub fn sub_code(&self) -> Option<&str> {
        self.api_error().map(|e| e.sub_code.as_str())
    }

    /// The core kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api(e) => e.class.kind(),
            Self::Decode(e) | Self::Transport(e) => e.kind(),
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Self::Api(Box::new(e))
    }
}

impl From<integration_core::Error> for Error {
    fn from(e: integration_core::Error) -> Self {
        if e.kind() == ErrorKind::Decode {
            Self::Decode(Box::new(e))
        } else {
            Self::Transport(Box::new(e))
        }
    }
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => e.class.retryable(),
            Self::Decode(e) | Self::Transport(e) => e.is_retryable(),
            Self::InvalidRequest { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Decode(e) | Self::Transport(e) => e.retry_after(),
            _ => None,
        }
    }
}

impl From<Error> for integration_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Api(api) => {
                let code = if api.sub_code.is_empty() {
                    api.code.clone()
                } else {
                    api.sub_code.clone()
                };
                integration_core::Error::new(
                    SYSTEM,
                    api.method.clone(),
                    api.class.kind(),
                    api.to_string(),
                )
                .with_code(code)
                .with_retryable(api.class.retryable())
            }
            Error::Decode(e) | Error::Transport(e) => *e,
            Error::InvalidRequest { method, message } => {
                integration_core::Error::new(SYSTEM, method, ErrorKind::InvalidRequest, message)
            }
        }
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
    fn core_conversion_keeps_sub_code() {
        let e = Error::from(ApiError {
            method: "crm.customer.add".into(),
            code: "0".into(),
            sub_code: SUB_SIGN_ERROR.into(),
            msg: "签名错误".into(),
            context_id: Some("1".into()),
            class: ApiErrorClass::SignRejected,
        });
        let core: integration_core::Error = e.into();
        assert_eq!(core.code(), Some(SUB_SIGN_ERROR));
        assert_eq!(core.kind(), ErrorKind::Auth);
        assert!(core.to_string().contains("签名错误"));
    }
}
