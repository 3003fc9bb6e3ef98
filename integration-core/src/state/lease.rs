//! Leases with fencing: which worker runs a pipeline now, and a token that
//! lets the store refuse the writes of one that lost it.
//!
//! The rules live here, once, as pure functions over the stored row; each
//! store reads the row, asks [`grant`] / [`renewal`], and writes the answer
//! back in the same transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A worker's right to run one pipeline (or scheme) until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// What is leased: a pipeline's or a scheme's name.
    pub name: String,
    /// Who holds it: a worker id, unique per process.
    pub holder: String,
    /// Grows with every grant to a new holder; every write of the holder's
    /// runs carries it ([`Fence`]) and the store refuses an older one.
    pub token: u64,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
    /// The latest scheduled time whose run has completed (any holder), so
    /// that workers run each tick once between them.
    pub done_through: Option<DateTime<Utc>>,
}

impl Lease {
    /// The fence a run under this lease puts on its writes.
    pub fn fence(&self) -> Fence {
        Fence {
            name: self.name.clone(),
            token: self.token,
        }
    }
}

/// The lease name and token a write is made under. The store applies it
/// only while that token is still the lease's current one and not released.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fence {
    /// The lease's name.
    pub name: String,
    /// The token it was granted with.
    pub token: u64,
}

/// A lease as stored: `holder` is `None` once released (the token stays, so
/// the next grant still gets a larger one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaseRow {
    pub holder: Option<String>,
    pub token: u64,
    pub expires_at: DateTime<Utc>,
    pub done_through: Option<DateTime<Utc>>,
}

impl LeaseRow {
    pub(crate) fn lease(&self, name: &str) -> Option<Lease> {
        Some(Lease {
            name: name.to_owned(),
            holder: self.holder.clone()?,
            token: self.token,
            expires_at: self.expires_at,
            done_through: self.done_through,
        })
    }
}

/// `now + ttl`, with `ttl` capped at a hundred years (stored times stay
/// four-digit years), to the microsecond (what the stores keep).
pub(crate) fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    use chrono::SubsecRound;
    let cap = chrono::Duration::days(36_525);
    (now + chrono::Duration::from_std(ttl).map_or(cap, |ttl| ttl.min(cap))).trunc_subsecs(6)
}

/// The row after `holder` asks for the lease at `now`, or `None` while
/// another holder's lease stands. Free, released and expired leases are
/// granted with a new token; the holder's own lease is extended, same token.
pub(crate) fn grant(
    current: Option<&LeaseRow>,
    holder: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Option<LeaseRow> {
    let expires_at = expiry(now, ttl);
    let Some(row) = current else {
        return Some(LeaseRow {
            holder: Some(holder.to_owned()),
            token: 1,
            expires_at,
            done_through: None,
        });
    };
    match &row.holder {
        Some(h) if h == holder && row.expires_at > now => Some(LeaseRow {
            expires_at,
            ..row.clone()
        }),
        Some(_) if row.expires_at > now => None,
        _ => Some(LeaseRow {
            holder: Some(holder.to_owned()),
            token: row.token + 1,
            expires_at,
            done_through: row.done_through,
        }),
    }
}

/// Whether `fence` is the current, unreleased grant of `row`. An expired
/// lease that nobody took over still holds: no one else can have written.
pub(crate) fn admits(row: Option<&LeaseRow>, fence: &Fence) -> bool {
    row.is_some_and(|r| r.holder.is_some() && r.token == fence.token)
}

/// The row after `lease`'s holder renews it, or `None` when it was taken
/// over or released.
pub(crate) fn renewal(
    current: Option<&LeaseRow>,
    lease: &Lease,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Option<LeaseRow> {
    let row = current?;
    (admits(Some(row), &lease.fence()) && row.holder.as_deref() == Some(&lease.holder)).then(|| {
        LeaseRow {
            expires_at: expiry(now, ttl),
            ..row.clone()
        }
    })
}

/// The row after `lease`'s holder releases it, recording `done_through`
/// (kept when later than the new one); `None` when it is no longer theirs
/// (nothing to change).
pub(crate) fn release(
    current: Option<&LeaseRow>,
    lease: &Lease,
    done_through: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<LeaseRow> {
    let row = current?;
    admits(Some(row), &lease.fence()).then(|| LeaseRow {
        holder: None,
        token: row.token,
        expires_at: now,
        done_through: row.done_through.max(done_through),
    })
}

/// The error a store gives for a write under a fence that no longer holds.
pub(crate) fn fenced_error(fence: &Fence) -> super::StateError {
    super::StateError::fenced(format!(
        "the lease on {:?} was taken over or released (token {} is stale): the write was refused",
        fence.name, fence.token
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    const TTL: Duration = Duration::from_secs(10);

    #[test]
    fn a_lease_is_granted_renewed_taken_over_and_released() {
        let first = grant(None, "a", at(0), TTL).unwrap();
        assert_eq!((first.token, first.expires_at), (1, at(10)));
        // Held: another holder waits, the holder extends with the same token.
        assert_eq!(grant(Some(&first), "b", at(5), TTL), None);
        let again = grant(Some(&first), "a", at(5), TTL).unwrap();
        assert_eq!((again.token, again.expires_at), (1, at(15)));
        // Expired: taken over with a larger token; the old fence is stale.
        let taken = grant(Some(&again), "b", at(15), TTL).unwrap();
        assert_eq!((taken.holder.as_deref(), taken.token), (Some("b"), 2));
        let old = first.lease("p").unwrap();
        assert!(!admits(Some(&taken), &old.fence()));
        assert_eq!(renewal(Some(&taken), &old, at(16), TTL), None);
        assert_eq!(release(Some(&taken), &old, Some(at(16)), at(16)), None);
        // Released with a completed tick: free for anyone, token kept.
        let lease = taken.lease("p").unwrap();
        let released = release(Some(&taken), &lease, Some(at(14)), at(16)).unwrap();
        assert_eq!(
            (released.holder.as_deref(), released.done_through),
            (None, Some(at(14)))
        );
        assert!(!admits(Some(&released), &lease.fence()));
        let next = grant(Some(&released), "b", at(17), TTL).unwrap();
        assert_eq!((next.token, next.done_through), (3, Some(at(14))));
    }

    #[test]
    fn an_expired_lease_nobody_took_still_admits_and_renews() {
        let row = grant(None, "a", at(0), TTL).unwrap();
        let lease = row.lease("p").unwrap();
        assert!(admits(Some(&row), &lease.fence()));
        let renewed = renewal(Some(&row), &lease, at(30), TTL).unwrap();
        assert_eq!((renewed.token, renewed.expires_at), (1, at(40)));
    }

    #[test]
    fn done_through_only_moves_forward() {
        let row = LeaseRow {
            done_through: Some(at(20)),
            ..grant(None, "a", at(0), TTL).unwrap()
        };
        let lease = row.lease("p").unwrap();
        let released = release(Some(&row), &lease, Some(at(10)), at(1)).unwrap();
        assert_eq!(released.done_through, Some(at(20)));
    }
}
