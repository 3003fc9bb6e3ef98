//! Customers ([`Client::customers`]): `crm.customer.add` (create),
//! `crm.customer.list` (page-numbered list) and
//! `crm.customer.list.customized` (query by ids, codes or modification
//! time, with the `scrollId` cursor).

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, biz_of, pages};
use crate::de;
use crate::error::{Error, Result};

/// Method name of customer creation.
pub const METHOD_ADD: &str = "crm.customer.add";
/// Method name of the paged customer list.
pub const METHOD_LIST: &str = "crm.customer.list";
/// Method name of the customised customer query (by ids or codes).
pub const METHOD_LIST_CUSTOMIZED: &str = "crm.customer.list.customized";

/// Largest page size of the customer lists (as for every paged method).
pub const MAX_PAGE_SIZE: u32 = 200;

/// A new customer for `crm.customer.add` (客户新增). Every field of the
/// method's field list; all are text on the wire. Fields not listed here
/// (custom fields) go in `extra` and are sent unchanged.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer {
    /// 客户编号: the customer code, the key this crate's sink is idempotent on.
    pub customer_code: String,
    /// 客户名称: the customer name.
    pub nickname: String,
    /// 别名: alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// 会员等级id: membership level id.
    #[serde(default)]
    pub vip_level: Option<String>,
    /// 会员等级名称: membership level name.
    #[serde(default)]
    pub vip_level_name: Option<String>,
    /// 联系人: contact person.
    #[serde(default)]
    pub contacts: Option<String>,
    /// 国家: country.
    #[serde(default)]
    pub country: Option<String>,
    /// 省份: province.
    #[serde(default)]
    pub state: Option<String>,
    /// 城市: city.
    #[serde(default)]
    pub city: Option<String>,
    /// 区: district.
    #[serde(default)]
    pub district: Option<String>,
    /// 镇: town.
    #[serde(default)]
    pub town: Option<String>,
    /// 基本信息地址-地址: address.
    #[serde(default)]
    pub address: Option<String>,
    /// 基本信息地址-详细地址: detailed address.
    #[serde(default)]
    pub detailed_address: Option<String>,
    /// 邮编: postcode.
    #[serde(default)]
    pub zip: Option<String>,
    /// 性别 (enum; official values unknown, sent as given).
    #[serde(default)]
    pub gender: Option<String>,
    /// 年龄: age.
    #[serde(default)]
    pub age: Option<String>,
    /// 生日: birthday (probably `yyyy-MM-dd`; sent as given).
    #[serde(default)]
    pub birthday: Option<String>,
    /// 生日日期类型 (enum, probably Gregorian/lunar; sent as given).
    #[serde(default)]
    pub calendar_type: Option<String>,
    /// 联系电话: phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// QQ number.
    #[serde(default)]
    pub qq: Option<String>,
    /// 微信: WeChat id.
    #[serde(default)]
    pub wei_xin: Option<String>,
    /// 开票税号: tax number for invoices.
    #[serde(default)]
    pub tax_number: Option<String>,
    /// 客户经理id: account manager id.
    #[serde(default)]
    pub customer_manager: Option<String>,
    /// 客户经理名称: account manager name.
    #[serde(default)]
    pub customer_manager_name: Option<String>,
    /// Referrer id (the scheme document labels it 客户经理名称, apparently a
    /// copy error).
    #[serde(default)]
    pub referee_id: Option<String>,
    /// 推荐人名称: referrer name.
    #[serde(default)]
    pub referee: Option<String>,
    /// 特别提醒: special reminder.
    #[serde(default)]
    pub special_reminding: Option<String>,
    /// 客户类别id: customer category id.
    #[serde(default)]
    pub customer_type: Option<String>,
    /// 客户类别名称: customer category name.
    #[serde(default)]
    pub customer_type_name: Option<String>,
    /// Any other field, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl NewCustomer {
    /// A customer with its code and name.
    pub fn new(customer_code: impl Into<String>, nickname: impl Into<String>) -> Self {
        Self {
            customer_code: customer_code.into(),
            nickname: nickname.into(),
            ..Self::default()
        }
    }
}

/// What `crm.customer.add` answered. The shape of its `data` is not
/// documented publicly, so the whole value is kept and the id is read from
/// the likely places.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerCreated {
    /// The new customer's id, when the answer carried one (`data` itself,
    /// or `data.customerId` / `data.id`).
    pub customer_id: Option<Id>,
    /// `result.contextId` of the call.
    pub context_id: Option<String>,
    /// `result.data` as sent.
    pub data: Value,
}

impl CustomerCreated {
    fn from_data(data: Value, context_id: Option<String>) -> Self {
        let id_of = |v: &Value| match v {
            Value::String(s) if !s.is_empty() => Some(Id::new(s.clone())),
            Value::Number(n) => Some(Id::new(n.to_string())),
            _ => None,
        };
        let customer_id = match &data {
            Value::Object(map) => ["customerId", "id", "customerID"]
                .iter()
                .find_map(|k| map.get(*k).and_then(id_of)),
            other => id_of(other),
        };
        Self {
            customer_id,
            context_id,
            data,
        }
    }
}

/// A customer as the lists return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Jackyun's customer id.
    pub customer_id: Id,
    /// 客户编号.
    #[serde(default)]
    pub customer_code: Option<String>,
    /// 客户名称.
    #[serde(default)]
    pub nickname: Option<String>,
    /// 别名.
    #[serde(default)]
    pub alias: Option<String>,
    /// 客户类别名称.
    #[serde(default)]
    pub customer_type_name: Option<String>,
    /// 国家.
    #[serde(default)]
    pub country: Option<String>,
    /// 开票税号.
    #[serde(default)]
    pub tax_number: Option<String>,
    /// 备注.
    #[serde(default)]
    pub remark: Option<String>,
    /// 特别提醒.
    #[serde(default)]
    pub special_reminding: Option<String>,
    /// 1 when deleted.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub is_delete: Option<i64>,
    /// 1 when blacklisted.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub black_list: Option<i64>,
    /// 1 when enabled.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub enable: Option<i64>,
    /// Last modification (Beijing time).
    #[serde(
        default,
        deserialize_with = "de::opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub gmt_modified: Option<BeijingTime>,
    /// Every other field (phone, address, custom fields, `invoice`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of `crm.customer.list` and the page to read (`pageIndex`,
/// 0-based).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerListQuery {
    /// Modified at or after (Beijing time).
    pub gmt_modified_begin: Option<BeijingTime>,
    /// Modified at or before (Beijing time).
    pub gmt_modified_end: Option<BeijingTime>,
    /// `1` for enabled customers only.
    pub enable: Option<i64>,
    /// The page, from 0.
    pub page_index: u32,
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
    /// Any other filter, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of `crm.customer.list.customized` and the page to read (the
/// `scrollId` cursor).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuery {
    /// Customer ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub customer_id_arr: Vec<Id>,
    /// Customer codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub customer_code_arr: Vec<String>,
    /// Modified at or after (Beijing time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmt_modified_begin: Option<BeijingTime>,
    /// Modified at or before (Beijing time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gmt_modified_end: Option<BeijingTime>,
    /// Rows per page (clamped to 1..=200; default 50).
    pub page_size: u32,
    /// The cursor the previous page sent back; `None` for the first page
    /// (sent as `scrollId: ""`).
    #[serde(skip)]
    pub scroll_id: Option<String>,
    /// Any other filter (`customerCreateSourceBatch`, ...), sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CustomerQuery {
    /// Looks customers up by code.
    pub fn by_codes<I: IntoIterator<Item = S>, S: Into<String>>(codes: I) -> Self {
        Self {
            customer_code_arr: codes.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Customers modified in `[start, end]`.
    pub fn modified(start: BeijingTime, end: BeijingTime) -> Self {
        Self {
            gmt_modified_begin: Some(start),
            gmt_modified_end: Some(end),
            ..Self::default()
        }
    }
}

pub(crate) fn clamp_page_size(size: u32) -> u32 {
    if size == 0 {
        50
    } else {
        size.min(MAX_PAGE_SIZE)
    }
}

const ROW_NAMES: &[&str] = &["customers", "customerList", "list", "rows", "data"];

fn customers_of(method: &str, data: &Value) -> Result<Vec<Customer>> {
    de::list_rows(method, data, ROW_NAMES, "customer")
}

/// The customers: create, list (page-numbered), query (by ids, codes or
/// modification time; cursor), find by code. Get it from
/// [`Client::customers`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
}

impl Client {
    /// The customers (`crm.customer.*`).
    pub fn customers(&self) -> Customers {
        Customers {
            client: self.clone(),
        }
    }
}

impl Customers {
    /// `crm.customer.add`: creates a customer.
    ///
    /// Not idempotent by itself; [`crate::CustomerSink`] looks the code up
    /// first.
    pub async fn create(&self, customer: &NewCustomer) -> Result<CustomerCreated> {
        if customer.customer_code.trim().is_empty() {
            return Err(Error::invalid(METHOD_ADD, "customerCode is empty"));
        }
        let reply = self.client.call_reply(METHOD_ADD, customer).await?;
        Ok(CustomerCreated::from_data(reply.data, reply.context_id))
    }

    /// `crm.customer.list`: the page `query.page_index`. `next` is the
    /// following page, `None` after a page shorter than the page size.
    pub async fn list(
        &self,
        query: &CustomerListQuery,
    ) -> Result<Page<Customer, CustomerListQuery>> {
        let query = CustomerListQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        };
        let biz = biz_of(METHOD_LIST, &query)?;
        let data = self.client.call_raw(METHOD_LIST, biz).await?;
        let rows = customers_of(METHOD_LIST, &data)?;
        let next = (rows.len() >= query.page_size as usize).then(|| CustomerListQuery {
            page_index: query.page_index + 1,
            ..query
        });
        Ok(Page::new(rows, next))
    }

    /// `crm.customer.list`: every page from `query.page_index` on, lazily.
    pub fn pages(
        &self,
        query: CustomerListQuery,
    ) -> impl Stream<Item = Result<Page<Customer, CustomerListQuery>>> + Send + 'static {
        pages(self, query, |customers, query| async move {
            customers.list(&query).await
        })
    }

    /// `crm.customer.list`: every customer, lazily (see [`pages`](Self::pages)).
    pub fn stream(
        &self,
        query: CustomerListQuery,
    ) -> impl Stream<Item = Result<Customer>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// `crm.customer.list.customized`: the page after `query.scroll_id`.
    /// `next` carries the cursor sent back, `None` after an empty page or
    /// when no cursor came back; `total` is `totalResults` when sent (ask
    /// with `extra["hasTotal"] = 1`).
    pub async fn query(&self, query: &CustomerQuery) -> Result<Page<Customer, CustomerQuery>> {
        let method = METHOD_LIST_CUSTOMIZED;
        let query = CustomerQuery {
            page_size: clamp_page_size(query.page_size),
            ..query.clone()
        };
        let mut biz = biz_of(method, &query)?;
        biz["scrollId"] = query.scroll_id.as_deref().unwrap_or("").into();
        let data = self.client.call_raw(method, biz).await?;
        let customers = customers_of(method, &data)?;
        let meta = de::ScrollMeta::of(method, &data)?;
        let next = meta
            .scroll_id
            .filter(|_| !customers.is_empty())
            .map(|scroll_id| CustomerQuery {
                scroll_id: Some(scroll_id),
                ..query
            });
        Ok(Page::new(customers, next).with_total(meta.total_results))
    }

    /// `crm.customer.list.customized`: every page from `query.scroll_id`
    /// on, lazily.
    pub fn query_pages(
        &self,
        query: CustomerQuery,
    ) -> impl Stream<Item = Result<Page<Customer, CustomerQuery>>> + Send + 'static {
        pages(self, query, |customers, query| async move {
            customers.query(&query).await
        })
    }

    /// `crm.customer.list.customized`: every match, lazily (see
    /// [`query_pages`](Self::query_pages)).
    pub fn query_stream(
        &self,
        query: CustomerQuery,
    ) -> impl Stream<Item = Result<Customer>> + Send + 'static {
        paging::items(self.query_pages(query))
    }

    /// The customer with this code (exact match), via
    /// `crm.customer.list.customized`; `None` when there is none.
    pub async fn find_by_code(&self, code: &str) -> Result<Option<Customer>> {
        let page = self.query(&CustomerQuery::by_codes([code])).await?;
        Ok(page
            .items
            .into_iter()
            .find(|c| c.customer_code.as_deref() == Some(code)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_customer_serialises_camel_case_and_keeps_extra() {
        let mut c = NewCustomer::new("KH0001", "张三");
        c.wei_xin = Some("zs_wx".into());
        c.extra.insert("customField1".into(), "x".into());
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["customerCode"], "KH0001");
        assert_eq!(v["weiXin"], "zs_wx");
        assert_eq!(v["customField1"], "x");
        assert!(v.get("alias").is_none());
    }

    #[test]
    fn created_id_from_various_shapes() {
        assert_eq!(
            CustomerCreated::from_data(serde_json::json!({"customerId": 12}), None).customer_id,
            Some(Id::from(12))
        );
        assert_eq!(
            CustomerCreated::from_data(serde_json::json!("998"), None).customer_id,
            Some(Id::from("998"))
        );
        assert_eq!(
            CustomerCreated::from_data(Value::Null, None).customer_id,
            None
        );
    }
}
