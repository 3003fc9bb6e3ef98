//! Reading any form through ExecuteBillQuery, incrementally on a
//! modification-date field.
//!
//! Each read asks for `<modified field> >= '<checkpoint − overlap>'` (Beijing
//! time, the site's local time), ordered by the modified field and then the
//! key field, and pages with `StartRow`/`Limit` until a short page. Because
//! rows come in modification order, each page's checkpoint (the highest
//! modification time seen so far) is safe to store once the page is
//! processed. The overlap re-reads records near the checkpoint; sinks
//! upsert, so re-reading is harmless.

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use integration_core::types::BeijingTime;
use integration_core::{Checkpoint, HighWater, Page, Source, SourceRecord};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Error;
use crate::query::{BillQuery, DEFAULT_PAGE_SIZE, MAX_LIMIT};

/// Settings of a [`FormSource`].
#[derive(Debug, Clone, PartialEq)]
pub struct FormSourceConfig {
    /// The form id, e.g. `BD_Customer`.
    pub form_id: String,
    /// The field keys to read (the key and modified fields are added when
    /// missing).
    pub field_keys: Vec<String>,
    /// The field whose value is the record key (`FNumber`, `FID`, ...).
    pub key_field: String,
    /// The modification-date field (`FModifyDate`).
    pub modified_field: String,
    /// How far before the checkpoint each incremental read starts.
    pub overlap: Duration,
    /// Rows per page (clamped to [`MAX_LIMIT`]).
    pub page_size: u32,
    /// An extra condition, e.g. `FDocumentStatus = 'C'`.
    pub filter: Option<String>,
}

impl FormSourceConfig {
    /// Reads `field_keys` of `form_id`, keyed by `key_field`, incremental on
    /// `FModifyDate` with a 10-minute overlap.
    pub fn new<S: Into<String>>(
        form_id: impl Into<String>,
        key_field: impl Into<String>,
        field_keys: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            form_id: form_id.into(),
            field_keys: field_keys.into_iter().map(Into::into).collect(),
            key_field: key_field.into(),
            modified_field: "FModifyDate".to_owned(),
            overlap: Duration::from_secs(600),
            page_size: DEFAULT_PAGE_SIZE,
            filter: None,
        }
    }

    fn keys(&self) -> Vec<String> {
        let mut keys = self.field_keys.clone();
        for needed in [&self.key_field, &self.modified_field] {
            if !keys.iter().any(|k| k.eq_ignore_ascii_case(needed)) {
                keys.push(needed.clone());
            }
        }
        keys
    }
}

/// A source of rows of any form. Each row is an object keyed by field key,
/// decoded into `T` (default: the JSON object itself).
pub struct FormSource<T = Map<String, Value>> {
    client: Client,
    config: FormSourceConfig,
    _item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for FormSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormSource")
            .field("client", &self.client)
            .field("config", &self.config)
            .finish()
    }
}

impl<T> FormSource<T> {
    /// A source with these settings.
    pub fn new(client: Client, config: FormSourceConfig) -> Self {
        Self {
            client,
            config,
            _item: PhantomData,
        }
    }

    /// The settings.
    pub fn config(&self) -> &FormSourceConfig {
        &self.config
    }

    /// The query of the page starting at `start_row`.
    pub fn query(&self, checkpoint: Option<&Checkpoint>, start_row: u64) -> BillQuery {
        let c = &self.config;
        let mut conditions = Vec::new();
        if let Some(extra) = &c.filter {
            conditions.push(format!("({extra})"));
        }
        if let Some(since) = Checkpoint::since(checkpoint, c.overlap) {
            conditions.push(format!(
                "{} >= '{}'",
                c.modified_field,
                BeijingTime::from_utc(since)
            ));
        }
        BillQuery::new(&c.form_id, self.config.keys())
            .filter(conditions.join(" and "))
            .order(format!("{} ASC, {} ASC", c.modified_field, c.key_field))
            .start_row(start_row)
            .limit(c.page_size.clamp(1, MAX_LIMIT))
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[async_trait]
impl<T: DeserializeOwned + Serialize + Send + Sync + 'static> Source for FormSource<T> {
    type Item = T;
    /// The `StartRow` of the page.
    type Cursor = u64;

    async fn read(
        &self,
        checkpoint: Option<&Checkpoint>,
        cursor: Option<u64>,
    ) -> Result<Page<T, u64>, integration_core::Error> {
        let start = cursor.unwrap_or(0);
        let query = self.query(checkpoint, start);
        let keys = self.config.keys();
        let rows = self.client.execute_bill_query_rows(&query).await?;
        let mut high = HighWater::new(checkpoint);
        let mut records = Vec::with_capacity(rows.len());
        let count = rows.len() as u64;
        for row in rows {
            let object: Map<String, Value> = keys.iter().cloned().zip(row).collect();
            let key = object
                .get(&self.config.key_field)
                .and_then(text_of)
                .ok_or_else(|| {
                    let what = format!("a row has no {}", self.config.key_field);
                    Error::decode("ExecuteBillQuery", what, &Value::Object(object.clone()))
                })?;
            if let Some(t) = object
                .get(&self.config.modified_field)
                .and_then(Value::as_str)
                .and_then(BeijingTime::parse)
            {
                high.observe(t.to_utc());
            }
            let row = Value::Object(object);
            let data: T = serde_json::from_value(row.clone()).map_err(|e| {
                let what = format!("a row does not fit the record type ({e})");
                Error::decode("ExecuteBillQuery", what, &row)
            })?;
            records.push(SourceRecord::upsert(key, data));
        }
        let next = (count >= u64::from(query.limit)).then_some(start + count);
        Ok(Page {
            records,
            next,
            checkpoint: high.checkpoint(),
            total: None,
        })
    }
}
