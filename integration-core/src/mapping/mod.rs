//! Mapping source records to target records: typed (a Rust closure or
//! [`Mapper`] impl) or declarative (a JSON/TOML document of templates,
//! see [`declarative`]).

pub mod declarative;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::source::SourceRecord;

/// A mapping failed for one record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}{}{message}", field.as_ref().map(|f| format!("target field `{f}`: ")).unwrap_or_default(), template.as_ref().map(|t| format!("template `{t}`: ")).unwrap_or_default())]
pub struct MapError {
    /// The target field being produced, when known.
    pub field: Option<String>,
    /// The template being evaluated, when declarative.
    pub template: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl MapError {
    /// A mapping error with only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            field: None,
            template: None,
            message: message.into(),
        }
    }

    /// Names the target field.
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
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

/// Read access to collections, for mappings.
pub trait Lookup: Send + Sync {
    /// Finds one entry of `collection`.
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError>;
}

/// A lookup that finds nothing (for mappings that use none).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookup;

impl Lookup for NoLookup {
    fn lookup(&self, _: &str, _: LookupFilter<'_>) -> Result<Option<CollectionEntry>, MapError> {
        Ok(None)
    }
}

/// What a mapping can see besides the record: the run's clock, constants
/// and lookups into collections.
#[derive(Clone)]
pub struct MapContext {
    now: DateTime<Utc>,
    constants: Map<String, Value>,
    lookup: Arc<dyn Lookup>,
}

impl std::fmt::Debug for MapContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapContext")
            .field("now", &self.now)
            .field("constants", &self.constants)
            .finish_non_exhaustive()
    }
}

impl Default for MapContext {
    fn default() -> Self {
        Self::new(Utc::now())
    }
}

impl MapContext {
    /// A context whose clock reads `now`, with no constants and no lookups.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            constants: Map::new(),
            lookup: Arc::new(NoLookup),
        }
    }

    /// Sets the constants.
    pub fn with_constants(mut self, constants: Map<String, Value>) -> Self {
        self.constants = constants;
        self
    }

    /// Sets where lookups go (usually the pipeline's state store).
    pub fn with_lookup(mut self, lookup: Arc<dyn Lookup>) -> Self {
        self.lookup = lookup;
        self
    }

    /// The run's clock: the same instant for every record of a run.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// A constant.
    pub fn constant(&self, name: &str) -> Option<&Value> {
        self.constants.get(name)
    }

    /// All constants.
    pub fn constants(&self) -> &Map<String, Value> {
        &self.constants
    }

    /// Finds an entry of a collection.
    pub fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        self.lookup.lookup(collection, filter)
    }
}

/// Maps a source record to a target record; `Ok(None)` skips it.
///
/// Implemented for closures `Fn(&SourceRecord<S>, &MapContext) ->
/// Result<Option<T>, MapError>` and for [`declarative::DeclarativeMapping`].
pub trait Mapper<S, T>: Send + Sync {
    /// Maps one record.
    fn map(&self, record: &SourceRecord<S>, ctx: &MapContext) -> Result<Option<T>, MapError>;

    /// Maps one record whose JSON form the caller already has (a pipeline
    /// makes it once per record, for the collection). Mappings that work on
    /// JSON, like the declarative one, use it instead of serialising the
    /// record again; others ignore it.
    fn map_json(
        &self,
        record: &SourceRecord<S>,
        json: &Arc<Value>,
        ctx: &MapContext,
    ) -> Result<Option<T>, MapError> {
        let _ = json;
        self.map(record, ctx)
    }
}

impl<S, T, F> Mapper<S, T> for F
where
    F: Fn(&SourceRecord<S>, &MapContext) -> Result<Option<T>, MapError> + Send + Sync,
{
    fn map(&self, record: &SourceRecord<S>, ctx: &MapContext) -> Result<Option<T>, MapError> {
        self(record, ctx)
    }
}
