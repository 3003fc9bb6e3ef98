//! Credentials, signing (V2 `X-Api-*` headers and `app_signature`), both
//! API versions' logins (V2 `push_app_authorize` → `kingdee_auth_token`, V1
//! access token and account group), and the cache and refresh of their
//! tokens. The client's call path only asks this module for a session per
//! call.
//!
//! Everything that touches bytes of a signature is a small pure function
//! here, pinned by the fact sheet's test vectors:
//!
//! - [`encode`]: the percent-encoder of the signing rule (RFC 3986
//!   unreserved characters kept, upper-case hex, space as `%20`);
//! - [`string_to_sign`]: `METHOD\nENC(path)\nsorted k=ENC(ENC(v))&…\nx-api-nonce:N\nx-api-timestamp:T\n`;
//! - [`hmac_hex_base64`]: Base64 of the **lower-case hex text** of an
//!   HMAC-SHA256 (not of the raw 32 bytes);
//! - [`sign`]: the `X-Api-Signature` value, the one function the client
//!   calls per request;
//! - [`app_signature`]: the `app_signature` query value of
//!   `kingdee_auth_token`.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use integration_core::auth::TokenCache;
use integration_core::{ErrorKind, RawResponse, Secret};
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::client::{Client, HttpMethod};
use crate::error::{Error, decode_errcode_envelope, decode_v1_envelope};

/// Value of the `X-Api-Auth-Version` header.
pub const AUTH_VERSION: &str = "2.0";
/// Value of the `X-Api-SignHeaders` header.
pub const SIGN_HEADERS: &str = "X-Api-TimeStamp,X-Api-Nonce";

/// Path of V2 `push_app_authorize`.
pub const PUSH_APP_AUTHORIZE: &str = "/jdyconnector/app_management/push_app_authorize";
/// Path of V2 `kingdee_auth_token`.
pub const KINGDEE_AUTH_TOKEN: &str = "/jdyconnector/app_management/kingdee_auth_token";
/// Path of the V1 access token.
pub const V1_ACCESS_TOKEN: &str = "/auth/user/access_token";
/// Path of the V1 account-group list.
pub const V1_ACCOUNT_GROUP: &str = "/jdy/sys/accountGroup";

/// Percent-encodes `s` as the V2 signing rule does: UTF-8 bytes, every byte
/// outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - _ . ~`) becomes
/// `%XX` with upper-case hex, so `/` becomes `%2F` and a space `%20`.
///
/// The gateway's exact treatment of space, `*`, `~`, `!'()` and CJK is not
/// documented (see the crate's Assumptions); alphanumeric and Base64 values,
/// which is what real calls use, encode the same under every variant.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(hex_upper(b >> 4));
            out.push(hex_upper(b & 0x0f));
        }
    }
    out
}

fn hex_upper(nibble: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(nibble & 0x0f)])
}

/// The V2 string-to-sign.
///
/// `query` holds the **decoded** query parameters (any order; they are
/// sorted by name here). Each value is encoded twice, each name once; the
/// path is encoded once. Every line ends with `\n`, the last one included.
/// The body is never signed.
pub fn string_to_sign(
    method: &str,
    path: &str,
    query: &[(String, String)],
    nonce: &str,
    timestamp: &str,
) -> String {
    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    sorted.sort_by(|a, b| {
        a.0.as_bytes()
            .cmp(b.0.as_bytes())
            .then_with(|| a.1.cmp(&b.1))
    });
    let params = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(&encode(v))))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}\n{}\n{}\nx-api-nonce:{}\nx-api-timestamp:{}\n",
        method.to_ascii_uppercase(),
        encode(path),
        params,
        nonce,
        timestamp
    )
}

/// Base64 (standard alphabet, padded) of the lower-case hex text of
/// HMAC-SHA256(`key`, `message`): 88 characters.
pub fn hmac_hex_base64(key: &str, message: &str) -> String {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(message.as_bytes());
    let hex_text = hex::encode(mac.finalize().into_bytes());
    base64::engine::general_purpose::STANDARD.encode(hex_text.as_bytes())
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs.
    panic!("HMAC-SHA256 accepts keys of any length")
}

/// The `X-Api-Signature` of one V2 request, signed with the developer
/// application's `client_secret`.
///
/// ```
/// // The official documentation's example (fact sheet vector A).
/// let sig = jdy::auth::sign(
///     "f2adcfef73369bfc4e1384677d38a0ff",
///     "GET",
///     "/jdyconnector/app_management/kingdee_auth_token",
///     &[
///         ("app_key".into(), "bVZgAZOv1".into()),
///         ("app_signature".into(),
///          "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==".into()),
///     ],
///     "4427456950",
///     "1670305063559",
/// );
/// assert_eq!(sig, "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ==");
/// ```
pub fn sign(
    client_secret: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    nonce: &str,
    timestamp: &str,
) -> String {
    hmac_hex_base64(
        client_secret,
        &string_to_sign(method, path, query, nonce, timestamp),
    )
}

/// The `app_signature` of `kingdee_auth_token`: HMAC-SHA256 keyed with the
/// account book's `appSecret` over its `appKey`, hex text, Base64.
pub fn app_signature(app_key: &str, app_secret: &str) -> String {
    hmac_hex_base64(app_secret, app_key)
}

/// One account book's authorisation of the developer application, as
/// `push_app_authorize` returns it. `app_secret` rotates about daily.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppAuthorization {
    /// The account book's app key (`appKey`).
    #[serde(default)]
    pub app_key: String,
    /// The current app secret (`appSecret`); used only for `app_signature`.
    #[serde(default = "empty_secret")]
    pub app_secret: Secret,
    /// The tenant's IDC host, sent as `X-GW-Router-Addr`.
    #[serde(default)]
    pub domain: String,
    /// The account book id.
    #[serde(default, deserialize_with = "integration_core::lenient::opt_text")]
    pub account_id: Option<String>,
    /// The service id.
    #[serde(default, deserialize_with = "integration_core::lenient::opt_text")]
    pub service_id: Option<String>,
    /// The account book's name.
    #[serde(default)]
    pub account_name: Option<String>,
    /// The authorising company.
    #[serde(default)]
    pub agreement_company_name: Option<String>,
    /// The authorisation instance id.
    #[serde(default, deserialize_with = "integration_core::lenient::opt_text")]
    pub outer_instance_id: Option<String>,
    /// The account group's name.
    #[serde(default)]
    pub group_name: Option<String>,
    /// 1 when the authorisation is active.
    #[serde(default, deserialize_with = "integration_core::lenient::opt_i64")]
    pub status: Option<i64>,
}

fn empty_secret() -> Secret {
    Secret::new("")
}

impl fmt::Debug for AppAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppAuthorization")
            .field("app_key", &self.app_key)
            .field("app_secret", &self.app_secret)
            .field("domain", &self.domain)
            .field("account_id", &self.account_id)
            .field("account_name", &self.account_name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The credential a V2 business call needs: the `app-token` and the
/// routing domain of its account book.
#[derive(Clone, Debug)]
pub struct V2Session {
    /// The `app-token` header value (valid 24 h).
    pub app_token: Secret,
    /// The `X-GW-Router-Addr` header value (empty: not sent).
    pub domain: String,
}

/// The credential a V1 business call needs.
#[derive(Clone, Debug)]
pub struct V1Session {
    /// The `access_token` query value.
    pub access_token: Secret,
    /// The `accountId` header value.
    pub account_id: String,
    /// The `groupName` header value.
    pub group_name: String,
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

/// The credentials and cached tokens of one client, by version; shared by
/// its clones.
pub(crate) enum Auth {
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

impl Auth {
    /// No token yet. A V1 token is trusted for the lifetime its answer
    /// announces (see `trusted_for`); a V2 `app-token` for `v2_ttl`, renewed
    /// an hour (at most half of `v2_ttl`) early.
    pub(crate) fn new(credentials: Credentials, v1_ttl: Duration, v2_ttl: Duration) -> Self {
        match credentials {
            Credentials::V1(creds) => Auth::V1 {
                creds,
                // The lifetime comes with each token; `trusted_for` applies
                // the early refresh.
                tokens: TokenCache::new(Duration::ZERO).for_system(crate::error::SYSTEM),
                ttl: v1_ttl,
            },
            Credentials::V2(creds) => Auth::V2 {
                creds,
                authorization: Box::new(Mutex::new(None)),
                tokens: TokenCache::new(Duration::from_secs(3600).min(v2_ttl / 2))
                    .for_system(crate::error::SYSTEM),
                ttl: v2_ttl,
            },
        }
    }
}

impl Client {
    /// Runs `call` with the V2 session (fetched first when missing or about
    /// to expire); when the call is answered with an expired token, fetches
    /// a new one once and runs `call` once more.
    pub(crate) async fn with_v2_session<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn(V2Session) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let Auth::V2 { tokens, .. } = &self.inner.auth else {
            return Err(Error::Config("not a V2 client".into()));
        };
        tokens.call(|| self.fetch_v2_session(), call).await
    }

    /// Runs `call` with the V1 session, as [`Client::with_v2_session`] does
    /// for V2.
    pub(crate) async fn with_v1_session<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn(V1Session) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let Auth::V1 { tokens, .. } = &self.inner.auth else {
            return Err(Error::Config("not a V1 client".into()));
        };
        tokens.call(|| self.fetch_v1_session(), call).await
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
                        integration_core::lenient::json_kind(&other)
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

    pub(crate) fn select_authorization(
        &self,
        rows: Vec<AppAuthorization>,
    ) -> Result<AppAuthorization, Error> {
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

    pub(crate) async fn kingdee_auth_token(
        &self,
        authz: &AppAuthorization,
        creds: &V2Credentials,
    ) -> Result<Secret, Error> {
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

    /// Gets a V1 access token and selects the account group (uncached: the
    /// session cache and the check call it).
    pub(crate) async fn fetch_v1_session(&self) -> Result<(V1Session, Option<Duration>), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const SECRET: &str = "f2adcfef73369bfc4e1384677d38a0ff";
    const NONCE: &str = "4427456950";
    const TS: &str = "1670305063559";
    const APP_SIG_A: &str =
        "MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA==";

    #[test]
    fn vector_a_official_example() {
        let query = q(&[("app_signature", APP_SIG_A), ("app_key", "bVZgAZOv1")]);
        let path = "/jdyconnector/app_management/kingdee_auth_token";
        let sts = string_to_sign("GET", path, &query, NONCE, TS);
        assert_eq!(
            sts,
            "GET\n%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token\n\
             app_key=bVZgAZOv1&app_signature=MzZlYTk0ODk4MWZlNjdiODNmNWU4YzViNzYxNGM5MTFlOGJkN2NjMzk0MTJkZGNhZGM0NzZhN2YxZDJmOTlkZA%253D%253D\n\
             x-api-nonce:4427456950\nx-api-timestamp:1670305063559\n"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "91be9b41b23da27c5a788028de71f5e09e9565e4c5a25f21cf9a07df68b50d51"
        );
        assert_eq!(
            sign(SECRET, "get", path, &query, NONCE, TS),
            "OTFiZTliNDFiMjNkYTI3YzVhNzg4MDI4ZGU3MWY1ZTA5ZTk1NjVlNGM1YTI1ZjIxY2Y5YTA3ZGY2OGI1MGQ1MQ=="
        );
        // Negative check: without the final newline the signature differs.
        let no_newline = hmac_hex_base64(SECRET, sts.trim_end_matches('\n'));
        assert!(no_newline.starts_with("N2NmYjIzMTgx"), "{no_newline}");
    }

    #[test]
    fn vector_a_app_signature_is_base64_of_hex() {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(APP_SIG_A)
            .unwrap();
        assert_eq!(
            decoded,
            b"36ea948981fe67b83f5e8c5b7614c911e8bd7cc39412ddcadc476a7f1d2f99dd"
        );
    }

    #[test]
    fn vector_b_app_signature() {
        assert_eq!(
            app_signature("abc", "abc123"),
            "ZDljMTI3NGIyNTE1MTRkYzlkNjc1MDNhYjUzMzgzNWMyY2M4YTdjMzdmNmM3YTVlNDkxMTkzNjdiOTFjNzUyZQ=="
        );
    }

    #[test]
    fn vector_c_post_without_query() {
        let sts = string_to_sign("POST", "/jdy/v2/scm/pur_inbound", &[], NONCE, TS);
        assert_eq!(
            sts,
            "POST\n%2Fjdy%2Fv2%2Fscm%2Fpur_inbound\n\nx-api-nonce:4427456950\nx-api-timestamp:1670305063559\n"
        );
        assert_eq!(
            sign(SECRET, "POST", "/jdy/v2/scm/pur_inbound", &[], NONCE, TS),
            "M2UwMmM4OTIyNmMxOTYwZGRjNWMxZmMzMGFhNDgzODYwZWJkNTI5MmEwMDE1NzJjM2RmZmI4NzBiN2ViY2I0Nw=="
        );
    }

    #[test]
    fn vector_d_sorted_list_query() {
        let query = q(&[("page", "1"), ("page_size", "100"), ("bill_status", "C")]);
        let sts = string_to_sign("GET", "/jdy/v2/scm/pur_inbound", &query, NONCE, TS);
        assert!(
            sts.contains("\nbill_status=C&page=1&page_size=100\n"),
            "{sts}"
        );
        assert_eq!(
            sign(SECRET, "GET", "/jdy/v2/scm/pur_inbound", &query, NONCE, TS),
            "ODczMTgzZDZhZjQyNjM4MjJlNmFlNjQxMzhiM2I2MDNjODRlOTk3ZGRiM2M5MjY1ZDA2M2FjZjJlYjg0MjI2NA=="
        );
    }

    #[test]
    fn vector_e_cjk_space_and_plus() {
        let query = q(&[("search", "采购 A+B")]);
        let sts = string_to_sign("GET", "/jdy/v2/bd/customer", &query, NONCE, TS);
        assert!(
            sts.contains("\nsearch=%25E9%2587%2587%25E8%25B4%25AD%2520A%252BB\n"),
            "{sts}"
        );
        assert_eq!(
            sign(SECRET, "GET", "/jdy/v2/bd/customer", &query, NONCE, TS),
            "NzdhNDg1MDJkMzY1ODViNmQyNjNkZGJlNjNiYTYzMTMzY2I3NzlhOGFhYTRhYTQ0NGMwMzUwMzE2OTliOWVjYQ=="
        );
    }

    #[test]
    fn encoder_keeps_only_unreserved() {
        assert_eq!(encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(encode("/ +=*!'()"), "%2F%20%2B%3D%2A%21%27%28%29");
        assert_eq!(encode("采"), "%E9%87%87");
    }

    #[test]
    fn authorization_debug_hides_the_secret() {
        let a: AppAuthorization =
            serde_json::from_str(r#"{"appKey":"k1","appSecret":"topsecret","domain":"https://tf.jdy.com","accountId":12,"status":1}"#)
                .unwrap();
        assert_eq!(a.account_id.as_deref(), Some("12"));
        assert!(!format!("{a:?}").contains("topsecret"));
    }

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
