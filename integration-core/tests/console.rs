//! The console over HTTP, without a browser: its security rules (address,
//! token, CSRF, escaping, redaction), replay and reset with their history
//! records, searches, and the metrics it serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use integration_core::console::{Console, ConsoleError, RunningConsole};
use integration_core::memory::{MemorySink, VecSource};
use integration_core::state::RunKind;
use integration_core::{MemoryStore, Pipeline, RecordError, SourceRecord, StateStore};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Customer {
    code: String,
    name: String,
    #[serde(rename = "appSecret")]
    app_secret: String,
}

const TOKEN: &str = "console-test-token-7f3a";
const HOSTILE: &str = "<script>alert(1)</script>";

type Job = Pipeline<VecSource<Customer>, MemorySink<Value>>;

struct Setup {
    store: Arc<MemoryStore>,
    pipeline: Job,
    sink: MemorySink<Value>,
    broken: Arc<AtomicBool>,
}

async fn setup() -> Setup {
    let customers = [
        ("C-001", "上海华东贸易有限公司"),
        ("C-002", HOSTILE),
        ("C-003", "张三"),
        ("C-004", "李四"),
    ]
    .map(|(code, name)| {
        SourceRecord::upsert(
            code,
            Customer {
                code: code.into(),
                name: name.into(),
                app_secret: "s3cr3t-value".into(),
            },
        )
    })
    .to_vec();
    let broken = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&broken);
    let sink = MemorySink::new(10).failing_when(move |record, _| {
        (record.key == "C-003" && flag.load(Ordering::SeqCst))
            .then(|| RecordError::permanent("客户编码重复 sign=abc123").with_code("DUP"))
    });
    let store = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("crm-customers")
        .source(VecSource::new(customers, 2))
        .map(|r, _| {
            Ok(Some(json!({
                "FNumber": r.data.code,
                "FName": r.data.name,
                "access_token": "tok-should-not-show",
            })))
        })
        .sink(sink.clone())
        .state(Arc::clone(&store) as Arc<dyn StateStore>)
        .build()
        .expect("a complete pipeline");
    let report = pipeline.run().await.expect("the run completes");
    assert_eq!((report.written, report.dead_lettered), (3, 1));
    Setup {
        store,
        pipeline,
        sink,
        broken,
    }
}

async fn console(setup: &Setup, token: Option<&str>) -> RunningConsole {
    let mut builder = Console::builder(Arc::clone(&setup.store) as Arc<dyn StateStore>)
        .control(Arc::new(setup.pipeline.clone()))
        .title("测试 console");
    if let Some(token) = token {
        builder = builder.access_token(token);
    }
    builder
        .spawn("127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("the console starts")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("a client")
}

async fn text(response: reqwest::Response) -> String {
    response.text().await.expect("a body")
}

/// The CSRF token from a page's form.
fn csrf_of(page: &str) -> String {
    let at = page
        .find(r#"name="csrf" value=""#)
        .expect("the page has a form with a CSRF field");
    let rest = &page[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').expect("a closed attribute")].to_owned()
}

#[tokio::test]
async fn any_address_but_loopback_needs_a_token() {
    let setup = setup().await;
    let refused = Console::builder(Arc::clone(&setup.store) as Arc<dyn StateStore>)
        .spawn("0.0.0.0:0".parse().expect("an address"))
        .await
        .expect_err("no token on 0.0.0.0");
    assert!(
        matches!(refused, ConsoleError::TokenRequired(_)),
        "{refused}"
    );
    let empty = Console::builder(Arc::clone(&setup.store) as Arc<dyn StateStore>)
        .access_token("")
        .spawn("0.0.0.0:0".parse().expect("an address"))
        .await;
    assert!(empty.is_err(), "an empty token counts as none");
    let served = Console::builder(Arc::clone(&setup.store) as Arc<dyn StateStore>)
        .access_token(TOKEN)
        .spawn("0.0.0.0:0".parse().expect("an address"))
        .await
        .expect("with a token it starts");
    let url = format!("http://127.0.0.1:{}/", served.local_addr().port());
    let page = client().get(&url).send().await.expect("an answer");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_escape_record_text_and_redact_secrets() {
    let setup = setup().await;
    let console = console(&setup, None).await;
    let http = client();
    let overview = http.get(console.url()).send().await.expect("an answer");
    assert_eq!(overview.status(), StatusCode::OK);
    let csp = overview.headers()["content-security-policy"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let overview = text(overview).await;
    assert!(overview.contains("crm-customers"), "{overview}");
    assert!(overview.contains("测试 console"));

    let page = text(
        http.get(format!(
            "{}collections/crm-customers?key=C-002",
            console.url()
        ))
        .send()
        .await
        .expect("an answer"),
    )
    .await;
    assert!(!page.contains(HOSTILE), "the record's name is escaped");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("C-001"), "the key filter holds");

    let letters = text(
        http.get(format!(
            "{}pipelines/crm-customers/dead-letters",
            console.url()
        ))
        .send()
        .await
        .expect("an answer"),
    )
    .await;
    assert!(letters.contains("客户编码重复"), "{letters}");
    for secret in ["s3cr3t-value", "tok-should-not-show", "abc123"] {
        assert!(!letters.contains(secret), "{secret} reached the page");
    }
    assert!(letters.contains("sign=***"));

    let filtered = text(
        http.get(format!(
            "{}pipelines/crm-customers/dead-letters?q=timeout",
            console.url()
        ))
        .send()
        .await
        .expect("an answer"),
    )
    .await;
    assert!(filtered.contains("No dead letter matches."), "{filtered}");
}

#[tokio::test]
async fn a_token_guards_every_page_and_every_change() {
    let setup = setup().await;
    let console = console(&setup, Some(TOKEN)).await;
    let http = client();
    let base = console.url();

    let redirect = http.get(&base).send().await.expect("an answer");
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_eq!(redirect.headers()["location"], "/login?next=%2F");
    let metrics = http
        .get(format!("{base}metrics"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(metrics.status(), StatusCode::UNAUTHORIZED);
    for open in ["health", "ready"] {
        let answer = http
            .get(format!("{base}{open}"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::OK, "{open}");
    }

    let login = text(
        http.get(format!("{base}login"))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    let csrf = csrf_of(&login);
    let wrong = http
        .post(format!("{base}login"))
        .form(&[("token", "guess"), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!text(wrong).await.contains(TOKEN));
    let good = http
        .post(format!("{base}login"))
        .form(&[
            ("token", TOKEN),
            ("csrf", &csrf),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .expect("an answer");
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        good.headers()["location"],
        "/",
        "no redirect to another site"
    );
    let cookie = good.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    assert!(!cookie.contains(TOKEN), "the cookie is not the token");
    let session = cookie.split(';').next().expect("name=value").to_owned();

    let page = http
        .get(format!("{base}pipelines/crm-customers/dead-letters"))
        .header("cookie", &session)
        .send()
        .await
        .expect("an answer");
    assert_eq!(page.status(), StatusCode::OK);
    let page = text(page).await;
    assert!(!page.contains(TOKEN), "the token never reaches a page");
    let csrf = csrf_of(&page);
    let replay = format!("{base}pipelines/crm-customers/replay");

    let no_session = http
        .post(&replay)
        .form(&[("action", "all"), ("csrf", &csrf)])
        .send()
        .await
        .expect("an answer");
    assert_eq!(no_session.status(), StatusCode::UNAUTHORIZED);
    let no_csrf = http
        .post(&replay)
        .header("cookie", &session)
        .form(&[("action", "all")])
        .send()
        .await
        .expect("an answer");
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let cross_site = http
        .post(&replay)
        .header("cookie", &session)
        .header("origin", "http://evil.example")
        .form(&[("action", "all"), ("csrf", &csrf)])
        .send()
        .await
        .expect("an answer");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    // `Origin: null` (a browser's privacy setting) passes only as a
    // same-origin form.
    for (fetch_site, expected) in [
        ("same-origin", StatusCode::BAD_REQUEST),
        ("cross-site", StatusCode::FORBIDDEN),
    ] {
        let null_origin = http
            .post(&replay)
            .header("cookie", &session)
            .header("origin", "null")
            .header("sec-fetch-site", fetch_site)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .expect("an answer");
        assert_eq!(null_origin.status(), expected, "{fetch_site}");
    }
    let by_get = http
        .get(format!("{replay}?action=all&csrf={csrf}"))
        .header("cookie", &session)
        .send()
        .await
        .expect("an answer");
    assert_eq!(by_get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        setup
            .store
            .count_dead_letters("crm-customers")
            .await
            .expect("count"),
        1
    );

    // Fixed: replaying the one letter writes it, and the history says who.
    setup.broken.store(false, Ordering::SeqCst);
    let done = http
        .post(&replay)
        .bearer_auth(TOKEN)
        .form(&[("one", "C-003"), ("csrf", &csrf)])
        .send()
        .await
        .expect("an answer");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let back = done.headers()["location"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(
        setup
            .store
            .count_dead_letters("crm-customers")
            .await
            .expect("count"),
        0
    );
    assert!(setup.sink.stored().contains_key("C-003"));
    let history = setup.pipeline.history(0, 5).await.expect("history");
    assert_eq!(history[0].kind, RunKind::Replay);
    assert_eq!(history[0].operator.as_deref(), Some("console (127.0.0.1)"));
    let notice = text(
        http.get(format!("{}{}", base.trim_end_matches('/'), back))
            .header("cookie", &session)
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert!(
        notice.contains("Replayed 1 by console (127.0.0.1): 1 written"),
        "{notice}"
    );
}

#[tokio::test]
async fn a_reset_needs_the_name_typed_and_is_recorded() {
    let setup = setup().await;
    let console = console(&setup, None).await;
    let http = client();
    let base = console.url();
    let page = text(
        http.get(format!("{base}pipelines/crm-customers"))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    let csrf = csrf_of(&page);
    let reset = |confirm: &'static str| {
        let request = http
            .post(format!("{base}pipelines/crm-customers/reset"))
            .form(&[("confirm", confirm), ("csrf", csrf.as_str())]);
        async move {
            let answer = request.send().await.expect("an answer");
            answer.headers()["location"]
                .to_str()
                .expect("text")
                .to_owned()
        }
    };
    let has_checkpoint = || async {
        let checkpoint = setup.store.checkpoint("crm-customers").await;
        checkpoint.expect("read").is_some()
    };
    assert_eq!(
        reset("crm").await,
        "/pipelines/crm-customers?reset=mismatch"
    );
    assert!(has_checkpoint().await, "a wrong name resets nothing");
    assert_eq!(
        reset("crm-customers").await,
        "/pipelines/crm-customers?reset=done"
    );
    assert!(!has_checkpoint().await);
    let history = setup.pipeline.history(0, 1).await.expect("history");
    assert_eq!(history[0].kind, RunKind::Reset);
    assert!(history[0].operator.is_some());
    // The next run reads everything again; the sink upserts.
    let again = setup.pipeline.run().await.expect("a run");
    assert_eq!(again.read, 4);
    let page = text(
        http.get(format!("{base}pipelines/crm-customers"))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    assert!(
        page.contains("checkpoint reset"),
        "the history shows the reset"
    );
}

#[tokio::test]
async fn metrics_follow_prometheus_conventions() {
    let setup = setup().await;
    let console = console(&setup, None).await;
    // Runs after the recorder is installed are counted.
    setup.pipeline.run().await.expect("a run");
    let body = text(
        client()
            .get(format!("{}metrics", console.url()))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    for line in [
        "# TYPE integration_runs_total counter",
        "# TYPE integration_run_duration_seconds histogram",
        "integration_last_success_timestamp_seconds{pipeline=\"crm-customers\"}",
        "integration_run_duration_seconds_bucket{pipeline=\"crm-customers\",kind=\"run\",outcome=\"completed\",le=\"0.005\"}",
    ] {
        assert!(body.contains(line), "{line} missing from\n{body}");
    }
}

/// The API metrics: every attempt by outcome, throttled answers, retries,
/// latency, token fetches, for one system and API.
#[tokio::test]
async fn api_calls_are_counted_by_system_api_and_outcome() {
    use integration_core::auth::TokenCache;
    use integration_core::testing::{FakeServer, Fault, FaultStyle, ResponseTemplate, matchers};
    use integration_core::transport::{RawResponse, RetryPolicy, Transport};
    use integration_core::{Error, ErrorKind};
    use std::time::Duration;

    struct Style;
    impl FaultStyle for Style {
        fn throttled(&self) -> ResponseTemplate {
            ResponseTemplate::new(429)
        }
        fn auth_expired(&self) -> ResponseTemplate {
            ResponseTemplate::new(401)
        }
    }
    let setup = setup().await;
    let console = console(&setup, None).await;
    let server = FakeServer::start((), Style).await;
    server
        .route(matchers::path("/orders"), |_, _| {
            ResponseTemplate::new(200).set_body_json(json!({"ok": true}))
        })
        .await;
    server.faults().inject(Fault::Throttled, 2);
    let transport = Transport::builder("metrics-test")
        .retry(RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            jitter: false,
            max_retry_after: Duration::from_millis(2),
        })
        .build()
        .expect("a transport");
    let url = format!("{}/orders", server.uri());
    let parse = |raw: RawResponse| -> Result<Value, Error> {
        if raw.status.as_u16() == 429 {
            return Err(Error::new(
                "metrics-test",
                raw.api(),
                ErrorKind::RateLimited,
                "slow down",
            )
            .with_retryable(true));
        }
        raw.json()
    };
    let answer = transport
        .execute("order.list", |http| Ok(http.get(&url)), parse)
        .await
        .expect("the third attempt succeeds");
    assert_eq!(answer["ok"], true);
    let tokens: TokenCache<String> = TokenCache::new(Duration::ZERO).for_system("metrics-test");
    tokens
        .get(|| async { Ok::<_, Error>(("t".to_owned(), None)) })
        .await
        .expect("a token");

    let body = text(
        client()
            .get(format!("{}metrics", console.url()))
            .send()
            .await
            .expect("an answer"),
    )
    .await;
    let labels = r#"system="metrics-test",api="order.list""#;
    for line in [
        format!(r#"integration_api_requests_total{{{labels},outcome="ok"}} 1"#),
        format!(r#"integration_api_requests_total{{{labels},outcome="rate_limited"}} 2"#),
        format!("integration_api_throttled_total{{{labels}}} 2"),
        format!("integration_api_retries_total{{{labels}}} 2"),
        format!("integration_api_request_duration_seconds_count{{{labels}}} 3"),
        r#"integration_token_refreshes_total{system="metrics-test"} 1"#.to_owned(),
    ] {
        assert!(body.contains(&line), "{line} missing from\n{body}");
    }
}
