//! Write-back (QEasy's 数据回压 / 回写): after a record was written, the
//! target's id or number is written back to the source record, so that a
//! 销帮帮 customer shows its K/3 Cloud number and an OKKI company its
//! YonBIP merchant code.
//!
//! A connector whose API can update a record implements [`WriteBack`] for
//! its source type; a pipeline gets it with
//! [`PipelineBuilder::write_back`](crate::pipeline::PipelineBuilder::write_back).
//! The stage runs after a record's write succeeded, with its own outcome
//! per record (see [`crate::pipeline`]'s guarantees): written back,
//! unchanged, or a dead letter of stage [`Stage::WriteBack`] that a replay
//! writes back again without writing the record a second time.
//!
//! # Idempotent, and no echo
//! Writing back changes the source record, so an incremental source reads
//! it again in its next run and the pipeline writes it again (an upsert:
//! nothing changes in the target). An implementation must then answer
//! [`WriteBackOutcome::Unchanged`] without calling the API when the source
//! record already holds the value: that makes writing the same value twice
//! change nothing, and stops the loop after one round.
//!
//! [`Stage::WriteBack`]: crate::state::Stage::WriteBack

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::sink::RecordError;

/// One record to write back to: the source record as read, and the value
/// the target gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteBackRecord<T> {
    /// The source record's key.
    pub key: String,
    /// The source record as the pipeline read it.
    pub source: T,
    /// What to write into it: the target's id or number.
    pub value: String,
}

/// What writing back did to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteBackOutcome {
    /// The source record now holds the value.
    Written,
    /// It held the value already; nothing was sent.
    Unchanged,
    /// Not written back (retried by the pipeline when `retryable`).
    Failed(RecordError),
}

/// A source system that can record the target's id on its own records.
#[async_trait]
pub trait WriteBack: Send + Sync + 'static {
    /// The source's record type (the pipeline's `Source::Item`).
    type Item: DeserializeOwned + Send + Sync + 'static;

    /// Writes `record.value` into the source record, or answers
    /// [`WriteBackOutcome::Unchanged`] without a call when it holds it
    /// already. `Err` is a failed call; its [`Error::is_retryable`] decides
    /// whether the pipeline tries again.
    async fn write_back(
        &self,
        record: &WriteBackRecord<Self::Item>,
    ) -> Result<WriteBackOutcome, Error>;
}
