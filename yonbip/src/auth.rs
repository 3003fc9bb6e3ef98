//! The self-built-app access token: signing, fetching and caching.
//!
//! A token is fetched with
//! `GET {tokenUrl}/open-auth/selfAppAuth/base/v1/getAccessToken?appKey=…&timestamp=…&signature=…`
//! ([`TOKEN_PATH`]; the older [`LEGACY_TOKEN_PATH`] is one builder setting
//! away) where the signature is [`signature`]. It is cached in an
//! [`integration_core::auth::TokenCache`] shared by every clone of the
//! client, replaced a few minutes before the `expire` the service announced,
//! and fetched again once when a business call answers that it expired.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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
