//! Writing results: CSV tables, always complete or absent.

mod atomic;
pub mod charts;
mod claims;
pub mod manifest;
pub mod markdown;
pub mod planning;
pub mod points;
mod runs;
mod sweep;

pub use atomic::write_atomically;
pub use claims::{write_claims_csv, write_sensitivity_csv, CLAIMS_COLUMNS, SENSITIVITY_COLUMNS};
pub use planning::{write_planning, write_summary_csv, PlanningOptions, ScenarioOutcome};
pub use runs::{write_requests_csv, write_resources_csv, write_runs_csv, RUNS_COLUMNS};
pub use sweep::{write_capacity_csv, write_sweep_csv, CAPACITY_COLUMNS, SWEEP_COLUMNS};

/// A number for a CSV cell: fixed decimals, `.` as the decimal mark, no
/// thousands separator; empty when undefined (NaN), which spreadsheets read
/// as a blank cell rather than as text.
pub fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        let s = format!("{x:.decimals$}");
        // "-0.000" reads as a sign error in a spreadsheet.
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_are_plain_decimals() {
        assert_eq!(num(1234567.891, 2), "1234567.89");
        assert_eq!(num(-0.0001, 3), "0.000");
        assert_eq!(num(f64::NAN, 3), "");
        assert_eq!(num(1e-9, 3), "0.000");
    }
}
