//! What every scheme binary shares: command-line options, progress on a
//! terminal, running once or on an interval, printing the report, and exit
//! codes (0 done, 1 a run failed or lost records, 2 bad settings).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clap::Parser;
use integration_core::pipeline::{Hooks, RunError};
use integration_core::state::RunOutcome;
use integration_core::types::beijing;
use integration_core::{DeadLetter, RunReport, Schedule, SqliteStore, StateStore};

use crate::settings::{Settings, SettingsError};

/// Options every scheme binary takes.
#[derive(Debug, Clone, Parser)]
pub struct Options {
    /// A TOML file of settings (`[kingdee] server_url = "..."`); environment
    /// variables `<SYSTEM>_<SETTING>` override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The SQLite state file (checkpoints, collections, dead letters).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Run again every this many seconds until interrupted.
    #[arg(long, value_name = "SECONDS", conflicts_with = "cron")]
    pub watch: Option<u64>,
    /// Run at the times of a cron expression in Beijing time (`"30 2 * * *"`
    /// is 02:30 daily) until interrupted.
    #[arg(long, value_name = "EXPRESSION")]
    pub cron: Option<String>,
    /// Print the last this many runs of each pipeline and exit.
    #[arg(long, value_name = "RUNS")]
    pub history: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Replay the dead letters instead of reading new records.
    #[arg(long)]
    pub replay: bool,
}

/// A scheme could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A setting is missing or malformed (exit code 2).
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A connector or the state store could not be built.
    #[error("{0}")]
    Other(String),
}

impl SetupError {
    /// Wraps any error as a setup failure.
    pub fn other(e: impl std::fmt::Display) -> Self {
        Self::Other(e.to_string())
    }
}

/// A runnable scheme: one or more pipelines run in order.
#[async_trait]
pub trait Job: Send + Sync {
    /// The scheme's name.
    fn name(&self) -> &str;
    /// Lines saying where each system is (real URL or built-in fake).
    fn notes(&self) -> &[String];
    /// Runs every pipeline of the scheme once; the last report is the scheme's.
    async fn run(&self) -> Result<Vec<RunReport>, RunError>;
    /// Replays the dead letters of every pipeline.
    async fn replay(&self) -> Result<Vec<RunReport>, RunError>;
    /// When both sides are fakes: checks that every source record arrived
    /// (by key) or was dead-lettered. `Ok` carries a one-line summary.
    async fn verify(&self) -> Result<String, String> {
        Ok("not verifiable against real systems".into())
    }
    /// When the target is a fake: how many records it holds (the demo
    /// checks that a second run adds none).
    fn target_records(&self) -> Option<usize> {
        None
    }
    /// The scheme's pipelines, in the order they run.
    fn pipelines(&self) -> Vec<&str>;
    /// Where the pipelines keep their state and history.
    fn state(&self) -> &dyn StateStore;
}

/// Opens the state store: `--state`, or `<scheme>.state.sqlite` here.
pub fn open_state(options: &Options, scheme: &str) -> Result<Arc<dyn StateStore>, SetupError> {
    let path = options
        .state
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{scheme}.state.sqlite")));
    SqliteStore::open(&path)
        .map(|s| Arc::new(s) as Arc<dyn StateStore>)
        .map_err(|e| {
            SetupError::Other(format!(
                "cannot open the state file {}: {e}",
                path.display()
            ))
        })
}

/// Progress on a terminal: a line on stderr updated as records settle.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

struct ProgressInner {
    label: String,
    enabled: bool,
    written: AtomicU64,
    failed: AtomicU64,
    last_print_ms: AtomicU64,
    started: Instant,
}

impl Progress {
    /// Progress for `label`, shown only when stderr is a terminal.
    pub fn new(label: &str) -> Self {
        Self::with_output(label, std::io::stderr().is_terminal())
    }

    /// Progress that prints nothing.
    pub fn hidden(label: &str) -> Self {
        Self::with_output(label, false)
    }

    fn with_output(label: &str, enabled: bool) -> Self {
        Self {
            inner: Arc::new(ProgressInner {
                label: label.to_owned(),
                enabled,
                written: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                last_print_ms: AtomicU64::new(0),
                started: Instant::now(),
            }),
        }
    }

    fn tick(&self, force: bool) {
        let p = &self.inner;
        if !p.enabled {
            return;
        }
        let now = p.started.elapsed().as_millis() as u64;
        let last = p.last_print_ms.load(Ordering::Relaxed);
        if !force && now.saturating_sub(last) < 200 {
            return;
        }
        p.last_print_ms.store(now, Ordering::Relaxed);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r{}: {} written, {} dead-lettered, {:.1} s ",
            p.label,
            p.written.load(Ordering::Relaxed),
            p.failed.load(Ordering::Relaxed),
            now as f64 / 1000.0
        );
        let _ = err.flush();
    }

    /// Ends the progress line.
    pub fn finish(&self) {
        if self.inner.enabled {
            self.tick(true);
            eprintln!();
        }
    }
}

#[async_trait]
impl<S: Send + Sync, T: Send + Sync> Hooks<S, T> for Progress {
    async fn on_success(&self, _key: &str, _target: Option<&str>) {
        self.inner.written.fetch_add(1, Ordering::Relaxed);
        self.tick(false);
    }
    async fn on_failure(&self, _letter: &DeadLetter) {
        self.inner.failed.fetch_add(1, Ordering::Relaxed);
        self.tick(false);
    }
}

/// The `main` of a scheme binary: [`main_for`] with the scheme's `NAME`, its
/// state file ([`open_state`]) and a progress bar, then the scheme's `setup`.
/// A binary is its doc comment and one line, e.g.
/// `examples::scheme_main!(examples::schemes::okki_to_yonbip);`.
#[macro_export]
macro_rules! scheme_main {
    ($($scheme:ident)::+) => {
        #[tokio::main]
        async fn main() -> std::process::ExitCode {
            use $crate::runner::{Progress, main_for, open_state};
            use $($scheme)::+::{NAME, setup};
            main_for(NAME, |settings, options| async move {
                let state = open_state(&options, NAME)?;
                setup(&settings, state, Progress::new(NAME)).await
            })
            .await
        }
    };
}

/// Parses the options, loads the settings, sets the scheme up with `setup`,
/// runs it (once or `--watch`), prints the reports and returns the exit code.
pub async fn main_for<J, F, Fut>(scheme: &str, setup: F) -> ExitCode
where
    J: Job,
    F: FnOnce(Settings, Options) -> Fut,
    Fut: std::future::Future<Output = Result<J, SetupError>>,
{
    init_tracing();
    let options = Options::parse();
    let settings = match Settings::load(options.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return bad_settings(scheme, &e.into()),
    };
    let job = match setup(settings, options.clone()).await {
        Ok(job) => job,
        Err(e) => return bad_settings(scheme, &e),
    };
    if let Some(runs) = options.history {
        return print_history(&job, runs).await;
    }
    for note in job.notes() {
        eprintln!("{scheme}: {note}");
    }
    let schedule = match (&options.watch, &options.cron) {
        (Some(seconds), _) => Schedule::every(Duration::from_secs(*seconds)),
        (None, Some(expression)) => match Schedule::cron(expression, beijing()) {
            Ok(schedule) => schedule,
            Err(e) => return bad_settings(scheme, &SetupError::other(e)),
        },
        (None, None) => return run_once(&job, &options).await,
    };
    // The runs of a scheme never overlap: the ticker waits for the next
    // slot only after a run ends.
    let mut ticker = schedule.ticker();
    let mut shutdown = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            more = ticker.tick() => if !more { return ExitCode::SUCCESS },
            _ = &mut shutdown => {
                eprintln!("{scheme}: interrupted; the next run continues from the last checkpoint");
                return ExitCode::SUCCESS;
            }
        }
        if run_once(&job, &options).await != ExitCode::SUCCESS {
            eprintln!("{scheme}: this run failed; trying again at the next slot");
        }
    }
}

/// Prints the last `runs` runs of each of the job's pipelines, newest first.
async fn print_history(job: &dyn Job, runs: usize) -> ExitCode {
    let mut out = std::io::stdout().lock();
    for pipeline in job.pipelines() {
        let records = match job.state().runs(pipeline, 0, runs).await {
            Ok(records) => records,
            Err(e) => {
                eprintln!("{}: {e}", job.name());
                return ExitCode::from(1);
            }
        };
        let _ = writeln!(
            out,
            "pipeline {pipeline}: {} runs, newest first",
            records.len()
        );
        for run in records {
            let r = &run.report;
            let outcome = match &run.outcome {
                RunOutcome::Stopped { cause } => format!("stopped: {cause}"),
                other => format!("{other:?}").to_lowercase(),
            };
            let _ = writeln!(
                out,
                "  {}  {:<6} {:>8.1} s  read {:>6}  written {:>6}  dead {:>4}  {outcome}",
                r.started_at
                    .with_timezone(&beijing())
                    .format("%Y-%m-%d %H:%M:%S"),
                format!("{:?}", run.kind).to_lowercase(),
                r.duration_ms as f64 / 1000.0,
                r.read,
                r.written,
                r.dead_lettered,
            );
        }
    }
    ExitCode::SUCCESS
}

fn bad_settings(scheme: &str, e: &SetupError) -> ExitCode {
    eprintln!("{scheme}: {e}");
    match e {
        SetupError::Settings(_) => ExitCode::from(2),
        SetupError::Other(_) => ExitCode::from(1),
    }
}

async fn run_once(job: &dyn Job, options: &Options) -> ExitCode {
    let result = if options.replay {
        job.replay().await
    } else {
        job.run().await
    };
    match result {
        Ok(reports) => {
            print_reports(&reports, options.json);
            if reports.iter().any(|r| r.unaccounted() > 0) {
                eprintln!("{}: records were read but not settled", job.name());
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            print_reports(std::slice::from_ref(&e.report), options.json);
            eprintln!("{}: {e}", job.name());
            ExitCode::from(1)
        }
    }
}

/// Prints reports as tables, or as one JSON array. A closed stdout (a pipe
/// into `head`) is not an error worth a panic.
pub fn print_reports(reports: &[RunReport], json: bool) {
    let mut out = std::io::stdout().lock();
    if json {
        match serde_json::to_string_pretty(reports) {
            Ok(text) => {
                let _ = writeln!(out, "{text}");
            }
            Err(e) => eprintln!("cannot render the report as JSON: {e}"),
        }
    } else {
        for report in reports {
            let _ = writeln!(out, "{report}");
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
