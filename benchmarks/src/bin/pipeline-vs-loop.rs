//! The Huke → K/3 Cloud scheme over N source records (trades) against the
//! two fakes on loopback: the project's pipelines (the scheme exactly as in
//! `examples`: a trade collection, then the distinct buyers mapped by the
//! declarative mapping and upserted by `FNumber` with BatchSave), with its
//! state in a `MemoryStore`, in a `SqliteStore` file (as the scheme
//! binaries keep it) and, when PostgreSQL's server binaries are on the
//! machine (or `DATABASE_URL` names a server), in a `PostgresStore` (as
//! several workers share it), against the simplest correct hand-written
//! loop with `reqwest` and `serde_json`. `pipeline-sqlite-console` is
//! `pipeline-sqlite` with the operations console and `/metrics` served
//! during the run, `/metrics` scraped every second and three pages opened
//! every five.
//!
//! The fakes run in this (parent) process; each variant runs in a child
//! process of this binary, so its CPU time and peak memory are its own (the
//! PostgreSQL server's are not counted, as the fakes' are not).
//!
//! Run: `cargo run --release -p benchmarks --bin pipeline-vs-loop -- --records 100000`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// With `--features mimalloc`, both variants allocate with mimalloc instead
/// of the system allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashSet;
use std::sync::Arc;

use benchmarks::huke_kingdee::{by_hand, customer_numbers, pipeline, seed};
use benchmarks::{
    Measured, TempSqlite, arg, arg_text, command_line, measure, process_tree_cpu_time, run_child,
    runtime,
};
use integration_core::console::{Console, RunningConsole};
use integration_core::testing::postgres::TestPostgres;
use integration_core::{MemoryStore, PostgresStore, StateStore};
use kingdee_cloud::testing::FakeK3Cloud;
use netease_huke::testing::FakeHuke;

fn main() {
    let args = command_line(
        "usage: pipeline-vs-loop [--records N] [--only VARIANT,…]   (default 100000, every variant)",
        &[
            "--records",
            "--child",
            "--huke",
            "--k3",
            "--pg-url",
            "--pg-schema",
            "--only",
        ],
    );
    match arg_text(&args, "--child").as_deref() {
        Some(variant) => child(variant, &args),
        None => parent(&args),
    }
}

fn parent(args: &[String]) {
    let records: usize = arg(args, "--records", 100_000);
    let rt = runtime();
    let (huke, k3) = rt.block_on(async { (FakeHuke::start().await, FakeK3Cloud::start().await) });
    let buyers = seed(&huke, records);
    println!(
        "Huke → K/3 Cloud, {records} trades of {} distinct buyers, fakes on loopback",
        buyers.len()
    );
    let postgres = rt.block_on(TestPostgres::start()).unwrap_or_else(|e| {
        eprintln!("cannot start PostgreSQL: {e}");
        std::process::exit(1);
    });
    let mut variants = vec![
        "pipeline",
        "pipeline-sqlite",
        "pipeline-sqlite-console",
        "hand-written",
    ];
    match &postgres {
        Some(_) => variants.insert(3, "pipeline-postgres"),
        None => {
            println!("  (no PostgreSQL server binaries: the pipeline-postgres variant is left out)")
        }
    }
    // `--only a,b`: just these variants (the ratios need their partners).
    if let Some(only) = arg_text(args, "--only") {
        let only: Vec<&str> = only.split(',').collect();
        variants.retain(|v| only.contains(v));
    }
    let mut results: Vec<(&str, Measured)> = Vec::new();
    for variant in variants {
        k3.state().forms.remove("BD_Customer");
        let mut child_args = vec![
            "--child".to_owned(),
            variant.to_owned(),
            "--huke".to_owned(),
            huke.base_url(),
            "--k3".to_owned(),
            k3.server_url(),
        ];
        if let Some(pg) = &postgres {
            let schema = pg.new_schema();
            child_args.extend(["--pg-url".to_owned(), pg.url().to_owned()]);
            child_args.extend(["--pg-schema".to_owned(), schema]);
        }
        let server_pid = postgres.as_ref().and_then(TestPostgres::server_pid);
        let server_before = server_pid.map(process_tree_cpu_time);
        let m = match run_child(&child_args) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{variant}: {e}");
                std::process::exit(1);
            }
        };
        // The server's CPU during the run, beside the client's.
        let server = match (variant, server_pid, server_before) {
            ("pipeline-postgres", Some(pid), Some(before)) => {
                let used = process_tree_cpu_time(pid).saturating_sub(before);
                format!(
                    "  (+ {:.1} µs CPU/trade in the PostgreSQL server)",
                    used.as_secs_f64() * 1e6 / records as f64
                )
            }
            _ => String::new(),
        };
        let customers = customer_numbers(&k3);
        let correct = customers.iter().cloned().collect::<HashSet<_>>() == buyers;
        println!(
            "  {variant:<17} {:>9.0} trades/s  {:>8.1} s  {:>7.1} µs CPU/trade  peak {:>7.1} MiB  → {} customers{}{server}",
            m.rate(),
            m.seconds,
            m.cpu_us_per_record(),
            m.peak_mib(),
            customers.len(),
            if correct {
                ""
            } else {
                "  (NOT the buyers' set!)"
            }
        );
        results.push((variant, m));
    }
    let measured = |name: &str| results.iter().find(|(v, _)| *v == name).map(|(_, m)| *m);
    if let (Some(off), Some(on)) = (
        measured("pipeline-sqlite"),
        measured("pipeline-sqlite-console"),
    ) {
        println!(
            "  console and metrics served (pipeline-sqlite-console / pipeline-sqlite): throughput {:.3}, CPU per record {:.3}, peak memory {:.3}",
            on.rate() / off.rate(),
            on.cpu_seconds / off.cpu_seconds.max(1e-9),
            on.peak_kib as f64 / off.peak_kib.max(1) as f64
        );
    }
    let Some(h) = measured("hand-written") else {
        return;
    };
    for (variant, p) in results.iter().filter(|(v, _)| *v != "hand-written") {
        println!(
            "  ratios ({variant} / hand-written): time {:.2}, CPU per record {:.2}, peak memory {:.2}",
            p.seconds / h.seconds,
            p.cpu_seconds / h.cpu_seconds.max(1e-9),
            p.peak_kib as f64 / h.peak_kib.max(1) as f64
        );
    }
}

fn child(variant: &str, args: &[String]) {
    let huke_url = arg_text(args, "--huke").expect("--huke");
    let k3_url = arg_text(args, "--k3").expect("--k3");
    let rt = runtime();
    let m: Measured = match variant {
        "pipeline" => {
            let state = Arc::new(MemoryStore::new());
            measure(|| rt.block_on(pipeline(&huke_url, &k3_url, state, None)))
        }
        "pipeline-sqlite" => {
            let file = TempSqlite::new("pipeline-vs-loop");
            let state = Arc::new(file.open());
            measure(|| rt.block_on(pipeline(&huke_url, &k3_url, state, None)))
        }
        "pipeline-sqlite-console" => {
            let file = TempSqlite::new("pipeline-vs-loop-console");
            let state: Arc<dyn StateStore> = Arc::new(file.open());
            measure(|| {
                rt.block_on(async {
                    let _console = watched_console(Arc::clone(&state)).await;
                    pipeline(&huke_url, &k3_url, state, None).await
                })
            })
        }
        "pipeline-postgres" => {
            let url = arg_text(args, "--pg-url").expect("--pg-url");
            let schema = arg_text(args, "--pg-schema").expect("--pg-schema");
            let store = rt.block_on(PostgresStore::builder(&url).schema(schema).connect());
            let state = Arc::new(store.unwrap());
            measure(|| rt.block_on(pipeline(&huke_url, &k3_url, state, None)))
        }
        _ => measure(|| rt.block_on(by_hand(&huke_url, &k3_url))),
    };
    println!("{}", m.to_line());
}

/// The console with metrics over `state`, scraped by a Prometheus every
/// second (15 times more often than its default) and browsed by an operator
/// opening three pages every five seconds: what serving them costs the run.
async fn watched_console(state: Arc<dyn StateStore>) -> RunningConsole {
    let console = Console::builder(state)
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = console.url();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        for second in 0u64.. {
            tick.tick().await;
            let pages: &[&str] = if second % 5 == 0 {
                &[
                    "metrics",
                    "",
                    "pipelines/huke-to-kingdee",
                    "collections/huke-trades",
                ]
            } else {
                &["metrics"]
            };
            for page in pages {
                let answer = http.get(format!("{base}{page}")).send().await.unwrap();
                // A pipeline's page is 404 until its first run starts.
                let status = answer.status();
                assert!(status.is_success() || status == 404, "{page}: {status}");
                answer.bytes().await.unwrap();
            }
        }
    });
    console
}
