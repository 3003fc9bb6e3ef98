//! Hostile input: arbitrary and mutated bodies fed to every connector's
//! response decoding, through its fake (`Fault::Respond` with the bytes)
//! and, where a crate exposes one, its public decoder directly; arbitrary
//! templates and records fed to the declarative mapping. No panic, no hang
//! (every call runs under a timeout), and a failure is a typed error with
//! a message. See RELIABILITY.md.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use integration_core::MapContext;
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::testing::{Fault, ResponseTemplate};
use integration_core::transport::RawResponse;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Bodies: arbitrary bytes, arbitrary text, and valid envelopes of each API
/// with one byte flipped, cut or with a JSON value replaced.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let samples: Vec<&'static str> = vec![
        r#"{"code":1,"msg":"操作成功","result":{"data":[],"totalCount":0}}"#,
        r#"{"code":0,"msg":"success","data":{"list":[{"id":"1","name":"x"}],"total":1}}"#,
        r#"{"code":200,"message":"操作成功","data":{"recordList":[],"pageIndex":1}}"#,
        r#"{"errcode":0,"errmsg":"ok","data":{"rows":[{"id":"1"}],"count":1,"total_page":1}}"#,
        r#"{"Result":{"ResponseStatus":{"IsSuccess":true,"Errors":[]}}}"#,
        r#"[["C0001","客户","2026-01-01T00:00:00"]]"#,
        r#"{"code":0,"success":true,"data":{"total":1,"list":[{"company_id":1}]}}"#,
        r#"{"code":"00000","message":"成功","data":{"pageIndex":1,"recordList":[{"id":"1","code":"M1"}]}}"#,
        r#"{"formId":1,"explainList":[{"attr":"text_1","attrName":"名称","fieldType":1}]}"#,
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        ".{0,256}".prop_map(String::into_bytes),
        (
            proptest::sample::select(samples),
            any::<usize>(),
            any::<u8>(),
            0..3u8,
        )
            .prop_map(|(s, at, byte, how)| {
                let mut b = s.as_bytes().to_vec();
                let i = at % b.len();
                match how {
                    0 => b[i] = byte,
                    1 => b.truncate(i),
                    _ => b
                        .splice(i..i, std::iter::repeat_n(byte, 1 + at % 7))
                        .for_each(drop),
                }
                b
            }),
        (
            proptest::sample::select(vec!["null", "[]", "{}", "\"x\"", "-1", "1e999", "true"]),
            proptest::sample::select(vec!["code", "data", "result", "list", "rows", "total"]),
        )
            .prop_map(
                |(v, k)| format!(r#"{{"code":0,"{k}":{v},"data":{{"{k}":{v}}}}}"#).into_bytes()
            ),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(200u16),
        Just(400u16),
        Just(401u16),
        Just(429u16),
        Just(500u16)
    ]
}

fn respond(status: u16, body: Vec<u8>) -> Fault {
    Fault::Respond(Box::new(
        ResponseTemplate::new(status).set_body_raw(body, "application/json"),
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `call` under a timeout: a hang fails the property.
fn bounded<F: std::future::Future>(rt: &tokio::runtime::Runtime, call: F) -> F::Output {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(20), call).await })
        .expect("the call hung")
}

/// An error is typed and says something, in Display and in Debug.
fn typed<E: std::fmt::Display + std::fmt::Debug>(e: &E) {
    assert!(!e.to_string().trim().is_empty());
    assert!(!format!("{e:?}").is_empty());
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

macro_rules! through_fake {
    ($name:ident, $start:expr, v1_client, $call:expr) => {
        through_fake!(@test $name, $start, |fake| fake.v1_client(), $call);
    };
    ($name:ident, $start:expr, client_builder, $call:expr) => {
        through_fake!(@test $name, $start, |fake| fake.client_builder().build().unwrap(), $call);
    };
    (@test $name:ident, $start:expr, |$fake:ident| $client:expr, $call:expr) => {
        #[test]
        fn $name() {
            let rt = runtime();
            let $fake = rt.block_on($start);
            let client = rt.block_on(async { $client });
            let fake = $fake;
            proptest!(config(), |(status in status(), body in body())| {
                fake.faults().clear();
                // Every attempt of the call (retries included) gets the body.
                fake.faults().inject(respond(status, body), 20);
                let result = bounded(&rt, $call(&client));
                if let Err(e) = &result {
                    typed(e);
                }
            });
        }
    };
    ($name:ident, $start:expr, $call:expr) => {
        through_fake!($name, $start, client_builder, $call);
    };
}

through_fake!(
    xbongbong_bodies,
    xbongbong::testing::FakeXbongbong::start(),
    |c: &xbongbong::Client| {
        let c = c.clone();
        async move {
            c.forms()
                .get(xbongbong::testing::CONTRACT_FORM_ID)
                .await
                .map(drop)
        }
    }
);

through_fake!(
    kingdee_bodies,
    kingdee_cloud::testing::FakeK3Cloud::start(),
    |c: &kingdee_cloud::Client| {
        let c = c.clone();
        async move { c.query_business_info("BD_Customer").await.map(drop) }
    }
);

through_fake!(
    jdy_bodies,
    jdy::testing::FakeJdy::start(),
    v1_client,
    |c: &jdy::Client| {
        let c = c.clone();
        async move {
            c.pur_inbounds()
                .list(&jdy::query::BillQuery::default())
                .await
                .map(drop)
        }
    }
);

through_fake!(
    jackyun_bodies,
    jackyun::testing::FakeJackyun::start(),
    |c: &jackyun::Client| {
        let c = c.clone();
        async move {
            c.warehouses()
                .list(&jackyun::WarehouseQuery::new(50))
                .await
                .map(drop)
        }
    }
);

through_fake!(
    yonbip_bodies,
    yonbip::testing::FakeYonBip::start(),
    |c: &yonbip::Client| {
        let c = c.clone();
        async move {
            c.merchants()
                .list(&yonbip::ListQuery::new())
                .await
                .map(drop)
        }
    }
);

through_fake!(
    okki_bodies,
    okki::testing::FakeOkki::start(),
    |c: &okki::Client| {
        let c = c.clone();
        async move { c.users().list(&okki::UserQuery::new()).await.map(drop) }
    }
);

through_fake!(
    huke_bodies,
    netease_huke::testing::FakeHuke::start(),
    |c: &netease_huke::Client| {
        let c = c.clone();
        async move { c.customers().fields().await.map(drop) }
    }
);

fn raw(system: &'static str, status: u16, body: Vec<u8>) -> RawResponse {
    RawResponse::new(
        system,
        "fuzz",
        reqwest_status(status),
        Default::default(),
        body,
    )
}

fn reqwest_status(status: u16) -> reqwest::StatusCode {
    reqwest::StatusCode::from_u16(status).unwrap()
}

proptest! {
    #![proptest_config(config())]

    /// The public decoders, directly.
    #[test]
    fn public_decoders(status in status(), body in body()) {
        if let Err(e) = jackyun::client::decode_reply("erp.warehouse.get", &raw("jackyun", status, body.clone())) {
            typed(&e);
            let _ = e.is_retryable();
        }
        if let Err(e) = netease_huke::client::decode_envelope("/api/fuzz", &raw("huke", status, body.clone())) {
            typed(&e);
        }
        if let Ok(Value::Array(row)) = serde_json::from_slice::<Value>(&body) {
            let fields = ["FNumber", "FName", "FCreateDate"];
            if let Err(e) = kingdee_cloud::query::decode_row::<Value>(&fields, row) {
                prop_assert!(!e.is_empty());
            }
        }
        if let Err(e) = raw("core", status, body).json::<Value>() {
            typed(&e);
        }
    }

    /// Arbitrary templates in a mapping document: it is rejected with an
    /// error, or it maps (or fails to map) any record without panicking.
    #[test]
    fn arbitrary_templates(
        template in prop_oneof![
            ".{0,80}",
            "\\{\\{ ?[a-z_|().'0-9 ]{0,30} ?\\}\\}",
            "\\{% ?[a-z_ ().0-9]{0,30} ?%\\}.{0,10}\\{% ?end[a-z]{0,5} ?%\\}",
        ],
        record in record(),
    ) {
        let document = json!({ "FName": template, "FNumber": "{{ buyerCid }}" });
        match DeclarativeMapping::from_value(document) {
            Err(e) => typed(&e),
            Ok(mapping) => {
                let ctx = MapContext::new(Utc::now());
                if let Err(e) = mapping.map_value(&record, &ctx) {
                    typed(&e);
                }
            }
        }
    }

    /// Arbitrary records through the schemes' real mappings.
    #[test]
    fn arbitrary_records(record in record()) {
        let ctx = MapContext::new(Utc::now());
        for mapping in [
            DeclarativeMapping::from_json_str(examples::schemes::huke_to_kingdee::MAPPING).unwrap(),
            DeclarativeMapping::from_toml_str(examples::schemes::jdy_to_jackyun::MAPPING).unwrap(),
        ] {
            if let Err(e) = mapping.map_value(&record, &ctx) {
                typed(&e);
            }
        }
    }
}

/// An arbitrary JSON record, often with the fields the mappings read.
fn record() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    let names = proptest::sample::select(vec![
        "buyerCid",
        "buyerNick",
        "supplier_number",
        "supplier_name",
        "contact_phone",
        "contact_address",
        "bill_date",
        "total_amount",
        "x",
    ]);
    proptest::collection::vec((names, value), 0..8).prop_map(|pairs| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    })
}
