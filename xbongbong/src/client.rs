//! The client: configuration, the signed POST every call goes through, the
//! envelope decoder and the raw call. Which token signs a call, and the
//! personal token's exchange, cache and refresh, live in [`crate::auth`].

use std::sync::Arc;

use integration_core::envelope::Envelope;
use integration_core::error::Code;
use integration_core::lenient;
use integration_core::{ClientSettings, RateLimit, RawResponse, Secret, Transport};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::auth::{SIGN_HEADER, TokenMode, Tokens, sign};
use crate::error::{CODE_OK, Error, Result, SYSTEM};

/// Host for DingTalk-edition companies (corpid starting with `ding` or
/// containing `$$ding`).
pub const PROAPI_BASE_URL: &str = "https://proapi.xbongbong.com";
/// Host for every other company (WeCom `ww…`, standalone `xbb…`).
pub const APPAPI_BASE_URL: &str = "https://appapi.xbongbong.com";
/// The path prefix of every business call.
pub const API_PREFIX: &str = "/pro/v2/api/";

/// The production host for a corpid: [`PROAPI_BASE_URL`] for DingTalk
/// companies, [`APPAPI_BASE_URL`] otherwise.
pub fn base_url_for_corpid(corpid: &str) -> &'static str {
    if corpid.starts_with("ding") || corpid.contains("$$ding") {
        PROAPI_BASE_URL
    } else {
        APPAPI_BASE_URL
    }
}

/// The full path of an API name: `customer/list` → `/pro/v2/api/customer/list`;
/// a path already starting with `/pro/` is kept.
pub fn api_path(api: &str) -> String {
    let trimmed = api.trim();
    if trimmed.starts_with("/pro/") {
        trimmed.to_owned()
    } else if let Some(rest) = trimmed.strip_prefix("pro/") {
        format!("/pro/{rest}")
    } else {
        format!("{API_PREFIX}{}", trimmed.trim_start_matches('/'))
    }
}

/// Whether an API name is a write (add/edit/delete and other changes), which
/// the vendor limits to 3 requests per second.
pub fn is_write_api(api: &str) -> bool {
    let action = api.rsplit('/').next().unwrap_or(api);
    let action = action.to_ascii_lowercase();
    !(action.contains("list")
        || action.contains("detail")
        || action == "get"
        || action.starts_with("get")
        || action == "info"
        || action == "address")
}

/// A 销帮帮 Pro API client. Cheap to clone; clones share the connection
/// pool, the rate limiters and the cached personal token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    read: Transport,
    write: Transport,
    base_url: String,
    corpid: String,
    pub(crate) token: Secret,
    pub(crate) user_id: Option<String>,
    pub(crate) mode: TokenMode,
    user_id_header: bool,
    pub(crate) tokens: Tokens,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base_url)
            .field("corpid", &i.corpid)
            .field("token", &i.token)
            .field("user_id", &i.user_id)
            .field("mode", &i.mode)
            .field("transport", &i.read)
            .finish()
    }
}

/// Builds a [`Client`]. The shared settings (`base_url`, `timeout`,
/// `rate_limit`, `retry`, `user_agent`, ...) are set as on every
/// connector's builder ([`ClientSettings`]). The base URL defaults to the
/// production host for the corpid ([`base_url_for_corpid`]); the rate limit
/// of every call defaults to 16/s, burst 16 (the vendor's 1000/minute).
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    corpid: Option<String>,
    token: Option<Secret>,
    user_id: Option<String>,
    mode: TokenMode,
    user_id_header: bool,
    write_rate_limit: Option<RateLimit>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        let mut settings = ClientSettings::default();
        // 1000 requests/minute for all endpoints.
        settings.rate_limit = Some(RateLimit::new(16, 16));
        Self {
            settings,
            corpid: None,
            token: None,
            user_id: None,
            mode: TokenMode::Company,
            user_id_header: true,
            // 3 requests/second for writes.
            write_rate_limit: Some(RateLimit::new(3, 3)),
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The company id (`ding…`, `ww…`, `xbb…`), sent in every body.
    pub fn corpid(mut self, corpid: impl Into<String>) -> Self {
        self.corpid = Some(corpid.into());
        self
    }

    /// The company API token (or a personal `user_` token); only used to sign.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The operator's user id, sent as `userId` in every body (and header).
    /// Without it the API acts as the super-admin role.
    pub fn user_id(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// Which token signs calls (default [`TokenMode::Company`]).
    /// [`TokenMode::Personal`] needs [`ClientBuilder::user_id`].
    pub fn token_mode(mut self, mode: TokenMode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether `userId` is also sent as an HTTP header (default true, as the
    /// vendor CLI does).
    pub fn user_id_header(mut self, send: bool) -> Self {
        self.user_id_header = send;
        self
    }

    /// Extra rate limit of write calls (default 3/s, the vendor's limit).
    pub fn write_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.write_rate_limit = limit;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let invalid = |msg: &str| Error::Config(msg.to_owned());
        let corpid = self
            .corpid
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| invalid("corpid is required"))?;
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| invalid("token is required"))?;
        if self.mode == TokenMode::Personal && self.user_id.is_none() {
            return Err(invalid("a personal token needs user_id"));
        }
        let base_url = self
            .settings
            .base_url_or(SYSTEM, base_url_for_corpid(&corpid))
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        // Writes go through their own transport: the write limit, or the
        // all-calls limit when that is lower.
        let write_limit = match (self.settings.rate_limit, self.write_rate_limit) {
            (Some(all), Some(w)) if all.requests_per_second() < w.requests_per_second() => {
                Some(all)
            }
            (_, w) => w,
        };
        let mut write = self.settings.clone();
        write.rate_limit = write_limit;
        Ok(Client {
            inner: Arc::new(Inner {
                read: self.settings.transport(SYSTEM)?,
                write: write.transport(SYSTEM)?,
                base_url,
                corpid,
                token,
                user_id: self.user_id,
                mode: self.mode,
                user_id_header: self.user_id_header,
                tokens: Tokens::new(),
            }),
        })
    }
}

/// Decodes an answer: the envelope's `result` (or `null` when absent) on
/// `code == 1`, the API error otherwise, a decode error with a redacted
/// excerpt for anything that is not an envelope. The body is read by core's
/// [`Envelope::read`]; an envelope has a code and, if any, a boolean
/// `success`. Only an answer without an envelope is an HTTP error.
pub(crate) fn decode_envelope(api: &str, raw: &RawResponse) -> Result<Value> {
    let mut envelope = match Envelope::read(raw, &["code"], &["msg"]) {
        Ok(e)
            if e.code.is_some()
                && matches!(
                    e.members.get("success"),
                    None | Some(Value::Null | Value::Bool(_))
                ) =>
        {
            e
        }
        read => {
            let e = raw
                .http_error()
                .or(read.err())
                .unwrap_or_else(|| raw.decode_error("the answer has no `code` envelope"));
            return Err(e.into());
        }
    };
    let Some(code) = envelope.code.as_ref().and_then(Code::as_i64) else {
        return Err(raw
            .decode_error("the envelope's `code` is not an integer")
            .into());
    };
    if code == CODE_OK && envelope.members.get("success") != Some(&Value::Bool(false)) {
        return Ok(envelope.take("result"));
    }
    Err(Error::from_answer(api, code, &envelope.message))
}

impl Client {
    /// A builder with the defaults (production host for the corpid, 60 s
    /// timeout, vendor rate limits, default retries).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The company id.
    pub fn corpid(&self) -> &str {
        &self.inner.corpid
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The operator's user id, when configured.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

    /// Calls any endpoint with a JSON object body and returns the envelope's
    /// `result` (`null` when the API sent none). `corpid` (and `userId` when
    /// configured and not already present) are added; the body is signed,
    /// sent, retried and decoded like every typed call.
    ///
    /// `api` is `module/action` (e.g. `"label/allList"`) or a full
    /// `/pro/v2/api/...` path.
    pub async fn call_raw(&self, api: &str, body: Value) -> Result<Value> {
        let body = match body {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(Error::Value(crate::value::ValueError::new(
                    "body",
                    format!("the body must be a JSON object, not {other}"),
                )));
            }
        };
        self.call_map(api, body, Ok).await
    }

    /// Calls an endpoint with a typed body and decodes `result` into `T`.
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        api: &str,
        body: &B,
    ) -> Result<T> {
        let body = match serde_json::to_value(body) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            Ok(_) => {
                return Err(Error::Value(crate::value::ValueError::new(
                    "body",
                    "the request must serialize to a JSON object",
                )));
            }
            Err(e) => {
                return Err(Error::Value(crate::value::ValueError::new(
                    "body",
                    e.to_string(),
                )));
            }
        };
        // Decode errors name the field (`list[3].updateTime`).
        self.call_map(api, body, |v| {
            lenient::decode::<T>(v).map_err(|e| e.to_string())
        })
        .await
    }

    /// The body text sent for `body`: `corpid` first, then `userId` (when
    /// configured and absent), then the caller's members in their order.
    pub fn body_text(&self, body: &Map<String, Value>) -> String {
        let mut full = Map::new();
        full.insert("corpid".into(), Value::String(self.inner.corpid.clone()));
        if let Some(user) = &self.inner.user_id
            && !body.contains_key("userId")
        {
            full.insert("userId".into(), Value::String(user.clone()));
        }
        for (k, v) in body {
            if k != "corpid" {
                full.insert(k.clone(), v.clone());
            }
        }
        Value::Object(full).to_string()
    }

    async fn call_map<T>(
        &self,
        api: &str,
        body: Map<String, Value>,
        convert: impl Fn(Value) -> std::result::Result<T, String> + Copy,
    ) -> Result<T> {
        let text = self.body_text(&body);
        let text = &text;
        self.with_token(|token: Secret| async move { self.send(api, text, &token, convert).await })
            .await
    }

    /// One signed POST (with the transport's retries).
    pub(crate) async fn send<T>(
        &self,
        api: &str,
        text: &str,
        token: &Secret,
        convert: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let url = format!("{}{}", self.inner.base_url, api_path(api));
        let signature = sign(text.as_bytes(), token.expose());
        let transport = if is_write_api(api) {
            &self.inner.write
        } else {
            &self.inner.read
        };
        let user_header = self
            .inner
            .user_id
            .as_deref()
            .filter(|_| self.inner.user_id_header);
        transport
            .execute(
                api,
                |http| {
                    let mut request = http
                        .post(&url)
                        .header(
                            reqwest::header::CONTENT_TYPE,
                            "application/json;charset=UTF-8",
                        )
                        .header(SIGN_HEADER, &signature);
                    if let Some(user) = user_header {
                        request = request.header("userId", user);
                    }
                    Ok::<_, Error>(request.body(text.to_owned()))
                },
                |raw| {
                    let value = decode_envelope(api, &raw)?;
                    convert(value).map_err(|e| {
                        Error::decode(api, format!("unexpected `result` ({e})"), &raw.body)
                    })
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse::new(
            SYSTEM,
            "x/list",
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.to_owned(),
        )
    }

    #[test]
    fn hosts_follow_the_corpid() {
        assert_eq!(base_url_for_corpid("ding123"), PROAPI_BASE_URL);
        assert_eq!(base_url_for_corpid("abc$$ding9"), PROAPI_BASE_URL);
        assert_eq!(base_url_for_corpid("ww77"), APPAPI_BASE_URL);
        assert_eq!(base_url_for_corpid("xbb1"), APPAPI_BASE_URL);
        assert_eq!(api_path("customer/list"), "/pro/v2/api/customer/list");
        assert_eq!(api_path("/pro/v2/api/form/get"), "/pro/v2/api/form/get");
        assert!(is_write_api("customer/add") && is_write_api("paymentSheet/addWriteOff"));
        assert!(!is_write_api("customer/list") && !is_write_api("form/get"));
    }

    #[test]
    fn envelopes_decode_and_errors_keep_code_and_message() {
        assert_eq!(
            decode_envelope(
                "a",
                &raw(
                    200,
                    r#"{"code":1,"msg":"操作成功","success":true,"result":{"x":1}}"#
                )
            )
            .unwrap(),
            serde_json::json!({"x":1})
        );
        assert_eq!(
            decode_envelope("a", &raw(200, r#"{"code":1,"msg":"ok","success":true}"#)).unwrap(),
            Value::Null
        );
        let e = decode_envelope(
            "a",
            &raw(
                200,
                r#"{"code":701020,"msg":"字段数据格式错误","success":false}"#,
            ),
        )
        .unwrap_err();
        assert_eq!(e.code(), Some("701020"));
        assert!(e.to_string().contains("字段数据格式错误"));
        for bad in [
            "",
            "<html>502</html>",
            "{\"code\":1,\"res",
            "[1,2]",
            "{\"code\":\"x\"}",
        ] {
            let e = decode_envelope("a", &raw(200, bad)).unwrap_err();
            assert_eq!(e.kind(), integration_core::ErrorKind::Decode, "{bad}");
        }
        let e = decode_envelope("a", &raw(502, "<html>bad gateway</html>")).unwrap_err();
        assert_eq!(e.kind(), integration_core::ErrorKind::HttpStatus);
    }

    #[test]
    fn debug_hides_the_token() {
        let client = Client::builder()
            .corpid("ding-x")
            .token("super-secret-token")
            .build()
            .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("super-secret-token"));
        assert!(debug.contains("proapi"));
        let builder = Client::builder().token("super-secret-token");
        assert!(!format!("{builder:?}").contains("super-secret-token"));
    }
}
