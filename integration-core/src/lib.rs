//! # integration-core
//!
//! The shared core of the connector workspace: the HTTP [`transport`] every
//! connector sends through, the [`Error`] model, [`Secret`]s that never reach
//! logs, value [`types`] (ids, explicit time zones), credential caching
//! ([`auth`]) and, behind the `testing` feature, the kit for fake servers.
//!
//! ```
//! use std::time::Duration;
//! use integration_core::transport::{RateLimit, RetryPolicy, Transport};
//!
//! let transport = Transport::builder("example")
//!     .timeout(Some(Duration::from_secs(30)))
//!     .rate_limit(Some(RateLimit::new(10, 5)))
//!     .retry(RetryPolicy::default())
//!     .build()?;
//! assert_eq!(transport.system(), "example");
//! # Ok::<(), integration_core::Error>(())
//! ```

pub mod auth;
pub mod error;
pub mod mapping;
pub mod memory;
pub mod pipeline;
pub mod report;
pub mod secret;
pub mod sink;
pub mod source;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;
pub mod types;

pub use error::{Error, ErrorKind, Retry};
pub use mapping::{MapContext, MapError, Mapper};
pub use pipeline::{Hooks, Pipeline, RunError};
pub use report::RunReport;
pub use secret::Secret;
pub use sink::{RecordError, Sink, SinkRecord, WriteOutcome};
pub use source::{Checkpoint, Cursor, HighWater, Op, Page, Source, SourceRecord};
pub use state::{DeadLetter, MemoryStore, SqliteStore, StateStore};
pub use transport::{RateLimit, RawResponse, RetryPolicy, Transport};
