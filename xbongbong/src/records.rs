//! Business records (customers, contracts, contacts, opportunities,
//! products, payment receipts, follow-ups, custom forms …) through one
//! handle shape, [`Records`] ([`Client::customers`], [`Client::contracts`],
//! ..., any module with [`Client::records`]): `list` (one page), `pages` and
//! `stream` (lazily, one page in memory), `get`, `create`, `update`,
//! `delete`. They all share one record shape: `{dataId, formId, addTime,
//! updateTime, data: {attr: value}}`.

use futures::{Stream, TryStreamExt};
use integration_core::error::Failure;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use integration_core::types::{Id, UnixSeconds};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::form::{BusinessType, FormExplain};
use crate::validate::ValidationOptions;
use crate::value::ValueError;

/// The largest `pageSize` the list endpoints accept.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The page size used when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// A record module: the path segment of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Module {
    /// 客户 `customer/*`.
    Customer,
    /// 合同订单 `contract/*`.
    Contract,
    /// 联系人 `contact/*`.
    Contact,
    /// 销售机会 `opportunity/*`.
    Opportunity,
    /// 产品 `product/*`.
    Product,
    /// 回款单 `paymentSheet/*` (add via `addWriteOff` & co.).
    PaymentSheet,
    /// 应收款 `payment/*`.
    Payment,
    /// 跟进记录 `communicate/*`.
    FollowUp,
    /// 线索 `clue/*`.
    Lead,
    /// Custom (PaaS) forms `paas/*`.
    Paas,
    /// Any other module path segment.
    Other(String),
}

impl Module {
    /// The path segment, e.g. `customer`.
    pub fn path(&self) -> &str {
        match self {
            Module::Customer => "customer",
            Module::Contract => "contract",
            Module::Contact => "contact",
            Module::Opportunity => "opportunity",
            Module::Product => "product",
            Module::PaymentSheet => "paymentSheet",
            Module::Payment => "payment",
            Module::FollowUp => "communicate",
            Module::Lead => "clue",
            Module::Paas => "paas",
            Module::Other(p) => p,
        }
    }

    /// The module of a path segment.
    pub fn from_path(path: &str) -> Self {
        match path {
            "customer" => Module::Customer,
            "contract" => Module::Contract,
            "contact" => Module::Contact,
            "opportunity" => Module::Opportunity,
            "product" => Module::Product,
            "paymentSheet" => Module::PaymentSheet,
            "payment" => Module::Payment,
            "communicate" => Module::FollowUp,
            "clue" => Module::Lead,
            "paas" => Module::Paas,
            other => Module::Other(other.to_owned()),
        }
    }

    /// The business type of the module's system forms.
    pub fn business_type(&self) -> Option<BusinessType> {
        Some(match self {
            Module::Customer => BusinessType::Customer,
            Module::Contract => BusinessType::Contract,
            Module::Contact => BusinessType::Contact,
            Module::Opportunity => BusinessType::Opportunity,
            Module::Product => BusinessType::Product,
            Module::PaymentSheet => BusinessType::PaymentSheet,
            Module::Payment => BusinessType::PaymentPlan,
            Module::FollowUp => BusinessType::FollowUp,
            Module::Lead => BusinessType::Lead,
            Module::Paas | Module::Other(_) => return None,
        })
    }

    /// The action that adds a record (`add`; `addWriteOff` for receipts).
    pub fn add_action(&self) -> &'static str {
        match self {
            Module::PaymentSheet => "addWriteOff",
            _ => "add",
        }
    }

    /// The action that edits a record (`edit`; `editWriteOff` for receipts).
    pub fn edit_action(&self) -> &'static str {
        match self {
            Module::PaymentSheet => "editWriteOff",
            _ => "edit",
        }
    }
}

/// A condition symbol. `equal`, `in`, `noin` and `like` are documented; the
/// range symbols are guesses (see the crate's "Assumptions").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Symbol {
    /// `equal`.
    Equal,
    /// `in`.
    In,
    /// `noin`.
    NotIn,
    /// `like`.
    Like,
    /// `greaterequal` (guessed).
    GreaterEqual,
    /// `lessequal` (guessed).
    LessEqual,
    /// `range` with `[from, to]` (guessed).
    Range,
    /// Any other symbol, sent as is.
    Other(String),
}

impl From<String> for Symbol {
    fn from(s: String) -> Self {
        match s.as_str() {
            "equal" => Symbol::Equal,
            "in" => Symbol::In,
            "noin" => Symbol::NotIn,
            "like" => Symbol::Like,
            "greaterequal" => Symbol::GreaterEqual,
            "lessequal" => Symbol::LessEqual,
            "range" => Symbol::Range,
            _ => Symbol::Other(s),
        }
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        match s {
            Symbol::Equal => "equal".into(),
            Symbol::In => "in".into(),
            Symbol::NotIn => "noin".into(),
            Symbol::Like => "like".into(),
            Symbol::GreaterEqual => "greaterequal".into(),
            Symbol::LessEqual => "lessequal".into(),
            Symbol::Range => "range".into(),
            Symbol::Other(s) => s,
        }
    }
}

/// A list condition; conditions are combined with AND.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The field, e.g. `text_1`, `serialNo`, `ownerId`.
    pub attr: String,
    /// The comparison.
    pub symbol: Symbol,
    /// The values; always an array, even for `equal`.
    pub value: Vec<Value>,
    /// A sub-form column, e.g. `text_2` of `subForm_1` (phone numbers).
    #[serde(default)]
    pub sub_attr: Option<String>,
}

impl Condition {
    /// `attr equal value`.
    pub fn equal(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(attr, Symbol::Equal, vec![value.into()])
    }
    /// `attr in values`.
    pub fn any_of(attr: impl Into<String>, values: Vec<Value>) -> Self {
        Self::new(attr, Symbol::In, values)
    }
    /// `attr like text`.
    pub fn like(attr: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(attr, Symbol::Like, vec![Value::String(text.into())])
    }
    /// A condition with any symbol.
    pub fn new(attr: impl Into<String>, symbol: Symbol, value: Vec<Value>) -> Self {
        Self {
            attr: attr.into(),
            symbol,
            value,
            sub_attr: None,
        }
    }
    /// `attr` (a link field, or `dataId`) equal to a record's dataId, sent
    /// as a JSON number as the API wants (e.g. follow-ups of a customer:
    /// `Condition::link("text_1", customer.data_id)`). An id that is not an
    /// integer is an [`Error::Value`].
    pub fn link(attr: impl Into<String>, data_id: impl Into<Id>) -> Result<Self> {
        let attr = attr.into();
        let id = numeric_id(&attr, &data_id.into())?;
        Ok(Self::new(attr, Symbol::Equal, vec![Value::from(id)]))
    }
    /// `attr in` these dataIds, sent as JSON numbers (see [`Condition::link`]).
    pub fn link_any<I: Into<Id>>(
        attr: impl Into<String>,
        data_ids: impl IntoIterator<Item = I>,
    ) -> Result<Self> {
        let attr = attr.into();
        let ids = data_ids
            .into_iter()
            .map(|id| numeric_id(&attr, &id.into()).map(Value::from))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::new(attr, Symbol::In, ids))
    }
    /// Targets a sub-form column.
    pub fn sub_attr(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }
}

/// A list request of any module. Unset options are left out of the body
/// (sending defaults changes results on some lists).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// The form; required for customer, contract, opportunity, lead and
    /// custom-form lists, optional elsewhere (default form).
    pub form_id: Option<i64>,
    /// Conditions (AND).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size (clamped to [`MAX_PAGE_SIZE`]).
    pub page_size: Option<u32>,
    /// Customers/leads: 0 not in the public pool, 1 public pool.
    pub is_public: Option<u8>,
    /// 0 normal list, 1 recycle bin.
    pub del: Option<u8>,
    /// "1" includes records in approval (sent as text).
    pub view_approval: Option<String>,
    /// Any other member, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ListQuery {
    /// Records of a form.
    pub fn form(form_id: i64) -> Self {
        Self {
            form_id: Some(form_id),
            ..Self::default()
        }
    }
    /// Adds a condition.
    pub fn condition(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }
    /// Sets the page size (clamped to 1..=[`MAX_PAGE_SIZE`]).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, MAX_PAGE_SIZE));
        self
    }
    /// Sets the 1-based page.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page.max(1));
        self
    }
}

/// The query of a customer list.
pub type CustomerQuery = ListQuery;
/// The query of a contract list.
pub type ContractQuery = ListQuery;
/// The query of a contact list.
pub type ContactQuery = ListQuery;
/// The query of an opportunity list.
pub type OpportunityQuery = ListQuery;
/// The query of a product list.
pub type ProductQuery = ListQuery;
/// The query of a payment-receipt list.
pub type PaymentReceiptQuery = ListQuery;
/// The query of a follow-up list.
pub type FollowUpQuery = ListQuery;

/// A stored record.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The record id.
    pub data_id: Id,
    /// Its form.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub form_id: Option<Id>,
    /// Created (unix seconds).
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    pub add_time: Option<UnixSeconds>,
    /// Last changed (unix seconds).
    #[serde(default, deserialize_with = "lenient::opt_unix_seconds")]
    pub update_time: Option<UnixSeconds>,
    /// The field values by attr (read with [`crate::value::DataExt`] or
    /// [`FormExplain::read`]).
    #[serde(default)]
    pub data: Map<String, Value>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of a list (`list`, `userList` or `depList` by endpoint).
/// Only items, the next page and the total reach a [`Page`]; anything
/// else it carries is in [`Client::call_raw`]'s answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub(crate) struct ListAnswer<T> {
    #[serde(default, alias = "userList", alias = "depList")]
    pub(crate) list: Option<Vec<T>>,
    #[serde(default, deserialize_with = "crate::value::opt_count")]
    pub(crate) total_count: Option<u64>,
    #[serde(default, deserialize_with = "crate::value::opt_count")]
    pub(crate) total_page: Option<u64>,
}

/// Whether a page after `page` (1-based, `len` items of `page_size`) can
/// exist: `totalPage` when given, else `totalCount`, else a full page means
/// maybe. An empty page is the last.
pub(crate) fn has_more(
    len: usize,
    page: u32,
    page_size: u32,
    total_page: Option<u64>,
    total_count: Option<u64>,
) -> bool {
    if len == 0 {
        return false;
    }
    match (total_page, total_count) {
        (Some(total), _) => u64::from(page) < total,
        (None, Some(count)) => u64::from(page) * u64::from(page_size) < count,
        (None, None) => len as u64 >= u64::from(page_size),
    }
}

/// Every page from `first` on with `list`; an empty page after the first
/// ends the list without being yielded.
pub(crate) fn pages_from<T, Q, F, Fut>(
    first: Q,
    list: F,
) -> impl Stream<Item = Result<Page<T, Q>>> + Send + 'static
where
    T: Send + 'static,
    Q: Clone + Send + 'static,
    F: FnMut(Q) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Page<T, Q>>> + Send + 'static,
{
    let mut first_page = true;
    paging::paginate(first, list).try_filter(move |page| {
        let keep = std::mem::take(&mut first_page) || !page.items.is_empty();
        futures::future::ready(keep)
    })
}

/// The answer of add/edit.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteResult {
    /// The record id (some endpoints call it `formDataId` or `id`).
    #[serde(
        default,
        alias = "formDataId",
        alias = "id",
        deserialize_with = "lenient::opt_id"
    )]
    pub data_id: Option<Id>,
    /// A per-record code, when sent.
    #[serde(default)]
    pub code: Option<Value>,
    /// A per-record message, when sent.
    #[serde(default)]
    pub msg: Option<String>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of delete.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteResult {
    /// Records that could not be deleted, with why; empty on success.
    #[serde(default)]
    pub error_data_memo: Option<Value>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DeleteResult {
    /// Whether every record was deleted.
    pub fn is_success(&self) -> bool {
        match &self.error_data_memo {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(o)) => o.is_empty(),
            Some(_) => false,
        }
    }
}

/// A record id as the JSON number every request sends (ids are 64-bit
/// integers; answers may send them as text, hence [`Id`]). Anything else,
/// e.g. `"abc"`, is an [`Error::Value`] naming `attr`: nothing is guessed
/// and nothing is sent.
pub fn numeric_id(attr: &str, id: &Id) -> Result<i64> {
    id.as_i64().ok_or_else(|| {
        let text: String = id.as_str().chars().take(40).collect();
        Error::Value(ValueError::new(
            attr,
            format!("{text:?} is not an integer dataId (ids are sent as JSON numbers)"),
        ))
    })
}

/// The records of one module: [`Client::records`] or a shortcut such as
/// [`Client::customers`]. Cheap to clone; streams own their clone.
#[derive(Debug, Clone)]
pub struct Records {
    client: Client,
    module: Module,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailBody {
    data_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_flag: Option<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WriteBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    form_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_id: Option<i64>,
    data_list: &'a Map<String, Value>,
}

impl Records {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    fn api(&self, action: &str) -> String {
        format!("{}/{action}", self.module.path())
    }

    /// One page (`page` defaults to 1; `pageSize` is clamped to 100).
    /// `next` is the query of the following page, `None` after the last one
    /// (by `totalPage`/`totalCount` when sent, else a short or empty page;
    /// an unset page size counts as [`DEFAULT_PAGE_SIZE`]); `total` is
    /// `totalCount`.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<Record, ListQuery>> {
        let mut query = query.clone();
        query.page_size = query.page_size.map(|s| s.clamp(1, MAX_PAGE_SIZE));
        let page = query.page.unwrap_or(1).max(1);
        query.page = Some(page);
        let answer: ListAnswer<Record> = self.client.call(&self.api("list"), &query).await?;
        let items = answer.list.unwrap_or_default();
        let size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let more = has_more(
            items.len(),
            page,
            size,
            answer.total_page,
            answer.total_count,
        );
        let next = more.then(|| query.page(page + 1));
        Ok(Page::new(items, next).with_total(answer.total_count))
    }

    /// Every page from `query.page` on, fetched lazily one at a time, each
    /// of `query.page_size` (default [`DEFAULT_PAGE_SIZE`]).
    pub fn pages(
        &self,
        mut query: ListQuery,
    ) -> impl Stream<Item = Result<Page<Record, ListQuery>>> + Send + 'static {
        query.page = Some(query.page.unwrap_or(1).max(1));
        query.page_size = Some(
            query
                .page_size
                .unwrap_or(DEFAULT_PAGE_SIZE)
                .clamp(1, MAX_PAGE_SIZE),
        );
        let this = self.clone();
        pages_from(query, move |query| {
            let this = this.clone();
            async move { this.list(&query).await }
        })
    }

    /// Every record matching `query`, page by page (one page in memory).
    pub fn stream(&self, query: ListQuery) -> impl Stream<Item = Result<Record>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// The record (`detail`). A `data_id` that is not an integer is an
    /// [`Error::Value`] ([`numeric_id`]).
    pub async fn get(&self, data_id: impl Into<Id>) -> Result<Record> {
        let data_id = numeric_id("dataId", &data_id.into())?;
        self.client
            .call(
                &self.api("detail"),
                &DetailBody {
                    data_id,
                    query_flag: None,
                },
            )
            .await
    }

    /// Adds a record (`add`; flat values, see [`crate::value`]).
    pub async fn create(
        &self,
        form_id: Option<i64>,
        data: &Map<String, Value>,
    ) -> Result<WriteResult> {
        self.client
            .call(
                &self.api(self.module.add_action()),
                &WriteBody {
                    form_id,
                    data_id: None,
                    data_list: data,
                },
            )
            .await
    }

    /// Checks `data` against the form, then adds it. Nothing is sent when
    /// the form finds problems ([`Error::Invalid`] lists all of them).
    pub async fn create_checked(
        &self,
        form_id: i64,
        form: &FormExplain,
        data: &Map<String, Value>,
    ) -> Result<WriteResult> {
        form.validate(data).map_err(Error::Invalid)?;
        self.create(Some(form_id), data).await
    }

    /// Edits a record (`edit`): only the attrs sent change. A `data_id`
    /// that is not an integer is an [`Error::Value`] ([`numeric_id`]).
    pub async fn update(
        &self,
        form_id: Option<i64>,
        data_id: &Id,
        data: &Map<String, Value>,
    ) -> Result<WriteResult> {
        let data_id = numeric_id("dataId", data_id)?;
        self.client
            .call(
                &self.api(self.module.edit_action()),
                &WriteBody {
                    form_id,
                    data_id: Some(data_id),
                    data_list: data,
                },
            )
            .await
    }

    /// Checks the sent attrs against the form, then edits.
    pub async fn update_checked(
        &self,
        form_id: i64,
        form: &FormExplain,
        data_id: &Id,
        data: &Map<String, Value>,
    ) -> Result<WriteResult> {
        form.validate_with(data, &ValidationOptions::for_edit())
            .map_err(Error::Invalid)?;
        self.update(Some(form_id), data_id, data).await
    }

    /// Deletes a record (customers go to the recycle bin). An answer with a
    /// non-empty `errorDataMemo` is an error, and so is a `data_id` that is
    /// not an integer ([`numeric_id`]).
    pub async fn delete(&self, data_id: impl Into<Id>) -> Result<DeleteResult> {
        let data_id = numeric_id("dataId", &data_id.into())?;
        let result: DeleteResult = self
            .client
            .call(
                &self.api("del"),
                &DetailBody {
                    data_id,
                    query_flag: None,
                },
            )
            .await?;
        if !result.is_success() {
            // The answer said code 1 and listed the record in its memo: no
            // vendor code, so 0.
            let memo = result.error_data_memo.clone().unwrap_or(Value::Null);
            let failure = Failure::new(self.api("del"), format!("not deleted: {memo}"));
            return Err(Error::Api(failure.with_code(0_i64)));
        }
        Ok(result)
    }
}

impl Client {
    /// The endpoints of any module.
    pub fn records(&self, module: Module) -> Records {
        Records {
            client: self.clone(),
            module,
        }
    }
    /// 客户.
    pub fn customers(&self) -> Records {
        self.records(Module::Customer)
    }
    /// 合同订单.
    pub fn contracts(&self) -> Records {
        self.records(Module::Contract)
    }
    /// 联系人.
    pub fn contacts(&self) -> Records {
        self.records(Module::Contact)
    }
    /// 销售机会.
    pub fn opportunities(&self) -> Records {
        self.records(Module::Opportunity)
    }
    /// 产品.
    pub fn products(&self) -> Records {
        self.records(Module::Product)
    }
    /// 回款单.
    pub fn payment_receipts(&self) -> Records {
        self.records(Module::PaymentSheet)
    }
    /// 跟进记录.
    pub fn follow_ups(&self) -> Records {
        self.records(Module::FollowUp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_leaves_unset_options_out() {
        let q = ListQuery::form(572924)
            .condition(Condition::equal("text_1", "apiTest.001"))
            .page(1)
            .page_size(500);
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"formId":572924,"conditions":[{"attr":"text_1","symbol":"equal","value":["apiTest.001"]}],"page":1,"pageSize":100}"#
        );
        let phone = Condition::equal("subForm_1", "133").sub_attr("text_2");
        assert_eq!(
            serde_json::to_value(&phone).unwrap(),
            serde_json::json!({"attr":"subForm_1","symbol":"equal","value":["133"],"subAttr":"text_2"})
        );
    }

    #[test]
    fn end_of_list_detection() {
        assert!(has_more(20, 2, 20, Some(3), None));
        assert!(!has_more(20, 3, 20, Some(3), None));
        assert!(has_more(20, 5, 20, None, None));
        assert!(!has_more(7, 5, 20, None, None));
        assert!(!has_more(0, 1, 20, Some(9), None));
        assert!(has_more(20, 2, 20, None, Some(45)));
        assert!(!has_more(5, 3, 20, None, Some(45)));
    }

    /// A junk value in a list row is a decode error naming the field, and
    /// counts sent as text are read.
    #[test]
    fn list_answers_decode_leniently_but_not_junk() {
        let ok: ListAnswer<Record> = lenient::decode(serde_json::json!({
            "list": [{"dataId": "7", "formId": "", "updateTime": "1767196800"}],
            "totalCount": "45", "totalPage": null
        }))
        .unwrap();
        let row = &ok.list.unwrap()[0];
        assert_eq!(
            (row.form_id.clone(), row.update_time),
            (None, Some(UnixSeconds(1_767_196_800)))
        );
        assert_eq!((ok.total_count, ok.total_page), (Some(45), None));
        let err = lenient::decode::<ListAnswer<Record>>(serde_json::json!({
            "list": [{"dataId": 1}, {"dataId": 2, "updateTime": "yesterday"}]
        }))
        .err()
        .unwrap();
        assert_eq!(err.path, "list[1].updateTime");
        let err = lenient::decode::<ListAnswer<Record>>(
            serde_json::json!({"list": [], "totalCount": -1}),
        )
        .err()
        .unwrap();
        assert_eq!(err.path, "totalCount");
    }
}
