//! Users (`user/list`) and departments (`department/list`) through the
//! [`Users`] and [`Departments`] handles ([`Client::users`],
//! [`Client::departments`]): `list` (one page), `pages`, `stream`.

use futures::Stream;
use integration_core::lenient;
use integration_core::paging::{self, Page};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::records::{DEFAULT_PAGE_SIZE, ListAnswer, MAX_PAGE_SIZE, has_more, pages_from};

/// The query of a user list (`user/list`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserQuery {
    /// 1-based page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Page size (clamped to 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Fuzzy name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_like: Option<String>,
    /// Exact name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only these userIds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id_in: Option<Vec<String>>,
    /// Only this department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    /// 1 includes staff who have left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub del_ignore: Option<u8>,
    /// Any other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A department reference of a user.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_leader: Option<Value>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The userId (text, even when it looks numeric).
    pub user_id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Job number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobnumber: Option<String>,
    /// Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentQuery {
    /// 1-based page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Page size (clamped to 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Fuzzy name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_like: Option<String>,
    /// Only these ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_id_in: Option<Vec<i64>>,
    /// Any other member.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A department. Department 1 is the root; its name is the company name.
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
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent_id: Option<i64>,
    /// Path of ids, e.g. `|1|3|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dep_id_router: Option<String>,
    /// Sort order.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sort: Option<i64>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The users of the company: [`Client::users`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
}

/// The departments of the company: [`Client::departments`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Departments {
    client: Client,
}

impl Client {
    /// Users (`user/list`).
    pub fn users(&self) -> Users {
        Users {
            client: self.clone(),
        }
    }

    /// Departments (`department/list`).
    pub fn departments(&self) -> Departments {
        Departments {
            client: self.clone(),
        }
    }
}

/// The page number and size a list query stands for (1 and
/// [`DEFAULT_PAGE_SIZE`] when unset), with the size clamped as sent.
fn page_of(page: &mut Option<u32>, page_size: &mut Option<u32>) -> (u32, u32) {
    *page_size = page_size.map(|s| s.clamp(1, MAX_PAGE_SIZE));
    (
        page.unwrap_or(1).max(1),
        page_size.unwrap_or(DEFAULT_PAGE_SIZE),
    )
}

/// Sets the first page and the page size every page of a stream sends.
fn first_page(page: &mut Option<u32>, page_size: &mut Option<u32>) {
    *page = Some(page.unwrap_or(1).max(1));
    *page_size = Some(
        page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE),
    );
}

impl Users {
    /// One page of `user/list`. `next` is the following page, `None` after
    /// an empty page, the last page by `totalPage`, or (without it) a short
    /// page; `total` is `totalCount`.
    pub async fn list(&self, query: &UserQuery) -> Result<Page<User, UserQuery>> {
        let mut q = query.clone();
        let (page, size) = page_of(&mut q.page, &mut q.page_size);
        let answer: ListAnswer<User> = self.client.call("user/list", &q).await?;
        let items = answer.list.unwrap_or_default();
        let more = has_more(items.len(), page, size, answer.total_page, None);
        let next = more.then(|| UserQuery {
            page: Some(page + 1),
            ..q
        });
        Ok(Page::new(items, next).with_total(answer.total_count))
    }

    /// Every page from `query.page` on, fetched lazily.
    pub fn pages(
        &self,
        mut query: UserQuery,
    ) -> impl Stream<Item = Result<Page<User, UserQuery>>> + Send + 'static {
        first_page(&mut query.page, &mut query.page_size);
        let this = self.clone();
        pages_from(query, move |query| {
            let this = this.clone();
            async move { this.list(&query).await }
        })
    }

    /// Every user, page by page (one page in memory).
    pub fn stream(&self, query: UserQuery) -> impl Stream<Item = Result<User>> + Send + 'static {
        paging::items(self.pages(query))
    }
}

impl Departments {
    /// One page of `department/list`. `next` is the following page, `None`
    /// after a short or empty page (department lists were never seen with
    /// totals); `total` is `totalCount` when sent.
    pub async fn list(&self, query: &DepartmentQuery) -> Result<Page<Department, DepartmentQuery>> {
        let mut q = query.clone();
        let (page, size) = page_of(&mut q.page, &mut q.page_size);
        let answer: ListAnswer<Department> = self.client.call("department/list", &q).await?;
        let items = answer.list.unwrap_or_default();
        let more = has_more(items.len(), page, size, None, None);
        let next = more.then(|| DepartmentQuery {
            page: Some(page + 1),
            ..q
        });
        Ok(Page::new(items, next).with_total(answer.total_count))
    }

    /// Every page from `query.page` on, fetched lazily.
    pub fn pages(
        &self,
        mut query: DepartmentQuery,
    ) -> impl Stream<Item = Result<Page<Department, DepartmentQuery>>> + Send + 'static {
        first_page(&mut query.page, &mut query.page_size);
        let this = self.clone();
        pages_from(query, move |query| {
            let this = this.clone();
            async move { this.list(&query).await }
        })
    }

    /// Every department, page by page (one page in memory).
    pub fn stream(
        &self,
        query: DepartmentQuery,
    ) -> impl Stream<Item = Result<Department>> + Send + 'static {
        paging::items(self.pages(query))
    }
}
