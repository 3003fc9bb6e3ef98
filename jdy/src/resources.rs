//! Typed endpoints: purchase inbound, sales outbound, customers, suppliers
//! and materials, for both versions. Each is a [`Resource`] handle
//! ([`Client::pur_inbounds`], [`Client::customers`], ...) with `list` (one
//! [`Page`]), `pages`/`stream` (all pages, lazily), `get`, `get_by_number`
//! and, where documented, `save`.

use std::marker::PhantomData;

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::Id;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{ApiVersion, Client, HttpMethod};
use crate::error::Error;
use crate::model::{Customer, Material, PurInbound, SalOutBound, SaveResult, Supplier};
use crate::query::{
    CustomerQuery, MaterialQuery, Paged, PurInboundQuery, SalOutBoundQuery, SupplierQuery,
};

/// Where one entity lives in each version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// Entity name for messages.
    pub name: &'static str,
    /// V1 list path.
    pub v1_list: &'static str,
    /// V1 detail path (body `{"id": …}`).
    pub v1_detail: &'static str,
    /// V1 save path, where one is documented.
    pub v1_save: Option<&'static str>,
    /// V2 path: GET lists, POST saves; `{path}_detail` reads one record.
    pub v2: &'static str,
    /// Whether V2 documents a save (POST) on this path.
    pub v2_save: bool,
}

/// 采购入库单.
pub const PUR_INBOUND: Endpoints = Endpoints {
    name: "pur_inbound",
    v1_list: "/jdy/pur/pur_inbound_list",
    v1_detail: "/jdy/pur/pur_inbound_detail",
    v1_save: None,
    v2: "/jdy/v2/scm/pur_inbound",
    v2_save: false,
};
/// 销售出库单.
pub const SAL_OUT_BOUND: Endpoints = Endpoints {
    name: "sal_out_bound",
    v1_list: "/jdy/sal/sal_outbound_list",
    v1_detail: "/jdy/sal/sal_outbound_detail",
    v1_save: None,
    v2: "/jdy/v2/scm/sal_out_bound",
    v2_save: false,
};
/// 客户.
pub const CUSTOMER: Endpoints = Endpoints {
    name: "customer",
    v1_list: "/jdy/basedata/customer_list",
    v1_detail: "/jdy/basedata/customer_detail",
    v1_save: Some("/jdy/basedata/customer_save"),
    v2: "/jdy/v2/bd/customer",
    v2_save: true,
};
/// 供应商.
pub const SUPPLIER: Endpoints = Endpoints {
    name: "supplier",
    v1_list: "/jdy/basedata/supplier_list",
    v1_detail: "/jdy/basedata/supplier_detail",
    v1_save: Some("/jdy/basedata/supplier_save"),
    v2: "/jdy/v2/bd/supplier",
    v2_save: true,
};
/// 商品.
pub const MATERIAL: Endpoints = Endpoints {
    name: "material",
    v1_list: "/jdy/basedata/material_list",
    v1_detail: "/jdy/basedata/material_detail",
    v1_save: None,
    v2: "/jdy/v2/bd/material",
    v2_save: true,
};

/// A typed handle on one entity; get one from [`Client::pur_inbounds`] and
/// friends. `T` is the record type, `Q` the list query. Cheap to clone;
/// streams own their clone.
#[derive(Debug, Clone)]
pub struct Resource<T, Q> {
    client: Client,
    endpoints: Endpoints,
    _types: PhantomData<fn() -> (T, Q)>,
}

impl Client {
    /// Purchase inbound bills (采购入库单).
    pub fn pur_inbounds(&self) -> Resource<PurInbound, PurInboundQuery> {
        Resource::new(self.clone(), PUR_INBOUND)
    }
    /// Sales outbound bills (销售出库单).
    pub fn sal_out_bounds(&self) -> Resource<SalOutBound, SalOutBoundQuery> {
        Resource::new(self.clone(), SAL_OUT_BOUND)
    }
    /// Customers (客户).
    pub fn customers(&self) -> Resource<Customer, CustomerQuery> {
        Resource::new(self.clone(), CUSTOMER)
    }
    /// Suppliers (供应商).
    pub fn suppliers(&self) -> Resource<Supplier, SupplierQuery> {
        Resource::new(self.clone(), SUPPLIER)
    }
    /// Materials (商品).
    pub fn materials(&self) -> Resource<Material, MaterialQuery> {
        Resource::new(self.clone(), MATERIAL)
    }
}

impl<T, Q> Resource<T, Q>
where
    T: DeserializeOwned + Send + 'static,
    Q: Paged,
{
    /// A handle on any entity with these endpoints.
    pub fn new(client: Client, endpoints: Endpoints) -> Self {
        Self {
            client,
            endpoints,
            _types: PhantomData,
        }
    }

    /// The endpoints used.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// One page of the list (`query.page`, default 1; page size clamped to
    /// 100). `next` is the same query one page on, `None` after the last
    /// page: the one the answer's `total_page` names (V1 `totalpage`), or,
    /// without it, a short page; an empty page is always the last. `total`
    /// is the answer's `count` (V1 `totalsize`).
    pub async fn list(&self, query: &Q) -> Result<Page<T, Q>, Error> {
        let (path, data) = match self.client.version() {
            ApiVersion::V1 => {
                let path = self.endpoints.v1_list;
                (
                    path,
                    self.client
                        .call(HttpMethod::Post, path, Vec::new(), Some(query.v1_body()))
                        .await?,
                )
            }
            ApiVersion::V2 => {
                let path = self.endpoints.v2;
                (path, self.client.v2_get(path, query.v2_query()).await?)
            }
        };
        let list = decode_list(path, data)?;
        // The page the answer says it is, else the one asked for.
        let page = list.page.filter(|p| *p > 0).unwrap_or(query.page());
        let more = has_more(list.rows.len(), page, query.page_size(), list.total_page);
        let next = more.then(|| query.with_page(query.page() + 1));
        Ok(Page::new(list.rows, next).with_total(list.count))
    }

    /// Every page from `query.page` on, fetched lazily one at a time.
    pub fn pages(&self, query: Q) -> impl Stream<Item = Result<Page<T, Q>, Error>> + Send + 'static
    where
        T: Sync,
    {
        let this = self.clone_handle();
        paging::paginate(query, move |query: Q| {
            let this = this.clone_handle();
            async move { this.list(&query).await }
        })
    }

    /// Every record from `query.page` on, page by page (memory bounded by
    /// one page).
    pub fn stream(&self, query: Q) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        T: Sync,
    {
        paging::items(self.pages(query))
    }

    /// One record by id, with its lines for bills.
    pub async fn get(&self, id: &Id) -> Result<T, Error> {
        let data = match self.client.version() {
            ApiVersion::V1 => {
                self.client
                    .call(
                        HttpMethod::Post,
                        self.endpoints.v1_detail,
                        Vec::new(),
                        Some(json!({ "id": id.as_str() })),
                    )
                    .await?
            }
            ApiVersion::V2 => {
                let path = format!("{}_detail", self.endpoints.v2);
                self.client
                    .v2_get(&path, vec![("id".into(), id.to_string())])
                    .await?
            }
        };
        decode_record(self.endpoints.name, data)
    }

    /// One record by number (V2 only: `{entity}_detail?number=`).
    pub async fn get_by_number(&self, number: &str) -> Result<T, Error> {
        if self.client.version() == ApiVersion::V1 {
            return Err(Error::Config(format!(
                "{}: reading by number is a V2 call",
                self.endpoints.name
            )));
        }
        let path = format!("{}_detail", self.endpoints.v2);
        let data = self
            .client
            .v2_get(&path, vec![("number".into(), number.to_owned())])
            .await?;
        decode_record(self.endpoints.name, data)
    }

    fn clone_handle(&self) -> Self {
        Self {
            client: self.client.clone(),
            endpoints: self.endpoints,
            _types: PhantomData,
        }
    }
}

impl<T, Q> Resource<T, Q>
where
    T: DeserializeOwned + Serialize + Send + 'static,
    Q: Paged,
{
    /// Saves a record: creates it, or updates it when it carries an `id`
    /// (V2 `POST {path}`; V1 `{entity}_save` where documented).
    pub async fn save(&self, record: &T) -> Result<SaveResult, Error> {
        let body = serde_json::to_value(record)
            .map_err(|e| Error::Config(format!("unserialisable record: {e}")))?;
        let path = match self.client.version() {
            ApiVersion::V2 if self.endpoints.v2_save => self.endpoints.v2,
            ApiVersion::V1 if self.endpoints.v1_save.is_some() => {
                self.endpoints.v1_save.unwrap_or_default()
            }
            version => {
                return Err(Error::Config(format!(
                    "{}: save is not documented for {version:?}",
                    self.endpoints.name
                )));
            }
        };
        let data = self
            .client
            .call(HttpMethod::Post, path, Vec::new(), Some(body))
            .await?;
        lenient::decode(data)
            .map_err(|e| Error::Config(format!("{path}: undecodable save answer: {e}")))
    }
}

fn decode_record<T: DeserializeOwned>(name: &str, data: Value) -> Result<T, Error> {
    if data.is_null() {
        return Err(Error::answer(
            name,
            "not_found",
            format!("{name}: the answer carried no record"),
            None,
        ));
    }
    let excerpt = integration_core::secret::excerpt(data.to_string().as_bytes(), 200);
    lenient::decode(data).map_err(|e| {
        Error::from(integration_core::Error::new(
            "jdy",
            name,
            integration_core::ErrorKind::Decode,
            format!("undecodable {name} record ({e}); data starts with: {excerpt}"),
        ))
    })
}

/// Whether a page follows page `page` (of `page_size`) with `len` rows: the
/// answer's `total_page` says so, or, when it gave none, this page was
/// full. An empty page is always the last.
fn has_more(len: usize, page: u32, page_size: u32, total_page: Option<u32>) -> bool {
    if len == 0 {
        return false;
    }
    match total_page {
        Some(total) => page < total,
        None => len >= page_size as usize,
    }
}

/// A decoded list `data`.
struct ListData<T> {
    rows: Vec<T>,
    /// `total_page` / V1 `totalpage`.
    total_page: Option<u32>,
    /// `count` / `totalsize` / `total`.
    count: Option<u64>,
    /// `page` / `current_page`: the page the answer says it is.
    page: Option<u32>,
}

/// Decodes a list `data` of either version:
/// V2 `{count: "n", page, page_size, total_page, rows}`,
/// V1 `{rows, totalpage}`. Counts may be numbers or numeric text; junk in
/// them, or in a row, is a decode error naming the field.
fn decode_list<T: DeserializeOwned>(api: &str, data: Value) -> Result<ListData<T>, Error> {
    let decode_err = |what: String, data: &Value| {
        Error::from(integration_core::Error::decode(
            "jdy",
            api,
            what,
            data.to_string().as_bytes(),
        ))
    };
    let Value::Object(mut map) = data else {
        return Err(decode_err("the list data is not an object".into(), &data));
    };
    // The first of `keys` the answer has, as a whole number from 0.
    let number = |keys: &[&str]| -> Result<Option<u64>, Error> {
        let Some((key, value)) = keys.iter().find_map(|k| map.get(*k).map(|v| (*k, v))) else {
            return Ok(None);
        };
        let junk = |e: String| decode_err(format!("field `{key}`: {e}"), value);
        lenient::opt_i64(value.clone())
            .map_err(|e| junk(e.to_string()))?
            .map(|n| u64::try_from(n).map_err(|_| junk(format!("expected a count, found {n}"))))
            .transpose()
    };
    let small = |n: u64| n.min(u64::from(u32::MAX)) as u32;
    let total_page = number(&["total_page", "totalpage"])?.map(small);
    let count = number(&["count", "totalsize", "total"])?;
    let answered_page = number(&["page", "current_page"])?.map(small);
    let rows = match map.remove("rows") {
        Some(Value::Array(rows)) => rows,
        Some(Value::Null) => Vec::new(),
        None if count == Some(0) || total_page == Some(0) => Vec::new(),
        other => {
            let shown = other.unwrap_or(Value::Null);
            return Err(decode_err(
                format!("the list has no rows array (rows: {shown})"),
                &Value::Object(map),
            ));
        }
    };
    let rows = lenient::decode(Value::Array(rows)).map_err(|e| {
        Error::from(integration_core::Error::new(
            "jdy",
            api,
            integration_core::ErrorKind::Decode,
            format!(
                "undecodable list row (field `rows{}`: {})",
                e.path, e.message
            ),
        ))
    })?;
    Ok(ListData {
        rows,
        total_page,
        count,
        page: answered_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_list_detection() {
        assert!(has_more(10, 1, 10, Some(3)));
        assert!(!has_more(10, 3, 10, Some(3)));
        assert!(!has_more(0, 1, 10, Some(3)));
        assert!(has_more(10, 1, 10, None));
        assert!(!has_more(9, 1, 10, None));
    }

    /// Counts as text are read; junk in a count or a row is a decode error
    /// naming the field, not a missing total or a dropped row.
    #[test]
    fn list_data_is_lenient_but_not_about_junk() {
        let list: ListData<crate::model::Customer> = decode_list(
            "x",
            json!({"count": "2", "total_page": "", "current_page": 1, "rows": [{"id": 1}, {"id": "2"}]}),
        )
        .unwrap();
        assert_eq!(
            (list.rows.len(), list.count, list.total_page, list.page),
            (2, Some(2), None, Some(1))
        );
        for (data, field) in [
            (json!({"count": "many", "rows": []}), "field `count`"),
            (json!({"totalpage": -1, "rows": []}), "field `totalpage`"),
            (
                json!({"rows": [{"id": 1}, {"id": {"n": 2}}]}),
                "field `rows[1].id`",
            ),
        ] {
            let err = decode_list::<crate::model::Customer>("x", data.clone())
                .err()
                .unwrap();
            assert_eq!(err.kind(), integration_core::ErrorKind::Decode);
            assert!(err.to_string().contains(field), "{data}: {err}");
        }
    }
}
