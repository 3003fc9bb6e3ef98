//! The one scheduler of runs and replays: units are written out of order,
//! at most `concurrency` at a time, and settled in order; the next page is
//! fetched only when the writers have room (back-pressure), and not at all
//! once the run was asked to stop.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;

use futures::future::OptionFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};

use super::settle::{Settled, Settler};
use super::{RunErrorCause, Stages, Unit};
use crate::sink::Sink;
use crate::source::Source;

/// One fetched stretch of work: its units, how many records it read, and
/// the state to fetch the next from (`None`: this was the last).
pub(super) struct Fed<T, N> {
    pub(super) units: Vec<Unit<T>>,
    pub(super) read: u64,
    pub(super) next: Option<N>,
}

impl<S: Source, K: Sink> Stages<S, K> {
    /// Runs `fetch` from `first` until it says there is no more, writes its
    /// units and settles them into `settler`.
    pub(super) async fn drive<N, F, Fut>(
        &self,
        settler: &mut Settler,
        first: N,
        mut fetch: F,
    ) -> Result<(), RunErrorCause>
    where
        F: FnMut(N) -> Fut,
        Fut: Future<Output = Result<Fed<K::Item, N>, RunErrorCause>>,
    {
        // Units wait in `queue` until a write slot is free and run out of
        // order, so that one slow write (a timeout and its retry) does not
        // hold up the others; their results wait in `done` and are settled
        // in order. The next stretch is fetched only when the queue is
        // empty and fewer than `concurrency` results wait for an earlier one.
        let mut queue: VecDeque<Unit<K::Item>> = VecDeque::new();
        let mut writing = FuturesUnordered::new();
        let mut done: BTreeMap<u64, Result<Settled, RunErrorCause>> = BTreeMap::new();
        let (mut started, mut settled) = (0_u64, 0_u64);
        let mut next = Some(first);
        let mut fetching = Box::pin(OptionFuture::from(None::<Fut>));
        let mut fetch_active = false;
        // Asked to stop: what was fetched is written and settled, no more.
        let mut stopped = false;
        loop {
            while writing.len() < self.concurrency {
                let Some(unit) = queue.pop_front() else { break };
                let seq = started;
                started += 1;
                writing.push(self.execute(unit).map(move |result| (seq, result)));
            }
            if queue.is_empty()
                && !fetch_active
                && done.len() < self.concurrency
                && let Some(state) = next.take()
            {
                if settler.stop_requested() {
                    stopped = true;
                } else {
                    fetching.set(Some(fetch(state)).into());
                    fetch_active = true;
                }
            }
            // Every result was settled: the earliest unsettled unit is
            // always still running.
            if writing.is_empty() && !fetch_active {
                return if stopped {
                    Err(RunErrorCause::ShutDown)
                } else {
                    Ok(())
                };
            }
            tokio::select! {
                Some((seq, result)) = writing.next(), if !writing.is_empty() => {
                    done.insert(seq, result);
                    while let Some(result) = done.remove(&settled) {
                        settled += 1;
                        settler.settle(result?, self).await?;
                    }
                }
                Some(fed) = &mut fetching, if fetch_active => {
                    fetch_active = false;
                    let fed = fed?;
                    settler.add_read(fed.read);
                    next = fed.next;
                    queue.extend(fed.units);
                }
            }
        }
    }

    /// Runs one unit.
    async fn execute(&self, unit: Unit<K::Item>) -> Result<Settled, RunErrorCause> {
        match unit {
            Unit::Settled(settlement) => Ok(Settled::Records(settlement)),
            Unit::End(boundary) => Ok(Settled::End(boundary)),
            Unit::Batch(batch) => self.write_batch(batch).await.map(Settled::Records),
            Unit::WriteBack(pending) => {
                let mut settled = super::settle::Settlement::default();
                self.write_back_all(pending, &mut settled).await;
                Ok(Settled::Records(settled))
            }
        }
    }
}
