//! Serves all seven fakes on fixed local ports, seeded with realistic data,
//! and prints each base URL with the credentials it accepts, until
//! interrupted: a local copy of the APIs for any client in any language.
//!
//! `--base-port N` (default 18080) puts them on N+1 … N+7; `--host`
//! (default 127.0.0.1) chooses the address.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use integration_core::testing::Fake;

#[derive(Debug, Parser)]
struct Options {
    /// The fakes listen on this port + 1 … + 7.
    #[arg(long, default_value_t = 18080)]
    base_port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
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

async fn serve(options: &Options) -> Result<(), String> {
    addr(options, 7)?;
    let now = chrono::Utc::now();

    let xbongbong: xbongbong::testing::FakeXbongbong =
        start("xbongbong", addr(options, 1)?).await?;
    xbongbong.seed_customers(50);
    xbongbong.seed_contracts(50);
    println!("销帮帮 xbongbong       {}", Fake::base_url(&xbongbong));
    println!(
        "    corpid {}  token {}  userId {}",
        xbongbong::testing::CORPID,
        xbongbong::testing::TOKEN,
        xbongbong::testing::USER_ID
    );

    let kingdee: kingdee_cloud::testing::FakeK3Cloud = start("kingdee", addr(options, 2)?).await?;
    kingdee.seed_customers(50);
    kingdee.seed_sale_orders(50);
    {
        use kingdee_cloud::testing::*;
        println!("金蝶云星空 K/3 Cloud    {}", Fake::base_url(&kingdee));
        println!(
            "    acct_id {ACCT_ID}  user {USER_NAME}  app_id {APP_ID}  app_secret {APP_SECRET}  password {PASSWORD}"
        );
    }

    let jdy: jdy::testing::FakeJdy = start("jdy", addr(options, 3)?).await?;
    jdy.seed(60, 2026);
    {
        use jdy::testing::*;
        println!("金蝶云星辰 jdy          {}", Fake::base_url(&jdy));
        println!(
            "    V2: client_id {CLIENT_ID}  client_secret {CLIENT_SECRET}  outer_instance_id {OUTER_INSTANCE_ID}  account_id {ACCOUNT_ID}"
        );
        println!(
            "    V1: client_id {V1_CLIENT_ID}  client_secret {V1_CLIENT_SECRET}  username {V1_USERNAME}  password {V1_PASSWORD}  group {V1_GROUP_NAME}"
        );
    }

    let jackyun: jackyun::testing::FakeJackyun = start("jackyun", addr(options, 4)?).await?;
    jackyun.seed(30, 50, 50, now);
    println!("吉客云 Jackyun          {}", Fake::base_url(&jackyun));
    println!(
        "    appkey {}  secret {}",
        jackyun::testing::APPKEY,
        jackyun::testing::SECRET
    );

    let yonbip: yonbip::testing::FakeYonBip = start("yonbip", addr(options, 5)?).await?;
    yonbip.seed_merchants(40);
    yonbip.seed_sales_orders(20);
    yonbip.seed_products(20);
    {
        use yonbip::testing::*;
        // The base URL is the discovery host; the gateway and token URLs
        // sit under it, at the fixed prefixes discovery answers with.
        let url = Fake::base_url(&yonbip);
        println!(
            "用友 BIP YonSuite       {url}  (gateway {url}{GATEWAY_PREFIX}, token {url}{AUTH_PREFIX})"
        );
        println!("    app_key {APP_KEY}  app_secret {APP_SECRET}  tenant_id {TENANT_ID}");
    }

    let okki: okki::testing::FakeOkki = start("okki", addr(options, 6)?).await?;
    okki.seed_demo(50);
    {
        use okki::testing::*;
        println!("小满 OKKI               {}", Fake::base_url(&okki));
        println!(
            "    client_id {CLIENT_ID}  client_secret {CLIENT_SECRET}  username {USERNAME}  password {PASSWORD}"
        );
    }

    let huke: netease_huke::testing::FakeHuke = start("huke", addr(options, 7)?).await?;
    huke.seed_trades(200, 2026);
    println!("网易互客 Huke           {}", Fake::base_url(&huke));
    println!(
        "    app_key {}  app_secret {}",
        netease_huke::testing::APP_KEY,
        netease_huke::testing::APP_SECRET
    );

    println!(
        "\nThese are fakes: they check signatures and tokens like the real services and keep what you write. Ctrl-C stops them."
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    println!("sandbox: stopped");
    Ok(())
}
