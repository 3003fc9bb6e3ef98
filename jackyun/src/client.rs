//! The client: gateway calls with signing, retries and envelope decoding.

use std::future::Future;
use std::sync::Arc;

use chrono::Utc;
use futures::Stream;
use integration_core::envelope::Envelope;
use integration_core::error::Code;
use integration_core::paging::{self, Page};
use integration_core::{ClientSettings, RateLimit, RawResponse, Transport, lenient};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{self, Credentials};
use crate::error::{Error, Result, SYSTEM};

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://open.jackyun.com";

/// The path of the one gateway every method is posted to.
pub const GATEWAY_PATH: &str = "/open/openapi/do";

/// A Jackyun open-platform client. Cheap to clone (an `Arc`); clones share
/// the connection pool and the rate limiter. `Debug` never shows secrets.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: String,
    gateway: url::Url,
    credentials: Credentials,
    version: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("gateway", &self.inner.gateway.as_str())
            .field("credentials", &self.inner.credentials)
            .field("version", &self.inner.version)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

/// Builds a [`Client`].
///
/// The shared settings (`base_url`, `timeout`, `connect_timeout`,
/// `rate_limit`, `retry`, `user_agent`, ...) are set as on every
/// connector's builder ([`ClientSettings`]). Here:
///
/// * `base_url` is the service root (default [`DEFAULT_BASE_URL`]); the
///   gateway path [`GATEWAY_PATH`] is appended unless the URL already ends
///   with it.
/// * The client-side rate limit defaults to 5 calls per second, burst 5:
///   Jackyun publishes no limit, callers report about 1/s on
///   `oms.trade.fullinfoget`. `settings_mut().rate_limit = None`
///   ([`ClientConfig`](integration_core::ClientConfig)) disables it.
/// * Retries cover throttling, timestamp rejections and transport failures
///   (default [`RetryPolicy::default`](integration_core::RetryPolicy::default)).
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    credentials: Option<Credentials>,
    version: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let mut settings = ClientSettings::default();
        settings.rate_limit = Some(RateLimit::new(5, 5));
        Self {
            settings,
            credentials: None,
            version: auth::DEFAULT_VERSION.to_owned(),
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The app's credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Shorthand for [`ClientBuilder::credentials`] without an ISV token.
    pub fn app(
        self,
        appkey: impl Into<String>,
        secret: impl Into<integration_core::Secret>,
    ) -> Self {
        self.credentials(Credentials::new(appkey, secret))
    }

    /// The `version` system parameter (default `v1.0`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::invalid("client", "credentials (appkey and secret) are required")
        })?;
        if credentials.appkey.is_empty() || credentials.secret.is_empty() {
            return Err(Error::invalid(
                "client",
                "appkey and secret must not be empty",
            ));
        }
        let base = self
            .settings
            .base_url_or(SYSTEM, DEFAULT_BASE_URL)
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let base_url = base.strip_suffix(GATEWAY_PATH).unwrap_or(&base).to_owned();
        let gateway = url::Url::parse(&format!("{base_url}{GATEWAY_PATH}"))
            .map_err(|e| Error::invalid("client", format!("invalid base URL: {e}")))?;
        let transport = self.settings.transport(SYSTEM)?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                base_url,
                gateway,
                credentials,
                version: self.version,
            }),
        })
    }
}

/// A successful gateway answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `result.data`, decoded again when it arrived as JSON text; `Null`
    /// when absent.
    pub data: Value,
    /// `result.contextId`, the gateway's request id.
    pub context_id: Option<String>,
    /// `subCode`, which may be non-empty on success (e.g. `0030000004`).
    pub sub_code: String,
    /// `msg` (e.g. `操作成功`, often empty).
    pub msg: String,
}

impl Client {
    /// A builder with the production base URL.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The service root the client talks to (without [`GATEWAY_PATH`]).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The gateway URL every method is posted to.
    pub fn gateway(&self) -> &url::Url {
        &self.inner.gateway
    }

    /// The appkey in use.
    pub fn appkey(&self) -> &str {
        &self.inner.credentials.appkey
    }

    /// Calls any method with a JSON `bizcontent` and returns `result.data`
    /// (decoded again when the gateway sent it as JSON text), with the same
    /// signing, retries and error decoding as the typed methods.
    pub async fn call_raw(&self, method: &str, bizcontent: Value) -> Result<Value> {
        Ok(self.call_reply(method, &bizcontent).await?.data)
    }

    /// Calls a method and returns the whole successful answer.
    pub async fn call_reply<B: Serialize + ?Sized>(
        &self,
        method: &str,
        bizcontent: &B,
    ) -> Result<Reply> {
        let biz = serde_json::to_string(bizcontent)
            .map_err(|e| Error::invalid(method, format!("bizcontent cannot be serialised: {e}")))?;
        let inner = &self.inner;
        inner
            .transport
            .execute(
                method,
                |http| {
                    let form = auth::signed_form(
                        &inner.credentials,
                        method,
                        &inner.version,
                        &biz,
                        Utc::now(),
                    );
                    let body = serde_urlencoded::to_string(&form).map_err(|e| {
                        Error::invalid(method, format!("form encoding failed: {e}"))
                    })?;
                    Ok(http
                        .post(inner.gateway.clone())
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/x-www-form-urlencoded;charset=UTF-8",
                        )
                        .body(body))
                },
                |raw| decode_reply(method, &raw),
            )
            .await
    }

    /// Calls a method with a typed `bizcontent` and decodes `result.data`
    /// into `T` (`Null` data is decoded from `{}`, so list types with
    /// defaults read as empty).
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: &str,
        bizcontent: &B,
    ) -> Result<T> {
        let reply = self.call_reply(method, bizcontent).await?;
        decode_data(method, reply.data)
    }
}

/// A typed query as the business parameters of `method`.
pub(crate) fn biz_of(method: &str, query: &impl Serialize) -> Result<Value> {
    serde_json::to_value(query).map_err(|e| Error::invalid(method, e.to_string()))
}

/// Every page from `first` on, lazily, each read by `list` with a clone of
/// `handle` (the `pages` of every list).
pub(crate) fn pages<H, Q, T, Fut>(
    handle: &H,
    first: Q,
    list: impl Fn(H, Q) -> Fut + Send + 'static,
) -> impl Stream<Item = Result<Page<T, Q>>> + Send + 'static
where
    H: Clone + Send + Sync + 'static,
    Q: Clone + Send + 'static,
    T: Send + 'static,
    Fut: Future<Output = Result<Page<T, Q>>> + Send + 'static,
{
    let handle = handle.clone();
    paging::paginate(first, move |query| list(handle.clone(), query))
}

/// Decodes `data` into `T`; on mismatch a decode error naming the field
/// (`[3].payment`) with an excerpt.
pub(crate) fn decode_data<T: DeserializeOwned>(method: &str, data: Value) -> Result<T> {
    let data = if data.is_null() {
        Value::Object(Default::default())
    } else {
        data
    };
    // The value is kept for the excerpt of an error.
    lenient::decode(data.clone()).map_err(|e| {
        Error::decode(
            method,
            format!("result.data does not match the expected shape ({e})"),
            data.to_string().as_bytes(),
        )
    })
}

/// Decodes the gateway envelope of one answer.
///
/// Success is `code == 200` (number or text), whatever `subCode` says.
/// Anything else with a `code` is an [`Error::Api`], [`Error::Auth`] or
/// [`Error::Throttled`] by its class ([`crate::ApiErrorClass`]); a body that
/// is not a JSON object with a `code` is a decode error with a redacted
/// excerpt, or the HTTP status error when the status is not 2xx (gateways
/// send HTML error pages with 5xx).
pub fn decode_reply(method: &str, raw: &RawResponse) -> Result<Reply> {
    let not_envelope = |e: integration_core::Error| Error::from(raw.http_error().unwrap_or(e));
    let mut envelope = Envelope::read(raw, &["code"], &["msg"]).map_err(not_envelope)?;
    // An empty text `code` is still a code (not 200, so an error envelope).
    let code = match (envelope.code.take(), envelope.members.get("code")) {
        (Some(code), _) => code,
        (None, Some(Value::String(_))) => Code::from(""),
        _ => return Err(not_envelope(raw.decode_error("the answer has no `code`"))),
    };
    let sub_code = match envelope.take("subCode") {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut result = envelope.take("result");
    let context_id = match result.get("contextId") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if code != "200" {
        return Err(Error::envelope(
            method,
            code,
            sub_code,
            envelope.message,
            context_id,
        ));
    }
    let data = match result.get_mut("data").map(Value::take).unwrap_or_default() {
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str(t).map_err(|e| {
                    Error::decode(
                        method,
                        format!("result.data is JSON text that does not parse ({e})"),
                        t.as_bytes(),
                    )
                })?
            } else {
                Value::String(s)
            }
        }
        other => other,
    };
    Ok(Reply {
        data,
        context_id,
        sub_code,
        msg: envelope.message,
    })
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
            "m",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn success_with_sub_code_is_success() {
        let r = decode_reply(
            "m",
            &raw(200, r#"{"code":200,"msg":"操作成功","subCode":"0030000004","result":{"data":{"a":1},"contextId":"2229118837749614720"}}"#),
        )
        .unwrap();
        assert_eq!(r.data["a"], 1);
        assert_eq!(r.sub_code, "0030000004");
        assert_eq!(r.context_id.as_deref(), Some("2229118837749614720"));
    }

    #[test]
    fn code_as_text_and_data_as_json_text() {
        let r = decode_reply(
            "m",
            &raw(
                200,
                r#"{"code":"200","result":{"data":"{\"rows\":[1,2]}"}}"#,
            ),
        )
        .unwrap();
        assert_eq!(r.data["rows"][1], 2);
        let r = decode_reply("m", &raw(200, r#"{"code":200,"result":{"data":"ok"}}"#)).unwrap();
        assert_eq!(r.data, "ok");
        let e = decode_reply(
            "m",
            &raw(200, r#"{"code":200,"result":{"data":"{\"rows\":[1,"}}"#),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }

    #[test]
    fn error_envelope_keeps_everything() {
        let e = decode_reply(
            "m",
            &raw(200, r#"{"code":0,"msg":"未知错误","result":{"data":null,"contextId":"22291"},"subCode":"0130020001"}"#),
        )
        .unwrap_err();
        assert!(matches!(&e, Error::Api(_)), "{e:?}");
        assert_eq!(
            (e.code(), e.message(), e.request_id()),
            (Some("0130020001"), "未知错误", Some("22291"))
        );
        assert_eq!(e.class(), Some(crate::ApiErrorClass::Business));
        // Without a subCode the top-level code is the code.
        let e = decode_reply("m", &raw(200, r#"{"code":"500","msg":"x"}"#)).unwrap_err();
        assert_eq!((e.code(), e.request_id()), (Some("500"), None));
    }

    #[test]
    fn hostile_bodies_are_decode_errors() {
        for body in [
            "",
            "<html>502</html>",
            r#"{"code":200,"result":{"da"#,
            "[1,2]",
            r#"{"msg":"x"}"#,
        ] {
            let e = decode_reply("m", &raw(200, body)).unwrap_err();
            assert!(
                matches!(&e, Error::Core(c) if c.kind() == ErrorKind::Decode),
                "{body}: {e:?}"
            );
        }
        let e = decode_reply("m", &raw(502, "<html>bad gateway</html>")).unwrap_err();
        assert!(matches!(&e, Error::Core(c) if c.kind() == ErrorKind::HttpStatus));
        assert!(integration_core::Retry::is_retryable(&e));
    }
}
