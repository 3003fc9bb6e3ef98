//! [`MerchantSource`]: merchants read incrementally on modification time.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use integration_core::types::BeijingTime;
use integration_core::{Checkpoint, Cursor, HighWater, Page, Source, SourceRecord};
use serde_json::json;

use crate::assumed;
use crate::list::Condition;
use crate::merchant::Merchant;
use crate::merchant::MerchantQuery;
use crate::{Client, Error};

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

fn cursor_state(cursor: Option<&Cursor>) -> Result<(u32, Option<DateTime<Utc>>), Error> {
    let Some(cursor) = cursor else {
        return Ok((1, None));
    };
    let page = cursor
        .get("page")
        .and_then(serde_json::Value::as_u64)
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p >= 1)
        .ok_or_else(|| Error::Config(format!("not a merchant source cursor: {cursor}")))?;
    // A high-water mark that cannot be read is an error, not "none yet".
    let high = match cursor.get("high") {
        None | Some(serde_json::Value::Null) => None,
        Some(high) => Some(
            high.as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| Error::Config(format!("not a merchant source cursor: {cursor}")))?,
        ),
    };
    Ok((page, high))
}

#[async_trait]
impl Source for MerchantSource {
    type Item = Merchant;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<Cursor>,
    ) -> Result<Page<Merchant>, integration_core::Error> {
        let (page_index, high) = cursor_state(cursor.as_ref())?;
        let mut query = self
            .query
            .clone()
            .page_index(page_index)
            .page_size(self.page_size);
        if let Some(since) = Checkpoint::since(checkpoint, self.overlap) {
            query = query.condition(Condition::new(
                assumed::MODIFIED_TIME_FIELD,
                assumed::OP_GREATER_OR_EQUAL,
                BeijingTime::from_utc(since).to_string(),
            ));
        }
        let page = self.client.merchants().list(&query).await?;
        let has_next = page.next.is_some();
        let mut high_water = HighWater::new(checkpoint);
        if let Some(high) = high {
            high_water.observe(high);
        }
        let mut records = Vec::with_capacity(page.items.len());
        for merchant in page.items {
            if let Some(pubts) = merchant.pubts {
                high_water.observe(pubts.to_utc());
            }
            let key = merchant
                .id
                .as_ref()
                .map(ToString::to_string)
                .or_else(|| merchant.code.clone())
                .unwrap_or_default();
            records.push(SourceRecord::upsert(key, merchant));
        }
        let next = has_next.then(|| {
            json!({
                "page": page_index + 1,
                "high": high_water.checkpoint().and_then(|c| c.as_time()).map(|t| t.to_rfc3339()),
            })
        });
        let checkpoint = if next.is_none() {
            high_water.checkpoint()
        } else {
            None
        };
        Ok(Page {
            records,
            next,
            checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_rejected() {
        assert_eq!(cursor_state(None).unwrap(), (1, None));
        let (page, high) = cursor_state(Some(
            &json!({"page": 3, "high": "2024-03-05T02:20:30+00:00"}),
        ))
        .unwrap();
        assert_eq!(page, 3);
        assert_eq!(high.unwrap().to_rfc3339(), "2024-03-05T02:20:30+00:00");
        assert!(cursor_state(Some(&json!({"page": 0}))).is_err());
        assert_eq!(
            cursor_state(Some(&json!({"page": 2, "high": null}))).unwrap(),
            (2, None)
        );
        assert!(cursor_state(Some(&json!({"page": 2, "high": "yesterday"}))).is_err());
        assert!(cursor_state(Some(&json!("next"))).is_err());
    }
}
