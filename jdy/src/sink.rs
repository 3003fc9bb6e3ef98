//! [`SaveSink`]: upserts customers, suppliers or materials by number.

use async_trait::async_trait;
use integration_core::{ErrorKind, RecordError, Sink, SinkRecord, WriteOutcome};

use crate::client::Client;
use crate::error::Error;
use crate::model::{Customer, Material, Saveable, Supplier};
use crate::query::ListQuery;
use crate::resources::{CUSTOMER, Endpoints, MATERIAL, Resource, SUPPLIER};

/// Writes basic-data records with the entity's save call, one call per
/// record, idempotently: a record without an `id` is first looked up by its
/// `number` (list with `search`, exact match), and when found it is saved
/// with that id, so it is updated instead of created twice.
///
/// Returns one outcome per record: `Written` with the saved id, or
/// `Failed` with jdy's code and message (throttling and transport failures
/// are marked retryable). Rejected credentials fail the whole batch.
#[derive(Debug, Clone)]
pub struct SaveSink<T> {
    resource: Resource<T, ListQuery>,
    max_batch: usize,
}

/// Saves customers (V2 `POST /jdy/v2/bd/customer`, V1 `customer_save`).
pub type CustomerSink = SaveSink<Customer>;
/// Saves materials (V2 `POST /jdy/v2/bd/material`).
pub type MaterialSink = SaveSink<Material>;
/// Saves suppliers (V2 `POST /jdy/v2/bd/supplier`, V1 `supplier_save`).
pub type SupplierSink = SaveSink<Supplier>;

impl SaveSink<Customer> {
    /// A customer sink.
    pub fn customers(client: Client) -> Self {
        Self::new(client, CUSTOMER)
    }
}

impl SaveSink<Material> {
    /// A material sink.
    pub fn materials(client: Client) -> Self {
        Self::new(client, MATERIAL)
    }
}

impl SaveSink<Supplier> {
    /// A supplier sink.
    pub fn suppliers(client: Client) -> Self {
        Self::new(client, SUPPLIER)
    }
}

impl<T: Saveable> SaveSink<T> {
    /// A sink for any saveable entity with these endpoints.
    pub fn new(client: Client, endpoints: Endpoints) -> Self {
        Self {
            resource: Resource::new(client, endpoints),
            max_batch: 50,
        }
    }

    /// Records handed over per [`Sink::write`] call (default 50; each is
    /// still one API call).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self
    }

    /// Finds the id of the record with this exact number.
    async fn find_by_number(
        &self,
        number: &str,
    ) -> Result<Option<integration_core::types::Id>, Error> {
        let query = ListQuery {
            search: Some(number.to_owned()),
            ..ListQuery::default()
        };
        let page = self.resource.list(&query).await?;
        Ok(page
            .items
            .into_iter()
            .find(|r| r.number() == Some(number))
            .and_then(|r| r.id().cloned()))
    }

    async fn upsert(&self, record: &T) -> Result<String, Error> {
        let mut record = record.clone();
        if record.id().is_none()
            && let Some(number) = record.number()
            && let Some(id) = self.find_by_number(number).await?
        {
            record.set_id(id);
        }
        let saved = self.resource.save(&record).await?;
        saved
            .ids
            .first()
            .or(record.id())
            .map(ToString::to_string)
            .ok_or_else(|| {
                Error::answer(
                    self.resource.endpoints().name,
                    "no_id",
                    "the save answer carried no id",
                    None,
                )
            })
    }
}

#[async_trait]
impl<T: Saveable> Sink for SaveSink<T> {
    type Item = T;

    fn max_batch_size(&self) -> usize {
        self.max_batch
    }

    async fn write(
        &self,
        batch: &[SinkRecord<T>],
    ) -> Result<Vec<WriteOutcome>, integration_core::Error> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for record in batch {
            if record.op == integration_core::Op::Delete {
                outcomes.push(WriteOutcome::Skipped {
                    reason: "jdy saves do not delete; deletes are not written".into(),
                });
                continue;
            }
            match self.upsert(&record.data).await {
                Ok(id) => outcomes.push(WriteOutcome::written(id)),
                Err(e) if e.kind() == ErrorKind::Auth => return Err(e.into()),
                Err(e) => {
                    let core: integration_core::Error = e.into();
                    let mut failure = RecordError::from(&core);
                    failure.retryable = core.is_retryable()
                        || matches!(
                            core.kind(),
                            ErrorKind::Transport
                                | ErrorKind::Timeout
                                | ErrorKind::RateLimited
                                | ErrorKind::AuthExpired
                        );
                    outcomes.push(WriteOutcome::Failed(failure));
                }
            }
        }
        Ok(outcomes)
    }
}
