//! From replications to a point estimate: run each (phase, users) point's
//! replications in parallel rounds until its mean response is precise
//! enough, and summarise them with 95% Student-t intervals.
//!
//! Results do not depend on the number of threads: the runs of a round are
//! fixed before it starts, each is seeded by its coordinates alone, results
//! come back in order, and the decision to add replications reads only them.

use super::{RunRecord, SweepPlan, MIN_WINDOWS_PER_SOJOURN};
use crate::engine::stats::StopReason;
use crate::model::Population;
use crate::stats::{estimate, Estimate};
use rayon::prelude::*;

/// Why a point has stopped taking replications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PointStop {
    /// The 95% half-width of mean response reached the target precision.
    Precision,
    /// A capacity-search point whose p95 and error rate intervals already
    /// lie clearly on one side of the SLO: more replications would not
    /// change which side, only narrow the curve the grid already draws.
    Decided,
    /// The replication cap or the event budget of the point was reached.
    Budget,
    /// No steady state: an open workload over capacity (by the bounds, or
    /// its runs overflowed), or most runs had not settled by MSER-5 even
    /// after a longer warm-up.
    Unstable,
}

impl PointStop {
    /// The reason as sweep.csv writes it (`stop_reason` column).
    pub fn name(self) -> &'static str {
        match self {
            PointStop::Precision => "precision",
            PointStop::Decided => "decided",
            PointStop::Budget => "budget",
            PointStop::Unstable => "unstable",
        }
    }
}

/// Where a point of the sweep came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Origin {
    /// The scenario's grid of user counts (or `--users`).
    Grid,
    /// A step of the capacity search.
    Bisection,
}

impl Origin {
    /// The origin as sweep.csv writes it (`origin` column).
    pub fn name(self) -> &'static str {
        match self {
            Origin::Grid => "grid",
            Origin::Bisection => "bisection",
        }
    }
}

/// A point to estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PointKey {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// Closed population size (0 for an open workload).
    pub users: u32,
    /// Grid point or capacity-search step: a search point may stop early
    /// once its side of the SLO is decided.
    pub origin: Origin,
}

/// One point, summarised over its replications.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PointEstimate {
    /// Which point: phase, users, origin.
    pub key: PointKey,
    /// Replications run (those started with plus those the precision rule
    /// added).
    pub replications: u32,
    /// Calendar events over all its replications: what the point cost.
    pub events: u64,
    /// Why it stopped taking replications.
    pub stop: PointStop,
    /// A steady state was measured; when false, latencies are left blank
    /// (they would describe a transient, not the system).
    pub stable: bool,
    /// Completed requests per second, over replications.
    pub throughput_rps: Estimate,
    /// Mean response time, in ms: the estimate the precision rule targets.
    pub mean_ms: Estimate,
    /// Median response time, in ms (the mean of the replications' medians).
    pub p50_ms: Estimate,
    /// 90th percentile of response time, in ms.
    pub p90_ms: Estimate,
    /// 95th percentile of response time, in ms: the one the SLO bounds.
    pub p95_ms: Estimate,
    /// 99th percentile of response time, in ms.
    pub p99_ms: Estimate,
    /// Fraction (0–1) of departures that failed; with p95, what the SLO
    /// bounds.
    pub error_rate: Estimate,
    /// Mean warm-up discarded per replication, in requests.
    pub warmup_requests: f64,
    /// Requests placed in the system at t = 0 by the warm start (MVA's
    /// estimate of those in system; the same for every replication).
    pub preplaced: u32,
    /// Analytic companions at this point: the asymptotic bound on
    /// throughput, requests per second…
    pub bound_throughput_rps: f64,
    /// …MVA's throughput, requests per second…
    pub mva_throughput_rps: f64,
    /// …and MVA's mean response time, in ms.
    pub mva_mean_ms: f64,
}

impl PointEstimate {
    /// Whether the point meets an SLO on p95 and error rate (point means).
    pub fn meets(&self, slo: &crate::scenario::Slo) -> bool {
        self.stable && self.p95_ms.mean <= slo.p95_ms && self.error_rate.mean <= slo.error_rate
    }
}

/// Replications of a point that must come out unstable (see
/// `initial_replications`).
pub const UNSTABLE_REPLICATIONS: u32 = 3;

/// Called from worker threads as runs are planned and finished.
pub trait Progress: Sync {
    /// `runs` more runs are about to start (one round of replications).
    fn planned(&self, _runs: u64) {}
    /// One run has finished.
    fn finished(&self) {}
}

/// No progress reporting.
pub struct Silent;
impl Progress for Silent {}

struct State {
    key: PointKey,
    runs: Vec<RunRecord>,
    target: u32,
    stop: Option<PointStop>,
}

/// Estimate `keys` (all together, on the current rayon pool); returns
/// the summaries in `keys` order and every run made, in point order.
pub(super) fn estimate_points(
    plan: &SweepPlan,
    keys: &[PointKey],
    progress: &dyn Progress,
) -> (Vec<PointEstimate>, Vec<RunRecord>) {
    let mut states: Vec<State> = keys
        .iter()
        .map(|&key| State {
            key,
            runs: Vec::new(),
            target: initial_replications(plan, key),
            stop: None,
        })
        .collect();
    // Interrupted: no new round starts (the caller discards the result).
    while !plan.interrupted() {
        let jobs: Vec<(usize, u32)> = states
            .iter()
            .enumerate()
            .filter(|(_, s)| s.stop.is_none())
            .flat_map(|(i, s)| (s.runs.len() as u32..s.target).map(move |rep| (i, rep)))
            .collect();
        if jobs.is_empty() {
            break;
        }
        progress.planned(jobs.len() as u64);
        let done: Vec<RunRecord> = jobs
            .par_iter()
            .map(|&(i, rep)| {
                let k = states[i].key;
                let r = plan.replication(k.phase, k.users, rep);
                progress.finished();
                r
            })
            .collect();
        for ((i, _), r) in jobs.iter().zip(done) {
            states[*i].runs.push(r);
        }
        for s in states.iter_mut().filter(|s| s.stop.is_none()) {
            decide(plan, s);
        }
    }
    let summaries = states.iter().map(|s| summarise(plan, s)).collect();
    let runs = states.into_iter().flat_map(|s| s.runs).collect();
    (summaries, runs)
}

/// Replications a point starts with: the sweep's, or only
/// [`UNSTABLE_REPLICATIONS`] at a point that is bound to come out
/// unstable.
///
/// In a closed model, throughput is at most the analytic bound X_max, so
/// unless requests fail, at least N − X_max·Z of them are in the system
/// on average; a run is steady only if it measures ten times as many
/// departures as that (see [`RunRecord::stable`]). Where the run length
/// falls short of it by more than half, the point starts with three
/// replications: each pushes about N requests through its warm-up (most
/// of a million-user point's time), and if they come out unstable, as
/// expected, the point stops there with its latency left blank — what it
/// reports, throughput and utilisation at saturation, varies little. If
/// they come out steady (refusals kept the system small), the point goes
/// on to the sweep's replications like any other.
///
/// [`RunRecord::stable`]: crate::sweep::RunRecord::stable
pub(super) fn initial_replications(plan: &SweepPlan, key: PointKey) -> u32 {
    let Population::Closed { think } = plan.models[key.phase].population else {
        return plan.replications;
    };
    let a = &plan.analytic[key.phase];
    let in_system_at_least = key.users as f64 - a.max_throughput_rps() * think.mean_ns() / 1e9;
    let measured = plan.measured_requests_at(key.phase, key.users) as f64;
    if 2.0 * measured < MIN_WINDOWS_PER_SOJOURN * in_system_at_least {
        plan.replications.min(UNSTABLE_REPLICATIONS)
    } else {
        plan.replications
    }
}

/// After a round: stop the point, or set how many replications it needs.
fn decide(plan: &SweepPlan, s: &mut State) {
    // An overflow is proof enough; MSER's verdict is statistical, so a
    // point is unsettled only when most of its runs are.
    let unsettled = s.runs.iter().filter(|r| !r.stable()).count();
    if s.runs.iter().any(|r| r.stop == StopReason::Overflow)
        || 2 * unsettled > s.runs.len()
        || plan.analytic[s.key.phase].open_overloaded(s.key.users)
    {
        s.stop = Some(PointStop::Unstable);
        return;
    }
    // A point started small because it looked bound to be unstable, but
    // is not: it gets the sweep's replications like any other.
    let n = s.runs.len() as u32;
    if n < plan.replications {
        s.target = plan.replications;
        return;
    }
    let e = estimate(s.runs.iter().map(|r| r.mean_ms));
    let rel = e.relative_half_width();
    if rel <= plan.precision {
        s.stop = Some(PointStop::Precision);
        return;
    }
    if s.key.origin == Origin::Bisection && slo_decided(plan, &s.runs) {
        s.stop = Some(PointStop::Decided);
        return;
    }
    let events: u64 = s.runs.iter().map(|r| r.events).sum();
    let per_run = events / n.max(1) as u64;
    // Replications still affordable under the event budget.
    let affordable = plan
        .event_budget
        .saturating_sub(events)
        .checked_div(per_run)
        .map_or(u32::MAX, |k| k.min(u32::MAX as u64) as u32);
    let mut cap = plan.max_replications.min(n.saturating_add(affordable));
    // A capacity-search point that twice the initial replications could
    // not place on either side of the SLO sits within noise of the
    // boundary: more runs would move the capacity by less than the
    // search's own resolution, at the cost of the whole sweep.
    if s.key.origin == Origin::Bisection {
        cap = cap.min(2 * plan.replications);
    }
    if n >= cap {
        s.stop = Some(PointStop::Budget);
        return;
    }
    // The half-width shrinks as 1/√n: aim at the n that reaches the
    // target, at least one more and at most twice as many per round.
    let need = if rel.is_finite() {
        (n as f64 * (rel / plan.precision).powi(2)).ceil() as u32
    } else {
        2 * n
    };
    s.target = need.clamp(n + 1, 2 * n).min(cap);
}

/// Whether the 95% intervals of p95 and of the error rate put the point
/// clearly inside or clearly outside the SLO.
fn slo_decided(plan: &SweepPlan, runs: &[RunRecord]) -> bool {
    let slo = plan.scenario.slo;
    let p95 = estimate(runs.iter().map(|r| r.p95_ms));
    let err = estimate(runs.iter().map(|r| r.error_rate));
    let (Some(p), Some(e)) = (interval(p95), interval(err)) else {
        return false;
    };
    let meets = p.1 <= slo.p95_ms && e.1 <= slo.error_rate;
    let fails = p.0 > slo.p95_ms || e.0 > slo.error_rate;
    meets || fails
}

fn summarise(plan: &SweepPlan, s: &State) -> PointEstimate {
    let runs = &s.runs;
    let stop = s.stop.unwrap_or(PointStop::Budget);
    let stable = stop != PointStop::Unstable;
    let open = matches!(plan.models[s.key.phase].population, Population::Open { .. });
    let lat = |f: fn(&RunRecord) -> f64| {
        if stable {
            estimate(runs.iter().map(f))
        } else {
            Estimate::NONE
        }
    };
    let a = &plan.analytic[s.key.phase];
    let mva = a.mva(s.key.users);
    let n = runs.len().max(1) as f64;
    PointEstimate {
        key: s.key,
        replications: runs.len() as u32,
        events: runs.iter().map(|r| r.events).sum(),
        stop,
        stable,
        throughput_rps: estimate(runs.iter().map(|r| r.throughput_rps)),
        mean_ms: lat(|r| r.mean_ms),
        p50_ms: lat(|r| r.p50_ms),
        p90_ms: lat(|r| r.p90_ms),
        p95_ms: lat(|r| r.p95_ms),
        p99_ms: lat(|r| r.p99_ms),
        // An open workload with no steady state piles requests up: its
        // error rate counts the ones it never served, or it would read 0.
        error_rate: if !stable && open {
            estimate(runs.iter().map(|r| r.unserved_rate()))
        } else {
            estimate(runs.iter().map(|r| r.error_rate))
        },
        warmup_requests: runs.iter().map(|r| r.warmup_requests as f64).sum::<f64>() / n,
        preplaced: runs.first().map_or(0, |r| r.preplaced),
        bound_throughput_rps: a.throughput_bound_rps(s.key.users),
        mva_throughput_rps: mva.throughput_rps,
        mva_mean_ms: mva.response_s * 1e3,
    }
}

/// The 95% interval of an estimate, when it has one.
fn interval(e: Estimate) -> Option<(f64, f64)> {
    (e.mean.is_finite() && e.half_width.is_finite())
        .then_some((e.mean - e.half_width, e.mean + e.half_width))
}
