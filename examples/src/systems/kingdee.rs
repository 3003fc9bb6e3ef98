//! 金蝶云星空 K/3 Cloud from settings, or its fake.
//!
//! Settings (`KINGDEE_*`): `SERVER_URL` (the site with its virtual
//! directory, e.g. `https://host/k3cloud`), `ACCT_ID`, `USER_NAME`, and either
//! `APP_ID` + `APP_SECRET` (app signature, the default) or `PASSWORD`
//! (`AUTH=password`, ValidateUser session login); optional `LCID` (2052),
//! `ORG_NUM` (0).

use integration_core::Secret;
use kingdee_cloud::testing::FakeK3Cloud;
use kingdee_cloud::{AppCredentials, Client};

use crate::runner::SetupError;
use crate::settings::Settings;
use crate::systems::{Connected, fake_note, real_note, tuned};

/// A K/3 Cloud client and, when running against it, the fake.
pub type Kingdee = Connected<Client, FakeK3Cloud>;

/// Builds the client from `KINGDEE_*` settings, or starts the fake.
pub async fn connect(settings: &Settings) -> Result<Kingdee, SetupError> {
    let Some(s) = settings.system("kingdee") else {
        let fake = FakeK3Cloud::start().await;
        let seeded = seed(&fake);
        let client = tuned(fake.client_builder(), settings, "kingdee")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note(
            "kingdee",
            &fake.server_url(),
            &format!("{seeded}; app-signature checks on"),
        );
        return Ok(Connected::on_fake(client, fake, note));
    };
    let server_url = s.url("server_url")?;
    let acct_id = s.required("acct_id")?;
    let user_name = s.required("user_name")?;
    let builder = Client::builder().server_url(&server_url);
    let builder = match s.optional("auth").unwrap_or("app") {
        "app" => {
            let mut credentials = AppCredentials::new(
                acct_id,
                user_name,
                s.required("app_id")?,
                s.secret("app_secret")?.expose(),
            );
            credentials.lcid = s.parse("lcid")?.unwrap_or(2052);
            credentials.org_num = s.optional("org_num").unwrap_or("0").to_owned();
            credentials.secpwd = s.optional("secpwd").map(Secret::new);
            builder.app_signature(credentials)
        }
        "password" => builder.password_login(acct_id, user_name, s.secret("password")?.expose()),
        other => {
            return Err(crate::settings::SettingsError {
                setting: s.name("auth"),
                problem: format!("{other:?} is not one of app, password"),
            }
            .into());
        }
    };
    Ok(Connected::on_service(
        tuned(builder, settings, "kingdee")?
            .build()
            .map_err(SetupError::other)?,
        real_note("kingdee", &server_url),
    ))
}

/// Seeds the fake with the reference data the schemes need: none. The
/// schemes only write `BD_Customer` and `SAL_SaleOrder` here, and the fake
/// checks no base data a model names (materials, units, organisations), so
/// the fake starts empty and holds exactly what the schemes wrote. Returns
/// what was seeded.
pub fn seed(_fake: &FakeK3Cloud) -> String {
    "empty: the schemes write customers and sales orders here".into()
}
