#![allow(clippy::unwrap_used)]
//! Scheme 3, OKKI companies → YonBIP merchants, against the fakes.

use std::sync::Arc;

use examples::runner::{Job, Progress, SetupError};
use examples::schemes::okki_to_yonbip::{
    self, DEFAULT_CREATE_ORG, DEFAULT_CUSTOMER_CLASS, MerchantDefaults, NAME, OkkiToYonbip,
    merchant_code, to_merchant,
};
use examples::settings::Settings;
use examples::systems::okki::{DELETED_COMPANIES, SEEDED_COMPANIES};
use integration_core::testing::body_json;
use integration_core::{SqliteStore, StateStore};
use okki::testing::FakeOkki;
use serde_json::{Value, json};
use yonbip::testing::FakeYonBip;

fn memory() -> Arc<dyn StateStore> {
    Arc::new(SqliteStore::in_memory().unwrap())
}

fn env(pairs: &[(&str, &str)]) -> Settings {
    Settings::from_sources(
        None,
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .unwrap()
}

async fn setup(settings: &Settings) -> Result<OkkiToYonbip, SetupError> {
    okki_to_yonbip::setup(settings, memory(), Progress::hidden(NAME)).await
}

async fn setup_err(settings: &Settings) -> String {
    match setup(settings).await {
        Ok(_) => panic!("setup should fail"),
        Err(SetupError::Settings(e)) => e.to_string(),
        Err(e) => panic!("not a settings error: {e}"),
    }
}

#[tokio::test]
async fn writes_every_live_company_once_and_reports_the_deleted_ones() {
    let job = setup(&Settings::empty()).await.unwrap();
    let live = SEEDED_COMPANIES - DELETED_COMPANIES;

    let report = job.run().await.unwrap().pop().unwrap();
    assert_eq!(report.read, SEEDED_COMPANIES as u64);
    assert_eq!(report.written, live as u64);
    assert_eq!(report.skipped, DELETED_COMPANIES as u64);
    assert_eq!(report.dead_lettered, 0);
    assert_eq!(report.unaccounted(), 0);
    // Deletions are visible in the report, not silent.
    let deletes = &report.first_skips;
    assert_eq!(deletes.len(), DELETED_COMPANIES, "{report}");
    assert!(deletes[0].message.contains("left as is"), "{report}");
    assert!(report.first_errors.is_empty(), "{report}");
    let summary = job.verify().await.unwrap();
    assert!(summary.starts_with(&format!(
        "{live} live OKKI companies → {live} YonBIP merchants"
    )));

    // Second run: the companies written back (their update time moved)
    // are read and upserted again, hold their codes already, and nothing
    // is duplicated.
    let again = job.run().await.unwrap().pop().unwrap();
    let live = live as u64;
    assert_eq!((again.read, again.written, again.skipped), (live, live, 0));
    assert_eq!((again.written_back, again.write_back_unchanged), (0, live));
    assert!(again.first_errors.is_empty() && again.first_skips.is_empty());
    job.verify().await.unwrap();
}

#[tokio::test]
async fn sends_what_the_save_api_expects() {
    let fake_okki = FakeOkki::start().await;
    fake_okki.seed_demo(5);
    let fake_yonbip = FakeYonBip::start().await;
    let (app_key, app_secret) = FakeYonBip::credentials();
    let okki_url = fake_okki.uri();
    let yonbip_url = fake_yonbip.uri();
    let settings = env(&[
        ("OKKI_BASE_URL", &okki_url),
        ("OKKI_CLIENT_ID", okki::testing::CLIENT_ID),
        ("OKKI_CLIENT_SECRET", okki::testing::CLIENT_SECRET),
        ("YONBIP_APP_KEY", app_key),
        ("YONBIP_APP_SECRET", app_secret),
        ("YONBIP_TENANT_ID", yonbip::testing::TENANT_ID),
        ("YONBIP_DISCOVERY_URL", &yonbip_url),
        ("YONBIP_CREATE_ORG", "2000000000000000001"),
        ("YONBIP_BELONG_ORG", "2000000000000000002"),
    ]);
    let job = setup(&settings).await.unwrap();
    assert!(job.notes()[0].contains(&okki_url), "{:?}", job.notes());
    let report = job.run().await.unwrap().pop().unwrap();
    assert_eq!((report.written, report.dead_lettered), (5, 0), "{report}");
    assert_eq!(
        job.verify().await.unwrap(),
        "not verifiable against real systems"
    );

    // OKKI: list then detail, with the token the fake issued.
    assert!(!fake_okki.received_on("/v1/company/list").await.is_empty());
    assert_eq!(fake_okki.received_on("/v1/company/info").await.len(), 5);

    // YonBIP: one signed token, then {"data": {...}} saves.
    assert_eq!(fake_yonbip.token_fetches(), 1);
    let saves = fake_yonbip.server().received_on("merchant/save").await;
    assert_eq!(saves.len(), 5);
    let body = body_json(&saves[0]);
    let data = &body["data"];
    assert_eq!(data["_status"], "Insert");
    assert!(data["code"].as_str().unwrap().starts_with("KH"));
    assert!(
        data["name"]["zh_CN"]
            .as_str()
            .unwrap()
            .ends_with("有限公司")
    );
    assert_eq!(data["createOrg"], "2000000000000000001");
    assert_eq!(data["belongOrg"], "2000000000000000002");
    assert_eq!(data["customerClass"], DEFAULT_CUSTOMER_CLASS);
    assert_eq!(data["merchantOptions"], true);
    assert_eq!(data["country_code"], "CN");
    assert!(data["contactTel"].as_str().unwrap().starts_with("+86 139"));

    // A change in OKKI updates the same merchant; a deletion is reported.
    let (changed, deleted) = {
        let mut state = fake_okki.state();
        let ids: Vec<i64> = state.companies.keys().copied().collect();
        let now = chrono::Utc::now()
            .with_timezone(&integration_core::types::beijing())
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        let c = state.companies.get_mut(&ids[0]).unwrap();
        c.data
            .insert("name".into(), json!("Shanghai Hengtong Trading Co., Ltd."));
        state.touch_company(ids[0], &now);
        state.delete_company(ids[1]);
        let code = |id: i64| {
            state.companies[&id].data["serial_id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        (code(ids[0]), code(ids[1]))
    };
    let report = job.run().await.unwrap().pop().unwrap();
    assert_eq!((report.written, report.skipped), (1, 1), "{report}");
    assert!(report.first_skips[0].message.contains(&deleted), "{report}");
    let state = fake_yonbip.state();
    assert_eq!(
        state.merchants().len(),
        5,
        "updated in place, deleted one kept"
    );
    let merchant = state.merchant_by_code(&changed).unwrap();
    assert_eq!(
        merchant["name"],
        json!({"zh_CN": "Shanghai Hengtong Trading Co., Ltd.", "en_US": "Shanghai Hengtong Trading Co., Ltd."})
    );
    assert!(state.merchant_by_code(&deleted).is_some());
}

#[tokio::test]
async fn password_grant_and_fixed_yonbip_urls_work_too() {
    let fake_okki = FakeOkki::start().await;
    fake_okki.seed_demo(3);
    let fake_yonbip = FakeYonBip::start().await;
    let (app_key, app_secret) = FakeYonBip::credentials();
    let (okki_url, gateway, token) = (
        fake_okki.uri(),
        fake_yonbip.gateway_url(),
        fake_yonbip.token_url(),
    );
    let settings = env(&[
        ("OKKI_BASE_URL", &okki_url),
        ("OKKI_CLIENT_ID", okki::testing::CLIENT_ID),
        ("OKKI_CLIENT_SECRET", okki::testing::CLIENT_SECRET),
        ("OKKI_SCOPES", "company,user"),
        ("OKKI_USERNAME", okki::testing::USERNAME),
        ("OKKI_PASSWORD", okki::testing::PASSWORD),
        ("YONBIP_APP_KEY", app_key),
        ("YONBIP_APP_SECRET", app_secret),
        ("YONBIP_GATEWAY_URL", &gateway),
        ("YONBIP_TOKEN_URL", &token),
    ]);
    let job = setup(&settings).await.unwrap();
    let report = job.run().await.unwrap().pop().unwrap();
    assert_eq!(report.written, 3, "{report}");
    assert_eq!(fake_yonbip.state().discoveries, 0);
    let merchant = fake_yonbip.state().merchants()[0].clone();
    assert_eq!(merchant["createOrg"], DEFAULT_CREATE_ORG);
}

#[tokio::test]
async fn bad_settings_name_the_setting() {
    let e = setup_err(&env(&[("OKKI_CLIENT_ID", "x")])).await;
    assert_eq!(e, "setting OKKI_CLIENT_SECRET: is missing");
    let e = setup_err(&env(&[
        ("OKKI_CLIENT_ID", "x"),
        ("OKKI_CLIENT_SECRET", "y"),
        ("OKKI_BASE_URL", "api.xiaoman.cn"),
    ]))
    .await;
    assert!(
        e.starts_with("setting OKKI_BASE_URL: is not a valid URL"),
        "{e}"
    );
    let e = setup_err(&env(&[
        ("OKKI_CLIENT_ID", "x"),
        ("OKKI_CLIENT_SECRET", "y"),
        ("OKKI_PASSWORD", "p"),
    ]))
    .await;
    assert!(e.starts_with("setting OKKI_USERNAME: is missing"), "{e}");

    let e = setup_err(&env(&[("YONBIP_APP_KEY", "k"), ("YONBIP_TENANT_ID", "t")])).await;
    assert_eq!(e, "setting YONBIP_APP_SECRET: is missing");
    let e = setup_err(&env(&[("YONBIP_APP_KEY", "k"), ("YONBIP_APP_SECRET", "s")])).await;
    assert_eq!(e, "setting YONBIP_TENANT_ID: is missing");
    let e = setup_err(&env(&[
        ("YONBIP_APP_KEY", "k"),
        ("YONBIP_APP_SECRET", "s"),
        ("YONBIP_TENANT_ID", "t"),
        ("YONBIP_DISCOVERY_URL", "ftp://gateway"),
    ]))
    .await;
    assert_eq!(
        e,
        "setting YONBIP_DISCOVERY_URL: must be an http or https URL"
    );
    let e = setup_err(&env(&[
        ("YONBIP_APP_KEY", "k"),
        ("YONBIP_APP_SECRET", "s"),
        ("YONBIP_GATEWAY_URL", "https://gw.example.cn"),
    ]))
    .await;
    assert!(e.starts_with("setting YONBIP_TOKEN_URL: is missing"), "{e}");
    let e = setup_err(&env(&[
        ("YONBIP_APP_KEY", "k"),
        ("YONBIP_APP_SECRET", "s"),
        ("YONBIP_TENANT_ID", "t"),
        ("YONBIP_CUSTOMER_CLASS", "国内客户"),
    ]))
    .await;
    assert!(e.starts_with("setting YONBIP_CUSTOMER_CLASS:"), "{e}");
}

#[test]
fn the_mapping_falls_back_and_refuses_nameless_companies() {
    let company: okki::Company = serde_json::from_value(json!({
        "company_id": 56657420945001_i64,
        "name": "杭州博源纺织有限公司",
        "serial_id": "",
        "homepage": "https://www.boyuan.cn",
        "country": "cn",
        "tel": ["+86", "0571-8888"],
        "customers": [{"name": "周敏", "email": "zhou@boyuan.cn", "tel_list": [], "main_customer_flag": 0}],
    }))
    .unwrap();
    assert_eq!(merchant_code(&company), "56657420945001");
    let m = to_merchant(&company, &MerchantDefaults::default()).unwrap();
    let v: Value = serde_json::to_value(&m).unwrap();
    assert_eq!(v["name"], json!({"zh_CN": "杭州博源纺织有限公司"}));
    assert_eq!(v["contactName"], "周敏");
    assert_eq!(v["email"], "zhou@boyuan.cn");
    assert_eq!(v["contactTel"], "+86 0571-8888");
    assert_eq!(v["website"], "https://www.boyuan.cn");
    assert_eq!(v["country_code"], "CN");
    assert_eq!(v["createOrg"], DEFAULT_CREATE_ORG);
    assert!(v.get("belongOrg").is_none());

    let nameless: okki::Company =
        serde_json::from_value(json!({"company_id": 1, "name": " "})).unwrap();
    let e = to_merchant(&nameless, &MerchantDefaults::default()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("name"));
}

#[tokio::test]
async fn write_back_puts_the_merchant_code_on_each_company_and_a_replay_finishes_what_failed() {
    use integration_core::state::Stage;
    use integration_core::testing::{Fault, json_response};
    use okki::testing::MERCHANT_CODE_FIELD_ID;

    let job = setup(&Settings::empty()).await.unwrap();
    let okki = job.okki.fake.as_ref().unwrap();
    let yonbip = job.yonbip.fake.as_ref().unwrap();
    // OKKI refuses the first two pushes for good (no privilege).
    let refused = json_response(&json!({"code": 404, "message": "No Privilege", "data": null}));
    okki.faults().inject_on(
        "/v1/company/pushCompanyAndCustomers",
        Fault::Respond(Box::new(refused)),
        2,
    );
    let report = job.run().await.unwrap().pop().unwrap();
    let live = (SEEDED_COMPANIES - DELETED_COMPANIES) as u64;
    assert_eq!(report.written, live, "{report}");
    assert_eq!(report.written_back, live - 2, "{report}");
    assert_eq!(report.write_back_dead_lettered, 2, "{report}");
    assert_eq!((report.dead_lettered, report.unaccounted()), (0, 0));
    let letters = job.state().dead_letters(NAME).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert!(
        letters
            .iter()
            .all(|l| l.stage == Stage::WriteBack && l.target_id.is_some())
    );
    assert!(
        letters[0].error.contains("No Privilege"),
        "{}",
        letters[0].error
    );
    let summary = job.verify().await.unwrap();
    assert!(summary.ends_with("2 wait in the dead letters"), "{summary}");

    let saves_before = yonbip.received_on("merchant/save").await.len();
    let replay = job.replay().await.unwrap().pop().unwrap();
    assert_eq!((replay.written_back, replay.written), (2, 0), "{replay}");
    assert_eq!(
        yonbip.received_on("merchant/save").await.len(),
        saves_before,
        "the replay wrote nothing to YonBIP"
    );
    assert_eq!(job.state().count_dead_letters(NAME).await.unwrap(), 0);
    let summary = job.verify().await.unwrap();
    assert!(
        summary.contains(&format!(
            "{live} companies hold their merchant code in field {MERCHANT_CODE_FIELD_ID}"
        )),
        "{summary}"
    );
}
