//! A SQLite state file is never silently replaced: `SqliteStore::open`
//! refuses an empty, foreign or damaged file (naming it and leaving it as
//! it is), `open_fresh` keeps the old file aside, and every error names the
//! file.

#![allow(clippy::unwrap_used)] // Tests unwrap: a panic is a failed test.

use std::path::{Path, PathBuf};

use integration_core::{Checkpoint, CollectionEntry, SqliteStore, StateStore};
use serde_json::json;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ic-sqlite-file-{name}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names of the files in `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The error of opening `path`, as displayed.
fn refusal(path: &Path) -> String {
    SqliteStore::open(path).unwrap_err().to_string()
}

/// Asserts that `message` refuses the file at `path` for `what`, and says
/// how to start a new state.
fn assert_refused(message: &str, path: &Path, what: &str) {
    let expected = format!("state store: state file {} {what}; ", path.display());
    assert!(message.starts_with(&expected), "{message}");
    assert!(
        message.ends_with("it is left as it is: restore it from a backup, or, to start a new state (everything is synced again), move it aside (`SqliteStore::open_fresh` does so and keeps it)"),
        "{message}"
    );
}

fn application_id(path: &Path) -> i32 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap()
}

/// A state file with a checkpoint for `p` and `n` entries in `c`; the store
/// is closed (its WAL merged into the file) when this returns.
async fn state_file(path: &Path, n: usize) {
    let store = SqliteStore::open(path).unwrap();
    store
        .set_checkpoint("p", &Checkpoint(json!({"t": 7})))
        .await
        .unwrap();
    let entries = (0..n)
        .map(|i| CollectionEntry::new("c", i.to_string(), json!({"i": i, "pad": "x".repeat(100)})))
        .collect();
    store.put_entries(entries).await.unwrap();
    drop(store);
    assert!(
        !with_suffix(path, "-wal").exists(),
        "the store was not closed"
    );
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_is_refused_left_untouched_and_open_fresh_keeps_it_aside() {
    let dir = temp_dir("empty");
    let path = dir.join("state.sqlite");
    std::fs::write(&path, b"").unwrap();

    assert_refused(&refusal(&path), &path, "is empty (0 bytes)");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(files(&dir), ["state.sqlite"]);

    let fresh = SqliteStore::open_fresh(&path).unwrap();
    assert_eq!(fresh.checkpoint("p").await.unwrap(), None);
    let names = files(&dir);
    let aside = names
        .iter()
        .find(|n| n.starts_with("state.sqlite.replaced-"))
        .unwrap();
    assert_eq!(std::fs::metadata(dir.join(aside)).unwrap().len(), 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_text_file_is_refused_and_left_untouched() {
    let dir = temp_dir("text");
    let path = dir.join("state.sqlite");
    let text = "pipeline = \"crm\"\n".repeat(20);
    std::fs::write(&path, &text).unwrap();

    assert_refused(&refusal(&path), &path, "is not a SQLite database");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(files(&dir), ["state.sqlite"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_sqlite_database_without_our_tables_is_refused_and_left_untouched() {
    let dir = temp_dir("foreign");
    let path = dir.join("state.sqlite");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
                        INSERT INTO customers (name) VALUES ('Ada');",
        )
        .unwrap();
    drop(other);
    let before = std::fs::read(&path).unwrap();

    assert_refused(
        &refusal(&path),
        &path,
        "is a SQLite database but not a state file of ours (no checkpoints and entries tables)",
    );
    // Not even switched to WAL.
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(files(&dir), ["state.sqlite"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_of_another_application_is_refused_even_with_our_tables() {
    let dir = temp_dir("foreign-id");
    let path = dir.join("state.sqlite");
    state_file(&path, 1).await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", 42)
        .unwrap();

    assert_refused(
        &refusal(&path),
        &path,
        "is a SQLite database but not a state file of ours (foreign application id 42, 0x0000002a)",
    );
    assert_eq!(application_id(&path), 42);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_sqlite_file_with_a_damaged_header_is_refused() {
    let dir = temp_dir("header");
    let path = dir.join("state.sqlite");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5, 4096 - bytes.len()));
    std::fs::write(&path, &bytes).unwrap();

    assert_refused(&refusal(&path), &path, "is damaged: file is not a database");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_state_file_has_our_application_id_and_reopened_keeps_its_checkpoint() {
    let dir = temp_dir("reopen");
    let path = dir.join("state.sqlite");
    state_file(&path, 3).await;
    assert_eq!(application_id(&path), SqliteStore::APPLICATION_ID);
    assert_eq!(application_id(&path), 0x4943_5354);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.checkpoint("p").await.unwrap(),
        Some(Checkpoint(json!({"t": 7})))
    );
    assert_eq!(store.count_entries("c").await.unwrap(), 3);
    drop(store);
    // No file of the creation left behind.
    assert_eq!(files(&dir), ["state.sqlite"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_file_of_an_earlier_version_is_accepted_and_gets_the_id() {
    let dir = temp_dir("earlier");
    let path = dir.join("state.sqlite");
    state_file(&path, 2).await;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", 0)
        .unwrap();
    assert_eq!(application_id(&path), 0);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.checkpoint("p").await.unwrap(),
        Some(Checkpoint(json!({"t": 7})))
    );
    assert_eq!(store.count_entries("c").await.unwrap(), 2);
    drop(store);
    assert_eq!(application_id(&path), SqliteStore::APPLICATION_ID);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_fresh_moves_the_old_file_aside_and_starts_empty() {
    let dir = temp_dir("fresh");
    let path = dir.join("state.sqlite");
    state_file(&path, 2).await;
    let old = std::fs::read(&path).unwrap();

    let fresh = SqliteStore::open_fresh(&path).unwrap();
    assert_eq!(fresh.checkpoint("p").await.unwrap(), None);
    assert_eq!(fresh.count_entries("c").await.unwrap(), 0);
    fresh
        .set_checkpoint("p", &Checkpoint(json!({"t": 1})))
        .await
        .unwrap();
    drop(fresh);

    let names = files(&dir);
    let aside: Vec<&String> = names.iter().filter(|n| *n != "state.sqlite").collect();
    assert_eq!(aside.len(), 1, "{names:?}");
    let stamp = aside[0].strip_prefix("state.sqlite.replaced-").unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").is_ok(),
        "{stamp}"
    );
    assert_eq!(std::fs::read(dir.join(aside[0])).unwrap(), old);

    // The old state, under its new name, still has its checkpoint.
    let kept = SqliteStore::open(dir.join(aside[0])).unwrap();
    assert_eq!(
        kept.checkpoint("p").await.unwrap(),
        Some(Checkpoint(json!({"t": 7})))
    );
    assert_eq!(kept.count_entries("c").await.unwrap(), 2);
    drop(kept);

    // A second fresh start in the same second takes another name.
    drop(SqliteStore::open_fresh(&path).unwrap());
    drop(SqliteStore::open_fresh(&path).unwrap());
    let asides = files(&dir)
        .into_iter()
        .filter(|n| n.starts_with("state.sqlite.replaced-") && !n.ends_with("-wal"))
        .count();
    assert_eq!(asides, 3, "{:?}", files(&dir));

    // Where no file is, a new state is created.
    let elsewhere = dir.join("new.sqlite");
    let new = SqliteStore::open_fresh(&elsewhere).unwrap();
    assert_eq!(new.checkpoint("p").await.unwrap(), None);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_damaged_after_it_was_written_gives_errors_naming_it() {
    let dir = temp_dir("damaged");
    let path = dir.join("state.sqlite");
    state_file(&path, 400).await;
    // Garbage over the start (the b-tree page header) of every page but
    // the first (the schema).
    let mut bytes = std::fs::read(&path).unwrap();
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        size => usize::from(size),
    };
    assert!(bytes.len() >= 4 * page_size, "{} bytes", bytes.len());
    for page in bytes.chunks_mut(page_size).skip(1) {
        page[..64].fill(0xA5);
    }
    std::fs::write(&path, &bytes).unwrap();

    let malformed = format!(
        "state store: state file {}: database disk image is malformed",
        path.display()
    );
    match SqliteStore::open(&path) {
        Err(e) => assert_eq!(e.to_string(), malformed),
        Ok(store) => {
            let checkpoint = store.checkpoint("p").await.unwrap_err();
            assert_eq!(checkpoint.to_string(), malformed);
            let count = store.count_entries("c").await.unwrap_err();
            assert_eq!(count.to_string(), malformed);
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_wal_file_without_its_state_file_is_refused() {
    let dir = temp_dir("leftover");
    let path = dir.join("state.sqlite");
    let wal = with_suffix(&path, "-wal");
    std::fs::write(&wal, b"frames of a lost state").unwrap();

    assert_refused(
        &refusal(&path),
        &path,
        &format!(
            "does not exist but its {} does (what remains of a state?)",
            wal.display()
        ),
    );
    assert_eq!(files(&dir), ["state.sqlite-wal"]);

    // `open_fresh` moves it aside too.
    drop(SqliteStore::open_fresh(&path).unwrap());
    let names = files(&dir);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("state.sqlite.replaced-") && n.ends_with("-wal")),
        "{names:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_new_state_file_opened_by_several_threads_at_once_is_created_once() {
    let dir = temp_dir("race");
    let path = dir.join("state.sqlite");
    let opened: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(&path).map(drop))
        })
        .collect();
    for thread in opened {
        thread.join().unwrap().unwrap();
    }
    assert_eq!(files(&dir), ["state.sqlite"]);
    assert_eq!(application_id(&path), SqliteStore::APPLICATION_ID);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_state_file_that_cannot_be_created_is_named() {
    let dir = temp_dir("missing-dir");
    let path = dir.join("no-such-dir").join("state.sqlite");
    let message = refusal(&path);
    let expected = format!(
        "state store: state file {}: cannot create it: unable to open database file",
        path.display()
    );
    assert!(message.starts_with(&expected), "{message}");
    std::fs::remove_dir_all(&dir).ok();
}
