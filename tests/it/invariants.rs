//! Laws every run of every shipped scenario must obey, whatever it models.
//!
//! The scenario files are found by walking `scenarios/` recursively, so a
//! scenario added later is covered without touching this file. Each is
//! swept the way `simulate` sweeps it ([`capsim::run::analyse`]: warm start,
//! MSER-5 rerun, run lengths scaled by load, replications added by the
//! precision rule) at reduced size — a few user counts (`--users`), its
//! `[sweep]` edited to one replication to start and at most two, and a run
//! length long enough for the laws below to be judged at every point after
//! the sweep has scaled it down — short enough for the whole folder to take
//! seconds:
//!
//! - Little's law: the time-average number in system equals departures per
//!   second × mean time in system, within 2%;
//! - conservation: every request started has completed, failed, or is still
//!   in flight at the end, and the measured window ends on exactly the
//!   departures the sweep sized the run for;
//! - no station with servers and no passive resource is busier than 100%.

use crate::helpers::{analyse, parse, plan, repo};
use capsim::model::Model;
use capsim::scenario::{self, Scenario};
use capsim::sweep::{RunRecord, SweepOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Largest population simulated here: the laws do not depend on scale, and
/// the run length needed to judge Little's law grows with the population.
const MAX_USERS: u32 = 1_000;

fn scenario_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "toml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo("scenarios"), &mut files);
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_passes_validation() {
    let files = scenario_files();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("validation/mm1_rho50.toml")),
        "the walk must find the validation scenarios: {files:?}"
    );
    let errors: Vec<String> = files
        .iter()
        .filter_map(|f| scenario::load(f).err().map(|e| format!("{e:#}")))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // Together, as `simulate` loads them: no two may write the same output folder.
    if let Err(f) = capsim::run::load_all(&files) {
        panic!("{:#}", f.error);
    }
}

/// A few user counts of the sweep: the smallest, the largest up to
/// `MAX_USERS`, and one in between (open workloads have the single point 0).
fn reduced_users(sc: &Scenario) -> Vec<u32> {
    let grid = &sc.sweep.users;
    let within: Vec<u32> = grid.iter().copied().filter(|&u| u <= MAX_USERS).collect();
    let pick = if within.is_empty() {
        vec![grid[0].min(MAX_USERS)]
    } else {
        vec![
            within[0],
            within[within.len() / 2],
            within[within.len() - 1],
        ]
    };
    let mut pick = pick;
    pick.dedup();
    pick
}

struct Checked {
    scenario: Scenario,
    models: Vec<Model>,
    runs: Vec<RunRecord>,
    /// Departures each replication of a (phase, users) point measures
    /// before it stops, as the sweep sized it.
    measured: HashMap<(usize, u32), u64>,
}

/// Departures a run needs for Little's law to be judged within 2%: over a
/// finite window the law is off by roughly (number in system)/(departures
/// in the window), and a closed system holds at most its users.
const DEPARTURES_PER_USER: u64 = 100;

/// Sweep `sc` at `users` as `simulate --users …` sweeps the scenario with
/// its `[sweep]` edited to these replications and this warm-up, and with a
/// configured run length of at least `measured`, raised until every point,
/// once the sweep has scaled its run length down by its load, still
/// measures [`DEPARTURES_PER_USER`] departures per user.
fn sweep_reduced(
    mut sc: Scenario,
    users: Vec<u32>,
    (replications, max_replications): (u32, u32),
    warmup: u64,
    measured: u64,
) -> Checked {
    sc.sweep.replications = replications;
    sc.sweep.max_replications = max_replications;
    sc.sweep.warmup_requests = warmup;
    sc.sweep.measured_requests = measured;
    let opts = SweepOptions {
        users: Some(users),
        ..SweepOptions::default()
    };
    // The scale of each point's run does not depend on the configured
    // length: size that length for the point scaled down the most.
    let needed = {
        let p = plan(&sc, &opts);
        assert!(
            p.scale_run_length,
            "run lengths are scaled as simulate does"
        );
        p.phases
            .iter()
            .flat_map(|&ph| p.users.iter().map(move |&u| (ph, u)))
            .map(|(ph, u)| {
                let scale = p.measured_requests_at(ph, u) as f64 / measured as f64;
                (DEPARTURES_PER_USER as f64 * u as f64 / scale).ceil() as u64
            })
            .max()
            .unwrap_or(0)
    };
    sc.sweep.measured_requests = measured.max(needed);
    let swept = analyse(&sc, &opts);
    for (&(ph, u), &m) in &swept.measured {
        assert!(
            m >= DEPARTURES_PER_USER * u as u64,
            "{}: phase {ph} at {u} users measures only {m} departures",
            sc.name
        );
    }
    Checked {
        models: swept.models,
        runs: swept.runs,
        measured: swept.measured,
        scenario: sc,
    }
}

/// Every shipped scenario swept once at reduced size; shared by the tests
/// of this file so that each scenario is simulated only once.
fn reduced_runs() -> &'static [Checked] {
    static RUNS: OnceLock<Vec<Checked>> = OnceLock::new();
    RUNS.get_or_init(|| {
        scenario_files()
            .iter()
            .map(|f| {
                let sc = scenario::load(f).unwrap_or_else(|e| panic!("{e:#}"));
                let users = reduced_users(&sc);
                let most = *users.iter().max().unwrap() as u64;
                // Warm-up lets the population fill the queues first (the
                // law assumes no drift).
                let warmup = sc.sweep.warmup_requests.clamp(5_000, 20_000).max(20 * most);
                let measured = sc.sweep.measured_requests.clamp(20_000, 50_000);
                sweep_reduced(sc, users, (1, 2), warmup, measured)
            })
            .collect()
    })
}

fn label(c: &Checked, r: &RunRecord) -> String {
    format!(
        "{} (phase `{}`, {} users, seed {})",
        c.scenario.path.display(),
        c.scenario.phases[r.point.phase].name,
        r.point.users,
        r.point.seed
    )
}

fn assert_littles_law(c: &Checked, r: &RunRecord) {
    assert_eq!(
        r.stop.name(),
        "target",
        "{}: the run stopped before its measured requests finished",
        label(c, r)
    );
    let (l, xr) = (r.mean_in_system, r.little_xr);
    assert!(
        l.is_finite() && xr.is_finite(),
        "{}: L = {l}, X·R = {xr}",
        label(c, r)
    );
    assert!(
        (l - xr).abs() <= 0.02 * l.max(xr),
        "{}: mean number in system {l:.4} but throughput × response {xr:.4}",
        label(c, r)
    );
}

fn assert_conserved(c: &Checked, r: &RunRecord) {
    assert_eq!(
        r.total_started,
        r.total_completed + r.total_errored + r.in_flight_at_end,
        "{}: started ≠ completed + errored + in flight",
        label(c, r)
    );
    // The measured window ends on its departure target exactly: the run
    // length the sweep sized for this point.
    assert_eq!(
        r.completed + r.errors_total(),
        c.measured[&(r.point.phase, r.point.users)],
        "{}: departures in the measured window",
        label(c, r)
    );
}

fn assert_within_capacity(c: &Checked, r: &RunRecord) {
    const EPS: f64 = 1e-9;
    let m = &c.models[r.point.phase];
    for (s, st) in m.stations.iter().zip(&r.stations) {
        if let Some(u) = st.utilisation {
            assert!(
                (0.0..=1.0 + EPS).contains(&u),
                "{}: station `{}` utilisation {u}",
                label(c, r),
                s.name
            );
        }
    }
    for (res, st) in m.resources.iter().zip(&r.resources) {
        assert!(
            (0.0..=1.0 + EPS).contains(&st.utilisation),
            "{}: resource `{}` utilisation {}",
            label(c, r),
            res.name,
            st.utilisation
        );
    }
}

fn for_every_run(check: fn(&Checked, &RunRecord)) {
    let mut n = 0;
    for c in reduced_runs() {
        for r in &c.runs {
            check(c, r);
            n += 1;
        }
    }
    assert!(n > 0, "no runs were checked");
}

#[test]
fn littles_law_holds_on_every_scenario() {
    for_every_run(assert_littles_law);
}

#[test]
fn requests_are_conserved_on_every_scenario() {
    for_every_run(assert_conserved);
}

#[test]
fn nothing_is_busier_than_its_capacity_on_every_scenario() {
    for_every_run(assert_within_capacity);
}

/// The shipped scenarios may not (yet) push every mechanism into its
/// corner, so the same laws are also checked on an overloaded architecture
/// where requests wait for workers, time out, and are refused by a full
/// backlog — the paths where bookkeeping bugs hide.
#[test]
fn laws_hold_under_timeouts_and_refusals() {
    let source = r#"
name = "overload"
seed = 5
[workload]
think_time = { dist = "exponential", mean_s = 0.5 }
[[workload.request]]
name = "read"
weight = 0.8
app_cpu = { dist = "lognormal", mean_ms = 4, cv = 1.5 }
db = { dist = "exponential", mean_ms = 3 }
[[workload.request]]
name = "write"
weight = 0.2
kind = "write"
app_cpu = { dist = "gamma", mean_ms = 6, cv = 0.5 }
db = { dist = "uniform", min_ms = 5, max_ms = 15 }
[[phase]]
name = "small"
app = { hosts = 2, cores_per_host = 2, workers_per_host = 4, backlog = 6, timeout_s = 0.05 }
database = { engine = "postgres", cores = 2 }
network = { rtt_ms = 1 }
[[phase]]
name = "waits"
[[phase.station]]
name = "cpu"
discipline = "ps"
servers = 2
[[phase.resource]]
name = "conn"
capacity = 3
max_waiting = 20
timeout_ms = 30
[phase.plan]
read = [{ acquire = "conn" }, { use = "cpu", demand = { dist = "exponential", mean_ms = 5 } }, { release = "conn" }]
write = [{ acquire = "conn" }, { delay = { dist = "constant", mean_ms = 2 } }, { use = "cpu", demand = { dist = "exponential", mean_ms = 8 } }, { release = "conn" }]
"#;
    let sc = parse("overload.toml", source);
    let c = sweep_reduced(sc, vec![5, 40, 400], (2, 3), 10_000, 40_000);
    let (mut refused, mut timed_out) = (0, 0);
    for r in &c.runs {
        assert_littles_law(&c, r);
        assert_conserved(&c, r);
        assert_within_capacity(&c, r);
        refused += r.errors[0];
        timed_out += r.errors[1];
    }
    assert!(
        refused > 0 && timed_out > 0,
        "the overload must exercise both error paths (refused {refused}, timed out {timed_out})"
    );
}
