//! Companies (客户) and their contacts (联系人), scope `company`, through
//! the [`Companies`] handle ([`Client::companies`]):
//!
//! * `GET /v1/company/list` — the "update list": [`Companies::list`] (one
//!   page), [`Companies::pages`], [`Companies::stream`];
//! * `GET /v1/company/info` — one company with its contacts:
//!   [`Companies::get`], [`Companies::contacts`];
//! * `POST /v1/company/pushCompanyAndCustomers` — create or edit a company
//!   and its contacts: [`Companies::save`];
//! * `POST /v1/company/removeCompanyAndCustomers` (public-pool companies
//!   only): [`Companies::delete`].

use futures::Stream;
use integration_core::paging::{self, Page};
use integration_core::types::{BeijingTime, Id};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::lenient;
use crate::pagination::{self, list_query};

/// Which pool of companies a list covers (`all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Pool {
    /// `all=1`: every company (default).
    #[default]
    All,
    /// `all=0`: the private pool (私海) only.
    Private,
    /// `all=2`: the public pool (公海) only.
    Public,
}

impl Pool {
    fn param(self) -> &'static str {
        match self {
            Pool::All => "1",
            Pool::Private => "0",
            Pool::Public => "2",
        }
    }
}

/// Which time `start_time` / `end_time` filter on (`time_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CompanyTimeType {
    /// `1`: update time (default).
    #[default]
    Updated,
    /// `2`: creation time.
    Created,
    /// `3`: archive/filing time (建档).
    Archived,
}

impl CompanyTimeType {
    fn param(self) -> &'static str {
        match self {
            CompanyTimeType::Updated => "1",
            CompanyTimeType::Created => "2",
            CompanyTimeType::Archived => "3",
        }
    }
}

/// Parameters of `GET /v1/company/list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyQuery {
    /// `start_index`: the 1-based page number.
    pub page: u32,
    /// `count`: the page size (clamped to 1..=100).
    pub page_size: u32,
    /// `removed=1`: list **deleted** companies instead of live ones.
    pub removed: bool,
    /// `all`: which pool.
    pub pool: Pool,
    /// `group_id`: only this customer group.
    pub group_id: Option<Id>,
    /// `time_type`: which time the window filters on.
    pub time_type: CompanyTimeType,
    /// `start_time` (Beijing time, inclusive).
    pub start_time: Option<BeijingTime>,
    /// `end_time` (Beijing time, inclusive).
    pub end_time: Option<BeijingTime>,
}

impl Default for CompanyQuery {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: 20,
            removed: false,
            pool: Pool::All,
            group_id: None,
            time_type: CompanyTimeType::Updated,
            start_time: None,
            end_time: None,
        }
    }
}

impl CompanyQuery {
    /// Page 1, 20 a page, every live company.
    pub fn new() -> Self {
        Self::default()
    }
    /// Lists deleted companies.
    pub fn removed(mut self, removed: bool) -> Self {
        self.removed = removed;
        self
    }
    /// Sets the pool.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.pool = pool;
        self
    }
    /// Only one customer group.
    pub fn group(mut self, group_id: impl Into<Id>) -> Self {
        self.group_id = Some(group_id.into());
        self
    }
    /// Companies updated in `[start, end]` (either end optional).
    pub fn updated_between(mut self, start: Option<BeijingTime>, end: Option<BeijingTime>) -> Self {
        self.time_type = CompanyTimeType::Updated;
        self.start_time = start;
        self.end_time = end;
        self
    }

    /// The list's own parameters, sent after the page's.
    fn params(&self, q: &mut Vec<(String, String)>) {
        q.push(("all".to_owned(), self.pool.param().to_owned()));
        if self.removed {
            q.push(("removed".to_owned(), "1".to_owned()));
        }
        if let Some(group) = &self.group_id {
            q.push(("group_id".to_owned(), group.to_string()));
        }
        let time_type = Some(self.time_type.param());
        pagination::push_window(
            q,
            time_type,
            self.start_time.as_ref(),
            self.end_time.as_ref(),
        );
    }
}

list_query!(CompanyQuery => CompanySummary, "/v1/company/list", TotalItem);

/// A row of `GET /v1/company/list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanySummary {
    /// Company id (14 digits seen).
    pub company_id: Id,
    /// Name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub name: Option<String>,
    /// Short name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub short_name: Option<String>,
    /// Customer number (客户编号).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub serial_id: Option<String>,
    /// Followers (跟进人) — one id or an array.
    #[serde(default, deserialize_with = "lenient::id_list")]
    pub user_id: Vec<Id>,
    /// **Last contact** time (最近联系时间), not the update time. Beijing time.
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub order_time: Option<BeijingTime>,
    /// Creation time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub create_time: Option<BeijingTime>,
    /// Update time (Beijing) — the incremental key.
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub update_time: Option<BeijingTime>,
    /// Edit time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub edit_time: Option<BeijingTime>,
    /// Creator's user id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub create_user: Option<Id>,
    /// Last editor's user id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub last_edit_user: Option<Id>,
    /// 1 manual, 2 automation, 3 automation suggestion, 4 客户通 sync, 6 file import, 7 business card.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub archive_type: Option<i64>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A follower / owner of a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// User id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub user_id: Option<Id>,
    /// Nickname.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub nickname: Option<String>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A company's follow-up status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailStatus {
    /// Status id (`"0"` = none).
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub status_id: Option<Id>,
    /// Status name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub status_name: Option<String>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A contact (联系人, "customer" in OKKI's API) inside a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Contact id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub customer_id: Option<Id>,
    /// The company it belongs to.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub company_id: Option<Id>,
    /// Name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub email: Option<String>,
    /// Phone numbers, as sent (entries may be texts or `[area, number]` pairs).
    #[serde(default, deserialize_with = "lenient::list")]
    pub tel_list: Vec<Value>,
    /// Social handles, e.g. `{"type":"linkedin","value":"…"}`.
    #[serde(default, deserialize_with = "lenient::list")]
    pub contact: Vec<Value>,
    /// Position (职位).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub post: Option<String>,
    /// Position grade.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub post_grade: Option<String>,
    /// Birthday, as sent.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub birth: Option<String>,
    /// 1 male, 2 female, 0 unknown.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub gender: Option<i64>,
    /// Remark.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub remark: Option<String>,
    /// 1 for the main contact.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub main_customer_flag: Option<i64>,
    /// Every other key (`external_field_data`, `image_list`, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Contact {
    /// Whether this is the company's main contact.
    pub fn is_main(&self) -> bool {
        self.main_customer_flag == Some(1)
    }
}

/// One company from `GET /v1/company/info`, with its contacts.
///
/// Also used for deleted companies surfaced by [`crate::CompanySource`]:
/// then only the list row's fields are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// Company id.
    pub company_id: Id,
    /// Name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub name: Option<String>,
    /// Short name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub short_name: Option<String>,
    /// Customer number (客户编号).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub serial_id: Option<String>,
    /// Country (ISO-2).
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub country: Option<String>,
    /// Province.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub province: Option<String>,
    /// City.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub city: Option<String>,
    /// Address.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub address: Option<String>,
    /// Home page.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub homepage: Option<String>,
    /// Fax.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub fax: Option<String>,
    /// Phone (an array of texts, e.g. `["+86", "021-5555"]`).
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub tel: Vec<String>,
    /// Remark.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub remark: Option<String>,
    /// Star rating (1–5).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub star: Option<i64>,
    /// Customer group.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub group_id: Option<Id>,
    /// Public pool id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub pool_id: Option<Id>,
    /// Follow-up status.
    #[serde(default, deserialize_with = "opt_trail_status")]
    pub trail_status: Option<TrailStatus>,
    /// Owners.
    #[serde(default, deserialize_with = "owners")]
    pub owner: Vec<Owner>,
    /// Followers.
    #[serde(default, deserialize_with = "lenient::id_list")]
    pub user_id: Vec<Id>,
    /// Creator.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub create_user: Option<Id>,
    /// Last editor.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub last_edit_user: Option<Id>,
    /// Creation time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub create_time: Option<BeijingTime>,
    /// Update time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub update_time: Option<BeijingTime>,
    /// Edit time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub edit_time: Option<BeijingTime>,
    /// Archive (建档) time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub archive_time: Option<BeijingTime>,
    /// Last contact time (Beijing).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub order_time: Option<BeijingTime>,
    /// Next follow-up (Beijing; `1970-01-01 00:00:00` = none).
    #[serde(default, deserialize_with = "lenient::opt_time")]
    pub next_follow_up_time: Option<BeijingTime>,
    /// Archive type (see [`CompanySummary::archive_type`]).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub archive_type: Option<i64>,
    /// Contacts (`customers`).
    #[serde(default, deserialize_with = "lenient::list")]
    pub customers: Vec<Contact>,
    /// Every other key (custom fields, Alibaba-store fields, …), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Company {
    /// A deleted company known only from its list row.
    pub fn from_summary(summary: CompanySummary) -> Self {
        let mut extra = summary.extra;
        if let Some(t) = summary.edit_time {
            extra.insert("edit_time".into(), Value::String(t.to_string()));
        }
        Company {
            company_id: summary.company_id,
            name: summary.name,
            short_name: summary.short_name,
            serial_id: summary.serial_id,
            country: None,
            province: None,
            city: None,
            address: None,
            homepage: None,
            fax: None,
            tel: Vec::new(),
            remark: None,
            star: None,
            group_id: None,
            pool_id: None,
            trail_status: None,
            owner: Vec::new(),
            user_id: summary.user_id,
            create_user: summary.create_user,
            last_edit_user: summary.last_edit_user,
            create_time: summary.create_time,
            update_time: summary.update_time,
            edit_time: None,
            archive_time: None,
            order_time: summary.order_time,
            next_follow_up_time: None,
            archive_type: summary.archive_type,
            customers: Vec::new(),
            extra,
        }
    }

    /// The main contact, or else the first one.
    pub fn main_contact(&self) -> Option<&Contact> {
        self.customers
            .iter()
            .find(|c| c.is_main())
            .or_else(|| self.customers.first())
    }
}

/// How to name the company for `GET /v1/company/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyRef {
    /// By `company_id`.
    Id(Id),
    /// By `serial_id` (customer number).
    Serial(String),
}

impl From<Id> for CompanyRef {
    fn from(id: Id) -> Self {
        CompanyRef::Id(id)
    }
}
impl From<i64> for CompanyRef {
    fn from(id: i64) -> Self {
        CompanyRef::Id(id.into())
    }
}
impl From<&Id> for CompanyRef {
    fn from(id: &Id) -> Self {
        CompanyRef::Id(id.clone())
    }
}

/// A contact to create (no `customer_id`), edit or remove.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactInput {
    /// Set to edit an existing contact.
    pub customer_id: Option<Id>,
    /// Name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub tel: Option<String>,
    /// Position.
    pub post: Option<String>,
    /// 1 male, 2 female.
    pub gender: Option<i64>,
    /// 1 for the main contact.
    pub main_customer_flag: Option<i64>,
    /// 1 to remove this contact.
    pub remove: Option<i64>,
    /// Other documented or custom keys (`wechat`, `whatsapp`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `POST /v1/company/pushCompanyAndCustomers`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompanyInput {
    /// Set to edit; absent to create.
    pub company_id: Option<Id>,
    /// Name (required).
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
    /// Customer number.
    pub serial_id: Option<String>,
    /// Country (ISO-2).
    pub country: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Remark.
    pub remark: Option<String>,
    /// Operator / follower.
    pub user_id: Option<Id>,
    /// Contacts (required by OKKI; may be empty).
    pub customers: Vec<ContactInput>,
    /// Other keys, including custom fields named by their numeric field id.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A contact as returned by a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushedContact {
    /// Contact id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub customer_id: Option<Id>,
    /// Name.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub email: Option<String>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushedCompany {
    /// The company's id.
    pub company_id: Id,
    /// Its contacts.
    #[serde(default, deserialize_with = "lenient::list")]
    pub customers: Vec<PushedContact>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct Removed {
    company_id: Id,
}

/// Owners: one object or an array of objects; `null`, `""` and `[]` are
/// none.
fn owners<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<Owner>, D::Error> {
    match Value::deserialize(d)? {
        v @ Value::Object(_) => Ok(vec![lenient::decode(v).map_err(serde::de::Error::custom)?]),
        v => lenient::list(v).map_err(serde::de::Error::custom),
    }
}

/// A follow-up status: an object, or a bare status id; `null`, `""` and
/// `[]` are none.
fn opt_trail_status<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<TrailStatus>, D::Error> {
    match Value::deserialize(d)? {
        v @ Value::Object(_) => lenient::decode(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
        Value::Array(a) if a.is_empty() => Ok(None),
        other => Ok(lenient::opt_id(other)
            .map_err(serde::de::Error::custom)?
            .map(|id| TrailStatus {
                status_id: Some(id),
                status_name: None,
                extra: Map::new(),
            })),
    }
}

/// Companies (`company/*`): the update list, details with contacts, save
/// and delete. From [`Client::companies`]; cheap to clone, and its streams
/// own their client (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Companies {
    client: Client,
}

impl Client {
    /// Companies and their contacts.
    pub fn companies(&self) -> Companies {
        Companies {
            client: self.clone(),
        }
    }
}

impl Companies {
    /// One page of `GET /v1/company/list`: the query's page; `next` is the
    /// following page, `None` after a short page or once `totalItem` is
    /// reached; `total` is `totalItem`.
    pub async fn list(&self, query: &CompanyQuery) -> Result<Page<CompanySummary, CompanyQuery>> {
        pagination::list(&self.client, query).await
    }

    /// Every page from the query's page on, fetched lazily.
    pub fn pages(
        &self,
        query: CompanyQuery,
    ) -> impl Stream<Item = Result<Page<CompanySummary, CompanyQuery>>> + Send + 'static {
        pagination::pages(&self.client, query)
    }

    /// Every company row matching `query`, lazily, page by page.
    pub fn stream(
        &self,
        query: CompanyQuery,
    ) -> impl Stream<Item = Result<CompanySummary>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// `GET /v1/company/info`: one company with its contacts. An unknown or
    /// deleted company is an error for which
    /// [`Error::is_not_found`](crate::Error::is_not_found) holds.
    pub async fn get(&self, company: impl Into<CompanyRef>) -> Result<Company> {
        let query = match company.into() {
            CompanyRef::Id(id) => vec![("company_id".to_owned(), id.to_string())],
            CompanyRef::Serial(serial) => vec![("serial_id".to_owned(), serial)],
        };
        self.client.get("/v1/company/info", query).await
    }

    /// The contacts of a company (from `GET /v1/company/info`; OKKI has no
    /// standalone contacts list).
    pub async fn contacts(&self, company: impl Into<CompanyRef>) -> Result<Vec<Contact>> {
        Ok(self.get(company).await?.customers)
    }

    /// `POST /v1/company/pushCompanyAndCustomers`: creates (no
    /// `company_id`) or edits a company and its contacts. Not retried after
    /// a timeout or 5xx, as the write may have happened.
    pub async fn save(&self, company: &CompanyInput) -> Result<PushedCompany> {
        let body = serde_json::to_value(company)
            .map_err(|e| crate::Error::invalid("/v1/company/pushCompanyAndCustomers", e))?;
        self.client
            .post_json("/v1/company/pushCompanyAndCustomers", body)
            .await
    }

    /// Sets company fields of an existing company and nothing else
    /// (`pushCompanyAndCustomers` with its `company_id`, these keys and an
    /// empty `customers`, so no contact changes): e.g. a custom field by
    /// its numeric field id, `{"4432264586798": "M-0001"}`. Setting values
    /// is safe to repeat, so unlike [`Self::save`] it is retried after a
    /// timeout or 5xx.
    pub async fn set_fields(
        &self,
        company_id: &Id,
        fields: &Map<String, Value>,
    ) -> Result<PushedCompany> {
        let mut body = fields.clone();
        // A number, as OKKI's ids are (`company_id` is an int64).
        let id = company_id
            .as_i64()
            .map_or_else(|| Value::String(company_id.to_string()), Value::from);
        body.insert("company_id".into(), id);
        body.insert("customers".into(), Value::Array(Vec::new()));
        self.client
            .post_json_idempotent("/v1/company/pushCompanyAndCustomers", Value::Object(body))
            .await
    }

    /// `POST /v1/company/removeCompanyAndCustomers` (form): deletes a
    /// public-pool company and its contacts; returns the id.
    pub async fn delete(&self, company_id: &Id) -> Result<Id> {
        let removed: Removed = self
            .client
            .post_form(
                "/v1/company/removeCompanyAndCustomers",
                vec![("company_id".to_owned(), company_id.to_string())],
            )
            .await?;
        Ok(removed.company_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagination::ListQuery;

    #[test]
    fn detail_decodes_the_doc_shapes() {
        let json = serde_json::json!({
            "company_id": 56657420945678i64, "name": "上海明远贸易有限公司", "serial_id": "C0001",
            "tel": ["+86", "021-55550000"], "trail_status": {"status_id": "0", "status_name": ""},
            "owner": [{"user_id": 55280038, "nickname": "王芳"}], "user_id": [],
            "last_edit_user": "55280038", "next_follow_up_time": "1970-01-01 00:00:00",
            "next_move_to_public_date": "1970-01-01", "update_time": "2025-03-06 16:55:25",
            "4432264586798": ["A1"],
            "customers": [{"customer_id": "1001", "name": "李雷", "main_customer_flag": 1, "gender": "1",
                           "tel_list": [["+86","13800000000"]], "external_field_data": [{"id":"1","value":"x"}]}]
        });
        let c: Company = lenient::decode(json).unwrap();
        assert_eq!(c.company_id.as_str(), "56657420945678");
        assert_eq!(c.tel.len(), 2);
        assert!(c.next_follow_up_time.is_none());
        assert_eq!(c.last_edit_user, Some(Id::from(55280038)));
        assert_eq!(c.owner[0].nickname.as_deref(), Some("王芳"));
        assert_eq!(
            c.extra["4432264586798"],
            serde_json::json!(["A1"]),
            "custom field kept"
        );
        assert!(c.main_contact().unwrap().is_main());
        assert!(c.customers[0].extra.contains_key("external_field_data"));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["4432264586798"], serde_json::json!(["A1"]));
        assert_eq!(back["update_time"], "2025-03-06 16:55:25");
    }

    /// PHP's empty array is "none"; other shapes OKKI does not send are
    /// errors naming the field, not silently dropped.
    #[test]
    fn empty_and_junk_owners_statuses_and_texts() {
        let c: Company = lenient::decode(serde_json::json!({
            "company_id": 1, "owner": [], "trail_status": [], "remark": [], "country": " CN "
        }))
        .unwrap();
        assert!(c.owner.is_empty() && c.trail_status.is_none() && c.remark.is_none());
        assert_eq!(c.country.as_deref(), Some("CN"));
        let c: Company =
            lenient::decode(serde_json::json!({"company_id": 1, "trail_status": 3})).unwrap();
        assert_eq!(c.trail_status.unwrap().status_id, Some(Id::from(3)));
        for (field, junk) in [
            ("owner", serde_json::json!(5)),
            ("owner", serde_json::json!([1])),
            ("trail_status", serde_json::json!(["0"])),
            ("remark", serde_json::json!({"text": "x"})),
        ] {
            let err = lenient::decode::<Company>(serde_json::json!({"company_id": 1, field: junk}))
                .unwrap_err();
            assert_eq!(err.path, field, "{err}");
        }
    }

    #[test]
    fn list_query_params() {
        let q = CompanyQuery::new()
            .page_size(500)
            .removed(true)
            .group(7)
            .updated_between(BeijingTime::parse("2026-01-01 00:00:00"), None);
        let q = q.to_query();
        let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("count"), Some("100"));
        assert_eq!(get("start_index"), Some("1"));
        assert_eq!(get("removed"), Some("1"));
        assert_eq!(get("all"), Some("1"));
        assert_eq!(get("group_id"), Some("7"));
        assert_eq!(get("time_type"), Some("1"));
        assert_eq!(get("start_time"), Some("2026-01-01 00:00:00"));
        assert_eq!(get("end_time"), None);
    }
}
