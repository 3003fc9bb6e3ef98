//! Users (员工), scope `user`, through the [`Users`] handle
//! ([`Client::users`]): `GET /v1/user/list` (a plain array, no paging) and
//! `GET /v1/user/info`.

use futures::Stream;
use integration_core::paging::{self, Page};
use integration_core::types::Id;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::Result;
use crate::lenient;

/// `enable_flag` of the user list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserState {
    /// `0`: frozen.
    Frozen,
    /// `1`: normal (default).
    #[default]
    Normal,
    /// `2`: deleted.
    Deleted,
}

impl UserState {
    fn param(self) -> &'static str {
        match self {
            UserState::Frozen => "0",
            UserState::Normal => "1",
            UserState::Deleted => "2",
        }
    }
}

/// Parameters of `GET /v1/user/list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserQuery {
    /// `enable_flag`: which users (default [`UserState::Normal`]).
    pub state: UserState,
}

impl UserQuery {
    /// Every user in the normal state.
    pub fn new() -> Self {
        Self::default()
    }
    /// Users in `state`.
    pub fn state(mut self, state: UserState) -> Self {
        self.state = state;
        self
    }
}

/// A department of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDepartment {
    /// Department id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub department_id: Option<Id>,
    /// Name.
    #[serde(default)]
    pub department_name: Option<String>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// User id (sent as a string).
    pub user_id: Id,
    /// Login e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Nickname.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Family name.
    #[serde(default)]
    pub family_name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub second_name: Option<String>,
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// 1 male, 2 female, 0 unknown (sent as a string).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub gender: Option<i64>,
    /// 0 frozen, 1 normal, 2 deleted (sent as a string).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub enable_flag: Option<i64>,
    /// Position.
    #[serde(default)]
    pub position: Option<String>,
    /// Mobile.
    #[serde(default)]
    pub user_mobile: Option<String>,
    /// Employee number.
    #[serde(default)]
    pub employee_no: Option<String>,
    /// Main department id.
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub department_id: Option<Id>,
    /// Main department name.
    #[serde(default)]
    pub department_name: Option<String>,
    /// All departments.
    #[serde(default, deserialize_with = "lenient::list")]
    pub departments: Vec<UserDepartment>,
    /// Administrator (from `user/info` only).
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// Every other key, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How to find a user for `GET /v1/user/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By `user_id`.
    Id(Id),
    /// By login `email`.
    Email(String),
    /// By `nickname`.
    Nickname(String),
    /// By `full_name`.
    FullName(String),
}

impl From<Id> for UserRef {
    fn from(id: Id) -> Self {
        UserRef::Id(id)
    }
}

/// Users (`user/*`). From [`Client::users`]; cheap to clone, and its
/// streams own their client (`Send + 'static`).
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
}

impl Client {
    /// Users.
    pub fn users(&self) -> Users {
        Users {
            client: self.clone(),
        }
    }
}

impl Users {
    /// `GET /v1/user/list`: every user in the query's state. The list is not
    /// paged, so this one page holds them all (`next` is `None`; OKKI sends
    /// no total).
    pub async fn list(&self, query: &UserQuery) -> Result<Page<User, UserQuery>> {
        let users: Vec<User> = self
            .client
            .get(
                "/v1/user/list",
                vec![("enable_flag".to_owned(), query.state.param().to_owned())],
            )
            .await?;
        Ok(Page::new(users, None))
    }

    /// The one page of [`list`](Self::list), as a stream.
    pub fn pages(
        &self,
        query: UserQuery,
    ) -> impl Stream<Item = Result<Page<User, UserQuery>>> + Send + 'static {
        let users = self.clone();
        paging::paginate(query, move |query| {
            let users = users.clone();
            async move { users.list(&query).await }
        })
    }

    /// Every user in the query's state, as a stream.
    pub fn stream(&self, query: UserQuery) -> impl Stream<Item = Result<User>> + Send + 'static {
        paging::items(self.pages(query))
    }

    /// `GET /v1/user/info`.
    pub async fn get(&self, user: impl Into<UserRef>) -> Result<User> {
        let (k, v) = match user.into() {
            UserRef::Id(id) => ("user_id", id.to_string()),
            UserRef::Email(s) => ("email", s),
            UserRef::Nickname(s) => ("nickname", s),
            UserRef::FullName(s) => ("full_name", s),
        };
        self.client
            .get("/v1/user/info", vec![(k.to_owned(), v)])
            .await
    }
}
