//! The connection check ([`Client::check`]): a fresh OAuth token and one
//! tiny read with it, changing no data.

use std::time::Instant;

use base64::Engine as _;
use integration_core::Secret;
use integration_core::check::{CheckError, CheckResult, Checked};
use serde_json::Value;

use crate::auth::{ACCESS_TOKEN_PATH, Grant, TokenAnswer, parse_token_answer, token_lifetime};
use crate::client::{Client, decode_envelope};
use crate::error::{Error, Result, SYSTEM};

/// The read of a check with the `company` scope: one company of the list.
const COMPANY_LIST: &str = "/v1/company/list";
/// The read of a check with the `user` scope (and not `company`).
const USER_LIST: &str = "/v1/user/list";

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    /// a token request (`POST /v1/oauth2/access_token` with the configured
    /// grant), sent directly rather than through the token cache, so it
    /// proves the client id, secret (and password) even while a cached token
    /// is still valid; then, with that new token, one tiny read of a
    /// granted scope: `GET /v1/company/list?start_index=1&count=1` with
    /// `company`, else `GET /v1/user/list` with `user` (neither: the token
    /// alone). The cached token is left as it was. A refresh token is not
    /// used: it would prove less than the grant itself.
    ///
    /// Facts: `client id`, `grant`, `user` (the password grant's login),
    /// `user id` (the token's subject, when it names one), `scopes` (those
    /// granted, from the token), `token valid for`, and `companies` (the
    /// list's total) or `users`. `url` is the base URL. A refused client,
    /// secret, password, scope or token ends as
    /// [`CheckError::AuthRefused`]; messages never contain the secret, the
    /// password hash or a token.
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let url = self.base_url().to_owned();
        match self.check_calls(Checked::new(SYSTEM, url.clone())).await {
            Ok(checked) => Ok(checked.took(started.elapsed())),
            Err(e) => Err(CheckError::from_error(url, e).redact(&self.secrets())),
        }
    }

    async fn check_calls(&self, checked: Checked) -> Result<Checked> {
        let credentials = &self.inner.credentials;
        let token_url = self.url(ACCESS_TOKEN_PATH);
        let answer: TokenAnswer = self
            .inner
            .transport
            .execute(
                ACCESS_TOKEN_PATH,
                |http| Ok::<_, Error>(http.post(&token_url).json(&credentials.token_request())),
                |raw| parse_token_answer(&raw),
            )
            .await?;
        let claims = jwt_claims(answer.access_token.expose());
        let granted: Vec<String> = match claims.get("scopes") {
            Some(Value::Array(scopes)) => scopes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(scopes)) => scopes.split_whitespace().map(str::to_owned).collect(),
            _ => credentials.scopes.clone(),
        };
        let mut checked = checked.fact("client id", &credentials.client_id);
        checked = match &credentials.grant {
            Grant::Password { username, .. } => {
                checked.fact("grant", "password").fact("user", username)
            }
            _ => checked.fact("grant", "client_credentials"),
        };
        if let Some(subject) = claims
            .get("sub")
            .and_then(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .or_else(|| s.as_i64().map(|n| n.to_string()))
            })
            .filter(|s| !s.is_empty())
        {
            checked = checked.fact("user id", subject);
        }
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        checked = checked.fact("scopes", granted.join(" ")).fact(
            "token valid for",
            format!("{} s", token_lifetime(&answer, now).as_secs()),
        );
        let has = |scope: &str| granted.iter().any(|s| s == scope);
        if has("company") {
            let query = [("start_index", "1"), ("count", "1")];
            let data = self
                .check_read(COMPANY_LIST, &query, &answer.access_token)
                .await?;
            let total = data.get("totalItem").map_or_else(
                || {
                    data.get("list")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                        .to_string()
                },
                text,
            );
            checked = checked.fact("companies", total);
        } else if has("user") {
            let data = self
                .check_read(USER_LIST, &[("enable_flag", "1")], &answer.access_token)
                .await?;
            checked = checked.fact("users", data.as_array().map_or(0, Vec::len));
        }
        Ok(checked)
    }

    /// One GET with `token` (not the cached one), decoded to `data`.
    async fn check_read(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &Secret,
    ) -> Result<Value> {
        let url = self.url(path);
        self.inner
            .transport
            .execute(
                path,
                |http| {
                    Ok::<_, Error>(http.get(&url).query(query).header(
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {}", token.expose()),
                    ))
                },
                |raw| decode_envelope(&raw),
            )
            .await
    }

    /// The secrets of the credentials (removed from check messages).
    fn secrets(&self) -> Vec<String> {
        let credentials = &self.inner.credentials;
        let mut all = vec![credentials.client_secret.expose().to_owned()];
        if let Grant::Password {
            password_sha256, ..
        } = &credentials.grant
        {
            all.push(password_sha256.expose().to_owned());
        }
        all
    }
}

/// The claims of a JWT, read without verifying it (OKKI does not publish
/// its key); an empty object when it is not a JWT.
fn jwt_claims(token: &str) -> serde_json::Map<String, Value> {
    token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// A scalar as text (a count sent as a number or as text).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
