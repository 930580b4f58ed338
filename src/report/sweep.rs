//! Per-point and per-phase tables: `sweep.csv` (one row per phase × users,
//! means over replications with their 95% half-widths, beside the analytic
//! companion) and `capacity.csv` (one row per phase).

use super::{num, write_atomically};
use crate::analytic::Analytic;
use crate::capacity::{Capacity, SweepResult};
use crate::estimate::PointSummary;
use crate::scenario::Scenario;
use crate::stats::Estimate;
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
];

fn pair(e: &Estimate, decimals: usize) -> [String; 2] {
    [num(e.mean, decimals), num(e.half_width, decimals)]
}

pub fn write_sweep_csv(path: &Path, sc: &Scenario, result: &SweepResult) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(SWEEP_COLUMNS)?;
        for p in &result.points {
            let mut row = vec![
                sc.slug.clone(),
                sc.phases[p.key.phase].name.clone(),
                users_cell(sc, p.key.users),
                p.key.origin.name().to_string(),
                p.replications.to_string(),
                p.events.to_string(),
                p.stop.name().to_string(),
                p.stable.to_string(),
                num(p.warmup_requests, 0),
                p.preplaced.to_string(),
            ];
            row.extend(pair(&p.throughput_rps, 3));
            for e in [&p.mean_ms, &p.p50_ms, &p.p90_ms, &p.p95_ms, &p.p99_ms] {
                row.extend(pair(e, 3));
            }
            row.extend(pair(&p.error_rate, 6));
            row.push(p.bottleneck.clone());
            row.extend(pair(&p.bottleneck_utilisation, 4));
            row.push(p.meets(&sc.slo).to_string());
            row.push(num(p.bound_throughput_rps, 3));
            row.push(num(p.mva_throughput_rps, 3));
            row.push(num(p.mva_mean_ms, 3));
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    })
}

/// Open workloads have no user count: leave the cell blank.
fn users_cell(sc: &Scenario, users: u32) -> String {
    if sc.workload.is_open() {
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
    "knee_users",
    "max_throughput_rps",
    "bound_bottleneck",
    "mva_max_throughput_rps",
];

pub fn write_capacity_csv(
    path: &Path,
    sc: &Scenario,
    analytic: &[Analytic],
    capacity: &[Capacity],
) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(CAPACITY_COLUMNS)?;
        for c in capacity {
            let a = &analytic[c.phase];
            let none = Estimate::NONE;
            let at: Option<&PointSummary> = c.at.as_ref();
            let open = sc.workload.is_open();
            let mut row = vec![
                sc.slug.clone(),
                sc.phases[c.phase].name.clone(),
                c.status.name().to_string(),
                if open {
                    String::new()
                } else {
                    c.users.to_string()
                },
                c.fails_at
                    .filter(|_| !open)
                    .map_or(String::new(), |u| u.to_string()),
                num(sc.slo.p95_ms, 3),
                num(sc.slo.error_rate, 6),
            ];
            row.extend(pair(at.map_or(&none, |p| &p.p95_ms), 3));
            row.extend(pair(at.map_or(&none, |p| &p.error_rate), 6));
            row.extend(pair(at.map_or(&none, |p| &p.throughput_rps), 3));
            row.push(at.map_or(String::new(), |p| p.bottleneck.clone()));
            row.push(num(
                at.map_or(f64::NAN, |p| p.bottleneck_utilisation.mean),
                4,
            ));
            row.push(if open {
                String::new()
            } else {
                num(a.knee_users(), 1)
            });
            row.push(num(a.max_throughput_rps(), 3));
            row.push(a.bottleneck().map_or(String::new(), |l| l.name.clone()));
            // MVA far beyond the knee: what the phase carries once saturated,
            // pools included (the bound above ignores how pools interact).
            row.push(if open {
                String::new()
            } else {
                num(a.mva(u32::MAX / 2).throughput_rps, 3)
            });
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    })
}
