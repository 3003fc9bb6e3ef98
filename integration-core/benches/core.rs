//! Per-record costs of mapping, and the pipeline's overhead against the
//! simplest hand-written loop over the same in-memory source and sink.
//!
//! Run: `cargo bench -p integration-core --bench core`

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::memory::{MemorySink, VecSource};
use integration_core::{
    MapContext, MapError, MemoryStore, Pipeline, Sink, SinkRecord, SourceRecord, StateStore,
};
use serde_json::{Map, Value, json};

/// A realistic 40-field CRM record: names, addresses, phones, amounts, dates.
fn record(i: u64) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(i));
    m.insert("buyerNick".into(), json!(format!("买家{i}号")));
    m.insert("buyerCid".into(), json!(format!("CID{i:08}")));
    m.insert(
        "amount".into(),
        json!(format!("{}.{:02}", 100 + i % 9000, i % 100)),
    );
    m.insert("created".into(), json!(1_700_000_000_000u64 + i * 60_000));
    m.insert("province".into(), json!("浙江省"));
    m.insert("city".into(), json!("杭州市"));
    m.insert(
        "address".into(),
        json!(format!("西湖区文三路{}号", i % 500)),
    );
    m.insert("phone".into(), json!(format!("138{:08}", i % 100_000_000)));
    for f in 9..40 {
        m.insert(format!("field_{f}"), json!(format!("值{f}-{i}")));
    }
    Value::Object(m)
}

fn typed_map(r: &SourceRecord<Value>, _: &MapContext) -> Result<Option<Value>, MapError> {
    let d = &r.data;
    Ok(Some(json!({
        "FName": d["buyerNick"],
        "FNumber": d["buyerCid"],
        "FCreateOrgId": {"FNumber": "100"},
        "FUseOrgId": {"FNumber": "100"},
        "FADDRESS": format!("{}{}{}", d["province"].as_str().unwrap_or(""), d["city"].as_str().unwrap_or(""), d["address"].as_str().unwrap_or("")),
        "FTEL": d["phone"],
    })))
}

/// The same mapping as `typed_map`, as a document.
const DECLARATIVE: &str = r#"{
    "FName": "{{ buyerNick }}",
    "FNumber": "{{ buyerCid }}",
    "FCreateOrgId": {"FNumber": "100"},
    "FUseOrgId": {"FNumber": "100"},
    "FADDRESS": "{{ province }}{{ city }}{{ address }}",
    "FTEL": "{{ phone }}"
}"#;

const RECORDS: u64 = 20_000;

fn source_records() -> Vec<SourceRecord<Value>> {
    (0..RECORDS)
        .map(|i| SourceRecord::upsert(i.to_string(), record(i)))
        .collect()
}

/// The pipeline run over an in-memory source and sink.
async fn with_pipeline(records: Vec<SourceRecord<Value>>) -> usize {
    let sink = MemorySink::new(100);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("bench")
        .source(VecSource::new(records, 500))
        .mapper(typed_map)
        .sink(sink.clone())
        .state(state)
        .build()
        .unwrap();
    p.run().await.unwrap().written as usize
}

/// The simplest correct hand-written loop: page, map, write in batches.
async fn by_hand(records: Vec<SourceRecord<Value>>) -> usize {
    let sink = MemorySink::new(100);
    let ctx = MapContext::default();
    let mut written = 0;
    for page in records.chunks(500) {
        let mapped: Vec<SinkRecord<Value>> = page
            .iter()
            .filter_map(|r| {
                typed_map(r, &ctx).unwrap().map(|data| SinkRecord {
                    key: r.key.clone(),
                    op: r.op,
                    data,
                })
            })
            .collect();
        for batch in mapped.chunks(100) {
            written += sink.write(batch).await.unwrap().len();
        }
    }
    written
}

fn median_time(runtime: &tokio::runtime::Runtime, f: impl Fn() -> usize) -> Duration {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            assert_eq!(black_box(f()), RECORDS as usize);
            started.elapsed()
        })
        .collect();
    times.sort();
    let _ = runtime;
    times[2]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let one = SourceRecord::upsert("1", record(1));
    let ctx = MapContext::default();
    let mut group = c.benchmark_group("mapping");
    group.throughput(Throughput::Elements(1));
    group.bench_function("typed, 40-field record", |b| {
        b.iter(|| typed_map(black_box(&one), &ctx).unwrap())
    });
    let declarative = DeclarativeMapping::from_json_str(DECLARATIVE).unwrap();
    group.bench_function("declarative, 40-field record", |b| {
        b.iter(|| declarative.map_value(black_box(&one.data), &ctx).unwrap())
    });
    group.finish();
    c.final_summary();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let records = source_records();
    let pipeline = median_time(&runtime, || {
        runtime.block_on(with_pipeline(records.clone()))
    });
    let hand = median_time(&runtime, || runtime.block_on(by_hand(records.clone())));
    let rate = |d: Duration| RECORDS as f64 / d.as_secs_f64();
    println!("\npipeline vs hand-written loop, {RECORDS} records, in memory (median of 5):");
    println!(
        "  pipeline      {:>10.0} records/s  ({:?})",
        rate(pipeline),
        pipeline
    );
    println!(
        "  hand-written  {:>10.0} records/s  ({:?})",
        rate(hand),
        hand
    );
    println!(
        "  overhead ratio (pipeline time / hand-written time): {:.2}",
        pipeline.as_secs_f64() / hand.as_secs_f64()
    );
}
