//! State in memory: for tests and one-off runs, and for runs that keep only
//! the keys of a collection no lookup reads.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::lease::{self, LeaseRow};
use super::{
    Changes, CollectionEntry, DeadLetter, EntryQuery, Lease, LookupFilter, RunOutcome, RunRecord,
    StateError, StateStore, match_text,
};
use crate::source::Checkpoint;

/// State in memory: for tests and one-off runs. Every call answers at once
/// (one short lock), so it never holds up the runtime.
///
/// By default every entry keeps its source data, so memory grows with the
/// records a run has seen (several KiB each). A collection that no lookup
/// reads by field can keep only each entry's key, status, target id and
/// time instead ([`keys_only`](Self::keys_only),
/// [`keys_only_by_default`](Self::keys_only_by_default)), which bounds
/// memory by the number of keys, not by the size of the records:
///
/// ```
/// use integration_core::MemoryStore;
///
/// // The trades' data is looked up by field; the pipeline's own
/// // collection only needs its keys and target ids.
/// let store = MemoryStore::new()
///     .keys_only_by_default()
///     .keep_data("huke-trades");
/// assert!(store.keeps_data("huke-trades"));
/// assert!(!store.keeps_data("huke-to-kingdee"));
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Set while the store is built (the methods take it by value), so
    /// reading it needs no lock.
    policy: DataPolicy,
}

/// Which collections keep their entries' data.
#[derive(Debug, Default)]
struct DataPolicy {
    /// Whether a collection named in neither set keeps only keys.
    keys_only_by_default: bool,
    keys_only: HashSet<String>,
    keep_data: HashSet<String>,
}

impl DataPolicy {
    fn keeps_data(&self, collection: &str) -> bool {
        if self.keep_data.contains(collection) {
            true
        } else if self.keys_only.contains(collection) {
            false
        } else {
            !self.keys_only_by_default
        }
    }

    /// The error of a lookup or search by field in a keys-only collection:
    /// its entries have no data, so "nothing found" would be a lie.
    fn no_data(&self, collection: &str, field: &str) -> Option<StateError> {
        (!self.keeps_data(collection)).then(|| {
            StateError::new(format!(
                "collection `{collection}` keeps keys only (MemoryStore::keys_only), \
                 so its entries cannot be found by `{field}`; \
                 keep its data with MemoryStore::keep_data"
            ))
        })
    }
}

#[derive(Debug, Default)]
struct Inner {
    checkpoints: HashMap<String, Checkpoint>,
    entries: HashMap<String, HashMap<String, CollectionEntry>>,
    dead: HashMap<String, Vec<DeadLetter>>,
    /// Per pipeline, oldest first.
    runs: HashMap<String, Vec<RunRecord>>,
    /// Built on the first lookup of a (collection, field), then kept up to
    /// date by every put: field text → keys, so a lookup does not scan.
    field_index: HashMap<(String, String), HashMap<String, BTreeSet<String>>>,
    leases: BTreeMap<String, LeaseRow>,
    /// Per budget, member → expiry.
    budgets: HashMap<String, HashMap<String, DateTime<Utc>>>,
    /// The data of every entry of a keys-only collection: one shared
    /// `null`, so such an entry holds no record of its own.
    null: Arc<Value>,
}

impl Inner {
    /// Moves `key` from its old value to its new one in every index of the
    /// collection.
    fn reindex(&mut self, old: Option<&CollectionEntry>, new: &CollectionEntry) {
        for ((collection, field), index) in &mut self.field_index {
            if *collection != new.collection {
                continue;
            }
            if let Some(text) = old.and_then(|o| o.data.get(field)).and_then(match_text)
                && let Some(keys) = index.get_mut(&text)
            {
                keys.remove(&new.key);
            }
            if let Some(text) = new.data.get(field).and_then(match_text) {
                index.entry(text).or_default().insert(new.key.clone());
            }
        }
    }

    fn put_entry(&mut self, e: CollectionEntry) {
        if !self.field_index.is_empty() {
            let old = self
                .entries
                .get(&e.collection)
                .and_then(|c| c.get(&e.key))
                .cloned();
            self.reindex(old.as_ref(), &e);
        }
        match self.entries.get_mut(&e.collection) {
            Some(collection) => {
                collection.insert(e.key.clone(), e);
            }
            None => {
                let collection = self.entries.entry(e.collection.clone()).or_default();
                collection.insert(e.key.clone(), e);
            }
        }
    }

    fn find_by_field(
        &mut self,
        collection: &str,
        field: &str,
        wanted: &str,
    ) -> Option<CollectionEntry> {
        let entries = self.entries.get(collection)?;
        let index_key = (collection.to_owned(), field.to_owned());
        if !self.field_index.contains_key(&index_key) {
            let mut index: HashMap<String, BTreeSet<String>> = HashMap::new();
            for e in entries.values() {
                if let Some(text) = e.data.get(field).and_then(match_text) {
                    index.entry(text).or_default().insert(e.key.clone());
                }
            }
            self.field_index.insert(index_key.clone(), index);
        }
        let keys = self.field_index.get(&index_key)?.get(wanted)?;
        let entries = self.entries.get(collection)?;
        keys.iter()
            .filter_map(|k| entries.get(k))
            .max_by_key(|e| e.updated_at)
            .cloned()
    }
}

impl MemoryStore {
    /// An empty store whose entries keep their data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps only the key, status, target id and time of `collection`'s
    /// entries, not their source data: for a collection no lookup reads by
    /// field, so that its memory does not grow with the size of records.
    ///
    /// A lookup by key still finds an entry (its `_target_id`, `_key` and
    /// `_status` are right; its data is `null`, so a data field reads as
    /// undefined). A lookup or search by field fails with an error naming
    /// the collection rather than finding nothing. Entries already stored
    /// lose their data. The last of `keys_only` and
    /// [`keep_data`](Self::keep_data) naming a collection wins.
    pub fn keys_only(mut self, collection: impl Into<String>) -> Self {
        let collection = collection.into();
        self.policy.keep_data.remove(&collection);
        self.policy.keys_only.insert(collection);
        self.drop_unkept_data()
    }

    /// Keeps only keys (as [`keys_only`](Self::keys_only)) in every
    /// collection not named with [`keep_data`](Self::keep_data): for a
    /// worker whose lookups read few collections, so that a new pipeline
    /// cannot make memory grow unnoticed.
    pub fn keys_only_by_default(mut self) -> Self {
        self.policy.keys_only_by_default = true;
        self.drop_unkept_data()
    }

    /// Keeps the data of `collection`'s entries, which lookups by field
    /// read, under [`keys_only_by_default`](Self::keys_only_by_default).
    /// Data dropped before is not restored.
    pub fn keep_data(mut self, collection: impl Into<String>) -> Self {
        let collection = collection.into();
        self.policy.keys_only.remove(&collection);
        self.policy.keep_data.insert(collection);
        self
    }

    /// Whether the entries of `collection` keep their source data.
    pub fn keeps_data(&self, collection: &str) -> bool {
        self.policy.keeps_data(collection)
    }

    /// Drops the data (and field indexes) of entries stored before their
    /// collection became keys-only.
    fn drop_unkept_data(mut self) -> Self {
        let policy = &self.policy;
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        let null = Arc::clone(&inner.null);
        for (collection, entries) in &mut inner.entries {
            if !policy.keeps_data(collection) {
                for e in entries.values_mut() {
                    e.data = Arc::clone(&null);
                }
            }
        }
        inner
            .field_index
            .retain(|(collection, _), _| policy.keeps_data(collection));
        self
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A lookup by field, or its error in a keys-only collection.
    fn find_by_field_now(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        if let Some(e) = self.policy.no_data(collection, field) {
            return Err(e);
        }
        Ok(match_text(value)
            .and_then(|wanted| self.inner().find_by_field(collection, field, &wanted)))
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    fn lookup_blocking(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Option<Result<Option<CollectionEntry>, StateError>> {
        Some(match filter {
            LookupFilter::Key(key) => Ok(self
                .inner()
                .entries
                .get(collection)
                .and_then(|c| c.get(key))
                .cloned()),
            LookupFilter::Field { field, value } => {
                self.find_by_field_now(collection, field, value)
            }
        })
    }

    fn never_waits(&self) -> bool {
        true
    }

    async fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        Ok(self.inner().checkpoints.get(pipeline).cloned())
    }

    async fn apply(&self, changes: Changes) -> Result<(), StateError> {
        let mut inner = self.inner();
        if let Some(fence) = &changes.fence
            && !lease::admits(inner.leases.get(&fence.name), fence)
        {
            return Err(lease::fenced_error(fence));
        }
        for mut e in changes.entries {
            if !self.policy.keeps_data(&e.collection) {
                e.data = Arc::clone(&inner.null);
            }
            inner.put_entry(e);
        }
        if !changes.resolved.is_empty()
            && let Some(list) = inner.dead.get_mut(&changes.pipeline)
        {
            list.retain(|l| !changes.resolved.contains(&l.key));
        }
        for letter in changes.dead_letters {
            let list = inner.dead.entry(letter.pipeline.clone()).or_default();
            list.retain(|l| l.key != letter.key);
            list.push(letter);
        }
        if let Some(checkpoint) = changes.checkpoint {
            inner.checkpoints.insert(changes.pipeline, checkpoint);
        }
        Ok(())
    }

    async fn entry(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Option<CollectionEntry>, StateError> {
        Ok(self
            .inner()
            .entries
            .get(collection)
            .and_then(|c| c.get(key))
            .cloned())
    }

    async fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        self.find_by_field_now(collection, field, value)
    }

    async fn count_entries(&self, collection: &str) -> Result<u64, StateError> {
        Ok(self
            .inner()
            .entries
            .get(collection)
            .map_or(0, |c| c.len() as u64))
    }

    async fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError> {
        let mut letters = self.inner().dead.get(pipeline).cloned().unwrap_or_default();
        letters.sort_by(|a, b| (a.failed_at, &a.key).cmp(&(b.failed_at, &b.key)));
        Ok(letters)
    }

    async fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError> {
        Ok(self
            .inner()
            .dead
            .get(pipeline)
            .map_or(0, |l| l.len() as u64))
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StateError> {
        let mut inner = self.inner();
        let runs = inner.runs.entry(run.pipeline().to_owned()).or_default();
        match runs.iter_mut().find(|r| r.id == run.id) {
            Some(stored) => *stored = run.clone(),
            None => {
                runs.push(run.clone());
                runs.sort_by(|a, b| {
                    (a.report.started_at, &a.id).cmp(&(b.report.started_at, &b.id))
                });
            }
        }
        Ok(())
    }

    async fn runs(
        &self,
        pipeline: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StateError> {
        let inner = self.inner();
        Ok(inner
            .runs
            .get(pipeline)
            .map(|runs| {
                runs.iter()
                    .rev()
                    .skip(offset)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn end_unfinished_runs(&self, pipeline: &str) -> Result<u64, StateError> {
        let mut inner = self.inner();
        let mut ended = 0;
        for run in inner.runs.get_mut(pipeline).into_iter().flatten() {
            if run.outcome == RunOutcome::Running {
                run.outcome = RunOutcome::Killed;
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn pipelines(&self) -> Result<Vec<String>, StateError> {
        let inner = self.inner();
        // A pipeline whose dead letters were all resolved keeps an empty
        // list here, and is no more known for it than in the SQL stores.
        let names: BTreeSet<&String> = inner
            .checkpoints
            .keys()
            .chain(
                inner
                    .runs
                    .iter()
                    .filter(|(_, r)| !r.is_empty())
                    .map(|(p, _)| p),
            )
            .chain(
                inner
                    .dead
                    .iter()
                    .filter(|(_, l)| !l.is_empty())
                    .map(|(p, _)| p),
            )
            .collect();
        Ok(names.into_iter().cloned().collect())
    }

    async fn collections(&self) -> Result<Vec<String>, StateError> {
        let inner = self.inner();
        let mut names: Vec<String> = inner
            .entries
            .iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn search_entries(
        &self,
        collection: &str,
        query: &EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError> {
        if let Some((field, _)) = &query.field
            && let Some(e) = self.policy.no_data(collection, field)
        {
            return Err(e);
        }
        let (offset, limit) = (query.offset, query.limit);
        let inner = self.inner();
        let Some(entries) = inner.entries.get(collection) else {
            return Ok(Vec::new());
        };
        let mut found: Vec<&CollectionEntry> =
            entries.values().filter(|e| query.matches(e)).collect();
        found.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then_with(|| a.key.cmp(&b.key))
        });
        Ok(found
            .into_iter()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn reset_checkpoint(&self, pipeline: &str) -> Result<bool, StateError> {
        Ok(self.inner().checkpoints.remove(pipeline).is_some())
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError> {
        let mut inner = self.inner();
        let Some(row) = lease::grant(inner.leases.get(name), holder, Utc::now(), ttl) else {
            return Ok(None);
        };
        let granted = row.lease(name);
        inner.leases.insert(name.to_owned(), row);
        Ok(granted)
    }

    async fn renew_lease(&self, held: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        let mut inner = self.inner();
        let row = lease::renewal(inner.leases.get(&held.name), held, Utc::now(), ttl)
            .ok_or_else(|| lease::fenced_error(&held.fence()))?;
        let renewed = row.lease(&held.name);
        inner.leases.insert(held.name.clone(), row);
        renewed.ok_or_else(|| lease::fenced_error(&held.fence()))
    }

    async fn release_lease(
        &self,
        held: &Lease,
        done_through: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        let mut inner = self.inner();
        if let Some(row) =
            lease::release(inner.leases.get(&held.name), held, done_through, Utc::now())
        {
            inner.leases.insert(held.name.clone(), row);
        }
        Ok(())
    }

    async fn leases(&self) -> Result<Vec<Lease>, StateError> {
        let inner = self.inner();
        Ok(inner
            .leases
            .iter()
            .filter_map(|(name, row)| row.lease(name))
            .collect())
    }

    async fn join_budget(
        &self,
        budget: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<u32, StateError> {
        let now = Utc::now();
        let mut inner = self.inner();
        let members = inner.budgets.entry(budget.to_owned()).or_default();
        members.retain(|_, expires_at| *expires_at > now);
        members.insert(member.to_owned(), lease::expiry(now, ttl));
        Ok(members.len() as u32)
    }

    async fn leave_budget(&self, budget: &str, member: &str) -> Result<(), StateError> {
        if let Some(members) = self.inner().budgets.get_mut(budget) {
            members.remove(member);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::EntryStatus;
    use super::*;
    use serde_json::json;

    /// A failed entry with a target id and a fixed time, so that every
    /// part but the data can be compared.
    fn entry(collection: &str, key: &str, cid: &str) -> CollectionEntry {
        CollectionEntry {
            status: EntryStatus::Failed,
            updated_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            ..CollectionEntry::new(collection, key, json!({"cid": cid, "name": "买家"}))
                .with_target_id(format!("T-{key}"))
        }
    }

    async fn seeded(store: MemoryStore) -> MemoryStore {
        store
            .put_entries(vec![
                entry("trades", "1", "c-1"),
                entry("trades", "2", "c-2"),
                entry("buyers", "1", "c-1"),
            ])
            .await
            .unwrap();
        store
    }

    async fn stored(store: &MemoryStore, collection: &str, key: &str) -> CollectionEntry {
        store.entry(collection, key).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn a_keys_only_collection_keeps_status_target_id_and_time_but_no_data() {
        let store = seeded(MemoryStore::new().keys_only("trades")).await;
        let one = stored(&store, "trades", "1").await;
        let want = entry("trades", "1", "c-1");
        assert_eq!((&one.key, one.status), (&want.key, want.status));
        assert_eq!(one.target_id.as_deref(), Some("T-1"));
        assert_eq!(one.updated_at, want.updated_at);
        assert_eq!(*one.data, Value::Null);
        // One shared null, not an allocation per entry.
        let two = stored(&store, "trades", "2").await;
        assert!(Arc::ptr_eq(&one.data, &two.data));
        assert_eq!(store.count_entries("trades").await.unwrap(), 2);
        // Other collections keep their data.
        assert_eq!(
            stored(&store, "buyers", "1").await,
            entry("buyers", "1", "c-1")
        );
        assert!(!store.keeps_data("trades") && store.keeps_data("buyers"));
    }

    #[tokio::test]
    async fn keys_only_by_default_keeps_data_only_where_asked() {
        let store = MemoryStore::new()
            .keep_data("buyers")
            .keys_only_by_default()
            .keep_data("orders")
            .keys_only("orders");
        assert!(store.keeps_data("buyers"));
        assert!(!store.keeps_data("trades"));
        assert!(!store.keeps_data("orders"), "the last call wins");
        let store = seeded(store).await;
        assert_eq!(*stored(&store, "trades", "1").await.data, Value::Null);
        assert_eq!(
            stored(&store, "buyers", "1").await,
            entry("buyers", "1", "c-1")
        );
    }

    #[tokio::test]
    async fn the_default_store_keeps_every_entry_with_its_data() {
        for store in [MemoryStore::new(), MemoryStore::default()] {
            let store = seeded(store).await;
            for (collection, key) in [("trades", "1"), ("trades", "2"), ("buyers", "1")] {
                assert!(store.keeps_data(collection));
                let cid = format!("c-{key}");
                assert_eq!(
                    stored(&store, collection, key).await,
                    entry(collection, key, &cid)
                );
            }
            let found = store
                .find_by_field("trades", "cid", &json!("c-2"))
                .await
                .unwrap();
            assert_eq!(found.unwrap().key, "2");
        }
    }

    #[tokio::test]
    async fn lookups_by_field_in_a_keys_only_collection_fail_and_by_key_find_the_entry() {
        let store = seeded(MemoryStore::new().keys_only("trades")).await;
        let by_field = LookupFilter::Field {
            field: "cid",
            value: &json!("c-1"),
        };
        let errors = [
            store
                .find_by_field("trades", "cid", &json!("c-1"))
                .await
                .unwrap_err(),
            store
                .lookup_blocking("trades", by_field)
                .unwrap()
                .unwrap_err(),
            store
                .search_entries("trades", &EntryQuery::new().field("cid", "c-1"))
                .await
                .unwrap_err(),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.contains("`trades` keeps keys only"), "{text}");
            assert!(text.contains("`cid`"), "{text}");
        }
        // Where data is kept, the same lookup works.
        let found = store.lookup_blocking("buyers", by_field).unwrap().unwrap();
        assert_eq!(found.unwrap().key, "1");
        // By key: the entry, with its target id and no data.
        let found = store
            .lookup_blocking("trades", LookupFilter::Key("2"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(found.target_id.as_deref(), Some("T-2"));
        assert_eq!(*found.data, Value::Null);
        // Listed (the console's view) with null data.
        let listed = store
            .search_entries("trades", &EntryQuery::new().status(EntryStatus::Failed))
            .await
            .unwrap();
        let keys: Vec<_> = listed.iter().map(|e| (e.key.as_str(), &*e.data)).collect();
        assert_eq!(keys, [("1", &Value::Null), ("2", &Value::Null)]);
    }

    #[tokio::test]
    async fn making_a_collection_keys_only_drops_the_data_and_index_it_had() {
        let store = seeded(MemoryStore::new()).await;
        let found = store.find_by_field("trades", "cid", &json!("c-1")).await;
        assert_eq!(found.unwrap().unwrap().key, "1");
        let store = store.keys_only("trades");
        assert_eq!(*stored(&store, "trades", "1").await.data, Value::Null);
        assert!(
            store
                .find_by_field("trades", "cid", &json!("c-1"))
                .await
                .is_err()
        );
        assert!(store.inner().field_index.is_empty());
        assert_eq!(
            stored(&store, "buyers", "1").await,
            entry("buyers", "1", "c-1")
        );
    }

    #[tokio::test]
    async fn a_mapping_looking_up_a_keys_only_collection_by_field_dead_letters_the_record() {
        use crate::Pipeline;
        use crate::mapping::MapContext;
        use crate::memory::{MemorySink, VecSource};
        use crate::source::SourceRecord;

        let store = Arc::new(seeded(MemoryStore::new().keys_only("trades")).await);
        let source = VecSource::new(
            vec![
                SourceRecord::upsert("by-key", json!({"trade": "1"})),
                SourceRecord::upsert("by-field", json!({"cid": "c-1"})),
            ],
            10,
        );
        let map = |r: &SourceRecord<Value>, ctx: &MapContext| {
            let found = match (r.data.get("trade"), r.data.get("cid")) {
                (Some(Value::String(key)), _) => ctx.lookup("trades", LookupFilter::Key(key))?,
                (_, Some(cid)) => ctx.lookup(
                    "trades",
                    LookupFilter::Field {
                        field: "cid",
                        value: cid,
                    },
                )?,
                _ => None,
            };
            Ok(Some(json!(found.and_then(|e| e.target_id))))
        };
        let sink = MemorySink::new(10);
        let pipeline = Pipeline::builder("orders")
            .source(source)
            .mapper(map)
            .sink(sink.clone())
            .state(Arc::clone(&store) as Arc<dyn StateStore>)
            .build()
            .unwrap();
        let report = pipeline.run().await.unwrap();
        assert_eq!((report.written, report.failed), (1, 1), "{report:?}");
        assert_eq!(sink.stored().get("by-key"), Some(&json!("T-1")));
        let dead = store.dead_letters("orders").await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].key, "by-field");
        assert!(
            dead[0].error.contains("keeps keys only"),
            "{}",
            dead[0].error
        );
    }
}
