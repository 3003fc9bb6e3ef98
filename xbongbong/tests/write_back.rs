//! Write-back into a customer field, through a pipeline against the fake:
//! each customer gets the target's number in `text_5`, only that attr is
//! sent, and the next run (which reads the edited customers again) sends
//! nothing.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::Arc;

use integration_core::memory::MemorySink;
use integration_core::{MemoryStore, Pipeline, StateStore};
use serde_json::{Value, json};
use xbongbong::records::Module;
use xbongbong::testing::{CUSTOMER_FORM_ID, FakeXbongbong};
use xbongbong::{FieldWriteBack, Record, RecordSource};

fn number(record: &Record) -> String {
    format!("K3-{}", record.data_id)
}

#[tokio::test]
async fn customers_get_the_target_number_once() {
    let fake = FakeXbongbong::start().await;
    let ids = fake.seed_customers(12);
    let client = fake.client();
    let sink = MemorySink::<Value>::new(50);
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::builder("customers")
        .source(RecordSource::customers(client.clone(), CUSTOMER_FORM_ID))
        .map(|r, _| Ok(Some(json!({ "FNumber": number(&r.data) }))))
        .sink(sink.clone())
        .state(Arc::clone(&state))
        .write_back_with(
            FieldWriteBack::new(client, Module::Customer, CUSTOMER_FORM_ID, "text_5"),
            |_, mapped: &Value| mapped["FNumber"].as_str().map(str::to_owned),
        )
        .build()
        .unwrap();

    let first = pipeline.run().await.unwrap();
    assert_eq!((first.written, first.written_back), (12, 12), "{first}");
    for record in fake.records("customer") {
        assert_eq!(
            record.data["text_5"],
            format!("K3-{}", record.data_id),
            "customer {} holds its number",
            record.data_id
        );
        assert!(ids.contains(&record.data_id));
    }
    let edits: Vec<Value> = fake
        .received_on("/customer/edit")
        .await
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap()["dataList"].clone())
        .collect();
    assert_eq!(edits.len(), 12);
    assert_eq!(
        edits[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["text_5"],
        "only the field is sent"
    );

    // The edits changed updateTime: the next run reads them again, writes
    // them (an upsert) and finds the numbers in place.
    let second = pipeline.run().await.unwrap();
    assert_eq!(second.read, 12, "{second}");
    assert_eq!((second.written_back, second.write_back_unchanged), (0, 12));
    let edits_after = fake.received_on("/customer/edit").await.len();
    assert_eq!(edits_after, 12, "no edit sent the second time");
}
