//! Token and session caching shared by every connector's auth layer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Retry;

/// A cached credential (token, session) with the generation it belongs to.
#[derive(Debug, Clone)]
pub struct Cached<T> {
    /// The credential.
    pub value: T,
    /// Increases with every fetch; used to invalidate only a stale value.
    pub generation: u64,
}

/// A lazily fetched, shared credential.
///
/// The first caller fetches it; concurrent callers wait for that one fetch.
/// It is fetched again shortly before it expires, and after
/// [`TokenCache::invalidate`] when the API said it expired. Clones share the
/// cache.
pub struct TokenCache<T> {
    slot: Arc<Mutex<Slot<T>>>,
    refresh_margin: Duration,
    system: &'static str,
}

struct Slot<T> {
    value: Option<(T, Option<Instant>)>,
    generation: u64,
}

impl<T> Clone for TokenCache<T> {
    fn clone(&self) -> Self {
        Self {
            slot: Arc::clone(&self.slot),
            refresh_margin: self.refresh_margin,
            system: self.system,
        }
    }
}

impl<T> std::fmt::Debug for TokenCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never shows the credential itself.
        f.debug_struct("TokenCache")
            .field("system", &self.system)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> Default for TokenCache<T> {
    fn default() -> Self {
        Self::new(Duration::from_secs(300))
    }
}

impl<T: Clone> TokenCache<T> {
    /// A cache that refreshes `refresh_margin` before a credential expires.
    pub fn new(refresh_margin: Duration) -> Self {
        Self {
            slot: Arc::new(Mutex::new(Slot {
                value: None,
                generation: 0,
            })),
            refresh_margin,
            system: "unknown",
        }
    }

    /// Names the system whose credential this is, for the token refresh
    /// metric ([`crate::telemetry`]).
    pub fn for_system(mut self, system: &'static str) -> Self {
        self.system = system;
        self
    }

    /// The cached credential, fetching it first when missing or about to
    /// expire. `fetch` returns the credential and how long it is valid
    /// (`None`: until the API says it expired).
    pub async fn get<E, F, Fut>(&self, fetch: F) -> Result<Cached<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Option<Duration>), E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((value, expires)) = &slot.value {
            let fresh = expires.is_none_or(|at| Instant::now() + self.refresh_margin < at);
            if fresh {
                return Ok(Cached {
                    value: value.clone(),
                    generation: slot.generation,
                });
            }
        }
        let (value, valid_for) = fetch().await?;
        crate::telemetry::token_refreshed(self.system);
        slot.generation += 1;
        slot.value = Some((value.clone(), valid_for.map(|d| Instant::now() + d)));
        Ok(Cached {
            value,
            generation: slot.generation,
        })
    }

    /// Drops the credential of `generation`, unless another caller already
    /// replaced it, so that many callers hitting the same expiry cause one
    /// fetch.
    pub async fn invalidate(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if slot.generation == generation {
            slot.value = None;
        }
    }

    /// Runs `call` with the credential; when it fails because the
    /// credential expired ([`Retry::is_auth_expired`]), fetches a new one
    /// once and runs `call` once more.
    pub async fn call<R, E, F, FFut, C, CFut>(&self, fetch: F, call: C) -> Result<R, E>
    where
        F: Fn() -> FFut,
        FFut: Future<Output = Result<(T, Option<Duration>), E>>,
        C: Fn(T) -> CFut,
        CFut: Future<Output = Result<R, E>>,
        E: Retry,
    {
        let cached = self.get(&fetch).await?;
        match call(cached.value).await {
            Err(e) if e.is_auth_expired() => {
                tracing::debug!("credential expired; fetching a new one");
                self.invalidate(cached.generation).await;
                let fresh = self.get(&fetch).await?;
                call(fresh.value).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch_and_refresh_before_expiry() {
        let cache: TokenCache<String> = TokenCache::new(Duration::from_secs(60));
        let fetches = Arc::new(AtomicU32::new(0));
        let fetch = || {
            let fetches = fetches.clone();
            async move {
                let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, Error>((format!("t{n}"), Some(Duration::from_secs(600))))
            }
        };
        let all = futures::future::join_all((0..10).map(|_| cache.get(fetch))).await;
        assert!(all.iter().all(|c| c.as_ref().unwrap().value == "t1"));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(541)).await;
        assert_eq!(
            cache.get(fetch).await.unwrap().value,
            "t2",
            "refreshed inside the margin"
        );
    }

    #[tokio::test]
    async fn expired_answer_refreshes_once_and_retries_once() {
        let cache: TokenCache<u32> = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let calls = AtomicU32::new(0);
        let result: Result<u32, Error> = cache
            .call(
                || async { Ok((fetches.fetch_add(1, Ordering::SeqCst), None)) },
                |token| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if token == 0 {
                            Err(Error::new("x", "api", ErrorKind::AuthExpired, "expired"))
                        } else {
                            Ok(token)
                        }
                    }
                },
            )
            .await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(
            (fetches.load(Ordering::SeqCst), calls.load(Ordering::SeqCst)),
            (2, 2)
        );

        // Always expired: exactly one retry, then the error.
        let calls = AtomicU32::new(0);
        let result: Result<u32, Error> = cache
            .call(
                || async { Ok((7, None)) },
                |_| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    async { Err(Error::new("x", "api", ErrorKind::AuthExpired, "expired")) }
                },
            )
            .await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::AuthExpired);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
