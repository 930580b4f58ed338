//! Per-run tables: `runs.csv` (one row per phase × users × replication),
//! `resources.csv` (one row per run × station or resource) and
//! `requests.csv` (one row per run × request type).

use super::{num, write_atomically};
use crate::engine::stats::{ErrorCause, WaitStats};
use crate::model::Discipline;
use crate::outcome::utilisation::display_name;
use crate::outcome::Outcome;
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
    "aborted_users",
    "bottleneck_id",
];

/// Write `runs.csv`: one row per run.
pub fn write_runs_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(RUNS_COLUMNS))?;
        for (r, busiest) in o.runs.iter().zip(&o.run_busiest) {
            let p = r.point;
            let (bn, bu) = busiest
                .as_ref()
                .map_or(("", f64::NAN), |b| (b.name.as_str(), b.utilisation.mean));
            out.write_record([
                sc.slug.clone(),
                sc.phases[p.phase].name.clone(),
                p.users.to_string(),
                p.replication.to_string(),
                p.seed.to_string(),
                r.stop.name().to_string(),
                r.events.to_string(),
                num(r.warmup_s),
                num(r.window_s),
                r.started.to_string(),
                r.completed.to_string(),
                r.errors_total().to_string(),
                r.errors[ErrorCause::Refused as usize].to_string(),
                r.errors[ErrorCause::Timeout as usize].to_string(),
                r.errors[ErrorCause::Busy as usize].to_string(),
                num(r.error_rate),
                num(r.throughput_rps),
                num(r.mean_ms),
                num(r.p50_ms),
                num(r.p90_ms),
                num(r.p95_ms),
                num(r.p99_ms),
                num(r.max_ms),
                num(r.mean_in_system),
                num(r.little_xr),
                display_name(bn),
                num(bu),
                r.total_started.to_string(),
                r.total_completed.to_string(),
                r.total_errored.to_string(),
                r.in_flight_at_end.to_string(),
                r.warmup_requests.to_string(),
                r.preplaced.to_string(),
                r.mser_cut_requests.to_string(),
                r.settled.to_string(),
                r.cache_lookups.to_string(),
                num(r.cache_hit_ratio),
                r.replica_writes.to_string(),
                num(r.replica_lag_mean_ms),
                num(r.replica_lag_p50_ms),
                num(r.replica_lag_p95_ms),
                num(r.replica_lag_max_ms),
                num(r.replay_offered_load),
                r.replica_reads.to_string(),
                num(r.stale_read_fraction),
                num(r.db.connections),
                num(r.db.connection_memory_mb),
                num(r.row_lock_waits_per_s()),
                num(r.row_lock_wait_ms()),
                num(r.commits_per_flush()),
                r.db.aborted_users.to_string(),
                bn.to_string(),
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
    "served",
    "p_wait",
    "mean_wait_ms",
    "p95_wait_ms",
    "p99_wait_ms",
    "resource_id",
];

/// The wait columns of a resources.csv row (blank where nothing queues).
fn wait_cells(w: Option<&WaitStats>) -> [String; 5] {
    match w {
        Some(w) => [
            w.served.to_string(),
            num(w.p_wait()),
            num(w.mean_wait_ms),
            num(w.p95_wait_ms),
            num(w.p99_wait_ms),
        ],
        None => Default::default(),
    }
}

/// Write `resources.csv`: one row per run × station or resource.
pub fn write_resources_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(RESOURCES_COLUMNS))?;
        for r in &o.runs {
            let p = r.point;
            let m = &o.plan.models[p.phase];
            let head = [
                sc.slug.clone(),
                sc.phases[p.phase].name.clone(),
                p.users.to_string(),
                p.replication.to_string(),
            ];
            for (k, (s, st)) in m.stations.iter().zip(&r.stations).enumerate() {
                let kind = match s.discipline {
                    Discipline::Fcfs => "fcfs",
                    Discipline::ProcessorSharing => "ps",
                    Discipline::Delay => "delay",
                    Discipline::GroupCommit { .. } => "group_commit",
                    Discipline::TimeSliced { .. } => "time_sliced",
                };
                let waiting = r.station_waiting(k);
                out.write_record(
                    head.iter()
                        .cloned()
                        .chain([
                            display_name(&s.name),
                            kind.to_string(),
                            if st.utilisation.is_some() {
                                s.servers.to_string()
                            } else {
                                String::new()
                            },
                            num(st.utilisation.unwrap_or(f64::NAN)),
                            num(st.mean_busy.unwrap_or(f64::NAN)),
                            num(st.mean_present),
                            num(waiting),
                        ])
                        .chain(wait_cells(st.wait.as_ref()))
                        .chain([s.name.clone()]),
                )?;
            }
            for (s, st) in m.resources.iter().zip(&r.resources) {
                out.write_record(
                    head.iter()
                        .cloned()
                        .chain([
                            display_name(&s.name),
                            "pool".to_string(),
                            s.capacity.to_string(),
                            num(st.utilisation),
                            num(st.mean_held),
                            num(st.mean_held + st.mean_waiting),
                            num(st.mean_waiting),
                        ])
                        .chain(wait_cells(Some(&st.wait)))
                        .chain([s.name.clone()]),
                )?;
            }
            // Pooler pools: capacity counts the reserve, so utilisation ≤ 1.
            for (k, (s, st)) in m.db.pools.iter().zip(&r.db.pools).enumerate() {
                let capacity = s.size + s.reserve;
                out.write_record(
                    head.iter()
                        .cloned()
                        .chain([
                            display_name(&s.name),
                            "server_pool".to_string(),
                            capacity.to_string(),
                            num(r.pool_utilisation(k, capacity)),
                            num(st.mean_held),
                            num(st.mean_held + st.mean_waiting),
                            num(st.mean_waiting),
                        ])
                        .chain(wait_cells(Some(&st.wait)))
                        .chain([s.name.clone()]),
                )?;
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
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "errors_refused",
    "errors_timeout",
    "errors_busy",
];

/// Write `requests.csv`: one row per run × request type.
pub fn write_requests_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(o.load.header(REQUESTS_COLUMNS))?;
        for r in &o.runs {
            let p = r.point;
            for (k, (req, t)) in sc.workload.requests.iter().zip(&r.per_type).enumerate() {
                let mean = r.type_mean_ms(k);
                let x = r.type_throughput_rps(k);
                let q = r.per_type_latency[k];
                out.write_record([
                    sc.slug.clone(),
                    sc.phases[p.phase].name.clone(),
                    p.users.to_string(),
                    p.replication.to_string(),
                    req.name.clone(),
                    t.completed.to_string(),
                    t.errors.to_string(),
                    num(x),
                    num(mean),
                    num(q.p50_ms),
                    num(q.p95_ms),
                    num(q.p99_ms),
                    r.type_errors(k, ErrorCause::Refused).to_string(),
                    r.type_errors(k, ErrorCause::Timeout).to_string(),
                    r.type_errors(k, ErrorCause::Busy).to_string(),
                ])?;
            }
        }
        out.flush()?;
        Ok(())
    })
}
