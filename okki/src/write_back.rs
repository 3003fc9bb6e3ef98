//! [`WriteBack`] into one custom field of OKKI companies: the target's id
//! or number (e.g. the YonBIP merchant code) goes into a company custom
//! field with [`Companies::set_fields`](crate::Companies::set_fields),
//! which changes no other field and no contact.

use async_trait::async_trait;
use integration_core::{WriteBack, WriteBackOutcome, WriteBackRecord};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::companies::Company;

/// Writes the value into the company custom field `field_id` (its numeric
/// id, from `GET /v1/company/fields?type=company`); a company holding the
/// value already is left alone (no call).
#[derive(Debug, Clone)]
pub struct CompanyFieldWriteBack {
    client: Client,
    field_id: String,
}

impl CompanyFieldWriteBack {
    /// Writes into custom field `field_id` of companies.
    pub fn new(client: Client, field_id: impl Into<String>) -> Self {
        Self {
            client,
            field_id: field_id.into(),
        }
    }

    /// The field written.
    pub fn field_id(&self) -> &str {
        &self.field_id
    }

    /// Whether `company` holds `value` in the field: a top-level key named
    /// by the field id (a text, a number, or a list of one text), or an
    /// entry of `external_field_data` (a map of id → value, or a list of
    /// `{id, value}`), as the fact sheet says both occur.
    fn holds(&self, company: &Company, value: &str) -> bool {
        let is = |v: &Value| match v {
            Value::String(s) => s == value,
            Value::Number(n) => n.to_string() == value,
            Value::Array(items) => items.len() == 1 && items.first().is_some_and(|i| i == value),
            _ => false,
        };
        if company.extra.get(&self.field_id).is_some_and(is) {
            return true;
        }
        match company.extra.get("external_field_data") {
            Some(Value::Object(fields)) => fields.get(&self.field_id).is_some_and(is),
            Some(Value::Array(fields)) => fields.iter().any(|f| {
                let id = f.get("id").or_else(|| f.get("field_id"));
                let id = id.map(|id| match id {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                id.as_deref() == Some(self.field_id.as_str()) && f.get("value").is_some_and(is)
            }),
            _ => false,
        }
    }
}

#[async_trait]
impl WriteBack for CompanyFieldWriteBack {
    type Item = Company;

    async fn write_back(
        &self,
        record: &WriteBackRecord<Company>,
    ) -> Result<WriteBackOutcome, integration_core::Error> {
        if self.holds(&record.source, &record.value) {
            return Ok(WriteBackOutcome::Unchanged);
        }
        let mut fields = Map::new();
        fields.insert(self.field_id.clone(), Value::String(record.value.clone()));
        self.client
            .companies()
            .set_fields(&record.source.company_id, &fields)
            .await
            .map_err(integration_core::Error::from)?;
        Ok(WriteBackOutcome::Written)
    }
}
