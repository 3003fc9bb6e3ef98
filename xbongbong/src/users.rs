//! Users (`user/list`) and departments (`department/list`).

use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::records::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// `user/list` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserListQuery {
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

/// A page of users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    /// The users.
    #[serde(default)]
    pub user_list: Vec<User>,
    /// Users in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Pages in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_page: Option<u64>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `department/list` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentListQuery {
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
    pub id: i64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Parent id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// Path of ids, e.g. `|1|3|`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dep_id_router: Option<String>,
    /// Sort order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<i64>,
    /// Everything else, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of departments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentPage {
    /// The departments.
    #[serde(default)]
    pub dep_list: Vec<Department>,
    /// Everything else (totals when sent), kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Client {
    /// `user/list`: one page.
    pub async fn users(&self, query: &UserListQuery) -> Result<UserPage> {
        let mut q = query.clone();
        q.page_size = q.page_size.map(|s| s.clamp(1, MAX_PAGE_SIZE));
        self.call("user/list", &q).await
    }

    /// Every user, page by page (ends on a short or empty page, or by
    /// `totalPage`).
    pub fn users_stream(
        &self,
        query: UserListQuery,
    ) -> impl Stream<Item = Result<User>> + Send + 'static {
        let this = self.clone();
        let size = query
            .page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        paged(query.page.unwrap_or(1), move |page| {
            let this = this.clone();
            let mut q = query.clone();
            q.page = Some(page);
            q.page_size = Some(size);
            async move {
                let p = this.users(&q).await?;
                let more = !p.user_list.is_empty()
                    && p.total_page
                        .map_or(p.user_list.len() >= size as usize, |t| u64::from(page) < t);
                Ok((p.user_list, more))
            }
        })
    }

    /// `department/list`: one page.
    pub async fn departments(&self, query: &DepartmentListQuery) -> Result<DepartmentPage> {
        let mut q = query.clone();
        q.page_size = q.page_size.map(|s| s.clamp(1, MAX_PAGE_SIZE));
        self.call("department/list", &q).await
    }

    /// Every department, page by page (ends on a short or empty page).
    pub fn departments_stream(
        &self,
        query: DepartmentListQuery,
    ) -> impl Stream<Item = Result<Department>> + Send + 'static {
        let this = self.clone();
        let size = query
            .page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        paged(query.page.unwrap_or(1), move |page| {
            let this = this.clone();
            let mut q = query.clone();
            q.page = Some(page);
            q.page_size = Some(size);
            async move {
                let p = this.departments(&q).await?;
                let more = p.dep_list.len() >= size as usize;
                Ok((p.dep_list, more))
            }
        })
    }
}

/// Items of pages fetched lazily with `fetch(page) -> (items, more)`.
fn paged<T, F, Fut>(first: u32, fetch: F) -> impl Stream<Item = Result<T>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(u32) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, bool)>> + Send + 'static,
{
    use futures::StreamExt;
    futures::stream::unfold((Some(first.max(1)), fetch), |(page, fetch)| async move {
        let page = page?;
        match fetch(page).await {
            Ok((items, more)) => {
                let next = more.then_some(page + 1);
                Some((Ok(items), (next, fetch)))
            }
            Err(e) => Some((Err(e), (None, fetch))),
        }
    })
    .flat_map(|r: Result<Vec<T>>| {
        let items: Vec<Result<T>> = match r {
            Ok(v) => v.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        futures::stream::iter(items)
    })
}
