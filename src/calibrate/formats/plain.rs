//! The plain CSV every tool can be made to write: one row per load level
//! (and request type), `concurrency,throughput_rps,p50_ms,p95_ms,p99_ms`
//! with optional `mean_ms`, `cpu_util` (busy fraction 0–1 of the server's
//! cores), `errors` (failed fraction 0–1) and `request` (the type's name).

use super::{csv_error, csv_reader, field_num, field_opt, line_of, malformed, FormatError, Header};
use crate::calibrate::measure::Level;
use std::path::Path;

const FORMAT: &str = "the plain CSV: concurrency,throughput_rps,p50_ms,p95_ms,p99_ms";

/// Read a plain CSV: one [`Level`] per row.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut rdr = csv_reader(text);
    let header = Header::of(rdr.headers().map_err(|e| csv_error(path, e))?);
    let users = header.need(path, "concurrency", FORMAT)?;
    let x = header.need(path, "throughput_rps", FORMAT)?;
    let p50 = header.need(path, "p50_ms", FORMAT)?;
    let p95 = header.need(path, "p95_ms", FORMAT)?;
    let p99 = header.need(path, "p99_ms", FORMAT)?;
    let mean = header.find("mean_ms");
    let cpu = header.find("cpu_util");
    let errors = header.find("errors");
    let request = header.find("request");
    let mut levels = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| csv_error(path, e))?;
        if r.iter().all(|f| f.is_empty()) {
            continue;
        }
        let line = line_of(&r);
        let n = field_num(path, &r, users, "concurrency")?;
        if n < 1.0 {
            return Err(malformed(
                path,
                line,
                users + 1,
                "concurrency",
                "a user count of at least 1",
                &r[users],
            ));
        }
        let rps = field_num(path, &r, x, "throughput_rps")?;
        if rps < 0.0 {
            return Err(malformed(
                path,
                line,
                x + 1,
                "throughput_rps",
                "a rate of 0 or more",
                &r[x],
            ));
        }
        let cpu_util = field_opt(path, &r, cpu, "cpu_util")?;
        if let (Some(u), Some(i)) = (cpu_util, cpu) {
            if !(0.0..=1.0).contains(&u) {
                return Err(malformed(
                    path,
                    line,
                    i + 1,
                    "cpu_util",
                    "a busy fraction from 0 to 1",
                    &r[i],
                ));
            }
        }
        let error_rate = field_opt(path, &r, errors, "errors")?;
        if let (Some(e), Some(i)) = (error_rate, errors) {
            if !(0.0..=1.0).contains(&e) {
                return Err(malformed(
                    path,
                    line,
                    i + 1,
                    "errors",
                    "a failed fraction from 0 to 1",
                    &r[i],
                ));
            }
        }
        levels.push(Level {
            file: path.to_path_buf(),
            window: format!("line {line}"),
            request: request
                .and_then(|i| r.get(i))
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            users: n,
            throughput_rps: rps,
            mean_ms: field_opt(path, &r, mean, "mean_ms")?,
            p50_ms: Some(field_num(path, &r, p50, "p50_ms")?),
            p95_ms: Some(field_num(path, &r, p95, "p95_ms")?),
            p99_ms: Some(field_num(path, &r, p99, "p99_ms")?),
            error_rate,
            cpu_util,
            ..Level::default()
        });
    }
    Ok(levels)
}
