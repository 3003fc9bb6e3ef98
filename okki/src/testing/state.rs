//! The fake's state: stored companies, opportunities, orders and users, the
//! tokens it issued, and the time format of its records.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use chrono::{NaiveDateTime, Utc};
use integration_core::types::beijing;
use serde_json::{Map, Value, json};

use super::{CLIENT_ID, SCOPES};
use crate::auth::hash_password;

pub(super) const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
pub(super) const EMPTY_TIME: &str = "1970-01-01 00:00:00";

/// A company stored by the fake.
#[derive(Debug, Clone)]
pub struct StoredCompany {
    /// The detail object (without `customers`).
    pub data: Map<String, Value>,
    /// Its contacts.
    pub customers: Vec<Map<String, Value>>,
    /// Deleted (listed with `removed=1`, 404 on detail).
    pub deleted: bool,
    /// In the public pool (公海).
    pub public: bool,
}

impl StoredCompany {
    pub(super) fn time(&self, key: &str) -> Option<NaiveDateTime> {
        let text = self.data.get(key)?.as_str()?;
        NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok()
    }
}

#[derive(Debug, Clone)]
pub(super) struct IssuedToken {
    pub(super) exp: f64,
    pub(super) scopes: Vec<String>,
}

/// The fake's state; reachable through [`FakeOkki::state`](super::FakeOkki::state).
#[derive(Debug, Default)]
pub struct OkkiState {
    /// Companies by id.
    pub companies: BTreeMap<i64, StoredCompany>,
    /// Opportunities (detail objects).
    pub opportunities: Vec<Map<String, Value>>,
    /// Orders (detail objects) and whether each is deleted.
    pub orders: Vec<(Map<String, Value>, bool)>,
    /// Users.
    pub users: Vec<Map<String, Value>>,
    /// Lifetime of newly issued tokens, in seconds (default 28800).
    pub token_lifetime: f64,
    /// Scopes granted to the client (default [`SCOPES`]).
    pub granted_scopes: Vec<String>,
    /// How many tokens were issued (access + refresh grants).
    pub tokens_issued: u32,
    pub(super) tokens: HashMap<String, IssuedToken>,
    pub(super) refresh_tokens: HashMap<String, String>,
    /// Expiry kept for re-fetched tokens, per grant subject.
    pub(super) first_expiry: HashMap<String, f64>,
    next_id: i64,
    /// Overrides "now" for writes (Beijing local time), for reproducible tests.
    pub clock: Option<NaiveDateTime>,
}

impl OkkiState {
    pub(super) fn new() -> Self {
        Self {
            token_lifetime: 28800.0,
            granted_scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            next_id: 56_657_420_945_000,
            ..Self::default()
        }
    }

    pub(super) fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    pub(super) fn now_text(&self) -> String {
        self.clock
            .unwrap_or_else(|| Utc::now().with_timezone(&beijing()).naive_local())
            .format(TIME_FORMAT)
            .to_string()
    }

    pub(super) fn issue_token(
        &mut self,
        subject: &str,
        scopes: Vec<String>,
        keep_expiry: bool,
    ) -> (String, f64) {
        let now = Utc::now().timestamp_millis() as f64 / 1000.0;
        let exp = match self.first_expiry.get(subject) {
            Some(exp) if keep_expiry && *exp > now => *exp,
            _ => now + self.token_lifetime,
        };
        self.first_expiry.insert(subject.to_owned(), exp);
        self.tokens_issued += 1;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = e.encode(r#"{"typ":"JWT","alg":"RS256","jti":"fake"}"#);
        let claims = json!({
            "aud": hex_hash(CLIENT_ID), "jti": format!("jti{}", self.tokens_issued), "iat": now, "nbf": now, "exp": exp,
            "sub": if subject == "client" { "" } else { "1" }, "scopes": scopes,
        });
        let token = format!(
            "{header}.{}.{}",
            e.encode(claims.to_string()),
            e.encode(format!("sig{}", self.tokens_issued))
        );
        self.tokens
            .insert(token.clone(), IssuedToken { exp, scopes });
        (token, exp - now)
    }

    /// Makes every issued token expired (and forgets kept expiries).
    pub fn expire_tokens(&mut self) {
        for t in self.tokens.values_mut() {
            t.exp = 0.0;
        }
        self.first_expiry.clear();
    }

    /// Inserts a company with contacts (ids given or generated), returning its id.
    pub fn insert_company(
        &mut self,
        mut data: Map<String, Value>,
        customers: Vec<Map<String, Value>>,
        public: bool,
    ) -> i64 {
        let id = data
            .get("company_id")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| self.next_id());
        data.insert("company_id".into(), json!(id));
        let now = self.now_text();
        for key in ["create_time", "update_time", "edit_time", "archive_time"] {
            data.entry(key).or_insert_with(|| json!(now));
        }
        let customers = customers
            .into_iter()
            .map(|mut c| {
                let cid = c
                    .get("customer_id")
                    .and_then(Value::as_i64)
                    .unwrap_or_else(|| self.next_id());
                c.insert("customer_id".into(), json!(cid));
                c.insert("company_id".into(), json!(id));
                c
            })
            .collect();
        self.companies.insert(
            id,
            StoredCompany {
                data,
                customers,
                deleted: false,
                public,
            },
        );
        id
    }

    /// Marks a company deleted now (it moves to the `removed=1` list).
    pub fn delete_company(&mut self, id: i64) -> bool {
        let now = self.now_text();
        match self.companies.get_mut(&id) {
            Some(c) if !c.deleted => {
                c.deleted = true;
                c.data.insert("update_time".into(), json!(now));
                true
            }
            _ => false,
        }
    }

    /// Sets a company's update time (Beijing `YYYY-MM-DD HH:MM:SS`).
    pub fn touch_company(&mut self, id: i64, update_time: &str) {
        if let Some(c) = self.companies.get_mut(&id) {
            c.data.insert("update_time".into(), json!(update_time));
            c.data.insert("edit_time".into(), json!(update_time));
        }
    }

    /// Live companies.
    pub fn live_companies(&self) -> usize {
        self.companies.values().filter(|c| !c.deleted).count()
    }
}

pub(super) fn hex_hash(s: &str) -> String {
    hash_password(s)[..32].to_owned()
}
