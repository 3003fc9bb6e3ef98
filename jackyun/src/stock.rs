//! Stock ([`Client::stock`]): `erp.stockquantity.get`, paged with the
//! `maxQuantityId` cursor; warehouses ([`Client::warehouses`]):
//! `erp.warehouse.get`, paged by number.

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, pages};
use crate::customer::clamp_page_size;
use crate::de;
use crate::error::Result;
use crate::goods::rows_after;

/// Method name of the stock query.
pub const METHOD_STOCK: &str = "erp.stockquantity.get";
/// Method name of the warehouse list.
pub const METHOD_WAREHOUSES: &str = "erp.warehouse.get";

/// Filters of `erp.stockquantity.get` and the page to read (the
/// `maxQuantityId` cursor).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockQuery {
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
    /// 0/1: blocked goods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_blockup: Option<i64>,
    /// 0/1: channel reserve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_channel_reserve: Option<i64>,
    /// 0/1: batch-managed goods (sent as `isbatchmanagement`).
    #[serde(rename = "isbatchmanagement", skip_serializing_if = "Option::is_none")]
    pub is_batch_management: Option<i64>,
    /// Modified at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmt_modified_start: Option<BeijingTime>,
    /// Modified at or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmt_modified_end: Option<BeijingTime>,
    /// The cursor: rows after this `quantityId` (`None` for the first
    /// page, sent as `maxQuantityId: 0`).
    #[serde(skip)]
    pub max_quantity_id: Option<Id>,
    /// Any other filter (`goodsNo`, `skuBarcode`, `warehouseCode`, ...), sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The page of `erp.warehouse.get` to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarehouseQuery {
    /// The page, from 0.
    pub page_index: u32,
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
}

impl WarehouseQuery {
    /// The first page, `page_size` rows a page.
    pub fn new(page_size: u32) -> Self {
        Self {
            page_index: 0,
            page_size,
        }
    }
}

/// Stock of one SKU in one warehouse. Quantities are decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockQuantity {
    /// Row id (the cursor `maxQuantityId` continues after it).
    pub quantity_id: Id,
    /// Warehouse id.
    #[serde(default)]
    pub warehouse_id: Option<Id>,
    /// Warehouse code.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    /// Warehouse name.
    #[serde(default)]
    pub warehouse_name: Option<String>,
    /// Goods id.
    #[serde(default)]
    pub goods_id: Option<Id>,
    /// Goods number.
    #[serde(default)]
    pub goods_no: Option<String>,
    /// Goods name.
    #[serde(default)]
    pub goods_name: Option<String>,
    /// SKU id.
    #[serde(default)]
    pub sku_id: Option<Id>,
    /// SKU name.
    #[serde(default)]
    pub sku_name: Option<String>,
    /// SKU barcode.
    #[serde(default)]
    pub sku_barcode: Option<String>,
    /// Unit name.
    #[serde(default)]
    pub unit_name: Option<String>,
    /// On hand.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub current_quantity: Option<Decimal>,
    /// Available.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub use_quantity: Option<Decimal>,
    /// Locked.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub locked_quantity: Option<Decimal>,
    /// On order from vendors.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub purchasing_quantity: Option<Decimal>,
    /// Defective (the API spells it `defectiveQuanity`).
    #[serde(
        default,
        rename = "defectiveQuanity",
        deserialize_with = "lenient::opt_decimal"
    )]
    pub defective_quantity: Option<Decimal>,
    /// Cost price.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub cost_price: Option<Decimal>,
    /// Every other field (`batchList`, `allocateQuantity`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A warehouse of `erp.warehouse.get` (data node `warehouseInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Warehouse {
    /// Warehouse id.
    #[serde(default)]
    pub warehouse_id: Option<Id>,
    /// Warehouse code.
    #[serde(default)]
    pub warehouse_code: Option<String>,
    /// Warehouse name.
    #[serde(default)]
    pub warehouse_name: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The stock rows: one page, every page, every row. Get it from
/// [`Client::stock`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Stock {
    client: Client,
}

/// The warehouses: one page, every page, every warehouse. Get it from
/// [`Client::warehouses`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Warehouses {
    client: Client,
}

impl Client {
    /// The stock rows (`erp.stockquantity.get`, one per SKU and warehouse).
    pub fn stock(&self) -> Stock {
        Stock {
            client: self.clone(),
        }
    }

    /// The warehouses (`erp.warehouse.get`).
    pub fn warehouses(&self) -> Warehouses {
        Warehouses {
            client: self.clone(),
        }
    }
}

impl Stock {
    /// `erp.stockquantity.get`: the page after `query.max_quantity_id`.
    /// `next` continues after the last row's `quantityId`; `None` after an
    /// empty page.
    pub async fn list(&self, query: &StockQuery) -> Result<Page<StockQuantity, StockQuery>> {
        let query = StockQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        };
        let cursor = ("maxQuantityId", query.max_quantity_id.as_ref());
        let names = ("goodsStockQuantity", "stock");
        let rows: Vec<StockQuantity> =
            rows_after(&self.client, METHOD_STOCK, &query, cursor, names).await?;
        let next = rows.last().map(|r| StockQuery {
            max_quantity_id: Some(r.quantity_id.clone()),
            ..query
        });
        Ok(Page::new(rows, next))
    }

    /// `erp.stockquantity.get`: every page from `query.max_quantity_id`
    /// on, lazily (the last one is empty: that is how the API ends).
    pub fn pages(
        &self,
        query: StockQuery,
    ) -> impl Stream<Item = Result<Page<StockQuantity, StockQuery>>> + Send + 'static {
        pages(self, query, |stock, query| async move {
            stock.list(&query).await
        })
    }

    /// `erp.stockquantity.get`: every row, lazily (see [`pages`](Self::pages)).
    pub fn stream(
        &self,
        query: StockQuery,
    ) -> impl Stream<Item = Result<StockQuantity>> + Send + 'static {
        paging::items(self.pages(query))
    }
}

impl Warehouses {
    /// `erp.warehouse.get`: the page `query.page_index` (`page_size`
    /// clamped to 200). `next` is the following page, `None` after a page
    /// shorter than the page size.
    pub async fn list(&self, query: &WarehouseQuery) -> Result<Page<Warehouse, WarehouseQuery>> {
        let method = METHOD_WAREHOUSES;
        let query = WarehouseQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        };
        let biz = serde_json::json!({"pageIndex": query.page_index, "pageSize": query.page_size});
        let data = self.client.call_raw(method, biz).await?;
        let rows: Vec<Warehouse> = de::list_rows(method, &data, &["warehouseInfo"], "warehouse")?;
        let next = (rows.len() >= query.page_size as usize).then(|| WarehouseQuery {
            page_index: query.page_index + 1,
            ..query
        });
        Ok(Page::new(rows, next))
    }

    /// `erp.warehouse.get`: every page from `query.page_index` on, lazily.
    pub fn pages(
        &self,
        query: WarehouseQuery,
    ) -> impl Stream<Item = Result<Page<Warehouse, WarehouseQuery>>> + Send + 'static {
        pages(self, query, |warehouses, query| async move {
            warehouses.list(&query).await
        })
    }

    /// `erp.warehouse.get`: every warehouse, lazily (see [`pages`](Self::pages)).
    pub fn stream(
        &self,
        query: WarehouseQuery,
    ) -> impl Stream<Item = Result<Warehouse>> + Send + 'static {
        paging::items(self.pages(query))
    }
}
