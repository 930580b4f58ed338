//! k6's two machine-readable results (grafana.com/docs/k6/latest/results-output/):
//!
//! - `--summary-export FILE.json`: the end-of-test summary, one level:
//!   `metrics.http_reqs.rate`, `metrics.http_req_duration` (`avg`, `med`,
//!   `p(95)`, `p(99)` if `summaryTrendStats` asks for it), the failed
//!   share `metrics.http_req_failed.value`, the VUs `metrics.vus.max`
//!   (or `vus_max.value`);
//! - `--out json=FILE`: one JSON object a line, `{"type":"Point","metric":
//!   "http_req_duration","data":{"time":"2024-05-09T14:34:45.625742514+02:00",
//!   "value":12.3,"tags":{"expected_response":"true",…}}}`, with a `vus`
//!   point every second: each stretch at one VU count is one level.
//!
//! No k6 installs from the registries here: the tests read fixtures written
//! from these documented formats.

use super::{malformed, FormatError};
use crate::calibrate::measure::{Level, Sampler};
use serde_json::Value;
use std::path::Path;

fn json_error(path: &Path, e: serde_json::Error, line_offset: usize) -> FormatError {
    malformed(
        path,
        e.line() + line_offset,
        e.column(),
        "JSON",
        "valid JSON",
        &e.to_string(),
    )
}

/// Read a `--summary-export` file: one [`Level`].
pub fn parse_summary(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let v: Value = serde_json::from_str(text).map_err(|e| json_error(path, e, 0))?;
    let m = v.get("metrics").ok_or_else(|| {
        malformed(
            path,
            1,
            1,
            "metrics",
            "the `metrics` object of k6's --summary-export",
            "no `metrics`",
        )
    })?;
    let get = |metric: &str, stat: &str| {
        m.get(metric)
            .and_then(|x| x.get(stat))
            .and_then(Value::as_f64)
    };
    let rate = get("http_reqs", "rate").ok_or_else(|| {
        malformed(
            path,
            1,
            1,
            "metrics.http_reqs.rate",
            "requests per second",
            "no such field",
        )
    })?;
    let users = get("vus", "max")
        .or_else(|| get("vus_max", "value"))
        .or_else(|| get("vus", "value"))
        .ok_or_else(|| {
            malformed(
                path,
                1,
                1,
                "metrics.vus",
                "the virtual users (`vus.max`)",
                "no such field",
            )
        })?;
    let failed = get("http_req_failed", "value").unwrap_or(0.0);
    let d = "http_req_duration";
    Ok(vec![Level {
        file: path.to_path_buf(),
        window: "whole run (summary)".into(),
        users,
        throughput_rps: rate * (1.0 - failed),
        mean_ms: get(d, "avg"),
        p50_ms: get(d, "med"),
        p95_ms: get(d, "p(95)"),
        p99_ms: get(d, "p(99)"),
        error_rate: Some(failed),
        ..Level::default()
    }])
}

/// Seconds since the Unix epoch of an RFC 3339 time as k6 writes it
/// (`2024-05-09T14:34:45.625742514+02:00` or `…Z`).
pub fn rfc3339_seconds(s: &str) -> Option<f64> {
    let (date, rest) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, mo, da): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (clock, offset) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (c, o) = rest.split_at(at);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o[1..].split_once(':')?;
        (
            c,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let mut c = clock.split(':');
    let (h, mi): (i64, i64) = (c.next()?.parse().ok()?, c.next()?.parse().ok()?);
    let sec: f64 = c.next()?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

#[derive(Default)]
struct Stretch {
    users: f64,
    first_line: usize,
    last_line: usize,
    first_t: f64,
    last_t: f64,
    ok: u64,
    failed: u64,
    samples: Sampler,
}

/// Read `--out json` lines: one [`Level`] per stretch at one VU count.
pub fn parse_json_lines(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut done: Vec<Stretch> = Vec::new();
    let mut cur: Option<Stretch> = None;
    let mut vus: Option<f64> = None;
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(l).map_err(|e| json_error(path, e, i))?;
        if v.get("type").and_then(Value::as_str) != Some("Point") {
            continue;
        }
        let metric = v.get("metric").and_then(Value::as_str).unwrap_or("");
        let data = v.get("data");
        let value = data.and_then(|d| d.get("value")).and_then(Value::as_f64);
        let Some(value) = value else {
            return Err(malformed(path, line, 1, "data.value", "a number", l));
        };
        match metric {
            "vus" if vus != Some(value) => {
                if let Some(s) = cur.take() {
                    done.push(s);
                }
                vus = Some(value);
            }
            "http_req_duration" => {
                let t = data
                    .and_then(|d| d.get("time"))
                    .and_then(Value::as_str)
                    .and_then(rfc3339_seconds)
                    .ok_or_else(|| malformed(path, line, 1, "data.time", "an RFC 3339 time", l))?;
                let Some(users) = vus else {
                    continue; // before the first vus point: no level yet
                };
                let failed = data
                    .and_then(|d| d.get("tags"))
                    .and_then(|t| t.get("expected_response"))
                    .and_then(Value::as_str)
                    == Some("false");
                let s = cur.get_or_insert_with(|| Stretch {
                    users,
                    first_line: line,
                    first_t: t,
                    ..Stretch::default()
                });
                s.last_line = line;
                s.last_t = t;
                if failed {
                    s.failed += 1;
                } else {
                    s.ok += 1;
                    s.samples.push(value);
                }
            }
            _ => {}
        }
    }
    done.extend(cur);
    let mut levels = Vec::new();
    for s in done {
        let dt = s.last_t - s.first_t;
        if s.ok < 2 || dt <= 0.0 || s.users < 1.0 {
            continue;
        }
        let mut l = Level {
            file: path.to_path_buf(),
            window: format!(
                "lines {}–{} ({:.1} s at {} VUs)",
                s.first_line, s.last_line, dt, s.users
            ),
            users: s.users,
            // n completions span n − 1 gaps.
            throughput_rps: (s.ok + s.failed - 1) as f64 / dt * s.ok as f64
                / (s.ok + s.failed) as f64,
            error_rate: Some(s.failed as f64 / (s.ok + s.failed) as f64),
            samples_ms: s.samples.into_vec(),
            ..Level::default()
        };
        l.fill_from_samples();
        levels.push(l);
    }
    Ok(levels)
}
