//! pgbench's `-l` per-transaction log, one line per transaction:
//! `client_id transaction_no time script_no time_epoch time_us [schedule_lag]
//! [retries]`, where `time` is the latency in µs (or `failed` / `skipped`)
//! and `time_epoch time_us` the moment it ended (PostgreSQL's pgbench
//! documentation, "Per-Transaction Logging").
//!
//! One file is one load level: its clients are the distinct client ids,
//! its throughput the completed transactions over the span from the first
//! start to the last end.

use super::{malformed, number, FormatError};
use crate::calibrate::measure::{Level, Sampler};
use std::collections::BTreeSet;
use std::path::Path;

/// Read a pgbench -l log: one [`Level`].
pub fn parse(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut clients = BTreeSet::new();
    let mut samples = Sampler::default();
    let (mut ok, mut failed) = (0u64, 0u64);
    let (mut first_start, mut last_end) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut per_second: std::collections::BTreeMap<i64, u64> = Default::default();
    let mut lines = 0;
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if !(6..=8).contains(&f.len()) {
            return Err(malformed(
                path,
                line,
                1,
                "log line",
                "6 to 8 fields: client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]",
                l,
            ));
        }
        lines = line;
        let client = number(path, line, 1, "client_id", f[0])?;
        clients.insert(client as u64);
        let epoch = number(path, line, 5, "time_epoch", f[4])?;
        let us = number(path, line, 6, "time_us", f[5])?;
        let end = epoch + us / 1e6;
        if f[2] == "failed" || f[2] == "skipped" {
            failed += 1;
            continue;
        }
        let lat_us = number(path, line, 3, "time (µs)", f[2])?;
        ok += 1;
        samples.push(lat_us / 1000.0);
        first_start = first_start.min(end - lat_us / 1e6);
        last_end = last_end.max(end);
        *per_second.entry(end.floor() as i64).or_default() += 1;
    }
    if ok == 0 || last_end <= first_start {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
            why: "a pgbench -l log with no completed transaction".into(),
        });
    }
    // Whole seconds only: the first and last are partial.
    let mut window_rps: Vec<f64> = per_second.values().map(|&c| c as f64).collect();
    if window_rps.len() > 2 {
        window_rps.remove(0);
        window_rps.pop();
    }
    let mut level = Level {
        file: path.to_path_buf(),
        window: format!("lines 1–{lines}"),
        users: clients.len() as f64,
        throughput_rps: ok as f64 / (last_end - first_start),
        error_rate: Some(failed as f64 / (ok + failed) as f64),
        samples_ms: samples.into_vec(),
        window_rps,
        ..Level::default()
    };
    level.fill_from_samples();
    Ok(vec![level])
}
