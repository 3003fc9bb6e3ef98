//! A stateful fake OKKI server (feature `testing`), built on
//! [`integration_core::testing`].
//!
//! It models what the client relies on:
//!
//! * `POST /v1/oauth2/access_token` (JSON or form; `client_credentials` and
//!   `password` with the SHA-256 password) and `POST /v1/oauth2/refresh_token`
//!   (form), answering with top-level token JSON or the real OAuth error
//!   objects (`invalid_client`, `invalid_scope`, `unsupported_grant_type`,
//!   `invalid_grant`, `invalid_request`);
//! * tokens as unsigned-looking RS256 JWTs with `exp`/`scopes` claims; a token
//!   asked for again keeps the first token's expiry, as OKKI documents;
//! * `Authorization: Bearer <jwt>` or the raw JWT; an unknown or expired
//!   token gets HTTP 401 `{"error":"access_denied",…}`; a missing scope gets
//!   `{"code":403,"message":"no permission <scope> scopes"}`;
//! * companies with contacts: the update list (paging by 1-based
//!   `start_index`/`count` ≤ 100, `removed`, `all`, `group_id`, `time_type`
//!   windows, ordered by update time, newest first), the detail (by
//!   `company_id` or `serial_id`; `404 Not Found Resource` for unknown or
//!   deleted ones), push (create/edit companies and contacts; the update
//!   time moves) and remove (public pool only);
//! * opportunities, sales orders (total in `data.count`, `removed`,
//!   `time_type` 1–4) and users (a plain array);
//! * every success as `{code:200,message:"success",now,data}`, with some
//!   numbers as strings and empty dates as `1970-01-01 00:00:00`, as OKKI does;
//! * faults through [`FakeOkki::faults`] (throttle = HTTP 429, auth expired =
//!   HTTP 401 `access_denied`, 5xx, HTML, truncated, empty, delays).

// Handlers return the answer to send as `Err`; a `ResponseTemplate` is large
// and that is fine in a fake.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use base64::Engine as _;
use chrono::{NaiveDateTime, TimeZone, Utc};
use integration_core::ClientConfig;
use integration_core::testing::{
    Fake, FakeServer, FaultStyle, Faults, Match, Request, ResponseTemplate, body_json, fast_retry,
    form_pairs, header, json_response,
};
use integration_core::types::{BeijingTime, beijing};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::auth::{Credentials, hash_password};
use crate::client::ClientBuilder;

/// The client id the fake accepts.
pub const CLIENT_ID: &str = "efc1126d6";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "dcc2228f1-fake-secret";
/// The login e-mail for the password grant.
pub const USERNAME: &str = "zhang.wei@mingyuan-trade.cn";
/// The plain password for the password grant (sent hashed).
pub const PASSWORD: &str = "Okki#2026";
/// The scopes the fake grants.
pub const SCOPES: &[&str] = &[
    "company",
    "lead",
    "opportunity",
    "product",
    "invoices",
    "user",
    "webhook",
];

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
const EMPTY_TIME: &str = "1970-01-01 00:00:00";

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
    fn time(&self, key: &str) -> Option<NaiveDateTime> {
        let text = self.data.get(key)?.as_str()?;
        NaiveDateTime::parse_from_str(text, TIME_FORMAT).ok()
    }
}

#[derive(Debug, Clone)]
struct IssuedToken {
    exp: f64,
    scopes: Vec<String>,
}

/// The fake's state; reachable through [`FakeOkki::state`].
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
    tokens: HashMap<String, IssuedToken>,
    refresh_tokens: HashMap<String, String>,
    /// Expiry kept for re-fetched tokens, per grant subject.
    first_expiry: HashMap<String, f64>,
    next_id: i64,
    /// Overrides "now" for writes (Beijing local time), for reproducible tests.
    pub clock: Option<NaiveDateTime>,
}

impl OkkiState {
    fn new() -> Self {
        Self {
            token_lifetime: 28800.0,
            granted_scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            next_id: 56_657_420_945_000,
            ..Self::default()
        }
    }

    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn now_text(&self) -> String {
        self.clock
            .unwrap_or_else(|| Utc::now().with_timezone(&beijing()).naive_local())
            .format(TIME_FORMAT)
            .to_string()
    }

    fn issue_token(
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

fn hex_hash(s: &str) -> String {
    hash_password(s)[..32].to_owned()
}

/// OKKI's throttle and expired-token answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct OkkiFaultStyle;

impl FaultStyle for OkkiFaultStyle {
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(429)
            .set_body_json(json!({"code": 429, "message": "Too Many Requests", "data": []}))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        access_denied()
    }
}

fn access_denied() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request.",
        "hint": "Access token could not be verified",
        "message": "The resource owner or authorization server denied the request.",
    }))
}

fn oauth_error(
    error: &str,
    description: &str,
    hint: Option<&str>,
    status: u16,
) -> ResponseTemplate {
    let mut body =
        json!({"error": error, "error_description": description, "message": description});
    if let Some(hint) = hint {
        body["hint"] = json!(hint);
    }
    ResponseTemplate::new(status).set_body_json(body)
}

fn now_text() -> String {
    Utc::now()
        .with_timezone(&beijing())
        .format(TIME_FORMAT)
        .to_string()
}

fn ok(data: Value) -> ResponseTemplate {
    json_response(&json!({"code": 200, "message": "success", "now": now_text(), "data": data}))
}

fn fail(code: i64, message: &str) -> ResponseTemplate {
    json_response(&json!({"code": code, "message": message, "now": now_text(), "data": []}))
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url.query_pairs().into_owned().collect()
}

/// Checks the token and scope; `Err` is the answer to send.
fn authorize(state: &mut OkkiState, req: &Request, scope: &str) -> Result<(), ResponseTemplate> {
    let Some(value) = header(req, "authorization") else {
        return Err(access_denied());
    };
    let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    let now = Utc::now().timestamp_millis() as f64 / 1000.0;
    match state.tokens.get(token) {
        Some(t) if t.exp > now => {
            if t.scopes.iter().any(|s| s == scope) {
                Ok(())
            } else {
                Err(fail(403, &format!("no permission {scope} scopes")))
            }
        }
        _ => Err(access_denied()),
    }
}

/// Paging parameters: 1-based page, size ≤ 100.
fn paging(
    q: &HashMap<String, String>,
    default_count: usize,
) -> Result<(usize, usize), ResponseTemplate> {
    let parse = |key: &str, default: usize| -> Result<usize, ResponseTemplate> {
        match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse::<usize>().map_err(|_| fail(400, "Invalid query")),
        }
    };
    let page = parse("start_index", 1)?.max(1);
    let count = parse("count", default_count)?.clamp(1, 100);
    Ok((page, count))
}

/// `[start, end]` window; `Err` for unreadable times.
fn window(
    q: &HashMap<String, String>,
) -> Result<(Option<NaiveDateTime>, Option<NaiveDateTime>), ResponseTemplate> {
    let parse = |key: &str| -> Result<Option<NaiveDateTime>, ResponseTemplate> {
        match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => BeijingTime::parse(s)
                .map(|t| Some(t.0.naive_local()))
                .ok_or_else(|| fail(400, "Invalid query")),
        }
    };
    Ok((parse("start_time")?, parse("end_time")?))
}

fn in_window(t: Option<NaiveDateTime>, w: &(Option<NaiveDateTime>, Option<NaiveDateTime>)) -> bool {
    match (w, t) {
        ((None, None), _) => true,
        (_, None) => false,
        ((start, end), Some(t)) => start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e),
    }
}

fn page_of<T: Clone>(items: &[T], page: usize, count: usize) -> Vec<T> {
    items
        .iter()
        .skip((page - 1) * count)
        .take(count)
        .cloned()
        .collect()
}

fn company_list(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "company") {
        return r;
    }
    let q = query(req);
    let (page, count) = match paging(&q, 20) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let w = match window(&q) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let removed = q.get("removed").is_some_and(|v| v == "1");
    let pool = q.get("all").map(String::as_str).unwrap_or("1").to_owned();
    let group = q.get("group_id").filter(|g| !g.is_empty()).cloned();
    let time_key = match q.get("time_type").map(String::as_str).unwrap_or("1") {
        "2" => "create_time",
        "3" => "archive_time",
        _ => "update_time",
    };
    let mut rows: Vec<&StoredCompany> = state
        .companies
        .values()
        .filter(|c| c.deleted == removed)
        .filter(|c| match pool.as_str() {
            "0" => !c.public,
            "2" => c.public,
            _ => true,
        })
        .filter(|c| {
            group
                .as_ref()
                .is_none_or(|g| c.data.get("group_id").is_some_and(|v| scalar(v) == *g))
        })
        .filter(|c| in_window(c.time(time_key), &w))
        .collect();
    // Newest first; each row's key is made once (parsing a time per
    // comparison made a page of 10,000 companies take seconds in debug).
    rows.sort_by_cached_key(|c| {
        std::cmp::Reverse((c.time("update_time"), scalar(&c.data["company_id"])))
    });
    let total = rows.len();
    let list: Vec<Value> = page_of(&rows, page, count)
        .into_iter()
        .map(summary)
        .collect();
    ok(json!({"list": list, "totalItem": total, "count": list.len()}))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn summary(c: &StoredCompany) -> Value {
    let mut row = Map::new();
    for key in [
        "company_id",
        "name",
        "short_name",
        "serial_id",
        "order_time",
        "create_time",
        "update_time",
        "edit_time",
        "create_user",
        "archive_type",
    ] {
        row.insert(key.into(), c.data.get(key).cloned().unwrap_or(Value::Null));
    }
    // As documented: user_id is a string here, last_edit_user a string in
    // the detail example.
    let follower = c
        .data
        .get("user_id")
        .and_then(|v| v.as_array()?.first().cloned())
        .map(|v| scalar(&v));
    row.insert("user_id".into(), json!(follower.unwrap_or_default()));
    row.insert(
        "last_edit_user".into(),
        json!(c.data.get("last_edit_user").map(scalar).unwrap_or_default()),
    );
    Value::Object(row)
}

fn detail(c: &StoredCompany) -> Value {
    let mut data = c.data.clone();
    data.insert(
        "customers".into(),
        Value::Array(c.customers.iter().cloned().map(Value::Object).collect()),
    );
    data.insert("is_public".into(), json!(if c.public { 1 } else { 0 }));
    Value::Object(data)
}

fn company_info(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "company") {
        return r;
    }
    let q = query(req);
    let found = if let Some(id) = q.get("company_id").filter(|s| !s.is_empty()) {
        let Ok(id) = id.trim().parse::<i64>() else {
            return fail(400, "Invalid query");
        };
        state.companies.get(&id)
    } else if let Some(serial) = q.get("serial_id").filter(|s| !s.is_empty()) {
        state.companies.values().find(|c| {
            !c.deleted && c.data.get("serial_id").and_then(Value::as_str) == Some(serial.as_str())
        })
    } else {
        return fail(400, "Invalid query");
    };
    match found {
        Some(c) if !c.deleted => ok(detail(c)),
        _ => fail(404, "Not Found Resource"),
    }
}

const COMPANY_FIELDS: &[&str] = &[
    "name",
    "short_name",
    "serial_id",
    "country",
    "province",
    "city",
    "address",
    "tel_area_code",
    "tel",
    "fax",
    "homepage",
    "remark",
    "group_id",
    "pool_id",
    "trail_status",
    "biz_type",
    "star",
    "intention_level",
    "annual_procurement",
    "timezone",
    "scale_id",
    "origin_list",
    "image_list",
    "next_follow_up_time",
    "category_ids",
    "product_group_ids",
];

fn push_company(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "company") {
        return r;
    }
    if req.body.is_empty() {
        return fail(400, "Empty POST request body data");
    }
    let Value::Object(body) = body_json(req) else {
        return fail(400, "Invalid data json");
    };
    let Some(Value::Array(customers)) = body.get("customers").cloned() else {
        return fail(-1, "customers 不能为空");
    };
    let now = state.now_text();
    let existing = body
        .get("company_id")
        .map(scalar)
        .filter(|s| !s.is_empty() && s != "0")
        .map(|s| s.parse::<i64>().unwrap_or(-1));
    let id = match existing {
        Some(id) => match state.companies.get(&id) {
            Some(c) if !c.deleted => id,
            _ => return fail(404, "Not Found Resource"),
        },
        None => {
            if body
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(|n| n.trim().is_empty())
            {
                return fail(-1, "'name' cannot be empty");
            }
            let mut data = Map::new();
            data.insert("company_id".into(), json!(state.next_id()));
            data.insert("create_time".into(), json!(now));
            data.insert("archive_time".into(), json!(now));
            data.insert("archive_type".into(), json!(1));
            data.insert("order_time".into(), json!(EMPTY_TIME));
            data.insert("next_follow_up_time".into(), json!(EMPTY_TIME));
            data.insert("create_user".into(), json!(55_280_038));
            data.insert("user_id".into(), json!([]));
            let public = body.get("is_public").map(scalar).is_some_and(|v| v == "1");
            state.insert_company(data, Vec::new(), public)
        }
    };
    let mut new_ids = Vec::new();
    for _ in &customers {
        new_ids.push(state.next_id());
    }
    let Some(company) = state.companies.get_mut(&id) else {
        return fail(404, "Not Found Resource");
    };
    for (key, value) in &body {
        if COMPANY_FIELDS.contains(&key.as_str()) || key.chars().all(|c| c.is_ascii_digit()) {
            company.data.insert(key.clone(), value.clone());
        }
    }
    if let Some(user) = body.get("user_id") {
        company.data.insert("user_id".into(), json!([scalar(user)]));
        company
            .data
            .insert("last_edit_user".into(), json!(scalar(user)));
    }
    company.data.insert("update_time".into(), json!(now));
    company.data.insert("edit_time".into(), json!(now));
    let mut answered = Vec::new();
    for (item, new_id) in customers.into_iter().zip(new_ids) {
        let Value::Object(item) = item else { continue };
        let cid = item
            .get("customer_id")
            .map(scalar)
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|c| *c != 0);
        let remove = item.get("remove").map(scalar).is_some_and(|v| v == "1");
        let position = cid.and_then(|cid| {
            company
                .customers
                .iter()
                .position(|c| c.get("customer_id").and_then(Value::as_i64) == Some(cid))
        });
        if cid.is_some() && position.is_none() {
            return fail(404, "Not Found Resource");
        }
        if remove {
            if let Some(p) = position {
                company.customers.remove(p);
            }
            continue;
        }
        let contact = match position {
            Some(p) => &mut company.customers[p],
            None => {
                let mut c = Map::new();
                c.insert("customer_id".into(), json!(new_id));
                c.insert("company_id".into(), json!(id));
                c.insert("main_customer_flag".into(), json!(0));
                c.insert("tel_list".into(), json!([]));
                c.insert("contact".into(), json!([]));
                company.customers.push(c);
                let last = company.customers.len() - 1;
                &mut company.customers[last]
            }
        };
        for (key, value) in item {
            match key.as_str() {
                "customer_id" | "remove" => {}
                "tel" => {
                    contact.insert("tel_list".into(), json!([["+86", scalar(&value)]]));
                }
                "main_customer_flag" | "gender" => {
                    contact.insert(key, json!(scalar(&value).parse::<i64>().unwrap_or(0)));
                }
                _ => {
                    contact.insert(key, value);
                }
            }
        }
        answered.push(json!({
            "customer_id": contact["customer_id"], "name": contact.get("name").cloned().unwrap_or(json!("")),
            "email": contact.get("email").cloned().unwrap_or(json!("")),
        }));
    }
    ok(json!({"company_id": id, "customers": answered}))
}

fn remove_company(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "company") {
        return r;
    }
    let form: HashMap<String, String> = form_pairs(req).into_iter().collect();
    let Some(Ok(id)) = form.get("company_id").map(|s| s.trim().parse::<i64>()) else {
        return fail(400, "Invalid query");
    };
    match state.companies.get(&id) {
        Some(c) if !c.deleted && c.public => {
            state.delete_company(id);
            ok(json!({"company_id": id.to_string()}))
        }
        Some(c) if !c.deleted => fail(404, "No Privilege"),
        _ => fail(404, "Not Found Resource"),
    }
}

fn time_of(m: &Map<String, Value>, key: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(m.get(key)?.as_str()?, TIME_FORMAT).ok()
}

fn sorted_by_update(mut items: Vec<&Map<String, Value>>) -> Vec<&Map<String, Value>> {
    items.sort_by_cached_key(|m| std::cmp::Reverse(time_of(m, "update_time")));
    items
}

fn opportunity_list(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "opportunity") {
        return r;
    }
    let q = query(req);
    let ((page, count), w) = match (paging(&q, 10), window(&q)) {
        (Ok(p), Ok(w)) => (p, w),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let rows = sorted_by_update(
        state
            .opportunities
            .iter()
            .filter(|o| in_window(time_of(o, "update_time"), &w))
            .collect(),
    );
    let list: Vec<Value> = page_of(&rows, page, count)
        .into_iter()
        .map(|m| Value::Object(m.clone()))
        .collect();
    ok(json!({"list": list, "totalItem": rows.len()}))
}

fn find_by<'a>(
    items: impl Iterator<Item = &'a Map<String, Value>>,
    q: &HashMap<String, String>,
    keys: &[&str],
) -> Option<&'a Map<String, Value>> {
    let (key, wanted) = keys
        .iter()
        .find_map(|k| q.get(*k).filter(|v| !v.is_empty()).map(|v| (*k, v.clone())))?;
    items
        .into_iter()
        .find(|m| m.get(key).map(scalar).as_deref() == Some(wanted.as_str()))
}

fn opportunity_info(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "opportunity") {
        return r;
    }
    match find_by(
        state.opportunities.iter(),
        &query(req),
        &["opportunity_id", "serial_id"],
    ) {
        Some(o) => ok(Value::Object(o.clone())),
        None => fail(404, "Not Found Resource"),
    }
}

fn order_list(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "invoices") {
        return r;
    }
    let q = query(req);
    let ((page, count), w) = match (paging(&q, 10), window(&q)) {
        (Ok(p), Ok(w)) => (p, w),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let time_type = q.get("time_type").map(String::as_str).unwrap_or("1");
    let removed = q.get("removed").is_some_and(|v| v == "1") || time_type == "4";
    let key = match time_type {
        "2" => "create_time",
        "3" => "account_date",
        "4" => "delete_time",
        _ => "update_time",
    };
    let rows = sorted_by_update(
        state
            .orders
            .iter()
            .filter(|(_, deleted)| *deleted == removed)
            .map(|(o, _)| o)
            .filter(|o| in_window(time_of(o, key), &w))
            .collect(),
    );
    let list: Vec<Value> = page_of(&rows, page, count)
        .into_iter()
        .map(|m| Value::Object(m.clone()))
        .collect();
    ok(json!({"count": rows.len(), "list": list}))
}

fn order_info(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "invoices") {
        return r;
    }
    let live = state.orders.iter().filter(|(_, d)| !d).map(|(o, _)| o);
    match find_by(live, &query(req), &["order_id", "order_no"]) {
        Some(o) => ok(Value::Object(o.clone())),
        None => fail(404, "Not Found Resource"),
    }
}

fn user_list(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "user") {
        return r;
    }
    let flag = query(req)
        .get("enable_flag")
        .cloned()
        .unwrap_or_else(|| "1".into());
    let users: Vec<Value> = state
        .users
        .iter()
        .filter(|u| u.get("enable_flag").map(scalar).as_deref() == Some(flag.as_str()))
        .map(|u| Value::Object(u.clone()))
        .collect();
    ok(Value::Array(users))
}

fn user_info(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    if let Err(r) = authorize(state, req, "user") {
        return r;
    }
    match find_by(
        state.users.iter(),
        &query(req),
        &["user_id", "email", "nickname", "full_name"],
    ) {
        Some(u) => {
            let mut u = u.clone();
            u.insert(
                "is_admin".into(),
                json!(u.get("user_id").map(scalar).as_deref() == Some("55280038")),
            );
            ok(Value::Object(u))
        }
        None => fail(404, "Not Found Resource"),
    }
}

/// Reads a token request's parameters from a JSON or form body.
fn token_params(req: &Request) -> HashMap<String, String> {
    match body_json(req) {
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, scalar(&v))).collect(),
        _ => form_pairs(req).into_iter().collect(),
    }
}

fn access_token(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    let p = token_params(req);
    let grant = p.get("grant_type").cloned().unwrap_or_default();
    if grant != "client_credentials" && grant != "password" {
        return oauth_error(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            Some("Check that all required parameters have been provided"),
            400,
        );
    }
    if p.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || p.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return oauth_error("invalid_client", "Client authentication failed", None, 400);
    }
    let scopes: Vec<String> = p
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if scopes.is_empty() || scopes.iter().any(|s| !state.granted_scopes.contains(s)) {
        return oauth_error(
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            Some("Check the `scope` parameter"),
            400,
        );
    }
    if grant == "password" {
        if p.get("username").map(String::as_str) != Some(USERNAME)
            || p.get("password").map(String::as_str) != Some(hash_password(PASSWORD).as_str())
        {
            return oauth_error(
                "invalid_grant",
                "The user credentials were incorrect.",
                None,
                400,
            );
        }
        let (token, expires_in) = state.issue_token("user", scopes.clone(), true);
        let refresh = format!("def50200{}", hex_hash(&token));
        state
            .refresh_tokens
            .insert(refresh.clone(), scopes.join(" "));
        return json_response(&json!({
            "token_type": "Bearer", "expires_in": expires_in.round() as i64, "access_token": token, "refresh_token": refresh,
        }));
    }
    let (token, expires_in) = state.issue_token("client", scopes, true);
    json_response(
        &json!({"token_type": "Bearer", "expires_in": expires_in.round() as i64, "access_token": token}),
    )
}

fn refresh_token(state: &mut OkkiState, req: &Request) -> ResponseTemplate {
    let p: HashMap<String, String> = form_pairs(req).into_iter().collect();
    if p.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return oauth_error(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            None,
            400,
        );
    }
    if p.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || p.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return oauth_error("invalid_client", "Client authentication failed", None, 400);
    }
    let Some(scopes) = p
        .get("refresh_token")
        .and_then(|t| state.refresh_tokens.remove(t))
    else {
        return oauth_error(
            "invalid_request",
            "The refresh token is invalid.",
            Some("Token has been revoked"),
            400,
        );
    };
    state.first_expiry.remove("user");
    let (token, expires_in) = state.issue_token(
        "user",
        scopes.split(' ').map(str::to_owned).collect(),
        false,
    );
    let refresh = format!("def50200{}", hex_hash(&token));
    state.refresh_tokens.insert(refresh.clone(), scopes);
    json_response(&json!({
        "token_type": "Bearer", "expires_in": expires_in.round() as i64, "access_token": token, "refresh_token": refresh,
    }))
}

/// Matches one method and exact path.
struct Endpoint(&'static str, &'static str);

impl Match for Endpoint {
    fn matches(&self, request: &Request) -> bool {
        request.method.as_str() == self.0 && request.url.path() == self.1
    }
}

/// A running fake OKKI server.
pub struct FakeOkki {
    server: FakeServer<OkkiState>,
}

impl std::fmt::Debug for FakeOkki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOkki")
            .field("uri", &self.server.uri())
            .finish()
    }
}

impl FakeOkki {
    /// Starts an empty fake on a free loopback port.
    pub async fn start() -> Self {
        let fake = Self {
            server: FakeServer::start(OkkiState::new(), OkkiFaultStyle).await,
        };
        fake.mount().await;
        fake
    }

    /// Starts an empty fake on a given address (for a sandbox).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let fake = Self {
            server: FakeServer::start_on(addr, OkkiState::new(), OkkiFaultStyle).await?,
        };
        fake.mount().await;
        Ok(fake)
    }

    async fn mount(&self) {
        let s = &self.server;
        s.route(Endpoint("POST", "/v1/oauth2/access_token"), access_token)
            .await;
        s.route(Endpoint("POST", "/v1/oauth2/refresh_token"), refresh_token)
            .await;
        s.route(Endpoint("GET", "/v1/company/list"), company_list)
            .await;
        s.route(Endpoint("GET", "/v1/company/info"), company_info)
            .await;
        s.route(
            Endpoint("POST", "/v1/company/pushCompanyAndCustomers"),
            push_company,
        )
        .await;
        s.route(
            Endpoint("POST", "/v1/company/removeCompanyAndCustomers"),
            remove_company,
        )
        .await;
        s.route(Endpoint("GET", "/v1/opportunity/list"), opportunity_list)
            .await;
        s.route(Endpoint("GET", "/v1/opportunity/info"), opportunity_info)
            .await;
        s.route(Endpoint("GET", "/v1/invoices/order/list"), order_list)
            .await;
        s.route(Endpoint("GET", "/v1/invoices/order/info"), order_info)
            .await;
        s.route(Endpoint("GET", "/v1/user/list"), user_list).await;
        s.route(Endpoint("GET", "/v1/user/info"), user_info).await;
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The address the fake listens on.
    pub fn address(&self) -> &SocketAddr {
        self.server.address()
    }

    /// The `client_credentials` the fake accepts, with every typed scope.
    pub fn credentials() -> Credentials {
        Credentials::client_credentials(
            CLIENT_ID,
            CLIENT_SECRET,
            crate::auth::scopes::TYPED.iter().copied(),
        )
    }

    /// The `password` grant credentials the fake accepts.
    pub fn password_credentials() -> Credentials {
        Credentials::password(
            CLIENT_ID,
            CLIENT_SECRET,
            crate::auth::scopes::TYPED.iter().copied(),
            USERNAME,
            PASSWORD,
        )
    }

    /// A client builder pointed at this fake, with its credentials, fast
    /// retries ([`fast_retry`]) and no rate limit.
    pub fn client_builder(&self) -> ClientBuilder {
        let mut builder = crate::Client::builder()
            .base_url(self.uri())
            .credentials(Self::credentials())
            .retry(fast_retry());
        builder.settings_mut().rate_limit = None;
        builder
    }

    /// The state, locked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, OkkiState> {
        self.server.state()
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Requests received whose path contains `path_contains`.
    pub async fn received_on(&self, path_contains: &str) -> Vec<Request> {
        self.server.received_on(path_contains).await
    }

    /// Makes every issued token expired: the next call gets HTTP 401.
    pub fn expire_tokens(&self) {
        self.state().expire_tokens();
    }

    /// Seeds `n` companies (with 1–3 contacts each), `n` opportunities, `n`
    /// orders and 5 users, with Chinese names and addresses, amounts with two
    /// decimals and times spread over 2025. Deterministic.
    pub fn seed_demo(&self, n: usize) {
        let mut state = self.state();
        seed(&mut state, n);
    }
}

/// The fake as every connector's fake is driven ([`Fake`]), with the
/// `client_credentials` grant ([`FakeOkki::credentials`]).
#[async_trait::async_trait]
impl Fake for FakeOkki {
    type Builder = ClientBuilder;
    type Credentials = Credentials;

    async fn start() -> Self {
        FakeOkki::start().await
    }
    async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        FakeOkki::start_on(addr).await
    }
    fn base_url(&self) -> String {
        self.uri()
    }
    fn credentials(&self) -> Credentials {
        Self::credentials()
    }
    fn client_builder(&self) -> ClientBuilder {
        FakeOkki::client_builder(self)
    }
    fn faults(&self) -> &Faults {
        self.server.faults()
    }
    async fn received(&self) -> Vec<Request> {
        self.server.received().await
    }
}

const CITIES: &[(&str, &str, &str)] = &[
    ("上海", "上海市", "浦东新区张江路"),
    ("北京", "北京市", "朝阳区建国路"),
    ("广东", "深圳市", "南山区科技园南路"),
    ("浙江", "杭州市", "西湖区文三路"),
    ("江苏", "苏州市", "工业园区星湖街"),
    ("广东", "广州市", "天河区珠江新城花城大道"),
    ("四川", "成都市", "高新区天府大道"),
    ("湖北", "武汉市", "洪山区光谷大道"),
];
const WORDS: &[&str] = &[
    "明远", "华信", "鼎盛", "恒通", "瑞丰", "嘉禾", "宏达", "启航", "博源", "中联", "海纳", "金泰",
];
const TRADES: &[&str] = &[
    "贸易",
    "科技",
    "电子",
    "机械",
    "纺织",
    "进出口",
    "实业",
    "供应链",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "婷", "强", "军", "杰", "霞",
];
const PINYIN: &[&str] = &[
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "zhou", "wu", "xu", "sun",
];
const STATUS_NAMES: &[&str] = &["", "初次接触", "报价中", "已成交"];
const CUSTOM_VALUES: &[&str] = &["A1", "B2", "C3"];
const POSTS: &[&str] = &["采购经理", "总经理", "财务主管", "外贸业务员", "技术总监"];

fn seed_time(i: usize, offset_days: i64) -> String {
    let base = beijing()
        .with_ymd_and_hms(2025, 1, 3, 9, 0, 0)
        .single()
        .map(|t| t.naive_local())
        .unwrap_or_default();
    let t = base
        + chrono::Duration::days(((i as i64 * 11) % 330) + offset_days)
        + chrono::Duration::minutes((i as i64 * 137) % 600);
    t.format(TIME_FORMAT).to_string()
}

fn money(i: usize, scale: i64) -> Decimal {
    Decimal::new(
        ((i as i64 * 7919) % 90_000 + 1_000) * scale + (i as i64 * 37 % 100),
        2,
    )
}

fn seed(state: &mut OkkiState, n: usize) {
    let users: Vec<(i64, String, String)> = (0..5)
        .map(|i| {
            let id = 55_280_038 + i as i64;
            let name = format!(
                "{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i + 3) % GIVEN.len()]
            );
            let email = format!("{}.{}@mingyuan-trade.cn", PINYIN[i % PINYIN.len()], i + 1);
            (id, name, email)
        })
        .collect();
    for (i, (id, name, email)) in users.iter().enumerate() {
        let mut u = Map::new();
        u.insert("user_id".into(), json!(id.to_string()));
        u.insert("email".into(), json!(email));
        u.insert("nickname".into(), json!(name));
        u.insert(
            "family_name".into(),
            json!(name.chars().next().map(String::from).unwrap_or_default()),
        );
        u.insert(
            "second_name".into(),
            json!(name.chars().skip(1).collect::<String>()),
        );
        u.insert("full_name".into(), json!(name));
        u.insert("gender".into(), json!(if i % 2 == 0 { "1" } else { "2" }));
        u.insert("enable_flag".into(), json!(if i == 4 { "0" } else { "1" }));
        u.insert("position".into(), json!(POSTS[i % POSTS.len()]));
        u.insert(
            "user_mobile".into(),
            json!(format!("1380013{:04}", 8000 + i)),
        );
        u.insert("employee_no".into(), json!(format!("E{:04}", i + 1)));
        u.insert(
            "department_id".into(),
            json!(if i % 2 == 0 {
                json!(1001)
            } else {
                json!("1002")
            }),
        );
        u.insert(
            "department_name".into(),
            json!(if i % 2 == 0 {
                "华东销售部"
            } else {
                "华南销售部"
            }),
        );
        u.insert(
            "departments".into(),
            json!([{"department_id": if i % 2 == 0 { "1001" } else { "1002" }, "department_name": if i % 2 == 0 { "华东销售部" } else { "华南销售部" }}]),
        );
        state.users.push(u);
    }
    let start = state.companies.len();
    for k in 0..n {
        let i = start + k;
        let (province, city, road) = CITIES[i % CITIES.len()];
        let word = WORDS[i % WORDS.len()];
        let trade = TRADES[(i / WORDS.len()) % TRADES.len()];
        let name = format!("{}{}{}有限公司", city.trim_end_matches('市'), word, trade);
        let owner = &users[i % 4];
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        d.insert("short_name".into(), json!(format!("{word}{trade}")));
        d.insert("serial_id".into(), json!(format!("KH{:06}", i + 1)));
        d.insert("country".into(), json!("CN"));
        d.insert("province".into(), json!(province));
        d.insert("city".into(), json!(city));
        d.insert(
            "address".into(),
            json!(format!("{city}{road}{}号", 10 + i * 7 % 300)),
        );
        d.insert(
            "homepage".into(),
            json!(format!(
                "https://www.{}-{}.cn",
                PINYIN[i % PINYIN.len()],
                i + 1
            )),
        );
        d.insert("fax".into(), json!(""));
        d.insert(
            "tel".into(),
            json!(["+86", format!("021-{:08}", 55_550_000 + i)]),
        );
        d.insert("tel_area_code".into(), json!("86"));
        d.insert(
            "remark".into(),
            json!(if i % 3 == 0 { "年度重点客户" } else { "" }),
        );
        d.insert("star".into(), json!(1 + i % 5));
        d.insert(
            "group_id".into(),
            json!(if i % 2 == 0 { 3001 } else { 3002 }),
        );
        d.insert("pool_id".into(), json!(0));
        d.insert(
            "trail_status".into(),
            json!({"status_id": format!("{}", i % 4), "status_name": STATUS_NAMES[i % 4]}),
        );
        d.insert(
            "owner".into(),
            json!([{"user_id": owner.0, "nickname": owner.1}]),
        );
        d.insert("user_id".into(), json!([owner.0.to_string()]));
        d.insert("create_user".into(), json!(owner.0));
        d.insert("last_edit_user".into(), json!(owner.0.to_string()));
        d.insert("create_time".into(), json!(seed_time(i, 0)));
        d.insert("archive_time".into(), json!(seed_time(i, 0)));
        d.insert(
            "update_time".into(),
            json!(seed_time(i, 20 + (i as i64 * 3) % 40)),
        );
        d.insert(
            "edit_time".into(),
            json!(seed_time(i, 20 + (i as i64 * 3) % 40)),
        );
        d.insert(
            "order_time".into(),
            json!(if i % 4 == 0 {
                EMPTY_TIME.to_owned()
            } else {
                seed_time(i, 10)
            }),
        );
        d.insert("next_follow_up_time".into(), json!(EMPTY_TIME));
        d.insert("next_move_to_public_date".into(), json!("1970-01-01"));
        d.insert("archive_type".into(), json!(1 + i % 2));
        d.insert("4432264586798".into(), json!([CUSTOM_VALUES[i % 3]]));
        let contacts = (0..1 + i % 3)
            .map(|j| {
                let s = (i + j * 5) % SURNAMES.len();
                let mut c = Map::new();
                c.insert(
                    "name".into(),
                    json!(format!("{}{}", SURNAMES[s], GIVEN[(i + j) % GIVEN.len()])),
                );
                c.insert(
                    "email".into(),
                    json!(format!(
                        "{}{}@{}-{}.cn",
                        PINYIN[s],
                        j + 1,
                        PINYIN[i % PINYIN.len()],
                        i + 1
                    )),
                );
                c.insert(
                    "tel_list".into(),
                    json!([["+86", format!("139{:08}", 10_000_000 + i * 10 + j)]]),
                );
                c.insert(
                    "contact".into(),
                    json!([{"type": "wechat", "value": format!("wx_{}_{}", i + 1, j + 1)}]),
                );
                c.insert("post".into(), json!(POSTS[(i + j) % POSTS.len()]));
                c.insert("post_grade".into(), json!(""));
                c.insert("birth".into(), json!(""));
                c.insert(
                    "gender".into(),
                    json!(if (i + j) % 2 == 0 { "1" } else { "2" }),
                );
                c.insert("remark".into(), json!(""));
                c.insert(
                    "main_customer_flag".into(),
                    json!(if j == 0 { 1 } else { 0 }),
                );
                c.insert("image_list".into(), json!([]));
                c.insert(
                    "external_field_data".into(),
                    json!([{"id": "3301", "name": "客户来源", "value": "展会"}]),
                );
                c
            })
            .collect();
        state.insert_company(d, contacts, i % 5 == 4);

        let mut o = Map::new();
        let oid = state.next_id();
        o.insert("opportunity_id".into(), json!(oid));
        o.insert("serial_id".into(), json!(format!("SJ{:06}", i + 1)));
        o.insert("name".into(), json!(format!("{name}年度采购项目")));
        o.insert("company_id".into(), json!(oid - 1 - ((1 + i % 3) as i64)));
        o.insert("main_user".into(), json!(owner.0));
        o.insert("user_id".into(), json!([owner.0]));
        o.insert("handler".into(), json!([owner.0.to_string()]));
        o.insert("create_user".into(), json!(owner.0));
        o.insert(
            "currency".into(),
            json!(if i % 3 == 0 { "USD" } else { "CNY" }),
        );
        let amount = money(i, 10);
        o.insert("amount".into(), json!(amount.to_string()));
        o.insert("amount_rmb".into(), json!(amount.to_string()));
        o.insert(
            "amount_usd".into(),
            json!((amount / Decimal::new(72, 1)).round_dp(2).to_string()),
        );
        o.insert("exchange_rate".into(), json!("100.0000"));
        o.insert(
            "account_date".into(),
            json!(seed_time(i, 60)[..10].to_owned()),
        );
        o.insert("stage".into(), json!(format!("{}", 9000 + i % 4)));
        o.insert("stage_type".into(), json!(1));
        o.insert("stage_type_name".into(), json!("进行中"));
        o.insert("remark".into(), json!(""));
        o.insert("create_time".into(), json!(seed_time(i, 5)));
        o.insert("update_time".into(), json!(seed_time(i, 25)));
        o.insert("product_list".into(), Value::Null);
        o.insert("external_field_data".into(), json!({}));
        state.opportunities.push(o);

        let mut r = Map::new();
        r.insert("order_id".into(), json!(state.next_id()));
        r.insert("order_no".into(), json!(format!("SO2025{:05}", i + 1)));
        r.insert("name".into(), json!(format!("{word}{trade}销售订单")));
        r.insert(
            "account_date".into(),
            json!(seed_time(i, 30)[..10].to_owned()),
        );
        r.insert("create_time".into(), json!(seed_time(i, 30)));
        r.insert("update_time".into(), json!(seed_time(i, 31)));
        r.insert("create_user".into(), json!(owner.0));
        r.insert("update_user".into(), json!(owner.0.to_string()));
        r.insert("company_id".into(), json!(oid.to_string()));
        r.insert("company_name".into(), json!(name));
        r.insert("currency".into(), json!("CNY"));
        let qty = Decimal::from(1 + (i % 9) as i64);
        let price = money(i, 1);
        let total = (qty * price).round_dp(2);
        r.insert("amount".into(), json!(total.to_string()));
        r.insert("amount_rmb".into(), json!(total.to_string()));
        r.insert("exchange_rate".into(), json!("100"));
        r.insert("product_total_amount".into(), json!(total.to_string()));
        r.insert("product_total_count".into(), json!(qty.to_string()));
        r.insert("status".into(), json!(13_972_831_654i64 + (i % 3) as i64));
        r.insert(
            "status_name".into(),
            json!(["草稿", "已确认", "已发货"][i % 3]),
        );
        r.insert(
            "product_list".into(),
            json!([{"unique_id": format!("{}", 7_000_000 + i), "product_id": 6_000_000 + i, "sku_id": 0, "count": qty.to_string(), "unit_price": price.to_string(), "product_name": format!("{trade}配件{}", i % 7 + 1)}]),
        );
        let deleted = i % 10 == 9;
        r.insert(
            "delete_time".into(),
            json!(if deleted {
                seed_time(i, 40)
            } else {
                EMPTY_TIME.to_owned()
            }),
        );
        state.orders.push((r, deleted));
    }
}
