//! `simulate calibrate`: a scenario fitted to a team's own load-test files,
//! with a back-test that says how far it can be trusted.
//!
//! A job on top, like [`crate::run`]: [`formats`] read what the tools wrote
//! into [`measure::Level`]s, [`fit`] turns the levels into the numbers of
//! a scenario (with [`lm`] and, beside it, the [`usl`] cross-check), and the
//! back-test fits on the lowest levels only and predicts the held-out
//! higher ones by simulating the fitted scenario through the path every
//! `simulate` run takes ([`crate::run::analyse`]). [`scenario_file`] writes
//! the scenario, [`output`] calibration.csv and calibration.png. With
//! `--base`, [`architecture`] fits named numbers of the user's own
//! scenario instead of the one-station network.

pub mod architecture;
pub mod fit;
pub mod formats;
pub mod lm;
pub mod measure;
pub mod output;
pub mod scenario_file;
pub mod usl;

use crate::outcome::uncertainty::quantile;
use crate::run::{self, Failure, EXIT_INVALID_INPUT, EXIT_RUNTIME};
use crate::scenario;
use crate::sweep::{self, Silent, SweepOptions};
use fit::{Calibration, Point};
use formats::Format;
use std::path::{Path, PathBuf};

/// The default share of levels held out: the top third.
pub const DEFAULT_HOLD_OUT: f64 = 1.0 / 3.0;

/// What `simulate calibrate` was asked.
#[derive(Clone, Debug)]
pub struct CalibrateOptions {
    /// The load-test files.
    pub files: Vec<PathBuf>,
    /// Their format, when not detected from the content.
    pub format: Option<Format>,
    /// Share of the levels (the highest) held out of the fit and predicted.
    pub hold_out: f64,
    /// Fit the back-test on this many lowest levels instead (and predict the
    /// rest); `hold_out` is then unused.
    pub fit_lowest: Option<usize>,
    /// The scenario to write; calibration.csv and calibration.png go beside it.
    pub out: PathBuf,
    /// Servers of the queueing station (the cores the service runs on).
    pub servers: u32,
    /// Users of a file that does not say (Locust's _stats.csv).
    pub users: Option<f64>,
    /// Seed of the simulations.
    pub seed: u64,
    /// Requests measured per simulated run.
    pub measured_requests: u64,
    /// Replications per simulated level.
    pub replications: u32,
    /// Draw calibration.png.
    pub plots: bool,
    /// The user's own scenario whose numbers `fit` names are fitted, in
    /// place of the one-station network (see [`architecture`]).
    pub base: Option<PathBuf>,
    /// The fields of `base` to fit (`workload.request.update.db.mean_ms`).
    pub fit: Vec<String>,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            files: Vec::new(),
            format: None,
            hold_out: DEFAULT_HOLD_OUT,
            fit_lowest: None,
            out: PathBuf::from("calibrated.toml"),
            servers: 1,
            users: None,
            seed: 1,
            measured_requests: 20_000,
            replications: 3,
            plots: true,
            base: None,
            fit: Vec::new(),
        }
    }
}

/// The largest |simulated / measured − 1| throughput over `points` (a
/// level the model could not serve counts as infinitely far), and its level.
fn worst_error<'a>(
    points: impl Iterator<Item = &'a BackTestPoint>,
    simulated: impl Fn(&BackTestPoint) -> f64,
) -> Option<(f64, u32)> {
    points
        .map(|p| {
            let e = (simulated(p) / p.measured.throughput_rps - 1.0).abs();
            (
                if e.is_finite() { e } else { f64::INFINITY },
                p.measured.users,
            )
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// How far the fitted model may miss a level it was fitted on before
/// `calibrate` warns: 10%, what the README's back-test holds a held-out
/// median to; a model that misses its own data by more cannot be expected
/// to do better beyond them.
pub const FIT_WARN: f64 = 0.10;

/// One level of the back-test: measured, in-sample, predicted.
#[derive(Clone, Debug)]
pub struct BackTestPoint {
    /// The measured level.
    pub measured: Point,
    /// Held out of the back-test's fit (predicted), or fitted on.
    pub held_out: bool,
    /// Below the held-out levels but left out of the back-test's fit (see
    /// [`fit::representative`]).
    pub left_out: bool,
    /// The full calibration simulated at this level (throughput, p50, p95,
    /// p99, error rate).
    pub fitted: Simulated,
    /// The back-test model (fitted on the lower levels only) simulated here.
    pub predicted: Simulated,
    /// The USL fitted on the lower levels, at this level.
    pub usl_rps: f64,
}

impl BackTestPoint {
    /// Relative throughput error of the prediction.
    pub fn capsim_error(&self) -> f64 {
        self.predicted.throughput_rps / self.measured.throughput_rps - 1.0
    }
    /// Relative throughput error of the USL.
    pub fn usl_error(&self) -> f64 {
        self.usl_rps / self.measured.throughput_rps - 1.0
    }
}

/// What one simulated level came to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Simulated {
    /// Requests per second.
    pub throughput_rps: f64,
    /// Percentiles, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Failed fraction.
    pub error_rate: f64,
}

/// Everything a calibration found.
#[derive(Clone, Debug)]
pub struct Report {
    /// The fit on every level: what OUT.toml holds.
    pub full: Calibration,
    /// The fit on the lower levels only.
    pub back: Option<Calibration>,
    /// USL on every level.
    pub usl_full: Option<usl::Usl>,
    /// USL on the lower levels.
    pub usl_back: Option<usl::Usl>,
    /// Every level, ascending.
    pub points: Vec<BackTestPoint>,
    /// The scenario text written.
    pub scenario: String,
    /// With `--base`: the base's fields fitted on every level (what OUT.toml
    /// holds) and on the lower levels only (the back-test).
    pub architecture: Option<(architecture::ArchFit, Option<architecture::ArchFit>)>,
}

impl Report {
    /// Median and worst |error| over the held-out levels: (capsim, USL).
    pub fn held_out_errors(&self) -> Option<((f64, f64), (f64, f64))> {
        let held: Vec<&BackTestPoint> = self.points.iter().filter(|p| p.held_out).collect();
        if held.is_empty() {
            return None;
        }
        let stat = |f: &dyn Fn(&BackTestPoint) -> f64| {
            let mut v: Vec<f64> = held.iter().map(|p| f(p).abs()).collect();
            v.sort_by(f64::total_cmp);
            (quantile(&v, 0.5), *v.last().unwrap_or(&f64::NAN))
        };
        Some((stat(&|p| p.capsim_error()), stat(&|p| p.usl_error())))
    }

    /// The largest |throughput error| of OUT.toml's model at the levels it
    /// was fitted on (all but those its fit left out), and where: how far
    /// the fitted model follows its own data. Far off there (more than a
    /// few %), the model lacks something the system does, and no held-out
    /// prediction of it should be trusted.
    pub fn fit_worst(&self) -> Option<(f64, u32)> {
        let left_out = match &self.architecture {
            Some((a, _)) => &a.left_out,
            None => &self.full.left_out,
        };
        worst_error(
            self.points
                .iter()
                .filter(|p| !left_out.iter().any(|l| l.users == p.measured.users)),
            |p| p.fitted.throughput_rps,
        )
    }

    /// [`Report::fit_worst`] for the back-test's model: at the levels it
    /// was fitted on (neither held out nor left out), its own prediction.
    pub fn back_test_fit_worst(&self) -> Option<(f64, u32)> {
        worst_error(
            self.points.iter().filter(|p| !p.held_out && !p.left_out),
            |p| p.predicted.throughput_rps,
        )
    }

    /// A warning when the fitted model misses a level it was fitted on by
    /// more than [`FIT_WARN`]: the model lacks something the system does
    /// (or a fixed number of a base is wrong), and its predictions beyond
    /// the measured levels should not be trusted as they stand.
    pub fn fit_warning(&self) -> Option<String> {
        let (e, n) = self.fit_worst()?;
        (e > FIT_WARN).then(|| {
            format!(
                "the fitted model misses the measured throughput by {:.1}% at N = {n}, a level it was fitted on: it cannot follow these levels (a mechanism of the system is missing from it, or, with --base, a number not fitted is wrong); read calibration.csv's fitted column before trusting its predictions",
                100.0 * e
            )
        })
    }

    /// The one-line summary printed on standard output.
    pub fn summary(&self, out: &Path) -> String {
        let c = &self.full;
        let left_out = match &self.architecture {
            Some((a, _)) => &a.left_out,
            None => &c.left_out,
        };
        let left: Vec<String> = left_out.iter().map(|l| l.users.to_string()).collect();
        let fitted = match &self.architecture {
            Some((a, _)) => a
                .fields
                .iter()
                .map(|f| format!("{} = {}", f.path, scenario_file::sig(f.value)))
                .collect::<Vec<_>>()
                .join(", "),
            None => format!(
                "demand {} ms, delay {} ms, think {} ms, contention {}, cv {}",
                scenario_file::sig(c.demand.value),
                scenario_file::sig(c.delay.value),
                scenario_file::sig(c.think.value),
                scenario_file::sig(c.contention.value),
                scenario_file::sig(c.cv.value),
            ),
        };
        let mut s = format!(
            "calibrated {} levels (N = {}–{}{}) → {}: {fitted}",
            self.points.len(),
            self.points.first().map_or(0, |p| p.measured.users),
            self.points.last().map_or(0, |p| p.measured.users),
            if left.is_empty() {
                String::new()
            } else {
                format!("; N = {} left out", left.join(", "))
            },
            out.display(),
        );
        if let Some((e, n)) = self.fit_worst() {
            s.push_str(&format!(
                "; fitted throughput within {:.1}% of the measured at every level fitted on (worst N = {n})",
                100.0 * e
            ));
        }
        if let Some(((cm, cw), (um, uw))) = self.held_out_errors() {
            let held: Vec<String> = self
                .points
                .iter()
                .filter(|p| p.held_out)
                .map(|p| p.measured.users.to_string())
                .collect();
            s.push_str(&format!(
                "; back-test at N = {}: capsim throughput error median {:.1}% worst {:.1}%, USL median {:.1}% worst {:.1}%",
                held.join(", "),
                100.0 * cm,
                100.0 * cw,
                100.0 * um,
                100.0 * uw
            ));
        }
        s
    }
}

fn invalid(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: EXIT_INVALID_INPUT,
        error: e.into(),
    }
}

/// Read, fit, back-test; nothing is written.
pub fn calibrate(opts: &CalibrateOptions) -> Result<Report, Failure> {
    if !(0.0..1.0).contains(&opts.hold_out) {
        return Err(invalid(anyhow::anyhow!(
            "--hold-out {} is not a share of the levels; give a fraction from 0 to below 1, e.g. 0.33",
            opts.hold_out
        )));
    }
    // The base first: a mistake in it is named before any fitting.
    let base = match &opts.base {
        Some(path) => Some(architecture::Base::read(path, &opts.fit)?),
        None => None,
    };
    let levels = formats::read_all(&opts.files, opts.format, opts.users).map_err(|errors| {
        invalid(anyhow::anyhow!(errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")))
    })?;
    let (points, requests) = fit::points(&levels);
    if points.is_empty() {
        return Err(invalid(anyhow::anyhow!(
            "no load level with a throughput above 0 in the files"
        )));
    }
    let servers = opts.servers.max(1);
    let full = fit::fit(&points, requests.clone(), servers)
        .ok_or_else(|| invalid(anyhow::anyhow!("the levels could not be fitted")))?;
    let held = match opts.fit_lowest {
        None => held_out_count(points.len(), opts.hold_out),
        Some(k) if (2..points.len()).contains(&k) => points.len() - k,
        Some(k) => {
            return Err(invalid(anyhow::anyhow!(
                "--fit-lowest {k}: the files hold {} load levels; give from 2 to {} so that at least one is left to predict",
                points.len(),
                points.len().saturating_sub(1).max(2)
            )))
        }
    };
    let lower = &points[..points.len() - held];
    let back = if held > 0 {
        fit::fit(lower, requests, servers)
    } else {
        None
    };
    let pairs = |ps: &[Point]| {
        ps.iter()
            .map(|p| (p.users as f64, p.throughput_rps))
            .collect::<Vec<_>>()
    };
    // The USL sees the levels capsim fits on: the same data, as the issue's
    // comparison asks.
    let usl_full = usl::fit(&pairs(&fit::representative(&points).0));
    let usl_back = if held > 0 {
        usl::fit(&pairs(&fit::representative(lower).0))
    } else {
        None
    };
    let users: Vec<u32> = points.iter().map(|p| p.users).collect();
    let name = format!(
        "Calibrated from {}",
        opts.files
            .iter()
            .map(|f| f.file_name().map_or_else(
                || f.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let text = scenario_file::scenario_text(
        &full,
        &scenario_file::ScenarioText {
            name: &name,
            users: &sweep_users(&users),
            measured_requests: 50_000,
            seed: opts.seed,
        },
    );
    let (text, fitted, predicted, architecture) = match &base {
        None => {
            let fitted = simulate(&full, &users, opts)?;
            let predicted = match &back {
                Some(b) => simulate(b, &users, opts)?,
                None => fitted.clone(),
            };
            (text, fitted, predicted, None)
        }
        Some(base) => {
            let a_full = architecture::fit(base, &points, opts)?;
            let a_back = if held > 0 {
                Some(architecture::fit(base, lower, opts)?)
            } else {
                None
            };
            let fitted = simulate_text(&a_full.text, &base.path, &users, opts)?;
            let predicted = match &a_back {
                Some(b) => simulate_text(&b.text, &base.path, &users, opts)?,
                None => fitted.clone(),
            };
            let text = architecture::scenario_text(base, &a_full, &points, &sweep_users(&users))?;
            (text, fitted, predicted, Some((a_full, a_back)))
        }
    };
    // The levels the back-test's fit left out, whichever model it fitted.
    let left_out = match &architecture {
        Some((a, b)) => &b.as_ref().unwrap_or(a).left_out,
        None => &back.as_ref().unwrap_or(&full).left_out,
    };
    let usl_at = |n: u32| {
        usl_back
            .as_ref()
            .or(usl_full.as_ref())
            .map_or(f64::NAN, |u| u.throughput(n as f64))
    };
    let pts = points
        .iter()
        .enumerate()
        .map(|(i, p)| BackTestPoint {
            measured: p.clone(),
            held_out: i >= points.len() - held,
            left_out: left_out.iter().any(|l| l.users == p.users),
            fitted: fitted[i],
            predicted: predicted[i],
            usl_rps: usl_at(p.users),
        })
        .collect();
    Ok(Report {
        full,
        back,
        usl_full,
        usl_back,
        points: pts,
        scenario: text,
        architecture,
    })
}

/// Levels held out of `n`: `share` of them rounded, leaving at least two
/// to fit on (none held out below three levels).
pub fn held_out_count(n: usize, share: f64) -> usize {
    if n < 3 {
        return 0;
    }
    ((n as f64 * share).round() as usize).min(n - 2)
}

/// The measured levels, then a log grid up to four times the largest: the
/// sweep shows the range measured and what lies beyond.
fn sweep_users(measured: &[u32]) -> Vec<u32> {
    let max = measured.iter().copied().max().unwrap_or(1);
    let mut u = measured.to_vec();
    u.extend([max * 3 / 2, max * 2, max * 3, max * 4]);
    u.sort_unstable();
    u.dedup();
    u.retain(|&x| x >= 1);
    u
}

/// Simulate a calibration at `users` through the path `simulate` runs: the
/// scenario text loaded by the normal loader, planned, swept, analysed.
pub fn simulate(
    c: &Calibration,
    users: &[u32],
    opts: &CalibrateOptions,
) -> Result<Vec<Simulated>, Failure> {
    let text = scenario_file::scenario_text(
        c,
        &scenario_file::ScenarioText {
            name: "back-test",
            users,
            measured_requests: opts.measured_requests,
            seed: opts.seed,
        },
    );
    let sc = scenario::parse(Path::new("calibrated.toml"), &text).map_err(|e| Failure {
        code: EXIT_RUNTIME,
        error: anyhow::anyhow!("the fitted scenario does not load (a bug in capsim): {e}\n{text}"),
    })?;
    simulate_scenario(&sc, users, opts)
}

/// Simulate a scenario's text (a base with fitted values) at `users`; a
/// text the loader refuses is the user's input's fault (a value the fit
/// reached that a check of the loader rejects), named by `path`.
pub fn simulate_text(
    text: &str,
    path: &Path,
    users: &[u32],
    opts: &CalibrateOptions,
) -> Result<Vec<Simulated>, Failure> {
    let sc = scenario::parse(path, text).map_err(|e| invalid(anyhow::anyhow!("{e}")))?;
    simulate_scenario(&sc, users, opts)
}

fn simulate_scenario(
    sc: &scenario::Scenario,
    users: &[u32],
    opts: &CalibrateOptions,
) -> Result<Vec<Simulated>, Failure> {
    let opts = SweepOptions {
        users: Some(users.to_vec()),
        replications: Some(opts.replications),
        measured_requests: Some(opts.measured_requests),
        warmup_requests: Some(opts.measured_requests / 10),
        // The point scenario alone: a base with ranges is calibrated at its
        // written values, not over its designs.
        designs: Some(0),
        ..SweepOptions::default()
    };
    let plan = sweep::plan(sc, &opts).map_err(|e| Failure {
        code: EXIT_RUNTIME,
        error: e.into(),
    })?;
    let outcome = run::analyse(&plan, &Silent);
    Ok(users
        .iter()
        .map(|&u| {
            outcome
                .points
                .iter()
                .find(|p| p.users() == u)
                .map_or(Simulated::default(), |p| {
                    let e = &p.estimate;
                    Simulated {
                        throughput_rps: e.throughput_rps.mean,
                        p50_ms: e.p50_ms.mean,
                        p95_ms: e.p95_ms.mean,
                        p99_ms: e.p99_ms.mean,
                        error_rate: e.error_rate.mean,
                    }
                })
        })
        .collect())
}

/// `simulate calibrate`: fit, back-test, write OUT.toml, calibration.csv
/// and calibration.png (atomically), print the summary line.
pub fn run(opts: &CalibrateOptions) -> Result<Report, Failure> {
    let report = calibrate(opts)?;
    output::write(&report, opts).map_err(|error| Failure {
        code: EXIT_RUNTIME,
        error,
    })?;
    Ok(report)
}
