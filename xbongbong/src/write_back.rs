//! [`WriteBack`] into one field of a module's records: the target's id or
//! number goes into a custom field with `edit` (only that attr is sent),
//! e.g. the K/3 Cloud customer number into a customer's `text_5`.

use async_trait::async_trait;
use integration_core::{WriteBack, WriteBackOutcome, WriteBackRecord};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::records::{Module, Record};

/// Writes the value into field `attr` of records of form `form_id`; a
/// record whose field holds the value already is left alone (no call).
#[derive(Debug, Clone)]
pub struct FieldWriteBack {
    client: Client,
    module: Module,
    form_id: i64,
    attr: String,
}

impl FieldWriteBack {
    /// Writes into field `attr` of form `form_id` of `module` (a text field:
    /// the value is sent as text).
    pub fn new(client: Client, module: Module, form_id: i64, attr: impl Into<String>) -> Self {
        Self {
            client,
            module,
            form_id,
            attr: attr.into(),
        }
    }

    /// The field written.
    pub fn attr(&self) -> &str {
        &self.attr
    }

    /// Whether `record` holds `value` in the field already (as text, or as
    /// a number with the same text).
    fn holds(&self, record: &Record, value: &str) -> bool {
        match record.data.get(&self.attr) {
            Some(Value::String(s)) => s == value,
            Some(Value::Number(n)) => n.to_string() == value,
            _ => false,
        }
    }
}

#[async_trait]
impl WriteBack for FieldWriteBack {
    type Item = Record;

    async fn write_back(
        &self,
        record: &WriteBackRecord<Record>,
    ) -> Result<WriteBackOutcome, integration_core::Error> {
        if self.holds(&record.source, &record.value) {
            return Ok(WriteBackOutcome::Unchanged);
        }
        let mut data = Map::new();
        data.insert(self.attr.clone(), Value::String(record.value.clone()));
        self.client
            .records(self.module.clone())
            .update(Some(self.form_id), &record.source.data_id, &data)
            .await
            .map_err(integration_core::Error::from)?;
        Ok(WriteBackOutcome::Written)
    }
}
