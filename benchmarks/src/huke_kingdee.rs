//! The Huke → K/3 Cloud scheme as the benchmarks run it: seeding the fakes,
//! the project's two pipelines (as `examples::schemes::huke_to_kingdee`
//! builds them) and the simplest correct hand-written loop with `reqwest`
//! and `serde_json`.

// A benchmark that goes wrong panics its child process, which the parent
// reports with the child's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::memory::{CollectSink, collect_only};
use integration_core::transport::RateLimit;
use integration_core::{Pipeline, StateStore};
use kingdee_cloud::SaveOptions;
use kingdee_cloud::sink::JsonFormSink;
use kingdee_cloud::testing::FakeK3Cloud;
use netease_huke::testing::FakeHuke;
use netease_huke::{BuyerSource, TradeSource};
use serde_json::{Value, json};

use crate::HUKE_TO_KINGDEE_MAPPING;

/// The scheme's first-run window (now − 72000 s … now).
pub const WINDOW_SECS: i64 = 72_000;

/// Seeds `records` trades (of about a third as many buyers) into the
/// scheme's window; returns the distinct buyers, the customers K/3 Cloud
/// must end with.
pub fn seed(huke: &FakeHuke, records: usize) -> HashSet<String> {
    let now = chrono::Utc::now();
    let trades = huke.seed_trades_between(
        records,
        12,
        now - chrono::Duration::seconds(WINDOW_SECS - 1_800),
        now - chrono::Duration::seconds(120),
    );
    trades
        .iter()
        .filter_map(|t| t.buyer_cid.as_ref().map(|c| c.to_string()))
        .collect()
}

/// The customers' numbers in the fake K/3 Cloud.
pub fn customer_numbers(k3: &FakeK3Cloud) -> Vec<String> {
    k3.records("BD_Customer")
        .iter()
        .filter_map(|c| c.get("FNumber").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// The scheme, built as `examples::schemes::huke_to_kingdee` builds it,
/// with its state in `state` and each client limited to `limit` (`None`:
/// no client-side limit); returns the trades read.
pub async fn pipeline(
    huke_url: &str,
    k3_url: &str,
    state: Arc<dyn StateStore>,
    limit: Option<RateLimit>,
) -> u64 {
    let huke = netease_huke::Client::builder()
        .base_url(huke_url)
        .credentials(FakeHuke::credentials())
        .rate_limit(limit)
        .build()
        .unwrap();
    let k3 = kingdee_cloud::Client::builder()
        .server_url(k3_url)
        .app_signature(FakeK3Cloud::app_credentials())
        .rate_limit(limit)
        .build()
        .unwrap();
    let trades = Pipeline::builder("huke-trades")
        .source(TradeSource::new(huke.clone()))
        .mapper(collect_only)
        .sink(CollectSink::new(500))
        .state(Arc::clone(&state))
        .build()
        .unwrap();
    let options = SaveOptions {
        is_auto_submit_and_audit: Some(true),
        is_verify_base_data_field: Some(false),
        ..SaveOptions::default()
    };
    let sink = JsonFormSink::json(k3, "BD_Customer", "FCUSTID", "FNumber").options(options);
    let customers = Pipeline::builder("huke-to-kingdee")
        .source(BuyerSource::new(TradeSource::new(huke)))
        .mapper(DeclarativeMapping::from_json_str(HUKE_TO_KINGDEE_MAPPING).unwrap())
        .sink(sink)
        .state(state)
        .build()
        .unwrap();
    let read = trades.run().await.unwrap().read;
    let report = customers.run().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    read
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The simplest correct hand-written loop: page through the window's trades
/// (signed as Huke requires), keep the first trade of each buyer, then per
/// 100 buyers look their numbers up in K/3 Cloud and BatchSave them (upsert
/// by `FNumber`), signed as Kingdee's SDK signs. One call at a time; no
/// client-side limit (at one call in flight it stays under any limit the
/// benchmarks give the servers). Returns the trades read.
pub async fn by_hand(huke_url: &str, k3_url: &str) -> u64 {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let (start, end) = ((now - WINDOW_SECS) * 1000, now * 1000);

    // Read.
    let mut read = 0u64;
    let mut seen: HashSet<String> = HashSet::new();
    let mut buyers: Vec<(String, String, String)> = Vec::new(); // cid, nick, first tid
    for page in 1.. {
        let body = serde_json::to_vec(&json!({
            "timeRanges": [{"timeType": 1, "startTime": start, "endTime": end}],
            "page": page,
            "pageSize": 100,
        }))
        .unwrap();
        let signed = netease_huke::sign_request(
            netease_huke::testing::APP_KEY,
            netease_huke::testing::APP_SECRET,
            &body,
            chrono::Utc::now().timestamp(),
        );
        let mut request = http
            .post(format!("{huke_url}/trade/searchTrades"))
            .header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        let answer: Value = request
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["code"], 200, "{answer}");
        let list = answer["data"]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let total = answer["data"]["total"].as_u64().unwrap_or(0);
        for trade in &list {
            read += 1;
            let Some(cid) = text(&trade["buyerCid"]).filter(|c| !c.trim().is_empty()) else {
                continue;
            };
            if seen.insert(cid.clone()) {
                let nick = trade["buyerNick"].as_str().unwrap_or("").to_owned();
                buyers.push((cid, nick, text(&trade["tid"]).unwrap_or_default()));
            }
        }
        if list.is_empty() || read >= total {
            break;
        }
    }

    // Write.
    let credentials = FakeK3Cloud::app_credentials();
    let service = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService";
    let post = |op: &'static str, body: Value| {
        let url = format!("{k3_url}/{service}.{op}.common.kdsvc");
        let path = reqwest::Url::parse(&url).unwrap().path().to_owned();
        let signed = kingdee_cloud::auth::sign(&credentials, &path, chrono::Utc::now().timestamp());
        let mut request = http.post(url).header("content-type", "application/json");
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        async move {
            request
                .body(serde_json::to_vec(&body).unwrap())
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    for chunk in buyers.chunks(100) {
        let numbers: Vec<String> = chunk
            .iter()
            .map(|(cid, ..)| format!("'{}'", cid.replace('\'', "''")))
            .collect();
        let rows = post(
            "ExecuteBillQuery",
            json!({"data": {
                "FormId": "BD_Customer",
                "FieldKeys": "FCUSTID,FNumber",
                "FilterString": format!("FNumber in ({})", numbers.join(",")),
                "Limit": chunk.len(),
            }}),
        )
        .await;
        let existing: HashMap<String, Value> = rows
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| Some((text(row.get(1)?)?, row.get(0)?.clone())))
            .collect();
        let models: Vec<Value> = chunk
            .iter()
            .map(|(cid, nick, tid)| {
                let mut model = json!({
                    "FName": nick,
                    "FNumber": cid,
                    "FCreateOrgId": {"FNumber": "100"},
                    "FUseOrgId": {"FNumber": "100"},
                    "FDescription": tid,
                });
                if let Some(id) = existing.get(cid) {
                    model["FCUSTID"] = id.clone();
                }
                model
            })
            .collect();
        let answer = post(
            "BatchSave",
            json!({"formid": "BD_Customer", "data": {
                "IsAutoSubmitAndAudit": true,
                "IsVerifyBaseDataField": false,
                "Model": models,
            }}),
        )
        .await;
        let saved = answer["Result"]["ResponseStatus"]["SuccessEntitys"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(saved, chunk.len(), "{answer}");
    }
    read
}
