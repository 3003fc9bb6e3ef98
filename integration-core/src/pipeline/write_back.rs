//! Stage 3b, write-back: after a record was written, the target's id or
//! number goes back to the source record ([`crate::write_back`]). Each
//! record has its own outcome; a failure is a dead letter of stage
//! [`Stage::WriteBack`] and never stops the run or holds back its
//! checkpoint longer than the attempts take.

use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use serde_json::Value;

use super::settle::Settlement;
use super::{Stages, Unit};
use crate::error::Error;
use crate::sink::{RecordError, Sink};
use crate::source::{Op, Source};
use crate::state::{DeadLetter, Stage};
use crate::write_back::{WriteBack, WriteBackOutcome, WriteBackRecord};

/// Picks the value to write back from the target's id and the mapped
/// record (by default the target's id).
pub(super) type ValueOf<T> = dyn Fn(Option<&str>, &T) -> Option<String> + Send + Sync;

/// A [`WriteBack`] with its item's decoding inside, so that the stage
/// needs no `Deserialize` bound on the source's item.
#[async_trait::async_trait]
pub(super) trait Target<T>: Send + Sync {
    /// The source record from the JSON the pipeline keeps of it.
    fn decode(&self, source: &Value) -> Result<T, serde_json::Error>;
    async fn write_back(&self, record: &WriteBackRecord<T>) -> Result<WriteBackOutcome, Error>;
}

#[async_trait::async_trait]
impl<W: WriteBack> Target<W::Item> for W {
    fn decode(&self, source: &Value) -> Result<W::Item, serde_json::Error> {
        <W::Item as serde::Deserialize>::deserialize(source)
    }
    async fn write_back(
        &self,
        record: &WriteBackRecord<W::Item>,
    ) -> Result<WriteBackOutcome, Error> {
        WriteBack::write_back(self, record).await
    }
}

/// The write-back a pipeline was built with.
pub(super) struct WriteBackStage<S, T> {
    pub(super) target: Arc<dyn Target<S>>,
    pub(super) value: Arc<ValueOf<T>>,
    pub(super) concurrency: usize,
}

/// A written record waiting for its write-back.
pub(super) struct PendingWriteBack {
    pub(super) key: String,
    pub(super) op: Op,
    pub(super) source: Arc<Value>,
    pub(super) payload: Option<Value>,
    /// `None` when the target gave nothing to write back.
    pub(super) value: Option<String>,
}

/// How one write-back ended.
enum Ended {
    Written,
    Unchanged,
    Dead(Box<DeadLetter>),
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// The write-back of a record just written, if the pipeline has one
    /// (a deletion has no source record left to write to).
    pub(super) fn pending_write_back(
        &self,
        key: &str,
        op: Op,
        data: &K::Item,
        target_id: Option<&str>,
        source: &Arc<Value>,
    ) -> Option<PendingWriteBack> {
        let stage = self.write_back.as_ref()?;
        (op != Op::Delete).then(|| PendingWriteBack {
            key: key.to_owned(),
            op,
            source: Arc::clone(source),
            payload: serde_json::to_value(data).ok(),
            value: (stage.value)(target_id, data),
        })
    }

    /// A replay's write-back letters as a unit of their own: only the
    /// write-back is done again, not the write.
    pub(super) fn replay_write_backs(&self, letters: Vec<DeadLetter>) -> Unit<K::Item> {
        Unit::WriteBack(
            letters
                .into_iter()
                .map(|l| PendingWriteBack {
                    key: l.key,
                    op: l.op,
                    source: Arc::new(l.source),
                    payload: l.payload,
                    value: l.target_id,
                })
                .collect(),
        )
    }

    /// Writes back `pending`, at most the stage's concurrency at a time,
    /// into `settled`. Letters of records that were written back now are
    /// cleared (a replay's, or an earlier run's).
    pub(super) async fn write_back_all(
        &self,
        pending: Vec<PendingWriteBack>,
        settled: &mut Settlement,
    ) {
        let Some(stage) = &self.write_back else {
            return;
        };
        let mut ended = futures::stream::iter(pending)
            .map(|p| async move {
                let key = p.key.clone();
                (key, self.write_back_one(stage, p).await)
            })
            .buffer_unordered(stage.concurrency);
        while let Some((key, end)) = ended.next().await {
            match end {
                Ended::Written => {
                    settled.written_back += 1;
                    settled.cleared.push(key);
                }
                Ended::Unchanged => {
                    settled.write_back_unchanged += 1;
                    settled.cleared.push(key);
                }
                Ended::Dead(letter) => settled.dead.push(*letter),
            }
        }
    }

    /// One write-back, retried under the pipeline's policy while it fails
    /// retryably.
    async fn write_back_one(
        &self,
        stage: &WriteBackStage<S::Item, K::Item>,
        p: PendingWriteBack,
    ) -> Ended {
        let Some(value) = p.value.clone() else {
            let error = RecordError::permanent("the target gave no id or number to write back");
            return Ended::Dead(Box::new(self.write_back_letter(p, error, 0)));
        };
        let source = match stage.target.decode(&p.source) {
            Ok(source) => source,
            Err(e) => {
                let error = RecordError::permanent(format!(
                    "the source record does not decode for the write-back: {e}"
                ));
                return Ended::Dead(Box::new(self.write_back_letter(p, error, 0)));
            }
        };
        let record = WriteBackRecord {
            key: p.key.clone(),
            source,
            value,
        };
        let mut backoff = self.retry.backoff();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match stage.target.write_back(&record).await {
                Ok(WriteBackOutcome::Written) => return Ended::Written,
                Ok(WriteBackOutcome::Unchanged) => return Ended::Unchanged,
                Ok(WriteBackOutcome::Failed(error)) => error,
                Err(e) => RecordError::from(&e),
            };
            if !error.retryable || attempts >= self.retry.max_attempts {
                tracing::warn!(pipeline = %self.name, key = %p.key, %error, attempts, "write-back failed");
                return Ended::Dead(Box::new(self.write_back_letter(p, error, attempts)));
            }
            tokio::time::sleep(backoff.next().unwrap_or(self.retry.max_backoff)).await;
        }
    }

    fn write_back_letter(
        &self,
        p: PendingWriteBack,
        error: RecordError,
        attempts: u32,
    ) -> DeadLetter {
        DeadLetter {
            pipeline: self.name.clone(),
            key: p.key,
            op: p.op,
            source: Arc::unwrap_or_clone(p.source),
            payload: p.payload,
            stage: Stage::WriteBack,
            target_id: p.value,
            code: error.code,
            error: error.message,
            attempts: attempts.max(1),
            failed_at: Utc::now(),
        }
    }
}
