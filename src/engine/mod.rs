//! The discrete-event core: one run of one model at one population, on one
//! thread. This module is the loop and its calendar: it interprets compiled
//! plans, step by step, and hands each step that takes, holds or gives back
//! something to the mechanism that owns it, through one interface
//! (`mechanism::Mechanism`: `acquire` / `release` / `on_deadline`). It knows
//! nothing of SQLite's busy handler or PgBouncer's timeouts; those live in
//! `busy_lock.rs` and `server_pool.rs`.
//!
//! The hot loop allocates nothing once its queues have grown to their working
//! size, boxes nothing, and dispatches on plain enums and concrete types.

mod busy_lock;
mod cache;
mod calendar;
mod deadlines;
mod group_commit;
mod held;
mod mechanism;
mod quad_heap;
mod replay;
mod resource;
mod row_locks;
mod server_pool;
mod station;
pub mod stats;
mod switch;
mod think_pool;
mod time_slice;
mod wait_line;

use crate::dist::Dist;
use crate::key_popularity::KeyPopularity;
use crate::model::{
    GaugeSource, Model, Plan, Population, Step, SwitchBy, MAX_DB_PARTS, MAX_RESOURCES,
};
use busy_lock::SqliteLocks;
use cache::CacheState;
use calendar::{later, Calendar, EventKind};
use hdrhistogram::Histogram;
use held::Held;
use mechanism::{Cx, Due, Mechanism, Next};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
pub use replay::ReplicationStats;
use replay::{ReadYourWrites, ReplayQueue};
use resource::Resources;
use row_locks::RowTables;
use server_pool::ServerPools;
use station::StationState;
use stats::{
    DbStats, ErrorCause, PoolStats, ResourceStats, RunStats, StationStats, StopReason, TimeAverage,
    TypeStats,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
pub use switch::shard_of;
use think_pool::ThinkPool;

/// Index of a request slot. In a closed model slot i belongs to user i.
pub type JobId = u32;
const NO_JOB: JobId = u32::MAX;

/// The line a job waits in for a grant: a passive resource's or a pooler
/// pool's. Liveness of a line entry is judged by it (with the wait token).
/// Four bytes: one word of `Job`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Waiting(u32);

impl Waiting {
    const NOTHING: Waiting = Waiting(u32::MAX);
    /// Pools are told apart from resources by this bit; indices are far
    /// below it (`MAX_RESOURCES`, `MAX_DB_PARTS`).
    const POOL: u32 = 1 << 30;

    #[inline(always)]
    fn resource(r: u32) -> Self {
        Waiting(r)
    }

    #[inline(always)]
    fn pool(p: u32) -> Self {
        Waiting(Self::POOL | p)
    }
}

/// Longest response time the histogram resolves: one hour. Longer responses
/// are counted at one hour (and still exactly in the mean).
pub(crate) const HISTOGRAM_MAX_NS: u64 = 3_600_000_000_000;

/// A response-time histogram: 1 ns to [`HISTOGRAM_MAX_NS`], 3 significant
/// digits (0.1% resolution at every scale).
fn response_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_MAX_NS, 3).expect("static histogram bounds are valid")
}

/// How long one run goes on.
#[derive(Clone, Copy, Debug)]
pub struct RunConfig {
    /// The load level: a closed population's size; for an open model, a
    /// level above 0 is its arrival rate in arrivals per second (a point of
    /// an arrival-rate sweep), and 0 keeps the model's own rate.
    pub users: u32,
    /// Seed of the run's random stream: the same seed, the same run.
    pub seed: u64,
    /// Requests that leave before measurement starts, counted once every
    /// request begun at t = 0 (a warm start's) has left.
    pub warmup_requests: u64,
    /// Requests that leave during measurement; the run then stops.
    pub measured_requests: u64,
    /// Hard cap on calendar events, warm-up included.
    pub max_events: u64,
    /// Open models: most requests in the system before the run is declared
    /// overflowing. Bounds memory when arrivals outpace service.
    pub max_in_system: u32,
}

impl RunConfig {
    /// A run of `users` users (closed models) from `seed`, with the default
    /// lengths: 20,000 warm-up and 200,000 measured requests, at most 200
    /// million events and a million requests in the system.
    pub fn new(users: u32, seed: u64) -> Self {
        RunConfig {
            users,
            seed,
            warmup_requests: 20_000,
            measured_requests: 200_000,
            max_events: 200_000_000,
            max_in_system: 1_000_000,
        }
    }
}

/// Additions to a run for the sweep's statistics (see `sweep`): a warm start
/// and a trace of response times for warm-up detection. Kept apart from
/// [`RunConfig`] so that code building a `RunConfig` literal is unaffected.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunExtras {
    /// Closed models: up to this many users (the first ones) start a request
    /// at t = 0 instead of thinking first (fewer where the system refuses
    /// them: see `PREPLACE_REFUSALS_IN_A_ROW`). The sweep sets it to the analytic
    /// estimate of the mean number of requests in the system, so that a
    /// saturated run starts with its queues near their steady-state length
    /// instead of spending about N completions filling them (warm start).
    pub preplaced: u32,
    /// Record the mean response time of every `batch` consecutive completed
    /// requests, warm-up included (0: no trace). MSER-5 reads these.
    pub batch: u32,
    /// Set from outside (Ctrl-C, SIGTERM) to stop the run early, with
    /// [`StopReason::Interrupted`]. Read once every [`CANCEL_CHECK_EVERY`]
    /// events so that the hot loop stays a counter test.
    pub cancel: Option<&'static AtomicBool>,
}

/// Events between two looks at [`RunExtras::cancel`] (a power of two, so the
/// test is a mask): at tens of millions of events per second, a few ms.
pub const CANCEL_CHECK_EVERY: u64 = 1 << 16;

/// Batch means of response times, in completion order, in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct ResponseTrace {
    /// Completed requests per batch ([`RunExtras::batch`]; 0: no trace).
    pub batch: u32,
    /// The mean response time of each full batch, in ms.
    pub means_ms: Vec<f64>,
    /// Completions of the trace (warm-start requests left out) that fell in
    /// the warm-up.
    pub warmup_completions: u64,
}

/// A warm start stops placing requests once this many in a row are refused
/// at once: the system holds no more, and the remaining users simply start
/// thinking (which is what a refused user does anyway).
const PREPLACE_REFUSALS_IN_A_ROW: u32 = 1024;

/// One request in flight (or, in a closed model, one user between requests).
#[derive(Clone, Copy)]
struct Job {
    /// Absolute index of the current step in `Model::steps`.
    step: u32,
    plan_first: u32,
    plan_end: u32,
    rtype: u32,
    /// The key (row, cache entry) this request touches; 0 without a key space.
    key: u32,
    started: u64,
    /// Passive resources, SQLite locks, pool connections and row locks held.
    held: Held,
    /// Bumped whenever a wait ends, so stale timeouts and line entries are ignored.
    token: u32,
    waiting_on: Waiting,
}

// A million-user run keeps a million slots: one cache line each at most.
// (Mechanism state only some models need, such as SQLite's busy-handler
// count, lives in the mechanism, indexed by job.)
const _: () = assert!(std::mem::size_of::<Job>() <= 64);

impl Job {
    /// The current wait is over (granted or given up): entries it left on
    /// lines and deadline queues are stale from now on.
    #[inline(always)]
    fn end_wait(&mut self) {
        self.waiting_on = Waiting::NOTHING;
        self.token = self.token.wrapping_add(1);
    }
}

const IDLE_JOB: Job = Job {
    step: 0,
    plan_first: 0,
    plan_end: 0,
    rtype: 0,
    key: 0,
    started: 0,
    held: Held::NOTHING,
    token: 0,
    waiting_on: Waiting::NOTHING,
};

/// The mechanisms' view of the engine ([`Cx`]): disjoint borrows of the
/// fields they may touch, so that the mechanism itself (another field) can
/// be borrowed alongside.
macro_rules! cx {
    ($e:ident) => {
        Cx {
            now: $e.now,
            measuring: $e.measuring,
            jobs: &mut $e.jobs,
            ready: &mut $e.ready,
            cal: &mut $e.cal,
            rng: &mut $e.rng,
            db: &mut $e.db,
        }
    };
}

struct Engine<'m> {
    model: &'m Model,
    cfg: RunConfig,
    rng: Xoshiro256PlusPlus,
    cal: Calendar,
    now: u64,
    jobs: Vec<Job>,
    free_jobs: Vec<JobId>,
    /// Closed models with exponential think times: the thinking users (with
    /// any other think time each user has its own `Arrival` event).
    thinkers: Option<ThinkPool>,
    stations: Vec<StationState>,
    resources: Resources,
    /// Jobs ready to run their next step at `now` (woken by a release or a
    /// processor-sharing completion), in the order they became ready.
    ready: VecDeque<JobId>,
    /// Cumulative weights for picking a request type.
    cum_weights: Vec<f64>,
    /// Key popularity, if the model has a key space.
    keys: Option<&'m KeyPopularity>,
    /// Round-robin position per request type across its plan variants.
    next_plan: Vec<u32>,
    // Measurement.
    measuring: bool,
    warmup_end: u64,
    departures: u64,
    /// Departures when measurement began: the run stops
    /// `measured_requests` departures later.
    departures_at_warmup_end: u64,
    /// Departures when the last request begun at t = 0 left: the warm-up's
    /// `warmup_requests` count from there.
    departures_at_t0_clear: u64,
    /// Requests the warm start actually placed.
    preplaced: u32,
    trace_warmup_completions: u64,
    /// Requests begun at t = 0 (the warm start's) still in the system.
    /// Measurement waits for them all to leave: their response times count
    /// from an artificial start, and while they are inside the system is not
    /// yet in steady state. (Counting departures alone does not ensure it:
    /// where most of a warm start is refused at once, the departures are
    /// reached in no time while the accepted requests still queue.)
    t0_live: u64,
    in_system: TimeAverage,
    live: u64,
    started: u64,
    completed: u64,
    errors: [u64; ErrorCause::COUNT],
    response: Histogram<u64>,
    response_sum_ns: f64,
    sojourn_sum_ns: f64,
    per_type: Vec<TypeStats>,
    /// One histogram per request type, allocated here, once per run: the
    /// hot loop only records into them.
    per_type_response: Vec<Histogram<u64>>,
    total_started: u64,
    total_completed: u64,
    total_errored: u64,
    stop: Option<StopReason>,
    events: u64,
    extras: RunExtras,
    batch_sum_ns: f64,
    batch_len: u32,
    trace: Vec<f64>,
    // Scaling tier: caches, replicas, routing (see cache.rs, replay.rs, switch.rs).
    caches: Vec<CacheState>,
    replay: Vec<ReplayQueue>,
    read_your_writes: ReadYourWrites,
    counters: Vec<u32>,
    cache_lookups: u64,
    cache_hits: u64,
    replication: ReplicationStats,
    // Mechanisms requests hold across steps (see `mechanism.rs`).
    sqlite: SqliteLocks,
    rows: RowTables,
    pools: ServerPools,
    db: DbStats,
}

/// Simulate `model` under `cfg` and return what was measured.
///
/// Deterministic: the same model and config give the same `RunStats`.
pub fn run(model: &Model, cfg: &RunConfig) -> RunStats {
    run_with(model, cfg, RunExtras::default()).0
}

/// [`run`] with a warm start and a response-time trace.
pub fn run_with(model: &Model, cfg: &RunConfig, extras: RunExtras) -> (RunStats, ResponseTrace) {
    let mut e = Engine::new(model, *cfg);
    e.extras = extras;
    if extras.batch > 0 {
        // Reserved up front so that the hot loop does not grow it: a run
        // records at most one batch per `batch` of its planned departures.
        // The reservation is capped (16 MB) so that a huge configured run
        // grows the trace as it goes instead of claiming it all at once.
        let planned = cfg.warmup_requests.saturating_add(cfg.measured_requests);
        let batches = (planned / extras.batch as u64 + 1).min(1 << 21);
        e.trace = Vec::with_capacity(batches as usize);
    }
    e.start();
    e.main_loop();
    let trace = ResponseTrace {
        batch: extras.batch,
        means_ms: std::mem::take(&mut e.trace),
        warmup_completions: e.trace_warmup_completions,
    };
    (e.finish(), trace)
}

impl<'m> Engine<'m> {
    fn new(model: &'m Model, cfg: RunConfig) -> Self {
        // `Held` has one bit per part, as many as these limits: a model past
        // them is refused where it is built (`arch::try_compile`, with the
        // reason); a hand-made one that skipped `Model::validate` stops here.
        let db = &model.db;
        assert!(
            model.resources.len() <= MAX_RESOURCES
                && db
                    .sqlite_locks
                    .len()
                    .max(db.pools.len())
                    .max(db.row_tables.len())
                    <= MAX_DB_PARTS,
            "the model exceeds the engine's limits (Model::validate says why)"
        );
        let total: f64 = model.request_types.iter().map(|t| t.weight).sum();
        let mut acc = 0.0;
        let cum_weights = model
            .request_types
            .iter()
            .map(|t| {
                acc += t.weight / total;
                acc
            })
            .collect();
        let closed_users = match model.population {
            Population::Closed { .. } => cfg.users as usize,
            Population::Open { .. } => 0,
        };
        let thinkers = match model.population {
            Population::Closed {
                think: Dist::Exponential { mean_ns },
            } => Some(ThinkPool::new(
                mean_ns,
                closed_users,
                // Read-your-writes remembers, per user, what it wrote; a
                // session connection is kept by its user, and so is the
                // SQLite page cache a transaction finds valid or emptied.
                !model.scaling.replica_groups.is_empty()
                    || model.db.sqlite_locks.iter().any(|l| l.reread_ns > 0)
                    || model
                        .steps
                        .iter()
                        .any(|s| matches!(s, Step::Connect { .. })),
            )),
            _ => None,
        };
        Engine {
            model,
            cfg,
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            cal: Calendar::with_capacity(match thinkers {
                Some(_) => 64,
                None => closed_users + 64,
            }),
            now: 0,
            jobs: vec![IDLE_JOB; closed_users],
            free_jobs: Vec::new(),
            thinkers,
            stations: model.stations.iter().map(StationState::new).collect(),
            resources: Resources::new(&model.resources),
            ready: VecDeque::new(),
            cum_weights,
            keys: model.keys.as_ref(),
            next_plan: vec![0; model.request_types.len()],
            measuring: cfg.warmup_requests == 0,
            warmup_end: 0,
            departures: 0,
            departures_at_warmup_end: 0,
            departures_at_t0_clear: 0,
            preplaced: 0,
            trace_warmup_completions: 0,
            t0_live: 0,
            in_system: TimeAverage::default(),
            live: 0,
            started: 0,
            completed: 0,
            errors: [0; ErrorCause::COUNT],
            response: response_histogram(),
            response_sum_ns: 0.0,
            sojourn_sum_ns: 0.0,
            per_type: vec![TypeStats::default(); model.request_types.len()],
            // One type: its histogram is the run's (see `complete`).
            per_type_response: match model.request_types.len() {
                1 => vec![],
                n => (0..n).map(|_| response_histogram()).collect(),
            },
            total_started: 0,
            total_completed: 0,
            total_errored: 0,
            stop: None,
            events: 0,
            extras: RunExtras::default(),
            batch_sum_ns: 0.0,
            batch_len: 0,
            trace: Vec::new(),
            caches: model
                .scaling
                .caches
                .iter()
                .map(|c| CacheState::new(c, model.keys.as_ref().map_or(1, |k| k.count())))
                .collect(),
            replay: model
                .scaling
                .replica_groups
                .iter()
                .map(|g| ReplayQueue::new(g.ship_delay_ns))
                .collect(),
            // Stale reads are per user: tracked only where a slot is a user.
            read_your_writes: ReadYourWrites::new(if model.scaling.replica_groups.is_empty() {
                0
            } else {
                closed_users
            }),
            counters: vec![0; model.scaling.counters as usize],
            cache_lookups: 0,
            cache_hits: 0,
            replication: ReplicationStats::new(if model.scaling.replica_groups.is_empty() {
                2
            } else {
                HISTOGRAM_MAX_NS
            }),
            sqlite: SqliteLocks::new(&model.db.sqlite_locks),
            rows: RowTables::new(model.db.row_tables.len()),
            pools: ServerPools::new(&model.db.pools),
            db: DbStats::default(),
        }
    }

    fn start(&mut self) {
        match self.model.population {
            Population::Closed { think } => {
                // Every user starts with a think time drawn afresh, so the first
                // requests are spread out as in steady state rather than all at t=0.
                // Warm start: the pre-placed users arrive at t = 0 (in user
                // order, so runs stay deterministic) and queue wherever
                // capacity runs out, which is where they sit in steady state.
                // They begin directly rather than through the calendar, which
                // would otherwise sort a million simultaneous arrivals. Placing
                // stops once the system refuses them in a row: it is full.
                let want = self.extras.preplaced.min(self.cfg.users);
                let (mut pre, mut refused_in_a_row) = (0, 0);
                while pre < want && refused_in_a_row < PREPLACE_REFUSALS_IN_A_ROW {
                    let errored = self.total_errored;
                    self.begin(pre);
                    pre += 1;
                    refused_in_a_row = if self.total_errored > errored {
                        refused_in_a_row + 1
                    } else {
                        0
                    };
                }
                self.preplaced = pre;
                if let Some(pool) = &mut self.thinkers {
                    pool.fill(pre..self.cfg.users, 0, &mut self.rng, &mut self.cal);
                } else {
                    for user in pre..self.cfg.users {
                        let t = think.sample(&mut self.rng);
                        self.cal.schedule(t, EventKind::Arrival, user, 0);
                    }
                }
                while let Some(job) = self.ready.pop_front() {
                    self.advance(job);
                }
            }
            Population::Open { rate_per_s } => {
                let rate = self.open_rate(rate_per_s);
                let t = Self::interarrival(&mut self.rng, rate);
                self.cal.schedule(t, EventKind::Arrival, NO_JOB, 0);
            }
        }
    }

    /// The open arrival rate of this run: the load level when one is given
    /// (an arrival-rate sweep), else the model's `rate_per_s`.
    #[inline]
    fn open_rate(&self, rate_per_s: f64) -> f64 {
        if self.cfg.users > 0 {
            f64::from(self.cfg.users)
        } else {
            rate_per_s
        }
    }

    /// Exponential gap between open arrivals, in whole nanoseconds.
    #[inline]
    fn interarrival(rng: &mut Xoshiro256PlusPlus, rate_per_s: f64) -> u64 {
        Dist::Exponential {
            mean_ns: 1e9 / rate_per_s,
        }
        .sample(rng)
    }

    fn interrupted(&self) -> bool {
        self.extras
            .cancel
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn main_loop(&mut self) {
        let mut events: u64 = 0;
        if self.interrupted() {
            self.stop = Some(StopReason::Interrupted);
        }
        while self.stop.is_none() {
            let Some(ev) = self.cal.pop() else { break };
            events += 1;
            if events > self.cfg.max_events {
                self.stop = Some(StopReason::EventBudget);
                break;
            }
            if events & (CANCEL_CHECK_EVERY - 1) == 0 && self.interrupted() {
                self.stop = Some(StopReason::Interrupted);
                break;
            }
            self.now = ev.time;
            match ev.kind {
                EventKind::Arrival => {
                    if ev.a == NO_JOB {
                        self.open_arrival();
                    } else {
                        self.begin(ev.a);
                    }
                }
                EventKind::ThinkEnd => {
                    if let Some(pool) = &mut self.thinkers {
                        if let Some(user) = pool.fire(ev.b, self.now, &mut self.rng, &mut self.cal)
                        {
                            self.begin(user);
                        }
                    }
                }
                EventKind::Done => {
                    let job = ev.a;
                    let j = self.jobs[job as usize];
                    if let Step::Use { station, .. } | Step::SqliteStatements { station, .. } =
                        self.model.steps[j.step as usize]
                    {
                        self.stations[station as usize].depart(self.now, &mut self.cal);
                    }
                    self.jobs[job as usize].step += 1;
                    self.advance(job);
                }
                EventKind::PsDone => self.leave_station(ev.a, |s, id, now, cal, done| {
                    s.ps_done(id, ev.b, now, cal, done)
                }),
                EventKind::Deadline => self.deadline(ev.a, ev.b),
                EventKind::BusyRetry => {
                    if self.jobs[ev.a as usize].token == ev.b {
                        self.advance(ev.a);
                    }
                }
                EventKind::SliceEnd => self.leave_station(ev.a, |s, id, now, cal, done| {
                    s.slice_end(id, ev.b, now, cal, done)
                }),
                EventKind::CoreCheck => {
                    self.stations[ev.a as usize].core_check(ev.a, ev.b, self.now, &mut self.cal)
                }
                EventKind::FlushDone => self.leave_station(ev.a, |s, id, now, cal, done| {
                    s.flush_done(id, now, cal, done)
                }),
            }
            while let Some(job) = self.ready.pop_front() {
                self.advance(job);
            }
        }
        self.events = events;
    }

    /// Station `id` lets jobs go past their `Use` step (a processor-sharing
    /// finish, a time slice's end, a flush made durable or released): `f`
    /// pushes them onto the ready queue, and each moves on one step; the
    /// loop advances them after the event.
    #[inline]
    fn leave_station(
        &mut self,
        id: u32,
        f: impl FnOnce(&mut station::StationState, u32, u64, &mut Calendar, &mut VecDeque<JobId>),
    ) {
        let first = self.ready.len();
        f(
            &mut self.stations[id as usize],
            id,
            self.now,
            &mut self.cal,
            &mut self.ready,
        );
        for &job in self.ready.iter().skip(first) {
            self.jobs[job as usize].step += 1;
        }
    }

    fn open_arrival(&mut self) {
        let Population::Open { rate_per_s } = self.model.population else {
            return;
        };
        let rate = self.open_rate(rate_per_s);
        let t = later(self.now, Self::interarrival(&mut self.rng, rate));
        self.cal.schedule(t, EventKind::Arrival, NO_JOB, 0);
        if self.live >= self.cfg.max_in_system as u64 {
            self.stop = Some(StopReason::Overflow);
            return;
        }
        let job = match self.free_jobs.pop() {
            Some(j) => j,
            None => {
                self.jobs.push(IDLE_JOB);
                (self.jobs.len() - 1) as JobId
            }
        };
        self.begin(job);
    }

    /// A new request starts in slot `job`.
    #[inline]
    fn begin(&mut self, job: JobId) {
        let u: f64 = self.rng.random();
        let rtype = self
            .cum_weights
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.cum_weights.len() - 1);
        let rt = &self.model.request_types[rtype];
        let k = self.next_plan[rtype];
        self.next_plan[rtype] = if k + 1 == rt.plans.len() as u32 {
            0
        } else {
            k + 1
        };
        let Plan { first, len } = rt.plans[k as usize];
        let token = self.jobs[job as usize].token;
        let key = match self.keys {
            Some(k) => k.sample(&mut self.rng),
            None => 0,
        };
        self.jobs[job as usize] = Job {
            step: first,
            plan_first: first,
            plan_end: first + len,
            rtype: rtype as u32,
            key,
            started: self.now,
            held: Held::NOTHING,
            token,
            waiting_on: Waiting::NOTHING,
        };
        self.total_started += 1;
        if self.measuring {
            self.started += 1;
        }
        self.live += 1;
        if self.now == 0 {
            self.t0_live += 1;
        }
        self.in_system.set(self.now, self.live as f64);
        self.advance(job);
    }

    /// `job` arrives at `station` needing `demand_ns` of service.
    #[inline(always)]
    fn serve(&mut self, station: u32, job: JobId, demand_ns: u64) {
        self.stations[station as usize].arrive(station, job, demand_ns, self.now, &mut self.cal);
    }

    /// Run `job`'s plan from its current step until it must wait for time or
    /// for a resource, or until it ends.
    #[inline]
    fn advance(&mut self, job: JobId) {
        let model = self.model;
        loop {
            let j = &mut self.jobs[job as usize];
            if j.step >= j.plan_end {
                self.complete(job);
                return;
            }
            let next = match model.steps[j.step as usize] {
                Step::Use { station, demand } => {
                    let d = demand.sample(&mut self.rng);
                    self.serve(station, job, d);
                    return;
                }
                Step::SqliteStatements {
                    station,
                    lock,
                    demand,
                } => {
                    let d = demand.sample(&mut self.rng) + self.sqlite.reread_ns(job, lock as u32);
                    self.serve(station, job, d);
                    return;
                }
                Step::Delay(dist) => {
                    let d = dist.sample(&mut self.rng);
                    self.cal
                        .schedule(later(self.now, d), EventKind::Done, job, 0);
                    return;
                }
                Step::Branch { p, to } => {
                    let first = j.plan_first;
                    let take = self.rng.random::<f64>() < p;
                    let j = &mut self.jobs[job as usize];
                    j.step = if take { first + to } else { j.step + 1 };
                    continue;
                }
                // --- Scaling tier.
                Step::Switch { by, n } => {
                    let choice = match by {
                        SwitchBy::KeyHash => shard_of(j.key, n),
                        SwitchBy::RoundRobin { counter } => {
                            switch::round_robin(&mut self.counters[counter as usize], n)
                        }
                    };
                    // The chosen jump entry follows the switch.
                    j.step += 1 + choice;
                    continue;
                }
                Step::Ship { group, replay } => {
                    let (key, committed) = (j.key, self.now);
                    j.step += 1;
                    let cost = replay.sample(&mut self.rng);
                    let visible = self.replay[group as usize].ship(committed, cost);
                    self.read_your_writes.wrote(job, key, group, visible);
                    if self.measuring {
                        self.replication.record_lag(visible - committed, cost);
                    }
                    continue;
                }
                Step::ReplicaRead { group } => {
                    let key = j.key;
                    j.step += 1;
                    if self.measuring {
                        self.replication.replica_reads += 1;
                        if self.read_your_writes.is_stale(job, key, group, self.now) {
                            self.replication.stale_reads += 1;
                        }
                    }
                    continue;
                }
                Step::CacheLookup { cache, hit_to } => {
                    let (key, first) = (j.key, j.plan_first);
                    let hit = self.caches[cache as usize].lookup(key, self.now, &mut self.rng);
                    if self.measuring {
                        self.cache_lookups += 1;
                        self.cache_hits += hit as u64;
                    }
                    let j = &mut self.jobs[job as usize];
                    j.step = if hit { first + hit_to } else { j.step + 1 };
                    continue;
                }
                Step::CacheFill { cache } => {
                    j.step += 1;
                    if let CacheState::Lru(lru) = &mut self.caches[cache as usize] {
                        lru.fill(j.key, self.now);
                    }
                    continue;
                }
                Step::CacheInvalidate { cache } => {
                    j.step += 1;
                    if let CacheState::Lru(lru) = &mut self.caches[cache as usize] {
                        lru.invalidate(j.key);
                    }
                    continue;
                }
                // --- Mechanisms held across steps: one interface each.
                Step::Acquire(r) => self.resources.acquire(&mut cx!(self), job, r, ()),
                Step::Connect { resource, abort } => {
                    self.resources.connect(&mut cx!(self), job, resource, abort)
                }
                Step::Release(r) => {
                    j.step += 1;
                    // A branch may have skipped the matching acquire: only
                    // what is held can be given back.
                    if j.held.resources.remove(r) {
                        self.resources.release(&mut cx!(self), job, r);
                    }
                    continue;
                }
                Step::SqliteLock { lock, mode } => {
                    self.sqlite.acquire(&mut cx!(self), job, lock, mode)
                }
                Step::FlushRelease(station) => {
                    j.step += 1;
                    self.leave_station(station, |s, id, now, cal, done| {
                        s.flush_release(id, job, now, cal, done)
                    });
                    continue;
                }
                Step::SqliteUnlock(lock) => {
                    j.held.sqlite.remove(lock);
                    j.step += 1;
                    self.sqlite.end_transaction(job, lock);
                    self.sqlite.release(&mut cx!(self), job, lock);
                    continue;
                }
                Step::RowLock(t) => self.rows.acquire(&mut cx!(self), job, t, ()),
                Step::RowUnlock(t) => {
                    j.held.rows.remove(t);
                    j.step += 1;
                    self.rows.release(&mut cx!(self), job, t);
                    continue;
                }
                Step::PoolAcquire(p) => self.pools.acquire(&mut cx!(self), job, p, ()),
                Step::PoolRelease(p) => {
                    j.held.pools.remove(p);
                    j.step += 1;
                    self.pools.release(&mut cx!(self), job, p);
                    continue;
                }
            };
            match next {
                Next::Go => self.jobs[job as usize].step += 1,
                Next::Wait => return,
                Next::Fail(cause) => {
                    self.fail(job, cause);
                    return;
                }
                Next::Abort(cause) => {
                    self.db.aborted_users += 1;
                    self.fail_for_good(job, cause);
                    return;
                }
            }
        }
    }

    /// The calendar event of deadline line `line` of mechanism `owner`
    /// fired: end every wait due, in the order the waits began.
    fn deadline(&mut self, line: u32, owner: u32) {
        loop {
            let due = match owner {
                resource::DEADLINE_OWNER => self.resources.on_deadline(&mut cx!(self), line),
                _ => self.pools.on_deadline(&mut cx!(self), line),
            };
            match due {
                Due::Fail(job) => self.fail(job, ErrorCause::Timeout),
                Due::Handled => {}
                Due::Clear => return,
            }
        }
    }

    /// The request fails: it lets go of everything it holds and leaves.
    fn fail(&mut self, job: JobId, cause: ErrorCause) {
        self.count_failure(job, cause);
        self.leave(job, true);
    }

    /// The request fails and its user stops for good (it never thinks or
    /// sends another request).
    fn fail_for_good(&mut self, job: JobId, cause: ErrorCause) {
        self.count_failure(job, cause);
        self.leave(job, false);
    }

    fn count_failure(&mut self, job: JobId, cause: ErrorCause) {
        self.release_all(job);
        let j = self.jobs[job as usize];
        self.total_errored += 1;
        if self.measuring {
            self.errors[cause as usize] += 1;
            let t = &mut self.per_type[j.rtype as usize];
            t.errors += 1;
            t.errors_by_cause[cause as usize] += 1;
            self.sojourn_sum_ns += (self.now - j.started) as f64;
        }
    }

    fn complete(&mut self, job: JobId) {
        self.release_all(job);
        let j = self.jobs[job as usize];
        self.total_completed += 1;
        // Requests of a warm start (they began at t = 0) are left out of the
        // trace: they all arrived at once, so their response times describe
        // the artificial start, not the system; MSER judges the rest.
        if self.extras.batch > 0 && (j.started > 0 || self.extras.preplaced == 0) {
            self.batch_sum_ns += (self.now - j.started) as f64;
            self.batch_len += 1;
            if !self.measuring {
                self.trace_warmup_completions += 1;
            }
            if self.batch_len == self.extras.batch {
                self.trace
                    .push(self.batch_sum_ns / self.extras.batch as f64 / 1e6);
                self.batch_sum_ns = 0.0;
                self.batch_len = 0;
            }
        }
        if self.measuring {
            let r = self.now - j.started;
            self.completed += 1;
            self.response_sum_ns += r as f64;
            self.sojourn_sum_ns += r as f64;
            self.response.saturating_record(r.max(1));
            let t = &mut self.per_type[j.rtype as usize];
            t.completed += 1;
            t.response_sum_ns += r as f64;
            // With one request type its histogram is the run's: copied at
            // the end instead of recorded twice (the validation models and
            // the mm1 benchmark have one type).
            if self.per_type_response.len() > 1 {
                self.per_type_response[j.rtype as usize].saturating_record(r.max(1));
            }
        }
        self.leave(job, true);
    }

    #[inline]
    fn release_all(&mut self, job: JobId) {
        let mut held = std::mem::replace(&mut self.jobs[job as usize].held, Held::NOTHING);
        while let Some(r) = held.resources.pop_first() {
            self.resources.release(&mut cx!(self), job, r);
        }
        // Database locks and connections: a session-mode pool connection is
        // given back here, at the end of the request.
        while let Some(l) = held.sqlite.pop_first() {
            self.sqlite.release(&mut cx!(self), job, l);
        }
        while let Some(p) = held.pools.pop_first() {
            self.pools.release(&mut cx!(self), job, p);
        }
        while let Some(t) = held.rows.pop_first() {
            self.rows.release(&mut cx!(self), job, t);
        }
    }

    /// The request has left the system, completed or failed.
    /// The request left the system; its user thinks and comes back, unless
    /// it stopped for good (`rejoin` false).
    fn leave(&mut self, job: JobId, rejoin: bool) {
        self.live -= 1;
        self.departures += 1;
        if self.jobs[job as usize].started == 0 {
            self.t0_live -= 1;
            if self.t0_live == 0 {
                self.departures_at_t0_clear = self.departures;
            }
        }
        self.in_system.set(self.now, self.live as f64);
        match self.model.population {
            Population::Closed { .. } if !rejoin => {}
            Population::Closed { think } => match &mut self.thinkers {
                Some(pool) => pool.join(job, self.now, &mut self.rng, &mut self.cal),
                None => {
                    let t = later(self.now, think.sample(&mut self.rng));
                    self.cal.schedule(t, EventKind::Arrival, job, 0);
                }
            },
            Population::Open { .. } => self.free_jobs.push(job),
        }
        if !self.measuring {
            if self.t0_live == 0
                && self.departures - self.departures_at_t0_clear >= self.cfg.warmup_requests
            {
                self.begin_measurement();
            }
        } else if self.departures - self.departures_at_warmup_end >= self.cfg.measured_requests {
            self.stop = Some(StopReason::Target);
        }
    }

    fn begin_measurement(&mut self) {
        self.measuring = true;
        self.warmup_end = self.now;
        self.departures_at_warmup_end = self.departures;
        let now = self.now;
        self.in_system.restart(now);
        for s in &mut self.stations {
            s.present.restart(now);
            s.busy.restart(now);
        }
        for r in &mut self.resources.states {
            r.held_avg.restart(now);
            r.line.avg.restart(now);
            r.line.wait.restart();
        }
        for p in &mut self.pools.states {
            p.restart(now);
        }
        for s in &mut self.stations {
            match &mut s.kind {
                station::StationKind::GroupCommit(g) => {
                    g.flushes = 0;
                    g.commits = 0;
                }
                station::StationKind::Fcfs(f) => f.wait.restart(),
                _ => {}
            }
        }
    }

    fn finish(mut self) -> RunStats {
        let now = self.now;
        let window_ns = now.saturating_sub(self.warmup_end);
        let measured = self.measuring;
        let mean = |t: &TimeAverage| if measured { t.mean(now) } else { f64::NAN };
        let mut db = std::mem::take(&mut self.db);
        for s in &self.stations {
            if let station::StationKind::GroupCommit(g) = &s.kind {
                db.flushes += g.flushes;
                db.flushed_commits += g.commits;
            }
        }
        db.pools = self
            .pools
            .states
            .iter()
            .map(|p| PoolStats {
                mean_held: mean(&p.held_avg),
                mean_open: mean(&p.open_avg),
                max_open: p.max_open,
                mean_waiting: mean(&p.line.avg),
                reserve_opened: p.reserve_opened,
                wait: p.line.wait.summary(),
            })
            .collect();
        for g in &self.model.db.memory {
            let units = match g.source {
                GaugeSource::Resource(r) => mean(&self.resources.states[r as usize].held_avg),
                GaugeSource::PoolOpen(p) => db.pools[p as usize].mean_open,
            };
            db.connections += units;
            db.connection_memory_mb += units * g.mb_per_unit;
        }
        let per_type_response = if self.model.request_types.len() == 1 {
            vec![self.response.clone()]
        } else {
            std::mem::take(&mut self.per_type_response)
        };
        RunStats {
            stop: self.stop.unwrap_or(StopReason::Target),
            events: self.events,
            warmup_departures: self.departures_at_warmup_end,
            preplaced: self.preplaced,
            warmup_s: self.warmup_end as f64 / 1e9,
            window_s: if measured {
                window_ns as f64 / 1e9
            } else {
                0.0
            },
            started: self.started,
            completed: self.completed,
            errors: self.errors,
            response: self.response,
            response_sum_ns: self.response_sum_ns,
            sojourn_sum_ns: self.sojourn_sum_ns,
            mean_in_system: mean(&self.in_system),
            per_type: self.per_type,
            per_type_response,
            stations: self
                .stations
                .iter()
                .map(|s| {
                    let servers = s.servers();
                    StationStats {
                        mean_present: mean(&s.present),
                        mean_busy: servers.map(|_| mean(&s.busy)),
                        utilisation: servers.map(|c| mean(&s.busy) / c),
                        wait: match &s.kind {
                            station::StationKind::Fcfs(f) => Some(f.wait.summary()),
                            _ => None,
                        },
                    }
                })
                .collect(),
            resources: self
                .resources
                .states
                .iter()
                .map(|r| ResourceStats {
                    mean_held: mean(&r.held_avg),
                    utilisation: mean(&r.held_avg) / r.capacity() as f64,
                    mean_waiting: mean(&r.line.avg),
                    wait: r.line.wait.summary(),
                })
                .collect(),
            total_started: self.total_started,
            total_completed: self.total_completed,
            total_errored: self.total_errored,
            in_flight_at_end: self.live,
            cache_lookups: self.cache_lookups,
            cache_hits: self.cache_hits,
            replication: self.replication,
            db,
        }
    }
}
