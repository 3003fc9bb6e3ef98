//! Row decoding, the internal `Failure` error, and transaction/lookup helpers.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use deadpool_postgres::PoolError;
use tokio_postgres::{IsolationLevel, Row};

use crate::state::lease::LeaseRow;
use crate::state::{CollectionEntry, EntryStatus, StateError};

pub(super) const ENTRY_COLUMNS: &str = "key, status, target_id, data, updated_at";

/// A transaction at READ COMMITTED whatever the server's default: every
/// statement after a lock must see what the lock's last holder committed.
pub(super) async fn read_committed(
    client: &mut deadpool_postgres::Client,
) -> Result<deadpool_postgres::Transaction<'_>, Failure> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?)
}

/// Takes the advisory lock `key` until the transaction ends; `shared`
/// holders do not exclude each other, only an exclusive one.
pub(super) async fn advisory_lock(
    tx: &deadpool_postgres::Transaction<'_>,
    key: &str,
    shared: bool,
) -> Result<(), Failure> {
    let sql = if shared {
        "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))"
    } else {
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
    };
    tx.execute(sql, &[&key]).await?;
    Ok(())
}

pub(super) fn lock_std<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The items of `items`, keeping only the last of each key, in order.
pub(super) fn last_of_each<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut seen = HashSet::new();
    let mut kept: Vec<&T> = items.iter().rev().filter(|i| seen.insert(key(i))).collect();
    kept.reverse();
    kept
}

/// `text` as the lookup expression reads it: `\u0000` in the stored JSON
/// became `\ufffd`, so a NUL reads as U+FFFD and a literal `\u0000` as
/// `\ufffd`.
pub(super) fn lookup_text(text: &str) -> String {
    text.replace("\\u0000", "\\ufffd").replace('\0', "\u{fffd}")
}

pub(super) fn stored_token(token: i64) -> Result<u64, Failure> {
    u64::try_from(token).map_err(|_| Failure::Corrupt(format!("negative lease token {token}")))
}

pub(super) fn lease_row(row: &Row) -> Result<LeaseRow, Failure> {
    Ok(LeaseRow {
        holder: row.try_get(0)?,
        token: stored_token(row.try_get(1)?)?,
        expires_at: row.try_get(2)?,
        done_through: row.try_get(3)?,
    })
}

pub(super) fn entry_from_row(collection: &str, row: &Row) -> Result<CollectionEntry, Failure> {
    let key: String = row.try_get(0)?;
    let status: &str = row.try_get(1)?;
    let data: &str = row.try_get(3)?;
    Ok(CollectionEntry {
        collection: collection.to_owned(),
        status: EntryStatus::parse(status).ok_or_else(|| {
            Failure::Corrupt(format!("unknown status {status:?} of entry {key:?}"))
        })?,
        target_id: row.try_get(2)?,
        data: Arc::new(serde_json::from_str(data)?),
        updated_at: row.try_get(4)?,
        key,
    })
}

/// Why a call failed, before it is told which operation it was.
#[derive(Debug)]
pub(super) enum Failure {
    Db(tokio_postgres::Error),
    Pool(PoolError),
    Json(serde_json::Error),
    /// A stored value no store would write.
    Corrupt(String),
    /// Already complete (a refused fence), passed on as is.
    State(StateError),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e)
    }
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        Self::Pool(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e)
    }
}

/// Turns a failure into the error of operation `op`.
pub(super) fn in_op(op: &'static str) -> impl FnOnce(Failure) -> StateError {
    move |failure| match failure {
        Failure::Db(e) => StateError::caused_by(format!("PostgreSQL, {op}: {}", describe(&e)), e),
        Failure::Pool(PoolError::Backend(e)) => StateError::caused_by(
            format!("PostgreSQL, {op}: cannot connect: {}", describe(&e)),
            e,
        ),
        Failure::Pool(e) => StateError::caused_by(format!("PostgreSQL, {op}: {e}"), e),
        Failure::Json(e) => {
            StateError::caused_by(format!("PostgreSQL, {op}: corrupt stored JSON: {e}"), e)
        }
        Failure::Corrupt(what) => StateError::new(format!("PostgreSQL, {op}: corrupt row: {what}")),
        Failure::State(e) => e,
    }
}

/// A driver error with what the server or the network said: its own
/// `Display` is only a category ("db error").
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The error for a connection string that does not parse. Only causes that
/// name an option are shown: others may quote a character of a password.
pub(super) fn invalid_url(e: &tokio_postgres::Error) -> StateError {
    let cause = std::error::Error::source(e)
        .map(ToString::to_string)
        .filter(|c| {
            c.starts_with("invalid value for option")
                || c.starts_with("unknown option")
                || c.contains("EOF")
        });
    StateError::new(match cause {
        Some(cause) => format!("invalid PostgreSQL connection string: {cause}"),
        None => "invalid PostgreSQL connection string (expected postgres://user@host:port/db or key=value pairs)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_text_reads_nul_as_the_stored_json_does() {
        assert_eq!(lookup_text("a\0b"), "a\u{fffd}b");
        assert_eq!(lookup_text(r"a\u0000b"), r"a\ufffdb");
        assert_eq!(lookup_text("c-9"), "c-9");
    }
}
