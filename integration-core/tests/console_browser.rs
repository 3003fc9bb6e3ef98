//! The operations console in a real browser (headless Chromium through
//! chromedriver and `fantoccini`), the way an operator uses it.
//!
//! A `crm-customers` pipeline copies Chinese customer records (one of them
//! hostile HTML) into a sink that refuses `C-003` ("客户编码重复") while a
//! "broken" flag is on, so one run leaves one dead letter. The console
//! over its store, with an access token, must then:
//!
//! 1. send a visitor to the login form and, with the token, show the
//!    overview with the pipeline's last run;
//! 2. show the run's report with the counts of the pipeline's `RunReport`;
//! 3. list the dead letter with its Chinese error and pretty source record;
//! 4. replay it from its row once the sink is fixed: the banner says so,
//!    the row, the stored dead letter are gone, the sink holds the record
//!    and the history names the operator `console (127.0.0.1)`;
//! 5. keep page scripts from calling home (its CSP blocks `fetch`), and,
//!    that CSP bypassed through DevTools, refuse changes without the
//!    session (401) or without the CSRF token (403); redirect anonymous
//!    pages to `/login`; serve `/metrics` to a bearer token only;
//! 6. show the hostile record as text: no script of it runs, no alert;
//! 7. at phone width (390 px), with a fresh dead letter, never make the
//!    page itself scroll sideways.
//!
//! Screenshots of every step land in `$CONSOLE_SCREENSHOTS` or
//! `target/console-screenshots`. Without Chromium the test says it skipped
//! (and fails under `CI=true`).

use std::io::Write as _;
use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::elements::Element;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use integration_core::console::Console;
use integration_core::memory::{MemorySink, VecSource};
use integration_core::state::RunKind;
use integration_core::{MemoryStore, Pipeline, RecordError, RunReport, SourceRecord, StateStore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const PIPELINE: &str = "crm-customers";
const TOKEN: &str = "ops-console-token-4f9c2e";
/// The record the sink refuses while broken.
const BROKEN_KEY: &str = "C-003";
/// A record pushed late, refused too, so the phone view has a dead letter.
const LATE_KEY: &str = "C-007";
const HOSTILE_KEY: &str = "C-666";
const HOSTILE_NAME: &str =
    r#"<script>window.__pwned=1;alert(1)</script><img src=x onerror="window.__pwned=2">"#;
const DUPLICATE_ERROR: &str = "客户编码重复：目标系统中已存在相同编码的客户";
const DUPLICATE_CODE: &str = "CRM-4091";
/// How long any element, page or server may take to appear.
const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Customer {
    code: String,
    name: String,
    contact: String,
    city: String,
    /// Money as the CRM sends it: text.
    credit_limit: String,
}

fn customer(
    code: &str,
    name: &str,
    contact: &str,
    city: &str,
    limit: &str,
) -> SourceRecord<Customer> {
    SourceRecord::upsert(
        code,
        Customer {
            code: code.to_owned(),
            name: name.to_owned(),
            contact: contact.to_owned(),
            city: city.to_owned(),
            credit_limit: limit.to_owned(),
        },
    )
}

fn customers() -> Vec<SourceRecord<Customer>> {
    vec![
        customer(
            "C-001",
            "北京中关村科技发展有限公司",
            "李四",
            "北京",
            "500000.00",
        ),
        customer("C-002", "广州白云电器股份有限公司", "王五", "广州", "80000"),
        customer(
            BROKEN_KEY,
            "上海华东贸易有限公司",
            "赵六",
            "上海",
            "¥1,250,000.00",
        ),
        customer("C-004", "张三", "张三", "杭州", "0.00"),
        customer(
            "C-005",
            "深圳前海供应链管理有限公司",
            "钱七",
            "深圳",
            "320000.50",
        ),
        customer("C-006", "成都天府茶叶合作社", "孙八", "成都", "15000"),
        customer(
            HOSTILE_KEY,
            HOSTILE_NAME,
            "<b>bold</b>",
            "\"; DROP TABLE",
            "1",
        ),
    ]
}

/// Where the browser binaries are.
struct Browsers {
    driver: PathBuf,
    chromium: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn find_browsers() -> Option<Browsers> {
    let driver = on_path("chromedriver").or_else(|| {
        let p = PathBuf::from("/usr/bin/chromedriver");
        p.is_file().then_some(p)
    })?;
    let chromium = Some(PathBuf::from("/usr/bin/chromium"))
        .filter(|p| p.is_file())
        .or_else(|| on_path("chromium"))
        .or_else(|| on_path("chromium-browser"))?;
    Some(Browsers { driver, chromium })
}

/// A chromedriver child process, killed (and its profile folder removed)
/// on drop, also when the test panics.
struct ChromeDriver {
    child: Child,
    port: u16,
    profile: PathBuf,
}

impl ChromeDriver {
    async fn start(driver: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free local port for chromedriver")
            .port();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let profile =
            std::env::temp_dir().join(format!("console-browser-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&profile).expect("create a fresh Chromium profile folder");
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let mut me = Self {
            child,
            port,
            profile,
        };
        me.wait_ready().await;
        me
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits (bounded) until `/status` says ready.
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            if let Ok(answer) = http.get(&status).send().await
                && let Ok(body) = answer.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer {status} within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One line straight to the process's stderr: past the test harness's
/// capture, so that `cargo test` shows it.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The folder the screenshots go to (created).
fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("CONSOLE_SCREENSHOTS")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots"),
            PathBuf::from,
        );
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir.canonicalize().unwrap_or(dir)
}

/// Everything the browser steps look at.
struct World {
    base: String,
    shots: PathBuf,
    report: RunReport,
    broken: Arc<AtomicBool>,
    source: VecSource<Customer>,
    sink: MemorySink<Value>,
    store: Arc<dyn StateStore>,
    pipeline: Pipeline<VecSource<Customer>, MemorySink<Value>>,
}

impl World {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_works_in_a_real_browser() {
    let Some(browsers) = find_browsers() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "console_browser: Chromium or chromedriver not found (looked on PATH and at \
                 /usr/bin/chromium, /usr/bin/chromedriver); CI must install chromium chromium-driver"
            );
        }
        say(
            "console_browser: SKIPPED — Chromium not found; apt-get install chromium chromium-driver to run this test",
        );
        return;
    };
    let started = Instant::now();

    // The pipeline, its broken sink, one run.
    let broken = Arc::new(AtomicBool::new(true));
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let source = VecSource::new(customers(), 3);
    let flag = Arc::clone(&broken);
    let sink = MemorySink::<Value>::new(50).failing_when(move |record, _attempt| {
        let refused = record.key == BROKEN_KEY || record.key == LATE_KEY;
        (refused && flag.load(Ordering::SeqCst))
            .then(|| RecordError::permanent(DUPLICATE_ERROR).with_code(DUPLICATE_CODE))
    });
    let pipeline = Pipeline::builder(PIPELINE)
        .source(source.clone())
        .map(|r, _ctx| {
            Ok(Some(json!({
                "FNumber": r.data.code,
                "FName": r.data.name,
                "FContact": r.data.contact,
                "FCity": r.data.city,
                "FCreditLimit": r.data.credit_limit,
            })))
        })
        .sink(sink.clone())
        .state(Arc::clone(&store))
        .build()
        .expect("build the crm-customers pipeline");
    let report = pipeline.run().await.expect("the first run completes");
    assert_eq!(
        (report.read, report.written, report.dead_lettered),
        (7, 6, 1),
        "the run reads all, writes all but {BROKEN_KEY}: {report:?}"
    );

    let console = Console::builder(Arc::clone(&store))
        .control(Arc::new(pipeline.clone()))
        .access_token(TOKEN)
        .title("CRM 同步 · 运维控制台")
        .spawn("127.0.0.1:0".parse().expect("a socket address"))
        .await
        .expect("the console starts");

    let shots = screenshot_dir();
    say(&format!(
        "console_browser: screenshots in {}",
        shots.display()
    ));

    let driver = ChromeDriver::start(&browsers.driver).await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": browsers.chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", driver.profile.display()),
                "--window-size=1280,900",
            ],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url())
        .await
        .expect("a Chromium session through chromedriver");

    let world = World {
        base: console.url(),
        shots,
        report,
        broken,
        source,
        sink,
        store,
        pipeline,
    };
    // Close the session whatever happens, then report the failure if any.
    let outcome = AssertUnwindSafe(browse(&client, &world))
        .catch_unwind()
        .await;
    let closed = client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.expect("close the browser session");
    console.shut_down().await;
    say(&format!(
        "console_browser: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}

async fn browse(client: &Client, world: &World) {
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(WAIT),
            Some(WAIT),
            Some(Duration::ZERO),
        ))
        .await
        .expect("set the session's timeouts");
    login_and_overview(client, world).await;
    run_page(client, world).await;
    dead_letters(client, world).await;
    replay(client, world).await;
    refusals(client, world).await;
    hostile_record(client, world).await;
    phone_width(client, world).await;
}

/// Step 1: the login form, then the overview.
async fn login_and_overview(client: &Client, world: &World) {
    client.goto(&world.base).await.expect("open the console");
    let token = wait_for(
        client,
        Locator::Css("form[action='/login'] input[name=token]"),
    )
    .await;
    assert_eq!(
        path(client).await,
        "/login",
        "an anonymous visitor lands on the login form"
    );
    assert_eq!(
        token
            .attr("type")
            .await
            .expect("the token's type")
            .as_deref(),
        Some("password")
    );
    shot(client, world, "00-login.png").await;
    token.send_keys(TOKEN).await.expect("type the token");
    client
        .find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .expect("the login button")
        .click()
        .await
        .expect("log in");
    wait_path(client, |p| p == "/").await;
    let row = wait_for(client, Locator::XPath(&row_with_link(PIPELINE))).await;
    let cells = cell_texts(&row).await;
    let report = &world.report;
    assert!(
        cells[1].contains("completed with failures"),
        "last run's outcome: {cells:?}"
    );
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let started = report
        .started_at
        .with_timezone(&china)
        .format("%Y-%m-%d %H:%M:%S");
    assert!(
        cells[1].contains(&format!("{started} +08:00")),
        "started (UTC+8): {cells:?}"
    );
    assert_eq!(
        (&cells[3], &cells[4], &cells[6], &cells[7]),
        (
            &report.read.to_string(),
            &report.written.to_string(),
            &report.dead_lettered.to_string(),
            &"1".to_owned()
        ),
        "read, written, dead-lettered, dead letters now: {cells:?}"
    );
    shot(client, world, "01-overview.png").await;
}

/// Step 2: the pipeline's history, then its run's report.
async fn run_page(client: &Client, world: &World) {
    client
        .find(Locator::XPath(&format!(
            "{}/td[1]/a",
            row_with_link(PIPELINE)
        )))
        .await
        .expect("the pipeline's link")
        .click()
        .await
        .expect("open the pipeline");
    wait_path(client, |p| p == "/pipelines/crm-customers").await;
    let runs = client
        .find_all(Locator::Css("main table tbody a[href*='/runs/']"))
        .await
        .expect("the history's run links");
    assert_eq!(runs.len(), 1, "one run so far");
    runs[0].click().await.expect("open the run");
    wait_path(client, |p| p.starts_with("/pipelines/crm-customers/runs/")).await;
    let history = world.pipeline.history(0, 10).await.expect("the history");
    let run = history
        .iter()
        .find(|r| r.kind == RunKind::Run)
        .expect("the run in the history");
    assert!(
        path(client).await.ends_with(&run.id),
        "the link leads to run {}",
        run.id
    );
    let report = &world.report;
    assert_eq!(fact(client, "Read").await, report.read.to_string());
    assert!(
        fact(client, "Written")
            .await
            .starts_with(&format!("{} (", report.written)),
        "written"
    );
    assert_eq!(
        fact(client, "Dead-lettered").await,
        report.dead_lettered.to_string()
    );
    assert_eq!(fact(client, "Pages").await, report.pages.to_string());
    let errors = client
        .find(Locator::XPath(
            "//h2[normalize-space()='First errors']/following-sibling::div[1]",
        ))
        .await
        .expect("the first errors")
        .text()
        .await
        .expect("their text");
    assert!(
        errors.contains(BROKEN_KEY) && errors.contains("客户编码重复"),
        "first errors: {errors}"
    );
    shot(client, world, "02-run.png").await;
}

/// Step 3: the dead letter, its Chinese error and its source record.
async fn dead_letters(client: &Client, world: &World) {
    client
        .goto(&world.url("/pipelines/crm-customers/dead-letters"))
        .await
        .expect("open the dead letters");
    let row = wait_for(client, Locator::XPath(&row_with_key(BROKEN_KEY))).await;
    let error = row
        .find(Locator::Css("td.error"))
        .await
        .expect("the error cell")
        .text()
        .await
        .expect("the error");
    assert!(
        error.contains(DUPLICATE_ERROR),
        "the Chinese error text: {error}"
    );
    let text = row.text().await.expect("the row's text");
    assert!(text.contains(DUPLICATE_CODE), "the error code: {text}");
    let details = row
        .find(Locator::Css("details.json"))
        .await
        .expect("the source record");
    let summary = details
        .find(Locator::Css("summary"))
        .await
        .expect("its summary");
    assert!(
        summary
            .text()
            .await
            .expect("summary text")
            .contains("source record"),
        "the first fold is the source record"
    );
    summary.click().await.expect("open the source record");
    assert!(
        details
            .attr("open")
            .await
            .expect("open attribute")
            .is_some(),
        "the fold opened"
    );
    let json = folded_json(&details).await;
    assert!(
        json.contains("\"name\": \"上海华东贸易有限公司\"")
            && json.contains("\"credit_limit\": \"¥1,250,000.00\""),
        "pretty JSON with the Chinese name: {json}"
    );
    assert!(
        json.lines().count() > 3,
        "pretty-printed, one field a line: {json}"
    );
    shot(client, world, "03-dead-letters.png").await;
}

/// Step 4: fix the sink, replay the row.
async fn replay(client: &Client, world: &World) {
    world.broken.store(false, Ordering::SeqCst);
    let button = client
        .find(Locator::XPath(&format!(
            "{}//button[@name='one']",
            row_with_key(BROKEN_KEY)
        )))
        .await
        .expect("the row's Replay button");
    assert_eq!(
        button.attr("value").await.expect("its value").as_deref(),
        Some(BROKEN_KEY)
    );
    assert_eq!(button.text().await.expect("its label"), "Replay");
    button.click().await.expect("replay C-003");
    wait_path(client, |p| p == "/pipelines/crm-customers/dead-letters").await;
    let notice = wait_for(client, Locator::Css("main .notice")).await;
    let class = notice
        .attr("class")
        .await
        .expect("the banner's class")
        .unwrap_or_default();
    let said = notice.text().await.expect("the banner's text");
    assert!(
        class.split_whitespace().any(|c| c == "good"),
        "a good banner: {class} {said}"
    );
    assert!(
        said.contains("Replayed 1")
            && said.contains("1 written")
            && said.contains("console (127.0.0.1)"),
        "the banner says what was replayed: {said}"
    );
    let rows = client
        .find_all(Locator::XPath(&row_with_key(BROKEN_KEY)))
        .await
        .expect("look for the row");
    assert!(rows.is_empty(), "no row for {BROKEN_KEY} after the replay");
    let stored = world.sink.stored();
    assert_eq!(
        stored.get(BROKEN_KEY).map(|r| r["FName"].clone()),
        Some(json!("上海华东贸易有限公司")),
        "the sink holds {BROKEN_KEY}"
    );
    assert!(
        world
            .store
            .dead_letters(PIPELINE)
            .await
            .expect("the dead letters")
            .is_empty()
    );
    let history = world.pipeline.history(0, 10).await.expect("the history");
    let replay = history
        .iter()
        .find(|r| r.kind == RunKind::Replay)
        .expect("a replay in the history");
    assert_eq!(replay.operator.as_deref(), Some("console (127.0.0.1)"));
    assert_eq!((replay.report.read, replay.report.written), (1, 1));
    let url = client.current_url().await.expect("the URL");
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "replayed" && v == replay.id.as_str()),
        "redirected with ?replayed={}: {url}",
        replay.id
    );
    shot(client, world, "04-replayed.png").await;
}

/// Step 5: changes without the session or the CSRF token, pages without
/// the token, metrics with it.
async fn refusals(client: &Client, world: &World) {
    let runs_before = world
        .pipeline
        .history(0, 100)
        .await
        .expect("the history")
        .len();
    // The console's CSP (`default-src 'none'`, so no `connect-src`) stops
    // any script of the page from calling home at all.
    let blocked = client
        .execute_async(&post_replay("omit"), vec![])
        .await
        .expect("a fetch under the console's CSP");
    assert_eq!(
        blocked["error"],
        json!("TypeError: Failed to fetch"),
        "the CSP forbids fetch() from the page: {blocked}"
    );
    // To see what the server itself answers, let this page bypass its CSP
    // (DevTools; the next navigation restores it).
    cdp(client, "Page.setBypassCSP", json!({ "enabled": true })).await;
    client.refresh().await.expect("reload without the CSP");
    let anonymous = client
        .execute_async(&post_replay("omit"), vec![])
        .await
        .expect("POST without cookie");
    assert_eq!(
        anonymous["status"],
        json!(401),
        "a POST without the session: {anonymous}"
    );
    let no_csrf = client
        .execute_async(&post_replay("same-origin"), vec![])
        .await
        .expect("POST without CSRF");
    assert_eq!(
        no_csrf["status"],
        json!(403),
        "a POST with the session but no CSRF token: {no_csrf}"
    );
    assert!(
        no_csrf["body"].as_str().is_some_and(|b| b.contains("CSRF")),
        "refused for the missing CSRF token: {no_csrf}"
    );
    cdp(client, "Page.setBypassCSP", json!({ "enabled": false })).await;

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    let posted = http
        .post(world.url("/pipelines/crm-customers/replay"))
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body("action=all")
        .send()
        .await
        .expect("POST replay");
    assert_eq!(posted.status(), reqwest::StatusCode::UNAUTHORIZED);
    let page = http.get(&world.base).send().await.expect("GET /");
    assert!(
        page.status().is_redirection(),
        "GET / without the token: {}",
        page.status()
    );
    let location = page
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    assert!(
        location.starts_with("/login"),
        "redirected to the login form: {location}"
    );
    let metrics = http
        .get(world.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(
        metrics.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "metrics need the token"
    );
    let metrics = http
        .get(world.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET /metrics with the token");
    assert_eq!(metrics.status(), reqwest::StatusCode::OK);
    let body = metrics.text().await.expect("the metrics");
    assert!(
        body.contains("integration_records_read_total"),
        "metrics: {body}"
    );

    let runs_after = world
        .pipeline
        .history(0, 100)
        .await
        .expect("the history")
        .len();
    assert_eq!(
        runs_before, runs_after,
        "no refused request replayed anything"
    );
}

/// Step 6: the hostile record is text, never markup.
async fn hostile_record(client: &Client, world: &World) {
    client
        .goto(&world.url(&format!("/collections/crm-customers?key={HOSTILE_KEY}")))
        .await
        .expect("search the collection");
    let row = wait_for(client, Locator::XPath(&row_with_key(HOSTILE_KEY))).await;
    let details = row
        .find(Locator::Css("details.json"))
        .await
        .expect("the source data");
    details
        .find(Locator::Css("summary"))
        .await
        .expect("its summary")
        .click()
        .await
        .expect("open the source data");
    let json = folded_json(&details).await;
    assert!(
        json.contains("<script>window.__pwned=1"),
        "the name shown as text: {json}"
    );
    let page = client
        .find(Locator::Css("body"))
        .await
        .expect("the body")
        .text()
        .await
        .expect("the page's text");
    assert!(
        page.contains("<script>window.__pwned=1;alert(1)</script>"),
        "rendered as text"
    );
    assert_eq!(
        client
            .execute("return typeof window.__pwned", vec![])
            .await
            .expect("run a script"),
        json!("undefined"),
        "no script of the record ran"
    );
    assert!(client.get_alert_text().await.is_err(), "no alert is open");
    let scripts = client
        .execute(
            "return [...document.scripts].map(s => s.getAttribute('src'))",
            vec![],
        )
        .await
        .expect("list the scripts");
    assert_eq!(
        scripts,
        json!(["/assets/console.js"]),
        "the console's one script only"
    );
    let images = client
        .execute("return document.images.length", vec![])
        .await
        .expect("count the images");
    assert_eq!(images, json!(0), "the record's <img> is no element");
    shot(client, world, "05-hostile.png").await;
}

/// Step 7: at phone width nothing scrolls the page sideways.
async fn phone_width(client: &Client, world: &World) {
    // One more refused record, so the phone sees a dead letters table.
    world.broken.store(true, Ordering::SeqCst);
    world.source.push(customer(
        LATE_KEY,
        "内蒙古自治区呼和浩特市赛罕区草原绿色食品进出口贸易有限责任公司",
        "周九",
        "呼和浩特",
        "2,000,000.00",
    ));
    let late = world
        .pipeline
        .run()
        .await
        .expect("the second run completes");
    assert_eq!(
        (late.read, late.dead_lettered),
        (1, 1),
        "the late record: {late:?}"
    );

    client
        .set_window_size(390, 844)
        .await
        .expect("phone window size");
    client.goto(&world.base).await.expect("open the overview");
    wait_for(client, Locator::XPath(&row_with_link(PIPELINE))).await;
    let width = client
        .execute("return window.innerWidth", vec![])
        .await
        .expect("innerWidth");
    assert!(
        width.as_u64().is_some_and(|w| w <= 400),
        "the viewport is phone sized: {width}"
    );
    no_sideways_scroll(client, "the overview").await;
    shot(client, world, "06-phone-overview.png").await;

    client
        .goto(&world.url("/pipelines/crm-customers/dead-letters"))
        .await
        .expect("open the dead letters");
    wait_for(client, Locator::XPath(&row_with_key(LATE_KEY))).await;
    no_sideways_scroll(client, "the dead letters").await;
    shot(client, world, "07-phone-dead-letters.png").await;
}

async fn no_sideways_scroll(client: &Client, page: &str) {
    let widths = client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .expect("measure the page");
    let (scroll, inner) = (widths[0].as_f64(), widths[1].as_f64());
    assert!(
        matches!((scroll, inner), (Some(s), Some(i)) if s <= i + 1.0),
        "{page} scrolls sideways at phone width: scrollWidth, innerWidth = {widths}"
    );
}

/// A script for `execute_async`: POSTs "replay all" from the page, without
/// a CSRF field, and answers `{status, body}` or `{error}`.
fn post_replay(credentials: &str) -> String {
    format!(
        "const done = arguments[arguments.length - 1];
         fetch('/pipelines/crm-customers/replay', {{method: 'POST', credentials: '{credentials}',
           headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: 'action=all'}})
           .then(r => r.text().then(body => done({{status: r.status, body}})))
           .catch(e => done({{error: String(e)}}));"
    )
}

/// A Chrome DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (reqwest::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (reqwest::Method::POST, Some(body.to_string()))
    }
}

async fn cdp(client: &Client, cmd: &'static str, params: Value) {
    client
        .issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("DevTools {cmd}: {e}"));
}

/// The overview row whose first cell links to `name`.
fn row_with_link(name: &str) -> String {
    format!("//main//table/tbody/tr[td[1]/a[normalize-space()='{name}']]")
}

/// The table row whose key cell is `key`.
fn row_with_key(key: &str) -> String {
    format!(
        "//main//table/tbody/tr[td[contains(concat(' ', @class, ' '), ' key ') and normalize-space()='{key}']]"
    )
}

/// The value of a run's fact (`<dt>` → `<dd>`).
async fn fact(client: &Client, name: &str) -> String {
    client
        .find(Locator::XPath(&format!(
            "//dl[contains(@class, 'facts')]/dt[normalize-space()='{name}']/following-sibling::dd[1]"
        )))
        .await
        .unwrap_or_else(|e| panic!("the run page has no {name:?}: {e}"))
        .text()
        .await
        .expect("the fact's text")
        .trim()
        .to_owned()
}

/// The pretty JSON inside an opened fold.
async fn folded_json(details: &Element) -> String {
    let pre = details.find(Locator::Css("pre")).await.expect("the JSON");
    pre.text().await.expect("its text")
}

async fn cell_texts(row: &Element) -> Vec<String> {
    let mut texts = Vec::new();
    for cell in row
        .find_all(Locator::Css("td"))
        .await
        .expect("the row's cells")
    {
        texts.push(cell.text().await.expect("a cell's text").trim().to_owned());
    }
    texts
}

async fn wait_for(client: &Client, locator: Locator<'_>) -> Element {
    let shown = format!("{locator:?}");
    match client.wait().at_most(WAIT).for_element(locator).await {
        Ok(element) => element,
        Err(e) => {
            let url = client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            panic!("{shown} did not appear on {url} within {WAIT:?}: {e}")
        }
    }
}

async fn path(client: &Client) -> String {
    client
        .current_url()
        .await
        .expect("the current URL")
        .path()
        .to_owned()
}

/// Waits (bounded) until the browser's path satisfies `ok`.
async fn wait_path(client: &Client, ok: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = path(client).await;
        if ok(&now) {
            return;
        }
        if Instant::now() >= deadline {
            let text = client
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("still on {now} after {WAIT:?}; the page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a screenshot of the viewport; it must be a non-empty PNG.
async fn shot(client: &Client, world: &World, name: &str) {
    let png = client.screenshot().await.expect("take a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    let file = world.shots.join(name);
    std::fs::write(&file, &png).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    let size = std::fs::metadata(&file).map_or(0, |m| m.len());
    assert!(size > 1_000, "{} is empty ({size} bytes)", file.display());
}
