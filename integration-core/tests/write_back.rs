//! Write-back: the target's id goes back to each written source record,
//! with its own outcome, dead letters that a replay only writes back, and
//! never at the cost of the main write's checkpoint. Also: a replay cut
//! short keeps what it settled.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use integration_core::memory::{FnSink, MemorySink, MemoryWriteBack, VecSource};
use integration_core::state::Stage;
use integration_core::testing::fast_retry;
use integration_core::{
    MapContext, MapError, MemoryStore, Pipeline, RecordError, SinkRecord, SourceRecord,
    SqliteStore, StateStore, WriteOutcome,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Customer {
    id: u64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Target {
    number: String,
    name: String,
}

fn customers(n: u64) -> Vec<SourceRecord<Customer>> {
    (0..n)
        .map(|id| {
            let name = format!("客户{id}");
            SourceRecord::upsert(id.to_string(), Customer { id, name })
        })
        .collect()
}

fn to_target(record: &SourceRecord<Customer>, _: &MapContext) -> Result<Option<Target>, MapError> {
    Ok(Some(Target {
        number: format!("C{:05}", record.data.id),
        name: record.data.name.clone(),
    }))
}

type Customers = Pipeline<VecSource<Customer>, MemorySink<Target>>;

/// Customers → memory, the target's number written back.
fn pipeline(
    source: VecSource<Customer>,
    sink: MemorySink<Target>,
    back: MemoryWriteBack<Customer>,
    state: Arc<dyn StateStore>,
) -> Customers {
    Pipeline::builder("customers")
        .source(source)
        .mapper(to_target)
        .sink(sink)
        .state(state)
        .batch_size(10)
        .retry(fast_retry())
        .write_back_with(back, |_, target: &Target| Some(target.number.clone()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_written_record_gets_the_target_number_and_a_second_run_sends_nothing() {
    let (sink, back) = (MemorySink::new(10), MemoryWriteBack::new());
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = pipeline(
        VecSource::new(customers(25), 10),
        sink.clone(),
        back.clone(),
        Arc::clone(&state),
    );
    let report = p.run().await.unwrap();
    assert_eq!((report.written, report.written_back), (25, 25));
    assert_eq!(report.write_back_dead_lettered, 0);
    assert_eq!(back.values()["7"], "C00007");
    assert_eq!(back.values().len(), 25);
    assert!(report.to_string().contains("written back"), "{report}");

    // Reset: the same records again; the values are there already.
    p.reset_checkpoint("test").await.unwrap();
    let again = p.run().await.unwrap();
    assert_eq!((again.written, again.written_back), (25, 0));
    assert_eq!(again.write_back_unchanged, 25);
    assert_eq!(
        back.writes(),
        25,
        "writing the same value twice sent nothing"
    );
}

#[tokio::test]
async fn a_failed_write_back_is_a_dead_letter_of_its_own_and_the_checkpoint_moves_on() {
    let sink = MemorySink::new(10);
    // Key 3 is refused for good; key 4 fails once, then works.
    let back = MemoryWriteBack::new().failing_when(|key, attempt| match (key, attempt) {
        ("3", _) => Some(RecordError::permanent("字段不可编辑").with_code(100_042)),
        ("4", 1) => Some(RecordError::retryable("locked")),
        _ => None,
    });
    let state: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let p = pipeline(
        VecSource::new(customers(12), 5),
        sink.clone(),
        back.clone(),
        Arc::clone(&state),
    );
    let report = p.run().await.unwrap();
    assert_eq!(report.written, 12, "every record is written");
    assert_eq!(report.dead_lettered, 0, "no record failed");
    assert_eq!(report.written_back, 11);
    assert_eq!(report.write_back_dead_lettered, 1);
    assert_eq!(report.unaccounted(), 0);
    assert!(
        state.checkpoint("customers").await.unwrap().is_some(),
        "the checkpoint moved on"
    );
    let letters = state.dead_letters("customers").await.unwrap();
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!((letter.key.as_str(), letter.stage), ("3", Stage::WriteBack));
    assert_eq!(letter.target_id.as_deref(), Some("C00003"));
    assert_eq!(letter.code.as_deref(), Some("100042"));
    assert_eq!(letter.error, "字段不可编辑");
    assert_eq!(
        back.values()["4"],
        "C00004",
        "the retryable failure was retried"
    );
    let entry = state.entry("customers", "3").await.unwrap().unwrap();
    assert_eq!(
        entry.status,
        integration_core::state::EntryStatus::Written,
        "the record itself is written"
    );
}

#[tokio::test]
async fn a_replay_only_writes_back_and_clears_the_letter() {
    let sink = MemorySink::new(10);
    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let back = {
        let refuse = Arc::clone(&refuse);
        MemoryWriteBack::new().failing_when(move |key, _| {
            (key == "2" && refuse.load(Ordering::SeqCst)).then(|| RecordError::permanent("no"))
        })
    };
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = pipeline(
        VecSource::new(customers(5), 5),
        sink.clone(),
        back.clone(),
        Arc::clone(&state),
    );
    p.run().await.unwrap();
    assert_eq!(state.count_dead_letters("customers").await.unwrap(), 1);

    refuse.store(false, Ordering::SeqCst);
    let replay = p.replay_dead_letters().await.unwrap();
    assert_eq!(replay.written_back, 1);
    assert_eq!(
        (replay.read, replay.written),
        (0, 0),
        "nothing written again"
    );
    assert_eq!(replay.unaccounted(), 0);
    assert_eq!(sink.writes()["2"], 1, "the record was written once only");
    assert_eq!(back.values()["2"], "C00002");
    assert_eq!(state.count_dead_letters("customers").await.unwrap(), 0);
}

#[tokio::test]
async fn a_record_written_again_after_a_failed_write_back_clears_its_letter() {
    let sink = MemorySink::new(10);
    let refuse = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let back = {
        let refuse = Arc::clone(&refuse);
        MemoryWriteBack::new().failing_when(move |_, _| {
            refuse
                .load(Ordering::SeqCst)
                .then(|| RecordError::permanent("no"))
        })
    };
    let state: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let p = pipeline(
        VecSource::new(customers(3), 5),
        sink,
        back.clone(),
        Arc::clone(&state),
    );
    assert_eq!(p.run().await.unwrap().write_back_dead_lettered, 3);
    refuse.store(false, Ordering::SeqCst);
    p.reset_checkpoint("test").await.unwrap();
    assert_eq!(p.run().await.unwrap().written_back, 3);
    assert_eq!(state.count_dead_letters("customers").await.unwrap(), 0);
}

#[tokio::test]
async fn a_replay_cut_short_keeps_the_letters_it_settled() {
    // 40 letters: every record fails at first.
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let written = Arc::new(AtomicU64::new(0));
    let sink = {
        let (failing, written) = (Arc::clone(&failing), Arc::clone(&written));
        FnSink::new(5, move |batch: Vec<SinkRecord<Target>>| {
            let (failing, written) = (Arc::clone(&failing), Arc::clone(&written));
            async move {
                if failing.load(Ordering::SeqCst) {
                    let no = WriteOutcome::Failed(RecordError::permanent("down"));
                    return Ok(vec![no; batch.len()]);
                }
                // The third batch of the replay never answers: the process
                // is killed there.
                if written.fetch_add(batch.len() as u64, Ordering::SeqCst) >= 10 {
                    std::future::pending::<()>().await;
                }
                Ok(batch
                    .iter()
                    .map(|r| WriteOutcome::written(r.key.clone()))
                    .collect())
            }
        })
    };
    let state: Arc<dyn StateStore> = Arc::new(SqliteStore::in_memory().unwrap());
    let p = Pipeline::builder("customers")
        .source(VecSource::new(customers(40), 40))
        .mapper(to_target)
        .sink(sink)
        .state(Arc::clone(&state))
        .batch_size(5)
        .concurrency(1)
        .retry(fast_retry())
        .build()
        .unwrap();
    assert_eq!(p.run().await.unwrap().dead_lettered, 40);

    failing.store(false, Ordering::SeqCst);
    let cut = tokio::time::timeout(Duration::from_millis(500), p.replay_dead_letters()).await;
    assert!(cut.is_err(), "the replay hung at its third batch");
    assert_eq!(
        state.count_dead_letters("customers").await.unwrap(),
        30,
        "the two batches written before the cut left the dead letters"
    );
}
