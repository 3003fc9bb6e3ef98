//! [`PurInboundSource`]: purchase inbound bills with their material lines,
//! read incrementally on modification time.

use std::time::Duration;

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt};
use integration_core::types::UnixMillis;
use integration_core::{Checkpoint, HighWater, Page, Source, SourceRecord};

use crate::client::Client;
use crate::error::Error;
use crate::model::PurInbound;
use crate::query::{BillQuery, Paged};

/// When the source reads a bill's detail after listing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetailMode {
    /// Only for rows that came without material lines (the V2 list does
    /// not carry them; the V1 list does).
    #[default]
    WhenMissing,
    /// For every row.
    Always,
    /// Never: rows are emitted as listed.
    Never,
}

/// Reads purchase inbound bills page by page, changed since the last
/// checkpoint (minus an overlap), with their lines.
///
/// - Record key: the bill id. Item: [`PurInbound`] with `material_entity`.
/// - Incremental: the modify-time filter (V1 `begintime`, V2
///   `modify_start_time`) starts at the checkpoint minus `overlap`; the end
///   of the window is fixed when the first page is read, so every page of
///   one read sees the same window. The checkpoint is the highest
///   `modify_time` seen and is given with the last page only.
/// - List-then-detail: rows without lines are completed with
///   `pur_inbound_detail`, at most `detail_concurrency` at a time, in order.
#[derive(Debug, Clone)]
pub struct PurInboundSource {
    client: Client,
    query: BillQuery,
    overlap: Duration,
    detail_concurrency: usize,
    details: DetailMode,
}

/// The cursor of [`PurInboundSource`]: the next page, the window's fixed
/// end, and the highest `modify_time` seen so far.
#[derive(Debug, Clone)]
pub struct PurInboundCursor {
    page: u32,
    until: UnixMillis,
    high_water: HighWater,
}

impl PurInboundSource {
    /// A source over every bill (filters from [`BillQuery::default`]),
    /// 10 minutes of overlap, 4 details at a time.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            query: BillQuery::default(),
            overlap: Duration::from_secs(600),
            detail_concurrency: 4,
            details: DetailMode::WhenMissing,
        }
    }

    /// Base filters (status, supplier, department, ...). Its modify-time
    /// range and page are set by the source.
    pub fn query(mut self, query: BillQuery) -> Self {
        self.query = query;
        self
    }

    /// How far before the checkpoint an incremental read starts.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Details read at once (at least 1).
    pub fn detail_concurrency(mut self, n: usize) -> Self {
        self.detail_concurrency = n.max(1);
        self
    }

    /// When details are read.
    pub fn details(mut self, mode: DetailMode) -> Self {
        self.details = mode;
        self
    }

    async fn complete(&self, rows: Vec<PurInbound>) -> Result<Vec<PurInbound>, Error> {
        let mode = self.details;
        let resource = self.client.pur_inbounds();
        futures::stream::iter(rows.into_iter().map(|row| {
            let resource = resource.clone();
            async move {
                let needed = match mode {
                    DetailMode::Always => true,
                    DetailMode::Never => false,
                    DetailMode::WhenMissing => row.material_entity.is_empty(),
                };
                if needed {
                    resource.get(&row.id).await
                } else {
                    Ok(row)
                }
            }
        }))
        .buffered(self.detail_concurrency)
        .try_collect()
        .await
    }
}

#[async_trait]
impl Source for PurInboundSource {
    type Item = PurInbound;
    type Cursor = PurInboundCursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<PurInboundCursor>,
    ) -> Result<Page<PurInbound, PurInboundCursor>, integration_core::Error> {
        let cursor = cursor.unwrap_or_else(|| PurInboundCursor {
            page: 1,
            until: UnixMillis(chrono::Utc::now().timestamp_millis()),
            high_water: HighWater::new(checkpoint),
        });
        let mut query = self.query.with_page(cursor.page);
        query.modify_time_from =
            Checkpoint::since(checkpoint, self.overlap).map(UnixMillis::from_utc);
        query.modify_time_to = Some(cursor.until);
        let page = self.client.pur_inbounds().list(&query).await?;
        let more = page.has_next();
        let rows = self.complete(page.items).await?;

        let mut high_water = cursor.high_water;
        for row in &rows {
            if let Some(t) = row.modify_time {
                high_water.observe(t.to_utc());
            }
        }
        let records = rows
            .into_iter()
            .map(|row| SourceRecord::upsert(row.id.to_string(), row))
            .collect();
        if more {
            Ok(Page {
                total: None,
                records,
                next: Some(PurInboundCursor {
                    page: cursor.page + 1,
                    until: cursor.until,
                    high_water,
                }),
                checkpoint: None,
            })
        } else {
            Ok(Page::last(records, high_water.checkpoint()))
        }
    }
}
