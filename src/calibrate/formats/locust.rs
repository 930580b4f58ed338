//! Locust's `--csv PREFIX` files (docs.locust.io, "Retrieve test statistics
//! in CSV format"): `PREFIX_stats_history.csv`, one row a second (per
//! endpoint too with `--csv-full-history`) with the `User Count` of that
//! moment and cumulative totals, and `PREFIX_stats.csv`, the whole run's
//! table per endpoint plus an `Aggregated` row.
//!
//! From the history, each stretch of rows at one user count is one load
//! level: its throughput and mean come from the differences of the
//! cumulative `Total Request Count`, `Total Failure Count` and `Total
//! Average Response Time` between its first and last rows (exact, whatever
//! the row rate), its percentiles are the median of its rows' current ones.

use super::{csv_error, csv_reader, field_num, field_opt, line_of, FormatError, Header};
use crate::calibrate::measure::Level;
use std::path::Path;

const HISTORY: &str = "Locust's _stats_history.csv";
const STATS: &str = "Locust's _stats.csv";

struct Row {
    line: usize,
    t: f64,
    users: f64,
    name: String,
    rps: f64,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    total: f64,
    failures: f64,
    avg: f64,
}

/// Read a `_stats_history.csv`: one [`Level`] per stretch at one user count
/// (the `Aggregated` rows) and per endpoint there (`--csv-full-history`).
pub fn parse_history(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut rdr = csv_reader(text);
    let h = Header::of(rdr.headers().map_err(|e| csv_error(path, e))?);
    let c_t = h.need(path, "Timestamp", HISTORY)?;
    let c_users = h.need(path, "User Count", HISTORY)?;
    let c_name = h.need(path, "Name", HISTORY)?;
    let c_rps = h.need(path, "Requests/s", HISTORY)?;
    let c_total = h.need(path, "Total Request Count", HISTORY)?;
    let c_fail = h.need(path, "Total Failure Count", HISTORY)?;
    let c_avg = h.need(path, "Total Average Response Time", HISTORY)?;
    let (c50, c95, c99) = (h.find("50%"), h.find("95%"), h.find("99%"));
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| csv_error(path, e))?;
        if r.iter().all(|f| f.is_empty()) {
            continue;
        }
        rows.push(Row {
            line: line_of(&r),
            t: field_num(path, &r, c_t, "Timestamp")?,
            users: field_num(path, &r, c_users, "User Count")?,
            name: r.get(c_name).unwrap_or("").to_string(),
            rps: field_num(path, &r, c_rps, "Requests/s")?,
            p50: field_opt(path, &r, c50, "50%")?,
            p95: field_opt(path, &r, c95, "95%")?,
            p99: field_opt(path, &r, c99, "99%")?,
            total: field_num(path, &r, c_total, "Total Request Count")?,
            failures: field_num(path, &r, c_fail, "Total Failure Count")?,
            avg: field_num(path, &r, c_avg, "Total Average Response Time")?,
        });
    }
    let mut names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    names.sort();
    names.dedup();
    let mut levels = Vec::new();
    for name in &names {
        let mine: Vec<&Row> = rows.iter().filter(|r| &r.name == name).collect();
        let request = (name != "Aggregated").then(|| name.clone());
        let mut start = 0;
        while start < mine.len() {
            let mut end = start;
            while end + 1 < mine.len() && mine[end + 1].users == mine[start].users {
                end += 1;
            }
            if let Some(l) = stretch(path, &mine[start..=end], request.clone()) {
                levels.push(l);
            }
            start = end + 1;
        }
    }
    Ok(levels)
}

/// One stretch of rows at one user count as a level; `None` if too short
/// to have a rate (one row) or idle.
fn stretch(path: &Path, rows: &[&Row], request: Option<String>) -> Option<Level> {
    let (a, b) = (rows.first()?, rows.last()?);
    let dt = b.t - a.t;
    let done = b.total - a.total;
    if dt <= 0.0 || done <= 0.0 || a.users < 1.0 {
        return None;
    }
    let failed = b.failures - a.failures;
    let mean = (b.total * b.avg - a.total * a.avg) / done;
    let median = |f: &dyn Fn(&Row) -> Option<f64>| {
        let mut v: Vec<f64> = rows[1..].iter().filter_map(|r| f(r)).collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| v[v.len() / 2])
    };
    Some(Level {
        file: path.to_path_buf(),
        window: format!(
            "lines {}–{} ({} s at {} users)",
            a.line, b.line, dt, a.users
        ),
        request,
        users: a.users,
        throughput_rps: (done - failed) / dt,
        mean_ms: (mean.is_finite() && mean > 0.0).then_some(mean),
        p50_ms: median(&|r| r.p50),
        p95_ms: median(&|r| r.p95),
        p99_ms: median(&|r| r.p99),
        error_rate: Some(failed / done),
        window_rps: rows[1..].iter().map(|r| r.rps).collect(),
        ..Level::default()
    })
}

/// Read a `_stats.csv`: the `Aggregated` row and one per endpoint, all at
/// one level whose user count Locust does not write there (`--users`).
pub fn parse_stats(path: &Path, text: &str, users: Option<f64>) -> Result<Vec<Level>, FormatError> {
    let Some(users) = users else {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
            why: "Locust's _stats.csv does not say how many users ran; give the \
                  _stats_history.csv (its `User Count` column) or --users N"
                .into(),
        });
    };
    let mut rdr = csv_reader(text);
    let h = Header::of(rdr.headers().map_err(|e| csv_error(path, e))?);
    let c_name = h.need(path, "Name", STATS)?;
    let c_count = h.need(path, "Request Count", STATS)?;
    let c_fail = h.need(path, "Failure Count", STATS)?;
    let c_rps = h.need(path, "Requests/s", STATS)?;
    let c_fps = h.find("Failures/s");
    let c_avg = h.find("Average Response Time");
    let (c50, c95, c99) = (h.find("50%"), h.find("95%"), h.find("99%"));
    let mut levels = Vec::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| csv_error(path, e))?;
        if r.iter().all(|f| f.is_empty()) {
            continue;
        }
        let name = r.get(c_name).unwrap_or("").to_string();
        let count = field_num(path, &r, c_count, "Request Count")?;
        let failed = field_num(path, &r, c_fail, "Failure Count")?;
        let rps = field_num(path, &r, c_rps, "Requests/s")?;
        let fps = field_opt(path, &r, c_fps, "Failures/s")?.unwrap_or(0.0);
        levels.push(Level {
            file: path.to_path_buf(),
            window: format!("line {}", line_of(&r)),
            request: (name != "Aggregated").then_some(name),
            users,
            throughput_rps: (rps - fps).max(0.0),
            mean_ms: field_opt(path, &r, c_avg, "Average Response Time")?,
            p50_ms: field_opt(path, &r, c50, "50%")?,
            p95_ms: field_opt(path, &r, c95, "95%")?,
            p99_ms: field_opt(path, &r, c99, "99%")?,
            error_rate: (count > 0.0).then(|| failed / count),
            ..Level::default()
        });
    }
    Ok(levels)
}
