//! The [`Client`]: builder, configuration, the signed V2 and V1 requests,
//! and the raw call every typed endpoint goes through. Both versions'
//! credentials, logins, token caches and refresh live in [`crate::auth`]
//! (re-exported here where they used to be).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use integration_core::transport::{RateLimit, Transport};
use integration_core::{ClientSettings, RawResponse};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::auth::{self, Auth, V1Session, V2Session};
use crate::error::{Error, SYSTEM, decode_errcode_envelope, decode_v1_envelope};
use crate::query::query_text;

pub use crate::auth::{
    Credentials, KINGDEE_AUTH_TOKEN, PUSH_APP_AUTHORIZE, V1_ACCESS_TOKEN, V1_ACCOUNT_GROUP,
    V1Credentials, V2Credentials,
};

/// The real service's base URL (both versions).
pub const DEFAULT_BASE_URL: &str = "https://api.kingdee.com";

/// Which jdy API family the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// 精斗云 API (`/jdy/{module}/{x}_list`, access token + account group).
    V1,
    /// 星辰 OpenAPI (`/jdy/v2/...`, `X-Api-*` signature + `app-token`).
    V2,
}

/// Builds a [`Client`]. The shared settings (`base_url`, `timeout`,
/// `rate_limit`, `retry`, `user_agent`, ...) are set as on every
/// connector's builder ([`ClientSettings`]). The base URL defaults to
/// [`DEFAULT_BASE_URL`] (a fake's URI in tests); the rate limit defaults to
/// 10/s, burst 10 (jdy publishes none).
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    credentials: Option<Credentials>,
    v1_token_ttl: Duration,
    v2_token_ttl: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let mut settings = ClientSettings::default();
        settings.rate_limit = Some(RateLimit::new(10, 10));
        Self {
            settings,
            credentials: None,
            v1_token_ttl: Duration::from_secs(3600),
            v2_token_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The credentials; their variant selects V1 or V2.
    pub fn credentials(mut self, credentials: impl Into<Credentials>) -> Self {
        self.credentials = Some(credentials.into());
        self
    }

    /// How long a V1 access token is trusted when the token answer has no
    /// `expires_in` (default 1 h: one V1 caller caches it that long; an
    /// expired-token answer refreshes it anyway).
    pub fn v1_token_ttl(mut self, ttl: Duration) -> Self {
        self.v1_token_ttl = ttl;
        self
    }

    /// How long a V2 `app-token` is trusted (default 24 h, as documented;
    /// it is refreshed an hour early).
    pub fn v2_token_ttl(mut self, ttl: Duration) -> Self {
        self.v2_token_ttl = ttl;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config("no credentials: call .credentials(V1Credentials|V2Credentials)".into())
        })?;
        let base_url = self
            .settings
            .base_url_or(SYSTEM, DEFAULT_BASE_URL)
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let transport = self.settings.transport(SYSTEM)?;
        let auth = Auth::new(credentials, self.v1_token_ttl, self.v2_token_ttl);
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                transport,
                auth,
            }),
        })
    }
}

/// A jdy client for one account book, V1 or V2 by configuration.
///
/// Cheap to clone; clones share the connection pool, the rate limiter and
/// the cached tokens. `Debug` never shows a secret.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    base_url: String,
    pub(crate) transport: Transport,
    pub(crate) auth: Auth,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Client");
        d.field("base_url", &self.inner.base_url)
            .field("version", &self.version());
        match &self.inner.auth {
            Auth::V1 { creds, .. } => d.field("credentials", creds),
            Auth::V2 { creds, .. } => d.field("credentials", creds),
        };
        d.field("transport", &self.inner.transport).finish()
    }
}

/// HTTP method of a raw call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET: parameters in the query string (V2 lists and details).
    Get,
    /// POST: a JSON body (V2 saves, every V1 call).
    Post,
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API version of this client.
    pub fn version(&self) -> ApiVersion {
        match self.inner.auth {
            Auth::V1 { .. } => ApiVersion::V1,
            Auth::V2 { .. } => ApiVersion::V2,
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Calls any endpoint with auth, signing, retries and error decoding.
    ///
    /// `api` is a path such as `/jdy/v2/bd/store` or `/jdy/basedata/dept_list`,
    /// optionally prefixed by `GET ` or `POST `. Without a prefix a V1 call
    /// is a POST, and a V2 call is a GET when `params` is an object (its
    /// members become the query string) or null, a POST otherwise. Returns
    /// the envelope's `data`.
    pub async fn call_raw(&self, api: &str, params: Value) -> Result<Value, Error> {
        let (method, path) = match api.split_once(' ') {
            Some(("GET", path)) => (Some(HttpMethod::Get), path.trim()),
            Some(("POST", path)) => (Some(HttpMethod::Post), path.trim()),
            _ => (None, api.trim()),
        };
        if !path.starts_with('/') {
            return Err(Error::Config(format!(
                "the API path must start with '/': {path:?}"
            )));
        }
        let method = method.unwrap_or(match (self.version(), &params) {
            (ApiVersion::V1, _) => HttpMethod::Post,
            (ApiVersion::V2, Value::Object(_) | Value::Null) => HttpMethod::Get,
            (ApiVersion::V2, _) => HttpMethod::Post,
        });
        match method {
            HttpMethod::Get => {
                let query = match params {
                    Value::Object(map) => map
                        .iter()
                        .map(|(k, v)| (k.clone(), query_text(v)))
                        .collect(),
                    Value::Null => Vec::new(),
                    _ => return Err(Error::Config("GET parameters must be a JSON object".into())),
                };
                match self.version() {
                    ApiVersion::V2 => self.v2_get(path, query).await,
                    ApiVersion::V1 => self.call(HttpMethod::Get, path, query, None).await,
                }
            }
            HttpMethod::Post => {
                self.call(HttpMethod::Post, path, Vec::new(), Some(params))
                    .await
            }
        }
    }

    /// A V2 GET (lists, details) with its parameters: **the one place that
    /// decides where V2 list filters go**.
    ///
    /// Sources conflict: the official list page (获取BOM列表) and a MES
    /// client send them in the GET query string; Kingdee's generated PHP
    /// SDK sends them as a JSON body on the GET. The crate keeps the
    /// documented query string, which is also what the signature covers
    /// (the body is never signed).
    pub(crate) async fn v2_get(
        &self,
        path: &str,
        params: Vec<(String, String)>,
    ) -> Result<Value, Error> {
        self.call(HttpMethod::Get, path, params, None).await
    }

    /// One business call: V2 signs it and sends the `app-token`; V1 adds the
    /// access token and account headers. `query` is decoded text; the call
    /// sends what it is given (typed V2 reads go through the query string).
    pub async fn call(
        &self,
        method: HttpMethod,
        path: &str,
        query: Vec<(String, String)>,
        body: Option<Value>,
    ) -> Result<Value, Error> {
        match self.version() {
            ApiVersion::V2 => {
                self.with_v2_session(|session| {
                    let query = query.clone();
                    let body = body.clone();
                    async move {
                        self.v2_send(method, path, &query, body.as_ref(), Some(&session))
                            .await
                    }
                })
                .await
            }
            ApiVersion::V1 => {
                if method == HttpMethod::Get && !query.is_empty() {
                    return Err(Error::Config(
                        "V1 calls take a JSON body, not query parameters".into(),
                    ));
                }
                self.with_v1_session(|session| {
                    let body = body.clone();
                    async move { self.v1_send(path, body.as_ref(), &session).await }
                })
                .await
            }
        }
    }

    pub(crate) fn url(&self, path: &str, query: &[(String, String)]) -> String {
        let mut url = format!("{}{}", self.inner.base_url, path);
        if !query.is_empty() {
            url.push('?');
            let pairs: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", auth::encode(k), auth::encode(v)))
                .collect();
            url.push_str(&pairs.join("&"));
        }
        url
    }

    /// Sends one signed V2 request (with the session's headers on business
    /// calls) and decodes the `{errcode, description, data}` envelope.
    pub(crate) async fn v2_send(
        &self,
        method: HttpMethod,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        session: Option<&V2Session>,
    ) -> Result<Value, Error> {
        let Auth::V2 { creds, .. } = &self.inner.auth else {
            return Err(Error::Config("not a V2 client".into()));
        };
        let url = self.url(path, query);
        let method_text = match method {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        };
        self.inner
            .transport
            .execute(
                path,
                |http| {
                    let timestamp = chrono::Utc::now().timestamp_millis().to_string();
                    let nonce = rand::random_range(1_000_000_000_u64..10_000_000_000).to_string();
                    let signature = auth::sign(
                        creds.client_secret.expose(),
                        method_text,
                        path,
                        query,
                        &nonce,
                        &timestamp,
                    );
                    let mut request = match method {
                        HttpMethod::Get => http.get(&url),
                        HttpMethod::Post => http.post(&url),
                    };
                    request = request
                        .header(CONTENT_TYPE, "application/json")
                        .header("X-Api-ClientID", header_value(&creds.client_id)?)
                        .header("X-Api-Auth-Version", auth::AUTH_VERSION)
                        .header("X-Api-TimeStamp", timestamp)
                        .header("X-Api-Nonce", nonce)
                        .header("X-Api-SignHeaders", auth::SIGN_HEADERS)
                        .header("X-Api-Signature", signature);
                    if let Some(session) = session {
                        request =
                            request.header("app-token", header_value(session.app_token.expose())?);
                        // Sent when known: an empty value would be a wrong route.
                        if !session.domain.is_empty() {
                            request =
                                request.header("X-GW-Router-Addr", header_value(&session.domain)?);
                        }
                    }
                    if let Some(body) = body {
                        request = request.body(
                            serde_json::to_vec(body)
                                .map_err(|e| Error::Config(format!("unserialisable body: {e}")))?,
                        );
                    }
                    Ok::<_, Error>(request)
                },
                |raw: RawResponse| decode_errcode_envelope(&raw),
            )
            .await
    }

    async fn v1_send(
        &self,
        path: &str,
        body: Option<&Value>,
        session: &V1Session,
    ) -> Result<Value, Error> {
        let url = self.url(
            path,
            &[(
                "access_token".to_owned(),
                session.access_token.expose().to_owned(),
            )],
        );
        let body = serde_json::to_vec(body.unwrap_or(&Value::Object(Default::default())))
            .map_err(|e| Error::Config(format!("unserialisable body: {e}")))?;
        self.inner
            .transport
            .execute(
                path,
                |http| {
                    Ok::<_, Error>(
                        http.post(&url)
                            .header(CONTENT_TYPE, "application/json; charset=utf-8")
                            .header("accountId", header_value(&session.account_id)?)
                            .header("groupName", header_value(&session.group_name)?)
                            .body(body.clone()),
                    )
                },
                |raw: RawResponse| decode_v1_envelope(&raw),
            )
            .await
    }
}

fn header_value(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value)
        .map_err(|_| Error::Config("a header value contains characters HTTP does not allow".into()))
}
