//! Progress of a scheme's runs on a terminal: an [`indicatif`] bar on
//! stderr, and the writer that keeps log lines above it.
//!
//! Every bar lives in one [`MultiProgress`] on stderr, and
//! [`stderr_writer`] (what [`crate::runner::init_tracing`] logs through)
//! hides the bars while it writes a line, so that a log line always lands
//! above them and never inside one. When stderr is not a terminal (CI, a
//! file) that `MultiProgress` is hidden: no bar, no escape codes, and log
//! lines go to stderr as they are.
//!
//! A bar shows, for the scheme: the records settled (written, skipped by
//! the sink, dead-lettered; the dead-lettered also on their own), the rate
//! and the time elapsed; with a spinner, or, once a page said how many
//! records the read yields ([`Hooks::on_total`]), a bar with the position,
//! the total and an estimate of the time left. It is drawn at most
//! [`REFRESH_HZ`] times a second, however many records settle: a record
//! costs an atomic add and a clock read (see [`ProgressBar::inc`]).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_trait::async_trait;
use indicatif::{
    HumanCount, HumanDuration, HumanFloatCount, MultiProgress, ProgressBar, ProgressDrawTarget,
    ProgressFinish, ProgressState, ProgressStyle,
};
use integration_core::pipeline::Hooks;
use integration_core::state::Stage;
use integration_core::{DeadLetter, SinkRecord, WriteOutcome};
use tracing_indicatif::writer::{IndicatifWriter, Stderr};

/// How many times a second the bars are redrawn at most.
pub const REFRESH_HZ: u8 = 15;

/// While no page has said how many records the read yields.
const NO_TOTAL: u64 = u64::MAX;

/// Without a total: what has settled so far.
const SPINNER_TEMPLATE: &str =
    "{spinner} {prefix}: {human_pos} settled ({dead} dead-lettered) · {per_sec:0} · {elapsed}";

/// With a total: how far along, and how long it should still take.
const BAR_TEMPLATE: &str = "{prefix} [{bar:24}] {human_pos}/{human_len} settled ({dead} dead-lettered) · {per_sec:0} · {elapsed} · ETA {eta}";

/// The `MultiProgress` on stderr every [`Progress::new`] draws in: drawing
/// when stderr is a terminal, hidden otherwise.
fn stderr_bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| {
        bars_for(std::io::stderr().is_terminal(), || {
            ProgressDrawTarget::stderr_with_hz(REFRESH_HZ)
        })
    })
}

/// The bars of a stderr that is or is not a terminal: drawing to
/// `terminal()` if it is, hidden (drawing nothing at all) if not.
fn bars_for(
    stderr_is_terminal: bool,
    terminal: impl FnOnce() -> ProgressDrawTarget,
) -> MultiProgress {
    let target = if stderr_is_terminal {
        terminal()
    } else {
        ProgressDrawTarget::hidden()
    };
    MultiProgress::with_draw_target(target)
}

/// A writer for stderr that does not clobber the progress bars: the bars
/// are cleared while it writes, and drawn again below what it wrote. Log
/// through it (`tracing_subscriber::fmt().with_writer(stderr_writer())`).
pub fn stderr_writer() -> IndicatifWriter<Stderr> {
    IndicatifWriter::new(stderr_bars().clone())
}

/// Every [`Progress::new`] still alive, for [`finish_all`].
static LIVE: Mutex<Vec<Weak<Inner>>> = Mutex::new(Vec::new());

/// Finishes every [`Progress::new`] that has a run going on
/// ([`Progress::finish`]): call it before printing anything but a log line
/// (a run's report on stdout) while bars may be drawn, when the progress
/// itself is out of reach (moved into a scheme's pipelines).
pub fn finish_all() {
    let live: Vec<Arc<Inner>> = match LIVE.lock() {
        Ok(mut live) => {
            live.retain(|p| p.strong_count() > 0);
            live.iter().filter_map(Weak::upgrade).collect()
        }
        Err(_) => return,
    };
    for inner in live {
        Progress { inner }.finish();
    }
}

/// Progress of a scheme on a terminal: a bar on stderr updated as records
/// settle (as the [`Hooks`] of its pipelines), shown only when stderr is a
/// terminal.
///
/// Clones share the bar: the pipelines of a scheme, run one after another,
/// add to one count; the total, when pages give one, is that of the
/// pipeline running, after what the ones before it settled. The bar
/// appears when a run starts reading; [`Progress::finish`] replaces it with
/// a one-line summary, and the next run starts a new bar.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    label: String,
    /// The bar; drawing nowhere while idle.
    bar: ProgressBar,
    /// Where the bar is drawn while a run goes on; `None`: never drawn.
    bars: Option<MultiProgress>,
    /// Prints a line where the bars are drawn (a finished run's summary).
    print: PrintLine,
    /// Shared with the styles' `{dead}` key.
    counts: Arc<Counts>,
    /// No run going on: before the first, or after [`Progress::finish`].
    idle: AtomicBool,
    /// Records settled when the running pipeline started reading.
    base: AtomicU64,
    /// The bar's length, or [`NO_TOTAL`].
    length: AtomicU64,
    spinner_style: ProgressStyle,
    bar_style: ProgressStyle,
}

/// Prints one line (and its newline).
type PrintLine = Box<dyn Fn(&str) + Send + Sync>;

/// Prints a line on stderr.
fn eprint_line(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[derive(Default)]
struct Counts {
    written: AtomicU64,
    skipped: AtomicU64,
    dead: AtomicU64,
    /// Write-backs that failed: their records were written (and counted).
    write_backs_dead: AtomicU64,
}

impl Counts {
    fn reset(&self) {
        for count in [
            &self.written,
            &self.skipped,
            &self.dead,
            &self.write_backs_dead,
        ] {
            count.store(0, Ordering::Relaxed);
        }
    }
}

impl Progress {
    /// Progress for `label` (the scheme), shown only when stderr is a
    /// terminal.
    pub fn new(label: &str) -> Self {
        let bars = stderr_bars();
        let progress = Self::build(
            label,
            (!bars.is_hidden()).then(|| bars.clone()),
            Box::new(eprint_line),
        );
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|p| p.strong_count() > 0);
            live.push(Arc::downgrade(&progress.inner));
        }
        progress
    }

    /// Progress that counts but never draws anything.
    pub fn hidden(label: &str) -> Self {
        Self::build(label, None, Box::new(eprint_line))
    }

    /// Progress drawn in `bars`, or nowhere; `print` prints a line where
    /// `bars` draw.
    fn build(label: &str, bars: Option<MultiProgress>, print: PrintLine) -> Self {
        let counts = Arc::new(Counts::default());
        let spinner_style = style(SPINNER_TEMPLATE, &counts);
        let bar_style = style(BAR_TEMPLATE, &counts).progress_chars("=> ");
        // Attached to `bars` only when a run starts: until then (the demo
        // sets up all its schemes first) it takes no line.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
            .with_style(spinner_style.clone())
            .with_prefix(label.to_owned())
            // Dropped during a run (a binary ending without `finish`): the
            // bar goes, rather than being drawn once more below the output.
            .with_finish(ProgressFinish::AndClear);
        Self {
            inner: Arc::new(Inner {
                label: label.to_owned(),
                bar,
                bars,
                print,
                counts,
                idle: AtomicBool::new(true),
                base: AtomicU64::new(0),
                length: AtomicU64::new(NO_TOTAL),
                spinner_style,
                bar_style,
            }),
        }
    }

    /// Shows the bar if no run is going on: a run started.
    fn wake(&self) {
        let p = &self.inner;
        if !p.idle.load(Ordering::Relaxed) {
            return;
        }
        if p.idle
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            p.bar.reset_elapsed();
            if let Some(bars) = &p.bars {
                bars.add(p.bar.clone());
            }
            p.bar.tick();
        }
    }

    /// A pipeline starts reading: its total, if its pages give one, comes
    /// after what has settled so far.
    fn pipeline_started(&self) {
        self.wake();
        let p = &self.inner;
        p.base.store(p.bar.position(), Ordering::Relaxed);
        if p.length.swap(NO_TOTAL, Ordering::Relaxed) != NO_TOTAL {
            // The style first: unsetting the length draws.
            p.bar.set_style(p.spinner_style.clone());
            p.bar.unset_length();
        }
        p.bar.tick();
    }

    /// A page said the running pipeline's read yields `total` records.
    fn total(&self, total: u64) {
        self.wake();
        let p = &self.inner;
        let length = p.base.load(Ordering::Relaxed).saturating_add(total);
        let before = p.length.swap(length, Ordering::Relaxed);
        if before == length {
            return;
        }
        if before == NO_TOTAL {
            p.bar.set_style(p.bar_style.clone());
        }
        p.bar.set_length(length);
    }

    /// `n` more records settled.
    fn settled(&self, n: u64) {
        self.wake();
        self.inner.bar.inc(n);
    }

    /// The one line a finished run leaves.
    fn summary(&self) -> String {
        let p = &self.inner;
        let c = &p.counts;
        let settled = p.bar.position();
        let elapsed = p.bar.elapsed();
        let rate = settled as f64 / elapsed.as_secs_f64().max(0.001);
        let write_backs = match c.write_backs_dead.load(Ordering::Relaxed) {
            0 => String::new(),
            n => format!(", write-backs dead-lettered: {}", HumanCount(n)),
        };
        let elapsed = if elapsed.as_secs() < 60 {
            format!("{:.1}s", elapsed.as_secs_f64())
        } else {
            format!("{:#}", HumanDuration(elapsed))
        };
        let records = if settled == 1 { "record" } else { "records" };
        format!(
            "{}: {} {records} settled ({} written, {} skipped, {} dead-lettered{write_backs}) in {elapsed}, {:.0}/s",
            p.label,
            HumanCount(settled),
            HumanCount(c.written.load(Ordering::Relaxed)),
            HumanCount(c.skipped.load(Ordering::Relaxed)),
            HumanCount(c.dead.load(Ordering::Relaxed)),
            HumanFloatCount(rate),
        )
    }

    /// Ends the run's bar: on a terminal it gives way to a one-line summary
    /// (records settled, written, skipped, dead-lettered, time and rate),
    /// so that what is printed next (a report on stdout) starts on a line
    /// of its own and is never drawn over. The counts start again at zero
    /// for the next run. Does nothing when no run went on since the last
    /// `finish`.
    pub fn finish(&self) {
        let p = &self.inner;
        if p.idle
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let summary = self.summary();
        // Cleared, then out of the bars: the summary is printed where the
        // bar was, as a log line is (ending in a newline of its own), and
        // nothing draws over it again.
        p.bar.finish_and_clear();
        if let Some(bars) = &p.bars {
            bars.remove(&p.bar);
            bars.suspend(|| (p.print)(&summary));
        }
        p.counts.reset();
        p.base.store(0, Ordering::Relaxed);
        p.length.store(NO_TOTAL, Ordering::Relaxed);
        p.bar.set_style(p.spinner_style.clone());
        p.bar.unset_length();
        p.bar.reset();
    }
}

/// A style from one of the templates above, with the `{dead}` key; the
/// default spinner if the template were wrong.
fn style(template: &str, counts: &Arc<Counts>) -> ProgressStyle {
    let counts = Arc::clone(counts);
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key(
            "dead",
            move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}", HumanCount(counts.dead.load(Ordering::Relaxed)));
            },
        )
}

#[async_trait]
impl<S: Send + Sync, T: Send + Sync> Hooks<S, T> for Progress {
    async fn before_read(&self, page: u64) {
        if page == 0 {
            self.pipeline_started();
        }
    }

    async fn on_total(&self, total: u64) {
        self.total(total);
    }

    async fn after_write(&self, _batch: &[SinkRecord<T>], outcomes: &[WriteOutcome]) {
        let skipped = outcomes
            .iter()
            .filter(|o| matches!(o, WriteOutcome::Skipped { .. }))
            .count() as u64;
        if skipped > 0 {
            self.inner
                .counts
                .skipped
                .fetch_add(skipped, Ordering::Relaxed);
            self.settled(skipped);
        }
    }

    async fn on_success(&self, _key: &str, _target: Option<&str>) {
        self.inner.counts.written.fetch_add(1, Ordering::Relaxed);
        self.settled(1);
    }

    async fn on_failure(&self, letter: &DeadLetter) {
        let counts = &self.inner.counts;
        if letter.stage == Stage::WriteBack {
            // Its record was written, and counted then.
            counts.write_backs_dead.fetch_add(1, Ordering::Relaxed);
            return;
        }
        counts.dead.fetch_add(1, Ordering::Relaxed);
        self.settled(1);
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use indicatif::TermLike;
    use integration_core::Op;

    use super::*;

    const WIDTH: u16 = 150;

    /// What a terminal shows, roughly: rows of text and the cursor's row;
    /// a row drawn to the full width wraps before anything else is printed
    /// (as a terminal's pending wrap does).
    #[derive(Debug, Default)]
    struct Screen {
        rows: Vec<String>,
        row: usize,
        /// Every call the bars made.
        calls: usize,
    }

    impl Screen {
        fn row(&mut self) -> &mut String {
            while self.rows.len() <= self.row {
                self.rows.push(String::new());
            }
            &mut self.rows[self.row]
        }

        /// A line printed by someone else (stdout, a log line).
        fn print(&mut self, line: &str) {
            if !self.row().is_empty() {
                self.row += 1;
            }
            *self.row() = line.to_owned();
            self.row += 1;
        }

        /// The rows, without trailing blanks or blank rows at the end.
        fn visible(&self) -> Vec<String> {
            let mut rows: Vec<String> = self.rows.iter().map(|r| r.trim_end().into()).collect();
            while rows.last().is_some_and(String::is_empty) {
                rows.pop();
            }
            rows
        }
    }

    #[derive(Debug, Clone, Default)]
    struct FakeTerm(Arc<Mutex<Screen>>);

    impl FakeTerm {
        fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
            self.0.lock().unwrap()
        }

        fn target(&self) -> ProgressDrawTarget {
            // No rate limit: every draw shows, so that tests are exact.
            ProgressDrawTarget::term_like(Box::new(self.clone()))
        }
    }

    impl TermLike for FakeTerm {
        fn width(&self) -> u16 {
            WIDTH
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            let mut s = self.screen();
            s.calls += 1;
            s.row = s.row.saturating_sub(n);
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            let mut s = self.screen();
            s.calls += 1;
            s.row += n;
            Ok(())
        }
        fn move_cursor_right(&self, _n: usize) -> io::Result<()> {
            self.screen().calls += 1;
            Ok(())
        }
        fn move_cursor_left(&self, _n: usize) -> io::Result<()> {
            self.screen().calls += 1;
            Ok(())
        }
        fn write_line(&self, line: &str) -> io::Result<()> {
            self.write_str(line)?;
            let mut s = self.screen();
            s.row += 1;
            Ok(())
        }
        fn write_str(&self, text: &str) -> io::Result<()> {
            let mut s = self.screen();
            s.calls += 1;
            if s.row().chars().count() >= usize::from(WIDTH) && !text.is_empty() {
                s.row += 1;
            }
            s.row().push_str(text);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            let mut s = self.screen();
            s.calls += 1;
            s.row().clear();
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            self.screen().calls += 1;
            Ok(())
        }
    }

    /// Progress as [`Progress::new`] makes it, in `bars` drawing on `term`.
    fn in_bars(label: &str, bars: &MultiProgress, term: &FakeTerm) -> Progress {
        let term = term.clone();
        Progress::build(
            label,
            (!bars.is_hidden()).then(|| bars.clone()),
            Box::new(move |line| term.screen().print(line)),
        )
    }

    fn letter(stage: Stage) -> DeadLetter {
        DeadLetter {
            pipeline: "p".into(),
            key: "k".into(),
            op: Op::default(),
            source: serde_json::Value::Null,
            payload: None,
            stage,
            target_id: None,
            code: None,
            error: "refused".into(),
            attempts: 1,
            failed_at: chrono::Utc::now(),
        }
    }

    type H = dyn Hooks<(), ()>;

    async fn written(p: &Progress, n: usize) {
        for i in 0..n {
            (p as &H).on_success(&i.to_string(), None).await;
        }
    }

    async fn dead(p: &Progress, n: usize) {
        for _ in 0..n {
            (p as &H).on_failure(&letter(Stage::Write)).await;
        }
    }

    /// What the bar shows now.
    fn bar_line(p: &Progress, term: &FakeTerm) -> String {
        p.inner.bar.force_draw();
        term.screen().visible().last().cloned().unwrap_or_default()
    }

    fn counts(p: &Progress) -> [u64; 4] {
        let c = &p.inner.counts;
        [&c.written, &c.skipped, &c.dead, &c.write_backs_dead].map(|n| n.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn counts_a_total_and_an_eta_across_the_pipelines_of_a_scheme() {
        let term = FakeTerm::default();
        let p = in_bars("scheme", &bars_for(true, || term.target()), &term);
        let shared = p.clone();
        let hooks = &p as &H;

        hooks.before_read(0).await;
        assert!(bar_line(&p, &term).contains("scheme: 0 settled (0 dead-lettered)"));
        hooks.on_total(10).await;
        hooks.before_read(1).await;
        hooks.on_total(10).await;
        written(&shared, 6).await;
        dead(&p, 2).await;
        let outcomes = [
            WriteOutcome::Skipped {
                reason: "deletes are not supported".into(),
            },
            WriteOutcome::written("t1"),
        ];
        hooks.after_write(&[], &outcomes).await;
        // Its record was written, and counted: not settled twice.
        hooks.on_failure(&letter(Stage::WriteBack)).await;

        assert_eq!(counts(&p), [6, 1, 2, 1]);
        assert_eq!(p.inner.bar.position(), 9);
        assert_eq!(p.inner.bar.length(), Some(10));
        let line = bar_line(&p, &term);
        assert!(line.starts_with("scheme ["), "{line}");
        assert!(
            line.contains("] 9/10 settled (2 dead-lettered) · "),
            "{line}"
        );
        assert!(line.contains("/s · "), "{line}");
        assert!(line.contains(" · ETA "), "{line}");

        // The next pipeline of the scheme: a spinner until its total comes,
        // which counts after the first one's records.
        hooks.before_read(0).await;
        assert_eq!(p.inner.bar.length(), None);
        let line = bar_line(&p, &term);
        assert!(line.contains("scheme: 9 settled"), "{line}");
        assert!(!line.contains("ETA"), "{line}");
        hooks.on_total(5).await;
        written(&p, 1).await;
        assert_eq!(p.inner.bar.length(), Some(14));
        assert!(bar_line(&p, &term).contains("10/14 settled"));

        shared.finish();
        let screen = term.screen().visible();
        assert_eq!(screen.len(), 1, "{screen:#?}");
        assert!(
            screen[0].starts_with(
                "scheme: 10 records settled (7 written, 1 skipped, 2 dead-lettered, \
                 write-backs dead-lettered: 1) in "
            ),
            "{screen:#?}"
        );
        assert!(screen[0].ends_with("/s"), "{screen:#?}");
        // The next run starts from zero.
        assert_eq!(counts(&p), [0; 4]);
        assert_eq!(p.inner.bar.position(), 0);
        assert_eq!(p.inner.bar.length(), None);
    }

    #[tokio::test]
    async fn a_finished_run_leaves_one_line_that_nothing_draws_over() {
        let term = FakeTerm::default();
        let bars = bars_for(true, || term.target());
        let p = in_bars("demo", &bars, &term);
        let other = in_bars("other scheme", &bars, &term);

        (&p as &H).before_read(0).await;
        written(&p, 3).await;
        assert!(bar_line(&p, &term).contains("demo: 3 settled"));
        p.finish();
        // The demo prints its report on stdout.
        term.screen().print("report of the first run");
        // A scheme set up but not run yet takes no line.
        assert_eq!(other.inner.bar.position(), 0);

        (&p as &H).before_read(0).await;
        written(&p, 2).await;
        dead(&p, 1).await;
        assert!(bar_line(&p, &term).contains("demo: 3 settled (1 dead-lettered)"));
        // A log line, as `stderr_writer` writes it: above the bar.
        bars.suspend(|| term.screen().print("WARN a log line"));
        let screen = term.screen().visible();
        assert_eq!(screen.len(), 4, "{screen:#?}");
        assert_eq!(screen[2], "WARN a log line");
        assert!(screen[3].contains("demo: 3 settled"), "{screen:#?}");
        p.finish();
        p.finish();
        term.screen().print("report of the second run");

        let screen = term.screen().visible();
        assert_eq!(screen.len(), 5, "{screen:#?}");
        assert!(screen[0].starts_with("demo: 3 records settled (3 written, 0 skipped, 0 dead"));
        assert_eq!(screen[1], "report of the first run");
        assert_eq!(screen[2], "WARN a log line");
        assert!(screen[3].starts_with("demo: 3 records settled (2 written, 0 skipped, 1 dead"));
        assert_eq!(screen[4], "report of the second run");
    }

    #[tokio::test]
    async fn off_a_terminal_nothing_is_written_but_everything_is_counted() {
        for stderr_is_terminal in [false, true] {
            let term = FakeTerm::default();
            let bars = bars_for(stderr_is_terminal, || term.target());
            let p = in_bars("ci", &bars, &term);
            let hooks = &p as &H;
            hooks.before_read(0).await;
            hooks.on_total(4).await;
            written(&p, 3).await;
            dead(&p, 1).await;
            assert_eq!(counts(&p), [3, 0, 1, 0]);
            assert_eq!(p.inner.bar.position(), 4);
            assert_eq!(p.inner.bar.length(), Some(4));
            p.inner.bar.force_draw();
            bars.suspend(|| ());
            p.finish();
            let calls = term.screen().calls;
            if stderr_is_terminal {
                // The same calls reach a terminal: the test can tell.
                assert!(calls > 0);
                assert!(term.screen().visible()[0].starts_with("ci: 4 records settled"));
            } else {
                assert_eq!(calls, 0, "{:#?}", term.screen());
                assert!(term.screen().visible().is_empty(), "not even a summary");
            }
        }
        // `finish_all` reaches a progress moved out of sight.
        let moved = Progress::new("moved");
        (&moved.clone() as &H).before_read(0).await;
        written(&moved, 2).await;
        assert!(!moved.inner.idle.load(Ordering::Relaxed));
        finish_all();
        assert!(moved.inner.idle.load(Ordering::Relaxed));
        assert_eq!(moved.inner.bar.position(), 0);
        // `hidden` never draws, whatever stderr is.
        let p = Progress::hidden("quiet");
        assert!(p.inner.bars.is_none());
        written(&p, 2).await;
        assert_eq!(p.inner.bar.position(), 2);
        p.finish();
    }
}
