//! The fake's state: the registered apps, the stored records (customers
//! with their index by code, goods, trades, stock, warehouses), the open
//! scrolls and the behaviour switches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use integration_core::testing::KeyIndex;
use integration_core::types::BeijingTime;
use serde_json::Value;

use super::{APPKEY, METHODS, SECRET};

/// An app registered with the fake.
#[derive(Debug, Clone)]
pub struct FakeApp {
    /// Its secret.
    pub secret: String,
    /// The methods it subscribed to.
    pub methods: BTreeSet<String>,
}

/// The fake's data and settings; lock it with
/// [`FakeJackyun::state`](super::FakeJackyun::state).
#[derive(Debug)]
pub struct FakeState {
    /// Registered apps by appkey.
    pub apps: BTreeMap<String, FakeApp>,
    /// Customers (as the lists return them): read with
    /// [`FakeState::customers`], change with [`FakeState::customers_mut`].
    pub(super) customers: Vec<Value>,
    /// Positions in `customers` by code, built on first use; dropped by
    /// [`FakeState::customers_mut`]. Adding a customer and looking a code
    /// up no longer scan every customer (10,000 customers made each add
    /// cost milliseconds).
    by_code: KeyIndex,
    /// Goods rows (one per SKU).
    pub goods: Vec<Value>,
    /// Sales orders.
    pub trades: Vec<Value>,
    /// Stock rows.
    pub stock: Vec<Value>,
    /// Warehouses.
    pub warehouses: Vec<Value>,
    /// Largest accepted difference between a request's timestamp and now.
    pub max_skew: chrono::Duration,
    /// Methods whose `result.data` is sent as JSON text (as some methods do).
    pub data_as_text: BTreeSet<String>,
    /// Methods that answer success with `subCode 0030000004 / 操作成功`.
    pub success_marker: BTreeSet<String>,
    /// Customer codes whose `crm.customer.add` fails with a business error.
    pub reject_codes: BTreeSet<String>,
    /// Methods called, in order (successful or not).
    pub calls: Vec<String>,
    pub(super) scrolls: HashMap<String, Scroll>,
    next_id: i64,
}

#[derive(Debug)]
pub(super) struct Scroll {
    pub(super) method: String,
    pub(super) rows: Vec<Value>,
    pub(super) offset: usize,
}

impl Default for FakeState {
    fn default() -> Self {
        let mut apps = BTreeMap::new();
        apps.insert(
            APPKEY.to_owned(),
            FakeApp {
                secret: SECRET.to_owned(),
                methods: METHODS.iter().map(|m| (*m).to_owned()).collect(),
            },
        );
        Self {
            apps,
            customers: Vec::new(),
            by_code: KeyIndex::default(),
            goods: Vec::new(),
            trades: Vec::new(),
            stock: Vec::new(),
            warehouses: Vec::new(),
            max_skew: chrono::Duration::minutes(10),
            data_as_text: BTreeSet::new(),
            success_marker: [crate::goods::METHOD_GOODS_LIST.to_owned()].into(),
            reject_codes: BTreeSet::new(),
            calls: Vec::new(),
            scrolls: HashMap::new(),
            next_id: 2_229_118_837_749_614_720,
        }
    }
}

/// A customer row's code.
fn customer_code(customer: &Value) -> Option<String> {
    customer["customerCode"].as_str().map(str::to_owned)
}

impl FakeState {
    /// The customers, as the lists return them.
    pub fn customers(&self) -> &[Value] {
        &self.customers
    }

    /// The customers, to change them (drops the index by code).
    pub fn customers_mut(&mut self) -> &mut Vec<Value> {
        self.by_code.clear();
        &mut self.customers
    }

    /// The position of the customer with `code` (the first, if a change
    /// through [`FakeState::customers_mut`] made codes repeat).
    pub(super) fn customer_by_code(&self, code: &str) -> Option<usize> {
        self.by_code.position(&self.customers, customer_code, code)
    }

    /// Appends a customer, keeping the index by code.
    pub(super) fn push_customer(&mut self, customer: Value) {
        self.by_code
            .pushed(customer_code(&customer), self.customers.len());
        self.customers.push(customer);
    }
}

pub(super) fn next_id(state: &mut FakeState) -> String {
    state.next_id += 1;
    state.next_id.to_string()
}

pub(super) fn bj(t: DateTime<Utc>) -> String {
    BeijingTime::from_utc(t).to_string()
}
