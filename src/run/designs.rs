//! The uncertainty study of a planned scenario: its designs (a Latin
//! hypercube over the scenario's ranges, [`crate::sweep::design`]) and the
//! tornado's end runs (each range at its low and at its high end, the others
//! at mid), every one a whole sweep and capacity search of the scenario at
//! those values, planned with the point run's options.
//!
//! Common random numbers: a run's seed depends on (seed, phase, users,
//! replication) only, never on the design, so every design sees the same
//! random streams and differences between designs are the ranges' doing,
//! not noise. The variants run side by side on the rayon pool and are
//! collected in order, so the study does not depend on `--jobs`.

use crate::outcome::uncertainty::{self, DesignRun, Study};
use crate::scenario::Scenario;
use crate::sweep::{self, design, Capacity, CapacityStatus, Progress, SweepPlan, SweepResult};
use rayon::prelude::*;

/// The values of every variant of `plan`'s study: its designs, then for
/// each range its low-end and high-end runs. Empty without a study.
fn variants(plan: &SweepPlan) -> (Vec<Vec<f64>>, usize) {
    if plan.designs == 0 {
        return (Vec::new(), 0);
    }
    let u = &plan.scenario.uncertainty;
    let mut all = design::designs(plan.seed, plan.designs, u);
    let n = all.len();
    let mid: Vec<f64> = u.ranges.iter().map(|r| r.mid()).collect();
    for members in u.params() {
        for low in [true, false] {
            let mut v = mid.clone();
            for &i in &members {
                v[i] = if low {
                    u.ranges[i].low
                } else {
                    u.ranges[i].high
                };
            }
            all.push(v);
        }
    }
    (all, n)
}

/// A variant's name in messages: "design 3" or "the low end of `x`".
fn variant_name(plan: &SweepPlan, designs: usize, k: usize) -> String {
    if k < designs {
        format!("design {}", k + 1)
    } else {
        let i = (k - designs) / 2;
        let end = if (k - designs).is_multiple_of(2) {
            "low"
        } else {
            "high"
        };
        let u = &plan.scenario.uncertainty;
        format!(
            "the tornado run at the {end} end of `{}`",
            u.ranges[u.params()[i][0]].label
        )
    }
}

/// Replications of every point of a design or tornado end, exactly, unless
/// the command line fixes them (`--replications`). A variant is read for
/// which side of each claim it falls on and where its capacity lies; the
/// spread across designs dwarfs the run-to-run noise three replications
/// leave, and the point run keeps its own precision rule.
pub const VARIANT_REPLICATIONS: u32 = 3;

/// The scenario of one variant, planned like the point run but for its
/// replications ([`VARIANT_REPLICATIONS`]).
fn plan_variant<'s>(plan: &SweepPlan, sc: &'s Scenario) -> Result<SweepPlan<'s>, String> {
    let mut opts = plan.options.clone();
    opts.designs = Some(0);
    opts.replications = opts.replications.or(Some(VARIANT_REPLICATIONS));
    let mut p = sweep::plan(sc, &opts).map_err(|e| e.to_string())?;
    p.cancel = plan.cancel;
    Ok(p)
}

/// Shared work: a design needs each phase's capacity and its claims, not
/// the curve far past saturation. In a closed system X ≤ 1/D_max, so a
/// population N has a mean response of at least N·D_max − Z; it cannot meet
/// a p95 objective P once N > (Z + P)/D_max (the mean of a response time is
/// below its 95th percentile for every distribution the models produce).
/// Grid points beyond twice that bound, but the first (the failing end of
/// the bracket), are dropped, claims' user counts kept. Returns whether any
/// point was dropped.
fn trim_grid(p: &mut SweepPlan) -> bool {
    let sc = p.scenario;
    let crate::model::Population::Closed { think } = sc.workload.population else {
        return false;
    };
    if !p.bisect {
        return false;
    }
    let z = think.mean_ns() / 1e9;
    let slo = sc.slo.p95_ms / 1e3;
    let bound = p
        .phases
        .iter()
        .map(|&ph| 2.0 * (z + slo) * p.analytic[ph].max_throughput_rps())
        .fold(0.0f64, f64::max);
    if !bound.is_finite() {
        return false;
    }
    let claimed: Vec<u32> = sc.claims.iter().filter_map(|c| c.users).collect();
    let first_above = p.users.iter().copied().find(|&u| f64::from(u) > bound);
    let before = p.users.len();
    p.users
        .retain(|&u| f64::from(u) <= bound || Some(u) == first_above || claimed.contains(&u));
    let kept = p.users.clone();
    p.points.retain(|pt| kept.contains(&pt.users));
    p.users.len() < before
}

/// Sweep one variant: on the trimmed grid, and again on the whole grid in
/// the rare case a phase met the objective at every point kept.
fn sweep_variant(
    plan: &SweepPlan,
    sc: &Scenario,
    progress: &dyn Progress,
) -> Result<SweepResult, String> {
    let mut p = plan_variant(plan, sc)?;
    let trimmed = trim_grid(&mut p);
    let result = p.run(progress);
    if trimmed
        && result
            .capacity
            .iter()
            .any(|c| c.status == CapacityStatus::AboveGrid)
    {
        return Ok(plan_variant(plan, sc)?.run(progress));
    }
    Ok(result)
}

/// Check that every variant of the study is a valid scenario that can be
/// planned, before anything runs: the ends of each range were checked with
/// the file, but a combination inside the ranges may still break a rule
/// (a minimum above a maximum, say).
pub fn check(plan: &SweepPlan) -> Result<(), String> {
    let (all, designs) = variants(plan);
    for (k, values) in all.iter().enumerate() {
        let fail = |e: String| {
            format!(
                "{}: {} ({}) is not a valid scenario: {e}",
                plan.scenario.path.display(),
                variant_name(plan, designs, k),
                describe(plan, values)
            )
        };
        let sc = plan.scenario.at(values).map_err(|e| fail(format!("{e}")))?;
        plan_variant(plan, &sc).map_err(fail)?;
    }
    Ok(())
}

/// "x = 3, y = 0.5": a variant's values.
fn describe(plan: &SweepPlan, values: &[f64]) -> String {
    plan.scenario
        .uncertainty
        .ranges
        .iter()
        .zip(values)
        .map(|(r, v)| format!("{} = {v}", r.label))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The runs of a study's variants, in variant order.
pub struct VariantRuns(Vec<Result<DesignRun, String>>);

/// Sweep every variant of `plan`'s study (none without a study).
pub fn run(plan: &SweepPlan, progress: &dyn Progress) -> VariantRuns {
    let (all, _) = variants(plan);
    VariantRuns(
        all.par_iter()
            .map(|values| {
                let sc = plan.scenario.at(values).map_err(|e| format!("{e}"))?;
                let result = sweep_variant(plan, &sc, progress)?;
                Ok(DesignRun::of(&sc, values.clone(), result))
            })
            .collect(),
    )
}

/// The study of `plan` from its variants' runs (`None` when it has none);
/// `point` is the point run's capacities. A variant that is not a valid
/// scenario (which [`check`] rules out before `simulate` runs anything) is
/// left out of the study and named in [`Study::invalid`].
pub fn summarise(plan: &SweepPlan, runs: VariantRuns, point: &[Capacity]) -> Option<Study> {
    let runs = runs.0;
    if runs.is_empty() {
        return None;
    }
    let designs = plan.designs as usize;
    let mut invalid = Vec::new();
    let mut kept = Vec::new();
    let mut ends = Vec::new();
    let mut it = runs.into_iter().enumerate();
    for (k, r) in it.by_ref().take(designs) {
        match r {
            Ok(d) => kept.push(d),
            Err(e) => invalid.push(format!("{}: {e}", variant_name(plan, designs, k))),
        }
    }
    let rest: Vec<(usize, Result<DesignRun, String>)> = it.collect();
    for pair in rest.chunks(2) {
        match (&pair[0], &pair[1]) {
            ((_, Ok(lo)), (_, Ok(hi))) => ends.push((lo.clone(), hi.clone())),
            ((k, Err(e)), _) | (_, (k, Err(e))) => {
                invalid.push(format!("{}: {e}", variant_name(plan, designs, *k)));
                ends.push((empty(), empty()));
            }
        }
    }
    // The study speaks of parameters: each by its first range (those that
    // share a name move together).
    let u = &plan.scenario.uncertainty;
    let params = u.params();
    let first = |d: &mut DesignRun| {
        if !d.values.is_empty() {
            d.values = params.iter().map(|m| d.values[m[0]]).collect();
        }
    };
    kept.iter_mut().for_each(first);
    let mut study = uncertainty::study(
        plan.scenario,
        params.iter().map(|m| u.ranges[m[0]].clone()).collect(),
        kept,
        &ends,
        point,
    );
    study.fields = params
        .iter()
        .map(|m| m.iter().map(|&i| u.ranges[i].path.clone()).collect())
        .collect();
    study.invalid = invalid;
    Some(study)
}

/// A variant that did not run: no capacity, no claims.
fn empty() -> DesignRun {
    DesignRun {
        values: Vec::new(),
        capacity: Vec::new(),
        claims: Vec::new(),
    }
}
