//! The connection check ([`Client::check`]): the cheapest real calls that
//! prove the site answers and accepts the credentials, changing no data.

use std::time::Instant;

use integration_core::Secret;
use integration_core::check::{CheckError, CheckResult, Checked};
use integration_core::error::Failure;
use serde_json::{Value, json};

use crate::auth::{AUTH_SERVICE, Auth};
use crate::client::Client;
use crate::error::{Error, Result, SYSTEM};
use crate::query::BillQuery;

/// The form the app-signature check reads one row of: customers, the
/// master data of every site and of this crate's scheme.
const CHECK_FORM: &str = "BD_Customer";

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    ///
    /// - **App signature** (the default): `GetDataCenterList` (it needs no
    ///   login; proves the site and names the data centre), then a signed
    ///   ExecuteBillQuery of one `FNumber` of `BD_Customer` (proves the app
    ///   id, secret, data centre and user, and the user's right to read
    ///   customers). The session cookie is dropped first, so the query is
    ///   not let through by a session an earlier call opened; the site sets
    ///   a new one, which later calls use (every request is signed anyway).
    /// - **Session logins** (`ValidateUser`, `LoginByAppSecret`): the login
    ///   itself, sent directly rather than through the session cache, so it
    ///   proves the credentials even when the client is logged in. Its new
    ///   session cookie replaces the old one.
    ///
    /// Facts: `data centre` (the configured id, or the login's `DBid`),
    /// `data centre name`, `user`, then `user id` and `login` (session
    /// logins) or `app` (app signature: the client id of the app id, never
    /// its secret part). `url` is the site URL. A refused signature,
    /// permission or login ends as [`CheckError::AuthRefused`]; messages
    /// never contain the secret, password or the secret part of the app id.
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        let checked = Checked::new(SYSTEM, url.clone());
        let result = match &self.inner.auth {
            Auth::AppSignature(_) => self.check_signed(checked).await,
            _ => self.check_login(checked).await,
        };
        match result {
            Ok(checked) => Ok(checked.took(started.elapsed())),
            Err(e) => Err(CheckError::from_error(url, e).redact(&self.secrets())),
        }
    }

    /// `GetDataCenterList`, then one signed row of [`CHECK_FORM`].
    async fn check_signed(&self, mut checked: Checked) -> Result<Checked> {
        let Auth::AppSignature(credentials) = &self.inner.auth else {
            return Err(Error::Config("not an app-signature client".into()));
        };
        self.cookies().clear();
        let centres = self.get_data_center_list().await?;
        let query = BillQuery::new(CHECK_FORM, ["FNumber"]).limit(1);
        self.execute_bill_query_rows(&query).await?;
        checked = checked.fact("data centre", &credentials.acct_id);
        if let Some(centre) = centres.iter().find(|c| c.id == credentials.acct_id) {
            checked = checked.fact("data centre name", &centre.name);
        }
        Ok(checked
            .fact("user", &credentials.user_name)
            .fact("app", credentials.client_id()))
    }

    /// The session login, sent directly (not through the session cache).
    async fn check_login(&self, checked: Checked) -> Result<Checked> {
        let (op, acct_id, body) = match &self.inner.auth {
            Auth::AppSignature(_) => return Err(Error::Config("not a session login".into())),
            Auth::Password {
                acct_id,
                user_name,
                password,
                lcid,
            } => (
                "ValidateUser",
                acct_id,
                json!({"acctID": acct_id, "username": user_name, "password": password.expose(), "lcid": lcid}),
            ),
            Auth::AppSecretLogin {
                acct_id,
                user_name,
                app_id,
                app_secret,
                lcid,
            } => (
                "LoginByAppSecret",
                acct_id,
                json!({"acctid": acct_id, "username": user_name, "appid": app_id, "appsecret": app_secret.expose(), "lcid": lcid}),
            ),
        };
        let answer = self.post(&format!("{AUTH_SERVICE}.{op}"), &body).await?;
        let result_type = answer.get("LoginResultType").and_then(Value::as_i64);
        if result_type != Some(1) {
            let message = answer
                .get("Message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("login refused");
            let result_type = result_type.map_or_else(|| "none".to_owned(), |t| t.to_string());
            let message = integration_core::secret::redact_text(message);
            let message = format!("{message} (LoginResultType {result_type})");
            return Err(Error::Auth(Failure::new(op, message)));
        }
        let context = answer.get("Context").unwrap_or(&Value::Null);
        let text = |key: &str| {
            context.get(key).and_then(|v| match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let mut checked = checked.fact(
            "data centre",
            text("DBid").unwrap_or_else(|| acct_id.clone()),
        );
        for (label, key) in [
            ("data centre name", "DataCenterName"),
            ("user", "UserName"),
            ("user id", "UserId"),
        ] {
            if let Some(value) = text(key) {
                checked = checked.fact(label, value);
            }
        }
        Ok(checked.fact("login", op))
    }

    /// Every secret of the credentials (removed from check messages).
    fn secrets(&self) -> Vec<String> {
        let expose = |s: &Secret| s.expose().to_owned();
        match &self.inner.auth {
            Auth::AppSignature(c) => {
                // The client id before `_` is not secret; the part after is.
                let mut all = vec![expose(&c.app_secret)];
                all.extend(c.app_id.split_once('_').map(|(_, part)| part.to_owned()));
                all.extend(c.secpwd.as_ref().map(expose));
                all
            }
            Auth::Password { password, .. } => vec![expose(password)],
            Auth::AppSecretLogin {
                app_id, app_secret, ..
            } => vec![expose(app_secret), app_id.clone()],
        }
    }
}
