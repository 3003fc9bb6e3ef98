//! Stage 3, write: one batch to the sink, and the records that failed
//! retryably again, alone, with backoff; then the write-back of the
//! records written.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use super::settle::Settlement;
use super::{RunErrorCause, Stages};
use crate::error::ErrorKind;
use crate::sink::{RecordError, Sink, SinkRecord, WriteOutcome};
use crate::source::Source;
use crate::state::{DeadLetter, EntryStatus, Stage};

/// A batch on its way to the sink: the records and, by position, their
/// source data (for the collection and dead letters).
pub(super) struct Batch<T> {
    pub(super) records: Vec<SinkRecord<T>>,
    pub(super) sources: Vec<Arc<Value>>,
    pub(super) attempts: u32,
}

impl<T> Batch<T> {
    pub(super) fn new(attempts: u32) -> Self {
        Self {
            records: Vec::new(),
            sources: Vec::new(),
            attempts,
        }
    }
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// Writes a batch; records that failed retryably are written again
    /// alone until the retry policy's last attempt, then dead-lettered. A
    /// whole batch failing with an auth error, or retryably at the last
    /// attempt, stops the run.
    pub(super) async fn write_batch(
        &self,
        mut batch: Batch<K::Item>,
    ) -> Result<Settlement, RunErrorCause> {
        let mut settled = Settlement::default();
        let mut write_backs = Vec::new();
        let mut backoff = self.retry.backoff();
        loop {
            batch.attempts += 1;
            let attempts = batch.attempts;
            self.hooks.before_write(&batch.records).await;
            let result = self.sink.write(&batch.records).await;
            let count = batch.records.len();
            let outcomes = match result {
                Ok(outcomes) if outcomes.len() == count => outcomes,
                Ok(outcomes) => {
                    let message = format!(
                        "the sink returned {} outcomes for {count} records",
                        outcomes.len()
                    );
                    vec![WriteOutcome::Failed(RecordError::permanent(message)); count]
                }
                Err(e)
                    if e.kind() == ErrorKind::Auth
                        || (e.is_retryable() && attempts >= self.retry.max_attempts) =>
                {
                    return Err(RunErrorCause::Write(e));
                }
                Err(e) => vec![WriteOutcome::Failed(RecordError::from(&e)); count],
            };
            self.hooks.after_write(&batch.records, &outcomes).await;

            let mut retry = Batch::new(attempts);
            for ((record, source), outcome) in
                batch.records.into_iter().zip(batch.sources).zip(outcomes)
            {
                match outcome {
                    WriteOutcome::Written { target_id, change } => {
                        settled.written += 1;
                        settled.count_change(change);
                        write_backs.extend(self.pending_write_back(
                            &record.key,
                            record.op,
                            &record.data,
                            target_id.as_deref(),
                            &source,
                        ));
                        settled
                            .successes
                            .push((record.key.clone(), target_id.clone()));
                        let entry =
                            self.entry(&record.key, EntryStatus::Written, target_id, source);
                        settled.entries.push(entry);
                    }
                    WriteOutcome::Skipped { reason } => {
                        settled.skipped += 1;
                        let entry = self.entry(&record.key, EntryStatus::Skipped, None, source);
                        settled.entries.push(entry);
                        settled.skips.push((record.key, reason));
                    }
                    WriteOutcome::Failed(error)
                        if error.retryable && attempts < self.retry.max_attempts =>
                    {
                        settled.failed += 1;
                        retry.records.push(record);
                        retry.sources.push(source);
                    }
                    WriteOutcome::Failed(error) => {
                        settled.failed += 1;
                        let entry =
                            self.entry(&record.key, EntryStatus::Failed, None, Arc::clone(&source));
                        settled.entries.push(entry);
                        settled.dead.push(DeadLetter {
                            pipeline: self.name.clone(),
                            payload: serde_json::to_value(&record.data).ok(),
                            key: record.key,
                            op: record.op,
                            source: Arc::unwrap_or_clone(source),
                            stage: Stage::Write,
                            target_id: None,
                            code: error.code,
                            error: error.message,
                            attempts,
                            failed_at: Utc::now(),
                        });
                    }
                }
            }
            if retry.records.is_empty() {
                self.write_back_all(write_backs, &mut settled).await;
                return Ok(settled);
            }
            settled.retried += retry.records.len() as u64;
            tokio::time::sleep(backoff.next().unwrap_or(self.retry.max_backoff)).await;
            batch = retry;
        }
    }
}
