//! The writing side of a pipeline.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::source::Op;

/// One record to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkRecord<T> {
    /// The source record's key (for idempotency and reporting).
    pub key: String,
    /// Create/update, or delete.
    #[serde(default)]
    pub op: Op,
    /// The mapped record.
    pub data: T,
}

/// Why one record of a batch was not written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// The target API's own error code, when it gave one.
    pub code: Option<String>,
    /// The target API's message (e.g. Kingdee's per-record message).
    pub message: String,
    /// Whether writing the record again may succeed.
    pub retryable: bool,
}

impl RecordError {
    /// A failure that will not go away by retrying (validation, duplicate).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            code: None,
            message: message.into(),
            retryable: false,
        }
    }
    /// A failure worth retrying (throttled, locked, temporarily unavailable).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            code: None,
            message: message.into(),
            retryable: true,
        }
    }
    /// Sets the API's error code.
    pub fn with_code(mut self, code: impl ToString) -> Self {
        self.code = Some(code.to_string());
        self
    }
}

impl From<&Error> for RecordError {
    fn from(e: &Error) -> Self {
        Self {
            code: e.code().map(str::to_owned),
            message: e.to_string(),
            retryable: e.is_retryable(),
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "[{code}] {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Whether a write created the record in the target or updated it, when
/// the sink knows (an upsert that looked the record up first does).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The sink cannot tell.
    #[default]
    Unknown,
    /// The record is new in the target.
    Created,
    /// The record existed and was changed.
    Updated,
}

/// What happened to one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum WriteOutcome {
    /// Written; the id the target gave it, when it said.
    Written {
        /// The target system's id or number.
        target_id: Option<String>,
        /// Created or updated, when the sink knows.
        #[serde(default)]
        change: Change,
    },
    /// Deliberately not written (e.g. a delete the target does not support).
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not written.
    Failed(RecordError),
}

impl WriteOutcome {
    /// Written with this target id (created or updated: unknown).
    pub fn written(target_id: impl Into<String>) -> Self {
        Self::written_as(Change::Unknown, Some(target_id.into()))
    }
    /// Created in the target with this id.
    pub fn created(target_id: impl Into<String>) -> Self {
        Self::written_as(Change::Created, Some(target_id.into()))
    }
    /// An existing record of the target, with this id, updated.
    pub fn updated(target_id: impl Into<String>) -> Self {
        Self::written_as(Change::Updated, Some(target_id.into()))
    }
    /// Written, with the change it made and the target id if known.
    pub fn written_as(change: Change, target_id: Option<String>) -> Self {
        Self::Written { target_id, change }
    }
}

/// A system records are written to, in batches.
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// The record type.
    type Item: Serialize + Send + Sync + 'static;

    /// The largest batch the target accepts in one call (K/3 Cloud BatchSave
    /// takes many, Jackyun one).
    fn max_batch_size(&self) -> usize;

    /// Writes a batch and returns exactly one outcome per record, in order.
    /// `Err` means the whole batch failed (transport, auth, throttling); its
    /// [`Error::is_retryable`] decides whether it is tried again.
    async fn write(&self, batch: &[SinkRecord<Self::Item>]) -> Result<Vec<WriteOutcome>, Error>;
}
