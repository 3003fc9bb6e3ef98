//! A stateful fake jdy server, V1 and V2 on one port (feature `testing`).
//!
//! It models the real service as the fact sheet describes it:
//!
//! - **V2**: checks the six `X-Api-*` headers on every call, recomputes the
//!   signature from the decoded query with its own encoder, rejects a
//!   timestamp more than 5 minutes off, serves `push_app_authorize` (array of
//!   authorisations) and `kingdee_auth_token` (`data["app-token"]`, checked
//!   against the current, rotatable app secret: `1030002006` when wrong),
//!   requires `app-token` on `/jdy/v2/*`, and answers `404 No Route` to a
//!   wrong `X-GW-Router-Addr`. A missing one is served: the generated
//!   official PHP SDK never sends it and its calls work.
//! - **V1**: `access_token` from client id/secret + user login (with
//!   `expires_in` when [`FakeState::v1_expires_in`] is set), account
//!   groups, business calls checked for the token and the `accountId` /
//!   `groupName` headers; `{success, data}` envelopes, HTTP 519 with
//!   `description_cn` for gateway errors.
//! - Purchase inbound and sales outbound lists with every filter, detail
//!   with lines (the V2 list omits the lines, the V1 list carries them),
//!   customers / suppliers / materials list, detail and save (stored, so
//!   later reads see them), paging with the real rules (page size capped
//!   at 100, `count` as text, `total_page`).
//! - Faults through the core kit; seeding with realistic data.
//!
//! Error codes the fact sheet does not know (bad signature, stale
//! timestamp, invalid token, throttling, validation) are this fake's own
//! choice; see [`codes`].

mod handlers;
mod seed;
mod state;

use std::time::Duration;

use chrono::Utc;
use integration_core::ClientConfig;
use integration_core::testing::{FakeServer, FaultStyle, ResponseTemplate, fast_retry, matchers};
use serde_json::{Value, json};

use crate::client::{Client, ClientBuilder, Credentials, V1Credentials, V2Credentials};

use handlers::handle;
use seed::seed_state;
use state::{beijing_text, initial_state};

pub use state::FakeState;

/// The V2 developer application's client id the fake accepts.
pub const CLIENT_ID: &str = "205022";
/// The V2 client secret the fake accepts.
pub const CLIENT_SECRET: &str = "fake-client-secret-7d1e4c9a2b";
/// The authorisation instance the fake knows.
pub const OUTER_INSTANCE_ID: &str = "1001889900112233";
/// The account book id of the fake's (only) V2 authorisation.
pub const ACCOUNT_ID: &str = "1611260000000000101";
/// The fake's V2 app key.
pub const APP_KEY: &str = "fkApp01";
/// The routing domain the fake hands out (and the only `X-GW-Router-Addr`
/// it accepts when one is sent).
pub const DOMAIN: &str = "https://tf.jdy.com";
/// The V1 client id the fake accepts.
pub const V1_CLIENT_ID: &str = "jdy-v1-demo";
/// The V1 client secret the fake accepts.
pub const V1_CLIENT_SECRET: &str = "fake-v1-secret-55aa";
/// The V1 login the fake accepts.
pub const V1_USERNAME: &str = "13800138000";
/// The V1 password the fake accepts.
pub const V1_PASSWORD: &str = "fake-password-9q8w";
/// The V1 account the fake's credentials select.
pub const V1_ACCOUNT_ID: &str = "8890001";
/// The V1 account group the fake's credentials select (the fake lists a
/// second one, so a selection is required).
pub const V1_GROUP_NAME: &str = "华东贸易账套";

/// Codes the fake answers with. Only [`codes::APP_KEY_CHECK_FAILED`] is
/// documented; the others are the fake's choice (the real ones are unknown).
pub mod codes {
    /// `授权密钥校验失败` (documented).
    pub const APP_KEY_CHECK_FAILED: i64 = 1_030_002_006;
    /// Bad `X-Api-Signature` (fake's choice).
    pub const SIGNATURE: i64 = 1_030_002_001;
    /// Timestamp more than 5 minutes off (fake's choice).
    pub const TIMESTAMP: i64 = 1_030_002_002;
    /// Unknown client id or missing signing header (fake's choice).
    pub const CLIENT: i64 = 1_030_002_003;
    /// Invalid or expired `app-token` (fake's choice).
    pub const TOKEN: i64 = 1_030_002_005;
    /// Validation failure of a save (fake's choice).
    pub const VALIDATION: i64 = 2_000_001_001;
    /// Throttled (fake's choice; sent with HTTP 429).
    pub const THROTTLED: i64 = 429;
}

struct JdyFaultStyle;

impl FaultStyle for JdyFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429).set_body_json(json!({
            "errcode": codes::THROTTLED, "description": "请求过于频繁，请稍后再试", "success": false, "data": null
        }))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({
            "errcode": codes::TOKEN, "description": "app-token无效或已过期", "success": false,
            "code": "1001", "description_cn": "token无效或已过期", "data": null
        }))
    }
}

/// A running fake jdy server (V1 and V2).
pub struct FakeJdy {
    server: FakeServer<FakeState>,
}

integration_core::fake_server_accessors!(FakeJdy, FakeState,
    start: initial_state(), JdyFaultStyle, routes: mount_routes);

async fn mount_routes(server: &FakeServer<FakeState>) {
    server.route(matchers::any(), handle).await;
}

impl FakeJdy {
    /// The V2 credentials the fake accepts.
    pub fn v2_credentials() -> V2Credentials {
        V2Credentials::new(CLIENT_ID, CLIENT_SECRET, OUTER_INSTANCE_ID).account_id(ACCOUNT_ID)
    }

    /// The credentials of the fake's clients: its V2 ones.
    pub fn credentials() -> Credentials {
        Self::v2_credentials().into()
    }

    /// The V1 credentials the fake accepts (with the account group chosen).
    pub fn v1_credentials() -> V1Credentials {
        V1Credentials::new(V1_CLIENT_ID, V1_CLIENT_SECRET, V1_USERNAME, V1_PASSWORD)
            .account_id(V1_ACCOUNT_ID)
            .group_name(V1_GROUP_NAME)
    }

    /// A client builder pointed at the fake, with fast retries, no rate
    /// limit and the V2 credentials (`.credentials(..)` replaces them).
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .timeout(Some(Duration::from_secs(10)))
            .retry(fast_retry())
            .credentials(Self::v2_credentials());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A V2 client for the fake.
    pub fn v2_client(&self) -> Client {
        match self
            .client_builder()
            .credentials(Self::v2_credentials())
            .build()
        {
            Ok(client) => client,
            Err(e) => panic!("the fake's V2 client must build: {e}"),
        }
    }

    /// A V1 client for the fake.
    pub fn v1_client(&self) -> Client {
        match self
            .client_builder()
            .credentials(Self::v1_credentials())
            .build()
        {
            Ok(client) => client,
            Err(e) => panic!("the fake's V1 client must build: {e}"),
        }
    }

    /// Rotates the V2 app secret (as jdy does about daily): tokens asked
    /// for with the old secret's signature get `1030002006`.
    pub fn rotate_app_secret(&self) {
        let mut state = self.state();
        state.next_id += 1;
        state.app_secret = format!("rotated-app-secret-{}", state.next_id);
    }

    /// Invalidates every issued V1 and V2 token.
    pub fn expire_tokens(&self) {
        let mut state = self.state();
        state.app_tokens.clear();
        state.access_tokens.clear();
    }

    /// Seeds reproducible, realistic data: 8 suppliers, 8 customers, 12
    /// materials, `bills` purchase inbound bills and `bills / 2` sales
    /// outbound bills spread over January–June 2026, with 1–4 lines each.
    pub fn seed(&self, bills: usize, seed: u64) {
        let mut state = self.state();
        seed_state(&mut state, bills, seed);
    }

    /// Adds a purchase inbound bill (V2 field names; `id`, times and
    /// `total_amount` are filled when missing) and returns its id.
    pub fn insert_pur_inbound(&self, mut bill: Value) -> String {
        let mut state = self.state();
        let id = state.new_id();
        if let Value::Object(map) = &mut bill {
            map.entry("id").or_insert_with(|| Value::String(id.clone()));
            let now = beijing_text(Utc::now());
            map.entry("create_time")
                .or_insert_with(|| Value::String(now.clone()));
            map.entry("modify_time")
                .or_insert_with(|| Value::String(now));
        }
        let id = bill["id"].as_str().unwrap_or_default().to_owned();
        state.pur_inbound.push(bill);
        id
    }

    /// Marks a purchase inbound bill as modified now; returns whether it exists.
    pub fn touch_pur_inbound(&self, id: &str) -> bool {
        let mut state = self.state();
        let now = beijing_text(Utc::now());
        match state.pur_inbound.iter_mut().find(|b| b["id"] == id) {
            Some(bill) => {
                bill["modify_time"] = Value::String(now);
                true
            }
            None => false,
        }
    }
}

// The fake as every connector's fake is driven ([`Fake`]), speaking V2 (the
// current API). Unlike [`FakeJdy::client_builder`], which leaves the version
// to the test, this builder carries the V2 credentials: the trait's builder
// comes with the fake's credentials.
integration_core::impl_fake!(FakeJdy {
    builder: ClientBuilder,
    credentials: Credentials = credentials(),
    base_url: uri(),
});
