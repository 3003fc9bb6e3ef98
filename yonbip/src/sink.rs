//! [`MerchantSink`]: writes merchants idempotently by merchant code.

use async_trait::async_trait;
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
/// by record, in order, with one [`WriteOutcome`] each. Business errors
/// (validation, duplicates) fail only their record; a rejected credential
/// fails the whole batch (every record would fail the same way).
#[derive(Debug, Clone)]
pub struct MerchantSink {
    client: Client,
    batch: usize,
}

impl MerchantSink {
    /// A sink writing through `client`, 20 records per batch.
    pub fn new(client: Client) -> Self {
        Self { client, batch: 20 }
    }

    /// Sets how many records one [`Sink::write`] takes (at least 1).
    pub fn with_batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
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
        let mut outcomes = Vec::with_capacity(batch.len());
        for record in batch {
            if record.op == Op::Delete {
                let code = record.data.code.as_deref().unwrap_or("(no code)");
                outcomes.push(WriteOutcome::Skipped {
                    reason: format!(
                        "deleted in the source; deleting YonBIP merchants is not supported, so merchant {code} is left as is"
                    ),
                });
                continue;
            }
            match self.upsert_as(&record.data).await {
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
