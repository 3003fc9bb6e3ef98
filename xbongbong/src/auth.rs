//! Request signing, the choice of the signing token, and the personal
//! token's exchange, cache and refresh: the one place that decides which
//! secret signs a call.
//!
//! xbongbong has no login call: every request carries `corpid` in its JSON
//! body and a `sign` header, `lowercase_hex(SHA-256(body_text ++ token))`,
//! computed over the exact bytes sent. The token itself never goes on the
//! wire. The token is either the company API token (admin page
//! "API token") or a personal token (`user_…`) obtained with
//! `user/generateToken`; both sign the same way. The personal token is
//! fetched lazily, shared by the client's clones, and fetched again once
//! when a call is rejected as unauthorised.

use std::future::Future;
use std::time::Duration;

use integration_core::Secret;
use integration_core::auth::TokenCache;
use integration_core::error::Failure;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::error::{Error, Result};

/// The name of the signature header.
pub const SIGN_HEADER: &str = "sign";

/// Signs a request (or a webhook) body: `lowercase_hex(SHA-256(body ++ token))`.
///
/// `body` must be the exact bytes sent as the HTTP body (whitespace and key
/// order matter); `token` is the company API token, a personal `user_` token,
/// or, for webhooks, the webhook token. No separator, no sorting, no
/// timestamp. The result is always 64 lowercase hex characters (leading
/// zeros kept).
///
/// ```
/// let sign = xbongbong::auth::sign(br#"{"corpid":"ding-test"}"#, "0123456789abcdef0123456789abcdef");
/// assert_eq!(sign, "5623123ea97758823f7a4da9ec4ff9a22451cf25702209bc273b1173e68eb61f");
/// ```
pub fn sign(body: &[u8], token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(body);
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Checks the `sign` header of a webhook delivery against its raw body and
/// the webhook token (a separate secret from the API token). Hashing the raw
/// body is used rather than re-serialising the payload. Upper-case hex is
/// accepted too; the comparison does not stop at the first difference.
pub fn verify_webhook(raw_body: &[u8], sign_header: &str, webhook_token: &Secret) -> bool {
    let expected = sign(raw_body, webhook_token.expose());
    let given = sign_header.trim().to_ascii_lowercase();
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Which token signs the calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenMode {
    /// Sign with the company API token as given (the default).
    Company,
    /// Exchange the company token once for the operator's personal token
    /// (`user/generateToken` with `resetToken: 0`, for `checkUserId` = the
    /// configured user id) and sign every other call with it. When a call is
    /// rejected as unauthorised the personal token is fetched again once and
    /// the call repeated once (the token may have been reset by an admin).
    Personal,
}

/// The personal token of one client ([`TokenMode::Personal`]), shared by
/// its clones; unused in [`TokenMode::Company`].
pub(crate) struct Tokens {
    personal: TokenCache<Secret>,
}

impl Tokens {
    /// No token yet. A personal token has no announced lifetime: it is kept
    /// until a call is rejected as unauthorised.
    pub(crate) fn new() -> Self {
        Self {
            personal: TokenCache::new(Duration::from_secs(0)).for_system(crate::error::SYSTEM),
        }
    }
}

impl Client {
    /// Runs `call` with the token that signs it: the company token as
    /// configured, or the personal token (exchanged first when missing; when
    /// the call is rejected as unauthorised, exchanged again once and `call`
    /// run once more).
    pub(crate) async fn with_token<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match self.inner.mode {
            TokenMode::Company => call(self.inner.token.clone()).await,
            TokenMode::Personal => {
                let this = self.clone();
                self.inner
                    .tokens
                    .personal
                    .call(
                        || {
                            let this = this.clone();
                            async move { this.fetch_personal_token().await.map(|t| (t, None)) }
                        },
                        call,
                    )
                    .await
            }
        }
    }

    /// Exchanges the company token for the operator's personal token
    /// (`user/generateToken`, `resetToken: 0`; when none exists yet, once
    /// more with `resetToken: 1`).
    async fn fetch_personal_token(&self) -> Result<Secret> {
        let user = self.inner.user_id.clone().unwrap_or_default();
        for reset in [0, 1] {
            let mut body = Map::new();
            body.insert("resetToken".into(), reset.into());
            body.insert("checkUserId".into(), Value::String(user.clone()));
            let api = "user/generateToken";
            let token = self
                .send(api, &self.body_text(&body), &self.inner.token, |v| {
                    let text = match &v {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(m) => m
                            .get("personalToken")
                            .or_else(|| m.get("token"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        _ => None,
                    };
                    text.ok_or_else(|| "no personal token in the answer".to_owned())
                })
                .await?;
            if !token.is_empty() {
                return Ok(Secret::new(token));
            }
        }
        Err(Error::Auth(Failure::new(
            "user/generateToken",
            "the API returned an empty personal token",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The six vectors of the fact sheet, byte for byte.
    #[test]
    fn fact_sheet_vector_1_list_body() {
        assert_eq!(
            sign(
                br#"{"corpid":"ding-test","formId":572924,"page":1,"pageSize":20}"#,
                "test-token"
            ),
            "61a814fa7db18f074e7335ecf3c143556a0288940e8a736a0b7ed42e388a25a6"
        );
    }

    #[test]
    fn fact_sheet_vector_2_utf8_chinese_body() {
        let body = r#"{"corpid":"ding-test","formId":572924,"userId":"config-user-id","dataList":{"text_1":"测试客户"}}"#;
        assert_eq!(body.len(), 101);
        assert_eq!(
            sign(body.as_bytes(), "test-token"),
            "e7875a4b965fcc8fd4be419360e4664025b3ad86b78aa1b3fbf9be6f29c8b72a"
        );
    }

    #[test]
    fn fact_sheet_vector_3_hex_token() {
        assert_eq!(
            sign(
                br#"{"corpid":"ding-test"}"#,
                "0123456789abcdef0123456789abcdef"
            ),
            "5623123ea97758823f7a4da9ec4ff9a22451cf25702209bc273b1173e68eb61f"
        );
    }

    #[test]
    fn fact_sheet_vector_4_conditions() {
        let body = r#"{"corpid":"ding-test","formId":572924,"conditions":[{"attr":"text_1","symbol":"equal","value":["apiTest.001"]}],"page":1,"pageSize":100}"#;
        assert_eq!(
            sign(body.as_bytes(), "test-token"),
            "f9df82df299ddbb54033c77d8db64fcf7528b78af7933dc1b5c5ff2eba880dd1"
        );
    }

    #[test]
    fn fact_sheet_vector_5_whitespace_matters() {
        let spaced = sign(br#"{"corpid":"ding-test", "formId":572924}"#, "test-token");
        assert_eq!(
            spaced,
            "49e5fc5ccbbf6e20d9bff50232ceee57421ea9dc8f6988a3a1ec62a884d2f7bc"
        );
        assert_ne!(
            spaced,
            sign(br#"{"corpid":"ding-test","formId":572924}"#, "test-token")
        );
    }

    #[test]
    fn fact_sheet_vector_6_webhook() {
        let body = br#"{"formId":123,"operate":"new","corpid":"ding-test","dataId":456,"type":"customer","saasMark":1}"#;
        let expected = "8d8d8e604ea5ba122f91042ea60313011b1d4648e39a95529fe47d1a65f48d3a";
        assert_eq!(sign(body, "webhook-token"), expected);
        let token = Secret::new("webhook-token");
        assert!(verify_webhook(body, expected, &token));
        assert!(verify_webhook(body, &expected.to_uppercase(), &token));
        assert!(!verify_webhook(body, &expected[..63], &token));
        assert!(!verify_webhook(&body[1..], expected, &token));
    }

    #[test]
    fn hex_is_always_64_lowercase_chars() {
        for i in 0..200 {
            let s = sign(format!("{{\"n\":{i}}}").as_bytes(), "t");
            assert_eq!(s.len(), 64);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }
}
