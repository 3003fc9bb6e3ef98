//! OKKI's OAuth2 authentication: credentials, the password hash, the token
//! and refresh requests, reading the token answer, working out how long a
//! token is valid, and the token's cache and refresh. The client's call path
//! only asks this module for a token per call.
//!
//! OKKI issues an 8-hour RS256 JWT from `POST /v1/oauth2/access_token`
//! (grant `client_credentials`, or `password` with the password hashed by
//! [`hash_password`]); the password grant also returns a refresh token for
//! `POST /v1/oauth2/refresh_token`. The token is sent as
//! `Authorization: Bearer <jwt>`. There is no request signature on business
//! calls; the only signature in the API is on webhook deliveries
//! ([`crate::webhook::signature`]).
//!
//! The [`crate::Client`] fetches tokens lazily, caches them in an
//! [`integration_core::auth::TokenCache`] shared by its clones, refreshes
//! them 5 minutes before they expire and, when a call is answered with HTTP
//! 401 / `access_denied`, fetches a new one and repeats the call once.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use integration_core::auth::TokenCache;
use integration_core::envelope::json_object;
use integration_core::{RawResponse, Secret};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::error::{Error, Result};

/// Path of the token endpoint.
pub const ACCESS_TOKEN_PATH: &str = "/v1/oauth2/access_token";
/// Path of the refresh endpoint (password grant only).
pub const REFRESH_TOKEN_PATH: &str = "/v1/oauth2/refresh_token";
/// Lifetime assumed when the answer says nothing usable (8 hours).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// The module scopes a token can be granted (sent space-separated).
pub mod scopes {
    /// Customers and contacts (客户).
    pub const COMPANY: &str = "company";
    /// Leads.
    pub const LEAD: &str = "lead";
    /// Opportunities.
    pub const OPPORTUNITY: &str = "opportunity";
    /// Products.
    pub const PRODUCT: &str = "product";
    /// Sales orders, quotations and receipts.
    pub const INVOICES: &str = "invoices";
    /// Users and departments.
    pub const USER: &str = "user";
    /// Message push configuration.
    pub const WEBHOOK: &str = "webhook";
    /// The scopes this crate's typed API uses.
    pub const TYPED: &[&str] = &[COMPANY, OPPORTUNITY, INVOICES, USER];
}

/// Which OAuth2 grant the client logs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grant {
    /// `client_credentials`: no user; no refresh token.
    ClientCredentials,
    /// `password`: a user's login e-mail and the SHA-256 of the password.
    Password {
        /// The user's Xiaoman login e-mail.
        username: String,
        /// The password, already hashed by [`hash_password`].
        password_sha256: Secret,
    },
}

/// The credentials issued under 企业管理 → 外部对接 → API对接, plus the
/// scopes to ask for. `Debug` never shows the secret or the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: Secret,
    /// Module scopes, e.g. `["company", "user"]`.
    pub scopes: Vec<String>,
    /// The grant.
    pub grant: Grant,
}

impl Credentials {
    /// `client_credentials` with the given scopes.
    pub fn client_credentials<S: Into<String>>(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            grant: Grant::ClientCredentials,
        }
    }

    /// The `password` grant: the plain password is hashed right away with
    /// [`hash_password`] and only the hash is kept.
    pub fn password<S: Into<String>>(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        scopes: impl IntoIterator<Item = S>,
        username: impl Into<String>,
        plain_password: &str,
    ) -> Self {
        Self {
            grant: Grant::Password {
                username: username.into(),
                password_sha256: Secret::new(hash_password(plain_password)),
            },
            ..Self::client_credentials(client_id, client_secret, scopes)
        }
    }

    /// The space-separated `scope` parameter.
    pub fn scope_param(&self) -> String {
        self.scopes.join(" ")
    }

    /// The body of `POST /v1/oauth2/access_token` (sent as JSON).
    pub(crate) fn token_request(&self) -> Value {
        let mut body = serde_json::json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "scope": self.scope_param(),
        });
        match &self.grant {
            Grant::ClientCredentials => {
                body["grant_type"] = "client_credentials".into();
            }
            Grant::Password {
                username,
                password_sha256,
            } => {
                body["grant_type"] = "password".into();
                body["username"] = username.as_str().into();
                body["password"] = password_sha256.expose().into();
            }
        }
        body
    }

    /// The form of `POST /v1/oauth2/refresh_token`.
    pub(crate) fn refresh_request(&self, refresh_token: &Secret) -> Vec<(&'static str, String)> {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
            ("client_id", self.client_id.clone()),
            ("client_secret", self.client_secret.expose().to_owned()),
        ]
    }
}

/// The password grant's hash: lowercase hex SHA-256 of the UTF-8 password.
///
/// ```
/// assert_eq!(
///     okki::auth::hash_password("password"),
///     "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
/// );
/// ```
pub fn hash_password(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// A token answer (top-level JSON, no envelope).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenAnswer {
    /// The JWT.
    pub access_token: Secret,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds of validity (absent for client_credentials per the docs).
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub expires_in: Option<i64>,
    /// Present for the password grant.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

/// The `exp` claim (unix seconds, possibly fractional) of a JWT, read
/// without verifying the signature (OKKI does not publish its key).
pub fn jwt_expiry(token: &str) -> Option<f64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("exp")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// How long a freshly fetched token is valid, `now` being unix seconds:
/// the JWT's `exp` when it has one (a re-fetched token keeps its first
/// expiry), else `expires_in`, else 8 hours.
pub fn token_lifetime(answer: &TokenAnswer, now: f64) -> Duration {
    if let Some(exp) = jwt_expiry(answer.access_token.expose()) {
        return Duration::from_secs_f64((exp - now).max(0.0));
    }
    match answer.expires_in {
        Some(secs) if secs > 0 => Duration::from_secs(secs as u64),
        _ => DEFAULT_TOKEN_LIFETIME,
    }
}

/// Decodes an answer of the token or refresh endpoint.
pub(crate) fn parse_token_answer(raw: &RawResponse) -> Result<TokenAnswer> {
    // An undecodable body under a failed HTTP status is that status.
    let members = json_object(raw).map_err(|e| raw.http_error().unwrap_or(e))?;
    if members
        .get("access_token")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty())
    {
        return crate::lenient::decode(Value::Object(members)).map_err(|e| {
            raw.decode_error(format!("unexpected token answer ({e})"))
                .into()
        });
    }
    if let Some(err) = crate::error::oauth_error(raw, &members) {
        return Err(err);
    }
    if let Some(http) = raw.http_error() {
        return Err(http.into());
    }
    if let Some(err) = crate::error::envelope_error(raw.api(), &members) {
        return Err(err);
    }
    Err(raw
        .decode_error("the token answer has no access_token")
        .into())
}

/// The token of one client, shared by its clones: the access token's cache
/// and, for the password grant, the last refresh token.
pub(crate) struct Tokens {
    cache: TokenCache<Secret>,
    refresh_token: Mutex<Option<Secret>>,
}

impl Tokens {
    /// No token yet; a token is renewed `refresh_margin` before it expires.
    pub(crate) fn new(refresh_margin: Duration) -> Self {
        Self {
            cache: TokenCache::new(refresh_margin).for_system(crate::error::SYSTEM),
            refresh_token: Mutex::new(None),
        }
    }
}

impl Client {
    /// Fetches a token now (normally done lazily), e.g. to check credentials
    /// at start-up.
    pub async fn authenticate(&self) -> Result<()> {
        self.inner
            .tokens
            .cache
            .get(|| self.fetch_token())
            .await
            .map(|_| ())
    }

    async fn fetch_token(&self) -> Result<(Secret, Option<Duration>)> {
        let stored = self.lock_refresh().clone();
        if let (Some(refresh), Grant::Password { .. }) = (stored, &self.inner.credentials.grant) {
            match self.request_token(true, Some(&refresh)).await {
                Ok(token) => return Ok(token),
                Err(e) => tracing::debug!(error = %e, "refresh token refused; logging in again"),
            }
        }
        self.request_token(false, None).await
    }

    fn lock_refresh(&self) -> std::sync::MutexGuard<'_, Option<Secret>> {
        self.inner
            .tokens
            .refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    async fn request_token(
        &self,
        refresh: bool,
        refresh_token: Option<&Secret>,
    ) -> Result<(Secret, Option<Duration>)> {
        let creds = &self.inner.credentials;
        let (path, url) = if refresh {
            (REFRESH_TOKEN_PATH, self.url(REFRESH_TOKEN_PATH))
        } else {
            (ACCESS_TOKEN_PATH, self.url(ACCESS_TOKEN_PATH))
        };
        let answer = self
            .inner
            .transport
            .execute(
                path,
                |http| {
                    let request = http.post(&url);
                    Ok::<_, Error>(match refresh_token {
                        Some(token) => request.form(&creds.refresh_request(token)),
                        None => request.json(&creds.token_request()),
                    })
                },
                |raw| parse_token_answer(&raw),
            )
            .await?;
        if let Some(refresh) = &answer.refresh_token {
            *self.lock_refresh() = Some(refresh.clone());
        }
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let lifetime = token_lifetime(&answer, now);
        tracing::debug!(
            lifetime_s = lifetime.as_secs(),
            "fetched an OKKI access token"
        );
        Ok((answer.access_token, Some(lifetime)))
    }

    /// Runs `call` with the cached token (fetched first when missing or
    /// about to expire); when the call is answered with an expired token,
    /// fetches a new one once and runs `call` once more.
    pub(crate) async fn with_token<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.inner
            .tokens
            .cache
            .call(|| self.fetch_token(), call)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"typ":"JWT","alg":"RS256"}"#),
            e.encode(claims)
        )
    }

    #[test]
    fn vector_password_hash() {
        assert_eq!(
            hash_password("password"),
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
    }

    #[test]
    fn vector_jwt_float_claims_and_kept_expiry() {
        // Float iat/exp as in the official examples; exp − iat = 2218 s for a
        // re-fetched token that kept its first expiry.
        let token = jwt(
            r#"{"aud":"x","jti":"j","iat":1678949540.726401,"nbf":1678949540.726401,"exp":1678951758.726401,"sub":"","scopes":["company"]}"#,
        );
        assert_eq!(jwt_expiry(&token), Some(1678951758.726401));
        let answer = TokenAnswer {
            access_token: Secret::new(token),
            token_type: Some("Bearer".into()),
            expires_in: Some(28800),
            refresh_token: None,
        };
        let lifetime = token_lifetime(&answer, 1678949540.726401);
        assert_eq!(lifetime.as_secs(), 2218, "the JWT exp wins over expires_in");
        let plain = TokenAnswer {
            access_token: Secret::new("opaque"),
            ..answer.clone()
        };
        assert_eq!(token_lifetime(&plain, 0.0), Duration::from_secs(28800));
        let bare = TokenAnswer {
            expires_in: None,
            ..plain
        };
        assert_eq!(token_lifetime(&bare, 0.0), DEFAULT_TOKEN_LIFETIME);
    }

    #[test]
    fn token_requests_and_debug() {
        let c = Credentials::password(
            "efc1126d6",
            "dcc2228f1",
            ["company", "user"],
            "a@b.cn",
            "password",
        );
        let body = c.token_request();
        assert_eq!(body["grant_type"], "password");
        assert_eq!(body["scope"], "company user");
        assert_eq!(
            body["password"],
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
        );
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("dcc2228f1") && !debug.contains("5e884898"),
            "{debug}"
        );
        let c = Credentials::client_credentials("id", "s", scopes::TYPED.iter().copied());
        assert_eq!(c.token_request()["grant_type"], "client_credentials");
        assert_eq!(c.scope_param(), "company opportunity invoices user");
    }
}
