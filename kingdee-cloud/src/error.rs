//! The crate's error type: K/3 Cloud's `ResponseStatus` failures keep their
//! `MsgCode`, `ErrorCode` and per-record messages; everything below the
//! envelope (transport, HTTP status, undecodable bodies) is an
//! [`integration_core::Error`].

use integration_core::ErrorKind;
use integration_core::error::Failure;
use serde_json::Value;

use crate::operations::{FieldError, ResponseStatus};

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
/// connector of this workspace (`Api`, `Auth`, `AuthExpired`, `Throttled`
/// with the vendor's [`Failure`], `Config`, `Core`), plus
/// [`Error::ResponseError`]; the metadata (`code()`, `message()`, `kind()`,
/// ...) is [`ErrorMeta`](integration_core::ErrorMeta). A [`Failure`]'s `api`
/// is the operation (e.g. `Save`), its `code` the `MsgCode` ([`msg_code`]),
/// whose meaning the messages name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service refused the call or a record (`ResponseStatus.IsSuccess =
    /// false`): validation (`MsgCode` 11), not operable, not found, a
    /// network-control lock (13, retryable later), ... The message joins
    /// the messages of `Errors`; the `ResponseStatus` follows as sent
    /// (`ErrorCode`, `Errors` by field and `DIndex`, see
    /// [`Error::field_errors`]). Both are boxed: a `Failure` and anything
    /// more inline would make every `Result` of the crate too large.
    #[error("kingdee-cloud API error ({}) in {}", msg_code::meaning(.1.msg_code), .0)]
    Api(Box<Failure>, Box<ResponseStatus>),

    /// Login refused, signature rejected, permission or licence missing
    /// (`LoginResultType` ≠ 1 with no code, or `MsgCode` 2, 7 or 15, whose
    /// meaning opens the message). No retry helps: a person must fix the
    /// credentials, the user's rights or the licence.
    #[error("kingdee-cloud authentication failed in {0}")]
    Auth(Failure),

    /// The session is lost (`MsgCode` 1); the client logs in again and
    /// repeats the call once before surfacing this.
    #[error("kingdee-cloud session lost in {0}")]
    AuthExpired(Failure),

    /// The site's call limit was reached (`MsgCode` 14); the transport
    /// retries with backoff before surfacing this. Kingdee sends no
    /// retry-after hint.
    #[error("kingdee-cloud throttled (调用限制, call limit) in {0}")]
    Throttled(Failure),

    /// An HTTP 200 body starting with `response_error:`: the code is
    /// `response_error`, the message the text after the prefix (redacted,
    /// shortened).
    #[error("kingdee-cloud response_error answer in {0}")]
    ResponseError(Failure),

    /// The client was configured wrongly or a request cannot be built.
    #[error("kingdee-cloud: invalid configuration or request: {0}")]
    Config(String),

    /// Transport, timeout, HTTP status or an undecodable answer.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

integration_core::connector_error! {
    Error(SYSTEM) { Auth, AuthExpired, Throttled, ResponseError => Business }
    match {
        // A locked record (13) is free again once the other user is done.
        Error::Api(f, status) => f
            .meta(ErrorKind::Business)
            .retryable(status.class() == MsgClass::Locked),
    }
}

impl Error {
    /// The `MsgCode` when the service gave one ([`msg_code`]).
    pub fn msg_code(&self) -> Option<i64> {
        match self {
            Error::Api(..) | Error::Auth(_) | Error::AuthExpired(_) | Error::Throttled(_) => {
                self.code()?.parse().ok()
            }
            _ => None,
        }
    }

    /// The per-record errors of a `ResponseStatus` failure.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Api(_, status) => &status.errors,
            _ => &[],
        }
    }

    /// Whether this is the "session lost" answer (`MsgCode` 1).
    pub fn is_session_lost(&self) -> bool {
        self.kind() == ErrorKind::AuthExpired
    }

    /// An answer of `api` that is not what `what` expected, quoting it.
    pub(crate) fn decode(api: &str, what: impl std::fmt::Display, answer: &Value) -> Self {
        let body = answer.to_string();
        integration_core::Error::decode(SYSTEM, api, what, body.as_bytes()).into()
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

/// Short alias for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
