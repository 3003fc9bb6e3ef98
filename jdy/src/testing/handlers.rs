//! The request handlers: routing, the V2 signature and token checks, the V1
//! token and account checks, the envelopes, the per-endpoint answers, the
//! list filters and paging.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use integration_core::testing::{Request, ResponseTemplate};
use integration_core::types::beijing;
use serde_json::{Map, Value, json};

use super::state::{FakeState, beijing_text};
use super::{
    ACCOUNT_ID, APP_KEY, CLIENT_ID, CLIENT_SECRET, DOMAIN, OUTER_INSTANCE_ID, V1_ACCOUNT_ID,
    V1_CLIENT_ID, V1_CLIENT_SECRET, V1_GROUP_NAME, V1_PASSWORD, V1_USERNAME, codes,
};

// ---------------------------------------------------------------- helpers

fn parse_beijing_ms(text: &str) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(
        beijing()
            .from_local_datetime(&naive)
            .single()?
            .timestamp_millis(),
    )
}

fn v2_error(code: i64, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": code, "description": description, "data": null}))
}

fn v2_ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": 0, "description": "success", "data": data}))
}

fn v1_ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": data}))
}

fn v1_fail(code: &str, cn: &str, en: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"success": false, "code": code, "description_cn": cn, "message": en}))
}

fn v1_gateway(code: &str, cn: &str) -> ResponseTemplate {
    ResponseTemplate::new(519).set_body_json(json!({"code": code, "description_cn": cn}))
}

/// A header as text; raw UTF-8 is accepted (V1 sends `groupName`, often
/// Chinese, as raw UTF-8 bytes).
fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// The fake's own percent-encoder (form encoding, then fixed to RFC 3986),
/// written apart from the client's so the two check each other.
fn fake_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

fn expected_signature(secret: &str, req: &Request, nonce: &str, timestamp: &str) -> String {
    let mut pairs: Vec<(String, String)> = req
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let params: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", fake_encode(k), fake_encode(&fake_encode(v))))
        .collect();
    let text = format!(
        "{}\n{}\n{}\nx-api-nonce:{}\nx-api-timestamp:{}\n",
        req.method.as_str().to_uppercase(),
        fake_encode(req.url.path()),
        params.join("&"),
        nonce,
        timestamp
    );
    crate::auth::hmac_hex_base64(secret, &text)
}

/// The V2 gateway checks; `None` when the request passes.
fn check_v2_signature(req: &Request) -> Option<ResponseTemplate> {
    if header(req, "X-Api-ClientID") != Some(CLIENT_ID) {
        return Some(v2_error(codes::CLIENT, "clientId不存在或未授权"));
    }
    if header(req, "X-Api-Auth-Version") != Some("2.0")
        || header(req, "X-Api-SignHeaders")
            .map(|s| s.replace(' ', "").to_lowercase())
            .as_deref()
            != Some("x-api-timestamp,x-api-nonce")
    {
        return Some(v2_error(
            codes::CLIENT,
            "缺少签名请求头X-Api-Auth-Version/X-Api-SignHeaders",
        ));
    }
    let (Some(timestamp), Some(nonce), Some(signature)) = (
        header(req, "X-Api-TimeStamp"),
        header(req, "X-Api-Nonce"),
        header(req, "X-Api-Signature"),
    ) else {
        return Some(v2_error(codes::CLIENT, "缺少签名请求头"));
    };
    let Ok(ts) = timestamp.parse::<i64>() else {
        return Some(v2_error(codes::TIMESTAMP, "X-Api-TimeStamp格式错误"));
    };
    if (Utc::now().timestamp_millis() - ts).abs() > 5 * 60 * 1000 {
        return Some(v2_error(codes::TIMESTAMP, "时间戳已过期(有效期5分钟)"));
    }
    if expected_signature(CLIENT_SECRET, req, nonce, timestamp) != signature {
        return Some(v2_error(codes::SIGNATURE, "签名校验失败"));
    }
    None
}

fn query_map(req: &Request) -> Map<String, Value> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

// ---------------------------------------------------------------- dispatch

pub(super) fn handle(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    let path = req.url.path().to_owned();
    let method = req.method.as_str().to_uppercase();
    if path.starts_with("/jdyconnector/") || path.starts_with("/jdy/v2/") {
        if let Some(reject) = check_v2_signature(req) {
            return reject;
        }
        return match (method.as_str(), path.as_str()) {
            ("POST", crate::client::PUSH_APP_AUTHORIZE) => push_app_authorize(state, req),
            ("GET", crate::client::KINGDEE_AUTH_TOKEN) => auth_token(state, req),
            _ if path.starts_with("/jdy/v2/") => v2_business(state, req, &method, &path),
            _ => ResponseTemplate::new(404).set_body_string("No Route"),
        };
    }
    match path.as_str() {
        crate::client::V1_ACCESS_TOKEN => v1_token(state, req),
        crate::client::V1_ACCOUNT_GROUP => v1_groups(state, req),
        _ if path.starts_with("/jdy/") && method == "POST" => v1_business(state, req, &path),
        _ => ResponseTemplate::new(404).set_body_string("No Route"),
    }
}

fn push_app_authorize(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.authorize_calls += 1;
    let q = query_map(req);
    if q.get("outerInstanceId").and_then(Value::as_str) != Some(OUTER_INSTANCE_ID) {
        return v2_ok(json!([]));
    }
    v2_ok(json!([{
        "appKey": APP_KEY,
        "appSecret": state.app_secret,
        "domain": DOMAIN,
        "accountId": ACCOUNT_ID,
        "serviceId": "200000000",
        "accountName": "苏州华创贸易有限公司",
        "agreementCompanyName": "苏州华创贸易有限公司",
        "outerInstanceId": OUTER_INSTANCE_ID,
        "groupName": "华创贸易",
        "status": 1
    }]))
}

fn auth_token(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.token_calls += 1;
    let q = query_map(req);
    let app_key = q.get("app_key").and_then(Value::as_str).unwrap_or_default();
    let signature = q
        .get("app_signature")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if app_key != APP_KEY || signature != crate::auth::app_signature(APP_KEY, &state.app_secret) {
        return v2_error(codes::APP_KEY_CHECK_FAILED, "授权密钥校验失败");
    }
    let token = format!("fake-app-token-{}", state.new_id());
    state.app_tokens.insert(token.clone());
    v2_ok(json!({"uid": 20_000_001, "app-token": token}))
}

fn v1_token(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    state.v1_token_calls += 1;
    let q = query_map(req);
    let get = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default();
    if get("client_id") != V1_CLIENT_ID || get("client_secret") != V1_CLIENT_SECRET {
        return ResponseTemplate::new(200).set_body_json(
            json!({"errcode": 10_001, "description": "client_id或client_secret错误", "data": null}),
        );
    }
    if get("username") != V1_USERNAME || get("password") != V1_PASSWORD {
        return ResponseTemplate::new(200).set_body_json(
            json!({"errcode": 10_002, "description": "用户名或密码错误", "data": null}),
        );
    }
    let token = format!("fake-access-token-{}", state.new_id());
    state.access_tokens.insert(token.clone());
    let mut data = json!({"access_token": token, "uid": "88000001"});
    if let Some(expires_in) = &state.v1_expires_in {
        data["expires_in"] = expires_in.clone();
    }
    ResponseTemplate::new(200)
        .set_body_json(json!({"errcode": 0, "description": "成功", "data": data}))
}

fn v1_token_ok(state: &FakeState, req: &Request) -> bool {
    query_map(req)
        .get("access_token")
        .and_then(Value::as_str)
        .is_some_and(|t| state.access_tokens.contains(t))
}

fn v1_groups(state: &mut FakeState, req: &Request) -> ResponseTemplate {
    if !v1_token_ok(state, req) {
        return v1_gateway("1001", "access_token无效或已过期");
    }
    v1_ok(json!([{
        "serviceId": "100200300",
        "accountGroups": [
            {"accountId": V1_ACCOUNT_ID, "groupId": "1", "groupName": V1_GROUP_NAME},
            {"accountId": "8890002", "groupId": "2", "groupName": "华南分公司账套"}
        ]
    }]))
}

// ---------------------------------------------------------------- V2 business

fn v2_business(state: &mut FakeState, req: &Request, method: &str, path: &str) -> ResponseTemplate {
    let token_ok = header(req, "app-token").is_some_and(|t| state.app_tokens.contains(t));
    if !token_ok {
        return v2_error(codes::TOKEN, "app-token无效或已过期");
    }
    // Enforcement is unconfirmed (the PHP SDK never sends the header), so
    // only a wrong value is refused, as the gateway does for a wrong IDC.
    if header(req, "X-GW-Router-Addr").is_some_and(|domain| domain != DOMAIN) {
        return ResponseTemplate::new(404).set_body_string("No Route");
    }
    let q = query_map(req);
    let entity = path.trim_start_matches("/jdy/v2/");
    match (method, entity) {
        ("GET", "scm/pur_inbound") => v2_ok(list_bills(
            &state.pur_inbound,
            &Filter::from_v2(&q),
            false,
            false,
        )),
        ("GET", "scm/sal_out_bound") => v2_ok(list_bills(
            &state.sal_out_bound,
            &Filter::from_v2(&q),
            false,
            false,
        )),
        ("GET", "scm/pur_inbound_detail") => detail_v2(&state.pur_inbound, &q),
        ("GET", "scm/sal_out_bound_detail") => detail_v2(&state.sal_out_bound, &q),
        ("GET", "bd/customer") => {
            v2_ok(list_basedata(&state.customers, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/supplier") => {
            v2_ok(list_basedata(&state.suppliers, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/material") => {
            v2_ok(list_basedata(&state.materials, &Filter::from_v2(&q), false))
        }
        ("GET", "bd/customer_detail") => detail_v2(&state.customers, &q),
        ("GET", "bd/supplier_detail") => detail_v2(&state.suppliers, &q),
        ("GET", "bd/material_detail") => detail_v2(&state.materials, &q),
        ("POST", "bd/customer" | "bd/supplier" | "bd/material") => {
            let body: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(_) => return v2_error(codes::VALIDATION, "请求体不是合法的JSON"),
            };
            let id = state.new_id();
            let store = match entity {
                "bd/customer" => &mut state.customers,
                "bd/supplier" => &mut state.suppliers,
                _ => &mut state.materials,
            };
            match save(store, body, id) {
                Ok((id, number)) => {
                    v2_ok(json!({"ids": [id.clone()], "id_number_map": {id: number}}))
                }
                Err(message) => v2_error(codes::VALIDATION, &message),
            }
        }
        _ => ResponseTemplate::new(519).set_body_string("API Not Found"),
    }
}

fn detail_v2(store: &[Value], q: &Map<String, Value>) -> ResponseTemplate {
    let by = |k: &str| q.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let found = match (by("id"), by("number")) {
        (Some(id), _) => store.iter().find(|r| r["id"] == id),
        (None, Some(number)) => store
            .iter()
            .find(|r| r["number"] == number || r["bill_no"] == number),
        (None, None) => return v2_error(codes::VALIDATION, "参数id和number不能同时为空"),
    };
    match found {
        Some(record) => v2_ok(record.clone()),
        None => v2_error(codes::VALIDATION, "数据不存在"),
    }
}

/// Saves a basic-data record: update by id, otherwise create; numbers are
/// unique. Returns (id, number) or the validation message.
fn save(store: &mut Vec<Value>, body: Value, new_id: String) -> Result<(String, String), String> {
    let Value::Object(mut record) = body else {
        return Err("请求体必须是对象".into());
    };
    let name = record
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.trim().is_empty() {
        return Err("参数name不能为空".into());
    }
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let number = match record
        .get("number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_owned(),
        None => format!("AUTO{}", &new_id[new_id.len().saturating_sub(6)..]),
    };
    if let Some(other) = store
        .iter()
        .find(|r| r["number"] == number.as_str() && r["id"].as_str() != id.as_deref())
    {
        return Err(format!(
            "编码[{number}]已存在(id {})",
            other["id"].as_str().unwrap_or_default()
        ));
    }
    let now = beijing_text(Utc::now());
    record.insert("number".into(), Value::String(number.clone()));
    record.insert("modify_time".into(), Value::String(now.clone()));
    match id {
        Some(id) => {
            let Some(existing) = store.iter_mut().find(|r| r["id"] == id.as_str()) else {
                return Err(format!("参数id[{id}]不存在"));
            };
            if let Value::Object(existing) = existing {
                for (k, v) in record {
                    existing.insert(k, v);
                }
            }
            Ok((id, number))
        }
        None => {
            record.insert("id".into(), Value::String(new_id.clone()));
            record.insert("create_time".into(), Value::String(now));
            store.push(Value::Object(record));
            Ok((new_id, number))
        }
    }
}

// ---------------------------------------------------------------- V1 business

fn v1_business(state: &mut FakeState, req: &Request, path: &str) -> ResponseTemplate {
    if !v1_token_ok(state, req) {
        return v1_gateway("1001", "access_token无效或已过期");
    }
    if header(req, "accountId") != Some(V1_ACCOUNT_ID)
        || header(req, "groupName") != Some(V1_GROUP_NAME)
    {
        return v1_fail(
            "1002",
            "账套不存在或无权访问(accountId/groupName)",
            "account not found",
        );
    }
    let body: Value = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => return v1_fail("1003", "请求参数必须是JSON对象", "invalid body"),
    };
    let body_map = body.as_object().cloned().unwrap_or_default();
    let id = body.get("id").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_i64().map(|n| n.to_string()))
    });
    let detail = |store: &[Value]| match id
        .as_deref()
        .and_then(|id| store.iter().find(|r| r["id"] == id))
    {
        Some(record) => v1_ok(to_v1(record)),
        None => v1_fail("1004", "单据不存在", "not found"),
    };
    match path {
        "/jdy/pur/pur_inbound_list" => v1_ok(list_bills(
            &state.pur_inbound,
            &Filter::from_v1(&body_map),
            true,
            true,
        )),
        "/jdy/sal/sal_outbound_list" => v1_ok(list_bills(
            &state.sal_out_bound,
            &Filter::from_v1(&body_map),
            true,
            true,
        )),
        "/jdy/pur/pur_inbound_detail" => detail(&state.pur_inbound),
        "/jdy/sal/sal_outbound_detail" => detail(&state.sal_out_bound),
        "/jdy/basedata/customer_list" => v1_ok(list_basedata(
            &state.customers,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/supplier_list" => v1_ok(list_basedata(
            &state.suppliers,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/material_list" => v1_ok(list_basedata(
            &state.materials,
            &Filter::from_v1(&body_map),
            true,
        )),
        "/jdy/basedata/customer_detail" => detail(&state.customers),
        "/jdy/basedata/supplier_detail" => detail(&state.suppliers),
        "/jdy/basedata/material_detail" => detail(&state.materials),
        "/jdy/basedata/customer_save" | "/jdy/basedata/supplier_save" => {
            let new_id = state.new_id();
            let store = if path.contains("customer") {
                &mut state.customers
            } else {
                &mut state.suppliers
            };
            match save(store, body, new_id) {
                Ok((id, _)) => v1_ok(json!({"successPkIds": [id]})),
                Err(message) => v1_fail("1005", &message, "validation failed"),
            }
        }
        _ => v1_gateway("404", "接口不存在"),
    }
}

/// Renames V2 field names to V1's (`bill_no` → `billno`, `supplier_id` →
/// `supplierid_id`, ...), lines included.
pub(super) fn to_v1(record: &Value) -> Value {
    const HEAD: &[(&str, &str)] = &[
        ("bill_no", "billno"),
        ("bill_date", "billdate"),
        ("bill_status", "billstatus"),
        ("trans_type", "transtype"),
        ("create_time", "createtime"),
        ("modify_time", "modifytime"),
        ("audit_time", "audittime"),
        ("supplier_id", "supplierid_id"),
        ("supplier_name", "supplierid_name"),
        ("supplier_number", "supplierid_number"),
        ("customer_id", "customerid_id"),
        ("customer_name", "customerid_name"),
        ("customer_number", "customerid_number"),
        ("dept_id", "deptid_id"),
        ("dept_name", "deptid_name"),
        ("emp_id", "empid_id"),
        ("emp_name", "empid_name"),
        ("total_amount", "totalamount"),
    ];
    const LINE: &[(&str, &str)] = &[
        ("material_id", "materialid_id"),
        ("material_name", "materialid_name"),
        ("material_number", "materialid_number"),
        ("material_model", "materialid_model"),
        ("stock_id", "stockid_id"),
        ("stock_name", "stockid_name"),
        ("base_qty", "baseqty"),
        ("batch_no", "batchno"),
        ("remark", "comment"),
    ];
    let rename = |map: &Map<String, Value>, table: &[(&str, &str)]| -> Map<String, Value> {
        map.iter()
            .map(|(k, v)| {
                let k = table
                    .iter()
                    .find(|(v2, _)| v2 == k)
                    .map_or(k.as_str(), |(_, v1)| v1);
                (k.to_owned(), v.clone())
            })
            .collect()
    };
    let Value::Object(map) = record else {
        return record.clone();
    };
    let mut out = rename(map, HEAD);
    if let Some(Value::Array(lines)) = map.get("material_entity") {
        let lines = lines
            .iter()
            .map(|l| match l {
                Value::Object(l) => Value::Object(rename(l, LINE)),
                other => other.clone(),
            })
            .collect();
        out.insert("material_entity".into(), Value::Array(lines));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------- lists

#[derive(Debug, Default)]
struct Filter {
    dept: Vec<String>,
    emp: Vec<String>,
    supplier: Vec<String>,
    customer: Vec<String>,
    status: String,
    create_date: (Option<NaiveDate>, Option<NaiveDate>),
    modify_date: (Option<NaiveDate>, Option<NaiveDate>),
    create_ms: (Option<i64>, Option<i64>),
    modify_ms: (Option<i64>, Option<i64>),
    bill_date: (Option<NaiveDate>, Option<NaiveDate>),
    search: String,
    page: usize,
    page_size: usize,
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Filter {
    fn build(get: impl Fn(&str) -> String, names: [&str; 17]) -> Self {
        let list = |k: &str| -> Vec<String> {
            get(k)
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let day = |k: &str| NaiveDate::parse_from_str(&get(k), "%Y-%m-%d").ok();
        let ms = |k: &str| get(k).parse::<i64>().ok().filter(|n| *n >= 0);
        let num = |k: &str, default: usize| {
            get(k)
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        Filter {
            dept: list(names[0]),
            emp: list(names[1]),
            supplier: list(names[2]),
            customer: list(names[3]),
            status: get(names[4]),
            create_date: (day(names[5]), day(names[6])),
            modify_date: (day(names[7]), day(names[8])),
            create_ms: (ms(names[9]), ms(names[10])),
            modify_ms: (ms(names[11]), ms(names[12])),
            bill_date: (day(names[13]), day(names[14])),
            search: get("search"),
            page: num(names[15], 1),
            // Default 10, capped at 100.
            page_size: num(names[16], 10).min(100),
        }
    }

    fn from_v2(q: &Map<String, Value>) -> Self {
        Self::build(
            |k| text_of(q.get(k)),
            [
                "dept_id",
                "emp_id",
                "supplier_id",
                "customer_id",
                "bill_status",
                "start_date",
                "end_date",
                "begin_date",
                "expire_date",
                "create_start_time",
                "create_end_time",
                "modify_start_time",
                "modify_end_time",
                "start_bill_date",
                "end_bill_date",
                "page",
                "page_size",
            ],
        )
    }

    fn from_v1(body: &Map<String, Value>) -> Self {
        Self::build(
            |k| text_of(body.get(k)),
            [
                "deptid",
                "empid",
                "supplierid",
                "customerid",
                "billstatus",
                "startdate",
                "enddate",
                "begindate",
                "expiredate",
                "starttime",
                "endtime",
                "begintime",
                "expiretime",
                "startbilldate",
                "endbilldate",
                "page",
                "pagesize",
            ],
        )
    }

    fn in_ms(range: (Option<i64>, Option<i64>), value: Option<i64>) -> bool {
        match value {
            Some(v) => range.0.is_none_or(|from| v >= from) && range.1.is_none_or(|to| v <= to),
            None => range.0.is_none() && range.1.is_none(),
        }
    }

    fn in_days(range: (Option<NaiveDate>, Option<NaiveDate>), value: Option<NaiveDate>) -> bool {
        match value {
            Some(v) => range.0.is_none_or(|from| v >= from) && range.1.is_none_or(|to| v <= to),
            None => range.0.is_none() && range.1.is_none(),
        }
    }

    fn matches_bill(&self, bill: &Value) -> bool {
        let field = |k: &str| text_of(bill.get(k));
        let one_of = |wanted: &[String], k: &str| wanted.is_empty() || wanted.contains(&field(k));
        let time = |k: &str| parse_beijing_ms(&field(k));
        let day_of_time = |k: &str| {
            NaiveDate::parse_from_str(field(k).get(..10).unwrap_or_default(), "%Y-%m-%d").ok()
        };
        let search_ok = self.search.is_empty() || {
            let mut haystack = vec![
                field("bill_no"),
                field("supplier_name"),
                field("customer_name"),
                field("emp_name"),
            ];
            for line in bill["material_entity"].as_array().into_iter().flatten() {
                haystack.push(text_of(line.get("material_name")));
            }
            haystack.iter().any(|h| h.contains(&self.search))
        };
        one_of(&self.dept, "dept_id")
            && one_of(&self.emp, "emp_id")
            && one_of(&self.supplier, "supplier_id")
            && one_of(&self.customer, "customer_id")
            && (self.status.is_empty() || field("bill_status") == self.status)
            && Self::in_days(self.create_date, day_of_time("create_time"))
            && Self::in_days(self.modify_date, day_of_time("modify_time"))
            && Self::in_ms(self.create_ms, time("create_time"))
            && Self::in_ms(self.modify_ms, time("modify_time"))
            && Self::in_days(
                self.bill_date,
                NaiveDate::parse_from_str(&field("bill_date"), "%Y-%m-%d").ok(),
            )
            && search_ok
    }

    fn matches_basedata(&self, record: &Value) -> bool {
        let field = |k: &str| text_of(record.get(k));
        (self.search.is_empty()
            || field("number").contains(&self.search)
            || field("name").contains(&self.search))
            && Self::in_ms(self.modify_ms, parse_beijing_ms(&field("modify_time")))
    }
}

/// One page of the matching `rows`; only the page's rows are shaped, so that
/// paging a large store stays linear.
fn page_of(rows: Vec<&Value>, filter: &Filter, v1: bool, shape: impl Fn(&Value) -> Value) -> Value {
    let total = rows.len();
    let total_page = total.div_ceil(filter.page_size);
    let page_rows: Vec<Value> = rows
        .into_iter()
        .skip((filter.page - 1) * filter.page_size)
        .take(filter.page_size)
        .map(shape)
        .collect();
    if v1 {
        json!({"rows": page_rows, "totalpage": total_page})
    } else {
        json!({
            "count": total.to_string(),
            "current_page": filter.page,
            "current_page_size": page_rows.len(),
            "page": filter.page,
            "page_size": filter.page_size,
            "total_page": total_page,
            "rows": page_rows,
        })
    }
}

fn list_bills(store: &[Value], filter: &Filter, v1: bool, with_lines: bool) -> Value {
    let rows = store.iter().filter(|b| filter.matches_bill(b)).collect();
    page_of(rows, filter, v1, |b| {
        let mut row = b.clone();
        if !with_lines && let Value::Object(map) = &mut row {
            map.remove("material_entity");
        }
        if v1 { to_v1(&row) } else { row }
    })
}

fn list_basedata(store: &[Value], filter: &Filter, v1: bool) -> Value {
    let rows = store
        .iter()
        .filter(|r| filter.matches_basedata(r))
        .collect();
    page_of(rows, filter, v1, Value::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_encoder_matches_the_client_encoder() {
        for s in ["abc", "a b+c", "采购 A+B", "x*y~z!'()", "=="] {
            assert_eq!(fake_encode(s), crate::auth::encode(s), "{s}");
        }
    }
}
