//! `simulate calibrate --base ARCH.toml --fit FIELD …`: the numbers of the
//! user's own architecture fitted to their load tests.
//!
//! The default fit ([`super::fit`]) describes any system as one queueing
//! station and a delay. That cannot show what a particular engine does: a
//! SQLite writer that finds the lock taken sleeps in the busy handler while
//! the holder commits again, so the median stays at one process's time
//! however many processes there are, where a queue makes every transaction
//! wait. The architect knows the architecture (the engine, its journal
//! mode and busy timeout, the hosts and their cores); what they do not know
//! are the times. So the base scenario says the first, `--fit` names the
//! second (any positive number of the file: a demand's `mean_ms`, the
//! think time, `fsync_ms`), and the fit chooses their values so that the
//! base, simulated through the path every `simulate` run takes, matches the
//! measured throughput and median at the levels fitted on: Levenberg–
//! Marquardt on the logs of the values (a positive number stays positive),
//! with the same seed at every step (common random numbers) and the
//! Jacobian from steps large enough to outweigh how a step reorders the
//! simulation's events (`LOG_STEP`), and the delta-method interval of
//! each value. Every step simulates the levels as the final
//! prediction does (the same requests and replications): a cheaper search
//! would fit a different estimator from the one reported (shorter runs and
//! fewer replications estimate throughput and median with their own bias),
//! and the intervals would not cover what the prediction simulates.

use super::fit::{representative, LeftOut, Point};
use super::scenario_file::sig;
use super::{invalid, lm, simulate_text, CalibrateOptions, Simulated};
use crate::run::Failure;
use crate::scenario::{self, edited, is_written, number_at, Override};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The base scenario and the fields to fit, read and checked.
#[derive(Clone, Debug)]
pub struct Base {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// The fields `--fit` names, with the value the file gives each (where
    /// the fit starts).
    pub fields: Vec<(Override, f64)>,
}

/// How far the log of a value may move from where it starts: a factor
/// e¹⁰ ≈ 22,000 either way, far beyond any plausible first guess.
const LOG_RANGE: f64 = 10.0;

/// The search ends once a step gains less than this share of the sum of
/// squares: 0.1%, well below what the simulated levels' own noise moves it.
const REL_TOL: f64 = 1e-3;

/// The step of the numerical Jacobian on the log of a value: 10%. The same
/// seed keeps a step's runs comparable only while the events keep their
/// order; where a lock sends waiters to sleep (SQLite's busy handler sleeps
/// 1 ms and more), moving a time by 1% reorders who finds the lock taken and
/// moves a simulated level by as much as 5% (a WAL NORMAL writer at K = 2,
/// its checkpoint 7.00 → 7.07 → 7.14 ms: 42.7k, 44.3k, 42.1k tps, where
/// K = 1 moves by a third of a percent: `tests/it/calibrate_base.rs`). A
/// Jacobian from 1% steps is then mostly that noise, and the search stopped
/// where it started: up to a third off at the levels it was fitted on. A
/// 10% step moves the levels by more than the reordering does.
const LOG_STEP: f64 = 0.1;

impl Base {
    /// Read `path` and check the fields: the file loads as a scenario of one
    /// phase, and each field holds a positive number.
    pub fn read(path: &Path, fit: &[String]) -> Result<Base, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            invalid(anyhow::anyhow!(
                "--base {}: cannot read it: {e}",
                path.display()
            ))
        })?;
        let sc = scenario::parse(path, &text).map_err(|e| invalid(anyhow::anyhow!("{e}")))?;
        if sc.phases.len() != 1 {
            return Err(invalid(anyhow::anyhow!(
                "--base {}: it has {} phases; calibrate fits the one that was measured: keep that phase only",
                path.display(),
                sc.phases.len()
            )));
        }
        if fit.is_empty() {
            return Err(invalid(anyhow::anyhow!(
                "--base {}: name the numbers to fit with --fit, e.g. --fit workload.request.update.db.mean_ms",
                path.display()
            )));
        }
        let mut fields = Vec::new();
        for f in fit {
            let o = Override::parse(&format!("{f}=1")).map_err(|e| {
                invalid(anyhow::anyhow!(
                    "--fit {f}: {}",
                    e.message.replace("path=value", "a field's path")
                ))
            })?;
            match number_at(&text, &o) {
                Some(x) if x > 0.0 && x.is_finite() => fields.push((o, x)),
                Some(x) => {
                    return Err(invalid(anyhow::anyhow!(
                        "--fit {f}: {} gives it {x}; a fitted number starts from a positive value: write your best guess there",
                        path.display()
                    )))
                }
                None => {
                    return Err(invalid(anyhow::anyhow!(
                        "--fit {f}: {} has no number there; name a number written in the file, e.g. workload.think_time.mean_s or workload.request.update.db.mean_ms (a request by its name)",
                        path.display()
                    )))
                }
            }
        }
        Ok(Base {
            path: path.to_path_buf(),
            text,
            fields,
        })
    }

    /// The base's text with the fields at `values`.
    pub fn with(&self, values: &[f64]) -> Result<String, Failure> {
        let sets: Vec<String> = self
            .fields
            .iter()
            .zip(values)
            .map(|((o, _), v)| format!("{}={}", o.path(), literal(*v)))
            .collect();
        set(&self.text, &sets)
    }
}

/// `text` with each `path=value` of `args` set, by `--set`'s own edit.
fn set(text: &str, args: &[String]) -> Result<String, Failure> {
    let sets: Vec<Override> = args
        .iter()
        .map(|a| Override::parse(a))
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(anyhow::anyhow!("{e}")))?;
    edited(text, &sets).map_err(|e| invalid(anyhow::anyhow!("{e}")))
}

/// A number as TOML writes it: a float, always with a fraction or an
/// exponent.
fn literal(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// One fitted field.
#[derive(Clone, Debug)]
pub struct FieldFit {
    /// Its path (`workload.request.update.db.mean_ms`).
    pub path: String,
    /// The value the base gave it.
    pub start: f64,
    /// The fitted value.
    pub value: f64,
    /// Its 95% interval.
    pub interval: (f64, f64),
}

/// A fitted base.
#[derive(Clone, Debug)]
pub struct ArchFit {
    /// The fields, fitted.
    pub fields: Vec<FieldFit>,
    /// The levels fitted on.
    pub on: Vec<Point>,
    /// Levels left out (see [`representative`]).
    pub left_out: Vec<LeftOut>,
    /// The base's text with the fitted values, unrounded.
    pub text: String,
}

/// Residuals at `sim`: log throughput at every level, log median where it
/// was measured.
fn residuals(points: &[Point], sim: &[Simulated]) -> Vec<f64> {
    let log_ratio = |s: f64, m: f64| {
        if s > 0.0 && m > 0.0 && s.is_finite() {
            (s / m).ln()
        } else {
            // A level the simulation could not serve: far off, finitely.
            LOG_RANGE
        }
    };
    let mut r: Vec<f64> = points
        .iter()
        .zip(sim)
        .map(|(p, s)| log_ratio(s.throughput_rps, p.throughput_rps))
        .collect();
    r.extend(
        points
            .iter()
            .zip(sim)
            .filter_map(|(p, s)| p.p50_ms.map(|m| log_ratio(s.p50_ms, m))),
    );
    r
}

/// Fit the base's fields on `points` (the representative ones: see
/// [`representative`]).
pub fn fit(base: &Base, points: &[Point], opts: &CalibrateOptions) -> Result<ArchFit, Failure> {
    let (on, left_out) = representative(points);
    let users: Vec<u32> = on.iter().map(|p| p.users).collect();
    let start: Vec<f64> = base.fields.iter().map(|(_, x)| x.ln()).collect();
    // A failure inside the search (a value the loader refuses) ends it with
    // the first such failure, reported after.
    let failure = std::cell::RefCell::new(None::<Failure>);
    let n_residuals = on.len() + on.iter().filter(|p| p.p50_ms.is_some()).count();
    let eval = |theta: &[f64]| -> Vec<f64> {
        let values: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        let run = base
            .with(&values)
            .and_then(|text| simulate_text(&text, &base.path, &users, opts));
        match run {
            Ok(sim) => residuals(&on, &sim),
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                vec![f64::INFINITY; n_residuals]
            }
        }
    };
    let clamp = |theta: &mut [f64]| {
        for (t, s) in theta.iter_mut().zip(&start) {
            *t = t.clamp(s - LOG_RANGE, s + LOG_RANGE);
        }
    };
    let f = lm::minimise_with_step(&eval, &start, &clamp, LOG_STEP, REL_TOL);
    if let Some(e) = failure.into_inner() {
        if !f.rss.is_finite() {
            return Err(e);
        }
    }
    let fields: Vec<FieldFit> = base
        .fields
        .iter()
        .zip(f.params.iter().zip(&f.half_width))
        .map(|((o, s), (t, hw))| {
            // A Jacobian the search could not take (a step the loader
            // refused) leaves the value unbounded, not NaN.
            let hw = if hw.is_nan() { f64::INFINITY } else { *hw };
            FieldFit {
                path: o.path().to_string(),
                start: *s,
                value: t.exp(),
                interval: ((t - hw).exp(), (t + hw).exp()),
            }
        })
        .collect();
    let values: Vec<f64> = fields.iter().map(|x| x.value).collect();
    Ok(ArchFit {
        text: base.with(&values)?,
        fields,
        on,
        left_out,
    })
}

/// OUT.toml for a fitted base: a header naming each fitted field, its
/// interval, the value it started from, the levels and the estimator; the
/// base's text with the fitted values (rounded to what the intervals
/// resolve), the sweep over `users` (the measured levels and beyond) and
/// the largest load measured, so that sweeps of it mark what lies beyond.
pub fn scenario_text(
    base: &Base,
    a: &ArchFit,
    all: &[Point],
    users: &[u32],
) -> Result<String, Failure> {
    let rounded: Vec<f64> = a
        .fields
        .iter()
        .map(|f| sig(f.value).parse().unwrap_or(f.value))
        .collect();
    let max_users = all.iter().map(|p| p.users).max().unwrap_or(1);
    let mut text = base.with(&rounded)?;
    let list: Vec<String> = users.iter().map(u32::to_string).collect();
    text = set(&text, &[format!("sweep.users=[{}]", list.join(", "))])?;
    let table = Override::parse("calibration={}").map_err(|e| invalid(anyhow::anyhow!("{e}")))?;
    if is_written(&text, &table) {
        text = set(
            &text,
            &[format!("calibration.measured_max_users={max_users}")],
        )?;
    } else {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let _ = write!(
            text,
            "\n[calibration]\n# the largest load measured: sweep.csv marks points beyond twice it `extrapolated`\nmeasured_max_users = {max_users}\n"
        );
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Written by `simulate calibrate --base {}` (capsim {}): the base scenario with",
        base.path.display(),
        env!("CARGO_PKG_VERSION")
    );
    s.push_str(
        "# the numbers below fitted so that it, simulated, matches the measured throughput and\n",
    );
    s.push_str(
        "# median (least squares on their logs, Levenberg–Marquardt; 95% delta-method interval)\n",
    );
    let _ = writeln!(s, "# at {}.", levels(&a.on));
    for f in &a.fields {
        let _ = writeln!(
            s,
            "#   {} = {}   (95%: {} – {}; the base had {})",
            f.path,
            sig(f.value),
            sig(f.interval.0),
            sig(f.interval.1),
            sig(f.start)
        );
    }
    for l in &a.left_out {
        let _ = writeln!(s, "# Left out of the fit: N = {}: {}.", l.users, l.reason);
    }
    s.push('\n');
    s.push_str(&text);
    Ok(s)
}

/// `N = 1, 2, 4 of a.csv` (the files of the levels, each once).
fn levels(on: &[Point]) -> String {
    let users: Vec<String> = on.iter().map(|p| p.users.to_string()).collect();
    let mut files: Vec<&str> = Vec::new();
    for p in on {
        for f in p.source.split("; ") {
            let name = f.split(" (").next().unwrap_or(f);
            if !files.contains(&name) {
                files.push(name);
            }
        }
    }
    format!("N = {} of {}", users.join(", "), files.join(", "))
}
