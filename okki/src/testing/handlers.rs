//! The fake's request handlers: routing, the OAuth token endpoints, the
//! token and scope check, OKKI's envelopes, paging and time windows, and
//! the per-endpoint answers.

// Handlers return the answer to send as `Err`; a `ResponseTemplate` is large
// and that is fine in a fake.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use integration_core::testing::{
    FakeServer, Match, Request, ResponseTemplate, body_json, form_pairs, header, json_response,
};
use integration_core::types::{BeijingTime, beijing};
use serde_json::{Map, Value, json};

use super::state::{EMPTY_TIME, OkkiState, StoredCompany, TIME_FORMAT, hex_hash};
use super::{CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME};
use crate::auth::hash_password;

pub(super) fn access_denied() -> ResponseTemplate {
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

/// Mounts every endpoint of the fake on `s`.
pub(super) async fn mount(s: &FakeServer<OkkiState>) {
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
