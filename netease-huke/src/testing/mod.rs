//! A stateful fake Huke server (feature `testing`).
//!
//! [`FakeHuke`] listens on loopback and behaves like the model of the API in
//! this crate's docs: it checks the four `ur-*` signature headers of every
//! call against the raw body (wrong → HTTP 200 with `{"code":401,"msg":…}`),
//! stores trades and customers, filters `searchTrades` by `source`,
//! `dealerList` and every `timeRanges` entry on the field its `timeType`
//! names, pages 1-based with a page-size maximum, and injects the kit's
//! faults with Huke's envelopes.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use netease_huke::testing::FakeHuke;
//! let fake = FakeHuke::start().await;
//! fake.seed_trades(30, 7);
//! let client = fake.client_builder().build()?;
//! let fields = client.customers().fields().await?;
//! assert!(!fields.is_empty());
//! # Ok::<(), netease_huke::Error>(())
//! # }).unwrap();
//! ```

mod handlers;
mod seed;
mod state;

use integration_core::testing::{FakeServer, ResponseTemplate, fast_retry};
pub use integration_core::testing::{Fault, FaultStyle, Faults};
use integration_core::{ClientConfig, Secret};
use serde_json::Value;

use crate::auth::Credentials;
use crate::client::ClientBuilder;
use crate::error::{CODE_AUTH, CODE_THROTTLED};
use crate::trade::Trade;

pub use seed::generate_trades;
pub use state::HukeState;

/// The app key the fake accepts by default.
pub const APP_KEY: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The app secret the fake accepts by default.
pub const APP_SECRET: &str = "00112233445566778899aabbccddeeff";

/// Huke's envelopes for injected throttling and stale signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct HukeFaultStyle;

impl FaultStyle for HukeFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        handlers::envelope(CODE_THROTTLED, "请求过于频繁,请稍后重试", Value::Null)
    }
    fn auth_expired(&self) -> ResponseTemplate {
        handlers::envelope(CODE_AUTH, "curtime expired", Value::Null)
    }
}

/// A running fake Huke server.
pub struct FakeHuke {
    server: FakeServer<HukeState>,
}

integration_core::fake_server_accessors!(FakeHuke, HukeState,
    start: HukeState::default(), HukeFaultStyle, routes: handlers::mount);

impl FakeHuke {
    /// Starts a fake with the given state on a free loopback port.
    pub async fn start_with(state: HukeState) -> Self {
        Self::from_server(FakeServer::start(state, HukeFaultStyle).await).await
    }

    /// The credentials the fake accepts ([`APP_KEY`], [`APP_SECRET`]).
    pub fn credentials() -> Credentials {
        Credentials::new(APP_KEY, Secret::new(APP_SECRET))
    }

    /// The API root to give [`ClientBuilder::base_url`]: `http://127.0.0.1:port/openapi`.
    pub fn base_url(&self) -> String {
        format!("{}/openapi", self.server.uri())
    }

    /// A client builder pointed at this fake with its credentials, no rate
    /// limit and millisecond retry backoffs ([`fast_retry`]).
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = crate::Client::builder()
            .base_url(self.base_url())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// The underlying kit server (received requests, address).
    pub fn server(&self) -> &FakeServer<HukeState> {
        &self.server
    }

    /// Stores one trade as given.
    pub fn insert_trade(&self, trade: &Trade) {
        if let Ok(Value::Object(map)) = serde_json::to_value(trade) {
            self.state().trades_mut().push(map);
        }
    }
}

// The fake as every connector's fake is driven ([`Fake`]). The base URL is
// the API root, `/openapi` included ([`FakeHuke::base_url`]).
integration_core::impl_fake!(FakeHuke {
    builder: ClientBuilder,
    credentials: Credentials = credentials(),
    base_url: base_url(),
});
