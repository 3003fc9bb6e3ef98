//! Form operations, generic over the form id: Save, BatchSave, Draft,
//! Submit, Audit, UnAudit, Delete, View, Allocate and ExcuteOperation, with
//! the `ResponseStatus` envelope they answer with.

use integration_core::error::Failure;
use integration_core::lenient;
use integration_core::types::Id;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::client::{Body, Client};
use crate::error::{Error, MsgClass, Result, classify, msg_code};

pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn code_or_zero<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    Ok(lenient::opt_i64(d)?.unwrap_or(msg_code::NONE))
}

/// A `DIndex`: an integer from 0 (a negative one is junk, not "no index").
fn d_index<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<usize>, D::Error> {
    lenient::opt_i64(d)?
        .map(|i| {
            usize::try_from(i)
                .map_err(|_| serde::de::Error::custom(format!("DIndex {i} is negative")))
        })
        .transpose()
}

/// One failure of `ResponseStatus.Errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field at fault, when Kingdee names one (`FName`).
    #[serde(rename = "FieldName", default)]
    pub field_name: Option<String>,
    /// Kingdee's message.
    #[serde(rename = "Message", default, deserialize_with = "null_default")]
    pub message: String,
    /// The 0-based position of the model in a BatchSave's `Model` array.
    #[serde(rename = "DIndex", default, deserialize_with = "d_index")]
    pub d_index: Option<usize>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One success of `ResponseStatus.SuccessEntitys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessEntity {
    /// The internal id (`FID` / `FCUSTID` ...).
    #[serde(rename = "Id", default)]
    pub id: Option<Id>,
    /// The document or base-data number.
    #[serde(rename = "Number", default)]
    pub number: Option<String>,
    /// The 0-based position of the model in a BatchSave's `Model` array.
    #[serde(rename = "DIndex", default, deserialize_with = "d_index")]
    pub d_index: Option<usize>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `Result.ResponseStatus` of every operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseStatus {
    /// False when anything failed (in a BatchSave, the other models are
    /// still saved).
    #[serde(rename = "IsSuccess", default)]
    pub is_success: bool,
    /// `ErrorCode` (e.g. 500 on failure).
    #[serde(rename = "ErrorCode", default, deserialize_with = "lenient::opt_i64")]
    pub error_code: Option<i64>,
    /// Failures, by `DIndex`.
    #[serde(rename = "Errors", default, deserialize_with = "null_default")]
    pub errors: Vec<FieldError>,
    /// Successes, by `DIndex`.
    #[serde(rename = "SuccessEntitys", default, deserialize_with = "null_default")]
    pub success_entitys: Vec<SuccessEntity>,
    /// Informational messages.
    #[serde(rename = "SuccessMessages", default, deserialize_with = "null_default")]
    pub success_messages: Vec<Value>,
    /// See [`crate::error::msg_code`].
    #[serde(rename = "MsgCode", default, deserialize_with = "code_or_zero")]
    pub msg_code: i64,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResponseStatus {
    /// The messages of `Errors`, joined by `; `, or a generic text.
    pub fn message(&self) -> String {
        let texts: Vec<String> = self
            .errors
            .iter()
            .map(|e| match &e.field_name {
                Some(f) if !f.is_empty() => format!("{f}: {}", e.message),
                _ => e.message.clone(),
            })
            .collect();
        if texts.is_empty() {
            format!(
                "operation failed (ErrorCode {})",
                self.error_code
                    .map_or_else(|| "none".to_owned(), |c| c.to_string())
            )
        } else {
            texts.join("; ")
        }
    }

    /// What the `MsgCode` means for the caller.
    pub fn class(&self) -> MsgClass {
        classify(self.msg_code)
    }

    /// Whether this answer fails the whole call rather than single models:
    /// nothing was saved and the code is about the session, the caller's
    /// rights or the call limit. Any other answer (validation failures with
    /// `MsgCode` 11 among them) is read model by model.
    pub fn fails_whole_call(&self) -> bool {
        !self.is_success
            && self.success_entitys.is_empty()
            && matches!(
                self.class(),
                MsgClass::SessionLost | MsgClass::Denied | MsgClass::Throttled
            )
    }

    /// This failure as an [`Error`], classified by `MsgCode`.
    pub fn into_error(self, api: &str) -> Error {
        let class = self.class();
        let message = match class {
            // What was denied goes into the message: it is what stops a run.
            MsgClass::Denied => format!("{}: {}", msg_code::meaning(self.msg_code), self.message()),
            _ => self.message(),
        };
        let failure = Failure::new(api, message).with_code(self.msg_code);
        match class {
            MsgClass::SessionLost => Error::AuthExpired(failure),
            MsgClass::Denied => Error::Auth(failure),
            MsgClass::Throttled => Error::Throttled(failure),
            MsgClass::Locked | MsgClass::Business => Error::Api(Box::new(failure), Box::new(self)),
        }
    }
}

/// Finds `Result.ResponseStatus` in an answer (also inside the `[[{...}]]`
/// and `[{...}]` wrappers query services use for errors).
pub(crate) fn find_status(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => map
            .get("Result")
            .and_then(|r| r.get("ResponseStatus"))
            .or_else(|| map.get("ResponseStatus"))
            .filter(|s| s.is_object()),
        Value::Array(items) if items.len() == 1 => find_status(&items[0]),
        _ => None,
    }
}

/// The `Result` of Save, BatchSave, Draft, Submit, Audit, UnAudit, Delete,
/// Allocate and ExcuteOperation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperationResult {
    /// The status with per-model successes and failures.
    #[serde(rename = "ResponseStatus", default, deserialize_with = "null_default")]
    pub status: ResponseStatus,
    /// The id of a single saved model.
    #[serde(rename = "Id", default)]
    pub id: Option<Id>,
    /// The number of a single saved model.
    #[serde(rename = "Number", default)]
    pub number: Option<String>,
    /// The fields asked for by `NeedReturnFields`, one object per model.
    #[serde(rename = "NeedReturnData", default, deserialize_with = "null_default")]
    pub need_return_data: Vec<Value>,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What happened to one model of a batch, read from `SuccessEntitys` and
/// `Errors` by `DIndex`.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelOutcome {
    /// Saved.
    Saved(SuccessEntity),
    /// Refused, with every message Kingdee gave for this model.
    Failed(Vec<FieldError>),
    /// Kingdee reported neither (should not happen; treated as a failure).
    Unreported,
}

impl OperationResult {
    /// The outcome of each of `count` models, in `Model` order.
    pub fn outcomes(&self, count: usize) -> Vec<ModelOutcome> {
        let mut out = vec![ModelOutcome::Unreported; count];
        for e in &self.status.errors {
            if let Some(slot) = e.d_index.and_then(|i| out.get_mut(i)) {
                match slot {
                    ModelOutcome::Failed(list) => list.push(e.clone()),
                    _ => *slot = ModelOutcome::Failed(vec![e.clone()]),
                }
            }
        }
        for s in &self.status.success_entitys {
            if let Some(slot) = s.d_index.and_then(|i| out.get_mut(i))
                && matches!(slot, ModelOutcome::Unreported)
            {
                *slot = ModelOutcome::Saved(s.clone());
            }
        }
        // A single-model call without DIndex: attribute unindexed errors.
        if count == 1 && matches!(out[0], ModelOutcome::Unreported) {
            if let Some(s) = self.status.success_entitys.first() {
                out[0] = ModelOutcome::Saved(s.clone());
            } else if !self.status.errors.is_empty() {
                out[0] = ModelOutcome::Failed(self.status.errors.clone());
            }
        }
        out
    }
}

/// Options of Save, BatchSave and Draft (the `data` object besides `Model`).
/// Unset options are not sent, so the service's defaults apply.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SaveOptions {
    /// Fields to update on an existing model (others keep their values).
    #[serde(
        rename = "NeedUpDateFields",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub need_update_fields: Vec<String>,
    /// Fields to return in `NeedReturnData`.
    #[serde(
        rename = "NeedReturnFields",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub need_return_fields: Vec<String>,
    /// Delete entry rows not sent (service default true).
    #[serde(rename = "IsDeleteEntry")]
    pub is_delete_entry: Option<bool>,
    /// Sub-system id.
    #[serde(rename = "SubSystemId")]
    pub sub_system_id: Option<String>,
    /// Check that referenced base data exists and is usable.
    #[serde(rename = "IsVerifyBaseDataField")]
    pub is_verify_base_data_field: Option<bool>,
    /// Fill entries in batch.
    #[serde(rename = "IsEntryBatchFill")]
    pub is_entry_batch_fill: Option<bool>,
    /// Run validation.
    #[serde(rename = "ValidateFlag")]
    pub validate_flag: Option<bool>,
    /// Resolve base-data references by number (`{"FNumber": ..}`).
    #[serde(rename = "NumberSearch")]
    pub number_search: Option<bool>,
    /// Adjust field values automatically.
    #[serde(rename = "IsAutoAdjustField")]
    pub is_auto_adjust_field: Option<bool>,
    /// Interaction flags.
    #[serde(rename = "InterationFlags")]
    pub interation_flags: Option<String>,
    /// Ignore interaction flags.
    #[serde(rename = "IgnoreInterationFlag")]
    pub ignore_interation_flag: Option<String>,
    /// Submit and audit after saving.
    #[serde(rename = "IsAutoSubmitAndAudit")]
    pub is_auto_submit_and_audit: Option<bool>,
    /// Server-side parallelism of a BatchSave.
    #[serde(rename = "BatchCount")]
    pub batch_count: Option<u32>,
    /// Other options, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SaveOptions {
    /// No options set.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets `NeedUpDateFields`.
    pub fn need_update_fields<S: Into<String>>(mut self, f: impl IntoIterator<Item = S>) -> Self {
        self.need_update_fields = f.into_iter().map(Into::into).collect();
        self
    }
    /// Sets `NeedReturnFields`.
    pub fn need_return_fields<S: Into<String>>(mut self, f: impl IntoIterator<Item = S>) -> Self {
        self.need_return_fields = f.into_iter().map(Into::into).collect();
        self
    }
    /// Sets `IsDeleteEntry`.
    pub fn is_delete_entry(mut self, v: bool) -> Self {
        self.is_delete_entry = Some(v);
        self
    }
    /// Sets `IsVerifyBaseDataField`.
    pub fn is_verify_base_data_field(mut self, v: bool) -> Self {
        self.is_verify_base_data_field = Some(v);
        self
    }
    /// Sets `IsAutoSubmitAndAudit`.
    pub fn is_auto_submit_and_audit(mut self, v: bool) -> Self {
        self.is_auto_submit_and_audit = Some(v);
        self
    }
    /// Sets `NumberSearch`.
    pub fn number_search(mut self, v: bool) -> Self {
        self.number_search = Some(v);
        self
    }
    /// Sets `BatchCount`.
    pub fn batch_count(mut self, v: u32) -> Self {
        self.batch_count = Some(v);
        self
    }
}

/// `data` of Submit, Audit, UnAudit, Delete and ExcuteOperation.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OperateRequest {
    /// Creating organisation id (`0` = any).
    #[serde(rename = "CreateOrgId", default)]
    pub create_org_id: i64,
    /// Numbers of the models.
    #[serde(rename = "Numbers", default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<String>,
    /// Internal ids, comma-separated.
    #[serde(rename = "Ids", default, skip_serializing_if = "String::is_empty")]
    pub ids: String,
    /// Interaction flags.
    #[serde(rename = "InterationFlags")]
    pub interation_flags: Option<String>,
    /// Other arguments, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OperateRequest {
    /// By numbers.
    pub fn numbers<S: Into<String>>(numbers: impl IntoIterator<Item = S>) -> Self {
        Self {
            numbers: numbers.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
    /// By internal ids.
    pub fn ids<I: std::fmt::Display>(ids: impl IntoIterator<Item = I>) -> Self {
        Self {
            ids: ids
                .into_iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
            ..Self::default()
        }
    }
}

/// `data` of View: by number or by internal id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewRequest {
    /// Creating organisation id (`0` = any).
    #[serde(rename = "CreateOrgId", default)]
    pub create_org_id: i64,
    /// The model's number.
    #[serde(rename = "Number", default)]
    pub number: String,
    /// The model's internal id.
    #[serde(rename = "Id", default)]
    pub id: String,
    /// Other arguments, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ViewRequest {
    /// By number.
    pub fn number(number: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            ..Self::default()
        }
    }
    /// By internal id.
    pub fn id(id: impl std::fmt::Display) -> Self {
        Self {
            id: id.to_string(),
            ..Self::default()
        }
    }
}

/// `data` of Allocate (分配 base data to other organisations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllocateRequest {
    /// Internal ids, comma-separated.
    #[serde(rename = "PkIds")]
    pub pk_ids: String,
    /// Target organisation ids, comma-separated.
    #[serde(rename = "TOrgIds")]
    pub t_org_ids: String,
    /// Submit and audit the allocated data.
    #[serde(rename = "IsAutoSubmitAndAudit", default)]
    pub is_auto_submit_and_audit: bool,
    /// Other arguments, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn to_value<T: Serialize>(api: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::invalid(api, format!("cannot serialise: {e}")))
}

fn with_model(api: &str, options: &SaveOptions, model: Value) -> Result<Value> {
    let mut data = match to_value(api, options)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    data.insert("Model".to_owned(), model);
    Ok(Value::Object(data))
}

/// Decodes `Result` of an operation answer.
pub(crate) fn decode_result(api: &str, value: &Value) -> Result<OperationResult> {
    let result = value
        .get("Result")
        .ok_or_else(|| Error::decode(api, "no Result in the answer", value))?;
    lenient::decode(result.clone())
        .map_err(|e| Error::decode(api, format!("unexpected Result ({e})"), value))
}

/// Ok unless `IsSuccess` is false with no success at all.
fn checked(api: &str, result: OperationResult) -> Result<OperationResult> {
    if !result.status.is_success && result.status.success_entitys.is_empty() {
        return Err(result.status.into_error(api));
    }
    Ok(result)
}

impl Client {
    /// Save: creates (no id or id 0) or updates (existing id) one model.
    /// Fails with [`Error::Api`] carrying Kingdee's messages when refused.
    pub async fn save<M: Serialize>(
        &self,
        form_id: &str,
        model: &M,
        options: &SaveOptions,
    ) -> Result<OperationResult> {
        let data = with_model("Save", options, to_value("Save", model)?)?;
        self.form_operation("Save", form_id, data)
            .await
            .and_then(|r| checked("Save", r))
    }

    /// BatchSave: saves many models in one call. Returns `Ok` even when some
    /// or all models were refused: read [`OperationResult::outcomes`]
    /// (successes and failures by `DIndex`). Whole-call failures (session,
    /// authorisation, transport) are `Err`.
    pub async fn batch_save<M: Serialize>(
        &self,
        form_id: &str,
        models: &[M],
        options: &SaveOptions,
    ) -> Result<OperationResult> {
        let models = to_value("BatchSave", &models)?;
        let data = with_model("BatchSave", options, models)?;
        self.form_operation("BatchSave", form_id, data).await
    }

    /// Draft (暂存): saves a model without validation.
    pub async fn draft<M: Serialize>(
        &self,
        form_id: &str,
        model: &M,
        options: &SaveOptions,
    ) -> Result<OperationResult> {
        let data = with_model("Draft", options, to_value("Draft", model)?)?;
        self.form_operation("Draft", form_id, data)
            .await
            .and_then(|r| checked("Draft", r))
    }

    /// Submit (提交).
    pub async fn submit(&self, form_id: &str, request: &OperateRequest) -> Result<OperationResult> {
        self.simple_operation("Submit", form_id, request).await
    }

    /// Audit (审核).
    pub async fn audit(&self, form_id: &str, request: &OperateRequest) -> Result<OperationResult> {
        self.simple_operation("Audit", form_id, request).await
    }

    /// UnAudit (反审核).
    pub async fn unaudit(
        &self,
        form_id: &str,
        request: &OperateRequest,
    ) -> Result<OperationResult> {
        self.simple_operation("UnAudit", form_id, request).await
    }

    /// Delete (删除).
    pub async fn delete(&self, form_id: &str, request: &OperateRequest) -> Result<OperationResult> {
        self.simple_operation("Delete", form_id, request).await
    }

    /// Allocate (分配) base data to other organisations.
    pub async fn allocate(
        &self,
        form_id: &str,
        request: &AllocateRequest,
    ) -> Result<OperationResult> {
        self.simple_operation("Allocate", form_id, request).await
    }

    /// ExcuteOperation (sic): any operation by its number (`Forbid`,
    /// `Enable`, ...).
    pub async fn execute_operation(
        &self,
        form_id: &str,
        op_number: &str,
        request: &OperateRequest,
    ) -> Result<OperationResult> {
        let api = "ExcuteOperation";
        let body = Body::FormOp {
            form_id: form_id.to_owned(),
            op_number: op_number.to_owned(),
            data: to_value(api, request)?,
        };
        let value = self.form_call(api, body).await?;
        checked(api, decode_result(api, &value)?)
    }

    /// View (查看): one model, decoded into `T` (`serde_json::Value` keeps
    /// everything). Note the service answers with its internal property
    /// names (`Number`, `Name`, ...), not the `F…` field keys.
    pub async fn view<T: DeserializeOwned>(
        &self,
        form_id: &str,
        request: &ViewRequest,
    ) -> Result<T> {
        let api = "View";
        let value = self
            .form_call(
                api,
                Body::Form {
                    form_id: form_id.to_owned(),
                    data: to_value(api, request)?,
                },
            )
            .await?;
        let result = value
            .get("Result")
            .ok_or_else(|| Error::decode(api, "no Result in the answer", &value))?;
        if let Some(status) = result.get("ResponseStatus").filter(|s| s.is_object()) {
            let status: ResponseStatus = lenient::decode(status.clone())
                .map_err(|e| Error::decode(api, format!("bad ResponseStatus ({e})"), status))?;
            if !status.is_success {
                return Err(status.into_error(api));
            }
        }
        let model = result.get("Result").cloned().unwrap_or(Value::Null);
        lenient::decode(model.clone())
            .map_err(|e| Error::decode(api, format!("unexpected model ({e})"), &model))
    }

    async fn simple_operation<R: Serialize>(
        &self,
        api: &str,
        form_id: &str,
        request: &R,
    ) -> Result<OperationResult> {
        let data = to_value(api, request)?;
        self.form_operation(api, form_id, data)
            .await
            .and_then(|r| checked(api, r))
    }

    async fn form_operation(
        &self,
        api: &str,
        form_id: &str,
        data: Value,
    ) -> Result<OperationResult> {
        let value = self
            .form_call(
                api,
                Body::Form {
                    form_id: form_id.to_owned(),
                    data,
                },
            )
            .await?;
        decode_result(api, &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_by_dindex() {
        let r: OperationResult = serde_json::from_value(json!({
            "ResponseStatus": {"IsSuccess": false, "ErrorCode": 500, "MsgCode": 0,
              "Errors": [{"FieldName": "FName", "Message": "必填", "DIndex": 1},
                         {"FieldName": null, "Message": "重复", "DIndex": "1"}],
              "SuccessEntitys": [{"Id": 100, "Number": "C1", "DIndex": 0}, {"Id": "101", "Number": "C3", "DIndex": 2}],
              "SuccessMessages": null},
            "Id": "", "Number": null, "NeedReturnData": [{}]
        }))
        .unwrap();
        let o = r.outcomes(4);
        assert!(matches!(&o[0], ModelOutcome::Saved(s) if s.id == Some(Id::from(100))));
        assert!(matches!(&o[1], ModelOutcome::Failed(e) if e.len() == 2));
        assert!(matches!(&o[2], ModelOutcome::Saved(s) if s.number.as_deref() == Some("C3")));
        assert_eq!(o[3], ModelOutcome::Unreported);
    }

    /// Junk where Kingdee sends a code or an index is a decode error that
    /// names the field, not a code 0 or a model without outcome.
    #[test]
    fn junk_codes_and_indexes_are_errors_naming_the_field() {
        for (status, field) in [
            (json!({"MsgCode": "eleven"}), "ResponseStatus.MsgCode"),
            (json!({"ErrorCode": [500]}), "ResponseStatus.ErrorCode"),
            (
                json!({"Errors": [{"Message": "x", "DIndex": "first"}]}),
                "ResponseStatus.Errors[0].DIndex",
            ),
            (
                json!({"SuccessEntitys": [{"Id": 1, "DIndex": -1}]}),
                "ResponseStatus.SuccessEntitys[0].DIndex",
            ),
        ] {
            let answer = json!({"Result": {"ResponseStatus": status}});
            let err = decode_result("BatchSave", &answer).unwrap_err();
            assert_eq!(err.kind(), integration_core::ErrorKind::Decode);
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
        let ok = json!({"Result": {"ResponseStatus": {"MsgCode": "11", "ErrorCode": "", "Errors": null}}});
        let r = decode_result("BatchSave", &ok).unwrap();
        assert_eq!((r.status.msg_code, r.status.error_code), (11, None));
    }

    #[test]
    fn options_serialise_only_what_is_set() {
        let o = SaveOptions::new()
            .is_auto_submit_and_audit(true)
            .is_verify_base_data_field(false)
            .need_update_fields(["FName"])
            .batch_count(4);
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            json!({"NeedUpDateFields": ["FName"], "IsVerifyBaseDataField": false, "IsAutoSubmitAndAudit": true, "BatchCount": 4})
        );
    }

    #[test]
    fn status_is_found_in_query_wrappers() {
        let v = json!([[{"Result": {"ResponseStatus": {"IsSuccess": false, "MsgCode": 1}}}]]);
        assert!(find_status(&v).is_some());
        assert!(find_status(&json!([["a", 1]])).is_none());
        assert!(find_status(&json!([["a"]])).is_none());
    }
}
