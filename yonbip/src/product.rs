//! Products (物料) ([`Client::products`](crate::Client::products)): list
//! and get (the detail API).

use integration_core::lenient;
use integration_core::types::{BeijingTime, Id};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::list::{ListQuery, Resource, Resources};
use crate::types::MultiLang;

/// Path of the product list API (Medium).
pub const LIST_PATH: &str = "yonbip/digitalModel/product/list";
/// Path of the product detail API (Low: by analogy with the merchant detail).
pub const DETAIL_PATH: &str = "yonbip/digitalModel/product/detail";

/// A product (物料). Common fields typed (Low confidence for their names);
/// everything else in [`Product::extra`].
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Product {
    /// The product id.
    #[serde(default)]
    pub id: Option<Id>,
    /// 物料编码.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub code: Option<String>,
    /// 物料名称, multilingual.
    #[serde(default)]
    pub name: Option<MultiLang>,
    /// 规格型号.
    #[serde(
        rename = "modelDescription",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub model_description: Option<String>,
    /// 主计量单位id.
    #[serde(default)]
    pub unit: Option<Id>,
    /// 主计量单位名称.
    #[serde(rename = "unit_Name", default, deserialize_with = "lenient::opt_text")]
    pub unit_name: Option<String>,
    /// 物料分类id.
    #[serde(rename = "manageClass", default)]
    pub manage_class: Option<Id>,
    /// 物料分类名称.
    #[serde(
        rename = "manageClass_Name",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub manage_class_name: Option<String>,
    /// 管理组织id.
    #[serde(rename = "orgId", default)]
    pub org_id: Option<Id>,
    /// Last modification time (Beijing time).
    #[serde(default, deserialize_with = "lenient::opt_beijing_time")]
    pub pubts: Option<BeijingTime>,
    /// Every other member (prices, SKUs, custom fields), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The query of a product list.
pub type ProductQuery = ListQuery;

/// The products: list, get. Get it from
/// [`Client::products`](crate::Client::products).
pub type Products = Resources<Product>;

impl Resource for Product {
    const LIST_PATH: &'static str = LIST_PATH;
    const DETAIL_PATH: &'static str = DETAIL_PATH;
}
