//! The pipeline against the simplest correct sequential loop when the fakes
//! answer like the real clouds: every call takes a modelled latency, and in
//! one scenario each server also limits requests per second (answering over
//! it with its API's own throttle envelope) while each client keeps the same
//! limit. Two schemes: Huke → K/3 Cloud (paged reads, batched writes) and
//! OKKI → YonBIP (list-then-detail: a detail call per company, then a
//! lookup and a save per merchant).
//!
//! The fakes run in this (parent) process with the model set on them; each
//! variant runs in a child process of this binary (its CPU time and peak
//! memory are its own). Per variant: records/s, the requests both fakes
//! received and how many they refused, CPU per record, peak RSS.
//!
//! Run: `cargo run --release -p benchmarks --bin api-model`
//! (`--trades 10000 --companies 300 --latencies 0,20,100 --limit 50` are
//! the defaults; the limit applies at the last latency; `--spread
//! lognormal` spreads each latency log-normally, p99 = 4 × the median,
//! instead of fixing it).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use benchmarks::{
    Measured, arg, arg_text, command_line, huke_kingdee, measure, okki_yonbip, run_child, runtime,
};
use integration_core::MemoryStore;
use integration_core::testing::{Faults, Latency, ServerLimit};
use integration_core::transport::RateLimit;
use kingdee_cloud::testing::FakeK3Cloud;
use netease_huke::testing::FakeHuke;
use okki::testing::FakeOkki;
use yonbip::testing::FakeYonBip;

const VARIANTS: [&str; 2] = ["pipeline", "hand-written"];

fn main() {
    let args = command_line(
        "usage: api-model [--trades N] [--companies N] [--latencies MS,…] [--limit N] [--spread fixed|lognormal] [--schemes huke,okki]",
        &[
            "--trades",
            "--companies",
            "--latencies",
            "--limit",
            "--spread",
            "--schemes",
            "--child",
            "--source",
            "--target",
            "--client-limit",
        ],
    );
    match arg_text(&args, "--child") {
        Some(variant) => child(&variant, &args),
        None => parent(&args),
    }
}

/// One condition of the model: a latency, and maybe a server limit that
/// the clients keep too.
#[derive(Clone, Copy)]
struct Scenario {
    latency_ms: u64,
    limit: Option<u32>,
}

impl Scenario {
    fn apply(&self, faults: &Faults, tail: bool) {
        let latency = Duration::from_millis(self.latency_ms);
        faults.set_latency((self.latency_ms > 0).then(|| {
            if tail {
                Latency::LogNormal {
                    median: latency,
                    p99: latency * 4,
                    seed: 7,
                }
            } else {
                Latency::Fixed(latency)
            }
        }));
        faults.set_rate_limit(self.limit.map(ServerLimit::per_second));
    }

    fn describe(&self, tail: bool) -> String {
        let latency = match (self.latency_ms, tail) {
            (0, _) => "no latency".to_owned(),
            (ms, false) => format!("{ms} ms per call"),
            (ms, true) => format!("{ms} ms median, {} ms p99 per call", ms * 4),
        };
        match self.limit {
            Some(limit) => format!("{latency}, servers and clients limited to {limit} requests/s"),
            None => format!("{latency}, no limit"),
        }
    }
}

/// What a scheme's two fakes saw during one variant.
struct Seen {
    /// Requests per fake (source, target) and those refused in all.
    requests: [u64; 2],
    limited: u64,
}

fn counts(faults: [&Faults; 2]) -> ([u64; 2], u64) {
    (
        faults.map(Faults::requests),
        faults.iter().map(|f| f.limited()).sum(),
    )
}

fn parent(args: &[String]) {
    let trades: usize = arg(args, "--trades", 10_000);
    let companies: usize = arg(args, "--companies", 300);
    let limit: u32 = arg(args, "--limit", 50);
    let tail = match arg_text(args, "--spread").as_deref() {
        None | Some("fixed") => false,
        Some("lognormal") => true,
        Some(other) => {
            eprintln!("--spread: fixed or lognormal, not {other:?}");
            std::process::exit(2);
        }
    };
    let latencies: Vec<u64> = arg_text(args, "--latencies")
        .unwrap_or_else(|| "0,20,100".into())
        .split(',')
        .map(|ms| ms.trim().parse().expect("--latencies: milliseconds"))
        .collect();
    let mut scenarios: Vec<Scenario> = latencies
        .iter()
        .map(|&latency_ms| Scenario {
            latency_ms,
            limit: None,
        })
        .collect();
    if let Some(&last) = latencies.last() {
        scenarios.push(Scenario {
            latency_ms: last,
            limit: Some(limit),
        });
    }
    let schemes = arg_text(args, "--schemes").unwrap_or_else(|| "huke,okki".into());
    let rt = runtime();

    if schemes.contains("huke") {
        let (huke, k3) =
            rt.block_on(async { (FakeHuke::start().await, FakeK3Cloud::start().await) });
        let buyers = huke_kingdee::seed(&huke, trades);
        println!(
            "Huke → K/3 Cloud: {trades} trades of {} distinct buyers (records = trades)",
            buyers.len()
        );
        for scenario in &scenarios {
            println!(" {}", scenario.describe(tail));
            let faults = [huke.faults(), k3.faults()];
            let urls = [huke.base_url(), k3.server_url()];
            run_scenario(scenario, tail, faults, &urls, "huke", || {
                let numbers: HashSet<String> =
                    huke_kingdee::customer_numbers(&k3).into_iter().collect();
                k3.state().forms.remove("BD_Customer");
                numbers == buyers
            });
        }
    }
    if schemes.contains("okki") {
        let (okki, yonbip) =
            rt.block_on(async { (FakeOkki::start().await, FakeYonBip::start().await) });
        let codes = okki_yonbip::seed(&okki, companies);
        println!("OKKI → YonBIP: {companies} companies (records = companies)");
        for scenario in &scenarios {
            println!(" {}", scenario.describe(tail));
            let faults = [okki.faults(), yonbip.faults()];
            let urls = [okki.uri(), yonbip.uri()];
            run_scenario(scenario, tail, faults, &urls, "okki", || {
                let saved: HashSet<String> =
                    okki_yonbip::merchant_codes(&yonbip).into_iter().collect();
                yonbip.state().merchants_mut().clear();
                saved == codes
            });
        }
    }
}

/// Runs both variants of `scheme` under `scenario`; `check_and_reset` says
/// whether the target holds exactly what it must, and empties it.
fn run_scenario(
    scenario: &Scenario,
    tail: bool,
    faults: [&Faults; 2],
    urls: &[String; 2],
    scheme: &str,
    mut check_and_reset: impl FnMut() -> bool,
) {
    let mut results: Vec<(&str, Measured, Seen)> = Vec::new();
    for variant in VARIANTS {
        // The model is set only while a variant runs (seeding and checks
        // are instant).
        faults.iter().for_each(|f| scenario.apply(f, tail));
        let (before, limited_before) = counts(faults);
        let mut child_args = vec![
            "--child".to_owned(),
            format!("{scheme}:{variant}"),
            "--source".to_owned(),
            urls[0].clone(),
            "--target".to_owned(),
            urls[1].clone(),
        ];
        if let Some(limit) = scenario.limit {
            child_args.extend(["--client-limit".to_owned(), limit.to_string()]);
        }
        let m = run_child(&child_args).unwrap_or_else(|e| {
            eprintln!("{scheme}:{variant}: {e}");
            std::process::exit(1);
        });
        let (after, limited_after) = counts(faults);
        faults.iter().for_each(|f| {
            f.set_latency(None);
            f.set_rate_limit(None);
        });
        let seen = Seen {
            requests: [after[0] - before[0], after[1] - before[1]],
            limited: limited_after - limited_before,
        };
        let correct = check_and_reset();
        println!(
            "   {variant:<13} {:>8.1} records/s  {:>7.1} s  requests {:>6} + {:<6} throttled {:>4}  {:>7.1} µs CPU/record  peak {:>6.1} MiB{}",
            m.rate(),
            m.seconds,
            seen.requests[0],
            seen.requests[1],
            seen.limited,
            m.cpu_us_per_record(),
            m.peak_mib(),
            if correct {
                ""
            } else {
                "  (WRONG target state!)"
            }
        );
        results.push((variant, m, seen));
    }
    let [(_, p, ps), (_, h, _)] = &results[..] else {
        return;
    };
    let mut line = format!(
        "   ratio pipeline / hand-written: records/s {:.2}, CPU per record {:.2}, peak memory {:.2}",
        p.rate() / h.rate(),
        p.cpu_seconds / h.cpu_seconds.max(1e-9),
        p.peak_kib as f64 / h.peak_kib.max(1) as f64
    );
    if let Some(limit) = scenario.limit {
        // The busier server's requests, against what its limit lets through
        // in that time: a burst of `limit`, then `limit` each second.
        let busiest = ps.requests[0].max(ps.requests[1]) as f64;
        let allowed = f64::from(limit) * (1.0 + p.seconds);
        line.push_str(&format!(
            "; pipeline: {:.1} requests/s on the busier server, {:.1} % of what the limit allows",
            busiest / p.seconds,
            busiest * 100.0 / allowed
        ));
    }
    println!("{line}");
}

fn child(variant: &str, args: &[String]) {
    let source = arg_text(args, "--source").expect("--source");
    let target = arg_text(args, "--target").expect("--target");
    let limit = arg_text(args, "--client-limit")
        .map(|n| RateLimit::per_second(n.parse().expect("--client-limit")));
    let rt = runtime();
    let state = Arc::new(MemoryStore::new());
    let m = match variant {
        "huke:pipeline" => {
            measure(|| rt.block_on(huke_kingdee::pipeline(&source, &target, state, limit)))
        }
        "huke:hand-written" => measure(|| rt.block_on(huke_kingdee::by_hand(&source, &target))),
        "okki:pipeline" => {
            measure(|| rt.block_on(okki_yonbip::pipeline(&source, &target, state, limit)))
        }
        "okki:hand-written" => measure(|| rt.block_on(okki_yonbip::by_hand(&source, &target))),
        other => panic!("unknown variant {other}"),
    };
    println!("{}", m.to_line());
}
