//! The money tables: `costs.csv` (one row per phase), `plan.csv` (the
//! cheapest phase at each simulated load) and `output/summary.csv` (one row
//! per scenario × phase, across the scenarios of a run).

use super::{num, write_atomically};
use crate::outcome::utilisation::display_name;
use crate::outcome::Outcome;
use std::path::Path;

/// The columns of `costs.csv`: one row per phase.
pub const COSTS_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "usd_month_min",
    "capacity_users",
    "usd_month_at_capacity",
    "usd_per_1k_users_at_capacity",
    "capacity_status",
    "capacity_users_at_least",
];

/// The columns of `plan.csv`: one row per simulated user count.
pub const PLAN_COLUMNS: &[&str] = &[
    "scenario",
    "users",
    "cheapest_phase",
    "usd_month",
    "usd_per_1k_users",
    "step",
    "within_noise_of",
    "headroom",
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
    "bottleneck_beyond_capacity",
    "bottleneck_beyond_capacity_utilisation",
    "usd_month_at_capacity",
    "usd_per_1k_users_at_capacity",
    "capacity_status",
    "capacity_users_at_least",
    "bottleneck_beyond_capacity_id",
    "capacity_unit",
];

/// A count, or a blank cell when there is none: never a 0 that a
/// spreadsheet would read as measured.
fn count(u: Option<u32>) -> String {
    u.map(|u| u.to_string()).unwrap_or_default()
}

/// Write `costs.csv`.
pub fn write_costs_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let slug = &o.scenario().slug;
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(COSTS_COLUMNS))?;
        for p in &o.phases {
            let c = &p.cost;
            out.write_record([
                slug.clone(),
                c.phase.clone(),
                num(c.usd_month_min),
                count(c.measured_capacity()),
                num(c.measured_usd_month().unwrap_or(f64::NAN)),
                num(c.measured_usd_per_1k().unwrap_or(f64::NAN)),
                p.capacity.status.name().to_string(),
                count(p.capacity.at_least()),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

/// Write `plan.csv`.
pub fn write_plan_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(PLAN_COLUMNS))?;
        for p in &o.migration {
            let phase = p
                .phase
                .map(|i| sc.phases[o.phases[i].phase].name.clone())
                .unwrap_or_default();
            let name = |i: usize| sc.phases[o.phases[i].phase].name.clone();
            out.write_record([
                sc.slug.clone(),
                p.users.to_string(),
                phase,
                num(p.usd_month.unwrap_or(f64::NAN)),
                num(p.usd_per_1k_users.unwrap_or(f64::NAN)),
                p.step.name().to_string(),
                p.within_noise.map(name).unwrap_or_default(),
                num(sc.slo.headroom),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

/// One scenario's rows of `summary.csv`, formatted: kept when the scenario
/// is written, so that the summary needs no outcome kept in memory.
pub fn summary_rows(o: &Outcome) -> Vec<Vec<String>> {
    let sc = o.scenario();
    o.phases
        .iter()
        .map(|p| {
            let c = &p.cost;
            let at = o.at_capacity(p).map(|a| &a.estimate);
            let (bn, bu) = p
                .beyond_capacity
                .as_ref()
                .map_or(("", f64::NAN), |b| (b.name.as_str(), b.utilisation.mean));
            vec![
                sc.slug.clone(),
                sc.name.clone(),
                o.seed().to_string(),
                num(sc.slo.p95_ms),
                num(sc.slo.error_rate),
                c.phase.clone(),
                count(c.measured_capacity()),
                num(at.map_or(f64::NAN, |a| a.p95_ms.mean)),
                num(at.map_or(f64::NAN, |a| a.throughput_rps.mean)),
                display_name(bn),
                num(bu),
                num(c.measured_usd_month().unwrap_or(f64::NAN)),
                num(c.measured_usd_per_1k().unwrap_or(f64::NAN)),
                p.capacity.status.name().to_string(),
                count(p.capacity.at_least()),
                bn.to_string(),
                // One file for every scenario: say what each row's capacity
                // counts (users, or arrivals per second along a rate sweep).
                o.load.column().to_string(),
            ]
        })
        .collect()
}

/// Write `summary.csv` from the rows of every scenario of a run, keeping
/// the rows an earlier run wrote for other scenarios: a scenario's rows are
/// replaced by its new ones, the others stay (columns matched by name, so a
/// file from an older capsim keeps what it can). Rows are ordered by
/// scenario, so the file does not depend on the order of runs.
pub fn write_summary_csv(path: &Path, rows: &[Vec<String>]) -> anyhow::Result<()> {
    let rerun: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut all: Vec<Vec<String>> = earlier_rows(path)
        .into_iter()
        .filter(|r| !rerun.contains(r[0].as_str()))
        .collect();
    all.extend(rows.iter().cloned());
    all.sort_by(|a, b| a[0].cmp(&b[0]));
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(SUMMARY_COLUMNS)?;
        for r in &all {
            out.write_record(r)?;
        }
        out.flush()?;
        Ok(())
    })
}

/// The rows of an existing summary.csv in today's columns (none if there
/// is no such file or it cannot be read as one).
fn earlier_rows(path: &Path) -> Vec<Vec<String>> {
    let Ok(mut r) = csv::Reader::from_path(path) else {
        return Vec::new();
    };
    let Ok(head) = r.headers().cloned() else {
        return Vec::new();
    };
    let at: Vec<Option<usize>> = SUMMARY_COLUMNS
        .iter()
        .map(|c| head.iter().position(|h| h == *c))
        .collect();
    if at[0].is_none() {
        return Vec::new();
    }
    r.records()
        .filter_map(Result::ok)
        .map(|rec| {
            at.iter()
                .map(|i| i.and_then(|i| rec.get(i)).unwrap_or("").to_string())
                .collect()
        })
        .collect()
}
