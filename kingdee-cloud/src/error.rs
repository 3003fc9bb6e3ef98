//! The crate's error type: K/3 Cloud's `ResponseStatus` failures keep their
//! `MsgCode`, `ErrorCode` and per-record messages; everything below the
//! envelope (transport, HTTP status, undecodable bodies) is an
//! [`integration_core::Error`].

use std::time::Duration;

use integration_core::error::Code;
use integration_core::error::Meta;
use integration_core::{ConnectorError, ErrorKind, Retry};

use crate::operations::FieldError;

/// The system name used in errors and logs.
pub const SYSTEM: &str = "kingdee-cloud";

/// K/3 Cloud's `MsgCode` values, as Kingdee's WebAPI documentation lists
/// them (fact sheet §3, corrected 2026-12). [`classify`] says what each
/// means for a caller.
pub mod msg_code {
    /// No special meaning (默认).
    pub const NONE: i64 = 0;
    /// The session is lost or the caller is not logged in (上下文丢失).
    pub const SESSION_LOST: i64 = 1;
    /// The user lacks the permission (没有权限); also a rejected app
    /// signature.
    pub const NO_PERMISSION: i64 = 2;
    /// The operation id is empty (操作标识为空).
    pub const NO_OPERATION: i64 = 3;
    /// The service raised an exception (异常).
    pub const EXCEPTION: i64 = 4;
    /// The form id is empty (单据标识为空).
    pub const NO_FORM_ID: i64 = 5;
    /// A database operation failed (数据库操作失败).
    pub const DATABASE: i64 = 6;
    /// Licence failure (许可错误).
    pub const LICENCE: i64 = 7;
    /// A bad argument (参数错误).
    pub const BAD_ARGUMENT: i64 = 8;
    /// A named field or value does not exist (指定字段/值不存在).
    pub const NO_SUCH_FIELD: i64 = 9;
    /// The data was not found (未找到对应数据).
    pub const NOT_FOUND: i64 = 10;
    /// Validation failed (验证失败): duplicate numbers, missing required
    /// fields, "already audited". An ordinary per-record refusal.
    pub const VALIDATION_FAILED: i64 = 11;
    /// Not operable in the record's state (不可操作).
    pub const NOT_OPERABLE: i64 = 12;
    /// Another user holds the network-control lock (网控冲突).
    pub const NETWORK_LOCK: i64 = 13;
    /// The call limit was reached (调用限制): throttled.
    pub const CALL_LIMIT: i64 = 14;
    /// Administrators may not log in (禁止管理员登录).
    pub const ADMIN_LOGIN_FORBIDDEN: i64 = 15;

    /// Kingdee's name for a code, in Chinese and English, for messages.
    pub fn meaning(code: i64) -> &'static str {
        match code {
            NONE => "默认",
            SESSION_LOST => "上下文丢失, session lost",
            NO_PERMISSION => "没有权限, no permission",
            NO_OPERATION => "操作标识为空, no operation id",
            EXCEPTION => "异常, exception",
            NO_FORM_ID => "单据标识为空, no form id",
            DATABASE => "数据库操作失败, database operation failed",
            LICENCE => "许可错误, licence error",
            BAD_ARGUMENT => "参数错误, bad argument",
            NO_SUCH_FIELD => "指定字段/值不存在, field or value does not exist",
            NOT_FOUND => "未找到对应数据, not found",
            VALIDATION_FAILED => "验证失败, validation failed",
            NOT_OPERABLE => "不可操作, not operable",
            NETWORK_LOCK => "网控冲突, locked by another user",
            CALL_LIMIT => "调用限制, call limit",
            ADMIN_LOGIN_FORBIDDEN => "禁止管理员登录, administrator login forbidden",
            _ => "unknown code",
        }
    }
}

/// What a failed answer's `MsgCode` means for the caller; the one place
/// where codes are classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgClass {
    /// 1: log in again and repeat the call once.
    SessionLost,
    /// 2, 7, 15: credentials, permission or licence; no retry helps, the
    /// run stops with the message.
    Denied,
    /// 14: the call limit; retried with backoff.
    Throttled,
    /// 13: another user holds the record's lock; retried later.
    Locked,
    /// Everything else (11 validation, 12 not operable, 10 not found, ...):
    /// this record was refused; never retried.
    Business,
}

/// Classifies a `MsgCode`.
pub fn classify(code: i64) -> MsgClass {
    match code {
        msg_code::SESSION_LOST => MsgClass::SessionLost,
        msg_code::NO_PERMISSION | msg_code::LICENCE | msg_code::ADMIN_LOGIN_FORBIDDEN => {
            MsgClass::Denied
        }
        msg_code::CALL_LIMIT => MsgClass::Throttled,
        msg_code::NETWORK_LOCK => MsgClass::Locked,
        _ => MsgClass::Business,
    }
}

/// A failed K/3 Cloud call. The variants are the same as in every
/// connector of this workspace (`Api`, `Auth`, `AuthExpired`, `Throttled`,
/// `Config`, `Core`), plus [`Error::ResponseError`]; the metadata
/// (`code()`, `message()`, `kind()`, ...) is [`ErrorMeta`](integration_core::ErrorMeta).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the call or a record (`ResponseStatus.IsSuccess =
    /// false`): validation (`MsgCode` 11), not operable, not found, a
    /// network-control lock (13, retryable later), ...
    #[error(
        "kingdee-cloud {api}: API error [MsgCode {code}: {}]: {message}",
        meaning(code)
    )]
    Api {
        /// The operation, e.g. `Save`.
        api: String,
        /// `ResponseStatus.MsgCode` ([`msg_code`]).
        code: Code,
        /// `ResponseStatus.ErrorCode`.
        error_code: Option<i64>,
        /// The messages of `Errors`, joined.
        message: String,
        /// `ResponseStatus.Errors` as sent (field, message, `DIndex`).
        errors: Vec<FieldError>,
    },

    /// Login refused, signature rejected, permission or licence missing
    /// (`LoginResultType` ≠ 1, `MsgCode` 2, 7 or 15, whose meaning opens
    /// the message). No retry helps: a person must fix the credentials, the
    /// user's rights or the licence.
    #[error("kingdee-cloud {api}: authentication failed{}: {message}", code.as_ref().map(|c| format!(" [MsgCode {c}]")).unwrap_or_default())]
    Auth {
        /// The operation.
        api: String,
        /// The `MsgCode` or `LoginResultType`, when there was one.
        code: Option<Code>,
        /// Kingdee's message.
        message: String,
    },

    /// The session is lost (`MsgCode` 1); the client logs in again and
    /// repeats the call once before surfacing this.
    #[error("kingdee-cloud {api}: session lost [MsgCode 1]: {message}")]
    AuthExpired {
        /// The operation.
        api: String,
        /// `MsgCode` 1.
        code: Option<Code>,
        /// Kingdee's message.
        message: String,
    },

    /// The site's call limit was reached (`MsgCode` 14); the transport
    /// retries with backoff before surfacing this.
    #[error(
        "kingdee-cloud {api}: throttled [MsgCode 14: {}]: {message}",
        msg_code::meaning(msg_code::CALL_LIMIT)
    )]
    Throttled {
        /// The operation.
        api: String,
        /// `MsgCode` 14.
        code: Option<Code>,
        /// Kingdee's message.
        message: String,
        /// Kingdee sends no retry-after hint: always `None`.
        retry_after: Option<Duration>,
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

    /// The client was configured wrongly or a request cannot be built.
    #[error("kingdee-cloud: invalid configuration or request: {0}")]
    Config(String),

    /// Transport, timeout, HTTP status or an undecodable answer.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

fn meaning(code: &Code) -> &'static str {
    code.as_i64().map_or("unknown code", msg_code::meaning)
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
            Error::Auth { api, code, message } => Meta::new(api, Auth, code.as_ref(), message),
            Error::AuthExpired { api, code, message } => {
                Meta::new(api, AuthExpired, code.as_ref(), message)
            }
            Error::Throttled {
                api, code, message, ..
            } => Meta::new(api, RateLimited, code.as_ref(), message),
            Error::ResponseError { api, message } => Meta::Own {
                api,
                kind: Business,
                code: Some("response_error"),
                message,
                request_id: None,
            },
            Error::Config(message) => Meta::new("client", InvalidRequest, None, message),
            Error::Core(e) => Meta::Core(e),
        }
    }
}

impl Error {
    /// The `MsgCode` when the service gave one ([`msg_code`]).
    pub fn msg_code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => code.as_i64(),
            Error::Auth { code, .. }
            | Error::AuthExpired { code, .. }
            | Error::Throttled { code, .. } => code.as_ref().and_then(Code::as_i64),
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

    /// Whether this is the "session lost" answer (`MsgCode` 1).
    pub fn is_session_lost(&self) -> bool {
        self.kind() == ErrorKind::AuthExpired
    }

    pub(crate) fn decode(api: &str, what: impl std::fmt::Display, body: &[u8]) -> Self {
        Error::Core(Box::new(integration_core::Error::decode(
            SYSTEM, api, what, body,
        )))
    }

    /// A request that cannot be built (`api: what`), or a bad setting
    /// (`api` is `"client"`).
    pub(crate) fn invalid(api: &str, what: impl std::fmt::Display) -> Self {
        match api {
            "client" => Error::Config(what.to_string()),
            _ => Error::Config(format!("{api}: {what}")),
        }
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
            Error::Throttled { .. } => true,
            Error::Api { code, .. } => code
                .as_i64()
                .is_some_and(|c| classify(c) == MsgClass::Locked),
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Core(e) => Retry::retry_after(e.as_ref()),
            Error::Throttled { retry_after, .. } => *retry_after,
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
            other => integration_core::Error::from_meta(&other),
        }
    }
}

/// Short alias for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
