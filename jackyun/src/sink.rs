//! Sink: customers into `crm.customer.add`, idempotent by `customerCode`.

// The Source/Sink traits return `integration_core::Error`, which is larger
// than clippy's `result_large_err` threshold; that is core's choice.
#![allow(clippy::result_large_err)]

use async_trait::async_trait;
use integration_core::{ErrorKind, Op, RecordError, Sink, SinkRecord, WriteOutcome};

use crate::client::Client;
use crate::customer::NewCustomer;
use crate::error::Error;

/// What the sink does when a customer with the same code already exists
/// (Jackyun's customer update method is not covered by this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnExisting {
    /// Report it written, with the existing customer's id (reruns are
    /// duplicate-free and the id map stays complete).
    #[default]
    Accept,
    /// Report it skipped, with the existing id in the reason.
    Skip,
}

/// Writes customers with `crm.customer.add`, one per call (the API takes
/// one). Before each add it looks the code up with
/// `crm.customer.list.customized`, so a rerun never creates a duplicate.
#[derive(Debug, Clone)]
pub struct CustomerSink {
    client: Client,
    on_existing: OnExisting,
}

impl CustomerSink {
    /// A sink writing with `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            on_existing: OnExisting::default(),
        }
    }

    /// What to do with customers that already exist.
    pub fn on_existing(mut self, on_existing: OnExisting) -> Self {
        self.on_existing = on_existing;
        self
    }

    fn existing(&self, code: &str, id: String) -> WriteOutcome {
        match self.on_existing {
            OnExisting::Accept => WriteOutcome::written(id),
            OnExisting::Skip => WriteOutcome::Skipped {
                reason: format!("customer {code} already exists in Jackyun (customerId {id})"),
            },
        }
    }

    /// Writes one record; `Err` only for failures that stop the batch
    /// (credentials, subscription).
    async fn write_one(
        &self,
        record: &SinkRecord<NewCustomer>,
    ) -> Result<WriteOutcome, integration_core::Error> {
        if record.op == Op::Delete {
            return Ok(WriteOutcome::Skipped {
                reason: "deleting customers is not supported by the Jackyun sink".into(),
            });
        }
        let customer = &record.data;
        let code = customer.customer_code.trim();
        if code.is_empty() {
            return Ok(WriteOutcome::Failed(RecordError::permanent(
                "customerCode is empty; the Jackyun sink needs it to stay idempotent",
            )));
        }
        let customers = self.client.customers();
        match customers.find_by_code(code).await {
            Ok(Some(found)) => return Ok(self.existing(code, found.customer_id.to_string())),
            Ok(None) => {}
            Err(e) => return failed(e),
        }
        match customers.create(customer).await {
            Ok(created) => Ok(WriteOutcome::written(
                created
                    .customer_id
                    .map_or_else(|| code.to_owned(), |id| id.to_string()),
            )),
            Err(e) => {
                // Another writer may have added it meanwhile: look again.
                if e.class().is_some()
                    && e.message().contains("已存在")
                    && let Ok(Some(found)) = customers.find_by_code(code).await
                {
                    return Ok(self.existing(code, found.customer_id.to_string()));
                }
                failed(e)
            }
        }
    }
}

fn failed(e: Error) -> Result<WriteOutcome, integration_core::Error> {
    let core: integration_core::Error = e.into();
    if core.kind() == ErrorKind::Auth {
        return Err(core);
    }
    Ok(WriteOutcome::Failed(RecordError::from(&core)))
}

#[async_trait]
impl Sink for CustomerSink {
    type Item = NewCustomer;

    fn max_batch_size(&self) -> usize {
        1
    }

    async fn write(
        &self,
        batch: &[SinkRecord<NewCustomer>],
    ) -> Result<Vec<WriteOutcome>, integration_core::Error> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for record in batch {
            outcomes.push(self.write_one(record).await?);
        }
        Ok(outcomes)
    }
}
