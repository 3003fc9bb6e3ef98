//! Stock: `erp.stockquantity.get` (paged with the `maxQuantityId` cursor)
//! and warehouses: `erp.warehouse.get`.

use futures::Stream;
use integration_core::types::{BeijingTime, Id};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, decode_data};
use crate::customer::clamp_page_size;
use crate::de;
use crate::error::{Error, Result};
use crate::goods::id_value;

/// Method name of the stock query.
pub const METHOD_STOCK: &str = "erp.stockquantity.get";
/// Method name of the warehouse list.
pub const METHOD_WAREHOUSES: &str = "erp.warehouse.get";

/// Filters of `erp.stockquantity.get`.
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
    /// Any other filter (`goodsNo`, `skuBarcode`, `warehouseCode`, ...), sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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
    #[serde(default, with = "de::opt_decimal")]
    pub current_quantity: Option<Decimal>,
    /// Available.
    #[serde(default, with = "de::opt_decimal")]
    pub use_quantity: Option<Decimal>,
    /// Locked.
    #[serde(default, with = "de::opt_decimal")]
    pub locked_quantity: Option<Decimal>,
    /// On order from vendors.
    #[serde(default, with = "de::opt_decimal")]
    pub purchasing_quantity: Option<Decimal>,
    /// Defective (the API spells it `defectiveQuanity`).
    #[serde(default, rename = "defectiveQuanity", with = "de::opt_decimal")]
    pub defective_quantity: Option<Decimal>,
    /// Cost price.
    #[serde(default, with = "de::opt_decimal")]
    pub cost_price: Option<Decimal>,
    /// Every other field (`batchList`, `allocateQuantity`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of stock rows.
#[derive(Debug, Clone, PartialEq)]
pub struct StockPage {
    /// The rows.
    pub rows: Vec<StockQuantity>,
    /// `maxQuantityId` for the next page; `None` after an empty page.
    pub next_max_quantity_id: Option<Id>,
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

impl Client {
    /// `erp.stockquantity.get`: the page after `max_quantity_id` (`None`
    /// for the first).
    pub async fn stock_page(
        &self,
        query: &StockQuery,
        max_quantity_id: Option<&Id>,
    ) -> Result<StockPage> {
        let method = METHOD_STOCK;
        let mut biz = serde_json::to_value(StockQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        })
        .map_err(|e| Error::invalid(method, e.to_string()))?;
        biz["pageIndex"] = 0.into();
        biz["maxQuantityId"] = max_quantity_id.map_or_else(|| Value::from(0), id_value);
        let data = self.call_raw(method, biz).await?;
        let rows = de::rows_of(&data, &["goodsStockQuantity"]).ok_or_else(|| {
            Error::decode(
                method,
                "result.data holds no stock list",
                data.to_string().as_bytes(),
            )
        })?;
        let rows: Vec<StockQuantity> = decode_data(method, rows)?;
        let next_max_quantity_id = rows.last().map(|r| r.quantity_id.clone());
        Ok(StockPage {
            rows,
            next_max_quantity_id,
        })
    }

    /// `erp.stockquantity.get`: every row, lazily, following
    /// `maxQuantityId` until an empty page.
    pub fn stock_stream(
        &self,
        query: StockQuery,
    ) -> impl Stream<Item = Result<StockQuantity>> + Send + 'static {
        let client = self.clone();
        de::paginate(None::<Id>, move |cursor: Option<Id>| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let page = client.stock_page(&query, cursor.as_ref()).await?;
                Ok((page.rows, page.next_max_quantity_id.map(Some)))
            }
        })
    }

    /// `erp.warehouse.get`: one page (`page_index` 0-based, `page_size`
    /// clamped to 200).
    pub async fn warehouses(&self, page_index: u32, page_size: u32) -> Result<Vec<Warehouse>> {
        let method = METHOD_WAREHOUSES;
        let biz =
            serde_json::json!({"pageIndex": page_index, "pageSize": clamp_page_size(page_size)});
        let data = self.call_raw(method, biz).await?;
        let rows = de::rows_of(&data, &["warehouseInfo"]).ok_or_else(|| {
            Error::decode(
                method,
                "result.data holds no warehouse list",
                data.to_string().as_bytes(),
            )
        })?;
        decode_data(method, rows)
    }

    /// `erp.warehouse.get`: every warehouse, lazily; ends on a short page.
    pub fn warehouses_stream(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Warehouse>> + Send + 'static {
        let client = self.clone();
        let size = clamp_page_size(page_size);
        de::paginate(0u32, move |page: u32| {
            let client = client.clone();
            async move {
                let rows = client.warehouses(page, size).await?;
                let next = (rows.len() >= size as usize).then_some(page + 1);
                Ok((rows, next))
            }
        })
    }
}
