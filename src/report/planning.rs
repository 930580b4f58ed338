//! The planner's outputs of one scenario: `costs.csv`, `plan.csv`, the PNG
//! charts and `report.md`; and `summary.csv` across the scenarios of a run.

use super::charts::{self, ChartMeta, CostBar, Curve, Panel, PlanStep};
use super::markdown;
use super::points::{self, Estimate, PointSummary};
use super::{num, write_atomically};
use crate::capacity::{Capacity, CapacityStatus, SweepResult};
use crate::cost::{self, PhaseCost, PlanPoint};
use crate::scenario::{Scenario, Slo};
use crate::sweep::SweepPlan;
use std::path::Path;

/// The columns of `costs.csv`: one row per phase.
pub const COSTS_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "usd_month_min",
    "capacity_users",
    "usd_month_at_capacity",
    "usd_per_1k_users_at_capacity",
];

/// The columns of `plan.csv`: one row per simulated user count.
pub const PLAN_COLUMNS: &[&str] = &[
    "scenario",
    "users",
    "cheapest_phase",
    "usd_month",
    "usd_per_1k_users",
];

/// The columns of `output/summary.csv`: one row per scenario × phase.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "scenario",
    "scenario_name",
    "seed",
    "slo_p95_ms",
    "slo_error_rate",
    "phase",
    "capacity_users",
    "p95_ms_at_capacity",
    "throughput_rps_at_capacity",
    "bottleneck",
    "bottleneck_utilisation",
    "usd_month_at_capacity",
    "usd_per_1k_users_at_capacity",
];

/// The chart files of a scenario, in the order report.md shows them.
pub const CHART_FILES: &[(&str, &str)] = &[
    (
        "plan.png",
        "The plan: cheapest phase meeting the SLO, by load",
    ),
    ("latency.png", "Response time vs load"),
    ("throughput.png", "Throughput vs load"),
    ("utilisation.png", "Utilisation vs load"),
    ("cost.png", "Monthly cost per phase, at capacity"),
];

/// What to write besides the CSV tables.
#[derive(Clone, Debug, Default)]
pub struct PlanningOptions {
    /// Draw the PNG charts (`--no-plots` turns them off).
    pub plots: bool,
    /// The seed the runs derived from (the scenario's or `--seed`).
    pub seed: u64,
    /// The claim verdicts section of report.md, as Markdown, when claims
    /// were checked.
    pub claims: Option<String>,
}

/// What one phase delivered.
#[derive(Clone, Debug)]
pub struct PhaseOutcome {
    /// Index into `scenario.phases`.
    pub phase: usize,
    pub cost: PhaseCost,
    /// The point at capacity, if the phase has one.
    pub at_capacity: Option<PointSummary>,
    /// Every load simulated met the SLO: the capacity is at least that.
    pub above_grid: bool,
    /// Every simulated point of the phase, by users.
    pub points: Vec<PointSummary>,
    /// The busiest resource at the first simulated load that misses the
    /// SLO: what to relieve next. `None` if no simulated load misses it.
    pub bottleneck: Option<(String, f64)>,
}

/// What one scenario delivered, for report.md and summary.csv.
#[derive(Clone, Debug)]
pub struct ScenarioOutcome {
    pub slug: String,
    pub name: String,
    pub seed: u64,
    pub slo: Slo,
    pub phases: Vec<PhaseOutcome>,
    /// `PlanPoint::phase` indexes `phases`.
    pub plan: Vec<PlanPoint>,
    /// Chart files written (relative to the scenario folder).
    pub charts: Vec<&'static str>,
}

/// Work out the capacity, cost and plan of every phase that was run.
/// The capacity of each phase comes from the sweep's search (the same
/// numbers as capacity.csv); the per-point summaries give the point at
/// capacity and the busiest resource where the SLO first fails.
pub fn outcome(
    sc: &Scenario,
    capacities: &[Capacity],
    pts: &[PointSummary],
    seed: u64,
) -> ScenarioOutcome {
    let outcomes: Vec<PhaseOutcome> = capacities
        .iter()
        .map(|c| {
            let ph = c.phase;
            let capacity = match c.status {
                CapacityStatus::Found | CapacityStatus::Bracketed | CapacityStatus::AboveGrid => {
                    Some(c.users)
                }
                CapacityStatus::None | CapacityStatus::Open => None,
            };
            let mut mine: Vec<&PointSummary> = pts.iter().filter(|p| p.phase == ph).collect();
            mine.sort_by_key(|p| p.users);
            let at_capacity =
                capacity.and_then(|u| mine.iter().find(|p| p.users == u).cloned().cloned());
            let bottleneck = c
                .fails_at
                .and_then(|u| mine.iter().find(|p| p.users == u))
                .and_then(|p| p.busiest().map(|(n, u)| (n.to_string(), u)));
            PhaseOutcome {
                phase: ph,
                cost: PhaseCost::new(&sc.phases[ph].name, &sc.phases[ph].costs, capacity),
                at_capacity,
                above_grid: c.status == CapacityStatus::AboveGrid,
                bottleneck,
                points: mine.into_iter().cloned().collect(),
            }
        })
        .collect();
    let mut users: Vec<u32> = pts.iter().map(|p| p.users).filter(|&u| u > 0).collect();
    users.sort_unstable();
    users.dedup();
    let candidates: Vec<_> = outcomes
        .iter()
        .map(|o| (&sc.phases[o.phase].costs[..], o.cost.capacity_users))
        .collect();
    ScenarioOutcome {
        slug: sc.slug.clone(),
        name: sc.name.clone(),
        seed,
        slo: sc.slo,
        plan: cost::cheapest_plan(&candidates, &users),
        phases: outcomes,
        charts: Vec::new(),
    }
}

/// Write costs.csv, plan.csv, the charts (unless turned off) and report.md
/// for one scenario's runs.
pub fn write_planning(
    dir: &Path,
    plan: &SweepPlan,
    result: &SweepResult,
    opts: &PlanningOptions,
) -> anyhow::Result<ScenarioOutcome> {
    let sc = plan.scenario;
    let pts = points::summarise(plan, result);
    let mut out = outcome(sc, &result.capacity, &pts, opts.seed);
    write_costs_csv(&dir.join("costs.csv"), &out)?;
    write_plan_csv(&dir.join("plan.csv"), sc, &out)?;
    if opts.plots {
        out.charts = write_charts(dir, sc, &pts, plan, &out)?;
    }
    markdown::write_report_md(
        &dir.join("report.md"),
        sc,
        plan,
        &out,
        opts.claims.as_deref(),
    )?;
    Ok(out)
}

fn write_costs_csv(path: &Path, o: &ScenarioOutcome) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(COSTS_COLUMNS)?;
        for p in &o.phases {
            let c = &p.cost;
            out.write_record([
                o.slug.clone(),
                c.phase.clone(),
                num(c.usd_month_min, 2),
                c.capacity_users.map(|u| u.to_string()).unwrap_or_default(),
                num(c.usd_month_at_capacity.unwrap_or(f64::NAN), 2),
                num(c.usd_per_1k_users.unwrap_or(f64::NAN), 4),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

fn write_plan_csv(path: &Path, sc: &Scenario, o: &ScenarioOutcome) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(PLAN_COLUMNS)?;
        for p in &o.plan {
            let phase = p
                .phase
                .map(|i| sc.phases[o.phases[i].phase].name.clone())
                .unwrap_or_default();
            let usd = p.usd_month.unwrap_or(f64::NAN);
            let per_1k = p
                .usd_month
                .and_then(|c| cost::usd_per_1k_users(c, p.users))
                .unwrap_or(f64::NAN);
            out.write_record([
                o.slug.clone(),
                p.users.to_string(),
                phase,
                num(usd, 2),
                num(per_1k, 4),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

/// Write `summary.csv` across the scenarios of a run.
pub fn write_summary_csv(path: &Path, outcomes: &[ScenarioOutcome]) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(SUMMARY_COLUMNS)?;
        for o in outcomes {
            for p in &o.phases {
                let c = &p.cost;
                let at = p.at_capacity.as_ref();
                let (bn, bu) = p
                    .bottleneck
                    .as_ref()
                    .map_or(("", f64::NAN), |(n, u)| (n.as_str(), *u));
                out.write_record([
                    o.slug.clone(),
                    o.name.clone(),
                    o.seed.to_string(),
                    num(o.slo.p95_ms, 3),
                    num(o.slo.error_rate, 6),
                    c.phase.clone(),
                    c.capacity_users.map(|u| u.to_string()).unwrap_or_default(),
                    num(at.map_or(f64::NAN, |a| a.p95_ms.mean), 3),
                    num(at.map_or(f64::NAN, |a| a.throughput_rps.mean), 3),
                    bn.to_string(),
                    num(bu, 4),
                    num(c.usd_month_at_capacity.unwrap_or(f64::NAN), 2),
                    num(c.usd_per_1k_users.unwrap_or(f64::NAN), 4),
                ])?;
            }
        }
        out.flush()?;
        Ok(())
    })
}

/// One curve per phase of the metric `f`.
fn curves(
    sc: &Scenario,
    o: &ScenarioOutcome,
    pts: &[PointSummary],
    f: impl Fn(&PointSummary) -> Estimate,
) -> Vec<Curve> {
    o.phases
        .iter()
        .map(|ph| {
            let mut mine: Vec<&PointSummary> = pts.iter().filter(|p| p.phase == ph.phase).collect();
            mine.sort_by_key(|p| p.users);
            curve(sc.phases[ph.phase].name.clone(), &mine, &f)
        })
        .collect()
}

fn curve(label: String, pts: &[&PointSummary], f: impl Fn(&PointSummary) -> Estimate) -> Curve {
    Curve {
        label,
        users: pts.iter().map(|p| f64::from(p.users)).collect(),
        mean: pts.iter().map(|p| f(p).mean).collect(),
        lo: pts.iter().map(|p| f(p).lo).collect(),
        hi: pts.iter().map(|p| f(p).hi).collect(),
    }
}

/// Resource groups shown per phase: the busiest few, so that a model with
/// many resources stays readable; idle ones (< 1%) are left out.
const MAX_RESOURCES_SHOWN: usize = 6;

fn utilisation_panels(sc: &Scenario, o: &ScenarioOutcome, pts: &[PointSummary]) -> Vec<Panel> {
    o.phases
        .iter()
        .map(|ph| {
            let mut mine: Vec<&PointSummary> = pts.iter().filter(|p| p.phase == ph.phase).collect();
            mine.sort_by_key(|p| p.users);
            let names: Vec<String> = mine
                .first()
                .map(|p| p.utilisation.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            let mut peak: Vec<(usize, f64)> = (0..names.len())
                .map(|k| {
                    let m = mine
                        .iter()
                        .filter_map(|p| p.utilisation.get(k).map(|u| u.1.mean))
                        .filter(|u| u.is_finite())
                        .fold(0.0f64, f64::max);
                    (k, m)
                })
                .filter(|&(_, m)| m >= 0.01)
                .collect();
            peak.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            peak.truncate(MAX_RESOURCES_SHOWN);
            peak.sort_by_key(|&(k, _)| k);
            Panel {
                phase: sc.phases[ph.phase].name.clone(),
                curves: peak
                    .iter()
                    .map(|&(k, _)| {
                        curve(names[k].clone(), &mine, |p| {
                            p.utilisation.get(k).map_or(
                                Estimate {
                                    mean: f64::NAN,
                                    lo: f64::NAN,
                                    hi: f64::NAN,
                                },
                                // A utilisation lies in [0, 1]: so does its band.
                                |u| Estimate {
                                    mean: u.1.mean,
                                    lo: u.1.lo.max(0.0),
                                    hi: u.1.hi.min(1.0),
                                },
                            )
                        })
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Each phase's analytic throughput bound, min(N / (D + Z), 1 / D_max),
/// over the simulated range: on a fine log grid plus the knee itself, so that
/// the dashed line bends where the bound does, not between grid points.
fn bound_curves(
    sc: &Scenario,
    o: &ScenarioOutcome,
    plan: &SweepPlan,
    pts: &[PointSummary],
) -> Vec<Curve> {
    let users = pts.iter().map(|p| p.users).filter(|&u| u > 0);
    let (lo, hi) = users.fold((u32::MAX, 0), |(a, b), u| (a.min(u), b.max(u)));
    if lo > hi {
        return Vec::new();
    }
    o.phases
        .iter()
        .filter_map(|ph| {
            let a = plan.analytic.get(ph.phase)?;
            const STEPS: u32 = 160;
            let ratio = f64::from(hi) / f64::from(lo);
            let mut ns: Vec<u32> = (0..=STEPS)
                .map(|k| {
                    (f64::from(lo) * ratio.powf(f64::from(k) / f64::from(STEPS))).round() as u32
                })
                .collect();
            let knee = a.knee_users();
            if knee.is_finite() && knee >= f64::from(lo) && knee <= f64::from(hi) {
                ns.extend([knee.floor() as u32, knee.ceil() as u32]);
            }
            ns.sort_unstable();
            ns.dedup();
            let bound: Vec<f64> = ns.iter().map(|&n| a.throughput_bound_rps(n)).collect();
            bound.iter().any(|b| b.is_finite()).then(|| Curve {
                label: sc.phases[ph.phase].name.clone(),
                users: ns.iter().map(|&n| f64::from(n)).collect(),
                mean: bound.clone(),
                lo: bound.clone(),
                hi: bound,
            })
        })
        .collect()
}

fn write_charts(
    dir: &Path,
    sc: &Scenario,
    pts: &[PointSummary],
    plan: &SweepPlan,
    o: &ScenarioOutcome,
) -> anyhow::Result<Vec<&'static str>> {
    let meta = ChartMeta {
        scenario: sc.name.clone(),
        seed: o.seed,
        slo_p95_ms: sc.slo.p95_ms,
    };
    let mut written = Vec::new();
    // Every chart is drawn against users (the cost one at the capacity in
    // users): an open workload, one arrival rate, has none to draw.
    if !pts.iter().any(|p| p.users > 0) {
        return Ok(written);
    }
    {
        let names: Vec<String> = o
            .phases
            .iter()
            .map(|p| sc.phases[p.phase].name.clone())
            .collect();
        let steps: Vec<PlanStep> = o
            .plan
            .iter()
            .map(|p| PlanStep {
                users: p.users,
                phase: p.phase,
                usd_month: p.usd_month,
            })
            .collect();
        charts::plan_chart(&dir.join("plan.png"), &meta, &names, &steps)?;
        charts::latency_chart(
            &dir.join("latency.png"),
            &meta,
            &curves(sc, o, pts, |p| p.p50_ms),
            &curves(sc, o, pts, |p| p.p95_ms),
        )?;
        charts::throughput_chart(
            &dir.join("throughput.png"),
            &meta,
            &curves(sc, o, pts, |p| p.throughput_rps),
            &bound_curves(sc, o, plan, pts),
        )?;
        charts::utilisation_chart(
            &dir.join("utilisation.png"),
            &meta,
            &utilisation_panels(sc, o, pts),
        )?;
        written.extend([
            "plan.png",
            "latency.png",
            "throughput.png",
            "utilisation.png",
        ]);
    }
    let bars: Vec<CostBar> = o
        .phases
        .iter()
        .map(|p| {
            let phase = &sc.phases[p.phase];
            let fixed: f64 = phase
                .costs
                .iter()
                .filter(|c| c.per_users.is_none())
                .map(|c| c.usd_month)
                .sum();
            CostBar {
                phase: phase.name.clone(),
                fixed_usd_month: fixed,
                usd_month: p.cost.usd_month_at_capacity.unwrap_or(p.cost.usd_month_min),
                capacity_users: p.cost.capacity_users,
                usd_per_1k_users: p.cost.usd_per_1k_users,
            }
        })
        .collect();
    charts::cost_chart(&dir.join("cost.png"), &meta, &bars)?;
    written.push("cost.png");
    Ok(written)
}
