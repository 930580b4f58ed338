//! Per-run tables: `runs.csv` (one row per phase × users × replication),
//! `resources.csv` (one row per run × station or resource) and
//! `requests.csv` (one row per run × request type).

use super::{num, write_atomically};
use crate::engine::stats::ErrorCause;
use crate::model::Model;
use crate::scenario::Scenario;
use crate::sweep::RunRecord;
use std::path::Path;

/// The columns of `runs.csv`, in order (documented in the README).
pub const RUNS_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "users",
    "replication",
    "seed",
    "stop_reason",
    "events",
    "warmup_s",
    "window_s",
    "started",
    "completed",
    "errors",
    "errors_refused",
    "errors_timeout",
    "errors_busy",
    "error_rate",
    "throughput_rps",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "mean_in_system",
    "little_x_times_r",
    "bottleneck",
    "bottleneck_utilisation",
    "total_started",
    "total_completed",
    "total_errored",
    "in_flight_at_end",
    "warmup_requests",
    "preplaced",
    "mser_cut_requests",
    "settled",
    "cache_lookups",
    "cache_hit_ratio",
    "replica_writes",
    "replica_lag_mean_ms",
    "replica_lag_p50_ms",
    "replica_lag_p95_ms",
    "replica_lag_max_ms",
    "replay_offered_load",
    "replica_reads",
    "stale_read_fraction",
    "db_connections",
    "db_memory_mb",
    "row_lock_waits_per_s",
    "row_lock_wait_ms",
    "commits_per_flush",
];

/// `x / window`, or NaN without a window.
fn per_s(x: f64, window_s: f64) -> f64 {
    ratio(x, window_s)
}

/// `a / b`, or NaN when `b` is 0 (nothing to average).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// The busiest station or resource of a run: highest utilisation.
pub fn bottleneck<'m>(model: &'m Model, r: &RunRecord) -> Option<(&'m str, f64)> {
    let stations = model
        .stations
        .iter()
        .zip(&r.stations)
        .filter_map(|(s, st)| st.utilisation.map(|u| (s.name.as_str(), u)));
    let resources = model
        .resources
        .iter()
        .zip(&r.resources)
        .map(|(s, st)| (s.name.as_str(), st.utilisation));
    stations
        .chain(resources)
        .filter(|(_, u)| u.is_finite())
        .fold(None, |best: Option<(&str, f64)>, (n, u)| match best {
            Some((_, bu)) if bu >= u => best,
            _ => Some((n, u)),
        })
}

pub fn write_runs_csv(
    path: &Path,
    sc: &Scenario,
    models: &[Model],
    runs: &[RunRecord],
) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(RUNS_COLUMNS)?;
        for r in runs {
            let p = r.point;
            let (bn, bu) = bottleneck(&models[p.phase], r).unwrap_or(("", f64::NAN));
            out.write_record([
                sc.slug.clone(),
                sc.phases[p.phase].name.clone(),
                p.users.to_string(),
                p.replication.to_string(),
                p.seed.to_string(),
                r.stop.name().to_string(),
                r.events.to_string(),
                num(r.warmup_s, 3),
                num(r.window_s, 3),
                r.started.to_string(),
                r.completed.to_string(),
                r.errors_total().to_string(),
                r.errors[ErrorCause::Refused as usize].to_string(),
                r.errors[ErrorCause::Timeout as usize].to_string(),
                r.errors[ErrorCause::Busy as usize].to_string(),
                num(r.error_rate, 6),
                num(r.throughput_rps, 3),
                num(r.mean_ms, 3),
                num(r.p50_ms, 3),
                num(r.p90_ms, 3),
                num(r.p95_ms, 3),
                num(r.p99_ms, 3),
                num(r.max_ms, 3),
                num(r.mean_in_system, 3),
                num(r.little_xr, 3),
                bn.to_string(),
                num(bu, 4),
                r.total_started.to_string(),
                r.total_completed.to_string(),
                r.total_errored.to_string(),
                r.in_flight_at_end.to_string(),
                r.warmup_requests.to_string(),
                r.preplaced.to_string(),
                r.mser_cut_requests.to_string(),
                r.settled.to_string(),
                r.cache_lookups.to_string(),
                num(r.cache_hit_ratio, 6),
                r.replica_writes.to_string(),
                num(r.replica_lag_mean_ms, 3),
                num(r.replica_lag_p50_ms, 3),
                num(r.replica_lag_p95_ms, 3),
                num(r.replica_lag_max_ms, 3),
                num(r.replay_offered_load, 4),
                r.replica_reads.to_string(),
                num(r.stale_read_fraction, 6),
                num(r.db.connections, 3),
                num(r.db.connection_memory_mb, 1),
                num(per_s(r.db.row_lock_waits as f64, r.window_s), 3),
                num(
                    ratio(r.db.row_lock_wait_ns / 1e6, r.db.row_lock_waits as f64),
                    3,
                ),
                num(ratio(r.db.flushed_commits as f64, r.db.flushes as f64), 3),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

/// The columns of `resources.csv`.
pub const RESOURCES_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "users",
    "replication",
    "resource",
    "kind",
    "servers",
    "utilisation",
    "mean_busy",
    "mean_present",
    "mean_waiting",
];

pub fn write_resources_csv(
    path: &Path,
    sc: &Scenario,
    models: &[Model],
    runs: &[RunRecord],
) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(RESOURCES_COLUMNS)?;
        for r in runs {
            let p = r.point;
            let m = &models[p.phase];
            let head = [
                sc.slug.clone(),
                sc.phases[p.phase].name.clone(),
                p.users.to_string(),
                p.replication.to_string(),
            ];
            for (s, st) in m.stations.iter().zip(&r.stations) {
                let kind = match s.discipline {
                    crate::model::Discipline::Fcfs => "fcfs",
                    crate::model::Discipline::ProcessorSharing => "ps",
                    crate::model::Discipline::Delay => "delay",
                    crate::model::Discipline::GroupCommit => "group_commit",
                };
                let waiting = st.mean_busy.map_or(f64::NAN, |b| st.mean_present - b);
                out.write_record(head.iter().cloned().chain([
                    s.name.clone(),
                    kind.to_string(),
                    if st.utilisation.is_some() {
                        s.servers.to_string()
                    } else {
                        String::new()
                    },
                    num(st.utilisation.unwrap_or(f64::NAN), 4),
                    num(st.mean_busy.unwrap_or(f64::NAN), 3),
                    num(st.mean_present, 3),
                    num(waiting, 3),
                ]))?;
            }
            for (s, st) in m.resources.iter().zip(&r.resources) {
                out.write_record(head.iter().cloned().chain([
                    s.name.clone(),
                    "pool".to_string(),
                    s.capacity.to_string(),
                    num(st.utilisation, 4),
                    num(st.mean_held, 3),
                    num(st.mean_held + st.mean_waiting, 3),
                    num(st.mean_waiting, 3),
                ]))?;
            }
            // Pooler pools: capacity counts the reserve, so utilisation ≤ 1.
            for (s, st) in m.db.pools.iter().zip(&r.db.pools) {
                let capacity = s.size + s.reserve;
                out.write_record(head.iter().cloned().chain([
                    s.name.clone(),
                    "server_pool".to_string(),
                    capacity.to_string(),
                    num(st.mean_held / capacity as f64, 4),
                    num(st.mean_held, 3),
                    num(st.mean_held + st.mean_waiting, 3),
                    num(st.mean_waiting, 3),
                ]))?;
            }
        }
        out.flush()?;
        Ok(())
    })
}

/// The columns of `requests.csv`.
pub const REQUESTS_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "users",
    "replication",
    "request",
    "completed",
    "errors",
    "throughput_rps",
    "mean_ms",
];

pub fn write_requests_csv(path: &Path, sc: &Scenario, runs: &[RunRecord]) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(REQUESTS_COLUMNS)?;
        for r in runs {
            let p = r.point;
            for (req, t) in sc.workload.requests.iter().zip(&r.per_type) {
                let mean = if t.completed > 0 {
                    t.response_sum_ns / t.completed as f64 / 1e6
                } else {
                    f64::NAN
                };
                let x = if r.window_s > 0.0 {
                    t.completed as f64 / r.window_s
                } else {
                    f64::NAN
                };
                out.write_record([
                    sc.slug.clone(),
                    sc.phases[p.phase].name.clone(),
                    p.users.to_string(),
                    p.replication.to_string(),
                    req.name.clone(),
                    t.completed.to_string(),
                    t.errors.to_string(),
                    num(x, 3),
                    num(mean, 3),
                ])?;
            }
        }
        out.flush()?;
        Ok(())
    })
}
