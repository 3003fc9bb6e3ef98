//! The OKKI → YonBIP scheme as the benchmarks run it (list-then-detail: one
//! `company/info` call per company, then a merchant lookup and a save per
//! company): seeding the fake, the project's pipeline (as
//! `examples::schemes::okki_to_yonbip` builds it) and the simplest correct
//! sequential loop over the same SDK clients.

// A benchmark that goes wrong panics its child process, which the parent
// reports with the child's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use examples::schemes::okki_to_yonbip::{MerchantDefaults, mapper, merchant_code, to_merchant};
use futures::TryStreamExt;
use integration_core::transport::RateLimit;
use integration_core::types::BeijingTime;
use integration_core::{Pipeline, StateStore};
use okki::testing::FakeOkki;
use okki::{CompanyQuery, CompanySource};
use yonbip::MerchantSink;
use yonbip::testing::FakeYonBip;

/// Seeds `companies` companies with contacts; returns their merchant codes,
/// the merchants YonBIP must end with.
pub fn seed(okki: &FakeOkki, companies: usize) -> HashSet<String> {
    okki.seed_demo(companies);
    let state = okki.state();
    state
        .companies
        .values()
        .map(|stored| {
            let data = serde_json::Value::Object(stored.data.clone());
            let company: okki::Company = serde_json::from_value(data).unwrap();
            merchant_code(&company)
        })
        .collect()
}

/// The merchant codes in the fake YonBIP.
pub fn merchant_codes(yonbip: &FakeYonBip) -> Vec<String> {
    yonbip
        .state()
        .merchants()
        .iter()
        .filter_map(|m| m.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

fn clients(
    okki_url: &str,
    yonbip_url: &str,
    limit: Option<RateLimit>,
) -> (okki::Client, yonbip::Client) {
    let okki = okki::Client::builder()
        .base_url(okki_url)
        .credentials(FakeOkki::credentials())
        .rate_limit(limit)
        .build()
        .unwrap();
    let (app_key, app_secret) = FakeYonBip::credentials();
    let yonbip = yonbip::Client::builder()
        .app_key(app_key)
        .app_secret(app_secret)
        .tenant_id(yonbip::testing::TENANT_ID)
        .base_url(yonbip_url)
        .rate_limit(limit)
        .build()
        .unwrap();
    (okki, yonbip)
}

/// The scheme's pipeline with its state in `state` and each client limited
/// to `limit` (`None`: no client-side limit); returns the records read.
pub async fn pipeline(
    okki_url: &str,
    yonbip_url: &str,
    state: Arc<dyn StateStore>,
    limit: Option<RateLimit>,
) -> u64 {
    let (okki, yonbip) = clients(okki_url, yonbip_url, limit);
    let pipeline = Pipeline::builder("okki-to-yonbip")
        .source(CompanySource::new(okki))
        .mapper(mapper(MerchantDefaults::default()))
        .sink(MerchantSink::new(yonbip))
        .state(state)
        .build()
        .unwrap();
    let report = pipeline.run().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    report.read
}

/// The simplest correct sequential loop over the SDK clients: page through
/// every company, fetch each one's detail, map it with the scheme's
/// mapping, look its merchant up by code and update or insert it. One call
/// at a time. Returns the companies read.
pub async fn by_hand(okki_url: &str, yonbip_url: &str) -> u64 {
    let (okki, yonbip) = clients(okki_url, yonbip_url, None);
    let defaults = MerchantDefaults::default();
    let since = BeijingTime::parse("2000-01-01 00:00:00").unwrap();
    let query = CompanyQuery::new()
        .page_size(100)
        .updated_between(Some(since), None);
    let companies = okki.companies();
    let merchants = yonbip.merchants();
    let rows: Vec<_> = companies.stream(query).try_collect().await.unwrap();
    for row in &rows {
        let company = companies.get(&row.company_id).await.unwrap();
        let mut merchant = to_merchant(&company, &defaults).unwrap();
        let code = merchant.code.clone().unwrap();
        match merchants.find_by_code(&code).await.unwrap() {
            Some(existing) => {
                merchant.id = existing.id;
                merchants.update(&merchant).await.unwrap();
            }
            None => {
                merchants.create(&merchant).await.unwrap();
            }
        }
    }
    rows.len() as u64
}
