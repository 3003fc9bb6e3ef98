//! [`CompanySource`]: OKKI companies as an incremental
//! [`integration_core::Source`], list-then-detail.
//!
//! Each run reads a fixed window of update time, `[since − overlap, now]`:
//!
//! 1. **live** companies: `GET /v1/company/list` page by page, then
//!    `GET /v1/company/info` for every row (concurrently, bounded by
//!    [`CompanySource::detail_concurrency`]; the client's rate limiter paces
//!    every request) → [`Op::Upsert`] records carrying the full
//!    [`Company`] with its contacts. A list page's details are given out in
//!    chunks of twice the concurrency, so the sink starts on the first
//!    companies while the rest of the page's details are still fetched;
//! 2. **deleted** companies: the same list with `removed=1` →
//!    [`Op::Delete`] records (only the list row's fields are known).
//!
//! A company that vanished between the list and its detail (`404 Not Found
//! Resource`) is surfaced as a deletion too, never dropped. The window's end
//! is fixed when the run starts and becomes the checkpoint once the last
//! page is read, so changes made during the run are read by the next one.
//! If the list's total shrinks while it is being paged (a company updated or
//! deleted mid-run — a write-back does that to every company it writes —
//! leaves the window and shifts later rows forward), the read steps back as
//! many pages as rows left, so that no row is skipped: at-least-once,
//! duplicates, never a gap. Each step back is paid for by rows that left
//! the window, so a read re-reads at most as many rows as its window held.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use integration_core::types::{BeijingTime, Id};
use integration_core::{Checkpoint, Op, Page, Source, SourceRecord};

use crate::client::{Client, MAX_PAGE_SIZE};
use crate::companies::{Company, CompanyQuery, CompanySummary, Pool};
use crate::error::Error;

/// OKKI companies (with contacts) as an incremental source keyed by
/// `company_id`.
#[derive(Debug, Clone)]
pub struct CompanySource {
    client: Client,
    /// The pool, group and page size every list call uses.
    query: CompanyQuery,
    overlap: Duration,
    detail_concurrency: usize,
    include_deleted: bool,
    full_read_since: BeijingTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Live,
    Removed,
}

/// Where a [`CompanySource`] read goes on: the phase, its page, the run's
/// fixed window, and the rows of the current list page whose details are
/// still to be fetched.
#[derive(Debug, Clone)]
pub struct CompanyCursor {
    phase: Phase,
    page: u32,
    start: BeijingTime,
    end: BeijingTime,
    total: Option<u64>,
    pending: Option<Pending>,
}

/// A live list page being read in chunks: its rows (shared, as the
/// pipeline keeps a copy of every cursor), how many were read, and what
/// the list said about the pages after it.
#[derive(Debug, Clone)]
struct Pending {
    rows: Arc<[CompanySummary]>,
    done: usize,
    has_more: bool,
    total: Option<u64>,
}

impl CompanySource {
    /// Every company (pool `all`), 100 a page, 10 minutes of overlap,
    /// 8 details at a time, deletions included.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            query: CompanyQuery::new().page_size(MAX_PAGE_SIZE),
            overlap: Duration::from_secs(600),
            detail_concurrency: 8,
            include_deleted: true,
            full_read_since: BeijingTime::parse("2000-01-01 00:00:00")
                .unwrap_or(BeijingTime::from_utc(chrono::DateTime::UNIX_EPOCH)),
        }
    }
    /// Only one pool.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.query = self.query.pool(pool);
        self
    }
    /// Only one customer group.
    pub fn group(mut self, group_id: impl Into<Id>) -> Self {
        self.query = self.query.group(group_id);
        self
    }
    /// Rows per list page (clamped to 1..=100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.query = self
            .query
            .page_size(crate::pagination::clamp_page_size(size));
        self
    }
    /// How far before the checkpoint an incremental read starts (default
    /// 10 minutes), to survive clock skew and late commits.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }
    /// How many `company/info` calls run at once (default 8, at least 1).
    pub fn detail_concurrency(mut self, n: usize) -> Self {
        self.detail_concurrency = n.max(1);
        self
    }
    /// Whether deleted companies are read (default true).
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.include_deleted = include;
        self
    }
    /// Where a first, full read starts (default 2000-01-01 00:00:00).
    pub fn full_read_since(mut self, since: BeijingTime) -> Self {
        self.full_read_since = since;
        self
    }

    fn first_cursor(&self, checkpoint: Option<&Checkpoint>) -> CompanyCursor {
        let now = chrono::Utc::now();
        let end = BeijingTime::from_utc(
            now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos())),
        );
        let start = Checkpoint::since(checkpoint, self.overlap)
            .map(BeijingTime::from_utc)
            .unwrap_or(self.full_read_since);
        CompanyCursor {
            phase: Phase::Live,
            page: 1,
            start,
            end,
            total: None,
            pending: None,
        }
    }

    async fn read_page(
        &self,
        mut cursor: CompanyCursor,
    ) -> Result<Page<Company, CompanyCursor>, Error> {
        let pending = match cursor.pending.take() {
            Some(pending) => pending,
            None => {
                let query = self
                    .query
                    .clone()
                    .page(cursor.page)
                    .removed(cursor.phase == Phase::Removed)
                    .updated_between(Some(cursor.start), Some(cursor.end));
                let page = self.client.companies().list(&query).await?;

                if let (Some(before), Some(now)) = (cursor.total, page.total)
                    && now < before
                {
                    // Up to `before - now` rows moved forward past the
                    // pages read: read them again from there.
                    let rows = u32::try_from(before - now).unwrap_or(u32::MAX);
                    let back = rows.div_ceil(self.query.page_size.max(1));
                    let from = cursor.page.saturating_sub(back).max(1);
                    tracing::info!(before, now, page = cursor.page, from, phase = ?cursor.phase, "company list shrank while paging; stepping back");
                    return Ok(Page {
                        total: None,
                        records: Vec::new(),
                        next: Some(CompanyCursor {
                            page: from,
                            total: Some(now),
                            ..cursor
                        }),
                        checkpoint: None,
                    });
                }
                let has_more = page.has_next();
                let total = page.total;
                if cursor.phase == Phase::Removed {
                    // Deletions need no detail: the whole page at once.
                    let records = page
                        .items
                        .into_iter()
                        .map(|row| {
                            SourceRecord::delete(
                                row.company_id.to_string(),
                                Company::from_summary(row),
                            )
                        })
                        .collect();
                    return Ok(self.after_page(cursor, records, has_more, total));
                }
                Pending {
                    rows: page.items.into(),
                    done: 0,
                    has_more,
                    total,
                }
            }
        };

        // The next chunk of the live page's details.
        let chunk = self.detail_concurrency * 2;
        let end = (pending.done + chunk).min(pending.rows.len());
        let companies = self.client.companies();
        let rows = &pending.rows[pending.done..end];
        // (Collected first: a lazy iterator of closures here trips the
        // compiler's `Send` check of the async trait method.)
        let calls: Vec<_> = rows
            .iter()
            .map(|row| companies.get(&row.company_id))
            .collect();
        let details: Vec<_> = futures::stream::iter(calls)
            .buffered(self.detail_concurrency)
            .collect()
            .await;
        let mut records = Vec::with_capacity(details.len());
        for (row, detail) in rows.iter().zip(details) {
            let key = row.company_id.to_string();
            match detail {
                Ok(company) => records.push(SourceRecord::upsert(key, company)),
                Err(e) if e.is_not_found() => {
                    tracing::info!(company_id = %key, "company listed but gone on detail; surfacing as deleted");
                    records.push(SourceRecord::delete(
                        key,
                        Company::from_summary(row.clone()),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        if end < pending.rows.len() {
            return Ok(Page {
                total: None,
                records,
                next: Some(CompanyCursor {
                    pending: Some(Pending {
                        done: end,
                        ..pending
                    }),
                    ..cursor
                }),
                checkpoint: None,
            });
        }
        Ok(self.after_page(cursor, records, pending.has_more, pending.total))
    }

    /// The page that ends list page `cursor.page`: the next list page, the
    /// deleted companies' phase, or the end of the run (with its
    /// checkpoint).
    fn after_page(
        &self,
        cursor: CompanyCursor,
        records: Vec<SourceRecord<Company>>,
        has_more: bool,
        total: Option<u64>,
    ) -> Page<Company, CompanyCursor> {
        let next = if has_more {
            Some(CompanyCursor {
                page: cursor.page + 1,
                total: total.or(cursor.total),
                pending: None,
                ..cursor
            })
        } else if cursor.phase == Phase::Live && self.include_deleted {
            Some(CompanyCursor {
                phase: Phase::Removed,
                page: 1,
                total: None,
                pending: None,
                ..cursor
            })
        } else {
            None
        };
        let checkpoint = next
            .is_none()
            .then(|| Checkpoint::from_time(cursor.end.to_utc()));
        // Progress estimates from the live companies' count (deletions,
        // read after them, are few).
        let total = total
            .or(cursor.total)
            .filter(|_| cursor.phase == Phase::Live);
        Page {
            total,
            records,
            next,
            checkpoint,
        }
    }
}

#[async_trait]
impl Source for CompanySource {
    type Item = Company;
    type Cursor = CompanyCursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<CompanyCursor>,
    ) -> Result<Page<Company, CompanyCursor>, integration_core::Error> {
        let cursor = cursor.unwrap_or_else(|| self.first_cursor(checkpoint));
        Ok(self.read_page(cursor).await?)
    }
}

/// Whether a record is a deletion (convenience for sinks and tests).
pub fn is_deletion<T>(record: &SourceRecord<T>) -> bool {
    record.op == Op::Delete
}
