//! Users (`user/list`) and departments (`department/list`) through the
//! [`Users`] and [`Departments`] handles ([`Client::users`],
//! [`Client::departments`]): `list` (one page), `pages`, `stream`.

use std::marker::PhantomData;

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::records::{DEFAULT_PAGE_SIZE, ListAnswer, MAX_PAGE_SIZE, has_more, pages_from};

/// The query of a user list (`user/list`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserQuery {
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size (clamped to 100).
    pub page_size: Option<u32>,
    /// Fuzzy name.
    pub name_like: Option<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Only these userIds.
    pub user_id_in: Option<Vec<String>>,
    /// Only this department.
    pub department_id: Option<i64>,
    /// 1 includes staff who have left.
    pub del_ignore: Option<u8>,
    /// Any other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A department reference of a user.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDepartment {
    /// Department id.
    #[serde(deserialize_with = "crate::value::integer")]
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Leads the department.
    #[serde(default)]
    pub is_leader: Option<Value>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The userId (text, even when it looks numeric).
    pub user_id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Avatar URL.
    #[serde(default)]
    pub avatar: Option<String>,
    /// Position.
    #[serde(default)]
    pub position: Option<String>,
    /// Job number.
    #[serde(default)]
    pub jobnumber: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<Value>,
    /// Departments.
    #[serde(default)]
    pub department_list: Vec<UserDepartment>,
    /// Roles `{id, name}`.
    #[serde(default)]
    pub role_list: Vec<Value>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The query of a department list (`department/list`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentQuery {
    /// 1-based page.
    pub page: Option<u32>,
    /// Page size (clamped to 100).
    pub page_size: Option<u32>,
    /// Fuzzy name.
    pub name_like: Option<String>,
    /// Only these ids.
    pub department_id_in: Option<Vec<i64>>,
    /// Any other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A department. Department 1 is the root; its name is the company name.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Department {
    /// Id.
    #[serde(deserialize_with = "crate::value::integer")]
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Parent id.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub parent_id: Option<i64>,
    /// Path of ids, e.g. `|1|3|`.
    #[serde(default)]
    pub dep_id_router: Option<String>,
    /// Sort order.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub sort: Option<i64>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A paged list of the company's directory: [`Users`], [`Departments`].
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Directory<Q, T> {
    client: Client,
    api: &'static str,
    /// Whether the answer's `totalPage` marks the last page (department
    /// lists were never seen with totals).
    total_page: bool,
    /// The query's page and page size.
    paging: fn(&mut Q) -> (&mut Option<u32>, &mut Option<u32>),
    rows: PhantomData<fn() -> T>,
}

/// The users of the company (`user/list`): [`Client::users`].
pub type Users = Directory<UserQuery, User>;

/// The departments of the company (`department/list`):
/// [`Client::departments`].
pub type Departments = Directory<DepartmentQuery, Department>;

impl Client {
    /// Users (`user/list`).
    pub fn users(&self) -> Users {
        Directory::new(self, "user/list", true, |q| (&mut q.page, &mut q.page_size))
    }

    /// Departments (`department/list`).
    pub fn departments(&self) -> Departments {
        Directory::new(self, "department/list", false, |q| {
            (&mut q.page, &mut q.page_size)
        })
    }
}

impl<Q, T> Directory<Q, T>
where
    Q: Serialize + Clone + Send + Sync + 'static,
    T: DeserializeOwned + Clone + Send + 'static,
{
    fn new(
        client: &Client,
        api: &'static str,
        total_page: bool,
        paging: fn(&mut Q) -> (&mut Option<u32>, &mut Option<u32>),
    ) -> Self {
        Self {
            client: client.clone(),
            api,
            total_page,
            paging,
            rows: PhantomData,
        }
    }

    /// One page. `next` is the following page, `None` after an empty page,
    /// the last page by `totalPage` (users), or (without it) a short page;
    /// `total` is `totalCount` when sent.
    pub async fn list(&self, query: &Q) -> Result<Page<T, Q>> {
        let mut q = query.clone();
        let (page, size) = (self.paging)(&mut q);
        *size = size.map(|s| s.clamp(1, MAX_PAGE_SIZE));
        let (page, size) = (page.unwrap_or(1).max(1), size.unwrap_or(DEFAULT_PAGE_SIZE));
        let answer: ListAnswer<T> = self.client.call(self.api, &q).await?;
        let items = answer.list.unwrap_or_default();
        let total_page = answer.total_page.filter(|_| self.total_page);
        let next = has_more(items.len(), page, size, total_page, None).then(|| {
            *(self.paging)(&mut q).0 = Some(page + 1);
            q
        });
        Ok(Page::new(items, next).with_total(answer.total_count))
    }

    /// Every page from `query.page` on, fetched lazily; every page sends
    /// the same page size.
    pub fn pages(&self, mut query: Q) -> impl Stream<Item = Result<Page<T, Q>>> + Send + 'static {
        let (page, size) = (self.paging)(&mut query);
        *page = Some(page.unwrap_or(1).max(1));
        *size = Some(size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE));
        let this = self.clone();
        pages_from(query, move |query| {
            let this = this.clone();
            async move { this.list(&query).await }
        })
    }

    /// Every row, page by page (one page in memory).
    pub fn stream(&self, query: Q) -> impl Stream<Item = Result<T>> + Send + 'static {
        paging::items(self.pages(query))
    }
}
