//! A stateful fake of the YonBIP open API (feature `testing`).
//!
//! [`FakeYonBip`] serves, on loopback:
//! - data-centre discovery `GET /open-auth/dataCenter/getGatewayAddress?tenantId=…`
//!   (answers with this server's `/iuap-api-gateway` and `/iuap-api-auth`);
//! - the token call `GET /iuap-api-auth/open-auth/selfAppAuth/base/v1/getAccessToken`
//!   (and the older `…/selfAppAuth/getAccessToken`), which checks the app key,
//!   the timestamp (±10 min) and the HMAC-SHA256 signature, and issues tokens
//!   that expire after [`FakeState::token_ttl`];
//! - merchant save / list / detail, sales order and product list / detail
//!   under `/iuap-api-gateway/yonbip/…`, each checking `access_token`: a token
//!   it never issued is answered with `310036` (非法token), an expired one with
//!   `1090003500065`, as YonBIP does.
//!
//! Business refusals (validation, a duplicate code, a detail query without
//! id) carry YonBIP's business code `999` ([`CODE_INVALID`]); throttling is
//! HTTP 429 (YonBIP has no known throttling code).
//!
//! Saves are stored and visible to later lists; lists paginate with
//! `pageIndex` from 1, `pageSize` ≤ 500, `recordCount`/`pageCount`. Faults
//! are injected through [`FakeYonBip::faults`]. Seeding helpers add
//! realistic Chinese data.

mod handlers;
mod seed;
mod state;

use integration_core::testing::{FakeServer, FaultStyle, ResponseTemplate, fast_retry};
use serde_json::json;

use crate::assumed;
use crate::client::ClientBuilder;

pub use state::FakeState;

/// The app key the fake accepts (the fact sheet's first test vector).
pub const APP_KEY: &str = "41e6b3b5a0e24cd6a0e2d4f1c4b7d0a9";
/// The app secret the fake accepts.
pub const APP_SECRET: &str = "7c9d5a1f0e8b4c3a9f2e6d1b5a8c7e4f";
/// The tenant id the fake's discovery knows.
pub const TENANT_ID: &str = "qyic8c7o";
/// A management org id (管理组织) the fake's data uses.
pub const CREATE_ORG: &str = "1481709712348020742";
/// A customer class id (客户分类) the fake's data uses.
pub const CUSTOMER_CLASS: &str = "1481712151907270669";
/// The gateway path prefix under the fake's URI.
pub const GATEWAY_PREFIX: &str = "/iuap-api-gateway";
/// The token service path prefix under the fake's URI.
pub const AUTH_PREFIX: &str = "/iuap-api-auth";
/// The business error code the fake answers validation failures and
/// duplicates with: YonBIP's `999` ([`assumed::BUSINESS_ERROR_CODE`]).
pub const CODE_INVALID: &str = assumed::BUSINESS_ERROR_CODE;
/// The business error code the fake uses for a record that does not exist
/// (invented).
pub const CODE_NOT_FOUND: &str = "310008";
/// The code the fake's discovery answers for an unknown tenant (invented).
pub const CODE_UNKNOWN_TENANT: &str = "1090003502";

/// The fake's throttle and token-expired answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct YonBipFaults;

impl FaultStyle for YonBipFaults {
    /// HTTP 429: there is no known throttling code (`999` is a business code).
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429).set_body_json(json!({"message": "请求过于频繁，请稍后重试"}))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        handlers::token_expired()
    }
}

/// A running fake YonBIP server.
pub struct FakeYonBip {
    server: FakeServer<FakeState>,
}

integration_core::fake_server_accessors!(FakeYonBip, FakeState,
    start: FakeState::default(), YonBipFaults, routes: mount_routes);

/// Records the server's URI in the state (discovery answers with it) and
/// installs the routes.
async fn mount_routes(server: &FakeServer<FakeState>) {
    server.state().base_uri = server.uri();
    handlers::mount(server).await;
}

impl FakeYonBip {
    /// The app key and app secret the fake accepts.
    pub fn credentials() -> (&'static str, &'static str) {
        (APP_KEY, APP_SECRET)
    }

    /// The gateway base URL (`{uri}/iuap-api-gateway`).
    pub fn gateway_url(&self) -> String {
        format!("{}{GATEWAY_PREFIX}", self.uri())
    }

    /// The token base URL (`{uri}/iuap-api-auth`).
    pub fn token_url(&self) -> String {
        format!("{}{AUTH_PREFIX}", self.uri())
    }

    /// A client builder for this fake: its credentials, discovery of
    /// [`TENANT_ID`] on this server, and fast retries ([`fast_retry`]).
    pub fn client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .app_key(APP_KEY)
            .app_secret(APP_SECRET)
            .tenant_id(TENANT_ID)
            .base_url(self.uri())
            .retry(fast_retry())
    }

    /// The underlying kit server (received requests, routes).
    pub fn server(&self) -> &FakeServer<FakeState> {
        &self.server
    }

    /// Makes every issued token expire, so the next call with one is answered
    /// with the token-expired code `1090003500065`.
    pub fn expire_tokens(&self) {
        self.state().expire_tokens();
    }

    /// How many tokens the fake issued.
    pub fn token_fetches(&self) -> u32 {
        self.state().token_fetches
    }
}

// The fake as every connector's fake is driven ([`Fake`]). The base URL is
// the discovery host, as the client then finds the gateway and token URLs
// there. YonBIP has no credentials type (the builder takes `app_key` and
// `app_secret`), so this is the `(app_key, app_secret)` pair; the tenant is
// [`TENANT_ID`].
integration_core::impl_fake!(FakeYonBip {
    builder: ClientBuilder,
    credentials: (&'static str, &'static str) = credentials(),
    base_url: uri(),
});
