//! Stage 4, settle: in source order, what the writes did reaches the
//! report, the store (each unit's entries and dead letters in one atomic
//! [`Changes`], a page's checkpoint once all its units are stored) and
//! then the hooks.

use std::collections::HashMap;

use crate::report::RunReport;
use crate::sink::{Change, Sink};
use crate::source::{Checkpoint, Source};
use crate::state::{Changes, CollectionEntry, DeadLetter, Fence, Stage};

use super::StopSignal;

use super::{RunErrorCause, Stages};

/// Where a stretch of units ends and what then holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Boundary {
    /// A page read from the source; its checkpoint, if it gave one, holds
    /// once everything before is settled.
    Page(Option<Checkpoint>),
    /// A chunk of replayed dead letters (no checkpoint, not a page).
    Replay,
}

/// What happened to a group of records.
#[derive(Default)]
pub(super) struct Settlement {
    pub(super) read: u64,
    pub(super) mapped: u64,
    pub(super) skipped: u64,
    pub(super) written: u64,
    pub(super) created: u64,
    pub(super) updated: u64,
    pub(super) failed: u64,
    pub(super) retried: u64,
    pub(super) written_back: u64,
    pub(super) write_back_unchanged: u64,
    /// Keys whose dead letters go without a write (written back now).
    pub(super) cleared: Vec<String>,
    pub(super) entries: Vec<CollectionEntry>,
    pub(super) dead: Vec<DeadLetter>,
    pub(super) successes: Vec<(String, Option<String>)>,
    /// Records the sink skipped, with its reason.
    pub(super) skips: Vec<(String, String)>,
}

impl Settlement {
    pub(super) fn count_change(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unknown => {}
        }
    }
}

/// What a unit came to.
pub(super) enum Settled {
    /// Records settled.
    Records(Settlement),
    /// A stretch ended.
    End(Boundary),
}

/// Keeps a run's report and its pending changes, and applies them.
pub(super) struct Settler {
    pub(super) report: RunReport,
    stop: Option<StopSignal>,
    pending: Changes,
    /// For the hooks, in order: a record written (key, target id) or
    /// dead-lettered.
    events: Vec<Result<(String, Option<String>), DeadLetter>>,
    /// Whether the pipeline may have dead letters to clear.
    pub(super) has_dead_letters: bool,
    /// Attempts made before this run, by key (a replay's letters).
    earlier_attempts: HashMap<String, u32>,
    /// Keys whose letters go now without a write (written back).
    cleared: Vec<String>,
    /// Records read, and settled: the in-flight gauge.
    read: u64,
    settled: u64,
}

impl Settler {
    /// A settler for a run whose writes carry `fence` (under a lease) and
    /// that reads no more once `stop` is given.
    pub(super) fn new(report: RunReport, fence: Option<Fence>, stop: Option<StopSignal>) -> Self {
        Self {
            stop,
            pending: Changes {
                fence,
                ..Changes::new(report.pipeline.clone())
            },
            report,
            events: Vec::new(),
            has_dead_letters: true,
            earlier_attempts: HashMap::new(),
            cleared: Vec::new(),
            read: 0,
            settled: 0,
        }
    }

    /// Counts attempts made before for these keys (a replay).
    pub(super) fn count_earlier_attempts(&mut self, attempts: HashMap<String, u32>) {
        self.earlier_attempts = attempts;
    }

    /// `n` more records read.
    pub(super) fn add_read(&mut self, n: u64) {
        self.read += n;
        let in_flight = self.read.saturating_sub(self.settled);
        self.report.peak_in_flight = self.report.peak_in_flight.max(in_flight);
    }

    /// Takes in a unit's result, in source order, and stores it: a unit's
    /// entries and dead letters in one change, a page's checkpoint at its
    /// end.
    pub(super) async fn settle<S: Source, K: Sink>(
        &mut self,
        settled: Settled,
        stages: &Stages<S, K>,
    ) -> Result<(), RunErrorCause> {
        let mut s = match settled {
            Settled::End(boundary) => {
                if let Boundary::Page(checkpoint) = boundary {
                    self.report.pages += 1;
                    if let Some(checkpoint) = checkpoint {
                        self.report.checkpoint = Some(checkpoint.0.clone());
                        self.pending.checkpoint = Some(checkpoint);
                    }
                }
                return self.flush(stages).await;
            }
            Settled::Records(s) => s,
        };
        let write_back_dead = s
            .dead
            .iter()
            .filter(|l| l.stage == Stage::WriteBack)
            .count() as u64;
        let dead = s.dead.len() as u64 - write_back_dead;
        for letter in &mut s.dead {
            letter.attempts += self.earlier_attempts.get(&letter.key).copied().unwrap_or(0);
            self.report
                .sample_error(&letter.key, letter.stage, &letter.error);
        }
        for (key, reason) in &s.skips {
            self.report.sample_skip(key, reason);
            tracing::debug!(pipeline = %self.report.pipeline, %key, %reason, "skipped by the sink");
        }
        crate::telemetry::records_settled(
            &self.report.pipeline,
            s.read,
            s.mapped,
            s.written,
            s.skipped,
            s.failed,
            dead,
            s.retried,
        );
        crate::telemetry::written_back(
            &self.report.pipeline,
            s.written_back,
            s.write_back_unchanged,
            write_back_dead,
        );
        let r = &mut self.report;
        r.read += s.read;
        r.mapped += s.mapped;
        r.skipped += s.skipped;
        r.written += s.written;
        r.created += s.created;
        r.updated += s.updated;
        r.failed += s.failed;
        r.retried += s.retried;
        r.dead_lettered += dead;
        r.written_back += s.written_back;
        r.write_back_unchanged += s.write_back_unchanged;
        r.write_back_dead_lettered += write_back_dead;
        self.settled += s.written + s.skipped + dead;
        self.cleared.append(&mut s.cleared);
        self.pending.entries.append(&mut s.entries);
        self.events.extend(s.successes.into_iter().map(Ok));
        self.events.extend(s.dead.iter().cloned().map(Err));
        self.pending.dead_letters.append(&mut s.dead);
        // Stored now, not at the page's end: a page's records then leave
        // memory batch by batch; the checkpoint still comes after them all.
        self.flush(stages).await
    }

    /// Whether the run was asked to stop reading.
    pub(super) fn stop_requested(&self) -> bool {
        self.stop.as_ref().is_some_and(StopSignal::is_stopped)
    }

    /// Applies the pending changes in one transaction, then tells the hooks.
    async fn flush<S: Source, K: Sink>(
        &mut self,
        stages: &Stages<S, K>,
    ) -> Result<(), RunErrorCause> {
        // Records written now leave the dead letters (a rerun or replay
        // fixed them); skipped when the pipeline has none, the usual case.
        self.has_dead_letters |= !self.pending.dead_letters.is_empty();
        let cleared = std::mem::take(&mut self.cleared);
        if self.has_dead_letters {
            let written = self.events.iter().filter_map(|e| e.as_ref().ok());
            self.pending.resolved = written.map(|(key, _)| key.clone()).collect();
            self.pending.resolved.extend(cleared);
        }
        let changes = Changes {
            fence: self.pending.fence.clone(),
            ..Changes::new(self.report.pipeline.clone())
        };
        stages
            .state
            .apply(std::mem::replace(&mut self.pending, changes))
            .await?;
        for event in self.events.drain(..) {
            match event {
                Ok((key, target)) => stages.hooks.on_success(&key, target.as_deref()).await,
                Err(letter) => {
                    tracing::debug!(pipeline = %self.report.pipeline, key = %letter.key, stage = %letter.stage, error = %letter.error, "dead-lettered");
                    stages.hooks.on_failure(&letter).await;
                }
            }
        }
        Ok(())
    }
}
