//! Writing to K/3 Cloud: upsert by number through BatchSave.
//!
//! # How upserts work
//! Before each BatchSave the sink looks the batch's numbers up with one
//! ExecuteBillQuery (`<number field> in ('…', …)`, plus an optional
//! organisation filter) and puts the existing internal id (`FCUSTID`,
//! `FID`) into the model, so the save updates that record; numbers not
//! found are created. `NumberSearch` is not relied on: it resolves base-data
//! *references* by number, not the record's own identity, and a second
//! create of an existing number is refused as a duplicate (`MsgCode` 11,
//! validation failed, with the model's error by `DIndex`); such a refusal
//! (another writer, or a save applied although its answer timed out and
//! then sent again by the transport) is looked up once more and saved as an
//! update. A record whose number appears twice in a batch is written in a
//! later round, after the first occurrence exists, so it becomes an update.
//! A rerun after a crash finds the records already written and updates
//! them: nothing is duplicated.
//!
//! A deleted source record ([`Op::Delete`]) is skipped with a reason in the
//! run report: deleting base data or bills in K/3 Cloud needs UnAudit and
//! Delete, which a sync job should decide on, not the sink.
//!
//! Every record gets exactly one [`WriteOutcome`], read from
//! `SuccessEntitys` and `Errors` by `DIndex` whatever the answer's
//! `MsgCode`; refused records carry Kingdee's own messages and code, and
//! are permanent failures unless the code says "later" (13, another user
//! holds the lock; 14, the call limit). A whole batch refused for the
//! session, permission or licence (1, 2, 7) is an error of the call.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use async_trait::async_trait;
use futures::TryStreamExt;
use integration_core::{Change, Op, RecordError, Sink, SinkRecord, WriteOutcome};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, MsgClass};
use crate::models::{Customer, FormModel, SaleOrder};
use crate::operations::{FieldError, ModelOutcome, SaveOptions};

/// The default number of models per BatchSave call.
pub const DEFAULT_BATCH_SIZE: usize = 100;

/// Settings of a [`FormSink`].
#[derive(Debug, Clone, PartialEq)]
pub struct FormSinkConfig {
    /// The form id, e.g. `BD_Customer`.
    pub form_id: String,
    /// The primary-key field set on updates (`FCUSTID`, `FID`).
    pub id_field: String,
    /// The number field used as the business key (`FNumber`, `FBillNo`).
    pub number_field: String,
    /// Models per BatchSave call (≥ 1).
    pub batch_size: usize,
    /// BatchSave options (e.g. `IsAutoSubmitAndAudit`).
    pub options: SaveOptions,
    /// Extra condition for the number look-up, e.g.
    /// `FUseOrgId.FNumber = '100'` when base data is allocated to several
    /// organisations under one number.
    pub lookup_filter: Option<String>,
    /// Look numbers up and update existing records (default true). When
    /// false every record is sent as given.
    pub upsert: bool,
}

impl FormSinkConfig {
    /// Settings for `form_id` with the given id and number fields.
    pub fn new(
        form_id: impl Into<String>,
        id_field: impl Into<String>,
        number_field: impl Into<String>,
    ) -> Self {
        Self {
            form_id: form_id.into(),
            id_field: id_field.into(),
            number_field: number_field.into(),
            batch_size: DEFAULT_BATCH_SIZE,
            options: SaveOptions::default(),
            lookup_filter: None,
            upsert: true,
        }
    }
}

/// A BatchSave sink for one form. `T` is a typed model ([`Customer`],
/// [`SaleOrder`]) or `serde_json::Value` for models produced by a
/// declarative mapping.
pub struct FormSink<T = Value> {
    client: Client,
    config: FormSinkConfig,
    _item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for FormSink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormSink")
            .field("client", &self.client)
            .field("config", &self.config)
            .finish()
    }
}

impl<T> Clone for FormSink<T> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            config: self.config.clone(),
            _item: PhantomData,
        }
    }
}

/// Customers (`BD_Customer`) upserted by `FNumber`.
pub type CustomerSink = FormSink<Customer>;
/// Sales orders (`SAL_SaleOrder`) upserted by `FBillNo`.
pub type SaleOrderSink = FormSink<SaleOrder>;
/// JSON models of any form.
pub type JsonFormSink = FormSink<Value>;

impl<T: FormModel> FormSink<T> {
    /// A sink for `T`'s form.
    pub fn new(client: Client) -> Self {
        Self::with_config(
            client,
            FormSinkConfig::new(T::FORM_ID, T::ID_FIELD, T::NUMBER_FIELD),
        )
    }
}

impl FormSink<Value> {
    /// A sink of JSON models for `form_id`.
    pub fn json(
        client: Client,
        form_id: impl Into<String>,
        id_field: impl Into<String>,
        number_field: impl Into<String>,
    ) -> Self {
        Self::with_config(client, FormSinkConfig::new(form_id, id_field, number_field))
    }
}

impl<T> FormSink<T> {
    /// A sink with explicit settings.
    pub fn with_config(client: Client, config: FormSinkConfig) -> Self {
        Self {
            client,
            config,
            _item: PhantomData,
        }
    }

    /// Sets the number of models per BatchSave call.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.config.batch_size = size.max(1);
        self
    }

    /// Sets the BatchSave options.
    pub fn options(mut self, options: SaveOptions) -> Self {
        self.config.options = options;
        self
    }

    /// Sets the extra condition of the number look-up.
    pub fn lookup_filter(mut self, filter: impl Into<String>) -> Self {
        self.config.lookup_filter = Some(filter.into());
        self
    }

    /// Turns the number look-up on or off.
    pub fn upsert(mut self, upsert: bool) -> Self {
        self.config.upsert = upsert;
        self
    }

    /// The settings.
    pub fn config(&self) -> &FormSinkConfig {
        &self.config
    }

    fn number_of(&self, model: &Map<String, Value>) -> Option<String> {
        match model.get(&self.config.number_field)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Existing ids by number.
    async fn lookup(&self, numbers: &[String]) -> Result<HashMap<String, Value>, Error> {
        let mut found = HashMap::new();
        if numbers.is_empty() || !self.config.upsert {
            return Ok(found);
        }
        let quoted: Vec<String> = numbers
            .iter()
            .map(|n| format!("'{}'", n.replace('\'', "''")))
            .collect();
        let mut filter = format!("{} in ({})", self.config.number_field, quoted.join(","));
        if let Some(extra) = &self.config.lookup_filter {
            filter = format!("({filter}) and ({extra})");
        }
        let form = self.client.form(&self.config.form_id);
        let query = form
            .query([&self.config.id_field, &self.config.number_field])
            .filter(filter)
            .limit(numbers.len().clamp(1, crate::query::MAX_LIMIT as usize) as u32);
        let mut rows = std::pin::pin!(form.stream::<(Value, Value)>(query));
        while let Some((id, number)) = rows.try_next().await? {
            let number = match number {
                Value::String(s) => s,
                other => other.to_string(),
            };
            found.entry(number).or_insert(id);
        }
        Ok(found)
    }

    /// Writes one chunk (unique numbers); fills `outcomes` at `positions`.
    async fn write_chunk(
        &self,
        positions: &[usize],
        models: &mut [Option<Map<String, Value>>],
        outcomes: &mut [Option<WriteOutcome>],
    ) -> Result<(), Error> {
        let numbers: Vec<String> = positions
            .iter()
            .filter_map(|&i| models[i].as_ref().and_then(|m| self.number_of(m)))
            .collect();
        let existing = self.lookup(&numbers).await?;
        let mut batch = Vec::with_capacity(positions.len());
        let (mut created, mut updated) = (Vec::new(), HashSet::new());
        for (k, &i) in positions.iter().enumerate() {
            let mut model = models[i].take().unwrap_or_default();
            match self.number_of(&model).and_then(|n| existing.get(&n)) {
                Some(id) => {
                    model.insert(self.config.id_field.clone(), id.clone());
                    updated.insert(k);
                }
                None => created.push(k),
            }
            batch.push(Value::Object(model));
        }
        let mut results = self.save(&batch).await?;
        // A create refused because its number exists by now: another writer
        // created it, or a save whose answer timed out was applied and the
        // transport sent it again. Looked up once more, it becomes an update.
        let clashed: Vec<usize> = created.into_iter().filter(|&k| results[k].1).collect();
        if !clashed.is_empty() {
            let number = |k: usize| batch[k].as_object().and_then(|m| self.number_of(m));
            let numbers: Vec<String> = clashed.iter().filter_map(|&k| number(k)).collect();
            let existing = self.lookup(&numbers).await?;
            let (mut at, mut again) = (Vec::new(), Vec::new());
            for &k in &clashed {
                if let (Some(id), Value::Object(model)) =
                    (number(k).and_then(|n| existing.get(&n)), &batch[k])
                {
                    let mut model = model.clone();
                    model.insert(self.config.id_field.clone(), id.clone());
                    at.push(k);
                    updated.insert(k);
                    again.push(Value::Object(model));
                }
            }
            if !again.is_empty() {
                let second = self.save(&again).await?;
                for (k, result) in at.into_iter().zip(second) {
                    results[k] = result;
                }
            }
        }
        // With the look-up on, a model saved with its id updated a record;
        // one saved without created it.
        for (k, (&i, (outcome, _))) in positions.iter().zip(results).enumerate() {
            outcomes[i] = Some(match outcome {
                WriteOutcome::Written { target_id, .. } if self.config.upsert => {
                    let change = if updated.contains(&k) {
                        Change::Updated
                    } else {
                        Change::Created
                    };
                    WriteOutcome::written_as(change, target_id)
                }
                other => other,
            });
        }
        Ok(())
    }

    /// One BatchSave: each model's outcome, and whether it was refused
    /// because its number is taken.
    async fn save(&self, batch: &[Value]) -> Result<Vec<(WriteOutcome, bool)>, Error> {
        let result = self
            .client
            .batch_save(&self.config.form_id, batch, &self.config.options)
            .await?;
        let code = (result.status.msg_code != 0).then(|| result.status.msg_code.to_string());
        // Refused models are the record's own business (validation, MsgCode
        // 11, ...) unless the code says "later": a lock held by another
        // user, or the call limit reached midway.
        let retryable = matches!(
            result.status.class(),
            MsgClass::Locked | MsgClass::Throttled
        );
        let unreported = if result.status.is_success {
            "K/3 Cloud reported neither a success nor an error for this model".to_owned()
        } else {
            format!(
                "K/3 Cloud reported no outcome for this model; the answer said: {}",
                result.status.message()
            )
        };
        Ok(result
            .outcomes(batch.len())
            .into_iter()
            .map(|outcome| match outcome {
                ModelOutcome::Saved(s) => {
                    let target_id =
                        s.id.map(|id| id.to_string())
                            .filter(|id| !id.is_empty())
                            .or(s.number);
                    (WriteOutcome::written_as(Change::Unknown, target_id), false)
                }
                ModelOutcome::Failed(errors) => {
                    let taken = errors.iter().any(|e| self.number_taken(e));
                    let message = errors
                        .iter()
                        .map(|e| e.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    let mut e = if retryable {
                        RecordError::retryable(message)
                    } else {
                        RecordError::permanent(message)
                    };
                    e.code = code.clone();
                    (WriteOutcome::Failed(e), taken)
                }
                ModelOutcome::Unreported => (
                    WriteOutcome::Failed(RecordError::retryable(unreported.clone())),
                    false,
                ),
            })
            .collect())
    }

    /// Whether Kingdee refused a model because its number is taken
    /// (`违反字段唯一性要求：编码唯一…`): a message about uniqueness on the
    /// number field or on no field (an assumption; see the crate's
    /// Assumptions).
    fn number_taken(&self, e: &FieldError) -> bool {
        e.message.contains("唯一")
            && e.field_name
                .as_deref()
                .is_none_or(|f| f.eq_ignore_ascii_case(&self.config.number_field))
    }
}

#[async_trait]
impl<T: Serialize + Send + Sync + 'static> Sink for FormSink<T> {
    type Item = T;

    fn max_batch_size(&self) -> usize {
        self.config.batch_size.max(1)
    }

    async fn write(
        &self,
        batch: &[SinkRecord<T>],
    ) -> Result<Vec<WriteOutcome>, integration_core::Error> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; batch.len()];
        let mut models: Vec<Option<Map<String, Value>>> = vec![None; batch.len()];
        // Rounds: the k-th occurrence of a number goes to round k.
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, record) in batch.iter().enumerate() {
            if record.op == Op::Delete {
                outcomes[i] = Some(WriteOutcome::Skipped {
                    reason: "the K/3 Cloud sink does not delete; deletions need UnAudit + Delete"
                        .to_owned(),
                });
                continue;
            }
            let model = match serde_json::to_value(&record.data) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    outcomes[i] = Some(WriteOutcome::Failed(RecordError::permanent(
                        "the model is not a JSON object",
                    )));
                    continue;
                }
                Err(e) => {
                    outcomes[i] = Some(WriteOutcome::Failed(RecordError::permanent(format!(
                        "the model cannot be serialised: {e}"
                    ))));
                    continue;
                }
            };
            let round = match self.number_of(&model) {
                Some(n) => {
                    let count = seen.entry(n).or_insert(0);
                    *count += 1;
                    *count - 1
                }
                None => 0,
            };
            if rounds.len() <= round {
                rounds.resize_with(round + 1, Vec::new);
            }
            rounds[round].push(i);
            models[i] = Some(model);
        }
        let mut written_any = false;
        for round in rounds {
            for chunk in round.chunks(self.config.batch_size.max(1)) {
                match self.write_chunk(chunk, &mut models, &mut outcomes).await {
                    Ok(()) => written_any = true,
                    Err(e) if !written_any => return Err(e.into()),
                    Err(e) => {
                        let core: integration_core::Error = e.into();
                        for &i in chunk {
                            outcomes[i] = Some(WriteOutcome::Failed(RecordError::from(&core)));
                        }
                    }
                }
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| WriteOutcome::Failed(RecordError::retryable("not written")))
            })
            .collect())
    }
}
