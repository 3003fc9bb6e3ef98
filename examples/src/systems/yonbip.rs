//! 用友 BIP (YonBIP / YonSuite) from settings, or its fake.
//!
//! Settings (`[yonbip]` in the TOML file, or `YONBIP_<KEY>` in the
//! environment):
//!
//! | env | required | default | meaning |
//! |---|---|---|---|
//! | `YONBIP_APP_KEY` | yes | — | the self-built app's `appKey` |
//! | `YONBIP_APP_SECRET` | yes | — | its `appSecret` (a secret; only used to sign) |
//! | `YONBIP_TENANT_ID` | unless both URLs below | — | the tenant: gateway and token URLs are discovered from it |
//! | `YONBIP_DISCOVERY_URL` | no | [`yonbip::assumed::DISCOVERY_URL`] | the discovery host |
//! | `YONBIP_GATEWAY_URL` | with `TOKEN_URL` | — | business gateway base URL (private deployments; skips discovery) |
//! | `YONBIP_TOKEN_URL` | with `GATEWAY_URL` | — | token service base URL |
//!
//! The scheme `okki-to-yonbip` reads three more `YONBIP_*` settings (the
//! org and class every merchant gets); see its module.
//!
//! With no `YONBIP_*` setting at all, the built-in fake is started, empty
//! ([`seed`]), checking the token signature of every call.

use yonbip::Client;
use yonbip::testing::FakeYonBip;

use crate::runner::SetupError;
use crate::settings::{Settings, SettingsError};
use crate::systems::{Connected, fake_note, real_note, tuned};

/// A YonBIP client and, when running against it, the fake.
pub type Yonbip = Connected<Client, FakeYonBip>;

/// Builds the client from `YONBIP_*` settings, or starts the fake.
pub async fn connect(settings: &Settings) -> Result<Yonbip, SetupError> {
    let Some(s) = settings.system("yonbip") else {
        let fake = FakeYonBip::start().await;
        let seeded = seed(&fake);
        let client = tuned(fake.client_builder(), settings, "yonbip")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note(
            "yonbip",
            &fake.uri(),
            &format!("{seeded}; token signatures checked"),
        );
        return Ok(Connected::on_fake(client, fake, note));
    };
    let mut builder = Client::builder()
        .app_key(s.required("app_key")?)
        .app_secret(s.secret("app_secret")?);
    let where_to = match (s.optional_url("gateway_url")?, s.optional_url("token_url")?) {
        (Some(gateway), Some(token)) => {
            builder = builder.gateway_url(&gateway).token_url(token);
            gateway
        }
        (Some(_), None) => return Err(missing(s.name("token_url"), "YONBIP_GATEWAY_URL")),
        (None, Some(_)) => return Err(missing(s.name("gateway_url"), "YONBIP_TOKEN_URL")),
        (None, None) => {
            let tenant = s.required("tenant_id")?;
            builder = builder.tenant_id(tenant);
            let discovery = s
                .optional_url("discovery_url")?
                .unwrap_or_else(|| yonbip::assumed::DISCOVERY_URL.to_owned());
            builder = builder.discovery_url(&discovery);
            format!("tenant {tenant} via {discovery}")
        }
    };
    Ok(Connected::on_service(
        tuned(builder, settings, "yonbip")?
            .build()
            .map_err(SetupError::other)?,
        real_note("yonbip", &where_to),
    ))
}

fn missing(setting: String, because: &str) -> SetupError {
    SettingsError {
        setting,
        problem: format!("is missing ({because} is set)"),
    }
    .into()
}

/// Seeds the fake with the reference data the schemes need: none. The
/// scheme only saves merchants; the org and customer class they name are
/// the fake's built-in ones ([`yonbip::testing::CREATE_ORG`],
/// [`yonbip::testing::CUSTOMER_CLASS`], the scheme's defaults), so the fake
/// starts empty and holds exactly what the scheme wrote. Returns what was
/// seeded.
pub fn seed(_fake: &FakeYonBip) -> String {
    "empty: the scheme saves merchants here".into()
}
