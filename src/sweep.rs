//! Run every (phase × users × replication) point of a scenario in parallel.
//!
//! Each run's seed is derived from (scenario seed, phase name, users,
//! replication) alone, and results are collected in point order, so the
//! output does not depend on the number of threads or their scheduling.

use crate::analytic::Analytic;
use crate::arch::try_compile;
use crate::engine::stats::{ErrorCause, RunStats, StopReason};
use crate::engine::{self, RunConfig, RunExtras};
use crate::model::{Model, Population};
use crate::scenario::Scenario;
use crate::stats::{mser, MSER_BATCH};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to run of a scenario; `None` fields keep the scenario's own settings.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    pub seed: Option<u64>,
    /// Simulate these user counts instead of the scenario's grid.
    pub users: Option<Vec<u32>>,
    /// Only the phase with this name.
    pub phase: Option<String>,
    pub replications: Option<u32>,
    pub measured_requests: Option<u64>,
    pub warmup_requests: Option<u64>,
    /// Target relative half-width of the 95% interval of mean response.
    pub precision: Option<f64>,
}

/// One run to do.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    pub phase: usize,
    pub users: u32,
    pub replication: u32,
    pub seed: u64,
}

/// What one run measured, reduced to numbers (the histogram is summarised
/// in the worker so that thousands of runs stay small in memory).
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub point: Point,
    pub stop: StopReason,
    pub events: u64,
    pub warmup_s: f64,
    pub window_s: f64,
    pub started: u64,
    pub completed: u64,
    pub errors: [u64; ErrorCause::COUNT],
    pub throughput_rps: f64,
    pub error_rate: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_in_system: f64,
    /// Little's law's right-hand side: departures per second × mean time in system.
    pub little_xr: f64,
    pub stations: Vec<crate::engine::stats::StationStats>,
    pub resources: Vec<crate::engine::stats::ResourceStats>,
    pub per_type: Vec<crate::engine::stats::TypeStats>,
    pub total_started: u64,
    pub total_completed: u64,
    pub total_errored: u64,
    pub in_flight_at_end: u64,
    /// Requests discarded as warm-up (the warm start's, then the fixed
    /// count, doubled if MSER-5 asked for a rerun).
    pub warmup_requests: u64,
    /// Users that started with a request in flight (warm start).
    pub preplaced: u32,
    /// Completed requests MSER-5 would discard, over the whole run.
    pub mser_cut_requests: u64,
    /// MSER-5 found the end of the warm-up within the discarded requests.
    pub settled: bool,
    // Scaling tier (NaN where the phase has no cache or no replicas).
    pub cache_lookups: u64,
    pub cache_hit_ratio: f64,
    pub replica_writes: u64,
    pub replica_lag_mean_ms: f64,
    pub replica_lag_p50_ms: f64,
    pub replica_lag_p95_ms: f64,
    pub replica_lag_max_ms: f64,
    /// Replay work offered per second of window: above 1, lag grows without bound.
    pub replay_offered_load: f64,
    pub replica_reads: u64,
    pub stale_read_fraction: f64,
    /// Database mechanisms: locks, flushes, pools, connections.
    pub db: crate::engine::stats::DbStats,
}

impl RunRecord {
    pub fn from_stats(point: Point, s: &RunStats) -> Self {
        let departures_rate = if s.window_s > 0.0 {
            s.departures() as f64 / s.window_s
        } else {
            f64::NAN
        };
        RunRecord {
            point,
            stop: s.stop,
            events: s.events,
            warmup_s: s.warmup_s,
            window_s: s.window_s,
            started: s.started,
            completed: s.completed,
            errors: s.errors,
            throughput_rps: s.throughput_rps(),
            error_rate: s.error_rate(),
            mean_ms: s.mean_response_ms(),
            p50_ms: s.quantile_ms(0.50),
            p90_ms: s.quantile_ms(0.90),
            p95_ms: s.quantile_ms(0.95),
            p99_ms: s.quantile_ms(0.99),
            max_ms: s.max_ms(),
            mean_in_system: s.mean_in_system,
            little_xr: departures_rate * s.mean_sojourn_s(),
            stations: s.stations.clone(),
            resources: s.resources.clone(),
            per_type: s.per_type.clone(),
            total_started: s.total_started,
            total_completed: s.total_completed,
            total_errored: s.total_errored,
            in_flight_at_end: s.in_flight_at_end,
            warmup_requests: s.warmup_departures,
            preplaced: s.preplaced,
            mser_cut_requests: 0,
            settled: true,
            cache_lookups: s.cache_lookups,
            cache_hit_ratio: s.cache_hit_ratio(),
            replica_writes: s.replication.shipped,
            replica_lag_mean_ms: s.replication.lag_mean_ms(),
            replica_lag_p50_ms: s.replication.lag_quantile_ms(0.50),
            replica_lag_p95_ms: s.replication.lag_quantile_ms(0.95),
            replica_lag_max_ms: s.replication.lag_max_ms(),
            replay_offered_load: if s.window_s > 0.0 && s.replication.shipped > 0 {
                s.replication.replay_work_ns / 1e9 / s.window_s
            } else {
                f64::NAN
            },
            replica_reads: s.replication.replica_reads,
            stale_read_fraction: s.replication.stale_read_fraction(),
            db: s.db.clone(),
        }
    }

    /// Whether this run describes a steady state: it did not overflow, its
    /// warm-up was long enough by MSER-5, it measured something before its
    /// event budget ran out, and its window is long next to the time a
    /// request spends in the system. The last rule catches saturated closed
    /// systems of very many users: their requests queue for far longer than
    /// any affordable window, so the few that finish inside it are the
    /// lucky short ones and their mean says nothing of the steady state.
    /// The time in system is taken both over all departures (Little's law)
    /// and over completed requests alone: where most requests are refused at
    /// once, the first is tiny while the accepted ones still queue for long.
    pub fn stable(&self) -> bool {
        // Little's law: time in system = requests in system / departure rate.
        let departures = self.completed + self.errors_total();
        let in_system_s = if departures > 0 && self.window_s > 0.0 {
            self.mean_in_system * self.window_s / departures as f64
        } else {
            0.0
        };
        let response_s = if self.completed > 0 {
            self.mean_ms / 1e3
        } else {
            0.0
        };
        self.stop != StopReason::Overflow
            && self.settled
            && !(self.stop == StopReason::EventBudget && self.completed == 0)
            && self.window_s >= MIN_WINDOWS_PER_SOJOURN * in_system_s.max(response_s)
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }
}

/// A steady-state estimate needs a window this many times longer than the
/// mean time a request spends in the system.
pub const MIN_WINDOWS_PER_SOJOURN: f64 = 10.0;

/// A scenario's phases compiled, and the points to run.
pub struct SweepPlan<'s> {
    pub scenario: &'s Scenario,
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
    pub points: Vec<Point>,
    pub config: RunConfig,
    /// Size each point's runs by its load (see [`run_length_scale`]); off
    /// when the run length was given on the command line: then it is exact.
    pub scale_run_length: bool,
    /// Once set (Ctrl-C, SIGTERM), runs stop within a few ms, no new run
    /// starts and the sweep returns early; its result is then incomplete
    /// and must be thrown away (see [`SweepPlan::interrupted`]).
    pub cancel: Option<&'static AtomicBool>,
}

/// Decide what to run. Fails if `--phase` names no phase.
pub fn plan<'s>(scenario: &'s Scenario, opts: &SweepOptions) -> Result<SweepPlan<'s>, String> {
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
                return Err(format!(
                    "{}: no phase is named `{name}` (phases: {})",
                    scenario.path.display(),
                    names.join(", ")
                ));
            }
            found
        }
    };
    let users: Vec<u32> = if scenario.workload.is_open() {
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
        .collect::<Result<_, _>>()?;
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
        cancel: None,
    })
}

impl SweepPlan<'_> {
    /// Whether the sweep was told to stop; its result is then incomplete.
    pub fn interrupted(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Run one point.
    pub fn run_point(&self, p: Point) -> RunRecord {
        let cfg = RunConfig {
            users: p.users,
            seed: p.seed,
            ..self.config
        };
        let extras = RunExtras {
            cancel: self.cancel,
            ..RunExtras::default()
        };
        let (stats, _) = engine::run_with(&self.models[p.phase], &cfg, extras);
        RunRecord::from_stats(p, &stats)
    }

    /// Run replication `replication` of `phase` at `users`, with the sweep's
    /// warm-up rule:
    ///
    /// 1. Closed models start warm: the analytic (MVA) estimate of the
    ///    number of requests in the system is placed in the system at t = 0
    ///    (fewer if the system refuses them: see the engine). Measurement
    ///    starts once all of them have left, so that none of their partial
    ///    response times is measured, and the fixed warm-up after that.
    /// 2. MSER-5 is applied to the batch means (5 completions each) of the
    ///    whole run. If the truncation it picks lies beyond the discarded
    ///    warm-up, the run is repeated (same seed) with the fixed warm-up
    ///    doubled past that point; if it still does, or if MSER itself says
    ///    the series has not settled, the run is flagged unsettled.
    pub fn run_replication(&self, phase: usize, users: u32, replication: u32) -> RunRecord {
        let model = &self.models[phase];
        let point = Point {
            phase,
            users,
            replication,
            seed: run_seed(
                self.seed,
                &self.scenario.phases[phase].name,
                users,
                replication,
            ),
        };
        // One analytic estimate sizes both the warm start and the run.
        let mva = self.analytic[phase].mva(users);
        let preplaced = match model.population {
            Population::Closed { .. } => {
                let in_system = mva.in_system;
                if in_system.is_finite() {
                    in_system.round().clamp(0.0, users as f64) as u32
                } else {
                    0
                }
            }
            Population::Open { .. } => 0,
        };
        let mut fixed = self.config.warmup_requests;
        let measured = self.run_length(phase, mva.throughput_rps);
        let mut attempt = 0;
        loop {
            let cfg = RunConfig {
                users,
                seed: point.seed,
                warmup_requests: fixed,
                measured_requests: measured,
                ..self.config
            };
            let extras = RunExtras {
                preplaced,
                batch: MSER_BATCH,
                cancel: self.cancel,
            };
            let (stats, trace) = engine::run_with(model, &cfg, extras);
            let check = WarmupCheck::of(&trace.means_ms, trace.warmup_completions);
            let retry = !check.settled
                && attempt == 0
                && !matches!(stats.stop, StopReason::Overflow | StopReason::Interrupted);
            if !retry {
                let mut r = RunRecord::from_stats(point, &stats);
                r.mser_cut_requests = check.cut_requests;
                r.settled = check.settled;
                return r;
            }
            attempt += 1;
            fixed = 2 * check.cut_requests.max(fixed);
        }
    }

    /// Requests measured by one replication at `users`: the configured run
    /// length where the analytic model puts the bottleneck at 80% busy or
    /// more, shorter where it is lighter (see [`run_length_scale`]), unless
    /// the length was given on the command line.
    pub fn measured_requests_at(&self, phase: usize, users: u32) -> u64 {
        self.run_length(phase, self.analytic[phase].mva(users).throughput_rps)
    }

    /// [`Self::measured_requests_at`] given the analytic throughput there.
    fn run_length(&self, phase: usize, throughput_rps: f64) -> u64 {
        if !self.scale_run_length {
            return self.config.measured_requests;
        }
        let busy = throughput_rps / self.analytic[phase].max_throughput_rps();
        let n = self.config.measured_requests as f64 * run_length_scale(busy);
        (n.ceil() as u64).max(1)
    }

    /// Run every point on the current rayon pool; results in point order.
    pub fn run_all(&self) -> Vec<RunRecord> {
        self.points.par_iter().map(|&p| self.run_point(p)).collect()
    }
}

/// Fraction of the configured run length a replication needs when the
/// bottleneck is busy a fraction `busy` of the time.
///
/// A light point needs far fewer requests for the same precision: its
/// response times are nearly independent, while near saturation they are
/// strongly correlated. In an M/M/1 queue the variance of a run's mean
/// response, relative to the mean, grows like (1 + ρ) / (1 − ρ)²: 6 at
/// ρ = 0.5, 45 at 0.8. The configured length is meant for the loaded points
/// (ρ ≥ 0.8); lighter ones get that ratio of it, but never less than a
/// fifth. The rule only sizes the first replications: the precision rule
/// still adds replications until the interval meets its target, so a point
/// the M/M/1 shape misjudges costs more replications, not precision.
pub fn run_length_scale(busy: f64) -> f64 {
    if !busy.is_finite() {
        return 1.0;
    }
    let inflation = |rho: f64| (1.0 + rho) / ((1.0 - rho) * (1.0 - rho));
    let rho = busy.clamp(0.0, FULL_LENGTH_BUSY);
    (inflation(rho) / inflation(FULL_LENGTH_BUSY)).clamp(MIN_RUN_LENGTH_SCALE, 1.0)
}

/// Bottleneck utilisation from which replications run the configured length.
pub const FULL_LENGTH_BUSY: f64 = 0.8;
/// Shortest run, as a fraction of the configured length.
pub const MIN_RUN_LENGTH_SCALE: f64 = 0.2;

/// Is a run's warm-up long enough, by MSER-5?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarmupCheck {
    /// Completions MSER-5 would discard (the trace leaves out warm-start
    /// requests, so this counts from the first request begun after t = 0).
    pub cut_requests: u64,
    pub settled: bool,
}

/// Most MSER can shift the measured mean before the warm-up counts as too
/// short: a fifth of the default precision target, so that truncation bias
/// stays well inside the confidence interval. (MSER's truncation point on an
/// autocorrelated but stationary series wanders; where it cuts beyond the
/// warm-up yet moves the mean by less than this, the cut is noise.)
pub const WARMUP_TOLERANCE: f64 = 0.01;

impl WarmupCheck {
    /// `batch_means` of the whole run; `warmup` completions were discarded.
    pub fn of(batch_means: &[f64], warmup: u64) -> Self {
        let cut = mser(batch_means);
        let cut_requests = cut.batches as u64 * MSER_BATCH as u64;
        let w = ((warmup / MSER_BATCH as u64) as usize).min(batch_means.len());
        let mean = |from: usize| {
            let tail = &batch_means[from.min(batch_means.len())..];
            tail.iter().sum::<f64>() / tail.len().max(1) as f64
        };
        let shift = if cut.batches > w {
            let (kept, measured) = (mean(cut.batches), mean(w));
            ((kept - measured) / measured).abs()
        } else {
            0.0
        };
        // MSER's own boundary verdict (`Truncation::settled`) is not used
        // alone: on a series that drifts by a fraction of a percent (a
        // saturated queue of a million requests) it is meaningless. What
        // matters is whether cutting where MSER says would move the mean.
        WarmupCheck {
            cut_requests,
            // NaN (a run that measured nothing) is not a shift.
            settled: shift.is_nan() || shift <= WARMUP_TOLERANCE,
        }
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
    fn run_length_follows_the_mm1_variance_between_a_fifth_and_all() {
        assert_eq!(run_length_scale(0.0), MIN_RUN_LENGTH_SCALE);
        assert_eq!(run_length_scale(0.5), MIN_RUN_LENGTH_SCALE); // 6 / 45
        assert!((run_length_scale(0.7) - (1.7 / 0.09) / 45.0).abs() < 1e-12);
        assert_eq!(run_length_scale(0.8), 1.0);
        assert_eq!(run_length_scale(1.0), 1.0);
        assert_eq!(run_length_scale(f64::NAN), 1.0);
        // Monotone in between.
        let xs: Vec<f64> = (0..=100)
            .map(|i| run_length_scale(i as f64 / 100.0))
            .collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]));
    }

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
