//! Money: what a phase costs per month at a given load, what it costs per
//! 1,000 users at its capacity (the guides' own KPI), and the cheapest phase
//! for each load — the plan that says when to migrate.

use crate::scenario::CostItem;

/// Units of `item` bought for `users` users: one for a fixed component,
/// ⌈users / per_users⌉ for one that scales with load — never fewer than one,
/// since a phase runs at least one of each of its components.
pub fn units(item: &CostItem, users: u32) -> u64 {
    match item.per_users {
        None => 1,
        Some(n) => u64::from(users).div_ceil(u64::from(n.max(1))).max(1),
    }
}

/// Monthly price of a phase's `costs` for `users` users, in US dollars.
pub fn monthly_usd(costs: &[CostItem], users: u32) -> f64 {
    costs
        .iter()
        .map(|c| units(c, users) as f64 * c.usd_month)
        .sum()
}

/// Dollars per month per 1,000 users when carrying `users` users.
pub fn usd_per_1k_users(usd_month: f64, users: u32) -> Option<f64> {
    (users > 0).then(|| usd_month / (f64::from(users) / 1000.0))
}

/// The money side of one phase.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseCost {
    /// The phase's name, as in the scenario.
    pub phase: String,
    /// Every component at one unit: what running the phase at all costs.
    pub usd_month_min: f64,
    /// The components bought once, whatever the load.
    pub usd_month_fixed: f64,
    /// Largest simulated user count meeting the SLO; `None` if none does.
    pub capacity_users: Option<u32>,
    /// `capacity_users` is only a lower bound (every simulated load met the
    /// SLO), so the costs "at capacity" are what carrying that many costs and
    /// the cost per 1,000 users an upper bound: writers leave them blank
    /// where a value is expected, and say "≥" / "≤" where they show bounds.
    pub capacity_is_lower_bound: bool,
    /// Monthly cost with load-scaled components sized for the capacity
    /// (`None` without a capacity).
    pub usd_month_at_capacity: Option<f64>,
    /// Dollars a month per 1,000 users at the capacity, the guides' KPI
    /// (`None` without a capacity, or at a capacity of 0 users).
    pub usd_per_1k_users: Option<f64>,
}

impl PhaseCost {
    /// The costs of phase `phase` (named) from its cost items and its
    /// capacity in users.
    pub fn new(phase: &str, costs: &[CostItem], capacity_users: Option<u32>) -> Self {
        let at_cap = capacity_users.map(|u| monthly_usd(costs, u));
        PhaseCost {
            phase: phase.to_string(),
            usd_month_min: monthly_usd(costs, 0),
            usd_month_fixed: costs
                .iter()
                .filter(|c| c.per_users.is_none())
                .map(|c| c.usd_month)
                .sum(),
            capacity_users,
            capacity_is_lower_bound: false,
            usd_month_at_capacity: at_cap,
            usd_per_1k_users: capacity_users
                .zip(at_cap)
                .and_then(|(u, c)| usd_per_1k_users(c, u)),
        }
    }
}

impl PhaseCost {
    /// The same, with `capacity_users` marked as only a lower bound when
    /// `bound` is true.
    pub fn with_lower_bound(mut self, bound: bool) -> Self {
        self.capacity_is_lower_bound = bound && self.capacity_users.is_some();
        self
    }

    /// The capacity as a value (`None` when unknown or only a bound).
    pub fn measured_capacity(&self) -> Option<u32> {
        self.capacity_users
            .filter(|_| !self.capacity_is_lower_bound)
    }

    /// The monthly cost at a measured capacity (`None` when only a bound).
    pub fn measured_usd_month(&self) -> Option<f64> {
        self.usd_month_at_capacity
            .filter(|_| !self.capacity_is_lower_bound)
    }

    /// The cost per 1,000 users at a measured capacity (`None` when only a bound).
    pub fn measured_usd_per_1k(&self) -> Option<f64> {
        self.usd_per_1k_users
            .filter(|_| !self.capacity_is_lower_bound)
    }
}

/// What one phase offers the plan: its costs, its capacity and that
/// capacity's noise interval.
#[derive(Clone, Copy, Debug)]
pub struct PlanCandidate<'c> {
    /// The phase's cost items.
    pub costs: &'c [CostItem],
    /// Users the phase is known to carry within the SLO (`None`: none).
    pub capacity_users: Option<u32>,
    /// Where the capacity lies once the points' 95% intervals are read:
    /// see [`super::CapacityNoise`].
    pub noise: super::CapacityNoise,
}

impl PlanCandidate<'_> {
    /// Whether this phase's capacity is above `other`'s beyond the noise:
    /// the least it surely carries exceeds the least at which `other` surely
    /// fails. A gain inside the two intervals is not one to migrate for.
    pub fn beats(&self, other: &PlanCandidate) -> bool {
        other
            .noise
            .surely_fails
            .is_some_and(|f| self.noise.surely_meets >= f)
    }
}

/// How the plan reached a load from the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanStep {
    /// The first load the plan covers.
    Start,
    /// The same phase as the load before.
    Same,
    /// A cheaper phase that also carries the load: a saving, while the
    /// previous phase still had room.
    Cheaper,
    /// The previous phase has no room left and this one's capacity is above
    /// it beyond the noise: a real gain.
    RealGain,
    /// The previous phase has no room left, and the only phases that do have
    /// it carry more only within the capacities' intervals: the plan does not
    /// migrate for a gain it cannot tell from noise. `PlanPoint::phase` is
    /// `None`; `PlanPoint::within_noise` names the phase it would have taken.
    WithinNoise,
    /// No phase carries the load with the headroom kept.
    Uncovered,
}

impl PlanStep {
    /// The step as plan.csv writes it (`step` column).
    pub fn name(self) -> &'static str {
        match self {
            PlanStep::Start => "start",
            PlanStep::Same => "same",
            PlanStep::Cheaper => "cheaper",
            PlanStep::RealGain => "real_gain",
            PlanStep::WithinNoise => "within_noise",
            PlanStep::Uncovered => "uncovered",
        }
    }
}

/// One load of the plan: the cheapest phase that carries it within the SLO
/// with the headroom kept.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanPoint {
    /// The load: one simulated user count.
    pub users: u32,
    /// Index into the phases given to [`cheapest_plan`]; `None` when no phase
    /// carries this load (or only one whose gain is within the noise).
    pub phase: Option<usize>,
    /// How the plan got here from the load before.
    pub step: PlanStep,
    /// For a [`PlanStep::WithinNoise`] step, the phase the cost alone would
    /// have chosen.
    pub within_noise: Option<usize>,
    /// What that phase costs a month at this load.
    pub usd_month: Option<f64>,
    /// The same per 1,000 users.
    pub usd_per_1k_users: Option<f64>,
}

/// For each user count of `users` (ascending), the cheapest of `phases`
/// whose capacity, less the `headroom` share kept in reserve, reaches it;
/// ties go to the phase listed first (the simpler one, as the guides list
/// phases in order of growth). When the phase of the load before runs out
/// of room, only a phase that [`PlanCandidate::beats`] it is migrated to.
pub fn cheapest_plan(phases: &[PlanCandidate], users: &[u32], headroom: f64) -> Vec<PlanPoint> {
    let room = |p: &PlanCandidate, u: u32| {
        p.capacity_users
            .is_some_and(|c| f64::from(u) <= f64::from(c) * (1.0 - headroom))
    };
    let cheapest = |u: u32, ok: &dyn Fn(&PlanCandidate) -> bool| {
        phases
            .iter()
            .enumerate()
            .filter(|(_, p)| room(p, u) && ok(p))
            .map(|(i, p)| (i, monthly_usd(p.costs, u)))
            .fold(None, |best: Option<(usize, f64)>, (i, c)| match best {
                Some((_, bc)) if bc <= c => best,
                _ => Some((i, c)),
            })
    };
    // The last phase the plan ran on: what a migration must beat.
    let mut current: Option<usize> = None;
    users
        .iter()
        .map(|&u| {
            let any = cheapest(u, &|_| true);
            let (best, step, within_noise) = match (current, any) {
                (_, None) => (None, PlanStep::Uncovered, None),
                (None, Some(b)) => (Some(b), PlanStep::Start, None),
                // While the current phase has room, a cheaper one may take
                // over — but not one it surely out-carries: a growth plan
                // does not step down in capacity.
                (Some(c), Some(_)) if room(&phases[c], u) => {
                    match cheapest(u, &|p| !phases[c].beats(p)) {
                        Some(b) if b.0 != c => (Some(b), PlanStep::Cheaper, None),
                        b => (b, PlanStep::Same, None),
                    }
                }
                (Some(c), Some(b)) => match cheapest(u, &|p| p.beats(&phases[c])) {
                    Some(g) => (Some(g), PlanStep::RealGain, None),
                    None => (None, PlanStep::WithinNoise, Some(b.0)),
                },
            };
            if let Some((i, _)) = best {
                current = Some(i);
            }
            let usd_month = best.map(|b| b.1);
            PlanPoint {
                users: u,
                phase: best.map(|b| b.0),
                step,
                within_noise,
                usd_month,
                usd_per_1k_users: usd_month.and_then(|c| usd_per_1k_users(c, u)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::CapacityNoise;

    /// A candidate whose capacity is known to the user (no noise).
    fn exact<'c>(costs: &'c [CostItem], capacity: Option<u32>) -> PlanCandidate<'c> {
        noisy(
            costs,
            capacity,
            capacity.unwrap_or(0),
            capacity.map(|c| c + 1),
        )
    }

    fn noisy<'c>(
        costs: &'c [CostItem],
        capacity: Option<u32>,
        surely_meets: u32,
        surely_fails: Option<u32>,
    ) -> PlanCandidate<'c> {
        PlanCandidate {
            costs,
            capacity_users: capacity,
            noise: CapacityNoise {
                surely_meets,
                surely_fails,
            },
        }
    }

    fn phase(costs: &[(f64, Option<u32>)]) -> Vec<CostItem> {
        costs
            .iter()
            .map(|&(usd_month, per_users)| CostItem {
                item: "x".into(),
                usd_month,
                per_users,
            })
            .collect()
    }

    #[test]
    fn scaling_components_are_bought_in_whole_units() {
        let p = phase(&[(20.0, None), (10.0, Some(5000))]);
        assert_eq!(monthly_usd(&p, 0), 30.0);
        assert_eq!(monthly_usd(&p, 5000), 30.0);
        assert_eq!(monthly_usd(&p, 5001), 40.0);
        assert_eq!(monthly_usd(&p, 12_000), 50.0);
        let c = PhaseCost::new("A", &p, Some(12_000));
        assert_eq!(c.usd_per_1k_users, Some(50.0 / 12.0));
        assert_eq!(PhaseCost::new("A", &p, None).usd_per_1k_users, None);
    }

    #[test]
    fn the_plan_takes_the_cheapest_phase_that_carries_the_load() {
        let small = phase(&[(20.0, None)]);
        let big = phase(&[(50.0, None)]);
        let elastic = phase(&[(15.0, Some(1000))]);
        let phases = [
            exact(&small, Some(100)),
            exact(&big, Some(10_000)),
            exact(&elastic, None),
        ];
        let plan = cheapest_plan(&phases, &[10, 100, 1000, 100_000], 0.0);
        let got: Vec<_> = plan.iter().map(|p| (p.phase, p.usd_month)).collect();
        assert_eq!(
            got,
            [
                (Some(0), Some(20.0)),
                (Some(0), Some(20.0)),
                (Some(1), Some(50.0)),
                (None, None)
            ]
        );
        // With a capacity, the elastic phase undercuts both at low load.
        let phases = [
            exact(&small, Some(100)),
            exact(&big, Some(10_000)),
            exact(&elastic, Some(2000)),
        ];
        let plan = cheapest_plan(&phases, &[10, 2000, 3000], 0.0);
        let got: Vec<_> = plan.iter().map(|p| (p.phase, p.usd_month)).collect();
        assert_eq!(
            got,
            [
                (Some(2), Some(15.0)),
                (Some(2), Some(30.0)),
                (Some(1), Some(50.0))
            ]
        );
    }

    #[test]
    fn the_plan_keeps_its_headroom() {
        let small = phase(&[(20.0, None)]);
        let big = phase(&[(50.0, None)]);
        let phases = [exact(&small, Some(1000)), exact(&big, Some(10_000))];
        // 20% in reserve: the small phase carries up to 800 users, not 1000.
        let plan = cheapest_plan(&phases, &[800, 801, 1000, 8000, 8001], 0.2);
        let got: Vec<_> = plan.iter().map(|p| (p.phase, p.step)).collect();
        assert_eq!(
            got,
            [
                (Some(0), PlanStep::Start),
                (Some(1), PlanStep::RealGain),
                (Some(1), PlanStep::Same),
                (Some(1), PlanStep::Same),
                (None, PlanStep::Uncovered),
            ]
        );
    }

    #[test]
    fn the_plan_refuses_a_step_within_the_noise() {
        // Fixia's replicas → Redis: 7,515 vs 7,609 users, each known only to
        // an interval wider than the gap.
        let replicas = phase(&[(60.0, None)]);
        let redis = phase(&[(70.0, None)]);
        let shards = phase(&[(150.0, None)]);
        let headroom = 0.2;
        let loads = [6000, 6050, 6080, 7000];
        let two = [
            noisy(&replicas, Some(7515), 7300, Some(7750)),
            noisy(&redis, Some(7609), 7400, Some(7850)),
        ];
        // Room: replicas 6012, Redis 6087.2. Redis has room at 6050 and
        // 6080, but its capacity is above the replicas' only within the
        // noise: the plan does not migrate, and says so.
        let got: Vec<_> = cheapest_plan(&two, &loads, headroom)
            .iter()
            .map(|p| (p.phase, p.step, p.within_noise))
            .collect();
        assert_eq!(
            got,
            [
                (Some(0), PlanStep::Start, None),
                (None, PlanStep::WithinNoise, Some(1)),
                (None, PlanStep::WithinNoise, Some(1)),
                (None, PlanStep::Uncovered, None),
            ]
        );
        // With sharding (dearer, clearly above both), the plan migrates to it
        // rather than to the cheaper Redis, and does not step back down.
        let three = [
            two[0],
            two[1],
            noisy(&shards, Some(20_000), 19_000, Some(21_000)),
        ];
        let got: Vec<_> = cheapest_plan(&three, &loads, headroom)
            .iter()
            .map(|p| (p.phase, p.step))
            .collect();
        assert_eq!(
            got,
            [
                (Some(0), PlanStep::Start),
                (Some(2), PlanStep::RealGain),
                (Some(2), PlanStep::Same),
                (Some(2), PlanStep::Same),
            ]
        );
        // Had Redis surely carried more than the replicas surely fail at,
        // the step would be a real gain.
        let phases = [
            noisy(&replicas, Some(7515), 7300, Some(7550)),
            noisy(&redis, Some(7609), 7560, Some(7700)),
        ];
        let plan = cheapest_plan(&phases, &[6000, 6050], headroom);
        assert_eq!(plan[1].phase, Some(1));
        assert_eq!(plan[1].step, PlanStep::RealGain);
    }
}
