//! Queries: ExecuteBillQuery (one page; every page and every row of a form
//! as lazy streams are on its [`Form`](crate::Form) handle), BillQuery,
//! QueryBusinessInfo and GetDataCenterList.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{ACCOUNT_SERVICE, Body, Client};
use crate::error::{Error, Result};
use crate::operations::{ResponseStatus, find_status};

/// The largest `Limit` the service honours (assumed; see the crate's
/// Assumptions).
pub const MAX_LIMIT: u32 = 10_000;
/// The page size used when a query sets no `Limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 2_000;

/// The `data` of ExecuteBillQuery and BillQuery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BillQuery {
    /// The form id, e.g. `BD_Customer`.
    #[serde(rename = "FormId")]
    pub form_id: String,
    /// Comma-separated field keys; rows come back in this order
    /// (`FNumber,FName,FCreateOrgId.FNumber`).
    #[serde(rename = "FieldKeys")]
    pub field_keys: String,
    /// A SQL-like filter over field keys; dates as `'yyyy-MM-dd HH:mm:ss'`
    /// in the site's local time.
    #[serde(rename = "FilterString", default)]
    pub filter_string: String,
    /// Order, e.g. `FModifyDate ASC, FNumber`.
    #[serde(rename = "OrderString", default)]
    pub order_string: String,
    /// Largest number of rows in all (`0` = no limit).
    #[serde(rename = "TopRowCount", default)]
    pub top_row_count: u32,
    /// 0-based first row.
    #[serde(rename = "StartRow", default)]
    pub start_row: u64,
    /// Rows per page (`0` = all; clamped to [`MAX_LIMIT`] by this crate).
    #[serde(rename = "Limit", default)]
    pub limit: u32,
    /// Sub-system id.
    #[serde(rename = "SubSystemId", default)]
    pub sub_system_id: String,
    /// Other arguments, sent as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BillQuery {
    /// A query of `form_id` returning `field_keys`.
    pub fn new<S: AsRef<str>>(
        form_id: impl Into<String>,
        field_keys: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            form_id: form_id.into(),
            field_keys: field_keys
                .into_iter()
                .map(|k| k.as_ref().trim().to_owned())
                .collect::<Vec<_>>()
                .join(","),
            ..Self::default()
        }
    }
    /// Sets `FilterString`.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter_string = filter.into();
        self
    }
    /// Sets `OrderString`.
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.order_string = order.into();
        self
    }
    /// Sets `StartRow`.
    pub fn start_row(mut self, start: u64) -> Self {
        self.start_row = start;
        self
    }
    /// Sets `Limit` (clamped to [`MAX_LIMIT`] when sent).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    /// Sets `TopRowCount`.
    pub fn top_row_count(mut self, top: u32) -> Self {
        self.top_row_count = top;
        self
    }
    /// The field keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.field_keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect()
    }
}

/// Decodes one row (values in field-key order) into `T`: first by position
/// (structs in field-key order, tuples, `Vec<Value>`), then as an object
/// keyed by field key (maps, structs with `#[serde(rename = "FNumber")]`).
pub fn decode_row<T: DeserializeOwned>(
    keys: &[&str],
    row: Vec<Value>,
) -> std::result::Result<T, String> {
    let positional = match serde_json::from_value::<T>(Value::Array(row.clone())) {
        Ok(v) => return Ok(v),
        Err(e) => e.to_string(),
    };
    let object: Map<String, Value> = keys.iter().map(|k| (*k).to_owned()).zip(row).collect();
    serde_json::from_value::<T>(Value::Object(object))
        .map_err(|e| format!("by position: {positional}; by field key: {e}"))
}

/// The `Result` of QueryBusinessInfo: the form's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BusinessInfo {
    /// The status, when sent.
    #[serde(rename = "ResponseStatus", default)]
    pub status: Option<ResponseStatus>,
    /// The metadata (entities, fields, operations).
    #[serde(rename = "NeedReturnData", default)]
    pub need_return_data: Value,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One data centre (账套) of GetDataCenterList.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataCenter {
    /// The data centre id (the `acct_id` of the credentials).
    #[serde(rename = "Id", default)]
    pub id: String,
    /// Its number.
    #[serde(rename = "Number", default)]
    pub number: String,
    /// Its name.
    #[serde(rename = "Name", default)]
    pub name: String,
    /// Anything else sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The rows per page a `Limit` means for paging: [`DEFAULT_PAGE_SIZE`] for
/// 0, at most [`MAX_LIMIT`].
pub(crate) fn page_size(limit: u32) -> u32 {
    if limit == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        limit.min(MAX_LIMIT)
    }
}

impl Client {
    /// Sends `query` to ExecuteBillQuery or BillQuery (`api`), `Limit`
    /// clamped to [`MAX_LIMIT`], and returns the rows: a failed
    /// `ResponseStatus` is the error, a successful one means no rows.
    async fn query_rows(&self, api: &str, query: &BillQuery) -> Result<Vec<Value>> {
        let mut query = query.clone();
        query.limit = query.limit.min(MAX_LIMIT);
        let data = serde_json::to_value(&query).map_err(|e| Error::invalid(api, e.to_string()))?;
        let value = self.form_call(api, Body::Data(data)).await?;
        if let Some(status) = find_status(&value)
            && let Ok(status) = serde_json::from_value::<ResponseStatus>(status.clone())
        {
            if !status.is_success {
                return Err(status.into_error(api));
            }
            return Ok(Vec::new());
        }
        match value {
            Value::Array(rows) => Ok(rows),
            other => Err(Error::decode(api, "expected an array of rows", &other)),
        }
    }

    /// ExecuteBillQuery: one page of raw rows (values in `FieldKeys` order).
    /// `Limit` is clamped to [`MAX_LIMIT`]; `0` is sent as `0` (all rows,
    /// capped by the service).
    pub async fn execute_bill_query_rows(&self, query: &BillQuery) -> Result<Vec<Vec<Value>>> {
        let api = "ExecuteBillQuery";
        let rows = self.query_rows(api, query).await?;
        rows.into_iter()
            .map(|row| match row {
                Value::Array(values) => Ok(values),
                other => Err(Error::decode(api, "a row is not an array", &other)),
            })
            .collect()
    }

    /// ExecuteBillQuery: one page, each row decoded into `T` by field-key
    /// order (see [`decode_row`]).
    pub async fn execute_bill_query<T: DeserializeOwned>(
        &self,
        query: &BillQuery,
    ) -> Result<Vec<T>> {
        let rows = self.execute_bill_query_rows(query).await?;
        let keys = query.keys();
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                let text = Value::Array(row.clone());
                decode_row(&keys, row).map_err(|e| {
                    let what = format!("row {i} does not fit the target type ({e})");
                    Error::decode("ExecuteBillQuery", what, &text)
                })
            })
            .collect()
    }

    /// BillQuery: like ExecuteBillQuery but rows are objects keyed by field
    /// key, decoded into `T`.
    pub async fn bill_query<T: DeserializeOwned>(&self, query: &BillQuery) -> Result<Vec<T>> {
        let api = "BillQuery";
        let rows = self.query_rows(api, query).await?;
        rows.into_iter()
            .map(|row| {
                serde_json::from_value(row.clone()).map_err(|e| {
                    let what = format!("a row does not fit the target type ({e})");
                    Error::decode(api, what, &row)
                })
            })
            .collect()
    }

    /// QueryBusinessInfo: the metadata of a form.
    pub async fn query_business_info(&self, form_id: &str) -> Result<BusinessInfo> {
        let api = "QueryBusinessInfo";
        let value = self
            .form_call(api, Body::Data(serde_json::json!({ "FormId": form_id })))
            .await?;
        let result = value.get("Result").cloned().unwrap_or(Value::Null);
        let info: BusinessInfo = serde_json::from_value(result)
            .map_err(|e| Error::decode(api, format!("unexpected Result ({e})"), &value))?;
        if let Some(status) = &info.status
            && !status.is_success
        {
            return Err(status.clone().into_error(api));
        }
        Ok(info)
    }

    /// GetDataCenterList: the data centres (账套) of the site.
    pub async fn get_data_center_list(&self) -> Result<Vec<DataCenter>> {
        let api = "GetDataCenterList";
        let value = self
            .call(
                &format!("{ACCOUNT_SERVICE}.{api}"),
                Body::Raw(serde_json::json!({})),
            )
            .await?;
        serde_json::from_value(value.clone()).map_err(|e| {
            Error::decode(
                api,
                format!("expected a list of data centres ({e})"),
                &value,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Row {
        number: String,
        name: String,
        amount: rust_decimal::Decimal,
    }

    #[test]
    fn rows_decode_by_field_key_order() {
        let keys = ["FNumber", "FName", "FAmount"];
        let row: Row = decode_row(&keys, vec![json!("C1"), json!("张三"), json!(12.34)]).unwrap();
        assert_eq!(row.amount.to_string(), "12.34");
        let map: Map<String, Value> =
            decode_row(&keys, vec![json!("C1"), json!("张三"), json!(1)]).unwrap();
        assert_eq!(map["FName"], "张三");
        let tuple: (String, String) =
            decode_row(&keys[..2], vec![json!("C1"), json!("x")]).unwrap();
        assert_eq!(tuple.0, "C1");
        assert!(decode_row::<Row>(&keys, vec![json!(1)]).is_err());
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(page_size(0), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(50_000), MAX_LIMIT);
        assert_eq!(page_size(7), 7);
        assert_eq!(
            BillQuery::new("BD_Customer", ["FNumber", " FName"]).keys(),
            ["FNumber", "FName"]
        );
    }
}
