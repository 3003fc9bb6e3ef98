//! The routes and their pages.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use maud::{Markup, html};
use serde_json::Value;

use super::html::{self, Notice};
use super::{Shared, security};
use crate::pipeline::RunOptions;
use crate::state::{EntryQuery, EntryStatus, RunKind, RunOutcome, RunRecord, StateError};

/// Runs per page of a history.
const RUNS_PER_PAGE: usize = 20;
/// Dead letters or entries per page.
const ROWS_PER_PAGE: usize = 50;
/// How far back the run page looks for a run by id.
const RUN_SEARCH_LIMIT: usize = 5_000;

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/pipelines/{name}", get(pipeline))
        .route("/pipelines/{name}/runs/{id}", get(run))
        .route("/pipelines/{name}/dead-letters", get(dead_letters))
        .route("/pipelines/{name}/{action}", post(change))
        .route("/collections", get(collections))
        .route("/collections/{name}", get(collection))
        .route("/login", get(login_form).post(login))
        .route("/metrics", get(metrics))
        .route("/health", get(|| async { "ok\n" }))
        .route("/ready", get(ready))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .fallback(|| async { PageError::not_found("no such page") })
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            security::guard,
        ))
        .with_state(shared)
}

type Ctx = State<Arc<Shared>>;

/// A page that could not be made: its status and a message (redacted).
struct PageError(StatusCode, String);

impl PageError {
    fn not_found(what: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, what.into())
    }
}

impl From<StateError> for PageError {
    fn from(e: StateError) -> Self {
        Self(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let text = html::error_text(&self.1);
        let body = html! {
            h1 { (self.0.canonical_reason().unwrap_or("error")) }
            div.notice.bad { (text) }
            p { a href="/" { "Back to the overview" } }
        };
        (self.0, html::page("console", "error", None, body)).into_response()
    }
}

type PageResult = Result<Markup, PageError>;

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        html::CSS,
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        html::JS,
    )
}

/// The last run or replay (not a reset) of a pipeline.
async fn last_run(shared: &Shared, name: &str) -> Result<Option<RunRecord>, StateError> {
    // One record first: each holds its report's checkpoint, which can be
    // large.
    let newest = shared.store.runs(name, 0, 1).await?;
    if newest.first().is_none_or(|r| r.kind != RunKind::Reset) {
        return Ok(newest.into_iter().next());
    }
    let recent = shared.store.runs(name, 1, 10).await?;
    Ok(recent.into_iter().find(|r| r.kind != RunKind::Reset))
}

/// Every pipeline the store knows, and those the console controls.
async fn pipeline_names(shared: &Shared) -> Result<Vec<String>, StateError> {
    let mut names = shared.store.pipelines().await?;
    names.extend(shared.controls.keys().cloned());
    names.sort();
    names.dedup();
    Ok(names)
}

async fn overview(State(shared): Ctx) -> PageResult {
    let names = pipeline_names(&shared).await?;
    let leases = shared.store.leases().await?;
    let mut rows = Vec::with_capacity(names.len());
    let mut total_dead = 0;
    let mut failing = 0;
    for name in &names {
        let last = last_run(&shared, name).await?;
        let checkpoint = shared.store.checkpoint(name).await?;
        let dead = shared.store.count_dead_letters(name).await?;
        total_dead += dead;
        if last
            .as_ref()
            .is_some_and(|r| matches!(r.outcome, RunOutcome::Stopped { .. } | RunOutcome::Killed))
        {
            failing += 1;
        }
        let lease = leases.iter().find(|l| &l.name == name);
        rows.push((name, last, checkpoint, dead, lease));
    }
    let zone = shared.zone;
    let body = html! {
        h1 { "Overview " span.muted { "运行概况" } }
        div.tiles {
            div.tile { div.n { (names.len()) } div.l { "pipelines" } }
            div class={ "tile" @if failing > 0 { " bad" } } { div.n { (failing) } div.l { "last run stopped or killed" } }
            div class={ "tile" @if total_dead > 0 { " bad" } } { div.n { (html::count(total_dead)) } div.l { "dead letters" } }
            div.tile { div.n { (leases.len()) } div.l { "leases held" } }
        }
        div.table-wrap {
            @if rows.is_empty() {
                (html::empty("No pipeline has run yet."))
            } @else {
                table {
                    thead { tr {
                        th { "Pipeline" } th { "Last run, started" } th.num { "Duration" }
                        th.num { "Read" } th.num { "Written" } th.num { "Failed" } th.num { "Dead-lettered" }
                        th.num { "Dead letters now" } th.hide-narrow { "Checkpoint" }
                        @if !leases.is_empty() { th.hide-narrow { "Lease holder" } }
                    } }
                    tbody {
                        @for (name, last, checkpoint, dead, lease) in &rows {
                            tr {
                                td.name { a href={ "/pipelines/" (html::segment(name)) } { (name) } }
                                @if let Some(r) = last {
                                    td {
                                        a href={ "/pipelines/" (html::segment(name)) "/runs/" (html::segment(&r.id)) } { (html::outcome(r)) } " " span.muted { (html::kind(r.kind)) }
                                        br; (html::time(r.report.started_at, zone))
                                    }
                                    td.num { (html::duration(r.report.duration_ms)) }
                                    td.num { (html::count(r.report.read)) }
                                    td.num { (html::count(r.report.written)) }
                                    td.num { (html::count(r.report.failed)) }
                                    td.num { (html::count(r.report.dead_lettered)) }
                                } @else {
                                    td colspan="6" { span.muted { "never ran" } }
                                }
                                td.num {
                                    @if *dead > 0 {
                                        a href={ "/pipelines/" (html::segment(name)) "/dead-letters" } { span.badge.bad { (html::count(*dead)) } }
                                    } @else { span.muted { "0" } }
                                }
                                td.hide-narrow.mono {
                                    @match checkpoint { Some(c) => { (html::short(&c.0, 40)) }, None => { span.muted { "none" } } }
                                }
                                @if !leases.is_empty() {
                                    td.hide-narrow {
                                        @match lease { Some(l) => { (l.holder) br; span.muted { "until " (html::time(l.expires_at, zone)) } }, None => { span.muted { "—" } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !leases.is_empty() {
            h2 { "Leases" }
            div.table-wrap { table {
                thead { tr { th { "Name" } th { "Holder" } th.num { "Token" } th { "Expires" } th { "Done through" } } }
                tbody { @for l in &leases { tr {
                    td { (l.name) } td.key { (l.holder) } td.num { (l.token) }
                    td { (html::time(l.expires_at, zone)) }
                    td { @match l.done_through { Some(t) => { (html::time(t, zone)) }, None => { span.muted { "—" } } } }
                } } }
            } }
        }
    };
    Ok(html::page(&shared.title, "Overview", None, body))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
    reset: Option<String>,
}

fn crumbs(name: &str) -> Markup {
    html! { div.crumbs { a href="/" { "Overview" } " / " a href={ "/pipelines/" (html::segment(name)) } { (name) } } }
}

async fn pipeline(
    State(shared): Ctx,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let mut runs = shared
        .store
        .runs(&name, (page - 1) * RUNS_PER_PAGE, RUNS_PER_PAGE + 1)
        .await?;
    let has_next = runs.len() > RUNS_PER_PAGE;
    runs.truncate(RUNS_PER_PAGE);
    let checkpoint = shared.store.checkpoint(&name).await?;
    let dead = shared.store.count_dead_letters(&name).await?;
    if runs.is_empty()
        && page == 1
        && checkpoint.is_none()
        && dead == 0
        && !shared.controls.contains_key(&name)
    {
        return Err(PageError::not_found(format!("no pipeline named {name:?}")));
    }
    let notice = match q.reset.as_deref() {
        Some("done") => Some(Notice::good(
            "The checkpoint was reset: the next run reads from the start.",
        )),
        Some("none") => Some(Notice::good("There was no checkpoint to reset.")),
        Some("mismatch") => Some(Notice::bad(
            "Nothing was reset: type the pipeline's name to confirm.",
        )),
        _ => None,
    };
    let zone = shared.zone;
    let seg = html::segment(&name);
    let body = html! {
        (crumbs(&name))
        h1 { (name) }
        div.card {
            dl.facts {
                dt { "Checkpoint" }
                dd { @match &checkpoint { Some(c) => { (html::json("stored checkpoint", &c.0)) }, None => { span.muted { "none: the next run reads from the start" } } } }
                dt { "Dead letters" }
                dd { a href={ "/pipelines/" (seg) "/dead-letters" } { (html::count(dead)) " waiting" } }
                dt { "Collection" }
                dd { a href={ "/collections/" (seg) } { "entries of " (name) } }
            }
            @if shared.controls.contains_key(&name) {
                form.filters method="post" action={ "/pipelines/" (seg) "/reset" } {
                    (html::csrf_field(&shared.access.csrf_token()))
                    label { "Reset the checkpoint: type “" (name) "” to confirm"
                        input type="text" name="confirm" autocomplete="off" required;
                    }
                    button.danger type="submit" { "Reset checkpoint" }
                }
            } @else {
                p.muted { "Read-only: this console has no handle on the pipeline (replay and reset from the process that runs it)." }
            }
        }
        h2 { "Runs" }
        div.table-wrap {
            @if runs.is_empty() { (html::empty("No runs on this page.")) } @else {
                table {
                    thead { tr {
                        th { "Started" } th { "Kind" } th { "Outcome" } th.num { "Duration" } th.num { "Read" }
                        th.num { "Written" } th.num.hide-narrow { "Skipped" } th.num { "Failed" } th.num { "Dead-lettered" } th.hide-narrow { "By" }
                    } }
                    tbody { @for r in &runs { tr {
                        td { a href={ "/pipelines/" (seg) "/runs/" (html::segment(&r.id)) } { (html::time(r.report.started_at, zone)) } }
                        td { (html::kind(r.kind)) }
                        td { (html::outcome(r)) }
                        td.num { (html::duration(r.report.duration_ms)) }
                        td.num { (html::count(r.report.read)) }
                        td.num { (html::count(r.report.written)) }
                        td.num.hide-narrow { (html::count(r.report.skipped)) }
                        td.num { (html::count(r.report.failed)) }
                        td.num { (html::count(r.report.dead_lettered)) }
                        td.hide-narrow.key { (by(r)) }
                    } } }
                }
            }
        }
        (html::pager(&format!("/pipelines/{seg}"), "", page, has_next))
    };
    Ok(html::page(&shared.title, &name, notice, body))
}

/// Who made a run: the operator, the worker, or the schedule.
fn by(r: &RunRecord) -> String {
    match (&r.operator, &r.worker) {
        (Some(operator), _) => operator.clone(),
        (None, Some(worker)) => worker.clone(),
        (None, None) => String::new(),
    }
}

async fn find_run(shared: &Shared, name: &str, id: &str) -> Result<Option<RunRecord>, StateError> {
    let mut offset = 0;
    while offset < RUN_SEARCH_LIMIT {
        let runs = shared.store.runs(name, offset, 200).await?;
        if runs.is_empty() {
            break;
        }
        offset += runs.len();
        if let Some(found) = runs.into_iter().find(|r| r.id == id) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn run(State(shared): Ctx, Path((name, id)): Path<(String, String)>) -> PageResult {
    let r = find_run(&shared, &name, &id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no run {id:?} of {name:?}")))?;
    let zone = shared.zone;
    let rep = &r.report;
    let body = html! {
        (crumbs(&name))
        h1 { (html::kind(r.kind)) " " (html::outcome(&r)) }
        @if let RunOutcome::Stopped { cause } = &r.outcome {
            div.notice.bad { (html::error_text(cause)) }
        }
        div.card { dl.facts {
            dt { "Run" } dd.key { (r.id) }
            dt { "Started" } dd { (html::time(rep.started_at, zone)) }
            dt { "Ended" } dd { @match r.ended_at { Some(t) => { (html::time(t, zone)) }, None => { span.muted { "—" } } } }
            dt { "Duration" } dd { (html::duration(rep.duration_ms)) @if rep.duration_ms > 0 { " · " (format!("{:.1}", rep.throughput())) " records/s" } }
            @if let Some(w) = &r.worker { dt { "Worker" } dd.key { (w) } }
            @if let Some(o) = &r.operator { dt { "Operator" } dd { (o) } }
            dt { "Pages" } dd { (html::count(rep.pages)) }
            dt { "Read" } dd { (html::count(rep.read)) }
            dt { "Mapped" } dd { (html::count(rep.mapped)) }
            dt { "Written" } dd { (html::count(rep.written)) " (" (html::count(rep.created)) " created, " (html::count(rep.updated)) " updated)" }
            dt { "Skipped" } dd { (html::count(rep.skipped)) }
            dt { "Failed attempts" } dd { (html::count(rep.failed)) }
            dt { "Retried" } dd { (html::count(rep.retried)) }
            dt { "Dead-lettered" } dd { (html::count(rep.dead_lettered)) }
            dt { "Most in flight" } dd { (html::count(rep.peak_in_flight)) }
            dt { "Checkpoint" } dd { @match &rep.checkpoint { Some(c) => { (html::json("at the end", c)) }, None => { span.muted { "none" } } } }
        } }
        @if !rep.first_errors.is_empty() {
            h2 { "First errors" }
            div.table-wrap { table {
                thead { tr { th { "Key" } th { "Stage" } th { "Error" } } }
                tbody { @for e in &rep.first_errors { tr { td.key { (e.key) } td { (e.stage.as_str()) } td.error { (html::error_text(&e.message)) } } } }
            } }
        }
        @if !rep.first_skips.is_empty() {
            h2 { "First skips" }
            div.table-wrap { table {
                thead { tr { th { "Key" } th { "Reason" } } }
                tbody { @for e in &rep.first_skips { tr { td.key { (e.key) } td { (html::error_text(&e.message)) } } } }
            } }
        }
    };
    Ok(html::page(&shared.title, &name, None, body))
}

#[derive(serde::Deserialize)]
struct LetterQuery {
    page: Option<usize>,
    q: Option<String>,
    replayed: Option<String>,
}

async fn dead_letters(
    State(shared): Ctx,
    Path(name): Path<String>,
    Query(query): Query<LetterQuery>,
) -> PageResult {
    let page = query.page.unwrap_or(1).max(1);
    let needle = query
        .q
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_lowercase();
    let all = shared.store.dead_letters(&name).await?;
    let total = all.len();
    let matching: Vec<_> = all
        .into_iter()
        .filter(|l| {
            needle.is_empty()
                || l.error.to_lowercase().contains(&needle)
                || l.key.to_lowercase().contains(&needle)
                || l.code
                    .as_deref()
                    .is_some_and(|c| c.to_lowercase().contains(&needle))
        })
        .collect();
    let shown = matching.len();
    let rows: Vec<_> = matching
        .into_iter()
        .skip((page - 1) * ROWS_PER_PAGE)
        .take(ROWS_PER_PAGE + 1)
        .collect();
    let has_next = rows.len() > ROWS_PER_PAGE;
    let notice = match &query.replayed {
        Some(id) => replay_notice(find_run(&shared, &name, id).await?),
        None => None,
    };
    let can_replay = shared.controls.contains_key(&name);
    let seg = html::segment(&name);
    let zone = shared.zone;
    let q_text = query.q.clone().unwrap_or_default();
    let extra = if q_text.is_empty() {
        String::new()
    } else {
        format!(
            "&q={}",
            url::form_urlencoded::byte_serialize(q_text.as_bytes()).collect::<String>()
        )
    };
    let body = html! {
        (crumbs(&name))
        h1 { "Dead letters " span.muted { "(" (html::count(total as u64)) ")" } }
        form.filters method="get" {
            label { "Error, key or code contains"
                input type="search" name="q" value=(q_text) placeholder="e.g. 编码 or timeout";
            }
            button.secondary type="submit" { "Filter" }
            @if !q_text.is_empty() { a href={ "/pipelines/" (seg) "/dead-letters" } { "clear" } span.muted { (shown) " match" } }
        }
        form method="post" action={ "/pipelines/" (seg) "/replay" } {
            (html::csrf_field(&shared.access.csrf_token()))
            @if can_replay && total > 0 {
                div.actions {
                    button type="submit" name="action" value="selected" { "Replay selected" }
                    button.secondary type="submit" name="action" value="all" data-confirm={ "Replay all " (total) " dead letters of " (name) "?" } { "Replay all " (total) }
                }
            }
            div.table-wrap {
                @if rows.is_empty() { (html::empty(if total == 0 { "No dead letters: every record was written or skipped." } else { "No dead letter matches." })) } @else {
                    table {
                        thead { tr {
                            @if can_replay { th { input type="checkbox" data-select-all aria-label="select all"; } }
                            th { "Key" } th { "Stage" } th.hide-narrow { "Code" } th { "Error" } th.num { "Attempts" }
                            th.hide-narrow { "Failed at" } th { "Records" }
                            @if can_replay { th {} }
                        } }
                        tbody { @for l in rows.iter().take(ROWS_PER_PAGE) { tr {
                            @if can_replay { td { input type="checkbox" name="keys" value=(l.key) aria-label={ "select " (l.key) }; } }
                            td.key { (l.key) }
                            td { (l.stage.as_str()) }
                            td.hide-narrow.key { (l.code.as_deref().unwrap_or("")) }
                            td.error { (html::error_text(&l.error)) }
                            td.num { (l.attempts) }
                            td.hide-narrow { (html::time(l.failed_at, zone)) }
                            td {
                                (html::json("source record", &l.source))
                                @match &l.payload { Some(p) => { (html::json("mapped payload", p)) }, None => { span.muted { "not mapped" } } }
                            }
                            @if can_replay { td { button.small type="submit" name="one" value=(l.key) { "Replay" } } }
                        } } }
                    }
                }
            }
        }
        (html::pager(&format!("/pipelines/{seg}/dead-letters"), &extra, page, has_next))
    };
    Ok(html::page(&shared.title, &name, notice, body))
}

/// What a replay did, said in one line.
fn replay_notice(record: Option<RunRecord>) -> Option<Notice> {
    let r = record?;
    let rep = &r.report;
    let by = r.operator.as_deref().unwrap_or("a replay");
    Some(match &r.outcome {
        RunOutcome::Stopped { cause } => Notice::bad(format!(
            "The replay by {by} stopped: {}",
            html::error_text(cause)
        )),
        _ if rep.dead_lettered > 0 => Notice::bad(format!(
            "Replayed {} by {by}: {} written, {} failed again (still below).",
            rep.read, rep.written, rep.dead_lettered
        )),
        _ => Notice::good(format!(
            "Replayed {} by {by}: {} written, {} skipped, none failed.",
            rep.read, rep.written, rep.skipped
        )),
    })
}

/// A posted form's fields, repeated ones kept.
fn fields(form: &RawForm) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&form.0).into_owned().collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The operator's name in the run history.
fn operator(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> String {
    match peer {
        Some(Extension(ConnectInfo(addr))) => format!("console ({})", addr.ip()),
        None => "console".to_owned(),
    }
}

/// Refuses a change that is not ours to make; `None` when it may go on.
fn refuse(
    shared: &Shared,
    headers: &HeaderMap,
    fields: &[(String, String)],
    name: &str,
) -> Option<Response> {
    if let Some(why) = shared.access.refuses_change(headers, field(fields, "csrf")) {
        return Some((StatusCode::FORBIDDEN, format!("refused: {why}\n")).into_response());
    }
    if !shared.controls.contains_key(name) {
        return Some(
            (
                StatusCode::CONFLICT,
                "this console has no handle on the pipeline; replay or reset it from the process that runs it\n",
            )
                .into_response(),
        );
    }
    None
}

/// A change an operator asks for: `replay` or `reset`, after the checks of
/// [`refuse`].
async fn change(
    State(shared): Ctx,
    Path((name, action)): Path<(String, String)>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: RawForm,
) -> Response {
    let fields = fields(&form);
    if let Some(refusal) = refuse(&shared, &headers, &fields, &name) {
        return refusal;
    }
    let operator = operator(peer);
    match action.as_str() {
        "replay" => replay(&shared, &name, &fields, operator).await,
        "reset" => reset(&shared, &name, &fields, &operator).await,
        _ => PageError::not_found("no such action").into_response(),
    }
}

async fn replay(
    shared: &Shared,
    name: &str,
    fields: &[(String, String)],
    operator: String,
) -> Response {
    let mut options = RunOptions::new().operator(operator);
    if let Some(one) = field(fields, "one") {
        options = options.only([one]);
    } else if field(fields, "action") != Some("all") {
        let keys: Vec<&str> = fields
            .iter()
            .filter(|(n, _)| n == "keys")
            .map(|(_, v)| v.as_str())
            .collect();
        if keys.is_empty() {
            return (
                StatusCode::BAD_REQUEST,
                "select the dead letters to replay\n",
            )
                .into_response();
        }
        options = options.only(keys);
    }
    if let Err(e) = shared.controls[name].replay(&options).await {
        tracing::warn!(pipeline = %name, error = %e, "a replay from the console stopped");
    }
    let id = last_replay_id(shared, name).await;
    let seg = html::segment(name);
    match id {
        Some(id) => Redirect::to(&format!(
            "/pipelines/{seg}/dead-letters?replayed={}",
            html::segment(&id)
        ))
        .into_response(),
        None => PageError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the replay left no record in the history".into(),
        )
        .into_response(),
    }
}

/// The newest replay's id: the one just made (a pipeline replays one at a
/// time in this process).
async fn last_replay_id(shared: &Shared, name: &str) -> Option<String> {
    let runs = shared.store.runs(name, 0, 10).await.ok()?;
    runs.into_iter()
        .find(|r| r.kind == RunKind::Replay)
        .map(|r| r.id)
}

async fn reset(
    shared: &Shared,
    name: &str,
    fields: &[(String, String)],
    operator: &str,
) -> Response {
    let seg = html::segment(name);
    if field(fields, "confirm").map(str::trim) != Some(name) {
        return Redirect::to(&format!("/pipelines/{seg}?reset=mismatch")).into_response();
    }
    match shared.controls[name].reset_checkpoint(operator).await {
        Ok(had) => Redirect::to(&format!(
            "/pipelines/{seg}?reset={}",
            if had { "done" } else { "none" }
        ))
        .into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

async fn collections(State(shared): Ctx) -> PageResult {
    let names = shared.store.collections().await?;
    let mut rows = Vec::with_capacity(names.len());
    for name in names {
        let n = shared.store.count_entries(&name).await?;
        rows.push((name, n));
    }
    let body = html! {
        h1 { "Collections " span.muted { "数据管理" } }
        div.table-wrap {
            @if rows.is_empty() { (html::empty("No collection has entries yet.")) } @else {
                table {
                    thead { tr { th { "Collection" } th.num { "Entries" } } }
                    tbody { @for (name, n) in &rows { tr {
                        td { a href={ "/collections/" (html::segment(name)) } { (name) } }
                        td.num { (html::count(*n)) }
                    } } }
                }
            }
        }
    };
    Ok(html::page(&shared.title, "Collections", None, body))
}

async fn collection(
    State(shared): Ctx,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let page = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let (key, field, value, status) = (text("key"), text("field"), text("value"), text("status"));
    let query = EntryQuery {
        key_contains: key.clone(),
        field: field.clone().zip(value.clone().map(Value::String)),
        status: status.as_deref().and_then(EntryStatus::parse),
        offset: (page - 1) * ROWS_PER_PAGE,
        limit: ROWS_PER_PAGE + 1,
    };
    let mut entries = shared.store.search_entries(&name, &query).await?;
    let has_next = entries.len() > ROWS_PER_PAGE;
    entries.truncate(ROWS_PER_PAGE);
    let total = shared.store.count_entries(&name).await?;
    let mut extra = String::new();
    for (k, v) in [
        ("key", &key),
        ("field", &field),
        ("value", &value),
        ("status", &status),
    ] {
        if let Some(v) = v {
            extra.push_str(&format!(
                "&{k}={}",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ));
        }
    }
    let zone = shared.zone;
    let seg = html::segment(&name);
    let body = html! {
        div.crumbs { a href="/collections" { "Collections" } " / " (name) }
        h1 { (name) " " span.muted { "(" (html::count(total)) " entries)" } }
        form.filters method="get" {
            label { "Key contains" input type="search" name="key" value=(key.clone().unwrap_or_default()); }
            label { "Source field" input type="text" name="field" value=(field.clone().unwrap_or_default()) placeholder="e.g. cid"; }
            label { "equals" input type="text" name="value" value=(value.clone().unwrap_or_default()); }
            label { "Status"
                select name="status" {
                    option value="" { "any" }
                    @for s in [EntryStatus::Written, EntryStatus::Skipped, EntryStatus::Failed] {
                        option value=(s.as_str()) selected[status.as_deref() == Some(s.as_str())] { (s.as_str()) }
                    }
                }
            }
            button.secondary type="submit" { "Search" }
            a href={ "/collections/" (seg) } { "clear" }
        }
        div.table-wrap {
            @if entries.is_empty() { (html::empty("No entry matches.")) } @else {
                table {
                    thead { tr { th { "Key" } th { "Status" } th { "Target id" } th.hide-narrow { "Updated" } th { "Source data" } } }
                    tbody { @for e in &entries { tr {
                        td.key { (e.key) }
                        td { (html::entry_status(e.status)) }
                        td.key { (e.target_id.as_deref().unwrap_or("")) }
                        td.hide-narrow { (html::time(e.updated_at, zone)) }
                        td { (html::json("source data", &e.data)) }
                    } } }
                }
            }
        }
        (html::pager(&format!("/collections/{seg}"), &extra, page, has_next))
    };
    Ok(html::page(&shared.title, &name, None, body))
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

fn login_page(shared: &Shared, next: &str, notice: Option<Notice>) -> Markup {
    let body = html! {
        div.login.card {
            h1 { "Log in" }
            @if shared.access.has_token() {
                form method="post" action="/login" {
                    (html::csrf_field(&shared.access.csrf_token()))
                    input type="hidden" name="next" value=(next);
                    label { "Access token" }
                    input type="password" name="token" autocomplete="current-password" required autofocus;
                    button type="submit" { "Log in" }
                }
            } @else {
                p { "This console needs no token." } a href="/" { "Open the overview" }
            }
        }
    };
    html::page(&shared.title, "Log in", notice, body)
}

async fn login_form(State(shared): Ctx, Query(q): Query<LoginQuery>) -> Markup {
    login_page(&shared, &security::safe_next(q.next.as_deref()), None)
}

async fn login(State(shared): Ctx, headers: HeaderMap, form: RawForm) -> Response {
    let fields = fields(&form);
    let next = security::safe_next(field(&fields, "next"));
    if let Some(why) = shared
        .access
        .refuses_change(&headers, field(&fields, "csrf"))
    {
        return (StatusCode::FORBIDDEN, format!("refused: {why}\n")).into_response();
    }
    if field(&fields, "token").is_some_and(|t| shared.access.is_token(t)) {
        return (
            [(header::SET_COOKIE, security::session_cookie(&shared.access))],
            Redirect::to(&next),
        )
            .into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        login_page(
            &shared,
            &next,
            Some(Notice::bad("That is not the access token.")),
        ),
    )
        .into_response()
}

async fn metrics(State(shared): Ctx) -> Response {
    match &shared.metrics {
        Some(handle) => {
            handle.run_upkeep();
            (
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                handle.render(),
            )
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            "metrics go to the application's own recorder\n",
        )
            .into_response(),
    }
}

async fn ready(State(shared): Ctx) -> Response {
    match shared.store.pipelines().await {
        Ok(_) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "console: the state store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the state store does not answer\n",
            )
                .into_response()
        }
    }
}
