//! What-if beyond users: an open workload swept along its arrival rate, with
//! the same tables, capacity search and charts as a sweep of users; and
//! `--set path=value`, which overrides any field of a scenario from the
//! command line (checked as if written in the file), a list sweeping it.

use crate::helpers::{csv_rows, read, read_csv, repo, simulate, temp_dir, validation_scenario};
use std::path::Path;

/// M/M/1 of `scenarios/validation/mm1_rates.toml`: service rate μ = 100/s.
const MU: f64 = 100.0;
/// Its SLO on the 95th percentile of response, in seconds.
const SLO_P95_S: f64 = 0.1;

#[test]
fn an_arrival_rate_sweep_of_m_m_1_meets_1_over_mu_minus_lambda_and_finds_its_capacity() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    simulate()
        .arg(validation_scenario("mm1_rates.toml"))
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let folder = out.join("mm1_rates");
    let (head, _) = read_csv(&folder.join("sweep.csv"));
    assert!(head.iter().any(|c| c == "arrivals_per_s"), "{head:?}");
    assert!(!head.iter().any(|c| c == "users"), "{head:?}");
    let points = csv_rows(&folder.join("sweep.csv"));
    let grid: Vec<&_> = points.iter().filter(|p| p["origin"] == "grid").collect();
    let rates: Vec<f64> = grid
        .iter()
        .map(|p| p["arrivals_per_s"].parse().unwrap())
        .collect();
    assert_eq!(rates, [10.0, 20.0, 40.0, 60.0, 80.0]);
    for p in &points {
        let lambda: f64 = p["arrivals_per_s"].parse().unwrap();
        // M/M/1: the response time is exponential with rate μ − λ.
        let exact_ms = 1e3 / (MU - lambda);
        let mean: f64 = p["mean_ms"].parse().unwrap();
        assert!(
            (mean - exact_ms).abs() <= 0.05 * exact_ms,
            "λ = {lambda}: mean {mean} ms, exact {exact_ms} ms"
        );
        // The analytic companion reads the point's rate too (written with
        // 6 significant digits).
        let mva: f64 = p["mva_mean_ms"].parse().unwrap();
        assert!(
            (mva - exact_ms).abs() <= 1e-5 * exact_ms,
            "λ = {lambda}: MVA {mva}"
        );
        let x: f64 = p["throughput_rps"].parse().unwrap();
        assert!((x - lambda).abs() <= 0.03 * lambda, "λ = {lambda}: X = {x}");
    }
    // p95 = ln 20 / (μ − λ) meets the SLO up to λ* = μ − ln 20 / SLO.
    let exact_capacity = MU - 20f64.ln() / SLO_P95_S;
    let cap = &csv_rows(&folder.join("capacity.csv"))[0];
    assert_eq!(cap["status"], "found");
    let found: f64 = cap["capacity_arrivals_per_s"].parse().unwrap();
    let fails: f64 = cap["fails_at_arrivals_per_s"].parse().unwrap();
    assert!(
        (found - exact_capacity).abs() <= 2.0,
        "capacity {found} arrivals/s, exact {exact_capacity}"
    );
    assert!(fails > found && fails - found <= 2.0, "{found} .. {fails}");
    // The load charts are drawn against the rate; the plan and the bill,
    // read in users, are not.
    for chart in [
        "latency.png",
        "throughput.png",
        "errors.png",
        "utilisation.png",
    ] {
        let bytes = std::fs::read(folder.join(chart)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{chart}");
    }
    for chart in ["plan.png", "cost.png"] {
        assert!(!folder.join(chart).exists(), "{chart}");
    }
    let report = read(&folder.join("report.md"));
    assert!(
        report.contains("| Phase | Capacity (arrivals per second) |"),
        "{report}"
    );
    assert!(report.contains(&format!("| M/M/1 | {found} |")), "{report}");
    assert!(
        report.contains("5 arrival rates from 10 to 80 per second"),
        "{report}"
    );
    assert!(
        report.contains("![Response time vs load](latency.png)"),
        "{report}"
    );
    let runs = csv_rows(&folder.join("runs.csv"));
    assert!(runs.iter().all(|r| r.contains_key("arrivals_per_s")));
    let summary = csv_rows(&out.join("summary.csv"));
    assert_eq!(summary[0]["capacity_unit"], "arrivals_per_s");
    assert_eq!(summary[0]["capacity_users"], cap["capacity_arrivals_per_s"]);
}

/// The line (1-based) of the first line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle:?}"))
        + 1
}

fn check_with(file: &Path, sets: &[&str]) -> (bool, String) {
    let mut cmd = simulate();
    cmd.arg(file).arg("--check");
    for s in sets {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().unwrap();
    if out.status.success() {
        (true, String::from_utf8_lossy(&out.stderr).into_owned())
    } else {
        assert_eq!(out.status.code(), Some(2), "invalid input exits 2");
        (false, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn a_set_value_is_checked_as_if_written_in_the_file_and_its_error_names_the_argument() {
    let file = repo("scenarios/examples/shop_growth.toml");
    let text = read(&file);
    let (ok, err) = check_with(&file, &["phase.\"One VPS\".app.cores_per_host=four"]);
    assert!(!ok);
    let line = line_of(&text, "cores_per_host = 2");
    assert!(
        err.contains(&format!(
            "shop_growth.toml:{line}:"
        )) && err.contains(
            ": --set phase.\"One VPS\".app.cores_per_host=four: phase[0].app.cores_per_host: must be CPU cores per app host, a whole number from 1 to 1024 (got the string \"four\")"
        ),
        "{err}"
    );
    // A key the file does not have is added where its table is, so a typo
    // gets the loader's own "unknown field" with what would be valid.
    let (ok, err) = check_with(&file, &["phase[0].app.corez=4"]);
    assert!(!ok);
    assert!(
        err.contains("--set phase[0].app.corez=4: phase[0].app.corez: unknown field `corez`, expected one of `hosts`, `cores_per_host`"),
        "{err}"
    );
    let (ok, err) = check_with(&file, &["phase.Base.app.hosts=2"]);
    assert!(!ok);
    assert!(
        err.contains("`phase` has no entry named `Base`; names: `One VPS`, `Two app hosts`"),
        "{err}"
    );
    // A line added for one override leaves every other error on its line
    // of the file: [slo] gets `headroom`, then app.hosts = 0 is refused on
    // the line it is written on.
    let (ok, err) = check_with(&file, &["slo.headroom=0.5", "phase[0].app.hosts=0"]);
    assert!(!ok);
    let hosts_line = line_of(&text, "app = { hosts = 1, cores_per_host = 2");
    assert!(
        err.contains(&format!("shop_growth.toml:{hosts_line}:"))
            && err.contains(
                "--set phase[0].app.hosts=0: phase[0].app.hosts: must be the number of app hosts"
            ),
        "{err}"
    );
    // Not a path=value at all.
    let (ok, err) = check_with(&file, &["nonsense"]);
    assert!(!ok);
    assert!(err.contains("--set nonsense: expected path=value"), "{err}");
    // A list is the value of a field that is a list.
    let (ok, err) = check_with(&file, &["sweep.users=[100,1000]"]);
    assert!(ok, "{err}");
    assert_eq!(err.lines().count(), 1, "one scenario: {err}");
    assert!(err.contains("valid (4 phases, 40 runs)"), "{err}");
}

/// mm1_rates.toml with `servers = N` written in the file.
fn with_servers(dir: &Path, n: u32) -> std::path::PathBuf {
    let text = read(&validation_scenario("mm1_rates.toml"));
    assert_eq!(text.matches("servers = 1").count(), 1);
    let path = dir.join(format!("mm1_rates_{n}.toml"));
    std::fs::write(
        &path,
        text.replace("servers = 1", &format!("servers = {n}")),
    )
    .unwrap();
    path
}

#[test]
fn a_set_list_sweeps_the_field_one_variant_per_value_the_same_whatever_the_jobs() {
    let dir = temp_dir();
    let run = |out: &Path, jobs: &str| {
        simulate()
            .arg(validation_scenario("mm1_rates.toml"))
            .args(["--out", out.to_str().unwrap(), "--quiet", "--jobs", jobs])
            .args(["--set", "phase[0].station.server.servers=[1,2]"])
            .args(["--set", "sweep.replications=3"])
            .assert()
            .success();
    };
    let (one, three) = (dir.path().join("one"), dir.path().join("three"));
    run(&one, "1");
    run(&three, "3");
    for f in crate::helpers::files_under(&one) {
        let rel = f.strip_prefix(&one).unwrap();
        let other = std::fs::read(three.join(rel)).unwrap();
        assert!(
            std::fs::read(&f).unwrap() == other,
            "{} differs between --jobs 1 and 3",
            rel.display()
        );
    }
    let summary = csv_rows(&one.join("summary.csv"));
    let names: Vec<&str> = summary.iter().map(|r| r["scenario"].as_str()).collect();
    assert_eq!(names, ["mm1_rates@servers=1", "mm1_rates@servers=2"]);
    assert_eq!(
        summary[1]["scenario_name"],
        "M/M/1 along its arrival rate (phase[0].station.server.servers = 2)"
    );
    let report = read(&one.join("mm1_rates@servers=2/report.md"));
    assert!(
        report.contains("`--set phase[0].station.server.servers=2`, `--set sweep.replications=3`"),
        "{report}"
    );
    // A variant is the file with that value written in: the same runs.
    for n in [1, 2] {
        let file = with_servers(dir.path(), n);
        let out = dir.path().join(format!("file{n}"));
        simulate()
            .arg(&file)
            .args(["--out", out.to_str().unwrap(), "--quiet", "--no-plots"])
            .args(["--set", "sweep.replications=3"])
            .assert()
            .success();
        let strip = |p: &Path| {
            read(p)
                .lines()
                .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            strip(&out.join(format!("mm1_rates_{n}/sweep.csv"))),
            strip(&one.join(format!("mm1_rates@servers={n}/sweep.csv"))),
            "servers = {n}"
        );
    }
    // Two servers carry every rate simulated: the variants differ.
    let caps: Vec<String> = ["1", "2"]
        .iter()
        .map(|n| {
            csv_rows(&one.join(format!("mm1_rates@servers={n}/capacity.csv")))[0]["status"].clone()
        })
        .collect();
    assert_eq!(caps, ["found", "above_grid"]);
}
