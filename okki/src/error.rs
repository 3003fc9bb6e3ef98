//! The crate's error type and how OKKI's answers map onto it.
//!
//! OKKI answers in three shapes:
//!
//! * business calls: `{"code":200,"message":"success","now":"…","data":…}`,
//!   with business failures as **HTTP 200** and a `code` other than 200
//!   (e.g. `{"code":404,"message":"Not Found Resource"}`) → [`Error::Api`];
//! * the OAuth endpoints and a rejected token: a top-level
//!   `{"error":"invalid_client","error_description":…,"message":…}`
//!   → [`Error::OAuth`] (or [`Error::TokenRejected`] for `access_denied` /
//!   HTTP 401, which makes the client fetch a new token once);
//! * anything else (HTML from a proxy, a truncated body, a 5xx page) →
//!   [`Error::Core`] with a decode / HTTP kind and a short redacted excerpt.

use std::time::Duration;

use integration_core::{ErrorKind, Retry};

/// The system name used in errors and traces.
pub const SYSTEM: &str = "okki";

/// Everything that can go wrong talking to OKKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// OKKI answered with its envelope and a `code` other than 200 / 0.
    #[error("okki {api}: API error [code {code}]: {message}")]
    Api {
        /// The API path called, e.g. `/v1/company/info`.
        api: String,
        /// OKKI's `code` (not globally unique: 404 is also used for
        /// permission problems).
        code: i64,
        /// OKKI's `message`, as sent.
        message: String,
    },
    /// An OAuth2 error object (`{"error":…,"error_description":…}`), from
    /// the token endpoints or a business call.
    #[error("okki {api}: OAuth error {error} (HTTP {status}): {description}")]
    OAuth {
        /// The API path called.
        api: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error code, e.g. `invalid_client`.
        error: String,
        /// `error_description` (or `message`) as sent.
        description: String,
        /// The `hint`, when the server gave one.
        hint: Option<String>,
    },
    /// The access token was rejected (HTTP 401 or `"error":"access_denied"`):
    /// it expired or was revoked early. The client fetches a new token and
    /// repeats the call once.
    #[error("okki {api}: access token rejected (HTTP {status}): {message}")]
    TokenRejected {
        /// The API path called.
        api: String,
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A webhook delivery failed verification or decryption.
    #[error("okki webhook: {0}")]
    Webhook(String),
    /// A transport, HTTP, decode or configuration failure.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
}

impl From<integration_core::Error> for Error {
    fn from(e: integration_core::Error) -> Self {
        Error::Core(Box::new(e))
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// OAuth error codes that mean the credentials themselves are wrong.
const CREDENTIAL_ERRORS: &[&str] = &[
    "invalid_client",
    "invalid_credentials",
    "invalid_grant",
    "invalid_scope",
    "unsupported_grant_type",
    "invalid_request",
];

impl Error {
    /// The coarse kind of failure, shared with every connector.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { code, message, .. } => {
                if is_permission_message(*code, message) {
                    ErrorKind::Auth
                } else if *code == 429 {
                    ErrorKind::RateLimited
                } else {
                    ErrorKind::Business
                }
            }
            Error::OAuth { error, status, .. } => {
                if error == "server_error" || *status >= 500 {
                    ErrorKind::HttpStatus
                } else {
                    ErrorKind::Auth
                }
            }
            Error::TokenRejected { .. } => ErrorKind::AuthExpired,
            Error::Webhook(_) => ErrorKind::Auth,
            Error::Core(e) => e.kind(),
        }
    }

    /// OKKI's business `code`, when the failure came with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether this is OKKI's `404 Not Found Resource` (an unknown or
    /// deleted record), as opposed to the `404 No Privilege` that shares the
    /// code.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code: 404, message, .. } if message.trim().starts_with("Not Found Resource")
            && !message.contains("权限"))
    }

    /// Whether the credentials were rejected for good (wrong client id or
    /// secret, wrong password, a scope not granted).
    pub fn is_credentials(&self) -> bool {
        match self {
            Error::OAuth { error, .. } => CREDENTIAL_ERRORS.contains(&error.as_str()),
            Error::Api { code, message, .. } => is_permission_message(*code, message),
            _ => false,
        }
    }
}

/// `no permission invoices scopes` (missing module scope) and
/// `No Privilege` (not the follower of a private customer).
fn is_permission_message(code: i64, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.starts_with("no permission") || lower.contains("no privilege") || code == 403
}

impl Retry for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Error::Api { code, .. } => *code == 429,
            Error::OAuth { error, status, .. } => error == "server_error" || *status >= 500,
            Error::TokenRejected { .. } | Error::Webhook(_) => false,
            Error::Core(e) => e.is_retryable(),
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Core(e) => e.retry_after(),
            _ => None,
        }
    }

    fn is_auth_expired(&self) -> bool {
        matches!(self, Error::TokenRejected { .. })
    }
}

impl From<Error> for integration_core::Error {
    fn from(e: Error) -> Self {
        let kind = e.kind();
        let retryable = e.is_retryable();
        match e {
            Error::Core(core) => *core,
            Error::Api { api, code, message } => {
                integration_core::Error::new(SYSTEM, api, kind, message)
                    .with_code(code)
                    .with_retryable(retryable)
            }
            Error::OAuth {
                api,
                status,
                error,
                description,
                ..
            } => integration_core::Error::new(SYSTEM, api, kind, description)
                .with_code(error)
                .with_http_status(status)
                .with_retryable(retryable),
            Error::TokenRejected {
                api,
                status,
                message,
            } => integration_core::Error::new(SYSTEM, api, kind, message)
                .with_code("access_denied")
                .with_http_status(status)
                .with_retryable(retryable),
            Error::Webhook(message) => {
                integration_core::Error::new(SYSTEM, "webhook", kind, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        let nf = Error::Api {
            api: "/v1/company/info".into(),
            code: 404,
            message: "Not Found Resource".into(),
        };
        assert!(nf.is_not_found());
        assert_eq!(nf.kind(), ErrorKind::Business);
        assert!(!nf.is_retryable());
        let priv_ = Error::Api {
            api: "x".into(),
            code: 404,
            message: "No Privilege".into(),
        };
        assert!(!priv_.is_not_found());
        assert_eq!(priv_.kind(), ErrorKind::Auth);
        let scope = Error::Api {
            api: "x".into(),
            code: 403,
            message: "no permission invoices scopes".into(),
        };
        assert!(scope.is_credentials());
        let expired = Error::TokenRejected {
            api: "x".into(),
            status: 401,
            message: "denied".into(),
        };
        assert!(expired.is_auth_expired());
        let core: integration_core::Error = expired.into();
        assert_eq!(core.kind(), ErrorKind::AuthExpired);
        let core: integration_core::Error = nf.into();
        assert_eq!(core.code(), Some("404"));
    }
}
