//! 小满 OKKI CRM from settings, or its fake.
//!
//! Settings (`[okki]` in the TOML file, or `OKKI_<KEY>` in the environment):
//!
//! | env | required | default | meaning |
//! |---|---|---|---|
//! | `OKKI_CLIENT_ID` | yes | — | `client_id` from 企业管理 → 外部对接 → API对接 |
//! | `OKKI_CLIENT_SECRET` | yes | — | `client_secret` (a secret) |
//! | `OKKI_BASE_URL` | no | [`okki::DEFAULT_BASE_URL`] | the API host |
//! | `OKKI_SCOPES` | no | `company` | space- or comma-separated scopes to ask for |
//! | `OKKI_USERNAME` | no | — | with `OKKI_PASSWORD`: the `password` grant instead of `client_credentials` |
//! | `OKKI_PASSWORD` | with `USERNAME` | — | the user's plain password (sent as its SHA-256) |
//!
//! With no `OKKI_*` setting at all, the built-in fake is started and
//! [`seed`]ed with [`SEEDED_COMPANIES`] companies (Chinese names, addresses,
//! 1–3 contacts each, times spread over 2025), [`DELETED_COMPANIES`] of which
//! are then deleted, so the scheme shows what happens to deletions.

use chrono::NaiveDate;
use okki::testing::FakeOkki;
use okki::{Client, Credentials};

use crate::runner::SetupError;
use crate::settings::{Settings, SettingsError};
use crate::systems::{Connected, fake_note, real_note, tuned};

/// Companies seeded into the fake.
pub const SEEDED_COMPANIES: usize = 60;
/// Of those, how many are deleted in the fake (every 20th from the 10th, in
/// December 2025; [`deleted_of`] for another count).
pub const DELETED_COMPANIES: usize = deleted_of(SEEDED_COMPANIES);

/// How many of `companies` seeded companies [`seed`] deletes: every 20th,
/// from the 10th on.
pub const fn deleted_of(companies: usize) -> usize {
    (companies + 10) / 20
}

/// An OKKI client and, when running against it, the fake.
pub type Okki = Connected<Client, FakeOkki>;

/// Builds the client from `OKKI_*` settings, or starts and seeds the fake.
pub async fn connect(settings: &Settings) -> Result<Okki, SetupError> {
    let Some(s) = settings.system("okki") else {
        let fake = FakeOkki::start().await;
        let seeded = seed(&fake, None);
        let client = tuned(fake.client_builder(), settings, "okki")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note("okki", &fake.uri(), &seeded);
        return Ok(Connected::on_fake(client, fake, note));
    };
    let client_id = s.required("client_id")?;
    let client_secret = s.secret("client_secret")?;
    let url = s
        .optional_url("base_url")?
        .unwrap_or_else(|| okki::DEFAULT_BASE_URL.to_owned());
    let scopes: Vec<&str> = s
        .optional("scopes")
        .unwrap_or("company")
        .split([' ', ','])
        .filter(|scope| !scope.is_empty())
        .collect();
    let credentials = match s.optional("username") {
        Some(username) => Credentials::password(
            client_id,
            client_secret,
            scopes,
            username,
            s.secret("password")?.expose(),
        ),
        None if s.optional("password").is_some() => {
            return Err(SettingsError {
                setting: s.name("username"),
                problem: "is missing (OKKI_PASSWORD is set)".into(),
            }
            .into());
        }
        None => Credentials::client_credentials(client_id, client_secret, scopes),
    };
    let client = Client::builder().base_url(&url).credentials(credentials);
    let client = tuned(client, settings, "okki")?
        .build()
        .map_err(SetupError::other)?;
    Ok(Connected::on_service(client, real_note("okki", &url)))
}

/// Seeds the fake with what the scheme reads: `companies` companies
/// ([`SEEDED_COMPANIES`] when `None`) with contacts, times over 2025 (the
/// first run reads them all), then deletes every 20th from the 10th on
/// ([`deleted_of`]) with a deletion time in December 2025, so a second run
/// finds nothing new. Returns what was seeded, e.g. `60 companies with
/// contacts, updated during 2025; 3 of them deleted`.
pub fn seed(fake: &FakeOkki, companies: Option<usize>) -> String {
    let companies = companies.unwrap_or(SEEDED_COMPANIES);
    fake.seed_demo(companies);
    let mut state = fake.state();
    let ids: Vec<i64> = state.companies.keys().copied().collect();
    let mut deleted = 0;
    for (n, id) in ids.iter().skip(9).step_by(20).enumerate() {
        // Days 10–29 of December at 16:30, a second later each round.
        let day = 10 + (n % 20) as u32;
        state.clock = NaiveDate::from_ymd_opt(2025, 12, day)
            .and_then(|d| d.and_hms_opt(16, 30, 0))
            .map(|t| t + chrono::Duration::seconds((n / 20) as i64));
        state.delete_company(*id);
        deleted += 1;
    }
    state.clock = None;
    format!("{companies} companies with contacts, updated during 2025; {deleted} of them deleted")
}
