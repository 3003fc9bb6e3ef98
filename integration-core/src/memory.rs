//! Sources and sinks without a server: records in memory, or closures.
//! For tests, prototypes, and glue between a pipeline and any other code.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Error;
use crate::mapping::{MapContext, MapError};
use crate::sink::{Change, RecordError, Sink, SinkRecord, WriteOutcome};
use crate::source::{Checkpoint, Op, Page, Source, SourceRecord};

/// A source over records in memory, read in pages.
///
/// Its checkpoint is the number of records already processed, so a rerun
/// continues after the last completed page (records appended later are read
/// by the next run): the model of an incremental source.
#[derive(Debug, Clone)]
pub struct VecSource<T> {
    records: Arc<Mutex<Vec<SourceRecord<T>>>>,
    page_size: usize,
}

impl<T> VecSource<T> {
    /// A source over `records`, `page_size` per page.
    pub fn new(records: Vec<SourceRecord<T>>, page_size: usize) -> Self {
        Self {
            records: Arc::new(Mutex::new(records)),
            page_size: page_size.max(1),
        }
    }

    /// Appends records (seen by the next run).
    pub fn push(&self, record: SourceRecord<T>) {
        lock(&self.records).push(record);
    }
}

#[async_trait]
impl<T: Clone + Serialize + Send + Sync + 'static> Source for VecSource<T> {
    type Item = T;
    /// The index of the next record.
    type Cursor = usize;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<usize>,
    ) -> Result<Page<T, usize>, Error> {
        let start = cursor
            .or_else(|| checkpoint.and_then(|c| c.0.as_u64()).map(|n| n as usize))
            .unwrap_or(0);
        let records = lock(&self.records);
        let end = (start + self.page_size).min(records.len());
        let page: Vec<_> = records
            .get(start..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        Ok(Page {
            total: None,
            records: page,
            next: (end < records.len()).then_some(end),
            checkpoint: Some(Checkpoint(serde_json::json!(end.max(start)))),
        })
    }
}

/// A source whose pages come from a closure
/// `Fn(Option<Checkpoint>, Option<C>) -> Future<Result<Page<T, C>>>`, for
/// any cursor type `C`.
pub struct FnSource<F, C = ()> {
    read: F,
    _cursor: std::marker::PhantomData<fn(C)>,
}

impl<F> FnSource<F> {
    /// Wraps a closure that reads single-page answers (no cursor).
    pub fn new(read: F) -> Self {
        Self::with_cursor(read)
    }
}

impl<F, C> FnSource<F, C> {
    /// Wraps a closure whose pages lead to the next with a cursor `C`.
    pub fn with_cursor(read: F) -> Self {
        Self {
            read,
            _cursor: std::marker::PhantomData,
        }
    }
}

#[async_trait]
impl<T, C, F, Fut> Source for FnSource<F, C>
where
    T: Serialize + Send + Sync + 'static,
    C: Clone + std::fmt::Debug + Send + Sync + 'static,
    F: Fn(Option<Checkpoint>, Option<C>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Page<T, C>, Error>> + Send,
{
    type Item = T;
    type Cursor = C;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<C>,
    ) -> Result<Page<T, C>, Error> {
        (self.read)(checkpoint.cloned(), cursor).await
    }
}

/// A rule that makes [`MemorySink`] fail a record.
type FailRule<T> = Arc<dyn Fn(&SinkRecord<T>, u32) -> Option<RecordError> + Send + Sync>;

/// A sink that upserts records by key into memory, as an idempotent target
/// system would. It counts every write, so tests can see duplicates.
pub struct MemorySink<T> {
    inner: Arc<Mutex<MemoryInner<T>>>,
    max_batch: usize,
    fail: Option<FailRule<T>>,
}

struct MemoryInner<T> {
    stored: BTreeMap<String, T>,
    writes: BTreeMap<String, u32>,
    batches: Vec<usize>,
}

impl<T> Clone for MemorySink<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            max_batch: self.max_batch,
            fail: self.fail.clone(),
        }
    }
}

impl<T> MemorySink<T> {
    /// An empty sink taking batches of up to `max_batch` records.
    pub fn new(max_batch: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(MemoryInner {
                stored: BTreeMap::new(),
                writes: BTreeMap::new(),
                batches: Vec::new(),
            })),
            max_batch: max_batch.max(1),
            fail: None,
        }
    }

    /// Fails a record when `rule(record, attempt)` says so (attempt counts
    /// from 1 per key).
    pub fn failing_when(
        mut self,
        rule: impl Fn(&SinkRecord<T>, u32) -> Option<RecordError> + Send + Sync + 'static,
    ) -> Self {
        self.fail = Some(Arc::new(rule));
        self
    }

    fn inner(&self) -> MutexGuard<'_, MemoryInner<T>> {
        lock(&self.inner)
    }

    /// The stored records by key.
    pub fn stored(&self) -> BTreeMap<String, T>
    where
        T: Clone,
    {
        self.inner().stored.clone()
    }

    /// How many times each key was written successfully.
    pub fn writes(&self) -> BTreeMap<String, u32> {
        self.inner().writes.clone()
    }

    /// The size of every batch received.
    pub fn batches(&self) -> Vec<usize> {
        self.inner().batches.clone()
    }
}

#[async_trait]
impl<T: Clone + Serialize + Send + Sync + 'static> Sink for MemorySink<T> {
    type Item = T;

    fn max_batch_size(&self) -> usize {
        self.max_batch
    }

    async fn write(&self, batch: &[SinkRecord<T>]) -> Result<Vec<WriteOutcome>, Error> {
        let mut inner = self.inner();
        inner.batches.push(batch.len());
        let mut outcomes = Vec::with_capacity(batch.len());
        for record in batch {
            let attempt = {
                let attempts = inner
                    .writes
                    .get(&format!("attempt:{}", record.key))
                    .copied()
                    .unwrap_or(0)
                    + 1;
                inner
                    .writes
                    .insert(format!("attempt:{}", record.key), attempts);
                attempts
            };
            if let Some(error) = self.fail.as_ref().and_then(|rule| rule(record, attempt)) {
                outcomes.push(WriteOutcome::Failed(error));
                continue;
            }
            let change = match record.op {
                Op::Upsert => match inner.stored.insert(record.key.clone(), record.data.clone()) {
                    Some(_) => Change::Updated,
                    None => Change::Created,
                },
                Op::Delete => {
                    inner.stored.remove(&record.key);
                    Change::Unknown
                }
            };
            *inner.writes.entry(record.key.clone()).or_insert(0) += 1;
            outcomes.push(WriteOutcome::written_as(
                change,
                Some(format!("T{}", record.key)),
            ));
        }
        Ok(outcomes)
    }
}

/// A sink whose writes go to a closure
/// `Fn(Vec<SinkRecord<T>>) -> Future<Result<Vec<WriteOutcome>>>`.
pub struct FnSink<T, F> {
    write: F,
    max_batch: usize,
    _records: std::marker::PhantomData<fn(T)>,
}

impl<T, F> FnSink<T, F> {
    /// Wraps the closure; batches of up to `max_batch` records.
    pub fn new(max_batch: usize, write: F) -> Self {
        Self {
            write,
            max_batch: max_batch.max(1),
            _records: std::marker::PhantomData,
        }
    }
}

#[async_trait]
impl<T, F, Fut> Sink for FnSink<T, F>
where
    T: Clone + Serialize + Send + Sync + 'static,
    F: Fn(Vec<SinkRecord<T>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<WriteOutcome>, Error>> + Send,
{
    type Item = T;

    fn max_batch_size(&self) -> usize {
        self.max_batch
    }

    async fn write(&self, batch: &[SinkRecord<T>]) -> Result<Vec<WriteOutcome>, Error> {
        (self.write)(batch.to_vec()).await
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A sink that writes nowhere: every record is accepted, and the
/// pipeline's collection (source data by key) is the result. For a step
/// whose only purpose is to make records available to other pipelines'
/// lookups, as a QEasy data collection does. Pair a `CollectSink<()>` with
/// the [`collect_only`] mapper: the collection keeps the source record, so
/// nothing needs copying.
#[derive(Debug)]
pub struct CollectSink<T> {
    max_batch: usize,
    _records: std::marker::PhantomData<fn(T)>,
}

impl<T> CollectSink<T> {
    /// A sink taking batches of up to `max_batch` records.
    pub fn new(max_batch: usize) -> Self {
        Self {
            max_batch: max_batch.max(1),
            _records: std::marker::PhantomData,
        }
    }
}

#[async_trait]
impl<T: Clone + Serialize + Send + Sync + 'static> Sink for CollectSink<T> {
    type Item = T;

    fn max_batch_size(&self) -> usize {
        self.max_batch
    }

    async fn write(&self, batch: &[SinkRecord<T>]) -> Result<Vec<WriteOutcome>, Error> {
        Ok(batch
            .iter()
            .map(|_| WriteOutcome::written_as(Change::Unknown, None))
            .collect())
    }
}

/// The mapper of a collection-only pipeline (with a `CollectSink<()>`):
/// every record is kept in the pipeline's collection as read, and nothing
/// is copied for the sink.
pub fn collect_only<S>(_: &SourceRecord<S>, _: &MapContext) -> Result<Option<()>, MapError> {
    Ok(Some(()))
}

/// A rule that makes [`MemoryWriteBack`] fail a write-back.
type WriteBackRule = Arc<dyn Fn(&str, u32) -> Option<RecordError> + Send + Sync>;

/// A write-back into memory, as a source system that keeps one field per
/// record would: the values written back by key, answered
/// [`WriteBackOutcome::Unchanged`](crate::WriteBackOutcome::Unchanged) when a record holds its value already.
/// It counts the calls that wrote, so tests can see that writing the same
/// value twice sends nothing.
pub struct MemoryWriteBack<T> {
    inner: Arc<Mutex<WriteBackInner>>,
    fail: Option<WriteBackRule>,
    item: std::marker::PhantomData<fn() -> T>,
}

#[derive(Default)]
struct WriteBackInner {
    values: BTreeMap<String, String>,
    attempts: BTreeMap<String, u32>,
    writes: u64,
}

impl<T> Clone for MemoryWriteBack<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            fail: self.fail.clone(),
            item: std::marker::PhantomData,
        }
    }
}

impl<T> Default for MemoryWriteBack<T> {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
            fail: None,
            item: std::marker::PhantomData,
        }
    }
}

impl<T> MemoryWriteBack<T> {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fails a write-back when `rule(key, attempt)` says so (attempt counts
    /// from 1 per key).
    pub fn failing_when(
        mut self,
        rule: impl Fn(&str, u32) -> Option<RecordError> + Send + Sync + 'static,
    ) -> Self {
        self.fail = Some(Arc::new(rule));
        self
    }

    /// The values written back, by key.
    pub fn values(&self) -> BTreeMap<String, String> {
        lock(&self.inner).values.clone()
    }

    /// How many write-backs changed a value.
    pub fn writes(&self) -> u64 {
        lock(&self.inner).writes
    }
}

#[async_trait]
impl<T> crate::write_back::WriteBack for MemoryWriteBack<T>
where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    type Item = T;

    async fn write_back(
        &self,
        record: &crate::write_back::WriteBackRecord<T>,
    ) -> Result<crate::write_back::WriteBackOutcome, Error> {
        use crate::write_back::WriteBackOutcome;
        let mut inner = lock(&self.inner);
        let attempt = inner.attempts.entry(record.key.clone()).or_insert(0);
        *attempt += 1;
        let attempt = *attempt;
        if let Some(error) = self
            .fail
            .as_ref()
            .and_then(|rule| rule(&record.key, attempt))
        {
            return Ok(WriteBackOutcome::Failed(error));
        }
        if inner.values.get(&record.key) == Some(&record.value) {
            return Ok(WriteBackOutcome::Unchanged);
        }
        inner
            .values
            .insert(record.key.clone(), record.value.clone());
        inner.writes += 1;
        Ok(WriteBackOutcome::Written)
    }
}
