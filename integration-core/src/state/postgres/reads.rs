//! Reads beyond a single statement: field lookups, counts, JSON rows, leases.

use tokio_postgres::types::ToSql;

use super::PostgresStore;
use super::rows::{ENTRY_COLUMNS, Failure, entry_from_row, lookup_text, stored_token};
use super::schema::LOOKUP_DATA;
use crate::state::lease::LeaseRow;
use crate::state::{CollectionEntry, EntryQuery, Lease, is_plain_field, match_text};

/// How many candidates of a field lookup are read at a time.
const LOOKUP_PAGE: i64 = 8;

/// How many candidates of a search by field are read at a time.
const SEARCH_PAGE: i64 = 100;

impl PostgresStore {
    pub(super) async fn find_field(
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

    /// A page of a search. The SQL matches keys and statuses exactly, field
    /// values by the lookup's text (a NUL read as U+FFFD): with a field,
    /// candidates are read in pages and checked again in Rust, and the
    /// page is counted there, so that no false match takes a place.
    pub(super) async fn search(
        &self,
        collection: &str,
        query: &EntryQuery,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<CollectionEntry>, Failure> {
        let key_text = query.key_contains.as_deref();
        if limit == 0 || key_text.is_some_and(|t| t.contains('\0')) {
            // PostgreSQL text holds no NUL: no key contains one.
            return Ok(Vec::new());
        }
        let (field, wanted) = match &query.field {
            Some((field, value)) => match match_text(value) {
                Some(wanted) => (Some(field.as_str()), Some(lookup_text(&wanted))),
                None => return Ok(Vec::new()),
            },
            None => (None, None),
        };
        let status = query.status.map(|s| s.as_str());
        let field_name = field.map(lookup_text);
        let client = self.client().await?;
        // Only the set parts are conditions, each with its parameter.
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&collection];
        let mut conditions = vec!["collection = $1".to_owned()];
        if let Some(text) = &key_text {
            params.push(text);
            conditions.push(format!("strpos(key, ${}) > 0", params.len()));
        }
        if let Some(status) = &status {
            params.push(status);
            conditions.push(format!("status = ${}", params.len()));
        }
        if let (Some(field), Some(wanted), Some(field_name)) = (field, &wanted, &field_name) {
            params.push(wanted);
            let wanted_at = params.len();
            if is_plain_field(field) {
                // A literal field name, so that the expression index applies.
                self.ensure_field_index(&client, field).await?;
                conditions.push(format!("({LOOKUP_DATA} ->> '{field}') = ${wanted_at}"));
            } else {
                // A name that cannot go into an index expression: scan.
                params.push(field_name);
                conditions.push(format!(
                    "({LOOKUP_DATA} ->> ${}::text) = ${wanted_at}",
                    params.len()
                ));
            }
        }
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM {{s}}.entries WHERE {}
             ORDER BY updated_at DESC, key COLLATE \"C\" ASC LIMIT ${} OFFSET ${}",
            conditions.join(" AND "),
            params.len() + 1,
            params.len() + 2,
        );
        let stmt = client.prepare_cached(&self.sql(&sql)).await?;
        let to_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        if field.is_none() {
            // Exact in SQL: the database pages.
            let (limit, offset) = (to_i64(limit), to_i64(offset));
            params.extend([&limit as &(dyn ToSql + Sync), &offset]);
            let rows = client.query(&stmt, &params).await?;
            return rows
                .iter()
                .map(|row| entry_from_row(collection, row))
                .collect();
        }
        let (mut skip, mut found, mut from) = (offset, Vec::new(), 0_i64);
        loop {
            let mut page = params.clone();
            page.extend([&SEARCH_PAGE as &(dyn ToSql + Sync), &from]);
            let rows = client.query(&stmt, &page).await?;
            for row in &rows {
                let entry = entry_from_row(collection, row)?;
                if !query.matches(&entry) {
                    continue;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                found.push(entry);
                if found.len() == limit {
                    return Ok(found);
                }
            }
            if (rows.len() as i64) < SEARCH_PAGE {
                return Ok(found);
            }
            from += SEARCH_PAGE;
        }
    }

    /// The texts in the first column of a query's rows.
    pub(super) async fn names(&self, sql: &str) -> Result<Vec<String>, Failure> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.sql(sql)).await?;
        let rows = client.query(&stmt, &[]).await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<_, String>(0)?))
            .collect()
    }

    pub(super) async fn count(&self, sql: &str, key: &str) -> Result<u64, Failure> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(&self.sql(sql)).await?;
        let n: i64 = client.query_one(&stmt, &[&key]).await?.try_get(0)?;
        u64::try_from(n).map_err(|_| Failure::Corrupt(format!("negative count {n}")))
    }

    /// The JSON texts in the first column of a query's rows, parsed.
    pub(super) async fn json_rows<T: serde::de::DeserializeOwned>(
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

    pub(super) async fn read_leases(&self) -> Result<Vec<Lease>, Failure> {
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
}
