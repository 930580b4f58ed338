//! The writers: every file of a scenario's output folder — CSV tables, PNG
//! and SVG charts, report.md — formatted from its [`Outcome`], each whole or absent.
//!
//! Writers compute nothing: what a number means and how it was reached is
//! decided in [`crate::outcome`]; here it only gets its digits and its place.

mod atomic;
pub mod charts;
mod claims;
mod costs;
mod figures;
mod folder;
pub mod manifest;
pub mod markdown;
mod runs;
mod svg;
mod sweep;
mod tornado;
pub mod uncertainty;

pub use atomic::write_atomically;
pub use claims::{write_claims_csv, write_sensitivity_csv, CLAIMS_COLUMNS, SENSITIVITY_COLUMNS};
pub use costs::{
    summary_rows, write_costs_csv, write_plan_csv, write_summary_csv, COSTS_COLUMNS, PLAN_COLUMNS,
    SUMMARY_COLUMNS,
};
pub use figures::{svg_of, write_charts, CHART_FILES};
pub use folder::Staging;
pub use runs::{
    write_requests_csv, write_resources_csv, write_runs_csv, REQUESTS_COLUMNS, RESOURCES_COLUMNS,
    RUNS_COLUMNS,
};
pub use sweep::{write_capacity_csv, write_sweep_csv, CAPACITY_COLUMNS, SWEEP_COLUMNS};

use crate::outcome::Outcome;
use std::path::Path;

/// Write every output of one scenario as the folder `target`: the tables,
/// the charts (unless `plots` is off) and report.md, built beside it and
/// swapped in whole (see [`Staging`]).
pub fn write_scenario(target: &Path, o: &Outcome, plots: bool) -> anyhow::Result<()> {
    let staging = Staging::begin(target)?;
    write_files(staging.path(), o, plots)?;
    staging.commit(&OUTPUT_FILES)
}

/// Every file a scenario's folder may hold from capsim: a rerun replaces
/// these, and keeps any other file there (the user's).
pub const OUTPUT_FILES: [&str; 27] = [
    manifest::FILE,
    "runs.csv",
    "resources.csv",
    "requests.csv",
    "sweep.csv",
    "capacity.csv",
    "claims.csv",
    "sensitivity.csv",
    "costs.csv",
    "plan.csv",
    "report.md",
    "plan.png",
    "plan.svg",
    "latency.png",
    "latency.svg",
    "errors.png",
    "errors.svg",
    "throughput.png",
    "throughput.svg",
    "utilisation.png",
    "utilisation.svg",
    "cost.png",
    "cost.svg",
    "uncertainty.csv",
    "tornado.csv",
    "tornado.png",
    "tornado.svg",
];

/// Every output file of one scenario, into `dir`; report.md last, since it
/// links the others.
fn write_files(dir: &Path, o: &Outcome, plots: bool) -> anyhow::Result<()> {
    let sc = o.scenario();
    manifest::write(dir, sc)?;
    write_runs_csv(&dir.join("runs.csv"), o)?;
    write_resources_csv(&dir.join("resources.csv"), o)?;
    write_requests_csv(&dir.join("requests.csv"), o)?;
    write_sweep_csv(&dir.join("sweep.csv"), o)?;
    write_capacity_csv(&dir.join("capacity.csv"), o)?;
    if !sc.claims.is_empty() {
        write_claims_csv(&dir.join("claims.csv"), o)?;
    }
    // Where ranges were explored, the re-simulated tornado replaces the
    // extrapolated sensitivity.
    if let Some(study) = &o.uncertainty {
        uncertainty::write_uncertainty_csv(&dir.join("uncertainty.csv"), o, study)?;
        uncertainty::write_tornado_csv(&dir.join("tornado.csv"), o, study)?;
    } else if !o.sensitivity.is_empty() {
        write_sensitivity_csv(&dir.join("sensitivity.csv"), o)?;
    }
    write_costs_csv(&dir.join("costs.csv"), o)?;
    write_plan_csv(&dir.join("plan.csv"), o)?;
    let mut charts = if plots {
        write_charts(dir, o)?
    } else {
        Vec::new()
    };
    if let (true, Some(study)) = (plots && o.has_users(), &o.uncertainty) {
        if tornado::write_tornado_png(&dir.join("tornado.png"), o, study)? {
            charts.push("tornado.png");
        }
    }
    markdown::write_report_md(&dir.join("report.md"), o, &charts)
}

/// Significant digits every CSV number keeps: a time-average of 0.0123
/// or a half-width of 0.00042 keeps its digits as 12,345.6 does, where fixed
/// decimals would round the small ones to 0.
pub const SIGNIFICANT_DIGITS: i32 = 6;

/// A number for a CSV cell: [`SIGNIFICANT_DIGITS`] significant digits
/// (never rounding the integer part), `.` as the decimal mark, no thousands
/// separator, no exponent, no trailing zeros; empty when undefined (NaN or
/// infinite), which spreadsheets read as a blank cell rather than as text.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x == 0.0 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    // At most 15 decimals: below 1e-10 a value is 0 for every reader.
    let decimals = (SIGNIFICANT_DIGITS - 1 - magnitude).clamp(0, 15) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    // "-0" reads as a sign error in a spreadsheet.
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(num(1234567.891), "1234568");
        assert_eq!(num(12345.678), "12345.7");
        assert_eq!(num(20.0), "20");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(f64::INFINITY), "");
        assert_eq!(num(-1e-18), "0");
    }

    #[test]
    fn a_small_time_average_keeps_its_significant_digits() {
        // A pool busy 1.2345678% of the time, and its interval's half-width:
        // three fixed decimals wrote 0.012 and 0.000.
        let (mean, half_width) = (0.012_345_678, 0.000_421_987_6);
        assert_eq!(num(mean), "0.0123457");
        assert_eq!(num(half_width), "0.000421988");
        for x in [mean, half_width, 3.0e-7, 98_765.432_1] {
            let back: f64 = num(x).parse().unwrap();
            assert!(((back - x) / x).abs() < 1e-5, "{x} → {}", num(x));
        }
    }
}
