//! The schema: migrations, lookup indexes on entry fields, schema-name checks.

use std::collections::HashSet;

use tokio_postgres::error::SqlState;

use super::PostgresStore;
use super::rows::{Failure, advisory_lock, lock_std, read_committed};
use crate::state::StateError;

/// The schema's versioned migrations, applied in order; `{s}` stands for
/// the quoted schema. Released versions never change: a change is a new
/// version.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "
CREATE TABLE {s}.checkpoints (
    pipeline   TEXT PRIMARY KEY,
    checkpoint TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE {s}.entries (
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    status     TEXT NOT NULL,
    target_id  TEXT,
    data       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE {s}.dead_letters (
    pipeline  TEXT NOT NULL,
    key       TEXT NOT NULL,
    letter    TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (pipeline, key)
);
CREATE TABLE {s}.runs (
    id         TEXT PRIMARY KEY,
    pipeline   TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    running    BOOLEAN NOT NULL,
    record     TEXT NOT NULL
);
CREATE INDEX runs_by_pipeline ON {s}.runs (pipeline, started_at);
CREATE TABLE {s}.leases (
    name         TEXT PRIMARY KEY,
    holder       TEXT,
    token        BIGINT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    done_through TIMESTAMPTZ
);
CREATE TABLE {s}.budget_members (
    budget     TEXT NOT NULL,
    member     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (budget, member)
);
",
)];

/// The text of `data` that lookups parse as `json`: PostgreSQL cannot hold
/// `\u0000` as text, so it reads as U+FFFD (a row holding one would
/// otherwise fail every lookup, and every write once a field is indexed).
/// Candidates are checked again in Rust, so this never makes a false match.
pub(super) const LOOKUP_DATA: &str = r"replace(data, E'\\u0000', E'\\ufffd')::json";

/// Checks a schema name: it is written into SQL, so only a plain
/// identifier (that PostgreSQL does not reserve) passes.
pub(super) fn valid_schema(schema: &str) -> Result<String, StateError> {
    let plain = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !schema.to_ascii_lowercase().starts_with("pg_");
    if plain {
        Ok(schema.to_owned())
    } else {
        Err(StateError::new(format!(
            "invalid PostgreSQL schema name {schema:?}: use 1 to 63 ASCII letters, digits and underscores, not starting with pg_"
        )))
    }
}

impl PostgresStore {
    pub(super) async fn migrate(&self) -> Result<(), Failure> {
        let mut client = self.client().await?;
        let tx = read_committed(&mut client).await?;
        // Workers opening at once take turns; the lock ends with the
        // transaction.
        let key = self.lock_key("migrations", "");
        advisory_lock(&tx, &key, false).await?;
        // Checked first, so that a role without the right to create may
        // open a schema made for it.
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&self.inner.schema],
            )
            .await?
            .try_get(0)?;
        if !exists {
            tx.batch_execute(&self.sql("CREATE SCHEMA {s}")).await?;
        }
        let table = self.sql("{s}.schema_migrations");
        let has_table: bool = tx
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await?
            .try_get(0)?;
        if !has_table {
            tx.batch_execute(&format!(
                "CREATE TABLE {table} (
                    version    INTEGER PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )"
            ))
            .await?;
        }
        let applied = tx
            .query(&format!("SELECT version FROM {table}"), &[])
            .await?
            .iter()
            .map(|row| row.try_get::<_, i32>(0))
            .collect::<Result<HashSet<i32>, _>>()?;
        for (version, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            tx.batch_execute(&self.sql(sql)).await?;
            tx.execute(
                &format!("INSERT INTO {table} (version, applied_at) VALUES ($1, now())"),
                &[version],
            )
            .await?;
        }
        let known = MIGRATIONS.iter().map(|(v, _)| *v).max().unwrap_or(0);
        if let Some(newer) = applied.iter().copied().filter(|v| *v > known).max() {
            tracing::warn!(
                schema = %self.inner.schema,
                version = newer,
                "the state schema was migrated by a newer version of integration-core"
            );
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes sure `field` has its lookup index. Two processes creating it
    /// at once may see a unique violation: the index exists then. A role
    /// that may not create one gets lookups that scan, with a warning.
    pub(super) async fn ensure_field_index(
        &self,
        client: &deadpool_postgres::Client,
        field: &str,
    ) -> Result<(), Failure> {
        if lock_std(&self.inner.indexed_fields).contains(field) {
            return Ok(());
        }
        let index = format!("{}.\"{}\"", self.inner.quoted, index_name(field));
        // Looked up first: creating, even "if not exists", locks out writes
        // to the table for a moment.
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&index])
            .await?
            .try_get(0)?;
        let sql = format!(
            "CREATE INDEX IF NOT EXISTS \"{}\" ON {}.entries (collection, (({LOOKUP_DATA} ->> '{field}')))",
            index_name(field),
            self.inner.quoted
        );
        let created = if exists {
            Ok(())
        } else {
            client.batch_execute(&sql).await
        };
        match created {
            Ok(()) => {}
            Err(e)
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                    || e.code() == Some(&SqlState::DUPLICATE_TABLE) => {}
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
                tracing::warn!(
                    schema = %self.inner.schema,
                    field,
                    "no right to create a lookup index: lookups by this field scan the collection"
                );
            }
            Err(e) => return Err(e.into()),
        }
        lock_std(&self.inner.indexed_fields).insert(field.to_owned());
        Ok(())
    }
}

/// A field's index name: `entries_by_<field>`, or, where that is longer
/// than PostgreSQL's 63 bytes (it would cut it, and two fields could share
/// one), a prefix and a hash of the field.
fn index_name(field: &str) -> String {
    let name = format!("entries_by_{field}");
    if name.len() <= 63 {
        return name;
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = field.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let prefix: String = field.chars().take(34).collect();
    format!("entries_by_{prefix}_{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("sync_state_2").is_ok());
        for bad in ["", "a-b", "x\"; DROP", "pg_temp", "名前", &"a".repeat(64)] {
            assert!(valid_schema(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_field_names_get_distinct_index_names() {
        assert_eq!(index_name("cid"), "entries_by_cid");
        let a = index_name(&format!("{}_a", "f".repeat(60)));
        let b = index_name(&format!("{}_b", "f".repeat(60)));
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert_ne!(a, b);
    }
}
