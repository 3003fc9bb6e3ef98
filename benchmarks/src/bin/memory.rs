//! Peak resident set of one pipeline run over 100,000 and 1,000,000
//! records: a generating in-memory source (pages of 1,000, nothing held
//! ahead), a typed mapping, a sink that accepts and drops every batch, and a
//! state store that keeps checkpoints — `SqliteStore` on a temporary file,
//! and for comparison `MemoryStore`. Both stores also keep every record in
//! the pipeline's collection (that is what makes lookups possible), which
//! the in-memory store holds in RAM. `memory-keys` is a `MemoryStore` whose
//! pipeline collection keeps only keys, statuses and target ids
//! (`MemoryStore::keys_only`, for a collection no lookup reads by field):
//! its peak grows with the number of keys, not the size of records.
//!
//! Each (store, count) runs in its own child process so peaks are separate.
//!
//! Run: `cargo run --release -p benchmarks --bin memory`
//! (`--counts 100000,1000000 --stores sqlite,memory,memory-keys` are the
//! defaults).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use benchmarks::{TempSqlite, arg, arg_text, command_line, measure, run_child};
use integration_core::memory::{FnSink, FnSource};
use integration_core::source::{Checkpoint, Page};
use integration_core::testing::sample::crm_customer;
use integration_core::{MemoryStore, Pipeline, SinkRecord, SourceRecord, StateStore, WriteOutcome};
use serde_json::{Value, json};

const PAGE: u64 = 1_000;
/// The pipeline, and so its collection.
const PIPELINE: &str = "memory";

fn main() {
    let args = command_line(
        "usage: memory [--counts N,N…] [--stores sqlite,memory,memory-keys]",
        &["--counts", "--stores", "--child", "--count"],
    );
    if let Some(store) = arg_text(&args, "--child") {
        let count: u64 = arg(&args, "--count", 100_000);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let m = measure(|| rt.block_on(run(&store, count)));
        println!("{}", m.to_line());
        return;
    }
    let counts = arg_text(&args, "--counts").unwrap_or_else(|| "100000,1000000".into());
    let stores = arg_text(&args, "--stores").unwrap_or_else(|| "sqlite,memory,memory-keys".into());
    println!("one pipeline run, generated records, pages of {PAGE}, batches of 100, sink drops");
    for store in stores.split(',') {
        for count in counts.split(',') {
            let child = ["--child", store, "--count", count].map(str::to_owned);
            match run_child(&child) {
                Ok(m) => println!(
                    "  {store:<11} {count:>9} records  {:>9.0} records/s  {:>7.1} s  {:>6.1} µs CPU/record  peak RSS {:>8.1} MiB",
                    m.rate(),
                    m.seconds,
                    m.cpu_us_per_record(),
                    m.peak_mib()
                ),
                Err(e) => println!("  {store} {count}: {e}"),
            }
        }
    }
}

fn record(i: u64) -> Value {
    json!({
        "id": i,
        "buyerNick": format!("买家{i}号"),
        "buyerCid": format!("CID{i:08}"),
        "amount": format!("{}.{:02}", 100 + i % 9000, i % 100),
        "created": 1_700_000_000_000u64 + i * 60_000,
        "province": "浙江省",
        "city": "杭州市",
        "address": format!("西湖区文三路{}号", i % 500),
        "phone": format!("138{:08}", i % 100_000_000),
    })
}

async fn run(store: &str, count: u64) -> u64 {
    let file = TempSqlite::new("memory");
    let state: Arc<dyn StateStore> = match store {
        "sqlite" => Arc::new(file.open()),
        "memory" => Arc::new(MemoryStore::new()),
        "memory-keys" => Arc::new(MemoryStore::new().keys_only(PIPELINE)),
        other => panic!("unknown store {other:?}: sqlite, memory or memory-keys"),
    };
    let source = FnSource::with_cursor(
        move |_: Option<Checkpoint>, cursor: Option<u64>| async move {
            let from = cursor.unwrap_or(0);
            let to = (from + PAGE).min(count);
            Ok(Page {
                total: None,
                records: (from..to)
                    .map(|i| SourceRecord::upsert(i.to_string(), record(i)))
                    .collect(),
                next: (to < count).then_some(to),
                checkpoint: Some(Checkpoint(json!(to))),
            })
        },
    );
    let sink = FnSink::new(100, |batch: Vec<SinkRecord<Value>>| async move {
        Ok(batch
            .iter()
            .map(|r| WriteOutcome::written(r.key.clone()))
            .collect())
    });
    let pipeline = Pipeline::builder(PIPELINE)
        .source(source)
        .mapper(crm_customer)
        .sink(sink)
        .state(state)
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!(report.written, count, "{report:?}");
    report.written
}
