//! 销帮帮 CRM (Pro API) from settings, or its fake.
//!
//! Settings (`XBONGBONG_*`, or `[xbongbong]` in the TOML file):
//! - `CORPID` (required): the company id (`ding…` for DingTalk companies).
//! - `TOKEN` (required, secret): the company API token (系统设置 → API).
//! - `USER_ID` (optional): the operator's userId, sent with every call.
//! - `BASE_URL` (optional): default `https://proapi.xbongbong.com` for
//!   DingTalk corpids, `https://appapi.xbongbong.com` otherwise.
//!
//! Without any of them the built-in fake runs, [`seed`]ed with
//! [`SEEDED_CUSTOMERS`] customers and [`SEEDED_CONTRACTS`] contracts
//! (company names, addresses, amounts with two decimals, signing dates
//! spread over the last ten months). The first run reads every record, so
//! the demo writes them all.

use xbongbong::Client;
use xbongbong::testing::FakeXbongbong;

use crate::runner::SetupError;
use crate::settings::Settings;
use crate::systems::{Connected, fake_note, real_note, tuned};

/// Customers seeded into the fake.
pub const SEEDED_CUSTOMERS: usize = 40;
/// Contracts seeded into the fake (for the seeded customers).
pub const SEEDED_CONTRACTS: usize = 120;

/// A 销帮帮 client and, when running against it, the fake.
pub type Xbongbong = Connected<Client, FakeXbongbong>;

/// Builds the client from `XBONGBONG_*` settings, or starts and seeds the fake.
pub async fn connect(settings: &Settings) -> Result<Xbongbong, SetupError> {
    let Some(s) = settings.system("xbongbong") else {
        let fake = FakeXbongbong::start().await;
        let seeded = seed(&fake, None);
        let client = tuned(fake.client_builder(), settings, "xbongbong")?
            .build()
            .map_err(SetupError::other)?;
        let note = fake_note("xbongbong", &fake.uri(), &seeded);
        return Ok(Connected::on_fake(client, fake, note));
    };
    let corpid = s.required("corpid")?;
    let mut builder = Client::builder().corpid(corpid).token(s.secret("token")?);
    if let Some(user_id) = s.optional("user_id") {
        builder = builder.user_id(user_id);
    }
    let url = s
        .optional_url("base_url")?
        .unwrap_or_else(|| xbongbong::client::base_url_for_corpid(corpid).to_owned());
    builder = builder.base_url(&url);
    Ok(Connected::on_service(
        tuned(builder, settings, "xbongbong")?
            .build()
            .map_err(SetupError::other)?,
        real_note("xbongbong", &url),
    ))
}

/// Seeds the fake with what the scheme reads: `records` customers and as
/// many contracts for them ([`SEEDED_CUSTOMERS`] and [`SEEDED_CONTRACTS`]
/// when `None`), of the customer and contract forms the scheme discovers,
/// created and updated over the last year (the first run reads them all).
/// Returns what was seeded, e.g. `40 customers, 120 contracts`.
pub fn seed(fake: &FakeXbongbong, records: Option<usize>) -> String {
    let (customers, contracts) = records.map_or((SEEDED_CUSTOMERS, SEEDED_CONTRACTS), |n| (n, n));
    fake.seed_customers(customers);
    fake.seed_contracts(contracts);
    format!("{customers} customers, {contracts} contracts")
}
