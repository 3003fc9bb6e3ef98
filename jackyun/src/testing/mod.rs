//! A stateful fake of the Jackyun gateway (feature `testing`).
//!
//! [`FakeJackyun`] serves `POST /open/openapi/do` on loopback and behaves
//! like the gateway: it form-decodes the body, checks the system parameters,
//! the app's subscription to the method, the MD5 sign and the timestamp
//! skew, answers with Jackyun's envelopes and sub-codes, stores customers so
//! a later query sees them, and pages goods (`maxSkuId`), trades (`scrollId`,
//! `fields`, 7-day windows), stock (`maxQuantityId`) and warehouses with
//! `pageSize` at most 200. Faults are injected through the core kit.

mod handlers;
mod seed;
mod state;

use chrono::{DateTime, Utc};
use integration_core::ClientConfig;
use integration_core::testing::{
    FakeServer, FaultStyle, Request, ResponseTemplate, fast_retry, json_response, matchers,
};

use crate::auth::{self, Credentials};
use crate::client::{Client, ClientBuilder};
use crate::error::{SUB_THROTTLED, SUB_TOKEN_ERROR};

use handlers::{error_body, handle};

pub use state::{FakeApp, FakeState};

/// The appkey the fake accepts by default.
pub const APPKEY: &str = "10000001";
/// The secret of [`APPKEY`].
pub const SECRET: &str = "fake-jackyun-secret-0123456789abcdef";
/// Sub-code the fake sends for a missing system parameter (the real one is
/// not public; this value is invented).
pub const SUB_MISSING_PARAM: &str = "0858030800";
/// Sub-code the fake sends for a stale timestamp (invented; clients
/// recognise the error by `时间戳` in the message).
pub const SUB_TIMESTAMP: &str = "0858030804";
/// Sub-code the fake sends for a duplicate customer code (invented).
pub const SUB_DUPLICATE: &str = "0050030003";

/// Methods the fake implements (and the default app subscribes to).
pub const METHODS: &[&str] = &[
    crate::customer::METHOD_ADD,
    crate::customer::METHOD_LIST,
    crate::customer::METHOD_LIST_CUSTOMIZED,
    crate::goods::METHOD_GOODS_LIST,
    crate::trade::METHOD_TRADES,
    crate::stock::METHOD_STOCK,
    crate::stock::METHOD_WAREHOUSES,
];

/// How the fake answers injected throttling and credential faults.
#[derive(Debug, Clone, Copy)]
pub struct JackyunFaults;

impl FaultStyle for JackyunFaults {
    fn throttled(&self) -> ResponseTemplate {
        json_response(&error_body(SUB_THROTTLED, "调用过于频繁，请稍后再试", "1"))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        json_response(&error_body(SUB_TOKEN_ERROR, "token无效或已过期", "1"))
    }
}

/// The envelope of a stale-timestamp rejection (for fault injection).
pub fn timestamp_rejection() -> ResponseTemplate {
    json_response(&error_body(
        SUB_TIMESTAMP,
        "时间戳已过期，请检查服务器时间",
        "1",
    ))
}

/// A running fake gateway.
pub struct FakeJackyun {
    server: FakeServer<FakeState>,
}

integration_core::fake_server_accessors!(FakeJackyun, FakeState,
    start: FakeState::default(), JackyunFaults, routes: mount_routes);

async fn mount_routes(server: &FakeServer<FakeState>) {
    server
        .route(
            matchers::path(crate::client::GATEWAY_PATH),
            |state: &mut FakeState, request: &Request| handle(state, request),
        )
        .await;
}

impl FakeJackyun {
    /// The credentials the fake accepts.
    pub fn credentials() -> Credentials {
        Credentials::new(APPKEY, SECRET)
    }

    /// A client builder pointed at the fake, with its credentials, fast
    /// retries ([`fast_retry`]) and no rate limit.
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = Client::builder()
            .base_url(self.uri())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// A client for the fake (see [`FakeJackyun::client_builder`]).
    pub fn client(&self) -> Client {
        // The builder above is valid by construction.
        match self.client_builder().build() {
            Ok(c) => c,
            Err(e) => panic!("fake client: {e}"),
        }
    }

    /// Seeds realistic data: `customers` customers, `goods` SKUs (with stock
    /// in three warehouses) and `trades` sales orders, modified over the four
    /// months before `until`. Deterministic for a given `until`.
    pub fn seed(&self, customers: usize, goods: usize, trades: usize, until: DateTime<Utc>) {
        let mut state = self.state();
        seed::seed(&mut state, customers, goods, trades, until);
    }
}

// The fake as every connector's fake is driven ([`Fake`]).
integration_core::impl_fake!(FakeJackyun {
    builder: ClientBuilder,
    credentials: Credentials = credentials(),
    base_url: uri(),
});

/// `now` as the fake's clock sees it, as a gateway timestamp (for tests
/// that build requests by hand).
pub fn now_timestamp() -> String {
    auth::timestamp(Utc::now())
}
