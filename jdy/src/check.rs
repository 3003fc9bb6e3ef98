//! The connection check ([`Client::check`]): a fresh login of either
//! version (and, in V2, one tiny read), changing no data.

use std::time::Instant;

use integration_core::Secret;
use integration_core::check::{CheckError, CheckResult, Checked};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::auth::{
    AppAuthorization, Auth, KINGDEE_AUTH_TOKEN, PUSH_APP_AUTHORIZE, V1_ACCESS_TOKEN,
    V1_ACCOUNT_GROUP, V1Credentials, V2Credentials, V2Session, app_signature,
};
use crate::client::{Client, HttpMethod};
use crate::error::{Error, SYSTEM, decode_errcode_envelope, decode_v1_envelope};

/// The V2 read of a check: one customer of the list.
const V2_CUSTOMERS: &str = "/jdy/v2/bd/customer";

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    ///
    /// - **V2**: `push_app_authorize` (signed with the client id and secret;
    ///   names the account book), `kingdee_auth_token` with the account
    ///   book's current key (proves it), then one customer of
    ///   `GET /jdy/v2/bd/customer` (`page_size=1`) with that new
    ///   `app-token` (proves the token and the route). All three are sent
    ///   directly, not through the cached authorisation and token, which
    ///   stay as they were. `kingdee_auth_token` is said to allow 2 calls a
    ///   minute: do not check in a tight loop.
    /// - **V1**: `access_token` with the client id, secret and the user's
    ///   login, then `accountGroup` with that token (a read that proves it
    ///   and names the account group), also without the token cache.
    ///
    /// The account book (V2) or account group (V1) is chosen as every call
    /// chooses it: several without a configured one fail the check as
    /// [`CheckError::Failed`], none matching as refused credentials.
    ///
    /// Facts: V2 `client id`, `account id`, `account name`, `company`,
    /// `app key` (the account book's, not secret), `domain`, `user id` (the
    /// token's `uid`), `customers` (the list's `count`); V1 `client id`,
    /// `user`, `user id`, `account id`, `account group`. `url` is the base
    /// URL. Messages never contain a secret, the password or a token.
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        let checked = Checked::new(SYSTEM, url.clone());
        let mut secrets = Vec::new();
        let result = match &self.inner.auth {
            Auth::V2 { creds, .. } => {
                secrets.push(creds.client_secret.expose().to_owned());
                self.check_v2(checked, creds, &mut secrets).await
            }
            Auth::V1 { creds, .. } => {
                secrets.push(creds.client_secret.expose().to_owned());
                secrets.push(creds.password.expose().to_owned());
                self.check_v1(checked, creds, &mut secrets).await
            }
        };
        match result {
            Ok(checked) => Ok(checked.took(started.elapsed())),
            Err(e) => Err(CheckError::from_error(url, e).redact(&secrets)),
        }
    }

    async fn check_v2(
        &self,
        checked: Checked,
        creds: &V2Credentials,
        secrets: &mut Vec<String>,
    ) -> Result<Checked, Error> {
        let rows = self.push_app_authorize().await?;
        secrets.extend(rows.iter().map(|r| r.app_secret.expose().to_owned()));
        let authz = choose_authorization(creds, rows)?;
        let mut query = vec![
            ("app_key".to_owned(), authz.app_key.clone()),
            (
                "app_signature".to_owned(),
                app_signature(&authz.app_key, authz.app_secret.expose()),
            ),
        ];
        if let Some(uid) = &creds.uid {
            query.push(("uid".to_owned(), uid.clone()));
        }
        let data = self
            .v2_send(HttpMethod::Get, KINGDEE_AUTH_TOKEN, &query, None, None)
            .await
            .map_err(Error::into_auth)?;
        let app_token = ["app-token", "app_token", "appToken"]
            .iter()
            .find_map(|k| {
                data.get(*k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
            .map(Secret::new)
            .ok_or_else(|| {
                Error::answer(
                    KINGDEE_AUTH_TOKEN,
                    "no_token",
                    "kingdee_auth_token answered without an app-token",
                    None,
                )
                .into_auth()
            })?;
        secrets.push(app_token.expose().to_owned());
        let session = V2Session {
            app_token,
            domain: authz.domain.clone(),
        };
        let page = [
            ("page".to_owned(), "1".to_owned()),
            ("page_size".to_owned(), "1".to_owned()),
        ];
        let list = self
            .v2_send(HttpMethod::Get, V2_CUSTOMERS, &page, None, Some(&session))
            .await?;

        let mut checked = checked
            .fact("client id", &creds.client_id)
            .fact("account id", authz.account_id.as_deref().unwrap_or("-"));
        for (label, value) in [
            ("account name", &authz.account_name),
            ("company", &authz.agreement_company_name),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                checked = checked.fact(label, value);
            }
        }
        checked = checked.fact("app key", &authz.app_key);
        if !authz.domain.is_empty() {
            checked = checked.fact("domain", &authz.domain);
        }
        if let Some(uid) = data.get("uid").and_then(text) {
            checked = checked.fact("user id", uid);
        }
        if let Some(count) = list.get("count").and_then(text) {
            checked = checked.fact("customers", count);
        }
        Ok(checked)
    }

    async fn check_v1(
        &self,
        checked: Checked,
        creds: &V1Credentials,
        secrets: &mut Vec<String>,
    ) -> Result<Checked, Error> {
        let query = vec![
            ("client_id".to_owned(), creds.client_id.clone()),
            (
                "client_secret".to_owned(),
                creds.client_secret.expose().to_owned(),
            ),
            ("username".to_owned(), creds.username.clone()),
            ("password".to_owned(), creds.password.expose().to_owned()),
        ];
        let url = self.url(V1_ACCESS_TOKEN, &query);
        let data = self
            .inner
            .transport
            .execute(
                V1_ACCESS_TOKEN,
                |http| Ok::<_, Error>(http.get(&url)),
                |raw| decode_errcode_envelope(&raw),
            )
            .await
            .map_err(Error::into_auth)?;
        let token = data
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::answer(
                    V1_ACCESS_TOKEN,
                    "no_token",
                    "access_token answered without a token",
                    None,
                )
                .into_auth()
            })?
            .to_owned();
        secrets.push(token.clone());
        let url = self.url(V1_ACCOUNT_GROUP, &[("access_token".to_owned(), token)]);
        let groups = self
            .inner
            .transport
            .execute(
                V1_ACCOUNT_GROUP,
                |http| {
                    Ok::<_, Error>(
                        http.post(&url)
                            .header(CONTENT_TYPE, "application/json")
                            .body("{}"),
                    )
                },
                |raw| decode_v1_envelope(&raw),
            )
            .await
            .map_err(Error::into_auth)?;
        let (account_id, group_name) = choose_group(creds, &groups)?;
        let mut checked = checked
            .fact("client id", &creds.client_id)
            .fact("user", &creds.username);
        if let Some(uid) = data.get("uid").and_then(text) {
            checked = checked.fact("user id", uid);
        }
        Ok(checked
            .fact("account id", account_id)
            .fact("account group", group_name))
    }
}

/// The active authorisation the client would use: the configured account
/// book's, or the only one (as the client's own selection).
fn choose_authorization(
    creds: &V2Credentials,
    rows: Vec<AppAuthorization>,
) -> Result<AppAuthorization, Error> {
    let active: Vec<AppAuthorization> = rows
        .into_iter()
        .filter(|r| r.status.is_none_or(|s| s == 1) && !r.app_key.is_empty())
        .collect();
    let chosen = match &creds.account_id {
        Some(want) => active
            .into_iter()
            .find(|r| r.account_id.as_deref() == Some(want.as_str())),
        None if active.len() > 1 => {
            let ids: Vec<String> = active
                .iter()
                .map(|r| r.account_id.clone().unwrap_or_default())
                .collect();
            return Err(Error::Config(format!(
                "the authorisation lists several account books ({}); choose one with V2Credentials::account_id",
                ids.join(", ")
            )));
        }
        None => active.into_iter().next(),
    };
    chosen.ok_or_else(|| {
        Error::answer(
            PUSH_APP_AUTHORIZE,
            "no_authorization",
            "no active authorisation for the requested account book",
            None,
        )
        .into_auth()
    })
}

/// The account group the client would use (`accountId`, `groupName`).
fn choose_group(creds: &V1Credentials, groups: &Value) -> Result<(String, String), Error> {
    let mut all = Vec::new();
    for service in groups.as_array().into_iter().flatten() {
        for group in service
            .get("accountGroups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(id), Some(name)) = (
                group.get("accountId").and_then(text),
                group.get("groupName").and_then(text),
            ) {
                all.push((id, name));
            }
        }
    }
    let listed = || {
        all.iter()
            .map(|(i, n)| format!("{i}/{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let matching: Vec<&(String, String)> = all
        .iter()
        .filter(|(id, name)| {
            creds.account_id.as_ref().is_none_or(|want| want == id)
                && creds.group_name.as_ref().is_none_or(|want| want == name)
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::Config(format!(
            "no account group matches account_id={:?} group_name={:?} (available: {})",
            creds.account_id,
            creds.group_name,
            listed()
        ))),
        _ => Err(Error::Config(format!(
            "several account groups match ({}); choose one with V1Credentials::account_id or group_name",
            listed()
        ))),
    }
}

/// A scalar as text (ids come as numbers or as text).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
