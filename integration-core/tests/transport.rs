//! The transport against a fake server on loopback: retries, retry-after,
//! attempt limits, rate limiting, timeouts, body limits and redaction.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use integration_core::testing::{FakeServer, Fault, FaultStyle, ResponseTemplate, matchers};
use integration_core::transport::{RateLimit, RateShare, RawResponse, RetryPolicy, Transport};
use integration_core::{Error, ErrorKind};

/// An API whose envelope is `{"code": 0, "data": ...}`; code 429 means throttled.
struct Style;
impl FaultStyle for Style {
    fn throttled(&self) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"code": 429, "msg": "too fast"}))
    }
    fn auth_expired(&self) -> ResponseTemplate {
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"code": 401, "msg": "token expired"}))
    }
}

async fn fake() -> FakeServer<u32> {
    let server = FakeServer::start(0u32, Style).await;
    server
        .route(matchers::path("/api"), |hits: &mut u32, _req| {
            *hits += 1;
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"code": 0, "data": *hits}))
        })
        .await;
    server
        .route(matchers::path("/business-error"), |_, _| {
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"code": 1001, "msg": "客户编码重复"}))
        })
        .await;
    server
}

/// The connector-side decoding a real connector does.
fn parse(raw: RawResponse) -> Result<u64, Error> {
    if let Some(e) = raw.http_error() {
        return Err(e);
    }
    let body: serde_json::Value = raw.json()?;
    match body["code"].as_i64() {
        Some(0) => body["data"]
            .as_u64()
            .ok_or_else(|| raw.decode_error("no data")),
        Some(429) => Err(Error::new(
            "test",
            raw.api(),
            ErrorKind::RateLimited,
            "throttled",
        )),
        Some(code) => Err(Error::api(
            "test",
            raw.api(),
            code,
            body["msg"].as_str().unwrap_or_default(),
        )),
        None => Err(raw.decode_error("no code")),
    }
}

fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        jitter: true,
        max_retry_after: Duration::from_secs(60),
    }
}

fn transport(retry: RetryPolicy) -> Transport {
    Transport::builder("test")
        .retry(retry)
        .timeout(None)
        .build()
        .unwrap()
}

async fn call(t: &Transport, base: &str, path: &str) -> Result<u64, Error> {
    let url = format!("{base}{path}");
    t.execute(path, |http| Ok(http.post(&url)), parse).await
}

#[tokio::test]
async fn a_503_then_200_is_retried_and_succeeds() {
    let server = fake().await;
    server.faults().inject(Fault::ServerError(503), 1);
    let t = transport(quick_retries(3));
    assert_eq!(call(&t, &server.uri(), "/api").await.unwrap(), 1);
    assert_eq!(server.received().await.len(), 2);
}

#[tokio::test]
async fn a_400_and_a_business_error_are_not_retried() {
    let server = fake().await;
    server.faults().inject(
        Fault::Respond(Box::new(
            ResponseTemplate::new(400).set_body_string("bad request"),
        )),
        1,
    );
    let t = transport(quick_retries(5));
    let e = call(&t, &server.uri(), "/api").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.http_status(), e.is_retryable()),
        (ErrorKind::HttpStatus, Some(400), false)
    );
    assert_eq!(server.received().await.len(), 1);

    let e = call(&t, &server.uri(), "/business-error")
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Business, Some("1001")));
    assert!(e.to_string().contains("客户编码重复"), "{e}");
    assert_eq!(
        server.received().await.len(),
        2,
        "business errors are not retried"
    );
}

/// Real time, not paused: paused time would jump over the real network
/// I/O of the retried request. The backoff is 1 ms, so waiting a whole
/// second can only come from the hint.
#[tokio::test]
async fn retry_after_is_honoured() {
    let server = fake().await;
    server.faults().inject(
        Fault::Respond(Box::new(
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
        )),
        1,
    );
    let t = transport(quick_retries(3));
    let started = std::time::Instant::now();
    assert_eq!(call(&t, &server.uri(), "/api").await.unwrap(), 1);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert_eq!(server.received().await.len(), 2);
}

#[test]
fn the_retry_after_header_is_read_in_seconds_and_as_a_date() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("Retry-After", "120".parse().unwrap());
    let raw = RawResponse::new(
        "test",
        "api",
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        headers.clone(),
        "",
    );
    assert_eq!(raw.retry_after(), Some(Duration::from_secs(120)));
    let e = raw.http_error().unwrap();
    assert_eq!(
        (e.kind(), e.is_retryable(), e.retry_after()),
        (ErrorKind::RateLimited, true, Some(Duration::from_secs(120)))
    );
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
    headers.insert("Retry-After", soon.parse().unwrap());
    let raw = RawResponse::new(
        "test",
        "api",
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        headers,
        "",
    );
    let wait = raw.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
}

#[tokio::test]
async fn the_attempt_limit_is_respected() {
    let server = fake().await;
    server.faults().inject(Fault::ServerError(502), 100);
    let t = transport(quick_retries(3));
    let e = call(&t, &server.uri(), "/api").await.unwrap_err();
    assert_eq!((e.http_status(), e.is_retryable()), (Some(502), true));
    assert_eq!(server.received().await.len(), 3);

    let server = fake().await;
    server.faults().inject(Fault::Throttled, 100);
    let e = call(&transport(RetryPolicy::never()), &server.uri(), "/api")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(server.received().await.len(), 1);
}

/// Sends `n` calls at once, each through its own clone of `t`; returns when
/// each request left, in order.
async fn send_at_once(
    t: &Transport,
    server: &FakeServer<u32>,
    n: usize,
) -> Vec<tokio::time::Instant> {
    let sent: Arc<Mutex<Vec<tokio::time::Instant>>> = Arc::default();
    let url = format!("{}/api", server.uri());
    let calls = (0..n).map(|_| {
        let (t, sent, url) = (t.clone(), sent.clone(), url.clone());
        async move {
            t.execute(
                "api",
                |http| {
                    sent.lock().unwrap().push(tokio::time::Instant::now());
                    Ok(http.post(&url))
                },
                parse,
            )
            .await
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let mut sent = sent.lock().unwrap().clone();
    sent.sort();
    sent
}

#[tokio::test(start_paused = true)]
async fn the_limiter_never_exceeds_the_rate_and_is_shared_by_clones() {
    let server = fake().await;
    let (rate, burst) = (10u32, 3u32);
    let t = Transport::builder("test")
        .timeout(None)
        .rate_limit(Some(RateLimit::new(rate, burst)))
        .build()
        .unwrap();
    // Every call goes through its own clone: the limit is shared.
    let sent = send_at_once(&t, &server, 40).await;
    assert_eq!(server.received().await.len(), 40);

    // In any one-second window at most `burst + rate` requests went out.
    for (i, start) in sent.iter().enumerate() {
        let in_window = sent[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(
            in_window as u32 <= burst + rate,
            "{in_window} requests within one second"
        );
    }
    // And the limiter does not starve: 40 requests take about (40 - burst) / rate seconds.
    let span = sent[sent.len() - 1].duration_since(sent[0]);
    assert!(
        span >= Duration::from_millis(3600) && span <= Duration::from_millis(3800),
        "{span:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_shared_limit_sends_at_this_processs_part_and_follows_the_member_count() {
    let server = fake().await;
    let share = RateShare::new();
    share.set_members(3);
    let t = Transport::builder("test")
        .timeout(None)
        .rate_limit(Some(RateLimit::new(30, 6)))
        .rate_share(Some(share.clone()))
        .build()
        .unwrap();
    // A third of 30/s with a third of the burst: 10/s, bursts of 2 (the
    // 21st request is due at 2 s, less one interval of burst).
    let sent = send_at_once(&t, &server, 21).await;
    let span = sent[20].duration_since(sent[0]);
    assert!(
        span >= Duration::from_millis(1_900) && span <= Duration::from_millis(2_000),
        "21 requests at 10/s after a burst of 2 took {span:?}"
    );
    // A member left: the next ones go at half the rate.
    share.set_members(2);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let sent = send_at_once(&t, &server, 31).await;
    let span = sent[30].duration_since(sent[0]);
    // Due at 30 × 66.7 ms, less two intervals of burst.
    assert!(
        span >= Duration::from_millis(1_850) && span <= Duration::from_millis(1_880),
        "31 requests at 15/s after a burst of 3 took {span:?}"
    );
}

/// Timers fire on whole milliseconds, so a waiter for a 142.857 ms slot
/// wakes up to a millisecond late; a limiter that measures from the wake-up
/// would lose that on every request (71 requests: 10.01 s instead of 10 s).
#[tokio::test(start_paused = true)]
async fn late_wake_ups_do_not_slow_a_limiter_with_a_burst_of_one() {
    let server = fake().await;
    let t = Transport::builder("test")
        .timeout(None)
        .rate_limit(Some(RateLimit::new(7, 1)))
        .build()
        .unwrap();
    let sent = send_at_once(&t, &server, 71).await;

    for pair in sent.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap >= Duration::from_millis(142),
            "{gap:?} between two requests"
        );
    }
    let span = sent[70].duration_since(sent[0]);
    assert!(
        span >= Duration::from_millis(9_999) && span <= Duration::from_millis(10_001),
        "70 intervals of 1/7 s took {span:?}"
    );
}

#[tokio::test]
async fn a_timeout_is_a_retryable_transport_error() {
    let server = fake().await;
    server
        .faults()
        .inject(Fault::Delay(Duration::from_secs(3)), 1);
    let t = Transport::builder("test")
        .timeout(Some(Duration::from_millis(200)))
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let e = call(&t, &server.uri(), "/api").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.is_retryable()),
        (ErrorKind::Timeout, true),
        "{e}"
    );

    server
        .faults()
        .inject(Fault::Delay(Duration::from_secs(3)), 1);
    let t = Transport::builder("test")
        .timeout(Some(Duration::from_millis(200)))
        .retry(quick_retries(2))
        .build()
        .unwrap();
    assert!(call(&t, &server.uri(), "/api").await.is_ok());
}

#[tokio::test]
async fn hostile_bodies_are_typed_errors() {
    let server = fake().await;
    let t = transport(RetryPolicy::never());
    for fault in [
        Fault::Html,
        Fault::Malformed,
        Fault::Truncated,
        Fault::Empty,
    ] {
        server.faults().inject(fault.clone(), 1);
        let e = call(&t, &server.uri(), "/api").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{fault:?}: {e}");
    }
    server.faults().inject(Fault::Html, 1);
    let e = call(&t, &server.uri(), "/api").await.unwrap_err();
    assert!(
        e.to_string().contains("502 Bad Gateway"),
        "the excerpt explains: {e}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_rejected() {
    let server = fake().await;
    server.faults().inject(
        Fault::Respond(Box::new(
            ResponseTemplate::new(200).set_body_string("x".repeat(100_000)),
        )),
        1,
    );
    let t = Transport::builder("test")
        .max_body_bytes(10_000)
        .build()
        .unwrap();
    let e = call(&t, &server.uri(), "/api").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.is_retryable()),
        (ErrorKind::BodyTooLarge, false)
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_stay_out_of_traces_and_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = fake().await;
    server.faults().inject(
        Fault::Respond(Box::new(ResponseTemplate::new(500).set_body_string(
            r#"{"error":"boom","access_token":"TOKEN-SECRET-1"}"#,
        ))),
        2,
    );
    let t = transport(quick_retries(2));
    let url = format!("{}/api?access_token=TOKEN-SECRET-2&page=1", server.uri());
    let e = t
        .execute("api", |http| Ok(http.post(&url)), parse)
        .await
        .unwrap_err();

    let rendered = format!("{e} {e:?} {t:?}");
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "the trace was captured: {logs}");
    for secret in ["TOKEN-SECRET-1", "TOKEN-SECRET-2"] {
        assert!(!rendered.contains(secret), "{secret} in error: {rendered}");
        assert!(!logs.contains(secret), "{secret} in logs: {logs}");
    }
}

/// Calls `/api` `n` times at once through `t`; the results in call order.
async fn call_at_once(t: &Transport, base: &str, n: usize) -> Vec<Result<u64, Error>> {
    let calls = (0..n).map(|_| call(t, base, "/api"));
    futures::future::join_all(calls).await
}

#[tokio::test]
async fn the_latency_model_delays_every_answer_without_serialising_them() {
    use integration_core::testing::Latency;
    let server = fake().await;
    let latency = Duration::from_millis(60);
    server.faults().set_latency(Latency::Fixed(latency));
    let t = transport(quick_retries(1));
    let started = std::time::Instant::now();
    let results = call_at_once(&t, &server.uri(), 6).await;
    let took = started.elapsed();
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(took >= latency, "answered in {took:?}, before the latency");
    // Six answers one after the other would take 360 ms.
    assert!(took < latency * 4, "answers were serialised: {took:?}");
    assert_eq!(server.faults().requests(), 6);

    // Off again: answered at once.
    server.faults().set_latency(None);
    let started = std::time::Instant::now();
    assert!(call(&t, &server.uri(), "/api").await.is_ok());
    assert!(started.elapsed() < latency, "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_server_limit_refuses_with_the_apis_throttle_answer() {
    use integration_core::testing::ServerLimit;
    let server = fake().await;
    server
        .faults()
        .set_rate_limit(ServerLimit::new(2, 2).jitter(Duration::ZERO));
    // No client limit and a single attempt: the server's refusals show.
    let t = transport(quick_retries(1));
    let results = call_at_once(&t, &server.uri(), 5).await;
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.kind() == ErrorKind::RateLimited))
        .count();
    assert_eq!(refused, 3, "{results:?}");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    assert_eq!(server.faults().limited(), 3);
    assert_eq!(server.faults().requests(), 5);
    // Refused requests never reached the handler (its counter is at 2).
    assert_eq!(*server.state(), 2);
}

#[tokio::test]
async fn a_client_keeping_the_servers_limit_is_never_refused() {
    use integration_core::testing::ServerLimit;
    let server = fake().await;
    let rate = 20;
    server
        .faults()
        .set_rate_limit(ServerLimit::per_second(rate));
    let t = Transport::builder("test")
        .retry(quick_retries(1))
        .timeout(None)
        .rate_limit(Some(RateLimit::per_second(rate)))
        .build()
        .unwrap();
    // Twice the burst: the second half goes at the average rate (~1 s).
    let results = call_at_once(&t, &server.uri(), 2 * rate as usize).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.faults().limited(), 0);
    assert_eq!(server.faults().requests(), u64::from(2 * rate));
}
