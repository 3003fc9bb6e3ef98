//! [`MerchantSource`]: merchants read incrementally on modification time.

use std::time::Duration;

use async_trait::async_trait;
use integration_core::types::BeijingTime;
use integration_core::{Checkpoint, HighWater, Page, Source, SourceRecord};

use crate::Client;
use crate::assumed;
use crate::list::Condition;
use crate::merchant::Merchant;
use crate::merchant::MerchantQuery;

/// Reads merchants page by page, only those modified since the last
/// checkpoint (minus an overlap, default 10 minutes), filtering with
/// `simpleVOs: [{"field": "pubts", "op": "egt", "value1": "<Beijing time>"}]`.
///
/// Record keys are the merchant `id` (the `code` when an answer lacks it).
/// The list is not ordered by modification time, so the checkpoint (the
/// highest `pubts` seen) is carried in the cursor and emitted with the last
/// page only.
#[derive(Debug, Clone)]
pub struct MerchantSource {
    client: Client,
    page_size: u32,
    overlap: Duration,
    query: MerchantQuery,
}

impl MerchantSource {
    /// A source reading through `client`, 200 per page, 10 minutes overlap.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            page_size: 200,
            overlap: Duration::from_secs(600),
            query: MerchantQuery::new(),
        }
    }

    /// Records per page (clamped to the API maximum).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, assumed::MAX_PAGE_SIZE);
        self
    }

    /// How far before the checkpoint each incremental read starts.
    pub fn with_overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// Extra filters every read applies (e.g. a name or other `simpleVOs`).
    pub fn with_query(mut self, query: MerchantQuery) -> Self {
        self.query = query;
        self
    }
}

/// Where the next [`MerchantSource`] page starts: its number, and the
/// highest `pubts` seen on the pages before it.
#[derive(Debug, Clone)]
pub struct MerchantCursor {
    page: u32,
    high: HighWater,
}

#[async_trait]
impl Source for MerchantSource {
    type Item = Merchant;
    type Cursor = MerchantCursor;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<MerchantCursor>,
    ) -> Result<Page<Merchant, MerchantCursor>, integration_core::Error> {
        let MerchantCursor { page, mut high } = cursor.unwrap_or(MerchantCursor {
            page: 1,
            high: HighWater::new(checkpoint),
        });
        let mut query = self
            .query
            .clone()
            .page_index(page)
            .page_size(self.page_size);
        if let Some(since) = Checkpoint::since(checkpoint, self.overlap) {
            query = query.condition(Condition::new(
                assumed::MODIFIED_TIME_FIELD,
                assumed::OP_GREATER_OR_EQUAL,
                BeijingTime::from_utc(since).to_string(),
            ));
        }
        let list = self.client.merchants().list(&query).await?;
        let has_next = list.next.is_some();
        let mut records = Vec::with_capacity(list.items.len());
        for merchant in list.items {
            if let Some(pubts) = merchant.pubts {
                high.observe(pubts.to_utc());
            }
            let key = merchant
                .id
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| merchant.code.clone())
                .unwrap_or_default();
            records.push(SourceRecord::upsert(key, merchant));
        }
        let next = has_next.then_some(MerchantCursor {
            page: page + 1,
            high,
        });
        let checkpoint = if next.is_none() {
            high.checkpoint()
        } else {
            None
        };
        Ok(Page {
            total: None,
            records,
            next,
            checkpoint,
        })
    }
}
