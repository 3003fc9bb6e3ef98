//! Building blocks for each connector's fake server (feature `testing`).
//!
//! A [`FakeServer`] is a `wiremock` server on loopback with state behind a
//! mutex, routes whose handlers see that state, fault injection applied
//! before any handler runs, and the received requests kept for assertions.
//! A connector's fake adds its signature checks, envelopes and pagination.
//!
//! Every fake can also model the real service's pace (off by default): a
//! per-call [`Latency`] and a server-side [`ServerLimit`] answered with the
//! API's own throttle envelope, set through [`Faults::set_latency`] and
//! [`Faults::set_rate_limit`], so that benchmarks see what concurrency and
//! client-side limits buy against a cloud that answers in tens of
//! milliseconds.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
pub use wiremock::{Match, Request, ResponseTemplate, matchers};
use wiremock::{Mock, MockServer};

use crate::transport::RetryPolicy;

pub mod conformance;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sample;
pub mod store;

/// A loopback URL where nothing listens (a port just freed): an
/// unreachable host, for connection checks and transport tests.
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(9, |a| a.port());
    format!("http://127.0.0.1:{port}")
}

/// A loopback server answering every request with a web server's HTML
/// welcome page, as a wrong base URL often does.
pub async fn html_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>",
            "text/html",
        ))
        .mount(&server)
        .await;
    server
}

/// Asserts that a connection check was refused: a
/// [`CheckError::AuthRefused`](crate::check::CheckError::AuthRefused) for
/// `url` whose message says `says`, with none of `secrets` in its text or
/// `Debug`. Returns the vendor's code, for the caller to check.
pub fn assert_refused(
    e: &crate::check::CheckError,
    url: &str,
    says: &str,
    secrets: &[&str],
) -> Option<String> {
    let crate::check::CheckError::AuthRefused { code, message, .. } = e else {
        panic!("expected a refusal: {e:?}");
    };
    assert!(message.contains(says), "{message}");
    let (text, debug) = (e.to_string(), format!("{e:?}"));
    let start = format!("{} at {url}:", e.system());
    assert!(text.starts_with(&start), "{text}");
    for secret in secrets {
        assert!(
            !text.contains(secret) && !debug.contains(secret),
            "a secret in {debug}"
        );
    }
    code.clone()
}

/// Asserts that a check found something other than the API at its URL
/// ([`CheckError::WrongUrl`](crate::check::CheckError::WrongUrl)) and says
/// `says` (`404`, the page's text).
pub fn assert_wrong_url(e: &crate::check::CheckError, says: &str) {
    assert!(
        matches!(e, crate::check::CheckError::WrongUrl { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains(says), "{e}");
}

/// The retry policy every fake's `client_builder()` sets: the same four
/// attempts as the default, with millisecond waits, so tests of throttling
/// and faults run fast.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        jitter: false,
        max_retry_after: Duration::from_millis(10),
    }
}

/// How an API signals throttling and an expired credential: each fake
/// answers injected faults with its API's real envelopes.
pub trait FaultStyle: Send + Sync + 'static {
    /// The API's "too many requests" answer.
    fn throttled(&self) -> ResponseTemplate;
    /// The API's "token / session expired" answer.
    fn auth_expired(&self) -> ResponseTemplate;
}

/// A fault a fake injects instead of (or on top of) its normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// The API's throttle answer ([`FaultStyle::throttled`]).
    Throttled,
    /// An HTTP error status with a gateway's HTML page.
    ServerError(u16),
    /// The normal answer, sent after this delay (beyond a client timeout to
    /// simulate one).
    Delay(Duration),
    /// HTTP 200 with a body that is not valid JSON.
    Malformed,
    /// HTTP 200 with the first half of a JSON body.
    Truncated,
    /// HTTP 200 with an HTML page, as a proxy or WAF sends.
    Html,
    /// HTTP 200 with an empty body.
    Empty,
    /// The API's expired-credential answer ([`FaultStyle::auth_expired`]).
    AuthExpired,
    /// Any answer.
    Respond(Box<ResponseTemplate>),
}

/// Faults waiting to be injected, shared by every route of a fake.
#[derive(Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<FaultState>>,
}

#[derive(Default)]
struct FaultState {
    planned: VecDeque<Planned>,
    random: Option<RandomFaults>,
    /// Paths where random faults never answer "token expired".
    token_paths: Vec<String>,
    injected: u64,
    latency: Option<LatencyModel>,
    limit: Option<LimitModel>,
    /// Requests seen, and those the server limit refused.
    requests: u64,
    limited: u64,
}

/// How long a fake takes to answer each call: a model of a real API's
/// latency (network and server time together).
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    /// Every answer after the same delay.
    Fixed(Duration),
    /// Log-normally spread, reproducibly from `seed`: half the answers take
    /// less than `median`, one in a hundred more than `p99` (the long tail
    /// of a cloud API).
    LogNormal {
        /// The median delay.
        median: Duration,
        /// The 99th percentile (at least the median).
        p99: Duration,
        /// The seed of the spread.
        seed: u64,
    },
}

struct LatencyModel {
    latency: Latency,
    rng: StdRng,
}

impl LatencyModel {
    fn sample(&mut self) -> Duration {
        match self.latency {
            Latency::Fixed(delay) => delay,
            Latency::LogNormal { median, p99, .. } => {
                // sigma from the 99th percentile: p99 = median · e^(2.326·σ).
                let ratio = (p99.as_secs_f64() / median.as_secs_f64().max(1e-9)).max(1.0);
                let sigma = ratio.ln() / 2.326_348;
                // A standard normal by Box–Muller.
                let u1: f64 = self.rng.random_range(f64::EPSILON..1.0);
                let u2: f64 = self.rng.random();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                // Capped at 20 medians: a model of a tail, not of an outage.
                let factor = (sigma * z).exp().min(20.0);
                median.mul_f64(factor)
            }
        }
    }
}

/// A server-side rate limit: `per_second` requests each second on average
/// and `burst` at once, enforced like a GCRA (the same rule the client's
/// `RateLimit` keeps), refused with the API's throttle answer
/// ([`FaultStyle::throttled`]). Refused requests do not count against it.
///
/// A request may arrive up to `jitter` (default: one interval,
/// `1 / per_second`) before its turn: a client keeping exactly the server's
/// limit sends on schedule, but the network, new connections and the
/// scheduler deliver some requests sooner than others, and a server
/// counting in windows does not see that difference either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimit {
    per_second: u32,
    burst: u32,
    jitter: Option<Duration>,
}

impl ServerLimit {
    /// `per_second` requests each second with a burst of the same size (as
    /// the client's `RateLimit::per_second`).
    pub fn per_second(per_second: u32) -> Self {
        Self::new(per_second, per_second)
    }

    /// `per_second` requests each second, at most `burst` at once (zeros are
    /// raised to one).
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: per_second.max(1),
            burst: burst.max(1),
            jitter: None,
        }
    }

    /// How early a request may arrive before its turn (default: one
    /// interval).
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = Some(jitter);
        self
    }
}

struct LimitModel {
    interval: Duration,
    tolerance: Duration,
    /// When the next request is due on the average schedule.
    next_due: Option<Instant>,
}

impl LimitModel {
    fn new(limit: ServerLimit) -> Self {
        let interval = Duration::from_secs(1) / limit.per_second;
        Self {
            interval,
            tolerance: interval * (limit.burst - 1) + limit.jitter.unwrap_or(interval),
            next_due: None,
        }
    }

    /// Whether a request arriving `now` is admitted (then it counts).
    fn admit(&mut self, now: Instant) -> bool {
        let due = self.next_due.map_or(now, |due| due.max(now));
        if due.saturating_duration_since(now) > self.tolerance {
            return false;
        }
        self.next_due = Some(due + self.interval);
        true
    }
}

struct Planned {
    fault: Fault,
    remaining: u32,
    path_contains: Option<String>,
}

struct RandomFaults {
    rng: StdRng,
    probability: f64,
    choices: Vec<Fault>,
}

impl Faults {
    /// Injects `fault` into the next `times` requests.
    pub fn inject(&self, fault: Fault, times: u32) {
        self.plan(fault, times, None);
    }

    /// Injects `fault` into the next `times` requests whose path contains
    /// `path_contains`.
    pub fn inject_on(&self, path_contains: &str, fault: Fault, times: u32) {
        self.plan(fault, times, Some(path_contains.to_owned()));
    }

    fn plan(&self, fault: Fault, remaining: u32, path_contains: Option<String>) {
        lock(&self.state).planned.push_back(Planned {
            fault,
            remaining,
            path_contains,
        });
    }

    /// Injects one of `choices` into each request with `probability`,
    /// reproducibly from `seed` (for soak tests).
    pub fn random(&self, seed: u64, probability: f64, choices: Vec<Fault>) {
        lock(&self.state).random = Some(RandomFaults {
            rng: StdRng::seed_from_u64(seed),
            probability,
            choices,
        });
    }

    /// Random faults never answer [`Fault::AuthExpired`] on paths containing
    /// `path_contains`: the endpoint that issues tokens or sessions answers
    /// with one or with rejected credentials, never with "expired" (the
    /// request gets no fault then).
    pub fn no_expiry_on(&self, path_contains: &str) {
        lock(&self.state).token_paths.push(path_contains.to_owned());
    }

    /// Removes every planned and random fault.
    pub fn clear(&self) {
        let mut state = lock(&self.state);
        state.planned.clear();
        state.random = None;
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        lock(&self.state).injected
    }

    /// Answers every later call after a delay drawn from `latency` (`None`:
    /// at once, the default). Kept by [`Faults::clear`].
    pub fn set_latency(&self, latency: impl Into<Option<Latency>>) {
        lock(&self.state).latency = latency.into().map(|latency| {
            let seed = match latency {
                Latency::LogNormal { seed, .. } => seed,
                Latency::Fixed(_) => 0,
            };
            LatencyModel {
                latency,
                rng: StdRng::seed_from_u64(seed),
            }
        });
    }

    /// Limits the rate of requests the fake accepts (`None`: no limit, the
    /// default); requests over it get the API's throttle answer. Kept by
    /// [`Faults::clear`].
    pub fn set_rate_limit(&self, limit: impl Into<Option<ServerLimit>>) {
        lock(&self.state).limit = limit.into().map(LimitModel::new);
    }

    /// Requests the fake received so far (every route, every answer).
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }

    /// Requests the [`ServerLimit`] refused so far.
    pub fn limited(&self) -> u64 {
        lock(&self.state).limited
    }

    /// What the model makes of a request that just arrived: refused by the
    /// server limit (then `true`), and how long the answer takes.
    fn model(&self, now: Instant) -> (bool, Option<Duration>) {
        let mut state = lock(&self.state);
        state.requests += 1;
        let refused = state.limit.as_mut().is_some_and(|limit| !limit.admit(now));
        if refused {
            state.limited += 1;
        }
        (refused, state.latency.as_mut().map(LatencyModel::sample))
    }

    /// The fault to inject into this request, if any.
    pub fn take(&self, request: &Request) -> Option<Fault> {
        let mut state = lock(&self.state);
        let path = request.url.path();
        let position = state.planned.iter().position(|p| {
            p.path_contains
                .as_deref()
                .is_none_or(|needle| path.contains(needle))
        });
        let fault = if let Some(i) = position {
            let planned = &mut state.planned[i];
            planned.remaining -= 1;
            let fault = planned.fault.clone();
            if planned.remaining == 0 {
                state.planned.remove(i);
            }
            Some(fault)
        } else if let Some(random) = state.random.as_mut() {
            if !random.choices.is_empty()
                && random.rng.random_bool(random.probability.clamp(0.0, 1.0))
            {
                let i = random.rng.random_range(0..random.choices.len());
                Some(random.choices[i].clone())
            } else {
                None
            }
            .filter(|fault| {
                !(matches!(fault, Fault::AuthExpired)
                    && state.token_paths.iter().any(|p| path.contains(p.as_str())))
            })
        } else {
            None
        };
        if fault.is_some() {
            state.injected += 1;
        }
        fault
    }
}

/// Positions of a fake's rows by a key (a customer or merchant code), built
/// on the first lookup and kept by [`KeyIndex::pushed`], so that fakes
/// holding many thousands of rows do not scan them on every add or lookup.
/// A fake drops it ([`KeyIndex::clear`]) whenever its rows change otherwise.
#[derive(Debug, Default)]
pub struct KeyIndex(std::cell::OnceCell<std::collections::HashMap<String, usize>>);

impl KeyIndex {
    /// The position of the first row whose key is `key`; `key_of` reads a
    /// row's key.
    pub fn position<T>(
        &self,
        rows: &[T],
        key_of: impl Fn(&T) -> Option<String>,
        key: &str,
    ) -> Option<usize> {
        let index = self.0.get_or_init(|| {
            let mut index = std::collections::HashMap::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                if let Some(k) = key_of(row) {
                    index.entry(k).or_insert(i);
                }
            }
            index
        });
        index.get(key).copied()
    }

    /// Notes a row appended at `position` (before it is pushed).
    pub fn pushed(&mut self, key: Option<String>, position: usize) {
        if let (Some(index), Some(key)) = (self.0.get_mut(), key) {
            index.entry(key).or_insert(position);
        }
    }

    /// Forgets every position (rebuilt on the next lookup).
    pub fn clear(&mut self) {
        self.0.take();
    }
}

/// Renders a fault as an answer; `normal` produces the handler's answer for
/// faults that only delay it.
pub fn render_fault(
    fault: Fault,
    style: &dyn FaultStyle,
    normal: impl FnOnce() -> ResponseTemplate,
) -> ResponseTemplate {
    match fault {
        Fault::Throttled => style.throttled(),
        Fault::AuthExpired => style.auth_expired(),
        Fault::ServerError(status) => ResponseTemplate::new(status).set_body_raw(
            format!("<html><head><title>{status}</title></head><body><center><h1>{status} Service Unavailable</h1></center><hr><center>nginx</center></body></html>"),
            "text/html",
        ),
        Fault::Delay(delay) => normal().set_delay(delay),
        Fault::Malformed => ResponseTemplate::new(200).set_body_raw("{\"code\": 0, \"data\": [1, 2,, }", "application/json"),
        Fault::Truncated => ResponseTemplate::new(200).set_body_raw("{\"code\":0,\"msg\":\"ok\",\"data\":{\"list\":[{\"id\":1,\"na", "application/json"),
        Fault::Html => ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>网关错误</p></body></html>",
            "text/html; charset=utf-8",
        ),
        Fault::Empty => ResponseTemplate::new(200),
        Fault::Respond(template) => *template,
    }
}

/// A fake API server on loopback with state `S`.
pub struct FakeServer<S> {
    server: MockServer,
    state: Arc<Mutex<S>>,
    faults: Faults,
    style: Arc<dyn FaultStyle>,
}

impl<S: Send + 'static> FakeServer<S> {
    /// Starts a fake on a free loopback port.
    pub async fn start(state: S, style: impl FaultStyle) -> Self {
        Self::with_server(MockServer::start().await, state, style)
    }

    /// Starts a fake on a given address (for a sandbox on fixed ports).
    pub async fn start_on(
        addr: SocketAddr,
        state: S,
        style: impl FaultStyle,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        let server = MockServer::builder().listener(listener).start().await;
        Ok(Self::with_server(server, state, style))
    }

    fn with_server(server: MockServer, state: S, style: impl FaultStyle) -> Self {
        Self {
            server,
            state: Arc::new(Mutex::new(state)),
            faults: Faults::default(),
            style: Arc::new(style),
        }
    }

    /// Adds a route: requests that `matcher` accepts get a planned fault if
    /// one is due, otherwise `handler`'s answer, computed with the state
    /// locked.
    pub async fn route(
        &self,
        matcher: impl Match + 'static,
        handler: impl Fn(&mut S, &Request) -> ResponseTemplate + Send + Sync + 'static,
    ) {
        let state = Arc::clone(&self.state);
        let faults = self.faults.clone();
        let style = Arc::clone(&self.style);
        let respond = move |request: &Request| {
            let (refused, latency) = faults.model(Instant::now());
            let normal = || handler(&mut lock(&state), request);
            // A refused request gets no planned fault: it never got that far.
            let (answer, delay) = if refused {
                (style.throttled(), None)
            } else {
                match faults.take(request) {
                    Some(Fault::Delay(delay)) => (normal(), Some(delay)),
                    Some(fault) => (render_fault(fault, style.as_ref(), normal), None),
                    None => (normal(), None),
                }
            };
            // A modelled latency comes on top of an injected delay.
            match delay.into_iter().chain(latency).reduce(|a, b| a + b) {
                Some(delay) => answer.set_delay(delay),
                None => answer,
            }
        };
        Mock::given(matcher)
            .respond_with(respond)
            .mount(&self.server)
            .await;
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The address the fake listens on.
    pub fn address(&self) -> &SocketAddr {
        self.server.address()
    }

    /// The fake's state, locked.
    pub fn state(&self) -> MutexGuard<'_, S> {
        lock(&self.state)
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every request received so far, in order.
    pub async fn received(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The requests received so far whose path contains `path_contains`.
    pub async fn received_on(&self, path_contains: &str) -> Vec<Request> {
        let mut all = self.received().await;
        all.retain(|r| r.url.path().contains(path_contains));
        all
    }
}

/// Locks a mutex, recovering the data when a handler panicked while holding
/// it (a panicking test handler must not poison every later request).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A JSON answer with status 200.
pub fn json_response(body: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The request's body decoded as JSON (`Null` when it is not JSON).
pub fn body_json(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null)
}

/// The request's form-encoded body (or query) as ordered pairs.
pub fn form_pairs(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// A header's value as text.
pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// What every connector's fake offers, the same way in all seven crates:
/// start it (on a free port or a fixed address), point a client at it,
/// inject faults, see what it received. Seeding is each fake's own
/// (`seed_customers`, `seed_trades`, ...): the data differ by system.
///
/// ```
/// use integration_core::testing::Fake;
///
/// /// Any connector's fake, started and asked for a client.
/// async fn client_of<F: Fake>() -> (F, F::Builder) {
///     let fake = F::start().await;
///     let builder = fake.client_builder();
///     (fake, builder)
/// }
/// ```
#[async_trait::async_trait]
pub trait Fake: Sized + Send + Sync {
    /// The connector's client builder.
    type Builder;
    /// The credentials the fake accepts, as the connector takes them.
    type Credentials;

    /// Starts the fake on a free loopback port.
    async fn start() -> Self;
    /// Starts the fake on `addr` (a sandbox on a fixed port).
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self>;
    /// The URL to give the client builder's `base_url`.
    fn base_url(&self) -> String;
    /// The credentials the fake accepts.
    fn credentials(&self) -> Self::Credentials;
    /// A client builder pointed at the fake, with its credentials and the
    /// fast test retry policy ([`fast_retry`]).
    fn client_builder(&self) -> Self::Builder;
    /// The fault injector.
    fn faults(&self) -> &Faults;
    /// Every request received so far.
    async fn received(&self) -> Vec<Request>;
}

/// Gives a connector's fake, a struct with a `server: FakeServer<State>`
/// field, the constructors and accessors every fake has, the same in all
/// seven crates: `start`, `start_on`, `uri`, `address`, `state` (locked; do
/// not hold it across an await), `faults`, `received`, `received_on`, and a
/// `Debug` that shows its URI.
///
/// `start:` names the initial state and the [`FaultStyle`]; `routes:` names
/// an `async fn(&FakeServer<State>)` that installs the fake's routes. The
/// private `Self::from_server(server)` installs them on a started server and
/// wraps it (for a crate's own constructors, e.g. one taking a state).
///
/// ```text
/// integration_core::fake_server_accessors!(
///     FakeJackyun, FakeState,
///     start: FakeState::default(), JackyunFaults,
///     routes: mount_routes,
/// );
/// ```
#[macro_export]
macro_rules! fake_server_accessors {
    ($fake:ident, $state:ty, start: $init:expr, $style:expr, routes: $routes:expr $(,)?) => {
        impl std::fmt::Debug for $fake {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($fake))
                    .field("uri", &self.server.uri())
                    .finish()
            }
        }

        /// What every connector's fake gives.
        impl $fake {
            /// Starts an empty fake on a free loopback port.
            pub async fn start() -> Self {
                Self::from_server($crate::testing::FakeServer::start($init, $style).await).await
            }
            /// Starts an empty fake on `addr` (for a sandbox on a fixed port).
            pub async fn start_on(addr: std::net::SocketAddr) -> std::io::Result<Self> {
                let server = $crate::testing::FakeServer::start_on(addr, $init, $style).await?;
                Ok(Self::from_server(server).await)
            }
            /// Installs the routes on `server` and wraps it.
            async fn from_server(server: $crate::testing::FakeServer<$state>) -> Self {
                $routes(&server).await;
                Self { server }
            }
            /// The fake's base URL (`http://127.0.0.1:<port>`).
            pub fn uri(&self) -> String {
                self.server.uri()
            }
            /// The address it listens on.
            pub fn address(&self) -> &std::net::SocketAddr {
                self.server.address()
            }
            /// The state, locked (do not hold it across an await).
            pub fn state(&self) -> std::sync::MutexGuard<'_, $state> {
                self.server.state()
            }
            /// The fault injector.
            pub fn faults(&self) -> &$crate::testing::Faults {
                self.server.faults()
            }
            /// Every request received so far.
            pub async fn received(&self) -> Vec<$crate::testing::Request> {
                self.server.received().await
            }
            /// The requests whose path contains `path_contains`.
            pub async fn received_on(&self, path_contains: &str) -> Vec<$crate::testing::Request> {
                self.server.received_on(path_contains).await
            }
        }
    };
}

#[doc(hidden)]
pub use async_trait::async_trait;

/// Implements [`Fake`] for a connector's fake from its inherent `start`,
/// `start_on`, `client_builder`, the named credentials and base-URL
/// functions, and its `server` field: the same trait impl in all seven.
#[macro_export]
macro_rules! impl_fake {
    ($fake:ident {
        builder: $builder:ty,
        credentials: $credentials:ty = $credentials_fn:ident(),
        base_url: $base_url_fn:ident(),
    }) => {
        #[$crate::testing::async_trait]
        impl $crate::testing::Fake for $fake {
            type Builder = $builder;
            type Credentials = $credentials;

            async fn start() -> Self {
                $fake::start().await
            }
            async fn start_on(addr: std::net::SocketAddr) -> std::io::Result<Self> {
                $fake::start_on(addr).await
            }
            fn base_url(&self) -> String {
                $fake::$base_url_fn(self)
            }
            fn credentials(&self) -> $credentials {
                $fake::$credentials_fn()
            }
            fn client_builder(&self) -> $builder {
                $fake::client_builder(self)
            }
            fn faults(&self) -> &$crate::testing::Faults {
                self.server.faults()
            }
            async fn received(&self) -> Vec<$crate::testing::Request> {
                self.server.received().await
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(latency: Latency, n: usize) -> Vec<Duration> {
        let faults = Faults::default();
        faults.set_latency(latency);
        let mut state = lock(&faults.state);
        let model = state.latency.as_mut().unwrap();
        let mut all: Vec<Duration> = (0..n).map(|_| model.sample()).collect();
        all.sort();
        all
    }

    #[test]
    fn log_normal_latency_has_its_median_and_tail_and_is_reproducible() {
        let (median, p99) = (Duration::from_millis(80), Duration::from_millis(400));
        let model = Latency::LogNormal {
            median,
            p99,
            seed: 7,
        };
        let all = samples(model.clone(), 20_000);
        let at = |q: f64| all[(q * all.len() as f64) as usize].as_secs_f64() * 1e3;
        assert!((at(0.5) - 80.0).abs() < 5.0, "median {} ms", at(0.5));
        assert!((at(0.99) - 400.0).abs() < 60.0, "p99 {} ms", at(0.99));
        assert!(all[0] > Duration::ZERO);
        assert_eq!(
            all,
            samples(model, 20_000),
            "the same seed, the same delays"
        );
        let fixed = samples(Latency::Fixed(median), 3);
        assert_eq!(fixed, vec![median; 3]);
    }

    #[test]
    fn the_server_limit_admits_its_burst_then_its_rate() {
        let mut limit = LimitModel::new(ServerLimit::new(10, 3).jitter(Duration::ZERO));
        let t0 = Instant::now();
        let admitted = (0..5).filter(|_| limit.admit(t0)).count();
        assert_eq!(admitted, 3, "the burst");
        // One interval (100 ms) later, one more.
        assert!(limit.admit(t0 + Duration::from_millis(100)));
        assert!(!limit.admit(t0 + Duration::from_millis(100)));
        // Jitter: a request a little early is admitted.
        let mut limit = LimitModel::new(ServerLimit::new(10, 1).jitter(Duration::from_millis(10)));
        assert!(limit.admit(t0));
        assert!(limit.admit(t0 + Duration::from_millis(95)));
        assert!(!limit.admit(t0 + Duration::from_millis(150)));
    }
}
