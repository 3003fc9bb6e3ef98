//! Source → map → sink, with checkpoints, collections, retries, dead
//! letters and hooks.
//!
//! Guarantees:
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

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::{FuturesOrdered, FuturesUnordered};
use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::mapping::{CollectionEntry, EntryStatus, MapContext, Mapper};
use crate::report::RunReport;
use crate::sink::{RecordError, Sink, SinkRecord, WriteOutcome};
use crate::source::{Checkpoint, Cursor, Op, Page, Source, SourceRecord};
use crate::state::{DeadLetter, StateError, StateStore, StoreLookup};
use crate::transport::RetryPolicy;

/// Callbacks at the stages QEasy exposes. Every method defaults to doing
/// nothing; implement the ones you need.
#[async_trait]
pub trait Hooks<S: Send + Sync, T: Send + Sync>: Send + Sync {
    /// Before a page is read.
    async fn before_read(&self, _cursor: Option<&Cursor>) {}
    /// After a page was read.
    async fn after_read(&self, _page: &Page<S>) {}
    /// After a record was mapped; may adjust the mapped record.
    fn after_map(&self, _record: &SourceRecord<S>, _mapped: &mut T) {}
    /// Before a batch is written.
    async fn before_write(&self, _batch: &[SinkRecord<T>]) {}
    /// After a batch was written, with one outcome per record.
    async fn after_write(&self, _batch: &[SinkRecord<T>], _outcomes: &[WriteOutcome]) {}
    /// A record was written.
    async fn on_success(&self, _key: &str, _target_id: Option<&str>) {}
    /// A record went to the dead letters.
    async fn on_failure(&self, _letter: &DeadLetter) {}
}

/// Hooks that do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl<S: Send + Sync, T: Send + Sync> Hooks<S, T> for NoHooks {}

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
    /// The state store failed.
    #[error("{0}")]
    State(#[from] StateError),
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

/// A page being read.
type PageRead<'a, T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send + 'a>>;

/// A sync job: source → mapping → sink, with its state.
pub struct Pipeline<S: Source, K: Sink> {
    name: String,
    source: Arc<S>,
    mapper: Arc<dyn Mapper<S::Item, K::Item>>,
    sink: Arc<K>,
    state: Arc<dyn StateStore>,
    batch_size: usize,
    concurrency: usize,
    retry: RetryPolicy,
    hooks: Arc<dyn Hooks<S::Item, K::Item>>,
    constants: Map<String, Value>,
}

impl<S: Source, K: Sink> std::fmt::Debug for Pipeline<S, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Pipeline`]. Name, source, mapper, sink and state are required.
pub struct PipelineBuilder<S: Source, K: Sink> {
    name: String,
    source: Option<S>,
    mapper: Option<Arc<dyn Mapper<S::Item, K::Item>>>,
    sink: Option<K>,
    state: Option<Arc<dyn StateStore>>,
    batch_size: Option<usize>,
    concurrency: usize,
    retry: RetryPolicy,
    hooks: Arc<dyn Hooks<S::Item, K::Item>>,
    constants: Map<String, Value>,
}

impl<S: Source, K: Sink> Pipeline<S, K> {
    /// Starts building a pipeline called `name`; the name is also its
    /// checkpoint key, collection and dead-letter box.
    pub fn builder(name: impl Into<String>) -> PipelineBuilder<S, K> {
        PipelineBuilder {
            name: name.into(),
            source: None,
            mapper: None,
            sink: None,
            state: None,
            batch_size: None,
            concurrency: 4,
            retry: RetryPolicy::default(),
            hooks: Arc::new(NoHooks),
            constants: Map::new(),
        }
    }
}

impl<S: Source, K: Sink> PipelineBuilder<S, K> {
    /// Where records come from.
    pub fn source(mut self, source: S) -> Self {
        self.source = Some(source);
        self
    }
    /// How a source record becomes a target record (a closure or a
    /// [`crate::mapping::declarative::DeclarativeMapping`]).
    pub fn mapper(mut self, mapper: impl Mapper<S::Item, K::Item> + 'static) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }
    /// Where records go.
    pub fn sink(mut self, sink: K) -> Self {
        self.sink = Some(sink);
        self
    }
    /// Where checkpoints, collections and dead letters are kept.
    pub fn state(mut self, state: Arc<dyn StateStore>) -> Self {
        self.state = Some(state);
        self
    }
    /// Records per write (default and maximum: the sink's own maximum).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = Some(size.max(1));
        self
    }
    /// Batches written at the same time (default 4).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
    /// How records that failed retryably are retried (default
    /// [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Stage callbacks.
    pub fn hooks(mut self, hooks: impl Hooks<S::Item, K::Item> + 'static) -> Self {
        self.hooks = Arc::new(hooks);
        self
    }
    /// Constants visible to the mapping.
    pub fn constants(mut self, constants: Map<String, Value>) -> Self {
        self.constants = constants;
        self
    }

    /// Builds the pipeline, or names the missing part.
    pub fn build(self) -> Result<Pipeline<S, K>, Error> {
        let missing = |what: &str| {
            Error::new(
                "pipeline",
                &self.name,
                ErrorKind::InvalidRequest,
                format!("the pipeline has no {what}"),
            )
        };
        let source = self.source.ok_or_else(|| missing("source"))?;
        let mapper = self.mapper.clone().ok_or_else(|| missing("mapper"))?;
        let sink = self.sink.ok_or_else(|| missing("sink"))?;
        let state = self.state.clone().ok_or_else(|| missing("state store"))?;
        let max = sink.max_batch_size().max(1);
        Ok(Pipeline {
            batch_size: self.batch_size.unwrap_or(max).min(max),
            name: self.name,
            source: Arc::new(source),
            mapper,
            sink: Arc::new(sink),
            state,
            concurrency: self.concurrency,
            retry: self.retry,
            hooks: self.hooks,
            constants: self.constants,
        })
    }
}

/// A batch on its way to the sink: the records and, by position, their
/// source data (for the collection and dead letters).
struct Batch<T> {
    records: Vec<SinkRecord<T>>,
    sources: Vec<Arc<Value>>,
    attempts: u32,
}

impl<T> Batch<T> {
    fn new(attempts: u32) -> Self {
        Self {
            records: Vec::new(),
            sources: Vec::new(),
            attempts,
        }
    }
}

/// One unit of work, in source order.
enum Unit<T> {
    /// Records settled without writing (skipped or failed mapping).
    Settled(Settlement),
    /// A batch to write.
    Batch(Batch<T>),
    /// The end of a page: its checkpoint may be stored once all before it is settled.
    PageEnd { checkpoint: Option<Checkpoint> },
}

/// What happened to a group of records.
#[derive(Default)]
struct Settlement {
    read: u64,
    mapped: u64,
    skipped: u64,
    written: u64,
    failed: u64,
    retried: u64,
    entries: Vec<CollectionEntry>,
    dead: Vec<DeadLetter>,
    successes: Vec<(String, Option<String>)>,
    /// Records the sink skipped, with its reason.
    skips: Vec<(String, String)>,
    checkpoint: Option<Checkpoint>,
    page_end: bool,
}

/// The in-flight gauge: records read minus records settled.
#[derive(Default)]
struct Gauge {
    read: AtomicU64,
    settled: AtomicU64,
    peak: AtomicU64,
    /// Whether the pipeline may have dead letters to clear.
    has_dead_letters: std::sync::atomic::AtomicBool,
}

impl Gauge {
    fn add_read(&self, n: u64) {
        let read = self.read.fetch_add(n, Ordering::SeqCst) + n;
        let in_flight = read.saturating_sub(self.settled.load(Ordering::SeqCst));
        self.peak.fetch_max(in_flight, Ordering::SeqCst);
    }
    fn add_settled(&self, n: u64) {
        self.settled.fetch_add(n, Ordering::SeqCst);
    }
}

impl<S: Source, K: Sink> Pipeline<S, K> {
    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state store.
    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.state
    }

    /// Reads everything changed since the last checkpoint, maps and writes
    /// it, and stores the new checkpoint page by page.
    pub async fn run(&self) -> Result<RunReport, RunError> {
        let started = tokio::time::Instant::now();
        let mut report = RunReport::new(&self.name, Utc::now());
        let result = self.run_inner(&mut report).await;
        report.duration_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(()) => {
                tracing::info!(pipeline = %self.name, read = report.read, written = report.written, dead = report.dead_lettered, "run completed");
                Ok(report)
            }
            Err(cause) => {
                tracing::warn!(pipeline = %self.name, error = %cause, "run stopped");
                Err(RunError {
                    cause,
                    report: Box::new(report),
                })
            }
        }
    }

    /// Runs until `shutdown` completes; `None` if it was cut short. Cutting
    /// a run short is safe: the next run continues from the last checkpoint.
    pub async fn run_until(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Option<Result<RunReport, RunError>> {
        tokio::select! {
            result = self.run() => Some(result),
            () = shutdown => None,
        }
    }

    /// Runs now and then every `interval` until `shutdown` completes,
    /// handing each run's result to `on_run`.
    pub async fn watch(
        &self,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()>,
        mut on_run: impl FnMut(Result<RunReport, RunError>),
    ) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                result = self.run() => on_run(result),
                () = &mut shutdown => return,
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = &mut shutdown => return,
            }
        }
    }

    fn context(&self) -> MapContext {
        MapContext::new(Utc::now())
            .with_constants(self.constants.clone())
            .with_lookup(Arc::new(StoreLookup(Arc::clone(&self.state))))
    }

    async fn run_inner(&self, report: &mut RunReport) -> Result<(), RunErrorCause> {
        let checkpoint = self.state.checkpoint(&self.name)?;
        report.checkpoint = checkpoint.as_ref().map(|c| c.0.clone());
        let ctx = self.context();
        let gauge = Gauge::default();
        gauge.has_dead_letters.store(
            self.state.count_dead_letters(&self.name)? > 0,
            Ordering::SeqCst,
        );

        // Units wait in `queue` until a write slot is free and run out of
        // order, so that one slow write (a timeout and its retry) does not
        // hold up the others; their results wait in `done` and are settled
        // in order. The next page is read only when the queue is empty and
        // fewer than `concurrency` results wait for an earlier one.
        let mut queue: VecDeque<Unit<K::Item>> = VecDeque::new();
        let mut writing = FuturesUnordered::new();
        let mut done: BTreeMap<u64, Result<Settlement, RunErrorCause>> = BTreeMap::new();
        let (mut started, mut settled) = (0_u64, 0_u64);
        let mut next_cursor: Option<Option<Cursor>> = Some(None);
        let mut reading: PageRead<'_, S::Item> = Box::pin(std::future::pending());
        let mut read_active = false;
        loop {
            while writing.len() < self.concurrency {
                match queue.pop_front() {
                    Some(unit) => {
                        let seq = started;
                        started += 1;
                        writing.push(self.execute(unit).map(move |result| (seq, result)));
                    }
                    None => break,
                }
            }
            if queue.is_empty() && !read_active && done.len() < self.concurrency {
                if let Some(cursor) = next_cursor.take() {
                    reading = Box::pin(self.read_page(checkpoint.as_ref(), cursor));
                    read_active = true;
                }
            }
            // Every result was settled: the earliest unsettled unit is
            // always still running.
            if writing.is_empty() && !read_active {
                return Ok(());
            }
            tokio::select! {
                Some((seq, result)) = writing.next(), if !writing.is_empty() => {
                    done.insert(seq, result);
                    while let Some(result) = done.remove(&settled) {
                        settled += 1;
                        self.settle(result?, report, &gauge).await?;
                    }
                    report.peak_in_flight = gauge.peak.load(Ordering::SeqCst);
                }
                page = &mut reading, if read_active => {
                    read_active = false;
                    let page = page.map_err(RunErrorCause::Read)?;
                    next_cursor = page.next.clone().map(Some);
                    gauge.add_read(page.records.len() as u64);
                    report.peak_in_flight = gauge.peak.load(Ordering::SeqCst);
                    queue.extend(self.plan(page, &ctx));
                }
            }
        }
    }

    /// Reads one page. An answer that could not be decoded (truncated,
    /// malformed, an HTML page from a proxy), a retryable failure that
    /// outlasted the transport's own retries, or a token that expired again
    /// right after the connector's refresh, is asked for again, with
    /// backoff, up to the retry policy's attempts: a page depends only on
    /// the checkpoint and the cursor, so reading is idempotent. A page may
    /// take many calls (OKKI reads each company's details inside a page),
    /// and one call failing after its last retry would otherwise stop the
    /// run.
    async fn read_page(
        &self,
        since: Option<&Checkpoint>,
        cursor: Option<Cursor>,
    ) -> Result<Page<S::Item>, Error> {
        self.hooks.before_read(cursor.as_ref()).await;
        let mut backoff = self.retry.backoff();
        let mut attempt = 1;
        let page = loop {
            match self.source.read(since, cursor.clone()).await {
                Ok(page) => break page,
                Err(e)
                    if (e.is_retryable()
                        || matches!(e.kind(), ErrorKind::Decode | ErrorKind::AuthExpired))
                        && attempt < self.retry.max_attempts =>
                {
                    attempt += 1;
                    tracing::warn!(pipeline = %self.name, error = %e, attempt, "page read failed; reading it again");
                    tokio::time::sleep(backoff.next().unwrap_or(self.retry.max_backoff)).await;
                }
                Err(e) => return Err(e),
            }
        };
        self.hooks.after_read(&page).await;
        Ok(page)
    }

    /// Runs units with at most `concurrency` at once, results in order.
    async fn execute_all(
        &self,
        units: Vec<Unit<K::Item>>,
    ) -> Result<Vec<Settlement>, RunErrorCause> {
        let mut units = units.into_iter();
        let mut running = FuturesOrdered::new();
        let mut done = Vec::new();
        loop {
            while running.len() < self.concurrency {
                match units.next() {
                    Some(unit) => running.push_back(self.execute(unit)),
                    None => break,
                }
            }
            match running.next().await {
                Some(settled) => done.push(settled?),
                None => return Ok(done),
            }
        }
    }

    /// Maps a page into units: settled records, batches, and the page end.
    fn plan(&self, page: Page<S::Item>, ctx: &MapContext) -> Vec<Unit<K::Item>> {
        let mut settled = Settlement {
            read: page.records.len() as u64,
            ..Settlement::default()
        };
        let mut batches = vec![Batch::new(0)];
        for record in &page.records {
            let source = match serde_json::to_value(&record.data) {
                Ok(v) => Arc::new(v),
                Err(e) => {
                    self.map_failed(
                        &mut settled,
                        record.key.clone(),
                        record.op,
                        Arc::new(Value::Null),
                        format!("the source record cannot be serialised: {e}"),
                        None,
                    );
                    continue;
                }
            };
            match self.mapper.map_json(record, &source, ctx) {
                Ok(Some(mut mapped)) => {
                    self.hooks.after_map(record, &mut mapped);
                    settled.mapped += 1;
                    if batches
                        .last()
                        .is_some_and(|b| b.records.len() >= self.batch_size)
                    {
                        batches.push(Batch::new(0));
                    }
                    if let Some(batch) = batches.last_mut() {
                        batch.records.push(SinkRecord {
                            key: record.key.clone(),
                            op: record.op,
                            data: mapped,
                        });
                        batch.sources.push(source);
                    }
                }
                Ok(None) => {
                    settled.skipped += 1;
                    settled.entries.push(self.entry(
                        &record.key,
                        EntryStatus::Skipped,
                        None,
                        source,
                    ));
                }
                Err(e) => {
                    let code = None;
                    self.map_failed(
                        &mut settled,
                        record.key.clone(),
                        record.op,
                        source,
                        e.to_string(),
                        code,
                    );
                }
            }
        }
        let mut units = vec![Unit::Settled(settled)];
        units.extend(
            batches
                .into_iter()
                .filter(|b| !b.records.is_empty())
                .map(Unit::Batch),
        );
        units.push(Unit::PageEnd {
            checkpoint: page.checkpoint,
        });
        units
    }

    fn map_failed(
        &self,
        settled: &mut Settlement,
        key: String,
        op: Op,
        source: Arc<Value>,
        error: String,
        code: Option<String>,
    ) {
        settled.failed += 1;
        settled
            .entries
            .push(self.entry(&key, EntryStatus::Failed, None, Arc::clone(&source)));
        settled.dead.push(DeadLetter {
            pipeline: self.name.clone(),
            key,
            op,
            source: Arc::unwrap_or_clone(source),
            payload: None,
            stage: "map".into(),
            code,
            error,
            attempts: 1,
            failed_at: Utc::now(),
        });
    }

    fn entry(
        &self,
        key: &str,
        status: EntryStatus,
        target_id: Option<String>,
        data: Arc<Value>,
    ) -> CollectionEntry {
        CollectionEntry {
            collection: self.name.clone(),
            key: key.to_owned(),
            status,
            target_id,
            data,
            updated_at: Utc::now(),
        }
    }

    /// Runs one unit: writes a batch with record-level retries.
    async fn execute(&self, unit: Unit<K::Item>) -> Result<Settlement, RunErrorCause> {
        match unit {
            Unit::Settled(settlement) => Ok(settlement),
            Unit::PageEnd { checkpoint } => Ok(Settlement {
                checkpoint,
                page_end: true,
                ..Settlement::default()
            }),
            Unit::Batch(batch) => self.write_batch(batch).await,
        }
    }

    async fn write_batch(&self, mut batch: Batch<K::Item>) -> Result<Settlement, RunErrorCause> {
        let mut settled = Settlement::default();
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
                    WriteOutcome::Written { target_id } => {
                        settled.written += 1;
                        settled
                            .successes
                            .push((record.key.clone(), target_id.clone()));
                        settled.entries.push(self.entry(
                            &record.key,
                            EntryStatus::Written,
                            target_id,
                            source,
                        ));
                    }
                    WriteOutcome::Skipped { reason } => {
                        settled.skipped += 1;
                        settled.skips.push((record.key.clone(), reason));
                        settled.entries.push(self.entry(
                            &record.key,
                            EntryStatus::Skipped,
                            None,
                            source,
                        ));
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
                        settled.entries.push(self.entry(
                            &record.key,
                            EntryStatus::Failed,
                            None,
                            Arc::clone(&source),
                        ));
                        settled.dead.push(DeadLetter {
                            pipeline: self.name.clone(),
                            payload: serde_json::to_value(&record.data).ok(),
                            key: record.key,
                            op: record.op,
                            source: Arc::unwrap_or_clone(source),
                            stage: "write".into(),
                            code: error.code,
                            error: error.message,
                            attempts,
                            failed_at: Utc::now(),
                        });
                    }
                }
            }
            if retry.records.is_empty() {
                return Ok(settled);
            }
            settled.retried += retry.records.len() as u64;
            tokio::time::sleep(backoff.next().unwrap_or(self.retry.max_backoff)).await;
            batch = retry;
        }
    }

    /// Applies a settled unit to the state store and the report, in source order.
    async fn settle(
        &self,
        s: Settlement,
        report: &mut RunReport,
        gauge: &Gauge,
    ) -> Result<(), RunErrorCause> {
        if s.page_end {
            report.pages += 1;
            if let Some(checkpoint) = s.checkpoint {
                self.state.set_checkpoint(&self.name, &checkpoint)?;
                report.checkpoint = Some(checkpoint.0);
            }
            return Ok(());
        }
        if !s.entries.is_empty() {
            self.state.put_entries(s.entries)?;
        }
        if !s.dead.is_empty() {
            gauge.has_dead_letters.store(true, Ordering::SeqCst);
        }
        // Records written now leave the dead letters (a rerun or replay
        // fixed them); skipped when the pipeline has none, the usual case.
        if !s.successes.is_empty() && gauge.has_dead_letters.load(Ordering::SeqCst) {
            let keys: Vec<String> = s.successes.iter().map(|(k, _)| k.clone()).collect();
            self.state.remove_dead_letters(&self.name, &keys)?;
        }
        if !s.dead.is_empty() {
            self.state.put_dead_letters(&s.dead)?;
        }
        for (key, target) in &s.successes {
            self.hooks.on_success(key, target.as_deref()).await;
        }
        for (key, reason) in &s.skips {
            report.sample_skip(key, reason);
            tracing::debug!(pipeline = %self.name, %key, %reason, "skipped by the sink");
        }
        for letter in &s.dead {
            report.sample_error(&letter.key, &letter.stage, &letter.error);
            tracing::debug!(pipeline = %self.name, key = %letter.key, stage = %letter.stage, error = %letter.error, "dead-lettered");
            self.hooks.on_failure(letter).await;
        }
        report.read += s.read;
        report.mapped += s.mapped;
        report.skipped += s.skipped;
        report.written += s.written;
        report.failed += s.failed;
        report.retried += s.retried;
        report.dead_lettered += s.dead.len() as u64;
        gauge.add_settled(s.written + s.skipped + s.dead.len() as u64);
        Ok(())
    }
}

impl<S: Source, K: Sink> Pipeline<S, K>
where
    S::Item: DeserializeOwned,
{
    /// Maps and writes the dead letters again (after the data or the
    /// mapping was fixed). Records written now leave the dead letters;
    /// those failing again stay with their attempt count raised. The
    /// checkpoint is not touched.
    pub async fn replay_dead_letters(&self) -> Result<RunReport, RunError> {
        let started = tokio::time::Instant::now();
        let mut report = RunReport::new(&self.name, Utc::now());
        let result = self.replay_inner(&mut report).await;
        report.duration_ms = started.elapsed().as_millis() as u64;
        result.map(|()| report.clone()).map_err(|cause| RunError {
            cause,
            report: Box::new(report),
        })
    }

    async fn replay_inner(&self, report: &mut RunReport) -> Result<(), RunErrorCause> {
        let letters = self.state.dead_letters(&self.name)?;
        let earlier: HashMap<String, u32> = letters
            .iter()
            .map(|l| (l.key.clone(), l.attempts))
            .collect();
        let ctx = self.context();
        let gauge = Gauge::default();
        gauge.has_dead_letters.store(
            self.state.count_dead_letters(&self.name)? > 0,
            Ordering::SeqCst,
        );
        for chunk in letters.chunks(self.batch_size.max(1) * self.concurrency) {
            let mut records = Vec::with_capacity(chunk.len());
            let mut unreadable = Settlement::default();
            for letter in chunk {
                match serde_json::from_value::<S::Item>(letter.source.clone()) {
                    Ok(data) => records.push(SourceRecord {
                        key: letter.key.clone(),
                        op: letter.op,
                        data,
                    }),
                    Err(e) => {
                        unreadable.read += 1;
                        self.map_failed(
                            &mut unreadable,
                            letter.key.clone(),
                            letter.op,
                            Arc::new(letter.source.clone()),
                            format!("the stored source record no longer decodes: {e}"),
                            None,
                        );
                    }
                }
            }
            gauge.add_read(chunk.len() as u64);
            let page = Page::last(records, None);
            let units = self.plan(page, &ctx);
            let settlements = self.execute_all(units).await?;
            for mut s in std::iter::once(unreadable).chain(settlements) {
                for letter in &mut s.dead {
                    letter.attempts += earlier.get(&letter.key).copied().unwrap_or(0);
                }
                if !s.page_end {
                    self.settle(s, report, &gauge).await?;
                }
            }
        }
        report.peak_in_flight = gauge.peak.load(Ordering::SeqCst);
        Ok(())
    }
}
