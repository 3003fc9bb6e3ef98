//! Serves all seven fakes on fixed local ports, seeded with the data the
//! four schemes read (as the demo seeds them), and prints each base URL with
//! the credentials it accepts and the `export` line that points the scheme
//! binaries at it, until interrupted: a local copy of the APIs for any
//! client in any language.
//!
//! `--base-port N` (default 18080) puts them on N+1 … N+7; `--host`
//! (default 127.0.0.1) chooses the address; `--records N` seeds N records
//! of each kind the schemes read instead of the demo's counts.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use examples::systems;
use integration_core::testing::Fake;

/// The most records `--records` seeds per kind. The four sources hold
/// about 65 MB per 1,000 records between them (OKKI's companies come with
/// opportunities and orders, jdy's bills with lines), so this is about
/// 7 GB: more would not fit a workstation.
const MAX_RECORDS: usize = 100_000;

/// Serves the seven fakes on local ports, seeded with the data the four
/// schemes read, until Ctrl-C.
#[derive(Debug, Parser)]
#[command(
    after_help = "Each system's `export` line points the scheme binaries at its fake, e.g. \
                  the Huke and K/3 Cloud lines for huke-to-kingdee. Use a new --state file \
                  for each sandbox session."
)]
struct Options {
    /// The fakes listen on this port + 1 … + 7.
    #[arg(long, default_value_t = 18080)]
    base_port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Seeds each source with N records of each kind its scheme reads.
    #[arg(long, value_name = "N", value_parser = parse_records, help = records_help())]
    records: Option<usize>,
}

/// The help of `--records`, with the demo's counts.
fn records_help() -> String {
    use systems::{huke, jdy, okki, xbongbong};
    format!(
        "Seeds each source with N records of each kind its scheme reads, 1 … {MAX_RECORDS} \
         (the fakes hold about 65 MB per 1000 records): \
         销帮帮 N customers and N contracts, jdy N purchase inbound bills, OKKI N companies \
         (every 20th deleted), Huke N trades of the last {} hours. Default: what the demo \
         seeds ({} customers and {} contracts, {} bills, {} companies, {} trades). The \
         targets (K/3 Cloud, Jackyun, YonBIP) start empty, as in the demo",
        huke::SEEDED_HOURS,
        xbongbong::SEEDED_CUSTOMERS,
        xbongbong::SEEDED_CONTRACTS,
        jdy::SEEDED_BILLS,
        okki::SEEDED_COMPANIES,
        huke::SEEDED_TRADES,
    )
}

/// `--records`: a whole number from 1 to [`MAX_RECORDS`].
fn parse_records(text: &str) -> Result<usize, String> {
    let n: usize = text.trim().parse().map_err(|_| {
        format!("{text:?} is not a number of records (a whole number from 1 to {MAX_RECORDS})")
    })?;
    if n == 0 {
        return Err(format!(
            "0 seeds nothing; give 1 … {MAX_RECORDS}, or leave --records out for the demo's data"
        ));
    }
    if n > MAX_RECORDS {
        return Err(format!(
            "{n} is more than {MAX_RECORDS}, the most records per kind the fakes hold in \
             memory (about 65 MB per 1000)"
        ));
    }
    Ok(n)
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::runner::init_tracing();
    let options = Options::parse();
    match serve(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sandbox: {e}");
            ExitCode::from(2)
        }
    }
}

fn addr(options: &Options, offset: u16) -> Result<SocketAddr, String> {
    let port = options.base_port.checked_add(offset).ok_or_else(|| {
        format!(
            "--base-port {} leaves no room for seven ports",
            options.base_port
        )
    })?;
    Ok(SocketAddr::new(options.host, port))
}

/// Starts a fake through the shared trait, so every system is started the
/// same way; a taken port names the system and the way out.
async fn start<F: Fake>(system: &str, at: SocketAddr) -> Result<F, String> {
    <F as Fake>::start_on(at).await.map_err(|e| {
        format!("cannot listen for {system} on {at}: {e} (choose another --base-port)")
    })
}

/// `value` as one shell word: as is when it is plain, else single-quoted.
fn shell_word(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,=%".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// Prints what a fake was seeded with and the `export` line of the
/// settings (`<SYSTEM>_<KEY>`) that point a scheme binary at it.
fn print_settings(seeded: &str, settings: &[(&str, &str)]) {
    println!("    seeded: {seeded}");
    let exports: Vec<String> = settings
        .iter()
        .map(|(name, value)| format!("{name}={}", shell_word(value)))
        .collect();
    println!("    export {}", exports.join(" "));
}

async fn serve(options: &Options) -> Result<(), String> {
    addr(options, 7)?;
    let records = options.records;

    let xbongbong: xbongbong::testing::FakeXbongbong =
        start("xbongbong", addr(options, 1)?).await?;
    let seeded = systems::xbongbong::seed(&xbongbong, records);
    {
        use xbongbong::testing::*;
        let url = Fake::base_url(&xbongbong);
        println!("销帮帮 xbongbong       {url}");
        println!("    corpid {CORPID}  token {TOKEN}  userId {USER_ID}");
        print_settings(
            &seeded,
            &[
                ("XBONGBONG_BASE_URL", &url),
                ("XBONGBONG_CORPID", CORPID),
                ("XBONGBONG_TOKEN", TOKEN),
                ("XBONGBONG_USER_ID", USER_ID),
                // Where xbongbong-to-kingdee writes the K/3 Cloud number back.
                (
                    "XBONGBONG_K3_NUMBER_FIELD",
                    examples::schemes::xbongbong_to_kingdee::FAKE_K3_NUMBER_FIELD,
                ),
            ],
        );
    }

    let kingdee: kingdee_cloud::testing::FakeK3Cloud = start("kingdee", addr(options, 2)?).await?;
    let seeded = systems::kingdee::seed(&kingdee);
    {
        use kingdee_cloud::testing::*;
        let url = Fake::base_url(&kingdee);
        println!("金蝶云星空 K/3 Cloud    {url}");
        println!(
            "    acct_id {ACCT_ID}  user {USER_NAME}  app_id {APP_ID}  app_secret {APP_SECRET}  password {PASSWORD}"
        );
        print_settings(
            &seeded,
            &[
                ("KINGDEE_SERVER_URL", &url),
                ("KINGDEE_ACCT_ID", ACCT_ID),
                ("KINGDEE_USER_NAME", USER_NAME),
                ("KINGDEE_APP_ID", APP_ID),
                ("KINGDEE_APP_SECRET", APP_SECRET),
            ],
        );
    }

    let jdy: jdy::testing::FakeJdy = start("jdy", addr(options, 3)?).await?;
    let seeded = systems::jdy::seed(&jdy, records);
    {
        use jdy::testing::*;
        let url = Fake::base_url(&jdy);
        println!("金蝶云星辰 jdy          {url}");
        println!(
            "    V2: client_id {CLIENT_ID}  client_secret {CLIENT_SECRET}  outer_instance_id {OUTER_INSTANCE_ID}  account_id {ACCOUNT_ID}"
        );
        println!(
            "    V1: client_id {V1_CLIENT_ID}  client_secret {V1_CLIENT_SECRET}  username {V1_USERNAME}  password {V1_PASSWORD}  group {V1_GROUP_NAME}"
        );
        // The V1 API, as the scheme document and the demo use it.
        print_settings(
            &seeded,
            &[
                ("JDY_BASE_URL", &url),
                ("JDY_CLIENT_ID", V1_CLIENT_ID),
                ("JDY_CLIENT_SECRET", V1_CLIENT_SECRET),
                ("JDY_USERNAME", V1_USERNAME),
                ("JDY_PASSWORD", V1_PASSWORD),
                ("JDY_ACCOUNT_ID", V1_ACCOUNT_ID),
                ("JDY_GROUP_NAME", V1_GROUP_NAME),
            ],
        );
    }

    let jackyun: jackyun::testing::FakeJackyun = start("jackyun", addr(options, 4)?).await?;
    let seeded = systems::jackyun::seed(&jackyun);
    {
        use jackyun::testing::*;
        let url = Fake::base_url(&jackyun);
        println!("吉客云 Jackyun          {url}");
        println!("    appkey {APPKEY}  secret {SECRET}");
        print_settings(
            &seeded,
            &[
                ("JACKYUN_BASE_URL", &url),
                ("JACKYUN_APPKEY", APPKEY),
                ("JACKYUN_SECRET", SECRET),
            ],
        );
    }

    let yonbip: yonbip::testing::FakeYonBip = start("yonbip", addr(options, 5)?).await?;
    let seeded = systems::yonbip::seed(&yonbip);
    {
        use yonbip::testing::*;
        // The base URL is the discovery host; the gateway and token URLs
        // sit under it, at the fixed prefixes discovery answers with.
        let url = Fake::base_url(&yonbip);
        println!(
            "用友 BIP YonSuite       {url}  (gateway {url}{GATEWAY_PREFIX}, token {url}{AUTH_PREFIX})"
        );
        println!("    app_key {APP_KEY}  app_secret {APP_SECRET}  tenant_id {TENANT_ID}");
        print_settings(
            &seeded,
            &[
                ("YONBIP_DISCOVERY_URL", &url),
                ("YONBIP_APP_KEY", APP_KEY),
                ("YONBIP_APP_SECRET", APP_SECRET),
                ("YONBIP_TENANT_ID", TENANT_ID),
            ],
        );
    }

    let okki: okki::testing::FakeOkki = start("okki", addr(options, 6)?).await?;
    let seeded = systems::okki::seed(&okki, records);
    {
        use okki::testing::*;
        let url = Fake::base_url(&okki);
        println!("小满 OKKI               {url}");
        println!(
            "    client_id {CLIENT_ID}  client_secret {CLIENT_SECRET}  username {USERNAME}  password {PASSWORD}"
        );
        print_settings(
            &seeded,
            &[
                ("OKKI_BASE_URL", &url),
                ("OKKI_CLIENT_ID", CLIENT_ID),
                ("OKKI_CLIENT_SECRET", CLIENT_SECRET),
                // Where okki-to-yonbip writes the merchant code back.
                (
                    "OKKI_MERCHANT_CODE_FIELD",
                    okki::testing::MERCHANT_CODE_FIELD_ID,
                ),
            ],
        );
    }

    let huke: netease_huke::testing::FakeHuke = start("huke", addr(options, 7)?).await?;
    let seeded = systems::huke::seed(&huke, records);
    {
        use netease_huke::testing::*;
        let url = Fake::base_url(&huke);
        println!("网易互客 Huke           {url}");
        println!("    app_key {APP_KEY}  app_secret {APP_SECRET}");
        print_settings(
            &seeded,
            &[
                ("HUKE_BASE_URL", &url),
                ("HUKE_APP_KEY", APP_KEY),
                ("HUKE_APP_SECRET", APP_SECRET),
            ],
        );
    }

    println!(
        "\nThese are fakes: they check signatures and tokens like the real services and keep what you write."
    );
    println!(
        "To run a scheme against them, paste the export lines of its two systems, then e.g. \
         `cargo run -p examples --bin huke-to-kingdee -- --state sandbox.sqlite` (a new state \
         file per sandbox session). Its first run reads every record seeded; huke-to-kingdee \
         reads the last 20 hours, so run it within {} hours of this start.",
        20 - systems::huke::SEEDED_HOURS
    );
    println!("Ctrl-C stops them.");
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    println!("sandbox: stopped");
    Ok(())
}
