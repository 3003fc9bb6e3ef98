//! The crate's error type and how OKKI's answers map onto it.
//!
//! The variants are the same as in every connector of this workspace
//! (`Api`, `Auth`, `AuthExpired`, `Throttled`, `Config`, `Core`), plus
//! [`Error::Webhook`]; the metadata (`code()`, `message()`, `kind()`, ...)
//! is [`ErrorMeta`](integration_core::ErrorMeta). OKKI answers in three shapes:
//!
//! * business calls: `{"code":200,"message":"success","now":"…","data":…}`,
//!   with business failures as **HTTP 200** and a `code` other than 200
//!   (e.g. `{"code":404,"message":"Not Found Resource"}`) → [`Error::Api`]
//!   (a missing scope or privilege → [`Error::Auth`], code 429 →
//!   [`Error::Throttled`]);
//! * the OAuth endpoints and a rejected token: a top-level
//!   `{"error":"invalid_client","error_description":…,"message":…}`
//!   → [`Error::Auth`] with the OAuth error as its code (or
//!   [`Error::AuthExpired`] for `access_denied` / HTTP 401, which makes the
//!   client fetch a new token once; `server_error` or a 5xx is
//!   [`Error::Core`] with [`ErrorKind::HttpStatus`], retryable);
//! * anything else (HTML from a proxy, a truncated body, a 5xx page) →
//!   [`Error::Core`] with a decode / HTTP kind and a short redacted excerpt.

use integration_core::error::{Failure, Meta};
use integration_core::{ErrorKind, RawResponse};
use serde_json::{Map, Value};

/// An answer object's members ([`integration_core::envelope::json_object`]).
pub(crate) type Members = Map<String, Value>;

/// The system name used in errors and traces.
pub const SYSTEM: &str = "okki";

/// Everything that can go wrong talking to OKKI. OKKI's answers carry no
/// request id; the HTTP status is kept for OAuth answers only (an envelope
/// comes with HTTP 200).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// OKKI answered with its envelope and a `code` other than 200 / 0 (and
    /// not a permission or throttle answer): the API path called (e.g.
    /// `/v1/company/info`), OKKI's `code` (not globally unique: 404 is also
    /// used for permission problems) and its `message`, as sent.
    #[error("okki API error in {0}")]
    Api(Failure),
    /// Credentials or permission refused: an OAuth error object
    /// (`{"error":"invalid_client",…}`, from the token endpoints or a
    /// business call) with the OAuth `error` as code, `error_description`
    /// (or `message`) and its `hint` in parentheses as message, and the
    /// HTTP status; or an envelope refusing a missing scope (`no permission
    /// <scope> scopes`) or privilege (`No Privilege`, code 403), with its
    /// `code` and `message` and no HTTP status. Not retried.
    #[error("okki authentication failed in {0}")]
    Auth(Failure),
    /// The access token was rejected (HTTP 401 or `"error":"access_denied"`):
    /// it expired or was revoked early; the code is the body's OAuth `error`
    /// when it had one, the HTTP status is always there. The client fetches
    /// a new token and repeats the call once before surfacing this.
    #[error("okki access token rejected in {0}")]
    AuthExpired(Failure),
    /// OKKI's envelope said `code` 429 (an HTTP 429 is [`Error::Core`] with
    /// [`ErrorKind::RateLimited`]); it gives no wait. Retried, for writes too.
    #[error("okki throttled in {0}")]
    Throttled(Failure),
    /// A webhook delivery failed verification or decryption. OKKI-specific:
    /// no call was made, the delivery OKKI pushed is refused (as an
    /// authentication failure, api `webhook`).
    #[error("okki webhook: {0}")]
    Webhook(String),
    /// The client was configured wrongly or a request cannot be built.
    #[error("okki: invalid configuration or request: {0}")]
    Config(String),
    /// A transport, HTTP status, decode or body-size failure.
    #[error(transparent)]
    Core(Box<integration_core::Error>),
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

integration_core::connector_error! {
    Error(SYSTEM) { Api, Auth, AuthExpired, Throttled }
    match {
        Error::Webhook(message) => Meta::new("webhook", ErrorKind::Auth, None, message),
    }
}

impl Error {
    /// Whether this is OKKI's `404 Not Found Resource` (an unknown or
    /// deleted record), as opposed to the `404 No Privilege` that shares the
    /// code.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(f) if f.code.as_ref().is_some_and(|c| *c == 404)
            && f.message.trim().starts_with("Not Found Resource")
            && !f.message.contains("权限"))
    }

    /// Whether the credentials were rejected for good (wrong client id or
    /// secret, wrong password, a scope or privilege not granted).
    pub fn is_credentials(&self) -> bool {
        match self {
            // An envelope's code is a number: a refused scope or privilege.
            // An OAuth error is text: only some name the credentials.
            Error::Auth(Failure {
                code: Some(code), ..
            }) => code.as_i64().is_some() || CREDENTIAL_ERRORS.contains(&code.as_str()),
            _ => false,
        }
    }

    /// A request that cannot be built (`api: what`), or a bad setting
    /// (`api` is `"client"`).
    pub(crate) fn invalid(api: &str, what: impl std::fmt::Display) -> Self {
        match api {
            "client" => Error::Config(what.to_string()),
            _ => Error::Config(format!("{api}: {what}")),
        }
    }

    /// Classifies an envelope's non-success `code`: a missing scope or
    /// privilege, throttling, or a business refusal.
    pub(crate) fn from_envelope(api: &str, code: i64, message: String) -> Self {
        let failure = Failure::new(api, message).with_code(code);
        if is_permission_message(code, &failure.message) {
            Error::Auth(failure)
        } else if code == 429 {
            Error::Throttled(failure)
        } else {
            Error::Api(failure)
        }
    }
}

/// `no permission invoices scopes` (missing module scope) and
/// `No Privilege` (not the follower of a private customer).
fn is_permission_message(code: i64, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.starts_with("no permission") || lower.contains("no privilege") || code == 403
}

/// OKKI's message: the first non-empty text among `error_description`,
/// `message`, `msg` and `hint`, in an envelope and an OAuth error object
/// alike (not the core [`Envelope`](integration_core::envelope::Envelope)'s
/// message, which is the first *present* name, text or not).
fn message_of(members: &Members) -> String {
    ["error_description", "message", "msg", "hint"]
        .iter()
        .find_map(|k| {
            members
                .get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("")
        .to_owned()
}

/// An OAuth error object (`{"error":"…",…}` without a `code`), if `members` are one.
pub(crate) fn oauth_error(raw: &RawResponse, members: &Members) -> Option<Error> {
    let error = members.get("error")?.as_str()?.to_owned();
    if members.contains_key("code") && members.contains_key("data") {
        return None;
    }
    let status = raw.status.as_u16();
    let message = oauth_message(members);
    if error == "server_error" || status >= 500 {
        // The server failed, not the credentials: retryable like a 5xx.
        return Some(
            integration_core::Error::new(SYSTEM, raw.api(), ErrorKind::HttpStatus, message)
                .with_code(error)
                .with_http_status(status)
                .with_retryable(true)
                .into(),
        );
    }
    let failure = Failure::new(raw.api(), message)
        .with_code(error.as_str())
        .with_http_status(status);
    Some(match (error.as_str(), status) {
        ("access_denied", _) | (_, 401) => Error::AuthExpired(failure),
        _ => Error::Auth(failure),
    })
}

/// An OAuth error's description, redacted, with its `hint` (which says
/// why, e.g. "Token has been revoked") in parentheses.
pub(crate) fn oauth_message(members: &Members) -> String {
    let message = integration_core::secret::redact_text(&message_of(members));
    let hint = members
        .get("hint")
        .and_then(Value::as_str)
        .map(integration_core::secret::redact_text)
        .unwrap_or_default();
    if hint.is_empty() || hint == message {
        message
    } else if message.is_empty() {
        hint
    } else {
        format!("{message} ({hint})")
    }
}

/// OKKI's success codes.
const SUCCESS: [i64; 2] = [200, 0];

/// The envelope's `code`, an integer sent as a number or numeric text and
/// read leniently (`200`, `"200"`, `200.0`; a core `Code` would keep
/// `200.0` as text): `None` when absent, an error when it cannot be read.
fn envelope_code(members: &Members) -> std::result::Result<Option<i64>, serde_json::Error> {
    members
        .get("code")
        .map_or(Ok(None), crate::lenient::opt_i64)
}

/// The error of an envelope with a readable `code` other than 200 / 0.
pub(crate) fn envelope_error(api: &str, members: &Members) -> Option<Error> {
    let code = envelope_code(members).ok().flatten()?;
    (!SUCCESS.contains(&code)).then(|| Error::from_envelope(api, code, message_of(members)))
}

/// A business answer's verdict: `Ok` for 200 / 0, the classified error for
/// another code, a decode error when the code is absent or unreadable
/// (never a success).
pub(crate) fn envelope_verdict(raw: &RawResponse, members: &Members) -> Result<()> {
    match envelope_code(members) {
        Ok(Some(code)) if SUCCESS.contains(&code) => Ok(()),
        Ok(Some(code)) => Err(Error::from_envelope(raw.api(), code, message_of(members))),
        Ok(None) => Err(raw.decode_error("not an OKKI envelope (no code)").into()),
        Err(e) => Err(raw
            .decode_error(format!("the envelope's code is not a number ({e})"))
            .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::Retry;

    #[test]
    fn classification() {
        let nf = Error::from_envelope("/v1/company/info", 404, "Not Found Resource".into());
        assert!(matches!(&nf, Error::Api(_)) && nf.code() == Some("404"));
        assert!(nf.is_not_found());
        assert_eq!(nf.kind(), ErrorKind::Business);
        assert!(!nf.is_retryable());
        let priv_ = Error::from_envelope("x", 404, "No Privilege".into());
        assert!(!priv_.is_not_found());
        assert!(matches!(&priv_, Error::Auth(f) if f.http_status.is_none()));
        assert_eq!(priv_.code(), Some("404"));
        assert_eq!(priv_.kind(), ErrorKind::Auth);
        let scope = Error::from_envelope("x", 403, "no permission invoices scopes".into());
        assert!(scope.is_credentials() && !scope.is_retryable());
        let throttled = Error::from_envelope("x", 429, "Too Many Requests".into());
        assert!(matches!(throttled, Error::Throttled(_)) && throttled.is_retryable());
        assert_eq!(throttled.kind(), ErrorKind::RateLimited);
        let expired = Error::AuthExpired(
            Failure::new("x", "denied")
                .with_code("access_denied")
                .with_http_status(401),
        );
        assert!(expired.is_auth_expired());
        let core: integration_core::Error = expired.into();
        assert_eq!(core.kind(), ErrorKind::AuthExpired);
        assert_eq!(core.http_status(), Some(401));
        assert_eq!(core.code(), Some("access_denied"));
        let core: integration_core::Error = nf.into();
        assert_eq!(core.code(), Some("404"));
        let webhook: integration_core::Error = Error::Webhook("bad signature".into()).into();
        assert_eq!(
            (webhook.kind(), webhook.api_name()),
            (ErrorKind::Auth, "webhook")
        );
        assert!(!webhook.is_retryable());
        let config = Error::invalid("/v1/x", "bad");
        assert_eq!(
            (config.kind(), config.api()),
            (ErrorKind::InvalidRequest, "client")
        );
        assert_eq!(config.message(), "/v1/x: bad");
    }
}
