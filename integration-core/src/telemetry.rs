//! The metrics every pipeline and every API call records, through the
//! [`metrics`] facade: one place for their names and labels.
//!
//! Nothing is recorded until a recorder is installed (the facade is then a
//! no-op); the `console` feature installs a Prometheus one and serves it at
//! `/metrics` (`integration_core::console`). Names follow Prometheus
//! conventions: a `integration_` prefix, base units (`_seconds`), `_total`
//! on counters.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `integration_records_read_total` | counter | `pipeline` |
//! | `integration_records_mapped_total` | counter | `pipeline` |
//! | `integration_records_written_total` | counter | `pipeline` |
//! | `integration_records_skipped_total` | counter | `pipeline` |
//! | `integration_records_failed_total` | counter | `pipeline` (failed attempts, retried ones included) |
//! | `integration_records_dead_lettered_total` | counter | `pipeline` |
//! | `integration_records_retried_total` | counter | `pipeline` |
//! | `integration_runs_total` | counter | `pipeline`, `kind` (`run`, `replay`), `outcome` (`completed`, `stopped`) |
//! | `integration_run_duration_seconds` | histogram | `pipeline`, `kind`, `outcome` |
//! | `integration_last_success_timestamp_seconds` | gauge | `pipeline` (Unix time of the last completed run) |
//! | `integration_api_requests_total` | counter | `system`, `api`, `outcome` (`ok` or the [`ErrorKind`], e.g. `rate_limited`) |
//! | `integration_api_request_duration_seconds` | histogram | `system`, `api` |
//! | `integration_api_throttled_total` | counter | `system`, `api` |
//! | `integration_api_retries_total` | counter | `system`, `api` |
//! | `integration_token_refreshes_total` | counter | `system` |
//!
//! Each attempt of a call counts once in `integration_api_requests_total`;
//! a call retried twice counts three requests and two retries.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use crate::error::ErrorKind;
use crate::report::RunReport;
use crate::state::RunKind;

/// The names, for recorders and dashboards.
pub mod names {
    /// Records read from the source.
    pub const RECORDS_READ: &str = "integration_records_read_total";
    /// Records the mapping turned into target records.
    pub const RECORDS_MAPPED: &str = "integration_records_mapped_total";
    /// Records written to the target.
    pub const RECORDS_WRITTEN: &str = "integration_records_written_total";
    /// Records the mapping or the sink skipped.
    pub const RECORDS_SKIPPED: &str = "integration_records_skipped_total";
    /// Failed attempts to map or write a record.
    pub const RECORDS_FAILED: &str = "integration_records_failed_total";
    /// Records sent to the dead letters.
    pub const RECORDS_DEAD_LETTERED: &str = "integration_records_dead_lettered_total";
    /// Records written back to their source, by `outcome` (`written`,
    /// `unchanged`, `dead_lettered`).
    pub const RECORDS_WRITTEN_BACK: &str = "integration_records_written_back_total";
    /// Records sent again after a retryable failure.
    pub const RECORDS_RETRIED: &str = "integration_records_retried_total";
    /// Runs and replays that ended.
    pub const RUNS: &str = "integration_runs_total";
    /// How long runs and replays took.
    pub const RUN_DURATION: &str = "integration_run_duration_seconds";
    /// When the last run completed (Unix seconds).
    pub const LAST_SUCCESS: &str = "integration_last_success_timestamp_seconds";
    /// API requests (attempts) by outcome.
    pub const API_REQUESTS: &str = "integration_api_requests_total";
    /// How long API requests took, until the answer was decoded.
    pub const API_REQUEST_DURATION: &str = "integration_api_request_duration_seconds";
    /// Answers that asked us to slow down.
    pub const API_THROTTLED: &str = "integration_api_throttled_total";
    /// Requests sent again after a retryable failure.
    pub const API_RETRIES: &str = "integration_api_retries_total";
    /// Tokens or sessions fetched (the first login included).
    pub const TOKEN_REFRESHES: &str = "integration_token_refreshes_total";
}

/// Counts a settled stretch of a pipeline's records.
#[allow(clippy::too_many_arguments)]
pub(crate) fn records_settled(
    pipeline: &str,
    read: u64,
    mapped: u64,
    written: u64,
    skipped: u64,
    failed: u64,
    dead_lettered: u64,
    retried: u64,
) {
    let label = || [("pipeline", pipeline.to_owned())];
    for (name, n) in [
        (names::RECORDS_READ, read),
        (names::RECORDS_MAPPED, mapped),
        (names::RECORDS_WRITTEN, written),
        (names::RECORDS_SKIPPED, skipped),
        (names::RECORDS_FAILED, failed),
        (names::RECORDS_DEAD_LETTERED, dead_lettered),
        (names::RECORDS_RETRIED, retried),
    ] {
        if n > 0 {
            counter!(name, &label()).increment(n);
        }
    }
}

/// Counts a settled stretch's write-backs.
pub(crate) fn written_back(pipeline: &str, written: u64, unchanged: u64, dead_lettered: u64) {
    for (outcome, n) in [
        ("written", written),
        ("unchanged", unchanged),
        ("dead_lettered", dead_lettered),
    ] {
        if n > 0 {
            let labels = [
                ("pipeline", pipeline.to_owned()),
                ("outcome", outcome.to_owned()),
            ];
            counter!(names::RECORDS_WRITTEN_BACK, &labels).increment(n);
        }
    }
}

/// Records the end of a run or replay.
pub(crate) fn run_ended(report: &RunReport, kind: RunKind, completed: bool) {
    let kind = match kind {
        RunKind::Run => "run",
        RunKind::Replay => "replay",
        RunKind::Reset => "reset",
    };
    let outcome = if completed { "completed" } else { "stopped" };
    let labels = [
        ("pipeline", report.pipeline.clone()),
        ("kind", kind.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    counter!(names::RUNS, &labels).increment(1);
    histogram!(names::RUN_DURATION, &labels).record(report.duration_ms as f64 / 1000.0);
    if completed {
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        gauge!(names::LAST_SUCCESS, "pipeline" => report.pipeline.clone()).set(now);
    }
}

/// Records one attempt of an API call: `failure` is `None` when it
/// succeeded, else the failure's kind (`None` inside when unknown).
pub(crate) fn api_attempt(
    system: &'static str,
    api: &str,
    latency: Duration,
    failure: Option<Option<ErrorKind>>,
) {
    let outcome = match failure {
        None => "ok",
        Some(kind) => kind.map_or("error", kind_label),
    };
    let api = api.to_owned();
    counter!(names::API_REQUESTS, "system" => system, "api" => api.clone(), "outcome" => outcome)
        .increment(1);
    histogram!(names::API_REQUEST_DURATION, "system" => system, "api" => api.clone())
        .record(latency.as_secs_f64());
    if failure == Some(Some(ErrorKind::RateLimited)) {
        counter!(names::API_THROTTLED, "system" => system, "api" => api).increment(1);
    }
}

/// Records that a call is sent again.
pub(crate) fn api_retry(system: &'static str, api: &str) {
    counter!(names::API_RETRIES, "system" => system, "api" => api.to_owned()).increment(1);
}

/// Records a token or session fetch.
pub(crate) fn token_refreshed(system: &'static str) {
    counter!(names::TOKEN_REFRESHES, "system" => system).increment(1);
}

/// The outcome label of a failure kind.
fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Transport => "transport",
        ErrorKind::Timeout => "timeout",
        ErrorKind::HttpStatus => "http_status",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Auth => "auth",
        ErrorKind::AuthExpired => "auth_expired",
        ErrorKind::Business => "business",
        ErrorKind::Decode => "decode",
        ErrorKind::BodyTooLarge => "body_too_large",
        ErrorKind::InvalidRequest => "invalid_request",
    }
}
