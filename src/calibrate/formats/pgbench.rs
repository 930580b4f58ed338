//! pgbench's standard output, run with `-r` (statement latencies) and `-P`
//! (progress lines, which pgbench writes to standard error: capture both
//! with `2>&1`), as PostgreSQL 13–17's pgbench prints it:
//!
//! ```text
//! progress: 1.0 s, 263.0 tps, lat 3.780 ms stddev 1.197, 0 failed
//! number of clients: 4
//! number of failed transactions: 0 (0.000%)
//! latency average = 2.924 ms
//! latency stddev = 1.884 ms
//! tps = 1354.400750 (without initial connection time)
//! statement latencies in milliseconds and failures:
//!          0.629           0  END;
//! ```
//!
//! One file is one load level (`-c` clients); its progress lines are the
//! level's one-second windows.

use super::{malformed, number, FormatError};
use crate::calibrate::measure::Level;
use std::path::Path;

/// Read pgbench's output: one [`Level`].
pub fn parse(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut level = Level {
        file: path.to_path_buf(),
        window: "whole run".into(),
        ..Level::default()
    };
    let (mut clients, mut tps, mut processed, mut failed) = (None, None, None, None);
    let mut in_statements = false;
    let mut progress_lines = (0usize, 0usize);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_end();
        let value_after = |prefix: &str| l.strip_prefix(prefix).map(str::trim);
        if let Some(rest) = l.strip_prefix("progress: ") {
            // progress: 1.0 s, 263.0 tps, lat 3.780 ms stddev 1.197, 0 failed
            let tps_field = rest.split(", ").nth(1).and_then(|f| f.strip_suffix(" tps"));
            match tps_field {
                Some(t) => level
                    .window_rps
                    .push(number(path, line, 1, "progress tps", t)?),
                None => {
                    return Err(malformed(
                        path,
                        line,
                        1,
                        "progress line",
                        "`progress: T s, X tps, lat L ms stddev S…`",
                        l,
                    ))
                }
            }
            if progress_lines.0 == 0 {
                progress_lines.0 = line;
            }
            progress_lines.1 = line;
            in_statements = false;
        } else if let Some(v) = value_after("number of clients:") {
            clients = Some(number(path, line, 20, "number of clients", v)?);
        } else if let Some(v) = value_after("number of transactions actually processed:") {
            let v = v.split('/').next().unwrap_or(v);
            processed = Some(number(path, line, 45, "transactions processed", v)?);
        } else if let Some(v) = value_after("number of failed transactions:") {
            let v = v.split_whitespace().next().unwrap_or("");
            failed = Some(number(path, line, 32, "failed transactions", v)?);
        } else if let Some(v) = value_after("latency average =") {
            let v = v.strip_suffix(" ms").unwrap_or(v);
            level.mean_ms = Some(number(path, line, 19, "latency average (ms)", v)?);
        } else if let Some(v) = value_after("latency stddev =") {
            let v = v.strip_suffix(" ms").unwrap_or(v);
            level.stddev_ms = Some(number(path, line, 18, "latency stddev (ms)", v)?);
        } else if let Some(v) = value_after("tps =") {
            // Before PostgreSQL 14 two lines: "including connections
            // establishing" and "excluding…"; the one without connections wins.
            let t = v.split_whitespace().next().unwrap_or("");
            let x = number(path, line, 7, "tps", t)?;
            if tps.is_none() || v.contains("without") || v.contains("excluding") {
                tps = Some(x);
            }
        } else if l.starts_with("statement latencies in milliseconds") {
            in_statements = true;
        } else if in_statements {
            let mut parts = l.split_whitespace();
            let (Some(ms), rest) = (parts.next(), parts) else {
                continue;
            };
            let ms = number(path, line, 1, "statement latency (ms)", ms)?;
            let rest: Vec<&str> = rest.collect();
            // -r with failures prints a count column before the statement.
            let stmt = if rest.first().is_some_and(|f| f.parse::<u64>().is_ok()) {
                rest[1..].join(" ")
            } else {
                rest.join(" ")
            };
            // Meta-commands (\set) take no server time.
            if !stmt.starts_with('\\') {
                level.statements.push((stmt, ms));
            }
        }
    }
    let Some(clients) = clients else {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
            why: "pgbench output without its `number of clients:` line (did the run finish? \
                  pgbench prints its summary at the end)"
                .into(),
        });
    };
    let Some(tps) = tps else {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
            why: "pgbench output without its `tps = …` line (did the run finish?)".into(),
        });
    };
    level.users = clients;
    level.throughput_rps = tps;
    if let (Some(ok), Some(bad)) = (processed, failed) {
        if ok + bad > 0.0 {
            level.error_rate = Some(bad / (ok + bad));
        }
    } else {
        level.error_rate = Some(0.0);
    }
    if progress_lines.0 > 0 {
        level.window = format!(
            "whole run ({} progress seconds, lines {}–{})",
            level.window_rps.len(),
            progress_lines.0,
            progress_lines.1
        );
    }
    Ok(vec![level])
}
