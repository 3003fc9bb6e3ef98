//! The connection check ([`Client::check`]): signed reads of the company's
//! root department (and the operator), changing no data.

use std::time::Instant;

use integration_core::Secret;
use integration_core::check::{CheckError, CheckResult, Checked};
use serde_json::{Map, Value, json};

use crate::auth::TokenMode;
use crate::client::Client;
use crate::error::{Error, Result, SYSTEM};

/// The root department's id: its name is the company's name.
const ROOT_DEPARTMENT: i64 = 1;

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    /// a signed `department/list` of the root department (`departmentIdIn:
    /// [1]`, page size 1; proves the host, corpid and token, and names the
    /// company) and, when an operator `userId` is configured, a signed
    /// `user/list` of that user (page size 1).
    ///
    /// xbongbong has no login: every call is signed with the token. In
    /// [`TokenMode::Personal`] the personal token is asked for afresh with
    /// `user/generateToken` and `resetToken: 0` (signed with the company
    /// token; it returns the existing token and never resets one), not
    /// taken from the cache, and the reads are signed with it. When the
    /// operator has no personal token yet the check does not create one
    /// (that would be a write): the reads are signed with the company token
    /// and the `token` fact says so.
    ///
    /// Facts: `corpid`, `company` (the root department's name), `operator`
    /// (user id and name; `not found` when `user/list` does not list it),
    /// `token` (`company` or `personal`). `url` is the base URL. A refused
    /// sign or corpid ends as [`CheckError::AuthRefused`]; messages never
    /// contain a token.
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        let mut secrets = vec![self.inner.token.expose().to_owned()];
        let result = self
            .check_calls(Checked::new(SYSTEM, url.clone()), &mut secrets)
            .await;
        match result {
            Ok(checked) => Ok(checked.took(started.elapsed())),
            Err(e) => Err(CheckError::from_error(url, e).redact(&secrets)),
        }
    }

    async fn check_calls(&self, checked: Checked, secrets: &mut Vec<String>) -> Result<Checked> {
        let mut checked = checked.fact("corpid", self.corpid());
        let (token, kind) = match self.inner.mode {
            TokenMode::Company => (self.inner.token.clone(), "company"),
            TokenMode::Personal => match self.check_personal_token().await? {
                Some(personal) => {
                    secrets.push(personal.expose().to_owned());
                    (personal, "personal")
                }
                None => (
                    self.inner.token.clone(),
                    "company (the operator has no personal token yet)",
                ),
            },
        };
        let body = json!({"page": 1, "pageSize": 1, "departmentIdIn": [ROOT_DEPARTMENT]});
        let departments = self.check_read("department/list", body, &token).await?;
        let root = departments
            .get("depList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|d| d.get("id").and_then(as_i64) == Some(ROOT_DEPARTMENT));
        if let Some(name) = root.and_then(|d| d.get("name")).and_then(Value::as_str) {
            checked = checked.fact("company", name);
        }
        if let Some(user_id) = self.user_id() {
            let body = json!({"page": 1, "pageSize": 1, "userIdIn": [user_id]});
            let users = self.check_read("user/list", body, &token).await?;
            let name = users
                .get("userList")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|u| u.get("userId").and_then(Value::as_str) == Some(user_id))
                .and_then(|u| u.get("name"))
                .and_then(Value::as_str);
            let operator = match name {
                Some(name) => format!("{user_id} {name}"),
                None => format!("{user_id} (not found)"),
            };
            checked = checked.fact("operator", operator);
        }
        Ok(checked.fact("token", kind))
    }

    /// The operator's existing personal token (`resetToken: 0`), asked for
    /// now; `None` when there is none yet.
    async fn check_personal_token(&self) -> Result<Option<Secret>> {
        let mut body = Map::new();
        body.insert("resetToken".into(), 0.into());
        body.insert(
            "checkUserId".into(),
            Value::String(self.user_id().unwrap_or_default().to_owned()),
        );
        let api = "user/generateToken";
        let token = self
            .send(api, &self.body_text(&body), &self.inner.token, |v| {
                match &v {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(m) => m
                        .get("personalToken")
                        .or_else(|| m.get("token"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    _ => None,
                }
                .ok_or_else(|| "no personal token in the answer".to_owned())
            })
            .await?;
        Ok((!token.is_empty()).then(|| Secret::new(token)))
    }

    /// One signed read with `token`, its `result` as sent.
    async fn check_read(&self, api: &str, body: Value, token: &Secret) -> Result<Value> {
        let Value::Object(body) = body else {
            return Err(Error::Config("a check body must be an object".into()));
        };
        self.send(api, &self.body_text(&body), token, Ok).await
    }
}

/// An id sent as a number or as numeric text.
fn as_i64(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}
