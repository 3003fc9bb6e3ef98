//! Incremental sources: [`TradeSource`] (trades over sliding time windows)
//! and [`BuyerSource`] (the distinct buyers of those trades).
//!
//! # How a run reads
//!
//! A run reads from the checkpoint minus the overlap (first run: now minus
//! [`TradeSource::initial_lookback`], 72000 s like the reference scheme) up to
//! the run's start time, in windows of at most [`TradeSource::window`], each
//! window page by page. Window ends are inclusive and the next window starts
//! at the previous end, so nothing on a boundary is missed.
//!
//! Duplicates (window boundaries, the overlap with the previous run, rows
//! shifting between pages) are dropped by trade id: the ids of every window
//! that can still meet a later row travel in the cursor and, for the overlap,
//! in the checkpoint. The checkpoint advances at the end of each window, so a
//! crash re-reads at most one window.
//!
//! Memory: a cursor carries the ids of the current window and of the windows
//! within the overlap, so pick a window small enough for the trade volume
//! (e.g. one hour for tens of thousands of trades a day).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::types::{Id, UnixMillis};
use integration_core::{Checkpoint, Page, Source, SourceRecord};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, SYSTEM};
use crate::trade::{SEARCH_TRADES, Scalar, TimeRange, Trade, TradeQuery, time_type};

/// The reference scheme's window: "now minus 72000 seconds" to now.
pub const SCHEME_WINDOW: Duration = Duration::from_secs(72_000);

/// A clock, injectable for tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Trades from `trade/searchTrades`, read incrementally over sliding time
/// windows, de-duplicated by trade id; record key = [`Trade::key`].
#[derive(Clone)]
pub struct TradeSource {
    client: Client,
    template: TradeQuery,
    time_type: Scalar,
    window: Duration,
    initial_lookback: Duration,
    overlap: Duration,
    page_size: u32,
    page_concurrency: usize,
    max_window_trades: u64,
    clock: Clock,
}

impl std::fmt::Debug for TradeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradeSource")
            .field("client", &self.client)
            .field("template", &self.template)
            .field("time_type", &self.time_type)
            .field("window", &self.window)
            .field("initial_lookback", &self.initial_lookback)
            .field("overlap", &self.overlap)
            .field("page_size", &self.page_size)
            .field("page_concurrency", &self.page_concurrency)
            .field("max_window_trades", &self.max_window_trades)
            .finish_non_exhaustive()
    }
}

impl TradeSource {
    /// A source with the scheme's defaults: `timeType` 1, windows of 72000 s,
    /// a first run reading the last 72000 s, 10 minutes of overlap, pages of
    /// the client's maximum size, 16 pages requested at once, windows of at
    /// most 20,000 trades.
    pub fn new(client: Client) -> Self {
        let page_size = client.max_page_size();
        Self {
            client,
            template: TradeQuery::new(),
            time_type: time_type::CREATED,
            window: SCHEME_WINDOW,
            initial_lookback: SCHEME_WINDOW,
            overlap: Duration::from_secs(600),
            page_size,
            page_concurrency: 16,
            max_window_trades: 20_000,
            clock: Arc::new(Utc::now),
        }
    }

    /// The other parameters sent with every page (`source`, `dealerList`,
    /// extra ones). Its `timeRanges` and paging are replaced per window.
    pub fn request(mut self, template: TradeQuery) -> Self {
        self.template = template;
        self
    }

    /// The `timeType` the windows apply to (default [`time_type::CREATED`]).
    pub fn time_type(mut self, time_type: impl Into<Scalar>) -> Self {
        self.time_type = time_type.into();
        self
    }

    /// The longest range one query covers (default 72000 s); longer ranges
    /// (a first run with a long lookback, a run after a pause) are split.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_secs(1));
        self
    }

    /// How far back the first run (no checkpoint) reads (default 72000 s).
    pub fn initial_lookback(mut self, lookback: Duration) -> Self {
        self.initial_lookback = lookback;
        self
    }

    /// How far before the checkpoint a run starts, to catch trades
    /// committed late or stamped by a skewed clock (default 10 min).
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// The page size (clamped to the client's maximum).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, self.client.max_page_size());
        self
    }

    /// How many pages of a window are requested at once (default 16, at
    /// least 1). A window's first page is read alone (it tells the total
    /// and may narrow the window); the pages after it are then known and
    /// requested together, so a read waits for one answer per group instead
    /// of per page. The client's rate limiter still paces every request.
    /// Without a total in the answer, pages are read one at a time.
    pub fn page_concurrency(mut self, pages: usize) -> Self {
        self.page_concurrency = pages.max(1);
        self
    }

    /// The most trades one window should hold (default 20,000). When the
    /// first page of a window reports a larger total, the window is
    /// narrowed (down to one second) and asked again, so that the ids a
    /// cursor carries for de-duplication stay bounded whatever the volume.
    /// Without a total in the answer, windows are not narrowed.
    pub fn max_window_trades(mut self, max: u64) -> Self {
        self.max_window_trades = max.max(1);
        self
    }

    /// The clock that decides where a run ends (default: the system clock).
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn first_cursor(&self, checkpoint: Option<&Checkpoint>) -> Result<Option<TradeCursor>, Error> {
        let run_end = (self.clock)().timestamp_millis();
        let (start, done_until, mut recent) = match checkpoint {
            Some(cp) => {
                let cp = TradeCheckpoint::parse(cp)?;
                (cp.until - millis(self.overlap), Some(cp.until), cp.recent)
            }
            None => (run_end - millis(self.initial_lookback), None, Vec::new()),
        };
        if start >= run_end {
            return Ok(None);
        }
        recent.retain(|w| w.end >= start);
        Ok(Some(TradeCursor {
            run_end,
            start,
            end: run_end.min(start + millis(self.window)),
            page: 1,
            total: None,
            done_until,
            recent,
        }))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The ids read in one window (`end` = the window's inclusive end, ms).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WindowIds {
    end: i64,
    ids: Ids,
}

/// Ids given out, one shared set per page: the pipeline keeps a copy of
/// each cursor to read a page again, and copying a window's thousands of
/// ids for every page was a quarter of a Huke sync's CPU; this copies one
/// pointer per page. Stored in checkpoints as one newline-separated text
/// (an id containing a newline never matches, so such a trade is given out
/// again, which an upsert absorbs); a list of ids is read too.
#[derive(Clone, Default)]
struct Ids(Vec<Arc<HashSet<String>>>);

/// A count, not the ids: a cursor is logged with every re-read page, and a
/// window may hold thousands.
impl std::fmt::Debug for Ids {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: usize = self.0.iter().map(|ids| ids.len()).sum();
        write!(f, "Ids({count} ids)")
    }
}

impl Ids {
    fn contains(&self, id: &str) -> bool {
        self.0.iter().any(|page| page.contains(id))
    }

    /// Adds the ids of one page. Sets of similar size are merged (as a
    /// binary counter carries), so a window of n ids is held in about
    /// log₂(n / page) sets: a lookup hashes the id once per set, and with a
    /// set per page a window of 200 pages made de-duplication most of a
    /// run's CPU. An id is copied O(log n) times; a set no older cursor
    /// shares is merged in place.
    fn add(&mut self, page: HashSet<String>) {
        if page.is_empty() {
            return;
        }
        let mut new = page;
        while self
            .0
            .last()
            .is_some_and(|last| last.len() <= 2 * new.len())
        {
            let Some(last) = self.0.pop() else { break };
            let mut last = Arc::try_unwrap(last).unwrap_or_else(|shared| (*shared).clone());
            if last.len() < new.len() {
                std::mem::swap(&mut last, &mut new);
            }
            last.extend(new);
            new = last;
        }
        self.0.push(Arc::new(new));
    }

    fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|page| page.iter())
    }
}

impl Serialize for Ids {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::new();
        for id in self.iter() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(id);
        }
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Text(String),
            List(HashSet<String>),
        }
        let ids = match Stored::deserialize(deserializer)? {
            Stored::List(ids) => ids,
            Stored::Text(text) => text
                .split('\n')
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let mut all = Ids::default();
        all.add(ids);
        Ok(all)
    }
}

/// Where the next page of a [`TradeSource`] starts.
#[derive(Debug, Clone)]
pub struct TradeCursor {
    /// Where this run stops (its start time), unix ms.
    run_end: i64,
    /// The current window, unix ms, both ends inclusive.
    start: i64,
    end: i64,
    /// The page inside the window, 1-based.
    page: u32,
    /// The window's total, as its first page reported it.
    total: Option<u64>,
    /// Everything up to here was read in full (by this run or earlier ones).
    done_until: Option<i64>,
    /// Ids of the windows that may meet rows of this one or that a later
    /// checkpoint's overlap needs (ends within `overlap` of the window
    /// start), the current window last.
    recent: Vec<WindowIds>,
}

/// The persisted checkpoint: everything up to `until` (unix ms) was read;
/// `recent` holds the ids read within the overlap before it.
#[derive(Deserialize)]
struct TradeCheckpoint {
    until: i64,
    #[serde(default)]
    recent: Vec<WindowIds>,
}

impl TradeCheckpoint {
    fn parse(cp: &Checkpoint) -> Result<Self, Error> {
        if let Some(time) = cp.as_time() {
            return Ok(Self {
                until: time.timestamp_millis(),
                recent: Vec::new(),
            });
        }
        if let Some(ms) = cp.0.as_i64() {
            return Ok(Self {
                until: ms,
                recent: Vec::new(),
            });
        }
        serde_json::from_value(cp.0.clone()).map_err(|e| {
            Error::invalid_request(SEARCH_TRADES, format!("not a trade checkpoint: {e}"))
        })
    }
}

/// The checkpoint "read up to `until`", with the windows of `recent` that
/// its `overlap` (ms) meets.
fn checkpoint_at(until: i64, overlap: i64, recent: &[WindowIds]) -> Checkpoint {
    let recent: Vec<&WindowIds> = recent.iter().filter(|w| w.end >= until - overlap).collect();
    Checkpoint(serde_json::json!({ "until": until, "recent": recent }))
}

/// Where a [`TradeSource`] checkpoint says reading is complete, as UTC.
pub fn checkpoint_until(cp: &Checkpoint) -> Option<DateTime<Utc>> {
    TradeCheckpoint::parse(cp)
        .ok()
        .and_then(|c| UnixMillis(c.until).to_utc())
}

#[async_trait]
impl Source for TradeSource {
    type Item = Trade;
    type Cursor = TradeCursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<TradeCursor>,
    ) -> Result<Page<Trade, TradeCursor>, integration_core::Error> {
        let cursor = match cursor {
            Some(cursor) => Some(cursor),
            None => self.first_cursor(checkpoint)?,
        };
        let Some(mut cursor) = cursor else {
            return Ok(Page::last(Vec::new(), checkpoint.cloned()));
        };

        let trades = self.client.trades();
        // The page size sent, as the client clamps it.
        let page_size = self.page_size.clamp(1, self.client.max_page_size());
        let request = |cursor: &TradeCursor, page: u32| {
            let mut request = self.template.clone().page(page).page_size(self.page_size);
            request.time_ranges = vec![TimeRange::new(
                self.time_type.clone(),
                UnixMillis(cursor.start),
                UnixMillis(cursor.end),
            )];
            request
        };
        let pages = if cursor.page == 1 {
            let page = loop {
                let page = trades.list(&request(&cursor, 1)).await?;
                let span = cursor.end - cursor.start;
                match page.total {
                    Some(total) if total > self.max_window_trades && span > 1_000 => {
                        // Narrow in proportion (trades are assumed spread
                        // evenly; if not, the next answer narrows again).
                        let narrowed = i128::from(span) * i128::from(self.max_window_trades)
                            / i128::from(total);
                        cursor.end =
                            cursor.start + i64::try_from(narrowed).unwrap_or(span).max(1_000);
                    }
                    _ => break page,
                }
            };
            cursor.total = page.total;
            vec![page]
        } else {
            // The pages left by the window's total, up to the concurrency.
            let left = cursor.total.map_or(1, |total| {
                total
                    .div_ceil(u64::from(page_size))
                    .saturating_sub(u64::from(cursor.page) - 1)
            });
            let count = u32::try_from(left.clamp(1, self.page_concurrency as u64)).unwrap_or(1);
            let requests: Vec<_> = (0..count)
                .map(|i| request(&cursor, cursor.page + i))
                .collect();
            let answers = futures::future::join_all(requests.iter().map(|r| trades.list(r))).await;
            // The pages before a failed one are kept and the next read asks
            // again from the failed one: with one failed answer failing the
            // whole group, a read of 16 pages at 10 % faults got through
            // only one time in five, and runs ran out of re-reads.
            let mut pages = Vec::with_capacity(answers.len());
            for (i, answer) in answers.into_iter().enumerate() {
                match answer {
                    Ok(page) => pages.push(page),
                    Err(e) if pages.is_empty() => return Err(e.into()),
                    Err(e) => {
                        tracing::debug!(page = cursor.page + i as u32, error = %e, "page of a group failed; asked again next");
                        break;
                    }
                }
            }
            pages
        };
        let first_page = cursor.page;
        let has_more = pages.last().is_some_and(|page| page.has_next());

        // The current window's ids are always the last entry, created on its
        // first page (an older window may end at the same instant).
        if first_page == 1 {
            cursor.recent.push(WindowIds {
                end: cursor.end,
                ids: Ids::default(),
            });
        }
        let mut records = Vec::with_capacity(pages.iter().map(|p| p.items.len()).sum());
        for (number, page) in (first_page..).zip(pages) {
            let full = page.items.len() as u64 >= u64::from(page_size);
            let mut repeated_in_window = 0usize;
            if let Some((current, earlier)) = cursor.recent.split_last_mut() {
                let mut new = HashSet::with_capacity(page.items.len());
                for trade in page.items {
                    let key = trade.key();
                    if new.contains(&key) || current.ids.contains(&key) {
                        repeated_in_window += 1;
                    } else if !earlier.iter().any(|w| w.ids.contains(&key)) {
                        new.insert(key.clone());
                        records.push(SourceRecord::upsert(key, trade));
                    }
                }
                current.ids.add(new);
            }
            if number > 1 && full && repeated_in_window == page_size as usize {
                let what = format!(
                    "page {number} of window {}..{} only repeats trades already read (the server ignores `page`?)",
                    cursor.start, cursor.end
                );
                return Err(integration_core::Error::decode(
                    SYSTEM,
                    SEARCH_TRADES,
                    what,
                    b"",
                ));
            }
            cursor.page = number + 1;
        }

        let overlap = millis(self.overlap);
        if has_more {
            // No checkpoint inside a window: the last one (at the previous
            // window's end) still holds, and a crash re-reads this window
            // from its start. Writing the growing ids of the window with
            // every page cost a state write of up to a megabyte per page.
            return Ok(Page {
                total: None,
                records,
                next: Some(cursor),
                checkpoint: None,
            });
        }

        // The window is complete.
        let until = cursor.end;
        let checkpoint = Some(checkpoint_at(until, overlap, &cursor.recent));
        if until >= cursor.run_end {
            return Ok(Page::last(records, checkpoint));
        }
        cursor.start = until;
        cursor.end = cursor.run_end.min(until + millis(self.window));
        cursor.page = 1;
        cursor.total = None;
        cursor.done_until = Some(until);
        // Keep what the overlap of this run's later checkpoints needs.
        cursor.recent.retain(|w| w.end >= until - overlap);
        Ok(Page {
            total: None,
            records,
            next: Some(cursor),
            checkpoint,
        })
    }
}

/// A buyer derived from trades: the record a customer master (K/3 Cloud
/// `BD_Customer`: `FName={{buyerNick}}`, `FNumber={{buyerCid}}`) is built from.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// `buyerCid`: the stable key.
    pub buyer_cid: Id,
    /// `buyerNick` of the first trade of this buyer in the run.
    #[serde(default)]
    pub buyer_nick: Option<String>,
    /// The key of that trade.
    pub trade_id: String,
    /// That trade, whole.
    pub trade: Trade,
}

/// The distinct buyers of the trades a [`TradeSource`] reads; record key =
/// `buyerCid`. Each buyer is emitted once per run, at its first trade: the
/// buyers seen so far travel in the cursor (about 30 bytes a buyer, shared
/// between cursors; a run over 100,000 trades holds about 32,000). Emitting
/// them once per window instead wrote a buyer with trades in five windows
/// five times. A run that resumes after a crash emits its buyers again,
/// which an upsert by `buyerCid` absorbs. Trades without a `buyerCid`
/// cannot become customers and are skipped with a warning. Checkpoints are
/// the trade source's.
#[derive(Debug, Clone)]
pub struct BuyerSource {
    trades: TradeSource,
}

impl BuyerSource {
    /// Buyers of the trades `trades` reads.
    pub fn new(trades: TradeSource) -> Self {
        Self { trades }
    }
}

/// Where the next page of a [`BuyerSource`] starts: the trade source's
/// cursor and the buyers given out so far in the run.
#[derive(Debug, Clone)]
pub struct BuyerCursor {
    trades: TradeCursor,
    seen: Ids,
}

#[async_trait]
impl Source for BuyerSource {
    type Item = Buyer;
    type Cursor = BuyerCursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<BuyerCursor>,
    ) -> Result<Page<Buyer, BuyerCursor>, integration_core::Error> {
        let (trades, mut seen) = match cursor {
            Some(c) => (Some(c.trades), c.seen),
            None => (None, Ids::default()),
        };
        let page = self.trades.read(checkpoint, trades).await?;
        let mut records = Vec::new();
        let mut new = HashSet::new();
        for record in page.records {
            let trade = record.data;
            let Some(cid) = trade
                .buyer_cid
                .clone()
                .filter(|c| !c.as_str().trim().is_empty())
            else {
                tracing::warn!(trade = %record.key, "trade without buyerCid; no buyer record");
                continue;
            };
            let key = cid.to_string();
            if seen.contains(&key) || !new.insert(key.clone()) {
                continue;
            }
            records.push(SourceRecord::upsert(
                key,
                Buyer {
                    buyer_cid: cid,
                    buyer_nick: trade.buyer_nick.clone(),
                    trade_id: record.key,
                    trade,
                },
            ));
        }
        seen.add(new);
        let next = page.next.map(|trades| BuyerCursor { trades, seen });
        Ok(Page {
            total: None,
            records,
            next,
            checkpoint: page.checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checkpoints_store_ids_as_text_and_still_read_lists() {
        for ids in [json!("T1\nT2"), json!(["T1", "T2"])] {
            let stored =
                json!({"until": 5, "recent": [{"end": 1, "ids": []}, {"end": 5, "ids": ids}]});
            let cp = TradeCheckpoint::parse(&Checkpoint(stored)).unwrap();
            let read: HashSet<&str> = cp.recent[1].ids.iter().map(String::as_str).collect();
            assert_eq!(read, ["T1", "T2"].into());

            let written = checkpoint_at(cp.until, 2, &cp.recent);
            assert_eq!(written.0["recent"].as_array().map(Vec::len), Some(1));
            let text = written.0["recent"][0]["ids"].as_str().unwrap();
            let mut ids: Vec<&str> = text.split('\n').collect();
            ids.sort_unstable();
            assert_eq!(ids, ["T1", "T2"], "written as one text");
        }
        let empty: WindowIds = serde_json::from_value(json!({"end": 0, "ids": ""})).unwrap();
        assert_eq!(empty.ids.iter().count(), 0);
        let mut ids = Ids::default();
        ids.add(["a".to_owned()].into());
        ids.add(["b".to_owned()].into());
        let copy = ids.clone();
        assert!(copy.contains("a") && copy.contains("b") && !copy.contains("c"));
        assert!(Arc::ptr_eq(&ids.0[0], &copy.0[0]), "a copy shares the sets");
        // A later page merged into a shared set leaves the copy as it was.
        ids.add(["c".to_owned(), "d".to_owned()].into());
        assert!(ids.contains("c") && !copy.contains("c"));
        assert!(ids.contains("a") && copy.contains("a"));
    }

    #[test]
    fn a_windows_ids_are_held_in_few_sets() {
        let mut ids = Ids::default();
        for page in 0..200 {
            ids.add((0..100).map(|i| format!("T{page}-{i}")).collect());
        }
        assert_eq!(ids.iter().count(), 20_000);
        assert!(ids.contains("T0-0") && ids.contains("T199-99"));
        // One set per page would be 200 (a lookup hashing 200 times).
        assert!(ids.0.len() <= 9, "{} sets", ids.0.len());
    }
}
