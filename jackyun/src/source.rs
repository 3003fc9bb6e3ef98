//! Sources: sales orders, goods and customers, incremental on modification
//! time.

// The Source/Sink traits return `integration_core::Error`, which is larger
// than clippy's `result_large_err` threshold; that is core's choice.
#![allow(clippy::result_large_err)]

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use integration_core::types::{BeijingTime, Id};
use integration_core::{Checkpoint, Page, Source, SourceRecord};

use crate::client::Client;
use crate::customer::{Customer, CustomerQuery};
use crate::goods::{Goods, GoodsQuery};
use crate::trade::{MAX_WINDOW, TimeRange, Trade, TradeQuery, TradeTime};

/// Default overlap applied to a checkpoint (clock skew, late commits).
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(600);

fn now_second() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// The cursor of [`GoodsSource`] and [`CustomerSource`]: the
/// modification-time window one run reads, from the checkpoint (less the
/// overlap; none on a first run) to the time the read started, and the
/// API's own position inside it (a max id, a scroll id). Rows are not
/// ordered by time, so the checkpoint, the window's end, comes with the
/// last page.
#[derive(Debug, Clone)]
pub struct WindowCursor<P> {
    from: Option<BeijingTime>,
    end: BeijingTime,
    position: Option<P>,
}

impl<P> WindowCursor<P> {
    /// The window of this read: the cursor's, or a new one.
    fn of(checkpoint: Option<&Checkpoint>, cursor: Option<Self>, overlap: Duration) -> Self {
        cursor.unwrap_or_else(|| Self {
            from: Checkpoint::since(checkpoint, overlap).map(BeijingTime::from_utc),
            end: BeijingTime::from_utc(now_second()),
            position: None,
        })
    }

    /// The page of `records`: more to read from `next` in this window, or
    /// the last page, checkpointed at the window's end.
    fn page<T>(self, records: Vec<SourceRecord<T>>, next: Option<P>) -> Page<T, Self> {
        match next {
            Some(position) => Page {
                total: None,
                records,
                next: Some(Self {
                    position: Some(position),
                    ..self
                }),
                checkpoint: None,
            },
            None => Page::last(records, Some(Checkpoint::from_time(self.end.to_utc()))),
        }
    }
}

/// Sales orders (`oms.trade.fullinfoget`) modified since the checkpoint,
/// read in 7-day windows with the `scrollId` cursor. Keys are `tradeId`
/// (else `tradeNo`). The checkpoint advances at the end of each window.
#[derive(Debug, Clone)]
pub struct TradeSource {
    client: Client,
    overlap: Duration,
    first_start: chrono::Duration,
    fields: Vec<String>,
    page_size: u32,
}

/// The cursor of [`TradeSource`]: the rest of the time range one run
/// reads, and the `scrollId` inside its current 7-day window.
#[derive(Debug, Clone)]
pub struct TradeCursor {
    from: BeijingTime,
    end: BeijingTime,
    scroll_id: Option<String>,
}

impl TradeSource {
    /// A source reading with `client`: overlap 10 min, first run reads the
    /// last 30 days, default fields, 200 rows per page.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            overlap: DEFAULT_OVERLAP,
            first_start: chrono::Duration::days(30),
            fields: Vec::new(),
            page_size: 200,
        }
    }
    /// Overlap subtracted from the checkpoint.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }
    /// How far back a first run (no checkpoint) reads.
    pub fn first_run_lookback(mut self, lookback: chrono::Duration) -> Self {
        self.first_start = lookback;
        self
    }
    /// The returned fields (empty: [`crate::trade::DEFAULT_FIELDS`]).
    pub fn fields(mut self, fields: Vec<String>) -> Self {
        self.fields = fields;
        self
    }
    /// Rows per page (clamped to 200).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }
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
        let cursor = cursor.unwrap_or_else(|| {
            let end = now_second();
            let since = Checkpoint::since(checkpoint, self.overlap);
            let start = since.unwrap_or(end - self.first_start).trunc_subsecs(0);
            TradeCursor {
                from: BeijingTime::from_utc(start),
                end: BeijingTime::from_utc(end),
                scroll_id: None,
            }
        });
        let (from, end) = (cursor.from, cursor.end);
        let window_end = BeijingTime((from.0 + MAX_WINDOW).min(end.0));
        let query = TradeQuery {
            fields: self.fields.clone(),
            range: Some(TimeRange {
                on: TradeTime::Modified,
                start: from,
                end: window_end,
            }),
            page_size: self.page_size,
            scroll_id: cursor.scroll_id,
            ..TradeQuery::default()
        };
        let page = self.client.trades().list(&query).await?;
        let records = page
            .items
            .into_iter()
            .map(|t| {
                let key = t
                    .trade_id
                    .as_ref()
                    .map(Id::to_string)
                    .or_else(|| t.trade_no.clone())
                    .unwrap_or_default();
                SourceRecord::upsert(key, t)
            })
            .collect();
        let (next, checkpoint) = match page.next.and_then(|next| next.scroll_id) {
            Some(scroll) => (
                Some(TradeCursor {
                    from,
                    end,
                    scroll_id: Some(scroll),
                }),
                None,
            ),
            None => {
                let done = Some(Checkpoint::from_time(window_end.to_utc()));
                let next = (window_end < end).then_some(TradeCursor {
                    from: window_end,
                    end,
                    scroll_id: None,
                });
                (next, done)
            }
        };
        Ok(Page {
            total: None,
            records,
            next,
            checkpoint,
        })
    }
}

/// A source of rows modified since the checkpoint, read in one window
/// after the API's own cursor: [`GoodsSource`], [`CustomerSource`]. The
/// checkpoint is set on the last page (rows are not ordered by time): the
/// time the read started.
#[derive(Debug, Clone)]
pub struct WindowSource<T> {
    client: Client,
    overlap: Duration,
    page_size: u32,
    rows: PhantomData<fn() -> T>,
}

/// Goods rows (`erp.storage.goodslist`, one per SKU) whose SKU was modified
/// since the checkpoint, following the `maxSkuId` cursor; the first run
/// reads every goods row. Deleted rows are asked for and surface as
/// [`integration_core::Op::Delete`]. Keys are `skuId`.
pub type GoodsSource = WindowSource<Goods>;

/// Customers (`crm.customer.list.customized`) modified since the
/// checkpoint, following the `scrollId` cursor; the first run reads every
/// customer. Keys are `customerId`; a row with `isDelete = 1` surfaces as
/// [`integration_core::Op::Delete`].
pub type CustomerSource = WindowSource<Customer>;

impl<T> WindowSource<T> {
    /// A source reading with `client` (overlap 10 min, 200 rows per page);
    /// the first run reads every row.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            overlap: DEFAULT_OVERLAP,
            page_size: 200,
            rows: PhantomData,
        }
    }
    /// Overlap subtracted from the checkpoint.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }
    /// Rows per page (clamped to 200).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }
}

/// A row as an upsert, or as a delete when the API flags it deleted
/// (`isDelete = 1`).
fn record<T>(key: String, is_delete: Option<i64>, row: T) -> SourceRecord<T> {
    if is_delete == Some(1) {
        SourceRecord::delete(key, row)
    } else {
        SourceRecord::upsert(key, row)
    }
}

#[async_trait]
impl Source for GoodsSource {
    type Item = Goods;
    type Cursor = WindowCursor<Id>;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<WindowCursor<Id>>,
    ) -> Result<Page<Goods, WindowCursor<Id>>, integration_core::Error> {
        let window = WindowCursor::of(checkpoint, cursor, self.overlap);
        let query = GoodsQuery {
            page_size: self.page_size,
            start_date_modified_sku: window.from,
            end_date_modified_sku: window.from.map(|_| window.end),
            is_query_delete: true,
            max_sku_id: window.position.clone(),
            ..GoodsQuery::default()
        };
        let page = self.client.goods().list(&query).await?;
        let records = page
            .items
            .into_iter()
            .map(|g| record(g.sku_id.to_string(), g.is_delete, g))
            .collect();
        Ok(window.page(records, page.next.and_then(|next| next.max_sku_id)))
    }
}

#[async_trait]
impl Source for CustomerSource {
    type Item = Customer;
    type Cursor = WindowCursor<String>;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<WindowCursor<String>>,
    ) -> Result<Page<Customer, WindowCursor<String>>, integration_core::Error> {
        let window = WindowCursor::of(checkpoint, cursor, self.overlap);
        let query = CustomerQuery {
            gmt_modified_begin: window.from,
            gmt_modified_end: window.from.map(|_| window.end),
            page_size: self.page_size,
            scroll_id: window.position.clone(),
            ..CustomerQuery::default()
        };
        let page = self.client.customers().query(&query).await?;
        let records = page
            .items
            .into_iter()
            .map(|c| record(c.customer_id.to_string(), c.is_delete, c))
            .collect();
        Ok(window.page(records, page.next.and_then(|next| next.scroll_id)))
    }
}
