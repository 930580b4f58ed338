//! The charts of one scenario, laid out from its [`Outcome`]: which series
//! each chart shows, in which order and colour. The drawing itself is
//! [`super::charts`].

use super::charts::{self, ChartMeta, CostBar, Curve, Panel, PlanStep};
use crate::outcome::utilisation::display_name;
use crate::outcome::{Estimate, LoadPoint, Outcome};
use crate::scenario::LoadAxis;
use std::path::Path;

/// The chart files of a scenario, in the order report.md shows them: each
/// PNG with its title; every one has its SVG beside it ([`svg_of`]).
pub const CHART_FILES: &[(&str, &str)] = &[
    (
        "plan.png",
        "The plan: cheapest phase meeting the SLO, by load",
    ),
    ("latency.png", "Response time vs load"),
    (
        "errors.png",
        "Error rate vs load, with each phase's capacity",
    ),
    ("throughput.png", "Throughput vs load"),
    ("utilisation.png", "Utilisation vs load"),
    ("cost.png", "Monthly cost per phase, at capacity"),
];

/// The SVG drawn beside a chart's PNG: `latency.png` → `latency.svg`.
pub fn svg_of(png: &str) -> String {
    format!("{}.svg", png.strip_suffix(".png").unwrap_or(png))
}

/// Resource groups shown per phase: the busiest few, so that a model with
/// many resources stays readable; idle ones (< 1%) are left out.
const MAX_RESOURCES_SHOWN: usize = 6;

/// Draw every chart of the scenario into `dir`, each as PNG and SVG; the
/// PNGs written.
pub fn write_charts(dir: &Path, o: &Outcome) -> anyhow::Result<Vec<&'static str>> {
    let sc = o.scenario();
    let meta = ChartMeta {
        scenario: sc.name.clone(),
        seed: o.seed(),
        assumptions: super::markdown::assumptions_footer(o),
        slo_error_rate: sc.slo.error_rate,
        slo_p95_ms: sc.slo.p95_ms,
        load: o.load,
    };
    let mut written = Vec::new();
    // Every chart is drawn against users (the cost one at the capacity in
    // users): an open workload, one arrival rate, has none to draw.
    if !o.has_users() {
        return Ok(written);
    }
    let names: Vec<String> = o
        .phases
        .iter()
        .map(|p| sc.phases[p.phase].name.clone())
        .collect();
    let steps: Vec<PlanStep> = o
        .migration
        .iter()
        .map(|p| PlanStep {
            users: p.users,
            phase: p.phase,
            usd_month: p.usd_month,
        })
        .collect();
    // The plan and the bill are read in users (cost items scale per so
    // many users): along arrival rates only the load charts are drawn.
    let by_users = o.load == LoadAxis::Users;
    if by_users {
        charts::plan_chart(&dir.join("plan.png"), &meta, &names, &steps)?;
        written.push("plan.png");
    }
    let capacities: Vec<Option<f64>> = o
        .phases
        .iter()
        .map(|p| p.capacity.measured().map(f64::from))
        .collect();
    charts::latency_chart(
        &dir.join("latency.png"),
        &meta,
        &curves(o, |p| p.estimate.p50_ms),
        &curves(o, |p| p.estimate.p95_ms),
        &capacities,
    )?;
    charts::error_chart(
        &dir.join("errors.png"),
        &meta,
        &curves(o, |p| p.estimate.error_rate),
        &capacities,
    )?;
    charts::throughput_chart(
        &dir.join("throughput.png"),
        &meta,
        &curves(o, |p| p.estimate.throughput_rps),
        &bound_curves(o),
    )?;
    charts::utilisation_chart(&dir.join("utilisation.png"), &meta, &utilisation_panels(o))?;
    written.extend([
        "latency.png",
        "errors.png",
        "throughput.png",
        "utilisation.png",
    ]);
    if !by_users {
        return Ok(written);
    }
    let bars: Vec<CostBar> = o
        .phases
        .iter()
        .map(|p| CostBar {
            phase: sc.phases[p.phase].name.clone(),
            fixed_usd_month: p.cost.usd_month_fixed,
            usd_month: p.cost.usd_month_at_capacity.unwrap_or(p.cost.usd_month_min),
            capacity_users: p.cost.capacity_users,
            usd_per_1k_users: p.cost.usd_per_1k_users,
            capacity_is_lower_bound: p.cost.capacity_is_lower_bound,
        })
        .collect();
    charts::cost_chart(&dir.join("cost.png"), &meta, &bars)?;
    written.push("cost.png");
    Ok(written)
}

/// One curve per phase of the metric `f`.
fn curves(o: &Outcome, f: impl Fn(&LoadPoint) -> Estimate) -> Vec<Curve> {
    o.phases
        .iter()
        .map(|ph| {
            let mine: Vec<&LoadPoint> = o.points_of(ph.phase).collect();
            curve(o.scenario().phases[ph.phase].name.clone(), &mine, &f)
        })
        .collect()
}

fn curve(label: String, pts: &[&LoadPoint], f: impl Fn(&LoadPoint) -> Estimate) -> Curve {
    let (lo, hi): (Vec<f64>, Vec<f64>) = pts.iter().map(|p| f(p).interval()).unzip();
    Curve {
        label,
        users: pts.iter().map(|p| f64::from(p.users())).collect(),
        mean: pts.iter().map(|p| f(p).mean).collect(),
        lo,
        hi,
        stable: pts.iter().map(|p| p.estimate.stable).collect(),
    }
}

fn utilisation_panels(o: &Outcome) -> Vec<Panel> {
    o.phases
        .iter()
        .map(|ph| {
            let mine: Vec<&LoadPoint> = o.points_of(ph.phase).collect();
            let names: Vec<String> = mine
                .first()
                .map(|p| p.groups.iter().map(|g| display_name(&g.name)).collect())
                .unwrap_or_default();
            let mut peak: Vec<(usize, f64)> = (0..names.len())
                .map(|k| {
                    let m = mine
                        .iter()
                        .filter_map(|p| p.groups.get(k).map(|g| g.utilisation.mean))
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
                phase: o.scenario().phases[ph.phase].name.clone(),
                curves: peak
                    .iter()
                    .map(|&(k, _)| {
                        let mut c = curve(names[k].clone(), &mine, |p| {
                            p.groups.get(k).map_or(Estimate::NONE, |g| g.utilisation)
                        });
                        // A utilisation lies in [0, 1]: so does its band.
                        c.lo.iter_mut().for_each(|x| *x = x.max(0.0));
                        c.hi.iter_mut().for_each(|x| *x = x.min(1.0));
                        c
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Each phase's analytic throughput bound, as the outcome traced it.
fn bound_curves(o: &Outcome) -> Vec<Curve> {
    o.phases
        .iter()
        .filter(|ph| !ph.bounds.curve.is_empty())
        .map(|ph| {
            let bound: Vec<f64> = ph.bounds.curve.iter().map(|&(_, b)| b).collect();
            Curve {
                label: o.scenario().phases[ph.phase].name.clone(),
                users: ph.bounds.curve.iter().map(|&(n, _)| f64::from(n)).collect(),
                mean: bound.clone(),
                lo: bound.clone(),
                hi: bound,
                stable: Vec::new(),
            }
        })
        .collect()
}
