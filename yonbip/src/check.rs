//! The connection check ([`Client::check`]): a fresh access token and one
//! tiny read with it, changing no data.

use std::time::Instant;

use integration_core::Secret;
use integration_core::check::{CheckError, CheckResult, Checked};
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::{self, Error, Result, SYSTEM};

/// What a failed discovery is checked against: the client does not expose
/// its discovery host (it is the builder's `base_url`).
const DISCOVERY: &str = "the discovery host";

impl Client {
    /// Checks reachability and credentials with the cheapest real call, changing no data:
    /// the gateway and token URLs ([`Client::endpoints`]: discovered from
    /// the tenant id on first use, which also proves the tenant, then kept;
    /// they are no credential), a new access token
    /// ([`Client::fetch_access_token`], signed with the app key and secret,
    /// not taken from the token cache, which stays as it was), and one
    /// merchant of `merchant/list` (`pageSize` 1) with that new token.
    ///
    /// Facts: `app key`, `gateway`, `token valid for`, `merchants` (the
    /// list's `recordCount`). `url` is the gateway URL (the business base
    /// URL); when discovery itself fails it is `the discovery host`, since
    /// the client does not keep the discovery URL where this check can read
    /// it. A refused tenant, app key or signature, or a refused token, ends
    /// as [`CheckError::AuthRefused`]; messages never contain the secret or
    /// the token.
    pub async fn check(&self) -> CheckResult {
        let started = Instant::now();
        let mut secrets = vec![self.inner.app_secret.expose().to_owned()];
        let endpoints = match self.endpoints().await {
            Ok(endpoints) => endpoints,
            Err(e) => return Err(CheckError::from_error(DISCOVERY.to_owned(), e).redact(&secrets)),
        };
        let url = endpoints.gateway_url.clone();
        let result = async {
            let (token, valid_for) = self.fetch_access_token().await?;
            secrets.push(token.expose().to_owned());
            let list = self
                .check_read(&endpoints.gateway_url, crate::merchant::LIST_PATH, &token)
                .await?;
            let mut checked = Checked::new(SYSTEM, url.clone())
                .fact("app key", self.app_key())
                .fact("gateway", &endpoints.gateway_url)
                .fact("token valid for", format!("{} s", valid_for.as_secs()));
            if let Some(count) = list.get("recordCount").and_then(text) {
                checked = checked.fact("merchants", count);
            }
            Ok::<_, Error>(checked)
        }
        .await;
        match result {
            Ok(checked) => Ok(checked.took(started.elapsed())),
            Err(e) => Err(CheckError::from_error(url, e).redact(&secrets)),
        }
    }

    /// One page of one row of the list at `path`, with `token` (not the
    /// cached one).
    async fn check_read(&self, gateway: &str, path: &str, token: &Secret) -> Result<Value> {
        let url = format!("{gateway}/{path}");
        let body = json!({"pageIndex": 1, "pageSize": 1}).to_string();
        self.inner
            .transport
            .execute(
                path,
                |http| {
                    Ok::<_, Error>(
                        http.request(Method::POST, &url)
                            .query(&[("access_token", token.expose())])
                            .header(
                                reqwest::header::CONTENT_TYPE,
                                "application/json;charset=utf-8",
                            )
                            .body(body.clone()),
                    )
                },
                |raw| error::decode_business::<Value>(path, &raw),
            )
            .await
    }
}

/// A count sent as a number or as text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
