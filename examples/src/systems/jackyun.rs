//! 吉客云 Jackyun from settings, or its fake.
//!
//! Settings (`JACKYUN_*`):
//!
//! | setting | required | meaning |
//! |---|---|---|
//! | `JACKYUN_APPKEY` | yes | the open-platform app key |
//! | `JACKYUN_SECRET` | yes | the app secret that signs every call |
//! | `JACKYUN_BASE_URL` | no | default `https://open.jackyun.com` (the gateway path `/open/openapi/do` is added) |
//! | `JACKYUN_TOKEN` | no | an ISV authorisation token, for third-party apps |
//!
//! Without any `JACKYUN_*` setting the built-in fake is started, empty
//! ([`seed`]), checking every request's sign.

use jackyun::testing::FakeJackyun;
use jackyun::{Client, Credentials};

use crate::runner::SetupError;
use crate::settings::Settings;
use crate::systems::{Connected, fake_note, real_note, tuned};

/// A Jackyun client and, when running against it, the fake.
pub type Jackyun = Connected<Client, FakeJackyun>;

/// Builds the client from `JACKYUN_*` settings, or starts the fake.
pub async fn connect(settings: &Settings) -> Result<Jackyun, SetupError> {
    let Some(s) = settings.system("jackyun") else {
        let fake = FakeJackyun::start().await;
        let seeded = seed(&fake);
        let client = tuned(fake.client_builder(), settings, "jackyun")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note("jackyun", &fake.uri(), &format!("{seeded}; sign checks on"));
        return Ok(Connected::on_fake(client, fake, note));
    };
    let mut credentials = Credentials::new(s.required("appkey")?, s.secret("secret")?);
    if let Some(token) = s.optional("token") {
        credentials = credentials.with_token(token);
    }
    let url = s
        .optional_url("base_url")?
        .unwrap_or_else(|| jackyun::client::DEFAULT_BASE_URL.to_owned());
    let client = Client::builder().base_url(&url).credentials(credentials);
    let client = tuned(client, settings, "jackyun")?
        .build()
        .map_err(SetupError::other)?;
    Ok(Connected::on_service(client, real_note("jackyun", &url)))
}

/// Seeds the fake with the reference data the schemes need: none. The
/// scheme only adds customers (`crm.customer.add`, which names no
/// warehouse, shop or goods), so the fake starts empty and holds exactly
/// what the scheme wrote. Returns what was seeded.
pub fn seed(_fake: &FakeJackyun) -> String {
    "empty: the scheme adds customers here".into()
}
