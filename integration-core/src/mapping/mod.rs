//! Mapping source records to target records: typed (a Rust closure or
//! [`Mapper`] impl) or declarative (a JSON/TOML document of templates,
//! see [`declarative`]).

pub mod declarative;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::source::SourceRecord;
pub use crate::state::{CollectionEntry, EntryStatus, LookupFilter};

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

/// Read access to collections, for mappings.
pub trait Lookup: Send + Sync {
    /// Finds one entry of `collection`.
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError>;
}

/// Entries held in memory: the lookup of a mapping test
/// ([`MapContext::with_entries`]).
#[derive(Debug, Clone, Default)]
pub struct EntriesLookup(Vec<CollectionEntry>);

impl Lookup for EntriesLookup {
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        let text = crate::state::match_text;
        let matches = |e: &&CollectionEntry| match filter {
            LookupFilter::Key(key) => e.key == key,
            LookupFilter::Field { field, value } => {
                text(value).is_some() && e.data.get(field).and_then(text) == text(value)
            }
        };
        Ok(self
            .0
            .iter()
            .filter(|e| e.collection == collection)
            .filter(matches)
            .max_by_key(|e| e.updated_at)
            .cloned())
    }
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

    /// Lookups find these entries (and nothing else): for testing a mapping
    /// that looks up collections, e.g.
    /// `MapContext::default().with_entries([CollectionEntry::new("buyers", "c1", json!({"cid": "c1"})).with_target_id("CUST-1")])`.
    pub fn with_entries(self, entries: impl IntoIterator<Item = CollectionEntry>) -> Self {
        self.with_lookup(Arc::new(EntriesLookup(entries.into_iter().collect())))
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

    /// Finds an entry of a collection; a failure names the collection and
    /// the filter.
    pub fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        self.lookup.lookup(collection, filter).map_err(|mut e| {
            e.message = format!(
                "lookup in `{collection}` where {filter} failed: {}",
                e.message
            );
            e
        })
    }
}

/// The JSON form of a source record that mappings and collections see:
/// absent values are absent, so a typed record's `None` fields are left
/// out rather than `null`, and a template reading one fails as undefined
/// instead of rendering `null`.
pub fn record_json<T: Serialize>(data: &T) -> Result<Value, serde_json::Error> {
    fn drop_nulls(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(drop_nulls);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(data)?;
    drop_nulls(&mut value);
    Ok(value)
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
