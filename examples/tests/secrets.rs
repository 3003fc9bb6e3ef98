//! Secret hygiene: each scheme (together they use all seven connectors)
//! runs against its fakes with `tracing` captured at TRACE level, with
//! faults that make the connectors re-authenticate, retry and fail
//! (expired tokens and sessions, 5xx, malformed bodies), and with every
//! error, report, dead letter and client rendered with Display and Debug.
//! Nothing captured may contain a secret: the fakes' app secrets, tokens
//! and passwords, and every token, session id, password or secret the
//! clients actually sent (taken from the requests the fakes received).
//! K/3 Cloud's password login (ValidateUser session) is covered by a
//! connector-level test of its own. See RELIABILITY.md.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use examples::runner::{Job, Progress};
use examples::schemes::{huke_to_kingdee, jdy_to_jackyun, okki_to_yonbip, xbongbong_to_kingdee};
use examples::settings::Settings;
use integration_core::testing::{Fault, Faults, Request};
use integration_core::{MemoryStore, StateStore};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn push(&self, text: &str) {
        self.0.lock().unwrap().extend_from_slice(text.as_bytes());
        self.0.lock().unwrap().push(b'\n');
    }
}

/// Installs a TRACE subscriber writing into a buffer, for this thread.
fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let buffer = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buffer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (buffer, guard)
}

/// Names under which a request carries a secret, lower case.
const SECRET_NAMES: &[&str] = &[
    "token",
    "session",
    "password",
    "secret",
    "authorization",
    "cookie",
];

fn secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|s| name.contains(s))
}

/// Every secret the clients sent: values of headers, query and body
/// fields whose name says token, session, password, secret, authorization
/// or cookie (cookie values split into their parts).
fn sent_secrets(requests: &[Request]) -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |value: &str| {
        for part in value.split(';') {
            let v = part.split_once('=').map_or(part, |(_, v)| v).trim();
            let v = v.strip_prefix("Bearer ").unwrap_or(v);
            if v.len() >= 8 {
                found.push(v.to_owned());
            }
        }
    };
    for r in requests {
        for (name, value) in &r.headers {
            if secret_name(name.as_str()) {
                add(value.to_str().unwrap_or_default());
            }
        }
        for (k, v) in r.url.query_pairs() {
            if secret_name(&k) {
                add(&v);
            }
        }
        for (k, v) in url::form_urlencoded::parse(&r.body) {
            if secret_name(&k) {
                add(&v);
            }
        }
        if let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&r.body) {
            for (k, v) in &body {
                if secret_name(k)
                    && let Some(v) = v.as_str()
                {
                    add(v);
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Faults that make clients log in again, retry and fail.
fn provoke(faults: &Faults) {
    faults.inject(Fault::AuthExpired, 1);
    faults.inject(Fault::ServerError(503), 1);
    faults.inject(Fault::Throttled, 1);
    faults.inject(Fault::Malformed, 1);
    faults.inject(Fault::AuthExpired, 1);
    faults.inject(Fault::Html, 1);
}

/// Runs the job under faults (until a run completes), then renders
/// everything it can say into the capture.
async fn run_and_render(job: &dyn Job, state: &dyn StateStore, pipelines: &[&str], out: &Capture) {
    for attempt in 0..8 {
        match job.run().await {
            Ok(reports) => {
                for r in reports {
                    out.push(&format!("{r}\n{r:?}"));
                }
                break;
            }
            Err(e) => {
                out.push(&format!("attempt {attempt}: {e}\n{e:?}"));
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    out.push(&format!("{s}\n{s:?}"));
                    source = s.source();
                }
            }
        }
    }
    if let Ok(reports) = job.replay().await {
        for r in reports {
            out.push(&format!("{r}\n{r:?}"));
        }
    }
    for p in pipelines {
        for l in state.dead_letters(p).await.unwrap() {
            out.push(&format!("{l:?}"));
        }
    }
    out.push(&format!("{:?}", job.verify().await));
}

fn assert_clean(label: &str, out: &str, secrets: &[String]) {
    assert!(!secrets.is_empty(), "{label}: no secret to look for");
    assert!(
        out.len() > 1_000,
        "{label}: too little captured ({} bytes)",
        out.len()
    );
    for s in secrets {
        if let Some(at) = out.find(s.as_str()) {
            let start = out[..at]
                .char_indices()
                .rev()
                .nth(150)
                .map_or(0, |(i, _)| i);
            let end = (at + s.len() + 150).min(out.len());
            let end = (end..=out.len())
                .find(|i| out.is_char_boundary(*i))
                .unwrap_or(out.len());
            panic!(
                "{label}: a secret ({} chars) leaked: …{}…",
                s.len(),
                &out[start..end]
            );
        }
    }
}

fn fixed(secrets: &[&str]) -> Vec<String> {
    secrets.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn xbongbong_and_kingdee_secrets_stay_out_of_logs_and_errors() {
    let (out, _guard) = capture();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = xbongbong_to_kingdee::setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden("t"),
    )
    .await
    .unwrap();
    let (xbb, k3) = (
        job.xbongbong.fake.as_ref().unwrap(),
        job.kingdee.fake.as_ref().unwrap(),
    );
    provoke(xbb.faults());
    provoke(k3.faults());
    run_and_render(
        &job,
        state.as_ref(),
        &[
            xbongbong_to_kingdee::CUSTOMERS,
            xbongbong_to_kingdee::CONTRACTS,
        ],
        &out,
    )
    .await;
    out.push(&format!(
        "{:?}\n{:?}",
        job.xbongbong.client, job.kingdee.client
    ));
    let mut secrets = fixed(&[
        xbongbong::testing::TOKEN,
        kingdee_cloud::testing::APP_SECRET,
    ]);
    secrets.extend(sent_secrets(&xbb.received().await));
    secrets.extend(sent_secrets(&k3.received().await));
    assert_clean("xbongbong-to-kingdee", &out.text(), &secrets);
}

#[tokio::test]
async fn jdy_and_jackyun_secrets_stay_out_of_logs_and_errors() {
    let (out, _guard) = capture();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = jdy_to_jackyun::setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden("t"),
    )
    .await
    .unwrap();
    let (jdy, jackyun) = (
        job.jdy.fake.as_ref().unwrap(),
        job.jackyun.fake.as_ref().unwrap(),
    );
    provoke(jdy.faults());
    provoke(jackyun.faults());
    run_and_render(&job, state.as_ref(), &[jdy_to_jackyun::NAME], &out).await;
    out.push(&format!("{:?}\n{:?}", job.jdy.client, job.jackyun.client));
    let mut secrets = fixed(&[jdy::testing::CLIENT_SECRET, jackyun::testing::SECRET]);
    {
        let s = jdy.state();
        secrets.push(s.app_secret.clone());
        secrets.extend(s.app_tokens.iter().cloned());
        secrets.extend(s.access_tokens.iter().cloned());
    }
    secrets.extend(sent_secrets(&jdy.received_on("").await));
    secrets.extend(sent_secrets(&jackyun.received().await));
    assert_clean("jdy-to-jackyun", &out.text(), &secrets);
}

#[tokio::test]
async fn okki_and_yonbip_secrets_stay_out_of_logs_and_errors() {
    let (out, _guard) = capture();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = okki_to_yonbip::setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden("t"),
    )
    .await
    .unwrap();
    let (okki, yonbip) = (
        job.okki.fake.as_ref().unwrap(),
        job.yonbip.fake.as_ref().unwrap(),
    );
    provoke(okki.faults());
    provoke(yonbip.faults());
    run_and_render(&job, state.as_ref(), &[okki_to_yonbip::NAME], &out).await;
    out.push(&format!("{:?}\n{:?}", job.okki.client, job.yonbip.client));
    let mut secrets = fixed(&[
        okki::testing::CLIENT_SECRET,
        okki::testing::PASSWORD,
        yonbip::testing::APP_SECRET,
    ]);
    secrets.extend(sent_secrets(&okki.received_on("").await));
    secrets.extend(sent_secrets(&yonbip.server().received().await));
    assert_clean("okki-to-yonbip", &out.text(), &secrets);
}

#[tokio::test]
async fn huke_and_kingdee_secrets_stay_out_of_logs_and_errors() {
    let (out, _guard) = capture();
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let job = huke_to_kingdee::setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden("t"),
    )
    .await
    .unwrap();
    let (huke, k3) = (
        job.huke.fake.as_ref().unwrap(),
        job.kingdee.fake.as_ref().unwrap(),
    );
    provoke(huke.faults());
    provoke(k3.faults());
    run_and_render(
        &job,
        state.as_ref(),
        &[huke_to_kingdee::TRADES, huke_to_kingdee::NAME],
        &out,
    )
    .await;
    out.push(&format!("{:?}\n{:?}", job.huke.client, job.kingdee.client));
    let mut secrets = fixed(&[
        netease_huke::testing::APP_SECRET,
        kingdee_cloud::testing::APP_SECRET,
    ]);
    secrets.extend(sent_secrets(&huke.received_on("").await));
    secrets.extend(sent_secrets(&k3.received().await));
    assert_clean("huke-to-kingdee", &out.text(), &secrets);
}

#[tokio::test]
async fn kingdee_password_login_secrets_stay_out_of_logs_and_errors() {
    let (out, _guard) = capture();
    let fake = kingdee_cloud::testing::FakeK3Cloud::start().await;
    let client = fake.password_client_builder().build().unwrap();
    provoke(fake.faults());
    for _ in 0..8 {
        match client.query_business_info("BD_Customer").await {
            Ok(info) => {
                out.push(&format!("{info:?}"));
                break;
            }
            Err(e) => out.push(&format!("{e}\n{e:?}")),
        }
    }
    // A wrong password: the login error is rendered too.
    let wrong = kingdee_cloud::Client::builder()
        .server_url(fake.server_url())
        .password_login(
            kingdee_cloud::testing::ACCT_ID,
            kingdee_cloud::testing::USER_NAME,
            "Wrong-Password-0xDEADBEEF",
        )
        .build()
        .unwrap();
    if let Err(e) = wrong.query_business_info("BD_Customer").await {
        out.push(&format!("{e}\n{e:?}"));
    }
    out.push(&format!("{client:?}\n{wrong:?}"));
    let mut secrets = fixed(&[
        kingdee_cloud::testing::PASSWORD,
        "Wrong-Password-0xDEADBEEF",
    ]);
    secrets.extend(sent_secrets(&fake.received().await));
    assert_clean("kingdee password login", &out.text(), &secrets);
}
