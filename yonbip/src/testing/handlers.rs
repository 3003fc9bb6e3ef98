//! The fake's request handlers: routing, discovery, the token call and its
//! signature check, the token check of every gateway call, YonBIP's
//! envelopes, paging and the per-endpoint answers.

use std::time::Instant;

use base64::Engine as _;
use chrono::Utc;
use hmac::{Hmac, Mac};
use integration_core::testing::{
    FakeServer, Match, Request, ResponseTemplate, body_json, json_response,
};
use integration_core::types::BeijingTime;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::state::{FakeState, name_zh, record_value, text_of};
use super::{AUTH_PREFIX, CODE_INVALID, CODE_NOT_FOUND, CODE_UNKNOWN_TENANT, GATEWAY_PREFIX};
use crate::assumed;

fn envelope(code: &str, message: &str, data: Value) -> ResponseTemplate {
    json_response(&json!({"code": code, "message": message, "data": data}))
}

fn ok(data: Value) -> ResponseTemplate {
    envelope(assumed::SUCCESS_CODE, "操作成功", data)
}

fn fail(code: &str, message: &str) -> ResponseTemplate {
    envelope(code, message, Value::Null)
}

pub(super) fn token_expired() -> ResponseTemplate {
    fail(assumed::TOKEN_EXPIRED_CODE, "token已过期")
}

fn illegal_token() -> ResponseTemplate {
    fail(assumed::ILLEGAL_TOKEN_CODE, "非法token")
}

/// Matches a method and an exact path.
struct Route {
    method: &'static str,
    path: String,
}

impl Match for Route {
    fn matches(&self, request: &Request) -> bool {
        request.method.as_str() == self.method && request.url.path() == self.path
    }
}

fn route(method: &'static str, path: impl Into<String>) -> Route {
    Route {
        method,
        path: path.into(),
    }
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The fake's own HMAC check (independent of the client's code; both are
/// pinned by the fact sheet's vectors).
fn expected_signature(app_key: &str, app_secret: &str, timestamp: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("appKey{app_key}timestamp{timestamp}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn now_beijing() -> String {
    BeijingTime::from_utc(Utc::now()).to_string()
}

/// Mounts every endpoint of the fake on `server`.
pub(super) async fn mount(server: &FakeServer<FakeState>) {
    server
        .route(route("GET", assumed::DISCOVERY_PATH), discovery)
        .await;
    for path in [crate::auth::TOKEN_PATH, crate::auth::LEGACY_TOKEN_PATH] {
        server
            .route(route("GET", format!("{AUTH_PREFIX}{path}")), issue_token)
            .await;
    }
    let gw = |path: &str| format!("{GATEWAY_PREFIX}/{path}");
    server
        .route(route("POST", gw(crate::merchant::SAVE_PATH)), |s, r| {
            authorized(s, r, merchant_save)
        })
        .await;
    server
        .route(route("POST", gw(crate::merchant::LIST_PATH)), |s, r| {
            authorized(s, r, |s, r| match by_code(s, r) {
                Some(found) => list(&found, r),
                None => list(&s.merchants, r),
            })
        })
        .await;
    server
        .route(route("GET", gw(crate::merchant::DETAIL_PATH)), |s, r| {
            authorized(s, r, |s, r| detail(&s.merchants, r, "客户"))
        })
        .await;
    server
        .route(route("POST", gw(crate::sales_order::LIST_PATH)), |s, r| {
            authorized(s, r, |s, r| list(&s.sales_orders, r))
        })
        .await;
    server
        .route(route("GET", gw(crate::sales_order::DETAIL_PATH)), |s, r| {
            authorized(s, r, |s, r| detail(&s.sales_orders, r, "销售订单"))
        })
        .await;
    server
        .route(route("POST", gw(crate::product::LIST_PATH)), |s, r| {
            authorized(s, r, |s, r| list(&s.products, r))
        })
        .await;
    server
        .route(route("GET", gw(crate::product::DETAIL_PATH)), |s, r| {
            authorized(s, r, |s, r| detail(&s.products, r, "物料"))
        })
        .await;
}

fn discovery(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if query(request, "tenantId").as_deref() != Some(state.tenant_id.as_str()) {
        return json_response(
            &json!({"code": CODE_UNKNOWN_TENANT, "message": "租户不存在或未开通", "data": null}),
        );
    }
    state.discoveries += 1;
    json_response(&json!({
        "code": assumed::AUTH_SUCCESS_CODE,
        "message": "成功！",
        "data": {
            "gatewayUrl": format!("{}{GATEWAY_PREFIX}", state.base_uri),
            "tokenUrl": format!("{}{AUTH_PREFIX}", state.base_uri),
        }
    }))
}

fn issue_token(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let refuse = |message: &str| {
        json_response(
            &json!({"code": assumed::BAD_SIGNATURE_CODE, "message": message, "data": null}),
        )
    };
    let (Some(app_key), Some(timestamp), Some(signature)) = (
        query(request, "appKey"),
        query(request, "timestamp"),
        query(request, "signature"),
    ) else {
        return refuse("参数appKey、timestamp、signature不能为空");
    };
    if app_key != state.app_key {
        return refuse("appKey不存在或应用已停用");
    }
    let Ok(millis) = timestamp.parse::<i64>() else {
        return refuse("timestamp格式错误");
    };
    let skew = (Utc::now().timestamp_millis() - millis).unsigned_abs();
    if skew > state.max_clock_skew.as_millis() as u64 {
        return refuse("timestamp已过期");
    }
    if signature != expected_signature(&app_key, &state.app_secret, &timestamp) {
        return refuse("签名验证失败");
    }
    state.token_fetches += 1;
    let token = format!(
        "fake{:032x}",
        u128::from(state.token_fetches) * 0x9e37_79b9_7f4a_7c15 + millis as u128
    );
    state
        .tokens
        .insert(token.clone(), Instant::now() + state.token_ttl);
    json_response(&json!({
        "code": assumed::AUTH_SUCCESS_CODE,
        "message": "成功！",
        "data": {"access_token": token, "expire": state.token_ttl.as_secs()}
    }))
}

fn authorized(
    state: &mut FakeState,
    request: &Request,
    handler: impl FnOnce(&mut FakeState, &Request) -> ResponseTemplate,
) -> ResponseTemplate {
    let token = query(request, "access_token").unwrap_or_default();
    match state.tokens.get(&token) {
        Some(expires) if *expires > Instant::now() => handler(state, request),
        Some(_) => token_expired(),
        None => illegal_token(),
    }
}

fn merchant_save(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let body = body_json(request);
    let Some(data) = body.get("data").and_then(Value::as_object).cloned() else {
        return fail(CODE_INVALID, "参数data不能为空");
    };
    let code = text_of(data.get("code")).unwrap_or_default();
    if state.reject_codes.contains(&code) {
        return fail(
            CODE_INVALID,
            &format!("客户[{code}]保存失败：客户分类不允许使用"),
        );
    }
    match data.get("_status").and_then(Value::as_str) {
        Some("Insert") => {
            if code.trim().is_empty() {
                return fail(CODE_INVALID, "客户编码不能为空");
            }
            if name_zh(data.get("name")).is_none_or(|n| n.trim().is_empty()) {
                return fail(CODE_INVALID, "客户名称不能为空");
            }
            if text_of(data.get("createOrg")).is_none() {
                return fail(CODE_INVALID, "管理组织不能为空");
            }
            if state.merchant_by_code(&code).is_some() {
                return fail(CODE_INVALID, &format!("客户编码[{code}]已存在"));
            }
            if state.name_taken(&data, None) {
                return fail(CODE_INVALID, "客户名称已存在");
            }
            let mut record = data;
            record.remove("_status");
            record.insert("id".into(), Value::String(state.new_id()));
            let org = record_value(&record, "createOrg");
            record.entry("belongOrg").or_insert(org);
            record.insert("pubts".into(), Value::String(now_beijing()));
            state.push_merchant(record.clone());
            ok(Value::Object(record))
        }
        Some("Update") => {
            let Some(id) = text_of(data.get("id")) else {
                return fail(CODE_INVALID, "修改时客户ID不能为空");
            };
            if !code.is_empty()
                && state
                    .merchant_by_code(&code)
                    .is_some_and(|m| text_of(m.get("id")).as_deref() != Some(&id))
            {
                return fail(CODE_INVALID, &format!("客户编码[{code}]已存在"));
            }
            if state.name_taken(&data, Some(&id)) {
                return fail(CODE_INVALID, "客户名称已存在");
            }
            let Some(position) = state
                .merchants
                .iter()
                .position(|m| text_of(m.get("id")).as_deref() == Some(&id))
            else {
                return fail(CODE_NOT_FOUND, &format!("客户[{id}]不存在或已删除"));
            };
            // A new code moves the merchant in the index.
            if data.contains_key("code")
                && text_of(data.get("code")) != text_of(state.merchants[position].get("code"))
            {
                state.by_code.clear();
            }
            let record = &mut state.merchants[position];
            for (k, v) in data {
                if k != "_status" && k != "pubts" {
                    record.insert(k, v);
                }
            }
            record.insert("pubts".into(), Value::String(now_beijing()));
            ok(Value::Object(record.clone()))
        }
        _ => fail(CODE_INVALID, "操作标识_status必须为Insert或Update"),
    }
}

/// The merchants a list filtered by `code` can match, through the index
/// (`None` without a code filter). The list applies every filter again.
fn by_code(state: &FakeState, request: &Request) -> Option<Vec<Map<String, Value>>> {
    let code = text_of(body_json(request).get("code"))?;
    Some(state.merchant_by_code(&code).cloned().into_iter().collect())
}

fn matches_condition(record: &Map<String, Value>, condition: &Value) -> bool {
    let field = condition
        .get("field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let op = condition.get("op").and_then(Value::as_str).unwrap_or("eq");
    let Some(actual) = text_of(record.get(field)) else {
        return false;
    };
    let v1 = text_of(condition.get("value1")).unwrap_or_default();
    let v2 = text_of(condition.get("value2")).unwrap_or_default();
    // Same-format texts ("yyyy-MM-dd HH:mm:ss", codes) compare correctly as strings.
    match op {
        "eq" => actual == v1,
        "neq" => actual != v1,
        "gt" => actual > v1,
        "egt" => actual >= v1,
        "lt" => actual < v1,
        "elt" => actual <= v1,
        "between" => actual >= v1 && actual <= v2,
        "like" => actual.contains(&v1),
        _ => false,
    }
}

fn list(records: &[Map<String, Value>], request: &Request) -> ResponseTemplate {
    let body = body_json(request);
    let number = |name: &str| {
        body.get(name)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    };
    let (Some(page_index), Some(page_size)) = (number("pageIndex"), number("pageSize")) else {
        return fail(CODE_INVALID, "pageIndex和pageSize不能为空");
    };
    if page_index < 1 {
        return fail(CODE_INVALID, "pageIndex必须大于0");
    }
    if page_size < 1 || page_size > u64::from(assumed::MAX_PAGE_SIZE) {
        return fail(
            CODE_INVALID,
            &format!("pageSize必须在1到{}之间", assumed::MAX_PAGE_SIZE),
        );
    }
    let code = text_of(body.get("code"));
    let name = text_of(body.get("name"));
    let conditions = body
        .get("simpleVOs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matching: Vec<&Map<String, Value>> = records
        .iter()
        .filter(|r| {
            code.as_ref()
                .is_none_or(|c| text_of(r.get("code")).as_ref() == Some(c))
        })
        .filter(|r| {
            name.as_ref()
                .is_none_or(|n| name_zh(r.get("name")).is_some_and(|rn| rn.contains(n.as_str())))
        })
        .filter(|r| conditions.iter().all(|c| matches_condition(r, c)))
        .collect();
    matching.sort_by_cached_key(|r| text_of(r.get("id")).map(|id| (id.len(), id)));
    let record_count = matching.len() as u64;
    let page_count = record_count.div_ceil(page_size);
    let start = ((page_index - 1) * page_size) as usize;
    let page: Vec<Value> = matching
        .into_iter()
        .skip(start)
        .take(page_size as usize)
        .map(|r| Value::Object(r.clone()))
        .collect();
    ok(json!({
        "pageIndex": page_index,
        "pageSize": page_size,
        "recordCount": record_count,
        "pageCount": page_count,
        "beginPageIndex": 1,
        "endPageIndex": page_count.max(1),
        "recordList": page,
    }))
}

fn detail(records: &[Map<String, Value>], request: &Request, what: &str) -> ResponseTemplate {
    let Some(id) = query(request, "id") else {
        return fail(CODE_INVALID, "参数id不能为空");
    };
    match records
        .iter()
        .find(|r| text_of(r.get("id")).as_deref() == Some(id.as_str()))
    {
        Some(record) => ok(Value::Object(record.clone())),
        None => fail(CODE_NOT_FOUND, &format!("{what}[{id}]不存在或已删除")),
    }
}
