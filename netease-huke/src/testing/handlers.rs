//! The fake's request handlers: routing, the `ur-*` signature check, Huke's
//! envelopes, `searchTrades` filters and paging, and `addCustomer`.

use chrono::Utc;
use integration_core::testing::{
    FakeServer, Match, Request, ResponseTemplate, body_json, header, json_response, matchers,
};
use md5::{Digest, Md5};
use serde_json::{Map, Value, json};

use super::state::HukeState;
use crate::auth::{HEADER_APP_KEY, HEADER_CHECKSUM, HEADER_CURTIME, HEADER_SIGN, sign_request};
use crate::error::{CODE_DUPLICATE, CODE_SUCCESS};
use crate::trade::{Scalar, time_type};

pub(super) fn envelope(code: i64, msg: &str, data: Value) -> ResponseTemplate {
    json_response(&json!({"code": code, "msg": msg, "data": data}))
}

fn ok(data: Value) -> ResponseTemplate {
    envelope(CODE_SUCCESS, "success", data)
}

/// Mounts every endpoint of the fake on `server`.
pub(super) async fn mount(server: &FakeServer<HukeState>) {
    server
        .route(PostPath("/openapi/trade/searchTrades"), |state, req| {
            guarded(state, req, search_trades)
        })
        .await;
    server
        .route(PostPath("/openapi/customer/fields"), |state, req| {
            guarded(state, req, |s, _| {
                ok(Value::Array(s.customer_fields.clone()))
            })
        })
        .await;
    server
        .route(PostPath("/openapi/customer/addCustomer"), |state, req| {
            guarded(state, req, add_customer)
        })
        .await;
    server
            .route(matchers::any(), |_, req| {
                ResponseTemplate::new(404).set_body_json(json!({
                    "timestamp": Utc::now().to_rfc3339(), "status": 404, "error": "Not Found", "path": req.url.path()
                }))
            })
            .await;
}

/// Matches `POST` on exactly this path.
struct PostPath(&'static str);

impl Match for PostPath {
    fn matches(&self, request: &Request) -> bool {
        request.method.as_str() == "POST" && request.url.path() == self.0
    }
}

/// Runs `handler` if the request is signed correctly and its body is a JSON
/// object; otherwise answers as Huke does.
fn guarded(
    state: &mut HukeState,
    req: &Request,
    handler: impl Fn(&mut HukeState, &Value) -> ResponseTemplate,
) -> ResponseTemplate {
    if let Err(msg) = check_signature(state, req) {
        return envelope(state.auth_error_code, &msg, Value::Null);
    }
    let body = body_json(req);
    if !body.is_object() {
        return envelope(
            400,
            "请求参数格式错误: body must be a JSON object",
            Value::Null,
        );
    }
    handler(state, &body)
}

/// The signature check of the real service, as far as it is known.
fn check_signature(state: &HukeState, req: &Request) -> Result<(), String> {
    let get = |name: &str| header(req, name).map(str::trim).filter(|v| !v.is_empty());
    let (Some(app_key), Some(sign), Some(curtime), Some(checksum)) = (
        get(HEADER_APP_KEY),
        get(HEADER_SIGN),
        get(HEADER_CURTIME),
        get(HEADER_CHECKSUM),
    ) else {
        return Err("missing ur-appkey/ur-sign/ur-curtime/ur-checksum header".to_owned());
    };
    let Some(secret) = state.apps.get(app_key) else {
        return Err("appKey not exist".to_owned());
    };
    if sign != hex::encode(Md5::digest(&req.body)) {
        return Err("sign error: ur-sign is not the md5 of the body".to_owned());
    }
    let Some(curtime_secs) = curtime.parse::<i64>().ok().filter(|_| curtime.len() == 10) else {
        return Err("curtime error: ur-curtime must be unix seconds".to_owned());
    };
    if let Some(max) = state.max_clock_skew {
        let skew = (Utc::now().timestamp() - curtime_secs).unsigned_abs();
        if skew > max.as_secs() {
            return Err("curtime expired".to_owned());
        }
    }
    let expected = sign_request(app_key, secret, &req.body, curtime_secs);
    if !expected.checksum.eq_ignore_ascii_case(checksum) {
        return Err("checksum error".to_owned());
    }
    Ok(())
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn search_trades(state: &mut HukeState, body: &Value) -> ResponseTemplate {
    let ranges = body
        .get("timeRanges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let first = ranges.first();
    let page = as_i64(body.get("page"))
        .or_else(|| as_i64(first.and_then(|r| r.get("page"))))
        .unwrap_or(1);
    let size = as_i64(body.get("pageSize"))
        .or_else(|| as_i64(first.and_then(|r| r.get("pageSize"))))
        .unwrap_or(i64::from(state.default_page_size));
    if page < 1 || size < 1 {
        return envelope(400, "page和pageSize必须大于0", Value::Null);
    }
    let size = size.min(i64::from(state.max_page_size)) as usize;

    let mut filters = Vec::new();
    for range in &ranges {
        let tt = range.get("timeType").and_then(as_text).unwrap_or_default();
        let Some(field) = time_type::field(&Scalar::Text(tt.clone())) else {
            return envelope(400, &format!("不支持的timeType: {tt}"), Value::Null);
        };
        let (Some(start), Some(end)) =
            (as_i64(range.get("startTime")), as_i64(range.get("endTime")))
        else {
            return envelope(400, "startTime和endTime必须是毫秒时间戳", Value::Null);
        };
        filters.push((field, start, end));
    }
    let source = body.get("source").and_then(as_text);
    let dealers: Vec<String> = body
        .get("dealerList")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(as_text).collect())
        .unwrap_or_default();

    let sort_field = filters.first().map_or("createTime", |f| f.0);
    let (trades, by_time) = (&state.trades, &mut state.by_time);
    let index = by_time.0.entry(sort_field).or_insert_with(|| {
        let mut index: Vec<(Option<i64>, usize)> = trades
            .iter()
            .enumerate()
            .map(|(i, t)| (as_i64(t.get(sort_field)), i))
            .collect();
        // Keys computed once per trade, not once per comparison.
        index.sort_by_cached_key(|&(at, i)| {
            (
                at.unwrap_or(0),
                trades[i].get("tid").and_then(as_text).unwrap_or_default(),
            )
        });
        index
    });
    // The first range by binary search on the index; the rest by scan.
    let candidates = match filters.first() {
        Some(&(_, start, end)) => {
            let from = index.partition_point(|&(at, _)| at.unwrap_or(0) < start);
            let to = index.partition_point(|&(at, _)| at.unwrap_or(0) <= end);
            &index[from..to.max(from)]
        }
        None => &index[..],
    };
    let hits: Vec<&Map<String, Value>> = candidates
        .iter()
        .filter(|(at, _)| filters.is_empty() || at.is_some())
        .map(|&(_, i)| &trades[i])
        .filter(|t| {
            source
                .as_ref()
                .is_none_or(|s| t.get("source").and_then(as_text).as_ref() == Some(s))
        })
        .filter(|t| {
            dealers.is_empty()
                || t.get("dealerId")
                    .and_then(as_text)
                    .is_some_and(|d| dealers.contains(&d))
        })
        .filter(|t| {
            filters.iter().skip(1).all(|(field, start, end)| {
                as_i64(t.get(*field)).is_some_and(|at| *start <= at && at <= *end)
            })
        })
        .collect();
    let total = hits.len();
    let list: Vec<Value> = hits
        .into_iter()
        .skip((page as usize - 1).saturating_mul(size))
        .take(size)
        .map(|t| Value::Object(t.clone()))
        .collect();
    ok(json!({"total": total, "page": page, "pageSize": size, "list": list}))
}

fn add_customer(state: &mut HukeState, body: &Value) -> ResponseTemplate {
    let Some(rows) = body
        .get("data")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return envelope(400, "data不能为空", Value::Null);
    };
    let mut new = Vec::new();
    for row in rows {
        let Some(row) = row.as_object() else {
            return envelope(400, "data的元素必须是对象", Value::Null);
        };
        let name = row
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if name.is_empty() {
            return envelope(1002, "客户名称不能为空", Value::Null);
        }
        let mobile = row.get("mobile").and_then(Value::as_str);
        let duplicate = state
            .customers
            .iter()
            .chain(new.iter())
            .any(|c| match mobile {
                Some(m) => c.get("mobile").and_then(Value::as_str) == Some(m),
                None => c.get("name").and_then(Value::as_str) == Some(name),
            });
        if duplicate {
            return envelope(CODE_DUPLICATE, &format!("客户已存在: {name}"), Value::Null);
        }
        let mut stored = row.clone();
        stored.insert(
            "id".into(),
            json!(format!("{}", 880_000 + state.next_customer)),
        );
        stored.insert(
            "follower".into(),
            body.get("follower").cloned().unwrap_or(Value::Null),
        );
        stored.insert(
            "status".into(),
            body.get("status").cloned().unwrap_or(Value::Null),
        );
        state.next_customer += 1;
        new.push(stored);
    }
    let ids: Vec<Value> = new.iter().filter_map(|c| c.get("id").cloned()).collect();
    state.customers.extend(new);
    ok(json!({"successCount": ids.len(), "ids": ids}))
}
