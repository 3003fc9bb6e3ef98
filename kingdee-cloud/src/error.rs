//! The crate's error type: K/3 Cloud's `ResponseStatus` failures keep their
//! `MsgCode`, `ErrorCode` and per-record messages; everything below the
//! envelope (transport, HTTP status, undecodable bodies) is an
//! [`integration_core::Error`].

use std::time::Duration;

use integration_core::{ErrorKind, Retry};

use crate::operations::FieldError;

/// The system name used in errors and logs.
pub const SYSTEM: &str = "kingdee-cloud";

/// K/3 Cloud's `MsgCode` values (fact sheet §3; Low–Medium confidence).
pub mod msg_code {
    /// No special meaning.
    pub const NONE: i64 = 0;
    /// The session is lost or the caller is not logged in.
    pub const SESSION_LOST: i64 = 1;
    /// Licence / authorisation failure (also a rejected app signature).
    pub const AUTHORISATION: i64 = 2;
    /// A value that must be unique is not (duplicate number).
    pub const NOT_UNIQUE: i64 = 4;
    /// A business rule refused the operation.
    pub const BUSINESS_RULE: i64 = 9;
    /// The user lacks the permission.
    pub const NO_PERMISSION: i64 = 11;
    /// The data was not found.
    pub const NOT_FOUND: i64 = 12;
}

/// A failed K/3 Cloud call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Transport, timeout, HTTP status, throttling or an undecodable answer.
    #[error(transparent)]
    Core(Box<integration_core::Error>),

    /// The service answered with `ResponseStatus.IsSuccess = false`.
    #[error("kingdee-cloud {api}: API error [MsgCode {msg_code}]: {message}")]
    Api {
        /// The operation, e.g. `Save`.
        api: String,
        /// `ResponseStatus.MsgCode`.
        msg_code: i64,
        /// `ResponseStatus.ErrorCode`.
        error_code: Option<i64>,
        /// The messages of `Errors`, joined.
        message: String,
        /// `ResponseStatus.Errors` as sent (field, message, `DIndex`).
        errors: Vec<FieldError>,
    },

    /// The session is lost (`MsgCode` 1); the client logs in again and
    /// repeats the call once before surfacing this.
    #[error("kingdee-cloud {api}: session lost: {message}")]
    SessionLost {
        /// The operation.
        api: String,
        /// Kingdee's message.
        message: String,
    },

    /// Login refused, signature rejected, licence or permission missing
    /// (`LoginResultType` ≠ 1, `MsgCode` 2 or 11).
    #[error("kingdee-cloud {api}: authentication failed{}: {message}", code.map(|c| format!(" [MsgCode {c}]")).unwrap_or_default())]
    Auth {
        /// The operation.
        api: String,
        /// The `MsgCode` or `LoginResultType`, when there was one.
        code: Option<i64>,
        /// Kingdee's message.
        message: String,
    },

    /// An HTTP 200 body starting with `response_error:`; the message follows
    /// the prefix.
    #[error("kingdee-cloud {api}: response_error: {message}")]
    ResponseError {
        /// The operation.
        api: String,
        /// The text after the prefix (redacted, shortened).
        message: String,
    },
}

impl Error {
    /// The `MsgCode` when the service gave one.
    pub fn msg_code(&self) -> Option<i64> {
        match self {
            Error::Api { msg_code, .. } => Some(*msg_code),
            Error::SessionLost { .. } => Some(msg_code::SESSION_LOST),
            Error::Auth { code, .. } => *code,
            _ => None,
        }
    }

    /// The per-record errors of a `ResponseStatus` failure.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The [`ErrorKind`] this error converts to.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Core(e) => e.kind(),
            Error::Api { .. } | Error::ResponseError { .. } => ErrorKind::Business,
            Error::SessionLost { .. } => ErrorKind::AuthExpired,
            Error::Auth { .. } => ErrorKind::Auth,
        }
    }

    /// Whether this is the "session lost" answer (`MsgCode` 1).
    pub fn is_session_lost(&self) -> bool {
        match self {
            Error::SessionLost { .. } => true,
            Error::Core(e) => e.kind() == ErrorKind::AuthExpired,
            _ => false,
        }
    }

    pub(crate) fn decode(api: &str, what: impl std::fmt::Display, body: &[u8]) -> Self {
        Error::Core(Box::new(integration_core::Error::decode(
            SYSTEM, api, what, body,
        )))
    }

    pub(crate) fn invalid(api: &str, what: impl Into<String>) -> Self {
        Error::Core(Box::new(integration_core::Error::new(
            SYSTEM,
            api,
            ErrorKind::InvalidRequest,
            what,
        )))
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
            Error::Core(e) => e.is_retryable(),
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Core(e) => Retry::retry_after(e.as_ref()),
            _ => None,
        }
    }

    fn is_auth_expired(&self) -> bool {
        self.is_session_lost()
    }
}

impl From<Error> for integration_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(e) => *e,
            Error::Api {
                api,
                msg_code,
                message,
                ..
            } => integration_core::Error::api(SYSTEM, api, msg_code, message),
            Error::SessionLost { api, message } => {
                integration_core::Error::new(SYSTEM, api, ErrorKind::AuthExpired, message)
                    .with_code(msg_code::SESSION_LOST)
            }
            Error::Auth { api, code, message } => {
                let e = integration_core::Error::new(SYSTEM, api, ErrorKind::Auth, message);
                match code {
                    Some(c) => e.with_code(c),
                    None => e,
                }
            }
            Error::ResponseError { api, message } => {
                integration_core::Error::api(SYSTEM, api, "response_error", message)
            }
        }
    }
}

/// Short alias for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
