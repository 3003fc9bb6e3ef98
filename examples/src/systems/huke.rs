//! 网易互客 Huke from settings, or its fake.
//!
//! Settings (`HUKE_*`): `APP_KEY`, `APP_SECRET`; optional `BASE_URL`
//! (default the real service), `EID`.

use chrono::Utc;
use netease_huke::Client;
use netease_huke::testing::FakeHuke;

use crate::runner::SetupError;
use crate::settings::Settings;
use crate::systems::{Connected, fake_note, real_note, tuned};

/// Trades seeded into the fake, all inside the scheme's first window.
pub const SEEDED_TRADES: usize = 300;

/// A Huke client and, when running against it, the fake.
pub type Huke = Connected<Client, FakeHuke>;

/// Builds the client from `HUKE_*` settings, or starts and seeds the fake.
pub async fn connect(settings: &Settings) -> Result<Huke, SetupError> {
    let Some(s) = settings.system("huke") else {
        let fake = FakeHuke::start().await;
        // Spread over the last 19 hours: the scheme's first window is 20 h.
        let now = Utc::now();
        fake.seed_trades_between(SEEDED_TRADES, 2026, now - chrono::Duration::hours(19), now);
        let client = tuned(fake.client_builder(), settings, "huke")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note(
            "huke",
            &fake.base_url(),
            &format!("{SEEDED_TRADES} trades of the last 19 hours"),
        );
        return Ok(Connected::on_fake(client, fake, note));
    };
    let mut builder = Client::builder()
        .app_key(s.required("app_key")?)
        .app_secret(s.secret("app_secret")?);
    let url = s
        .optional_url("base_url")?
        .unwrap_or_else(|| netease_huke::DEFAULT_BASE_URL.to_owned());
    builder = builder.base_url(&url);
    if let Some(eid) = s.optional("eid") {
        builder = builder.eid(eid);
    }
    Ok(Connected::on_service(
        tuned(builder, settings, "huke")?
            .build()
            .map_err(SetupError::other)?,
        real_note("huke", &url),
    ))
}
