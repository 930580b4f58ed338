//! The `simulate` binary, driven as a user drives it.

use crate::helpers::{
    csv_rows as rows, data, load, read, repo, simulate, snapshot_settings, temp_dir,
    validation_scenario as scenario,
};
use capsim::sweep::{SweepError, SweepOptions};
use predicates::prelude::*;
use std::path::Path;

/// The columns of a CSV file as the README documents them: the backticked
/// names in the first column of the table that follows the line starting
/// with "`<file>` —", in order. A column added to the output without its
/// documentation (or documented but missing) fails the test.
fn documented_columns(file: &str) -> String {
    let readme = read(&repo("README.md"));
    let start = readme
        .find(&format!("`{file}` —"))
        .unwrap_or_else(|| panic!("README documents {file}"));
    let mut names = Vec::new();
    for line in readme[start..].lines().skip(1) {
        if line.trim().is_empty() && !names.is_empty() {
            break;
        }
        let Some(first_cell) = line.strip_prefix("| ").and_then(|l| l.split(" | ").next()) else {
            continue;
        };
        for part in first_cell.split('`').skip(1).step_by(2) {
            names.push(part.to_string());
        }
    }
    names.join(",")
}

#[test]
fn writes_runs_csv_with_the_documented_header() {
    let out = temp_dir();
    simulate()
        .arg(scenario("mm1_rho50.toml"))
        .args([
            "--replications",
            "2",
            "--measured-requests",
            "2000",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success()
        .stderr("");
    let dir = out.path().join("mm1_rho50");
    let runs = read(&dir.join("runs.csv"));
    assert_eq!(
        runs.lines().next(),
        Some(documented_columns("runs.csv").as_str())
    );
    let table = rows(&dir.join("runs.csv"));
    assert_eq!(table.len(), 2, "one row per replication");
    for row in &table {
        assert_eq!(row["scenario"], "mm1_rho50");
        assert_eq!(row["stop_reason"], "target");
        assert_eq!(row["completed"], "2000");
        let x: f64 = row["throughput_rps"].parse().unwrap();
        assert!((30.0..70.0).contains(&x), "throughput {x} for λ = 50/s");
    }
    assert!(dir.join("resources.csv").is_file());
    assert!(dir.join("requests.csv").is_file());
}

#[test]
fn thread_count_does_not_change_any_output() {
    let run = |jobs: &str| {
        let out = temp_dir();
        simulate()
            .arg(scenario("closed_mva.toml"))
            .arg(scenario("erlang_b.toml"))
            .args(["--users", "3,30,150", "--replications", "3"])
            .args(["--measured-requests", "3000", "--quiet", "--jobs", jobs])
            .arg("--out")
            .arg(out.path())
            .assert()
            .success();
        out
    };
    let (one, two) = (run("1"), run("2"));
    for file in [
        "closed_mva/runs.csv",
        "closed_mva/resources.csv",
        "closed_mva/requests.csv",
        "erlang_b/runs.csv",
        "erlang_b/resources.csv",
        "erlang_b/requests.csv",
    ] {
        let (a, b) = (
            std::fs::read(one.path().join(file)).unwrap(),
            std::fs::read(two.path().join(file)).unwrap(),
        );
        assert!(a.len() > 200, "{file} is nearly empty");
        assert!(a == b, "{file} differs between --jobs 1 and --jobs 2");
    }
    // 2 phases × 3 user counts × 3 replications, in a fixed order.
    assert_eq!(rows(&one.path().join("closed_mva/runs.csv")).len(), 18);
}

#[test]
fn users_phase_seed_and_out_select_what_runs() {
    let run = |seed: &str| {
        let out = temp_dir();
        let nested = out.path().join("a/b");
        simulate()
            .arg(scenario("closed_mva.toml"))
            .args(["--users", "7,13", "--phase", "PS server", "--seed", seed])
            .args(["--replications", "2", "--measured-requests", "1000", "-q"])
            .arg("--out")
            .arg(&nested)
            .assert()
            .success();
        let table = rows(&nested.join("closed_mva/runs.csv"));
        (out, table)
    };
    let (_keep, table) = run("3");
    let points: Vec<(String, String, String)> = table
        .iter()
        .map(|r| {
            (
                r["phase"].clone(),
                r["users"].clone(),
                r["replication"].clone(),
            )
        })
        .collect();
    let expect: Vec<(String, String, String)> = [("7", "0"), ("7", "1"), ("13", "0"), ("13", "1")]
        .iter()
        .map(|(u, k)| ("PS server".to_string(), u.to_string(), k.to_string()))
        .collect();
    assert_eq!(points, expect);
    for r in &table {
        let users: u32 = r["users"].parse().unwrap();
        let rep: u32 = r["replication"].parse().unwrap();
        assert_eq!(
            r["seed"],
            capsim::sweep::run_seed(3, "PS server", users, rep).to_string(),
            "each run's seed derives from --seed"
        );
    }
    let means = |t: &[std::collections::HashMap<String, String>]| -> Vec<String> {
        t.iter().map(|r| r["mean_ms"].clone()).collect()
    };
    assert_eq!(means(&table), means(&run("3").1), "same seed, same results");
    assert_ne!(
        means(&table),
        means(&run("4").1),
        "another seed, other results"
    );
}

#[test]
fn an_unknown_phase_is_an_input_error() {
    let out = temp_dir();
    simulate()
        .arg(scenario("erlang_b.toml"))
        .args(["--phase", "M/M/1"])
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no phase is named `M/M/1`"))
        .stderr(predicate::str::contains("`M/M/10/10`"));
    assert!(!out.path().join("erlang_b").exists(), "nothing ran");
}

/// The planner says which error it is by its kind, not only in words: the
/// exit code above comes from it.
#[test]
fn an_unknown_phase_is_no_such_phase_to_the_planner() {
    let sc = load(&scenario("erlang_b.toml"));
    let opts = SweepOptions {
        phase: Some("M/M/1".into()),
        ..SweepOptions::default()
    };
    let Err(err) = capsim::sweep::plan(&sc, &opts) else {
        panic!("planned a phase the scenario does not have");
    };
    assert!(
        matches!(
            &err,
            SweepError::NoSuchPhase { name, phases, .. }
                if name == "M/M/1" && phases == "`M/M/10/10`, `M/G/10/10`"
        ),
        "{err:?}"
    );
}

/// The line each scenario ends with on standard output (the closing
/// summary; progress goes to standard error): its points and how each
/// stopped, its runs and events, every phase's capacity, its claims and its
/// folder. A snapshot pins it, elapsed time and the output folder redacted.
/// The lines are sorted as before, when they followed the finishing order.
#[test]
fn each_scenario_ends_with_its_summary_line() {
    let out = temp_dir();
    let assert = simulate()
        .arg(data("interrupt_small.toml"))
        .arg(data("claims.toml"))
        .args(["--users", "10,150", "--no-plots", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).expect("UTF-8");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).expect("UTF-8");
    assert!(
        !stderr.contains("capacity:"),
        "progress only on stderr: {stderr}"
    );
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines.len(), 2, "one line per scenario: {stdout}");
    let lines = lines.join("\n");
    snapshot_settings(&[out.path()]).bind(|| insta::assert_snapshot!("summary_lines", lines));
}

#[test]
fn an_invalid_scenario_exits_2_with_file_line_column_field_and_message() {
    let dir = temp_dir();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\n\
         [workload]\n\
         think_time = { dist = \"exponential\", mean_s = -3 }\n\
         [[workload.request]]\n\
         name = \"a\"\n\
         weight = 0\n\
         [[phase]]\n\
         name = \"p\"\n\
         app = { hosts = 0, cores_per_host = 2, workers_per_host = 4 }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let assert = simulate().arg(&bad).arg("--out").arg(&out).assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let located = located_errors(&stderr, &bad);
    assert!(
        located
            .iter()
            .any(|(l, f)| *l == 3 && f.starts_with("workload.think_time")),
        "the negative think time at line 3: {stderr}"
    );
    assert!(
        located
            .iter()
            .any(|(l, f)| *l == 9 && f.starts_with("phase[0].app")),
        "the zero hosts at line 9, reported in the same pass: {stderr}"
    );
    assert!(!out.exists(), "nothing ran");
}

/// (line, field) of every `file:line:col: field: message` line of `stderr`.
fn located_errors(stderr: &str, file: &Path) -> Vec<(usize, String)> {
    let prefix = format!("{}:", file.display());
    stderr
        .lines()
        .filter_map(|l| {
            let rest = &l[l.find(&prefix)? + prefix.len()..];
            let mut parts = rest.splitn(4, ": ");
            let mut pos = parts.next()?.split(':');
            let line: usize = pos.next()?.parse().ok()?;
            let col: usize = pos.next()?.parse().ok()?;
            let field = parts.next()?.to_string();
            let message = parts.next()?;
            (col >= 1 && !message.trim().is_empty() && !field.contains(' '))
                .then_some((line, field))
        })
        .collect()
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = temp_dir();
    let missing = dir.path().join("nowhere.toml");
    simulate()
        .arg(&missing)
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(missing.display().to_string()))
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn malformed_files_are_errors_not_panics() {
    let dir = temp_dir();
    let cases: [(&str, &[u8]); 6] = [
        ("empty", b""),
        ("not_utf8", &[0xff, 0xfe, 0x00, 0x80, 0x41]),
        ("not_toml", b"this is [not toml"),
        ("no_phase", b"[workload]\narrival_rate_per_s = 5\n[[workload.request]]\nname = \"a\"\nweight = 1\n"),
        ("huge_numbers", b"seed = 1\n[workload]\nthink_time = { dist = \"lognormal\", mean_s = 1e308, cv = 1e308 }\n[[workload.request]]\nname = \"a\"\nweight = 1e308\n[sweep]\nusers = [99999999999]\n[[phase]]\nname = \"p\"\napp = { hosts = 9999999999, cores_per_host = -1, workers_per_host = 4 }\n"),
        ("unknown_key", b"[workload]\nthinktime = 3\n"),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, bytes).unwrap();
        simulate()
            .arg(&path)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(path.display().to_string()))
            .stderr(predicate::str::contains("panicked").not());
    }
}
