//! What the fault soaks share: the faults, their share of calls, and the
//! clients' timeout.

#![allow(dead_code)] // Each test binary uses its own part of it.

use std::time::Duration;

use integration_core::testing::{Fault, Faults};
use rand::Rng;
use rand::rngs::StdRng;

/// The share of calls that get a fault.
pub const PROBABILITY: f64 = 0.15;

/// The share of records the target rejects: K/3 Cloud models inside a
/// successful batch answer, Jackyun customers and YonBIP merchants (one per
/// call).
pub const REJECTED: f64 = 0.02;

/// The clients' request timeout in the soak (`<SYSTEM>_TIMEOUT_SECS`)...
pub const TIMEOUT_SECS: f64 = 1.0;

/// ...and a delay beyond it.
pub const BEYOND_TIMEOUT: Duration = Duration::from_millis(1_300);

/// The endpoints that issue tokens and sessions: they answer with one or
/// with rejected credentials, never "expired", so no expiry is injected
/// there (an "expired" login answer would read as wrong credentials and
/// stop the run).
pub const TOKEN_PATHS: [&str; 5] = [
    okki::auth::ACCESS_TOKEN_PATH,
    okki::auth::REFRESH_TOKEN_PATH,
    yonbip::auth::TOKEN_PATH,
    jdy::client::V1_ACCESS_TOKEN,
    kingdee_cloud::client::AUTH_SERVICE,
];

/// The faults injected at random into a fake; `expiry` adds expired
/// tokens and sessions, for systems that have them (xbongbong and Jackyun
/// sign every call with a fixed secret: for them an auth answer means
/// wrong credentials, which stops a run, not a transient fault).
pub fn choices(expiry: bool) -> Vec<Fault> {
    let mut faults = vec![
        Fault::Throttled,
        Fault::ServerError(500),
        Fault::ServerError(502),
        Fault::ServerError(503),
        Fault::Delay(Duration::from_millis(150)),
        Fault::Delay(BEYOND_TIMEOUT),
        Fault::Malformed,
        Fault::Truncated,
        Fault::Html,
        Fault::Empty,
    ];
    if expiry {
        faults.push(Fault::AuthExpired);
    }
    faults
}

/// A number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Starts random faults ([`PROBABILITY`] of the calls, [`choices`]) on every
/// fake in `faults` (with expiry where its flag says so), each seeded from
/// `rng`; token endpoints never answer "expired".
pub fn inject(faults: &[(&Faults, bool)], rng: &mut StdRng) {
    for (i, (f, expiry)) in faults.iter().enumerate() {
        for path in TOKEN_PATHS {
            f.no_expiry_on(path);
        }
        f.random(
            rng.random::<u64>() ^ i as u64,
            PROBABILITY,
            choices(*expiry),
        );
    }
}

/// The `FNumber`s of K/3 Cloud's customers, asserting that none is there
/// twice (a record written twice under a fault or a kill).
pub fn customer_numbers(k3: &kingdee_cloud::testing::FakeK3Cloud, label: &str) -> Vec<String> {
    let numbers: Vec<String> = k3
        .records("BD_Customer")
        .iter()
        .map(|c| c["FNumber"].as_str().unwrap_or_default().to_owned())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(
        distinct.len(),
        numbers.len(),
        "{label}: a customer is in K/3 Cloud twice"
    );
    numbers
}
