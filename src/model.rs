//! The compiled, immutable form of one phase: stations, passive resources and
//! request plans. The engine interprets it; architectures compile into it.
//!
//! Keeping this vocabulary small is what lets SQLite, PostgreSQL, poolers and
//! caches share one engine: a new architecture is a new compiler, not a new engine.

use crate::dist::Dist;

/// Index of an active station in [`Model::stations`].
pub type StationId = u32;
/// Index of a passive resource in [`Model::resources`].
pub type ResourceId = u32;

/// Passive resources are tracked per request in a 64-bit mask.
pub const MAX_RESOURCES: usize = 64;

/// How an active station shares its servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    /// `servers` identical servers, one queue, first come first served.
    Fcfs,
    /// Processor sharing over `servers` cores: with n jobs present each
    /// progresses at rate min(1, servers / n) — how an OS shares CPU cores.
    ProcessorSharing,
    /// Infinite servers: every job is served at once (network, sleeps).
    Delay,
    /// A disk that flushes a log with group commit: a job that arrives while
    /// a flush is under way waits for the next one, and the next flush covers
    /// every job waiting for it (PostgreSQL's WAL). See `engine::group_commit`.
    GroupCommit,
}

/// An active station: does work and takes time.
#[derive(Clone, Debug)]
pub struct Station {
    pub name: String,
    pub discipline: Discipline,
    /// Number of servers or cores (ignored for `Delay`).
    pub servers: u32,
    /// Processor sharing only: throughput lost per job present beyond the
    /// cores (0 = none). See [`Discipline::ProcessorSharing`] and
    /// `engine::station::PsStation::rate`.
    pub contention: f64,
}

/// What happens to a request that finds a passive resource busy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaitPolicy {
    /// Most requests allowed to wait; one more is refused at once.
    /// `None`: unbounded. `Some(0)`: a loss system (Erlang B).
    pub max_waiting: Option<u32>,
    /// Longest wait before the request fails with a timeout error.
    pub timeout_ns: Option<u64>,
}

/// A passive resource: held while other work happens (a worker, a connection).
#[derive(Clone, Debug)]
pub struct Resource {
    pub name: String,
    pub capacity: u32,
    pub policy: WaitPolicy,
}

/// One step of a request plan.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Take one unit of a passive resource, waiting by its policy.
    Acquire(ResourceId),
    /// Give one unit back.
    Release(ResourceId),
    /// Receive service at an active station.
    Use {
        station: StationId,
        demand: Dist,
    },
    /// Pure delay outside any station (think of a client-side pause).
    Delay(Dist),
    /// With probability `p` jump to step `to` (an index within the plan),
    /// otherwise fall through.
    Branch {
        p: f64,
        to: u32,
    },
    // ---- Database mechanisms (src/engine/{busy_lock,row_locks,server_pool}.rs).
    /// Take SQLite's file lock `lock` (an index in [`DbParts::sqlite_locks`])
    /// in `mode`; on conflict sleep on SQLite's busy-handler schedule and
    /// retry, failing with `busy` once the busy timeout is spent.
    SqliteLock {
        lock: u32,
        mode: SqliteMode,
    },
    /// Drop every level of `lock` this request holds.
    SqliteUnlock(u32),
    /// Lock the row of the request's key in table `table` (an index in
    /// [`DbParts::row_tables`]); waiters queue FIFO per row, without timeout.
    RowLock(u32),
    RowUnlock(u32),
    /// Borrow a server connection from pooler pool `pool` (an index in
    /// [`DbParts::pools`]).
    PoolAcquire(u32),
    PoolRelease(u32),
}

/// Levels of SQLite's file lock a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqliteMode {
    /// A reader (rollback-journal mode): shares the file with other readers
    /// and with a writer that has not started to commit.
    Shared,
    /// A writer's `BEGIN IMMEDIATE`: one writer at a time (in WAL mode this is
    /// the WAL write lock).
    Reserved,
    /// A rollback-journal writer's commit: stops new readers (PENDING) and
    /// waits until the readers present have left. Needs `Reserved` first.
    Exclusive,
}

/// SQLite's lock on one database file.
#[derive(Clone, Debug)]
pub struct SqliteLockSpec {
    pub name: String,
    /// `PRAGMA busy_timeout`: total sleep before SQLITE_BUSY.
    pub busy_timeout_ns: u64,
}

/// A pooler's pool of server connections to one database (PgBouncer).
#[derive(Clone, Debug)]
pub struct ServerPoolSpec {
    pub name: String,
    /// Connections any waiting client may use (`default_pool_size`, capped).
    pub size: u32,
    /// Connections opened at start (`min_pool_size`).
    pub min_open: u32,
    /// Extra connections for clients that waited `reserve_timeout_ns`.
    pub reserve: u32,
    pub reserve_timeout_ns: u64,
    /// `query_wait_timeout`: longest wait before the client gets an error.
    pub wait_timeout_ns: Option<u64>,
    /// Time to open a new server connection (a PostgreSQL backend).
    pub connect: Dist,
}

/// What an open connection costs in memory, for the report.
#[derive(Clone, Copy, Debug)]
pub struct MemoryGauge {
    pub source: GaugeSource,
    pub mb_per_unit: f64,
}

#[derive(Clone, Copy, Debug)]
pub enum GaugeSource {
    /// Units held of a passive resource (direct connections).
    Resource(ResourceId),
    /// Server connections open in a pool, idle or not.
    PoolOpen(u32),
}

/// Most SQLite locks, row-lock tables and server pools per model: each
/// request tracks the ones it holds in 16-bit fields of one mask.
pub const MAX_DB_PARTS: usize = 16;

/// The database mechanisms of a model that are not plain stations or
/// resources. Empty for models without a database.
#[derive(Clone, Debug, Default)]
pub struct DbParts {
    pub sqlite_locks: Vec<SqliteLockSpec>,
    /// Names of row-lock tables (one per PostgreSQL server).
    pub row_tables: Vec<String>,
    pub pools: Vec<ServerPoolSpec>,
    pub memory: Vec<MemoryGauge>,
}

/// A named request type of the workload with its share of requests.
#[derive(Clone, Debug)]
pub struct RequestType {
    pub name: String,
    /// Probability that a new request is of this type.
    pub weight: f64,
    /// Alternative plans (for example one per app host); consecutive requests
    /// of this type take them in round-robin order, like a load balancer.
    pub plans: Vec<Plan>,
}

/// A contiguous range of [`Model::steps`].
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub first: u32,
    pub len: u32,
}

/// Where requests come from.
#[derive(Clone, Copy, Debug)]
pub enum Population {
    /// N users, each thinking for `think` between a response and its next request.
    Closed { think: Dist },
    /// Poisson arrivals at a fixed rate, independent of the system (validation).
    Open { rate_per_s: f64 },
}

/// The rows (or cache keys) requests touch, and how popular each is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    /// Number of distinct keys.
    pub count: u32,
    /// Zipf exponent: key of rank k is drawn with probability ∝ 1/k^s
    /// (0 = uniform). Key 0 is the most popular.
    pub zipf: f64,
}

/// An immutable compiled phase, shared by every run of that phase.
#[derive(Clone, Debug)]
pub struct Model {
    pub stations: Vec<Station>,
    pub resources: Vec<Resource>,
    pub steps: Vec<Step>,
    pub request_types: Vec<RequestType>,
    pub population: Population,
    /// Key popularity; every request draws one key when it starts.
    pub keys: Option<KeySpace>,
    /// SQLite locks, row locks, pooler pools.
    pub db: DbParts,
}

impl Model {
    /// Steps of a plan.
    pub fn plan_steps(&self, plan: Plan) -> &[Step] {
        &self.steps[plan.first as usize..(plan.first + plan.len) as usize]
    }

    /// Mean service demand per request at each station (D_k = V_k · S_k),
    /// averaged over request types and their plan variants, in seconds.
    ///
    /// Branches are followed with their probabilities; plans are acyclic
    /// (branches only jump forward, checked by `validate`).
    pub fn station_demands_s(&self) -> Vec<f64> {
        let mut d = vec![0.0; self.stations.len()];
        for rt in &self.request_types {
            let share = rt.weight / rt.plans.len() as f64;
            for &plan in &rt.plans {
                let steps = self.plan_steps(plan);
                // Probability of reaching each step.
                let mut reach = vec![0.0; steps.len() + 1];
                reach[0] = 1.0;
                for (i, step) in steps.iter().enumerate() {
                    let r = reach[i];
                    match *step {
                        Step::Branch { p, to } => {
                            reach[to as usize] += r * p;
                            reach[i + 1] += r * (1.0 - p);
                        }
                        Step::Use { station, demand } => {
                            d[station as usize] += share * r * demand.mean_ns() / 1e9;
                            reach[i + 1] += r;
                        }
                        _ => reach[i + 1] += r,
                    }
                }
            }
        }
        d
    }

    /// Check the structural rules the engine relies on. Compilers produce
    /// valid models; this guards hand-written networks and future compilers.
    pub fn validate(&self) -> Result<(), String> {
        if self.resources.len() > MAX_RESOURCES {
            return Err(format!(
                "{} passive resources; at most {MAX_RESOURCES} are supported",
                self.resources.len()
            ));
        }
        let db = &self.db;
        if db.sqlite_locks.len() > MAX_DB_PARTS
            || db.row_tables.len() > MAX_DB_PARTS
            || db.pools.len() > MAX_DB_PARTS
        {
            return Err(format!(
                "at most {MAX_DB_PARTS} SQLite files, PostgreSQL servers and pooler pools each"
            ));
        }
        if self.request_types.is_empty() {
            return Err("no request types".into());
        }
        for s in &self.stations {
            if s.discipline != Discipline::Delay && s.servers == 0 {
                return Err(format!("station `{}` has no servers", s.name));
            }
        }
        for r in &self.resources {
            if r.capacity == 0 {
                return Err(format!("resource `{}` has capacity 0", r.name));
            }
        }
        for rt in &self.request_types {
            if rt.plans.is_empty() {
                return Err(format!("request type `{}` has no plan", rt.name));
            }
            for &plan in &rt.plans {
                let mut held = 0u64;
                for (i, step) in self.plan_steps(plan).iter().enumerate() {
                    match *step {
                        Step::Acquire(r) if (r as usize) < self.resources.len() => {
                            if held & (1 << r) != 0 {
                                return Err(format!(
                                    "request `{}` acquires `{}` twice",
                                    rt.name, self.resources[r as usize].name
                                ));
                            }
                            held |= 1 << r;
                        }
                        Step::Release(r) if (r as usize) < self.resources.len() => {
                            held &= !(1 << r);
                        }
                        Step::Use { station, .. } if (station as usize) < self.stations.len() => {}
                        Step::Branch { p, to } => {
                            if !(0.0..=1.0).contains(&p) || to as usize <= i || to > plan.len {
                                return Err(format!(
                                    "request `{}` has a branch at step {i} that does not jump forward within its plan",
                                    rt.name
                                ));
                            }
                        }
                        Step::Delay(_) => {}
                        Step::SqliteLock { lock: x, .. } | Step::SqliteUnlock(x)
                            if (x as usize) < self.db.sqlite_locks.len() => {}
                        Step::RowLock(x) | Step::RowUnlock(x)
                            if (x as usize) < self.db.row_tables.len() && self.keys.is_some() => {}
                        Step::PoolAcquire(x) | Step::PoolRelease(x)
                            if (x as usize) < self.db.pools.len() => {}
                        _ => {
                            return Err(format!(
                                "request `{}` names a station or resource that does not exist (or locks rows without a key space)",
                                rt.name
                            ))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
