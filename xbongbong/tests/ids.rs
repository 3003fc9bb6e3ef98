//! Integer ids (`dataId`, `formId`, `appId`, `menuId`) go out as JSON
//! numbers in every request and are accepted as number or text in answers
//! (fact sheet §2.2, corrected 2026-12). The bodies the fake received are
//! inspected, so these tests fail if an id is sent as text.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use integration_core::testing::{Fault, Request, json_response};
use integration_core::types::Id;
use integration_core::{ErrorKind, Op, Sink, SinkRecord, Source, WriteOutcome};
use serde_json::{Map, Value, json};
use xbongbong::auth::sign;
use xbongbong::form::BusinessType;
use xbongbong::records::{Condition, ListQuery};
use xbongbong::testing::{
    CONTRACT_FORM_ID, CORPID, CUSTOMER_FORM_ID, FakeXbongbong, TOKEN, USER_ID,
};
use xbongbong::value::DataExt;
use xbongbong::{Error, RecordSink, RecordSource, RecordWrite};

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn body(request: &Request) -> Map<String, Value> {
    serde_json::from_slice(&request.body).unwrap()
}

/// The single request received on `path`, checked to be signed over its
/// exact bytes.
async fn only(fake: &FakeXbongbong, path: &str) -> Map<String, Value> {
    let sent = fake.received_on(path).await;
    assert_eq!(sent.len(), 1, "{path}");
    let header = sent[0].headers.get("sign").unwrap().to_str().unwrap();
    assert_eq!(header, sign(&sent[0].body, TOKEN), "{path}: signed as sent");
    body(&sent[0])
}

#[tokio::test]
async fn detail_edit_and_delete_send_data_id_as_a_json_number() {
    let fake = FakeXbongbong::start().await;
    let stored = fake.seed_customers(1)[0];
    let client = fake.client();
    let customers = client.customers();
    // An id as the API may answer it: text.
    let id = Id::from(stored.to_string());

    customers.get(id.clone()).await.unwrap();
    let detail = only(&fake, "customer/detail").await;
    assert_eq!(detail["dataId"], json!(stored));
    assert!(detail["dataId"].is_i64(), "detail: {detail:?}");
    let sent = fake.received_on("customer/detail").await;
    assert_eq!(
        sent[0].body,
        format!(r#"{{"corpid":"{CORPID}","dataId":{stored}}}"#).as_bytes(),
        "the exact text signed and sent"
    );

    customers
        .update(Some(CUSTOMER_FORM_ID), &id, &map(json!({"text_3": "展会"})))
        .await
        .unwrap();
    let edit = only(&fake, "customer/edit").await;
    assert!(edit["dataId"].is_i64(), "edit: {edit:?}");
    assert!(edit["formId"].is_i64(), "edit: {edit:?}");
    assert_eq!(
        (edit["dataId"].as_i64(), edit["formId"].as_i64()),
        (Some(stored), Some(CUSTOMER_FORM_ID))
    );

    customers.delete(id).await.unwrap();
    let del = only(&fake, "customer/del").await;
    assert!(del["dataId"].is_i64(), "del: {del:?}");
    assert_eq!(del["dataId"], json!(stored));
    assert!(fake.records("customer")[0].deleted);
}

#[tokio::test]
async fn the_sink_edits_and_deletes_by_a_numeric_data_id() {
    let fake = FakeXbongbong::start().await;
    let stored = fake.seed_customers(2);
    let sink = RecordSink::customers(fake.client(), CUSTOMER_FORM_ID);
    let write = |op: Op, id: i64, data: Value| SinkRecord {
        key: format!("erp-{id}"),
        op,
        data: RecordWrite {
            data_id: Some(Id::from(id.to_string())),
            data: map(data),
        },
    };
    let outcomes = sink
        .write(&[
            write(Op::Upsert, stored[0], json!({"text_3": "展会"})),
            write(Op::Delete, stored[1], json!({})),
        ])
        .await
        .unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, WriteOutcome::Written { .. })),
        "{outcomes:?}"
    );
    assert!(only(&fake, "customer/edit").await["dataId"].is_i64());
    assert!(only(&fake, "customer/del").await["dataId"].is_i64());
}

#[tokio::test]
async fn a_data_id_that_is_not_an_integer_is_refused_before_sending() {
    let fake = FakeXbongbong::start().await;
    fake.seed_customers(1);
    let client = fake.client();
    let customers = client.customers();
    let bad = Id::from("abc");
    let errors = [
        customers.get(bad.clone()).await.unwrap_err(),
        customers
            .update(None, &bad, &map(json!({"text_3": "展会"})))
            .await
            .unwrap_err(),
        customers.delete(bad.clone()).await.unwrap_err(),
        customers.get("").await.unwrap_err(),
        customers.get("12.5").await.unwrap_err(),
        customers.get("99999999999999999999").await.unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, Error::Value(_)), "{err:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("dataId"), "{err}");
    }
    assert!(
        fake.received().await.is_empty(),
        "nothing is sent for an id that is not an integer"
    );

    // Through the sink: that record fails for good, nothing is sent.
    let sink = RecordSink::customers(client, CUSTOMER_FORM_ID).validate(false);
    let outcomes = sink
        .write(&[SinkRecord {
            key: "erp-1".into(),
            op: Op::Delete,
            data: RecordWrite {
                data_id: Some(bad),
                data: Map::new(),
            },
        }])
        .await
        .unwrap();
    let WriteOutcome::Failed(failure) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert!(!failure.retryable, "{failure}");
    assert!(fake.received().await.is_empty());
}

#[tokio::test]
async fn the_fake_wants_numbers_except_on_lists() {
    let fake = FakeXbongbong::start().await;
    let stored = fake.seed_customers(1)[0];
    let client = fake.client_builder().user_id(USER_ID).build().unwrap();
    for (api, body) in [
        ("customer/detail", json!({"dataId": stored.to_string()})),
        (
            "customer/edit",
            json!({"dataId": stored.to_string(), "dataList": {"text_3": "展会"}}),
        ),
        ("customer/del", json!({"dataId": stored.to_string()})),
        ("form/get", json!({"formId": CUSTOMER_FORM_ID.to_string()})),
    ] {
        let err = client.call_raw(api, body).await.unwrap_err();
        assert_eq!(err.code(), Some("701020"), "{api}: {err}");
    }
    assert!(!fake.records("customer")[0].deleted);
    // Numbers are what it expects.
    let detail = client
        .call_raw("customer/detail", json!({"dataId": stored}))
        .await
        .unwrap();
    assert_eq!(detail["dataId"], json!(stored));
    // Lists stay lenient: a public client got data with formId as text.
    let page = client
        .call_raw(
            "customer/list",
            json!({"formId": CUSTOMER_FORM_ID.to_string(), "conditions": [{"attr": "dataId", "symbol": "equal", "value": [stored.to_string()]}]}),
        )
        .await
        .unwrap();
    assert_eq!(page["list"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn answers_may_carry_form_ids_as_text() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    fake.faults().inject_on(
        "form/list",
        Fault::Respond(Box::new(json_response(&json!({
            "code": 1, "msg": "操作成功", "success": true,
            "result": {"formList": [{"formId": "572901", "appId": "311", "menuId": 1201, "businessType": "100", "name": "客户"}]}
        })))),
        1,
    );
    let form = client
        .forms()
        .default_for(BusinessType::Customer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (form.form_id, form.app_id, form.menu_id),
        (CUSTOMER_FORM_ID, Some(311), Some(1201))
    );
    // ... and go back out as numbers.
    let out = serde_json::to_value(&form).unwrap();
    assert_eq!(
        (&out["formId"], &out["appId"], &out["menuId"]),
        (&json!(572901), &json!(311), &json!(1201))
    );
    // The form id read that way is sent as a number.
    client
        .customers()
        .list(&ListQuery::form(form.form_id))
        .await
        .unwrap();
    assert!(only(&fake, "customer/list").await["formId"].is_i64());
}

#[tokio::test]
async fn a_condition_on_a_link_field_sends_the_data_id_as_a_number() {
    let fake = FakeXbongbong::start().await;
    let customers = fake.seed_customers(3);
    fake.seed_contracts(9);
    let client = fake.client();
    let contracts = client.contracts();
    // The customer's id as an answer may carry it: text.
    let customer = Id::from(customers[1].to_string());
    let query = ListQuery::form(CONTRACT_FORM_ID)
        .condition(Condition::link("text_2", customer.clone()).unwrap());
    let page = contracts.list(&query).await.unwrap();
    assert_eq!(page.items.len(), 3);
    for contract in &page.items {
        assert_eq!(contract.data.link("text_2").unwrap().unwrap().id, customer);
    }
    let sent = only(&fake, "contract/list").await;
    let condition = &sent["conditions"][0];
    assert_eq!(
        (&condition["attr"], &condition["symbol"]),
        (&json!("text_2"), &json!("equal"))
    );
    assert_eq!(condition["value"], json!([customers[1]]));
    assert!(condition["value"][0].is_i64(), "{condition}");

    // `in` several, also through the source.
    let any = Condition::link_any("text_2", [customers[0], customers[2]]).unwrap();
    assert_eq!(any.value, vec![json!(customers[0]), json!(customers[2])]);
    let source = RecordSource::contracts(client.clone(), CONTRACT_FORM_ID).condition(any);
    let read = source.read(None, None).await.unwrap();
    assert_eq!(read.records.len(), 6);
    let sent = fake.received_on("contract/list").await;
    let values = &body(&sent[1])["conditions"][0]["value"];
    assert!(
        values.as_array().unwrap().iter().all(Value::is_i64),
        "{values}"
    );

    // An id that is not an integer cannot become a condition.
    for bad in [
        Condition::link("text_2", "abc").unwrap_err(),
        Condition::link_any("text_2", ["1", "x2"]).unwrap_err(),
    ] {
        assert!(
            matches!(&bad, Error::Value(v) if v.attr == "text_2"),
            "{bad:?}"
        );
        assert_eq!(bad.kind(), ErrorKind::InvalidRequest);
    }
}
