#![allow(clippy::unwrap_used)]
//! Scheme 2 against the fakes: jdy purchase inbound bills → Jackyun customers.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use examples::runner::{Job, Progress, SetupError};
use examples::schemes::jdy_to_jackyun::{MAPPING, NAME, setup};
use examples::settings::Settings;
use integration_core::mapping::declarative::DeclarativeMapping;
use integration_core::{MapContext, SqliteStore, StateStore};
use jackyun::testing::FakeJackyun;
use jdy::testing::{self as jdy_fake, FakeJdy};
use serde_json::json;

fn memory_state() -> Arc<dyn StateStore> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn adds(fake: &FakeJackyun) -> usize {
    fake.state()
        .calls
        .iter()
        .filter(|m| *m == "crm.customer.add")
        .count()
}

fn suppliers(fake: &FakeJdy) -> BTreeSet<String> {
    fake.state()
        .pur_inbound
        .iter()
        .map(|b| b["supplier_number"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(fake: &FakeJackyun) -> Vec<String> {
    let mut codes: Vec<String> = fake
        .state()
        .customers()
        .iter()
        .map(|c| c["customerCode"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    codes
}

#[tokio::test]
async fn every_supplier_becomes_one_customer_and_a_second_run_adds_nothing() {
    let job = setup(&Settings::empty(), memory_state(), Progress::hidden(NAME))
        .await
        .unwrap();
    assert!(job.notes().iter().all(|n| n.contains("built-in fake")));

    let reports = job.run().await.unwrap();
    let report = &reports[0];
    assert_eq!(report.dead_lettered, 0, "{report}");
    assert_eq!(report.unaccounted(), 0, "{report}");
    // 120 bills, but one record per supplier.
    assert_eq!((report.read, report.written), (8, 8), "{report}");
    let summary = job.verify().await.unwrap();
    assert!(
        summary.starts_with("120 bills of 8 suppliers → 8 Jackyun customers"),
        "{summary}"
    );

    // A second run reads only the overlap and duplicates nothing (verify
    // fails on a customer code stored twice).
    let again = job.run().await.unwrap();
    assert_eq!(again[0].dead_lettered, 0, "{}", again[0]);
    assert!(again[0].read < report.read, "{}", again[0]);
    assert_eq!(job.verify().await.unwrap(), summary);
}

#[tokio::test]
async fn settings_point_both_systems_at_loopback_v1() {
    let jdy = FakeJdy::start().await;
    jdy.seed(30, 7);
    let jackyun = FakeJackyun::start().await;
    let (jdy_url, jackyun_url) = (jdy.uri(), jackyun.uri());
    let settings = Settings::from_sources(
        None,
        env(&[
            ("JDY_BASE_URL", &jdy_url),
            ("JDY_CLIENT_ID", jdy_fake::V1_CLIENT_ID),
            ("JDY_CLIENT_SECRET", jdy_fake::V1_CLIENT_SECRET),
            ("JDY_USERNAME", jdy_fake::V1_USERNAME),
            ("JDY_PASSWORD", jdy_fake::V1_PASSWORD),
            ("JDY_GROUP_NAME", jdy_fake::V1_GROUP_NAME),
            ("JACKYUN_BASE_URL", &jackyun_url),
            ("JACKYUN_APPKEY", jackyun::testing::APPKEY),
            ("JACKYUN_SECRET", jackyun::testing::SECRET),
        ]),
    )
    .unwrap();
    let job = setup(&settings, memory_state(), Progress::hidden(NAME))
        .await
        .unwrap();
    assert!(job.notes()[0].contains("V1 API"), "{:?}", job.notes());
    assert_eq!(
        job.verify().await.unwrap(),
        "not verifiable against real systems"
    );

    let report = job.run().await.unwrap().remove(0);
    assert_eq!(report.dead_lettered, 0, "{report}");
    let expected: Vec<String> = suppliers(&jdy).into_iter().collect();
    assert_eq!(codes(&jackyun), expected);
    // The V1 list (`/jdy/pur/pur_inbound_list`) as in the scheme document.
    assert!(
        !jdy.received_on("/jdy/pur/pur_inbound_list")
            .await
            .is_empty()
    );

    // Run again: nothing is added twice.
    let added = adds(&jackyun);
    job.run().await.unwrap();
    assert_eq!(adds(&jackyun), added);
    assert_eq!(codes(&jackyun), expected);
}

#[tokio::test]
async fn settings_point_both_systems_at_loopback_v2_audited_only() {
    let jdy = FakeJdy::start().await;
    jdy.seed(30, 11);
    let jackyun = FakeJackyun::start().await;
    let (jdy_url, jackyun_url) = (jdy.uri(), jackyun.uri());
    let settings = Settings::from_sources(
        Some(&format!(
            "[jdy]\nbase_url = \"{jdy_url}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             outer_instance_id = \"{}\"\naccount_id = \"{}\"\nbill_status = \"audited\"\n\
             [jackyun]\nbase_url = \"{jackyun_url}\"\nappkey = \"{}\"\nsecret = \"{}\"\n",
            jdy_fake::CLIENT_ID,
            jdy_fake::CLIENT_SECRET,
            jdy_fake::OUTER_INSTANCE_ID,
            jdy_fake::ACCOUNT_ID,
            jackyun::testing::APPKEY,
            jackyun::testing::SECRET,
        )),
        env(&[]),
    )
    .unwrap();
    let job = setup(&settings, memory_state(), Progress::hidden(NAME))
        .await
        .unwrap();
    assert!(job.notes()[0].contains("V2 API"), "{:?}", job.notes());
    let report = job.run().await.unwrap().remove(0);
    assert_eq!(report.dead_lettered, 0, "{report}");
    let audited: BTreeSet<String> = jdy
        .state()
        .pur_inbound
        .iter()
        .filter(|b| b["bill_status"] == "C")
        .map(|b| b["supplier_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes(&jackyun), audited.into_iter().collect::<Vec<_>>());
    assert!(!jdy.received_on("/jdy/v2/").await.is_empty());
}

#[test]
fn the_customer_carries_the_supplier_and_its_contacts() {
    let mapping = DeclarativeMapping::from_toml_str(MAPPING).unwrap();
    let bill = json!({
        "id": "1700000000000000101",
        "bill_no": "CGRK202603150007",
        "bill_date": "2026-03-15",
        "supplier_id": "1700000000000000001",
        "supplier_number": "GYS0001",
        "supplier_name": "苏州华东五金制品有限公司",
        "emp_name": "王建国",
        "total_amount": "12850.5",
        "contact_phone": "0512-65231870",
        "contact_country_name": "",
        "contact_province_name": "江苏省",
        "contact_city_name": "苏州市",
        "contact_district_name": "吴中区",
        "contact_address": "木渎镇金山路128号",
    });
    let ctx = MapContext::new(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
    let customer = mapping.map_value(&bill, &ctx).unwrap();
    assert_eq!(
        customer,
        json!({
            "customerCode": "GYS0001",
            "nickname": "苏州华东五金制品有限公司",
            "phone": "0512-65231870",
            "country": "中国",
            "state": "江苏省",
            "city": "苏州市",
            "district": "吴中区",
            "address": "木渎镇金山路128号",
            "customerManagerName": "王建国",
            "specialReminding": "金蝶云星辰供应商，首次同步自采购入库单 CGRK202603150007（2026-03-15，金额 12850.50 元）",
        })
    );
    // Missing contacts are left out, not sent empty.
    let bare = json!({
        "id": "1", "bill_no": "CGRK1", "bill_date": "2026-01-05",
        "supplier_number": "GYS0002", "supplier_name": "宁波恒达塑胶有限公司",
    });
    let customer = mapping.map_value(&bare, &ctx).unwrap();
    let typed: jackyun::customer::NewCustomer = serde_json::from_value(customer).unwrap();
    assert_eq!(typed.phone, None);
    assert_eq!(typed.country.as_deref(), Some("中国"));
    assert!(typed.special_reminding.unwrap().ends_with("金额 0.00 元）"));
    // Without a supplier number the mapping fails, naming the field.
    let err = mapping
        .map_value(&json!({"id": "2", "supplier_name": "x"}), &ctx)
        .unwrap_err();
    assert!(err.to_string().contains("customerCode"), "{err}");
}

#[tokio::test]
async fn bad_settings_name_the_setting() {
    let error = |pairs: &[(&str, &str)]| {
        let settings = Settings::from_sources(None, env(pairs)).unwrap();
        async move {
            match setup(&settings, memory_state(), Progress::hidden(NAME)).await {
                Err(SetupError::Settings(e)) => e,
                Err(other) => panic!("not a settings error: {other}"),
                Ok(_) => panic!("settings accepted"),
            }
        }
    };
    let e = error(&[("JDY_CLIENT_ID", "205022")]).await;
    assert_eq!(e.to_string(), "setting JDY_CLIENT_SECRET: is missing");

    let e = error(&[("JDY_CLIENT_ID", "a"), ("JDY_CLIENT_SECRET", "b")]).await;
    assert_eq!(e.setting, "JDY_OUTER_INSTANCE_ID");

    let e = error(&[
        ("JDY_CLIENT_ID", "a"),
        ("JDY_CLIENT_SECRET", "b"),
        ("JDY_USERNAME", "13800138000"),
    ])
    .await;
    assert_eq!(e.setting, "JDY_PASSWORD");

    let e = error(&[("JDY_BASE_URL", "api.kingdee.com"), ("JDY_CLIENT_ID", "a")]).await;
    assert_eq!(e.setting, "JDY_BASE_URL");

    let e = error(&[("JDY_VERSION", "v3")]).await;
    assert_eq!(e.setting, "JDY_VERSION");

    let e = error(&[("JDY_BILL_STATUS", "done")]).await;
    assert_eq!(e.setting, "JDY_BILL_STATUS");

    let e = error(&[("JACKYUN_APPKEY", "10000001")]).await;
    assert_eq!(e.to_string(), "setting JACKYUN_SECRET: is missing");

    let e = error(&[
        ("JACKYUN_APPKEY", "k"),
        ("JACKYUN_SECRET", "s"),
        ("JACKYUN_BASE_URL", "ftp://open.jackyun.com"),
    ])
    .await;
    assert_eq!(e.setting, "JACKYUN_BASE_URL");
}
