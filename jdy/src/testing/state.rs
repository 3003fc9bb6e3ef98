//! The fake's state: the current app secret, the issued tokens, the stored
//! records and the call counters.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use integration_core::types::beijing;
use serde_json::Value;

/// The fake's records and credentials state.
#[derive(Debug, Default)]
pub struct FakeState {
    /// The current V2 app secret (see
    /// [`FakeJdy::rotate_app_secret`](super::FakeJdy::rotate_app_secret)).
    pub app_secret: String,
    /// Valid V2 app tokens.
    pub app_tokens: HashSet<String>,
    /// Valid V1 access tokens.
    pub access_tokens: HashSet<String>,
    /// Purchase inbound bills, V2 field names, with `material_entity`.
    pub pur_inbound: Vec<Value>,
    /// Sales outbound bills, V2 field names, with `material_entity`.
    pub sal_out_bound: Vec<Value>,
    /// Customers.
    pub customers: Vec<Value>,
    /// Suppliers.
    pub suppliers: Vec<Value>,
    /// Materials.
    pub materials: Vec<Value>,
    /// `push_app_authorize` calls served.
    pub authorize_calls: u32,
    /// `kingdee_auth_token` calls served (successful or not).
    pub token_calls: u32,
    /// V1 `access_token` calls served.
    pub v1_token_calls: u32,
    /// The `expires_in` the V1 token answer carries next to `access_token`
    /// (`None`: left out). Any JSON value, so tests can send a number,
    /// numeric text or junk.
    pub v1_expires_in: Option<Value>,
    pub(super) next_id: u64,
}

impl FakeState {
    pub(super) fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}", 1_700_000_000_000_000_000_u64 + self.next_id)
    }
}

pub(super) fn initial_state() -> FakeState {
    FakeState {
        app_secret: "fake-app-secret-0001".to_owned(),
        ..FakeState::default()
    }
}

pub(super) fn beijing_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}
