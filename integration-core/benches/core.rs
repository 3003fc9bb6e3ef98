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
use integration_core::testing::sample::{CRM_CUSTOMER_TEMPLATE, crm_customer, crm_record};
use integration_core::{
    MapContext, MemoryStore, Pipeline, Sink, SinkRecord, SourceRecord, StateStore,
};
use serde_json::Value;

const RECORDS: u64 = 20_000;

fn source_records() -> Vec<SourceRecord<Value>> {
    (0..RECORDS)
        .map(|i| SourceRecord::upsert(i.to_string(), crm_record(i)))
        .collect()
}

/// The pipeline run over an in-memory source and sink.
async fn with_pipeline(records: Vec<SourceRecord<Value>>) -> usize {
    let sink = MemorySink::new(100);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = Pipeline::builder("bench")
        .source(VecSource::new(records, 500))
        .mapper(crm_customer)
        .sink(sink.clone())
        .state(state)
        // As measured in BENCHMARKS.md (the default was 4 then).
        .concurrency(4)
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
                crm_customer(r, &ctx).unwrap().map(|data| SinkRecord {
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
    let one = SourceRecord::upsert("1", crm_record(1));
    let ctx = MapContext::default();
    let mut group = c.benchmark_group("mapping");
    group.throughput(Throughput::Elements(1));
    group.bench_function("typed, 40-field record", |b| {
        b.iter(|| crm_customer(black_box(&one), &ctx).unwrap())
    });
    let declarative = DeclarativeMapping::from_json_str(CRM_CUSTOMER_TEMPLATE).unwrap();
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
