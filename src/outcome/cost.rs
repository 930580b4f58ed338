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

/// One load of the plan: the cheapest phase that carries it within the SLO.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanPoint {
    /// The load: one simulated user count.
    pub users: u32,
    /// Index into the phases given to [`cheapest_plan`]; `None` when no phase
    /// carries this load.
    pub phase: Option<usize>,
    /// What that phase costs a month at this load.
    pub usd_month: Option<f64>,
    /// The same per 1,000 users.
    pub usd_per_1k_users: Option<f64>,
}

/// For each user count of `users` (ascending), the cheapest of `phases`
/// (each as its costs and capacity) whose capacity reaches it; ties go to the
/// phase listed first (the simpler one, as the guides list phases in order
/// of growth).
pub fn cheapest_plan(phases: &[(&[CostItem], Option<u32>)], users: &[u32]) -> Vec<PlanPoint> {
    users
        .iter()
        .map(|&u| {
            let best = phases
                .iter()
                .enumerate()
                .filter(|(_, (_, cap))| cap.is_some_and(|c| c >= u))
                .map(|(i, (p, _))| (i, monthly_usd(p, u)))
                .fold(None, |best: Option<(usize, f64)>, (i, c)| match best {
                    Some((_, bc)) if bc <= c => best,
                    _ => Some((i, c)),
                });
            let usd_month = best.map(|b| b.1);
            PlanPoint {
                users: u,
                phase: best.map(|b| b.0),
                usd_month,
                usd_per_1k_users: usd_month.and_then(|c| usd_per_1k_users(c, u)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (&small[..], Some(100)),
            (&big[..], Some(10_000)),
            (&elastic[..], None),
        ];
        let plan = cheapest_plan(&phases, &[10, 100, 1000, 100_000]);
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
            (&small[..], Some(100)),
            (&big[..], Some(10_000)),
            (&elastic[..], Some(2000)),
        ];
        let plan = cheapest_plan(&phases, &[10, 2000, 3000]);
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
}
