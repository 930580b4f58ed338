//! The analysis stage: a finished sweep becomes one [`Outcome`] per
//! scenario — the point estimates with their resource groups, the capacity
//! and what binds beyond it, the cost of every phase and the migration plan,
//! the verdict on every claim and the sensitivity of every capacity.
//!
//! Everything a report shows is decided here, once; the writers in
//! [`crate::report`] only format it. The stage reads the sweep's run records
//! and the plan it ran, never the engine, so an outcome can be rebuilt from
//! records alone.

pub mod bottleneck;
pub mod cost;
pub mod sensitivity;
pub mod uncertainty;
pub mod utilisation;
pub mod verdict;

pub use crate::stats::Estimate;
pub use bottleneck::Busiest;
pub use cost::{PhaseCost, PlanCandidate, PlanPoint, PlanStep};
pub use sensitivity::Sensitivity;
pub use utilisation::GroupUtilisation;
pub use verdict::{ClaimVerdict, Verdict};

use crate::analytic::Analytic;
use crate::scenario::{LoadAxis, Scenario, Slo};
use crate::sweep::{Capacity, CapacityStatus, PointEstimate, RunRecord, SweepPlan, SweepResult};

/// What one scenario's sweep came to: everything its outputs show.
pub struct Outcome<'p> {
    /// What was run: the scenario, its compiled phases, the sweep's settings.
    pub plan: &'p SweepPlan<'p>,
    /// What the points' load levels count (users, or arrivals per second):
    /// the name of every load axis and load column the writers print.
    pub load: LoadAxis,
    /// Every estimated point (grid and capacity search), by phase then users.
    pub points: Vec<LoadPoint>,
    /// Every run, by phase, users, replication.
    pub runs: Vec<RunRecord>,
    /// The busiest resource group of each run, same order as `runs`.
    pub run_busiest: Vec<Option<Busiest>>,
    /// One per phase run, in the order they ran.
    pub phases: Vec<PhaseOutcome>,
    /// The cheapest phase meeting the SLO at each simulated user count;
    /// `PlanPoint::phase` indexes [`Outcome::phases`].
    pub migration: Vec<PlanPoint>,
    /// One per claim of the scenario, in file order.
    pub verdicts: Vec<ClaimVerdict>,
    /// How far halving or doubling an assumption moves each capacity.
    pub sensitivity: Vec<Sensitivity>,
    /// The study of the scenario's ranges (`None` without ranges, or with
    /// `--designs 0`); where present, its re-simulated tornado replaces the
    /// extrapolated `sensitivity` in the outputs.
    pub uncertainty: Option<uncertainty::Study>,
}

/// One (phase, users) point: the sweep's estimate and the utilisation of
/// its resource groups.
#[derive(Clone, Debug)]
pub struct LoadPoint {
    /// The sweep's estimate: means and 95% intervals over replications.
    pub estimate: PointEstimate,
    /// Utilisation of every resource group (identical app hosts folded), in
    /// model order, each over the point's replications.
    pub groups: Vec<GroupUtilisation>,
    /// The scenario was calibrated and this load lies beyond twice the
    /// largest it was measured at.
    pub extrapolated: bool,
}

impl LoadPoint {
    /// Index into `scenario.phases`.
    pub fn phase(&self) -> usize {
        self.estimate.key.phase
    }

    /// The point's load level: users, or arrivals per second along an
    /// arrival-rate sweep (0 for an open workload at its one rate).
    pub fn users(&self) -> u32 {
        self.estimate.key.users
    }

    /// The busiest resource group of the point.
    pub fn busiest(&self) -> Option<Busiest> {
        bottleneck::busiest(&self.groups)
    }
}

/// What one phase delivered.
#[derive(Clone, Debug)]
pub struct PhaseOutcome {
    /// Index into `scenario.phases`.
    pub phase: usize,
    /// The capacity search's result (as in capacity.csv).
    pub capacity: Capacity,
    /// Where the capacity lies once the points' 95% intervals are read.
    pub noise: CapacityNoise,
    /// What the phase costs, at capacity and per 1,000 users.
    pub cost: PhaseCost,
    /// Index into [`Outcome::points`] of the point at capacity.
    pub at_capacity: Option<usize>,
    /// The busiest resource group at the first simulated load that misses
    /// the SLO: what to relieve next. `None` if no simulated load misses it.
    pub beyond_capacity: Option<Busiest>,
    /// The analytic companions of the phase.
    pub bounds: PhaseBounds,
}

/// A capacity read with the noise of its points: the largest simulated
/// user count whose whole 95% intervals of p95 and error rate meet the SLO,
/// and the smallest above it whose intervals surely miss it (or that is
/// saturated). The true capacity lies between the two as far as the
/// replications can tell; a gain inside that interval is not a gain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapacityNoise {
    /// Largest simulated count that surely meets the SLO (0: none does).
    pub surely_meets: u32,
    /// Smallest simulated count above `surely_meets` that surely misses
    /// it (`None`: none simulated does).
    pub surely_fails: Option<u32>,
}

impl CapacityNoise {
    /// The interval of one phase, read off its points (ascending users).
    pub fn of<'a>(slo: &Slo, points: impl Iterator<Item = &'a PointEstimate>) -> Self {
        let up = |e: &Estimate| e.mean + finite_or_zero(e.half_width);
        let down = |e: &Estimate| e.mean - finite_or_zero(e.half_width);
        let meets = |p: &PointEstimate| {
            p.stable && up(&p.p95_ms) <= slo.p95_ms && up(&p.error_rate) <= slo.error_rate
        };
        let fails = |p: &PointEstimate| {
            !p.stable || down(&p.p95_ms) > slo.p95_ms || down(&p.error_rate) > slo.error_rate
        };
        let pts: Vec<&PointEstimate> = points.filter(|p| p.key.users > 0).collect();
        // Below the first sure failure, the last sure pass.
        let first_fail = pts.iter().position(|p| fails(p));
        let below = &pts[..first_fail.unwrap_or(pts.len())];
        CapacityNoise {
            surely_meets: below
                .iter()
                .rev()
                .find(|p| meets(p))
                .map_or(0, |p| p.key.users),
            surely_fails: first_fail.map(|i| pts[i].key.users),
        }
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// The analytic (asymptotic-bound and mean-value) facts of one phase.
#[derive(Clone, Debug)]
pub struct PhaseBounds {
    /// Users at the knee, N* = (D + Z) / D_max (NaN for an open workload at
    /// one rate; along arrival rates, the rate 1 / D_max).
    pub knee_users: f64,
    /// 1 / D_max: the most the bottleneck can carry.
    pub max_throughput_rps: f64,
    /// The station or resource with the largest demand, D_max.
    pub bottleneck: Option<String>,
    /// MVA far beyond the knee: what the phase carries once saturated, pools
    /// included (the bound ignores how pools interact). NaN when open.
    pub mva_max_throughput_rps: f64,
    /// The throughput bound min(N / (D + Z), 1 / D_max) over the simulated
    /// range of users, on a fine log grid plus the knee itself, so that a
    /// drawn line bends where the bound does. Empty for an open workload.
    pub curve: Vec<(u32, f64)>,
}

/// Points of the throughput bound's curve between the lightest and the
/// heaviest simulated load.
const BOUND_CURVE_STEPS: u32 = 160;

impl<'p> Outcome<'p> {
    /// Analyse a finished sweep of `plan`.
    pub fn of(plan: &'p SweepPlan<'p>, result: SweepResult) -> Self {
        let sc = plan.scenario;
        let verdicts = verdict::judge(sc, &result);
        let sensitivity = sensitivity::of(sc, &result.capacity, &plan.analytic);
        let SweepResult {
            points,
            runs,
            capacity,
        } = result;
        let points: Vec<LoadPoint> = points
            .into_iter()
            .map(|estimate| {
                let (phase, users) = (estimate.key.phase, estimate.key.users);
                let mine = runs
                    .iter()
                    .filter(|r| r.point.phase == phase && r.point.users == users);
                LoadPoint {
                    groups: utilisation::of_groups(&plan.models[phase], mine),
                    extrapolated: sc.calibration.is_some_and(|c| c.extrapolated(users)),
                    estimate,
                }
            })
            .collect();
        let run_busiest = runs
            .iter()
            .map(|r| {
                let groups = utilisation::of_groups(&plan.models[r.point.phase], [r].into_iter());
                bottleneck::busiest(&groups)
            })
            .collect();
        let users = simulated_users(&points);
        let phases: Vec<PhaseOutcome> = capacity
            .into_iter()
            .map(|c| phase_outcome(sc, &plan.analytic[c.phase], &points, &users, c))
            .collect();
        let candidates: Vec<PlanCandidate> = phases
            .iter()
            .map(|o| PlanCandidate {
                costs: &sc.phases[o.phase].costs,
                capacity_users: o.cost.capacity_users,
                noise: o.noise,
            })
            .collect();
        // The plan is in users (cost items scale per so many users): an
        // arrival-rate sweep has none.
        let migration = if sc.sweep.load == LoadAxis::Users {
            cost::cheapest_plan(&candidates, &users, sc.slo.headroom)
        } else {
            Vec::new()
        };
        Outcome {
            plan,
            load: sc.sweep.load,
            points,
            runs,
            run_busiest,
            phases,
            migration,
            verdicts,
            sensitivity,
            uncertainty: None,
        }
    }

    /// The scenario analysed.
    pub fn scenario(&self) -> &'p Scenario {
        self.plan.scenario
    }

    /// The seed every run derived from (the scenario's or `--seed`).
    pub fn seed(&self) -> u64 {
        self.plan.seed
    }

    /// The points of `phase`, by users.
    pub fn points_of(&self, phase: usize) -> impl Iterator<Item = &LoadPoint> {
        self.points.iter().filter(move |p| p.phase() == phase)
    }

    /// The point at a phase's capacity.
    pub fn at_capacity(&self, phase: &PhaseOutcome) -> Option<&LoadPoint> {
        phase.at_capacity.map(|i| &self.points[i])
    }

    /// Whether any point has a user count (an open workload has none).
    pub fn has_users(&self) -> bool {
        self.points.iter().any(|p| p.users() > 0)
    }
}

/// Every simulated user count above zero, ascending, once.
fn simulated_users(points: &[LoadPoint]) -> Vec<u32> {
    let mut users: Vec<u32> = points
        .iter()
        .map(|p| p.users())
        .filter(|&u| u > 0)
        .collect();
    users.sort_unstable();
    users.dedup();
    users
}

fn phase_outcome(
    sc: &Scenario,
    a: &Analytic,
    points: &[LoadPoint],
    users: &[u32],
    c: Capacity,
) -> PhaseOutcome {
    let ph = c.phase;
    let rate_swept = sc.sweep.load == LoadAxis::ArrivalRate;
    // What the phase is known to carry: a value, or the grid's top as a
    // lower bound (the cost then says it is one).
    let capacity_users = c.at_least();
    let index_at = |u: u32| {
        points
            .iter()
            .position(|p| p.phase() == ph && p.users() == u)
    };
    let at_capacity = capacity_users.and_then(index_at);
    let beyond_capacity = c
        .fails_at
        .and_then(index_at)
        .and_then(|i| points[i].busiest());
    let open = sc.workload.is_open();
    let noise = CapacityNoise::of(
        &sc.slo,
        points
            .iter()
            .filter(|p| p.phase() == ph)
            .map(|p| &p.estimate),
    );
    PhaseOutcome {
        phase: ph,
        noise,
        cost: phase_cost(sc, ph, capacity_users, rate_swept)
            .with_lower_bound(c.status == CapacityStatus::AboveGrid),
        at_capacity,
        beyond_capacity,
        bounds: PhaseBounds {
            // Along arrival rates the knee is the rate the bottleneck
            // saturates at, 1 / D_max.
            knee_users: if rate_swept {
                a.max_throughput_rps()
            } else if open {
                f64::NAN
            } else {
                a.knee_users()
            },
            max_throughput_rps: a.max_throughput_rps(),
            bottleneck: a.bottleneck().map(|l| l.name.clone()),
            mva_max_throughput_rps: if open {
                f64::NAN
            } else {
                a.mva(u32::MAX / 2).throughput_rps
            },
            curve: bound_curve(a, users, rate_swept),
        },
        capacity: c,
    }
}

/// What phase `ph` costs at its capacity. Cost items scale per so many
/// users: along arrival rates the capacity is a rate, so a bill with such an
/// item has no cost "at capacity", and no phase a cost per 1,000 users.
fn phase_cost(sc: &Scenario, ph: usize, capacity: Option<u32>, rate_swept: bool) -> PhaseCost {
    let costs = &sc.phases[ph].costs;
    let mut cost = PhaseCost::new(&sc.phases[ph].name, costs, capacity);
    if rate_swept {
        cost.usd_per_1k_users = None;
        if costs.iter().any(|c| c.per_users.is_some()) {
            cost.usd_month_at_capacity = None;
        }
    }
    cost
}

/// The throughput bound over the simulated range (see [`PhaseBounds::curve`]).
fn bound_curve(a: &Analytic, users: &[u32], rate_swept: bool) -> Vec<(u32, f64)> {
    let (Some(&lo), Some(&hi)) = (users.first(), users.last()) else {
        return Vec::new();
    };
    let ratio = f64::from(hi) / f64::from(lo);
    let mut ns: Vec<u32> = (0..=BOUND_CURVE_STEPS)
        .map(|k| {
            (f64::from(lo) * ratio.powf(f64::from(k) / f64::from(BOUND_CURVE_STEPS))).round() as u32
        })
        .collect();
    let knee = if rate_swept {
        a.max_throughput_rps()
    } else {
        a.knee_users()
    };
    if knee.is_finite() && knee >= f64::from(lo) && knee <= f64::from(hi) {
        ns.extend([knee.floor() as u32, knee.ceil() as u32]);
    }
    ns.sort_unstable();
    ns.dedup();
    let curve: Vec<(u32, f64)> = ns
        .into_iter()
        .map(|n| (n, a.throughput_bound_rps(n)))
        .collect();
    if curve.iter().any(|(_, b)| b.is_finite()) {
        curve
    } else {
        Vec::new()
    }
}
