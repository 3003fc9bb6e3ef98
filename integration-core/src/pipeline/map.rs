//! Stage 2, map: a page's records become batches to write, records settled
//! without writing (skipped, or failed to map), and the page's end.
//!
//! A page is mapped outside the async context: in place after handing the
//! worker's other tasks on (multi-thread runtime), or on the blocking pool
//! (current-thread runtime). A mapping's lookups are answered there by the
//! store directly (SQLite reads) or awaited (a network store), so no store,
//! however slow, holds up the runtime. With a store that never waits
//! (memory) a page is mapped as it is.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use tokio::runtime::Handle;

use super::settle::{Boundary, Settlement};
use super::write::Batch;
use super::{Stages, Unit};
use crate::mapping::{Lookup, LookupFilter, MapContext, MapError};
use crate::sink::{Sink, SinkRecord};
use crate::source::{Op, Source, SourceRecord};
use crate::state::{CollectionEntry, DeadLetter, EntryStatus, Stage, StateStore};

/// Lookups from a mapping into the state store: answered on the mapping's
/// thread when the store can, else awaited there (outside the async
/// context, so blocking on the runtime's handle is allowed).
struct StoreLookup {
    store: Arc<dyn StateStore>,
    runtime: Handle,
}

impl Lookup for StoreLookup {
    fn lookup(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Result<Option<CollectionEntry>, MapError> {
        let found = match self.store.lookup_blocking(collection, filter) {
            Some(found) => found,
            None => self.runtime.block_on(async {
                match filter {
                    LookupFilter::Key(key) => self.store.entry(collection, key).await,
                    LookupFilter::Field { field, value } => {
                        self.store.find_by_field(collection, field, value).await
                    }
                }
            }),
        };
        found.map_err(|e| MapError::new(e.to_string()))
    }
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// The context of a run's mappings: its clock, the constants, and
    /// lookups into the store.
    pub(super) fn context(&self) -> MapContext {
        MapContext::new(Utc::now())
            .with_constants(self.constants.clone())
            .with_lookup(Arc::new(StoreLookup {
                store: Arc::clone(&self.state),
                runtime: Handle::current(),
            }))
    }

    /// Maps `records` into units ending with `end`, outside the async
    /// context unless the store never waits.
    pub(super) async fn map_page(
        self: &Arc<Self>,
        records: Vec<SourceRecord<S::Item>>,
        end: Boundary,
        ctx: &MapContext,
    ) -> Vec<Unit<K::Item>> {
        if self.state.never_waits() {
            return self.plan(records, end, ctx);
        }
        // On a multi-thread runtime the page is mapped where it is, after
        // handing this worker's other tasks to another (records and their
        // allocations stay on one thread); elsewhere on the blocking pool.
        if Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            return tokio::task::block_in_place(|| self.plan(records, end, ctx));
        }
        let (stages, ctx) = (Arc::clone(self), ctx.clone());
        match tokio::task::spawn_blocking(move || stages.plan(records, end, &ctx)).await {
            Ok(units) => units,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the mapping task was cancelled: {e}"),
        }
    }

    fn plan(
        &self,
        records: Vec<SourceRecord<S::Item>>,
        end: Boundary,
        ctx: &MapContext,
    ) -> Vec<Unit<K::Item>> {
        let mut settled = Settlement {
            read: records.len() as u64,
            ..Settlement::default()
        };
        let mut batches = vec![Batch::new(0)];
        for record in &records {
            let source = match crate::mapping::record_json(&record.data) {
                Ok(v) => Arc::new(v),
                Err(e) => {
                    let error = format!("the source record cannot be serialised: {e}");
                    self.map_failed(
                        &mut settled,
                        record.key.clone(),
                        record.op,
                        Value::Null,
                        error,
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
                    let entry = self.entry(&record.key, EntryStatus::Skipped, None, source);
                    settled.entries.push(entry);
                }
                Err(e) => {
                    let source = Arc::unwrap_or_clone(source);
                    self.map_failed(
                        &mut settled,
                        record.key.clone(),
                        record.op,
                        source,
                        e.to_string(),
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
        units.push(Unit::End(end));
        units
    }

    /// Settles a record that could not be mapped: a failed entry and a
    /// dead letter.
    pub(super) fn map_failed(
        &self,
        settled: &mut Settlement,
        key: String,
        op: Op,
        source: Value,
        error: String,
    ) {
        settled.failed += 1;
        let source = Arc::new(source);
        settled
            .entries
            .push(self.entry(&key, EntryStatus::Failed, None, Arc::clone(&source)));
        settled.dead.push(DeadLetter {
            pipeline: self.name.clone(),
            key,
            op,
            source: Arc::unwrap_or_clone(source),
            payload: None,
            stage: Stage::Map,
            target_id: None,
            code: None,
            error,
            attempts: 1,
            failed_at: Utc::now(),
        });
    }

    /// The pipeline's collection entry for a record.
    pub(super) fn entry(
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
}
