//! The request handlers: the gateway checks (system parameters,
//! subscription, sign, timestamp skew, `pageSize`), the envelopes, the
//! per-method answers, filters and paging (`scrollId`, `maxSkuId`,
//! `maxQuantityId`).

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use integration_core::testing::{Request, ResponseTemplate, json_response};
use integration_core::types::BeijingTime;
use serde_json::{Map, Value, json};

use super::state::{FakeState, Scroll, bj, next_id};
use super::{SUB_DUPLICATE, SUB_MISSING_PARAM, SUB_TIMESTAMP};
use crate::auth;
use crate::error::{
    SUB_INVALID_PARAMETER, SUB_NOT_SUBSCRIBED, SUB_SIGN_ERROR, SUB_SUCCESS_MARKER, SUB_UNKNOWN,
};

pub(super) fn error_body(sub_code: &str, msg: &str, context_id: &str) -> Value {
    json!({"code": 0, "msg": msg, "result": {"data": null, "contextId": context_id}, "subCode": sub_code})
}

// ---------------------------------------------------------------- handling

fn ok(state: &mut FakeState, method: &str, data: Value) -> ResponseTemplate {
    let context_id = next_id(state);
    let data = if state.data_as_text.contains(method) {
        Value::String(data.to_string())
    } else {
        data
    };
    let (sub, msg) = if state.success_marker.contains(method) {
        (SUB_SUCCESS_MARKER, "操作成功")
    } else {
        ("", "")
    };
    json_response(
        &json!({"code": 200, "msg": msg, "result": {"data": data, "contextId": context_id}, "subCode": sub}),
    )
}

fn fail(state: &mut FakeState, sub_code: &str, msg: &str) -> ResponseTemplate {
    let context_id = next_id(state);
    json_response(&error_body(sub_code, msg, &context_id))
}

/// Answers one gateway request.
pub(super) fn handle(state: &mut FakeState, request: &Request) -> ResponseTemplate {
    if request.method.as_str() != "POST" {
        return ResponseTemplate::new(405).set_body_raw(
            "<html><body>405 Method Not Allowed</body></html>",
            "text/html",
        );
    }
    let mut params: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
    params.extend(url::form_urlencoded::parse(&request.body).into_owned());
    let method = params.get("method").cloned().unwrap_or_default();
    state.calls.push(method.clone());
    for required in [
        "method",
        "appkey",
        "version",
        "contenttype",
        "timestamp",
        "bizcontent",
        "sign",
    ] {
        if params.get(required).is_none_or(|v| v.is_empty()) {
            return fail(
                state,
                SUB_MISSING_PARAM,
                &format!("缺少必要参数:{required}"),
            );
        }
    }
    let appkey = params["appkey"].clone();
    let app = state
        .apps
        .get(&appkey)
        .filter(|app| app.methods.contains(&method));
    let Some(app) = app.cloned() else {
        return fail(
            state,
            SUB_NOT_SUBSCRIBED,
            &format!("appKey={appkey},method={method},未查询到应用或应用未订阅此API"),
        );
    };
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if auth::sign(&pairs, &app.secret) != params["sign"] {
        return fail(state, SUB_SIGN_ERROR, "签名错误");
    }
    let fresh = BeijingTime::parse(&params["timestamp"])
        .filter(|_| params["timestamp"].len() == 19)
        .is_some_and(|t| (Utc::now() - t.to_utc()).abs() <= state.max_skew);
    if !fresh {
        return fail(state, SUB_TIMESTAMP, "时间戳已过期，请检查服务器时间");
    }
    if params["contenttype"] != "json" {
        return fail(state, SUB_INVALID_PARAMETER, "contenttype只支持json");
    }
    let biz: Map<String, Value> = match serde_json::from_str(&params["bizcontent"]) {
        Ok(Value::Object(map)) => map,
        _ => return fail(state, SUB_INVALID_PARAMETER, "bizcontent不是合法的JSON对象"),
    };
    if let Some(size) = biz.get("pageSize") {
        match as_i64(size) {
            Some(n) if (1..=200).contains(&n) => {}
            _ => return fail(state, SUB_INVALID_PARAMETER, "pageSize必须在1到200之间"),
        }
    }
    let result = match method.as_str() {
        crate::customer::METHOD_ADD => customer_add(state, &biz),
        crate::customer::METHOD_LIST => customer_list(state, &biz),
        crate::customer::METHOD_LIST_CUSTOMIZED => customer_customized(state, &biz),
        crate::goods::METHOD_GOODS_LIST => goods_list(state, &biz),
        crate::trade::METHOD_TRADES => trades(state, &biz),
        crate::stock::METHOD_STOCK => stock(state, &biz),
        crate::stock::METHOD_WAREHOUSES => warehouses(state, &biz),
        _ => Err((SUB_UNKNOWN, "未知错误".to_owned())),
    };
    match result {
        Ok(data) => ok(state, &method, data),
        Err((sub, msg)) => fail(state, sub, &msg),
    }
}

type Answer = Result<Value, (&'static str, String)>;

fn bad(msg: impl Into<String>) -> (&'static str, String) {
    (SUB_INVALID_PARAMETER, msg.into())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text<'a>(biz: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    biz.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn time_param(
    biz: &Map<String, Value>,
    key: &str,
) -> Result<Option<BeijingTime>, (&'static str, String)> {
    match text(biz, key) {
        None => Ok(None),
        Some(s) => BeijingTime::parse(s)
            .map(Some)
            .ok_or_else(|| bad(format!("{key}格式错误，应为yyyy-MM-dd HH:mm:ss"))),
    }
}

fn page(biz: &Map<String, Value>) -> (usize, usize) {
    let index = biz.get("pageIndex").and_then(as_i64).unwrap_or(0).max(0) as usize;
    let size = biz.get("pageSize").and_then(as_i64).unwrap_or(50) as usize;
    (index, size)
}

/// Page `(index, size)` of `rows`.
fn slice<'a>(
    rows: impl IntoIterator<Item = &'a Value>,
    (index, size): (usize, usize),
) -> Vec<Value> {
    rows.into_iter()
        .skip(index * size)
        .take(size)
        .cloned()
        .collect()
}

/// The page of the rows whose id member `id` is above the cursor `after`
/// (`maxSkuId`, `maxQuantityId`), in id order.
fn after_id<'a>(
    rows: impl Iterator<Item = &'a Value>,
    id: &str,
    biz: &Map<String, Value>,
    after: &str,
) -> Vec<Value> {
    let after = biz.get(after).map_or(0, id_num);
    let mut rows: Vec<&Value> = rows.filter(|r| id_num(&r[id]) > after).collect();
    rows.sort_by_key(|r| id_num(&r[id]));
    slice(rows, page(biz))
}

/// A comma-separated parameter as its parts (none when absent).
fn csv(biz: &Map<String, Value>, key: &str) -> Vec<String> {
    text(biz, key)
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Whether the text `value` is one of `wanted`, or nothing is wanted.
fn wanted(wanted: &[String], value: &Value) -> bool {
    wanted.is_empty()
        || value
            .as_str()
            .is_some_and(|v| wanted.iter().any(|w| w == v))
}

/// The time range sent in the parameters `start` and `end`.
fn range(
    biz: &Map<String, Value>,
    start: &str,
    end: &str,
) -> Result<Bounds, (&'static str, String)> {
    Ok((time_param(biz, start)?, time_param(biz, end)?))
}

type Bounds = (Option<BeijingTime>, Option<BeijingTime>);

fn in_range(value: Option<&Value>, start: Option<BeijingTime>, end: Option<BeijingTime>) -> bool {
    if start.is_none() && end.is_none() {
        return true;
    }
    let t = match value {
        Some(Value::String(s)) => BeijingTime::parse(s),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(BeijingTime::from_utc),
        _ => None,
    };
    let Some(t) = t else { return false };
    start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e)
}

fn customer_add(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let code = text(biz, "customerCode")
        .ok_or_else(|| bad("客户编号不能为空"))?
        .to_owned();
    if text(biz, "nickname").is_none() {
        return Err(bad("客户名称不能为空"));
    }
    if state.reject_codes.contains(&code) {
        return Err(bad(format!("客户[{code}]校验失败：客户类别不存在")));
    }
    if state.customer_by_code(&code).is_some() {
        return Err((SUB_DUPLICATE, format!("客户编号[{code}]已存在")));
    }
    let id = next_id(state);
    let now = bj(Utc::now());
    let mut row = biz.clone();
    row.insert("customerId".into(), id.clone().into());
    row.insert("enable".into(), 1.into());
    row.insert("isDelete".into(), 0.into());
    row.insert("blackList".into(), 0.into());
    row.insert("gmtCreate".into(), now.clone().into());
    row.insert("gmtModified".into(), now.into());
    state.push_customer(Value::Object(row));
    Ok(json!({"customerId": id, "customerCode": code}))
}

fn customer_list(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (start, end) = range(biz, "gmtModifiedBegin", "gmtModifiedEnd")?;
    let enable = biz.get("enable").and_then(as_i64);
    let rows = state
        .customers
        .iter()
        .filter(|c| in_range(c.get("gmtModified"), start, end))
        .filter(|c| enable.is_none_or(|e| c.get("enable").and_then(as_i64) == Some(e)));
    Ok(Value::Array(slice(rows, page(biz))))
}

fn scroll_page(
    state: &mut FakeState,
    method: &str,
    biz: &Map<String, Value>,
    rows: Vec<Value>,
    key: &str,
) -> Answer {
    let (_, size) = page(biz);
    let scroll_id = match text(biz, "scrollId") {
        Some(id) => {
            if state.scrolls.get(id).is_none_or(|s| s.method != method) {
                return Err(bad("scrollId无效或已过期"));
            }
            id.to_owned()
        }
        None => {
            let id = format!("scroll-{}", next_id(state));
            state.scrolls.insert(
                id.clone(),
                Scroll {
                    method: method.to_owned(),
                    rows,
                    offset: 0,
                },
            );
            id
        }
    };
    let Some(scroll) = state.scrolls.get_mut(&scroll_id) else {
        return Err(bad("scrollId无效或已过期"));
    };
    let total = scroll.rows.len();
    let page: Vec<Value> = scroll
        .rows
        .iter()
        .skip(scroll.offset)
        .take(size)
        .cloned()
        .collect();
    scroll.offset += page.len();
    let mut data = Map::new();
    data.insert(key.into(), Value::Array(page));
    data.insert("scrollId".into(), scroll_id.into());
    if biz.get("hasTotal").and_then(as_i64) == Some(1) {
        data.insert("totalResults".into(), total.into());
    }
    Ok(Value::Object(data))
}

fn customer_customized(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (start, end) = range(biz, "gmtModifiedBegin", "gmtModifiedEnd")?;
    let list = |key: &str| -> Vec<String> {
        biz.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ids, codes) = (list("customerIdArr"), list("customerCodeArr"));
    // By code through the index; the cheap comparisons first: the time
    // range parses a date per row.
    let by_code: Vec<Value>;
    let candidates: &[Value] = if codes.is_empty() {
        &state.customers
    } else {
        let mut positions: Vec<usize> = codes
            .iter()
            .filter_map(|code| state.customer_by_code(code))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        by_code = positions
            .into_iter()
            .map(|i| state.customers[i].clone())
            .collect();
        &by_code
    };
    let rows: Vec<Value> = candidates
        .iter()
        .filter(|c| wanted(&ids, &c["customerId"]) && wanted(&codes, &c["customerCode"]))
        .filter(|c| in_range(c.get("gmtModified"), start, end))
        .cloned()
        .collect();
    scroll_page(
        state,
        crate::customer::METHOD_LIST_CUSTOMIZED,
        biz,
        rows,
        "customers",
    )
}

fn id_num(v: &Value) -> i128 {
    match v {
        Value::Number(n) => n.as_i64().map_or(0, i128::from),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn goods_list(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    if !biz.contains_key("pageIndex") || !biz.contains_key("pageSize") {
        return Err(bad("pageIndex和pageSize必传"));
    }
    let ranges = [
        ("startDate", "endDate", "gmtCreate"),
        (
            "startDateModifiedSku",
            "endDateModifiedSku",
            "skuGmtModified",
        ),
        (
            "startDateModifiedGoods",
            "endDateModifiedGoods",
            "goodsGmtModified",
        ),
    ];
    let mut bounds = Vec::new();
    for (s, e, field) in ranges {
        bounds.push((range(biz, s, e)?, field));
    }
    let (goods_nos, barcodes) = (csv(biz, "goodsNos"), csv(biz, "skuBarcodes"));
    let with_deleted = text(biz, "isQueryDelete") == Some("1");
    let rows = state
        .goods
        .iter()
        .filter(|g| with_deleted || g.get("isDelete").and_then(as_i64) != Some(1))
        .filter(|g| bounds.iter().all(|((s, e), f)| in_range(g.get(*f), *s, *e)))
        .filter(|g| text(biz, "goodsNo").is_none_or(|n| g["goodsNo"] == n))
        .filter(|g| text(biz, "skuBarcode").is_none_or(|n| g["skuBarcode"] == n))
        .filter(|g| wanted(&goods_nos, &g["goodsNo"]) && wanted(&barcodes, &g["skuBarcode"]));
    Ok(json!({"goods": after_id(rows, "skuId", biz, "maxSkuId")}))
}

const TRADE_RANGES: &[(&str, &str, &str)] = &[
    ("startModified", "endModified", "gmtModified"),
    ("startCreated", "endCreated", "gmtCreate"),
    ("startAuditTime", "endAuditTime", "auditTime"),
    ("startConsignTime", "endConsignTime", "consignTime"),
    ("startTradeTime", "endTradeTime", "tradeTime"),
    ("startCompleteTime", "endCompleteTime", "completeTime"),
];

fn project(trade: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in fields {
        match f.split_once('.') {
            Some((parent, child)) => children.entry(parent).or_default().push(child),
            None => {
                if let Some(v) = trade.get(*f) {
                    out.insert((*f).to_owned(), v.clone());
                }
            }
        }
    }
    for (parent, kids) in children {
        if out.contains_key(parent) {
            continue;
        }
        if let Some(Value::Array(items)) = trade.get(parent) {
            let items = items
                .iter()
                .map(|item| {
                    Value::Object(
                        kids.iter()
                            .filter_map(|k| Some(((*k).to_owned(), item.get(*k)?.clone())))
                            .collect(),
                    )
                })
                .collect();
            out.insert(parent.to_owned(), Value::Array(items));
        }
    }
    Value::Object(out)
}

fn trades(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let Some(fields) = text(biz, "fields").map(str::to_owned) else {
        return Err(bad("查询字段不能为空"));
    };
    let fields: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let mut bounds = Vec::new();
    for (s, e, field) in TRADE_RANGES {
        let (start, end) = range(biz, s, e)?;
        if let (Some(a), Some(b)) = (start, end) {
            if b.0 - a.0 > chrono::Duration::days(7) {
                return Err(bad("时间范围不能超过7天"));
            }
        } else if start.is_some() || end.is_some() {
            return Err(bad(format!("{s}和{e}必须同时传入")));
        }
        if start.is_some() {
            bounds.push((start, end, *field));
        }
    }
    let trade_nos = csv(biz, "tradeNo");
    let trade_ids: Vec<i128> = biz
        .get("tradeIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(id_num).collect())
        .unwrap_or_default();
    let statuses: Vec<i64> = biz
        .get("tradeStatusList")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(as_i64).collect())
        .unwrap_or_default();
    if bounds.is_empty()
        && trade_nos.is_empty()
        && trade_ids.is_empty()
        && text(biz, "sourceTradeNos").is_none()
    {
        return Err(bad("单号或时间范围必传其一"));
    }
    let rows: Vec<Value> = state
        .trades
        .iter()
        .filter(|t| bounds.iter().all(|(s, e, f)| in_range(t.get(*f), *s, *e)))
        .filter(|t| wanted(&trade_nos, &t["tradeNo"]))
        .filter(|t| trade_ids.is_empty() || trade_ids.contains(&id_num(&t["tradeId"])))
        .filter(|t| {
            statuses.is_empty()
                || t.get("tradeStatus")
                    .and_then(as_i64)
                    .is_some_and(|s| statuses.contains(&s))
        })
        .map(|t| project(t, &fields))
        .collect();
    scroll_page(state, crate::trade::METHOD_TRADES, biz, rows, "trades")
}

fn stock(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    let (start, end) = range(biz, "gmtModifiedStart", "gmtModifiedEnd")?;
    let rows = state
        .stock
        .iter()
        .filter(|r| in_range(r.get("gmtModified"), start, end));
    let page = after_id(rows, "quantityId", biz, "maxQuantityId");
    Ok(json!({"goodsStockQuantity": page}))
}

fn warehouses(state: &mut FakeState, biz: &Map<String, Value>) -> Answer {
    Ok(json!({"warehouseInfo": slice(&state.warehouses, page(biz))}))
}
