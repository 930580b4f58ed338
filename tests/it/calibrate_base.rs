//! `simulate calibrate --base ARCH.toml --fit FIELD …`: the numbers of the
//! user's own architecture fitted to the load tests. A known SQLite
//! scenario is simulated (through `run::analyse`, as `simulate` runs it),
//! its levels written as the plain CSV, and calibrating a copy that starts
//! from wrong values must recover the true ones within the intervals it
//! states, and predict the held-out levels' median — flat in K, as the
//! busy handler keeps it, where a one-station network queues every
//! transaction. Bad `--base` and `--fit` arguments stop it with exit 2 and
//! what would be valid.

use crate::calibrate_round_trip::{levels, plain};
use crate::helpers::simulate;
use capsim::calibrate::{self, CalibrateOptions};
use std::path::Path;

const DB_MS: f64 = 0.03;
const THINK_S: f64 = 0.00002;
const KS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// K SQLite processes, WAL with synchronous FULL, on a 2-core host; a
/// write's time is almost all inside the lock, as a driver's statements
/// are.
fn sqlite(db_ms: f64, think_s: f64) -> String {
    format!(
        r#"
name = "sqlite writers"
seed = 3
[workload]
think_time = {{ dist = "exponential", mean_s = {think_s} }}
[[workload.request]]
name = "update"
weight = 1
kind = "write"
app_cpu = {{ dist = "exponential", mean_ms = 0.001 }}
db = {{ dist = "exponential", mean_ms = {db_ms} }}
[sweep]
users = [1]
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 2, workers_per_host = 64, quantum_ms = 4 }}
[phase.database]
engine = "sqlite"
journal_mode = "wal"
synchronous = "full"
busy_timeout_ms = 5000
fsync_ms = 0.1
commit_ms = 0.004
"#
    )
}

const FIT: [&str; 2] = [
    "workload.request.update.db.mean_ms",
    "workload.think_time.mean_s",
];

#[test]
fn a_sqlite_base_calibrates_back_to_its_times_and_predicts_the_flat_median() {
    let sims = levels(&sqlite(DB_MS, THINK_S), &KS);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    // Guesses a factor 2 off, each way.
    std::fs::write(&base, sqlite(2.0 * DB_MS, THINK_S / 2.0)).unwrap();
    let out = dir.path().join("mine.toml");
    let r = calibrate::calibrate(&CalibrateOptions {
        files: plain(dir.path(), &sims),
        servers: 2,
        out: out.clone(),
        base: Some(base.clone()),
        fit: FIT.iter().map(|s| s.to_string()).collect(),
        ..CalibrateOptions::default()
    })
    .unwrap_or_else(|e| panic!("{:#}", e.error));
    let (full, back) = r.architecture.as_ref().expect("a base fit");
    for (f, truth) in full.fields.iter().zip([DB_MS, THINK_S]) {
        assert!(
            f.interval.0 <= truth && truth <= f.interval.1,
            "{}: {} [{}, {}], truth {truth}",
            f.path,
            f.value,
            f.interval.0,
            f.interval.1
        );
        assert!(
            f.interval.1 / f.interval.0 < 1.5,
            "{f:?}: an interval that says little"
        );
    }
    assert!(back.is_some(), "the top third is held out by default");
    // The held-out levels' median is one process's, as the truth's is.
    let held: Vec<_> = r.points.iter().filter(|p| p.held_out).collect();
    assert_eq!(held.len(), 2);
    for p in held {
        let m = p.measured.p50_ms.unwrap();
        assert!(
            (p.predicted.p50_ms / m - 1.0).abs() < 0.1,
            "K = {}: p50 predicted {} against {m}",
            p.measured.users,
            p.predicted.p50_ms
        );
        assert!((p.capsim_error()).abs() < 0.1, "K = {}", p.measured.users);
    }
    assert!(
        sims[5].p50_ms < 1.5 * sims[0].p50_ms,
        "the truth's median is flat in K: {sims:?}"
    );
    // OUT.toml is the base with the fitted values, and knows how far it
    // was measured.
    let text = &r.scenario;
    assert!(text.contains("engine = \"sqlite\""), "{text}");
    for f in FIT {
        assert!(text.contains(&format!("#   {f} = ")), "{text}");
    }
    // The one-line summary names the fitted fields, not a network's.
    let line = r.summary(&out);
    assert!(
        line.starts_with(&format!(
            "calibrated 6 levels (N = 1–32) → {}: {} = ",
            out.display(),
            FIT[0]
        )),
        "{line}"
    );
    assert!(!line.contains("contention"), "{line}");
    // The truth is the base's own model: fitted, it follows every level it
    // was fitted on, and the summary says how closely.
    let (worst, at) = r.fit_worst().expect("levels fitted on");
    assert!(worst < 0.05, "fitted {:.1}% off at N = {at}", 100.0 * worst);
    assert_eq!(r.fit_warning(), None, "a fit that follows its levels");
    assert!(
        line.contains(&format!("fitted throughput within {:.1}%", 100.0 * worst)),
        "{line}"
    );
    let sc =
        capsim::scenario::parse(Path::new("mine.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.calibration.unwrap().measured_max_users, 32);
    // It sweeps the levels measured and beyond, not the base's one level.
    assert_eq!(sc.sweep.users, [1, 2, 4, 8, 16, 32, 48, 64, 96, 128]);
}

fn run_calibrate(dir: &Path, base: &str, fit: &[&str]) -> (i32, String) {
    let sims: Vec<_> = [1, 2, 4]
        .map(|users| crate::calibrate_round_trip::Sim {
            users,
            x: 6000.0,
            mean_ms: 0.15,
            p50_ms: 0.14,
            p95_ms: 0.2,
            p99_ms: 0.3,
        })
        .into();
    let files = plain(dir, &sims);
    let b = dir.join("base.toml");
    std::fs::write(&b, base).unwrap();
    let mut cmd = simulate();
    cmd.arg("calibrate").args(&files).arg("--base").arg(&b);
    for f in fit {
        cmd.args(["--fit", f]);
    }
    let o = cmd.arg("-o").arg(dir.join("x.toml")).output().unwrap();
    assert!(!dir.join("x.toml").exists(), "nothing written on an error");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_field_the_base_does_not_hold_stops_calibrate_with_what_would_be_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = run_calibrate(
        dir.path(),
        &sqlite(DB_MS, THINK_S),
        &["workload.request.nope.db.mean_ms"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--fit workload.request.nope.db.mean_ms: ")
            && err.contains("has no number there")
            && err.contains("workload.think_time.mean_s"),
        "{err}"
    );
    // A field that is not a positive number to start from.
    let (code, err) = run_calibrate(
        dir.path(),
        &sqlite(DB_MS, THINK_S).replace("busy_timeout_ms = 5000", "busy_timeout_ms = 0"),
        &["phase[0].database.busy_timeout_ms"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("starts from a positive value"), "{err}");
}

#[test]
fn a_base_of_two_phases_or_a_fit_without_a_base_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let two = format!(
        "{}\n[[phase]]\nname = \"q\"\nextends = \"p\"\n",
        sqlite(DB_MS, THINK_S)
    );
    let (code, err) = run_calibrate(dir.path(), &two, &[FIT[0]]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("it has 2 phases"), "{err}");
    // A base that does not load: the loader's own located error.
    let (code, err) = run_calibrate(
        dir.path(),
        &sqlite(DB_MS, THINK_S).replace("journal_mode = \"wal\"", "journal_mode = \"walk\""),
        &[FIT[0]],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("base.toml:") && err.contains("journal_mode"),
        "{err}"
    );
    // --fit needs --base, and --base needs --fit.
    let o = simulate()
        .args(["calibrate", "x.csv", "--fit", FIT[0]])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--base"));
}

/// Why the search's Jacobian steps by 10% (`LOG_STEP`): on the measured WAL
/// NORMAL writers' base, a 1% step in the checkpoint's time moves the
/// simulated K = 1 smoothly (a third of a percent, one way), but reorders who
/// finds the lock taken at K = 2 and moves that level by more than a whole
/// percent, now one way, now the other — noise to a 1% Jacobian. The
/// figures the comment on `LOG_STEP` and the README quote
/// (`-- --nocapture` prints them).
#[test]
fn a_one_percent_step_moves_a_lock_bound_level_by_its_reordering() {
    let (text, fit) = crate::measured_architectures::base("sqlite_wal_normal_write_5000ms");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base.toml");
    std::fs::write(&path, text).unwrap();
    let base = calibrate::architecture::Base::read(&path, &fit)
        .unwrap_or_else(|e| panic!("{:#}", e.error));
    assert_eq!(
        fit,
        [
            "workload.think_time.mean_s",
            "workload.request.update.db.mean_ms",
            "phase.measured.database.checkpoint_ms"
        ]
    );
    let opts = CalibrateOptions::default();
    let levels: Vec<Vec<f64>> = [7.0, 7.07, 7.14]
        .iter()
        .map(|ck| {
            let t = base
                .with(&[7.8469e-6, 0.007697, *ck])
                .unwrap_or_else(|e| panic!("{:#}", e.error));
            let sim = calibrate::simulate_text(&t, &path, &[1, 2], &opts)
                .unwrap_or_else(|e| panic!("{:#}", e.error));
            println!(
                "checkpoint {ck} ms: K = 1 {:.0} tps, K = 2 {:.0} tps",
                sim[0].throughput_rps, sim[1].throughput_rps
            );
            sim.iter().map(|s| s.throughput_rps).collect()
        })
        .collect();
    let step = |k: usize, i: usize| levels[i + 1][k] / levels[i][k] - 1.0;
    for i in 0..2 {
        assert!(
            (-0.01..0.0).contains(&step(0, i)),
            "K = 1 moves smoothly: {:+.2}%",
            100.0 * step(0, i)
        );
    }
    assert!(
        step(1, 0).abs().max(step(1, 1).abs()) > 0.01 && step(1, 0) * step(1, 1) < 0.0,
        "K = 2 moves by its reordering: {:+.2}%, {:+.2}%",
        100.0 * step(1, 0),
        100.0 * step(1, 1)
    );
}
