//! The HTTP transport every connector sends its calls through: one
//! `reqwest::Client` with timeouts, a shared rate limiter, retries with
//! exponential backoff and jitter, and a `tracing` span per call.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::BackoffBuilder;
use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use crate::error::{Error, ErrorKind, Retry};
use crate::secret::redact_url;
use crate::telemetry;

/// The HTTP client a [`Transport`] sends through.
pub type HttpClient = reqwest::Client;

/// Requests per second and burst size allowed by a [`Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl RateLimit {
    /// `per_second` requests each second on average, at most `burst` at once.
    /// Zero values are raised to one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// `per_second` requests each second with a burst of the same size.
    pub fn per_second(per_second: u32) -> Self {
        Self::new(per_second, per_second)
    }

    /// Average requests per second.
    pub fn requests_per_second(&self) -> u32 {
        self.per_second.get()
    }

    /// Largest number of requests let through at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }
}

/// One process's part of a [`RateLimit`] that several processes share: the
/// vendors count calls per app key, not per process, so N workers each
/// send at `1/N` of the rate (and burst). A [`crate::Worker`] keeps the
/// member count up to date from its state store
/// ([`crate::Worker::share_rate`]); clones share the count.
#[derive(Debug, Clone)]
pub struct RateShare {
    members: Arc<std::sync::atomic::AtomicU32>,
}

impl Default for RateShare {
    fn default() -> Self {
        Self::new()
    }
}

impl RateShare {
    /// A share of a limit used by this process alone (one member).
    pub fn new() -> Self {
        Self {
            members: Arc::new(std::sync::atomic::AtomicU32::new(1)),
        }
    }

    /// How many processes share the limit now, this one included.
    pub fn members(&self) -> u32 {
        self.members
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1)
    }

    /// Sets how many processes share the limit (zero counts as one).
    pub fn set_members(&self, members: u32) {
        self.members
            .store(members.max(1), std::sync::atomic::Ordering::Relaxed);
    }
}

/// When and how often a failed call is tried again.
///
/// Only failures whose error says it is retryable ([`Retry::is_retryable`])
/// are retried. The wait before attempt `n + 1` is an exponential backoff with
/// jitter, or the server's retry-after hint when that is longer (capped by
/// `max_retry_after`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `1` disables retries.
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Longest wait between two attempts from the backoff alone.
    pub max_backoff: Duration,
    /// Randomise waits so that many clients do not retry in lockstep.
    pub jitter: bool,
    /// Longest retry-after hint that is honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            jitter: true,
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The waits between attempts: exponential, capped, with jitter when set.
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        let mut builder = backon::ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            builder = builder.with_jitter();
        }
        builder.build()
    }
}

/// An HTTP answer, read in full (up to the body limit), before the connector
/// decodes its envelope.
#[derive(Debug, Clone)]
pub struct RawResponse {
    system: &'static str,
    api: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl RawResponse {
    /// Builds a response by hand (for decoders' unit tests).
    pub fn new(
        system: &'static str,
        api: impl Into<String>,
        status: StatusCode,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            system,
            api: api.into(),
            status,
            headers,
            body: body.into(),
        }
    }

    /// The system that answered.
    pub fn system(&self) -> &'static str {
        self.system
    }

    /// The API that was called.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// The `Retry-After` header, in seconds or as an HTTP date.
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self
            .headers
            .get(reqwest::header::RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let wait = when.signed_duration_since(chrono::Utc::now());
        Some(wait.to_std().unwrap_or(Duration::ZERO))
    }

    /// An error for an HTTP status outside 2xx, or `None` for success.
    ///
    /// 429 is [`ErrorKind::RateLimited`]; 408, 429 and 5xx are retryable;
    /// the redacted body excerpt becomes the message.
    pub fn http_error(&self) -> Option<Error> {
        if self.status.is_success() {
            return None;
        }
        let kind = if self.status == StatusCode::TOO_MANY_REQUESTS {
            ErrorKind::RateLimited
        } else {
            ErrorKind::HttpStatus
        };
        let retryable = self.status.is_server_error()
            || self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::REQUEST_TIMEOUT;
        Some(
            Error::new(
                self.system,
                &self.api,
                kind,
                crate::secret::excerpt(&self.body, 200),
            )
            .with_http_status(self.status.as_u16())
            .with_retryable(retryable)
            .with_retry_after(self.retry_after()),
        )
    }

    /// Decodes the body as JSON into `T`, or a [`ErrorKind::Decode`] error
    /// with a short redacted excerpt (an HTML error page, a truncated body).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| self.decode_error(format!("invalid JSON ({e})")))
    }

    /// A decode error about this body.
    pub fn decode_error(&self, what: impl std::fmt::Display) -> Error {
        Error::decode(self.system, &self.api, what, &self.body)
            .with_http_status(self.status.as_u16())
    }
}

/// The shared HTTP machinery of one connector client. Cheap to clone; clones
/// share the connection pool and the rate limiter.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    system: &'static str,
    http: reqwest::Client,
    limiter: Option<Limiter>,
    retry: RetryPolicy,
    max_body_bytes: usize,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("system", &self.inner.system)
            .field("rate_limit", &self.inner.limiter.as_ref().map(|l| l.limit))
            .field("retry", &self.inner.retry)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish()
    }
}

/// Builds a [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportBuilder {
    system: &'static str,
    http_client: Option<HttpClient>,
    connect_timeout: Duration,
    timeout: Option<Duration>,
    rate_limit: Option<RateLimit>,
    rate_share: Option<RateShare>,
    retry: RetryPolicy,
    max_body_bytes: usize,
    user_agent: String,
}

/// Default largest body accepted: far above any real page, well below
/// anything that would strain memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

impl TransportBuilder {
    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whole-request timeout (default 60 s); `None` waits forever.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Rate limit shared by every clone (default: none).
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Shares the rate limit with other processes: this one sends at its
    /// part of it (default: the whole limit).
    pub fn rate_share(mut self, share: Option<RateShare>) -> Self {
        self.rate_share = share;
        self
    }

    /// Retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Largest body accepted before the call fails with
    /// [`ErrorKind::BodyTooLarge`] (default 32 MiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Sends through this `reqwest::Client` instead of one built from the
    /// timeouts and user agent above (a proxy, own TLS roots, a pool shared
    /// with the application).
    pub fn http_client(mut self, client: HttpClient) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Builds the transport.
    pub fn build(mut self) -> Result<Transport, Error> {
        if let Some(http) = self.http_client.take() {
            return Ok(self.finish(http));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(std::mem::take(&mut self.user_agent));
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        let http = http.build().map_err(|e| {
            Error::new(
                self.system,
                "client",
                ErrorKind::InvalidRequest,
                "cannot build the HTTP client",
            )
            .with_source(e)
        })?;
        Ok(self.finish(http))
    }

    fn finish(self, http: HttpClient) -> Transport {
        Transport {
            inner: Arc::new(Inner {
                system: self.system,
                http,
                limiter: self
                    .rate_limit
                    .map(|limit| Limiter::new(limit, self.rate_share)),
                retry: self.retry,
                max_body_bytes: self.max_body_bytes,
            }),
        }
    }
}

impl Transport {
    /// A builder for the transport of `system` (e.g. `"kingdee-cloud"`).
    pub fn builder(system: &'static str) -> TransportBuilder {
        TransportBuilder {
            system,
            http_client: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Some(Duration::from_secs(60)),
            rate_limit: None,
            rate_share: None,
            retry: RetryPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            user_agent: format!("{system}-rs/{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The system this transport talks to.
    pub fn system(&self) -> &'static str {
        self.inner.system
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends one API call, retrying retryable failures.
    ///
    /// `build` makes the request for each attempt (so signatures and
    /// timestamps are fresh each time); `parse` turns the raw answer into the
    /// result or the connector's error, whose [`Retry`] impl decides whether
    /// another attempt is made.
    pub async fn execute<T, E>(
        &self,
        api: &str,
        mut build: impl FnMut(&reqwest::Client) -> Result<reqwest::RequestBuilder, E>,
        mut parse: impl FnMut(RawResponse) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Error> + Retry + std::fmt::Display,
    {
        let inner = &self.inner;
        let span = tracing::info_span!(
            "api_call",
            system = inner.system,
            api,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async move {
            let mut backoff = inner.retry.backoff();
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                tracing::Span::current().record("attempt", attempt);
                if let Some(limiter) = &inner.limiter {
                    limiter.until_ready().await;
                }
                let started = Instant::now();
                let result = match build(&inner.http) {
                    Ok(request) => match self.send(api, request).await {
                        Ok(raw) => {
                            let span = tracing::Span::current();
                            span.record("status", raw.status.as_u16());
                            span.record("latency_ms", started.elapsed().as_millis() as u64);
                            parse(raw)
                        }
                        Err(e) => Err(E::from(e)),
                    },
                    Err(e) => return Err(e),
                };
                let failure = result.as_ref().err().map(Retry::failure_kind);
                telemetry::api_attempt(inner.system, api, started.elapsed(), failure);
                let error = match result {
                    Ok(value) => return Ok(value),
                    Err(error) => error,
                };
                if !error.is_retryable() || attempt >= inner.retry.max_attempts {
                    tracing::debug!(attempt, error = %error, "call failed");
                    return Err(error);
                }
                telemetry::api_retry(inner.system, api);
                let backoff_wait = backoff.next().unwrap_or(inner.retry.max_backoff);
                let hinted = error.retry_after().map(|d| d.min(inner.retry.max_retry_after));
                let wait = hinted.map_or(backoff_wait, |h| h.max(backoff_wait));
                tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
                tokio::time::sleep(wait).await;
            }
        }
        .instrument(span)
        .await
    }

    async fn send(
        &self,
        api: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<RawResponse, Error> {
        let system = self.inner.system;
        let request = request.build().map_err(|e| {
            Error::new(
                system,
                api,
                ErrorKind::InvalidRequest,
                "cannot build the request",
            )
            .with_source(strip_url(e))
        })?;
        tracing::debug!(method = %request.method(), url = %redact_url(request.url()), "sending");
        let mut response = self
            .inner
            .http
            .execute(request)
            .await
            .map_err(|e| reqwest_error(system, api, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let limit = self.inner.max_body_bytes;
        let too_large = || {
            Error::new(
                system,
                api,
                ErrorKind::BodyTooLarge,
                format!("the answer is larger than {limit} bytes"),
            )
            .with_http_status(status.as_u16())
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| reqwest_error(system, api, e))?
        {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            system,
            api: api.to_owned(),
            status,
            headers,
            body: body.freeze(),
        })
    }
}

/// reqwest puts the full URL (with any secret query parameter) into its
/// errors; drop it before the error is kept.
fn strip_url(e: reqwest::Error) -> reqwest::Error {
    e.without_url()
}

fn reqwest_error(system: &'static str, api: &str, e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Transport
    };
    let what = if e.is_timeout() {
        "no answer before the timeout"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    Error::new(system, api, kind, what).with_source(strip_url(e))
}

/// A GCRA rate limiter by virtual scheduling, on tokio's clock (so it is
/// exact and deterministic under paused test time).
///
/// Each caller reserves the next send time when it arrives and sleeps until
/// it. A check-then-sleep limiter (such as `governor`'s) instead asks again
/// when the sleeper wakes, and with a burst of one every late wake-up (tokio
/// timers have millisecond resolution) pushes the whole schedule back: a
/// long run then reaches only about 93% of the configured rate. Reserving
/// keeps the schedule, and serves waiters in arrival order. A caller that
/// is cancelled while it waits leaves its slot unused.
///
/// With a [`RateShare`] of N members, the interval is N times longer and
/// the burst an N-th (at least one), read afresh for each request.
struct Limiter {
    limit: RateLimit,
    share: Option<RateShare>,
    /// Time between two requests at the average rate.
    interval: Duration,
    /// When the next request is due on the average schedule.
    next_due: Mutex<Option<Instant>>,
}

impl Limiter {
    fn new(limit: RateLimit, share: Option<RateShare>) -> Self {
        Self {
            limit,
            share,
            interval: Duration::from_secs(1) / limit.per_second.get(),
            next_due: Mutex::new(None),
        }
    }

    /// The time at which the caller may send; reserves it.
    fn reserve(&self, now: Instant) -> Instant {
        let members = self.share.as_ref().map_or(1, RateShare::members);
        let interval = self.interval * members;
        let burst = self.limit.burst.get().div_ceil(members).max(1);
        let tolerance = interval * (burst - 1);
        let mut next_due = self
            .next_due
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = next_due.map_or(now, |due| due.max(now));
        *next_due = Some(due + interval);
        due.checked_sub(tolerance).unwrap_or(now).max(now)
    }

    async fn until_ready(&self) {
        let at = self.reserve(Instant::now());
        tokio::time::sleep_until(at).await;
    }
}
