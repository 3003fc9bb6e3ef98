//! Where pipelines keep what must survive a restart: checkpoints, the
//! collections of processed records, dead letters and the history of runs.
//!
//! [`StateStore`] is async so that a network database can implement it and
//! so that no store call blocks a runtime thread: [`SqliteStore`] runs its
//! SQL in place after handing the worker's other tasks on (or on its own
//! thread on a current-thread runtime), [`MemoryStore`] answers at once. Every
//! implementation runs the same conformance suite
//! (`integration_core::testing::store::check_store`, feature `testing`).
//! `PostgresStore` (feature `postgres`) keeps the state in a PostgreSQL
//! schema shared by workers on several machines, using the server's clock
//! for leases and budgets.
//!
//! Every store also holds **leases** ([`Lease`]: which worker runs a
//! pipeline now, with a fencing token) and refuses a write whose
//! [`Fence`] no longer holds, and counts the members of shared rate
//! budgets; see [`crate::worker`].

mod lease;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;

pub use lease::{Fence, Lease};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder};
pub use sqlite::SqliteStore;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::RunReport;
use crate::source::{Checkpoint, Op};

/// A state store failed (I/O, a corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("state store: {message}")]
pub struct StateError {
    message: String,
    fenced: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StateError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fenced: false,
            source: None,
        }
    }

    /// A write refused because its [`Fence`] no longer holds: another
    /// worker took the lease over, or it was released.
    pub fn fenced(message: impl Into<String>) -> Self {
        Self {
            fenced: true,
            ..Self::new(message)
        }
    }

    /// Whether this is a refused write under a stale lease: the run must
    /// stop, since another worker now runs the pipeline.
    pub fn is_fenced(&self) -> bool {
        self.fenced
    }

    /// A failure caused by `source`.
    pub fn caused_by(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            fenced: false,
            source: Some(Box::new(source)),
        }
    }
}

impl From<serde_json::Error> for StateError {
    fn from(e: serde_json::Error) -> Self {
        Self::caused_by(format!("corrupt stored JSON: {e}"), e)
    }
}

/// Whether a record of a collection was written, failed or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Written to the target.
    Written,
    /// Skipped by the mapping or the sink.
    Skipped,
    /// Sent to the dead letters.
    Failed,
}

impl EntryStatus {
    /// The status as stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Written => "written",
            EntryStatus::Skipped => "skipped",
            EntryStatus::Failed => "failed",
        }
    }

    /// Parses stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "written" => Some(EntryStatus::Written),
            "skipped" => Some(EntryStatus::Skipped),
            "failed" => Some(EntryStatus::Failed),
            _ => None,
        }
    }
}

/// One processed record of a pipeline's collection (QEasy's data table):
/// the source key, what happened, the target id and the source data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionEntry {
    /// The collection (usually the pipeline's name).
    pub collection: String,
    /// The source record's key.
    pub key: String,
    /// What happened to it.
    pub status: EntryStatus,
    /// The target's id for it, when written.
    pub target_id: Option<String>,
    /// The source record's data; shared, so that a lookup (one per mapped
    /// record, in a collection of any size) does not copy a whole record.
    pub data: Arc<Value>,
    /// When it was last processed.
    pub updated_at: DateTime<Utc>,
}

impl CollectionEntry {
    /// A written entry with no target id, processed now: the usual start
    /// for seeding a collection in a test.
    pub fn new(collection: impl Into<String>, key: impl Into<String>, data: Value) -> Self {
        Self {
            collection: collection.into(),
            key: key.into(),
            status: EntryStatus::Written,
            target_id: None,
            data: Arc::new(data),
            updated_at: Utc::now(),
        }
    }

    /// Sets the target id.
    pub fn with_target_id(mut self, target_id: impl Into<String>) -> Self {
        self.target_id = Some(target_id.into());
        self
    }
}

/// How a lookup finds an entry: by source key, or by the value of a field
/// of the source data (the `_findCollection ... where cid=` case).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LookupFilter<'a> {
    /// The entry whose source key is this.
    Key(&'a str),
    /// The most recently updated entry whose `data[field]` equals `value`.
    Field {
        /// A top-level field of the source data.
        field: &'a str,
        /// The value to match (strings and numbers of equal text match).
        value: &'a Value,
    },
}

impl std::fmt::Display for LookupFilter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupFilter::Key(key) => write!(f, "key = {key:?}"),
            LookupFilter::Field { field, value } => write!(f, "{field} = {value}"),
        }
    }
}

/// What a search of a collection matches (QEasy's 数据管理, the console's
/// data view); every part that is set must hold, and an empty query matches
/// every entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryQuery {
    /// Entries whose key contains this text (case-sensitive substring;
    /// `%` and `_` are plain characters).
    pub key_contains: Option<String>,
    /// Entries whose source data has this top-level field equal to this
    /// value (strings and numbers compare as text, exactly as
    /// [`StateStore::find_by_field`]; a value that is not a scalar matches
    /// nothing).
    pub field: Option<(String, Value)>,
    /// Entries with this status.
    pub status: Option<EntryStatus>,
    /// How many matching entries to skip (newest first).
    pub offset: usize,
    /// The most entries to give (50 by default).
    pub limit: usize,
}

impl Default for EntryQuery {
    fn default() -> Self {
        Self {
            key_contains: None,
            field: None,
            status: None,
            offset: 0,
            limit: 50,
        }
    }
}

impl EntryQuery {
    /// A query that matches every entry, to narrow with the other methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only entries whose key contains `text`.
    pub fn key_contains(mut self, text: impl Into<String>) -> Self {
        self.key_contains = Some(text.into());
        self
    }

    /// Only entries whose `data[field]` equals `value` (as text).
    pub fn field(mut self, field: impl Into<String>, value: impl Into<Value>) -> Self {
        self.field = Some((field.into(), value.into()));
        self
    }

    /// Only entries with this status.
    pub fn status(mut self, status: EntryStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// `limit` entries after skipping `offset`: a page of the search.
    pub fn page(mut self, offset: usize, limit: usize) -> Self {
        self.offset = offset;
        self.limit = limit;
        self
    }

    /// Whether `entry` matches, comparing field values as text: the memory
    /// store's search, and the last word where a store's SQL only narrows
    /// the candidates (PostgreSQL's reads a NUL as U+FFFD).
    pub fn matches(&self, entry: &CollectionEntry) -> bool {
        if let Some(text) = &self.key_contains
            && !entry.key.contains(text.as_str())
        {
            return false;
        }
        if let Some(status) = self.status
            && entry.status != status
        {
            return false;
        }
        match &self.field {
            Some((field, value)) => match_text(value).is_some_and(|wanted| {
                entry.data.get(field).and_then(match_text).as_deref() == Some(wanted.as_str())
            }),
            None => true,
        }
    }
}

/// Where a record failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Mapping it (or reading back a stored source record for a replay).
    Map,
    /// Writing it to the sink.
    Write,
    /// Writing the target's id back to the source record, after the write
    /// succeeded ([`crate::write_back::WriteBack`]); a replay only writes back.
    WriteBack,
}

impl Stage {
    /// `"map"`, `"write"` or `"write_back"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Map => "map",
            Stage::Write => "write",
            Stage::WriteBack => "write_back",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record that could not be mapped or written, kept with everything
/// needed to understand and replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The pipeline that failed it.
    pub pipeline: String,
    /// The source record's key.
    pub key: String,
    /// Whether the source record was a change or a deletion.
    #[serde(default)]
    pub op: Op,
    /// The source record as read.
    pub source: Value,
    /// The mapped payload, when mapping succeeded.
    pub payload: Option<Value>,
    /// Where it failed.
    pub stage: Stage,
    /// The target's id or number, when the write succeeded and only the
    /// write-back failed ([`Stage::WriteBack`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// The target's or the mapping's error code, when there was one.
    pub code: Option<String>,
    /// The error message.
    pub error: String,
    /// How many attempts were made, replays included.
    pub attempts: u32,
    /// When it last failed.
    pub failed_at: DateTime<Utc>,
}

/// What a run or a replay of one pipeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A run from the checkpoint ([`crate::Pipeline::run`]).
    Run,
    /// A replay of the dead letters ([`crate::Pipeline::replay_dead_letters`]).
    Replay,
    /// An operator reset the checkpoint (from the console).
    Reset,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RunOutcome {
    /// Still going (or killed, until the next start finds it).
    Running,
    /// Read everything; every record written, skipped or dead-lettered.
    Completed,
    /// Stopped early with an error; the checkpoint is where it left it.
    Stopped {
        /// The error.
        cause: String,
    },
    /// Never finished: the process died or the run was cut short. Found as
    /// such when the pipeline next starts.
    Killed,
}

/// The history of one run: its id, kind, outcome, end and report (counts,
/// first errors, start time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Unique across processes: start time, process id and a counter.
    pub id: String,
    /// Run or replay.
    pub kind: RunKind,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: RunOutcome,
    /// When it ended (`None` while running or when killed).
    pub ended_at: Option<DateTime<Utc>>,
    /// The worker that ran it under a lease ([`crate::Worker`]), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Who asked for it, when an operator did (e.g. `console (127.0.0.1)`);
    /// `None` for scheduled and programmatic runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// What it did; `report.pipeline` and `report.started_at` say which
    /// pipeline and when.
    pub report: RunReport,
}

impl RunRecord {
    /// A run of `report.pipeline` starting now.
    pub fn start(kind: RunKind, report: RunReport) -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = format!(
            "{}-{}-{}",
            report.started_at.format("%Y%m%dT%H%M%S%.6fZ"),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Self {
            id,
            kind,
            outcome: RunOutcome::Running,
            ended_at: None,
            worker: None,
            operator: None,
            report,
        }
    }

    /// The pipeline it belongs to.
    pub fn pipeline(&self) -> &str {
        &self.report.pipeline
    }
}

/// What one settled stretch of a pipeline changes, applied atomically: a
/// crash leaves all of it or none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// The pipeline (its checkpoint and dead letters).
    pub pipeline: String,
    /// Entries to insert or replace, by collection and key.
    pub entries: Vec<CollectionEntry>,
    /// Keys whose dead letters go (written now), removed before
    /// `dead_letters` are put.
    pub resolved: Vec<String>,
    /// Dead letters to insert or replace, by key.
    pub dead_letters: Vec<DeadLetter>,
    /// The new checkpoint, stored last.
    pub checkpoint: Option<Checkpoint>,
    /// The lease the run holds: when set, nothing is applied unless it is
    /// still current ([`StateError::is_fenced`] otherwise).
    pub fence: Option<Fence>,
}

impl Changes {
    /// No changes yet for `pipeline`.
    pub fn new(pipeline: impl Into<String>) -> Self {
        Self {
            pipeline: pipeline.into(),
            ..Self::default()
        }
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.resolved.is_empty()
            && self.dead_letters.is_empty()
            && self.checkpoint.is_none()
    }
}

/// Persistent state of pipelines.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// The checkpoint of the last completed page of `pipeline`.
    async fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError>;
    /// Applies `changes` in one transaction.
    async fn apply(&self, changes: Changes) -> Result<(), StateError>;
    /// The entry of `collection` for this key.
    async fn entry(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Option<CollectionEntry>, StateError>;
    /// The most recently updated entry of `collection` whose source data has
    /// `field` equal to `value` (strings and numbers compare as text).
    async fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError>;
    /// How many entries `collection` has.
    async fn count_entries(&self, collection: &str) -> Result<u64, StateError>;
    /// The dead letters of `pipeline`, oldest first.
    async fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError>;
    /// How many dead letters `pipeline` has.
    async fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError>;
    /// Inserts or replaces a run's record (by id).
    async fn put_run(&self, run: &RunRecord) -> Result<(), StateError>;
    /// The runs of `pipeline`, newest first: `limit` of them after skipping
    /// `offset`.
    async fn runs(
        &self,
        pipeline: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StateError>;
    /// Marks the runs of `pipeline` still [`RunOutcome::Running`] as
    /// [`RunOutcome::Killed`] and says how many there were. Called when a
    /// run starts, by the one process that runs the pipeline: the only one,
    /// or the holder of its lease (a running run of another holder then
    /// belongs to a worker whose lease lapsed).
    async fn end_unfinished_runs(&self, pipeline: &str) -> Result<u64, StateError>;

    /// The names of the pipelines the store knows (with a checkpoint, a run
    /// or a dead letter), sorted (by bytes) and distinct: what an operator
    /// picks from.
    async fn pipelines(&self) -> Result<Vec<String>, StateError>;
    /// The names of the collections that have entries, sorted (by bytes).
    async fn collections(&self) -> Result<Vec<String>, StateError>;
    /// The entries of `collection` that match `query`, most recently
    /// updated first (then by key): `limit` of them after skipping
    /// `offset`, a page of an operator's search.
    async fn search_entries(
        &self,
        collection: &str,
        query: &EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError>;
    /// Forgets the checkpoint of `pipeline`, so that its next run reads
    /// from the start; says whether there was one. Collections, dead
    /// letters and history stay. A run in progress stores its own
    /// checkpoint again at its next page: reset between runs, or while
    /// holding the pipeline's lease.
    async fn reset_checkpoint(&self, pipeline: &str) -> Result<bool, StateError>;

    /// Takes the lease on `name` for `holder` until `ttl` from now: granted
    /// when free, released or expired (with a token larger than any before),
    /// extended with the same token when `holder` has it already, `None`
    /// while another holder's lease stands. Network stores use their own
    /// clock, so that workers' clocks need not agree.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError>;
    /// Extends `lease` to `ttl` from now; a [fenced](StateError::is_fenced)
    /// error when it was taken over or released.
    async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<Lease, StateError>;
    /// Gives `lease` up, recording `done_through` (the scheduled time whose
    /// run completed, if any). Nothing happens when it is no longer held.
    async fn release_lease(
        &self,
        lease: &Lease,
        done_through: Option<DateTime<Utc>>,
    ) -> Result<(), StateError>;
    /// The leases held now (expired ones included, until taken or released),
    /// by name.
    async fn leases(&self) -> Result<Vec<Lease>, StateError>;

    /// Counts `member` among those sharing `budget` (a rate limit, by
    /// system and credential) for `ttl` from now, forgets members whose time
    /// ran out, and says how many share it now, `member` included.
    async fn join_budget(
        &self,
        budget: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<u32, StateError>;
    /// Stops counting `member` among those sharing `budget`.
    async fn leave_budget(&self, budget: &str, member: &str) -> Result<(), StateError>;

    /// A mapping's lookup answered on the calling thread, by a store that
    /// can (memory; SQLite, whose reads are local). The pipeline calls it
    /// where mappings run, outside the async context (or, for a store that
    /// [never waits](Self::never_waits), on the runtime). `None`, the
    /// default, means the lookup is awaited through [`Self::entry`] and
    /// [`Self::find_by_field`] instead.
    fn lookup_blocking(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Option<Result<Option<CollectionEntry>, StateError>> {
        let _ = (collection, filter);
        None
    }
    /// Whether every call answers at once, holding no lock for long (the
    /// memory store): mappings then run on the runtime as they are.
    fn never_waits(&self) -> bool {
        false
    }

    /// Stores the checkpoint of `pipeline`.
    async fn set_checkpoint(
        &self,
        pipeline: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(), StateError> {
        let mut changes = Changes::new(pipeline);
        changes.checkpoint = Some(checkpoint.clone());
        self.apply(changes).await
    }
    /// Inserts or replaces entries (by collection and key), atomically.
    async fn put_entries(&self, entries: Vec<CollectionEntry>) -> Result<(), StateError> {
        self.apply(Changes {
            entries,
            ..Changes::default()
        })
        .await
    }
}

/// Whether a field name can be written into SQL as is (an identifier).
fn is_plain_field(field: &str) -> bool {
    let mut chars = field.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Text form of a scalar for field matching: `"42"` and `42` match.
pub(crate) fn match_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
