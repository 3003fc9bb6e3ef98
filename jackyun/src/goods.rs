//! Goods ([`Client::goods`]): `erp.storage.goodslist` (分页查询货品信息),
//! one row per SKU, paged with the `maxSkuId` cursor.

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id, UnixMillis};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, biz_of, pages};
use crate::customer::clamp_page_size;
use crate::de;
use crate::error::Result;

/// Method name of the paged goods query.
pub const METHOD_GOODS_LIST: &str = "erp.storage.goodslist";

/// Filters of `erp.storage.goodslist` and the page to read (the
/// `maxSkuId` cursor). Times are Beijing time; list filters are sent as one
/// comma-separated string each, as the API wants.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoodsQuery {
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
    /// 货品编号.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_no: Option<String>,
    /// SKU barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_barcode: Option<String>,
    /// Goods name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_name: Option<String>,
    /// SKU name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_name: Option<String>,
    /// ABC category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abc_cate: Option<String>,
    /// Goods created at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<BeijingTime>,
    /// Goods created at or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<BeijingTime>,
    /// SKU modified at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_modified_sku: Option<BeijingTime>,
    /// SKU modified at or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_modified_sku: Option<BeijingTime>,
    /// Goods modified at or after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_modified_goods: Option<BeijingTime>,
    /// Goods modified at or before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_modified_goods: Option<BeijingTime>,
    /// 0/1: package goods only or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_package_good: Option<i64>,
    /// 0/1: blocked goods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_blockup: Option<i64>,
    /// 0/1: blocked SKUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_is_blockup: Option<i64>,
    /// Category name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cate_name: Option<String>,
    /// Assist barcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assist_barcode: Option<String>,
    /// Goods numbers (sent comma-separated).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "de::comma_list"
    )]
    pub goods_nos: Vec<String>,
    /// SKU barcodes (sent comma-separated).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "de::comma_list"
    )]
    pub sku_barcodes: Vec<String>,
    /// External SKU codes (sent comma-separated).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "de::comma_list"
    )]
    pub sku_codes: Vec<String>,
    /// Also return deleted rows (sent as `isQueryDelete: "1"`).
    #[serde(
        skip_serializing_if = "std::ops::Not::not",
        serialize_with = "one_text"
    )]
    pub is_query_delete: bool,
    /// The cursor: rows after this `skuId` (`None` for the first page,
    /// sent as `maxSkuId: 0`).
    #[serde(skip)]
    pub max_sku_id: Option<Id>,
    /// Any other filter, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_text<S: serde::Serializer>(_: &bool, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str("1")
}

/// One SKU row of `erp.storage.goodslist`. Goods times are unix ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Goods {
    /// Goods id.
    pub goods_id: Id,
    /// SKU id (the cursor `maxSkuId` continues after it).
    pub sku_id: Id,
    /// 货品编号.
    #[serde(default)]
    pub goods_no: Option<String>,
    /// Goods name.
    #[serde(default)]
    pub goods_name: Option<String>,
    /// SKU (spec) name.
    #[serde(default)]
    pub sku_name: Option<String>,
    /// SKU number.
    #[serde(default)]
    pub sku_no: Option<String>,
    /// SKU barcode.
    #[serde(default)]
    pub sku_barcode: Option<String>,
    /// External SKU code.
    #[serde(default)]
    pub sku_code: Option<String>,
    /// Unit name.
    #[serde(default)]
    pub unit_name: Option<String>,
    /// Category id.
    #[serde(default)]
    pub cate_id: Option<Id>,
    /// Category name.
    #[serde(default)]
    pub cate_name: Option<String>,
    /// Brand name.
    #[serde(default)]
    pub brand_name: Option<String>,
    /// 1 when the goods is blocked.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub is_blockup: Option<i64>,
    /// 1 when the SKU is blocked.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sku_is_blockup: Option<i64>,
    /// 1 when deleted.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub is_delete: Option<i64>,
    /// 1 for a package (bundle) goods.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub is_package_good: Option<i64>,
    /// Goods attribute (1 成品 finished good ... 11 费用 expense).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub goods_attr: Option<i64>,
    /// Retail price.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub retail_price: Option<Decimal>,
    /// SKU weight.
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub sku_weight: Option<Decimal>,
    /// Goods last modified (unix ms).
    #[serde(default, deserialize_with = "lenient::opt_unix_millis")]
    pub goods_gmt_modified: Option<UnixMillis>,
    /// SKU last modified (unix ms).
    #[serde(default, deserialize_with = "lenient::opt_unix_millis")]
    pub sku_gmt_modified: Option<UnixMillis>,
    /// Goods created (unix ms).
    #[serde(default, deserialize_with = "lenient::opt_unix_millis")]
    pub gmt_create: Option<UnixMillis>,
    /// SKU created (unix ms).
    #[serde(default, deserialize_with = "lenient::opt_unix_millis")]
    pub sku_gmt_create: Option<UnixMillis>,
    /// Every other field (`goodsField1..50`, `skuField1..30`, units, images, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Goods {
    /// The later of the goods and SKU modification times.
    pub fn modified(&self) -> Option<UnixMillis> {
        self.goods_gmt_modified.max(self.sku_gmt_modified)
    }
}

/// The goods rows: one page, every page, every row. Get it from
/// [`Client::goods`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct GoodsList {
    client: Client,
}

impl Client {
    /// The goods rows (`erp.storage.goodslist`, one per SKU).
    pub fn goods(&self) -> GoodsList {
        GoodsList {
            client: self.clone(),
        }
    }
}

impl GoodsList {
    /// `erp.storage.goodslist`: the page after `query.max_sku_id`. `next`
    /// continues after the last row's `skuId`; `None` after an empty page.
    pub async fn list(&self, query: &GoodsQuery) -> Result<Page<Goods, GoodsQuery>> {
        let query = GoodsQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        };
        let cursor = ("maxSkuId", query.max_sku_id.as_ref());
        let goods: Vec<Goods> = rows_after(
            &self.client,
            METHOD_GOODS_LIST,
            &query,
            cursor,
            ("goods", "goods"),
        )
        .await?;
        let next = goods.last().map(|g| GoodsQuery {
            max_sku_id: Some(g.sku_id.clone()),
            ..query
        });
        Ok(Page::new(goods, next))
    }

    /// `erp.storage.goodslist`: every page from `query.max_sku_id` on,
    /// lazily (the last one is empty: that is how the API ends).
    pub fn pages(
        &self,
        query: GoodsQuery,
    ) -> impl Stream<Item = Result<Page<Goods, GoodsQuery>>> + Send + 'static {
        pages(self, query, |goods, query| async move {
            goods.list(&query).await
        })
    }

    /// `erp.storage.goodslist`: every row, lazily (see [`pages`](Self::pages)).
    pub fn stream(&self, query: GoodsQuery) -> impl Stream<Item = Result<Goods>> + Send + 'static {
        paging::items(self.pages(query))
    }
}

/// One page of a list read after an id (`cursor`: `maxSkuId`,
/// `maxQuantityId`, 0 for the first page) from page 0: the `rows` member
/// of the answer, a decode error naming the `what` list when missing.
pub(crate) async fn rows_after<T: DeserializeOwned>(
    client: &Client,
    method: &str,
    query: &impl Serialize,
    (cursor, after): (&str, Option<&Id>),
    (rows, what): (&str, &str),
) -> Result<Vec<T>> {
    let mut biz = biz_of(method, query)?;
    biz["pageIndex"] = 0.into();
    biz[cursor] = after.map_or_else(|| Value::from(0), id_value);
    let data = client.call_raw(method, biz).await?;
    de::list_rows(method, &data, &[rows], what)
}

/// An id as a JSON number when it is one (the API's `Long`), else text.
pub(crate) fn id_value(id: &Id) -> Value {
    id.as_i64()
        .map_or_else(|| Value::from(id.as_str()), Value::from)
}
