//! The compiled, immutable form of one phase: stations, passive resources and
//! request plans. The engine interprets it; architectures compile into it.
//!
//! Keeping this vocabulary small is what lets SQLite, PostgreSQL, poolers and
//! caches share one engine: a new architecture is a new compiler, not a new engine.

use crate::dist::Dist;
pub use crate::key_popularity::{KeyPopularity, KeySpace};

/// Index of an active station in [`Model::stations`].
pub type StationId = u32;
/// Index of a passive resource in [`Model::resources`].
pub type ResourceId = u32;

/// The set of passive resources one request holds, one bit per resource
/// (the engine's `Held`). Its width is the model's limit: the limit is
/// derived from the type, so the two cannot disagree.
pub type ResourceSet = u64;
/// Most passive resources per model (checked by [`Model::validate`]).
pub const MAX_RESOURCES: usize = ResourceSet::BITS as usize;

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
    GroupCommit {
        /// Flush time added per commit a flush covers beyond the first, in
        /// ns: the log records of more commits take longer to write.
        per_commit_ns: u64,
        /// The next flush begins only when the commit that led this one is
        /// back on a core and takes its [`Step::FlushRelease`]; until then the
        /// commits it covered wait too.
        leader_releases: bool,
    },
    /// `servers` cores shared in time slices, as an operating system shares
    /// them among processes: a job runs for up to `quantum_ns` and then, if
    /// others wait, goes to the back of the run queue; a core switching to
    /// another job spends `switch_ns` first. See `engine::time_slice`.
    TimeSliced {
        /// The scheduler's quantum, in ns.
        quantum_ns: u64,
        /// One context switch, in ns (the switch and the cache it loses).
        switch_ns: u64,
    },
}

/// An active station: does work and takes time.
#[derive(Clone, Debug)]
pub struct Station {
    /// The station's name, as the scenario and the report spell it.
    pub name: String,
    /// How its servers are shared among the jobs present.
    pub discipline: Discipline,
    /// Number of servers or cores (ignored for `Delay`).
    pub servers: u32,
    /// Processor sharing and time slices: throughput lost per job present
    /// beyond the cores (0 = none). See [`Discipline::ProcessorSharing`],
    /// `engine::station::PsStation::rate` and `engine::time_slice`.
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
    /// The resource's name, as the scenario and the report spell it.
    pub name: String,
    /// Units that can be held at once (workers, connections).
    pub capacity: u32,
    /// What a request that finds every unit held does.
    pub policy: WaitPolicy,
}

/// One step of a request plan.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Take one unit of a passive resource, waiting by its policy.
    Acquire(ResourceId),
    /// Give one unit back.
    Release(ResourceId),
    /// Back on a core after a group-commit flush at `station`: the commit
    /// that led the flush lets the next one begin and its followers finish
    /// (PostgreSQL's flushing backend releasing WALWriteLock). A no-op for
    /// anyone else.
    FlushRelease(StationId),
    /// Take one unit of `resource` for the rest of the user's life — a
    /// connection opened once and kept for the session (pgbench's clients,
    /// an app's persistent connections) — unless the user holds one already.
    /// It is never given back. A user refused one fails its request
    /// (`Refused`) and, with `abort`, stops for good, as a pgbench client
    /// does; otherwise it tries again with its next request, as an app that
    /// returns an error does. Closed populations only.
    Connect {
        /// The resource (its units are the connections).
        resource: ResourceId,
        /// Whether a refused user stops for good.
        abort: bool,
    },
    /// Receive service at an active station.
    Use {
        /// The station that serves it.
        station: StationId,
        /// Service time at one server, in ns.
        demand: Dist,
    },
    /// Pure delay outside any station (think of a client-side pause).
    Delay(Dist),
    /// With probability `p` jump to step `to` (an index within the plan),
    /// otherwise fall through.
    Branch {
        /// Probability of the jump, 0–1.
        p: f64,
        /// The step jumped to, plan-relative.
        to: u32,
    },
    // --- Scaling tier: replicas, caches, shards (engine/switch.rs, replay.rs, cache.rs).
    /// Choose one of `n` targets: the next `n` steps are jumps
    /// (`Branch { p: 1.0, .. }`), one per target; the request continues at the
    /// chosen one. Routes a read to a replica or a request to its shard.
    Switch {
        /// How the target is chosen.
        by: SwitchBy,
        /// Number of targets (and of jump steps that follow).
        n: u32,
    },
    /// The write just committed on a primary is shipped to replica group
    /// `group` and queued there for replay costing `replay`. Background work:
    /// the request does not wait for it and it is not a request.
    Ship {
        /// The replica group, an index in [`Scaling::replica_groups`].
        group: u32,
        /// Time the replicas spend replaying the write, in ns.
        replay: Dist,
    },
    /// A read about to run on a replica of `group`: it is stale if this user
    /// wrote the same key and the replicas have not replayed that write yet.
    ReplicaRead {
        /// The replica group, an index in [`Scaling::replica_groups`].
        group: u32,
    },
    /// Look the request's key up in cache `cache`; on a hit jump to step
    /// `hit_to` (plan-relative, forward), on a miss fall through.
    CacheLookup {
        /// The cache, an index in [`Scaling::caches`].
        cache: u32,
        /// The step a hit jumps to, plan-relative.
        hit_to: u32,
    },
    /// Store the request's key in cache `cache` (after a miss was served).
    CacheFill {
        /// The cache, an index in [`Scaling::caches`].
        cache: u32,
    },
    /// Delete the request's key from cache `cache` (a write invalidates it).
    CacheInvalidate {
        /// The cache, an index in [`Scaling::caches`].
        cache: u32,
    },
    // ---- Database mechanisms (src/engine/{busy_lock,row_locks,server_pool}.rs).
    /// Take SQLite's file lock `lock` (an index in [`DbParts::sqlite_locks`])
    /// in `mode`; on conflict sleep on SQLite's busy-handler schedule and
    /// retry, failing with `busy` once the busy timeout is spent.
    SqliteLock {
        /// The lock, an index in [`DbParts::sqlite_locks`].
        lock: u32,
        /// The level asked for.
        mode: SqliteMode,
    },
    /// Drop every level of `lock` this request holds; a writer's drop is its
    /// commit, which every other connection's next snapshot sees.
    SqliteUnlock(u32),
    /// A SQLite transaction's statements on the app's cores: `Use` of
    /// `station` for `demand`, plus the file's `reread_ns` when another
    /// connection (another user) has committed to database `lock` since this
    /// user's last transaction began (SQLite then emptied this connection's
    /// page cache: its pages are read back; `defaults::SQLITE_REREAD_MS`).
    SqliteStatements {
        /// The station that serves them (the app host's cores).
        station: StationId,
        /// The database file, an index in [`DbParts::sqlite_locks`].
        lock: u16,
        /// Their time at one server, in ns, with a valid page cache.
        demand: Dist,
    },
    /// Lock the row of the request's key in table `table` (an index in
    /// [`DbParts::row_tables`]); waiters queue FIFO per row, without timeout.
    RowLock(u32),
    /// Unlock the row of the request's key in table `table`, handing it to
    /// the next waiter for that row.
    RowUnlock(u32),
    /// Borrow a server connection from pooler pool `pool` (an index in
    /// [`DbParts::pools`]).
    PoolAcquire(u32),
    /// Give the server connection borrowed from pool `pool` back (at the end
    /// of a transaction in transaction mode, of the session in session mode).
    PoolRelease(u32),
}

/// How a [`Step::Switch`] chooses its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchBy {
    /// By a fixed hash of the request's key: the same key always goes to the
    /// same target (hash sharding).
    KeyHash,
    /// In turn, with round-robin counter `counter` of the run (reads spread
    /// over replicas).
    RoundRobin {
        /// The counter, an index below [`Scaling::counters`].
        counter: u32,
    },
}

/// What a cache keeps and for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CachePolicy {
    /// Every lookup hits with probability `hit_ratio`, whatever the key
    /// (the guides' "80% cache hits").
    Fixed {
        /// Probability that a lookup hits, 0–1.
        hit_ratio: f64,
    },
    /// Keys cached on a miss, evicted least-recently-used beyond `capacity`
    /// entries, expired `ttl_ns` after they were stored. Needs a key space.
    Lru {
        /// Most entries kept.
        capacity: u32,
        /// Lifetime of an entry, in ns; `None`: entries do not expire.
        ttl_ns: Option<u64>,
    },
}

/// One cache instance (a Redis server, or one app host's local cache).
#[derive(Clone, Debug)]
pub struct CacheSpec {
    /// The cache's name, as the scenario and the report spell it.
    pub name: String,
    /// What it keeps and for how long.
    pub policy: CachePolicy,
}

/// Replicas that replay one primary's writes. Replicas of a group receive
/// the same WAL and replay it at the same cost, so they share one replay position.
#[derive(Clone, Debug)]
pub struct ReplicaGroup {
    /// The group's name, as the scenario and the report spell it.
    pub name: String,
    /// Time from a commit on the primary until the replicas receive it.
    pub ship_delay_ns: u64,
}

/// The scaling tier's run-time state a model needs: caches, replica groups,
/// round-robin counters. Empty for a single database.
#[derive(Clone, Debug, Default)]
pub struct Scaling {
    /// The caches, indexed by the `cache` of cache steps.
    pub caches: Vec<CacheSpec>,
    /// The replica groups, indexed by the `group` of [`Step::Ship`] and
    /// [`Step::ReplicaRead`].
    pub replica_groups: Vec<ReplicaGroup>,
    /// Number of round-robin counters ([`SwitchBy::RoundRobin`]).
    pub counters: u32,
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
    /// The database file's name, as the scenario and the report spell it.
    pub name: String,
    /// `PRAGMA busy_timeout`: total sleep before SQLITE_BUSY.
    pub busy_timeout_ns: u64,
    /// What a transaction's statements take more, in ns, when another
    /// connection has committed since its connection's last transaction
    /// (`database.reread_ms`; 0: never).
    pub reread_ns: u64,
}

/// A pooler's pool of server connections to one database (PgBouncer).
#[derive(Clone, Debug)]
pub struct ServerPoolSpec {
    /// The pool's name, as the scenario and the report spell it.
    pub name: String,
    /// Connections any waiting client may use (`default_pool_size`, capped).
    pub size: u32,
    /// Connections opened at start (`min_pool_size`).
    pub min_open: u32,
    /// Extra connections for clients that waited `reserve_timeout_ns`.
    pub reserve: u32,
    /// `reserve_pool_timeout`: how long a client waits, in ns, before it may
    /// use a reserve connection.
    pub reserve_timeout_ns: u64,
    /// `query_wait_timeout`: longest wait before the client gets an error.
    pub wait_timeout_ns: Option<u64>,
    /// Time to open a new server connection (a PostgreSQL backend).
    pub connect: Dist,
}

/// What an open connection costs in memory, for the report.
#[derive(Clone, Copy, Debug)]
pub struct MemoryGauge {
    /// What is counted: connections held or open.
    pub source: GaugeSource,
    /// Memory per counted connection, in MB.
    pub mb_per_unit: f64,
}

/// What a [`MemoryGauge`] counts.
#[derive(Clone, Copy, Debug)]
pub enum GaugeSource {
    /// Units held of a passive resource (direct connections).
    Resource(ResourceId),
    /// Server connections open in a pool, idle or not.
    PoolOpen(u32),
}

/// The set of SQLite locks, of server pools or of row-lock tables one request
/// holds, one bit per part (the engine's `Held` keeps one set per kind).
/// 32 bits: one per shard at the loader's limit of 32 shards.
pub type DbPartSet = u32;
/// Most SQLite locks, row-lock tables and server pools per model, each
/// (checked by [`Model::validate`]); derived from the set's width.
pub const MAX_DB_PARTS: usize = DbPartSet::BITS as usize;

/// The database mechanisms of a model that are not plain stations or
/// resources. Empty for models without a database.
#[derive(Clone, Debug, Default)]
pub struct DbParts {
    /// SQLite's file locks, one per database file.
    pub sqlite_locks: Vec<SqliteLockSpec>,
    /// Names of row-lock tables (one per PostgreSQL server).
    pub row_tables: Vec<String>,
    /// Pooler pools of server connections, one per database.
    pub pools: Vec<ServerPoolSpec>,
    /// What the connections cost in memory, for the report.
    pub memory: Vec<MemoryGauge>,
}

/// A named request type of the workload with its share of requests.
#[derive(Clone, Debug)]
pub struct RequestType {
    /// The type's name, as the scenario and the report spell it.
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
    /// Index of its first step in [`Model::steps`].
    pub first: u32,
    /// Number of steps.
    pub len: u32,
}

/// Where requests come from.
#[derive(Clone, Copy, Debug)]
pub enum Population {
    /// N users, each thinking for `think` between a response and its next request.
    Closed {
        /// Think time between a response and the next request, in ns.
        think: Dist,
    },
    /// Poisson arrivals at a fixed rate, independent of the system (validation).
    Open {
        /// Arrival rate, per second.
        rate_per_s: f64,
    },
}

/// An immutable compiled phase, shared by every run of that phase.
#[derive(Clone, Debug)]
pub struct Model {
    /// The active stations, indexed by [`StationId`].
    pub stations: Vec<Station>,
    /// The passive resources, indexed by [`ResourceId`].
    pub resources: Vec<Resource>,
    /// Every plan's steps, back to back; a [`Plan`] is a range of them.
    pub steps: Vec<Step>,
    /// The workload's request types, with their plans.
    pub request_types: Vec<RequestType>,
    /// Where requests come from: closed users or open arrivals.
    pub population: Population,
    /// Key popularity; every request draws one key when it starts.
    pub keys: Option<KeyPopularity>,
    /// Caches, replica groups and routing counters the plans refer to.
    pub scaling: Scaling,
    /// SQLite locks, row locks, pooler pools.
    pub db: DbParts,
}

impl Model {
    /// A hand-built network: request type `i` is `requests[i]` (its name
    /// and weight) and runs `plans[i]`. The loader also builds one to check
    /// a network's plans, so this lives below both it and the compilers.
    pub fn network(
        stations: Vec<Station>,
        resources: Vec<Resource>,
        plans: &[Vec<Step>],
        requests: impl IntoIterator<Item = (String, f64)>,
        population: Population,
        keys: Option<KeySpace>,
    ) -> Model {
        let mut steps = Vec::new();
        let request_types = requests
            .into_iter()
            .zip(plans)
            .map(|((name, weight), plan)| {
                let first = steps.len() as u32;
                steps.extend_from_slice(plan);
                RequestType {
                    name,
                    weight,
                    plans: vec![Plan {
                        first,
                        len: plan.len() as u32,
                    }],
                }
            })
            .collect();
        Model {
            stations,
            resources,
            steps,
            request_types,
            population,
            keys: keys.map(KeyPopularity::new),
            scaling: Default::default(),
            db: Default::default(),
        }
    }

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
                let reach = self.reach_probabilities(steps);
                for (step, r) in steps.iter().zip(&reach) {
                    if let Some((station, ns)) = self.step_demand_ns(step) {
                        d[station as usize] += share * r * ns / 1e9;
                    }
                }
            }
        }
        d
    }

    /// The station a step serves at and its mean demand there, in ns. A
    /// SQLite transaction's statements count their pages read back every
    /// time (whether another connection committed is only known in the run:
    /// an upper bound).
    pub fn step_demand_ns(&self, step: &Step) -> Option<(StationId, f64)> {
        match *step {
            Step::Use { station, demand } => Some((station, demand.mean_ns())),
            Step::SqliteStatements {
                station,
                lock,
                demand,
            } => {
                let reread = self
                    .db
                    .sqlite_locks
                    .get(lock as usize)
                    .map_or(0, |l| l.reread_ns);
                Some((station, demand.mean_ns() + reread as f64))
            }
            _ => None,
        }
    }

    /// Probability that a request following `steps` (one plan) reaches each
    /// step, the end included. Plans only jump forward, so one pass suffices.
    pub fn reach_probabilities(&self, steps: &[Step]) -> Vec<f64> {
        let mut reach = vec![0.0; steps.len() + 1];
        reach[0] = 1.0;
        for (i, step) in steps.iter().enumerate() {
            let r = reach[i];
            match *step {
                Step::Branch { p, to } => {
                    reach[(to as usize).min(steps.len())] += r * p;
                    reach[i + 1] += r * (1.0 - p);
                }
                // Targets of a switch are taken evenly (exact for round
                // robin, the mean over keys for uniform keys).
                Step::Switch { n, .. } => {
                    for k in 1..=n as usize {
                        reach[(i + k).min(steps.len())] += r / n as f64;
                    }
                }
                Step::CacheLookup { cache, hit_to } => {
                    // An emergent hit ratio is unknown before the run:
                    // count every lookup as a miss (an upper bound).
                    let hit = match self.scaling.caches.get(cache as usize) {
                        Some(CacheSpec {
                            policy: CachePolicy::Fixed { hit_ratio },
                            ..
                        }) => *hit_ratio,
                        _ => 0.0,
                    };
                    reach[(hit_to as usize).min(steps.len())] += r * hit;
                    reach[i + 1] += r * (1.0 - hit);
                }
                _ => reach[i + 1] += r,
            }
        }
        reach
    }

    /// Check the structural rules the engine relies on. Compilers produce
    /// valid models; this guards hand-written networks and future compilers.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.resources.len() > MAX_RESOURCES {
            return Err(ModelError::TooMany {
                count: self.resources.len(),
                what: "passive resources",
                max: MAX_RESOURCES,
            });
        }
        let db = &self.db;
        for (n, what) in [
            (db.sqlite_locks.len(), "SQLite database files"),
            (
                db.row_tables.len(),
                "PostgreSQL servers with row locks (shards and replicas count one each)",
            ),
            (db.pools.len(), "pooler pools"),
        ] {
            if n > MAX_DB_PARTS {
                return Err(ModelError::TooMany {
                    count: n,
                    what,
                    max: MAX_DB_PARTS,
                });
            }
        }
        if self.request_types.is_empty() {
            return Err(ModelError::NoRequestTypes);
        }
        for s in &self.stations {
            if s.discipline != Discipline::Delay && s.servers == 0 {
                return Err(ModelError::NoServers(s.name.clone()));
            }
        }
        for r in &self.resources {
            if r.capacity == 0 {
                return Err(ModelError::ZeroCapacity(r.name.clone()));
            }
        }
        for rt in &self.request_types {
            if rt.plans.is_empty() {
                return Err(ModelError::NoPlan(rt.name.clone()));
            }
            for &plan in &rt.plans {
                // The sets of resources a request may hold on reaching each
                // step, over every branch path (branches only jump forward, so
                // one pass in step order sees every path).
                let steps = self.plan_steps(plan);
                let mut reaching: Vec<Vec<u64>> = vec![Vec::new(); steps.len() + 1];
                reaching[0].push(0);
                for (i, step) in steps.iter().enumerate() {
                    let here = std::mem::take(&mut reaching[i]);
                    let mut next = Vec::with_capacity(here.len());
                    let mut jump = None;
                    match *step {
                        Step::Acquire(r) if (r as usize) < self.resources.len() => {
                            if here.iter().any(|h| h & (1 << r) != 0) {
                                // Waiting for a unit it holds itself: a deadlock.
                                return Err(ModelError::AcquiredTwice {
                                    request: rt.name.clone(),
                                    resource: self.resources[r as usize].name.clone(),
                                });
                            }
                            next.extend(here.iter().map(|h| h | (1 << r)));
                        }
                        Step::Release(r) if (r as usize) < self.resources.len() => {
                            next.extend(here.iter().map(|h| h & !(1 << r)));
                        }
                        Step::Branch { to, .. } | Step::CacheLookup { hit_to: to, .. }
                            if to as usize > i && to <= plan.len =>
                        {
                            next.extend_from_slice(&here);
                            jump = Some(to as usize);
                        }
                        _ => next.extend_from_slice(&here),
                    }
                    // A certain jump (a switch's table) never falls through.
                    let falls_through = !matches!(*step, Step::Branch { p, .. } if p >= 1.0);
                    let fall = falls_through.then_some(i + 1);
                    for (target, masks) in [(fall, next.clone()), (jump, next)] {
                        if let Some(t) = target {
                            for m in masks {
                                if !reaching[t].contains(&m) {
                                    reaching[t].push(m);
                                }
                            }
                        }
                    }
                    reaching[i] = here;
                }
                for (i, step) in steps.iter().enumerate() {
                    match *step {
                        Step::Acquire(r) | Step::Release(r) | Step::Connect { resource: r, .. }
                            if (r as usize) < self.resources.len() => {}
                        Step::Use { station, .. } | Step::FlushRelease(station)
                            if (station as usize) < self.stations.len() => {}
                        Step::Branch { p, to } => {
                            if !(0.0..=1.0).contains(&p) || to as usize <= i || to > plan.len {
                                return Err(ModelError::BranchBackwards {
                                    request: rt.name.clone(),
                                    step: i,
                                });
                            }
                        }
                        Step::Delay(_) => {}
                        Step::Switch { n, .. } => {
                            let targets = self.plan_steps(plan).get(i + 1..=i + n as usize);
                            let all_jumps = targets.is_some_and(|t| {
                                t.iter()
                                    .all(|s| matches!(s, Step::Branch { p, .. } if *p >= 1.0))
                            });
                            if n == 0 || !all_jumps {
                                return Err(ModelError::SwitchWithoutJumps {
                                    request: rt.name.clone(),
                                    step: i,
                                    n,
                                });
                            }
                        }
                        Step::Ship { group, .. } | Step::ReplicaRead { group }
                            if (group as usize) < self.scaling.replica_groups.len() => {}
                        Step::CacheLookup { cache, hit_to }
                            if (cache as usize) < self.scaling.caches.len() =>
                        {
                            if hit_to as usize <= i || hit_to > plan.len {
                                return Err(ModelError::CacheHitBackwards {
                                    request: rt.name.clone(),
                                    step: i,
                                });
                            }
                        }
                        Step::CacheFill { cache } | Step::CacheInvalidate { cache }
                            if (cache as usize) < self.scaling.caches.len() => {}
                        Step::SqliteLock { lock: x, .. } | Step::SqliteUnlock(x)
                            if (x as usize) < self.db.sqlite_locks.len() => {}
                        Step::SqliteStatements { station, lock, .. }
                            if (station as usize) < self.stations.len()
                                && (lock as usize) < self.db.sqlite_locks.len() => {}
                        Step::RowLock(x) | Step::RowUnlock(x)
                            if (x as usize) < self.db.row_tables.len() && self.keys.is_some() => {}
                        Step::PoolAcquire(x) | Step::PoolRelease(x)
                            if (x as usize) < self.db.pools.len() => {}
                        _ => return Err(ModelError::Dangling(rt.name.clone())),
                    }
                }
            }
        }
        Ok(())
    }
}

/// Why a model cannot be simulated: a structural rule the engine relies on
/// is broken.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// More parts of one kind than the engine tracks per request.
    #[error("{count} {what}; at most {max} are supported")]
    TooMany {
        /// How many the model has.
        count: usize,
        /// What they are.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// The workload has no request types.
    #[error("no request types")]
    NoRequestTypes,
    /// A queueing station without servers.
    #[error("station `{0}` has no servers")]
    NoServers(String),
    /// A passive resource without units.
    #[error("resource `{0}` has capacity 0")]
    ZeroCapacity(String),
    /// A request type without a plan.
    #[error("request type `{0}` has no plan")]
    NoPlan(String),
    /// A branch path acquires a resource the request already holds: a
    /// deadlock.
    #[error("request `{request}` may acquire `{resource}` twice")]
    AcquiredTwice {
        /// The request type.
        request: String,
        /// The resource.
        resource: String,
    },
    /// A branch that does not jump forward within its plan.
    #[error("request `{request}` has a branch at step {step} that does not jump forward within its plan")]
    BranchBackwards {
        /// The request type.
        request: String,
        /// The step.
        step: usize,
    },
    /// A switch not followed by its table of jumps.
    #[error("request `{request}` has a switch at step {step} not followed by {n} jumps")]
    SwitchWithoutJumps {
        /// The request type.
        request: String,
        /// The step.
        step: usize,
        /// The size of its table.
        n: u32,
    },
    /// A cache lookup whose hit does not jump forward.
    #[error("request `{request}` has a cache lookup at step {step} whose hit does not jump forward within its plan")]
    CacheHitBackwards {
        /// The request type.
        request: String,
        /// The step.
        step: usize,
    },
    /// A step names a part the model does not have.
    #[error("request `{0}` names a station, resource, cache, replica group or database part that does not exist (or locks rows without a key space)")]
    Dangling(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_plan(steps: Vec<Step>) -> Model {
        let len = steps.len() as u32;
        Model {
            stations: vec![],
            resources: vec![Resource {
                name: "lock".into(),
                capacity: 1,
                policy: WaitPolicy {
                    max_waiting: None,
                    timeout_ns: None,
                },
            }],
            steps,
            request_types: vec![RequestType {
                name: "r".into(),
                weight: 1.0,
                plans: vec![Plan { first: 0, len }],
            }],
            population: Population::Open { rate_per_s: 1.0 },
            keys: None,
            scaling: Scaling::default(),
            db: DbParts::default(),
        }
    }

    #[test]
    fn a_branch_that_leads_to_a_second_acquire_is_rejected() {
        // acquire; with p jump over the release; acquire again → deadlock on that path.
        let m = one_plan(vec![
            Step::Acquire(0),
            Step::Branch { p: 0.5, to: 3 },
            Step::Release(0),
            Step::Acquire(0),
        ]);
        assert_eq!(
            m.validate(),
            Err(ModelError::AcquiredTwice {
                request: m.request_types[0].name.clone(),
                resource: "lock".into(),
            })
        );
        // Without the branch every path releases first: valid.
        let ok = one_plan(vec![Step::Acquire(0), Step::Release(0), Step::Acquire(0)]);
        assert_eq!(ok.validate(), Ok(()));
    }
}
