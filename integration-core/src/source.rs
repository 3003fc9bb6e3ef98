//! The reading side of a pipeline.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What happened to a record in the source system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Created or changed.
    #[default]
    Upsert,
    /// Deleted in the source; surfaced so a sink can act instead of the
    /// record silently disappearing.
    Delete,
}

/// One record read from a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord<T> {
    /// The source system's stable id for the record.
    pub key: String,
    /// Created/changed or deleted.
    #[serde(default)]
    pub op: Op,
    /// The record.
    pub data: T,
}

impl<T> SourceRecord<T> {
    /// A created or changed record.
    pub fn upsert(key: impl Into<String>, data: T) -> Self {
        Self {
            key: key.into(),
            op: Op::Upsert,
            data,
        }
    }

    /// A deleted record.
    pub fn delete(key: impl Into<String>, data: T) -> Self {
        Self {
            key: key.into(),
            op: Op::Delete,
            data,
        }
    }
}

/// How far a source has been read, persisted between runs so the next run
/// reads only what changed. Opaque to the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Checkpoint(pub serde_json::Value);

impl Checkpoint {
    /// A checkpoint that is the highest modification time seen.
    pub fn from_time(time: DateTime<Utc>) -> Self {
        Self(serde_json::Value::String(time.to_rfc3339()))
    }

    /// The time of a checkpoint made by [`Checkpoint::from_time`].
    pub fn as_time(&self) -> Option<DateTime<Utc>> {
        let text = self.0.as_str()?;
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Where an incremental read on modification time starts: the
    /// checkpoint's time minus `overlap` (to survive clock skew and records
    /// committed late), or `None` for a first, full read.
    pub fn since(checkpoint: Option<&Checkpoint>, overlap: Duration) -> Option<DateTime<Utc>> {
        let time = checkpoint?.as_time()?;
        let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::zero());
        Some(time - overlap)
    }
}

/// One page of records, and where the next one starts: a cursor of the
/// source's own type (a page number, a `StartRow`, a `scrollId`, a
/// window), opaque to the pipeline and never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C = ()> {
    /// The records, in source order.
    pub records: Vec<SourceRecord<T>>,
    /// Where the next page starts; `None` when this was the last page.
    pub next: Option<C>,
    /// The checkpoint that holds once this page and every page before it are
    /// processed (`None` if the source cannot tell yet, e.g. an unordered
    /// listing that knows its high-water mark only at the end).
    pub checkpoint: Option<Checkpoint>,
    /// How many records this read is expected to yield in all, when the
    /// source's answer says (a list's total count): progress shows an
    /// estimate from it. Only a hint; nothing relies on it.
    pub total: Option<u64>,
}

impl<T, C> Page<T, C> {
    /// The last page: these records and nothing after.
    pub fn last(records: Vec<SourceRecord<T>>, checkpoint: Option<Checkpoint>) -> Self {
        Self {
            records,
            next: None,
            checkpoint,
            total: None,
        }
    }

    /// The same page, saying the read yields about `total` records in all.
    pub fn with_total(mut self, total: Option<u64>) -> Self {
        self.total = total;
        self
    }
}

/// A system records are read from, page by page.
///
/// Reading is stateless: the pipeline passes the checkpoint of the last
/// completed run and the cursor of the page to read, so a run can be
/// resumed and a source shared.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// The record type.
    type Item: Serialize + Send + Sync + 'static;
    /// Where the next page starts, in the source's own terms. It lives only
    /// within one run (a run resumes from its [`Checkpoint`]), so it needs
    /// no serialisation.
    type Cursor: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// Reads the page at `cursor` (`None` for the first page) of the records
    /// changed since `checkpoint` (`None` for a full read). The source
    /// applies its own overlap.
    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<Self::Cursor>,
    ) -> Result<Page<Self::Item, Self::Cursor>, Error>;
}

/// Keeps the highest modification time seen while reading pages whose
/// order is not by modification time, for the page that ends the read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HighWater(Option<DateTime<Utc>>);

impl HighWater {
    /// Starts from a previous checkpoint.
    pub fn new(checkpoint: Option<&Checkpoint>) -> Self {
        Self(checkpoint.and_then(Checkpoint::as_time))
    }
    /// Records a modification time.
    pub fn observe(&mut self, time: DateTime<Utc>) {
        self.0 = Some(self.0.map_or(time, |t| t.max(time)));
    }
    /// The checkpoint for the highest time seen.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.0.map(Checkpoint::from_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_checkpoints_round_trip_and_apply_overlap() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T10:00:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let cp = Checkpoint::from_time(t);
        assert_eq!(cp.as_time(), Some(t));
        let since = Checkpoint::since(Some(&cp), Duration::from_secs(600)).unwrap();
        assert_eq!(since.to_rfc3339(), "2026-03-01T01:50:00+00:00");
        assert_eq!(Checkpoint::since(None, Duration::from_secs(600)), None);
        let mut hw = HighWater::new(Some(&cp));
        hw.observe(t - chrono::Duration::hours(1));
        assert_eq!(hw.checkpoint(), Some(cp.clone()));
        hw.observe(t + chrono::Duration::hours(1));
        assert_eq!(
            hw.checkpoint().unwrap().as_time(),
            Some(t + chrono::Duration::hours(1))
        );
    }
}
