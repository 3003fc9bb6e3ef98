//! The [`Client`]: builder, base URL, transport, body shapes and the raw
//! call every typed operation goes through. Logging in, the session and its
//! renewal live in [`crate::auth`].

use std::sync::Arc;
use std::time::Duration;

use integration_core::envelope;
use integration_core::error::Failure;
use integration_core::{ClientSettings, RawResponse, Secret, Transport};
use serde_json::{Value, json};

use crate::auth::{AppCredentials, Auth, SESSION_COOKIE, Session, sign};
use crate::error::{Error, Result, SYSTEM};

/// Prefix of the session login services (defined in [`crate::auth`]).
pub use crate::auth::AUTH_SERVICE;

/// Prefix of the form-operation services (`Save`, `BatchSave`, `ExecuteBillQuery`, ...).
pub const DYNAMIC_FORM_SERVICE: &str = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService";
/// The account service (`GetDataCenterList`).
pub const ACCOUNT_SERVICE: &str = "Kingdee.BOS.ServiceFacade.ServicesStub.Account.AccountService";

/// How request bodies are shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyStyle {
    /// `{"formid": "...", "data": {...}}` as the current SDKs send (default).
    #[default]
    Current,
    /// `{"parameters": ["<formid>", "<data as JSON text>"]}` as older clients send.
    Legacy,
}

/// The body of one service call, before it is shaped by [`BodyStyle`].
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// `{"formid", "data"}`.
    Form { form_id: String, data: Value },
    /// `{"formid", "opNumber", "data"}`.
    FormOp {
        form_id: String,
        op_number: String,
        data: Value,
    },
    /// `{"data"}`.
    Data(Value),
    /// Sent unchanged.
    Raw(Value),
}

impl Body {
    fn render(&self, style: BodyStyle) -> Value {
        match (self, style) {
            (Body::Raw(v), _) => v.clone(),
            (Body::Form { form_id, data }, BodyStyle::Current) => {
                json!({"formid": form_id, "data": data})
            }
            (Body::Form { form_id, data }, BodyStyle::Legacy) => {
                json!({"parameters": [form_id, data.to_string()]})
            }
            (
                Body::FormOp {
                    form_id,
                    op_number,
                    data,
                },
                BodyStyle::Current,
            ) => json!({"formid": form_id, "opNumber": op_number, "data": data}),
            (
                Body::FormOp {
                    form_id,
                    op_number,
                    data,
                },
                BodyStyle::Legacy,
            ) => json!({"parameters": [form_id, op_number, data.to_string()]}),
            (Body::Data(data), BodyStyle::Current) => json!({ "data": data }),
            (Body::Data(data), BodyStyle::Legacy) => json!({"parameters": [data.to_string()]}),
        }
    }
}

/// Builds a [`Client`]. The shared settings (`base_url`, `timeout`,
/// `rate_limit`, `retry`, ...) are set as on every connector's builder
/// ([`ClientSettings`]); the base URL is required.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    auth: Option<Auth>,
    body_style: BodyStyle,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            // Large BatchSaves are slow.
            settings: ClientSettings::with_timeout(Some(Duration::from_secs(120))),
            auth: None,
            body_style: BodyStyle::Current,
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The site's URL including its virtual directory, e.g.
    /// `https://erp.example.com/k3cloud` (required: every K/3 Cloud site has
    /// its own; there is no shared endpoint). The official SDK's word for
    /// [`base_url`](Self::base_url), which it sets.
    pub fn server_url(self, url: impl Into<String>) -> Self {
        self.base_url(url)
    }

    /// Any auth mode.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// App-signature auth (current official SDKs; recommended).
    pub fn app_signature(self, credentials: AppCredentials) -> Self {
        self.auth(Auth::AppSignature(credentials))
    }

    /// Session login with user name and password (`ValidateUser`), language 2052.
    pub fn password_login(
        self,
        acct_id: impl Into<String>,
        user_name: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.auth(Auth::Password {
            acct_id: acct_id.into(),
            user_name: user_name.into(),
            password: Secret::new(password.into()),
            lcid: 2052,
        })
    }

    /// Session login with an app id and secret (`LoginByAppSecret`), language 2052.
    pub fn app_secret_login(
        self,
        acct_id: impl Into<String>,
        user_name: impl Into<String>,
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        self.auth(Auth::AppSecretLogin {
            acct_id: acct_id.into(),
            user_name: user_name.into(),
            app_id: app_id.into(),
            app_secret: Secret::new(app_secret.into()),
            lcid: 2052,
        })
    }

    /// Body shape (default [`BodyStyle::Current`]).
    pub fn body_style(mut self, style: BodyStyle) -> Self {
        self.body_style = style;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let server_url = self
            .settings
            .required_base_url(SYSTEM, "https://host/k3cloud")
            .map_err(|e| Error::Config(e.message().to_owned()))?;
        let auth = self
            .auth
            .ok_or_else(|| Error::invalid("client", "credentials are required"))?;
        let transport = self.settings.transport(SYSTEM)?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                server_url,
                auth,
                session: Session::new(),
                body_style: self.body_style,
            }),
        })
    }
}

/// A K/3 Cloud WebAPI client. Cheap to clone; clones share the connection
/// pool, rate limiter, cookies and session.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    transport: Transport,
    server_url: String,
    pub(crate) auth: Auth,
    pub(crate) session: Session,
    body_style: BodyStyle,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server_url", &self.inner.server_url)
            .field("auth", &self.inner.auth)
            .field("transport", &self.inner.transport)
            .field("body_style", &self.inner.body_style)
            .finish_non_exhaustive()
    }
}

/// The operation name of a service, e.g. `BatchSave` for
/// `Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave`.
fn api_name(service: &str) -> &str {
    service.rsplit('.').next().unwrap_or(service)
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The site URL the client talks to (its base URL).
    pub fn base_url(&self) -> &str {
        &self.inner.server_url
    }

    /// The site URL, in the official SDK's word: [`base_url`](Self::base_url).
    pub fn server_url(&self) -> &str {
        self.base_url()
    }

    /// The auth mode.
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// Calls any service with a body sent unchanged, with auth, signing,
    /// session handling, retries and error decoding.
    ///
    /// `service` is either an operation of `DynamicFormService` (`"Save"`,
    /// `"ExcuteOperation"`, ...) or a full service name containing dots.
    /// A `ResponseStatus` with `IsSuccess = false` is an [`Error::Api`] unless
    /// it also lists `SuccessEntitys` (a partly successful batch, returned as
    /// is).
    pub async fn call_raw(&self, service: &str, body: Value) -> Result<Value> {
        let service = if service.contains('.') {
            service.to_owned()
        } else {
            format!("{DYNAMIC_FORM_SERVICE}.{service}")
        };
        let value = self.call(&service, Body::Raw(body)).await?;
        if let Some(status) = crate::operations::find_status(&value)
            && let Ok(status) =
                serde_json::from_value::<crate::operations::ResponseStatus>(status.clone())
            && !status.is_success
            && status.success_entitys.is_empty()
        {
            return Err(status.into_error(api_name(&service)));
        }
        Ok(value)
    }

    /// Calls a `DynamicFormService` operation.
    pub(crate) async fn form_call(&self, op: &str, body: Body) -> Result<Value> {
        self.call(&format!("{DYNAMIC_FORM_SERVICE}.{op}"), body)
            .await
    }

    /// Calls a service within the session: logs in first for session
    /// modes, and once more when the service says the session is lost (then
    /// repeats the call once).
    pub(crate) async fn call(&self, service: &str, body: Body) -> Result<Value> {
        let body = body.render(self.inner.body_style);
        self.with_session(|| self.post(service, &body)).await
    }

    /// One POST with headers and cookies, retried by the transport.
    pub(crate) async fn post(&self, service: &str, body: &Value) -> Result<Value> {
        let api = api_name(service);
        let url = format!("{}/{service}.common.kdsvc", self.inner.server_url);
        let path = url::Url::parse(&url)
            .map(|u| u.path().to_owned())
            .map_err(|e| Error::invalid(api, format!("bad URL: {e}")))?;
        let bytes = serde_json::to_vec(body).map_err(|e| Error::invalid(api, e.to_string()))?;
        self.inner
            .transport
            .execute(
                api,
                |http| {
                    let mut request = http
                        .post(&url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .header(reqwest::header::ACCEPT_CHARSET, "utf-8");
                    if let Auth::AppSignature(credentials) = &self.inner.auth {
                        let signed = sign(credentials, &path, chrono::Utc::now().timestamp());
                        for (name, value) in signed.pairs() {
                            request = request.header(name, value);
                        }
                    }
                    let jar = self.cookies();
                    if let Some(sid) = jar.session_id() {
                        request = request.header(SESSION_COOKIE, sid);
                    }
                    request = request.header(reqwest::header::COOKIE, jar.header());
                    Ok(request.body(bytes.clone()))
                },
                |raw| self.parse(api, raw),
            )
            .await
    }

    fn parse(&self, api: &str, raw: RawResponse) -> Result<Value> {
        let set_cookies = raw
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        self.cookies().store(set_cookies);
        decode_body(api, &raw)
    }
}

/// Decodes an answer: status 200/206, the `response_error:` prefix, JSON
/// (an object by core's [`envelope::json_object`]), and the envelope's
/// whole-call failures (session lost, denied, throttled; see
/// [`crate::ResponseStatus::fails_whole_call`]).
pub(crate) fn decode_body(api: &str, raw: &RawResponse) -> Result<Value> {
    let status = raw.status.as_u16();
    if status != 200 && status != 206 {
        if let Some(e) = raw.http_error() {
            return Err(e.into());
        }
        return Err(raw
            .decode_error(format!("unexpected HTTP status {status}"))
            .into());
    }
    let body: &[u8] = raw.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw.body);
    let body = body.trim_ascii_start();
    if let Some(rest) = body.strip_prefix(b"response_error:") {
        let message = integration_core::secret::excerpt(rest.trim_ascii(), 300);
        let failure = Failure::new(api, message).with_code("response_error");
        return Err(Error::ResponseError(failure));
    }
    let value = match body.first() {
        Some(b'{') | None => Value::Object(envelope::json_object(raw)?),
        // Not only objects: the query services answer with arrays (rows, or
        // `[[{"Result": ...}]]` for errors) and `call_raw` passes any JSON on.
        _ => serde_json::from_slice(body)
            .map_err(|e| raw.decode_error(format!("invalid JSON ({e})")))?,
    };
    if let Some(status) = crate::operations::find_status(&value)
        && let Ok(status) =
            serde_json::from_value::<crate::operations::ResponseStatus>(status.clone())
        && status.fails_whole_call()
    {
        return Err(status.into_error(api));
    }
    Ok(value)
}
