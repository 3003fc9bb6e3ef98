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
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// JSON folded under a summary, pretty-printed when opened; secrets
/// redacted. A value larger than [`MAX_JSON_BYTES`] (a checkpoint can hold
/// a window's ids) shows its beginning.
pub(crate) fn json(label: &str, value: &Value) -> Markup {
    let size = match value {
        Value::Object(m) => format!("{} fields", m.len()),
        Value::Array(a) => format!("{} items", a.len()),
        Value::Null => "empty".to_owned(),
        _ => "value".to_owned(),
    };
    let (pretty, cut) = match bounded(value, true, MAX_JSON_BYTES) {
        (_, false) => {
            let shown = redact_value(value);
            let pretty = serde_json::to_string_pretty(&shown).unwrap_or_else(|_| shown.to_string());
            (pretty, false)
        }
        (beginning, true) => (redact_text(&beginning), true),
    };
    html! {
        details.json {
            summary { (label) " " span.muted { "(" (size) ")" } }
            pre { code { (pretty) } }
            @if cut {
                p.muted { "… cut at 64 KiB; the store keeps the whole value" }
            }
        }
    }
}

/// The most of one JSON value a page shows.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// The JSON text of `value`, at most `max` bytes of it (cut on a character
/// boundary), and whether it was cut: serialising stops there, so a
/// megabyte value costs no more than its beginning.
fn bounded(value: &Value, pretty: bool, max: usize) -> (String, bool) {
    struct Upto {
        bytes: Vec<u8>,
        max: usize,
    }
    impl std::io::Write for Upto {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = self.max - self.bytes.len();
            if buf.len() > room {
                self.bytes.extend_from_slice(&buf[..room]);
                return Err(std::io::Error::other("long enough"));
            }
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Upto {
        bytes: Vec::new(),
        max,
    };
    let written = if pretty {
        serde_json::to_writer_pretty(&mut out, value)
    } else {
        serde_json::to_writer(&mut out, value)
    };
    let cut = written.is_err();
    let text = match String::from_utf8(out.bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    };
    (text, cut)
}

/// A stored error text, secrets redacted.
pub(crate) fn error_text(text: &str) -> String {
    redact_text(text)
}

/// A short one-line form of a value (a checkpoint in a table cell),
/// secrets redacted.
pub(crate) fn short(value: &Value, max: usize) -> String {
    let (beginning, cut) = bounded(value, false, max * 4 + 64);
    let mut text = redact_text(&beginning);
    if !cut && text.chars().count() <= max {
        return text;
    }
    let end = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    text.truncate(end);
    text.push('…');
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_value_shows_its_redacted_beginning_only() {
        let ids: Vec<String> = (0..200_000).map(|i| format!("编号{i}")).collect();
        let value = serde_json::json!({"sign": "abc123", "ids": ids});
        let markup = json("checkpoint", &value).into_string();
        // Quotes are escaped as `&quot;`: the markup is under twice the cut.
        assert!(markup.len() < 2 * MAX_JSON_BYTES, "{}", markup.len());
        assert!(markup.contains("cut at 64 KiB"));
        assert!(markup.contains("编号1"));
        assert!(!markup.contains("abc123"), "the secret is redacted");
        let line = short(&value, 20);
        assert_eq!(line.chars().count(), 21, "{line}");
        assert!(line.ends_with('…') && !line.contains("abc123"), "{line}");
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let (text, cut) = bounded(&serde_json::json!("上海华东贸易有限公司"), false, 8);
        assert!(cut);
        assert_eq!(text, "\"上海");
        let (whole, cut) = bounded(&serde_json::json!({"a": 1}), false, 100);
        assert_eq!((whole.as_str(), cut), (r#"{"a":1}"#, false));
    }
}
