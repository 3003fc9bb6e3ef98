//! The request handlers: routing by service path, the app-signature and
//! session checks, logins, and the per-operation answers.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Utc;
use integration_core::testing::{Request, ResponseTemplate, header};
use rand::Rng;
use serde_json::{Map, Value, json};

use super::state::{FakeState, FormStore, Positions, now_local};
use super::{ACCT_ID, APP_ID, APP_SECRET, PASSWORD, SESSION_LOST_MESSAGE, USER_NAME, filter};
use crate::auth::{SESSION_COOKIE, derive_client_secret, hmac_hex_b64, quote_path};
use crate::error::msg_code;

pub(super) fn json_ok(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json; charset=utf-8")
}

/// `{"Result":{"ResponseStatus":{IsSuccess:false, ...}}}`.
pub fn failure(msg_code: i64, message: &str, field: Option<&str>) -> Value {
    json!({"Result": {"ResponseStatus": {
        "ErrorCode": 500, "IsSuccess": false,
        "Errors": [{"FieldName": field, "Message": message, "DIndex": 0}],
        "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": msg_code}}})
}

fn cookie(request: &Request, name: &str) -> Option<String> {
    let from_cookie = header(request, "cookie").and_then(|c| {
        c.split(';').find_map(|part| {
            let (n, v) = part.trim().split_once('=')?;
            (n.trim() == name).then(|| v.trim().to_owned())
        })
    });
    from_cookie.or_else(|| header(request, name).map(str::to_owned))
}

/// Checks the app-signature headers exactly as the SDK builds them.
fn verify_signature(state: &FakeState, request: &Request) -> Result<(), String> {
    let h = |name: &str| header(request, name).unwrap_or("").to_owned();
    let app_key = h("X-Kd-Appkey");
    if app_key != APP_ID {
        return Err(format!("应用ID[{app_key}]不存在或未授权"));
    }
    let (client_id, secret_part) = APP_ID.split_once('_').unwrap_or((APP_ID, ""));
    if h("X-Api-ClientID") != client_id || h("X-Api-Auth-Version") != "2.0" {
        return Err("ClientID或认证版本不正确".into());
    }
    let ts = h("x-api-timestamp");
    let nonce = h("x-api-nonce");
    let ts_value: i64 = ts.parse().map_err(|_| "时间戳格式不正确".to_owned())?;
    if (Utc::now().timestamp() - unix_seconds(ts_value)).abs() > state.timestamp_tolerance {
        return Err("请求时间戳已过期".into());
    }
    if !h("x-api-signheaders").eq_ignore_ascii_case("x-api-timestamp,x-api-nonce")
        || nonce.is_empty()
    {
        return Err("签名头信息不完整".into());
    }
    let api_sign = format!(
        "POST\n{}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{ts}\n",
        quote_path(request.url.path())
    );
    let client_secret = derive_client_secret(secret_part, None);
    if h("X-Api-Signature") != hmac_hex_b64(client_secret.as_bytes(), api_sign.as_bytes()) {
        return Err("签名校验失败(X-Api-Signature)".into());
    }
    let app_data = B64
        .decode(h("X-Kd-Appdata"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| "X-Kd-Appdata格式不正确".to_owned())?;
    let parts: Vec<&str> = app_data.split(',').collect();
    if parts.len() != 4 || parts[0] != ACCT_ID {
        return Err("数据中心不存在".into());
    }
    if parts[1] != USER_NAME {
        return Err(format!("用户[{}]不存在", parts[1]));
    }
    if h("X-Kd-Signature")
        != hmac_hex_b64(
            APP_SECRET.as_bytes(),
            format!("{APP_ID}{app_data}").as_bytes(),
        )
    {
        return Err("签名校验失败(X-Kd-Signature)".into());
    }
    Ok(())
}

/// A timestamp in seconds (Python and PHP SDKs) or milliseconds (Java
/// SDK), as seconds: anything past the year 5138 in seconds is taken as
/// milliseconds.
fn unix_seconds(ts: i64) -> i64 {
    if ts.abs() >= 100_000_000_000 {
        ts / 1000
    } else {
        ts
    }
}

/// Parses either body form into (form id, op number, data).
fn parse_body(op: &str, body: &Value) -> Result<(Option<String>, Option<String>, Value), String> {
    let decode = |v: &Value| match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    if let Some(params) = body.get("parameters").and_then(Value::as_array) {
        return Ok(match (op, params.len()) {
            ("ExcuteOperation", _) => (
                text(params.first()),
                text(params.get(1)),
                decode(params.get(2).unwrap_or(&Value::Null)),
            ),
            (_, 1) => (None, None, decode(&params[0])),
            _ => (
                text(params.first()),
                None,
                decode(params.get(1).unwrap_or(&Value::Null)),
            ),
        });
    }
    if !body.is_object() {
        return Err("请求参数格式不正确".into());
    }
    let form = text(body.get("formid").or_else(|| body.get("FormId")));
    let op_number = text(body.get("opNumber"));
    Ok((
        form,
        op_number,
        decode(body.get("data").unwrap_or(&Value::Null)),
    ))
}

pub(super) fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    let last = request.url.path().rsplit('/').next().unwrap_or("");
    let service = last.strip_suffix(".common.kdsvc").unwrap_or(last);
    let op = service.rsplit('.').next().unwrap_or("").to_owned();
    if service.ends_with("AccountService.GetDataCenterList") {
        return json_ok(
            &json!([{"Id": ACCT_ID, "Number": "K3DEMO", "Name": "演示账套", "DatabaseType": 3,
            "ProductId": "Cloud", "CreateTime": "2024-03-01T09:00:00"}]),
        );
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    if service.contains("AuthService.") {
        return login(state, &op, &body);
    }
    let mut new_session = None;
    if header(request, "X-Kd-Appkey").is_some() {
        if let Err(message) = verify_signature(state, request) {
            return json_ok(&failure(msg_code::NO_PERMISSION, &message, None));
        }
        if cookie(request, SESSION_COOKIE).is_none_or(|s| !state.sessions.contains(&s)) {
            new_session = Some(state.new_session());
        }
    } else if cookie(request, SESSION_COOKIE).is_none_or(|s| !state.sessions.contains(&s)) {
        return json_ok(&failure(msg_code::SESSION_LOST, SESSION_LOST_MESSAGE, None));
    }
    if state.licence_expired {
        return json_ok(&failure(
            msg_code::LICENCE,
            "当前产品许可已过期或站点数已超出许可范围，请联系管理员更新许可",
            None,
        ));
    }
    let answer = match parse_body(&op, &body) {
        Err(message) => failure(msg_code::BAD_ARGUMENT, &message, None),
        Ok((form, op_number, data)) => dispatch(state, &op, form, op_number, &data),
    };
    let response = json_ok(&answer);
    match new_session {
        Some(sid) => response.append_header(
            "Set-Cookie",
            format!("{SESSION_COOKIE}={sid}; path=/; HttpOnly"),
        ),
        None => response,
    }
}

fn login(state: &mut FakeState, op: &str, body: &Value) -> ResponseTemplate {
    let params = body.get("parameters").and_then(Value::as_array);
    let get = |name: &str, index: usize| -> String {
        params
            .and_then(|p| p.get(index))
            .or_else(|| body.get(name))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let ok = match op {
        "ValidateUser" => {
            get("acctID", 0) == ACCT_ID
                && get("username", 1) == USER_NAME
                && get("password", 2) == PASSWORD
        }
        "LoginByAppSecret" => {
            get("acctid", 0) == ACCT_ID
                && get("username", 1) == USER_NAME
                && get("appid", 2) == APP_ID
                && get("appsecret", 3) == APP_SECRET
        }
        _ => {
            return ResponseTemplate::new(404)
                .set_body_raw("<html><body>404 Not Found</body></html>", "text/html");
        }
    };
    if !ok {
        return json_ok(
            &json!({"Message": "用户名或密码错误！", "MessageCode": "CheckPasswordPolicy",
            "LoginResultType": 0, "Context": null, "KDSVCSessionId": null}),
        );
    }
    state.logins += 1;
    let sid = state.new_session();
    json_ok(&json!({"Message": null, "MessageCode": "CheckPasswordPolicy", "LoginResultType": 1,
        "Context": {"UserName": USER_NAME, "UserId": 100_008, "DBid": ACCT_ID, "DataCenterName": "演示账套", "LogLocale": "zh-CN"},
        "KDSVCSessionId": sid, "IsSuccessByAPI": true}))
    .append_header("Set-Cookie", format!("{SESSION_COOKIE}={sid}; path=/; HttpOnly"))
    .append_header("Set-Cookie", format!("ASP.NET_SessionId=asp{sid}; path=/; HttpOnly"))
}

fn dispatch(
    state: &mut FakeState,
    op: &str,
    form: Option<String>,
    op_number: Option<String>,
    data: &Value,
) -> Value {
    let form_needed = !matches!(op, "ExecuteBillQuery" | "BillQuery" | "QueryBusinessInfo");
    let form = match (form, form_needed) {
        (Some(f), _) if !f.is_empty() => f,
        (_, true) => {
            return failure(
                msg_code::NO_FORM_ID,
                "业务对象标识FormId不能为空",
                Some("FormId"),
            );
        }
        _ => data
            .get("FormId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    };
    if form.is_empty() {
        return json!([[failure(
            msg_code::NO_FORM_ID,
            "业务对象标识FormId不能为空",
            Some("FormId")
        )]]);
    }
    match op {
        "Save" | "Draft" => save(state, &form, data, false, op == "Draft"),
        "BatchSave" => save(state, &form, data, true, false),
        "Submit" | "Audit" | "UnAudit" | "Delete" => set_status(state, &form, op, data),
        "ExcuteOperation" => set_status(state, &form, op_number.as_deref().unwrap_or(""), data),
        "Allocate" => {
            let ids: Vec<Value> = data
                .get("PkIds")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(',')
                .filter(|s| !s.is_empty())
                .enumerate()
                .map(|(i, id)| json!({"Id": id, "Number": null, "DIndex": i}))
                .collect();
            ok_result(ids, Value::Null, Value::Null, vec![])
        }
        "View" => view(state, &form, data),
        "ExecuteBillQuery" | "BillQuery" => query(state, &form, data, op == "BillQuery"),
        "QueryBusinessInfo" => {
            let store = state.form(&form);
            let meta = &store.meta;
            let mut fields: Vec<Value> = vec![
                json!({"Key": meta.id_field, "Name": "实体主键"}),
                json!({"Key": meta.number_field, "Name": "编码"}),
            ];
            fields.extend(
                meta.required
                    .iter()
                    .map(|(k, n)| json!({"Key": k, "Name": n, "MustInput": true})),
            );
            json!({"Result": {"ResponseStatus": {"IsSuccess": true, "ErrorCode": 0, "Errors": [], "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": 0},
                "NeedReturnData": {"Id": form, "Name": [{"Key": 2052, "Value": meta.name}], "PkFieldName": meta.id_field,
                    "Entrys": [{"Key": "FBillHead", "Fields": fields}]}}})
        }
        other => failure(
            msg_code::BAD_ARGUMENT,
            &format!("不支持的操作[{other}]"),
            None,
        ),
    }
}

fn ok_result(successes: Vec<Value>, id: Value, number: Value, need_return: Vec<Value>) -> Value {
    json!({"Result": {"ResponseStatus": {"ErrorCode": 0, "IsSuccess": true, "Errors": [], "SuccessEntitys": successes,
        "SuccessMessages": [], "MsgCode": 0}, "Id": id, "Number": number, "NeedReturnData": need_return}})
}

fn id_of(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| *id != 0)
}

fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Object(m)) => m.values().all(|v| is_blank(Some(v))),
        _ => false,
    }
}

fn save(state: &mut FakeState, form: &str, data: &Value, batch: bool, draft: bool) -> Value {
    let models: Vec<Value> = match (data.get("Model"), batch) {
        (Some(Value::Array(items)), true) => items.clone(),
        (Some(m @ Value::Object(_)), false) => vec![m.clone()],
        _ => return failure(msg_code::BAD_ARGUMENT, "Model参数格式不正确", Some("Model")),
    };
    let need_update: Vec<String> = string_list(data.get("NeedUpDateFields"));
    let need_return: Vec<String> = string_list(data.get("NeedReturnFields"));
    let auto_audit = data
        .get("IsAutoSubmitAndAudit")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let delete_entry = data
        .get("IsDeleteEntry")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    state.save_calls += 1;
    let mut rejections = state.rejections.take();
    let locked: HashSet<String> = state
        .locked
        .iter()
        .filter(|(f, _)| f == form)
        .map(|(_, n)| n.clone())
        .collect();
    let mut any_locked = false;
    let store = state.form(form);
    let meta = store.meta.clone();
    let mut positions = Positions::of(store);
    let mut errors = Vec::new();
    let mut successes = Vec::new();
    let mut returns = Vec::new();
    let now = now_local();
    for (index, model) in models.iter().enumerate() {
        let Some(model) = model.as_object() else {
            errors.push(json!({"FieldName": null, "Message": "数据包格式不正确", "DIndex": index}));
            continue;
        };
        let number = model
            .get(&meta.number_field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(number) = number.filter(|n| locked.contains(*n)) {
            any_locked = true;
            errors.push(json!({"FieldName": null, "Message": format!("网控冲突：{}[{number}]正在被用户[张会计]编辑，请稍后再试", meta.name), "DIndex": index}));
            continue;
        }
        if let Some(r) = rejections.as_mut()
            && r.rng.random_bool(r.probability)
        {
            r.rejected += 1;
            errors.push(json!({"FieldName": meta.number_field, "Message": format!("{}保存失败：数据校验未通过（测试注入的随机拒绝）", meta.name), "DIndex": index}));
            continue;
        }
        let existing = match id_of(model.get(&meta.id_field)) {
            Some(id) => match positions.by_id(id) {
                Some(p) => Some(p),
                None => {
                    errors.push(json!({"FieldName": meta.id_field, "Message": format!("{}内码为[{id}]的数据不存在，可能已被删除", meta.name), "DIndex": index}));
                    continue;
                }
            },
            None => None,
        };
        let mut failed = false;
        if let Some(number) = number {
            let clash = positions
                .by_number(store, number)
                .filter(|p| Some(*p) != existing);
            if clash.is_some() {
                errors.push(json!({"FieldName": meta.number_field,
                    "Message": format!("违反字段唯一性要求：编码唯一。[{number}]已经被[{}]使用。", meta.name), "DIndex": index}));
                failed = true;
            }
        }
        if existing.is_none() && !draft {
            for (field, label) in &meta.required {
                if is_blank(model.get(field)) {
                    errors.push(json!({"FieldName": field, "Message": format!("字段“{label}”是必填项", ), "DIndex": index}));
                    failed = true;
                }
            }
        }
        if failed {
            continue;
        }
        let position = match existing {
            Some(p) => {
                let record = &mut store.records[p];
                for (k, v) in model {
                    if k == &meta.id_field
                        || (!need_update.is_empty()
                            && !need_update.iter().any(|f| f.eq_ignore_ascii_case(k)))
                    {
                        continue;
                    }
                    if let (Some((entry, _)), Value::Array(_)) = (&meta.entry, v)
                        && k == entry
                        && !delete_entry
                        && let Some(Value::Array(old)) = record.get_mut(k)
                    {
                        old.extend(v.as_array().cloned().unwrap_or_default());
                        continue;
                    }
                    record.insert(k.clone(), v.clone());
                }
                p
            }
            None => {
                let mut record = model.clone();
                let id = store.next_id;
                store.next_id += 1;
                record.insert(meta.id_field.clone(), json!(id));
                if number.is_none() {
                    let allocated = format!(
                        "{}{:0width$}",
                        meta.number_prefix,
                        store.next_seq,
                        width = meta.number_digits
                    );
                    store.next_seq += 1;
                    record.insert(meta.number_field.clone(), json!(allocated));
                }
                record.insert("FCreateDate".into(), json!(now));
                record.insert(
                    "FDocumentStatus".into(),
                    json!(if draft { "Z" } else { "A" }),
                );
                store.records.push(record);
                store.records.len() - 1
            }
        };
        let next_entry = &mut store.next_entry_id;
        let record = &mut store.records[position];
        if let Some((entry, entry_id)) = &meta.entry
            && let Some(Value::Array(lines)) = record.get_mut(entry)
        {
            for line in lines.iter_mut().filter_map(Value::as_object_mut) {
                if id_of(line.get(entry_id)).is_none() {
                    line.insert(entry_id.clone(), json!(*next_entry));
                    *next_entry += 1;
                }
            }
        }
        record.insert("FModifyDate".into(), json!(now));
        if auto_audit && !draft {
            record.insert("FDocumentStatus".into(), json!("C"));
        }
        let id = record.get(&meta.id_field).cloned().unwrap_or(Value::Null);
        let number = record
            .get(&meta.number_field)
            .cloned()
            .unwrap_or(Value::Null);
        successes.push(json!({"Id": id, "Number": number, "DIndex": index}));
        if !need_return.is_empty() {
            let picked: Map<String, Value> = need_return
                .iter()
                .map(|f| (f.clone(), record.get(f).cloned().unwrap_or(Value::Null)))
                .collect();
            returns.push(Value::Object(picked));
        }
        positions.note(store, position, true);
    }
    state.rejections = rejections;
    let code = if any_locked {
        msg_code::NETWORK_LOCK
    } else {
        refusal_code(&errors)
    };
    let single = (!batch).then(|| successes.first().cloned()).flatten();
    json!({"Result": {"ResponseStatus": {"ErrorCode": if errors.is_empty() { 0 } else { 500 }, "IsSuccess": errors.is_empty(),
        "Errors": errors, "SuccessEntitys": successes, "SuccessMessages": [], "MsgCode": code},
        "Id": single.as_ref().map_or(json!(""), |s| s["Id"].clone()),
        "Number": single.as_ref().map_or(Value::Null, |s| s["Number"].clone()),
        "NeedReturnData": returns}})
}

/// The `MsgCode` of a save or status answer: 11 (validation failed) when
/// any model was refused, as real sites answer duplicates, missing
/// required fields and "already audited".
fn refusal_code(errors: &[Value]) -> i64 {
    if errors.is_empty() {
        msg_code::NONE
    } else {
        msg_code::VALIDATION_FAILED
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn targets(store: &FormStore, data: &Value) -> Vec<(usize, Result<usize, String>)> {
    let mut out = Vec::new();
    for (i, n) in string_list(data.get("Numbers")).iter().enumerate() {
        out.push((
            i,
            store
                .position_by_number(n)
                .ok_or_else(|| format!("编码为[{n}]的{}不存在", store.meta.name)),
        ));
    }
    let offset = out.len();
    for (i, id) in string_list(data.get("Ids")).iter().enumerate() {
        let pos = id.parse().ok().and_then(|id| store.position_by_id(id));
        out.push((
            offset + i,
            pos.ok_or_else(|| format!("内码为[{id}]的{}不存在", store.meta.name)),
        ));
    }
    out
}

fn set_status(state: &mut FakeState, form: &str, op: &str, data: &Value) -> Value {
    let store = state.form(form);
    let found = targets(store, data);
    if found.is_empty() {
        return failure(
            msg_code::BAD_ARGUMENT,
            "没有指定要操作的数据(Numbers或Ids)",
            None,
        );
    }
    let mut errors = Vec::new();
    let mut successes = Vec::new();
    let mut delete = Vec::new();
    for (index, pos) in found {
        let pos = match pos {
            Ok(p) => p,
            Err(message) => {
                errors.push(json!({"FieldName": null, "Message": message, "DIndex": index}));
                continue;
            }
        };
        let record = &mut store.records[pos];
        let status = record
            .get("FDocumentStatus")
            .and_then(Value::as_str)
            .unwrap_or("A")
            .to_owned();
        let number = record
            .get(&store.meta.number_field)
            .cloned()
            .unwrap_or(Value::Null);
        let result: Result<Option<&str>, String> = match (op, status.as_str()) {
            ("Submit", "A" | "D" | "Z") => Ok(Some("B")),
            ("Audit", "B") => Ok(Some("C")),
            ("UnAudit", "B" | "C") => Ok(Some("D")),
            ("Delete", "A" | "D" | "Z") => Ok(None),
            ("Forbid", _) => {
                record.insert("FForbidStatus".into(), json!("B"));
                Ok(Some(""))
            }
            ("Enable", _) => {
                record.insert("FForbidStatus".into(), json!("A"));
                Ok(Some(""))
            }
            ("Submit" | "Audit" | "UnAudit" | "Delete", _) => Err(format!(
                "{}[{}]的数据状态为[{status}]，不能执行{op}操作",
                store.meta.name,
                number.as_str().unwrap_or("")
            )),
            _ => Err(format!("不支持的操作[{op}]")),
        };
        match result {
            Ok(new_status) => {
                match new_status {
                    Some("") => {}
                    Some(s) => {
                        record.insert("FDocumentStatus".into(), json!(s));
                    }
                    None => delete.push(pos),
                }
                record.insert("FModifyDate".into(), json!(now_local()));
                let id = record
                    .get(&store.meta.id_field)
                    .cloned()
                    .unwrap_or(Value::Null);
                successes.push(json!({"Id": id, "Number": number, "DIndex": index}));
            }
            Err(message) => {
                errors.push(json!({"FieldName": null, "Message": message, "DIndex": index}))
            }
        }
    }
    delete.sort_unstable();
    for pos in delete.into_iter().rev() {
        store.records.remove(pos);
    }
    json!({"Result": {"ResponseStatus": {"ErrorCode": if errors.is_empty() { 0 } else { 500 }, "IsSuccess": errors.is_empty(),
        "Errors": errors, "SuccessEntitys": successes, "SuccessMessages": [], "MsgCode": refusal_code(&errors)}}})
}

fn view(state: &mut FakeState, form: &str, data: &Value) -> Value {
    let store = state.form(form);
    let number = data
        .get("Number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let pos = match number {
        Some(n) => store.position_by_number(n),
        None => id_of(data.get("Id")).and_then(|id| store.position_by_id(id)),
    };
    let Some(pos) = pos else {
        return failure(msg_code::NOT_FOUND, "单据不存在或已被删除", None);
    };
    let record = &store.records[pos];
    let mut model = record.clone();
    model.insert(
        "Id".into(),
        record
            .get(&store.meta.id_field)
            .cloned()
            .unwrap_or(Value::Null),
    );
    model.insert(
        "Number".into(),
        record
            .get(&store.meta.number_field)
            .cloned()
            .unwrap_or(Value::Null),
    );
    model.insert(
        "DocumentStatus".into(),
        record
            .get("FDocumentStatus")
            .cloned()
            .unwrap_or(Value::Null),
    );
    json!({"Result": {"ResponseStatus": {"ErrorCode": 0, "IsSuccess": true, "Errors": [], "SuccessEntitys": [], "SuccessMessages": [], "MsgCode": 0},
        "Result": model}})
}

/// Resolves a field key (case-insensitive, `A.B` navigates references)
/// against a header and, for entry rows, an entry line.
fn resolve(header: &Map<String, Value>, line: Option<&Map<String, Value>>, key: &str) -> Value {
    fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        map.get(key).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or("");
    let mut value = line
        .and_then(|l| get(l, first))
        .or_else(|| get(header, first))
        .or_else(|| {
            header
                .values()
                .filter_map(Value::as_object)
                .find_map(|sub| get(sub, first))
        });
    for part in parts {
        value = value.and_then(Value::as_object).and_then(|m| get(m, part));
    }
    match value {
        Some(Value::Object(m)) => get(m, "FNumber").cloned().unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// A header with, for entry rows, one entry line.
type Row<'a> = (&'a Map<String, Value>, Option<&'a Map<String, Value>>);

fn query(state: &mut FakeState, form: &str, data: &Value, objects: bool) -> Value {
    let error = |message: String| json!([[failure(msg_code::BAD_ARGUMENT, &message, None)]]);
    let max_limit = state.max_limit as usize;
    if !state.forms.contains_key(form) && !matches!(form, "BD_Customer" | "SAL_SaleOrder") {
        return error(format!("业务对象[{form}]不存在"));
    }
    let store = state.form(form);
    let keys: Vec<String> = data
        .get("FieldKeys")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return error("FieldKeys不能为空".into());
    }
    // The documented array form (`[{"Left","FieldName","Compare",...}]`)
    // uses compare codes the fact sheet does not list: refused, so that a
    // filter the fake cannot evaluate never answers with every row.
    let filter_text = match data.get("FilterString") {
        None | Some(Value::Null) => "",
        Some(Value::String(text)) => text.as_str(),
        Some(Value::Array(_)) => {
            return error(
                "过滤条件FilterString为数组格式，本测试站点仅支持字符串格式的过滤条件".into(),
            );
        }
        Some(other) => return error(format!("过滤条件FilterString格式不正确：{other}")),
    };
    let filter = match filter::parse(filter_text) {
        Ok(f) => f,
        Err(e) => return error(format!("过滤条件FilterString语法错误：{e}")),
    };
    let order = filter::parse_order(
        data.get("OrderString")
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
    let entry = store.meta.entry.clone();
    let mut rows: Vec<Row<'_>> = Vec::new();
    for record in &store.records {
        let lines: Vec<&Map<String, Value>> = entry
            .as_ref()
            .and_then(|(e, _)| record.get(e))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let wants_entry = !lines.is_empty()
            && keys.iter().any(|k| {
                let first = k.split('.').next().unwrap_or("");
                !record.keys().any(|h| h.eq_ignore_ascii_case(first))
                    && lines[0].keys().any(|l| l.eq_ignore_ascii_case(first))
            });
        if wants_entry {
            rows.extend(lines.into_iter().map(|l| (record, Some(l))));
        } else {
            rows.push((record, None));
        }
    }
    rows.retain(|(h, l)| filter.eval(&|k| resolve(h, *l, k)));
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (key, desc) in &order {
                let ord = filter::compare(&resolve(a.0, a.1, key), &resolve(b.0, b.1, key))
                    .unwrap_or(std::cmp::Ordering::Equal);
                if ord != std::cmp::Ordering::Equal {
                    return if *desc { ord.reverse() } else { ord };
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let top = data.get("TopRowCount").and_then(Value::as_u64).unwrap_or(0) as usize;
    if top > 0 {
        rows.truncate(top);
    }
    let start = data.get("StartRow").and_then(Value::as_u64).unwrap_or(0) as usize;
    let limit = match data.get("Limit").and_then(Value::as_u64).unwrap_or(0) as usize {
        0 => max_limit,
        n => n.min(max_limit),
    };
    let page = rows.into_iter().skip(start).take(limit);
    let out: Vec<Value> = page
        .map(|(h, l)| {
            if objects {
                Value::Object(keys.iter().map(|k| (k.clone(), resolve(h, l, k))).collect())
            } else {
                Value::Array(keys.iter().map(|k| resolve(h, l, k)).collect())
            }
        })
        .collect();
    Value::Array(out)
}
