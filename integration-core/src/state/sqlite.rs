//! State in an embedded SQLite file.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::lease::{self, Fence, LeaseRow};
use super::{
    Changes, CollectionEntry, DeadLetter, EntryQuery, EntryStatus, Lease, LookupFilter, RunOutcome,
    RunRecord, StateError, StateStore, is_plain_field, match_text,
};
use crate::source::Checkpoint;

impl From<rusqlite::Error> for StateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::caused_by(e.to_string(), e)
    }
}

/// `error`, said of the state file named `file`: `state file <path>: <what
/// failed>`. Every error a file's store returns goes through here.
fn in_file(file: &str, mut error: StateError) -> StateError {
    error.message = format!("state file {file}: {}", error.message);
    error
}

/// State in an embedded SQLite file (bundled: nothing to install).
///
/// No call stalls the runtime, whatever the disk or a lock held by another
/// process (WAL, busy timeout of 10 s) does: on a multi-thread runtime a
/// call runs where it is, after the worker hands its other tasks on
/// (`block_in_place`: no thread hop, SQLite's memory stays with the
/// runtime's threads); elsewhere on the store's own thread, started on
/// first need. A mapping's lookups, already off the runtime, read directly.
/// Several pipelines of one process, or a second store opened on the same
/// file, share it. Each call is one transaction.
///
/// [`open`](Self::open) takes only a state file of ours (or creates one
/// where no file is), never an empty, foreign or damaged file;
/// [`open_fresh`](Self::open_fresh) starts a new state, keeping the old
/// file aside. Every error names the file: `state file <path>: ...`.
#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<Mutex<Db>>,
    /// The file's path as given, named by every error; `None` in memory.
    file: Option<Arc<str>>,
    /// The store's thread, for runtimes where a call cannot run in place.
    worker: Arc<OnceLock<Mutex<mpsc::Sender<Job>>>>,
}

/// A call for the store's thread.
type Job = Box<dyn FnOnce() + Send>;

struct Db {
    conn: Connection,
    /// Fields that have an expression index for lookups.
    indexed_fields: HashSet<String>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS checkpoints (
    pipeline   TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    status     TEXT NOT NULL,
    target_id  TEXT,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    pipeline  TEXT NOT NULL,
    key       TEXT NOT NULL,
    letter    TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, key)
);
CREATE TABLE IF NOT EXISTS runs (
    id         TEXT PRIMARY KEY,
    pipeline   TEXT NOT NULL,
    started_at TEXT NOT NULL,
    running    INTEGER NOT NULL,
    record     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, started_at);
CREATE INDEX IF NOT EXISTS entries_by_update ON entries (collection, updated_at DESC, key);
CREATE TABLE IF NOT EXISTS leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT,
    token        INTEGER NOT NULL,
    expires_at   TEXT NOT NULL,
    done_through TEXT
);
CREATE TABLE IF NOT EXISTS budget_members (
    budget     TEXT NOT NULL,
    member     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (budget, member)
);
";

impl SqliteStore {
    /// The `PRAGMA application_id` of our state files: `0x4943_5354`,
    /// "ICST" in ASCII (1229149012, as `sqlite3 <file> 'PRAGMA
    /// application_id'` prints it).
    pub const APPLICATION_ID: i32 = 0x4943_5354;

    /// Opens the state file at `path`, or creates a new state there if no
    /// file is there. Opening is quick local work done before any pipeline
    /// runs, so it is synchronous.
    ///
    /// A file that is there must be a state file of ours: one with our
    /// [application id](Self::APPLICATION_ID), or one of an earlier version
    /// (application id 0 and our tables), which gets the id. Anything else
    /// is refused and left as it is, since taking it as a new state would
    /// sync everything again: an empty file (0 bytes, say truncated), a
    /// file that is not a SQLite database, a SQLite database of another
    /// application, a file SQLite cannot read (a damaged header), or a
    /// `-wal` or `-journal` file without its state file. To start a new
    /// state anyway, use [`open_fresh`](Self::open_fresh), which moves the
    /// old file aside.
    ///
    /// Every error, here and from the store's later calls, names the file
    /// by `path` as given: `state file <path>: ...`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let file = StateFile::new(path.as_ref());
        let conn = file.open()?;
        Self::init(conn, Some(file.name.into()))
    }

    /// Starts a new state at `path`: a file that is there (with its `-wal`,
    /// `-shm` and `-journal` files) is first moved aside, never deleted,
    /// to `<path>.replaced-<UTC time as YYYYMMDDTHHMMSSZ>` (with `-2`,
    /// `-3`... if that name is taken), and a warning logs where it went.
    /// The old file may hold the only copy of the checkpoints: it can be
    /// opened again under its new name. No other process should be using
    /// the file meanwhile.
    pub fn open_fresh(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let file = StateFile::new(path.as_ref());
        if let Some(aside) = file.move_aside()? {
            tracing::warn!(
                state_file = %file.name,
                moved_to = %aside.display(),
                "starting a new state: the old state file was moved aside"
            );
        }
        Self::open(path)
    }

    /// A store in memory (same SQL, nothing on disk).
    pub fn in_memory() -> Result<Self, StateError> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(conn: Connection, file: Option<Arc<str>>) -> Result<Self, StateError> {
        let store = Self {
            db: Arc::new(Mutex::new(Db {
                conn,
                indexed_fields: HashSet::new(),
            })),
            file,
            worker: Arc::default(),
        };
        // Adds the tables and indexes that files of earlier versions lack.
        store
            .lock()
            .conn
            .execute_batch(SCHEMA)
            .map_err(|e| store.named(e.into()))?;
        Ok(store)
    }

    /// `error`, naming the store's file (if it has one).
    fn named(&self, error: StateError) -> StateError {
        match &self.file {
            Some(file) => in_file(file, error),
            None => error,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `work` on the connection: in place on a multi-thread runtime,
    /// else on the store's thread. Its errors name the file.
    async fn with_db<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Db) -> Result<R, StateError> + Send + 'static,
    ) -> Result<R, StateError> {
        self.run(work).await.map_err(|e| self.named(e))
    }

    async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Db) -> Result<R, StateError> + Send + 'static,
    ) -> Result<R, StateError> {
        let flavor = tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor());
        if matches!(flavor, Ok(tokio::runtime::RuntimeFlavor::MultiThread)) {
            return tokio::task::block_in_place(|| work(&mut self.lock()));
        }
        let (done, answer) = tokio::sync::oneshot::channel();
        let db = Arc::clone(&self.db);
        let job = move || {
            let result = work(&mut db.lock().unwrap_or_else(|p| p.into_inner()));
            let _ = done.send(result);
        };
        self.worker()?
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Box::new(job))
            .map_err(|_| StateError::new("the state store's thread has stopped"))?;
        answer
            .await
            .map_err(|_| StateError::new("a state store call panicked"))?
    }

    /// The store's thread, started on first use; it ends when the last
    /// clone of the store is dropped, and a call that panics fails alone.
    fn worker(&self) -> Result<&Mutex<mpsc::Sender<Job>>, StateError> {
        if let Some(worker) = self.worker.get() {
            return Ok(worker);
        }
        let (worker, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-store".into())
            .spawn(move || {
                while let Ok(job) = jobs.recv() {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(|e| StateError::caused_by("cannot start the state store's thread", e))?;
        Ok(self.worker.get_or_init(|| Mutex::new(worker)))
    }
}

/// The first 16 bytes of every SQLite database.
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

/// The files SQLite keeps next to a database: moved aside with it.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// What to do about a file [`SqliteStore::open`] refuses.
const HOW_TO_PROCEED: &str = "it is left as it is: restore it from a backup, or, to start a \
    new state (everything is synced again), move it aside (`SqliteStore::open_fresh` does so \
    and keeps it)";

/// A state file being opened, and what is said about it.
struct StateFile<'a> {
    path: &'a Path,
    /// Its path as given, for messages.
    name: String,
}

impl<'a> StateFile<'a> {
    fn new(path: &'a Path) -> Self {
        Self {
            path,
            name: path.display().to_string(),
        }
    }

    /// A file refused for `what`.
    fn refused(&self, what: &str) -> StateError {
        StateError::new(format!("state file {} {what}; {HOW_TO_PROCEED}", self.name))
    }

    /// An error of SQLite on opening: a file it cannot read is refused.
    fn sqlite(&self, e: rusqlite::Error) -> StateError {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                self.refused(&format!("is damaged: {e}"))
            }
            _ => in_file(&self.name, e.into()),
        }
    }

    /// A failed file operation.
    fn io(&self, doing: &str, e: std::io::Error) -> StateError {
        in_file(
            &self.name,
            StateError::caused_by(format!("{doing}: {e}"), e),
        )
    }

    /// `self.path` with `suffix` appended to its file name.
    fn with_suffix(&self, suffix: &str) -> PathBuf {
        with_suffix(self.path, suffix)
    }

    /// The connection to the state file, created if no file is there.
    fn open(&self) -> Result<Connection, StateError> {
        match std::fs::metadata(self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                for suffix in ["-wal", "-journal"] {
                    let leftover = self.with_suffix(suffix);
                    if leftover.exists() {
                        return Err(self.refused(&format!(
                            "does not exist but its {} does (what remains of a state?)",
                            leftover.display()
                        )));
                    }
                }
                self.create()?;
            }
            Err(e) => return Err(self.io("cannot read it", e)),
            Ok(meta) if meta.len() == 0 => return Err(self.refused("is empty (0 bytes)")),
            Ok(_) => {}
        }
        let mut header = Vec::with_capacity(SQLITE_HEADER.len());
        std::fs::File::open(self.path)
            .and_then(|f| f.take(SQLITE_HEADER.len() as u64).read_to_end(&mut header))
            .map_err(|e| self.io("cannot read it", e))?;
        if header != SQLITE_HEADER {
            return Err(self.refused("is not a SQLite database"));
        }
        // No `SQLITE_OPEN_CREATE`: a file removed meanwhile is an error.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(self.path, flags).map_err(|e| self.sqlite(e))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| self.sqlite(e))?;
        // Whose file it is, before anything is written to it.
        let id: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| self.sqlite(e))?;
        match id {
            SqliteStore::APPLICATION_ID => {}
            0 if has_our_tables(&conn).map_err(|e| self.sqlite(e))? => {}
            0 => {
                return Err(self.refused(
                    "is a SQLite database but not a state file of ours \
                     (no checkpoints and entries tables)",
                ));
            }
            other => {
                return Err(self.refused(&format!(
                    "is a SQLite database but not a state file of ours \
                     (foreign application id {other}, {other:#010x})"
                )));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.sqlite(e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.sqlite(e))?;
        if id == 0 {
            conn.pragma_update(None, "application_id", SqliteStore::APPLICATION_ID)
                .map_err(|e| self.sqlite(e))?;
            tracing::info!(
                state_file = %self.name,
                "a state file of an earlier version: it now has the application id"
            );
        }
        Ok(conn)
    }

    /// Creates a new state file: built under another name, then put in
    /// place whole, so that another process opening the path meanwhile
    /// never sees an empty file (which it would refuse).
    fn create(&self) -> Result<(), StateError> {
        static CREATED: AtomicU64 = AtomicU64::new(0);
        let new = self.with_suffix(&format!(
            ".new-{}-{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        ));
        let build = || -> Result<(), rusqlite::Error> {
            let conn = Connection::open(&new)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "application_id", SqliteStore::APPLICATION_ID)?;
            conn.execute_batch(SCHEMA)?;
            conn.close().map_err(|(_, e)| e)
        };
        let placed = match build() {
            Err(e) => Err(in_file(
                &self.name,
                StateError::caused_by(format!("cannot create it: {e}"), e),
            )),
            // A hard link never replaces a file: one created meanwhile by
            // another process wins, and is opened.
            Ok(()) => match std::fs::hard_link(&new, self.path) {
                Ok(()) => Ok(()),
                Err(_) if self.path.exists() => Ok(()),
                // A file system without hard links.
                Err(_) => {
                    std::fs::rename(&new, self.path).map_err(|e| self.io("cannot create it", e))
                }
            },
        };
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(with_suffix(&new, suffix));
        }
        placed
    }

    /// Moves the file and its companions aside (never over another file);
    /// where the file went, if anything was there.
    fn move_aside(&self) -> Result<Option<PathBuf>, StateError> {
        let all = std::iter::once("").chain(COMPANIONS);
        let present =
            |path: &Path, suffix: &str| with_suffix(path, suffix).symlink_metadata().is_ok();
        if !all.clone().any(|suffix| present(self.path, suffix)) {
            return Ok(None);
        }
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut aside = self.with_suffix(&format!(".replaced-{stamp}"));
        let mut n = 1;
        while all.clone().any(|suffix| present(&aside, suffix)) {
            n += 1;
            aside = self.with_suffix(&format!(".replaced-{stamp}-{n}"));
        }
        // The file first: were a companion left behind, `open` refuses it.
        for suffix in all {
            if present(self.path, suffix) {
                let to = with_suffix(&aside, suffix);
                std::fs::rename(self.with_suffix(suffix), &to).map_err(|e| {
                    self.io(&format!("cannot move it aside to {}", to.display()), e)
                })?;
            }
        }
        Ok(Some(aside))
    }
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether a database has the tables that every version of ours created.
fn has_our_tables(conn: &Connection) -> Result<bool, rusqlite::Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master
         WHERE type = 'table' AND name IN ('checkpoints', 'entries')",
        [],
        |r| r.get(0),
    )?;
    Ok(n == 2)
}

/// Times are stored as fixed-width UTC text so that text order is time order.
fn stored_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

const ENTRY_COLUMNS: &str = "key, status, target_id, data, updated_at";

fn entry_from_row(
    collection: &str,
    row: &rusqlite::Row<'_>,
) -> Result<CollectionEntry, StateError> {
    let key: String = row.get(0)?;
    let status: String = row.get(1)?;
    let data: String = row.get(3)?;
    let updated_at: String = row.get(4)?;
    Ok(CollectionEntry {
        collection: collection.to_owned(),
        status: EntryStatus::parse(&status)
            .ok_or_else(|| StateError::new(format!("unknown status {status:?} for key {key}")))?,
        key,
        target_id: row.get(2)?,
        data: Arc::new(serde_json::from_str(&data)?),
        updated_at: parse_time(&updated_at)?,
    })
}

/// The first entry a query finds.
fn first_entry(
    conn: &Connection,
    sql: &str,
    collection: &str,
    params: impl rusqlite::Params,
) -> Result<Option<CollectionEntry>, StateError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    rows.next()?
        .map(|row| entry_from_row(collection, row))
        .transpose()
}

/// The condition on `entries` that its `data[field]` equals `wanted` as
/// text, with its parameters (for `?` placeholders): the one rule of
/// lookups and searches. A plain field gets an expression index on first
/// use, so that a lookup (one per mapped record) does not scan.
fn field_condition(
    db: &mut Db,
    field: &str,
    wanted: String,
) -> Result<(String, Vec<SqlValue>), StateError> {
    if !is_plain_field(field) {
        // A name that cannot go into an index expression: scan.
        return Ok((
            "EXISTS (SELECT 1 FROM json_each(entries.data) AS f
                     WHERE f.key = ? AND CAST(f.value AS TEXT) = ?)"
                .to_owned(),
            vec![SqlValue::Text(field.to_owned()), SqlValue::Text(wanted)],
        ));
    }
    let expression = format!("json_extract(data, '$.{field}')");
    if !db.indexed_fields.contains(field) {
        db.conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS entries_by_{field} ON entries (collection, {expression})"
        ))?;
        db.indexed_fields.insert(field.to_owned());
    }
    // The stored value may be text or a number: match either form.
    let as_number = match (wanted.parse::<i64>(), wanted.parse::<f64>()) {
        (Ok(i), _) => SqlValue::Integer(i),
        (_, Ok(f)) if f.is_finite() => SqlValue::Real(f),
        _ => SqlValue::Text(wanted.clone()),
    };
    Ok((
        format!("{expression} IN (?, ?)"),
        vec![SqlValue::Text(wanted), as_number],
    ))
}

fn find_by_field(
    db: &mut Db,
    collection: &str,
    field: &str,
    wanted: String,
) -> Result<Option<CollectionEntry>, StateError> {
    let (condition, values) = field_condition(db, field, wanted)?;
    let params = std::iter::once(SqlValue::Text(collection.to_owned())).chain(values);
    first_entry(
        &db.conn,
        &format!(
            // `+updated_at`: not by `entries_by_update`, which SQLite would
            // otherwise pick without statistics and scan to find the field.
            "SELECT {ENTRY_COLUMNS} FROM entries
             WHERE collection = ? AND {condition}
             ORDER BY +updated_at DESC LIMIT 1"
        ),
        collection,
        rusqlite::params_from_iter(params),
    )
}

fn search_entries(
    db: &mut Db,
    collection: &str,
    query: &EntryQuery,
    offset: usize,
    limit: usize,
) -> Result<Vec<CollectionEntry>, StateError> {
    // The page's keys first (from `entries_by_update` when no field is
    // searched; by the field's index, then sorted, when one is), then
    // those rows.
    let mut sql = "SELECT key FROM entries WHERE collection = ?".to_owned();
    let mut params = vec![SqlValue::Text(collection.to_owned())];
    if let Some(text) = &query.key_contains {
        // Not LIKE: `%` and `_` in the text are plain characters.
        sql.push_str(" AND instr(key, ?) > 0");
        params.push(SqlValue::Text(text.clone()));
    }
    if let Some(status) = query.status {
        sql.push_str(" AND status = ?");
        params.push(SqlValue::Text(status.as_str().to_owned()));
    }
    if let Some((field, value)) = &query.field {
        let Some(wanted) = match_text(value) else {
            return Ok(Vec::new());
        };
        let (condition, values) = field_condition(db, field, wanted)?;
        sql.push_str(" AND ");
        sql.push_str(&condition);
        params.extend(values);
    }
    sql.push_str(if query.field.is_some() {
        " ORDER BY +updated_at DESC, key ASC LIMIT ? OFFSET ?"
    } else {
        " ORDER BY updated_at DESC, key ASC LIMIT ? OFFSET ?"
    });
    params.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    params.push(SqlValue::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM entries WHERE collection = ? AND key IN ({sql})
         ORDER BY updated_at DESC, key ASC"
    );
    params.insert(0, SqlValue::Text(collection.to_owned()));
    let mut stmt = db.conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(entry_from_row(collection, row)?);
    }
    Ok(found)
}

/// The names in the first column of a query's rows.
fn names(conn: &Connection, sql: &str) -> Result<Vec<String>, StateError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, StateError> {
    Ok(DateTime::parse_from_rfc3339(text)
        .map_err(|e| StateError::new(format!("corrupt time {text:?}: {e}")))?
        .with_timezone(&Utc))
}

fn lease_row(conn: &Connection, name: &str) -> Result<Option<LeaseRow>, StateError> {
    let row = conn
        .query_row(
            "SELECT holder, token, expires_at, done_through FROM leases WHERE name = ?1",
            [name],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            },
        )
        .optional()?;
    row.map(|(holder, token, expires_at, done_through)| {
        Ok(LeaseRow {
            holder,
            token: token as u64,
            expires_at: parse_time(&expires_at)?,
            done_through: done_through.as_deref().map(parse_time).transpose()?,
        })
    })
    .transpose()
}

fn put_lease_row(conn: &Connection, name: &str, row: &LeaseRow) -> Result<(), StateError> {
    conn.execute(
        "INSERT OR REPLACE INTO leases (name, holder, token, expires_at, done_through)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            name,
            row.holder,
            row.token as i64,
            stored_time(row.expires_at),
            row.done_through.map(stored_time)
        ],
    )?;
    Ok(())
}

/// Reads a lease row, lets `change` decide, writes its answer: one
/// transaction that takes the write lock first, so that processes sharing
/// the file decide one after another.
fn change_lease(
    conn: &mut Connection,
    name: &str,
    change: impl FnOnce(Option<&LeaseRow>) -> Option<LeaseRow>,
) -> Result<Option<LeaseRow>, StateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = change(lease_row(&tx, name)?.as_ref());
    if let Some(row) = &changed {
        put_lease_row(&tx, name, row)?;
    }
    tx.commit()?;
    Ok(changed)
}

fn check_fence(conn: &Connection, fence: &Fence) -> Result<(), StateError> {
    if lease::admits(lease_row(conn, &fence.name)?.as_ref(), fence) {
        Ok(())
    } else {
        Err(lease::fenced_error(fence))
    }
}

fn apply(conn: &mut Connection, changes: &Changes) -> Result<(), StateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(fence) = &changes.fence {
        check_fence(&tx, fence)?;
    }
    if !changes.entries.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO entries (collection, key, status, target_id, data, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for e in &changes.entries {
            stmt.execute(params![
                e.collection,
                e.key,
                e.status.as_str(),
                e.target_id,
                serde_json::to_string(&e.data)?,
                stored_time(e.updated_at),
            ])?;
        }
    }
    if !changes.resolved.is_empty() {
        let mut stmt =
            tx.prepare_cached("DELETE FROM dead_letters WHERE pipeline = ?1 AND key = ?2")?;
        for key in &changes.resolved {
            stmt.execute(params![changes.pipeline, key])?;
        }
    }
    if !changes.dead_letters.is_empty() {
        let mut stmt = tx.prepare_cached(
            "INSERT OR REPLACE INTO dead_letters (pipeline, key, letter, failed_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in &changes.dead_letters {
            stmt.execute(params![
                l.pipeline,
                l.key,
                serde_json::to_string(l)?,
                stored_time(l.failed_at)
            ])?;
        }
    }
    if let Some(checkpoint) = &changes.checkpoint {
        tx.execute(
            "INSERT INTO checkpoints (pipeline, checkpoint, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (pipeline) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at",
            params![changes.pipeline, serde_json::to_string(checkpoint)?, stored_time(Utc::now())],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn put_run(conn: &Connection, run: &RunRecord) -> Result<(), StateError> {
    conn.execute(
        "INSERT OR REPLACE INTO runs (id, pipeline, started_at, running, record) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            run.id,
            run.pipeline(),
            stored_time(run.report.started_at),
            run.outcome == RunOutcome::Running,
            serde_json::to_string(run)?
        ],
    )?;
    Ok(())
}

fn count(conn: &Connection, sql: &str, key: &str) -> Result<u64, StateError> {
    let n: i64 = conn.query_row(sql, [key], |r| r.get(0))?;
    Ok(n as u64)
}

fn entry(db: &Db, collection: &str, key: &str) -> Result<Option<CollectionEntry>, StateError> {
    first_entry(
        &db.conn,
        &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE collection = ?1 AND key = ?2"),
        collection,
        params![collection, key],
    )
}

#[async_trait]
impl StateStore for SqliteStore {
    fn lookup_blocking(
        &self,
        collection: &str,
        filter: LookupFilter<'_>,
    ) -> Option<Result<Option<CollectionEntry>, StateError>> {
        let mut db = self.lock();
        let found = match filter {
            LookupFilter::Key(key) => entry(&db, collection, key),
            LookupFilter::Field { field, value } => match match_text(value) {
                Some(wanted) => find_by_field(&mut db, collection, field, wanted),
                None => Ok(None),
            },
        };
        Some(found.map_err(|e| self.named(e)))
    }

    async fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            let text: Option<String> = db
                .conn
                .query_row(
                    "SELECT checkpoint FROM checkpoints WHERE pipeline = ?1",
                    [pipeline],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
        })
        .await
    }

    async fn apply(&self, changes: Changes) -> Result<(), StateError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.with_db(move |db| apply(&mut db.conn, &changes)).await
    }

    async fn entry(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let (collection, key) = (collection.to_owned(), key.to_owned());
        self.with_db(move |db| entry(db, &collection, &key)).await
    }

    async fn find_by_field(
        &self,
        collection: &str,
        field: &str,
        value: &Value,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let Some(wanted) = match_text(value) else {
            return Ok(None);
        };
        let (collection, field) = (collection.to_owned(), field.to_owned());
        self.with_db(move |db| find_by_field(db, &collection, &field, wanted))
            .await
    }

    async fn count_entries(&self, collection: &str) -> Result<u64, StateError> {
        let collection = collection.to_owned();
        self.with_db(move |db| {
            count(
                &db.conn,
                "SELECT COUNT(*) FROM entries WHERE collection = ?1",
                &collection,
            )
        })
        .await
    }

    async fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            let mut stmt = db.conn.prepare_cached(
                "SELECT letter FROM dead_letters WHERE pipeline = ?1 ORDER BY failed_at, key",
            )?;
            let texts = stmt
                .query_map([pipeline], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            texts.iter().map(|t| Ok(serde_json::from_str(t)?)).collect()
        })
        .await
    }

    async fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            count(
                &db.conn,
                "SELECT COUNT(*) FROM dead_letters WHERE pipeline = ?1",
                &pipeline,
            )
        })
        .await
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StateError> {
        let run = run.clone();
        self.with_db(move |db| put_run(&db.conn, &run)).await
    }

    async fn runs(
        &self,
        pipeline: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            let mut stmt = db.conn.prepare_cached(
                "SELECT record FROM runs WHERE pipeline = ?1
                 ORDER BY started_at DESC, id DESC LIMIT ?2 OFFSET ?3",
            )?;
            let texts = stmt
                .query_map(
                    params![
                        pipeline,
                        i64::try_from(limit).unwrap_or(i64::MAX),
                        offset as i64
                    ],
                    |r| r.get::<_, String>(0),
                )?
                .collect::<Result<Vec<_>, _>>()?;
            texts.iter().map(|t| Ok(serde_json::from_str(t)?)).collect()
        })
        .await
    }

    async fn end_unfinished_runs(&self, pipeline: &str) -> Result<u64, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            let tx = db.conn.transaction()?;
            let texts = {
                let mut stmt = tx.prepare_cached(
                    "SELECT record FROM runs WHERE pipeline = ?1 AND running = 1",
                )?;
                stmt.query_map([&pipeline], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            for text in &texts {
                let mut run: RunRecord = serde_json::from_str(text)?;
                run.outcome = RunOutcome::Killed;
                put_run(&tx, &run)?;
            }
            tx.commit()?;
            Ok(texts.len() as u64)
        })
        .await
    }

    async fn pipelines(&self) -> Result<Vec<String>, StateError> {
        self.with_db(|db| {
            names(
                &db.conn,
                "SELECT pipeline FROM checkpoints
                 UNION SELECT pipeline FROM runs
                 UNION SELECT pipeline FROM dead_letters
                 ORDER BY pipeline",
            )
        })
        .await
    }

    async fn collections(&self) -> Result<Vec<String>, StateError> {
        self.with_db(|db| {
            names(
                &db.conn,
                "SELECT DISTINCT collection FROM entries ORDER BY collection",
            )
        })
        .await
    }

    async fn search_entries(
        &self,
        collection: &str,
        query: &EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError> {
        let (collection, query) = (collection.to_owned(), query.clone());
        self.with_db(move |db| search_entries(db, &collection, &query, query.offset, query.limit))
            .await
    }

    async fn reset_checkpoint(&self, pipeline: &str) -> Result<bool, StateError> {
        let pipeline = pipeline.to_owned();
        self.with_db(move |db| {
            let removed = db
                .conn
                .execute("DELETE FROM checkpoints WHERE pipeline = ?1", [pipeline])?;
            Ok(removed > 0)
        })
        .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.with_db(move |db| {
            let row = change_lease(&mut db.conn, &name, |row| {
                lease::grant(row, &holder, Utc::now(), ttl)
            })?;
            Ok(row.and_then(|r| r.lease(&name)))
        })
        .await
    }

    async fn renew_lease(&self, held: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        let held = held.clone();
        self.with_db(move |db| {
            change_lease(&mut db.conn, &held.name, |row| {
                lease::renewal(row, &held, Utc::now(), ttl)
            })?
            .and_then(|r| r.lease(&held.name))
            .ok_or_else(|| lease::fenced_error(&held.fence()))
        })
        .await
    }

    async fn release_lease(
        &self,
        held: &Lease,
        done_through: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        let held = held.clone();
        self.with_db(move |db| {
            change_lease(&mut db.conn, &held.name, |row| {
                lease::release(row, &held, done_through, Utc::now())
            })
            .map(drop)
        })
        .await
    }

    async fn leases(&self) -> Result<Vec<Lease>, StateError> {
        self.with_db(|db| {
            let names = {
                let mut stmt = db.conn.prepare_cached(
                    "SELECT name FROM leases WHERE holder IS NOT NULL ORDER BY name",
                )?;
                stmt.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?
            };
            let mut leases = Vec::with_capacity(names.len());
            for name in names {
                if let Some(lease) = lease_row(&db.conn, &name)?.and_then(|r| r.lease(&name)) {
                    leases.push(lease);
                }
            }
            Ok(leases)
        })
        .await
    }

    async fn join_budget(
        &self,
        budget: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<u32, StateError> {
        let (budget, member) = (budget.to_owned(), member.to_owned());
        self.with_db(move |db| {
            let now = Utc::now();
            let tx = db
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM budget_members WHERE budget = ?1 AND expires_at <= ?2",
                params![budget, stored_time(now)],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO budget_members (budget, member, expires_at) VALUES (?1, ?2, ?3)",
                params![budget, member, stored_time(lease::expiry(now, ttl))],
            )?;
            let n = count(
                &tx,
                "SELECT COUNT(*) FROM budget_members WHERE budget = ?1",
                &budget,
            )?;
            tx.commit()?;
            Ok(n as u32)
        })
        .await
    }

    async fn leave_budget(&self, budget: &str, member: &str) -> Result<(), StateError> {
        let (budget, member) = (budget.to_owned(), member.to_owned());
        self.with_db(move |db| {
            db.conn.execute(
                "DELETE FROM budget_members WHERE budget = ?1 AND member = ?2",
                params![budget, member],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn lookups_by_field_use_an_index() {
        let store = SqliteStore::in_memory().unwrap();
        store
            .put_entries(vec![CollectionEntry::new(
                "buyers",
                "1",
                json!({"cid": "c-1"}),
            )])
            .await
            .unwrap();
        let found = store
            .find_by_field("buyers", "cid", &json!("c-1"))
            .await
            .unwrap();
        assert_eq!(found.unwrap().key, "1");
        let db = store.lock();
        let mut stmt = db
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT key FROM entries
                 WHERE collection = 'buyers' AND json_extract(data, '$.cid') IN ('c-1', 'c-1')",
            )
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("entries_by_cid")),
            "{plan:?}"
        );
    }
}
