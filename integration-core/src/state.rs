//! Where pipelines keep what must survive a restart: checkpoints, the
//! collections of processed records, and dead letters.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::mapping::{CollectionEntry, EntryStatus, Lookup, LookupFilter, MapError};
use crate::source::Checkpoint;

/// A state store failed (I/O, a corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("state store: {message}")]
pub struct StateError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StateError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }
}

impl From<rusqlite::Error> for StateError {
    fn from(e: rusqlite::Error) -> Self {
        Self {
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

impl From<serde_json::Error> for StateError {
    fn from(e: serde_json::Error) -> Self {
        Self {
            message: format!("corrupt stored JSON: {e}"),
            source: Some(Box::new(e)),
        }
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
    pub op: crate::source::Op,
    /// The source record as read.
    pub source: Value,
    /// The mapped payload, when mapping succeeded.
    pub payload: Option<Value>,
    /// `"map"` or `"write"`.
    pub stage: String,
    /// The target's or the mapping's error code, when there was one.
    pub code: Option<String>,
    /// The error message.
    pub error: String,
    /// How many attempts were made, replays included.
    pub attempts: u32,
    /// When it last failed.
    pub failed_at: DateTime<Utc>,
}

/// Persistent state of pipelines.
///
/// Methods are synchronous: every call is a short local operation (one
/// SQLite transaction), made between network calls.
pub trait StateStore: Send + Sync {
    /// The checkpoint of the last completed page of `pipeline`.
    fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError>;
    /// Stores the checkpoint of `pipeline`.
    fn set_checkpoint(&self, pipeline: &str, checkpoint: &Checkpoint) -> Result<(), StateError>;
    /// Inserts or replaces entries (by collection and key), atomically.
    fn put_entries(&self, entries: Vec<CollectionEntry>) -> Result<(), StateError>;
    /// The entry of `collection` for this key.
    fn entry(&self, collection: &str, key: &str) -> Result<Option<CollectionEntry>, StateError>;
    /// The most recently updated entry of `collection` whose source data has
    /// `field` equal to `value` (strings and numbers compare as text).
    fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError>;
    /// How many entries `collection` has.
    fn count_entries(&self, collection: &str) -> Result<u64, StateError>;
    /// Inserts or replaces dead letters (by pipeline and key), atomically.
    fn put_dead_letters(&self, letters: &[DeadLetter]) -> Result<(), StateError>;
    /// The dead letters of `pipeline`, oldest first.
    fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError>;
    /// How many dead letters `pipeline` has.
    fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError>;
    /// Removes the dead letters of `pipeline` with these keys.
    fn remove_dead_letters(&self, pipeline: &str, keys: &[String]) -> Result<(), StateError>;
}

/// Lookups from mappings into a state store's collections.
pub struct StoreLookup(pub Arc<dyn StateStore>);

impl Lookup for StoreLookup {
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        let found = match filter {
            LookupFilter::Key(key) => self.0.entry(collection, key),
            LookupFilter::Field { field, value } => self.0.find_by_field(collection, field, value),
        };
        found.map_err(|e| MapError::new(format!("lookup in collection `{collection}` failed: {e}")))
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
fn match_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// State in memory: for tests and one-off runs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    checkpoints: HashMap<String, Checkpoint>,
    entries: HashMap<String, HashMap<String, CollectionEntry>>,
    dead: HashMap<String, Vec<DeadLetter>>,
    /// Built on the first lookup of a (collection, field), then kept up to
    /// date by every put: field text → keys, so a lookup does not scan.
    field_index: HashMap<(String, String), HashMap<String, BTreeSet<String>>>,
}

impl MemoryInner {
    /// Moves `key` from its old value to its new one in every index of the
    /// collection.
    fn reindex(&mut self, old: Option<&CollectionEntry>, new: &CollectionEntry) {
        for ((collection, field), index) in &mut self.field_index {
            if *collection != new.collection {
                continue;
            }
            if let Some(text) = old.and_then(|o| o.data.get(field)).and_then(match_text) {
                if let Some(keys) = index.get_mut(&text) {
                    keys.remove(&new.key);
                }
            }
            if let Some(text) = new.data.get(field).and_then(match_text) {
                index.entry(text).or_default().insert(new.key.clone());
            }
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl StateStore for MemoryStore {
    fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        Ok(self.inner().checkpoints.get(pipeline).cloned())
    }
    fn set_checkpoint(&self, pipeline: &str, checkpoint: &Checkpoint) -> Result<(), StateError> {
        self.inner()
            .checkpoints
            .insert(pipeline.to_owned(), checkpoint.clone());
        Ok(())
    }
    fn put_entries(&self, entries: Vec<CollectionEntry>) -> Result<(), StateError> {
        let mut inner = self.inner();
        for e in entries {
            if !inner.field_index.is_empty() {
                let old = inner
                    .entries
                    .get(&e.collection)
                    .and_then(|c| c.get(&e.key))
                    .cloned();
                inner.reindex(old.as_ref(), &e);
            }
            match inner.entries.get_mut(&e.collection) {
                Some(collection) => {
                    collection.insert(e.key.clone(), e);
                }
                None => {
                    let collection = inner.entries.entry(e.collection.clone()).or_default();
                    collection.insert(e.key.clone(), e);
                }
            }
        }
        Ok(())
    }
    fn entry(&self, collection: &str, key: &str) -> Result<Option<CollectionEntry>, StateError> {
        Ok(self
            .inner()
            .entries
            .get(collection)
            .and_then(|c| c.get(key))
            .cloned())
    }
    fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let Some(wanted) = match_text(value) else {
            return Ok(None);
        };
        let mut inner = self.inner();
        let Some(entries) = inner.entries.get(collection) else {
            return Ok(None);
        };
        let index_key = (collection.to_owned(), field.to_owned());
        if !inner.field_index.contains_key(&index_key) {
            let mut index: HashMap<String, BTreeSet<String>> = HashMap::new();
            for e in entries.values() {
                if let Some(text) = e.data.get(field).and_then(match_text) {
                    index.entry(text).or_default().insert(e.key.clone());
                }
            }
            inner.field_index.insert(index_key.clone(), index);
        }
        let (Some(keys), Some(entries)) = (
            inner
                .field_index
                .get(&index_key)
                .and_then(|i| i.get(&wanted)),
            inner.entries.get(collection),
        ) else {
            return Ok(None);
        };
        Ok(keys
            .iter()
            .filter_map(|k| entries.get(k))
            .max_by_key(|e| e.updated_at)
            .cloned())
    }
    fn count_entries(&self, collection: &str) -> Result<u64, StateError> {
        Ok(self
            .inner()
            .entries
            .get(collection)
            .map_or(0, |c| c.len() as u64))
    }
    fn put_dead_letters(&self, letters: &[DeadLetter]) -> Result<(), StateError> {
        let mut inner = self.inner();
        for letter in letters {
            let list = inner.dead.entry(letter.pipeline.clone()).or_default();
            list.retain(|l| l.key != letter.key);
            list.push(letter.clone());
        }
        Ok(())
    }
    fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError> {
        Ok(self.inner().dead.get(pipeline).cloned().unwrap_or_default())
    }
    fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError> {
        Ok(self
            .inner()
            .dead
            .get(pipeline)
            .map_or(0, |l| l.len() as u64))
    }
    fn remove_dead_letters(&self, pipeline: &str, keys: &[String]) -> Result<(), StateError> {
        if let Some(list) = self.inner().dead.get_mut(pipeline) {
            list.retain(|l| !keys.contains(&l.key));
        }
        Ok(())
    }
}

/// State in an embedded SQLite file (bundled: nothing to install).
///
/// Uses WAL and a busy timeout, so several pipelines of one process (or a
/// second store opened on the same file) can share it. Each method is one
/// transaction: a crash leaves either all of a call's rows or none.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Fields that have an expression index for lookups.
    indexed_fields: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS checkpoints (
    pipeline   TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    status     TEXT NOT NULL,
    target_id  TEXT,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    pipeline  TEXT NOT NULL,
    key       TEXT NOT NULL,
    letter    TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, key)
);
";

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    /// A store in memory (same SQL, nothing on disk).
    pub fn in_memory() -> Result<Self, StateError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StateError> {
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            indexed_fields: Mutex::new(HashSet::new()),
        })
    }

    /// Lookup by a field whose name cannot go into an index expression:
    /// scans the collection.
    fn find_by_field_scan(
        &self,
        collection: &str,
        field: &str,
        wanted: &str,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT key, status, target_id, data, updated_at FROM entries
             WHERE collection = ?1 AND EXISTS (
                 SELECT 1 FROM json_each(entries.data) AS f
                 WHERE f.key = ?2 AND CAST(f.value AS TEXT) = ?3)
             ORDER BY updated_at DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![collection, field, wanted])?;
        rows.next()?
            .map(|row| entry_from_row(collection, row))
            .transpose()
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Times are stored as fixed-width UTC text so that text order is time order.
fn stored_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn entry_from_row(
    collection: &str,
    row: &rusqlite::Row<'_>,
) -> Result<CollectionEntry, StateError> {
    let key: String = row.get(0)?;
    let status: String = row.get(1)?;
    let target_id: Option<String> = row.get(2)?;
    let data: String = row.get(3)?;
    let updated_at: String = row.get(4)?;
    Ok(CollectionEntry {
        collection: collection.to_owned(),
        status: EntryStatus::parse(&status)
            .ok_or_else(|| StateError::new(format!("unknown status {status:?} for key {key}")))?,
        key,
        target_id,
        data: Arc::new(serde_json::from_str(&data)?),
        updated_at: DateTime::parse_from_rfc3339(&updated_at)
            .map_err(|e| StateError::new(format!("corrupt time {updated_at:?}: {e}")))?
            .with_timezone(&Utc),
    })
}

impl StateStore for SqliteStore {
    fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT checkpoint FROM checkpoints WHERE pipeline = ?1",
                [pipeline],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    fn set_checkpoint(&self, pipeline: &str, checkpoint: &Checkpoint) -> Result<(), StateError> {
        self.conn().execute(
            "INSERT INTO checkpoints (pipeline, checkpoint, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (pipeline) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at",
            params![pipeline, serde_json::to_string(checkpoint)?, stored_time(Utc::now())],
        )?;
        Ok(())
    }

    fn put_entries(&self, entries: Vec<CollectionEntry>) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO entries (collection, key, status, target_id, data, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in entries {
                stmt.execute(params![
                    e.collection,
                    e.key,
                    e.status.as_str(),
                    e.target_id,
                    serde_json::to_string(&e.data)?,
                    stored_time(e.updated_at),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn entry(&self, collection: &str, key: &str) -> Result<Option<CollectionEntry>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT key, status, target_id, data, updated_at FROM entries WHERE collection = ?1 AND key = ?2",
        )?;
        let mut rows = stmt.query(params![collection, key])?;
        rows.next()?
            .map(|row| entry_from_row(collection, row))
            .transpose()
    }

    fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let Some(wanted) = match_text(value) else {
            return Ok(None);
        };
        if !is_plain_field(field) {
            return self.find_by_field_scan(collection, field, &wanted);
        }
        let conn = self.conn();
        // An expression index per looked-up field keeps a lookup from
        // scanning the collection (a lookup per record would be quadratic).
        let expression = format!("json_extract(data, '$.{field}')");
        {
            let mut indexed = self
                .indexed_fields
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if !indexed.contains(field) {
                conn.execute_batch(&format!(
                    "CREATE INDEX IF NOT EXISTS entries_by_{field} ON entries (collection, {expression})"
                ))?;
                indexed.insert(field.to_owned());
            }
        }
        // The stored value may be text or a number: match either form.
        let as_number: rusqlite::types::Value = match (wanted.parse::<i64>(), wanted.parse::<f64>())
        {
            (Ok(i), _) => rusqlite::types::Value::Integer(i),
            (_, Ok(f)) if f.is_finite() => rusqlite::types::Value::Real(f),
            _ => rusqlite::types::Value::Text(wanted.clone()),
        };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT key, status, target_id, data, updated_at FROM entries
             WHERE collection = ?1 AND {expression} IN (?2, ?3)
             ORDER BY updated_at DESC LIMIT 1"
        ))?;
        let mut rows = stmt.query(params![collection, wanted, as_number])?;
        rows.next()?
            .map(|row| entry_from_row(collection, row))
            .transpose()
    }

    fn count_entries(&self, collection: &str) -> Result<u64, StateError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM entries WHERE collection = ?1",
            [collection],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn put_dead_letters(&self, letters: &[DeadLetter]) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO dead_letters (pipeline, key, letter, failed_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for l in letters {
                stmt.execute(params![
                    l.pipeline,
                    l.key,
                    serde_json::to_string(l)?,
                    stored_time(l.failed_at)
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT letter FROM dead_letters WHERE pipeline = ?1 ORDER BY failed_at, key",
        )?;
        let texts = stmt
            .query_map([pipeline], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        texts.iter().map(|t| Ok(serde_json::from_str(t)?)).collect()
    }

    fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError> {
        let n: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM dead_letters WHERE pipeline = ?1",
            [pipeline],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    fn remove_dead_letters(&self, pipeline: &str, keys: &[String]) -> Result<(), StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("DELETE FROM dead_letters WHERE pipeline = ?1 AND key = ?2")?;
            for key in keys {
                stmt.execute(params![pipeline, key])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(key: &str, data: Value, minute: u32) -> CollectionEntry {
        CollectionEntry {
            collection: "buyers".into(),
            key: key.into(),
            status: EntryStatus::Written,
            target_id: Some(format!("T{key}")),
            data: data.into(),
            updated_at: DateTime::parse_from_rfc3339(&format!("2026-01-01T00:{minute:02}:00Z"))
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn exercise(store: &dyn StateStore) {
        assert_eq!(store.checkpoint("p").unwrap(), None);
        store
            .set_checkpoint("p", &Checkpoint(json!({"t": 1})))
            .unwrap();
        store
            .set_checkpoint("p", &Checkpoint(json!({"t": 2})))
            .unwrap();
        assert_eq!(
            store.checkpoint("p").unwrap(),
            Some(Checkpoint(json!({"t": 2})))
        );

        store
            .put_entries(vec![
                entry("1", json!({"cid": "c-9", "n": 1}), 1),
                entry("2", json!({"cid": 77, "weird\"field": "x"}), 2),
                entry("3", json!({"cid": "c-9", "n": 3}), 3),
            ])
            .unwrap();
        assert_eq!(store.count_entries("buyers").unwrap(), 3);
        assert_eq!(
            store
                .entry("buyers", "2")
                .unwrap()
                .unwrap()
                .target_id
                .as_deref(),
            Some("T2")
        );
        assert_eq!(store.entry("buyers", "4").unwrap(), None);
        // Most recent match wins; numbers and text of equal value match.
        assert_eq!(
            store
                .find_by_field("buyers", "cid", &json!("c-9"))
                .unwrap()
                .unwrap()
                .key,
            "3"
        );
        assert_eq!(
            store
                .find_by_field("buyers", "cid", &json!("77"))
                .unwrap()
                .unwrap()
                .key,
            "2"
        );
        assert_eq!(
            store
                .find_by_field("buyers", "weird\"field", &json!("x"))
                .unwrap()
                .unwrap()
                .key,
            "2"
        );
        assert_eq!(
            store
                .find_by_field("buyers", "cid", &json!("none"))
                .unwrap(),
            None
        );
        assert_eq!(
            store.find_by_field("other", "cid", &json!("c-9")).unwrap(),
            None
        );
        // A changed value moves the entry in the lookup (no stale index).
        store
            .put_entries(vec![entry("3", json!({"cid": "c-10", "n": 3}), 4)])
            .unwrap();
        let found = |v: &str| {
            store
                .find_by_field("buyers", "cid", &json!(v))
                .unwrap()
                .map(|e| e.key)
        };
        assert_eq!(found("c-9").as_deref(), Some("1"));
        assert_eq!(found("c-10").as_deref(), Some("3"));
        store
            .put_entries(vec![entry("3", json!({"cid": "c-9", "n": 3}), 5)])
            .unwrap();
        assert_eq!(found("c-9").as_deref(), Some("3"));
        assert_eq!(found("c-10"), None);

        let letter = |key: &str, attempts| DeadLetter {
            pipeline: "p".into(),
            key: key.into(),
            op: crate::source::Op::Upsert,
            source: json!({"k": key}),
            payload: None,
            stage: "write".into(),
            code: Some("9".into()),
            error: "名称不能为空".into(),
            attempts,
            failed_at: Utc::now(),
        };
        store
            .put_dead_letters(&[letter("a", 1), letter("b", 1)])
            .unwrap();
        store.put_dead_letters(&[letter("a", 2)]).unwrap();
        let letters = store.dead_letters("p").unwrap();
        assert_eq!(letters.len(), 2);
        assert_eq!(store.count_dead_letters("p").unwrap(), 2);
        assert_eq!(letters.iter().find(|l| l.key == "a").unwrap().attempts, 2);
        store.remove_dead_letters("p", &["a".into()]).unwrap();
        assert_eq!(
            store
                .dead_letters("p")
                .unwrap()
                .iter()
                .map(|l| l.key.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn sqlite_lookups_by_field_use_an_index() {
        let store = SqliteStore::in_memory().unwrap();
        store
            .put_entries(vec![entry("1", json!({"cid": "c-1"}), 1)])
            .unwrap();
        let found = store.find_by_field("buyers", "cid", &json!("c-1")).unwrap();
        assert_eq!(found.unwrap().key, "1");
        let conn = store.conn();
        let mut stmt = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT key FROM entries
                 WHERE collection = 'buyers' AND json_extract(data, '$.cid') IN ('c-1', 'c-1')",
            )
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("entries_by_cid")),
            "{plan:?}"
        );
    }

    #[test]
    fn memory_store_behaves() {
        exercise(&MemoryStore::new());
    }

    #[test]
    fn sqlite_store_behaves_and_persists() {
        let dir = std::env::temp_dir().join(format!(
            "ic-state-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.sqlite");
        exercise(&SqliteStore::open(&path).unwrap());
        // A second store on the same file sees the same state.
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.count_entries("buyers").unwrap(), 3);
        assert_eq!(
            reopened.checkpoint("p").unwrap(),
            Some(Checkpoint(json!({"t": 2})))
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
