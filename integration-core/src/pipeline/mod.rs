//! Source → map → sink, with checkpoints, collections, retries, dead
//! letters, hooks and a history of runs.
//!
//! # The stages, one module each
//!
//! | stage | module | what it does |
//! |---|---|---|
//! | build | `builder` | [`PipelineBuilder`]: source, mapping, sink, state, batch size, concurrency, retries, hooks |
//! | read | `read` | one page from the source at a cursor, read again when undecodable or retryable |
//! | map | `map` | a page's records → batches, skipped and failed records, outside the async context (lookups wait there) |
//! | write | `write` | one batch to the sink; retryable failures again, alone |
//! | write-back | `write_back` | the target's id back to each written source record ([`crate::write_back`]) |
//! | settle | `settle` | in source order: the report, the store (a unit's records atomically, then the page's checkpoint) and the hooks |
//! | flow | `flow` | the one scheduler of runs and replays: writes out of order, settles in order, back-pressure |
//! | replay | `replay` | the dead letters through map → write → settle again |
//! | schedule | `schedule` | runs on an interval or a cron expression, with jitter, never overlapping |
//!
//! Every run and replay leaves a [`crate::state::RunRecord`] in
//! the store ([`Pipeline::history`]); one that never finished is marked
//! killed when the pipeline next starts.
//!
//! # Guarantees
//! - **Nothing lost, at least once.** A page's checkpoint is stored only
//!   after every record of that page and of every page before it was
//!   written, skipped or dead-lettered (and recorded in the collection). A
//!   run stopped at any point (dropped, panicked, killed) and run again
//!   re-reads from the last stored checkpoint; sinks that upsert by key make
//!   the rerun duplicate-free.
//! - **Bounded memory and back-pressure.** Reading, mapping and writing
//!   overlap, but the source is asked for the next page only when the last
//!   one is handed to the writers and fewer than `concurrency` written
//!   batches wait for an earlier one to settle: at most two pages plus
//!   `2 × concurrency × batch_size` records are in flight, so a slow sink
//!   slows the source. Batches are written out of order (a slow write does
//!   not hold up the others) and settled in order.
//! - **Retries and dead letters.** A record that failed retryably is sent
//!   again alone (the rest of its batch is not written twice), with backoff,
//!   up to the retry policy's attempts; a permanent failure, or one that
//!   stays after the last attempt, goes to the dead letters with the source
//!   record, the mapped payload, the error and the attempt count. A whole
//!   batch failing retryably until the last attempt, or with an auth error,
//!   stops the run without moving the checkpoint. A page whose answer
//!   could not be decoded, or whose read failed retryably or with an
//!   expired token, is read again under the same policy.
//! - **Write-back.** With [`PipelineBuilder::write_back`], each record
//!   written is written back to its source (the target's id or number)
//!   before its batch settles. Each has its own outcome: written back,
//!   unchanged (the source held the value: nothing sent), or, after the
//!   retry policy's attempts, a dead letter of stage
//!   [`Stage::WriteBack`](crate::state::Stage::WriteBack) that a replay
//!   writes back again without writing the record twice. A failed
//!   write-back never stops the run: the record is written, its entry
//!   and the page's checkpoint are stored as usual. The report counts
//!   write-backs apart from the records' own outcomes.
//! - **One writer per lease.** A run made under a lease
//!   ([`RunOptions::lease`], what [`crate::Worker`] does) carries its
//!   fencing token on every store write; after another worker took the
//!   lease over, the store refuses them and the run stops without moving
//!   the checkpoint. A [`StopSignal`] ends a run gracefully: no more pages
//!   are read, the ones read are written and settled.
//! - **One at a time.** Runs, replays and checkpoint resets of one pipeline
//!   (and its clones) never overlap in a process: a second waits for the
//!   first. An operator acts on a pipeline through [`Control`].

mod builder;
mod flow;
mod hooks;
mod map;
mod read;
mod replay;
mod schedule;
mod settle;
mod write;
mod write_back;

pub use builder::PipelineBuilder;
pub use hooks::{Hooks, NoHooks};
pub use replay::Control;
pub use schedule::{Schedule, Ticker};

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::mapping::Mapper;
use crate::report::RunReport;
use crate::sink::Sink;
use crate::source::Source;
use crate::state::{Lease, RunKind, RunOutcome, RunRecord, StateError, StateStore};
use crate::transport::RetryPolicy;

use settle::{Boundary, Settlement, Settler};
use write::Batch;

/// Why a run stopped before reading everything.
#[derive(Debug, thiserror::Error)]
pub enum RunErrorCause {
    /// The source failed (after the transport's retries, and for an
    /// undecodable answer the pipeline's own).
    #[error("reading failed: {0}")]
    Read(#[source] Error),
    /// A whole batch failed in a way that retrying later may fix (the
    /// target is down, throttling did not stop) or that needs a person
    /// (credentials rejected); nothing was dead-lettered for it.
    #[error("writing failed: {0}")]
    Write(#[source] Error),
    /// The state store failed, or refused a write because another worker
    /// took the lease over ([`StateError::is_fenced`]).
    #[error("{0}")]
    State(#[from] StateError),
    /// Asked to stop ([`StopSignal`]): the pages already read were written
    /// and settled, their checkpoint stored; the rest is for the next run.
    #[error("stopped on request after the pages in flight settled")]
    ShutDown,
}

/// How a run or replay is made: as the holder of a lease, whose fence every
/// write then carries (once another worker has taken the lease over, the
/// store refuses them and the run stops without moving the checkpoint; the
/// run's record names the holder), and until a [`StopSignal`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    lease: Option<Lease>,
    stop: Option<StopSignal>,
    only: Option<std::collections::HashSet<String>>,
    operator: Option<String>,
}

impl RunOptions {
    /// A plain run: no lease, until done.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs as the holder of `lease`.
    pub fn lease(mut self, lease: Lease) -> Self {
        self.lease = Some(lease);
        self
    }

    /// Reads no more pages once `stop` is given: what was read is written
    /// and settled, and the run ends with [`RunErrorCause::ShutDown`].
    pub fn stop_on(mut self, stop: StopSignal) -> Self {
        self.stop = Some(stop);
        self
    }

    /// A replay of only the dead letters with these keys (the others stay
    /// as they are); a run ignores it.
    pub fn only(mut self, keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.only = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// Records in the run's history that an operator asked for it (e.g.
    /// `console (127.0.0.1)`).
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = Some(operator.into());
        self
    }
}

/// Asks runs to stop once the pages they already read have settled: a
/// graceful shutdown. Clones share the signal.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<std::sync::atomic::AtomicBool>);

impl StopSignal {
    /// A signal not yet given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the signal.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether it was given.
    pub fn is_stopped(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A run stopped early. The checkpoint is where the last completed page
/// left it; running again continues from there.
#[derive(Debug, thiserror::Error)]
#[error("pipeline `{}` stopped: {cause}", report.pipeline)]
pub struct RunError {
    /// Why it stopped.
    #[source]
    pub cause: RunErrorCause,
    /// What the run did before it stopped.
    pub report: Box<RunReport>,
}

/// A sync job: source → mapping → sink, with its state.
///
/// Clones share everything (cheap: one `Arc`). One run or replay of a
/// pipeline goes at a time in a process: a second call waits for the first.
pub struct Pipeline<S: Source, K: Sink> {
    stages: Arc<Stages<S, K>>,
}

impl<S: Source, K: Sink> Clone for Pipeline<S, K> {
    fn clone(&self) -> Self {
        Self {
            stages: Arc::clone(&self.stages),
        }
    }
}

/// What every stage reads: the parts the builder put together.
struct Stages<S: Source, K: Sink> {
    name: String,
    source: S,
    mapper: Arc<dyn Mapper<S::Item, K::Item>>,
    sink: K,
    state: Arc<dyn StateStore>,
    batch_size: usize,
    concurrency: usize,
    retry: RetryPolicy,
    hooks: Arc<dyn Hooks<S::Item, K::Item>>,
    constants: Map<String, Value>,
    write_back: Option<write_back::WriteBackStage<S::Item, K::Item>>,
    /// Held by the run or replay under way (and by a checkpoint reset), so
    /// that they never interleave their writes.
    busy: tokio::sync::Mutex<()>,
}

/// One unit of work, in source order.
enum Unit<T> {
    /// Records settled without writing (skipped or failed mapping).
    Settled(Settlement),
    /// A batch to write.
    Batch(Batch<T>),
    /// Records written earlier whose write-back is replayed.
    WriteBack(Vec<write_back::PendingWriteBack>),
    /// The end of a page or a replay chunk.
    End(Boundary),
}

impl<S: Source, K: Sink> std::fmt::Debug for Pipeline<S, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.stages.name)
            .field("batch_size", &self.stages.batch_size)
            .field("concurrency", &self.stages.concurrency)
            .field("retry", &self.stages.retry)
            .finish_non_exhaustive()
    }
}

impl<S: Source, K: Sink> Pipeline<S, K> {
    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.stages.name
    }

    /// The state store.
    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.stages.state
    }

    /// Reads everything changed since the last checkpoint, maps and writes
    /// it, and stores the new checkpoint page by page.
    pub async fn run(&self) -> Result<RunReport, RunError> {
        self.run_with(&RunOptions::default()).await
    }

    /// [`run`](Self::run) under a lease and until asked to stop (see
    /// [`RunOptions`]); what a [`crate::Worker`] calls.
    pub async fn run_with(&self, options: &RunOptions) -> Result<RunReport, RunError> {
        let _busy = self.stages.busy.lock().await;
        let (mut run, begun) = self.stages.begin(RunKind::Run, options).await;
        let result = match begun {
            Ok(()) => self.stages.run(&mut run.settler).await,
            Err(e) => Err(e.into()),
        };
        self.stages.finish(run, result).await
    }

    /// Runs until `shutdown` completes; `None` if it was cut short. Cutting
    /// a run short is safe: the next run continues from the last checkpoint
    /// (and finds this one in the history as killed).
    pub async fn run_until(
        &self,
        shutdown: impl Future<Output = ()>,
    ) -> Option<Result<RunReport, RunError>> {
        tokio::select! {
            result = self.run() => Some(result),
            () = shutdown => None,
        }
    }

    /// Forgets the checkpoint, so that the next run reads everything again
    /// (collections and dead letters stay; upserting sinks absorb the
    /// records written once more). Waits for a run under way to end, and
    /// records the reset in the history, naming `operator`. Says whether
    /// there was a checkpoint.
    pub async fn reset_checkpoint(&self, operator: &str) -> Result<bool, StateError> {
        let _busy = self.stages.busy.lock().await;
        let state = &self.stages.state;
        let had = state.reset_checkpoint(&self.stages.name).await?;
        let mut record = RunRecord::start(
            RunKind::Reset,
            RunReport::new(&self.stages.name, Utc::now()),
        );
        record.operator = Some(operator.to_owned());
        record.outcome = RunOutcome::Completed;
        record.ended_at = Some(Utc::now());
        state.put_run(&record).await?;
        tracing::info!(pipeline = %self.stages.name, operator, had, "checkpoint reset");
        Ok(had)
    }

    /// The runs and replays of this pipeline, newest first: `limit` of
    /// them after skipping `offset`.
    pub async fn history(&self, offset: usize, limit: usize) -> Result<Vec<RunRecord>, StateError> {
        self.stages
            .state
            .runs(&self.stages.name, offset, limit)
            .await
    }
}

/// A run or replay under way: its report so far and its record.
struct Started {
    settler: Settler,
    record: RunRecord,
    clock: tokio::time::Instant,
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// Starts a run or replay: marks the runs of this pipeline that never
    /// finished as killed and stores this one's record.
    async fn begin(
        &self,
        kind: RunKind,
        options: &RunOptions,
    ) -> (Started, Result<(), StateError>) {
        let settler = Settler::new(
            RunReport::new(&self.name, Utc::now()),
            options.lease.as_ref().map(Lease::fence),
            options.stop.clone(),
        );
        let mut record = RunRecord::start(kind, settler.report.clone());
        record.worker = options.lease.as_ref().map(|l| l.holder.clone());
        record.operator.clone_from(&options.operator);
        let begun = async {
            let killed = self.state.end_unfinished_runs(&self.name).await?;
            if killed > 0 {
                tracing::warn!(pipeline = %self.name, killed, "earlier runs never finished");
            }
            self.state.put_run(&record).await
        }
        .await;
        let clock = tokio::time::Instant::now();
        (
            Started {
                settler,
                record,
                clock,
            },
            begun,
        )
    }

    /// Ends a run or replay: its report, and its record in the history.
    async fn finish(
        &self,
        run: Started,
        result: Result<(), RunErrorCause>,
    ) -> Result<RunReport, RunError> {
        let Started {
            settler,
            mut record,
            clock,
        } = run;
        let mut report = settler.report;
        report.duration_ms = clock.elapsed().as_millis() as u64;
        record.outcome = match &result {
            Ok(()) => RunOutcome::Completed,
            Err(cause) => RunOutcome::Stopped {
                cause: cause.to_string(),
            },
        };
        record.ended_at = Some(Utc::now());
        record.report = report.clone();
        let stored = self.state.put_run(&record).await;
        let kind = record.kind;
        crate::telemetry::run_ended(&report, kind, result.is_ok() && stored.is_ok());
        match (result, stored) {
            (Ok(()), Ok(())) => {
                tracing::info!(pipeline = %self.name, ?kind, read = report.read, written = report.written, dead = report.dead_lettered, "run completed");
                Ok(report)
            }
            (Ok(()), Err(e)) => Err(RunError {
                cause: e.into(),
                report: Box::new(report),
            }),
            (Err(cause), stored) => {
                if let Err(e) = stored {
                    tracing::warn!(pipeline = %self.name, error = %e, "the run's record was not stored");
                }
                tracing::warn!(pipeline = %self.name, ?kind, error = %cause, "run stopped");
                Err(RunError {
                    cause,
                    report: Box::new(report),
                })
            }
        }
    }
}
