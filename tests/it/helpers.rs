//! What the integration tests share: where the repository's files are, how
//! a scenario is loaded, planned and analysed the way `simulate` does it,
//! how a point's runs are found, small statistics, the `simulate` binary,
//! and reading its outputs back.

use capsim::arch::compile;
use capsim::model::Model;
use capsim::outcome::LoadPoint;
use capsim::scenario::{self, Scenario};
use capsim::sweep::{self, RunRecord, Silent, SweepOptions, SweepPlan};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

// ------------------------------------------------------------------ Paths

/// A path inside the repository.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A file of `tests/data/`.
pub fn data(name: &str) -> PathBuf {
    repo("tests/data").join(name)
}

/// A scenario of `scenarios/validation/`.
pub fn validation_scenario(name: &str) -> PathBuf {
    repo("scenarios/validation").join(name)
}

/// A file's text, or a panic naming it.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`, recursively (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

// -------------------------------------------------------------- Scenarios

/// Load a scenario file, or panic with its diagnostics.
pub fn load(path: &Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
}

/// Parse scenario text given as the file `name`, or panic with its diagnostics.
pub fn parse(name: &str, text: &str) -> Scenario {
    scenario::parse(Path::new(name), text).unwrap_or_else(|e| panic!("{e}"))
}

/// The first phase of scenario text, compiled.
pub fn first_model(text: &str) -> Model {
    let sc = parse("test.toml", text);
    compile(&sc.workload, &sc.phases[0])
}

/// Plan a sweep, or panic.
pub fn plan<'s>(sc: &'s Scenario, opts: &SweepOptions) -> SweepPlan<'s> {
    sweep::plan(sc, opts).unwrap_or_else(|e| panic!("{e}"))
}

/// A scenario swept and analysed as `simulate` does it
/// ([`capsim::run::analyse`]: warm start, MSER-5 rerun, run lengths scaled
/// by load, replications added until precise, capacity search), kept with
/// what the tests read of the plan.
pub struct Swept {
    /// The compiled phases, by index into `scenario.phases`.
    pub models: Vec<Model>,
    /// Every point, by phase then users.
    pub points: Vec<LoadPoint>,
    /// Every run, by phase, users, replication.
    pub runs: Vec<RunRecord>,
    /// Requests every replication of a (phase, users) point measures, as
    /// the plan sized them.
    pub measured: HashMap<(usize, u32), u64>,
}

/// Sweep and analyse `sc` with `opts`, the way `simulate` does.
pub fn analyse(sc: &Scenario, opts: &SweepOptions) -> Swept {
    let plan = plan(sc, opts);
    let o = capsim::run::analyse(&plan, &Silent);
    let measured = o
        .points
        .iter()
        .map(|p| {
            let key = (p.phase(), p.users());
            (key, plan.measured_requests_at(key.0, key.1))
        })
        .collect();
    let (points, runs) = (o.points, o.runs);
    Swept {
        models: plan.models,
        points,
        runs,
        measured,
    }
}

impl Swept {
    /// The point of phase `phase` (by name) at `users`.
    pub fn point(&self, sc: &Scenario, phase: &str, users: u32) -> &LoadPoint {
        self.points
            .iter()
            .find(|p| sc.phases[p.phase()].name == phase && p.users() == users)
            .unwrap_or_else(|| panic!("{}: no point `{phase}` at {users} users", sc.name))
    }

    /// The replications of that point, in order.
    pub fn runs_at(&self, sc: &Scenario, phase: &str, users: u32) -> Vec<&RunRecord> {
        let p = self.point(sc, phase, users);
        runs_of(&self.runs, p.phase(), users)
    }
}

/// The runs of one (phase, users) point, in replication order.
pub fn runs_of(runs: &[RunRecord], phase: usize, users: u32) -> Vec<&RunRecord> {
    runs.iter()
        .filter(|r| r.point.phase == phase && r.point.users == users)
        .collect()
}

// ------------------------------------------------------------- Statistics

/// Mean and half-width of the Student-t interval at `confidence` (0.95 for
/// a 95% interval) of independent replications.
pub fn confidence_interval(xs: &[f64], confidence: f64) -> (f64, f64) {
    let n = xs.len() as f64;
    assert!(n >= 2.0, "an interval needs two values, got {xs:?}");
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("n ≥ 2")
        .inverse_cdf(0.5 + confidence / 2.0);
    (mean, t * (var / n).sqrt())
}

// ---------------------------------------------------------------- The CLI

/// The `simulate` binary of this build.
pub fn simulate() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_simulate"))
}

/// A CSV file: its header and its rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head = r
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(String::from)
        .collect();
    let rows = r
        .records()
        .map(|x| {
            x.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect();
    (head, rows)
}

/// Rows of a CSV file as maps from column name to cell.
pub fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let (head, rows) = read_csv(path);
    rows.into_iter()
        .map(|row| head.iter().cloned().zip(row).collect())
        .collect()
}

// -------------------------------------------------------------- Snapshots

/// insta settings for a text written by capsim: the repository's absolute
/// path becomes `[repo]`, each of `dirs` (temporary output folders) `[out]`,
/// and elapsed seconds (`in 0.4 s`) `in [elapsed] s`, so that a snapshot
/// holds only what the run decided.
pub fn snapshot_settings(dirs: &[&Path]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for d in dirs {
        s.add_filter(&regex_escape(&d.display().to_string()), "[out]");
    }
    s.add_filter(&regex_escape(env!("CARGO_MANIFEST_DIR")), "[repo]");
    s.add_filter(r"in \d+\.\d s", "in [elapsed] s");
    s
}

/// `text` as a regular expression matching exactly it.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}
