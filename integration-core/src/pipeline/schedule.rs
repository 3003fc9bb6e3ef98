//! When runs happen: on an interval or a cron expression, with jitter, one
//! after another (a pipeline never overlaps a run of its own).

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use rand::Rng;

use super::{Pipeline, RunError};
use crate::error::{Error, ErrorKind};
use crate::report::RunReport;
use crate::sink::Sink;
use crate::source::Source;

/// When a pipeline runs: every interval (counted from each run's start) or
/// at the times of a cron expression in an explicit time zone, each time
/// delayed by a random jitter so that many pipelines do not start at once.
/// A run that outlasts its slot is not overlapped: the next starts after
/// it, at the next slot still ahead.
#[derive(Debug, Clone)]
pub struct Schedule {
    when: When,
    jitter: Duration,
}

#[derive(Debug, Clone)]
enum When {
    Every(Duration),
    Cron(Box<cron::Schedule>, FixedOffset),
}

impl Schedule {
    /// Every `interval`, the first run at once.
    pub fn every(interval: Duration) -> Self {
        Self {
            when: When::Every(interval.max(Duration::from_millis(1))),
            jitter: Duration::ZERO,
        }
    }

    /// At the times of a cron expression, read in time zone `zone` (e.g.
    /// [`crate::types::beijing`]): five fields (`min hour day month
    /// weekday`, e.g. `"30 2 * * *"` for 02:30 daily) or six and seven with
    /// seconds first and a year last.
    pub fn cron(expression: &str, zone: FixedOffset) -> Result<Self, Error> {
        let fields = expression.split_whitespace().count();
        let full = if fields == 5 {
            format!("0 {expression}")
        } else {
            expression.to_owned()
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| {
            Error::new(
                "schedule",
                "cron",
                ErrorKind::InvalidRequest,
                format!("not a cron expression {expression:?}: {e}"),
            )
        })?;
        Ok(Self {
            when: When::Cron(Box::new(schedule), zone),
            jitter: Duration::ZERO,
        })
    }

    /// Delays each run by a random time up to `jitter`.
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// The first slot strictly after `after` (for an interval: `after` is
    /// the last run's start), before jitter; `None` if a cron expression
    /// has no more times.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.when {
            When::Every(interval) => Some(after + *interval),
            When::Cron(schedule, zone) => schedule
                .after(&after.with_timezone(zone))
                .next()
                .map(|t| t.with_timezone(&Utc)),
        }
    }

    /// The slots every process agrees on, for workers sharing a store: an
    /// interval's slots are its multiples since the Unix epoch, a cron
    /// expression's its times. The first slot at or before `now` for an
    /// interval (so a worker runs at once), the next one after `now` for a
    /// cron expression, else `None`.
    pub fn shared_slot(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.when {
            When::Every(interval) => {
                let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
                let micros = now.timestamp_micros();
                DateTime::from_timestamp_micros(micros - micros.rem_euclid(step))
            }
            When::Cron(..) => self.next_after(now),
        }
    }

    /// The shared slot that follows `slot`, skipping those already past
    /// `now` (a run that outlasted them).
    pub fn next_shared_slot(
        &self,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let after = slot.max(now);
        match &self.when {
            When::Every(_) => self
                .shared_slot(after)
                .and_then(|current| self.next_after(current)),
            When::Cron(..) => self.next_after(after),
        }
    }

    /// Waits for this schedule's slots one after another: for a loop that
    /// runs something other than one pipeline (a scheme's several) on it.
    pub fn ticker(&self) -> Ticker {
        Ticker {
            schedule: self.clone(),
            last: None,
        }
    }

    /// The next cron time ahead, on the runtime's clock (cron times are
    /// wall-clock times, read afresh each time).
    fn next_cron_slot(&self) -> Option<tokio::time::Instant> {
        let now = Utc::now();
        let at = self.next_after(now)?;
        Some(tokio::time::Instant::now() + (at - now).to_std().unwrap_or_default())
    }

    /// The random delay added to a slot.
    pub(crate) fn jitter(&self) -> Duration {
        if self.jitter.is_zero() {
            return Duration::ZERO;
        }
        self.jitter.mul_f64(rand::rng().random::<f64>())
    }
}

/// The slots of a [`Schedule`], waited for one at a time.
#[derive(Debug)]
pub struct Ticker {
    schedule: Schedule,
    /// The last interval slot (intervals count from the first start).
    last: Option<tokio::time::Instant>,
}

impl Ticker {
    /// Waits for the next slot, plus jitter: at once the first time for an
    /// interval; slots missed while the caller was busy are skipped, not
    /// caught up. `false` when a cron expression has no more times.
    pub async fn tick(&mut self) -> bool {
        let slot = match self.schedule.when {
            When::Every(interval) => {
                let now = tokio::time::Instant::now();
                let slot = match self.last {
                    None => now,
                    Some(last) => {
                        let mut next = last + interval;
                        while next < now {
                            next += interval;
                        }
                        next
                    }
                };
                self.last = Some(slot);
                slot
            }
            When::Cron(..) => match self.schedule.next_cron_slot() {
                Some(slot) => slot,
                None => return false,
            },
        };
        tokio::time::sleep_until(slot + self.schedule.jitter()).await;
        true
    }
}

impl<S: Source, K: Sink> Pipeline<S, K> {
    /// Runs on `schedule` until `shutdown` completes, handing each run's
    /// result to `on_run`; an interval schedule runs once at the start. A
    /// run cut short by `shutdown` is safe (the next continues from the
    /// checkpoint).
    pub async fn run_on(
        &self,
        schedule: &Schedule,
        shutdown: impl Future<Output = ()>,
        mut on_run: impl FnMut(Result<RunReport, RunError>),
    ) {
        tokio::pin!(shutdown);
        let mut ticker = schedule.ticker();
        loop {
            tokio::select! {
                more = ticker.tick() => if !more { return },
                () = &mut shutdown => return,
            }
            tokio::select! {
                result = self.run() => on_run(result),
                () = &mut shutdown => return,
            }
        }
    }

    /// Runs now and then every `interval` until `shutdown` completes
    /// ([`Self::run_on`] with [`Schedule::every`]).
    pub async fn run_every(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
        on_run: impl FnMut(Result<RunReport, RunError>),
    ) {
        self.run_on(&Schedule::every(interval), shutdown, on_run)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cron_slots_are_read_in_the_given_zone_and_intervals_count_from_starts() {
        let beijing = crate::types::beijing();
        let daily = Schedule::cron("30 2 * * *", beijing).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        // 02:30 in Beijing is 18:30 UTC the day before.
        assert_eq!(
            daily.next_after(after),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 18, 30, 0).unwrap())
        );
        assert!(Schedule::cron("every day", beijing).is_err());
        let every = Schedule::every(Duration::from_secs(60));
        assert_eq!(
            every.next_after(after),
            Some(after + chrono::Duration::seconds(60))
        );
    }

    #[test]
    fn shared_slots_are_the_same_for_every_process() {
        let every = Schedule::every(Duration::from_secs(60));
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 30, 42).unwrap();
        let slot = every.shared_slot(now).unwrap();
        assert_eq!(slot, Utc.with_ymd_and_hms(2026, 3, 1, 8, 30, 0).unwrap());
        let later = every.shared_slot(now + chrono::Duration::seconds(10));
        assert_eq!(later, Some(slot), "another process, same slot");
        assert_eq!(
            every.next_shared_slot(slot, now),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 8, 31, 0).unwrap())
        );
        // A run that outlasted two slots goes on at the next one ahead.
        let late = now + chrono::Duration::seconds(150);
        assert_eq!(
            every.next_shared_slot(slot, late),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 8, 34, 0).unwrap())
        );
        let daily = Schedule::cron("30 2 * * *", crate::types::beijing()).unwrap();
        assert_eq!(
            daily.shared_slot(now),
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 18, 30, 0).unwrap())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_ticker_skips_the_slots_a_long_run_missed() {
        let start = tokio::time::Instant::now();
        let mut ticker = Schedule::every(Duration::from_secs(1)).ticker();
        assert!(ticker.tick().await);
        assert_eq!(start.elapsed(), Duration::ZERO, "the first slot is at once");
        tokio::time::sleep(Duration::from_millis(2500)).await; // a long run
        assert!(ticker.tick().await);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(3),
            "not 1 s or 2 s late"
        );
        assert!(ticker.tick().await);
        assert_eq!(start.elapsed(), Duration::from_secs(4));
        let mut jittered = Schedule::every(Duration::from_secs(1))
            .with_jitter(Duration::from_millis(500))
            .ticker();
        jittered.tick().await;
        let waited = start.elapsed() - Duration::from_secs(4);
        assert!(waited <= Duration::from_millis(500), "{waited:?}");
    }
}
