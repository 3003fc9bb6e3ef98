//! Rate-limit fidelity: a K/3 Cloud client limited to N requests/s against
//! a fake BatchSave endpoint that enforces a rate itself (a token bucket
//! refilled at the enforced rate, holding a tenth of a second's worth, at
//! least 2) and answers excess requests with K/3 Cloud's throttled answer
//! (HTTP 429), counting them.
//!
//! 1. Fake enforcing N: the run should reach ≥ 95% of N with no throttled
//!    answer.
//! 2. Fake enforcing less than N (default 60%): the client is throttled,
//!    retries with backoff, and every record still arrives exactly once.
//!
//! 3. `--processes N`: N client processes (this binary again), each with
//!    the same limit of N requests/s for one app key, sharing it through a
//!    state store (`--state`: a SQLite file by default, or a PostgreSQL
//!    URL) as workers do ([`integration_core::worker::RateBudgets`]),
//!    against one fake enforcing N: together they should reach ≥ 95% of N
//!    with no throttled answer.
//!
//! One BatchSave of one model per request; 16 requests in flight (per
//! process).
//!
//! Run: `cargo run --release -p benchmarks --bin rate-limit -- --rate 50 --seconds 20 [--burst 1] [--lower 0.6] [--processes 3] [--state postgres://…]`
//! (`--burst` is the client limiter's burst; the fake's bucket holds
//! max(2, N/10) requests, so bursts up to that are within its limit).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benchmarks::{arg, arg_text, command_line};
use futures::StreamExt;
use integration_core::testing::{FakeServer, FaultStyle, Request, ResponseTemplate, json_response};
use integration_core::worker::RateBudgets;
use integration_core::{RateLimit, RateShare, RetryPolicy, SqliteStore, StateStore};
use kingdee_cloud::SaveOptions;
use kingdee_cloud::testing::{FakeK3Cloud, K3FaultStyle};
use serde_json::{Value, json};

/// The enforcing fake's state.
struct Enforcer {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
    saved: HashMap<String, u32>,
    throttled: u64,
}

impl Enforcer {
    fn new(per_second: f64) -> Self {
        let capacity = (per_second / 10.0).max(2.0);
        Self {
            per_second,
            capacity,
            tokens: capacity,
            last: Instant::now(),
            saved: HashMap::new(),
            throttled: 0,
        }
    }

    fn answer(&mut self, request: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.last = now;
        if self.tokens < 1.0 {
            self.throttled += 1;
            return K3FaultStyle.throttled();
        }
        self.tokens -= 1.0;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let models = body["data"]["Model"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut successes = Vec::new();
        for (i, model) in models.iter().enumerate() {
            let number = model["FNumber"].as_str().unwrap_or("").to_owned();
            *self.saved.entry(number.clone()).or_default() += 1;
            successes.push(json!({"Id": 100_000 + i, "Number": number, "DIndex": i}));
        }
        json_response(&json!({"Result": {
            "ResponseStatus": {"IsSuccess": true, "Errors": [], "SuccessEntitys": successes,
                "SuccessMessages": [], "MsgCode": 0},
            "Id": "", "Number": "", "NeedReturnData": []
        }}))
    }
}

struct Outcome {
    seconds: f64,
    sent: u64,
    lost: u64,
    throttled: u64,
    saved_once: u64,
}

/// The fake enforcing `fake_rate`.
async fn enforcing_fake(fake_rate: f64) -> FakeServer<Enforcer> {
    let fake = FakeServer::start(Enforcer::new(fake_rate), K3FaultStyle).await;
    fake.route(
        integration_core::testing::matchers::path_regex(r"\.common\.kdsvc$"),
        |state: &mut Enforcer, request: &Request| state.answer(request),
    )
    .await;
    fake
}

/// A client of the fake at `uri`, limited to `rate` (its `share` of it).
fn client(uri: &str, rate: u32, burst: u32, share: Option<RateShare>) -> kingdee_cloud::Client {
    let mut builder = kingdee_cloud::Client::builder()
        .server_url(format!("{uri}/k3cloud"))
        .app_signature(FakeK3Cloud::app_credentials())
        .rate_limit(RateLimit::new(rate, burst))
        .retry(RetryPolicy {
            max_attempts: 30,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            jitter: true,
            max_retry_after: Duration::from_secs(5),
        });
    if let Some(share) = share {
        builder = builder.rate_share(share);
    }
    builder.build().unwrap()
}

/// Sends requests `first..` 16 at a time while `more(i)` says so; returns
/// how many were sent and how many failed in the end.
async fn send(
    client: &kingdee_cloud::Client,
    first: u64,
    more: impl Fn(u64) -> bool,
) -> (u64, u64) {
    let options = SaveOptions::default();
    let results: Vec<bool> = futures::stream::iter((first..).take_while(|&i| more(i)))
        .map(|i| {
            let client = client.clone();
            let options = options.clone();
            async move {
                let model = json!({"FNumber": format!("R{i:09}"), "FName": format!("客户{i}")});
                client
                    .batch_save("BD_Customer", &[model], &options)
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let lost = results.iter().filter(|ok| !**ok).count() as u64;
    (results.len() as u64, lost)
}

async fn scenario(client_rate: u32, burst: u32, fake_rate: f64, requests: u64) -> Outcome {
    let fake = enforcing_fake(fake_rate).await;
    let client = client(&fake.uri(), client_rate, burst, None);
    fake.state().last = Instant::now();
    let started = Instant::now();
    let (sent, lost) = send(&client, 0, |i| i < requests).await;
    let seconds = started.elapsed().as_secs_f64();
    let state = fake.state();
    Outcome {
        seconds,
        sent,
        lost,
        throttled: state.throttled,
        saved_once: state.saved.values().filter(|&&n| n == 1).count() as u64,
    }
}

/// Opens the shared store: a PostgreSQL URL, else a SQLite file.
async fn open_store(state: &str) -> Arc<dyn StateStore> {
    if state.starts_with("postgres") {
        Arc::new(
            integration_core::PostgresStore::connect(state)
                .await
                .unwrap(),
        )
    } else {
        Arc::new(SqliteStore::open(state).unwrap())
    }
}

/// Milliseconds since the Unix epoch: a moment every process agrees on.
fn epoch_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

/// One of the `--processes` clients: joins the budget, sends from
/// `start_ms` until `end_ms` (wall clock), prints `sent N lost M done T`
/// (T: when its last answer came, in epoch milliseconds).
fn child(args: &[String]) {
    let uri: String = arg(args, "--child", String::new());
    let state: String = arg(args, "--state", String::new());
    let rate: u32 = arg(args, "--rate", 50);
    let burst: u32 = arg(args, "--burst", 1);
    let member: u64 = arg(args, "--member", 0);
    let start_ms: u64 = arg(args, "--start-ms", 0);
    let end_ms: u64 = arg(args, "--end-ms", 0);
    let shared = arg(args, "--shared", 1) == 1;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = open_store(&state).await;
        let share = RateShare::new();
        let budgets = if shared {
            vec![("kingdee:app".into(), share.clone())]
        } else {
            Vec::new()
        };
        let budgets = RateBudgets::join(
            store,
            format!("bench-{member}-{}", std::process::id()),
            budgets,
            Duration::from_millis(500),
        )
        .await;
        let client = client(&uri, rate, burst, Some(share));
        tokio::time::sleep(Duration::from_millis(start_ms.saturating_sub(epoch_ms()))).await;
        let (sent, lost) = send(&client, member * 100_000_000, |_| epoch_ms() < end_ms).await;
        println!("sent {sent} lost {lost} done {}", epoch_ms());
        budgets.leave().await;
    });
}

/// `--processes N`: N clients sharing the rate through the store, or each
/// with the whole limit (`shared` false: what happens without a budget).
fn processes(
    rt: &tokio::runtime::Runtime,
    shared: bool,
    n: u64,
    rate: u32,
    burst: u32,
    seconds: u64,
    state: Option<String>,
) {
    let dir = std::env::temp_dir().join(format!("rate-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = state.unwrap_or_else(|| dir.join("state.sqlite").display().to_string());
    let store_kind = if state.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let fake = rt.block_on(enforcing_fake(f64::from(rate)));
    // Every child joins the budget and waits its heartbeats first.
    let start_ms = epoch_ms() + 4_000;
    let end_ms = start_ms + seconds * 1_000;
    let children: Vec<_> = (0..n)
        .map(|member| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--child", &fake.uri(), "--state", &state])
                .args(["--rate", &rate.to_string(), "--burst", &burst.to_string()])
                .args(["--member", &member.to_string()])
                .args(["--shared", if shared { "1" } else { "0" }])
                .args([
                    "--start-ms",
                    &start_ms.to_string(),
                    "--end-ms",
                    &end_ms.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // The fake's bucket starts full when the clients start.
    std::thread::sleep(Duration::from_millis(start_ms.saturating_sub(epoch_ms())));
    fake.state().last = Instant::now();
    let (mut sent, mut lost, mut done_ms) = (0, 0, start_ms);
    for child in children {
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let numbers: Vec<u64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(
            output.status.success() && numbers.len() == 3,
            "a client failed: {text}"
        );
        sent += numbers[0];
        lost += numbers[1];
        done_ms = done_ms.max(numbers[2]);
    }
    // From the common start to the last answer.
    let seconds = (done_ms - start_ms) as f64 / 1000.0;
    let achieved = sent as f64 / seconds;
    let state = fake.state();
    println!(
        "  {n} processes, {}: {seconds:>5.1} s, {achieved:>6.2} req/s = {:>5.1}% of N, {:>5} throttled answers, {lost} lost, {}/{sent} records saved exactly once",
        if shared {
            format!("one budget ({store_kind})")
        } else {
            "each its own limit".to_owned()
        },
        achieved * 100.0 / f64::from(rate),
        state.throttled,
        state.saved.values().filter(|&&n| n == 1).count(),
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn main() {
    let args = command_line(
        "usage: rate-limit [--rate N] [--seconds N] [--lower FRACTION] [--burst N] [--processes N] [--state FILE_OR_URL]",
        &[
            "--rate",
            "--seconds",
            "--lower",
            "--burst",
            "--processes",
            "--state",
            "--child",
            "--member",
            "--start-ms",
            "--end-ms",
            "--shared",
        ],
    );
    if args.iter().any(|a| a == "--child") {
        return child(&args);
    }
    let rate: u32 = arg(&args, "--rate", 50);
    let seconds: u64 = arg(&args, "--seconds", 20);
    let lower: f64 = arg(&args, "--lower", 0.6);
    let burst: u32 = arg(&args, "--burst", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let requests = u64::from(rate) * seconds;
    println!(
        "rate-limit fidelity: client limited to {rate} req/s (burst {burst}), {requests} BatchSave requests, 16 in flight"
    );
    for (label, fake_rate) in [
        ("fake enforces N", f64::from(rate)),
        ("fake enforces less", f64::from(rate) * lower),
    ] {
        let o = rt.block_on(scenario(rate, burst, fake_rate, requests));
        let achieved = o.sent as f64 / o.seconds;
        println!(
            "  {label:<19} (fake {fake_rate:>5.1}/s): {:>6.1} s, {:>6.2} req/s = {:>5.1}% of N, {:>5} throttled answers, {} lost, {}/{} records saved exactly once",
            o.seconds,
            achieved,
            achieved * 100.0 / f64::from(rate),
            o.throttled,
            o.lost,
            o.saved_once,
            o.sent,
        );
    }
    let n: u64 = arg(&args, "--processes", 0);
    if n > 0 {
        for shared in [true, false] {
            processes(
                &rt,
                shared,
                n,
                rate,
                burst,
                seconds,
                arg_text(&args, "--state"),
            );
        }
    }
}
