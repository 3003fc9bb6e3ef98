//! What every scheme binary shares: command-line options, progress on a
//! terminal, running once or on an interval, printing the report, and exit
//! codes (0 done, 1 a run failed or lost records, 2 bad settings).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clap::Parser;
use integration_core::check::{CheckError, CheckResult};
use integration_core::console::{Console, RunningConsole};
use integration_core::pipeline::RunError;
use integration_core::state::{PostgresStore, RunOutcome};
use integration_core::types::beijing;
use integration_core::worker::{Runnable, SlotOutcome, Worker};
use integration_core::{
    Control, Pipeline, RunOptions, RunReport, Schedule, Source, SqliteStore, StateStore,
};
use serde::de::DeserializeOwned;

pub use crate::progress::Progress;
use crate::settings::{Settings, SettingsError};

/// Options every scheme binary takes.
#[derive(Debug, Clone, Parser)]
pub struct Options {
    /// A TOML file of settings (`[kingdee] server_url = "..."`); environment
    /// variables `<SYSTEM>_<SETTING>` override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Where checkpoints, collections, dead letters and run history live:
    /// a SQLite file, or a PostgreSQL URL (`postgres://user:password@host/db`,
    /// never printed) that several workers share.
    #[arg(long, value_name = "FILE_OR_URL")]
    pub state: Option<String>,
    /// The PostgreSQL schema of the state (several deployments can share a
    /// server); default `public`.
    #[arg(long, value_name = "NAME")]
    pub state_schema: Option<String>,
    /// Run as one of several identical workers sharing `--state`: each run
    /// of the scheme (at the slots of `--watch` or `--cron`) happens on one
    /// of them, under a lease; SIGTERM or Ctrl-C stops gracefully.
    #[arg(long)]
    pub worker: bool,
    /// With `--worker`: how long a worker's lease lasts unless renewed,
    /// i.e. how soon a dead worker's scheme is taken over.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub lease_ttl: u64,
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
    /// Check every configured system (reachability and credentials, with
    /// the cheapest real call; nothing is changed), print a table and exit:
    /// 0 only if all pass.
    #[arg(long, conflicts_with_all = ["no_check", "replay", "history"])]
    pub check: bool,
    /// Do not check the systems before reading (by default a run starts
    /// only when every system answers and accepts its credentials).
    #[arg(long)]
    pub no_check: bool,
    /// Start a new state when the SQLite state file is not one (empty,
    /// damaged, another program's): the old file is moved aside, never
    /// deleted, and everything is synced again.
    #[arg(long)]
    pub fresh_state: bool,
    /// Serve the operations console (and `/metrics`) on this address while
    /// running or watching, e.g. `127.0.0.1:8080`. Any address but loopback
    /// needs an access token in the environment variable `CONSOLE_TOKEN`.
    #[arg(long, value_name = "ADDR")]
    pub console: Option<SocketAddr>,
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
    /// Runs every pipeline of the scheme once, in order, with `options` (a
    /// worker's lease and stop signal); the last report is the scheme's.
    async fn run_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError>;
    /// Replays the dead letters of every pipeline with `options`.
    async fn replay_with(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError>;
    /// Runs every pipeline of the scheme once.
    async fn run(&self) -> Result<Vec<RunReport>, RunError> {
        self.run_with(&RunOptions::new()).await
    }
    /// Replays the dead letters of every pipeline.
    async fn replay(&self) -> Result<Vec<RunReport>, RunError> {
        self.replay_with(&RunOptions::new()).await
    }
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
    /// Checks every system the scheme talks to ([`SystemCheck`]), in the
    /// order of [`Job::notes`]: reachability and credentials, no data
    /// changed.
    async fn check(&self) -> Vec<SystemCheck>;
    /// The scheme's pipelines, in the order they run: what the console
    /// shows and may replay or reset.
    fn pipelines(&self) -> Vec<Arc<dyn Control>>;
    /// Where the pipelines keep their state and history.
    fn state(&self) -> &Arc<dyn StateStore>;
}

/// The connection check of one system of a scheme.
#[derive(Debug)]
pub struct SystemCheck {
    /// The system's name in the settings (`kingdee`, `okki`, …).
    pub system: &'static str,
    /// What the check found.
    pub result: CheckResult,
}

impl SystemCheck {
    /// The check of `system`.
    pub fn new(system: &'static str, result: CheckResult) -> Self {
        Self { system, result }
    }
}

/// The checks as table rows: system, verdict, and what was learned or
/// went wrong (never a secret: the connectors' messages hold none).
pub fn check_rows(checks: &[SystemCheck]) -> Vec<String> {
    checks
        .iter()
        .map(|check| match &check.result {
            Ok(ok) => format!(
                "{:<10} ok            {} ({} ms) {ok}",
                check.system,
                ok.url,
                ok.elapsed.as_millis()
            ),
            Err(e) => format!("{:<10} {:<13} {e}", check.system, e.verdict()),
        })
        .collect()
}

/// Whether a check failed in a way no retry fixes (refused credentials).
fn checks_failed_for_good(checks: &[SystemCheck]) -> bool {
    checks
        .iter()
        .any(|c| c.result.as_ref().is_err_and(CheckError::is_permanent))
}

/// Prints the checks as a table on stderr; says whether all passed.
pub fn print_checks(scheme: &str, checks: &[SystemCheck]) -> bool {
    let mut err = std::io::stderr().lock();
    for row in check_rows(checks) {
        let _ = writeln!(err, "{scheme}: check {row}");
    }
    checks.iter().all(|c| c.result.is_ok())
}

/// A pipeline as the console's handle on it (a clone: they share
/// everything).
pub fn control<S, K>(pipeline: &Pipeline<S, K>) -> Arc<dyn Control>
where
    S: Source + 'static,
    S::Item: DeserializeOwned,
    K: integration_core::Sink + 'static,
{
    Arc::new(pipeline.clone())
}

/// The environment variable holding the console's access token (not an
/// option, so that it never shows in a process list).
pub const CONSOLE_TOKEN: &str = "CONSOLE_TOKEN";

/// Serves the console over `job`'s state with its pipelines, on `addr`,
/// with the token of [`CONSOLE_TOKEN`] if set.
pub async fn serve_console(job: &dyn Job, addr: SocketAddr) -> Result<RunningConsole, SetupError> {
    let mut console = Console::builder(Arc::clone(job.state())).title(job.name());
    for pipeline in job.pipelines() {
        console = console.control(pipeline);
    }
    if let Ok(token) = std::env::var(CONSOLE_TOKEN) {
        console = console.access_token(token);
    }
    let running = console.spawn(addr).await.map_err(SetupError::other)?;
    eprintln!("{}: console at {}", job.name(), running.url());
    Ok(running)
}

/// Opens the state store: `--state` (a SQLite file or a PostgreSQL URL),
/// or `<scheme>.state.sqlite` here.
pub async fn open_state(
    options: &Options,
    scheme: &str,
) -> Result<Arc<dyn StateStore>, SetupError> {
    let state = options
        .state
        .clone()
        .unwrap_or_else(|| format!("{scheme}.state.sqlite"));
    if state.starts_with("postgres://") || state.starts_with("postgresql://") {
        let mut builder = PostgresStore::builder(&state);
        if let Some(schema) = &options.state_schema {
            builder = builder.schema(schema);
        }
        // The URL may hold a password: the error names the schema only.
        return builder
            .connect()
            .await
            .map(|s| Arc::new(s) as Arc<dyn StateStore>)
            .map_err(|e| SetupError::Other(format!("cannot open the PostgreSQL state: {e}")));
    }
    // The store's errors name the file and say how to start fresh.
    let path = PathBuf::from(state);
    let opened = if options.fresh_state {
        SqliteStore::open_fresh(&path)
    } else {
        SqliteStore::open(&path)
    };
    opened
        .map(|s| Arc::new(s) as Arc<dyn StateStore>)
        .map_err(|e| {
            let e = e.to_string();
            match e.contains("open_fresh") {
                true => SetupError::Other(format!("{e}; here: run with --fresh-state")),
                false => SetupError::Other(e),
            }
        })
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
                let state = open_state(&options, NAME).await?;
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
    J: Job + 'static,
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
    if options.check || !options.no_check {
        let checks = job.check().await;
        let passed = print_checks(scheme, &checks);
        if options.check {
            return if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
        }
        let scheduled = options.worker || options.watch.is_some() || options.cron.is_some();
        if !passed && (checks_failed_for_good(&checks) || !scheduled) {
            eprintln!(
                "{scheme}: a system failed its check; nothing was read (--no-check skips the checks)"
            );
            return ExitCode::from(1);
        }
        if !passed {
            // A host down or throttled now may answer at the next slot.
            eprintln!("{scheme}: a system does not answer for now; each run tries again");
        }
    }
    // Served for as long as the binary runs.
    let _console = match options.console {
        Some(addr) => match serve_console(&job, addr).await {
            Ok(console) => Some(console),
            Err(e) => return bad_settings(scheme, &e),
        },
        None => None,
    };
    let schedule = match (&options.watch, &options.cron) {
        (Some(seconds), _) => Schedule::every(Duration::from_secs(*seconds)),
        (None, Some(expression)) => match Schedule::cron(expression, beijing()) {
            Ok(schedule) => schedule,
            Err(e) => return bad_settings(scheme, &SetupError::other(e)),
        },
        (None, None) if options.worker => {
            let e = SettingsError::new("--worker", "needs a schedule: --watch or --cron");
            return bad_settings(scheme, &e.into());
        }
        (None, None) => return run_once(&job, &options).await,
    };
    if options.worker {
        return run_worker(job, &options, schedule).await;
    }
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

/// Completes on SIGTERM (what Kubernetes and systemd send) or Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// A scheme as a worker runs it: all its pipelines, in order, under one
/// lease named after the scheme.
struct SchemeRunnable<J>(Arc<J>);

#[async_trait]
impl<J: Job> Runnable for SchemeRunnable<J> {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn run(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        self.0.run_with(options).await
    }
}

/// `--worker`: runs the scheme at each slot it wins the lease for, until
/// SIGTERM; one line per slot on stdout.
async fn run_worker<J: Job + 'static>(job: J, options: &Options, schedule: Schedule) -> ExitCode {
    let job = Arc::new(job);
    let json = options.json;
    let worker = Worker::new(Arc::clone(job.state()))
        .lease_ttl(Duration::from_secs(options.lease_ttl.max(1)))
        .runnable(Arc::new(SchemeRunnable(Arc::clone(&job))), schedule);
    let id = worker.id().to_owned();
    eprintln!("{}: worker {id} started", job.name());
    let worker = {
        let id = id.clone();
        worker.on_slot(move |name, slot, outcome| {
            crate::progress::finish_all();
            let slot = slot.with_timezone(&beijing()).format("%H:%M:%S");
            match outcome {
                SlotOutcome::Ran(Ok(reports)) => {
                    println!("worker {id}: {name} {slot}: completed");
                    print_reports(reports, json);
                }
                SlotOutcome::Ran(Err(e)) => {
                    println!("worker {id}: {name} {slot}: stopped: {e}");
                }
                SlotOutcome::Busy => println!("worker {id}: {name} {slot}: running elsewhere"),
                SlotOutcome::AlreadyDone => println!("worker {id}: {name} {slot}: done elsewhere"),
                SlotOutcome::StoreFailed(e) => {
                    println!("worker {id}: {name} {slot}: state store failed: {e}");
                }
            }
        })
    };
    let summary = worker.run_until(terminated()).await;
    println!(
        "worker {id}: stopped: {} completed, {} failed, {} fenced out, {} running elsewhere, {} done elsewhere, {} takeovers",
        summary.completed,
        summary.failed,
        summary.fenced,
        summary.busy,
        summary.already_done,
        summary.takeovers
    );
    ExitCode::SUCCESS
}

/// Prints the last `runs` runs of each of the job's pipelines, newest first.
async fn print_history(job: &dyn Job, runs: usize) -> ExitCode {
    let mut out = std::io::stdout().lock();
    for pipeline in job.pipelines() {
        let pipeline = pipeline.name();
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
    crate::progress::finish_all();
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

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings), in colour
/// only on a terminal and unless `NO_COLOR` is set. A log line is written
/// above the progress bars ([`Progress`]), never into one.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let colour = log_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::progress::stderr_writer())
        .with_ansi(colour)
        .try_init();
}

/// Whether log lines get colour codes: on a terminal, unless `NO_COLOR` is
/// set to anything but the empty string (no-color.org). A log redirected to
/// a file stays plain text.
fn log_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::log_colour;
    use std::ffi::OsStr;

    #[test]
    fn logs_are_coloured_only_on_a_terminal_without_no_color() {
        assert!(log_colour(true, None));
        assert!(!log_colour(false, None), "a file or pipe gets plain text");
        assert!(!log_colour(true, Some(OsStr::new("1"))));
        assert!(
            log_colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR does not count"
        );
    }
}
