//! 网易互客 Huke from settings, or its fake.
//!
//! Settings (`HUKE_*`): `APP_KEY`, `APP_SECRET`; optional `BASE_URL`
//! (default the real service), `EID`.
//!
//! Without any `HUKE_*` setting the built-in fake is started and [`seed`]ed
//! with [`SEEDED_TRADES`] trades created over the last [`SEEDED_HOURS`]
//! hours, inside the scheme's first window (the last 72000 s).

use std::collections::HashSet;

use chrono::{Duration, Utc};
use netease_huke::Client;
use netease_huke::testing::FakeHuke;

use crate::runner::SetupError;
use crate::settings::Settings;
use crate::systems::{Connected, fake_note, real_note, tuned};

/// Trades seeded into the fake, all inside the scheme's first window.
pub const SEEDED_TRADES: usize = 300;
/// The seeded trades are created over the last so many hours: inside the
/// scheme's first window (the last 20 hours), with 8 hours to spare for a
/// sandbox started before the scheme's first run.
pub const SEEDED_HOURS: i64 = 12;
/// The seed of the generated trades (names, amounts, times).
const SEED: u64 = 2026;

/// A Huke client and, when running against it, the fake.
pub type Huke = Connected<Client, FakeHuke>;

/// Builds the client from `HUKE_*` settings, or starts and seeds the fake.
pub async fn connect(settings: &Settings) -> Result<Huke, SetupError> {
    let Some(s) = settings.system("huke") else {
        let fake = FakeHuke::start().await;
        let seeded = seed(&fake, None);
        let client = tuned(fake.client_builder(), settings, "huke")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note("huke", &fake.base_url(), &seeded);
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

/// Seeds the fake with `trades` trades ([`SEEDED_TRADES`] when `None`),
/// about three per buyer, created over the last [`SEEDED_HOURS`] hours: all
/// of them inside the window the scheme's first run reads. Returns what was
/// seeded, e.g. `300 trades of 97 buyers, created over the last 12 hours`.
pub fn seed(fake: &FakeHuke, trades: Option<usize>) -> String {
    let count = trades.unwrap_or(SEEDED_TRADES);
    let now = Utc::now();
    let seeded = fake.seed_trades_between(count, SEED, now - Duration::hours(SEEDED_HOURS), now);
    let buyers: HashSet<_> = seeded.iter().filter_map(|t| t.buyer_cid.as_ref()).collect();
    format!(
        "{count} trades of {} buyers, created over the last {SEEDED_HOURS} hours",
        buyers.len()
    )
}
