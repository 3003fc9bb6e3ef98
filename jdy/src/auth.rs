//! Signing (V2 `X-Api-*` headers and `app_signature`) and the cached
//! credentials of both API versions.
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

use base64::Engine as _;
use hmac::{Hmac, Mac};
use integration_core::Secret;
use serde::Deserialize;
use sha2::Sha256;

/// Value of the `X-Api-Auth-Version` header.
pub const AUTH_VERSION: &str = "2.0";
/// Value of the `X-Api-SignHeaders` header.
pub const SIGN_HEADERS: &str = "X-Api-TimeStamp,X-Api-Nonce";

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
