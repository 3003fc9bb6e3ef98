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
//! One BatchSave of one model per request; 16 requests in flight.
//!
//! Run: `cargo run --release -p benchmarks --bin rate-limit -- --rate 50 --seconds 20 [--burst 1] [--lower 0.6]`
//! (`--burst` is the client limiter's burst; the fake's bucket holds
//! max(2, N/10) requests, so bursts up to that are within its limit).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use benchmarks::{arg, command_line};
use futures::StreamExt;
use integration_core::testing::{FakeServer, FaultStyle, Request, ResponseTemplate, json_response};
use integration_core::{RateLimit, RetryPolicy};
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

async fn scenario(client_rate: u32, burst: u32, fake_rate: f64, requests: u64) -> Outcome {
    let fake = FakeServer::start(Enforcer::new(fake_rate), K3FaultStyle).await;
    fake.route(
        integration_core::testing::matchers::path_regex(r"\.common\.kdsvc$"),
        |state: &mut Enforcer, request: &Request| state.answer(request),
    )
    .await;
    let client = kingdee_cloud::Client::builder()
        .server_url(format!("{}/k3cloud", fake.uri()))
        .app_signature(FakeK3Cloud::app_credentials())
        .rate_limit(RateLimit::new(client_rate, burst))
        .retry(RetryPolicy {
            max_attempts: 30,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
            jitter: true,
            max_retry_after: Duration::from_secs(5),
        })
        .build()
        .unwrap();
    let options = SaveOptions::default();
    fake.state().last = Instant::now();
    let started = Instant::now();
    let lost = futures::stream::iter(0..requests)
        .map(|i| {
            let client = client.clone();
            let options = options.clone();
            async move {
                let model = json!({"FNumber": format!("R{i:06}"), "FName": format!("客户{i}")});
                client.batch_save("BD_Customer", &[model], &options).await
            }
        })
        .buffer_unordered(16)
        .filter(|r| std::future::ready(r.is_err()))
        .count()
        .await as u64;
    let seconds = started.elapsed().as_secs_f64();
    let state = fake.state();
    Outcome {
        seconds,
        sent: requests,
        lost,
        throttled: state.throttled,
        saved_once: state.saved.values().filter(|&&n| n == 1).count() as u64,
    }
}

fn main() {
    let args = command_line(
        "usage: rate-limit [--rate N] [--seconds N] [--lower FRACTION] [--burst N]",
        &["--rate", "--seconds", "--lower", "--burst"],
    );
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
}
