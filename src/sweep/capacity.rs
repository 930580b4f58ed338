//! The whole sweep of a scenario, and the capacity of each phase: the largest
//! user count whose p95 response and error rate meet the SLO.
//!
//! The search brackets the capacity on the grid (the last passing point
//! before the first failing one) and bisects between the two on whole user
//! counts, every phase in lock-step so that each step's points run in
//! parallel. It stops when the bracket is at most 1% of its lower end (or one
//! user): finer steps would be below the noise of a p95 estimate.

use super::{Origin, PointEstimate, PointKey, Progress, RunRecord, SweepPlan};

/// How a phase's capacity was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CapacityStatus {
    /// Bracketed and bisected: the SLO holds here and fails just above.
    Found,
    /// Bracketed on the user counts given with `--users`, not bisected:
    /// the capacity is at least `users` and below `fails_at`.
    Bracketed,
    /// Every user count simulated meets the SLO: the capacity is at least
    /// the largest one.
    AboveGrid,
    /// Not even one user meets the SLO.
    None,
    /// An open workload has no user count; the row says whether its
    /// arrival rate meets the SLO.
    Open,
    /// Not bisected (`--users` given) and the smallest user count given
    /// already misses the SLO: the capacity is below it, by how much unknown.
    BelowGrid,
}

impl CapacityStatus {
    /// The status as capacity.csv writes it (`status` column).
    pub fn name(self) -> &'static str {
        match self {
            CapacityStatus::Found => "found",
            CapacityStatus::Bracketed => "bracketed",
            CapacityStatus::AboveGrid => "above_grid",
            CapacityStatus::None => "none",
            CapacityStatus::Open => "open",
            CapacityStatus::BelowGrid => "below_grid",
        }
    }
}

/// The capacity of one phase.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Capacity {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// How it was found, and so how to read `users` and `fails_at`.
    pub status: CapacityStatus,
    /// Largest user count found to meet the SLO (0 when none does: read it
    /// through [`Capacity::measured`] or [`Capacity::at_least`], which say
    /// when it is a value and when only a bound).
    pub users: u32,
    /// Smallest user count found to fail it just above (`None` if none failed).
    pub fails_at: Option<u32>,
    /// The point at `users` (for open workloads, the single point).
    pub at: Option<PointEstimate>,
}

impl Capacity {
    /// The capacity as a value: the largest user count seen to meet the SLO
    /// with a failing count just above it (found or bracketed). `None` when
    /// it is only a bound or unknown — a spreadsheet must not read 0 or the
    /// grid's top as a measurement.
    pub fn measured(&self) -> Option<u32> {
        match self.status {
            CapacityStatus::Found | CapacityStatus::Bracketed if self.users > 0 => Some(self.users),
            _ => None,
        }
    }

    /// A user count the phase is known to carry within the SLO: the measured
    /// capacity, or the grid's top when every simulated count meets it.
    pub fn at_least(&self) -> Option<u32> {
        match self.status {
            CapacityStatus::AboveGrid if self.users > 0 => Some(self.users),
            _ => self.measured(),
        }
    }
}

/// Everything a sweep produced.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SweepResult {
    /// Grid and bisection points, by phase then users.
    pub points: Vec<PointEstimate>,
    /// Every run, by phase, users, replication.
    pub runs: Vec<RunRecord>,
    /// One per phase run, in phase order.
    pub capacity: Vec<Capacity>,
}

/// Bisection stops once the bracket is no wider than this.
pub fn resolution(lo: u32) -> u32 {
    (lo / 100).max(1)
}

struct Search {
    phase: usize,
    lo: u32,
    hi: Option<u32>,
}

/// Run the grid, then the capacity search.
pub(super) fn search(plan: &SweepPlan, progress: &dyn Progress) -> SweepResult {
    let slo = plan.scenario.slo;
    let keys: Vec<PointKey> = plan
        .phases
        .iter()
        .flat_map(|&phase| {
            plan.users.iter().map(move |&users| PointKey {
                phase,
                users,
                origin: Origin::Grid,
            })
        })
        .collect();
    let (mut points, mut runs) = plan.estimate(&keys, progress);
    // An open workload at one rate has nothing to search along; an
    // arrival-rate sweep is searched like users.
    let open = plan.scenario.one_rate();
    let mut searches: Vec<Search> = plan
        .phases
        .iter()
        .map(|&phase| {
            let mut lo = 0;
            let mut hi = None;
            for p in points.iter().filter(|p| p.key.phase == phase) {
                if p.meets(&slo) {
                    lo = p.key.users;
                } else {
                    hi = Some(p.key.users);
                    break;
                }
            }
            Search { phase, lo, hi }
        })
        .collect();
    if !open && plan.bisect {
        while !plan.interrupted() {
            let mids: Vec<PointKey> = searches
                .iter()
                .filter_map(|s| {
                    let hi = s.hi?;
                    let mid = s.lo + (hi - s.lo) / 2;
                    (hi - s.lo > resolution(s.lo) && mid > s.lo).then_some(PointKey {
                        phase: s.phase,
                        users: mid,
                        origin: Origin::Bisection,
                    })
                })
                .collect();
            if mids.is_empty() {
                break;
            }
            let (found, more) = plan.estimate(&mids, progress);
            for p in &found {
                if let Some(s) = searches.iter_mut().find(|s| s.phase == p.key.phase) {
                    if p.meets(&slo) {
                        s.lo = p.key.users;
                    } else {
                        s.hi = Some(p.key.users);
                    }
                }
            }
            points.extend(found);
            runs.extend(more);
        }
    }
    let order = |phase: usize| plan.phases.iter().position(|&p| p == phase);
    points.sort_by_key(|p| (order(p.key.phase), p.key.users));
    runs.sort_by_key(|r| (order(r.point.phase), r.point.users, r.point.replication));
    let capacity = searches
        .iter()
        .map(|s| {
            let at = if open {
                points.iter().find(|p| p.key.phase == s.phase)
            } else {
                points
                    .iter()
                    .find(|p| p.key.phase == s.phase && p.key.users == s.lo)
            };
            Capacity {
                phase: s.phase,
                status: if open {
                    CapacityStatus::Open
                } else if s.hi.is_none() {
                    CapacityStatus::AboveGrid
                } else if s.lo == 0 && !plan.bisect {
                    CapacityStatus::BelowGrid
                } else if s.lo == 0 {
                    CapacityStatus::None
                } else if !plan.bisect {
                    CapacityStatus::Bracketed
                } else {
                    CapacityStatus::Found
                },
                users: s.lo,
                fails_at: s.hi,
                at: at.cloned(),
            }
        })
        .collect();
    SweepResult {
        points,
        runs,
        capacity,
    }
}
