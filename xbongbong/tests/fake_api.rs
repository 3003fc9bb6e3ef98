//! The client against the fake server: every endpoint family, auth,
//! throttling, paging, malformed bodies, Source and Sink.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns

use std::collections::HashSet;
use std::time::Duration;

use futures::TryStreamExt;
use integration_core::testing::Fault;
use integration_core::{
    Checkpoint, ErrorKind, ErrorMeta, Op, RetryPolicy, Sink, SinkRecord, Source, WriteOutcome,
};
use serde_json::{Map, Value, json};
use xbongbong::auth::{TokenMode, sign};
use xbongbong::form::{BusinessType, FormQuery};
use xbongbong::records::{Condition, ListQuery};
use xbongbong::testing::{
    CONTRACT_FORM_ID, CORPID, CUSTOMER_FORM_ID, FakeXbongbong, TOKEN, USER_ID,
};
use xbongbong::users::{DepartmentQuery, UserQuery};
use xbongbong::value::DataExt;
use xbongbong::{Error, Incremental, RecordSink, RecordSource, RecordWrite};

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A fault answering with the envelope `body`.
fn answer(body: Value) -> Fault {
    Fault::Respond(Box::new(integration_core::testing::json_response(&body)))
}

/// A decimal field of a record's data, as text.
fn decimal(data: &Map<String, Value>, attr: &str) -> String {
    data.decimal(attr).unwrap().unwrap().to_string()
}

/// Whether a record's `serialNo` was generated with `prefix`.
fn serial_starts_with(data: &Map<String, Value>, prefix: &str) -> bool {
    data.text("serialNo").unwrap().unwrap().starts_with(prefix)
}

/// The error of reading the contract form.
async fn contract_form_error(client: &xbongbong::Client) -> Error {
    client.forms().get(CONTRACT_FORM_ID).await.unwrap_err()
}

fn new_customer(name: &str) -> Map<String, Value> {
    map(json!({
        "text_1": name, "text_2": "重点客户", "ownerId": [USER_ID],
        "subForm_1": [{"text_1": "手机", "text_2": "13812345678"}],
        "address_1": {"province": "浙江省", "city": "杭州市", "district": "滨江区", "address": "网商路699号"},
        "num_1": 500.25
    }))
}

#[tokio::test]
async fn requests_are_signed_over_the_exact_body_sent() {
    let fake = FakeXbongbong::start().await;
    fake.state()
        .tenants
        .insert("ding-test".into(), "test-token".into());
    let client = fake
        .client_builder()
        .corpid("ding-test")
        .token("test-token")
        .build()
        .unwrap();
    let body = map(json!({"formId": 572924, "page": 1, "pageSize": 20}));
    let text = client.body_text(&body);
    assert_eq!(
        text,
        r#"{"corpid":"ding-test","formId":572924,"page":1,"pageSize":20}"#
    );
    client
        .call_raw("contract/list", Value::Object(body))
        .await
        .unwrap();
    let sent = fake.received_on("contract/list").await;
    assert_eq!(sent[0].body, text.as_bytes());
    let header = sent[0].headers.get("sign").unwrap().to_str().unwrap();
    assert_eq!(
        header, "61a814fa7db18f074e7335ecf3c143556a0288940e8a736a0b7ed42e388a25a6",
        "fact-sheet vector 1"
    );
    assert_eq!(header, sign(&sent[0].body, "test-token"));
    assert!(
        sent[0]
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );

    // With an operator: userId in the body (after corpid) and as a header; Chinese sent as UTF-8.
    let client = fake.client_builder().user_id(USER_ID).build().unwrap();
    let text = client.body_text(&map(
        json!({"formId": 1, "dataList": {"text_1": "测试客户"}}),
    ));
    assert_eq!(
        text,
        format!(
            r#"{{"corpid":"{CORPID}","userId":"{USER_ID}","formId":1,"dataList":{{"text_1":"测试客户"}}}}"#
        )
    );
    client.forms().get(CUSTOMER_FORM_ID).await.unwrap();
    let sent = fake.received_on("form/get").await;
    assert_eq!(sent[0].headers.get("userId").unwrap(), USER_ID);
}

#[tokio::test]
async fn wrong_credentials_get_the_real_error_envelope() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .token("not-the-token")
        .build()
        .unwrap();
    let err = contract_form_error(&client).await;
    assert_eq!(err.code(), Some("100003"));
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("权限验证失败"));
    assert_eq!(
        fake.received().await.len(),
        1,
        "auth errors are not retried in company mode"
    );

    let client = fake
        .client_builder()
        .corpid("ding-unknown")
        .build()
        .unwrap();
    let err = contract_form_error(&client).await;
    assert_eq!(err.code(), Some("100008"));
    let core: integration_core::Error = err.into();
    assert_eq!(core.kind(), ErrorKind::Auth);
    assert_eq!(core.code(), Some("100008"));
}

#[tokio::test]
async fn secrets_never_appear_in_debug_or_errors() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .token("s3cr3t-token-value")
        .build()
        .unwrap();
    let err = client.forms().get(1).await.unwrap_err();
    for text in [
        format!("{client:?}"),
        format!("{err:?}"),
        err.to_string(),
        format!("{:?}", fake.client_builder()),
    ] {
        assert!(
            !text.contains("s3cr3t-token-value") && !text.contains(TOKEN),
            "{text}"
        );
    }
}

#[tokio::test]
async fn personal_tokens_are_fetched_once_and_refreshed_after_a_reset() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .user_id(USER_ID)
        .token_mode(TokenMode::Personal)
        .build()
        .unwrap();
    let (forms, other) = (client.forms(), client.clone().forms());
    let (a, b) = tokio::join!(forms.get(CONTRACT_FORM_ID), other.get(CUSTOMER_FORM_ID));
    a.unwrap();
    b.unwrap();
    // resetToken 0 → empty, then resetToken 1 → issued; shared by both callers.
    assert_eq!(fake.received_on("generateToken").await.len(), 2);
    let token = fake.state().personal_tokens[USER_ID].clone();
    assert!(token.starts_with("user_"));
    let last = fake.received_on("form/get").await.pop().unwrap();
    assert_eq!(
        last.headers.get("sign").unwrap().to_str().unwrap(),
        sign(&last.body, &token)
    );

    fake.reset_personal_token(USER_ID);
    client.forms().get(CONTRACT_FORM_ID).await.unwrap();
    assert_eq!(
        fake.received_on("generateToken").await.len(),
        3,
        "one refetch after the reset"
    );
    let calls = fake.received_on("form/get").await;
    assert_eq!(calls.len(), 4, "the rejected call was repeated once");
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    fake.faults().inject(Fault::Throttled, 2);
    let list = client
        .forms()
        .list(&FormQuery::system(BusinessType::Contract))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(fake.received().await.len(), 3);

    fake.faults().inject(Fault::Throttled, 10);
    let err = contract_form_error(&client).await;
    assert_eq!(err.code(), Some("100004"));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    fake.faults().clear();
}

/// A valid envelope whose result has the wrong shape is a decode error.
#[tokio::test]
async fn a_result_of_the_wrong_shape_is_a_decode_error() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    fake.faults().inject(
        answer(json!({"code":1,"msg":"ok","success":true,"result":{"explainList":"x"}})),
        1,
    );
    assert_eq!(contract_form_error(&client).await.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn form_list_and_form_get_serve_the_metadata() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    let contract = client
        .forms()
        .default_for(BusinessType::Contract)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (contract.form_id, contract.business_type),
        (CONTRACT_FORM_ID, Some(BusinessType::Contract))
    );
    let customer = client
        .forms()
        .default_for(BusinessType::Customer)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(customer.name, "客户");
    assert!(
        client
            .forms()
            .default_for(BusinessType::Quotation)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        client
            .forms()
            .list(&FormQuery::custom())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let explain = client.forms().get(CONTRACT_FORM_ID).await.unwrap();
    let fixture: Value = serde_json::from_str(xbongbong::testing::CONTRACT_FORM_GET_JSON).unwrap();
    assert_eq!(serde_json::to_value(&explain).unwrap(), fixture["result"]);
    let err = client.forms().get(999).await.unwrap_err();
    assert_eq!(err.code(), Some("100006"));
    // call_raw reuses signing and decoding.
    let raw = client
        .call_raw("form/list", json!({"saasMark": 1, "businessType": 100}))
        .await
        .unwrap();
    assert_eq!(raw["formList"][0]["formId"], json!(CUSTOMER_FORM_ID));
    let err = client.call_raw("form/list", json!({})).await.unwrap_err();
    assert_eq!(err.code(), Some("100005"));
}

#[tokio::test]
async fn customers_add_list_detail_edit_delete() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client_builder().user_id(USER_ID).build().unwrap();
    let form = client.forms().get(CUSTOMER_FORM_ID).await.unwrap();
    let customers = client.customers();
    let added = customers
        .create_checked(
            CUSTOMER_FORM_ID,
            &form,
            &new_customer("杭州数澜科技有限公司"),
        )
        .await
        .unwrap();
    let id = added.data_id.unwrap();

    let detail = customers.get(id.clone()).await.unwrap();
    assert_eq!(
        detail.data.text("text_1").unwrap().as_deref(),
        Some("杭州数澜科技有限公司")
    );
    assert!(serial_starts_with(&detail.data, "KH."));
    let kind = detail.data.select("text_2").unwrap().unwrap();
    assert_eq!(
        (kind.text.as_str(), kind.value.as_deref()),
        ("重点客户", Some("2"))
    );
    assert_eq!(
        detail.data.users("ownerId").unwrap()[0].name.as_deref(),
        Some("王建国")
    );
    assert_eq!(
        detail.data.phones("subForm_1").unwrap()[0].number,
        "13812345678"
    );
    assert_eq!(
        detail
            .data
            .address("address_1")
            .unwrap()
            .unwrap()
            .district
            .as_deref(),
        Some("滨江区")
    );
    assert_eq!(decimal(&detail.data, "num_1"), "500.25");
    let before = detail.update_time.unwrap();

    // Duplicate name (noRepeat) is the API's business error.
    let err = customers
        .create(
            Some(CUSTOMER_FORM_ID),
            &new_customer("杭州数澜科技有限公司"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.kind()),
        (Some("201005"), ErrorKind::Business)
    );
    // The fake enforces required fields itself.
    let err = customers
        .create(
            Some(CUSTOMER_FORM_ID),
            &map(json!({"text_1": "缺字段公司"})),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("客户类型为必填字段"), "{err}");
    let err = customers
        .create(
            Some(CUSTOMER_FORM_ID),
            &map(json!({"text_1": "A公司", "text_2": "VIP客户", "ownerId": USER_ID})),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("701020"));
    // ... and create_checked refuses before sending.
    let sent = fake.received_on("customer/add").await.len();
    let err = customers
        .create_checked(CUSTOMER_FORM_ID, &form, &map(json!({"text_2": "金牌客户"})))
        .await
        .unwrap_err();
    let Error::Invalid(problems) = err else {
        panic!()
    };
    assert_eq!(problems.problems.len(), 3, "{problems}");
    assert_eq!(fake.received_on("customer/add").await.len(), sent);

    customers
        .update(Some(CUSTOMER_FORM_ID), &id, &map(json!({"text_3": "展会"})))
        .await
        .unwrap();
    let edited = customers.get(id.clone()).await.unwrap();
    assert_eq!(edited.data.select("text_3").unwrap().unwrap().text, "展会");
    assert_eq!(
        edited.data.text("text_1").unwrap().as_deref(),
        Some("杭州数澜科技有限公司"),
        "partial edit"
    );
    assert!(edited.update_time.unwrap() > before);

    let page = customers
        .list(&ListQuery::form(CUSTOMER_FORM_ID).condition(Condition::equal("text_3", "展会")))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let by_phone = ListQuery::form(CUSTOMER_FORM_ID)
        .condition(Condition::equal("subForm_1", "13812345678").sub_attr("text_2"));
    assert_eq!(customers.list(&by_phone).await.unwrap().items.len(), 1);

    customers.delete(id.clone()).await.unwrap();
    assert_eq!(
        customers.get(id.clone()).await.unwrap_err().code(),
        Some("100006")
    );
    let mut bin = ListQuery::form(CUSTOMER_FORM_ID);
    bin.del = Some(1);
    assert_eq!(
        customers.list(&bin).await.unwrap().items.len(),
        1,
        "in the recycle bin"
    );
}

#[tokio::test]
async fn contracts_validate_against_the_real_form_and_round_trip() {
    let fake = FakeXbongbong::start().await;
    let customer = fake.seed_customers(1)[0];
    let client = fake.client();
    let form = client.forms().get(CONTRACT_FORM_ID).await.unwrap();
    let data = map(json!({
        "text_15": "复购", "text_2": customer, "text_8": "01234567890125", "date_1": 1767196800,
        "text_6": "执行中", "ownerId": ["01234567890125"],
        "array_4": [{"text_1": 30000003, "num_4": 95, "num_6": 12800.5, "num_3": 3}],
        "num_27": 0, "num_28": 120.5, "num_1": 38281.0, "array_1": [{"num_1": 38281.0, "date_1": 1769788800}],
        "array_5": ["票到付款"], "text_23": "5折及5折以上"
    }));
    let added = client
        .contracts()
        .create_checked(CONTRACT_FORM_ID, &form, &data)
        .await
        .unwrap();
    let record = client
        .contracts()
        .get(added.data_id.unwrap())
        .await
        .unwrap();
    assert!(serial_starts_with(&record.data, "SO."));
    assert_eq!(
        record.data.link("text_2").unwrap().unwrap().id.as_i64(),
        Some(customer)
    );
    assert_eq!(decimal(&record.data, "num_28"), "120.5");
    let rows = record.data.sub_form("array_4").unwrap();
    assert_eq!(decimal(&rows[0], "num_6"), "12800.5");

    let mut bad = data.clone();
    bad.insert("text_23".into(), json!("1折"));
    let err = client
        .contracts()
        .create(Some(CONTRACT_FORM_ID), &bad)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("折扣选项不存在"), "{err}");
}

#[tokio::test]
async fn pagination_streams_every_page_lazily() {
    let fake = FakeXbongbong::start().await;
    fake.seed_customers(45);
    let client = fake.client();
    let query = ListQuery::form(CUSTOMER_FORM_ID).page_size(20);
    let page = client.customers().list(&query).await.unwrap();
    assert_eq!((page.items.len(), page.total), (20, Some(45)));
    // The next page is the same query one page on; the third is the last
    // (`totalPage` 3).
    assert_eq!(page.next, Some(query.clone().page(2)));
    let last = client
        .customers()
        .list(&query.clone().page(3))
        .await
        .unwrap();
    assert_eq!((last.items.len(), last.next), (5, None));
    let before = fake.received_on("customer/list").await.len();
    let all: Vec<_> = client
        .customers()
        .stream(query.clone())
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<String> = all.iter().map(|r| r.data_id.to_string()).collect();
    assert_eq!((all.len(), ids.len()), (45, 45));
    assert_eq!(
        fake.received_on("customer/list").await.len(),
        before + 3,
        "three pages, no extra empty page"
    );

    // Page size is clamped to 100.
    let big = client
        .customers()
        .list(&ListQuery {
            page_size: Some(1000),
            ..ListQuery::form(CUSTOMER_FORM_ID)
        })
        .await
        .unwrap();
    assert_eq!(big.items.len(), 45);
    let last = fake.received_on("customer/list").await.pop().unwrap();
    assert_eq!(
        integration_core::testing::body_json(&last)["pageSize"],
        json!(100)
    );

    // A junk value in a row is a decode error naming the field.
    fake.faults().inject_on(
        "customer/list",
        answer(json!({
            "code": 1, "msg": "操作成功", "success": true,
            "result": {"list": [{"dataId": 1, "data": {}}, {"dataId": 2, "updateTime": "yesterday", "data": {}}], "totalCount": 2}
        })),
        1,
    );
    let err = client.customers().list(&query).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("list[1].updateTime"), "{err}");

    // An error in the middle ends the stream with that error.
    fake.faults()
        .inject_on("customer/list", Fault::Malformed, 1);
    let mut pages = Box::pin(client.customers().pages(query));
    assert!(pages.try_next().await.is_err());
    assert!(pages.try_next().await.unwrap().is_none());
}

#[tokio::test]
async fn users_and_departments() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    let users: Vec<_> = client
        .users()
        .stream(UserQuery {
            page_size: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(users.len(), 5);
    assert_eq!(users[0].user_id, USER_ID);
    assert_eq!(users[0].department_list[0].name, "销售部");
    let page = client
        .users()
        .list(&UserQuery {
            name_like: Some("李".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.next),
        (1, Some(1), None)
    );
    let pages: Vec<_> = client
        .departments()
        .pages(DepartmentQuery {
            page_size: Some(3),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, [3, 1]);
    let deps: Vec<_> = client
        .departments()
        .stream(DepartmentQuery {
            page_size: Some(3),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(deps.len(), 4);
    assert_eq!(deps[0].id, 1);
    assert_eq!(
        client
            .departments()
            .list(&DepartmentQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

async fn read_all(
    source: &RecordSource,
    checkpoint: Option<&Checkpoint>,
) -> (Vec<String>, Option<Checkpoint>, usize) {
    let mut keys = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = source.read(checkpoint, cursor).await.unwrap();
        pages += 1;
        keys.extend(page.records.iter().map(|r| r.key.clone()));
        if page.next.is_none() {
            return (keys, page.checkpoint, pages);
        }
        assert!(
            page.checkpoint.is_none(),
            "the checkpoint is only given at the end"
        );
        cursor = page.next;
    }
}

#[tokio::test]
async fn source_reads_contracts_incrementally_on_update_time() {
    let fake = FakeXbongbong::start().await;
    let ids = fake.seed_contracts(25);
    let client = fake.client();
    for mode in [Incremental::ClientFilter, Incremental::ServerCondition] {
        let source = RecordSource::contracts(client.clone(), CONTRACT_FORM_ID)
            .page_size(10)
            .overlap(Duration::from_secs(60))
            .incremental(mode);
        let (keys, checkpoint, pages) = read_all(&source, None).await;
        assert_eq!((keys.len(), pages), (25, 3), "{mode:?}");
        let checkpoint = checkpoint.unwrap();
        let newest = fake
            .records("contract")
            .iter()
            .map(|r| r.update_time)
            .max()
            .unwrap();
        assert_eq!(checkpoint.as_time().unwrap().timestamp(), newest);

        // Nothing changed: only records inside the overlap come back.
        let (again, same, _) = read_all(&source, Some(&checkpoint)).await;
        assert!(again.len() < 3, "{again:?}");
        assert_eq!(same.as_ref(), Some(&checkpoint));

        // Change one record: it comes back, and the checkpoint moves.
        fake.state().now += 3_600;
        let changed = ids[(mode == Incremental::ServerCondition) as usize * 7];
        client
            .contracts()
            .update(
                Some(CONTRACT_FORM_ID),
                &changed.into(),
                &map(json!({"text_6": "完毕"})),
            )
            .await
            .unwrap();
        let (keys, next, _) = read_all(&source, Some(&checkpoint)).await;
        assert!(keys.contains(&changed.to_string()), "{mode:?}");
        assert!(
            keys.iter()
                .all(|k| *k == changed.to_string() || again.contains(k)),
            "only overlap records besides the change"
        );
        assert!(next.unwrap().as_time() > checkpoint.as_time());
        if mode == Incremental::ServerCondition {
            let last = fake.received_on("contract/list").await.pop().unwrap();
            let cond = &integration_core::testing::body_json(&last)["conditions"][0];
            assert_eq!(
                (cond["attr"].as_str(), cond["symbol"].as_str()),
                (Some("updateTime"), Some("greaterequal"))
            );
        }
    }
}

#[tokio::test]
async fn sink_adds_upserts_and_reports_each_record() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    let sink = RecordSink::customers(client.clone(), CUSTOMER_FORM_ID).upsert_on("text_1");
    let record = |key: &str, data: Map<String, Value>| SinkRecord {
        key: key.into(),
        op: Op::Upsert,
        data: RecordWrite::new(data),
    };
    let mut missing = new_customer("宁波海曙精密机械有限公司");
    missing.remove("text_2");
    missing.insert("text_3".into(), json!("地推"));
    let batch = vec![
        record("erp-1", new_customer("苏州恒信电子有限公司")),
        record("erp-2", missing),
        record("erp-3", new_customer("南京启明实业有限公司")),
    ];
    let outcomes = sink.write(&batch).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(matches!(
        &outcomes[0],
        WriteOutcome::Written {
            target_id: Some(_),
            ..
        }
    ));
    let WriteOutcome::Failed(failure) = &outcomes[1] else {
        panic!("{outcomes:?}")
    };
    assert!(!failure.retryable);
    assert!(
        failure.message.contains("客户类型为必填字段")
            && failure.message.contains("客户来源: 选项不存在"),
        "{failure}"
    );
    assert!(matches!(&outcomes[2], WriteOutcome::Written { .. }));
    assert_eq!(fake.records("customer").len(), 2);

    // Writing the same key again edits instead of duplicating.
    let mut changed = new_customer("苏州恒信电子有限公司");
    changed.insert("text_2".into(), json!("VIP客户"));
    let outcomes = sink.write(&[record("erp-1", changed)]).await.unwrap();
    let WriteOutcome::Written { target_id, .. } = &outcomes[0] else {
        panic!()
    };
    assert_eq!(fake.records("customer").len(), 2);
    let stored = fake
        .records("customer")
        .into_iter()
        .find(|r| Some(r.data_id.to_string()) == *target_id)
        .unwrap();
    assert_eq!(stored.data["text_2"], json!("VIP客户"));

    // A server-side failure is one record's failure, not the batch's.
    fake.faults().inject_on(
        "customer/add",
        answer(json!({"code": 201005, "msg": "客户名称已存在", "success": false})),
        1,
    );
    let outcomes = sink
        .write(&[record("erp-4", new_customer("武汉博远包装材料有限公司"))])
        .await
        .unwrap();
    let WriteOutcome::Failed(f) = &outcomes[0] else {
        panic!()
    };
    assert_eq!(f.code.as_deref(), Some("201005"));

    // Bad credentials fail the whole batch.
    let bad = RecordSink::customers(
        fake.client_builder().token("wrong").build().unwrap(),
        CUSTOMER_FORM_ID,
    );
    let err = bad
        .write(&[record("erp-5", new_customer("成都金桥贸易有限公司"))])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);

    // Contracts sink validates against the real contract form.
    let contracts = RecordSink::contracts(client, CONTRACT_FORM_ID).upsert_on("serialNo");
    let outcomes = contracts
        .write(&[record("so-1", map(json!({"num_1": 100})))])
        .await
        .unwrap();
    let WriteOutcome::Failed(f) = &outcomes[0] else {
        panic!()
    };
    assert!(f.message.contains("关联产品为必填字段"), "{f}");
}

#[tokio::test]
async fn every_record_module_lists_adds_reads_edits_and_deletes() {
    let fake = FakeXbongbong::start().await;
    let client = fake.client();
    let customer = fake.seed_customers(1)[0];
    let modules = [
        (client.contacts(), "陈晓东"),
        (client.opportunities(), "云帆ERP二期扩容"),
        (client.follow_ups(), "电话沟通报价细节,客户要求月底前回复"),
        (client.products(), "工业级温湿度传感器 TH-200"),
        (client.payment_receipts(), "HK.20260301001"),
        (client.records(xbongbong::Module::Payment), "YS.20260301001"),
    ];
    for (records, title) in modules {
        let data = map(
            json!({"text_1": title, "text_2": customer, "num_1": 4580.75, "date_1": 1772326800, "ownerId": [USER_ID]}),
        );
        // No formId: the module's default form is used.
        let added = records.create(None, &data).await.unwrap();
        let id = added.data_id.unwrap();
        let business_type = records.module().business_type().unwrap();
        let form_id = client
            .forms()
            .default_for(business_type)
            .await
            .unwrap()
            .unwrap()
            .form_id;
        let page = records.list(&ListQuery::form(form_id)).await.unwrap();
        assert_eq!(page.items.len(), 1, "{:?}", records.module());
        let record = records.get(id.clone()).await.unwrap();
        assert_eq!(record.data.text("text_1").unwrap().as_deref(), Some(title));
        assert_eq!(decimal(&record.data, "num_1"), "4580.75");
        records
            .update(None, &id, &map(json!({"num_1": 10})))
            .await
            .unwrap();
        let edited = records.get(id.clone()).await.unwrap();
        assert_eq!(edited.data.decimal("num_1").unwrap(), Some(10.into()));
        records.delete(id).await.unwrap();
        assert!(
            records
                .list(&ListQuery::form(form_id))
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }
    let paths: Vec<String> = fake
        .received()
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(paths.contains(&"/pro/v2/api/paymentSheet/addWriteOff".to_owned()));
    assert!(paths.contains(&"/pro/v2/api/communicate/list".to_owned()));
    // Contract and customer lists need a formId, as on the real service.
    assert_eq!(
        client
            .contracts()
            .list(&ListQuery::default())
            .await
            .unwrap_err()
            .code(),
        Some("100005")
    );
}

#[tokio::test]
async fn shared_settings_reach_both_transports() {
    let fake = FakeXbongbong::start().await;
    let client = fake
        .client_builder()
        .user_agent("erp-sync/2.1")
        .build()
        .unwrap();
    client.forms().get(CUSTOMER_FORM_ID).await.unwrap();
    client
        .customers()
        .create(
            Some(CUSTOMER_FORM_ID),
            &new_customer("宁波海曙贸易有限公司"),
        )
        .await
        .unwrap();
    let sent = fake.received().await;
    assert_eq!(sent.len(), 2);
    for request in &sent {
        assert_eq!(request.headers.get("user-agent").unwrap(), "erp-sync/2.1");
    }
    fake.client().forms().get(CUSTOMER_FORM_ID).await.unwrap();
    let last = fake.received().await.pop().unwrap();
    let agent = last.headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(agent.starts_with("xbongbong-rs/"), "{agent}");

    // The retry policy: never retried, one throttled answer is final.
    fake.faults().inject(Fault::Throttled, 1);
    let once = fake
        .client_builder()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let err = once.forms().get(CUSTOMER_FORM_ID).await.unwrap_err();
    assert!(matches!(err, Error::Throttled(_)), "{err:?}");
    assert_eq!(fake.received().await.len(), 4);

    let err = fake
        .client_builder()
        .base_url("ftp://example.com")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        (err.kind(), err.api()),
        (ErrorKind::InvalidRequest, "client")
    );
}

#[tokio::test]
async fn error_meta_describes_an_api_error() {
    /// What the shared trait says of an error, on one line.
    fn line(e: &impl ErrorMeta) -> String {
        let (system, api, kind) = (e.system(), e.api(), e.kind());
        let (code, message) = (e.code().unwrap_or("-"), e.message());
        format!("{system} {api} {kind:?} {code}: {message}")
    }
    let fake = FakeXbongbong::start().await;
    let err = fake.client().forms().get(999).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api(f) if f.code == Some(100006.into())),
        "{err:?}"
    );
    let expected = "xbongbong form/get Business 100006: 表单不存在";
    assert_eq!(line(&err), expected);
    assert!(!err.is_retryable() && err.request_id().is_none());
    assert_eq!(line(&integration_core::Error::from(err)), expected);
}

/// The fake is driven as every connector's fake is, through the shared
/// trait: a sandbox or a generic test needs nothing crate-specific.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeXbongbong as Fake>::start().await;
    let client = Fake::client_builder(&fake).build().unwrap();
    conformance::check_read(&fake, || async {
        client.users().list(&UserQuery::default()).await
    })
    .await;
    assert_eq!(Fake::base_url(&fake), fake.uri());
    assert_eq!(Fake::credentials(&fake).corpid, CORPID);
}
