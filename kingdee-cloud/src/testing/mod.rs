//! A stateful fake K/3 Cloud WebAPI (feature `testing`).
//!
//! It checks the app signature the way the official SDKs build it (with
//! `x-api-timestamp` in seconds, as the Python SDK sends it, or in
//! milliseconds, as the Java SDK does) and the session cookie for session
//! logins, stores models per form id, answers Save/BatchSave with realistic
//! `ResponseStatus` (numbers allocated; duplicate numbers, missing required
//! fields and status refusals as `MsgCode` 11 with `ErrorCode` 500 and the
//! per-model `Errors` by `DIndex`, as real sites answer), filters
//! ExecuteBillQuery with the common string `FilterString` forms and pages
//! it (the array form is refused with `MsgCode` 8, never answered with
//! every row), and accepts both the `{"formid","data"}` and the old
//! `{"parameters":[..]}` bodies. Faults come from the core testing kit;
//! throttling is the call-limit answer (`MsgCode` 14).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use kingdee_cloud::testing::FakeK3Cloud;
//! let fake = FakeK3Cloud::start().await;
//! fake.seed_customers(3);
//! let client = fake.client_builder().build().unwrap();
//! let rows: Vec<(String, String)> = client
//!     .execute_bill_query(&kingdee_cloud::BillQuery::new("BD_Customer", ["FNumber", "FName"]))
//!     .await
//!     .unwrap();
//! assert_eq!(rows.len(), 3);
//! # }
//! ```

pub mod filter;

mod handlers;
mod seed;
mod state;

use integration_core::testing::{FakeServer, FaultStyle, ResponseTemplate, fast_retry, matchers};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value};

use crate::auth::AppCredentials;
use crate::client::ClientBuilder;
use crate::error::msg_code;

pub use handlers::failure;
pub use state::{FakeState, FormMeta, FormStore, Rejections};

use handlers::{handle, json_ok};

/// The data centre id the fake accepts.
pub const ACCT_ID: &str = "62a1b2c3d4e5f6";
/// The user name the fake accepts.
pub const USER_NAME: &str = "demo";
/// The app id the fake accepts (fact-sheet vector 1).
pub const APP_ID: &str = "224466_T8cC4ZmM0ohdQe+Ov40NUZ8I2rSW11Pq";
/// The app secret the fake accepts.
pub const APP_SECRET: &str = "b3f1c0e5a8d94e6f9c2b7a1d0e3f4a5b";
/// The password the fake accepts for `ValidateUser`.
pub const PASSWORD: &str = "Kd@2026!demo";
/// The virtual directory of the fake site.
pub const VIRTUAL_DIR: &str = "/k3cloud";
/// The session-lost message the fake sends.
pub const SESSION_LOST_MESSAGE: &str = "会话信息已丢失，请重新登录";
/// The call-limit message the fake sends with `MsgCode` 14 (assumed
/// wording).
pub const CALL_LIMIT_MESSAGE: &str = "接口调用次数超过限制，请稍后再试";

/// How the fake throttles (`MsgCode` 14, the call limit) and reports a lost
/// session (`MsgCode` 1).
#[derive(Debug, Clone, Copy, Default)]
pub struct K3FaultStyle;

impl FaultStyle for K3FaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        json_ok(&failure(msg_code::CALL_LIMIT, CALL_LIMIT_MESSAGE, None))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        json_ok(&failure(msg_code::SESSION_LOST, SESSION_LOST_MESSAGE, None))
    }
}

/// A fake K/3 Cloud site on loopback.
pub struct FakeK3Cloud {
    server: FakeServer<FakeState>,
}

integration_core::fake_server_accessors!(FakeK3Cloud, FakeState,
    start: FakeState::default(), K3FaultStyle, routes: mount_routes);

async fn mount_routes(server: &FakeServer<FakeState>) {
    server
        .route(matchers::path_regex(r"\.common\.kdsvc$"), handle)
        .await;
}

impl FakeK3Cloud {
    /// The site URL to give [`ClientBuilder::server_url`], e.g.
    /// `http://127.0.0.1:41234/k3cloud`.
    pub fn server_url(&self) -> String {
        format!("{}{VIRTUAL_DIR}", self.server.uri())
    }

    /// The app-signature credentials the fake accepts.
    pub fn app_credentials() -> AppCredentials {
        AppCredentials::new(ACCT_ID, USER_NAME, APP_ID, APP_SECRET)
    }

    /// A client builder for this fake with app-signature auth and fast
    /// retries.
    pub fn client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .app_signature(Self::app_credentials())
            .retry(fast_retry())
    }

    /// A client builder for this fake with `ValidateUser` session login.
    pub fn password_client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .password_login(ACCT_ID, USER_NAME, PASSWORD)
            .retry(fast_retry())
    }

    /// A client builder for this fake with `LoginByAppSecret` session login.
    pub fn app_secret_client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .server_url(self.server_url())
            .app_secret_login(ACCT_ID, USER_NAME, APP_ID, APP_SECRET)
            .retry(fast_retry())
    }

    /// From now on rejects each saved model with `probability` (seeded,
    /// reproducible) with a validation error, while the rest of its batch
    /// is saved; `probability` 0 stops it.
    pub fn reject_models(&self, seed: u64, probability: f64) {
        self.state().rejections = (probability > 0.0).then(|| Rejections {
            rng: StdRng::seed_from_u64(seed),
            probability,
            rejected: 0,
        });
    }

    /// Models rejected by [`reject_models`](Self::reject_models) so far.
    pub fn rejected_models(&self) -> u64 {
        self.state().rejections.as_ref().map_or(0, |r| r.rejected)
    }

    /// From now on refuses to save `number` of `form_id` as a real site does
    /// while another user edits that record: the model fails with `MsgCode`
    /// 13 (网控冲突), the rest of its batch is saved.
    pub fn lock_number(&self, form_id: &str, number: &str) {
        self.state()
            .locked
            .insert((form_id.to_owned(), number.to_owned()));
    }

    /// Releases every lock taken with [`lock_number`](Self::lock_number).
    pub fn unlock_all(&self) {
        self.state().locked.clear();
    }

    /// Whether the site's licence is expired: every business call is then
    /// answered with `MsgCode` 7 (许可错误).
    pub fn set_licence_expired(&self, expired: bool) {
        self.state().licence_expired = expired;
    }

    /// Forgets every session: the next call answers "session lost".
    pub fn expire_sessions(&self) {
        self.state().sessions.clear();
    }

    /// The stored models of a form.
    pub fn records(&self, form_id: &str) -> Vec<Map<String, Value>> {
        self.state()
            .forms
            .get(form_id)
            .map(|f| f.records.clone())
            .unwrap_or_default()
    }
}

// The fake as every connector's fake is driven ([`Fake`]).
integration_core::impl_fake!(FakeK3Cloud {
    builder: ClientBuilder,
    credentials: AppCredentials = app_credentials(),
    base_url: server_url(),
});
