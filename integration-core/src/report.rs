//! What a pipeline run did.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::state::Stage;

/// At most this many errors are kept in a report.
pub const MAX_ERROR_SAMPLES: usize = 10;

/// One failed record, as shown in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorSample {
    /// The source record's key.
    pub key: String,
    /// Where it failed.
    pub stage: Stage,
    /// The error.
    pub message: String,
}

/// Counts, timing and the first errors of one pipeline run.
///
/// Every record read ends up written, skipped or dead-lettered:
/// [`RunReport::unaccounted`] is zero after a completed run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The pipeline's name.
    pub pipeline: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Pages read.
    pub pages: u64,
    /// Records read from the source.
    pub read: u64,
    /// Records the mapping turned into target records.
    pub mapped: u64,
    /// Records the mapping or the sink skipped.
    pub skipped: u64,
    /// Records written to the sink.
    pub written: u64,
    /// Of those, records the sink said it created.
    #[serde(default)]
    pub created: u64,
    /// Of those, records the sink said it updated.
    #[serde(default)]
    pub updated: u64,
    /// Failed attempts to map or write a record (retried ones included).
    pub failed: u64,
    /// Records sent again after a retryable failure.
    pub retried: u64,
    /// Records sent to the dead letters (write-backs apart).
    pub dead_lettered: u64,
    /// Written records whose source now holds the target's id
    /// ([`crate::write_back`]).
    #[serde(default)]
    pub written_back: u64,
    /// Written records whose source held the target's id already (nothing
    /// sent).
    #[serde(default)]
    pub write_back_unchanged: u64,
    /// Written records whose write-back failed, kept as dead letters of
    /// stage write-back (not counted in `dead_lettered`).
    #[serde(default)]
    pub write_back_dead_lettered: u64,
    /// Most records read but not yet settled at any moment.
    pub peak_in_flight: u64,
    /// The checkpoint stored at the end of the run, if any.
    pub checkpoint: Option<serde_json::Value>,
    /// The first errors (at most [`MAX_ERROR_SAMPLES`]).
    pub first_errors: Vec<ErrorSample>,
    /// The first records the sink skipped, with its reason (at most
    /// [`MAX_ERROR_SAMPLES`]): e.g. a deletion the target does not support.
    pub first_skips: Vec<ErrorSample>,
}

impl RunReport {
    pub(crate) fn new(pipeline: &str, started_at: DateTime<Utc>) -> Self {
        Self {
            pipeline: pipeline.to_owned(),
            started_at,
            duration_ms: 0,
            pages: 0,
            read: 0,
            mapped: 0,
            skipped: 0,
            written: 0,
            created: 0,
            updated: 0,
            failed: 0,
            retried: 0,
            dead_lettered: 0,
            written_back: 0,
            write_back_unchanged: 0,
            write_back_dead_lettered: 0,
            peak_in_flight: 0,
            checkpoint: None,
            first_errors: Vec::new(),
            first_skips: Vec::new(),
        }
    }

    pub(crate) fn sample_skip(&mut self, key: &str, reason: &str) {
        if self.first_skips.len() < MAX_ERROR_SAMPLES {
            self.first_skips.push(ErrorSample {
                key: key.to_owned(),
                stage: Stage::Write,
                message: reason.to_owned(),
            });
        }
    }

    pub(crate) fn sample_error(&mut self, key: &str, stage: Stage, message: &str) {
        if self.first_errors.len() < MAX_ERROR_SAMPLES {
            self.first_errors.push(ErrorSample {
                key: key.to_owned(),
                stage,
                message: message.to_owned(),
            });
        }
    }

    /// Records per second over the whole run.
    pub fn throughput(&self) -> f64 {
        if self.duration_ms == 0 {
            return self.read as f64;
        }
        self.read as f64 * 1000.0 / self.duration_ms as f64
    }

    /// Records read but neither written, skipped nor dead-lettered: zero
    /// unless the run stopped early.
    pub fn unaccounted(&self) -> u64 {
        self.read
            .saturating_sub(self.written + self.skipped + self.dead_lettered)
    }
}

/// At most `max` characters of `text`, with `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pipeline {}  started {}",
            self.pipeline,
            self.started_at.to_rfc3339()
        )?;
        let mut rows: Vec<(&str, String)> = vec![
            (
                "duration",
                format!("{:.3} s", self.duration_ms as f64 / 1000.0),
            ),
            ("throughput", format!("{:.1} records/s", self.throughput())),
            ("pages", self.pages.to_string()),
            ("read", self.read.to_string()),
            ("mapped", self.mapped.to_string()),
            ("skipped", self.skipped.to_string()),
            ("written", self.written.to_string()),
            ("failed attempts", self.failed.to_string()),
            ("retried", self.retried.to_string()),
            ("dead-lettered", self.dead_lettered.to_string()),
            ("peak in flight", self.peak_in_flight.to_string()),
            (
                "checkpoint",
                self.checkpoint
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |c| shorten(&c.to_string(), 40)),
            ),
        ];
        if self.written_back + self.write_back_unchanged + self.write_back_dead_lettered > 0 {
            rows.insert(10, ("written back", self.written_back.to_string()));
            rows.insert(11, ("  unchanged", self.write_back_unchanged.to_string()));
            rows.insert(
                12,
                ("  dead-lettered", self.write_back_dead_lettered.to_string()),
            );
        }
        if self.created + self.updated > 0 {
            rows.insert(7, ("  created", self.created.to_string()));
            rows.insert(8, ("  updated", self.updated.to_string()));
        }
        for (name, value) in rows {
            writeln!(f, "  {name:<16} {value:>20}")?;
        }
        if !self.first_errors.is_empty() {
            writeln!(f, "  first errors:")?;
            for e in &self.first_errors {
                writeln!(f, "    [{}] {}: {}", e.stage, e.key, e.message)?;
            }
        }
        if !self.first_skips.is_empty() {
            writeln!(f, "  first skipped by the sink:")?;
            for e in &self.first_skips {
                writeln!(f, "    {}: {}", e.key, e.message)?;
            }
        }
        Ok(())
    }
}
