//! The settings every connector's `ClientBuilder` shares: base URL,
//! timeouts, rate limit, retry policy, user agent, body limit and an
//! optional custom `reqwest::Client`.
//!
//! Each builder embeds one [`ClientSettings`] and gets the same setters from
//! [`client_settings!`](crate::client_settings), so a timeout or a rate
//! limit is set the same way on all seven clients, and code that tunes any
//! of them can be generic over [`ClientConfig`]:
//!
//! ```
//! use std::time::Duration;
//! use integration_core::{ClientConfig, ClientSettings};
//!
//! /// What a settings file says about one system.
//! fn tuned<B: ClientConfig>(mut builder: B, timeout: Option<Duration>) -> B {
//!     if let Some(timeout) = timeout {
//!         builder.settings_mut().timeout = Some(timeout);
//!     }
//!     builder
//! }
//! # #[derive(Default)] struct Builder { settings: ClientSettings }
//! # integration_core::client_settings!(Builder);
//! let builder = tuned(Builder::default().base_url("https://erp.example.com"), Some(Duration::from_secs(5)));
//! assert_eq!(builder.settings().timeout, Some(Duration::from_secs(5)));
//! assert_eq!(builder.settings().base_url.as_deref(), Some("https://erp.example.com"));
//! ```

use std::time::Duration;

use crate::error::{Error, ErrorKind};
use crate::transport::{DEFAULT_MAX_BODY_BYTES, RateLimit, RateShare, RetryPolicy, Transport};

/// Settings shared by every connector's client builder.
///
/// Fields are public so that code tuning a builder can set them through
/// [`ClientConfig::settings_mut`]; the builders' own setters are the usual
/// way.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientSettings {
    /// The service's base URL; `None` means the connector's default (the
    /// real service), where it has one.
    pub base_url: Option<String>,
    /// Whole-request timeout; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Client-side rate limit shared by every clone of the client.
    pub rate_limit: Option<RateLimit>,
    /// This process's part of `rate_limit` when several processes share
    /// it (see [`crate::Worker::share_rate`]).
    pub rate_share: Option<RateShare>,
    /// When and how often a retryable failure is tried again.
    pub retry: RetryPolicy,
    /// The `User-Agent` header; `None` means `<system>-rs/<version>`.
    pub user_agent: Option<String>,
    /// Largest answer body accepted.
    pub max_body_bytes: usize,
    /// A `reqwest::Client` of your own (proxy, TLS roots, connection pool
    /// shared with the rest of an application). Its own timeouts and user
    /// agent apply instead of the ones above.
    pub http_client: Option<reqwest::Client>,
}

/// `Debug` says only whether a custom `reqwest::Client` is set: its own
/// `Debug` may show a proxy URL with credentials in it.
impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("base_url", &self.base_url.as_deref().map(redacted_url))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("rate_limit", &self.rate_limit)
            .field(
                "rate_share",
                &self.rate_share.as_ref().map(RateShare::members),
            )
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
            rate_limit: None,
            rate_share: None,
            retry: RetryPolicy::default(),
            user_agent: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            http_client: None,
        }
    }
}

impl ClientSettings {
    /// The defaults with another whole-request timeout (for connectors whose
    /// calls are slow by nature, e.g. large batch saves).
    pub fn with_timeout(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            ..Self::default()
        }
    }

    /// The base URL without trailing slashes, or `default`; an `http` or
    /// `https` URL, else an [`ErrorKind::InvalidRequest`] error.
    pub fn base_url_or(&self, system: &'static str, default: &str) -> Result<String, Error> {
        let url = self.base_url.as_deref().unwrap_or(default);
        checked_url(system, "base_url", url)
    }

    /// The base URL without trailing slashes; an error naming the setting
    /// when none is set (connectors without a shared endpoint, e.g. every
    /// K/3 Cloud site has its own), with `example` as a hint.
    pub fn required_base_url(&self, system: &'static str, example: &str) -> Result<String, Error> {
        match &self.base_url {
            Some(url) => checked_url(system, "base_url", url),
            None => Err(Error::new(
                system,
                "client",
                ErrorKind::InvalidRequest,
                format!("base_url is required (e.g. {example})"),
            )),
        }
    }

    /// The transport these settings describe, for `system`.
    pub fn transport(&self, system: &'static str) -> Result<Transport, Error> {
        let mut builder = Transport::builder(system)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .rate_limit(self.rate_limit)
            .rate_share(self.rate_share.clone())
            .retry(self.retry.clone())
            .max_body_bytes(self.max_body_bytes);
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(agent.clone());
        }
        if let Some(http) = &self.http_client {
            builder = builder.http_client(http.clone());
        }
        builder.build()
    }
}

/// A URL for `Debug`: its password and secret query values hidden, or a
/// placeholder when it does not parse (it may hold anything).
fn redacted_url(url: &str) -> String {
    url::Url::parse(url.trim()).map_or_else(
        |_| "<not a URL>".to_owned(),
        |u| crate::secret::redact_url(&u),
    )
}

/// Checks that `url` (the value of `setting`) is an `http(s)` URL and drops
/// trailing slashes.
pub fn checked_url(system: &'static str, setting: &str, url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    let invalid = |why: String| Error::new(system, "client", ErrorKind::InvalidRequest, why);
    let parsed =
        url::Url::parse(url).map_err(|e| invalid(format!("{setting} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("{setting} must be http or https")));
    }
    Ok(url.to_owned())
}

/// A client builder that embeds [`ClientSettings`]: lets code tune the
/// builder of any connector the same way.
pub trait ClientConfig {
    /// The settings, to read.
    fn settings(&self) -> &ClientSettings;
    /// The settings, to change.
    fn settings_mut(&mut self) -> &mut ClientSettings;
}

/// Gives a builder with a `settings: ClientSettings` field the shared
/// setters (`base_url`, `timeout`, `connect_timeout`, `rate_limit`,
/// `rate_share`, `retry`, `user_agent`, `max_body_bytes`, `http_client`, `with_settings`) and
/// implements [`ClientConfig`] for it.
#[macro_export]
macro_rules! client_settings {
    ($builder:ty) => {
        impl $crate::settings::ClientConfig for $builder {
            fn settings(&self) -> &$crate::settings::ClientSettings {
                &self.settings
            }
            fn settings_mut(&mut self) -> &mut $crate::settings::ClientSettings {
                &mut self.settings
            }
        }

        /// The settings every connector's builder shares
        /// ([`ClientSettings`](integration_core::ClientSettings)).
        impl $builder {
            /// The service's base URL (default: the real service, where the
            /// connector has one); point it at a fake in tests.
            pub fn base_url(mut self, url: impl Into<String>) -> Self {
                self.settings.base_url = Some(url.into());
                self
            }
            /// Whole-request timeout; `None` waits forever.
            pub fn timeout(mut self, timeout: Option<::std::time::Duration>) -> Self {
                self.settings.timeout = timeout;
                self
            }
            /// Connect timeout (default 10 s).
            pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.settings.connect_timeout = timeout;
                self
            }
            /// Client-side rate limit shared by every clone; `None` for none
            /// (the default depends on the connector).
            pub fn rate_limit(
                mut self,
                limit: impl Into<Option<$crate::transport::RateLimit>>,
            ) -> Self {
                self.settings.rate_limit = limit.into();
                self
            }
            /// Sends at this process's part of the rate limit, when several
            /// processes share one app key (see
            /// [`Worker::share_rate`](integration_core::Worker::share_rate)).
            pub fn rate_share(mut self, share: $crate::transport::RateShare) -> Self {
                self.settings.rate_share = Some(share);
                self
            }
            /// Retry policy for retryable failures (default
            /// [`RetryPolicy::default`](integration_core::RetryPolicy::default)).
            pub fn retry(mut self, retry: $crate::transport::RetryPolicy) -> Self {
                self.settings.retry = retry;
                self
            }
            /// The `User-Agent` header (default `<system>-rs/<version>`).
            pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
                self.settings.user_agent = Some(agent.into());
                self
            }
            /// Largest answer body accepted (default 32 MiB); a larger one
            /// fails with `ErrorKind::BodyTooLarge`.
            pub fn max_body_bytes(mut self, bytes: usize) -> Self {
                self.settings.max_body_bytes = bytes;
                self
            }
            /// A `reqwest::Client` of your own (proxy, TLS roots, a shared
            /// pool); its timeouts and user agent replace the ones set here.
            pub fn http_client(mut self, client: $crate::transport::HttpClient) -> Self {
                self.settings.http_client = Some(client);
                self
            }
            /// Replaces every shared setting at once.
            pub fn with_settings(mut self, settings: $crate::settings::ClientSettings) -> Self {
                self.settings = settings;
                self
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_trimmed() {
        let mut s = ClientSettings::default();
        assert_eq!(
            s.base_url_or("x", "https://api.example.com/").unwrap(),
            "https://api.example.com"
        );
        assert!(s.required_base_url("x", "https://host/k3cloud").is_err());
        s.base_url = Some(" http://127.0.0.1:8080/k3cloud/ ".into());
        assert_eq!(
            s.required_base_url("x", "").unwrap(),
            "http://127.0.0.1:8080/k3cloud"
        );
        s.base_url = Some("ftp://host".into());
        let e = s.base_url_or("x", "https://a").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.message().contains("http or https"), "{e}");
        s.base_url = Some("not a url".into());
        assert!(s.base_url_or("x", "https://a").is_err());
    }

    #[test]
    fn debug_shows_no_proxy_or_url_credentials() {
        let s = ClientSettings {
            base_url: Some("https://user:hunter2@erp.example.com/k3cloud".into()),
            http_client: Some(
                reqwest::Client::builder()
                    .proxy(reqwest::Proxy::all("http://proxyuser:s3cret@127.0.0.1:3128").unwrap())
                    .build()
                    .unwrap(),
            ),
            ..ClientSettings::default()
        };
        let text = format!("{s:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(
            text.contains("erp.example.com") && text.contains("custom"),
            "{text}"
        );
    }

    #[test]
    fn settings_build_a_transport_with_their_policy() {
        let mut s = ClientSettings::with_timeout(Some(Duration::from_secs(120)));
        s.retry = RetryPolicy::never();
        s.http_client = Some(reqwest::Client::new());
        let transport = s.transport("x").unwrap();
        assert_eq!(transport.retry_policy().max_attempts, 1);
        assert_eq!(s.timeout, Some(Duration::from_secs(120)));
    }
}
