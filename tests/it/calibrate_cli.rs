//! `simulate calibrate` driven as a user drives it: on the real pgbench
//! files it writes a scenario that the normal loader accepts (every fitted
//! number commented with its file, window and estimator), calibration.csv
//! and calibration.png, and one line on standard output; a sweep of that
//! scenario marks the loads beyond twice the largest measured one, and a
//! verdict resting on such a load says so.

use crate::helpers::{read_csv, repo, simulate};
use capsim::calibrate::{self, output::CALIBRATION_COLUMNS};
use capsim::sweep::{self, Silent, SweepOptions};
use std::path::Path;

fn pgbench_files() -> Vec<String> {
    let dir = repo("tests/data/calibrate/pgbench");
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "log"))
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn calibrate_writes_a_loadable_scenario_its_table_and_chart_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine.toml");
    let assert = simulate()
        .arg("calibrate")
        .args(pgbench_files())
        .args(["--servers", "2", "-o"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("calibrated 4 levels (N = 1–8; N = 1 left out)"),
        "{stdout}"
    );
    // The normal loader accepts it, and it knows how far it was measured.
    let sc = capsim::scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.phases.len(), 1);
    assert_eq!(sc.calibration.unwrap().measured_max_users, 8);
    // Every fitted number carries its file, window and estimator.
    let text = std::fs::read_to_string(&out).unwrap();
    for what in [
        "think time:",
        "service demand:",
        "pure delay:",
        "contention:",
        "variability (cv):",
    ] {
        let at = text
            .find(what)
            .unwrap_or_else(|| panic!("no comment for {what}"));
        let block: String = text[at..].lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(block.contains("estimator:"), "{block}");
        // The fit starts at c = 2: the one-client level is left out (below).
        assert!(block.contains("tpcb_c2"), "{block}");
        assert!(block.contains("line"), "{block}");
    }
    // pgbench at one client pays idle-core wake-ups: c = 2 does more than
    // twice its throughput, so the full fit leaves it out and says why.
    assert!(
        text.contains("# Left out of the fit: N = 1: N = 1 → 2 scales"),
        "{text}"
    );
    let (head, rows) = read_csv(&dir.path().join("calibration.csv"));
    assert_eq!(head, CALIBRATION_COLUMNS);
    let roles: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    // 4 levels, a third held out: the highest; the back-test's fit on the
    // other three leaves the one-client level out too.
    assert_eq!(roles, ["left-out", "fit", "fit", "held-out"]);
    let png = std::fs::read(dir.path().join("calibration.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // Nothing half-written is left beside them.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");

    // A sweep of it flags what lies beyond twice the largest measured load.
    let res = dir.path().join("res");
    simulate()
        .arg(&out)
        .arg("--out")
        .arg(&res)
        .args(["--quiet", "--no-plots"])
        .assert()
        .success();
    let (head, sweep) = read_csv(&res.join("mine/sweep.csv"));
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let (u, x) = (col("users"), col("extrapolated"));
    let mut beyond = 0;
    for r in &sweep {
        let users: u32 = r[u].parse().unwrap();
        assert_eq!(r[x], (users > 16).to_string(), "users {users}");
        beyond += usize::from(users > 16);
    }
    assert!(beyond > 0, "the sweep reaches past 2 × 8 users");
}

#[test]
fn a_verdict_beyond_twice_the_measured_load_says_it_is_extrapolated() {
    let text = r#"
[workload]
think_time = { dist = "exponential", mean_ms = 10 }
[[workload.request]]
name = "r"
weight = 1.0
[sweep]
users = [2, 20]
[calibration]
measured_max_users = 4
[[phase]]
name = "p"
[[phase.station]]
name = "s"
discipline = "ps"
servers = 1
[phase.plan]
r = [{ use = "s", demand = { dist = "exponential", mean_ms = 1 } }]
[[claim]]
id = "near"
phase = "p"
quote = "8 users under 100 ms"
users = 8
expect = { mean_ms = { max = 100 } }
[[claim]]
id = "far"
phase = "p"
quote = "20 users under 100 ms"
users = 20
expect = { mean_ms = { max = 100 } }
"#;
    let sc = capsim::scenario::parse(Path::new("c.toml"), text).unwrap();
    let plan = sweep::plan(
        &sc,
        &SweepOptions {
            replications: Some(2),
            measured_requests: Some(5_000),
            ..SweepOptions::default()
        },
    )
    .unwrap();
    let o = capsim::run::analyse(&plan, &Silent);
    let reason = |id: &str| {
        let i = sc.claims.iter().position(|c| c.id == id).unwrap();
        o.verdicts
            .iter()
            .find(|v| v.claim == i)
            .unwrap()
            .reason
            .clone()
    };
    assert!(
        !reason("near").contains("extrapolated"),
        "{}",
        reason("near")
    );
    assert!(
        reason("far").contains("extrapolated: beyond twice the largest measured load (4 users)"),
        "{}",
        reason("far")
    );
    let at = |u: u32| {
        o.points
            .iter()
            .find(|p| p.users() == u)
            .unwrap()
            .extrapolated
    };
    assert!(!at(8) && at(20));
}

#[test]
fn a_malformed_file_stops_calibrate_with_its_line_and_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms\n1,100,9,14,20\n0,5,1,2,3\n",
    )
    .unwrap();
    let a = simulate()
        .arg("calibrate")
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("x.toml"))
        .assert()
        .code(2);
    let err = String::from_utf8(a.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains(&format!(
            "{}:3:1: concurrency: expected a user count of at least 1",
            bad.display()
        )),
        "{err}"
    );
    assert!(!dir.path().join("x.toml").exists());
}

#[test]
fn per_type_rows_become_request_types_with_their_shares_and_times() {
    // Two types measured at each level: the scenario gets both, weighted by
    // throughput, the slower one with proportionally more demand.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("types.csv");
    std::fs::write(
        &f,
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms,mean_ms,request\n\
         1,75,9,14,20,10,browse\n1,25,27,42,60,30,buy\n\
         2,140,10,15,21,11,browse\n2,46,30,45,66,33,buy\n\
         4,200,14,22,30,16,browse\n4,66,42,66,90,48,buy\n",
    )
    .unwrap();
    let opts = calibrate::CalibrateOptions {
        files: vec![f],
        out: dir.path().join("t.toml"),
        plots: false,
        ..calibrate::CalibrateOptions::default()
    };
    let r = calibrate::run(&opts).map_err(|e| e.error).unwrap();
    let shares = &r.full.requests;
    let names: Vec<&str> = shares.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["browse", "buy"]);
    // At the lowest level: 75 and 25 per second; mean 10 and 30 ms against
    // the mix's (75·10 + 25·30)/100 = 15 ms.
    assert!((shares[0].weight - 0.75).abs() < 1e-12);
    assert!((shares[1].time_ratio - 2.0).abs() < 1e-12);
    let sc = capsim::scenario::load(&opts.out).unwrap();
    assert_eq!(sc.workload.requests.len(), 2);
    let w: Vec<f64> = sc.workload.requests.iter().map(|q| q.weight).collect();
    assert!(
        (w[0] - 0.75).abs() < 1e-6 && (w[1] - 0.25).abs() < 1e-6,
        "{w:?}"
    );
}

/// Levels no closed loop produces (throughput up and down with the load):
/// the fitted model cannot follow them, the summary says by how much, and
/// a warning on standard error says what that means. (Levels it can
/// follow get none: `calibrate_base`'s round trip.)
#[test]
fn a_fit_that_cannot_follow_its_levels_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("zigzag.csv");
    std::fs::write(
        &csv,
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms\n\
         1,100,10,15,20\n2,200,10,15,20\n4,120,33,50,60\n8,400,20,30,40\n16,150,100,150,200\n32,420,76,110,150\n",
    )
    .unwrap();
    let out = dir.path().join("zigzag.toml");
    let assert = simulate()
        .arg("calibrate")
        .arg(&csv)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let within = stdout
        .split("fitted throughput within ")
        .nth(1)
        .and_then(|s| s.split('%').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no fit figure: {stdout}"));
    assert!(within > 10.0, "{stdout}");
    assert!(
        stderr.contains("warning: the fitted model misses the measured throughput by"),
        "{stderr}"
    );
    assert!(stderr.contains("a level it was fitted on"), "{stderr}");
}
