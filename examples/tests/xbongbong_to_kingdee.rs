//! Scheme 1 against the fakes: everything arrives once, a rerun duplicates
//! nothing, required fields are checked before writing, and settings point
//! the binary's clients at any server.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;
use examples::runner::{Job, Progress, SetupError};
use examples::schemes::xbongbong_to_kingdee::{
    CONTRACTS, CUSTOMERS, map_contract, map_customer, setup,
};
use examples::settings::Settings;
use integration_core::mapping::CollectionEntry;
use integration_core::{MapContext, SourceRecord, SqliteStore, StateStore};
use kingdee_cloud::testing::FakeK3Cloud;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use xbongbong::testing::{CONTRACT_FORM_GET_JSON, CONTRACT_FORM_ID, FakeXbongbong};
use xbongbong::{FormExplain, Record};

fn store() -> Arc<dyn StateStore> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn numbers(records: &[Map<String, Value>], field: &str) -> Vec<String> {
    let mut n: Vec<String> = records
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

/// A valid contract of the real contract form, for customer `customer`.
fn contract(serial: &str, customer: i64, signed: i64) -> Map<String, Value> {
    json!({
        "text_15": "新签", "serialNo": serial, "text_2": customer, "text_8": "01234567890124",
        "date_1": signed, "text_6": "签约", "ownerId": ["01234567890124"],
        "array_4": [{"text_1": 30000007, "num_4": 100, "num_6": 2680.5, "num_3": 3, "text_3": "加急"}],
        "num_27": 0, "num_28": 0, "num_1": 8041.5,
        "array_1": [{"num_1": 8041.5, "date_1": signed + 30 * 86_400}],
        "array_5": ["款到发货"], "text_23": "7折及7折以上"
    })
    .as_object()
    .unwrap()
    .clone()
}

#[tokio::test]
async fn every_record_arrives_once_and_a_rerun_duplicates_nothing() {
    let job = setup(&Settings::empty(), store(), Progress::hidden("t"))
        .await
        .unwrap();
    assert!(job.notes().iter().any(|n| n.contains("built-in fake")));
    assert!(job.notes().iter().any(|n| n.contains("合同订单 (572924")));
    let first = job.run().await.unwrap();
    let xbb = job.xbongbong.fake.as_ref().unwrap();
    let k3 = job.kingdee.fake.as_ref().unwrap();
    let (customers, contracts) = (xbb.records("customer").len(), xbb.records("contract").len());
    assert!(customers >= 40 && contracts >= 120);
    assert_eq!(first[0].written as usize, customers, "{}", first[0]);
    assert_eq!(first[1].written as usize, contracts, "{}", first[1]);
    assert_eq!(first[0].dead_lettered + first[1].dead_lettered, 0);
    let summary = job.verify().await.unwrap();
    assert!(summary.contains("0 dead-lettered"), "{summary}");

    // Every order references a customer that is in K/3 Cloud.
    let customer_numbers = numbers(&k3.records("BD_Customer"), "FNumber");
    for order in k3.records("SAL_SaleOrder") {
        let number = order["FCustId"]["FNumber"].as_str().unwrap();
        assert!(customer_numbers.binary_search(&number.to_owned()).is_ok());
        assert!(!order["FSaleOrderEntry"].as_array().unwrap().is_empty());
    }
    let before = (
        numbers(&k3.records("BD_Customer"), "FNumber"),
        numbers(&k3.records("SAL_SaleOrder"), "FBillNo"),
    );

    // Every customer got its K/3 Cloud number written back.
    assert_eq!(first[0].written_back as usize, customers, "{}", first[0]);
    for customer in xbb.records("customer") {
        assert_eq!(customer.data["text_5"], customer.data["serialNo"]);
    }

    // The rerun reads the customers the write-back edited (their
    // updateTime moved) and of the contracts only the overlap window after
    // the checkpoint, updates in place and writes nothing back again:
    // nothing new, nothing duplicated.
    let second = job.run().await.unwrap();
    assert_eq!(second[0].read as usize, customers, "{}", second[0]);
    assert_eq!(
        (
            second[0].written_back,
            second[0].write_back_unchanged as usize
        ),
        (0, customers)
    );
    assert!(second[1].read < first[1].read / 4, "{}", second[1]);
    assert!(second.iter().all(|r| r.dead_lettered == 0));
    let after = (
        numbers(&k3.records("BD_Customer"), "FNumber"),
        numbers(&k3.records("SAL_SaleOrder"), "FBillNo"),
    );
    assert_eq!(before, after);
    assert_eq!(job.verify().await.unwrap(), summary);
}

#[tokio::test]
async fn records_failing_the_form_check_are_dead_lettered_by_display_name() {
    let state = store();
    let job = setup(
        &Settings::empty(),
        Arc::clone(&state),
        Progress::hidden("t"),
    )
    .await
    .unwrap();
    let xbb = job.xbongbong.fake.as_ref().unwrap();
    let customer = xbb.records("customer")[0].data_id;
    let now = xbb.state().now;
    let signed = now - 40 * 86_400;

    let mut incomplete = contract("SO.20260120901", customer, signed);
    incomplete.remove("num_1");
    incomplete["array_4"][0]
        .as_object_mut()
        .unwrap()
        .remove("num_3");
    let incomplete = xbb.insert(
        "contract",
        CONTRACT_FORM_ID,
        signed,
        signed + 60,
        incomplete,
    );
    let stranger = xbb.insert(
        "contract",
        CONTRACT_FORM_ID,
        signed,
        signed + 60,
        contract("SO.20260120902", 99_999_999, signed),
    );
    let mut ended = contract("SO.20260120903", customer, signed);
    ended.insert("text_6".into(), json!("终止"));
    xbb.insert("contract", CONTRACT_FORM_ID, signed, signed + 60, ended);

    let reports = job.run().await.unwrap();
    assert_eq!(reports[1].dead_lettered, 2, "{}", reports[1]);
    assert_eq!(reports[1].skipped, 1, "{}", reports[1]);

    let letters = state.dead_letters(CONTRACTS).await.unwrap();
    let error = |key: i64| {
        letters
            .iter()
            .find(|d| d.key == key.to_string())
            .map(|d| d.error.clone())
            .unwrap_or_else(|| panic!("no dead letter for {key}"))
    };
    let missing = error(incomplete);
    assert!(missing.contains("合同金额为必填字段"), "{missing}");
    assert!(
        missing.contains("关联产品 第1行 数量为必填字段"),
        "{missing}"
    );
    let orphan = error(stranger);
    assert!(
        orphan.contains("客户名称") && orphan.contains("99999999"),
        "{orphan}"
    );

    let orders = numbers(
        &job.kingdee.fake.as_ref().unwrap().records("SAL_SaleOrder"),
        "FBillNo",
    );
    for serial in ["SO.20260120901", "SO.20260120902", "SO.20260120903"] {
        assert!(!orders.contains(&serial.to_owned()), "{serial} was written");
    }
    // Dead letters and skipped terminations are accounted for.
    job.verify().await.unwrap();
}

#[tokio::test]
async fn settings_point_the_clients_at_servers_on_loopback() {
    let xbb = FakeXbongbong::start().await;
    xbb.seed_customers(6);
    xbb.seed_contracts(9);
    let k3 = FakeK3Cloud::start().await;
    let creds = FakeXbongbong::credentials();
    let app = FakeK3Cloud::app_credentials();
    let (xbb_url, k3_url) = (xbb.uri(), k3.server_url());
    let settings = Settings::from_sources(
        None,
        env(&[
            ("XBONGBONG_BASE_URL", &xbb_url),
            ("XBONGBONG_CORPID", creds.corpid),
            ("XBONGBONG_TOKEN", creds.token),
            ("XBONGBONG_USER_ID", creds.user_id),
            ("KINGDEE_SERVER_URL", &k3_url),
            ("KINGDEE_ACCT_ID", &app.acct_id),
            ("KINGDEE_USER_NAME", &app.user_name),
            ("KINGDEE_APP_ID", &app.app_id),
            ("KINGDEE_APP_SECRET", app.app_secret.expose()),
        ]),
    )
    .unwrap();
    let job = setup(&settings, store(), Progress::hidden("t"))
        .await
        .unwrap();
    assert!(job.xbongbong.fake.is_none() && job.kingdee.fake.is_none());
    assert!(job.notes()[0].contains(&xbb_url));
    let reports = job.run().await.unwrap();
    assert_eq!((reports[0].written, reports[1].written), (6, 9));

    // The fakes check every signature: these calls were signed correctly.
    let list = xbb.received_on("form/list").await;
    let bodies: Vec<Value> = list
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(bodies.iter().any(|b| b["businessType"] == 201));
    assert!(bodies.iter().any(|b| b["businessType"] == 100));
    assert!(!xbb.received_on("form/get").await.is_empty());
    assert_eq!(k3.records("BD_Customer").len(), 6);
    assert_eq!(k3.records("SAL_SaleOrder").len(), 9);
    assert!(!k3.received_on("BatchSave").await.is_empty());
    assert_eq!(
        job.verify().await.unwrap(),
        "not verifiable against real systems"
    );
}

#[tokio::test]
async fn bad_settings_name_the_setting() {
    let setting = |pairs: &[(&str, &str)]| {
        let settings = Settings::from_sources(None, env(pairs)).unwrap();
        async move {
            match setup(&settings, store(), Progress::hidden("t")).await {
                Err(SetupError::Settings(e)) => e.setting,
                Err(e) => panic!("not a settings error: {e}"),
                Ok(_) => panic!("accepted"),
            }
        }
    };
    assert_eq!(
        setting(&[("XBONGBONG_CORPID", "dingabc")]).await,
        "XBONGBONG_TOKEN"
    );
    assert_eq!(
        setting(&[
            ("XBONGBONG_CORPID", "dingabc"),
            ("XBONGBONG_TOKEN", "t"),
            ("XBONGBONG_BASE_URL", "proapi.xbongbong.com")
        ])
        .await,
        "XBONGBONG_BASE_URL"
    );
    assert_eq!(
        setting(&[
            ("KINGDEE_SERVER_URL", "https://erp.example.com/k3cloud"),
            ("KINGDEE_ACCT_ID", "1"),
            ("KINGDEE_USER_NAME", "u"),
            ("KINGDEE_APP_ID", "a"),
        ])
        .await,
        "KINGDEE_APP_SECRET"
    );
}

#[test]
fn the_typed_mapping_needs_no_server() {
    let form: FormExplain = serde_json::from_value(
        serde_json::from_str::<Value>(CONTRACT_FORM_GET_JSON).unwrap()["result"].clone(),
    )
    .unwrap();
    let ctx = MapContext::new(Utc::now()).with_entries([CollectionEntry::new(
        CUSTOMERS,
        "25430001",
        json!({"dataId": 25430001, "data": {"serialNo": "KH.0001", "text_1": "杭州云帆科技有限公司"}}),
    )
    .with_target_id("100001")]);
    let record = |data: Map<String, Value>| {
        SourceRecord::upsert(
            "25431234",
            serde_json::from_value::<Record>(json!({"dataId": 25431234, "data": data})).unwrap(),
        )
    };
    // 2026-01-20 09:00 in Beijing.
    let order = map_contract(
        &form,
        &record(contract("SO.20260120001", 25430001, 1_768_870_800)),
        &ctx,
    )
    .unwrap()
    .unwrap();
    assert_eq!(order.bill_no.as_deref(), Some("SO.20260120001"));
    assert_eq!(order.customer.unwrap().number.as_deref(), Some("KH.0001"));
    assert_eq!(order.date.unwrap().to_string(), "2026-01-20 00:00:00");
    let line = &order.entries[0];
    assert_eq!(
        line.material.as_ref().unwrap().number.as_deref(),
        Some("30000007")
    );
    assert_eq!(line.qty, Some(Decimal::from(3)));
    assert_eq!(line.tax_price, Some(Decimal::new(268_050, 2)));
    assert_eq!(
        order.extra["FNote"],
        "销帮帮合同 SO.20260120001, 合同金额 8041.50"
    );

    let mut rich = contract("SO.20260120002", 25430001, 1_768_870_800);
    rich.insert("text_6".into(), json!({"text": "终止", "value": "4"}));
    assert!(map_contract(&form, &record(rich), &ctx).unwrap().is_none());

    let customer: FormExplain =
        serde_json::from_value(json!({"explainList": xbongbong::testing::customer_form_explain()}))
            .unwrap();
    let e = map_customer(&customer, &record(Map::new()), &ctx).unwrap_err();
    assert!(e.to_string().contains("客户名称为必填字段"), "{e}");
}
