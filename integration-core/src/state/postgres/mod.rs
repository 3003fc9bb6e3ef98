//! State in a PostgreSQL database (feature `postgres`): one store shared by
//! workers on several machines.

mod reads;
mod rows;
mod schema;
mod writes;

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::NoTls;

use self::rows::{ENTRY_COLUMNS, Failure, entry_from_row, in_op, invalid_url};
use self::schema::valid_schema;
use super::lease;
use super::{
    Changes, CollectionEntry, DeadLetter, EntryQuery, Lease, RunRecord, StateError, StateStore,
    match_text,
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

    async fn pipelines(&self) -> Result<Vec<String>, StateError> {
        // Sorted by bytes (collation "C"), as the other stores sort,
        // whatever the database's collation.
        self.names(
            "SELECT pipeline FROM (
                 SELECT pipeline FROM {s}.checkpoints
                 UNION SELECT pipeline FROM {s}.runs
                 UNION SELECT pipeline FROM {s}.dead_letters
             ) AS known ORDER BY pipeline COLLATE \"C\"",
        )
        .await
        .map_err(in_op("listing pipelines"))
    }

    async fn collections(&self) -> Result<Vec<String>, StateError> {
        self.names(
            "SELECT collection FROM {s}.entries GROUP BY collection
             ORDER BY collection COLLATE \"C\"",
        )
        .await
        .map_err(in_op("listing collections"))
    }

    async fn search_entries(
        &self,
        collection: &str,
        query: &EntryQuery,
    ) -> Result<Vec<CollectionEntry>, StateError> {
        self.search(collection, query, query.offset, query.limit)
            .await
            .map_err(in_op("searching entries"))
    }

    async fn reset_checkpoint(&self, pipeline: &str) -> Result<bool, StateError> {
        let reset = async {
            let client = self.client().await?;
            let stmt = client
                .prepare_cached(&self.sql("DELETE FROM {s}.checkpoints WHERE pipeline = $1"))
                .await?;
            Ok(client.execute(&stmt, &[&pipeline]).await? > 0)
        };
        reset.await.map_err(in_op("resetting a checkpoint"))
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
