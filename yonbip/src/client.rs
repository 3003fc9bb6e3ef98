//! The YonBIP client and its builder: configuration, endpoint discovery and
//! the business call every typed API goes through. The access token (its
//! request, cache and refresh) lives in [`crate::auth`].

use std::sync::Arc;
use std::time::Duration;

use integration_core::{ClientSettings, Secret, Transport, lenient};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::assumed;
use crate::auth::{self, Tokens};
use crate::error::{self, Error, Result, SYSTEM, as_auth_failure};

/// Where a tenant's APIs live: the business gateway and the token service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Base URL of business calls, e.g. `https://c2.yonyoucloud.com/iuap-api-gateway`.
    pub gateway_url: String,
    /// Base URL of the token call, e.g. `https://c2.yonyoucloud.com/iuap-api-auth`.
    pub token_url: String,
}

#[derive(Debug, Clone)]
enum Location {
    Discover {
        discovery_url: String,
        tenant_id: String,
    },
    Fixed(Endpoints),
}

/// A YonBIP open-API client for one self-built app of one tenant.
///
/// Cheap to clone: clones share the connection pool, the rate limiter, the
/// discovered endpoints and the access token. `Debug` never shows the app
/// secret or the token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) app_key: String,
    pub(crate) app_secret: Secret,
    location: Location,
    pub(crate) token_path: String,
    discovered: tokio::sync::OnceCell<Endpoints>,
    pub(crate) tokens: Tokens,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("app_key", &self.inner.app_key)
            .field("app_secret", &self.inner.app_secret)
            .field("location", &self.inner.location)
            .field("token_path", &self.inner.token_path)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
///
/// The shared settings (`base_url`, `timeout`, `connect_timeout`,
/// `rate_limit`, `retry`, `user_agent`, ...) are set as on every
/// connector's builder ([`ClientSettings`]). The base URL is the discovery
/// host, the service's entry point (default [`assumed::DISCOVERY_URL`]);
/// [`gateway_url`](Self::gateway_url) and [`token_url`](Self::token_url)
/// skip discovery.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    settings: ClientSettings,
    app_key: Option<String>,
    app_secret: Option<Secret>,
    tenant_id: Option<String>,
    gateway_url: Option<String>,
    token_url: Option<String>,
    token_path: String,
    refresh_margin: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            settings: ClientSettings::default(),
            app_key: None,
            app_secret: None,
            tenant_id: None,
            gateway_url: None,
            token_url: None,
            token_path: auth::TOKEN_PATH.to_owned(),
            refresh_margin: Duration::from_secs(assumed::TOKEN_REFRESH_MARGIN_SECS),
        }
    }
}

integration_core::client_settings!(ClientBuilder);

impl ClientBuilder {
    /// The self-built app's key (`appKey`).
    pub fn app_key(mut self, app_key: impl Into<String>) -> Self {
        self.app_key = Some(app_key.into());
        self
    }

    /// The self-built app's secret (`appSecret`); only used to sign.
    pub fn app_secret(mut self, app_secret: impl Into<Secret>) -> Self {
        self.app_secret = Some(app_secret.into());
        self
    }

    /// The tenant id: the gateway and token URLs are discovered from it on
    /// first use (unless both are set directly).
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// The discovery host (default the public `https://apigateway.yonyoucloud.com`),
    /// in YonBIP's word: [`base_url`](Self::base_url), which it sets.
    pub fn discovery_url(self, url: impl Into<String>) -> Self {
        self.base_url(url)
    }

    /// The business gateway base URL, skipping discovery (private
    /// deployments, fakes). Needs [`ClientBuilder::token_url`] too.
    pub fn gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = Some(url.into());
        self
    }

    /// The token service base URL, skipping discovery. Needs
    /// [`ClientBuilder::gateway_url`] too.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The token call's path under the token base URL (default
    /// [`auth::TOKEN_PATH`], the `base/v1` path documented since 2023-07;
    /// [`auth::LEGACY_TOKEN_PATH`] for deployments that only serve the older one).
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// How long before its announced expiry a token is replaced (default 5 min).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Builds the client. Fails when the app key or secret is missing, or
    /// when neither a tenant id nor both base URLs are set.
    pub fn build(self) -> Result<Client> {
        let app_key = self
            .app_key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::Config("the app key is missing".into()))?;
        let app_secret = self
            .app_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Config("the app secret is missing".into()))?;
        let trim = |s: String| s.trim().trim_end_matches('/').to_owned();
        let token_path = format!("/{}", self.token_path.trim().trim_start_matches('/'));
        let location = match (self.gateway_url, self.token_url, self.tenant_id) {
            (Some(gateway_url), Some(token_url), _) => Location::Fixed(Endpoints {
                gateway_url: trim(gateway_url),
                token_url: trim(token_url),
            }),
            (None, None, Some(tenant_id)) if !tenant_id.trim().is_empty() => Location::Discover {
                discovery_url: self
                    .settings
                    .base_url_or(SYSTEM, assumed::DISCOVERY_URL)
                    .map_err(|e| Error::Config(e.message().to_owned()))?,
                tenant_id,
            },
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err(Error::Config(
                    "set both the gateway URL and the token URL, or neither".into(),
                ));
            }
            _ => {
                return Err(Error::Config(
                    "set a tenant id (for discovery) or the gateway and token URLs".into(),
                ));
            }
        };
        let transport = self.settings.transport(SYSTEM)?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                app_key,
                app_secret,
                location,
                token_path,
                discovered: tokio::sync::OnceCell::new(),
                tokens: Tokens::new(self.refresh_margin),
            }),
        })
    }
}

#[derive(serde::Deserialize)]
struct GatewayAddress {
    #[serde(rename = "gatewayUrl")]
    gateway_url: String,
    #[serde(rename = "tokenUrl")]
    token_url: String,
}

impl Client {
    /// A builder with the public discovery host as default.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The app key this client signs with.
    pub fn app_key(&self) -> &str {
        &self.inner.app_key
    }

    /// The gateway and token base URLs, discovered from the tenant id on
    /// first use (and then cached) unless they were configured.
    pub async fn endpoints(&self) -> Result<Endpoints> {
        match &self.inner.location {
            Location::Fixed(endpoints) => Ok(endpoints.clone()),
            Location::Discover {
                discovery_url,
                tenant_id,
            } => self
                .inner
                .discovered
                .get_or_try_init(|| self.discover(discovery_url, tenant_id))
                .await
                .cloned(),
        }
    }

    async fn discover(&self, discovery_url: &str, tenant_id: &str) -> Result<Endpoints> {
        let api = "getGatewayAddress";
        let url = format!("{discovery_url}{}", assumed::DISCOVERY_PATH);
        let data = self
            .inner
            .transport
            .execute(
                api,
                |http| Ok::<_, Error>(http.get(&url).query(&[("tenantId", tenant_id)])),
                |raw| {
                    error::decode_envelope(api, &raw, assumed::AUTH_SUCCESS_CODE)
                        .map_err(as_auth_failure)
                },
            )
            .await?;
        let address: GatewayAddress = lenient::decode(data).map_err(|e| {
            Error::from(integration_core::Error::new(
                SYSTEM,
                api,
                integration_core::ErrorKind::Decode,
                format!("the discovery answer has no gatewayUrl/tokenUrl ({e})"),
            ))
        })?;
        tracing::debug!(gateway = %address.gateway_url, "discovered the tenant's data centre");
        Ok(Endpoints {
            gateway_url: address.gateway_url.trim_end_matches('/').to_owned(),
            token_url: address.token_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Sends one business call with the cached token; on a token-expired
    /// answer fetches a new token once and repeats once.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T> {
        let endpoints = self.endpoints().await?;
        let path = path.trim_start_matches('/');
        let url = format!("{}/{path}", endpoints.gateway_url);
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::Config(format!("cannot encode the body: {e}")))?;
        let api = path;
        self.with_token(|token: Secret| {
            let (method, url, body) = (method.clone(), &url, &body);
            async move {
                self.inner
                    .transport
                    .execute(
                        api,
                        |http| {
                            let mut request = http
                                .request(method.clone(), url)
                                .query(query)
                                .query(&[("access_token", token.expose())]);
                            if let Some(body) = body {
                                request = request
                                    .header(
                                        reqwest::header::CONTENT_TYPE,
                                        "application/json;charset=utf-8",
                                    )
                                    .body(body.clone());
                            }
                            Ok::<_, Error>(request)
                        },
                        |raw| error::decode_business::<T>(api, &raw),
                    )
                    .await
            }
        })
        .await
    }

    /// Calls any business API by its path under the gateway (e.g.
    /// `yonbip/digitalModel/merchant/list`) with a JSON body (POST), and
    /// returns the answer's `data`. Auth, retries and error decoding are the
    /// same as for the typed calls.
    pub async fn call_raw(&self, path: &str, body: Value) -> Result<Value> {
        self.send(Method::POST, path, &[], Some(&body)).await
    }

    /// Like [`Client::call_raw`] for a GET API with query parameters (the
    /// access token is added).
    pub async fn call_raw_get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value> {
        let query: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        self.send(Method::GET, path, &query, None).await
    }

    /// Merchants (客户档案).
    pub fn merchants(&self) -> crate::merchant::Merchants {
        crate::merchant::Merchants::new(self.clone())
    }

    /// Sales orders (销售订单).
    pub fn sales_orders(&self) -> crate::sales_order::SalesOrders {
        crate::sales_order::SalesOrders::new(self.clone())
    }

    /// Products (物料).
    pub fn products(&self) -> crate::product::Products {
        crate::product::Products::new(self.clone())
    }
}
