//! Write-back into a company custom field, through a pipeline against the
//! fake: each company gets the target's code, the push carries only that
//! field (no contact changes), and the next run sends nothing.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::Arc;

use integration_core::memory::MemorySink;
use integration_core::{MemoryStore, Pipeline, StateStore};
use okki::testing::{FakeOkki, MERCHANT_CODE_FIELD_ID};
use okki::{CompanyFieldWriteBack, CompanySource};
use serde_json::{Value, json};

#[tokio::test]
async fn companies_get_the_target_code_once_and_keep_their_contacts() {
    let fake = FakeOkki::start().await;
    fake.seed_demo(9);
    let contacts_before: Vec<usize> = fake
        .state()
        .companies
        .values()
        .map(|c| c.customers.len())
        .collect();
    let client = fake.client_builder().build().unwrap();
    let sink = MemorySink::<Value>::new(10);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("companies")
        .source(CompanySource::new(client.clone()))
        .map(|r, _| Ok(Some(json!({ "code": format!("M-{}", r.data.company_id) }))))
        .sink(sink)
        .state(Arc::clone(&state))
        .write_back_with(
            CompanyFieldWriteBack::new(client, MERCHANT_CODE_FIELD_ID),
            |_, mapped: &Value| mapped["code"].as_str().map(str::to_owned),
        )
        .build()
        .unwrap();

    let first = pipeline.run().await.unwrap();
    assert_eq!((first.written, first.written_back), (9, 9), "{first}");
    {
        let state = fake.state();
        for (id, company) in &state.companies {
            assert_eq!(company.data[MERCHANT_CODE_FIELD_ID], format!("M-{id}"));
        }
        let after: Vec<usize> = state
            .companies
            .values()
            .map(|c| c.customers.len())
            .collect();
        assert_eq!(after, contacts_before, "no contact changed");
    }
    let pushes = fake
        .received_on("/v1/company/pushCompanyAndCustomers")
        .await;
    assert_eq!(pushes.len(), 9);
    let body: Value = serde_json::from_slice(&pushes[0].body).unwrap();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, [MERCHANT_CODE_FIELD_ID, "company_id", "customers"]);
    assert!(
        body["company_id"].is_i64(),
        "the id goes as a number: {body}"
    );

    // The pushes changed update_time: the next run reads the companies
    // again and finds the codes in place.
    let second = pipeline.run().await.unwrap();
    assert!(second.read >= 9, "{second}");
    assert_eq!(second.written_back, 0);
    assert_eq!(second.write_back_unchanged, second.written);
    assert_eq!(
        fake.received_on("/v1/company/pushCompanyAndCustomers")
            .await
            .len(),
        9,
        "no push the second time"
    );
}

#[tokio::test]
async fn writing_back_while_paging_skips_no_company() {
    use integration_core::Source;
    let fake = FakeOkki::start().await;
    fake.seed_demo(23);
    let client = fake.client_builder().build().unwrap();
    let source = CompanySource::new(client.clone())
        .page_size(5)
        .include_deleted(false);
    let back = CompanyFieldWriteBack::new(client, MERCHANT_CODE_FIELD_ID);
    // As the pipeline does: each page's companies are written back before
    // the next page is read. The fake's clock is an hour ahead, so every
    // company written back leaves the run's window (as one written back a
    // second after the run started does) and the list shrinks each page.
    fake.state().clock = Some(
        (chrono::Utc::now() + chrono::Duration::hours(1))
            .with_timezone(&integration_core::types::beijing())
            .naive_local(),
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = None;
    let mut reads = 0;
    loop {
        let page = source.read(None, cursor).await.unwrap();
        reads += 1;
        for record in &page.records {
            seen.insert(record.key.clone());
            let record = integration_core::WriteBackRecord {
                key: record.key.clone(),
                source: record.data.clone(),
                value: format!("M-{}", record.key),
            };
            integration_core::WriteBack::write_back(&back, &record)
                .await
                .unwrap();
        }
        let Some(next) = page.next else { break };
        cursor = Some(next);
        assert!(reads < 100, "the read ends");
    }
    let live: std::collections::BTreeSet<String> = fake
        .state()
        .companies
        .iter()
        .filter(|(_, c)| !c.deleted)
        .map(|(id, _)| id.to_string())
        .collect();
    let missed: Vec<&String> = live.difference(&seen).collect();
    assert!(missed.is_empty(), "missed {missed:?} in {reads} reads");
}
