//! The self-built-app access token: signing, fetching, caching and
//! refreshing. This module is the one place that requests, caches and
//! renews the token; the client's call path only asks it for a token per
//! business call.
//!
//! A token is fetched with
//! `GET {tokenUrl}/open-auth/selfAppAuth/base/v1/getAccessToken?appKey=…&timestamp=…&signature=…`
//! ([`TOKEN_PATH`]; the older [`LEGACY_TOKEN_PATH`] is one builder setting
//! away) where the signature is [`signature`]. It is cached in an
//! [`integration_core::auth::TokenCache`] shared by every clone of the
//! client, replaced a few minutes before the `expire` the service announced,
//! and fetched again once when a business call answers that it expired.

use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use integration_core::auth::TokenCache;
use integration_core::error::Failure;
use integration_core::{Secret, lenient};
use sha2::Sha256;

use crate::assumed;
use crate::client::Client;
use crate::error::{self, Error, Result, as_auth_failure};

/// Path of the token call under the token base URL: the one YonBIP's
/// documentation names since 2023-07-21 (corrected 2026-12; same parameters
/// and answer as [`LEGACY_TOKEN_PATH`]). Change it with
/// [`crate::ClientBuilder::token_path`].
pub const TOKEN_PATH: &str = "/open-auth/selfAppAuth/base/v1/getAccessToken";

/// The older path of the token call (High), still shown by the
/// documentation; for deployments that do not serve [`TOKEN_PATH`].
pub const LEGACY_TOKEN_PATH: &str = "/open-auth/selfAppAuth/getAccessToken";

/// The signature of a token request, Base64 text (not yet URL-encoded).
///
/// `Base64( HMAC-SHA256( key = app_secret, msg = "appKey" + app_key + "timestamp" + timestamp_ms ) )`,
/// the raw 32-byte digest Base64-encoded with the standard alphabet and
/// padding. `timestamp_ms` is unix milliseconds, the same value sent as the
/// `timestamp` parameter. In the query string the value is URL-encoded
/// ([`encode_query_value`]) so `+`, `/` and `=` survive.
///
/// ```
/// let sig = yonbip::auth::signature("demoAppKey", "demoSecret", 1732406400123);
/// assert_eq!(sig, "VBF/JIAIB8xhbHPZXSH60eEzSx7JZhPLxzktZFYFCZo=");
/// assert_eq!(yonbip::auth::encode_query_value(&sig), "VBF%2FJIAIB8xhbHPZXSH60eEzSx7JZhPLxzktZFYFCZo%3D");
/// ```
pub fn signature(app_key: &str, app_secret: &str, timestamp_ms: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(b"appKey");
    mac.update(app_key.as_bytes());
    mac.update(b"timestamp");
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Percent-encodes a query parameter value: everything but the unreserved
/// characters `A-Z a-z 0-9 - . _ ~` becomes `%XX` (so `+` is `%2B`, `/` is
/// `%2F`, `=` is `%3D`).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The query string of a token request (`appKey=…&timestamp=…&signature=…`),
/// every value encoded with [`encode_query_value`].
pub fn token_query(app_key: &str, app_secret: &str, timestamp_ms: i64) -> String {
    format!(
        "appKey={}&timestamp={}&signature={}",
        encode_query_value(app_key),
        timestamp_ms,
        encode_query_value(&signature(app_key, app_secret, timestamp_ms))
    )
}

/// The access token of one client, shared by its clones.
pub(crate) struct Tokens {
    cache: TokenCache<Secret>,
}

impl Tokens {
    /// No token yet; a token is replaced `refresh_margin` before its
    /// announced expiry.
    pub(crate) fn new(refresh_margin: Duration) -> Self {
        Self {
            cache: TokenCache::new(refresh_margin).for_system(crate::error::SYSTEM),
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenData {
    access_token: Option<Secret>,
    /// Seconds; junk is an error, not the default lifetime.
    #[serde(default, deserialize_with = "crate::types::opt_count")]
    expire: Option<u64>,
}

impl Client {
    /// Fetches a new access token (ignoring the cache) and how long it is
    /// valid. Normal calls never need this: tokens are managed automatically.
    pub async fn fetch_access_token(&self) -> Result<(Secret, Duration)> {
        let endpoints = self.endpoints().await?;
        let api = "getAccessToken";
        let base = format!("{}{}", endpoints.token_url, self.inner.token_path);
        let inner = &self.inner;
        let data = inner
            .transport
            .execute(
                api,
                |http| {
                    // A fresh timestamp and signature for every attempt.
                    let timestamp = chrono::Utc::now().timestamp_millis();
                    let query = token_query(&inner.app_key, inner.app_secret.expose(), timestamp);
                    Ok::<_, Error>(http.get(format!("{base}?{query}")))
                },
                |raw| {
                    error::decode_envelope(api, &raw, assumed::AUTH_SUCCESS_CODE)
                        .map_err(as_auth_failure)
                },
            )
            .await?;
        let token: TokenData = lenient::decode(data).map_err(|e| {
            Error::Auth(Failure::new(
                api,
                format!("the token answer is not understood ({e})"),
            ))
        })?;
        let access_token = token
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::Auth(Failure::new(api, "the token answer has no access_token"))
            })?;
        let expire = token.expire.unwrap_or(assumed::DEFAULT_TOKEN_LIFETIME_SECS);
        Ok((access_token, Duration::from_secs(expire)))
    }

    /// Runs `call` with the cached token (fetched first when missing or
    /// about to expire); on a token-expired answer fetches a new token once
    /// and runs `call` once more.
    pub(crate) async fn with_token<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.inner
            .tokens
            .cache
            .call(
                || async {
                    let (token, valid_for) = self.fetch_access_token().await?;
                    Ok((token, Some(valid_for)))
                },
                call,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_1_base64_and_query() {
        let sig = signature(
            "41e6b3b5a0e24cd6a0e2d4f1c4b7d0a9",
            "7c9d5a1f0e8b4c3a9f2e6d1b5a8c7e4f",
            1_700_000_000_000,
        );
        assert_eq!(sig, "aJEH052IQ8JrlmZEBMsc00KzPxhr+SCDmY1X++YGoto=");
        assert_eq!(
            encode_query_value(&sig),
            "aJEH052IQ8JrlmZEBMsc00KzPxhr%2BSCDmY1X%2B%2BYGoto%3D"
        );
    }

    #[test]
    fn vector_2_base64_and_query() {
        let sig = signature("demoAppKey", "demoSecret", 1_732_406_400_123);
        assert_eq!(sig, "VBF/JIAIB8xhbHPZXSH60eEzSx7JZhPLxzktZFYFCZo=");
        assert_eq!(
            encode_query_value(&sig),
            "VBF%2FJIAIB8xhbHPZXSH60eEzSx7JZhPLxzktZFYFCZo%3D"
        );
    }

    #[test]
    fn token_query_carries_the_encoded_signature() {
        assert_eq!(
            token_query("demoAppKey", "demoSecret", 1_732_406_400_123),
            "appKey=demoAppKey&timestamp=1732406400123&signature=VBF%2FJIAIB8xhbHPZXSH60eEzSx7JZhPLxzktZFYFCZo%3D"
        );
    }

    #[test]
    fn encoding_keeps_unreserved_and_escapes_utf8() {
        assert_eq!(encode_query_value("aZ09-._~"), "aZ09-._~");
        assert_eq!(encode_query_value("a b+用"), "a%20b%2B%E7%94%A8");
    }
}
