//! A stateful fake 销帮帮 Pro API (feature `testing`).
//!
//! It checks `sign` over the raw body with the tenant's token (or a
//! personal token it issued), answers with the `{code, msg, success}` error
//! envelope when something is wrong, serves `form/list` and `form/get` (the
//! real contract form of the scheme document and a customer form), stores
//! records per form with `addTime`/`updateTime` in unix seconds, applies
//! list conditions and 1-based paging (page size capped at 100), enforces
//! required fields, option texts, `ownerId` arrays and no-repeat fields on
//! writes, wants `dataId`/`formId` as JSON integers on detail, add, edit,
//! del and `form/get` (lists stay lenient and accept text), and supports the
//! kit's faults (throttle code 100004, auth code 100003).
//!
//! Error codes the real API never showed are fake-server choices, listed in
//! the crate's "Assumptions".

mod handlers;
mod seed;
mod state;

use integration_core::ClientConfig;
use integration_core::testing::{FakeServer, FaultStyle, ResponseTemplate, fast_retry};
use serde_json::{Map, Value};

use crate::client::{Client, ClientBuilder};

pub use state::{FakeForm, FakeState, StoredRecord, customer_form_explain};

use handlers::{ApiPath, envelope_error, handle};

/// The corpid the fake knows.
pub const CORPID: &str = "ding-fake-corp-0001";
/// The company API token of [`CORPID`].
pub const TOKEN: &str = "fake-company-token-3f9c2a7b5d1e4c60";
/// A user of the fake (the operator, 14-digit DingTalk-style id).
pub const USER_ID: &str = "01234567890123";
/// The contract form (business type 201), served from the real `form/get`
/// reply of the scheme document.
pub const CONTRACT_FORM_ID: i64 = 572924;
/// The customer form (business type 100).
pub const CUSTOMER_FORM_ID: i64 = 572901;
/// The real `form/get` reply of a contract form (scheme document).
pub const CONTRACT_FORM_GET_JSON: &str =
    include_str!("../../tests/fixtures/xbongbong-contract-form-get.json");

/// Throttle code answered by the fake (a fake-server choice: legacy
/// "server busy").
pub const THROTTLE_CODE: i64 = 100004;
/// Code for a bad signature (legacy "权限验证失败").
pub const AUTH_FAILED_CODE: i64 = 100003;
/// Code for a missing required field (legacy "required parameter missing").
pub const REQUIRED_CODE: i64 = 100005;
/// Code for "no such data / form".
pub const NOT_FOUND_CODE: i64 = 100006;
/// Code for a no-repeat violation (legacy duplicate code).
pub const DUPLICATE_CODE: i64 = 201005;

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The corpid.
    pub corpid: &'static str,
    /// The company API token.
    pub token: &'static str,
    /// A known operator user id.
    pub user_id: &'static str,
}

struct Style;

impl FaultStyle for Style {
    fn throttled(&self) -> ResponseTemplate {
        envelope_error(THROTTLE_CODE, "请求过于频繁,请稍后再试")
    }
    fn auth_expired(&self) -> ResponseTemplate {
        envelope_error(AUTH_FAILED_CODE, "权限验证失败")
    }
}

/// The fake server.
pub struct FakeXbongbong {
    server: FakeServer<FakeState>,
}

integration_core::fake_server_accessors!(FakeXbongbong, FakeState,
    start: FakeState::default(), Style, routes: mount_routes);

async fn mount_routes(server: &FakeServer<FakeState>) {
    server.route(ApiPath, handle).await;
}

impl FakeXbongbong {
    /// The credentials the fake accepts.
    pub fn credentials() -> Credentials {
        Credentials {
            corpid: CORPID,
            token: TOKEN,
            user_id: USER_ID,
        }
    }

    /// A client builder pointed at the fake with its credentials, no rate
    /// limits and fast retries (for tests).
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .corpid(CORPID)
            .token(TOKEN)
            .write_rate_limit(None)
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A client for the fake (see [`FakeXbongbong::client_builder`]).
    pub fn client(&self) -> Client {
        match self.client_builder().build() {
            Ok(c) => c,
            Err(e) => panic!("the fake's client settings are valid: {e}"),
        }
    }

    /// Issues a new personal token for `user_id` (as an admin's reset does);
    /// the old one stops working.
    pub fn reset_personal_token(&self, user_id: &str) {
        let mut state = self.state();
        state.tokens_issued += 1;
        let token = format!("user_{:032x}", 0xabc0_0000 + state.tokens_issued);
        state.personal_tokens.insert(user_id.to_owned(), token);
    }

    /// Stores a record as written (no validation) with explicit times.
    pub fn insert(
        &self,
        module: &str,
        form_id: i64,
        add_time: i64,
        update_time: i64,
        data: Map<String, Value>,
    ) -> i64 {
        let mut state = self.state();
        let id = state.next_id;
        state.next_id += 1;
        state.records.push(StoredRecord {
            data_id: id,
            form_id,
            module: module.to_owned(),
            add_time,
            update_time,
            deleted: false,
            data,
        });
        id
    }

    /// Records of a module, in insertion order (recycle bin included).
    pub fn records(&self, module: &str) -> Vec<StoredRecord> {
        self.state()
            .records
            .iter()
            .filter(|r| r.module == module)
            .cloned()
            .collect()
    }
}

// The fake as every connector's fake is driven ([`Fake`]). xbongbong has
// no credentials type of its own (the builder takes `corpid` and `token`),
// so this is the fake's [`Credentials`].
integration_core::impl_fake!(FakeXbongbong {
    builder: ClientBuilder,
    credentials: Credentials = credentials(),
    base_url: uri(),
});
