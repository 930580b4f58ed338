//! A million users against one SQLite file: the runs end within their event
//! budget, and the point is flagged (unstable, or failing on errors), not
//! averaged into a latency that looks like a working system.

use crate::helpers::{csv_rows as rows, data, load, simulate, temp_dir};
use std::collections::HashMap;

type Row = HashMap<String, String>;

fn num(row: &Row, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

#[test]
fn a_million_users_on_one_sqlite_file_are_capped_and_flagged() {
    let file = data("overload_sqlite_1m.toml");
    let sc = load(&file);
    let (max_events, event_budget) = (sc.sweep.max_events as f64, sc.sweep.event_budget as f64);
    let slo = sc.slo;
    let out = temp_dir();
    // `--users`: only the million-user point, no bisection below it.
    simulate()
        .arg(&file)
        .args(["--users", "1000000", "--no-plots", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let dir = out.path().join("overload_sqlite_1m");

    // Every run ended by its event budget (or an overflow), not by reaching
    // its measured requests, and spent no more than the budget (the engine
    // counts the event that found the budget exhausted).
    let runs = rows(&dir.join("runs.csv"));
    assert!(!runs.is_empty());
    let mut busy = 0.0;
    for r in &runs {
        assert_eq!(num(r, "users"), 1e6);
        assert!(
            ["event_budget", "overflow"].contains(&r["stop_reason"].as_str()),
            "stop_reason {}",
            r["stop_reason"]
        );
        assert!(
            num(r, "events") <= max_events + 1.0,
            "events {}",
            r["events"]
        );
        // Some requests fail (SQLITE_BUSY after the 5 s busy timeout, client
        // timeouts, refusals): errors are counted, not dropped.
        assert!(num(r, "errors") > 0.0);
        assert_eq!(
            num(r, "errors"),
            num(r, "errors_refused") + num(r, "errors_timeout") + num(r, "errors_busy")
        );
        busy += num(r, "errors_busy");
    }
    assert!(busy > 0.0, "the 5 s busy timeout never fired");

    // The point: within the point's event budget, and either unstable (no
    // latencies at all) or clearly erroring (its error-rate interval lies
    // wholly above the SLO) — never a normal-looking point.
    let sweep = rows(&dir.join("sweep.csv"));
    assert_eq!(sweep.len(), 1);
    let p = &sweep[0];
    assert!(num(p, "events") <= event_budget + num(p, "replications"));
    assert_eq!(p["meets_slo"], "false");
    if p["stable"] == "false" {
        assert_eq!(p["stop_reason"], "unstable");
        assert!(p["p95_ms"].is_empty() && p["mean_ms"].is_empty());
    } else {
        assert_eq!(p["stable"], "true");
        let (err, ci) = (num(p, "error_rate"), num(p, "error_rate_ci"));
        assert!(
            err - ci > slo.error_rate,
            "error rate {err} ± {ci} is not clearly above the SLO's {}",
            slo.error_rate
        );
    }

    // Capacity: below a million users (the only count given, so below the
    // grid: a blank, not 0), found failing at a million.
    let cap = rows(&dir.join("capacity.csv"));
    assert_eq!(cap.len(), 1);
    let c = &cap[0];
    assert_eq!(c["status"], "below_grid");
    assert_eq!(c["capacity_users"], "");
    assert_eq!(num(c, "fails_at_users"), 1e6);
}
