//! Runs the four reference schemes against the built-in fakes, twice: the
//! first run writes every record, the second (incremental) adds nothing.
//! Prints the reports and a one-line summary; exits 1 if any scheme lost a
//! record, failed, or duplicated one.

use std::process::ExitCode;
use std::sync::Arc;

use examples::runner::{Job, Progress, SetupError, init_tracing, print_reports};
use examples::schemes::{huke_to_kingdee, jdy_to_jackyun, okki_to_yonbip, xbongbong_to_kingdee};
use examples::settings::Settings;
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

/// A fresh state file per scheme in a new temporary folder.
fn state(dir: &std::path::Path, scheme: &str) -> Result<Arc<dyn StateStore>, SetupError> {
    let store =
        SqliteStore::open(dir.join(format!("{scheme}.sqlite"))).map_err(SetupError::other)?;
    Ok(Arc::new(store))
}

async fn demo() -> Result<bool, SetupError> {
    let dir = std::env::temp_dir().join(format!(
        "connectors-demo-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| SetupError::Other(format!("cannot create {}: {e}", dir.display())))?;
    let settings = Settings::empty();
    let progress = Progress::new;
    let jobs: Vec<Box<dyn Job>> = vec![
        Box::new(
            xbongbong_to_kingdee::setup(
                &settings,
                state(&dir, xbongbong_to_kingdee::NAME)?,
                progress(xbongbong_to_kingdee::NAME),
            )
            .await?,
        ),
        Box::new(
            jdy_to_jackyun::setup(
                &settings,
                state(&dir, jdy_to_jackyun::NAME)?,
                progress(jdy_to_jackyun::NAME),
            )
            .await?,
        ),
        Box::new(
            okki_to_yonbip::setup(
                &settings,
                state(&dir, okki_to_yonbip::NAME)?,
                progress(okki_to_yonbip::NAME),
            )
            .await?,
        ),
        Box::new(
            huke_to_kingdee::setup(
                &settings,
                state(&dir, huke_to_kingdee::NAME)?,
                progress(huke_to_kingdee::NAME),
            )
            .await?,
        ),
    ];

    let mut all_good = true;
    let mut summary = Vec::new();
    for job in &jobs {
        println!("==== {} ====", job.name());
        for note in job.notes() {
            println!("{note}");
        }
        let first = match job.run().await {
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
        let second = match job.run().await {
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
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "demo: {} — {}",
        if all_good {
            "all schemes complete, nothing lost"
        } else {
            "PROBLEMS FOUND"
        },
        summary.join("; ")
    );
    Ok(all_good)
}
