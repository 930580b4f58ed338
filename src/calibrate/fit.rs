//! From measured load levels to the numbers of a scenario: the client's gap
//! (think time), the service demand at the queueing station and the pure
//! delay beside it, their variability, and the request mix — each with a
//! 95% interval and the name of its estimator.
//!
//! The model fitted is a closed network: N users, each waiting Z between a
//! response and its next request, and a request that queues for D at a
//! station of c servers (processor sharing) and then spends L in a pure
//! delay (round trips, flush waits: anything that does not queue). The
//! station loses throughput to contention when more jobs than servers are
//! present: its rate with k jobs is min(k, c) / D / (1 + κ·max(0, k − c)),
//! the engine's contended `ps` station (lock and cache-line contention
//! among more runnable processes than cores; the term that makes
//! PostgreSQL's throughput fall past its peak). The exact solution of that
//! loop ([`crate::analytic::closed_load_dependent`]) gives X(N); D, the
//! total delay T = Z + L and κ are chosen so that it matches the measured
//! throughput (Levenberg–Marquardt on log X). Where the files give the
//! server's CPU, D comes from the utilisation law instead (D = U·c / X)
//! and only T and κ are fitted.
//!
//! Every number is a [`Param`]: its value, interval and provenance, and the
//! scenario writer prints whatever list it is given.

use super::lm;
use super::measure::{Level, Z95};
use super::scenario_file::sig;
use crate::analytic::closed_load_dependent;
use std::collections::BTreeMap;

/// One load level as the fitter sees it: every file's word on that user
/// count combined, all request types together.
#[derive(Clone, Debug)]
pub struct Point {
    /// Users N.
    pub users: u32,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Mean response, seconds (measured, or a lognormal's through p50, p95).
    pub response_s: f64,
    /// Median, 95th and 99th percentile response, ms, where measured.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Failed fraction, where measured.
    pub error_rate: Option<f64>,
    /// Busy fraction of the server's cores, where measured.
    pub cpu_util: Option<f64>,
    /// Coefficient of variation of response time, where the file gives
    /// samples or a standard deviation.
    pub cv: Option<f64>,
    /// Where it came from: `file (window)`, `; `-separated.
    pub source: String,
}

/// One request type: its share of requests and its time relative to the mix.
#[derive(Clone, Debug)]
pub struct RequestShare {
    /// The name (`request` column, endpoint, label).
    pub name: String,
    /// Share of successful requests, 0–1.
    pub weight: f64,
    /// Its mean response over the mix's, at the lowest level measured.
    pub time_ratio: f64,
    /// Where the shares were read.
    pub source: String,
}

/// A fitted number with its interval and provenance.
#[derive(Clone, Debug)]
pub struct Param {
    /// What it is, in the scenario's words (`service demand`, …).
    pub name: &'static str,
    /// The value, in `unit`.
    pub value: f64,
    /// Low and high end of its 95% interval.
    pub interval: (f64, f64),
    /// `ms`, `s` or empty.
    pub unit: &'static str,
    /// The estimator, in words.
    pub estimator: String,
    /// The levels it was fitted on (`file (window)`).
    pub source: String,
}

impl Param {
    /// Whether `x` lies in the interval.
    pub fn covers(&self, x: f64) -> bool {
        self.interval.0 <= x && x <= self.interval.1
    }
}

/// A measured level the fit leaves out, and why.
#[derive(Clone, Debug)]
pub struct LeftOut {
    /// Its user count.
    pub users: u32,
    /// Why, in words.
    pub reason: String,
}

/// Super-linear scaling beyond this share (X(N₂)/X(N₁) > 1.05 · N₂/N₁) marks
/// the lowest level as unrepresentative. 5% is about a level's run-to-run
/// spread in the measured series (tests/data/real/repeat/).
pub const SUPERLINEAR_MARGIN: f64 = 0.05;

/// The levels a queueing network can describe, and those it cannot.
///
/// No closed queueing network scales faster than linearly: X(N₂)/X(N₁) ≤
/// N₂/N₁. A lowest level that the next one out-scales has a one-client cost
/// the loaded system does not pay — idle cores woken for every request
/// (measured: PostgreSQL's CPU per TPC-B transaction is 1.02 ms at one
/// client, 0.72 ms at four) — and fitting it would bend every demand. It is
/// left out, and said so, as long as two levels remain (what a demand and
/// a delay need).
pub fn representative(points: &[Point]) -> (Vec<Point>, Vec<LeftOut>) {
    let mut kept = points.to_vec();
    let mut left = Vec::new();
    while kept.len() > 2 {
        let (a, b) = (&kept[0], &kept[1]);
        let linear = b.users as f64 / a.users as f64;
        let scaled = b.throughput_rps / a.throughput_rps;
        if scaled <= linear * (1.0 + SUPERLINEAR_MARGIN) {
            break;
        }
        left.push(LeftOut {
            users: a.users,
            reason: format!(
                "N = {} → {} scales {:.2}× against at most {:.2}× for any queueing network: the lowest level pays a one-client cost (idle cores woken per request) the loaded system does not",
                a.users, b.users, scaled, linear
            ),
        });
        kept.remove(0);
    }
    (kept, left)
}

/// What the fitter found.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// Servers c of the queueing station: the number from 1 to the cores
    /// given that fits the levels best (one lock serialises like one core).
    pub servers: u32,
    /// Levels measured but left out of the fit.
    pub left_out: Vec<LeftOut>,
    /// Think time (client gap) Z, ms.
    pub think: Param,
    /// Demand D at the queueing station, ms.
    pub demand: Param,
    /// Pure delay L, ms.
    pub delay: Param,
    /// Contention κ at the station: the share of its throughput lost per job
    /// present beyond its servers.
    pub contention: Param,
    /// cv of the demands (from the latency distribution at the lowest level).
    pub cv: Param,
    /// The request mix (one entry `request` when the files have no types).
    pub requests: Vec<RequestShare>,
    /// The levels fitted on, ascending.
    pub points: Vec<Point>,
}

impl Calibration {
    /// The fitted network's throughput and mean response (s) at `n` users.
    pub fn mva(&self, n: u32) -> (f64, f64) {
        let x = model_x(
            self.demand.value / 1e3,
            (self.delay.value + self.think.value) / 1e3,
            self.servers,
            self.contention.value,
            n,
        );
        (x, n.max(1) as f64 / x - self.think.value / 1e3)
    }

    /// Every fitted parameter, for the writers.
    pub fn params(&self) -> Vec<&Param> {
        vec![
            &self.think,
            &self.demand,
            &self.delay,
            &self.contention,
            &self.cv,
        ]
    }
}

/// Throughput of the fitted loop: demand `d` (s) at `servers` with
/// contention `kappa`, total delay `t` = Z + L (s), at `n` users.
pub fn model_x(d: f64, t: f64, servers: u32, kappa: f64, n: u32) -> f64 {
    closed_load_dependent(d, t, servers, kappa, n.max(1)).0
}

/// Combine the levels of every file into one [`Point`] per user count and
/// the request mix.
pub fn points(levels: &[Level]) -> (Vec<Point>, Vec<RequestShare>) {
    let mut by_users: BTreeMap<u32, Vec<&Level>> = BTreeMap::new();
    for l in levels {
        by_users
            .entry(l.users.round().max(1.0) as u32)
            .or_default()
            .push(l);
    }
    let mut out = Vec::new();
    for (&users, ls) in &by_users {
        let all: Vec<&Level> = ls.iter().copied().filter(|l| l.request.is_none()).collect();
        let typed: Vec<&Level> = ls.iter().copied().filter(|l| l.request.is_some()).collect();
        let p = if !all.is_empty() {
            combine(users, &all)
        } else {
            mix(users, &typed)
        };
        if let Some(p) = p {
            out.push(p);
        }
    }
    (out, shares(&by_users))
}

fn src(l: &Level) -> String {
    format!("{} ({})", file_name(l), l.window)
}

/// The file name of a level's source, without its folder.
pub fn file_name(l: &Level) -> String {
    l.file.file_name().map_or_else(
        || l.file.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    )
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = xs.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Several files on the same level (pgbench's output and its -l log of one
/// run): the mean of what each says.
fn combine(users: u32, ls: &[&Level]) -> Option<Point> {
    let x = mean(ls.iter().map(|l| l.throughput_rps))?;
    if x <= 0.0 {
        return None;
    }
    let r_ms = mean(ls.iter().filter_map(|l| l.mean_or_estimate_ms()));
    // Little's law when no latency was written at all (zero think time).
    let response_s = r_ms.map_or(users as f64 / x, |m| m / 1e3);
    let cv = mean(ls.iter().filter_map(|l| level_cv(l)));
    Some(Point {
        users,
        throughput_rps: x,
        response_s,
        p50_ms: mean(ls.iter().filter_map(|l| l.p50_ms)),
        p95_ms: mean(ls.iter().filter_map(|l| l.p95_ms)),
        p99_ms: mean(ls.iter().filter_map(|l| l.p99_ms)),
        error_rate: mean(ls.iter().filter_map(|l| l.error_rate)),
        cpu_util: mean(ls.iter().filter_map(|l| l.cpu_util)),
        cv,
        source: ls.iter().map(|l| src(l)).collect::<Vec<_>>().join("; "),
    })
}

/// Per-type rows only: the mix is their sum, its mean response their
/// throughput-weighted mean, its percentiles the worst type's (an upper
/// figure: percentiles do not add).
fn mix(users: u32, ls: &[&Level]) -> Option<Point> {
    let x: f64 = ls.iter().map(|l| l.throughput_rps).sum();
    if x <= 0.0 {
        return None;
    }
    let r_ms: f64 = ls
        .iter()
        .map(|l| l.throughput_rps * l.mean_or_estimate_ms().unwrap_or(0.0))
        .sum::<f64>()
        / x;
    let worst = |f: &dyn Fn(&Level) -> Option<f64>| {
        ls.iter()
            .filter_map(|l| f(l))
            .fold(None, |a: Option<f64>, b| Some(a.map_or(b, |a| a.max(b))))
    };
    let weighted = |f: &dyn Fn(&Level) -> Option<f64>| {
        let v: Vec<(f64, f64)> = ls
            .iter()
            .filter_map(|l| f(l).map(|y| (l.throughput_rps, y)))
            .collect();
        (!v.is_empty()).then(|| {
            v.iter().map(|(w, y)| w * y).sum::<f64>() / v.iter().map(|(w, _)| w).sum::<f64>()
        })
    };
    Some(Point {
        users,
        throughput_rps: x,
        response_s: if r_ms > 0.0 {
            r_ms / 1e3
        } else {
            users as f64 / x
        },
        p50_ms: weighted(&|l| l.p50_ms),
        p95_ms: worst(&|l| l.p95_ms),
        p99_ms: worst(&|l| l.p99_ms),
        error_rate: weighted(&|l| l.error_rate),
        cpu_util: mean(ls.iter().filter_map(|l| l.cpu_util)),
        cv: weighted(&level_cv),
        source: ls.iter().map(|l| src(l)).collect::<Vec<_>>().join("; "),
    })
}

/// The request mix at the lowest level that has per-type rows.
fn shares(by_users: &BTreeMap<u32, Vec<&Level>>) -> Vec<RequestShare> {
    for ls in by_users.values() {
        let typed: Vec<&&Level> = ls
            .iter()
            .filter(|l| l.request.is_some() && l.throughput_rps > 0.0)
            .collect();
        if typed.is_empty() {
            continue;
        }
        let x: f64 = typed.iter().map(|l| l.throughput_rps).sum();
        let r: f64 = typed
            .iter()
            .map(|l| l.throughput_rps * l.mean_or_estimate_ms().unwrap_or(0.0))
            .sum::<f64>()
            / x;
        let mut out: Vec<RequestShare> = typed
            .iter()
            .map(|l| RequestShare {
                name: l.request.clone().unwrap_or_default(),
                weight: l.throughput_rps / x,
                time_ratio: match l.mean_or_estimate_ms() {
                    Some(m) if r > 0.0 => m / r,
                    _ => 1.0,
                },
                source: src(l),
            })
            .collect();
        // The same type read from several files: keep the first.
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        return out;
    }
    vec![RequestShare {
        name: "request".into(),
        weight: 1.0,
        time_ratio: 1.0,
        source: "the files have no request types".into(),
    }]
}

/// cv of a lognormal with median `p50` and 95th percentile `p95`.
pub fn lognormal_cv(p50: f64, p95: f64) -> f64 {
    let sigma = (p95 / p50).ln() / Z95;
    ((sigma * sigma).exp() - 1.0).sqrt()
}

/// The largest cv a calibration writes: a latency distribution whose tail
/// (a checkpoint, a 5 s busy wait) would say more is a mixture, not one
/// service time, and a lognormal of cv 10 already puts its 99th percentile
/// at 10× the mean.
pub const MAX_CV: f64 = 10.0;

/// cv of a level's response time: sd / mean where both are known, else a
/// lognormal's through its mean and median (mean / median = e^(σ²/2)),
/// else through its median and 95th percentile; at most [`MAX_CV`].
fn level_cv(l: &Level) -> Option<f64> {
    let cv = match (l.stddev_ms, l.mean_ms, l.p50_ms, l.p95_ms) {
        (Some(sd), Some(m), _, _) if m > 0.0 => sd / m,
        (_, Some(m), Some(p50), _) if m > p50 && p50 > 0.0 => ((m / p50).powi(2) - 1.0).sqrt(),
        (_, _, Some(p50), Some(p95)) if p95 > p50 && p50 > 0.0 => lognormal_cv(p50, p95),
        _ => return None,
    };
    cv.is_finite().then(|| cv.min(MAX_CV))
}

/// 95% t-interval of a mean.
fn t_interval(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (m, f64::NEG_INFINITY, f64::INFINITY);
    }
    let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let hw = crate::stats::t_quantile(xs.len() - 1) * sd / n.sqrt();
    (m, m - hw, m + hw)
}

/// Fit the model to `points` (ascending users) with `servers` at the
/// queueing station.
///
/// Throughput decides the queueing: D and the total delay T = Z + L are
/// fitted on log X alone (for throughput, think time and pure delay are one
/// and the same delay). A client's own latency figures leave out the time
/// it spends waiting for a CPU or between requests, so throughput is the
/// figure every tool measures the same way. The response splits T: the
/// response-time law at the lowest level gives Z = N/X − R, and L = T − Z.
pub fn fit(points: &[Point], requests: Vec<RequestShare>, servers: u32) -> Option<Calibration> {
    let (kept, left_out) = representative(points);
    // Each station size from one server to the cores given: a database whose
    // writes take one lock scales like one core however many it runs on.
    let mut best: Option<(Calibration, f64)> = None;
    for c in 1..=servers.max(1) {
        if let Some((cal, rss)) = fit_at(&kept, requests.clone(), c) {
            // Ties go to the fewer servers: more must earn their place.
            if best.as_ref().is_none_or(|(_, b)| rss <= *b * (1.0 - 1e-9)) {
                best = Some((cal, rss));
            }
        }
    }
    let (mut cal, _) = best?;
    cal.left_out = left_out;
    Some(cal)
}

/// [`fit`] at one station size `c`, with the log-throughput misfit.
fn fit_at(
    points: &[Point],
    requests: Vec<RequestShare>,
    servers: u32,
) -> Option<(Calibration, f64)> {
    let first = points.first()?;
    let sources = points
        .iter()
        .map(|p| format!("N = {}: {}", p.users, p.source))
        .collect::<Vec<_>>()
        .join("; ");
    let levels = points
        .iter()
        .map(|p| p.users.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let gap = |p: &Point| (p.users as f64 / p.throughput_rps - p.response_s).max(0.0);
    let gaps: Vec<f64> = points.iter().map(|p| gap(p) * 1e3).collect();
    let c = servers.max(1);
    let with_cpu = points.iter().all(|p| p.cpu_util.is_some());
    let r1 = first.response_s + gap(first);
    let (d_param, fit, t_index, kappa, d_fixed) = if with_cpu {
        // Utilisation law: D = U·c / X per level; then T and κ are fitted.
        let ds: Vec<f64> = points
            .iter()
            .map(|p| p.cpu_util.unwrap_or(0.0) * c as f64 / p.throughput_rps * 1e3)
            .collect();
        let (d_ms, d_lo, d_hi) = t_interval(&ds);
        let d = d_ms / 1e3;
        let res = |q: &[f64], k: f64| x_residuals(points, d, q[0].exp(), c, k);
        let t0 = (r1 - d).max(r1 * 0.01).ln();
        let (f, kappa) = with_or_without_contention(&res, &[vec![t0]])?;
        (
            Param {
                name: "service demand",
                value: d_ms,
                interval: (d_lo.max(0.0), d_hi),
                unit: "ms",
                estimator: format!(
                    "utilisation law D = U·c/X (c = {c}) at N = {levels}, mean, 95% t-interval over the levels"
                ),
                source: sources.clone(),
            },
            f,
            0,
            kappa,
            true,
        )
    } else {
        let res = |q: &[f64], k: f64| x_residuals(points, q[0].exp(), q[1].exp(), c, k);
        // Starts: the bottleneck from the highest level, the rest delay;
        // and three splits of the one-user time.
        let top = points.last()?;
        let d0 = (c as f64 / top.throughput_rps).min(r1 * 0.9).max(r1 * 1e-3);
        let t0 = (r1 - d0).max(r1 * 1e-3);
        let starts: Vec<Vec<f64>> = [
            (d0, t0),
            (r1 * 0.5, r1 * 0.5),
            (r1 * 0.9, r1 * 0.1),
            (r1 * 0.1, r1 * 0.9),
        ]
        .iter()
        .map(|&(a, b)| vec![a.ln(), b.ln()])
        .collect();
        let (f, kappa) = with_or_without_contention(&res, &starts)?;
        let est = format!(
            "the contended loop (c = {c}) solved exactly and inverted on throughput at N = {levels} (Levenberg–Marquardt on log X), 95% delta-method interval"
        );
        (
            log_param("service demand", &f, 0, &est, &sources),
            f,
            1,
            kappa,
            false,
        )
    };
    let contention = Param {
        name: "contention",
        value: kappa.value,
        interval: kappa.interval,
        unit: "",
        estimator: format!(
            "κ of the station's rate min(k, c)/D/(1 + κ·max(0, k − c)), fitted with {} on throughput at N = {levels} (Levenberg–Marquardt on log X, κ = s²); {}",
            if d_fixed { "T given D" } else { "D and T" },
            kappa.why
        ),
        source: sources.clone(),
    };
    let t = log_param("total delay", &fit, t_index, "", "");
    // Z from the response-time law at the lowest level; never more than T.
    let z_ms = (gaps[0]).min(t.value);
    let lo_gap = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    let hi_gap = gaps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let think = Param {
        name: "think time",
        value: z_ms,
        interval: (lo_gap.min(z_ms), hi_gap.max(z_ms)),
        unit: "ms",
        estimator: format!(
            "response-time law Z = N/X − R at the lowest level N = {}; interval: the range of N/X − R over N = {levels}",
            first.users
        ),
        source: format!("N = {}: {}", first.users, first.source),
    };
    let delay = Param {
        name: "pure delay",
        value: (t.value - z_ms).max(0.0),
        interval: ((t.interval.0 - z_ms).max(0.0), (t.interval.1 - z_ms).max(0.0)),
        unit: "ms",
        estimator: format!(
            "L = T − Z, T = Z + L the total delay from the contended loop (c = {c}) solved exactly and inverted on throughput at N = {levels}{} (Levenberg–Marquardt on log X); interval: T's 95% delta-method interval less Z",
            if d_fixed { " given D" } else { "" }
        ),
        source: sources.clone(),
    };
    let cv = cv_param(points);
    let rss = fit.rss;
    Some((
        Calibration {
            servers: c,
            left_out: Vec::new(),
            think,
            demand: d_param,
            delay,
            contention,
            cv,
            requests,
            points: points.to_vec(),
        },
        rss,
    ))
}

/// Log throughput errors of the loop (D, total delay T, c servers, κ).
fn x_residuals(points: &[Point], d: f64, t: f64, c: u32, kappa: f64) -> Vec<f64> {
    points
        .iter()
        .map(|p| (model_x(d, t, c, kappa, p.users) / p.throughput_rps).ln())
        .collect()
}

/// The contention a fit settled on, and why.
struct Kappa {
    value: f64,
    interval: (f64, f64),
    why: String,
}

/// Fit `res` (parameters, κ) once with κ = 0 and once with κ = s² free,
/// and keep κ only where the data ask for it: by the nested-model F test at
/// 95%, which needs a level to spare beyond the parameters. With no level
/// to spare any κ fits exactly, so the levels say nothing about it and it
/// stays 0. A κ the data cannot tell from 0 would also make the other
/// intervals infinite (its Jacobian column vanishes at 0) and bend the
/// curve past the measured range on no evidence.
fn with_or_without_contention(
    res: &dyn Fn(&[f64], f64) -> Vec<f64>,
    starts: &[Vec<f64>],
) -> Option<(lm::Fit, Kappa)> {
    let plain = best_of(&|q: &[f64]| res(q, 0.0), starts.iter().cloned())?;
    let k = starts.first()?.len();
    // LM needs s ≠ 0 to move κ: every start has a little contention.
    let with_s = starts
        .iter()
        .flat_map(|p| [0.03f64, 0.15].map(|s| p.iter().copied().chain([s]).collect::<Vec<_>>()));
    let contended = best_of(&|q: &[f64]| res(&q[..k], q[k] * q[k]), with_s);
    let n = plain.n;
    let none = |why: String| Kappa {
        value: 0.0,
        interval: (0.0, 0.0),
        why,
    };
    let Some(cf) = contended else {
        return Some((
            plain,
            none("the fit with contention did not converge: κ = 0".into()),
        ));
    };
    let dof = n.saturating_sub(k + 1);
    let keep = if dof >= 1 {
        let f = (plain.rss - cf.rss) / (cf.rss / dof as f64).max(1e-300);
        let crit = statrs::distribution::FisherSnedecor::new(1.0, dof as f64)
            .map(|d| statrs::distribution::ContinuousCDF::inverse_cdf(&d, 0.95))
            .unwrap_or(f64::INFINITY);
        (
            f > crit,
            format!(
                "F = {} against {} (F test at 95%, 1 and {dof} degrees of freedom)",
                sig(f),
                sig(crit)
            ),
        )
    } else {
        (
            false,
            format!(
                "{n} levels for {} parameters leave none to test it on",
                k + 1
            ),
        )
    };
    if !keep.0 {
        return Some((
            plain,
            none(format!(
                "κ = 0: contention is not needed by these levels ({})",
                keep.1
            )),
        ));
    }
    let (sv, hw) = (cf.params[k].abs(), cf.half_width[k]);
    let lo = if hw.is_finite() && hw < sv {
        (sv - hw).powi(2)
    } else {
        0.0
    };
    let hi = if hw.is_finite() {
        (sv + hw).powi(2)
    } else {
        f64::INFINITY
    };
    let mut fit = cf;
    fit.params.truncate(k);
    fit.half_width.truncate(k);
    Some((
        fit,
        Kappa {
            value: sv * sv,
            interval: (lo, hi),
            why: format!("kept: {}; 95% delta-method interval", keep.1),
        },
    ))
}

/// The best of several Levenberg–Marquardt starts (least RSS).
fn best_of(
    res: &dyn Fn(&[f64]) -> Vec<f64>,
    starts: impl Iterator<Item = Vec<f64>>,
) -> Option<lm::Fit> {
    let mut best: Option<lm::Fit> = None;
    for p0 in starts {
        let f = lm::minimise(res, &p0, &|_: &mut [f64]| {});
        if f.rss.is_finite() && best.as_ref().is_none_or(|b| f.rss < b.rss) {
            best = Some(f);
        }
    }
    best
}

/// A parameter fitted on its logarithm: value exp(a), interval exp(a ± hw).
fn log_param(name: &'static str, f: &lm::Fit, i: usize, estimator: &str, source: &str) -> Param {
    let (a, hw) = (f.params[i], f.half_width[i]);
    Param {
        name,
        value: a.exp() * 1e3,
        interval: ((a - hw).exp() * 1e3, (a + hw).exp() * 1e3),
        unit: "ms",
        estimator: estimator.to_string(),
        source: source.to_string(),
    }
}

/// cv of the demands: the response's at the lowest level (where there is
/// least queueing to add to it); interval over the levels that give one.
fn cv_param(points: &[Point]) -> Param {
    let with: Vec<(&Point, f64)> = points.iter().filter_map(|p| p.cv.map(|c| (p, c))).collect();
    match with.first() {
        None => Param {
            name: "variability (cv)",
            value: 1.0,
            interval: (f64::NAN, f64::NAN),
            unit: "",
            estimator:
                "none measured (no samples, standard deviation or p50 and p95): cv 1 assumed".into(),
            source: String::new(),
        },
        Some(&(p, cv)) => {
            let all: Vec<f64> = with.iter().map(|(_, c)| *c).collect();
            let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            Param {
                name: "variability (cv)",
                value: cv,
                interval: (lo, hi),
                unit: "",
                estimator: format!(
                    "cv of response time at the lowest level N = {} (sd / mean, else a lognormal through mean and p50, else through p50 and p95; at most {MAX_CV}); interval: the range over the {} levels that give one",
                    p.users,
                    all.len()
                ),
                source: p.source.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels of the loop itself at `users` (exact throughput, Little's law
    /// for the response, no think time).
    fn levels(d: f64, t: f64, c: u32, kappa: f64, users: &[u32]) -> Vec<Point> {
        users
            .iter()
            .map(|&n| {
                let x = model_x(d, t, c, kappa, n);
                Point {
                    users: n,
                    throughput_rps: x,
                    response_s: n as f64 / x,
                    p50_ms: None,
                    p95_ms: None,
                    p99_ms: None,
                    error_rate: None,
                    cpu_util: None,
                    cv: None,
                    source: format!("N = {n}"),
                }
            })
            .collect()
    }

    fn one_request() -> Vec<RequestShare> {
        vec![RequestShare {
            name: "r".into(),
            weight: 1.0,
            time_ratio: 1.0,
            source: String::new(),
        }]
    }

    const USERS: &[u32] = &[1, 2, 4, 8, 16, 32, 64];

    #[test]
    fn a_falling_curve_is_fitted_with_its_contention() {
        let (d, t, kappa) = (0.0005, 0.0003, 0.02);
        let c = fit(&levels(d, t, 2, kappa, USERS), one_request(), 2).unwrap();
        assert_eq!(c.servers, 2);
        assert!(
            (c.contention.value / kappa - 1.0).abs() < 1e-3,
            "{:?}",
            c.contention
        );
        assert!(c.contention.covers(kappa), "{:?}", c.contention);
        assert!(
            (c.demand.value / (d * 1e3) - 1.0).abs() < 1e-3,
            "{:?}",
            c.demand
        );
    }

    #[test]
    fn a_curve_without_contention_keeps_kappa_at_0_and_finite_intervals() {
        // A little noise, as measurements have: κ must not fit it.
        let mut pts = levels(0.0005, 0.0003, 2, 0.0, USERS);
        for (i, p) in pts.iter_mut().enumerate() {
            p.throughput_rps *= 1.0 + 0.002 * if i % 2 == 0 { 1.0 } else { -1.0 };
        }
        let c = fit(&pts, one_request(), 2).unwrap();
        assert_eq!(c.contention.value, 0.0, "{:?}", c.contention);
        assert!(c.demand.interval.1.is_finite(), "{:?}", c.demand);
    }

    #[test]
    fn one_lock_on_two_cores_fits_one_server() {
        let c = fit(&levels(0.0002, 0.00005, 1, 0.0, USERS), one_request(), 2).unwrap();
        assert_eq!(c.servers, 1);
    }

    #[test]
    fn a_super_linear_lowest_level_is_left_out_while_two_remain() {
        let mut pts = levels(0.0005, 0.0003, 2, 0.0, &[1, 2, 4, 8]);
        pts[0].throughput_rps *= 0.6;
        let (kept, left) = representative(&pts);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].users, 1);
        assert_eq!(kept.first().unwrap().users, 2);
        // Two levels are kept whatever they say.
        let (kept, left) = representative(&pts[..2]);
        assert!(left.is_empty());
        assert_eq!(kept.len(), 2);
        // A level that scales at most linearly stays.
        let (_, left) = representative(&levels(0.0005, 0.0003, 2, 0.0, &[1, 2, 4, 8]));
        assert!(left.is_empty());
    }
}
