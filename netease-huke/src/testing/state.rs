//! The fake's state: the apps it accepts, stored trades and customers, and
//! the rules it applies (page sizes, clock skew, the auth error code).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{APP_KEY, APP_SECRET};
use crate::error::CODE_AUTH;

/// The fake's data and rules. Public so tests can inspect and adjust them.
#[derive(Debug, Clone)]
pub struct HukeState {
    /// Accepted app keys and their secrets.
    pub apps: HashMap<String, String>,
    /// Stored trades, as JSON objects ([`HukeState::trades`],
    /// [`HukeState::trades_mut`]).
    pub(super) trades: Vec<Map<String, Value>>,
    /// Positions of `trades` in the order answers list them, per time
    /// field: built by the first search on that field, so that a page costs
    /// a binary search instead of a scan and sort of every trade.
    pub(super) by_time: TimeIndex,
    /// Stored customers (from `customer/addCustomer`), each with an `id`.
    pub customers: Vec<Map<String, Value>>,
    /// What `customer/fields` returns.
    pub customer_fields: Vec<Value>,
    /// The largest page size honoured; larger requests are clamped.
    pub max_page_size: u32,
    /// The page size when a request sends none.
    pub default_page_size: u32,
    /// The `code` of signature and credential failures.
    pub auth_error_code: i64,
    /// The accepted distance between `ur-curtime` and the fake's clock
    /// (`None`: any).
    pub max_clock_skew: Option<Duration>,
    pub(super) next_customer: u64,
}

impl Default for HukeState {
    fn default() -> Self {
        Self {
            apps: HashMap::from([(APP_KEY.to_owned(), APP_SECRET.to_owned())]),
            trades: Vec::new(),
            by_time: TimeIndex::default(),
            customers: Vec::new(),
            customer_fields: default_customer_fields(),
            max_page_size: 100,
            default_page_size: 10,
            auth_error_code: CODE_AUTH,
            max_clock_skew: Some(Duration::from_secs(300)),
            next_customer: 1,
        }
    }
}

impl HukeState {
    /// The stored trades.
    pub fn trades(&self) -> &[Map<String, Value>] {
        &self.trades
    }

    /// The stored trades, to change them (drops the index by time).
    pub fn trades_mut(&mut self) -> &mut Vec<Map<String, Value>> {
        self.by_time = TimeIndex::default();
        &mut self.trades
    }
}

/// Per time field (`createTime`, …): `(time, position)` of every trade,
/// ordered by time then trade id, as `searchTrades` lists them; a trade
/// without that time sorts as 0 and has `None`.
#[derive(Clone, Default)]
pub(super) struct TimeIndex(pub(super) HashMap<&'static str, Vec<(Option<i64>, usize)>>);

/// Its size, not its positions.
impl std::fmt::Debug for TimeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&&str> = self.0.keys().collect();
        write!(f, "TimeIndex({fields:?})")
    }
}

fn default_customer_fields() -> Vec<Value> {
    vec![
        json!({"key": "name", "label": "客户名称", "type": "text", "required": true}),
        json!({"key": "mobile", "label": "手机号", "type": "phone", "required": false}),
        json!({"key": "company", "label": "公司名称", "type": "text", "required": false}),
        json!({"key": "address", "label": "地址", "type": "address", "required": false}),
        json!({"key": "remark", "label": "备注", "type": "textarea", "required": false}),
    ]
}
