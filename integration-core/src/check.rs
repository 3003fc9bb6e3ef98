//! Connection checks (Airbyte's `check`): every connector's client has a
//! `check()` that makes the cheapest real call that proves reachability and
//! credentials, changes no data, and says what it learned.
//!
//! ```
//! use integration_core::check::{CheckError, Checked};
//! use integration_core::{Error, ErrorKind};
//!
//! let ok = Checked::new("kingdee-cloud", "https://k3.example.com/k3cloud")
//!     .fact("data centre", "6401ab")
//!     .fact("user", "administrator");
//! assert_eq!(ok.to_string(), "data centre 6401ab, user administrator");
//!
//! let refused = Error::new("okki", "oauth2/token", ErrorKind::Auth, "invalid_client");
//! let e = CheckError::from_error("https://api.example.com", refused);
//! assert!(matches!(e, CheckError::AuthRefused { .. }));
//! ```

use std::fmt;
use std::time::Duration;

use crate::error::{ErrorKind, ErrorMeta};

/// A check that passed: where, how fast, and what the service said about
/// the account (tenant, user, data centre), in the order learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The system, e.g. `"kingdee-cloud"`.
    pub system: &'static str,
    /// The base URL checked.
    pub url: String,
    /// What the service said, as label and value (never a secret).
    pub facts: Vec<(String, String)>,
    /// How long the check took.
    pub elapsed: Duration,
}

impl Checked {
    /// A passed check of `system` at `url` that learned nothing yet.
    pub fn new(system: &'static str, url: impl Into<String>) -> Self {
        Self {
            system,
            url: url.into(),
            facts: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Adds something learned (`"tenant"`, `"7f3a"`).
    pub fn fact(mut self, label: impl Into<String>, value: impl fmt::Display) -> Self {
        self.facts.push((label.into(), value.to_string()));
        self
    }

    /// Sets how long the check took.
    pub fn took(mut self, elapsed: Duration) -> Self {
        self.elapsed = elapsed;
        self
    }

    /// The value learned under `label`, if any.
    pub fn get(&self, label: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
    }
}

/// The facts, `label value, label value`.
impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (label, value)) in self.facts.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{label} {value}")?;
        }
        Ok(())
    }
}

/// Why a check failed. The message names the system, the URL and the
/// service's own words, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The service answered and refused the credentials (wrong secret,
    /// signature, account or permission).
    #[error("{system} at {url}: credentials refused: {message}")]
    AuthRefused {
        /// The system.
        system: &'static str,
        /// The base URL.
        url: String,
        /// The service's code, when it gave one.
        code: Option<String>,
        /// The service's message.
        message: String,
    },
    /// No answer: the connection failed or timed out.
    #[error("{system} at {url}: unreachable: {message}")]
    Unreachable {
        /// The system.
        system: &'static str,
        /// The base URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// Something answered, but not the API (an HTML page, a 404, a body
    /// that is not the API's envelope): most likely a wrong base URL.
    #[error("{system} at {url}: not the API here (wrong URL?): {message}")]
    WrongUrl {
        /// The system.
        system: &'static str,
        /// The base URL.
        url: String,
        /// What came back.
        message: String,
    },
    /// Any other failure (throttled, a business error of the check call).
    #[error("{system} at {url}: check failed: {message}")]
    Failed {
        /// The system.
        system: &'static str,
        /// The base URL.
        url: String,
        /// The failure's kind.
        kind: ErrorKind,
        /// The failure.
        message: String,
    },
}

impl CheckError {
    /// Classifies the failure of a check call made against `url`. An
    /// answer without a message (a bare 404) says its HTTP status.
    pub fn from_error(url: impl Into<String>, e: impl ErrorMeta) -> Self {
        let (system, url) = (e.system(), url.into());
        let message = match (e.code(), e.message().trim(), e.http_status()) {
            (Some(code), text, _) => format!("[{code}] {text}"),
            (None, "", Some(status)) => format!("HTTP {status} with an empty body"),
            (None, "", None) => "no message".to_owned(),
            (None, text, _) => text.to_owned(),
        };
        match e.kind() {
            ErrorKind::Auth | ErrorKind::AuthExpired => Self::AuthRefused {
                system,
                url,
                code: e.code().map(str::to_owned),
                message,
            },
            ErrorKind::Transport | ErrorKind::Timeout => Self::Unreachable {
                system,
                url,
                message,
            },
            ErrorKind::Decode | ErrorKind::HttpStatus | ErrorKind::BodyTooLarge
                if !matches!(e.http_status(), Some(401 | 403)) =>
            {
                Self::WrongUrl {
                    system,
                    url,
                    message,
                }
            }
            ErrorKind::HttpStatus => Self::AuthRefused {
                system,
                url,
                code: e.code().map(str::to_owned),
                message,
            },
            kind => Self::Failed {
                system,
                url,
                kind,
                message,
            },
        }
    }

    /// The same, with every one of `secrets` (4 characters or more) that
    /// the service echoed in its message replaced by `***`: a check's
    /// message is printed, and a service may quote what it was sent.
    pub fn redact<S: AsRef<str>>(mut self, secrets: &[S]) -> Self {
        let (Self::AuthRefused { message, .. }
        | Self::Unreachable { message, .. }
        | Self::WrongUrl { message, .. }
        | Self::Failed { message, .. }) = &mut self;
        for secret in secrets.iter().map(AsRef::as_ref).filter(|s| s.len() >= 4) {
            *message = message.replace(secret, "***");
        }
        self
    }

    /// The system checked.
    pub fn system(&self) -> &'static str {
        match self {
            Self::AuthRefused { system, .. }
            | Self::Unreachable { system, .. }
            | Self::WrongUrl { system, .. }
            | Self::Failed { system, .. } => system,
        }
    }

    /// Whether trying again later cannot help: the service answered and
    /// refused the credentials. Anything else may pass later: an
    /// unreachable host, a throttled check, and also a "wrong URL", as a
    /// proxy's passing hiccup (an HTML error page) looks like one.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::AuthRefused { .. })
    }

    /// A short word for a table: `auth refused`, `unreachable`, `wrong URL`
    /// or `failed`.
    pub fn verdict(&self) -> &'static str {
        match self {
            Self::AuthRefused { .. } => "auth refused",
            Self::Unreachable { .. } => "unreachable",
            Self::WrongUrl { .. } => "wrong URL",
            Self::Failed { .. } => "failed",
        }
    }
}

/// What a `check()` returns.
pub type CheckResult = Result<Checked, CheckError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn classify(kind: ErrorKind, status: Option<u16>) -> &'static str {
        let mut e = Error::new("kingdee-cloud", "login", kind, "no");
        if let Some(status) = status {
            e = e.with_http_status(status);
        }
        CheckError::from_error("http://127.0.0.1:1", e).verdict()
    }

    #[test]
    fn failures_are_classified_by_kind_and_status() {
        assert_eq!(classify(ErrorKind::Auth, None), "auth refused");
        assert_eq!(classify(ErrorKind::AuthExpired, None), "auth refused");
        assert_eq!(classify(ErrorKind::Transport, None), "unreachable");
        assert_eq!(classify(ErrorKind::Timeout, None), "unreachable");
        assert_eq!(classify(ErrorKind::Decode, Some(200)), "wrong URL");
        assert_eq!(classify(ErrorKind::HttpStatus, Some(404)), "wrong URL");
        assert_eq!(classify(ErrorKind::HttpStatus, Some(401)), "auth refused");
        assert_eq!(classify(ErrorKind::RateLimited, None), "failed");
        assert_eq!(classify(ErrorKind::Business, None), "failed");
    }

    #[test]
    fn only_refused_credentials_are_permanent() {
        let check = |kind| CheckError::from_error("u", Error::new("okki", "token", kind, "no"));
        assert!(check(ErrorKind::Auth).is_permanent());
        assert!(!check(ErrorKind::Transport).is_permanent());
        assert!(
            !check(ErrorKind::Decode).is_permanent(),
            "an HTML hiccup may pass"
        );
    }

    #[test]
    fn echoed_secrets_are_redacted_and_empty_answers_say_their_status() {
        let e = Error::new("jdy", "token", ErrorKind::Auth, "bad secret s3cr3t-value");
        let e = CheckError::from_error("http://127.0.0.1:1", e).redact(&["s3cr3t-value", "ab"]);
        assert_eq!(
            e.to_string(),
            "jdy at http://127.0.0.1:1: credentials refused: bad secret ***"
        );
        let e = Error::new("yonbip", "list", ErrorKind::HttpStatus, "").with_http_status(404);
        let text = CheckError::from_error("http://127.0.0.1:1", e).to_string();
        assert!(text.ends_with("HTTP 404 with an empty body"), "{text}");
    }

    #[test]
    fn messages_name_system_and_url_and_code() {
        let e = Error::api("okki", "oauth2/token", 40001, "invalid_client");
        let text = CheckError::from_error("https://api.example.com", e).to_string();
        assert!(
            text.starts_with("okki at https://api.example.com:"),
            "{text}"
        );
        assert!(text.contains("[40001] invalid_client"), "{text}");
    }
}
