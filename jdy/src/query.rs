//! List filters, rendered as a V1 JSON body or V2 query parameters.

use chrono::NaiveDate;
use integration_core::types::UnixMillis;
use serde_json::{Map, Value, json};

/// Largest page size jdy serves (`pagesize` / `page_size`: default 10, max 100).
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size used when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Bill status filter (`billstatus` / `bill_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BillStatus {
    /// Every bill (`""`).
    #[default]
    All,
    /// Audited bills (`C`).
    Audited,
    /// Bills not audited (`Z`).
    Unaudited,
}

impl BillStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::All => "",
            BillStatus::Audited => "C",
            BillStatus::Unaudited => "Z",
        }
    }
}

/// Filters of a bill list (purchase inbound, sales outbound): every filter
/// of `pur_inbound_list`.
///
/// Date ranges are calendar dates (`yyyy-MM-dd`); time ranges are unix
/// milliseconds, and `None` is sent as `-1` ("no filter") to V1 and left
/// out for V2.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BillQuery {
    /// Department ids (V1 `deptid`, V2 `dept_id`).
    pub dept_ids: Vec<String>,
    /// Employee ids (V1 `empid`, V2 `emp_id`).
    pub emp_ids: Vec<String>,
    /// Supplier ids (V1 `supplierid`, V2 `supplier_id`).
    pub supplier_ids: Vec<String>,
    /// Customer ids, for sales bills (V1 `customerid`, V2 `customer_id`).
    pub customer_ids: Vec<String>,
    /// Bill status.
    pub bill_status: BillStatus,
    /// Create date from (V1 `startdate`, V2 `start_date`).
    pub create_date_from: Option<NaiveDate>,
    /// Create date to (V1 `enddate`, V2 `end_date`).
    pub create_date_to: Option<NaiveDate>,
    /// Modify date from (V1 `begindate`, V2 `begin_date`).
    pub modify_date_from: Option<NaiveDate>,
    /// Modify date to (V1 `expiredate`, V2 `expire_date`).
    pub modify_date_to: Option<NaiveDate>,
    /// Create time from (V1 `starttime`, V2 `create_start_time`).
    pub create_time_from: Option<UnixMillis>,
    /// Create time to (V1 `endtime`, V2 `create_end_time`).
    pub create_time_to: Option<UnixMillis>,
    /// Modify time from (V1 `begintime`, V2 `modify_start_time`).
    pub modify_time_from: Option<UnixMillis>,
    /// Modify time to (V1 `expiretime`, V2 `modify_end_time`).
    pub modify_time_to: Option<UnixMillis>,
    /// Bill date from (V1 `startbilldate`, V2 `start_bill_date`).
    pub bill_date_from: Option<NaiveDate>,
    /// Bill date to (V1 `endbilldate`, V2 `end_bill_date`).
    pub bill_date_to: Option<NaiveDate>,
    /// Fuzzy search: supplier, employee, material name, bill number.
    pub search: Option<String>,
    /// Page number, from 1 (default 1).
    pub page: Option<u32>,
    /// Page size, clamped to [`MAX_PAGE_SIZE`] (default 100).
    pub page_size: Option<u32>,
    /// Any other parameter, sent as given (V2: a query parameter, V1: a
    /// body member), e.g. V2's `bill_no` or `material_number`. It replaces
    /// a built-in parameter of the same name.
    pub extra: Map<String, Value>,
}

/// Filters of a basic-data list (customers, suppliers, materials).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// Fuzzy search on number and name.
    pub search: Option<String>,
    /// Modify time from (V1 `begintime`, V2 `modify_start_time`).
    pub modify_time_from: Option<UnixMillis>,
    /// Modify time to (V1 `expiretime`, V2 `modify_end_time`).
    pub modify_time_to: Option<UnixMillis>,
    /// Page number, from 1 (default 1).
    pub page: Option<u32>,
    /// Page size, clamped to [`MAX_PAGE_SIZE`] (default 100).
    pub page_size: Option<u32>,
    /// Any other parameter, sent as given; it replaces a built-in
    /// parameter of the same name.
    pub extra: Map<String, Value>,
}

/// The query of a purchase inbound list.
pub type PurInboundQuery = BillQuery;
/// The query of a sales outbound list.
pub type SalOutBoundQuery = BillQuery;
/// The query of a customer list.
pub type CustomerQuery = ListQuery;
/// The query of a supplier list.
pub type SupplierQuery = ListQuery;
/// The query of a material list.
pub type MaterialQuery = ListQuery;

/// What every list query offers to the pager.
pub trait Paged: Clone + Send + Sync + 'static {
    /// The page asked for (from 1).
    fn page(&self) -> u32;
    /// The page size, clamped to 1..=[`MAX_PAGE_SIZE`].
    fn page_size(&self) -> u32;
    /// The same query for another page.
    fn with_page(&self, page: u32) -> Self;
    /// The V1 JSON body.
    fn v1_body(&self) -> Value;
    /// The V2 list parameters (decoded), in a stable order, each name
    /// once. Where they travel is decided in one place: `Client::v2_get`.
    fn v2_query(&self) -> Vec<(String, String)>;
}

fn clamp_size(size: Option<u32>) -> u32 {
    size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn millis(t: Option<UnixMillis>) -> i64 {
    t.map_or(-1, |t| t.0)
}

/// A JSON value as a query value: text as is, lists joined by `,`.
pub(crate) fn query_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(query_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// V2 query parameters; each name is sent once (a repeated name would make
/// the signed, sorted parameter line ambiguous).
struct V2Query(Vec<(String, String)>);

impl V2Query {
    /// Sets `name`, replacing an earlier value; an empty value leaves it out.
    fn text(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        self.0.retain(|(k, _)| k != name);
        if !value.is_empty() {
            self.0.push((name.to_owned(), value));
        }
    }
    fn time(&mut self, name: &str, t: Option<UnixMillis>) {
        if let Some(t) = t {
            self.text(name, t.0.to_string());
        }
    }
    /// Added last, so an extra replaces a built-in parameter of its name.
    fn extra(&mut self, extra: &Map<String, Value>) {
        for (k, v) in extra {
            self.text(k, query_text(v));
        }
    }
}

impl Paged for BillQuery {
    fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }
    fn page_size(&self) -> u32 {
        clamp_size(self.page_size)
    }
    fn with_page(&self, page: u32) -> Self {
        Self {
            page: Some(page),
            ..self.clone()
        }
    }
    fn v1_body(&self) -> Value {
        let mut body = json!({
            "deptid": self.dept_ids.join(","),
            "empid": self.emp_ids.join(","),
            "supplierid": self.supplier_ids.join(","),
            "billstatus": self.bill_status.as_str(),
            "startdate": date(self.create_date_from),
            "enddate": date(self.create_date_to),
            "begindate": date(self.modify_date_from),
            "expiredate": date(self.modify_date_to),
            "starttime": millis(self.create_time_from),
            "endtime": millis(self.create_time_to),
            "begintime": millis(self.modify_time_from),
            "expiretime": millis(self.modify_time_to),
            "startbilldate": date(self.bill_date_from),
            "endbilldate": date(self.bill_date_to),
            "search": self.search.clone().unwrap_or_default(),
            "page": self.page(),
            "pagesize": self.page_size(),
        });
        if let Value::Object(map) = &mut body {
            if !self.customer_ids.is_empty() {
                map.insert(
                    "customerid".into(),
                    Value::String(self.customer_ids.join(",")),
                );
            }
            for (k, v) in &self.extra {
                map.insert(k.clone(), v.clone());
            }
        }
        body
    }
    fn v2_query(&self) -> Vec<(String, String)> {
        let mut q = V2Query(Vec::new());
        q.text("dept_id", self.dept_ids.join(","));
        q.text("emp_id", self.emp_ids.join(","));
        q.text("supplier_id", self.supplier_ids.join(","));
        q.text("customer_id", self.customer_ids.join(","));
        q.text("bill_status", self.bill_status.as_str());
        q.text("start_date", date(self.create_date_from));
        q.text("end_date", date(self.create_date_to));
        q.text("begin_date", date(self.modify_date_from));
        q.text("expire_date", date(self.modify_date_to));
        q.time("create_start_time", self.create_time_from);
        q.time("create_end_time", self.create_time_to);
        q.time("modify_start_time", self.modify_time_from);
        q.time("modify_end_time", self.modify_time_to);
        q.text("start_bill_date", date(self.bill_date_from));
        q.text("end_bill_date", date(self.bill_date_to));
        q.text("search", self.search.clone().unwrap_or_default());
        q.text("page", self.page().to_string());
        q.text("page_size", self.page_size().to_string());
        q.extra(&self.extra);
        q.0
    }
}

impl Paged for ListQuery {
    fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }
    fn page_size(&self) -> u32 {
        clamp_size(self.page_size)
    }
    fn with_page(&self, page: u32) -> Self {
        Self {
            page: Some(page),
            ..self.clone()
        }
    }
    fn v1_body(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "search".into(),
            Value::String(self.search.clone().unwrap_or_default()),
        );
        map.insert("begintime".into(), json!(millis(self.modify_time_from)));
        map.insert("expiretime".into(), json!(millis(self.modify_time_to)));
        map.insert("page".into(), json!(self.page()));
        map.insert("pagesize".into(), json!(self.page_size()));
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map)
    }
    fn v2_query(&self) -> Vec<(String, String)> {
        let mut q = V2Query(Vec::new());
        q.text("search", self.search.clone().unwrap_or_default());
        q.time("modify_start_time", self.modify_time_from);
        q.time("modify_end_time", self.modify_time_to);
        q.text("page", self.page().to_string());
        q.text("page_size", self.page_size().to_string());
        q.extra(&self.extra);
        q.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bill_query_renders_both_versions() {
        let q = BillQuery {
            supplier_ids: vec!["11".into()],
            bill_status: BillStatus::Audited,
            modify_time_from: Some(UnixMillis(1_767_225_600_000)),
            bill_date_from: NaiveDate::from_ymd_opt(2026, 1, 1),
            page_size: Some(500),
            ..BillQuery::default()
        };
        let v1 = q.v1_body();
        assert_eq!(v1["supplierid"], "11");
        assert_eq!(v1["billstatus"], "C");
        assert_eq!(v1["begintime"], 1_767_225_600_000_i64);
        assert_eq!(v1["starttime"], -1);
        assert_eq!(v1["startbilldate"], "2026-01-01");
        assert_eq!(v1["pagesize"], 100);
        assert_eq!(v1["page"], 1);
        let v2 = q.v2_query();
        let get = |k: &str| v2.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("supplier_id"), Some("11"));
        assert_eq!(get("bill_status"), Some("C"));
        assert_eq!(get("modify_start_time"), Some("1767225600000"));
        assert_eq!(get("create_start_time"), None);
        assert_eq!(get("page_size"), Some("100"));
    }
}
