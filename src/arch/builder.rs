//! Assembles a [`Model`] piece by piece: architecture compilers add stations,
//! resources and steps through it instead of pushing into vectors by hand.

use crate::key_popularity::KeyPopularity;
use crate::model::{
    CacheSpec, DbParts, Discipline, KeySpace, MemoryGauge, Model, Plan, Population, ReplicaGroup,
    RequestType, Resource, ResourceId, Scaling, ServerPoolSpec, SqliteLockSpec, Station, StationId,
    Step, WaitPolicy,
};

/// A [`Model`] under construction: stations, resources and database parts
/// are appended and named by index, plans are opened, filled with steps and
/// closed, and [`finish`](Self::finish) hands the whole back.
#[derive(Default)]
pub struct ModelBuilder {
    stations: Vec<Station>,
    resources: Vec<Resource>,
    steps: Vec<Step>,
    plan_start: Option<u32>,
    scaling: Scaling,
    db: DbParts,
}

impl ModelBuilder {
    /// Add an active station with `servers` servers (cores for processor
    /// sharing; ignored for `Delay`); returns its id for [`Step::Use`].
    pub fn station(
        &mut self,
        name: impl Into<String>,
        discipline: Discipline,
        servers: u32,
    ) -> StationId {
        self.stations.push(Station {
            name: name.into(),
            discipline,
            servers,
            contention: 0.0,
        });
        (self.stations.len() - 1) as StationId
    }

    /// Processor sharing over `cores` that loses throughput when more jobs
    /// than cores are present (`contention` per extra job).
    pub fn contended_cpu(
        &mut self,
        name: impl Into<String>,
        cores: u32,
        contention: f64,
    ) -> StationId {
        let id = self.station(name, Discipline::ProcessorSharing, cores);
        self.stations[id as usize].contention = contention;
        id
    }

    /// Set the contention of CPU station `id` (a server sharing an app
    /// host's cores brings its own).
    pub fn set_contention(&mut self, id: StationId, contention: f64) {
        self.stations[id as usize].contention = contention;
    }

    /// SQLite's lock on one database file; returns its index.
    pub fn sqlite_lock(
        &mut self,
        name: impl Into<String>,
        busy_timeout_ns: u64,
        reread_ns: u64,
    ) -> u32 {
        self.db.sqlite_locks.push(SqliteLockSpec {
            name: name.into(),
            busy_timeout_ns,
            reread_ns,
        });
        (self.db.sqlite_locks.len() - 1) as u32
    }

    /// A table of row locks keyed by the request's key; returns its index.
    pub fn row_table(&mut self, name: impl Into<String>) -> u32 {
        self.db.row_tables.push(name.into());
        (self.db.row_tables.len() - 1) as u32
    }

    /// A pooler's pool of server connections; returns its index.
    pub fn server_pool(&mut self, spec: ServerPoolSpec) -> u32 {
        self.db.pools.push(spec);
        (self.db.pools.len() - 1) as u32
    }

    /// Report the memory that `gauge` stands for.
    pub fn memory(&mut self, gauge: MemoryGauge) {
        self.db.memory.push(gauge);
    }

    /// Add a passive resource of `capacity` units whose waiters follow
    /// `policy`; returns its id for [`Step::Acquire`]/[`Step::Release`].
    pub fn resource(
        &mut self,
        name: impl Into<String>,
        capacity: u32,
        policy: WaitPolicy,
    ) -> ResourceId {
        self.resources.push(Resource {
            name: name.into(),
            capacity,
            policy,
        });
        (self.resources.len() - 1) as ResourceId
    }

    /// Start a plan; steps pushed until [`end_plan`](Self::end_plan) belong to it.
    pub fn begin_plan(&mut self) {
        debug_assert!(self.plan_start.is_none(), "plans do not nest");
        self.plan_start = Some(self.steps.len() as u32);
    }

    /// Append `s` to the plan begun by [`begin_plan`](Self::begin_plan).
    pub fn step(&mut self, s: Step) {
        debug_assert!(self.plan_start.is_some(), "steps belong to a plan");
        self.steps.push(s);
    }

    /// Index of the next step relative to the current plan's start (a branch target).
    pub fn here(&self) -> u32 {
        self.steps.len() as u32 - self.plan_start.unwrap_or(0)
    }

    /// Set the target of a `Branch` pushed earlier at plan-relative index `at`.
    pub fn patch_branch(&mut self, at: u32, to: u32) {
        let start = self.plan_start.unwrap_or(0);
        if let Step::Branch { to: t, .. } = &mut self.steps[(start + at) as usize] {
            *t = to;
        }
    }

    /// Close the current plan and return its span of steps, for a
    /// [`RequestType`]'s `plans`.
    pub fn end_plan(&mut self) -> Plan {
        let first = self.plan_start.take().expect("end_plan after begin_plan");
        Plan {
            first,
            len: self.steps.len() as u32 - first,
        }
    }

    /// The finished model: everything added so far, the request types with
    /// the plans they take, and the workload's population and key space.
    pub fn finish(
        self,
        request_types: Vec<RequestType>,
        population: Population,
        keys: Option<KeySpace>,
    ) -> Model {
        Model {
            stations: self.stations,
            resources: self.resources,
            steps: self.steps,
            request_types,
            population,
            keys: keys.map(KeyPopularity::new),
            scaling: self.scaling,
            db: self.db,
        }
    }

    // --- Scaling tier: caches, replica groups, routing counters.

    /// Add a cache instance; returns its index for `CacheLookup`/`Fill`/`Invalidate`.
    pub fn cache(&mut self, spec: CacheSpec) -> u32 {
        self.scaling.caches.push(spec);
        (self.scaling.caches.len() - 1) as u32
    }

    /// Add a group of replicas replaying one primary; returns its index.
    pub fn replica_group(&mut self, group: ReplicaGroup) -> u32 {
        self.scaling.replica_groups.push(group);
        (self.scaling.replica_groups.len() - 1) as u32
    }

    /// A new round-robin counter for `SwitchBy::RoundRobin`.
    pub fn counter(&mut self) -> u32 {
        self.scaling.counters += 1;
        self.scaling.counters - 1
    }

    /// Push a jump to plan-relative step `to` (patched later with `patch_branch`
    /// when the target is not known yet). Returns its plan-relative index.
    pub fn jump(&mut self, to: u32) -> u32 {
        let at = self.here();
        self.step(Step::Branch { p: 1.0, to });
        at
    }

    /// Set the hit target of a `CacheLookup` pushed at plan-relative index `at`.
    pub fn patch_lookup(&mut self, at: u32, to: u32) {
        let start = self.plan_start.unwrap_or(0);
        if let Step::CacheLookup { hit_to, .. } = &mut self.steps[(start + at) as usize] {
            *hit_to = to;
        }
    }
}
