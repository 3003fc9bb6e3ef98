//! The [`Client`]: configuration, both API versions' auth flows, and the raw
//! call every typed endpoint goes through.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use integration_core::auth::TokenCache;
use integration_core::transport::{RateLimit, Transport};
use integration_core::{ClientSettings, ErrorKind, RawResponse, Secret};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::{self, AppAuthorization, V1Session, V2Session};
use crate::error::{Error, SYSTEM, decode_errcode_envelope, decode_v1_envelope};
use crate::query::query_text;

/// The real service's base URL (both versions).
pub const DEFAULT_BASE_URL: &str = "https://api.kingdee.com";

/// Path of V2 `push_app_authorize`.
pub const PUSH_APP_AUTHORIZE: &str = "/jdyconnector/app_management/push_app_authorize";
/// Path of V2 `kingdee_auth_token`.
pub const KINGDEE_AUTH_TOKEN: &str = "/jdyconnector/app_management/kingdee_auth_token";
/// Path of the V1 access token.
pub const V1_ACCESS_TOKEN: &str = "/auth/user/access_token";
/// Path of the V1 account-group list.
pub const V1_ACCOUNT_GROUP: &str = "/jdy/sys/accountGroup";

/// Which jdy API family the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// 精斗云 API (`/jdy/{module}/{x}_list`, access token + account group).
    V1,
    /// 星辰 OpenAPI (`/jdy/v2/...`, `X-Api-*` signature + `app-token`).
    V2,
}

/// V2 credentials: the developer application and the account book's
/// authorisation instance.
#[derive(Debug, Clone)]
pub struct V2Credentials {
    /// The application's client id (`X-Api-ClientID`).
    pub client_id: String,
    /// The application's client secret (signs every call).
    pub client_secret: Secret,
    /// The authorisation instance (`outerInstanceId`) of the account book.
    pub outer_instance_id: String,
    /// Which account book to use when the authorisation lists several
    /// (`accountId`); `None` takes the only active one.
    pub account_id: Option<String>,
    /// Optional jdy user id for `kingdee_auth_token` (`uid`); `None` gets
    /// the account book administrator's token.
    pub uid: Option<String>,
}

impl V2Credentials {
    /// Credentials for one authorisation instance.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        outer_instance_id: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            outer_instance_id: outer_instance_id.into(),
            account_id: None,
            uid: None,
        }
    }

    /// Selects the account book by `accountId`.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Gets tokens for this jdy user.
    pub fn uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = Some(uid.into());
        self
    }
}

/// V1 credentials: the application plus a jdy user's login, and the
/// account group to work in.
#[derive(Debug, Clone)]
pub struct V1Credentials {
    /// The application's client id.
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: Secret,
    /// The jdy login (often a phone number).
    pub username: String,
    /// The jdy password.
    pub password: Secret,
    /// The account (`accountId`) to use; `None` selects by group name or
    /// takes the only one.
    pub account_id: Option<String>,
    /// The account group name (`groupName`) to use.
    pub group_name: Option<String>,
}

impl V1Credentials {
    /// Credentials for one user.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
            account_id: None,
            group_name: None,
        }
    }

    /// Selects the account by `accountId`.
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = Some(account_id.into());
        self
    }

    /// Selects the account group by name.
    pub fn group_name(mut self, group_name: impl Into<String>) -> Self {
        self.group_name = Some(group_name.into());
        self
    }
}

/// The credentials of either version; the variant chooses the version.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// V1 (精斗云 API).
    V1(V1Credentials),
    /// V2 (星辰 OpenAPI).
    V2(V2Credentials),
}

impl From<V1Credentials> for Credentials {
    fn from(c: V1Credentials) -> Self {
        Credentials::V1(c)
    }
}

impl From<V2Credentials> for Credentials {
    fn from(c: V2Credentials) -> Self {
        Credentials::V2(c)
    }
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
        let auth = match credentials {
            Credentials::V1(creds) => Auth::V1 {
                creds,
                // The lifetime comes with each token; `trusted_for` applies
                // the early refresh.
                tokens: TokenCache::new(Duration::ZERO),
                ttl: self.v1_token_ttl,
            },
            Credentials::V2(creds) => Auth::V2 {
                creds,
                authorization: Box::new(Mutex::new(None)),
                tokens: TokenCache::new(Duration::from_secs(3600).min(self.v2_token_ttl / 2)),
                ttl: self.v2_token_ttl,
            },
        };
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
    inner: Arc<Inner>,
}

struct Inner {
    base_url: String,
    transport: Transport,
    auth: Auth,
}

enum Auth {
    V1 {
        creds: V1Credentials,
        tokens: TokenCache<V1Session>,
        ttl: Duration,
    },
    V2 {
        creds: V2Credentials,
        authorization: Box<Mutex<Option<AppAuthorization>>>,
        tokens: TokenCache<V2Session>,
        ttl: Duration,
    },
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
        match &self.inner.auth {
            Auth::V2 { tokens, .. } => {
                tokens
                    .call(
                        || self.fetch_v2_session(),
                        |session| {
                            let query = query.clone();
                            let body = body.clone();
                            async move {
                                self.v2_send(method, path, &query, body.as_ref(), Some(&session))
                                    .await
                            }
                        },
                    )
                    .await
            }
            Auth::V1 { tokens, .. } => {
                if method == HttpMethod::Get && !query.is_empty() {
                    return Err(Error::Config(
                        "V1 calls take a JSON body, not query parameters".into(),
                    ));
                }
                tokens
                    .call(
                        || self.fetch_v1_session(),
                        |session| {
                            let body = body.clone();
                            async move { self.v1_send(path, body.as_ref(), &session).await }
                        },
                    )
                    .await
            }
        }
    }

    fn url(&self, path: &str, query: &[(String, String)]) -> String {
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
    async fn v2_send(
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

    /// Asks jdy which account books authorised the application and with
    /// which current keys (`push_app_authorize`).
    pub async fn push_app_authorize(&self) -> Result<Vec<AppAuthorization>, Error> {
        let Auth::V2 { creds, .. } = &self.inner.auth else {
            return Err(Error::Config("push_app_authorize is a V2 call".into()));
        };
        let query = vec![(
            "outerInstanceId".to_owned(),
            creds.outer_instance_id.clone(),
        )];
        let data = self
            .v2_send(
                HttpMethod::Post,
                PUSH_APP_AUTHORIZE,
                &query,
                Some(&Value::Object(Default::default())),
                None,
            )
            .await
            .map_err(Error::into_auth)?;
        let rows = match data {
            Value::Array(rows) => rows,
            Value::Object(_) => vec![data],
            other => {
                return Err(Error::answer(
                    PUSH_APP_AUTHORIZE,
                    "no_authorization",
                    format!(
                        "push_app_authorize returned no authorisation (data: {})",
                        kind_of(&other)
                    ),
                    None,
                )
                .into_auth());
            }
        };
        rows.into_iter()
            .map(|row| {
                serde_json::from_value::<AppAuthorization>(row)
                    .map_err(|e| Error::Config(format!("undecodable push_app_authorize row: {e}")))
            })
            .collect()
    }

    fn select_authorization(&self, rows: Vec<AppAuthorization>) -> Result<AppAuthorization, Error> {
        let Auth::V2 { creds, .. } = &self.inner.auth else {
            return Err(Error::Config("not a V2 client".into()));
        };
        let active: Vec<AppAuthorization> = rows
            .into_iter()
            .filter(|r| r.status.is_none_or(|s| s == 1) && !r.app_key.is_empty())
            .collect();
        let chosen = match &creds.account_id {
            Some(want) => active
                .into_iter()
                .find(|r| r.account_id.as_deref() == Some(want.as_str())),
            None if active.len() == 1 => active.into_iter().next(),
            None if active.is_empty() => None,
            None => {
                let ids: Vec<String> = active
                    .iter()
                    .map(|r| r.account_id.clone().unwrap_or_default())
                    .collect();
                return Err(Error::Config(format!(
                    "the authorisation lists several account books ({}); choose one with V2Credentials::account_id",
                    ids.join(", ")
                )));
            }
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

    /// Gets a fresh `app-token`: uses the cached authorisation (or fetches
    /// it), and when jdy answers "app key check failed" (the app secret
    /// rotated) fetches the authorisation again and retries once.
    async fn fetch_v2_session(&self) -> Result<(V2Session, Option<Duration>), Error> {
        let Auth::V2 {
            creds,
            authorization,
            ttl,
            ..
        } = &self.inner.auth
        else {
            return Err(Error::Config("not a V2 client".into()));
        };
        let mut slot = authorization.lock().await;
        let mut fresh = false;
        let current = match slot.clone() {
            Some(a) => a,
            None => {
                fresh = true;
                self.select_authorization(self.push_app_authorize().await?)?
            }
        };
        let token = match self.kingdee_auth_token(&current, creds).await {
            Err(e) if e.is_app_key_check_failed() && !fresh => {
                tracing::info!("jdy app secret rotated; fetching the authorisation again");
                let renewed = self.select_authorization(self.push_app_authorize().await?)?;
                let token = self.kingdee_auth_token(&renewed, creds).await;
                *slot = Some(renewed.clone());
                (token?, renewed)
            }
            Err(e) => return Err(e),
            Ok(token) => (token, current),
        };
        let (app_token, authz) = token;
        *slot = Some(authz.clone());
        Ok((
            V2Session {
                app_token,
                domain: authz.domain,
            },
            Some(*ttl),
        ))
    }

    async fn kingdee_auth_token(
        &self,
        authz: &AppAuthorization,
        creds: &V2Credentials,
    ) -> Result<Secret, Error> {
        let mut query = vec![
            ("app_key".to_owned(), authz.app_key.clone()),
            (
                "app_signature".to_owned(),
                auth::app_signature(&authz.app_key, authz.app_secret.expose()),
            ),
        ];
        if let Some(uid) = &creds.uid {
            query.push(("uid".to_owned(), uid.clone()));
        }
        let data = self
            .v2_send(HttpMethod::Get, KINGDEE_AUTH_TOKEN, &query, None, None)
            .await
            .map_err(Error::into_auth)?;
        ["app-token", "app_token", "appToken"]
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
            })
    }

    /// Gets a V1 access token and selects the account group.
    async fn fetch_v1_session(&self) -> Result<(V1Session, Option<Duration>), Error> {
        let Auth::V1 { creds, ttl, .. } = &self.inner.auth else {
            return Err(Error::Config("not a V1 client".into()));
        };
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
                |raw: RawResponse| decode_errcode_envelope(&raw),
            )
            .await
            .map_err(Error::into_auth)?;
        let lifetime = v1_token_lifetime(&data, *ttl)?;
        let access_token = data
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                Error::answer(
                    V1_ACCESS_TOKEN,
                    "no_token",
                    "access_token answered without a token",
                    None,
                )
                .into_auth()
            })?;

        let url = self.url(
            V1_ACCOUNT_GROUP,
            &[("access_token".to_owned(), access_token.expose().to_owned())],
        );
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
                |raw: RawResponse| decode_v1_envelope(&raw),
            )
            .await
            .map_err(Error::into_auth)?;
        let mut all = Vec::new();
        for service in groups.as_array().into_iter().flatten() {
            for group in service
                .get("accountGroups")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |k: &str| {
                    group.get(k).and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                };
                if let (Some(account_id), Some(group_name)) = (text("accountId"), text("groupName"))
                {
                    all.push((account_id, group_name));
                }
            }
        }
        let matching: Vec<&(String, String)> = all
            .iter()
            .filter(|(id, name)| {
                creds.account_id.as_ref().is_none_or(|want| want == id)
                    && creds.group_name.as_ref().is_none_or(|want| want == name)
            })
            .collect();
        let (account_id, group_name) = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(Error::Config(format!(
                    "no account group matches account_id={:?} group_name={:?} (available: {})",
                    creds.account_id,
                    creds.group_name,
                    all.iter()
                        .map(|(i, n)| format!("{i}/{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            several => {
                return Err(Error::Config(format!(
                    "several account groups match ({}); choose one with V1Credentials::account_id or group_name",
                    several
                        .iter()
                        .map(|(i, n)| format!("{i}/{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        Ok((
            V1Session {
                access_token,
                account_id,
                group_name,
            },
            Some(trusted_for(lifetime)),
        ))
    }
}

fn header_value(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value)
        .map_err(|_| Error::Config("a header value contains characters HTTP does not allow".into()))
}

/// Longest V1 token lifetime taken from `expires_in`: a far-off deadline
/// could overflow the clock, and an expired-token answer refreshes anyway.
const MAX_V1_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The V1 token's lifetime: `data.expires_in` seconds (a number or numeric
/// text) when present, else `fallback`. Null or `""` count as absent; any
/// other value that is not a whole number ≥ 1 is a decode error, because a
/// guessed lifetime would hide a changed answer.
fn v1_token_lifetime(data: &Value, fallback: Duration) -> Result<Duration, Error> {
    let value = match data.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => Some(v),
    };
    let Some(value) = value else {
        tracing::debug!(?fallback, "jdy V1 token answer has no expires_in");
        return Ok(fallback);
    };
    let seconds = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match seconds.filter(|s| *s > 0) {
        Some(s) => Ok(Duration::from_secs(s).min(MAX_V1_TOKEN_LIFETIME)),
        None => Err(integration_core::Error::new(
            "jdy",
            V1_ACCESS_TOKEN,
            ErrorKind::Decode,
            format!(
                "the token answer's expires_in is not a positive whole number of seconds: {}",
                integration_core::secret::excerpt(value.to_string().as_bytes(), 40)
            ),
        )
        .into()),
    }
}

/// How long to trust a credential valid for `lifetime`: refreshed early by
/// half of it, at most a minute, so a slow call never carries a dead one.
fn trusted_for(lifetime: Duration) -> Duration {
    lifetime - (lifetime / 2).min(Duration::from_secs(60))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn v1_lifetime_reads_expires_in_or_falls_back() {
        let life = |data: Value| v1_token_lifetime(&data, HOUR).map_err(|e| e.kind());
        assert_eq!(life(json!({"expires_in": 7200})), Ok(2 * HOUR));
        assert_eq!(
            life(json!({"expires_in": "90"})),
            Ok(Duration::from_secs(90))
        );
        assert_eq!(life(json!({})), Ok(HOUR));
        assert_eq!(life(json!({"expires_in": null})), Ok(HOUR));
        assert_eq!(life(json!({"expires_in": " "})), Ok(HOUR));
        // Capped, never an overflowing deadline.
        assert_eq!(
            life(json!({"expires_in": u64::MAX})),
            Ok(MAX_V1_TOKEN_LIFETIME)
        );
        for junk in [json!("x"), json!(0), json!(-1), json!(2.5), json!([60])] {
            assert_eq!(
                life(json!({ "expires_in": junk })),
                Err(ErrorKind::Decode),
                "{junk}"
            );
        }
    }

    #[test]
    fn trusted_for_refreshes_early_by_half_at_most_a_minute() {
        assert_eq!(trusted_for(HOUR), Duration::from_secs(3540));
        assert_eq!(
            trusted_for(Duration::from_secs(120)),
            Duration::from_secs(60)
        );
        assert_eq!(
            trusted_for(Duration::from_secs(1)),
            Duration::from_millis(500)
        );
    }
}
