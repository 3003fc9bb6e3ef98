//! The operations console (feature `console`): QEasy's 运行概况 as web
//! pages over any [`StateStore`], with Prometheus metrics.
//!
//! - `/`: every pipeline with its last run, checkpoint, dead letters and
//!   lease holder; the leases of the workers.
//! - `/pipelines/{name}`: its run history, paged; each run's full report.
//! - `/pipelines/{name}/dead-letters`: the dead letters, filtered by error
//!   text, each with its source record, mapped payload, error and
//!   attempts; **Replay** one, the selected or all.
//! - `/collections/{name}`: QEasy's 数据管理, entries by key, source field
//!   or status.
//! - a checkpoint reset, typed-in confirmation first.
//! - `/metrics` (Prometheus text, see [`crate::telemetry`]), `/health`,
//!   `/ready`.
//!
//! Pages are rendered on the server (`maud` escapes every value); the one
//! small script only ticks checkboxes. Replay and reset need the pipeline
//! itself: give the console a [`Control`] for each one it may act on
//! ([`ConsoleBuilder::control`]); others are shown read-only.
//!
//! # Security
//! - It binds `127.0.0.1` by default; on any other address it refuses to
//!   start without an access token, and then every page (metrics
//!   included, as a bearer token) needs it. `/health` and `/ready` say
//!   only "ok".
//! - Without a token (loopback only) pages are open to whoever can reach
//!   the loopback address.
//! - Changes are `POST` only with a CSRF token bound to the process, refused
//!   from another site (`Origin`, `Sec-Fetch-Site`), and, when a token is
//!   set, only with the session cookie (set by the login form, `HttpOnly`,
//!   `SameSite=Strict`) or `Authorization: Bearer`. Each one is written to
//!   the run history with the operator's address.
//! - Record data and payloads pass [`redact_value`](crate::secret::redact_value)
//!   and error texts [`redact_text`](crate::secret::redact_text): no secret,
//!   token or signature reaches a page. A strict Content-Security-Policy
//!   forbids inline scripts.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn integration_core::StateStore>) -> Result<(), Box<dyn std::error::Error>> {
//! use integration_core::console::Console;
//! let console = Console::builder(store).spawn("127.0.0.1:8080".parse()?).await?;
//! println!("console at {}", console.url());
//! # Ok(()) }
//! ```

mod html;
mod metrics;
mod pages;
mod security;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use chrono::FixedOffset;
use tokio::net::TcpListener;

use crate::pipeline::Control;
use crate::secret::Secret;
use crate::state::StateStore;

pub use metrics::install_recorder;

/// How often the metrics recorder folds histogram samples into buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The console could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// A non-loopback address without an access token.
    #[error(
        "the console refuses to listen on {0} without an access token (give one, or bind 127.0.0.1)"
    )]
    TokenRequired(SocketAddr),
    /// The address could not be bound.
    #[error("the console cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What every handler reads.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn StateStore>,
    pub(crate) controls: BTreeMap<String, Arc<dyn Control>>,
    pub(crate) access: security::Access,
    pub(crate) zone: FixedOffset,
    pub(crate) title: String,
    pub(crate) metrics: Option<::metrics_exporter_prometheus::PrometheusHandle>,
}

/// Builds a console; see the [module docs](self).
pub struct Console;

impl Console {
    /// A console over `store`: read-only until pipelines are given.
    pub fn builder(store: Arc<dyn StateStore>) -> ConsoleBuilder {
        ConsoleBuilder {
            store,
            controls: BTreeMap::new(),
            token: None,
            zone: FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset"),
            title: "integration console".to_owned(),
            metrics: true,
        }
    }
}

/// The parts of a console; [`spawn`](Self::spawn) serves it.
pub struct ConsoleBuilder {
    store: Arc<dyn StateStore>,
    controls: BTreeMap<String, Arc<dyn Control>>,
    token: Option<Secret>,
    zone: FixedOffset,
    title: String,
    metrics: bool,
}

impl std::fmt::Debug for ConsoleBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleBuilder")
            .field("controls", &self.controls.keys().collect::<Vec<_>>())
            .field("token", &self.token)
            .field("zone", &self.zone)
            .finish_non_exhaustive()
    }
}

impl ConsoleBuilder {
    /// Lets the console replay and reset this pipeline (a [`crate::Pipeline`]
    /// or its clone).
    pub fn control(mut self, pipeline: Arc<dyn Control>) -> Self {
        self.controls.insert(pipeline.name().to_owned(), pipeline);
        self
    }

    /// Every page then needs this token (a login form sets a session
    /// cookie; scripts send `Authorization: Bearer`). Required on any
    /// address but loopback. An empty token counts as none.
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        let token = token.into();
        self.token = (!token.is_empty()).then_some(token);
        self
    }

    /// The time zone times are shown in (UTC+08:00 by default); pages name it.
    pub fn time_zone(mut self, zone: FixedOffset) -> Self {
        self.zone = zone;
        self
    }

    /// The heading of every page (e.g. the scheme's name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Whether to install the Prometheus recorder and serve `/metrics`
    /// (default yes). Off when the application installed its own recorder.
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on;
        self
    }

    /// The console's routes, for an application that serves them itself
    /// (merged at the root of a listener: the pages link to absolute
    /// paths). Every check of [`spawn`](Self::spawn) applies except the
    /// address rule, which is then the application's; serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so that the
    /// history names the operator's address.
    pub fn router(self) -> Router {
        let metrics = if self.metrics {
            install_recorder()
        } else {
            None
        };
        let shared = Arc::new(Shared {
            store: self.store,
            controls: self.controls,
            access: security::Access::new(self.token),
            zone: self.zone,
            title: self.title,
            metrics,
        });
        if let (Some(_), Ok(runtime)) = (&shared.metrics, tokio::runtime::Handle::try_current()) {
            // Histogram samples wait in the recorder until upkeep folds
            // them into buckets: without scrapes they would pile up. Ends
            // with the console.
            let console = Arc::downgrade(&shared);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(UPKEEP_EVERY);
                loop {
                    tick.tick().await;
                    let Some(shared) = console.upgrade() else {
                        return;
                    };
                    if let Some(handle) = &shared.metrics {
                        handle.run_upkeep();
                    }
                }
            });
        }
        pages::routes(shared)
    }

    /// Listens on `addr` and serves the console on the runtime until the
    /// returned handle is dropped or [`RunningConsole::shut_down`].
    pub async fn spawn(self, addr: SocketAddr) -> Result<RunningConsole, ConsoleError> {
        if !addr.ip().is_loopback() && self.token.is_none() {
            return Err(ConsoleError::TokenRequired(addr));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ConsoleError::Bind { addr, source })?;
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "the console stopped");
            }
        });
        tracing::info!(address = %local, "console listening");
        Ok(RunningConsole {
            addr: local,
            stop: Some(stop),
            task,
        })
    }
}

/// A console being served; dropping it stops it.
#[derive(Debug)]
pub struct RunningConsole {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningConsole {
    /// The address it listens on (the port chosen when `:0` was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, e.g. `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting, finishes the requests under way.
    pub async fn shut_down(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until the process ends (or the server fails).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningConsole {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
