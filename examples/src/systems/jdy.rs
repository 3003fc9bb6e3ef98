//! 金蝶云星辰 jdy from settings, or its fake.
//!
//! Settings (`JDY_*`), for either API family:
//!
//! | setting | required | meaning |
//! |---|---|---|
//! | `JDY_VERSION` | no | `v1` (精斗云 API, `/jdy/pur/pur_inbound_list`, as in the scheme document) or `v2` (星辰 OpenAPI); default `v1` when `JDY_USERNAME` is set, else `v2` |
//! | `JDY_BASE_URL` | no | default `https://api.kingdee.com` |
//! | `JDY_CLIENT_ID` | yes | the application's client id |
//! | `JDY_CLIENT_SECRET` | yes | the application's client secret |
//! | `JDY_OUTER_INSTANCE_ID` | V2 | the account book's authorisation instance (`outerInstanceId`) |
//! | `JDY_UID` | no (V2) | the jdy user whose token is used (default: the administrator) |
//! | `JDY_USERNAME` | V1 | the jdy login (often a phone number) |
//! | `JDY_PASSWORD` | V1 | its password |
//! | `JDY_ACCOUNT_ID` | no | the account book (`accountId`) when there are several |
//! | `JDY_GROUP_NAME` | no (V1) | the account group (`groupName`) when there are several |
//!
//! Without any `JDY_*` setting the built-in fake is started, speaking V1 as
//! the scheme document does, and [`seed`]ed with [`SEEDED_BILLS`] purchase
//! inbound bills of 8 suppliers, January–June 2026, each with the
//! supplier's contact phone and address.

use std::collections::BTreeSet;

use jdy::testing::FakeJdy;
use jdy::{Client, V1Credentials, V2Credentials};
use serde_json::json;

use crate::runner::SetupError;
use crate::settings::{Settings, SettingsError};
use crate::systems::{Connected, fake_note, real_note, tuned};

/// Purchase inbound bills seeded into the fake (all read by the first run).
pub const SEEDED_BILLS: usize = 120;

/// Contact data of the fake's 8 suppliers (`GYS0001`…`GYS0008`), which the
/// fake's own seed leaves out of the bills: phone, province, city,
/// district, street address.
#[rustfmt::skip]
const SUPPLIER_CONTACTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("GYS0001", "0512-65231870", "江苏省", "苏州市", "吴中区", "木渎镇金山路128号"),
    ("GYS0002", "0574-87652210", "浙江省", "宁波市", "北仑区", "长江路1166号"),
    ("GYS0003", "0769-22451890", "广东省", "东莞市", "长安镇", "振安中路368号"),
    ("GYS0004", "0571-86970312", "浙江省", "杭州市", "余杭区", "良渚街道好运街9号"),
    ("GYS0005", "0757-22813566", "广东省", "佛山市", "顺德区", "容桂街道华口大道38号"),
    ("GYS0006", "0510-82715539", "江苏省", "无锡市", "锡山区", "东亭街道春晖中路52号"),
    ("GYS0007", "0577-86381207", "浙江省", "温州市", "龙湾区", "永中街道阀门城A区16号"),
    ("GYS0008", "0551-63819974", "安徽省", "合肥市", "蜀山区", "经开区繁华大道2188号"),
];

/// A jdy client and, when running against it, the fake.
pub type Jdy = Connected<Client, FakeJdy>;

/// Builds the client from `JDY_*` settings, or starts and seeds the fake.
pub async fn connect(settings: &Settings) -> Result<Jdy, SetupError> {
    let Some(s) = settings.system("jdy") else {
        let fake = FakeJdy::start().await;
        let seeded = seed(&fake, None);
        let client = fake.client_builder().credentials(FakeJdy::v1_credentials());
        let client = tuned(client, settings, "jdy")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note("jdy", &fake.uri(), &format!("V1 API, {seeded}"));
        return Ok(Connected::on_fake(client, fake, note));
    };
    let url = s
        .optional_url("base_url")?
        .unwrap_or_else(|| jdy::client::DEFAULT_BASE_URL.to_owned());
    let v1 = match s.optional("version").map(str::to_lowercase).as_deref() {
        Some("v1") => true,
        Some("v2") => false,
        None => s.optional("username").is_some(),
        Some(other) => {
            return Err(SettingsError {
                setting: s.name("version"),
                problem: format!("{other:?} is not one of v1, v2"),
            }
            .into());
        }
    };
    let client_id = s.required("client_id")?;
    let client_secret = s.secret("client_secret")?;
    let builder = Client::builder().base_url(&url);
    let builder = if v1 {
        let mut credentials = V1Credentials::new(
            client_id,
            client_secret,
            s.required("username")?,
            s.secret("password")?,
        );
        if let Some(account_id) = s.optional("account_id") {
            credentials = credentials.account_id(account_id);
        }
        if let Some(group_name) = s.optional("group_name") {
            credentials = credentials.group_name(group_name);
        }
        builder.credentials(credentials)
    } else {
        let mut credentials =
            V2Credentials::new(client_id, client_secret, s.required("outer_instance_id")?);
        if let Some(account_id) = s.optional("account_id") {
            credentials = credentials.account_id(account_id);
        }
        if let Some(uid) = s.optional("uid") {
            credentials = credentials.uid(uid);
        }
        builder.credentials(credentials)
    };
    let version = if v1 { "V1" } else { "V2" };
    Ok(Connected::on_service(
        tuned(builder, settings, "jdy")?
            .build()
            .map_err(SetupError::other)?,
        real_note("jdy", &format!("{url} ({version} API)")),
    ))
}

/// Seeds the fake with what the scheme reads: `bills` purchase inbound bills
/// ([`SEEDED_BILLS`] when `None`) of the fake's 8 suppliers, dated
/// January–June 2026 (the first run reads them all), each with its
/// supplier's contact phone and address. Returns what was seeded, e.g.
/// `120 purchase inbound bills of 8 suppliers, January–June 2026`.
pub fn seed(fake: &FakeJdy, bills: Option<usize>) -> String {
    let bills = bills.unwrap_or(SEEDED_BILLS);
    fake.seed(bills, 2026);
    add_supplier_contacts(fake);
    let suppliers: BTreeSet<String> = fake
        .state()
        .pur_inbound
        .iter()
        .filter_map(|b| b["supplier_number"].as_str().map(str::to_owned))
        .collect();
    format!(
        "{bills} purchase inbound bills of {} suppliers, January–June 2026",
        suppliers.len()
    )
}

/// Gives every seeded bill its supplier's contact fields, named as in the
/// scheme document (`contact_phone`, `contact_province_name`, ...).
fn add_supplier_contacts(fake: &FakeJdy) {
    let mut state = fake.state();
    for bill in &mut state.pur_inbound {
        let number = bill["supplier_number"].as_str().unwrap_or_default();
        let Some((_, phone, province, city, district, address)) =
            SUPPLIER_CONTACTS.iter().find(|c| c.0 == number)
        else {
            continue;
        };
        let contacts = json!({
            "contact_phone": phone,
            "contact_country_name": "中国",
            "contact_province_name": province,
            "contact_city_name": city,
            "contact_district_name": district,
            "contact_address": address,
        });
        if let (Some(bill), Some(contacts)) = (bill.as_object_mut(), contacts.as_object()) {
            bill.extend(contacts.clone());
        }
    }
}
