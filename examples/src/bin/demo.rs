//! Runs the four reference schemes against the built-in fakes, twice: the
//! first run writes every record, the second (incremental) adds nothing.
//! Prints the reports and a one-line summary; exits 1 if any scheme lost a
//! record, failed, or duplicated one.
//!
//! `demo --console [ADDR]` also serves the operations console (default
//! `127.0.0.1:8080`) over the four schemes' state while they run, and keeps
//! it and the fakes up afterwards until Ctrl-C, to click around in.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use examples::runner::{Job, Progress, SetupError, check_rows, init_tracing, print_reports};
use examples::schemes::{huke_to_kingdee, jdy_to_jackyun, okki_to_yonbip, xbongbong_to_kingdee};
use examples::settings::Settings;
use integration_core::console::Console;
use integration_core::{SqliteStore, StateStore};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    match demo().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::from(1)
        }
    }
}

/// The share of customers K/3 Cloud's fake refuses with `--console`.
const REFUSED_SHARE: f64 = 0.05;

/// Where `--console` listens unless an address follows it.
const CONSOLE_ADDR: &str = "127.0.0.1:8080";

/// `--console [ADDR]`: the console's address, if asked for.
fn console_addr() -> Result<Option<SocketAddr>, SetupError> {
    let mut args = std::env::args().skip(1);
    let Some(flag) = args.next() else {
        return Ok(None);
    };
    if flag != "--console" {
        return Err(SetupError::Other(format!(
            "unknown argument {flag:?}; the demo takes only --console [ADDR]"
        )));
    }
    let addr = args.next().unwrap_or_else(|| CONSOLE_ADDR.to_owned());
    addr.parse()
        .map(Some)
        .map_err(|e| SetupError::Other(format!("--console {addr:?}: {e}")))
}

async fn demo() -> Result<bool, SetupError> {
    let console_addr = console_addr()?;
    let dir = std::env::temp_dir().join(format!(
        "connectors-demo-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| SetupError::Other(format!("cannot create {}: {e}", dir.display())))?;
    // One state file for the four schemes (their pipeline names differ),
    // so that one console shows them all.
    let store: Arc<dyn StateStore> =
        Arc::new(SqliteStore::open(dir.join("demo.sqlite")).map_err(SetupError::other)?);
    let settings = Settings::empty();
    // Kept, so that each run's bar is finished before its report prints.
    let progress = [
        xbongbong_to_kingdee::NAME,
        jdy_to_jackyun::NAME,
        okki_to_yonbip::NAME,
        huke_to_kingdee::NAME,
    ]
    .map(Progress::new);
    let xbongbong =
        xbongbong_to_kingdee::setup(&settings, Arc::clone(&store), progress[0].clone()).await?;
    let jdy = jdy_to_jackyun::setup(&settings, Arc::clone(&store), progress[1].clone()).await?;
    let okki = okki_to_yonbip::setup(&settings, Arc::clone(&store), progress[2].clone()).await?;
    let huke = huke_to_kingdee::setup(&settings, Arc::clone(&store), progress[3].clone()).await?;
    // With the console, K/3 Cloud's fake refuses a few customers of the
    // last scheme, so that there are dead letters to look at and replay.
    let refusing = console_addr.and(huke.kingdee.fake.as_ref());
    if let Some(k3) = refusing {
        k3.reject_models(2026, REFUSED_SHARE);
    }
    let jobs: [&dyn Job; 4] = [&xbongbong, &jdy, &okki, &huke];

    let console = match console_addr {
        Some(addr) => {
            let mut console = Console::builder(Arc::clone(&store)).title("connectors demo");
            for pipeline in jobs.iter().flat_map(|job| job.pipelines()) {
                console = console.control(pipeline);
            }
            let running = console.spawn(addr).await.map_err(SetupError::other)?;
            println!(
                "console at {} (the runs show there as they go)",
                running.url()
            );
            Some(running)
        }
        None => None,
    };

    let mut all_good = true;
    let mut summary = Vec::new();
    for (job, progress) in jobs.iter().zip(&progress) {
        println!("==== {} ====", job.name());
        for note in job.notes() {
            println!("{note}");
        }
        // Every system is checked before anything is read.
        let checks = job.check().await;
        for row in check_rows(&checks) {
            println!("check {row}");
        }
        if checks.iter().any(|c| c.result.is_err()) {
            println!("{}: a system failed its check; not run", job.name());
            all_good = false;
            continue;
        }
        let first = job.run().await;
        progress.finish();
        let first = match first {
            Ok(reports) => reports,
            Err(e) => {
                print_reports(std::slice::from_ref(&e.report), false);
                println!("{}: FAILED: {e}", job.name());
                all_good = false;
                continue;
            }
        };
        print_reports(&first, false);
        let after_first = job.target_records();
        let second = job.run().await;
        progress.finish();
        let second = match second {
            Ok(reports) => reports,
            Err(e) => {
                println!("{}: second run FAILED: {e}", job.name());
                all_good = false;
                continue;
            }
        };
        let after_second = job.target_records();
        let lost: u64 = first.iter().chain(&second).map(|r| r.unaccounted()).sum();
        let written: u64 = first.iter().map(|r| r.written).sum();
        let dead: u64 = first.iter().chain(&second).map(|r| r.dead_lettered).sum();
        let verified = job.verify().await;
        let unchanged = after_first == after_second;
        println!(
            "second run: read {}, written {} (upserts of the overlap), target records {} → {}",
            second.iter().map(|r| r.read).sum::<u64>(),
            second.iter().map(|r| r.written).sum::<u64>(),
            after_first.map_or("?".into(), |n| n.to_string()),
            after_second.map_or("?".into(), |n| n.to_string()),
        );
        match &verified {
            Ok(line) => println!("verified: {line}"),
            Err(line) => println!("NOT VERIFIED: {line}"),
        }
        let good = lost == 0 && verified.is_ok() && unchanged;
        all_good &= good;
        summary.push(format!(
            "{}: {} records in the target, {} dead-lettered, {} lost{}",
            job.name(),
            after_second.map_or_else(|| written.to_string(), |n| n.to_string()),
            dead,
            lost,
            if good { "" } else { " ✗" }
        ));
        println!();
    }
    println!(
        "demo: {} — {}",
        if all_good {
            "all schemes complete, nothing lost"
        } else {
            "PROBLEMS FOUND"
        },
        summary.join("; ")
    );
    if let Some(k3) = refusing {
        k3.reject_models(0, 0.0);
        println!(
            "{}: K/3 Cloud's fake refused {} customers on purpose; it accepts them now: \
             open the dead letters of {} in the console and click Replay",
            huke_to_kingdee::NAME,
            store
                .count_dead_letters(huke_to_kingdee::NAME)
                .await
                .unwrap_or(0),
            huke_to_kingdee::NAME,
        );
    }
    if let Some(console) = console {
        println!(
            "console at {}: the fakes and the console stay up until Ctrl-C",
            console.url()
        );
        let _ = tokio::signal::ctrl_c().await;
        console.shut_down().await;
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(all_good)
}
