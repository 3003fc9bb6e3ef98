//! Per-record costs: request signing of each of the seven systems, decoding
//! a 100-row page from its envelope (K/3 Cloud ExecuteBillQuery rows,
//! Jackyun customer list, OKKI company list), and mapping one record
//! (typed and declarative).
//!
//! Run: `cargo bench -p benchmarks --bench per_record`

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::testing::sample::{CRM_CUSTOMER_TEMPLATE, crm_record};
use integration_core::{MapContext, RawResponse, SourceRecord};
use serde_json::{Value, json};

/// A body of the size of one realistic request (a 100-model page query or
/// a small save), about 2 KiB.
fn body() -> Vec<u8> {
    let rows: Vec<Value> = (0..20)
        .map(|i| json!({"FNumber": format!("CUST{i:06}"), "FName": format!("客户{i}号"), "FTEL": "13800000000"}))
        .collect();
    serde_json::to_vec(&json!({"formid": "BD_Customer", "data": {"Model": rows}})).unwrap()
}

fn signing(c: &mut Criterion) {
    let body = body();
    let mut g = c.benchmark_group("sign one request");
    g.throughput(Throughput::Elements(1));
    let k3 = kingdee_cloud::AppCredentials::new(
        "62a1b2c3d4e5f6",
        "integration",
        "300001_W2dMSxDGXqh4X9/q7/6u6wNeyp6Y7Wpk",
        "0123456789abcdef0123456789abcdef",
    );
    g.bench_function("K/3 Cloud (kingdee_cloud::auth::sign)", |b| {
        b.iter(|| {
            kingdee_cloud::auth::sign(
                black_box(&k3),
                "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.BatchSave.common.kdsvc",
                1_764_000_000,
            )
        })
    });
    g.bench_function("xbongbong (xbongbong::auth::sign)", |b| {
        b.iter(|| xbongbong::auth::sign(black_box(&body), "0123456789abcdef0123456789abcdef"))
    });
    let query = vec![
        ("page".to_owned(), "1".to_owned()),
        ("page_size".to_owned(), "100".to_owned()),
        ("search".to_owned(), "入库单".to_owned()),
    ];
    g.bench_function("jdy (jdy::auth::sign)", |b| {
        b.iter(|| {
            jdy::auth::sign(
                "0123456789abcdef0123456789abcdef",
                "GET",
                "/jdy/v2/scm/pur_inbound",
                black_box(&query),
                "4427456950",
                "1670305063559",
            )
        })
    });
    let biz = String::from_utf8(body.clone()).unwrap();
    g.bench_function("Jackyun (jackyun::auth::sign)", |b| {
        b.iter(|| {
            jackyun::auth::sign(
                black_box(&[
                    ("method", "crm.customer.add"),
                    ("appkey", "12345678"),
                    ("version", "v1.0"),
                    ("contenttype", "json"),
                    ("timestamp", "2026-11-25 12:00:00"),
                    ("bizcontent", biz.as_str()),
                ]),
                "0123456789abcdef0123456789abcdef",
            )
        })
    });
    g.bench_function("YonBIP (yonbip::auth::signature)", |b| {
        b.iter(|| {
            yonbip::auth::signature(
                black_box("demoAppKey0123456789"),
                "0123456789abcdef0123456789abcdef",
                1_732_406_400_123,
            )
        })
    });
    g.bench_function("OKKI webhook (okki::webhook::signature)", |b| {
        b.iter(|| {
            okki::webhook::signature("security-config-0123456789", "1764000000", black_box(&body))
        })
    });
    g.bench_function("Huke (netease_huke::sign_request)", |b| {
        b.iter(|| {
            netease_huke::sign_request(
                "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                "00112233445566778899aabbccddeeff",
                black_box(&body),
                1_764_000_000,
            )
        })
    });
    g.finish();
}

/// K/3 Cloud ExecuteBillQuery: 100 rows of 6 field keys.
fn k3_page() -> Vec<u8> {
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            json!([
                100_001 + i,
                format!("CUST{i:06}"),
                format!("上海恒达贸易有限公司{i}"),
                "C",
                "2026-01-02T10:20:30.123",
                format!("上海市浦东新区张江路{i}号")
            ])
        })
        .collect();
    serde_json::to_vec(&rows).unwrap()
}

/// Jackyun `crm.customer.list.customized`: 100 customers in the gateway envelope.
fn jackyun_page() -> Vec<u8> {
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            json!({"customerId": format!("{}", 5_000_000 + i), "customerCode": format!("KH{i:06}"),
                   "nickname": format!("客户{i}"), "customerTypeName": "零售", "country": "中国",
                   "remark": "", "isDelete": 0, "blackList": "0", "enable": 1,
                   "gmtCreate": "2026-01-02 10:20:30", "gmtModified": "2026-01-03 10:20:30",
                   "mobile": format!("138{i:08}")})
        })
        .collect();
    serde_json::to_vec(&json!({"code": 200, "msg": "", "subCode": "",
        "result": {"contextId": "ctx-1", "data": {"customers": rows, "scrollId": "abc"}}}))
    .unwrap()
}

/// OKKI `GET /v1/company/list`: 100 companies in the envelope.
fn okki_page() -> Vec<u8> {
    let rows: Vec<Value> = (0..100)
        .map(|i| {
            json!({"company_id": 30_000_000_000_000u64 + i, "name": format!("Acme Trading {i} Ltd."),
                   "short_name": "Acme", "serial_id": format!("C{i:05}"), "user_id": ["55501"],
                   "order_time": "2026-01-02 10:20:30", "create_time": "2026-01-01 09:00:00",
                   "update_time": "2026-01-03 10:20:30", "edit_time": "2026-01-03 10:20:30",
                   "create_user": 55501, "last_edit_user": "55501", "origin": 1, "country": "US"})
        })
        .collect();
    serde_json::to_vec(&json!({"code": 0, "message": "success",
        "data": {"list": rows, "totalItem": 1000}}))
    .unwrap()
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct CustomerRow(i64, String, String, String, String, String);

fn decoding(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode a 100-row page");
    g.throughput(Throughput::Elements(100));
    let k3 = k3_page();
    let keys = [
        "FCUSTID",
        "FNumber",
        "FName",
        "FDocumentStatus",
        "FModifyDate",
        "FADDRESS",
    ];
    g.bench_function("K/3 Cloud ExecuteBillQuery rows → typed rows", |b| {
        b.iter(|| {
            let rows: Vec<Vec<Value>> = serde_json::from_slice(black_box(&k3)).unwrap();
            rows.into_iter()
                .map(|r| kingdee_cloud::query::decode_row::<CustomerRow>(&keys, r).unwrap())
                .collect::<Vec<_>>()
        })
    });
    let jackyun = bytes::Bytes::from(jackyun_page());
    g.bench_function("Jackyun envelope → Vec<Customer>", |b| {
        b.iter(|| {
            let raw = RawResponse::new(
                "jackyun",
                "crm.customer.list.customized",
                reqwest::StatusCode::OK,
                reqwest::header::HeaderMap::new(),
                black_box(jackyun.clone()),
            );
            let mut reply =
                jackyun::client::decode_reply("crm.customer.list.customized", &raw).unwrap();
            let rows = reply.data["customers"].take();
            serde_json::from_value::<Vec<jackyun::customer::Customer>>(rows)
                .unwrap()
                .len()
        })
    });
    let okki = okki_page();
    g.bench_function("OKKI envelope → Vec<CompanySummary>", |b| {
        b.iter(|| {
            let mut v: Value = serde_json::from_slice(black_box(&okki)).unwrap();
            assert_eq!(v["code"], 0);
            let rows = v["data"]["list"].take();
            serde_json::from_value::<Vec<okki::CompanySummary>>(rows)
                .unwrap()
                .len()
        })
    });
    g.finish();
}

/// The 40-field CRM record of [`integration_core::testing::sample`].
fn mapping(c: &mut Criterion) {
    let one = SourceRecord::upsert("1", crm_record(1));
    let ctx = MapContext::default();
    let declarative = DeclarativeMapping::from_json_str(CRM_CUSTOMER_TEMPLATE).unwrap();
    let mut g = c.benchmark_group("map one 40-field record");
    g.throughput(Throughput::Elements(1));
    g.bench_function("declarative (6 target fields)", |b| {
        b.iter(|| declarative.map_value(black_box(&one.data), &ctx).unwrap())
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    signing(&mut c);
    decoding(&mut c);
    mapping(&mut c);
    c.final_summary();
}
