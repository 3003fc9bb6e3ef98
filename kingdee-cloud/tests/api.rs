//! Every endpoint family, auth modes, faults and decoding against the fake.

use futures::TryStreamExt;
use integration_core::ErrorKind;
use integration_core::paging::Page;
use integration_core::testing::{Fault, ResponseTemplate};
use kingdee_cloud::error::msg_code;
use kingdee_cloud::testing::{self, FakeK3Cloud};
use kingdee_cloud::{
    AllocateRequest, AppCredentials, BaseDataRef, BillQuery, BodyStyle, Client, Customer,
    DataCenter, Error, OperateRequest, SaleOrder, SaleOrderEntry, SaveOptions, ViewRequest,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn customer(number: &str, name: &str) -> Customer {
    Customer {
        number: Some(number.into()),
        name: Some(name.into()),
        create_org: Some(BaseDataRef::number("100")),
        use_org: Some(BaseDataRef::number("100")),
        ..Customer::default()
    }
}

#[tokio::test]
async fn save_view_query_round_trip_with_signature_and_cookie() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let mut c = customer("C9001", "杭州华信科技有限公司");
    c.extra.insert("F_ABC_Level".into(), json!("VIP"));
    let saved = client
        .save(
            "BD_Customer",
            &c,
            &SaveOptions::new().need_return_fields(["FNumber", "F_ABC_Level"]),
        )
        .await
        .unwrap();
    assert!(saved.status.is_success);
    assert_eq!(saved.number.as_deref(), Some("C9001"));
    assert_eq!(saved.need_return_data[0]["F_ABC_Level"], "VIP");
    let id = saved.id.clone().unwrap();

    let viewed: Value = client
        .view("BD_Customer", &ViewRequest::number("C9001"))
        .await
        .unwrap();
    assert_eq!(viewed["Id"].to_string(), id.to_string());
    assert_eq!(viewed["F_ABC_Level"], "VIP");

    let rows: Vec<(String, String, String)> = client
        .execute_bill_query(&BillQuery::new(
            "BD_Customer",
            ["FNumber", "FName", "FCreateOrgId.FNumber"],
        ))
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![("C9001".into(), "杭州华信科技有限公司".into(), "100".into())]
    );

    // The server's session cookie is sent back on later calls.
    let requests = fake.received().await;
    assert!(requests[0].headers.get("kdservice-sessionid").is_none());
    let last = requests.last().unwrap();
    assert!(last.headers.get("kdservice-sessionid").is_some());
    let cookie = last.headers.get("cookie").unwrap().to_str().unwrap();
    assert!(
        cookie.starts_with("Theme=standard;") && cookie.contains("kdservice-sessionid="),
        "{cookie}"
    );
    assert_eq!(last.headers.get("x-api-auth-version").unwrap(), "2.0");
}

#[tokio::test]
async fn save_refusal_is_an_api_error_with_kingdee_message() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let err = client
        .save(
            "BD_Customer",
            &json!({"FNumber": "X1"}),
            &SaveOptions::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(..)), "{err:?}");
    let errors = err.field_errors();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].message, "字段“客户名称”是必填项");
    assert_eq!(errors[0].field_name.as_deref(), Some("FName"));
    assert_eq!(
        integration_core::Error::from(err).kind(),
        ErrorKind::Business
    );
}

#[tokio::test]
async fn numbers_are_allocated_and_duplicates_refused_by_dindex() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let models = vec![
        json!({"FName": "自动编码客户", "FCreateOrgId": {"FNumber": "100"}}),
        json!({"FNumber": "D1", "FName": "甲", "FCreateOrgId": {"FNumber": "100"}}),
        json!({"FNumber": "D1", "FName": "乙", "FCreateOrgId": {"FNumber": "100"}}),
    ];
    let result = client
        .batch_save("BD_Customer", &models, &SaveOptions::new())
        .await
        .unwrap();
    // As a real site answers a duplicate: MsgCode 11, ErrorCode 500.
    assert!(!result.status.is_success);
    assert_eq!(result.status.msg_code, msg_code::VALIDATION_FAILED);
    assert_eq!(result.status.error_code, Some(500));
    let outcomes = result.outcomes(3);
    match &outcomes[0] {
        kingdee_cloud::ModelOutcome::Saved(s) => assert_eq!(s.number.as_deref(), Some("CUST0001")),
        other => panic!("{other:?}"),
    }
    match &outcomes[2] {
        kingdee_cloud::ModelOutcome::Failed(e) => {
            assert!(e[0].message.contains("[D1]已经被[客户]使用"), "{e:?}")
        }
        other => panic!("{other:?}"),
    }

    // A batch refused as a whole (MsgCode 11, nothing saved) is still
    // answered model by model, not as an error of the call.
    let models = vec![
        json!({"FNumber": "D1", "FName": "丙", "FCreateOrgId": {"FNumber": "100"}}),
        json!({"FNumber": "D2"}),
    ];
    let result = client
        .batch_save("BD_Customer", &models, &SaveOptions::new())
        .await
        .unwrap();
    assert_eq!(result.status.msg_code, msg_code::VALIDATION_FAILED);
    assert!(result.status.success_entitys.is_empty());
    let outcomes = result.outcomes(2);
    assert!(
        matches!(&outcomes[0], kingdee_cloud::ModelOutcome::Failed(e) if e[0].message.contains("唯一")),
        "{outcomes:?}"
    );
    assert!(
        matches!(&outcomes[1], kingdee_cloud::ModelOutcome::Failed(e) if e[0].message.contains("必填")),
        "{outcomes:?}"
    );
}

/// The answer of a real site to a BatchSave of two models, the second a
/// duplicate number (as captured by independent clients): MsgCode 11.
#[tokio::test]
async fn a_captured_validation_answer_is_read_model_by_model() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let answer = json!({"Result": {"ResponseStatus": {"ErrorCode": 500, "IsSuccess": false,
        "Errors": [{"FieldName": "FNumber", "Message": "违反字段唯一性要求：编码唯一。[C0002]已经被[客户]使用。", "DIndex": 1}],
        "SuccessEntitys": [{"Id": 100501, "Number": "C0001", "DIndex": 0}],
        "SuccessMessages": [], "MsgCode": 11}, "Id": "", "Number": "", "NeedReturnData": [{}]}});
    fake.faults().inject_on(
        "BatchSave",
        Fault::Respond(Box::new(ResponseTemplate::new(200).set_body_json(answer))),
        1,
    );
    let models = [customer("C0001", "甲"), customer("C0002", "乙")];
    let result = client
        .batch_save("BD_Customer", &models, &SaveOptions::new())
        .await
        .unwrap();
    let outcomes = result.outcomes(2);
    assert!(
        matches!(&outcomes[0], kingdee_cloud::ModelOutcome::Saved(s) if s.number.as_deref() == Some("C0001"))
    );
    assert!(
        matches!(&outcomes[1], kingdee_cloud::ModelOutcome::Failed(e) if e[0].d_index == Some(1))
    );
}

#[tokio::test]
async fn status_refusals_are_validation_failures_not_auth_errors() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(1);
    let client = fake.client_builder().build().unwrap();
    // The seeded customer is audited already.
    let err = client
        .audit("BD_Customer", &OperateRequest::numbers(["C00001"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(f, status) if f.code_str() == Some("11") && status.errors[0].message.contains("不能执行Audit")),
        "{err:?}"
    );
    assert!(!integration_core::Retry::is_retryable(&err));
    assert!(err.to_string().contains("验证失败"), "{err}");
    assert_eq!(
        integration_core::Error::from(err).kind(),
        ErrorKind::Business
    );
}

#[tokio::test]
async fn bill_lifecycle_operations() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(2);
    let client = fake.client_builder().build().unwrap();
    let order = SaleOrder {
        bill_type: Some("XSDD01_SYS".into()),
        date: kingdee_cloud::models::SaleOrder::default()
            .date
            .or(integration_core::types::BeijingTime::parse("2026-01-05")),
        sale_org: Some("100".into()),
        customer: Some("C00001".into()),
        entries: vec![
            SaleOrderEntry {
                material: Some("M001".into()),
                qty: Some(Decimal::new(3, 0)),
                tax_price: Some(Decimal::new(1413, 2)),
                ..SaleOrderEntry::default()
            },
            SaleOrderEntry {
                material: Some("M002".into()),
                qty: Some(Decimal::new(1, 0)),
                tax_price: Some(Decimal::new(99999, 2)),
                ..SaleOrderEntry::default()
            },
        ],
        ..SaleOrder::default()
    };
    let saved = client
        .save("SAL_SaleOrder", &order, &SaveOptions::new())
        .await
        .unwrap();
    let bill_no = saved.number.clone().unwrap();
    assert_eq!(bill_no, "XSDD000001");
    let by_number = OperateRequest::numbers([bill_no.clone()]);
    client.submit("SAL_SaleOrder", &by_number).await.unwrap();
    // Deleting a submitted bill is refused with Kingdee's message.
    let err = client
        .delete("SAL_SaleOrder", &by_number)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("不能执行Delete操作"), "{err}");
    client.audit("SAL_SaleOrder", &by_number).await.unwrap();
    let status: Vec<(String,)> = client
        .execute_bill_query(
            &BillQuery::new("SAL_SaleOrder", ["FDocumentStatus"])
                .filter(format!("FBillNo = '{bill_no}'")),
        )
        .await
        .unwrap();
    assert_eq!(status, vec![("C".to_owned(),)]);
    // Entry fields expand to one row per line.
    let lines: Vec<(String, String, Decimal)> = client
        .execute_bill_query(
            &BillQuery::new(
                "SAL_SaleOrder",
                ["FBillNo", "FMaterialId.FNumber", "FTaxPrice"],
            )
            .order("FTaxPrice desc"),
        )
        .await
        .unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].2, Decimal::new(99999, 2));
    let viewed: SaleOrder = client
        .view("SAL_SaleOrder", &ViewRequest::number(&bill_no))
        .await
        .unwrap();
    assert_eq!(viewed.entries.len(), 2);
    assert!(viewed.entries.iter().all(|e| e.entry_id.is_some()));
    client.unaudit("SAL_SaleOrder", &by_number).await.unwrap();
    client.delete("SAL_SaleOrder", &by_number).await.unwrap();
    assert!(fake.records("SAL_SaleOrder").is_empty());
    let err = client
        .view::<Value>("SAL_SaleOrder", &ViewRequest::number(&bill_no))
        .await
        .unwrap_err();
    assert_eq!(err.msg_code(), Some(msg_code::NOT_FOUND));

    // ExcuteOperation, Allocate, Draft.
    let id = fake.records("BD_Customer")[0]["FCUSTID"].as_i64().unwrap();
    client
        .execute_operation("BD_Customer", "Forbid", &OperateRequest::ids([id]))
        .await
        .unwrap();
    assert_eq!(fake.records("BD_Customer")[0]["FForbidStatus"], "B");
    let allocated = client
        .allocate(
            "BD_Customer",
            &AllocateRequest {
                pk_ids: id.to_string(),
                t_org_ids: "101".into(),
                ..AllocateRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(allocated.status.success_entitys.len(), 1);
    let draft = client
        .draft(
            "BD_Customer",
            &json!({"FName": "暂存客户"}),
            &SaveOptions::new(),
        )
        .await
        .unwrap();
    assert!(draft.status.is_success);
}

#[tokio::test]
async fn bill_query_business_info_data_centres_and_raw() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(5);
    let client = fake.client_builder().build().unwrap();
    let rows: Vec<serde_json::Map<String, Value>> = client
        .bill_query(
            &BillQuery::new("BD_Customer", ["FNumber", "FName"])
                .filter("FNumber in ('C00002','C00004')"),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["FNumber"], "C00004");
    let info = client.query_business_info("BD_Customer").await.unwrap();
    assert_eq!(info.need_return_data["PkFieldName"], "FCUSTID");
    let centres: Vec<DataCenter> = client.get_data_center_list().await.unwrap();
    assert_eq!(centres[0].id, testing::ACCT_ID);
    let raw = client
        .call_raw(
            "ExecuteBillQuery",
            json!({"data": {"FormId": "BD_Customer", "FieldKeys": "FNumber", "FilterString": "FName like '%上海%'"}}),
        )
        .await
        .unwrap();
    assert!(
        raw.as_array()
            .unwrap()
            .iter()
            .all(|r| r[0].as_str().unwrap().starts_with('C'))
    );
    let err = client
        .call_raw(
            "Save",
            json!({"formid": "BD_Customer", "data": {"Model": {}}}),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api(..)), "{err:?}");
}

#[tokio::test]
async fn filter_forms_and_query_errors() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(40);
    let client = fake.client_builder().build().unwrap();
    let count = |filter: &'static str| {
        let client = client.clone();
        async move {
            client
                .execute_bill_query::<(String,)>(
                    &BillQuery::new("BD_Customer", ["FNumber"]).filter(filter),
                )
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("FNumber = 'C00001'").await, 1);
    assert_eq!(count("FNumber <> 'C00001'").await, 39);
    assert_eq!(count("FNumber > 'C00030'").await, 10);
    assert_eq!(
        count("FNumber >= 'C00030' and FNumber <= 'C00032'").await,
        3
    );
    assert_eq!(
        count("FNumber < 'C00003' or FNumber in ('C00010', 'C00011')").await,
        4
    );
    assert_eq!(
        count("FName like '上海%' and (FNumber = 'C00001' or FNumber = 'C00009')").await,
        2
    );
    let february =
        count("FModifyDate >= '2025-02-01 00:00:00' and FModifyDate < '2025-03-01'").await;
    assert!(february > 0 && february < 40, "{february}");
    let err = client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]).filter("FNumber = "))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("FilterString"), "{err}");
}

#[tokio::test]
async fn stream_pages_lazily_over_three_pages() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(25);
    let client = fake.client_builder().build().unwrap();
    let customers = client.customers();
    let query = customers
        .query(["FNumber", "FName"])
        .order("FNumber")
        .limit(10);
    // One page, and the query of the next.
    let page = customers.list::<(String, String)>(&query).await.unwrap();
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.next.as_ref().map(|q| q.start_row), Some(10));
    let last = customers
        .list::<(String, String)>(&query.clone().start_row(20))
        .await
        .unwrap();
    assert_eq!((last.items.len(), last.next), (5, None));
    let before = fake.received_on("ExecuteBillQuery").await.len();
    let rows: Vec<(String, String)> = customers.stream(query.clone()).try_collect().await.unwrap();
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[24].0, "C00025");
    let starts: Vec<u64> = fake
        .received_on("ExecuteBillQuery")
        .await
        .iter()
        .skip(before)
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["data"]["StartRow"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(starts, vec![0, 10, 20]);
    // An exact multiple of the page size ends after an empty page, which
    // is not yielded.
    let pages: Vec<Page<(String,), BillQuery>> = customers
        .pages(customers.query(["FNumber"]).limit(5).top_row_count(0))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 5);
    // TopRowCount ends the pages once reached.
    let pages: Vec<Page<(String,), BillQuery>> = customers
        .pages(customers.query(["FNumber"]).limit(5).top_row_count(12))
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, vec![5, 5, 2]);
    // Limit is clamped to the service maximum.
    let _ = client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]).limit(50_000))
        .await
        .unwrap();
    let last = fake.received_on("ExecuteBillQuery").await.pop().unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&last.body).unwrap()["data"]["Limit"],
        10_000
    );
}

#[tokio::test]
async fn legacy_parameters_body_is_accepted() {
    let fake = FakeK3Cloud::start().await;
    let client = fake
        .client_builder()
        .body_style(BodyStyle::Legacy)
        .build()
        .unwrap();
    client
        .save(
            "BD_Customer",
            &customer("L1", "旧接口客户"),
            &SaveOptions::new(),
        )
        .await
        .unwrap();
    let rows: Vec<(String,)> = client
        .execute_bill_query(&BillQuery::new("BD_Customer", ["FName"]).filter("FNumber = 'L1'"))
        .await
        .unwrap();
    assert_eq!(rows[0].0, "旧接口客户");
    client
        .execute_operation("BD_Customer", "Forbid", &OperateRequest::numbers(["L1"]))
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&fake.received_on("Save").await[0].body).unwrap();
    assert!(body["parameters"][1].is_string());
}

#[tokio::test]
async fn wrong_credentials_are_auth_errors() {
    let fake = FakeK3Cloud::start().await;
    let wrong_secret = Client::builder()
        .server_url(fake.server_url())
        .app_signature(AppCredentials::new(
            testing::ACCT_ID,
            testing::USER_NAME,
            testing::APP_ID,
            "not-the-secret",
        ))
        .build()
        .unwrap();
    let err = wrong_secret
        .get_data_center_list()
        .await
        .map(|_| ())
        .and(Ok(()));
    assert!(err.is_ok(), "GetDataCenterList needs no login");
    let err = wrong_secret
        .query_business_info("BD_Customer")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(f) if f.code_str() == Some("2")),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("2"));
    assert_eq!(integration_core::Error::from(err).kind(), ErrorKind::Auth);

    let wrong_user = Client::builder()
        .server_url(fake.server_url())
        .app_signature(AppCredentials::new(
            testing::ACCT_ID,
            "nobody",
            testing::APP_ID,
            testing::APP_SECRET,
        ))
        .build()
        .unwrap();
    let err = wrong_user
        .query_business_info("BD_Customer")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nobody"), "{err}");

    let wrong_password = Client::builder()
        .server_url(fake.server_url())
        .password_login(testing::ACCT_ID, testing::USER_NAME, "wrong")
        .build()
        .unwrap();
    let err = wrong_password
        .query_business_info("BD_Customer")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(f) if f.code.is_none()),
        "{err:?}"
    );
    assert!(err.message().contains("LoginResultType 0"), "{err}");
    assert!(err.to_string().contains("用户名或密码错误"));
}

#[tokio::test]
async fn licence_errors_are_auth_errors_that_say_so() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    fake.set_licence_expired(true);
    let err = client
        .batch_save("BD_Customer", &[customer("L1", "甲")], &SaveOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(f) if f.code_str() == Some("7")),
        "{err:?}"
    );
    assert!(err.to_string().contains("licence"), "{err}");
    assert_eq!(fake.received_on("BatchSave").await.len(), 1, "not retried");
    assert_eq!(integration_core::Error::from(err).kind(), ErrorKind::Auth);
}

/// Kingdee's official Java SDK sends `x-api-timestamp` and `x-api-nonce`
/// in milliseconds; the Python SDK (and this crate) in seconds.
#[tokio::test]
async fn signatures_with_millisecond_timestamps_are_accepted() {
    let fake = FakeK3Cloud::start().await;
    let url = format!(
        "{}/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.QueryBusinessInfo.common.kdsvc",
        fake.server_url()
    );
    let path = url::Url::parse(&url).unwrap().path().to_owned();
    let http = reqwest::Client::new();
    for timestamp in [
        chrono::Utc::now().timestamp(),
        chrono::Utc::now().timestamp_millis(),
    ] {
        let signed = kingdee_cloud::auth::sign(&FakeK3Cloud::app_credentials(), &path, timestamp);
        let mut request = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(json!({"data": {"FormId": "BD_Customer"}}).to_string());
        for (name, value) in signed.pairs() {
            request = request.header(name, value);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert_eq!(
            answer["Result"]["ResponseStatus"]["IsSuccess"], true,
            "{timestamp}: {answer}"
        );
    }
    // A stale timestamp is still refused, in either unit.
    let stale = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let signed = kingdee_cloud::auth::sign(&FakeK3Cloud::app_credentials(), &path, stale);
    let mut request = http.post(&url).body("{}");
    for (name, value) in signed.pairs() {
        request = request.header(name, value);
    }
    let answer: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["Result"]["ResponseStatus"]["MsgCode"], 2, "{answer}");
}

/// The documented array form of `FilterString` is refused by the fake, not
/// answered with every row as if there were no filter.
#[tokio::test]
async fn an_array_filter_string_is_refused_not_ignored() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(5);
    let client = fake.client_builder().build().unwrap();
    let err = client
        .call_raw(
            "ExecuteBillQuery",
            json!({"data": {"FormId": "BD_Customer", "FieldKeys": "FNumber",
                "FilterString": [{"Left": "(", "FieldName": "FNumber", "Compare": "67",
                    "Value": "C00001", "Right": ")", "Logic": 0}]}}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(f, _) if f.code_str() == Some("8")),
        "{err:?}"
    );
    assert!(err.to_string().contains("FilterString"), "{err}");
}

#[tokio::test]
async fn session_logins_keep_the_cookie_and_log_in_again_when_lost() {
    let fake = FakeK3Cloud::start().await;
    fake.seed_customers(3);
    for builder in [
        fake.password_client_builder(),
        fake.app_secret_client_builder(),
    ] {
        fake.expire_sessions();
        let before = fake.state().logins;
        let client = builder.build().unwrap();
        let clone = client.clone();
        let rows = |c: Client| async move {
            c.execute_bill_query::<(String,)>(&BillQuery::new("BD_Customer", ["FNumber"]))
                .await
                .unwrap()
                .len()
        };
        // Concurrent first calls share one login.
        let (a, b) = tokio::join!(rows(client.clone()), rows(clone.clone()));
        assert_eq!((a, b), (3, 3));
        assert_eq!(fake.state().logins, before + 1);
        fake.expire_sessions();
        assert_eq!(rows(clone).await, 3);
        assert_eq!(fake.state().logins, before + 2);
    }
    let last = fake.received_on("ExecuteBillQuery").await.pop().unwrap();
    assert!(last.headers.get("x-kd-appkey").is_none());
    assert!(
        last.headers
            .get("cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("kdservice-sessionid=")
    );
}

#[tokio::test]
async fn app_signature_session_lost_is_retried_once() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    fake.faults().inject(Fault::AuthExpired, 1);
    client
        .save(
            "BD_Customer",
            &customer("S1", "会话客户"),
            &SaveOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(fake.records("BD_Customer").len(), 1);
    // Lost twice in a row: surfaced as SessionLost after one retry.
    fake.faults().inject(Fault::AuthExpired, 2);
    let err = client.query_business_info("BD_Customer").await.unwrap_err();
    assert!(err.is_session_lost(), "{err:?}");
    assert_eq!(
        integration_core::Error::from(err).kind(),
        ErrorKind::AuthExpired
    );
}

#[tokio::test]
async fn throttling_then_success() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    // The call limit (MsgCode 14) is retried with backoff ...
    fake.faults().inject(Fault::Throttled, 2);
    client.query_business_info("BD_Customer").await.unwrap();
    assert_eq!(fake.received().await.len(), 3);
    // ... and surfaces as throttled once the retries are spent.
    fake.faults().inject(Fault::Throttled, 10);
    let err = client.query_business_info("BD_Customer").await.unwrap_err();
    assert!(matches!(err, Error::Throttled(_)), "{err:?}");
    assert_eq!(err.msg_code(), Some(msg_code::CALL_LIMIT));
    let core = integration_core::Error::from(err);
    assert_eq!(core.kind(), ErrorKind::RateLimited);
    assert!(core.is_retryable());
    assert_eq!(fake.received().await.len(), 3 + 4);
    fake.faults().clear();
    fake.faults().inject(Fault::ServerError(503), 10);
    let err = client.query_business_info("BD_Customer").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert!(!err.to_string().contains("<html>") || err.to_string().len() < 400);
}

/// A `response_error:` text is Kingdee's own error; rows of the wrong
/// shape are a decode error.
#[tokio::test]
async fn response_error_text_and_rows_of_the_wrong_shape() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    fake.faults().inject(
        Fault::Respond(Box::new(
            ResponseTemplate::new(200).set_body_raw("response_error:服务器内部异常", "text/plain"),
        )),
        1,
    );
    let err = client.query_business_info("BD_Customer").await.unwrap_err();
    assert!(
        matches!(&err, Error::ResponseError(f) if f.message == "服务器内部异常"),
        "{err:?}"
    );
    fake.faults().inject(
        Fault::Respond(Box::new(
            ResponseTemplate::new(200).set_body_raw("[1, 2]", "application/json"),
        )),
        1,
    );
    let err = client
        .execute_bill_query_rows(&BillQuery::new("BD_Customer", ["FNumber"]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn secrets_never_show_in_debug() {
    let fake = FakeK3Cloud::start().await;
    let client = fake.client_builder().build().unwrap();
    let builder = fake.password_client_builder();
    let text = format!(
        "{client:?} {builder:?} {:?}",
        fake.app_secret_client_builder().build().unwrap()
    );
    for secret in [testing::APP_SECRET, testing::PASSWORD, "T8cC4ZmM0ohdQe"] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    let wrong = Client::builder()
        .server_url(fake.server_url())
        .password_login(testing::ACCT_ID, testing::USER_NAME, "hunter2-secret")
        .build()
        .unwrap();
    let err = wrong.query_business_info("BD_Customer").await.unwrap_err();
    assert!(!format!("{err:?} {err}").contains("hunter2-secret"));
    assert!(Client::builder().build().is_err());
}

/// The fake is driven as every connector's fake is, through the shared
/// trait: a sandbox or a generic test needs nothing crate-specific.
#[tokio::test]
async fn the_client_passes_the_shared_conformance_checks() {
    use integration_core::testing::{Fake, conformance};

    let fake = <FakeK3Cloud as Fake>::start().await;
    fake.seed_customers(3);
    let client = Fake::client_builder(&fake).build().unwrap();
    let customers = client.customers();
    let query = customers.query(["FNumber"]);
    conformance::check_read(&fake, || customers.list::<(String,)>(&query)).await;
    assert_eq!(Fake::base_url(&fake), fake.server_url());
    assert_eq!(Fake::credentials(&fake).acct_id, testing::ACCT_ID);
}
