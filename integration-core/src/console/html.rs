//! The page shell and the small pieces every page uses: status badges,
//! times, folded JSON, pagers. `maud` escapes every value put in.

use chrono::{DateTime, FixedOffset, Utc};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::secret::{redact_text, redact_value};
use crate::state::{EntryStatus, RunKind, RunOutcome, RunRecord};

/// The style sheet, served at `/assets/console.css`.
pub(crate) const CSS: &str = include_str!("console.css");

/// The one script, served at `/assets/console.js`: "select all" boxes and
/// confirmations. The pages work without it.
pub(crate) const JS: &str = include_str!("console.js");

/// A whole page: the header with the navigation, then `body`.
pub(crate) fn page(title: &str, heading: &str, notice: Option<Notice>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (heading) " · " (title) }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { (title) }
                    nav {
                        a href="/" { "Overview" }
                        a href="/collections" { "Collections" }
                        a href="/metrics" { "Metrics" }
                    }
                }
                main {
                    @if let Some(notice) = notice {
                        div class={ "notice " (notice.tone) } role="status" { (notice.text) }
                    }
                    (body)
                }
            }
        }
    }
}

/// A banner at the top of a page: what an action did.
pub(crate) struct Notice {
    pub(crate) tone: &'static str,
    pub(crate) text: String,
}

impl Notice {
    pub(crate) fn good(text: impl Into<String>) -> Self {
        Self {
            tone: "good",
            text: text.into(),
        }
    }
    pub(crate) fn bad(text: impl Into<String>) -> Self {
        Self {
            tone: "bad",
            text: text.into(),
        }
    }
}

/// The coloured badge of a run's outcome.
pub(crate) fn outcome(record: &RunRecord) -> Markup {
    let (class, text) = match &record.outcome {
        RunOutcome::Completed if record.report.dead_lettered > 0 => {
            ("warn", "completed with failures")
        }
        RunOutcome::Completed => ("good", "completed"),
        RunOutcome::Running => ("info", "running"),
        RunOutcome::Stopped { .. } => ("bad", "stopped"),
        RunOutcome::Killed => ("bad", "killed"),
    };
    html! { span class={ "badge " (class) } { (text) } }
}

/// What kind of run it was.
pub(crate) fn kind(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Run => "run",
        RunKind::Replay => "replay",
        RunKind::Reset => "checkpoint reset",
    }
}

/// The badge of a collection entry's status.
pub(crate) fn entry_status(status: EntryStatus) -> Markup {
    let class = match status {
        EntryStatus::Written => "good",
        EntryStatus::Skipped => "muted",
        EntryStatus::Failed => "bad",
    };
    html! { span class={ "badge " (class) } { (status.as_str()) } }
}

/// A time in the console's zone, the zone named.
pub(crate) fn time(at: DateTime<Utc>, zone: FixedOffset) -> Markup {
    let local = at.with_timezone(&zone);
    html! {
        time datetime=(at.to_rfc3339()) title=(at.format("%Y-%m-%d %H:%M:%S%.3f UTC")) {
            (local.format("%Y-%m-%d %H:%M:%S")) " " span.zone { (local.format("%:z")) }
        }
    }
}

/// A duration in words a person reads at a glance.
pub(crate) fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A number with thousands separators.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// JSON folded under a summary, pretty-printed when opened; secrets
/// redacted.
pub(crate) fn json(label: &str, value: &Value) -> Markup {
    let shown = redact_value(value);
    let size = match &shown {
        Value::Object(m) => format!("{} fields", m.len()),
        Value::Array(a) => format!("{} items", a.len()),
        Value::Null => "empty".to_owned(),
        _ => "value".to_owned(),
    };
    let pretty = serde_json::to_string_pretty(&shown).unwrap_or_else(|_| shown.to_string());
    html! {
        details.json {
            summary { (label) " " span.muted { "(" (size) ")" } }
            pre { code { (pretty) } }
        }
    }
}

/// A stored error text, secrets redacted.
pub(crate) fn error_text(text: &str) -> String {
    redact_text(text)
}

/// A short one-line form of a value (a checkpoint in a table cell).
pub(crate) fn short(value: &Value, max: usize) -> String {
    let text = redact_value(value).to_string();
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

/// Previous / next links for page `page` (from 1) of a list.
pub(crate) fn pager(base: &str, extra: &str, page: usize, has_next: bool) -> Markup {
    let link = |p: usize| format!("{base}?page={p}{extra}");
    html! {
        nav.pager aria-label="pages" {
            @if page > 1 { a href=(link(page - 1)) { "← newer" } }
            span { "page " (page) }
            @if has_next { a href=(link(page + 1)) { "older →" } }
        }
    }
}

/// A path segment for a name (pipeline, collection): percent-encoded.
pub(crate) fn segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A hidden CSRF field for a form.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An empty-state line.
pub(crate) fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}
