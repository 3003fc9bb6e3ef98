#![cfg_attr(docsrs, feature(doc_cfg))]
//! # integration-core
//!
//! What every connector and every sync job shares:
//!
//! - [`Source`] and [`Sink`]: read pages of records from a cursor with an
//!   incremental [`Checkpoint`]; write batches with one [`WriteOutcome`] per
//!   record. [`memory`] has in-memory and closure adapters.
//! - [`mapping`]: typed mappings (any `Fn(&SourceRecord<S>, &MapContext) ->
//!   Result<Option<T>, MapError>`) and [declarative](mapping::declarative)
//!   ones (a JSON/TOML document of minijinja templates, QEasy style).
//! - [`Pipeline`]: source → mapping → sink with checkpoints, collections
//!   (QEasy's data table, usable for lookups), record-level retries, dead
//!   letters and replay, hooks, and a [`RunReport`]. Nothing is lost: see
//!   the guarantees in [`pipeline`].
//! - [`write_back`]: QEasy's 数据回压: the target's id or number written
//!   back to each source record after its write, as a pipeline stage
//!   with its own outcomes and dead letters.
//! - [`state`]: where checkpoints, collections, dead letters and the
//!   history of runs live, behind the async [`StateStore`] ([`SqliteStore`],
//!   bundled, off the runtime threads; [`MemoryStore`]).
//! - [`worker`]: N processes on one shared store running each pipeline
//!   once per slot between them ([`Worker`]): leases with fencing tokens,
//!   takeover of a dead worker's pipelines, one rate budget, graceful
//!   shutdown.
//! - [`check`]: what every client's `check()` returns: what a connection
//!   check learned, or why it failed (auth refused, unreachable, wrong URL).
//! - [`error`]: the [`Error`] model, the [`ErrorMeta`] every connector's
//!   error gives (through [`ConnectorError`]), vendor [`error::Code`]s and
//!   the one list of throttle words.
//! - [`envelope`]: the skeleton every connector's answer decoder shares
//!   (the body must be a JSON object; code and message by name); a
//!   connector adds only its success code and its classification.
//! - [`lenient`]: the one set of `deserialize_with` helpers every connector
//!   reads loosely typed fields with (text or number, `null` or `""` as
//!   absent, `null` as an empty list) — junk is an error naming the field,
//!   never a silent default.
//! - [`paging`]: the [`paging::Page`] every connector's `list` answers
//!   with, and [`paging::paginate`] / [`paging::items`] for all pages or
//!   all items as lazy streams.
//! - [`settings`]: the [`ClientSettings`] every connector's builder embeds
//!   (base URL, timeouts, rate limit, retries, user agent, a custom
//!   `reqwest::Client`), with the same setters on all of them.
//! - [`transport`]: the HTTP client every connector sends through
//!   (timeouts, a shared rate limiter, retries with backoff and
//!   retry-after, a tracing span per call), the [`Error`] model, [`Secret`]s
//!   that never reach logs, the token cache in [`auth`] and value [`types`]
//!   (ids from strings or numbers, explicit time zones).
//! - `postgres` (feature): [`PostgresStore`], state in a PostgreSQL
//!   database shared by workers on several machines (versioned
//!   migrations, the server's clock for leases and budgets; no TLS yet).
//! - [`telemetry`]: the metrics every pipeline and API call records
//!   through the `metrics` facade (nothing without a recorder).
//! - [`console`] (feature): the operations console, web pages over any
//!   [`StateStore`] (runs, reports, dead letters with replay, collections,
//!   checkpoint reset) and Prometheus `/metrics`; see `CONSOLE.md`.
//! - [`testing`] (feature): the kit each connector's fake server is built on,
//!   its `Fake` trait (start, point a client at it, inject faults, see what
//!   it received), a model of a real API's pace (per-call latency and a
//!   server-side rate limit with the API's throttle answer; off by default)
//!   and one fast retry policy for tests.
//!
//! ```
//! use std::sync::Arc;
//! use integration_core::memory::{MemorySink, VecSource};
//! use integration_core::{MemoryStore, Pipeline, SourceRecord};
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Buyer { cid: String, nick: String }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let buyers = vec![SourceRecord::upsert("c1", Buyer { cid: "c1".into(), nick: "张三".into() })];
//! let sink = MemorySink::new(100);
//! let pipeline = Pipeline::builder("buyers")
//!     .source(VecSource::new(buyers, 50))
//!     // The closure's argument types come from the source and the sink.
//!     .map(|r, _ctx| Ok(Some(serde_json::json!({ "FNumber": r.data.cid, "FName": r.data.nick }))))
//!     .sink(sink.clone())
//!     .state(Arc::new(MemoryStore::new()))
//!     .build()?;
//! let report = pipeline.run().await?;
//! assert_eq!((report.read, report.written, report.unaccounted()), (1, 1, 0));
//! assert_eq!(sink.stored()["c1"]["FName"], "张三");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod auth;
pub mod check;
#[cfg(feature = "console")]
#[cfg_attr(docsrs, doc(cfg(feature = "console")))]
pub mod console;
pub mod envelope;
pub mod error;
pub mod lenient;
pub mod mapping;
pub mod memory;
pub mod paging;
pub mod pipeline;
pub mod report;
pub mod secret;
pub mod settings;
pub mod sink;
pub mod source;
pub mod state;
pub mod telemetry;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod transport;
pub mod types;
pub mod worker;
pub mod write_back;

pub use error::{ConnectorError, Error, ErrorKind, ErrorMeta, Retry};
pub use mapping::{MapContext, MapError, Mapper};
pub use pipeline::{Control, Hooks, Pipeline, RunError, RunOptions, Schedule, StopSignal};
pub use report::RunReport;
pub use secret::Secret;
pub use settings::{ClientConfig, ClientSettings};
pub use sink::{Change, RecordError, Sink, SinkRecord, WriteOutcome};
pub use source::{Checkpoint, HighWater, Op, Page, Source, SourceRecord};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use state::PostgresStore;
pub use state::{
    CollectionEntry, DeadLetter, EntryQuery, MemoryStore, RunRecord, SqliteStore, StateStore,
};
pub use transport::{RateLimit, RateShare, RawResponse, RetryPolicy, Transport};
pub use worker::{Runnable, Sequence, Worker};
pub use write_back::{WriteBack, WriteBackOutcome, WriteBackRecord};
