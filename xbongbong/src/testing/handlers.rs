//! The request handlers: routing, the `sign` check, the envelopes, paging
//! and the per-endpoint answers.

// Handlers return the answer to send as `Err`; a `ResponseTemplate` is large
// and that is fine in a fake.
#![allow(clippy::result_large_err)]

use integration_core::testing::{Match, Request, ResponseTemplate, header};
use integration_core::types::beijing;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::state::{FakeForm, FakeState, StoredRecord};
use super::{AUTH_FAILED_CODE, DUPLICATE_CODE, NOT_FOUND_CODE, REQUIRED_CODE};

pub(super) fn envelope_error(code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        json!({"code": code, "msg": msg, "success": false}).to_string(),
        "application/json;charset=UTF-8",
    )
}

fn ok(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        json!({"code": 1, "msg": "操作成功", "success": true, "result": result}).to_string(),
        "application/json;charset=UTF-8",
    )
}

pub(super) struct ApiPath;

impl Match for ApiPath {
    fn matches(&self, request: &Request) -> bool {
        request.url.path().starts_with("/pro/")
    }
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if request.method.as_str() != "POST" {
        return envelope_error(100001, "请使用POST方式请求");
    }
    let Some(api) = request.url.path().strip_prefix("/pro/v2/api/") else {
        return ResponseTemplate::new(404)
            .set_body_raw("<html><body>404 Not Found</body></html>", "text/html");
    };
    let body: Map<String, Value> = match serde_json::from_slice(&request.body) {
        Ok(Value::Object(m)) => m,
        _ => return envelope_error(100007, "data数据不是合法的json格式"),
    };
    let Some(corpid) = body.get("corpid").and_then(Value::as_str) else {
        return envelope_error(100002, "corpid不能为空");
    };
    let Some(company_token) = state.tenants.get(corpid).cloned() else {
        return envelope_error(100008, "公司不存在或未配置API token");
    };
    let sign = header(request, "sign")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let by_company = hex_sha256(&[&request.body, company_token.as_bytes()]) == sign;
    let by_personal = !by_company
        && state
            .personal_tokens
            .values()
            .any(|t| hex_sha256(&[&request.body, t.as_bytes()]) == sign);
    if !(by_company || by_personal) {
        return envelope_error(AUTH_FAILED_CODE, "权限验证失败");
    }
    let (module, action) = api.split_once('/').unwrap_or((api, ""));
    match (module, action) {
        ("form", "list") => form_list(state, &body),
        ("form", "get") => form_get(state, &body),
        ("user", "list") => user_list(state, &body),
        ("department", "list") => department_list(state, &body),
        ("user", "generateToken") => {
            if !by_company {
                return envelope_error(AUTH_FAILED_CODE, "权限验证失败");
            }
            let user = body
                .get("checkUserId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if !state.users.iter().any(|u| u["userId"] == user.as_str()) {
                return envelope_error(NOT_FOUND_CODE, "用户不存在");
            }
            let reset = body.get("resetToken").and_then(Value::as_i64) == Some(1);
            if reset || !state.personal_tokens.contains_key(&user) {
                if !reset {
                    return ok(json!({"personalToken": ""}));
                }
                state.tokens_issued += 1;
                let token = format!("user_{:032x}", 0xabc0_0000 + state.tokens_issued);
                state.personal_tokens.insert(user.clone(), token);
            }
            ok(json!({"personalToken": state.personal_tokens.get(&user)}))
        }
        (m, "list") => record_list(state, m, &body),
        (m, "detail") => record_detail(state, m, &body),
        (m, a) if a == "add" || a.starts_with("add") => record_add(state, m, &body),
        (m, a) if a == "edit" || a.starts_with("edit") => record_edit(state, m, &body),
        (m, "del") => record_del(state, m, &body),
        _ => ResponseTemplate::new(404)
            .set_body_raw("<html><body>404 Not Found</body></html>", "text/html"),
    }
}

fn form_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let Some(mark) = body.get("saasMark").and_then(Value::as_i64) else {
        return envelope_error(REQUIRED_CODE, "saasMark不能为空");
    };
    let business = body.get("businessType").and_then(Value::as_i64);
    let name = body.get("name").and_then(Value::as_str);
    let list: Vec<Value> = state
        .forms
        .iter()
        .filter(|f| f.saas_mark == mark && business.is_none_or(|b| b == f.business_type))
        .filter(|f| name.is_none_or(|n| f.name.contains(n)))
        .map(|f| json!({"formId": f.form_id, "appId": f.app_id, "menuId": f.menu_id, "businessType": f.business_type, "isProcessForm": false, "name": f.name}))
        .collect();
    ok(json!({"formList": list}))
}

fn form_get(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let id = match int_id(body, "formId") {
        Ok(id) => id,
        Err(e) => return e,
    };
    match state.forms.iter().find(|f| Some(f.form_id) == id) {
        Some(f) => ok(json!({"explainList": f.explain})),
        None => envelope_error(NOT_FOUND_CODE, "表单不存在"),
    }
}

/// An integer id outside lists: a JSON integer or absent; text is refused
/// with 701020 (a fake-server choice, the real answer was never seen).
fn int_id(body: &Map<String, Value>, key: &str) -> Result<Option<i64>, ResponseTemplate> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            envelope_error(
                crate::error::codes::FIELD_FORMAT,
                &format!("{key}格式错误,应为数字"),
            )
        }),
    }
}

/// An integer or numeric text (lists are lenient: a public client got data
/// with `formId` as text).
fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn paging(body: &Map<String, Value>) -> (usize, usize) {
    let page = body.get("page").and_then(as_i64).unwrap_or(1).max(1) as usize;
    let size = body
        .get("pageSize")
        .and_then(as_i64)
        .unwrap_or(20)
        .clamp(1, 100) as usize;
    (page, size)
}

fn user_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let (page, size) = paging(body);
    let like = body.get("nameLike").and_then(Value::as_str);
    let ids: Option<Vec<&str>> = body
        .get("userIdIn")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let dep = body.get("departmentId").and_then(as_i64);
    let all: Vec<&Value> = state
        .users
        .iter()
        .filter(|u| like.is_none_or(|l| u["name"].as_str().unwrap_or("").contains(l)))
        .filter(|u| {
            ids.as_ref()
                .is_none_or(|ids| ids.contains(&u["userId"].as_str().unwrap_or("")))
        })
        .filter(|u| {
            dep.is_none_or(|d| {
                u["departmentList"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["id"] == d))
            })
        })
        .collect();
    let total = all.len();
    let list: Vec<&Value> = all.into_iter().skip((page - 1) * size).take(size).collect();
    ok(json!({"userList": list, "totalCount": total, "totalPage": total.div_ceil(size)}))
}

fn department_list(state: &FakeState, body: &Map<String, Value>) -> ResponseTemplate {
    let (page, size) = paging(body);
    let like = body.get("nameLike").and_then(Value::as_str);
    let list: Vec<&Value> = state
        .departments
        .iter()
        .filter(|d| like.is_none_or(|l| d["name"].as_str().unwrap_or("").contains(l)))
        .skip((page - 1) * size)
        .take(size)
        .collect();
    ok(json!({"depList": list}))
}

fn default_form<'a>(
    state: &'a FakeState,
    module: &str,
    form_id: Option<i64>,
) -> Option<&'a FakeForm> {
    match form_id {
        Some(id) => state
            .forms
            .iter()
            .find(|f| f.form_id == id && f.module == module),
        None => state.forms.iter().find(|f| f.module == module),
    }
}

/// A stored (flat) value as text for `equal` / `in` / `like`.
fn value_texts(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Array(a)) => a.iter().flat_map(|x| value_texts(Some(x))).collect(),
        Some(Value::Object(o)) => o.values().flat_map(|x| value_texts(Some(x))).collect(),
    }
}

fn condition_holds(record: &StoredRecord, condition: &Value) -> Result<bool, ResponseTemplate> {
    let attr = condition["attr"].as_str().unwrap_or("");
    let symbol = condition["symbol"].as_str().unwrap_or("");
    let Some(values) = condition["value"].as_array() else {
        return Err(envelope_error(REQUIRED_CODE, "conditions.value必须是数组"));
    };
    let wanted: Vec<String> = values.iter().flat_map(|v| value_texts(Some(v))).collect();
    let stored: Value = match attr {
        "addTime" => json!(record.add_time),
        "updateTime" => json!(record.update_time),
        "dataId" => json!(record.data_id),
        _ => match condition["subAttr"].as_str() {
            Some(sub) => Value::Array(
                record
                    .data
                    .get(attr)
                    .and_then(Value::as_array)
                    .map_or_else(Vec::new, |rows| {
                        rows.iter().filter_map(|r| r.get(sub).cloned()).collect()
                    }),
            ),
            None => record.data.get(attr).cloned().unwrap_or(Value::Null),
        },
    };
    let have = value_texts(Some(&stored));
    let number = stored.as_f64();
    let bound = |i: usize| {
        values.get(i).and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
    };
    Ok(match symbol {
        "equal" | "in" => have.iter().any(|h| wanted.contains(h)),
        "noin" => !have.iter().any(|h| wanted.contains(h)),
        "like" => wanted
            .iter()
            .any(|w| have.iter().any(|h| h.contains(w.as_str()))),
        "greaterequal" => matches!((number, bound(0)), (Some(n), Some(b)) if n >= b),
        "lessequal" => matches!((number, bound(0)), (Some(n), Some(b)) if n <= b),
        "range" => {
            matches!((number, bound(0), bound(1)), (Some(n), Some(a), Some(b)) if n >= a && n <= b)
        }
        other => {
            return Err(envelope_error(
                REQUIRED_CODE,
                &format!("不支持的条件符号: {other}"),
            ));
        }
    })
}

/// The rich form of a stored record's data: option texts become
/// `{text, value}`, users `{id, name}`.
fn render(
    state: &FakeState,
    form: Option<&FakeForm>,
    data: &Map<String, Value>,
) -> Map<String, Value> {
    let Some(form) = form else {
        return data.clone();
    };
    let user = |id: &Value| {
        let name = state
            .users
            .iter()
            .find(|u| u["userId"] == *id)
            .map_or(Value::Null, |u| u["name"].clone());
        json!({"id": id, "name": name})
    };
    let mut out = data.clone();
    for field in &form.explain {
        let attr = field["attr"].as_str().unwrap_or("");
        let Some(v) = data.get(attr) else { continue };
        let option = |text: &Value| {
            let item = field["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["text"] == *text));
            match item {
                Some(i) => {
                    json!({"text": text, "value": i["value"], "color": i.get("color").cloned().unwrap_or(json!("#646566"))})
                }
                None => json!({"text": text, "value": Value::Null}),
            }
        };
        let rendered = match field["fieldType"].as_i64().unwrap_or(0) {
            3 => option(v),
            10001 => Value::Array(
                v.as_array()
                    .map_or_else(Vec::new, |a| a.iter().map(option).collect()),
            ),
            10009 | 10013 => user(v),
            10017 | 10018 => Value::Array(
                v.as_array()
                    .map_or_else(Vec::new, |a| a.iter().map(user).collect()),
            ),
            _ => continue,
        };
        out.insert(attr.to_owned(), rendered);
    }
    out
}

fn record_json(state: &FakeState, r: &StoredRecord) -> Value {
    let form = state.forms.iter().find(|f| f.form_id == r.form_id);
    json!({"dataId": r.data_id, "formId": r.form_id, "addTime": r.add_time, "updateTime": r.update_time, "data": render(state, form, &r.data)})
}

fn record_list(state: &FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    if matches!(
        module,
        "customer" | "contract" | "opportunity" | "clue" | "paas"
    ) && body.get("formId").is_none()
    {
        return envelope_error(REQUIRED_CODE, "formId不能为空");
    }
    let form_id = body.get("formId").and_then(as_i64);
    let Some(form) = default_form(state, module, form_id) else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let (page, size) = paging(body);
    let del = body.get("del").and_then(as_i64) == Some(1);
    let conditions = body
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut matched = Vec::new();
    for r in state
        .records
        .iter()
        .filter(|r| r.form_id == form.form_id && r.module == module && r.deleted == del)
    {
        let mut keep = true;
        for c in &conditions {
            match condition_holds(r, c) {
                Ok(true) => {}
                Ok(false) => keep = false,
                Err(e) => return e,
            }
        }
        if keep {
            matched.push(r);
        }
    }
    // Most recently changed first.
    matched.sort_by(|a, b| {
        b.update_time
            .cmp(&a.update_time)
            .then(b.data_id.cmp(&a.data_id))
    });
    let total = matched.len();
    let list: Vec<Value> = matched
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|r| record_json(state, r))
        .collect();
    ok(json!({"list": list, "totalCount": total, "totalPage": total.div_ceil(size)}))
}

/// The live record `dataId` (a JSON integer) names, or the error answer.
fn find_record<'a>(
    state: &'a FakeState,
    module: &str,
    body: &Map<String, Value>,
) -> Result<&'a StoredRecord, ResponseTemplate> {
    int_id(body, "dataId")?
        .and_then(|id| {
            state
                .records
                .iter()
                .find(|r| r.data_id == id && r.module == module && !r.deleted)
        })
        .ok_or_else(|| envelope_error(NOT_FOUND_CODE, "数据不存在"))
}

fn record_detail(state: &FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    match find_record(state, module, body) {
        Ok(r) => ok(record_json(state, r)),
        Err(e) => e,
    }
}

const SYSTEM_TYPES: [i64; 5] = [19, 10013, 10014, 10015, 700001];

/// The fake's own write checks, in the order the real service reports them
/// (first problem only).
fn check_write(
    explain: &[Value],
    data: &Map<String, Value>,
    partial: bool,
) -> Result<(), ResponseTemplate> {
    for field in explain {
        let attr = field["attr"].as_str().unwrap_or("");
        let name = field["attrName"].as_str().unwrap_or(attr);
        let ft = field["fieldType"].as_i64().unwrap_or(0);
        let value = data.get(attr);
        let empty = match value {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        let generated = SYSTEM_TYPES.contains(&ft) || field.get("serialNumber").is_some();
        if empty {
            if !partial && field["required"].as_i64() == Some(1) && !generated {
                return Err(envelope_error(REQUIRED_CODE, &format!("{name}为必填字段")));
            }
            continue;
        }
        let Some(value) = value else { continue };
        let items: Vec<&str> = field["items"].as_array().map_or_else(Vec::new, |a| {
            a.iter().filter_map(|i| i["text"].as_str()).collect()
        });
        match ft {
            3 if !items.is_empty() && !value.as_str().is_some_and(|t| items.contains(&t)) => {
                return Err(envelope_error(701020, &format!("{name}选项不存在")));
            }
            10001 => {
                let ok = value.as_array().is_some_and(|a| {
                    a.iter()
                        .all(|v| v.as_str().is_some_and(|t| items.contains(&t)))
                });
                if !ok {
                    return Err(envelope_error(701020, &format!("{name}选项不存在")));
                }
            }
            10017 | 10018 if !value.is_array() => {
                return Err(envelope_error(701020, "字段数据格式错误"));
            }
            2 if !value.is_number() => return Err(envelope_error(701020, "字段数据格式错误")),
            20004 => {
                let Some(rows) = value.as_array() else {
                    return Err(envelope_error(701020, "字段数据格式错误"));
                };
                let subs = field["subFieldList"]
                    .as_array()
                    .or(field["subForm"].as_array())
                    .cloned()
                    .unwrap_or_default();
                for row in rows {
                    let Some(row) = row.as_object() else {
                        return Err(envelope_error(701020, "字段数据格式错误"));
                    };
                    check_write(&subs, row, false)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_no_repeat(
    state: &FakeState,
    form: &FakeForm,
    data: &Map<String, Value>,
    except: Option<i64>,
) -> Result<(), ResponseTemplate> {
    for field in form
        .explain
        .iter()
        .filter(|f| f["noRepeat"].as_i64() == Some(1))
    {
        let attr = field["attr"].as_str().unwrap_or("");
        let Some(v) = data.get(attr).filter(|v| !v.is_null()) else {
            continue;
        };
        let dup = state.records.iter().any(|r| {
            r.form_id == form.form_id
                && !r.deleted
                && Some(r.data_id) != except
                && r.data.get(attr) == Some(v)
        });
        if dup {
            let name = field["attrName"].as_str().unwrap_or(attr);
            return Err(envelope_error(
                DUPLICATE_CODE,
                &format!("{name}已存在,不允许重复"),
            ));
        }
    }
    Ok(())
}

fn record_add(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    let form_id = match int_id(body, "formId") {
        Ok(id) => id,
        Err(e) => return e,
    };
    let Some(form) = default_form(state, module, form_id).cloned() else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let Some(data) = body.get("dataList").and_then(Value::as_object) else {
        return envelope_error(REQUIRED_CODE, "dataList不能为空");
    };
    let mut data = data.clone();
    if let Err(e) = check_write(&form.explain, &data, false) {
        return e;
    }
    if let Some(rule) = form
        .explain
        .iter()
        .find(|f| f["attr"] == "serialNo")
        .and_then(|f| f.get("serialNumber"))
        && data
            .get("serialNo")
            .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
    {
        let n = state
            .serials
            .entry(form.form_id)
            .or_insert(rule["startNum"].as_i64().unwrap_or(1) - 1);
        *n += 1;
        let digits = rule["numberDigit"].as_u64().unwrap_or(3) as usize;
        let day = chrono::DateTime::from_timestamp(state.now, 0).map_or_else(String::new, |t| {
            t.with_timezone(&beijing()).format("%Y%m%d").to_string()
        });
        let serial = format!(
            "{}{day}{:0digits$}{}",
            rule["prefix"].as_str().unwrap_or(""),
            n,
            rule["postfix"].as_str().unwrap_or("")
        );
        data.insert("serialNo".into(), Value::String(serial));
    }
    if let Err(e) = check_no_repeat(state, &form, &data, None) {
        return e;
    }
    if let Some(creator) = body.get("userId").cloned() {
        data.entry("creatorId").or_insert(creator);
    }
    state.now += 1;
    let id = state.next_id;
    state.next_id += 1;
    state.records.push(StoredRecord {
        data_id: id,
        form_id: form.form_id,
        module: module.to_owned(),
        add_time: state.now,
        update_time: state.now,
        deleted: false,
        data,
    });
    ok(json!({"dataId": id}))
}

fn record_edit(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    if let Err(e) = int_id(body, "formId") {
        return e;
    }
    let existing = match find_record(state, module, body) {
        Ok(r) => r.clone(),
        Err(e) => return e,
    };
    let Some(form) = state
        .forms
        .iter()
        .find(|f| f.form_id == existing.form_id)
        .cloned()
    else {
        return envelope_error(NOT_FOUND_CODE, "表单不存在");
    };
    let Some(changes) = body.get("dataList").and_then(Value::as_object) else {
        return envelope_error(REQUIRED_CODE, "dataList不能为空");
    };
    if let Err(e) = check_write(&form.explain, changes, true) {
        return e;
    }
    if let Err(e) = check_no_repeat(state, &form, changes, Some(existing.data_id)) {
        return e;
    }
    state.now += 1;
    let now = state.now;
    if let Some(r) = state
        .records
        .iter_mut()
        .find(|r| r.data_id == existing.data_id)
    {
        for (k, v) in changes {
            r.data.insert(k.clone(), v.clone());
        }
        r.update_time = now;
    }
    ok(json!({"dataId": existing.data_id}))
}

fn record_del(state: &mut FakeState, module: &str, body: &Map<String, Value>) -> ResponseTemplate {
    let id = match find_record(state, module, body) {
        Ok(r) => r.data_id,
        Err(e) => return e,
    };
    state.now += 1;
    let now = state.now;
    if let Some(r) = state.records.iter_mut().find(|r| r.data_id == id) {
        r.deleted = true;
        r.update_time = now;
    }
    ok(json!({"errorDataMemo": ""}))
}
