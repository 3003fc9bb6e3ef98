//! Paging N rows (default 100,000 customers) out of K/3 Cloud with
//! ExecuteBillQuery against the fake on loopback: this crate's
//! `Form::stream` versus Kingdee's official Python SDK
//! (`kingdee-cdp-webapi-sdk` from PyPI, `K3CloudApiSdk.ExecuteBillQuery`),
//! both with pages of `--limit` rows (default 2,000) and the same field
//! keys, both with app-signature auth checked by the fake.
//!
//! The fake runs in this process; the crate's variant in a child process of
//! this binary and the SDK in a Python process, so each one's CPU time and
//! peak memory are its own.
//!
//! Run `benchmarks/official-sdk/run.sh` (it installs the SDK into a venv and
//! calls this binary with `--python <venv python>`); without `--python`
//! only the crate's figures are printed.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

use benchmarks::{Measured, arg, arg_text, command_line, measure, run_child};
use futures::TryStreamExt;
use kingdee_cloud::query::BillQuery;
use kingdee_cloud::testing::FakeK3Cloud;
use serde_json::Value;

const FIELDS: [&str; 3] = ["FCUSTID", "FNumber", "FName"];

fn main() {
    let args = command_line(
        "usage: official-sdk [--records N] [--limit N] [--python PATH]",
        &["--records", "--limit", "--python", "--child"],
    );
    let limit: u32 = arg(&args, "--limit", 2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(url) = arg_text(&args, "--child") {
        let m = measure(|| rt.block_on(with_crate(&url, limit)));
        println!("{}", m.to_line());
        return;
    }
    let records: usize = arg(&args, "--records", 100_000);
    let fake = rt.block_on(FakeK3Cloud::start());
    fake.seed_customers(records);
    let url = fake.server_url();
    println!("ExecuteBillQuery, {records} BD_Customer rows, pages of {limit}, fake on loopback");
    let ours = run_child(&[
        "--child".to_owned(),
        url.clone(),
        "--limit".to_owned(),
        limit.to_string(),
    ])
    .unwrap();
    print_line("kingdee-cloud (Rust)", &ours);
    let Some(python) = arg_text(&args, "--python") else {
        println!(
            "  (no --python: the official SDK was not run; see benchmarks/official-sdk/run.sh)"
        );
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/official-sdk/query.py");
    let output = Command::new(python)
        .args([script, &url, &records.to_string(), &limit.to_string()])
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let Some(sdk) = stdout.lines().find_map(Measured::from_line) else {
        println!(
            "  official SDK failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        std::process::exit(1);
    };
    print_line("official Python SDK", &sdk);
    println!(
        "  ratio (SDK time / crate time): {:.2}; CPU per row: {:.2}; peak memory: {:.2}",
        sdk.seconds / ours.seconds,
        sdk.cpu_seconds / ours.cpu_seconds.max(1e-9),
        sdk.peak_kib as f64 / ours.peak_kib.max(1) as f64
    );
    let signed = rt.block_on(fake.received_on("ExecuteBillQuery"));
    println!(
        "  the fake answered {} ExecuteBillQuery requests",
        signed.len()
    );
}

fn print_line(label: &str, m: &Measured) {
    println!(
        "  {label:<21} {:>9.0} rows/s  {:>7.2} s  {:>6.2} µs CPU/row  peak {:>7.1} MiB  ({} rows)",
        m.rate(),
        m.seconds,
        m.cpu_us_per_record(),
        m.peak_mib(),
        m.records
    );
}

async fn with_crate(url: &str, limit: u32) -> u64 {
    let client = kingdee_cloud::Client::builder()
        .server_url(url)
        .app_signature(FakeK3Cloud::app_credentials())
        .build()
        .unwrap();
    let query = BillQuery::new("BD_Customer", FIELDS).limit(limit);
    let rows = client.customers().stream::<Vec<Value>>(query);
    let mut rows = std::pin::pin!(rows);
    let mut n = 0u64;
    while let Some(row) = rows.try_next().await.unwrap() {
        assert_eq!(row.len(), FIELDS.len());
        n += 1;
    }
    n
}
