//! [`Client`] and [`ClientBuilder`].

use std::sync::Arc;
use std::time::Duration;

use bytes_body::Body;
use integration_core::envelope::Envelope;
use integration_core::lenient;
use integration_core::transport::RawResponse;
use integration_core::{ClientSettings, RateLimit, Retry, Transport};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Credentials, HEADER_EID};
use crate::customer::Customers;
use crate::error::{CODE_SUCCESS, Error, SYSTEM};
use crate::trade::{PagePlacement, Trades};

/// The real service: `https://huke.163.com/openapi`.
pub const DEFAULT_BASE_URL: &str = "https://huke.163.com/openapi";

/// The largest `pageSize` sent (ASSUMED; Huke publishes no maximum).
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 100;

/// A Huke open-API client.
///
/// Cheap to clone (an `Arc`); clones share the connection pool and the rate
/// limiter and can be used from many tasks at once. `Debug` never shows the
/// app secret.
///
/// ```
/// use netease_huke::Client;
/// let client = Client::builder().app_key("a1b2c3d4e5f60718293a4b5c6d7e8f90").app_secret("s3cret").build()?;
/// assert!(!format!("{client:?}").contains("s3cret"));
/// # Ok::<(), netease_huke::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: String,
    credentials: Credentials,
    eid: Option<String>,
    transport: Transport,
    page_placement: PagePlacement,
    max_page_size: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("credentials", &self.inner.credentials)
            .field("eid", &self.inner.eid)
            .field("page_placement", &self.inner.page_placement)
            .field("max_page_size", &self.inner.max_page_size)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

/// Builds a [`Client`]; see [`Client::builder`]. The shared settings
/// (`base_url`, `timeout`, `rate_limit`, `retry`, ...) are set as on every
/// connector's builder ([`ClientSettings`]); the defaults are the real
/// service ([`DEFAULT_BASE_URL`], the API root including `/openapi`), a
/// 30 s timeout and 5 requests/s (burst 5), since Huke publishes no limit.
#[derive(Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    app_key: Option<String>,
    app_secret: Option<integration_core::Secret>,
    eid: Option<String>,
    page_placement: PagePlacement,
    max_page_size: u32,
}

/// By hand: the app key is masked (it is half of the credentials).
impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("settings", &self.settings)
            .field(
                "app_key",
                &self.app_key.as_deref().map(crate::auth::mask_key),
            )
            .field("app_secret", &self.app_secret)
            .field("eid", &self.eid)
            .field("page_placement", &self.page_placement)
            .field("max_page_size", &self.max_page_size)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let mut settings = ClientSettings::with_timeout(Some(Duration::from_secs(30)));
        settings.rate_limit = Some(RateLimit::new(5, 5));
        Self {
            settings,
            app_key: None,
            app_secret: None,
            eid: None,
            page_placement: PagePlacement::default(),
            max_page_size: DEFAULT_MAX_PAGE_SIZE,
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The app key (`ur-appkey`).
    pub fn app_key(mut self, key: impl Into<String>) -> Self {
        self.app_key = Some(key.into());
        self
    }

    /// The app secret (only used to derive the AES key; never sent).
    pub fn app_secret(mut self, secret: impl Into<integration_core::Secret>) -> Self {
        self.app_secret = Some(secret.into());
        self
    }

    /// Both halves of the credentials at once.
    pub fn credentials(self, credentials: Credentials) -> Self {
        let secret = credentials.app_secret().clone();
        self.app_key(credentials.app_key()).app_secret(secret)
    }

    /// Sends the optional `eid` header on every call (its meaning is
    /// unknown; one public integration sends it).
    pub fn eid(mut self, eid: impl Into<String>) -> Self {
        self.eid = Some(eid.into());
        self
    }

    /// Where `searchTrades` paging parameters are sent (default
    /// [`PagePlacement::Both`]).
    pub fn page_placement(mut self, placement: PagePlacement) -> Self {
        self.page_placement = placement;
        self
    }

    /// The largest page size sent; larger requested sizes are clamped
    /// (default [`DEFAULT_MAX_PAGE_SIZE`]).
    pub fn max_page_size(mut self, max: u32) -> Self {
        self.max_page_size = max.max(1);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let app_key = self.app_key.filter(|k| !k.trim().is_empty());
        let secret = self.app_secret.filter(|s| !s.is_empty());
        let (Some(app_key), Some(secret)) = (app_key, secret) else {
            return Err(Error::invalid_request(
                "client",
                "an app key and an app secret are required",
            ));
        };
        let base_url = self
            .settings
            .base_url_or(SYSTEM, DEFAULT_BASE_URL)
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let transport = self.settings.transport(SYSTEM)?;
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                credentials: Credentials::new(app_key, secret),
                eid: self.eid,
                transport,
                page_placement: self.page_placement,
                max_page_size: self.max_page_size,
            }),
        })
    }
}

impl Client {
    /// A builder; only the app key and secret are required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API root this client calls.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Trades (`trade/*`).
    pub fn trades(&self) -> Trades {
        Trades::new(self.clone())
    }

    /// Customers (`customer/*`).
    pub fn customers(&self) -> Customers {
        Customers::new(self.clone())
    }

    pub(crate) fn page_placement(&self) -> PagePlacement {
        self.inner.page_placement
    }

    pub(crate) fn max_page_size(&self) -> u32 {
        self.inner.max_page_size
    }

    /// Calls any endpoint with a JSON body and returns the envelope's `data`.
    ///
    /// `api` is `module/action` (e.g. `customer/fields`; a leading
    /// `openapi/` as written in Huke's docs is accepted). The call is signed,
    /// rate limited, retried and decoded like the typed ones; `Null` is sent
    /// as `{}`.
    pub async fn call_raw(&self, api: &str, body: Value) -> Result<Value, Error> {
        let body = if body.is_null() {
            Value::Object(Default::default())
        } else {
            body
        };
        self.call(api, &body).await
    }

    /// Serialises `body` once, signs those bytes, POSTs them and returns
    /// `data` as it came; callers decode it by moving it (decoding through
    /// `Deserialize` from a borrowed `Value` would copy every page).
    pub(crate) async fn call(&self, api: &str, body: &impl Serialize) -> Result<Value, Error> {
        let (api, url) = self.endpoint(api)?;
        let bytes = serde_json::to_vec(body).map_err(|e| {
            Error::invalid_request(&api, format!("cannot serialise the request body: {e}"))
        })?;
        self.post(&api, &url, Body::from(bytes)).await
    }

    /// The API name (`module/action`) and its URL.
    fn endpoint(&self, api: &str) -> Result<(String, String), Error> {
        let mut path = api.trim().trim_start_matches('/');
        if self.inner.base_url.ends_with("/openapi") {
            path = path.strip_prefix("openapi/").unwrap_or(path);
        }
        let valid = !path.is_empty()
            && !path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'));
        if !valid {
            return Err(Error::invalid_request(
                api,
                format!("invalid API path {api:?}"),
            ));
        }
        Ok((path.to_owned(), format!("{}/{path}", self.inner.base_url)))
    }

    /// One signed POST with retries; on a stale-timestamp answer it signs
    /// again with a fresh `ur-curtime` and tries once more.
    async fn post(&self, api: &str, url: &str, body: Body) -> Result<Value, Error> {
        match self.post_once(api, url, &body).await {
            Err(e) if e.is_auth_expired() => {
                tracing::debug!(api, "signature timestamp rejected; signing again");
                self.post_once(api, url, &body).await
            }
            other => other,
        }
    }

    async fn post_once(&self, api: &str, url: &str, body: &Body) -> Result<Value, Error> {
        let inner = &self.inner;
        inner
            .transport
            .execute(
                api,
                |http| {
                    // Fresh curtime (and so checksum) on every attempt.
                    let now = chrono::Utc::now().timestamp();
                    let signed = inner.credentials.sign(body.as_ref(), now);
                    let mut request = http
                        .post(url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(reqwest::header::ACCEPT, "application/json");
                    for (name, value) in signed.pairs() {
                        request = request.header(name, value);
                    }
                    if let Some(eid) = &inner.eid {
                        request = request.header(HEADER_EID, eid);
                    }
                    Ok::<_, Error>(request.body(body.to_vec()))
                },
                |raw| decode_envelope(api, &raw),
            )
            .await
    }
}

/// Decodes Huke's `{code, msg, data}` envelope: `data` on `code == 200`,
/// the classified error otherwise. Never panics on any body. The body and
/// the message are read by [`Envelope::read`]; Huke's own are the order (an
/// HTTP error status first), the integer code and its classification.
pub fn decode_envelope(api: &str, raw: &RawResponse) -> Result<Value, Error> {
    if let Some(e) = raw.http_error() {
        return Err(e.into());
    }
    let mut envelope = Envelope::read(raw, &["code"], &["msg", "message"])?;
    // The code must be an integer, read leniently (`200`, `"200"`, `200.0`):
    // a core `Code` is text and would keep `200.0` as it came.
    let Some(Ok(Some(code))) = envelope.members.get("code").map(lenient::opt_i64) else {
        return Err(raw.decode_error("the answer has no integer `code`").into());
    };
    if code == CODE_SUCCESS {
        return Ok(envelope.take("data"));
    }
    Err(Error::from_envelope(
        api,
        code,
        envelope.message,
        raw.retry_after(),
    ))
}

/// `data` into a typed value, or a decode error naming the field, with a
/// redacted excerpt.
pub(crate) fn decode_data<T: DeserializeOwned>(api: &str, data: Value) -> Result<T, Error> {
    let text = data.to_string();
    lenient::decode(data).map_err(|e| {
        integration_core::Error::decode(
            SYSTEM,
            api,
            format!("unexpected `data` shape ({e})"),
            text.as_bytes(),
        )
        .into()
    })
}

/// The request body bytes, shared by every attempt of one call.
mod bytes_body {
    use std::sync::Arc;

    #[derive(Clone)]
    pub(super) struct Body(Arc<[u8]>);

    impl From<Vec<u8>> for Body {
        fn from(bytes: Vec<u8>) -> Self {
            Self(bytes.into())
        }
    }

    impl AsRef<[u8]> for Body {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }

    impl Body {
        pub(super) fn to_vec(&self) -> Vec<u8> {
            self.0.to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use integration_core::ErrorKind;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            SYSTEM,
            "t",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn hostile_bodies_are_decode_errors() {
        for body in [
            "",
            "  ",
            "<html>502</html>",
            "{\"code\":200,\"data\":[1,",
            "[1,2]",
            "{\"msg\":\"no code\"}",
            "null",
        ] {
            let e = decode_envelope("t", &raw(200, body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Decode, "{body:?}: {e}");
        }
        let e = decode_envelope("t", &raw(502, "<html>bad gateway</html>")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::HttpStatus);
        assert!(e.is_retryable());
    }

    #[test]
    fn envelope_success_and_errors() {
        assert_eq!(
            decode_envelope(
                "t",
                &raw(200, r#"{"code":200,"msg":"success","data":{"a":1}}"#)
            )
            .unwrap()["a"],
            1
        );
        assert_eq!(
            decode_envelope("t", &raw(200, r#"{"code":"200","msg":"ok"}"#)).unwrap(),
            Value::Null
        );
        let e = decode_envelope(
            "t",
            &raw(200, r#"{"code":1011,"msg":"客户已存在","data":null}"#),
        )
        .unwrap_err();
        assert!(e.is_duplicate());
        assert_eq!(e.message(), "客户已存在");
    }

    #[test]
    fn endpoint_paths() {
        let c = Client::builder()
            .app_key("k123456789")
            .app_secret("s")
            .build()
            .unwrap();
        assert_eq!(
            c.endpoint("openapi/trade/searchTrades").unwrap().1,
            "https://huke.163.com/openapi/trade/searchTrades"
        );
        assert_eq!(c.endpoint("/customer/fields").unwrap().0, "customer/fields");
        for bad in ["", "../x", "a//b", "a?b=1", "a b"] {
            assert!(c.endpoint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builder_requires_credentials_and_a_valid_url() {
        assert!(Client::builder().build().is_err());
        assert!(
            Client::builder()
                .app_key("k")
                .app_secret("")
                .build()
                .is_err()
        );
        assert!(
            Client::builder()
                .app_key("k")
                .app_secret("s")
                .base_url("ftp://x")
                .build()
                .is_err()
        );
    }
}
