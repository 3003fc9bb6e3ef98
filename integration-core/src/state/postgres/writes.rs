//! Writes: leases, applied changes, runs and budget membership.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;

use super::PostgresStore;
use super::rows::{Failure, advisory_lock, last_of_each, lease_row, read_committed, stored_token};
use crate::state::lease::{self, LeaseRow};
use crate::state::{Changes, RunOutcome, RunRecord};

impl PostgresStore {
    /// Reads a lease row and the server's time after taking the lease's
    /// lock, lets `change` decide, and writes its answer, in one
    /// transaction: workers decide about one lease one after another.
    pub(super) async fn change_lease(
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

    pub(super) async fn write_changes(&self, changes: &Changes) -> Result<(), Failure> {
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

    pub(super) async fn write_run(&self, run: &RunRecord) -> Result<(), Failure> {
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

    pub(super) async fn kill_unfinished(&self, pipeline: &str) -> Result<u64, Failure> {
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

    pub(super) async fn join(
        &self,
        budget: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<u32, Failure> {
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
