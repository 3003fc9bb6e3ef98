//! The fake's state: the credentials it accepts, the tokens it issued and
//! the records it stores, with the helpers that read stored records.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use integration_core::testing::KeyIndex;
use serde_json::{Map, Value};

use super::{APP_KEY, APP_SECRET, TENANT_ID};

/// The fake's state: credentials it accepts, issued tokens, stored records.
#[derive(Debug)]
pub struct FakeState {
    /// The accepted app key.
    pub app_key: String,
    /// The accepted app secret.
    pub app_secret: String,
    /// The tenant known to discovery.
    pub tenant_id: String,
    /// This server's base URI (set at start).
    pub base_uri: String,
    /// The lifetime announced for new tokens (`expire`, seconds).
    pub token_ttl: Duration,
    /// How far the `timestamp` of a token request may be from the fake's clock.
    pub max_clock_skew: Duration,
    /// How many tokens were issued.
    pub token_fetches: u32,
    /// How many discovery calls were answered.
    pub discoveries: u32,
    /// Merchant codes whose save fails with a business error (a customer
    /// class the tenant refuses), for tests of per-record failures.
    pub reject_codes: BTreeSet<String>,
    /// Whether an insert or update whose Chinese name another merchant has
    /// is refused with `999` 客户名称已存在 (YonBIP's pages show that
    /// refusal; whether every tenant enforces it is not known, so off by
    /// default).
    pub unique_names: bool,
    /// Issued tokens and when they expire (kept after expiry, so an expired
    /// token is told apart from one never issued).
    pub(super) tokens: HashMap<String, Instant>,
    next_id: u64,
    /// Stored merchants, as JSON objects (everything the client sent is
    /// kept): read with [`FakeState::merchants`], change with
    /// [`FakeState::merchants_mut`].
    pub(super) merchants: Vec<Map<String, Value>>,
    /// Positions in `merchants` by code, built on first use and dropped by
    /// [`FakeState::merchants_mut`], so that saving a merchant and listing
    /// by code do not scan every merchant.
    pub(super) by_code: KeyIndex,
    /// Stored sales orders.
    pub sales_orders: Vec<Map<String, Value>>,
    /// Stored products.
    pub products: Vec<Map<String, Value>>,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            app_key: APP_KEY.into(),
            app_secret: APP_SECRET.into(),
            tenant_id: TENANT_ID.into(),
            base_uri: String::new(),
            token_ttl: Duration::from_secs(7200),
            max_clock_skew: Duration::from_secs(600),
            token_fetches: 0,
            discoveries: 0,
            reject_codes: BTreeSet::new(),
            unique_names: false,
            tokens: HashMap::new(),
            next_id: 1_790_000_000_000_000_000,
            merchants: Vec::new(),
            by_code: KeyIndex::default(),
            sales_orders: Vec::new(),
            products: Vec::new(),
        }
    }
}

impl FakeState {
    pub(super) fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Makes every issued token expire now, so calls with one are answered
    /// with the token-expired code.
    pub fn expire_tokens(&mut self) {
        let now = Instant::now();
        self.tokens.values_mut().for_each(|expires| *expires = now);
    }

    /// The stored merchants.
    pub fn merchants(&self) -> &[Map<String, Value>] {
        &self.merchants
    }

    /// The stored merchants, to change them (drops the index by code).
    pub fn merchants_mut(&mut self) -> &mut Vec<Map<String, Value>> {
        self.by_code.clear();
        &mut self.merchants
    }

    /// The stored merchant with this code (the first, if a change through
    /// [`FakeState::merchants_mut`] made codes repeat).
    pub fn merchant_by_code(&self, code: &str) -> Option<&Map<String, Value>> {
        self.by_code
            .position(&self.merchants, |m| text_of(m.get("code")), code)
            .map(|i| &self.merchants[i])
    }

    /// Whether a save of `data` is refused because a merchant other than
    /// `except_id` has its Chinese name (only with [`FakeState::unique_names`]).
    pub(super) fn name_taken(&self, data: &Map<String, Value>, except_id: Option<&str>) -> bool {
        let Some(name) = name_zh(data.get("name")).filter(|_| self.unique_names) else {
            return false;
        };
        self.merchants.iter().any(|m| {
            name_zh(m.get("name")).as_deref() == Some(name.as_str())
                && text_of(m.get("id")).as_deref() != except_id
        })
    }

    /// Stores a new merchant, keeping the index by code.
    pub(super) fn push_merchant(&mut self, merchant: Map<String, Value>) {
        self.by_code
            .pushed(text_of(merchant.get("code")), self.merchants.len());
        self.merchants.push(merchant);
    }
}

pub(super) fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(super) fn name_zh(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => map.get("zh_CN").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

pub(super) fn record_value(record: &Map<String, Value>, key: &str) -> Value {
    record.get(key).cloned().unwrap_or(Value::Null)
}
