//! Authentication: the app signature of Kingdee's current official SDKs
//! (`X-Api-*` / `X-Kd-*` headers), the session logins of older deployments
//! (`ValidateUser`, `LoginByAppSecret`), the session cookie jar, and the
//! session's cache and renewal (log in lazily, once for all clones, and
//! again once when the service says the session is lost). The client's call
//! path only runs its calls inside the session this module keeps.
//!
//! The signing code is pure: [`sign`] turns credentials, the URL path and a
//! timestamp into the header values, and is pinned by the fact sheet's test
//! vectors.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use integration_core::Secret;
use integration_core::auth::TokenCache;
use integration_core::error::Failure;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::client::Client;
use crate::error::{Error, Result};

/// Prefix of the session login services.
pub const AUTH_SERVICE: &str = "Kingdee.BOS.WebApi.ServicesStub.AuthService";

/// The four 8-character blocks the official SDK concatenates (before ROT13)
/// into the key that decodes the secret part of an app id.
pub const DEFAULT_SECPWD: &str = "0054s397p6234378o09pn7q3r5qropr7";

/// The `X-Api-Auth-Version` the SDK sends.
pub const AUTH_VERSION: &str = "2.0";

/// The `x-api-signheaders` value the SDK sends.
pub const SIGN_HEADERS: &str = "x-api-timestamp,x-api-nonce";

/// Name of the session cookie (also sent as a header of the same name).
pub const SESSION_COOKIE: &str = "kdservice-sessionid";

/// Credentials of the app-signature mode (第三方系统登录授权), the default of the
/// current official SDKs.
#[derive(Clone)]
pub struct AppCredentials {
    /// Data centre id (账套ID), e.g. `62a1b2c3d4e5f6`.
    pub acct_id: String,
    /// The integration user's name.
    pub user_name: String,
    /// The app id, `<clientId>_<secretPart>`.
    pub app_id: String,
    /// The app secret.
    pub app_secret: Secret,
    /// Language id (2052 = simplified Chinese).
    pub lcid: u32,
    /// Organisation number (`0` = the user's default).
    pub org_num: String,
    /// A site-specific replacement for [`DEFAULT_SECPWD`] (`x-kdapi-secpwd`).
    pub secpwd: Option<Secret>,
}

impl AppCredentials {
    /// Credentials with `lcid` 2052 and organisation number `0`.
    pub fn new(
        acct_id: impl Into<String>,
        user_name: impl Into<String>,
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        Self {
            acct_id: acct_id.into(),
            user_name: user_name.into(),
            app_id: app_id.into(),
            app_secret: Secret::new(app_secret.into()),
            lcid: 2052,
            org_num: "0".to_owned(),
            secpwd: None,
        }
    }

    /// Sets the language id.
    pub fn lcid(mut self, lcid: u32) -> Self {
        self.lcid = lcid;
        self
    }

    /// Sets the organisation number.
    pub fn org_num(mut self, org_num: impl Into<String>) -> Self {
        self.org_num = org_num.into();
        self
    }

    /// Sets a site-specific `x-kdapi-secpwd`.
    pub fn secpwd(mut self, secpwd: impl Into<String>) -> Self {
        self.secpwd = Some(Secret::new(secpwd.into()));
        self
    }

    /// The client id: the part of the app id before the first `_`.
    pub fn client_id(&self) -> &str {
        self.app_id
            .split_once('_')
            .map_or(self.app_id.as_str(), |(id, _)| id)
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("acct_id", &self.acct_id)
            .field("user_name", &self.user_name)
            .field("app_id", &format_args!("{}_***", self.client_id()))
            .field("app_secret", &self.app_secret)
            .field("lcid", &self.lcid)
            .field("org_num", &self.org_num)
            .field("secpwd", &self.secpwd)
            .finish()
    }
}

/// How a [`crate::Client`] authenticates.
#[derive(Clone)]
pub enum Auth {
    /// App signature headers on every call (current official SDKs).
    AppSignature(AppCredentials),
    /// Session login with user name and password
    /// (`AuthService.ValidateUser`).
    Password {
        /// Data centre id (账套ID).
        acct_id: String,
        /// User name.
        user_name: String,
        /// Password.
        password: Secret,
        /// Language id (2052 = simplified Chinese).
        lcid: u32,
    },
    /// Session login with an app id and secret
    /// (`AuthService.LoginByAppSecret`).
    AppSecretLogin {
        /// Data centre id (账套ID).
        acct_id: String,
        /// User name.
        user_name: String,
        /// App id.
        app_id: String,
        /// App secret.
        app_secret: Secret,
        /// Language id (2052 = simplified Chinese).
        lcid: u32,
    },
}

impl Auth {
    /// Whether this mode logs in and then relies on the session cookie.
    pub fn is_session_login(&self) -> bool {
        !matches!(self, Auth::AppSignature(_))
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::AppSignature(c) => f.debug_tuple("AppSignature").field(c).finish(),
            Auth::Password {
                acct_id,
                user_name,
                lcid,
                ..
            } => f
                .debug_struct("Password")
                .field("acct_id", acct_id)
                .field("user_name", user_name)
                .field("password", &"***")
                .field("lcid", lcid)
                .finish(),
            Auth::AppSecretLogin {
                acct_id,
                user_name,
                lcid,
                ..
            } => f
                .debug_struct("AppSecretLogin")
                .field("acct_id", acct_id)
                .field("user_name", user_name)
                .field("app_id", &"***")
                .field("app_secret", &"***")
                .field("lcid", lcid)
                .finish(),
        }
    }
}

/// The header values of one app-signed request.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `X-Api-ClientID`.
    pub client_id: String,
    /// `X-Api-Auth-Version` (`2.0`).
    pub auth_version: &'static str,
    /// `x-api-timestamp` (unix seconds).
    pub timestamp: String,
    /// `x-api-nonce` (the SDK reuses the timestamp).
    pub nonce: String,
    /// `x-api-signheaders`.
    pub sign_headers: &'static str,
    /// `X-Api-Signature`.
    pub api_signature: String,
    /// `X-Kd-Appkey` (the whole app id).
    pub app_key: String,
    /// `X-Kd-Appdata`.
    pub app_data: String,
    /// `X-Kd-Signature`.
    pub kd_signature: String,
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("client_id", &self.client_id)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl SignedHeaders {
    /// The headers as (name, value) pairs, in the order the SDK sets them.
    pub fn pairs(&self) -> [(&'static str, &str); 9] {
        [
            ("X-Api-ClientID", &self.client_id),
            ("X-Api-Auth-Version", self.auth_version),
            ("x-api-timestamp", &self.timestamp),
            ("x-api-nonce", &self.nonce),
            ("x-api-signheaders", self.sign_headers),
            ("X-Api-Signature", &self.api_signature),
            ("X-Kd-Appkey", &self.app_key),
            ("X-Kd-Appdata", &self.app_data),
            ("X-Kd-Signature", &self.kd_signature),
        ]
    }
}

/// Signs one request the way Kingdee's official SDK (`BuildHeader`) does.
///
/// * `url_path` is the path of the request URL only (from the first `/`
///   after the host, e.g. `/k3cloud/Kingdee.BOS…BatchSave.common.kdsvc`).
/// * `timestamp` is unix seconds; the SDK uses it as the nonce too.
///
/// `X-Api-Signature = B64(hexlower(HMAC_SHA256(clientSecret, apiSign)))` with
/// `apiSign = "POST\n" + quote(path) + "\n\nx-api-nonce:" + nonce +
/// "\nx-api-timestamp:" + ts + "\n"` (path percent-encoded, `/` as `%2F`) and
/// `clientSecret` from [`derive_client_secret`];
/// `X-Kd-Appdata = B64(acct_id,user_name,lcid,org_num)` and
/// `X-Kd-Signature = B64(hexlower(HMAC_SHA256(app_secret, app_id + appData)))`.
pub fn sign(credentials: &AppCredentials, url_path: &str, timestamp: i64) -> SignedHeaders {
    let ts = timestamp.to_string();
    let secret_part = credentials.app_id.split_once('_').map_or("", |(_, s)| s);
    let client_secret =
        derive_client_secret(secret_part, credentials.secpwd.as_ref().map(Secret::expose));
    let api_sign = format!(
        "POST\n{}\n\nx-api-nonce:{ts}\nx-api-timestamp:{ts}\n",
        quote_path(url_path)
    );
    let app_data = format!(
        "{},{},{},{}",
        credentials.acct_id, credentials.user_name, credentials.lcid, credentials.org_num
    );
    let kd_message = format!("{}{}", credentials.app_id, app_data);
    SignedHeaders {
        client_id: credentials.client_id().to_owned(),
        auth_version: AUTH_VERSION,
        timestamp: ts.clone(),
        nonce: ts,
        sign_headers: SIGN_HEADERS,
        api_signature: hmac_hex_b64(client_secret.as_bytes(), api_sign.as_bytes()),
        app_key: credentials.app_id.clone(),
        app_data: B64.encode(app_data.as_bytes()),
        kd_signature: hmac_hex_b64(
            credentials.app_secret.expose().as_bytes(),
            kd_message.as_bytes(),
        ),
    }
}

/// `B64(hexlower(HMAC_SHA256(key, message)))`: the digest as lowercase hex
/// text, that text Base64-encoded (not the raw digest).
pub fn hmac_hex_b64(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(message);
    B64.encode(hex::encode(mac.finalize().into_bytes()).as_bytes())
}

#[cold]
fn unreachable_hmac() -> Hmac<Sha256> {
    // `new_from_slice` never fails for HMAC; keep a total function anyway.
    Hmac::<Sha256>::new_from_slice(b"").unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

/// The HMAC key of `X-Api-Signature`, derived from the secret part of the
/// app id exactly as the SDK's `encode_util` does: empty unless the part is
/// 32 characters; otherwise Base64-decode it, XOR it with the UTF-8 bytes of
/// ROT13(`secpwd`) ([`DEFAULT_SECPWD`] unless overridden), Base64-encode.
pub fn derive_client_secret(secret_part: &str, secpwd: Option<&str>) -> String {
    if secret_part.chars().count() != 32 {
        return String::new();
    }
    let Ok(data) = B64.decode(secret_part) else {
        return String::new();
    };
    let key: Vec<u8> = rot13(secpwd.unwrap_or(DEFAULT_SECPWD)).into_bytes();
    let mixed: Vec<u8> = data
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key.get(i % key.len().max(1)).copied().unwrap_or(0))
        .collect();
    B64.encode(mixed)
}

fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}

/// Python's `quote(path).replace('/', '%2F')`: every byte except
/// `A-Z a-z 0-9 _ . - ~` percent-encoded in upper-case hex.
pub fn quote_path(path: &str) -> String {
    let decoded = percent_decode(path);
    let mut out = String::with_capacity(decoded.len() * 3);
    for b in decoded {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The cookies the server set, sent back on every call, shared by clones of
/// a client.
#[derive(Default, Clone)]
pub(crate) struct CookieJar {
    cookies: BTreeMap<String, String>,
}

impl CookieJar {
    /// Stores the `name=value` of each `Set-Cookie` header.
    pub(crate) fn store<'a>(&mut self, set_cookies: impl Iterator<Item = &'a str>) {
        for line in set_cookies {
            let pair = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let name = name.trim();
                if name.is_empty() {
                    continue;
                }
                self.cookies
                    .insert(name.to_owned(), value.trim().to_owned());
            }
        }
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub(crate) fn clear(&mut self) {
        self.cookies.clear();
    }

    /// The session id, once the server has set one.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.cookies.get(SESSION_COOKIE).map(String::as_str)
    }

    /// The `Cookie` header: `Theme=standard;` and every stored cookie.
    pub(crate) fn header(&self) -> String {
        let mut header = String::from("Theme=standard;");
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|(name, _)| name.as_str() != "Theme")
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        header.push_str(&pairs.join(";"));
        header
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.cookies.keys()).finish()
    }
}

/// The session of one client, shared by its clones: the cookies the server
/// set (the session cookie among them) and the cache that logs in once.
pub(crate) struct Session {
    cache: TokenCache<()>,
    cookies: Mutex<CookieJar>,
}

impl Session {
    /// Not logged in, no cookies. A session has no announced lifetime: it is
    /// kept until the service says it is lost.
    pub(crate) fn new() -> Self {
        Self {
            cache: TokenCache::new(Duration::ZERO).for_system(crate::error::SYSTEM),
            cookies: Mutex::new(CookieJar::default()),
        }
    }
}

impl Client {
    /// Runs `call` within the session. Session modes log in first (once for
    /// all clones) and, when the service says the session is lost, log in
    /// again once and run `call` once more; the app-signature mode drops
    /// the cookies and runs `call` once more.
    pub(crate) async fn with_session<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.inner.auth.is_session_login() {
            self.inner
                .session
                .cache
                .call(|| self.login(), |()| call())
                .await
        } else {
            match call().await {
                Err(e) if e.is_session_lost() => {
                    tracing::debug!("session lost; dropping cookies and signing again");
                    self.cookies().clear();
                    call().await
                }
                other => other,
            }
        }
    }

    /// The client's cookie jar (the session cookie among them).
    pub(crate) fn cookies(&self) -> MutexGuard<'_, CookieJar> {
        self.inner
            .session
            .cookies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Logs in (session modes) and keeps the session cookie.
    async fn login(&self) -> Result<((), Option<Duration>)> {
        let (op, body) = match &self.inner.auth {
            Auth::AppSignature(_) => return Ok(((), None)),
            Auth::Password {
                acct_id,
                user_name,
                password,
                lcid,
            } => (
                "ValidateUser",
                json!({"acctID": acct_id, "username": user_name, "password": password.expose(), "lcid": lcid}),
            ),
            Auth::AppSecretLogin {
                acct_id,
                user_name,
                app_id,
                app_secret,
                lcid,
            } => (
                "LoginByAppSecret",
                json!({"acctid": acct_id, "username": user_name, "appid": app_id, "appsecret": app_secret.expose(), "lcid": lcid}),
            ),
        };
        self.cookies().clear();
        let service = format!("{AUTH_SERVICE}.{op}");
        let answer = self.post(&service, &body).await?;
        let result_type = answer.get("LoginResultType").and_then(Value::as_i64);
        if result_type != Some(1) {
            let message = answer
                .get("Message")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .unwrap_or("login refused")
                .to_owned();
            // Not a MsgCode: the login's result type goes into the message.
            let result_type = result_type.map_or_else(|| "none".to_owned(), |t| t.to_string());
            let message = integration_core::secret::redact_text(&message);
            let message = format!("{message} (LoginResultType {result_type})");
            return Err(Error::Auth(Failure::new(op, message)));
        }
        let mut jar = self.cookies();
        if jar.session_id().is_none()
            && let Some(sid) = answer.get("KDSVCSessionId").and_then(Value::as_str)
        {
            jar.set(SESSION_COOKIE, sid);
        }
        if jar.session_id().is_none() && jar.header() == "Theme=standard;" {
            let message = "login succeeded but the service set no session cookie";
            return Err(Error::Auth(Failure::new(op, message)));
        }
        tracing::debug!(op, "logged in");
        Ok(((), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(url: &str) -> String {
        url::Url::parse(url).unwrap().path().to_owned()
    }

    #[test]
    fn vector_1() {
        let c = AppCredentials::new(
            "62a1b2c3d4e5f6",
            "demo",
            "224466_T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq",
            "b3f1c0e5a8d94e6f9c2b7a1d0e3f4a5b",
        );
        assert_eq!(
            derive_client_secret("T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq", None),
            "f/c31f+/678+d929i746af0449f34DfZ"
        );
        let url = "http://127.0.0.1:8090/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave.common.kdsvc";
        let h = sign(&c, &path_of(url), 1_700_000_000);
        assert_eq!(h.client_id, "224466");
        assert_eq!(h.timestamp, "1700000000");
        assert_eq!(h.nonce, "1700000000");
        assert_eq!(
            h.api_signature,
            "NjI5MzRjMzRmNzFlZDY1ODA4ZTc0MzljZjE1YWNkMjExYjBhYjU5ZGQ0YTkyNmI2NGYxOTMwOWIzODMzOGNlNQ=="
        );
        assert_eq!(h.app_data, "NjJhMWIyYzNkNGU1ZjYsZGVtbywyMDUyLDA=");
        assert_eq!(
            h.kd_signature,
            "N2RjMjYwNjkyZDYzNDk3ZDc5Mzk4OTBmNjY2NDIzYWNiOTJkNDU3ZTg5ODc1NTJiMTFiY2I5OTczMDVjZWQzZA=="
        );
        assert_eq!(h.app_key, "224466_T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq");
    }

    #[test]
    fn vector_2() {
        let c = AppCredentials::new(
            "65f0a1b2c3d4e5",
            "Administrator",
            "305577_Wb8qKv2nXyZ3aB4cD5eF6gH7iJ8kL9mN",
            "0123456789abcdef0123456789abcdef",
        )
        .org_num("100");
        assert_eq!(
            derive_client_secret("Wb8qKv2nXyZ3aB4cD5eF6gH7iJ8kL9mN", None),
            "aY8fHpuUZhEUXiwvO6Sy0mPLsfxFGL2+"
        );
        let url = "https://k3.example.com/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc";
        let h = sign(&c, &path_of(url), 1_732_406_400);
        assert_eq!(
            h.api_signature,
            "OWRiZDU5MTY4MDg2NTQxN2ZkMjJkZDA3YWUxZmUzN2Q5Mjk1MjMwOTFmNTAxZWNhYWQxYWEwMjIxY2IwYWM2OA=="
        );
        assert_eq!(
            h.app_data,
            "NjVmMGExYjJjM2Q0ZTUsQWRtaW5pc3RyYXRvciwyMDUyLDEwMA=="
        );
        assert_eq!(
            h.kd_signature,
            "MmY1NDZiZWE0MTRmZjZjYmI0MTNiM2Q0OTUyZDNhOWUxN2JmN2Y1OGQ4NWVkMGUzYTQ2YjdlMjMyOGMxYTk3ZQ=="
        );
    }

    #[test]
    fn short_secret_part_gives_empty_client_secret() {
        assert_eq!(derive_client_secret("abc", None), "");
        assert_eq!(derive_client_secret("", None), "");
    }

    #[test]
    fn path_quoting_matches_python() {
        assert_eq!(quote_path("/k3cloud/A.B"), "%2Fk3cloud%2FA.B");
        assert_eq!(quote_path("/a b/%E9%87%91"), "%2Fa%20b%2F%E9%87%91");
    }

    #[test]
    fn debug_hides_secrets() {
        let c = AppCredentials::new("acct", "u", "1_SECRETPARTSECRETPART", "TOPSECRET");
        let text = format!("{:?}", Auth::AppSignature(c));
        assert!(
            !text.contains("TOPSECRET") && !text.contains("SECRETPART"),
            "{text}"
        );
    }

    #[test]
    fn cookie_jar_keeps_set_cookies() {
        let mut jar = CookieJar::default();
        jar.store(
            [
                "kdservice-sessionid=abc; path=/; HttpOnly",
                "ASP.NET_SessionId=x; path=/",
            ]
            .into_iter(),
        );
        assert_eq!(jar.session_id(), Some("abc"));
        assert_eq!(
            jar.header(),
            "Theme=standard;ASP.NET_SessionId=x;kdservice-sessionid=abc"
        );
    }
}
