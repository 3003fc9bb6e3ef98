//! Callbacks at the stages QEasy exposes.

use async_trait::async_trait;

use crate::sink::{SinkRecord, WriteOutcome};
use crate::source::SourceRecord;
use crate::state::DeadLetter;

/// Callbacks at the stages QEasy exposes. Every method defaults to doing
/// nothing; implement the ones you need.
#[async_trait]
pub trait Hooks<S: Send + Sync, T: Send + Sync>: Send + Sync {
    /// Before the run's `page`-th page (0 first) is read.
    async fn before_read(&self, _page: u64) {}
    /// A page said how many records the read yields in all
    /// ([`crate::Page::total`]): what a progress bar estimates from.
    async fn on_total(&self, _total: u64) {}
    /// After a page was read, with its records.
    async fn after_read(&self, _records: &[SourceRecord<S>]) {}
    /// After a record was mapped; may adjust the mapped record. Runs where
    /// mapping runs, off the async context (do not block on a runtime).
    fn after_map(&self, _record: &SourceRecord<S>, _mapped: &mut T) {}
    /// Before a batch is written.
    async fn before_write(&self, _batch: &[SinkRecord<T>]) {}
    /// After a batch was written, with one outcome per record.
    async fn after_write(&self, _batch: &[SinkRecord<T>], _outcomes: &[WriteOutcome]) {}
    /// A record was written (and its entry stored).
    async fn on_success(&self, _key: &str, _target_id: Option<&str>) {}
    /// A record went to the dead letters (and the letter is stored).
    async fn on_failure(&self, _letter: &DeadLetter) {}
}

/// Hooks that do nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl<S: Send + Sync, T: Send + Sync> Hooks<S, T> for NoHooks {}
