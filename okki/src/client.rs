//! The [`Client`]: builder, base URL, transport, envelope decoding, the
//! authorised call path and the raw call. The token (its request, cache and
//! refresh) lives in [`crate::auth`]; the classification of answers in
//! [`crate::error`].

use std::sync::Arc;
use std::time::Duration;

use integration_core::envelope;
use integration_core::error::{Code, Failure};
use integration_core::transport::{RateLimit, Transport};
use integration_core::{ClientSettings, ErrorKind, RawResponse, Retry, Secret};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{Credentials, Tokens};
use crate::error::{Error, Result, SYSTEM, envelope_verdict, oauth_error, oauth_message};
use crate::lenient;

/// The real service. Despite its name it is OKKI's **production** host;
/// OKKI has no sandbox, so calls against it change real data.
pub const DEFAULT_BASE_URL: &str = "https://api-sandbox.xiaoman.cn";

/// Largest `count` (page size) this client asks for. OKKI documents no
/// maximum; 100 is known to work on `company/list` and `invoices/order/list`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// A client of the OKKI CRM open API. Cheap to clone; clones share the
/// connection pool, the rate limiter and the cached token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    base_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) transport: Transport,
    pub(crate) tokens: Tokens,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("credentials", &self.inner.credentials)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]. The shared settings (`base_url`, `timeout`,
/// `rate_limit`, `retry`, ...) are set as on every connector's builder
/// ([`ClientSettings`]). OKKI's defaults: the real host
/// ([`DEFAULT_BASE_URL`]), 60 s timeout and 60 s connect timeout (OKKI's
/// documented timeouts), 5 requests/s (burst 5; OKKI publishes no limit).
///
/// Writes (`POST`) are retried only when the server refused them (HTTP or
/// envelope 429), never after a timeout or a 5xx, since OKKI has no
/// idempotency keys; the retry policy applies to reads in full.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    credentials: Option<Credentials>,
    refresh_margin: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let mut settings = ClientSettings::default();
        settings.connect_timeout = Duration::from_secs(60);
        settings.rate_limit = Some(RateLimit::new(5, 5));
        Self {
            settings,
            credentials: None,
            refresh_margin: Duration::from_secs(300),
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The credentials (required).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Shorthand for [`Credentials::client_credentials`].
    pub fn client_credentials<S: Into<String>>(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.credentials(Credentials::client_credentials(
            client_id,
            client_secret,
            scopes,
        ))
    }

    /// How long before expiry a token is renewed (default 5 minutes).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let invalid = |msg: &str| Error::invalid("client", msg);
        let credentials = self
            .credentials
            .ok_or_else(|| invalid("credentials are required"))?;
        if credentials.client_id.is_empty() || credentials.client_secret.is_empty() {
            return Err(invalid("client_id and client_secret must not be empty"));
        }
        if credentials.scopes.is_empty() {
            return Err(invalid("at least one scope is required (e.g. \"company\")"));
        }
        let base_url = self
            .settings
            .base_url_or(SYSTEM, DEFAULT_BASE_URL)
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let transport = self.settings.transport(SYSTEM)?;
        Ok(Client {
            inner: Arc::new(Inner {
                base_url,
                credentials,
                transport,
                tokens: Tokens::new(self.refresh_margin),
            }),
        })
    }
}

/// What a request carries.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    /// Query parameters (GET, and the odd POST with query params).
    Query(Vec<(String, String)>),
    /// A JSON body.
    Json(Value),
    /// A form body.
    Form(Vec<(String, String)>),
}

impl Client {
    /// A builder; set at least [`ClientBuilder::credentials`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The underlying transport (for its retry policy and system name).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{}", self.inner.base_url, path)
        } else {
            format!("{}/{}", self.inner.base_url, path)
        }
    }

    /// Sends one authorised call and returns the envelope's `data`.
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
    ) -> Result<Value> {
        self.send(method, path, payload, Ok).await
    }

    /// `GET` with query parameters, `data` decoded as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> Result<T> {
        self.send(Method::GET, path, Payload::Query(query), decode_data)
            .await
    }

    /// `GET` with query parameters, `data` decoded by `decode`.
    pub(crate) async fn get_with<T>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        decode: impl Fn(Value) -> std::result::Result<T, String> + Copy,
    ) -> Result<T> {
        self.send(Method::GET, path, Payload::Query(query), decode)
            .await
    }

    /// `POST` with a JSON body, `data` decoded as `T`.
    pub(crate) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Value,
    ) -> Result<T> {
        self.send(Method::POST, path, Payload::Json(body), decode_data)
            .await
    }

    /// `POST` with a JSON body that is safe to send twice (it sets values,
    /// creates nothing): retried after a timeout or 5xx as a read is.
    pub(crate) async fn post_json_idempotent<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Value,
    ) -> Result<T> {
        self.send_as(Method::POST, path, Payload::Json(body), decode_data, true)
            .await
    }

    /// `POST` with a form body, `data` decoded as `T`.
    pub(crate) async fn post_form<T: DeserializeOwned>(
        &self,
        path: &str,
        form: Vec<(String, String)>,
    ) -> Result<T> {
        self.send(Method::POST, path, Payload::Form(form), decode_data)
            .await
    }

    async fn send<T>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
        decode: impl Fn(Value) -> std::result::Result<T, String> + Copy,
    ) -> Result<T> {
        let idempotent = method == Method::GET;
        self.send_as(method, path, payload, decode, idempotent)
            .await
    }

    /// [`Self::send`], retried after a timeout or 5xx only if `idempotent`.
    async fn send_as<T>(
        &self,
        method: Method,
        path: &str,
        payload: Payload,
        decode: impl Fn(Value) -> std::result::Result<T, String> + Copy,
        idempotent: bool,
    ) -> Result<T> {
        let url = self.url(path);
        self.with_token(|token: Secret| {
            let (url, method, payload) = (&url, method.clone(), &payload);
            async move {
                let build = |http: &reqwest::Client| {
                    let request = http.request(method.clone(), url).header(
                        reqwest::header::AUTHORIZATION,
                        format!("Bearer {}", token.expose()),
                    );
                    Ok(match payload {
                        Payload::Query(q) => request.query(q),
                        Payload::Json(body) => request.json(body),
                        Payload::Form(form) => request.form(form),
                    })
                };
                let parse = |raw: RawResponse| {
                    let data = decode_envelope(&raw)?;
                    decode(data).map_err(|e| {
                        Error::from(raw.decode_error(format!("unexpected data ({e})")))
                    })
                };
                if idempotent {
                    self.execute::<true, T>(path, build, parse).await
                } else {
                    self.execute::<false, T>(path, build, parse).await
                }
            }
        })
        .await
    }

    /// One call through the transport, retried as an [`Attempt`] of a read
    /// or of a write says.
    async fn execute<const READ: bool, T>(
        &self,
        path: &str,
        build: impl Fn(&reqwest::Client) -> Result<reqwest::RequestBuilder>,
        parse: impl Fn(RawResponse) -> Result<T>,
    ) -> Result<T> {
        self.inner
            .transport
            .execute(
                path,
                |http: &reqwest::Client| build(http).map_err(Attempt::<READ>::from),
                |raw| parse(raw).map_err(Attempt::<READ>::from),
            )
            .await
            .map_err(|Attempt(e)| *e)
    }

    /// Calls any endpoint with auth, retries and envelope decoding, and
    /// returns the envelope's `data` (an object, an array or a string).
    ///
    /// `api` is a path such as `/v1/company/fields`, optionally preceded by
    /// the method: `"POST /v1/company/pushTag"`. Without a method it is a
    /// `GET`, and `params` (an object of scalars) becomes the query string;
    /// for a `POST`, `params` is the JSON body. Use [`Client::call_raw_form`]
    /// for the few form-encoded endpoints.
    pub async fn call_raw(&self, api: &str, params: Value) -> Result<Value> {
        let (method, path) = split_api(api)?;
        let payload = if method == Method::GET {
            Payload::Query(query_pairs(&params)?)
        } else {
            Payload::Json(params)
        };
        self.send_raw(method, path, payload).await
    }

    /// Calls a form-encoded `POST` endpoint (e.g.
    /// `/v1/company/removeCompanyAndCustomers`), returning `data`.
    pub async fn call_raw_form(&self, path: &str, params: Value) -> Result<Value> {
        self.send_raw(Method::POST, path, Payload::Form(query_pairs(&params)?))
            .await
    }
}

/// `data` as `T`; an error names the field that failed.
fn decode_data<T: DeserializeOwned>(data: Value) -> std::result::Result<T, String> {
    lenient::decode(data).map_err(|e| e.to_string())
}

/// The error of one attempt, which decides what the transport retries.
/// A read (`READ`) is also asked again when its answer could not be
/// decoded (truncated, not JSON, a proxy's HTML page): asking again is
/// harmless. A write is retried only when the server refused it outright
/// (throttled): after a 5xx, a timeout or an undecodable answer it may have
/// been applied. Boxed: the error is too big to pass around by value.
struct Attempt<const READ: bool>(Box<Error>);

impl<const READ: bool> From<Error> for Attempt<READ> {
    fn from(e: Error) -> Self {
        Attempt(Box::new(e))
    }
}

impl<const READ: bool> From<integration_core::Error> for Attempt<READ> {
    fn from(e: integration_core::Error) -> Self {
        Error::from(e).into()
    }
}

impl<const READ: bool> std::fmt::Display for Attempt<READ> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<const READ: bool> Retry for Attempt<READ> {
    fn is_retryable(&self) -> bool {
        if READ {
            self.0.is_retryable() || self.0.kind() == ErrorKind::Decode
        } else {
            self.0.is_retryable() && self.0.kind() == ErrorKind::RateLimited
        }
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after()
    }
    fn is_auth_expired(&self) -> bool {
        self.0.is_auth_expired()
    }
    fn failure_kind(&self) -> Option<ErrorKind> {
        Some(self.0.kind())
    }
}

fn split_api(api: &str) -> Result<(Method, &str)> {
    let api = api.trim();
    let (method, path) = match api.split_once(' ') {
        Some((m, p)) => {
            let method = match m.to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "DELETE" => Method::DELETE,
                other => return Err(Error::invalid(api, format!("unsupported method {other}"))),
            };
            (method, p.trim())
        }
        None => (Method::GET, api),
    };
    if path.is_empty() || path.contains("://") {
        return Err(Error::invalid(
            api,
            "the api must be a path such as /v1/company/list",
        ));
    }
    Ok((method, path))
}

/// Turns an object of scalars into query/form pairs (arrays repeat the key).
pub(crate) fn query_pairs(params: &Value) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let push = |pairs: &mut Vec<(String, String)>, k: &str, v: &Value| -> Result<()> {
        match v {
            Value::Null => {}
            Value::String(s) => pairs.push((k.to_owned(), s.clone())),
            Value::Number(n) => pairs.push((k.to_owned(), n.to_string())),
            Value::Bool(b) => pairs.push((k.to_owned(), if *b { "1" } else { "0" }.to_owned())),
            _ => return Err(Error::invalid("params", format!("{k} must be a scalar"))),
        }
        Ok(())
    };
    match params {
        Value::Null => {}
        Value::Object(map) => {
            for (k, v) in map {
                if let Value::Array(items) = v {
                    for item in items {
                        push(&mut pairs, k, item)?;
                    }
                } else {
                    push(&mut pairs, k, v)?;
                }
            }
        }
        _ => return Err(Error::invalid("params", "parameters must be a JSON object")),
    }
    Ok(pairs)
}

/// Decodes OKKI's `{code, message, now, data}` envelope into `data`. The
/// body is read by [`envelope::json_object`]; OKKI's own is the order of the
/// checks: HTTP 401 is a rejected token whatever the body, an HTTP 429 / 5xx
/// is that status, then an OAuth error object, any other HTTP status, and
/// last the envelope's code ([`envelope_verdict`]).
pub(crate) fn decode_envelope(raw: &RawResponse) -> Result<Value> {
    let status = raw.status.as_u16();
    let body = envelope::json_object(raw);
    if status == 401 {
        let body = body.as_ref().ok();
        return Err(Error::AuthExpired(
            Failure::new(raw.api(), body.map(oauth_message).unwrap_or_default())
                .with_opt_code(
                    body.and_then(|m| m.get("error"))
                        .and_then(Value::as_str)
                        .map(Code::from),
                )
                .with_http_status(status),
        ));
    }
    if (status == 429 || status >= 500)
        && let Some(http) = raw.http_error()
    {
        return Err(http.into());
    }
    // An undecodable body under a failed HTTP status is that status.
    let mut members = body.map_err(|e| raw.http_error().unwrap_or(e))?;
    if let Some(err) = oauth_error(raw, &members) {
        return Err(err);
    }
    if let Some(http) = raw.http_error() {
        return Err(http.into());
    }
    envelope_verdict(raw, &members)?;
    Ok(members.remove("data").unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            SYSTEM,
            "/v1/x",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn envelopes() {
        let ok = decode_envelope(&raw(
            200,
            r#"{"code":200,"message":"success","now":"2025-03-06 16:55:25","data":{"a":1}}"#,
        ))
        .unwrap();
        assert_eq!(ok["a"], 1);
        assert_eq!(
            decode_envelope(&raw(200, r#"{"msg":"success","code":0}"#)).unwrap(),
            Value::Null
        );
        assert_eq!(
            decode_envelope(&raw(200, r#"{"code":"200","data":"success"}"#)).unwrap(),
            "success"
        );
        let nf = decode_envelope(&raw(
            200,
            r#"{"code":404,"message":"Not Found Resource","data":[]}"#,
        ))
        .unwrap_err();
        assert!(nf.is_not_found(), "{nf}");
        let denied = decode_envelope(&raw(401, r#"{"error":"access_denied","message":"denied"}"#))
            .unwrap_err();
        assert!(denied.is_auth_expired());
        let denied = decode_envelope(&raw(400, r#"{"error":"access_denied","message":"denied"}"#))
            .unwrap_err();
        assert!(denied.is_auth_expired());
        let client = decode_envelope(&raw(400, r#"{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}"#)).unwrap_err();
        assert!(
            client.is_credentials() && !client.is_retryable(),
            "{client}"
        );
        let revoked = decode_envelope(&raw(400, r#"{"error":"invalid_request","error_description":"The refresh token is invalid.","hint":"Token has been revoked","message":"The refresh token is invalid."}"#)).unwrap_err();
        assert_eq!(
            revoked.message(),
            "The refresh token is invalid. (Token has been revoked)"
        );
        let server =
            decode_envelope(&raw(400, r#"{"error":"server_error","message":"oops"}"#)).unwrap_err();
        assert!(
            matches!(&server, Error::Core(_)) && server.is_retryable(),
            "{server}"
        );
        assert_eq!(
            (server.kind(), server.code(), server.http_status()),
            (ErrorKind::HttpStatus, Some("server_error"), Some(400))
        );
        let html = decode_envelope(&raw(200, "<html>502</html>")).unwrap_err();
        assert_eq!(html.kind(), ErrorKind::Decode);
        let gateway = decode_envelope(&raw(502, "<html>502</html>")).unwrap_err();
        assert!(gateway.is_retryable());
        assert_eq!(
            decode_envelope(&raw(200, "")).unwrap_err().kind(),
            ErrorKind::Decode
        );
        assert_eq!(
            decode_envelope(&raw(200, r#"{"data":1}"#))
                .unwrap_err()
                .kind(),
            ErrorKind::Decode
        );
        assert_eq!(
            decode_envelope(&raw(200, "[1]")).unwrap_err().kind(),
            ErrorKind::Decode
        );
        // A code that cannot be read is not a success.
        for body in [
            r#"{"code":"ok","data":{}}"#,
            r#"{"code":200.5,"data":{}}"#,
            r#"{"code":"","data":{}}"#,
            r#"{"code":[200],"data":{}}"#,
        ] {
            let err = decode_envelope(&raw(200, body)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{body}: {err}");
        }
    }

    #[test]
    fn raw_api_parsing() {
        assert_eq!(split_api("/v1/a").unwrap(), (Method::GET, "/v1/a"));
        assert_eq!(split_api("post /v1/a").unwrap(), (Method::POST, "/v1/a"));
        assert!(split_api("PATCH /v1/a").is_err());
        assert!(split_api("https://evil/v1").is_err());
        let q =
            query_pairs(&serde_json::json!({"a":1,"b":"x","c":[1,2],"d":null,"e":true})).unwrap();
        assert_eq!(q.len(), 5);
        assert!(query_pairs(&serde_json::json!({"a":{"b":1}})).is_err());
    }
}
