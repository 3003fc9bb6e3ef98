//! [`Sink`] of customers and contracts (or any module): add, or edit when
//! the record's key is known, after checking the record against its form.

use async_trait::async_trait;
use integration_core::error::Failure;
use integration_core::types::Id;
use integration_core::{Change, ErrorKind, Op, RecordError, Sink, SinkRecord, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::client::Client;
use crate::error::Error;
use crate::form::FormExplain;
use crate::records::{Condition, ListQuery, Module};
use crate::validate::ValidationOptions;

/// A record to write: its field values (flat encoding) and, when known, the
/// xbongbong `dataId` to edit.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordWrite {
    /// Edit this record instead of looking it up / adding.
    #[serde(default)]
    pub data_id: Option<Id>,
    /// The values by attr.
    pub data: Map<String, Value>,
}

impl RecordWrite {
    /// A record to add (or upsert by the sink's key).
    pub fn new(data: Map<String, Value>) -> Self {
        Self {
            data_id: None,
            data,
        }
    }
}

/// Writes records of one form. Idempotent when a key attr is set
/// ([`RecordSink::upsert_on`]): the record with the same key value is
/// looked up (`equal` condition) and edited instead of adding a duplicate.
/// Every record is checked against the form first; problems become a
/// permanent failure naming the fields. One call per record (writes are
/// limited to 3 per second).
#[derive(Debug, Clone)]
pub struct RecordSink {
    client: Client,
    module: Module,
    form_id: i64,
    key_attr: Option<String>,
    validate: bool,
    form: std::sync::Arc<OnceCell<FormExplain>>,
}

impl RecordSink {
    /// A sink into form `form_id` of `module`.
    pub fn new(client: Client, module: Module, form_id: i64) -> Self {
        Self {
            client,
            module,
            form_id,
            key_attr: None,
            validate: true,
            form: std::sync::Arc::default(),
        }
    }
    /// Customers.
    pub fn customers(client: Client, form_id: i64) -> Self {
        Self::new(client, Module::Customer, form_id)
    }
    /// Contracts.
    pub fn contracts(client: Client, form_id: i64) -> Self {
        Self::new(client, Module::Contract, form_id)
    }
    /// Upserts on this attr (e.g. `serialNo` for contracts, `text_1` for
    /// customer names).
    pub fn upsert_on(mut self, attr: impl Into<String>) -> Self {
        self.key_attr = Some(attr.into());
        self
    }
    /// Whether records are checked against the form (default true).
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    async fn form(&self) -> Result<&FormExplain, Error> {
        self.form
            .get_or_try_init(|| async { self.client.forms().get(self.form_id).await })
            .await
    }

    async fn find(&self, data: &Map<String, Value>) -> Result<Option<Id>, Error> {
        let Some(attr) = &self.key_attr else {
            return Ok(None);
        };
        let Some(value) = data.get(attr).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let query = ListQuery::form(self.form_id)
            .condition(Condition::equal(attr.clone(), value.clone()))
            .page_size(2);
        let page = self
            .client
            .records(self.module.clone())
            .list(&query)
            .await?;
        match page.items.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.data_id.clone())),
            _ => Err(Error::Api(
                Failure::new(
                    format!("{}/list", self.module.path()),
                    format!(
                        "{} records have {attr} = {value}; refusing to guess",
                        page.items.len()
                    ),
                )
                .with_code(0_i64),
            )),
        }
    }

    async fn write_one(&self, record: &SinkRecord<RecordWrite>) -> Result<WriteOutcome, Error> {
        let records = self.client.records(self.module.clone());
        if record.op == Op::Delete {
            return Ok(match &record.data.data_id {
                Some(id) => {
                    records.delete(id.clone()).await?;
                    WriteOutcome::written(id.to_string())
                }
                None => WriteOutcome::Skipped {
                    reason: "delete without a dataId".into(),
                },
            });
        }
        let data = &record.data.data;
        let existing = match &record.data.data_id {
            Some(id) => Some(id.clone()),
            None => self.find(data).await?,
        };
        if self.validate {
            let form = self.form().await?;
            let options = if existing.is_some() {
                ValidationOptions::for_edit()
            } else {
                ValidationOptions::default()
            };
            if let Err(problems) = form.validate_with(data, &options) {
                return Ok(WriteOutcome::Failed(
                    RecordError::permanent(problems.to_string()).with_code("validation"),
                ));
            }
        }
        let result = match &existing {
            Some(id) => records.update(Some(self.form_id), id, data).await?,
            None => records.create(Some(self.form_id), data).await?,
        };
        let id = result.data_id.or(existing).map(|i| i.to_string());
        Ok(WriteOutcome::written_as(Change::Unknown, id))
    }
}

#[async_trait]
impl Sink for RecordSink {
    type Item = RecordWrite;

    fn max_batch_size(&self) -> usize {
        1
    }

    async fn write(
        &self,
        batch: &[SinkRecord<RecordWrite>],
    ) -> Result<Vec<WriteOutcome>, integration_core::Error> {
        let mut outcomes = Vec::with_capacity(batch.len());
        for record in batch {
            match self.write_one(record).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => {
                    let core: integration_core::Error = e.into();
                    // Credentials or the form itself failing stop the batch.
                    if matches!(core.kind(), ErrorKind::Auth | ErrorKind::AuthExpired) {
                        return Err(core);
                    }
                    outcomes.push(WriteOutcome::Failed(RecordError::from(&core)));
                }
            }
        }
        Ok(outcomes)
    }
}
