//! The connection check ([`Client::check`]): a fresh login of either
//! version (and, in V2, one tiny read), changing no data.

use std::time::Instant;

use integration_core::check::{CheckError, CheckResult, Checked};
use serde_json::Value;

use crate::auth::{Auth, V1Credentials, V2Credentials, V2Session};
use crate::client::{Client, HttpMethod};
use crate::error::{Error, SYSTEM};

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
    /// The login calls are the client's own (`push_app_authorize`, the
    /// account book's selection, `kingdee_auth_token`; V1's token and
    /// account group), called past the caches.
    ///
    /// Facts: V2 `client id`, `account id`, `account name`, `company`,
    /// `app key` (the account book's, not secret), `domain`, `customers`
    /// (the list's `count`); V1 `client id`, `user`, `account id`,
    /// `account group`. `url` is the base
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
        let authz = self.select_authorization(rows)?;
        let app_token = self.kingdee_auth_token(&authz, creds).await?;
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
        let (session, _) = self.fetch_v1_session().await?;
        secrets.push(session.access_token.expose().to_owned());
        Ok(checked
            .fact("client id", &creds.client_id)
            .fact("user", &creds.username)
            .fact("account id", session.account_id)
            .fact("account group", session.group_name))
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
