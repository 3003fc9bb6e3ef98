//! Several processes running one set of pipelines on one shared store.
//!
//! Start the same binary N times against one [`crate::state`] store that
//! they share (PostgreSQL; or SQLite for the processes of one machine) and
//! each pipeline runs once per slot of its [`Schedule`] between them:
//!
//! - **Leases.** At each slot a worker asks the store for the pipeline's
//!   lease; the one that gets it runs, renews it every third of its time to
//!   live while running, and releases it when done, recording the slot as
//!   done so that no other worker runs it again. The others skip the slot.
//! - **Takeover.** A worker that dies holds its lease until the time to
//!   live runs out; then the next slot's worker takes it over with a larger
//!   fencing token. The dead run stays *running* in the history until then
//!   and is marked *killed* when the next run begins.
//! - **Fencing.** Every checkpoint, collection and dead-letter write of a
//!   run carries its lease's token and the store refuses a stale one, so a
//!   worker that was paused (or cut off) past its time to live cannot move
//!   a checkpoint after a takeover: its run stops with a fenced error.
//! - **Spread.** Before asking for a lease a worker waits a random moment,
//!   longer the more runs it has going, so that idle workers tend to win.
//! - **One rate budget.** [`Worker::share_rate`] keeps a [`RateShare`] up
//!   to date with the number of live workers sharing an app key's limit.
//! - **Graceful shutdown.** When the shutdown future completes, running
//!   runs read no more pages, settle what they read, store its checkpoint
//!   and release their leases; the worker leaves its rate budgets.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::Rng;

use crate::pipeline::{Pipeline, RunError, RunErrorCause, RunOptions, Schedule, StopSignal};
use crate::report::RunReport;
use crate::sink::Sink;
use crate::source::Source;
use crate::state::{Lease, StateStore};
use crate::transport::RateShare;

/// What a worker runs at each slot: a pipeline, or several in order
/// ([`Sequence`]), under one lease named [`Runnable::name`].
#[async_trait]
pub trait Runnable: Send + Sync {
    /// The lease's name: unique among everything sharing the store.
    fn name(&self) -> &str;
    /// One run with these options (the lease, the stop signal); a report
    /// per pipeline run.
    async fn run(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError>;
}

#[async_trait]
impl<S: Source, K: Sink> Runnable for Pipeline<S, K> {
    fn name(&self) -> &str {
        Pipeline::name(self)
    }

    async fn run(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        self.run_with(options).await.map(|report| vec![report])
    }
}

/// Pipelines run one after another under one lease (a scheme whose second
/// pipeline looks up the first one's collection); stops at the first that
/// fails.
pub struct Sequence {
    name: String,
    steps: Vec<Arc<dyn Runnable>>,
}

impl Sequence {
    /// An empty sequence leased as `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            steps: Vec::new(),
        }
    }

    /// Runs `step` after the ones before.
    pub fn then(mut self, step: impl Runnable + 'static) -> Self {
        self.steps.push(Arc::new(step));
        self
    }
}

#[async_trait]
impl Runnable for Sequence {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(&self, options: &RunOptions) -> Result<Vec<RunReport>, RunError> {
        let mut reports = Vec::new();
        for step in &self.steps {
            reports.extend(step.run(options).await?);
        }
        Ok(reports)
    }
}

/// What happened at one slot of one runnable on this worker.
#[derive(Debug)]
pub enum SlotOutcome {
    /// This worker ran it.
    Ran(Result<Vec<RunReport>, RunError>),
    /// Another worker holds the lease (it is running it).
    Busy,
    /// Another worker already completed this slot.
    AlreadyDone,
    /// The store could not be asked; the slot is tried by the others.
    StoreFailed(crate::state::StateError),
}

/// What a worker did, returned when it shuts down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// The worker's id (the holder of its leases).
    pub id: String,
    /// Runs that completed.
    pub completed: u64,
    /// Runs that stopped with an error (shutdown included).
    pub failed: u64,
    /// Runs stopped because another worker took the lease over.
    pub fenced: u64,
    /// Slots skipped because another worker held the lease.
    pub busy: u64,
    /// Slots skipped because another worker had completed them.
    pub already_done: u64,
    /// Leases this worker took over from a worker whose time ran out.
    pub takeovers: u64,
}

type OnSlot = Arc<dyn Fn(&str, DateTime<Utc>, &SlotOutcome) + Send + Sync>;

/// Runs a set of pipelines on their schedules, one of N identical workers
/// sharing a store (see the [module docs](self)).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use integration_core::memory::{MemorySink, VecSource};
/// use integration_core::{MemoryStore, Pipeline, Schedule, SourceRecord, StateStore, Worker};
///
/// let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
/// let sink = MemorySink::new(10);
/// let pipeline = Pipeline::builder("buyers")
///     .source(VecSource::new(vec![SourceRecord::upsert("c1", serde_json::json!({"n": 1}))], 10))
///     .map(|r, _| Ok(Some(r.data.clone())))
///     .sink(sink.clone())
///     .state(Arc::clone(&store))
///     .build()?;
/// let summary = Worker::new(store)
///     .pipeline(pipeline, Schedule::every(Duration::from_secs(3600)))
///     .run_until(tokio::time::sleep(Duration::from_millis(500)))
///     .await;
/// assert_eq!(summary.completed, 1);
/// assert_eq!(sink.stored().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Worker {
    store: Arc<dyn StateStore>,
    id: String,
    lease_ttl: Duration,
    spread: Duration,
    heartbeat: Duration,
    runnables: Vec<(Arc<dyn Runnable>, Schedule)>,
    budgets: Vec<(String, RateShare)>,
    on_slot: Option<OnSlot>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("lease_ttl", &self.lease_ttl)
            .field(
                "runnables",
                &self
                    .runnables
                    .iter()
                    .map(|(r, _)| r.name())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A worker id unique across hosts and processes: host, process id and a
/// random suffix (a restarted process with a recycled pid differs).
fn default_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let suffix: u32 = rand::rng().random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

impl Worker {
    /// A worker on `store` with a generated id, a 30 s lease time to live,
    /// up to 200 ms of spread and a 1 s rate-budget heartbeat.
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        Self {
            store,
            id: default_id(),
            lease_ttl: Duration::from_secs(30),
            spread: Duration::from_millis(200),
            heartbeat: Duration::from_secs(1),
            runnables: Vec::new(),
            budgets: Vec::new(),
            on_slot: None,
        }
    }

    /// The worker's id: the holder name of its leases and runs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Sets the worker's id (unique among the workers of a store).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// How long a lease lasts unless renewed (renewed every third of it):
    /// how long a dead worker's pipelines wait before another takes them
    /// over, and how long a paused one may stall before it is fenced out.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl.max(Duration::from_millis(30));
        self
    }

    /// The longest random wait before asking for a lease, per run this
    /// worker already has going (plus one).
    pub fn spread(mut self, spread: Duration) -> Self {
        self.spread = spread;
        self
    }

    /// How often the worker tells the store it still shares its rate
    /// budgets; a member silent for three heartbeats is forgotten.
    pub fn budget_heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat.max(Duration::from_millis(10));
        self
    }

    /// Runs `pipeline` (or any [`Runnable`]) on `schedule`.
    pub fn pipeline(mut self, runnable: impl Runnable + 'static, schedule: Schedule) -> Self {
        self.runnables.push((Arc::new(runnable), schedule));
        self
    }

    /// Runs a shared [`Runnable`] on `schedule`.
    pub fn runnable(mut self, runnable: Arc<dyn Runnable>, schedule: Schedule) -> Self {
        self.runnables.push((runnable, schedule));
        self
    }

    /// Keeps `share` at the number of live workers sharing `budget` (name
    /// it after the system and credential, e.g. `"kingdee:<app id>"`; no
    /// secret), so that a client built with it sends at its part of the
    /// limit. Before the first run the worker waits one and a half
    /// heartbeats, so that the others have seen it join and slowed down.
    pub fn share_rate(mut self, budget: impl Into<String>, share: RateShare) -> Self {
        self.budgets.push((budget.into(), share));
        self
    }

    /// Called after every slot with the runnable's name, the slot and what
    /// happened (for logs, metrics, a console).
    pub fn on_slot(
        mut self,
        on_slot: impl Fn(&str, DateTime<Utc>, &SlotOutcome) + Send + Sync + 'static,
    ) -> Self {
        self.on_slot = Some(Arc::new(on_slot));
        self
    }

    /// Runs until `shutdown` completes, then stops gracefully: runs under
    /// way settle what they read and release their leases.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> WorkerSummary {
        let shared = Arc::new(Shared {
            store: self.store,
            id: self.id,
            lease_ttl: self.lease_ttl,
            spread: self.spread,
            running: AtomicUsize::new(0),
            stop: StopSignal::new(),
            stopped: tokio::sync::watch::channel(false).0,
            counts: Counts::default(),
            on_slot: self.on_slot,
        });
        let budgets = RateBudgets::join(
            Arc::clone(&shared.store),
            shared.id.clone(),
            self.budgets,
            self.heartbeat,
        )
        .await;
        let mut loops = tokio::task::JoinSet::new();
        for (runnable, schedule) in self.runnables {
            loops.spawn(Arc::clone(&shared).slots(runnable, schedule));
        }
        tokio::pin!(shutdown);
        tokio::select! {
            () = &mut shutdown => {}
            () = async { while loops.join_next().await.is_some() {} } => {}
        }
        tracing::info!(worker = %shared.id, "shutting down: settling runs under way");
        shared.stop.stop();
        shared.stopped.send_replace(true);
        while let Some(joined) = loops.join_next().await {
            if let Err(e) = joined {
                tracing::error!(worker = %shared.id, error = %e, "a schedule loop failed");
            }
        }
        budgets.leave().await;
        shared.counts.summary(&shared.id)
    }
}

/// What the schedule loops of one worker share.
struct Shared {
    store: Arc<dyn StateStore>,
    id: String,
    lease_ttl: Duration,
    spread: Duration,
    running: AtomicUsize,
    /// Tells running runs to stop reading.
    stop: StopSignal,
    /// Wakes the schedule loops that wait for a slot.
    stopped: tokio::sync::watch::Sender<bool>,
    counts: Counts,
    on_slot: Option<OnSlot>,
}

#[derive(Default)]
struct Counts {
    completed: AtomicU64,
    failed: AtomicU64,
    fenced: AtomicU64,
    busy: AtomicU64,
    already_done: AtomicU64,
    takeovers: AtomicU64,
}

impl Counts {
    fn summary(&self, id: &str) -> WorkerSummary {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        WorkerSummary {
            id: id.to_owned(),
            completed: get(&self.completed),
            failed: get(&self.failed),
            fenced: get(&self.fenced),
            busy: get(&self.busy),
            already_done: get(&self.already_done),
            takeovers: get(&self.takeovers),
        }
    }

    fn count(&self, outcome: &SlotOutcome) {
        let counter = match outcome {
            SlotOutcome::Ran(Ok(_)) => &self.completed,
            SlotOutcome::Ran(Err(e)) if is_fenced(e) => &self.fenced,
            SlotOutcome::Ran(Err(_)) | SlotOutcome::StoreFailed(_) => &self.failed,
            SlotOutcome::Busy => &self.busy,
            SlotOutcome::AlreadyDone => &self.already_done,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn is_fenced(e: &RunError) -> bool {
    matches!(&e.cause, RunErrorCause::State(s) if s.is_fenced())
}

/// A random wait up to `max`.
fn random_wait(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    max.mul_f64(rand::rng().random::<f64>())
}

/// Sleeps until `at` on the wall clock (read afresh, as cron times are).
async fn sleep_until_wall(at: DateTime<Utc>) {
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
}

impl Shared {
    /// One runnable's slots, until the worker stops or the schedule ends.
    async fn slots(self: Arc<Self>, runnable: Arc<dyn Runnable>, schedule: Schedule) {
        let Some(mut slot) = schedule.shared_slot(Utc::now()) else {
            return;
        };
        let mut stopped = self.stopped.subscribe();
        loop {
            let wait = async {
                sleep_until_wall(slot).await;
                let running = self.running.load(Ordering::Relaxed) as u32;
                let spread = random_wait(self.spread * (running + 1));
                tokio::time::sleep(schedule.jitter() + spread).await;
            };
            tokio::select! {
                () = wait => {}
                _ = stopped.wait_for(|stopped| *stopped) => return,
            }
            let outcome = self.slot(&*runnable, slot).await;
            self.counts.count(&outcome);
            if let Some(on_slot) = &self.on_slot {
                on_slot(runnable.name(), slot, &outcome);
            }
            match schedule.next_shared_slot(slot, Utc::now()) {
                Some(next) => slot = next,
                None => return,
            }
        }
    }

    /// One slot: take the lease, run unless already done, release.
    async fn slot(&self, runnable: &dyn Runnable, slot: DateTime<Utc>) -> SlotOutcome {
        let name = runnable.name();
        let before = match self.store.leases().await {
            Ok(leases) => leases.into_iter().find(|l| l.name == name),
            Err(e) => return SlotOutcome::StoreFailed(e),
        };
        let lease = match self
            .store
            .acquire_lease(name, &self.id, self.lease_ttl)
            .await
        {
            Ok(Some(lease)) => lease,
            Ok(None) => return SlotOutcome::Busy,
            Err(e) => return SlotOutcome::StoreFailed(e),
        };
        if lease.done_through.is_some_and(|done| done >= slot) {
            self.release(&lease, None).await;
            return SlotOutcome::AlreadyDone;
        }
        if let Some(old) = before.filter(|old| old.holder != self.id && old.token < lease.token) {
            self.counts.takeovers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(worker = %self.id, lease = %name, from = %old.holder, token = lease.token, "took over a lease whose time ran out");
        }
        self.running.fetch_add(1, Ordering::Relaxed);
        let options = RunOptions::new()
            .lease(lease.clone())
            .stop_on(self.stop.clone());
        let result = tokio::select! {
            result = runnable.run(&options) => result,
            never = self.keep_renewing(&lease) => match never {},
        };
        self.running.fetch_sub(1, Ordering::Relaxed);
        let done = result.is_ok().then_some(slot);
        self.release(&lease, done).await;
        SlotOutcome::Ran(result)
    }

    async fn release(&self, lease: &Lease, done: Option<DateTime<Utc>>) {
        if let Err(e) = self.store.release_lease(lease, done).await {
            tracing::warn!(worker = %self.id, lease = %lease.name, error = %e, "could not release a lease: it lapses after its time to live");
        }
    }

    /// Renews `lease` every third of its time to live, forever; once it
    /// is lost, only logs (the store's fence stops the run's writes).
    async fn keep_renewing(&self, lease: &Lease) -> std::convert::Infallible {
        let mut current = lease.clone();
        let mut lost = false;
        loop {
            tokio::time::sleep(self.lease_ttl / 3).await;
            if lost {
                continue;
            }
            match self.store.renew_lease(&current, self.lease_ttl).await {
                Ok(renewed) => current = renewed,
                Err(e) if e.is_fenced() => {
                    tracing::error!(worker = %self.id, lease = %lease.name, "lost the lease to another worker: this run's writes will be refused");
                    lost = true;
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, lease = %lease.name, error = %e, "could not renew a lease; trying again");
                }
            }
        }
    }
}

/// This process's membership of rate budgets shared through a store, and
/// the task that keeps it fresh: every heartbeat it tells the store it is
/// still there and sets each [`RateShare`] to the number of live members.
/// A [`Worker`] keeps one for its [`Worker::share_rate`] budgets; a process
/// that calls an API without a worker can hold one itself.
pub struct RateBudgets {
    store: Arc<dyn StateStore>,
    member: String,
    names: Vec<String>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for RateBudgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateBudgets")
            .field("member", &self.member)
            .field("budgets", &self.names)
            .finish_non_exhaustive()
    }
}

impl RateBudgets {
    /// Joins `budgets` (name, share) as `member`, then waits one and a half
    /// heartbeats so that the other members have seen it and slowed down
    /// before it sends. A member silent for three heartbeats (a killed
    /// process) is forgotten, and the others speed up.
    pub async fn join(
        store: Arc<dyn StateStore>,
        member: impl Into<String>,
        budgets: Vec<(String, RateShare)>,
        heartbeat: Duration,
    ) -> Self {
        let member = member.into();
        let names = budgets.iter().map(|(name, _)| name.clone()).collect();
        if budgets.is_empty() {
            return Self {
                store,
                member,
                names,
                heartbeat: None,
            };
        }
        let ttl = heartbeat * 3;
        let beat = {
            let (store, member) = (Arc::clone(&store), member.clone());
            move |budgets: Vec<(String, RateShare)>| {
                let (store, member) = (Arc::clone(&store), member.clone());
                async move {
                    for (name, share) in &budgets {
                        match store.join_budget(name, &member, ttl).await {
                            Ok(members) => share.set_members(members),
                            Err(e) => {
                                tracing::warn!(%member, budget = %name, error = %e, "could not renew a rate budget share");
                            }
                        }
                    }
                    budgets
                }
            }
        };
        let budgets = beat.clone()(budgets).await;
        tokio::time::sleep(heartbeat + heartbeat / 2).await;
        let task = tokio::spawn(async move {
            let mut budgets = budgets;
            loop {
                tokio::time::sleep(heartbeat).await;
                budgets = beat(budgets).await;
            }
        });
        Self {
            store,
            member,
            names,
            heartbeat: Some(task),
        }
    }

    /// Leaves every budget, so that the others speed up at once.
    pub async fn leave(self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
        for name in &self.names {
            if let Err(e) = self.store.leave_budget(name, &self.member).await {
                tracing::warn!(member = %self.member, budget = %name, error = %e, "could not leave a rate budget: forgotten after three heartbeats");
            }
        }
    }
}

impl Drop for RateBudgets {
    fn drop(&mut self) {
        if let Some(heartbeat) = &self.heartbeat {
            heartbeat.abort();
        }
    }
}
