//! Replay: the dead letters through map → write → settle again, after the
//! data or the mapping was fixed.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::flow::Fed;
use super::settle::{Boundary, Settlement, Settler};
use super::{Pipeline, RunErrorCause, RunOptions, Stages, Unit};
use crate::report::RunReport;
use crate::sink::Sink;
use crate::source::{Source, SourceRecord};
use crate::state::{DeadLetter, RunKind, Stage, StateError};

use super::RunError;

impl<S: Source, K: Sink> Pipeline<S, K>
where
    S::Item: DeserializeOwned,
{
    /// Maps and writes the dead letters again (after the data or the
    /// mapping was fixed). Records written now leave the dead letters;
    /// those failing again stay with their attempt count raised; a letter
    /// of a failed write-back is only written back. Letters settle chunk
    /// by chunk, as a run's pages do: a replay cut short leaves only the
    /// unsettled ones. The checkpoint is not touched.
    pub async fn replay_dead_letters(&self) -> Result<RunReport, RunError> {
        self.replay_dead_letters_with(&RunOptions::default()).await
    }

    /// [`replay_dead_letters`](Self::replay_dead_letters) under a lease and
    /// until asked to stop, as [`Pipeline::run_with`].
    pub async fn replay_dead_letters_with(
        &self,
        options: &RunOptions,
    ) -> Result<RunReport, RunError> {
        let _busy = self.stages.busy.lock().await;
        let (mut run, begun) = self.stages.begin(RunKind::Replay, options).await;
        let result = match begun {
            Ok(()) => self.stages.replay(&mut run.settler, options).await,
            Err(e) => Err(e.into()),
        };
        self.stages.finish(run, result).await
    }
}

/// What an operator may do to a pipeline from outside the code that runs
/// it: the console's handle on one ([`Pipeline`] implements it).
#[async_trait::async_trait]
pub trait Control: Send + Sync {
    /// The pipeline's name.
    fn name(&self) -> &str;
    /// Replays its dead letters (all, or [`RunOptions::only`] some).
    async fn replay(&self, options: &RunOptions) -> Result<RunReport, RunError>;
    /// Forgets its checkpoint ([`Pipeline::reset_checkpoint`]).
    async fn reset_checkpoint(&self, operator: &str) -> Result<bool, StateError>;
}

#[async_trait::async_trait]
impl<S: Source, K: Sink> Control for Pipeline<S, K>
where
    S::Item: DeserializeOwned,
{
    fn name(&self) -> &str {
        Pipeline::name(self)
    }

    async fn replay(&self, options: &RunOptions) -> Result<RunReport, RunError> {
        self.replay_dead_letters_with(options).await
    }

    async fn reset_checkpoint(&self, operator: &str) -> Result<bool, StateError> {
        Pipeline::reset_checkpoint(self, operator).await
    }
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// A replay: chunks of `batch_size × concurrency` letters, through the
    /// one scheduler.
    pub(super) async fn replay(
        self: &Arc<Self>,
        settler: &mut Settler,
        options: &RunOptions,
    ) -> Result<(), RunErrorCause>
    where
        S::Item: DeserializeOwned,
    {
        let mut letters = self.state.dead_letters(&self.name).await?;
        if let Some(only) = &options.only {
            letters.retain(|l| only.contains(&l.key));
        }
        settler.has_dead_letters = !letters.is_empty();
        settler.count_earlier_attempts(
            letters
                .iter()
                .map(|l| (l.key.clone(), l.attempts))
                .collect(),
        );
        let chunk = self.batch_size.max(1) * self.concurrency;
        let mut chunks: VecDeque<Vec<DeadLetter>> = VecDeque::new();
        let mut letters = letters.into_iter().peekable();
        while letters.peek().is_some() {
            chunks.push_back(letters.by_ref().take(chunk).collect());
        }
        let Some(first) = chunks.pop_front() else {
            return Ok(());
        };
        let ctx = &self.context();
        let mut rest = chunks;
        self.drive(settler, first, |letters: Vec<DeadLetter>| {
            let next = rest.pop_front();
            async move {
                // A letter of a record written but not written back is
                // only written back again.
                let (write_backs, letters): (Vec<_>, Vec<_>) = letters.into_iter().partition(|l| {
                    self.write_back.is_some()
                        && l.stage == Stage::WriteBack
                        && l.target_id.is_some()
                });
                let read = letters.len() as u64;
                let (records, unreadable) = self.decode(letters);
                let mut units = vec![Unit::Settled(unreadable)];
                if !write_backs.is_empty() {
                    units.push(self.replay_write_backs(write_backs));
                }
                units.extend(self.map_page(records, Boundary::Replay, ctx).await);
                Ok(Fed { units, read, next })
            }
        })
        .await
    }

    /// The letters' source records, and the letters whose stored record no
    /// longer decodes, settled as failed to map.
    fn decode(&self, letters: Vec<DeadLetter>) -> (Vec<SourceRecord<S::Item>>, Settlement)
    where
        S::Item: DeserializeOwned,
    {
        let mut records = Vec::with_capacity(letters.len());
        let mut unreadable = Settlement::default();
        for letter in letters {
            match serde_json::from_value::<S::Item>(letter.source.clone()) {
                Ok(data) => records.push(SourceRecord {
                    key: letter.key,
                    op: letter.op,
                    data,
                }),
                Err(e) => {
                    unreadable.read += 1;
                    let error = format!("the stored source record no longer decodes: {e}");
                    self.map_failed(&mut unreadable, letter.key, letter.op, letter.source, error);
                }
            }
        }
        (records, unreadable)
    }
}
