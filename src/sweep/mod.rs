//! The sweep: every (phase × users × replication) run a scenario needs, in
//! parallel, then the capacity search between grid points.
//!
//! Each run's seed is derived from (scenario seed, phase name, users,
//! replication) alone, and results are collected in point order, so the
//! output does not depend on the number of threads or their scheduling.
//!
//! [`plan`] decides what to run; [`SweepPlan::run`] runs it: the grid's
//! points (module `point`: replications added until precise), each
//! replication as module `replication` runs it (warm start, run length,
//! MSER-5), and the capacity search (module `capacity`). Tests and benches
//! call the same entry points as `simulate`.

mod capacity;
pub mod design;
mod point;
mod record;
mod replication;

pub use capacity::{resolution, Capacity, CapacityStatus, SweepResult};
pub use point::{
    Origin, PointEstimate, PointKey, PointStop, Progress, Silent, UNSTABLE_REPLICATIONS,
};
pub use record::{RunRecord, TypeLatency, MIN_WINDOWS_PER_SOJOURN};
pub use replication::{
    run_length_scale, WarmupCheck, FULL_LENGTH_BUSY, MIN_RUN_LENGTH_SCALE, WARMUP_TOLERANCE,
};

use crate::analytic::Analytic;
use crate::arch::{try_compile, CompileError};
use crate::engine::RunConfig;
use crate::model::Model;
use crate::scenario::Scenario;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to run of a scenario; `None` fields keep the scenario's own settings.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepOptions {
    /// Seed of the whole sweep (`--seed`), instead of the scenario's.
    pub seed: Option<u64>,
    /// Simulate these user counts (arrival rates, for an arrival-rate
    /// sweep) instead of the scenario's grid.
    pub users: Option<Vec<u32>>,
    /// Only the phase with this name.
    pub phase: Option<String>,
    /// Replications per point, exactly (`--replications`): none are added
    /// for precision.
    pub replications: Option<u32>,
    /// Requests measured per run, exactly (`--measured-requests`): lightly
    /// loaded points get no shorter runs.
    pub measured_requests: Option<u64>,
    /// Requests that leave before measurement starts, per run (after the
    /// warm start's have left).
    pub warmup_requests: Option<u64>,
    /// Target relative half-width of the 95% interval of mean response.
    pub precision: Option<f64>,
    /// Designs of the uncertainty study (`--designs`), instead of the
    /// scenario's `[uncertainty] designs`; 0 runs the point scenario alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designs: Option<u32>,
}

/// One run to do.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// The load level: a closed population's size, an arrival rate of an
    /// arrival-rate sweep, or 0 for an open workload at its one rate.
    pub users: u32,
    /// Replication number at this (phase, users), from 0.
    pub replication: u32,
    /// The run's seed, [`run_seed`] of its coordinates.
    pub seed: u64,
}

/// A scenario's phases compiled, and the points to run.
#[derive(Clone)]
pub struct SweepPlan<'s> {
    /// The scenario swept.
    pub scenario: &'s Scenario,
    /// Every phase of the scenario compiled, in scenario order (those not
    /// run too, so that `phase` indices stay the scenario's).
    pub models: Vec<Model>,
    /// Bounds and MVA of each phase, same order as `models`.
    pub analytic: Vec<Analytic>,
    /// Seed of the whole sweep (the scenario's, or `--seed`).
    pub seed: u64,
    /// Grid of user counts (one `0` for open workloads).
    pub users: Vec<u32>,
    /// Replications every point starts with.
    pub replications: u32,
    /// Stop adding replications once the 95% half-width of mean response is
    /// within this fraction of the mean…
    pub precision: f64,
    /// …or once a point has this many replications…
    pub max_replications: u32,
    /// …or has spent this many events.
    pub event_budget: u64,
    /// Bisect between grid points for the capacity (off when the user
    /// counts were given with `--users`: then only those are simulated).
    pub bisect: bool,
    /// Indices into `scenario.phases` of the phases to run.
    pub phases: Vec<usize>,
    /// The first runs: every phase run × grid user count × starting
    /// replication, in that order (the precision rule and the capacity
    /// search add more as they go).
    pub points: Vec<Point>,
    /// Run length and limits every run starts from (warm-up and measured
    /// requests, event cap); each run sets its own `users` and `seed`, and
    /// its measured requests by its load.
    pub config: RunConfig,
    /// Size each point's runs by its load (see [`run_length_scale`]); off
    /// when the run length was given on the command line: then it is exact.
    pub scale_run_length: bool,
    /// Designs of the uncertainty study over the scenario's ranges (0 when
    /// it has none, or with `--designs 0`): each a whole sweep of the
    /// scenario at the design's values.
    pub designs: u32,
    /// The options the plan was made with, to plan each design alike.
    pub options: SweepOptions,
    /// Once set (Ctrl-C, SIGTERM), runs stop within a few ms, no new run
    /// starts and the sweep returns early; its result is then incomplete
    /// and must be thrown away (see [`SweepPlan::interrupted`]).
    pub cancel: Option<&'static AtomicBool>,
}

/// Decide what to run. Fails if `--phase` names no phase.
pub fn plan<'s>(scenario: &'s Scenario, opts: &SweepOptions) -> Result<SweepPlan<'s>, SweepError> {
    let phases: Vec<usize> = match &opts.phase {
        None => (0..scenario.phases.len()).collect(),
        Some(name) => {
            let found: Vec<usize> = scenario
                .phases
                .iter()
                .enumerate()
                .filter(|(_, p)| &p.name == name)
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() {
                let names: Vec<String> = scenario
                    .phases
                    .iter()
                    .map(|p| format!("`{}`", p.name))
                    .collect();
                return Err(SweepError::NoSuchPhase {
                    path: scenario.path.clone(),
                    name: name.clone(),
                    phases: names.join(", "),
                });
            }
            found
        }
    };
    let users: Vec<u32> = if scenario.one_rate() {
        vec![0]
    } else {
        opts.users
            .clone()
            .unwrap_or_else(|| scenario.sweep.users.clone())
    };
    let seed = opts.seed.unwrap_or(scenario.seed);
    let replications = opts.replications.unwrap_or(scenario.sweep.replications);
    let mut points = Vec::new();
    for &phase in &phases {
        for &u in &users {
            for rep in 0..replications {
                points.push(Point {
                    phase,
                    users: u,
                    replication: rep,
                    seed: run_seed(seed, &scenario.phases[phase].name, u, rep),
                });
            }
        }
    }
    let sw = &scenario.sweep;
    let config = RunConfig {
        users: 0,
        seed: 0,
        warmup_requests: opts.warmup_requests.unwrap_or(sw.warmup_requests),
        measured_requests: opts.measured_requests.unwrap_or(sw.measured_requests),
        max_events: sw.max_events,
        max_in_system: 1_000_000,
    };
    let models: Vec<Model> = scenario
        .phases
        .iter()
        .map(|p| try_compile(&scenario.workload, p))
        .collect::<Result<_, _>>()
        .map_err(|source| SweepError::Model {
            path: scenario.path.clone(),
            source,
        })?;
    if let Some(i) = phases.iter().copied().find(|&i| !takes_time(&models[i])) {
        return Err(SweepError::NoWork {
            path: scenario.path.clone(),
            phase: scenario.phases[i].name.clone(),
        });
    }
    Ok(SweepPlan {
        scenario,
        analytic: models.iter().map(Analytic::of).collect(),
        models,
        seed,
        users,
        replications,
        precision: opts.precision.unwrap_or(sw.precision),
        // Replications given on the command line are exact: no more are added.
        max_replications: if opts.replications.is_some() {
            replications
        } else {
            sw.max_replications.max(replications)
        },
        event_budget: sw.event_budget,
        bisect: opts.users.is_none(),
        phases,
        points,
        config,
        scale_run_length: opts.measured_requests.is_none(),
        designs: if scenario.uncertainty.ranges.is_empty() {
            0
        } else {
            opts.designs.unwrap_or(scenario.uncertainty.designs)
        },
        options: opts.clone(),
        cancel: None,
    })
}

/// Whether simulated time can pass in `model`: its users think, or some
/// step of some request takes time. (Checked on the compiled model, since
/// an architecture's steps are only known once compiled.)
fn takes_time(model: &Model) -> bool {
    let thinks = match model.population {
        crate::model::Population::Closed { think } => think.mean_ns() > 0.0,
        crate::model::Population::Open { .. } => true,
    };
    thinks
        || model.steps.iter().any(|s| match s {
            crate::model::Step::Delay(demand) => demand.mean_ns() > 0.0,
            s => model.step_demand_ns(s).is_some_and(|(_, ns)| ns > 0.0),
        })
}

/// Why a sweep cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// `--phase` names no phase of the scenario.
    #[error("{}: no phase is named `{name}` (phases: {phases})", path.display())]
    NoSuchPhase {
        /// The scenario file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The scenario's phases, quoted and comma-separated.
        phases: String,
    },
    /// A closed workload that never pauses, in a phase where nothing takes
    /// time: the simulated clock would never advance.
    #[error(
        "{}: phase `{phase}`: nothing takes time: workload.think_time is 0 and every service \
         time of this phase is 0, so the simulated clock would never advance; give think_time, \
         or an app_cpu, db or demand, a mean above 0",
        path.display()
    )]
    NoWork {
        /// The scenario file.
        path: PathBuf,
        /// The phase's name.
        phase: String,
    },
    /// A phase compiles to a model the engine cannot run.
    #[error("{}: {source}", path.display())]
    Model {
        /// The scenario file.
        path: PathBuf,
        /// The phase and the rule it breaks.
        source: CompileError,
    },
}

impl SweepPlan<'_> {
    /// Whether the sweep was told to stop; its result is then incomplete.
    pub fn interrupted(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// The same plan running only `phase` (an index into `scenario.phases`):
    /// one unit of a sharded job. Its runs are those the whole plan makes for
    /// that phase, since a run's seed and a point's decisions depend on that
    /// phase's own results alone.
    pub fn only_phase(&self, phase: usize) -> Self {
        let mut unit = self.clone();
        unit.phases.retain(|&p| p == phase);
        unit.points.retain(|p| p.phase == phase);
        unit
    }

    /// Run the sweep: the grid, then the capacity search between its points.
    /// This is what `simulate` runs for every scenario.
    pub fn run(&self, progress: &dyn Progress) -> SweepResult {
        capacity::search(self, progress)
    }

    /// Estimate `keys` together (replications added until each is precise,
    /// decided or at its budget), on the current rayon pool; the estimates
    /// in `keys` order and every run made, in point order.
    pub fn estimate(
        &self,
        keys: &[PointKey],
        progress: &dyn Progress,
    ) -> (Vec<PointEstimate>, Vec<RunRecord>) {
        point::estimate_points(self, keys, progress)
    }

    /// Run replication `replication` of `phase` at `users` as the sweep
    /// runs it (warm start, run length, MSER-5).
    pub fn replication(&self, phase: usize, users: u32, replication: u32) -> RunRecord {
        replication::run(self, phase, users, replication)
    }

    /// Requests measured by one replication at `users`: the configured run
    /// length where the analytic model puts the bottleneck at 80% busy or
    /// more, shorter where it is lighter (see [`run_length_scale`]), unless
    /// the length was given on the command line.
    pub fn measured_requests_at(&self, phase: usize, users: u32) -> u64 {
        replication::run_length(self, phase, self.analytic[phase].mva(users).throughput_rps)
    }
}

/// Seed of one run: a hash of its coordinates, so that adding a phase or a
/// user count leaves every other run's random stream unchanged.
pub fn run_seed(scenario_seed: u64, phase: &str, users: u32, replication: u32) -> u64 {
    let mut h = splitmix(scenario_seed ^ 0x6361_7073_696d); // "capsim"
    for b in phase.bytes() {
        h = splitmix(h ^ b as u64);
    }
    h = splitmix(h ^ users as u64);
    splitmix(h ^ ((replication as u64) << 32))
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_seeds_differ_by_every_coordinate() {
        let base = run_seed(1, "A", 10, 0);
        assert_ne!(base, run_seed(2, "A", 10, 0));
        assert_ne!(base, run_seed(1, "B", 10, 0));
        assert_ne!(base, run_seed(1, "A", 11, 0));
        assert_ne!(base, run_seed(1, "A", 10, 1));
        assert_eq!(base, run_seed(1, "A", 10, 0));
    }
}
