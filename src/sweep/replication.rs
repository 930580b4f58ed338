//! One replication of one point, as every sweep runs it: a warm start from
//! mean value analysis, a run length sized by the analytic load, and MSER-5
//! judging the warm-up (with one longer rerun when it was too short).

use super::{run_seed, Point, RunRecord, SweepPlan};
use crate::engine::stats::StopReason;
use crate::engine::{self, RunConfig, RunExtras};
use crate::model::Population;
use crate::stats::{mser, MSER_BATCH};

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
pub(super) fn run(plan: &SweepPlan, phase: usize, users: u32, replication: u32) -> RunRecord {
    let model = &plan.models[phase];
    let point = Point {
        phase,
        users,
        replication,
        seed: run_seed(
            plan.seed,
            &plan.scenario.phases[phase].name,
            users,
            replication,
        ),
    };
    // One analytic estimate sizes both the warm start and the run.
    let mva = plan.analytic[phase].mva(users);
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
    let mut fixed = plan.config.warmup_requests;
    let measured = run_length(plan, phase, mva.throughput_rps);
    let mut attempt = 0;
    loop {
        let cfg = RunConfig {
            users,
            seed: point.seed,
            warmup_requests: fixed,
            measured_requests: measured,
            ..plan.config
        };
        let extras = RunExtras {
            preplaced,
            batch: MSER_BATCH,
            cancel: plan.cancel,
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

/// [`SweepPlan::measured_requests_at`] given the analytic throughput there.
pub(super) fn run_length(plan: &SweepPlan, phase: usize, throughput_rps: f64) -> u64 {
    if !plan.scale_run_length {
        return plan.config.measured_requests;
    }
    let busy = throughput_rps / plan.analytic[phase].max_throughput_rps();
    let n = plan.config.measured_requests as f64 * run_length_scale(busy);
    (n.ceil() as u64).max(1)
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
    /// Cutting there would move the measured mean by at most
    /// [`WARMUP_TOLERANCE`] (or the run measured nothing): the warm-up was
    /// long enough.
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
}
