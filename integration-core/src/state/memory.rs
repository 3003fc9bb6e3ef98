//! State in memory: for tests and one-off runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
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
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
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
}

impl Inner {
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
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl StateStore for MemoryStore {
    fn lookup_blocking(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Option<Result<Option<CollectionEntry>, StateError>> {
        let mut inner = self.inner();
        Some(Ok(match filter {
            LookupFilter::Key(key) => inner
                .entries
                .get(collection)
                .and_then(|c| c.get(key))
                .cloned(),
            LookupFilter::Field { field, value } => {
                match_text(value).and_then(|wanted| inner.find_by_field(collection, field, &wanted))
            }
        }))
    }

    fn never_waits(&self) -> bool {
        true
    }

    async fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        Ok(self.inner().checkpoints.get(pipeline).cloned())
    }

    async fn apply(&self, changes: Changes) -> Result<(), StateError> {
        let mut inner = self.inner();
        if let Some(fence) = &changes.fence {
            if !lease::admits(inner.leases.get(&fence.name), fence) {
                return Err(lease::fenced_error(fence));
            }
        }
        for e in changes.entries {
            inner.put_entry(e);
        }
        if !changes.resolved.is_empty() {
            if let Some(list) = inner.dead.get_mut(&changes.pipeline) {
                list.retain(|l| !changes.resolved.contains(&l.key));
            }
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
        Ok(match_text(value)
            .and_then(|wanted| self.inner().find_by_field(collection, field, &wanted)))
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
