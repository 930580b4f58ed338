//! Per-point and per-phase tables: `sweep.csv` (one row per phase × users,
//! means over replications with their 95% half-widths, beside the analytic
//! companion) and `capacity.csv` (one row per phase).

use super::{num, write_atomically};
use crate::outcome::utilisation::display_name;
use crate::outcome::{Busiest, Estimate, Outcome};
use crate::scenario::Scenario;
use std::path::Path;

/// The columns of `sweep.csv`, in order. A `_ci` column is the half-width of
/// the 95% Student-t interval of the column before it, over replications.
pub const SWEEP_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "users",
    "origin",
    "replications",
    "events",
    "stop_reason",
    "stable",
    "warmup_requests",
    "preplaced",
    "throughput_rps",
    "throughput_rps_ci",
    "mean_ms",
    "mean_ms_ci",
    "p50_ms",
    "p50_ms_ci",
    "p90_ms",
    "p90_ms_ci",
    "p95_ms",
    "p95_ms_ci",
    "p99_ms",
    "p99_ms_ci",
    "error_rate",
    "error_rate_ci",
    "bottleneck",
    "bottleneck_utilisation",
    "bottleneck_utilisation_ci",
    "meets_slo",
    "bound_throughput_rps",
    "mva_throughput_rps",
    "mva_mean_ms",
    "extrapolated",
    "bottleneck_id",
];

fn pair(e: &Estimate) -> [String; 2] {
    [num(e.mean), num(e.half_width)]
}

/// Write `sweep.csv`: one row per estimated point.
pub fn write_sweep_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(SWEEP_COLUMNS))?;
        for lp in &o.points {
            let p = &lp.estimate;
            let mut row = vec![
                sc.slug.clone(),
                sc.phases[p.key.phase].name.clone(),
                users_cell(sc, p.key.users),
                p.key.origin.name().to_string(),
                p.replications.to_string(),
                p.events.to_string(),
                p.stop.name().to_string(),
                p.stable.to_string(),
                num(p.warmup_requests),
                p.preplaced.to_string(),
            ];
            row.extend(pair(&p.throughput_rps));
            for e in [&p.mean_ms, &p.p50_ms, &p.p90_ms, &p.p95_ms, &p.p99_ms] {
                row.extend(pair(e));
            }
            row.extend(pair(&p.error_rate));
            let (name, util) = busiest_cells(lp.busiest().as_ref());
            row.push(display_name(&name));
            row.extend(pair(&util));
            row.push(p.meets(&sc.slo).to_string());
            row.push(num(p.bound_throughput_rps));
            row.push(num(p.mva_throughput_rps));
            row.push(num(p.mva_mean_ms));
            row.push(lp.extrapolated.to_string());
            row.push(name);
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    })
}

/// A bottleneck's name and utilisation (blank when there is none).
fn busiest_cells(b: Option<&Busiest>) -> (String, Estimate) {
    b.map_or((String::new(), Estimate::NONE), |b| {
        (b.name.clone(), b.utilisation)
    })
}

/// An open workload at one rate has no load level: leave the cell blank.
fn users_cell(sc: &Scenario, users: u32) -> String {
    if sc.one_rate() {
        String::new()
    } else {
        users.to_string()
    }
}

/// The columns of `capacity.csv`, in order.
pub const CAPACITY_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "status",
    "capacity_users",
    "fails_at_users",
    "slo_p95_ms",
    "slo_error_rate",
    "p95_ms",
    "p95_ms_ci",
    "error_rate",
    "error_rate_ci",
    "throughput_rps",
    "throughput_rps_ci",
    "bottleneck",
    "bottleneck_utilisation",
    "bottleneck_beyond_capacity",
    "bottleneck_beyond_capacity_utilisation",
    "knee_users",
    "max_throughput_rps",
    "bound_bottleneck",
    "mva_max_throughput_rps",
    "capacity_users_at_least",
    "capacity_users_surely_met",
    "capacity_users_surely_missed",
    "bottleneck_id",
    "bottleneck_beyond_capacity_id",
];

/// Write `capacity.csv`: one row per phase.
pub fn write_capacity_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    let open = sc.one_rate();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        let study = o.uncertainty.as_ref();
        let mut head: Vec<&str> = CAPACITY_COLUMNS.to_vec();
        if study.is_some() {
            head.extend(super::uncertainty::CAPACITY_STUDY_COLUMNS);
        }
        out.write_record(o.load.header(&head))?;
        for ph in &o.phases {
            let c = &ph.capacity;
            let b = &ph.bounds;
            let none = Estimate::NONE;
            let at = c.at.as_ref();
            let mut row = vec![
                sc.slug.clone(),
                sc.phases[c.phase].name.clone(),
                c.status.name().to_string(),
                // Blank unless measured: `status` says whether it is
                // unknown (none, below_grid) or only a bound (above_grid,
                // see capacity_users_at_least).
                c.measured().map_or(String::new(), |u| u.to_string()),
                c.fails_at
                    .filter(|_| !open)
                    .map_or(String::new(), |u| u.to_string()),
                num(sc.slo.p95_ms),
                num(sc.slo.error_rate),
            ];
            row.extend(pair(at.map_or(&none, |p| &p.p95_ms)));
            row.extend(pair(at.map_or(&none, |p| &p.error_rate)));
            row.extend(pair(at.map_or(&none, |p| &p.throughput_rps)));
            let at_point = if open {
                o.points_of(c.phase).next()
            } else {
                o.at_capacity(ph)
            };
            let (at_id, util) = busiest_cells(at_point.and_then(|p| p.busiest()).as_ref());
            row.push(display_name(&at_id));
            row.push(num(util.mean));
            let (beyond_id, util) = busiest_cells(ph.beyond_capacity.as_ref());
            row.push(display_name(&beyond_id));
            row.push(num(util.mean));
            row.push(num(b.knee_users));
            row.push(num(b.max_throughput_rps));
            row.push(
                b.bottleneck
                    .as_deref()
                    .map(display_name)
                    .unwrap_or_default(),
            );
            row.push(num(b.mva_max_throughput_rps));
            row.push(c.at_least().map_or(String::new(), |u| u.to_string()));
            // The capacity's interval once the points' own intervals are read.
            let noise = ph.noise;
            row.push(if open || noise.surely_meets == 0 {
                String::new()
            } else {
                noise.surely_meets.to_string()
            });
            row.push(
                noise
                    .surely_fails
                    .filter(|_| !open)
                    .map_or(String::new(), |u| u.to_string()),
            );
            row.push(at_id);
            row.push(beyond_id);
            if let Some(study) = study {
                row.extend(super::uncertainty::capacity_cells(study, c.phase));
            }
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    })
}
