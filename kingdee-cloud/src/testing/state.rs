//! The fake's state: stored models per form, sessions, switches, and the
//! per-request index of a form's records.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use integration_core::types::beijing;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Value};

/// What the fake knows about a form.
#[derive(Debug, Clone)]
pub struct FormMeta {
    /// Display name (客户).
    pub name: String,
    /// Primary-key field.
    pub id_field: String,
    /// Number field.
    pub number_field: String,
    /// Prefix of allocated numbers.
    pub number_prefix: String,
    /// Digits of allocated numbers.
    pub number_digits: usize,
    /// Required fields and their labels.
    pub required: Vec<(String, String)>,
    /// Entry collection with its id field.
    pub entry: Option<(String, String)>,
}

impl FormMeta {
    fn for_form(form_id: &str) -> Self {
        match form_id {
            "BD_Customer" => Self {
                name: "客户".into(),
                id_field: "FCUSTID".into(),
                number_field: "FNumber".into(),
                number_prefix: "CUST".into(),
                number_digits: 4,
                required: vec![
                    ("FName".into(), "客户名称".into()),
                    ("FCreateOrgId".into(), "创建组织".into()),
                ],
                entry: None,
            },
            "SAL_SaleOrder" => Self {
                name: "销售订单".into(),
                id_field: "FID".into(),
                number_field: "FBillNo".into(),
                number_prefix: "XSDD".into(),
                number_digits: 6,
                required: vec![
                    ("FBillTypeID".into(), "单据类型".into()),
                    ("FDate".into(), "日期".into()),
                    ("FSaleOrgId".into(), "销售组织".into()),
                    ("FCustId".into(), "客户".into()),
                ],
                entry: Some(("FSaleOrderEntry".into(), "FEntryID".into())),
            },
            other => Self {
                name: other.into(),
                id_field: "FID".into(),
                number_field: "FNumber".into(),
                number_prefix: "NO".into(),
                number_digits: 6,
                required: vec![],
                entry: None,
            },
        }
    }
}

/// The stored models of one form.
#[derive(Debug, Clone)]
pub struct FormStore {
    /// The form's rules.
    pub meta: FormMeta,
    /// The models, with id, number, `FDocumentStatus`, `FCreateDate` and
    /// `FModifyDate` filled in.
    pub records: Vec<Map<String, Value>>,
    pub(super) next_id: i64,
    pub(super) next_seq: u64,
    pub(super) next_entry_id: i64,
}

impl FormStore {
    fn new(form_id: &str) -> Self {
        Self {
            meta: FormMeta::for_form(form_id),
            records: Vec::new(),
            next_id: 100_001,
            next_seq: 1,
            next_entry_id: 200_001,
        }
    }

    pub(super) fn position_by_id(&self, id: i64) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.get(&self.meta.id_field).and_then(Value::as_i64) == Some(id))
    }

    pub(super) fn position_by_number(&self, number: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.get(&self.meta.number_field).and_then(Value::as_str) == Some(number))
    }
}

/// The fake's state.
#[derive(Debug)]
pub struct FakeState {
    /// Stored models per form id.
    pub forms: BTreeMap<String, FormStore>,
    /// Live session ids.
    pub sessions: HashSet<String>,
    /// Successful logins so far.
    pub logins: u32,
    /// Largest `Limit` honoured.
    pub max_limit: u32,
    /// Accepted clock difference of `x-api-timestamp`, seconds.
    pub timestamp_tolerance: i64,
    /// Successful Save/BatchSave calls so far.
    pub save_calls: u32,
    /// Models to reject at random, see
    /// [`FakeK3Cloud::reject_models`](super::FakeK3Cloud::reject_models).
    pub rejections: Option<Rejections>,
    /// Numbers (by form id) that another user holds the network-control
    /// lock of, see
    /// [`FakeK3Cloud::lock_number`](super::FakeK3Cloud::lock_number).
    pub locked: HashSet<(String, String)>,
    /// Answer every business call with the licence error (`MsgCode` 7).
    pub licence_expired: bool,
}

/// Random rejection of single models inside otherwise successful
/// Save/BatchSave answers, as K/3 Cloud reports a model that fails its
/// validation: an entry in `Errors` with the model's `DIndex`.
#[derive(Debug)]
pub struct Rejections {
    pub(super) rng: StdRng,
    pub(super) probability: f64,
    /// Models rejected so far.
    pub rejected: u64,
}

impl Default for FakeState {
    fn default() -> Self {
        Self {
            forms: BTreeMap::new(),
            sessions: HashSet::new(),
            logins: 0,
            max_limit: crate::query::MAX_LIMIT,
            timestamp_tolerance: 900,
            save_calls: 0,
            rejections: None,
            locked: HashSet::new(),
            licence_expired: false,
        }
    }
}

impl FakeState {
    /// The store of a form, created on first use.
    pub fn form(&mut self, form_id: &str) -> &mut FormStore {
        self.forms
            .entry(form_id.to_owned())
            .or_insert_with(|| FormStore::new(form_id))
    }

    pub(super) fn new_session(&mut self) -> String {
        let id: String = {
            let mut rng = rand::rng();
            (0..24)
                .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
                .collect()
        };
        self.sessions.insert(id.clone());
        id
    }
}

/// K/3 Cloud's datetime text in query answers: `2026-01-02T10:20:30.123`.
pub(super) fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

pub(super) fn now_local() -> String {
    fmt_time(Utc::now().with_timezone(&beijing()).naive_local())
}

/// Where a form's records are, by id and by number; built once per request
/// so that saving a batch into a large store stays linear.
pub(super) struct Positions {
    by_id: HashMap<i64, usize>,
    by_number: HashMap<String, usize>,
}

impl Positions {
    pub(super) fn of(store: &FormStore) -> Self {
        let mut positions = Self {
            by_id: HashMap::new(),
            by_number: HashMap::new(),
        };
        for p in 0..store.records.len() {
            positions.note(store, p, false);
        }
        positions
    }

    /// Records where record `p` is; `replace` for a record just saved.
    pub(super) fn note(&mut self, store: &FormStore, p: usize, replace: bool) {
        let record = &store.records[p];
        let meta = &store.meta;
        if let Some(id) = record.get(&meta.id_field).and_then(Value::as_i64) {
            self.by_id.entry(id).or_insert(p);
        }
        if let Some(number) = record.get(&meta.number_field).and_then(Value::as_str) {
            if replace {
                self.by_number.insert(number.to_owned(), p);
            } else {
                self.by_number.entry(number.to_owned()).or_insert(p);
            }
        }
    }

    pub(super) fn by_id(&self, id: i64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Checked against the record, as a saved record may have been renumbered.
    pub(super) fn by_number(&self, store: &FormStore, number: &str) -> Option<usize> {
        self.by_number.get(number).copied().filter(|&p| {
            store.records[p]
                .get(&store.meta.number_field)
                .and_then(Value::as_str)
                == Some(number)
        })
    }
}
