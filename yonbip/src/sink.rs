//! [`MerchantSink`]: writes merchants idempotently by merchant code.

use async_trait::async_trait;
use futures::StreamExt;
use futures::future::OptionFuture;
use integration_core::{Change, ErrorKind, Op, RecordError, Sink, SinkRecord, WriteOutcome};

use crate::error::Error;
use crate::merchant::Merchant;
use crate::{Client, Retry};

/// Writes merchants with `merchant/save`, upserting by merchant `code`:
/// the merchant with the same code is looked up first; when it exists the
/// save is an `Update` of its `id`, otherwise an `Insert`. Rerunning a batch
/// therefore creates no duplicates.
///
/// The save API takes one merchant per call, so a batch is written record
/// by record, [`MerchantSink::with_concurrency`] records at a time (each
/// is two calls, a lookup and a save, and a cloud answers each in tens of
/// milliseconds), with one [`WriteOutcome`] each, in order. Business errors
/// (validation, duplicates) fail only their record; a rejected credential
/// fails the whole batch (every record would fail the same way).
#[derive(Debug, Clone)]
pub struct MerchantSink {
    client: Client,
    batch: usize,
    concurrency: usize,
}

impl MerchantSink {
    /// A sink writing through `client`, 20 records per batch, 4 at a time.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            batch: 20,
            concurrency: 4,
        }
    }

    /// Sets how many records one [`Sink::write`] takes (at least 1).
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Sets how many records of a batch are written at once (at least 1;
    /// default 4). The client's rate limiter paces every call. Records with
    /// the same code in one batch may then race: the loser's insert is
    /// refused as a duplicate and it updates instead.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Inserts or updates one merchant by its code; returns the saved merchant.
    pub async fn upsert(&self, merchant: &Merchant) -> Result<Merchant, Error> {
        self.upsert_as(merchant).await.map(|(saved, _)| saved)
    }

    /// [`Self::upsert`], saying whether it created or updated the merchant.
    async fn upsert_as(&self, merchant: &Merchant) -> Result<(Merchant, Change), Error> {
        let merchants = self.client.merchants();
        let code = merchant
            .code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                Error::Config(
                    "the merchant has no code, so it cannot be written idempotently".into(),
                )
            })?;
        let updated = |saved: Merchant| (saved, Change::Updated);
        match merchants.find_by_code(code).await? {
            Some(existing) => {
                let mut update = merchant.clone();
                update.id = existing.id;
                merchants.update(&update).await.map(updated)
            }
            None => match merchants.create(merchant).await {
                Ok(saved) => Ok((saved, Change::Created)),
                // Lost a race with another writer of the same code (a business
                // refusal such as YonBIP's 999 已存在): update it instead.
                Err(insert_error @ Error::Api(_)) => match merchants.find_by_code(code).await {
                    Ok(Some(existing)) => {
                        let mut update = merchant.clone();
                        update.id = existing.id;
                        merchants.update(&update).await.map(updated)
                    }
                    _ => Err(insert_error),
                },
                Err(e) => Err(e),
            },
        }
    }
}

#[async_trait]
impl Sink for MerchantSink {
    type Item = Merchant;

    fn max_batch_size(&self) -> usize {
        self.batch
    }

    async fn write(
        &self,
        batch: &[SinkRecord<Merchant>],
    ) -> Result<Vec<WriteOutcome>, integration_core::Error> {
        // A deletion is not written (`None`).
        // (Collected first: a lazy iterator of closures here trips the
        // compiler's `Send` check of the async trait method.)
        let writes: Vec<OptionFuture<_>> = batch
            .iter()
            .map(|record| {
                (record.op != Op::Delete)
                    .then(|| self.upsert_as(&record.data))
                    .into()
            })
            .collect();
        let results: Vec<_> = futures::stream::iter(writes)
            .buffered(self.concurrency)
            .collect()
            .await;
        let mut outcomes = Vec::with_capacity(batch.len());
        for (record, result) in batch.iter().zip(results) {
            let Some(result) = result else {
                let code = record.data.code.as_deref().unwrap_or("(no code)");
                outcomes.push(WriteOutcome::Skipped {
                    reason: format!(
                        "deleted in the source; deleting YonBIP merchants is not supported, so merchant {code} is left as is"
                    ),
                });
                continue;
            };
            match result {
                Ok((saved, change)) => outcomes.push(WriteOutcome::written_as(
                    change,
                    saved.id.map(|id| id.to_string()).or(saved.code),
                )),
                Err(e) if e.kind() == ErrorKind::Auth => return Err(e.into()),
                Err(Error::Config(message)) => {
                    outcomes.push(WriteOutcome::Failed(RecordError::permanent(message)))
                }
                Err(e) => {
                    let retryable = e.is_retryable() || e.is_auth_expired();
                    let core: integration_core::Error = e.into();
                    let mut failure = RecordError::from(&core);
                    failure.retryable = retryable;
                    outcomes.push(WriteOutcome::Failed(failure));
                }
            }
        }
        Ok(outcomes)
    }
}
