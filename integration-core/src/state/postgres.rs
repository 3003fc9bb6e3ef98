//! State in a PostgreSQL database (feature `postgres`): one store shared by
//! workers on several machines.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use super::lease::{self, LeaseRow};
use super::{
    Changes, CollectionEntry, DeadLetter, EntryStatus, Lease, RunOutcome, RunRecord, StateError,
    StateStore, is_plain_field, match_text,
};
use crate::source::Checkpoint;

/// Connections a store keeps open at most, unless
/// [`PostgresStoreBuilder::pool_size`] says otherwise.
const DEFAULT_POOL_SIZE: usize = 8;

/// How long a call waits for a free connection, and a new connection for
/// the server, before failing instead of hanging on a dead database.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);

/// The connect timeout used when the connection string sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
const LOOKUP_DATA: &str = r"replace(data, E'\\u0000', E'\\ufffd')::json";

/// How many candidates of a field lookup are read at a time.
const LOOKUP_PAGE: i64 = 8;

const ENTRY_COLUMNS: &str = "key, status, target_id, data, updated_at";

/// State in a PostgreSQL database, for workers on several machines.
///
/// Every table lives in one schema (default `public`), created with its
/// tables on [connect](PostgresStoreBuilder::connect) by versioned
/// migrations (several workers may open it at once). Leases and budgets
/// use the server's clock, so that workers' clocks need not agree; a fenced
/// write ([`Changes::fence`]) is checked in the transaction that applies
/// it, and a takeover waits for it to commit. A lookup by field gets an
/// expression index on its first use.
///
/// Connections are pooled and plain (no TLS yet): use it on a trusted
/// network, a unix socket or a tunnel. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema: String,
    /// The schema as a quoted identifier, for qualifying table names.
    quoted: String,
    /// Fields whose lookup index exists (or cannot be made).
    indexed_fields: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

/// Options of a [`PostgresStore`] before it connects.
pub struct PostgresStoreBuilder {
    /// Parsed at once, so that the connection string (and its password)
    /// is kept nowhere as text.
    config: Result<tokio_postgres::Config, StateError>,
    schema: String,
    pool_size: usize,
}

impl std::fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl PostgresStoreBuilder {
    /// The schema every table lives in (default `public`): ASCII letters,
    /// digits and underscores, used exactly (quoted, so case counts).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How many connections the store keeps open at most (default 8).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Connects, creates the schema and applies any missing migrations.
    pub async fn connect(self) -> Result<PostgresStore, StateError> {
        let schema = valid_schema(&self.schema)?;
        let mut config = self.config?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("integration-core");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StateError::caused_by(format!("PostgreSQL connection pool: {e}"), e))?;
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                quoted: format!("\"{schema}\""),
                schema,
                indexed_fields: Mutex::default(),
            }),
        };
        store
            .migrate()
            .await
            .map_err(in_op("migrating the schema"))?;
        Ok(store)
    }
}

/// Checks a schema name: it is written into SQL, so only a plain
/// identifier (that PostgreSQL does not reserve) passes.
fn valid_schema(schema: &str) -> Result<String, StateError> {
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
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`
    /// or libpq's `key=value` form, `host=/run/postgresql` for a unix
    /// socket) with the default options.
    pub async fn connect(url: &str) -> Result<Self, StateError> {
        Self::builder(url).connect().await
    }

    /// Options for a store at `url` (see [`PostgresStore::connect`]).
    pub fn builder(url: &str) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            config: tokio_postgres::Config::from_str(url).map_err(|e| invalid_url(&e)),
            schema: "public".to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
        }
    }

    /// The schema its tables live in.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// `sql` with `{s}` replaced by the quoted schema.
    fn sql(&self, sql: &str) -> String {
        sql.replace("{s}", &self.inner.quoted)
    }

    /// The key of the advisory lock that serialises one kind of decision
    /// (`what`) about `name` in this schema.
    fn lock_key(&self, what: &str, name: &str) -> String {
        format!("{}:{what}:{name}", self.inner.schema)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, Failure> {
        Ok(self.inner.pool.get().await?)
    }

    async fn migrate(&self) -> Result<(), Failure> {
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
    async fn ensure_field_index(
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

    /// Reads a lease row and the server's time after taking the lease's
    /// lock, lets `change` decide, and writes its answer, in one
    /// transaction: workers decide about one lease one after another.
    async fn change_lease(
        &self,
        name: &str,
        change: impl FnOnce(Option<&LeaseRow>, DateTime<Utc>) -> Option<LeaseRow> + Send,
    ) -> Result<Option<LeaseRow>, Failure> {
        let mut client = self.client().await?;
        let tx = read_committed(&mut client).await?;
        let key = self.lock_key("lease", name);
        advisory_lock(&tx, &key, false).await?;
        // A statement after the lock, so that it sees the last holder's
        // committed row; clock_timestamp, not now(): the wait counts.
        let stmt = tx
            .prepare_cached(&self.sql(
                "SELECT clock_timestamp(), l.holder, l.token, l.expires_at, l.done_through
                 FROM (SELECT 1) AS one LEFT JOIN {s}.leases AS l ON l.name = $1",
            ))
            .await?;
        let row = tx.query_one(&stmt, &[&name]).await?;
        let now: DateTime<Utc> = row.try_get(0)?;
        let current = match row.try_get::<_, Option<i64>>(2)? {
            Some(token) => Some(LeaseRow {
                holder: row.try_get(1)?,
                token: stored_token(token)?,
                expires_at: row.try_get(3)?,
                done_through: row.try_get(4)?,
            }),
            None => None,
        };
        let changed = change(current.as_ref(), now);
        if let Some(new) = &changed {
            let stmt = tx
                .prepare_cached(&self.sql(
                    "INSERT INTO {s}.leases (name, holder, token, expires_at, done_through)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,
                         token = EXCLUDED.token, expires_at = EXCLUDED.expires_at,
                         done_through = EXCLUDED.done_through",
                ))
                .await?;
            let token = i64::try_from(new.token)
                .map_err(|_| Failure::Corrupt(format!("lease token {} is too large", new.token)))?;
            tx.execute(
                &stmt,
                &[
                    &name,
                    &new.holder,
                    &token,
                    &new.expires_at,
                    &new.done_through,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn write_changes(&self, changes: &Changes) -> Result<(), Failure> {
        let mut client = self.client().await?;
        let tx = read_committed(&mut client).await?;
        if let Some(fence) = &changes.fence {
            // Shared: writes under one lease do not wait for each other,
            // but a takeover (exclusive) waits until this commits.
            let key = self.lock_key("lease", &fence.name);
            advisory_lock(&tx, &key, true).await?;
            let stmt = tx
                .prepare_cached(&self.sql(
                    "SELECT holder, token, expires_at, done_through FROM {s}.leases WHERE name = $1",
                ))
                .await?;
            let current = match tx.query_opt(&stmt, &[&fence.name]).await? {
                Some(row) => Some(lease_row(&row)?),
                None => None,
            };
            if !lease::admits(current.as_ref(), fence) {
                return Err(Failure::State(lease::fenced_error(fence)));
            }
        }
        if !changes.entries.is_empty() {
            // The last of each key wins, and rows are written in key order
            // so that concurrent applies lock them in one order.
            let mut entries = last_of_each(&changes.entries, |e| (&e.collection, &e.key));
            entries.sort_by(|a, b| (&a.collection, &a.key).cmp(&(&b.collection, &b.key)));
            let collections: Vec<&str> = entries.iter().map(|e| e.collection.as_str()).collect();
            let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            let statuses: Vec<&str> = entries.iter().map(|e| e.status.as_str()).collect();
            let targets: Vec<Option<&str>> =
                entries.iter().map(|e| e.target_id.as_deref()).collect();
            let data = entries
                .iter()
                .map(|e| serde_json::to_string(&e.data))
                .collect::<Result<Vec<String>, _>>()?;
            let times: Vec<DateTime<Utc>> = entries.iter().map(|e| e.updated_at).collect();
            let stmt = tx
                .prepare_cached(&self.sql(
                    "INSERT INTO {s}.entries (collection, key, status, target_id, data, updated_at)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                          $5::text[], $6::timestamptz[])
                     ON CONFLICT (collection, key) DO UPDATE SET status = EXCLUDED.status,
                         target_id = EXCLUDED.target_id, data = EXCLUDED.data,
                         updated_at = EXCLUDED.updated_at",
                ))
                .await?;
            let params: [&(dyn ToSql + Sync); 6] =
                [&collections, &keys, &statuses, &targets, &data, &times];
            tx.execute(&stmt, &params).await?;
        }
        if !changes.resolved.is_empty() {
            let stmt = tx
                .prepare_cached(&self.sql(
                    "DELETE FROM {s}.dead_letters WHERE pipeline = $1 AND key = ANY($2::text[])",
                ))
                .await?;
            tx.execute(&stmt, &[&changes.pipeline, &changes.resolved])
                .await?;
        }
        if !changes.dead_letters.is_empty() {
            let mut letters = last_of_each(&changes.dead_letters, |l| (&l.pipeline, &l.key));
            letters.sort_by(|a, b| (&a.pipeline, &a.key).cmp(&(&b.pipeline, &b.key)));
            let pipelines: Vec<&str> = letters.iter().map(|l| l.pipeline.as_str()).collect();
            let keys: Vec<&str> = letters.iter().map(|l| l.key.as_str()).collect();
            let texts = letters
                .iter()
                .map(serde_json::to_string)
                .collect::<Result<Vec<String>, _>>()?;
            let times: Vec<DateTime<Utc>> = letters.iter().map(|l| l.failed_at).collect();
            let stmt = tx
                .prepare_cached(&self.sql(
                    "INSERT INTO {s}.dead_letters (pipeline, key, letter, failed_at)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
                     ON CONFLICT (pipeline, key) DO UPDATE SET letter = EXCLUDED.letter,
                         failed_at = EXCLUDED.failed_at",
                ))
                .await?;
            tx.execute(&stmt, &[&pipelines, &keys, &texts, &times])
                .await?;
        }
        if let Some(checkpoint) = &changes.checkpoint {
            let stmt = tx
                .prepare_cached(&self.sql(
                    "INSERT INTO {s}.checkpoints (pipeline, checkpoint, updated_at)
                     VALUES ($1, $2, now())
                     ON CONFLICT (pipeline) DO UPDATE SET checkpoint = EXCLUDED.checkpoint,
                         updated_at = EXCLUDED.updated_at",
                ))
                .await?;
            let text = serde_json::to_string(checkpoint)?;
            tx.execute(&stmt, &[&changes.pipeline, &text]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn find_field(
        &self,
        collection: &str,
        field: &str,
        wanted: &str,
    ) -> Result<Option<CollectionEntry>, Failure> {
        let client = self.client().await?;
        let wanted_text = lookup_text(wanted);
        let lookup_field = lookup_text(field);
        let sql = if is_plain_field(field) {
            // A literal field name, so that the expression index applies.
            self.ensure_field_index(&client, field).await?;
            format!(
                "SELECT {ENTRY_COLUMNS} FROM {{s}}.entries
                 WHERE collection = $1 AND ({LOOKUP_DATA} ->> '{field}') = $2
                 ORDER BY updated_at DESC, key DESC LIMIT $3 OFFSET $4"
            )
        } else {
            // A name that cannot go into an index expression: scan.
            format!(
                "SELECT {ENTRY_COLUMNS} FROM {{s}}.entries
                 WHERE collection = $1 AND ({LOOKUP_DATA} ->> $5::text) = $2
                 ORDER BY updated_at DESC, key DESC LIMIT $3 OFFSET $4"
            )
        };
        let stmt = client.prepare_cached(&self.sql(&sql)).await?;
        let mut offset: i64 = 0;
        loop {
            let rows = if is_plain_field(field) {
                client
                    .query(&stmt, &[&collection, &wanted_text, &LOOKUP_PAGE, &offset])
                    .await?
            } else {
                client
                    .query(
                        &stmt,
                        &[
                            &collection,
                            &wanted_text,
                            &LOOKUP_PAGE,
                            &offset,
                            &lookup_field,
                        ],
                    )
                    .await?
            };
            for row in &rows {
                let entry = entry_from_row(collection, row)?;
                // The SQL match is by text with `\u0000` read as U+FFFD;
                // the answer is the exact match of every store.
                if entry.data.get(field).and_then(match_text).as_deref() == Some(wanted) {
                    return Ok(Some(entry));
                }
            }
            if (rows.len() as i64) < LOOKUP_PAGE {
                return Ok(None);
            }
            offset += LOOKUP_PAGE;
        }
    }

    async fn count(&self, sql: &str, key: &str) -> Result<u64, Failure> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.sql(sql)).await?;
        let n: i64 = client.query_one(&stmt, &[&key]).await?.try_get(0)?;
        u64::try_from(n).map_err(|_| Failure::Corrupt(format!("negative count {n}")))
    }

    /// The JSON texts in the first column of a query's rows, parsed.
    async fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<T>, Failure> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.sql(sql)).await?;
        let rows = client.query(&stmt, params).await?;
        rows.iter()
            .map(|row| Ok(serde_json::from_str(row.try_get::<_, &str>(0)?)?))
            .collect()
    }

    async fn write_run(&self, run: &RunRecord) -> Result<(), Failure> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.sql(PUT_RUN)).await?;
        let record = serde_json::to_string(run)?;
        client
            .execute(
                &stmt,
                &[
                    &run.id,
                    &run.pipeline(),
                    &run.report.started_at,
                    &(run.outcome == RunOutcome::Running),
                    &record,
                ],
            )
            .await?;
        Ok(())
    }

    async fn kill_unfinished(&self, pipeline: &str) -> Result<u64, Failure> {
        let mut client = self.client().await?;
        let tx = read_committed(&mut client).await?;
        let stmt = tx
            .prepare_cached(
                &self.sql(
                    "SELECT id, record FROM {s}.runs WHERE pipeline = $1 AND running FOR UPDATE",
                ),
            )
            .await?;
        let rows = tx.query(&stmt, &[&pipeline]).await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut run: RunRecord = serde_json::from_str(row.try_get::<_, &str>(1)?)?;
            run.outcome = RunOutcome::Killed;
            ids.push(row.try_get::<_, String>(0)?);
            records.push(serde_json::to_string(&run)?);
        }
        if !ids.is_empty() {
            let stmt = tx
                .prepare_cached(&self.sql(
                    "UPDATE {s}.runs AS r SET running = false, record = u.record
                     FROM unnest($1::text[], $2::text[]) AS u(id, record) WHERE r.id = u.id",
                ))
                .await?;
            tx.execute(&stmt, &[&ids, &records]).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    async fn read_leases(&self) -> Result<Vec<Lease>, Failure> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT name, holder, token, expires_at, done_through FROM {s}.leases
                 WHERE holder IS NOT NULL ORDER BY name",
            ))
            .await?;
        let mut leases = Vec::new();
        for row in client.query(&stmt, &[]).await? {
            let name: String = row.try_get(0)?;
            let current = LeaseRow {
                holder: row.try_get(1)?,
                token: stored_token(row.try_get(2)?)?,
                expires_at: row.try_get(3)?,
                done_through: row.try_get(4)?,
            };
            leases.extend(current.lease(&name));
        }
        Ok(leases)
    }

    async fn join(&self, budget: &str, member: &str, ttl: Duration) -> Result<u32, Failure> {
        let mut client = self.client().await?;
        let tx = read_committed(&mut client).await?;
        // One join of a budget at a time, so that each counts the others.
        let key = self.lock_key("budget", budget);
        advisory_lock(&tx, &key, false).await?;
        let now: DateTime<Utc> = tx
            .query_one("SELECT clock_timestamp()", &[])
            .await?
            .try_get(0)?;
        let stmt = tx
            .prepare_cached(
                &self.sql("DELETE FROM {s}.budget_members WHERE budget = $1 AND expires_at <= $2"),
            )
            .await?;
        tx.execute(&stmt, &[&budget, &now]).await?;
        let stmt = tx
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.budget_members (budget, member, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (budget, member) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            ))
            .await?;
        tx.execute(&stmt, &[&budget, &member, &lease::expiry(now, ttl)])
            .await?;
        let stmt = tx
            .prepare_cached(&self.sql("SELECT count(*) FROM {s}.budget_members WHERE budget = $1"))
            .await?;
        let n: i64 = tx.query_one(&stmt, &[&budget]).await?.try_get(0)?;
        tx.commit().await?;
        u32::try_from(n).map_err(|_| Failure::Corrupt(format!("budget member count {n}")))
    }
}

const PUT_RUN: &str = "INSERT INTO {s}.runs (id, pipeline, started_at, running, record)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET pipeline = EXCLUDED.pipeline,
         started_at = EXCLUDED.started_at, running = EXCLUDED.running, record = EXCLUDED.record";

/// A transaction at READ COMMITTED whatever the server's default: every
/// statement after a lock must see what the lock's last holder committed.
async fn read_committed(
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
async fn advisory_lock(
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

fn lock_std<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The items of `items`, keeping only the last of each key, in order.
fn last_of_each<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut seen = HashSet::new();
    let mut kept: Vec<&T> = items.iter().rev().filter(|i| seen.insert(key(i))).collect();
    kept.reverse();
    kept
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

/// `text` as the lookup expression reads it: `\u0000` in the stored JSON
/// became `\ufffd`, so a NUL reads as U+FFFD and a literal `\u0000` as
/// `\ufffd`.
fn lookup_text(text: &str) -> String {
    text.replace("\\u0000", "\\ufffd").replace('\0', "\u{fffd}")
}

fn stored_token(token: i64) -> Result<u64, Failure> {
    u64::try_from(token).map_err(|_| Failure::Corrupt(format!("negative lease token {token}")))
}

fn lease_row(row: &Row) -> Result<LeaseRow, Failure> {
    Ok(LeaseRow {
        holder: row.try_get(0)?,
        token: stored_token(row.try_get(1)?)?,
        expires_at: row.try_get(2)?,
        done_through: row.try_get(3)?,
    })
}

fn entry_from_row(collection: &str, row: &Row) -> Result<CollectionEntry, Failure> {
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
enum Failure {
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
fn in_op(op: &'static str) -> impl FnOnce(Failure) -> StateError {
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
fn invalid_url(e: &tokio_postgres::Error) -> StateError {
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

#[async_trait]
impl StateStore for PostgresStore {
    async fn checkpoint(&self, pipeline: &str) -> Result<Option<Checkpoint>, StateError> {
        let found: Vec<Checkpoint> = self
            .json_rows(
                "SELECT checkpoint FROM {s}.checkpoints WHERE pipeline = $1",
                &[&pipeline],
            )
            .await
            .map_err(in_op("reading a checkpoint"))?;
        Ok(found.into_iter().next())
    }

    async fn apply(&self, changes: Changes) -> Result<(), StateError> {
        if changes.is_empty() && changes.fence.is_none() {
            return Ok(());
        }
        self.write_changes(&changes)
            .await
            .map_err(in_op("applying changes"))
    }

    async fn entry(
        &self,
        collection: &str,
        key: &str,
    ) -> Result<Option<CollectionEntry>, StateError> {
        let read = async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(&self.sql(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM {{s}}.entries WHERE collection = $1 AND key = $2"
                )))
                .await?;
            match client.query_opt(&stmt, &[&collection, &key]).await? {
                Some(row) => Ok(Some(entry_from_row(collection, &row)?)),
                None => Ok(None),
            }
        };
        read.await.map_err(in_op("reading an entry"))
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
        self.find_field(collection, field, &wanted)
            .await
            .map_err(in_op("looking an entry up by field"))
    }

    async fn count_entries(&self, collection: &str) -> Result<u64, StateError> {
        self.count(
            "SELECT count(*) FROM {s}.entries WHERE collection = $1",
            collection,
        )
        .await
        .map_err(in_op("counting entries"))
    }

    async fn dead_letters(&self, pipeline: &str) -> Result<Vec<DeadLetter>, StateError> {
        self.json_rows(
            "SELECT letter FROM {s}.dead_letters WHERE pipeline = $1 ORDER BY failed_at, key",
            &[&pipeline],
        )
        .await
        .map_err(in_op("reading dead letters"))
    }

    async fn count_dead_letters(&self, pipeline: &str) -> Result<u64, StateError> {
        self.count(
            "SELECT count(*) FROM {s}.dead_letters WHERE pipeline = $1",
            pipeline,
        )
        .await
        .map_err(in_op("counting dead letters"))
    }

    async fn put_run(&self, run: &RunRecord) -> Result<(), StateError> {
        self.write_run(run).await.map_err(in_op("storing a run"))
    }

    async fn runs(
        &self,
        pipeline: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StateError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.json_rows(
            "SELECT record FROM {s}.runs WHERE pipeline = $1
             ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3",
            &[&pipeline, &limit, &offset],
        )
        .await
        .map_err(in_op("reading runs"))
    }

    async fn end_unfinished_runs(&self, pipeline: &str) -> Result<u64, StateError> {
        self.kill_unfinished(pipeline)
            .await
            .map_err(in_op("ending unfinished runs"))
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StateError> {
        let row = self
            .change_lease(name, |row, now| lease::grant(row, holder, now, ttl))
            .await
            .map_err(in_op("acquiring a lease"))?;
        Ok(row.and_then(|r| r.lease(name)))
    }

    async fn renew_lease(&self, held: &Lease, ttl: Duration) -> Result<Lease, StateError> {
        self.change_lease(&held.name, |row, now| lease::renewal(row, held, now, ttl))
            .await
            .map_err(in_op("renewing a lease"))?
            .and_then(|r| r.lease(&held.name))
            .ok_or_else(|| lease::fenced_error(&held.fence()))
    }

    async fn release_lease(
        &self,
        held: &Lease,
        done_through: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        self.change_lease(&held.name, |row, now| {
            lease::release(row, held, done_through, now)
        })
        .await
        .map(drop)
        .map_err(in_op("releasing a lease"))
    }

    async fn leases(&self) -> Result<Vec<Lease>, StateError> {
        self.read_leases().await.map_err(in_op("listing leases"))
    }

    async fn join_budget(
        &self,
        budget: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<u32, StateError> {
        self.join(budget, member, ttl)
            .await
            .map_err(in_op("joining a budget"))
    }

    async fn leave_budget(&self, budget: &str, member: &str) -> Result<(), StateError> {
        let leave = async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(
                    &self.sql("DELETE FROM {s}.budget_members WHERE budget = $1 AND member = $2"),
                )
                .await?;
            client.execute(&stmt, &[&budget, &member]).await?;
            Ok(())
        };
        leave.await.map_err(in_op("leaving a budget"))
    }
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

    #[test]
    fn lookup_text_reads_nul_as_the_stored_json_does() {
        assert_eq!(lookup_text("a\0b"), "a\u{fffd}b");
        assert_eq!(lookup_text(r"a\u0000b"), r"a\ufffdb");
        assert_eq!(lookup_text("c-9"), "c-9");
    }

    #[test]
    fn a_connection_string_error_does_not_show_the_password() {
        let e = PostgresStore::builder("host=x password='s3cret")
            .config
            .expect_err("an unterminated quote");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = PostgresStore::builder("host=x password=s3cret port=nope")
            .config
            .expect_err("a bad port");
        assert!(e.to_string().contains("port"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
}
