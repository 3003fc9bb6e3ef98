//! Typed endpoints: purchase inbound, sales outbound, customers, suppliers
//! and materials, for both versions. Each is a [`Resource`] handle with
//! `list` (one page), `pages`/`stream` (all pages, lazily), `detail` and,
//! where documented, `save`.

use std::marker::PhantomData;

use futures::{Stream, TryStreamExt};
use integration_core::types::Id;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{ApiVersion, Client, HttpMethod};
use crate::error::Error;
use crate::model::{Customer, ListPage, Material, PurInbound, SalOutBound, SaveResult, Supplier};
use crate::query::{BillQuery, ListQuery, Paged};

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

/// A typed handle on one entity; get one from [`Client::pur_inbound`] and
/// friends. `T` is the record type, `Q` the list filter.
#[derive(Debug, Clone)]
pub struct Resource<T, Q> {
    client: Client,
    endpoints: Endpoints,
    _types: PhantomData<fn() -> (T, Q)>,
}

impl Client {
    /// Purchase inbound bills (采购入库单).
    pub fn pur_inbound(&self) -> Resource<PurInbound, BillQuery> {
        Resource::new(self.clone(), PUR_INBOUND)
    }
    /// Sales outbound bills (销售出库单).
    pub fn sal_out_bound(&self) -> Resource<SalOutBound, BillQuery> {
        Resource::new(self.clone(), SAL_OUT_BOUND)
    }
    /// Customers (客户).
    pub fn customers(&self) -> Resource<Customer, ListQuery> {
        Resource::new(self.clone(), CUSTOMER)
    }
    /// Suppliers (供应商).
    pub fn suppliers(&self) -> Resource<Supplier, ListQuery> {
        Resource::new(self.clone(), SUPPLIER)
    }
    /// Materials (商品).
    pub fn materials(&self) -> Resource<Material, ListQuery> {
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

    /// One page of the list (`query.page`, default 1; page size clamped to 100).
    pub async fn list(&self, query: &Q) -> Result<ListPage<T>, Error> {
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
        decode_page(path, data, query.page(), query.page_size())
    }

    /// Every page from `query.page` on, fetched lazily one at a time.
    pub fn pages(&self, query: Q) -> impl Stream<Item = Result<ListPage<T>, Error>> + Send + 'static
    where
        T: Sync,
    {
        let this = self.clone_handle();
        futures::stream::try_unfold(Some(query), move |next| {
            let this = this.clone_handle();
            async move {
                let Some(query) = next else {
                    return Ok(None);
                };
                let page = this.list(&query).await?;
                let following = page.has_more().then(|| query.with_page(query.page() + 1));
                Ok(Some((page, following)))
            }
        })
    }

    /// Every record from `query.page` on, page by page (memory bounded by
    /// one page).
    pub fn stream(&self, query: Q) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        T: Sync,
    {
        self.pages(query)
            .map_ok(|page| futures::stream::iter(page.rows.into_iter().map(Ok)))
            .try_flatten()
    }

    /// One record by id, with its lines for bills.
    pub async fn detail(&self, id: &Id) -> Result<T, Error> {
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
    pub async fn detail_by_number(&self, number: &str) -> Result<T, Error> {
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
        serde_json::from_value(data)
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
    serde_json::from_value(data).map_err(|e| {
        Error::from(integration_core::Error::new(
            "jdy",
            name,
            integration_core::ErrorKind::Decode,
            format!("undecodable {name} record ({e}); data starts with: {excerpt}"),
        ))
    })
}

/// Decodes a list `data` of either version:
/// V2 `{count: "n", page, page_size, total_page, rows}`,
/// V1 `{rows, totalpage}`.
pub(crate) fn decode_page<T: DeserializeOwned>(
    api: &str,
    data: Value,
    page: u32,
    page_size: u32,
) -> Result<ListPage<T>, Error> {
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
    let number = |v: Option<&Value>| -> Option<u64> {
        match v? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    let total_page = number(map.get("total_page").or_else(|| map.get("totalpage")))
        .map(|n| n.min(u64::from(u32::MAX)) as u32);
    let count = number(
        map.get("count")
            .or_else(|| map.get("totalsize"))
            .or_else(|| map.get("total")),
    );
    let answered_page = number(map.get("page").or_else(|| map.get("current_page")))
        .map(|n| n.min(u64::from(u32::MAX)) as u32);
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
    let mut typed = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        let excerpt = integration_core::secret::excerpt(row.to_string().as_bytes(), 200);
        let item = serde_json::from_value(row).map_err(|e| {
            Error::from(integration_core::Error::new(
                "jdy",
                api,
                integration_core::ErrorKind::Decode,
                format!("row {i} is undecodable ({e}); row starts with: {excerpt}"),
            ))
        })?;
        typed.push(item);
    }
    Ok(ListPage {
        rows: typed,
        page: answered_page.filter(|p| *p > 0).unwrap_or(page),
        page_size,
        total_page,
        count,
    })
}
