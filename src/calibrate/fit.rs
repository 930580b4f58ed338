//! From measured load levels to the numbers of a scenario: the client's gap
//! (think time), the service demand at the queueing station and the pure
//! delay beside it, their variability, and the request mix — each with a
//! 95% interval and the name of its estimator.
//!
//! The model fitted is a closed network: N users, each waiting Z between a
//! response and its next request, and a request that queues for D at a
//! station of c servers (processor sharing) and then spends L in a pure
//! delay (round trips, flush waits: anything that does not queue). Exact
//! MVA (Seidmann's split for c > 1, as [`crate::analytic`] does) gives X(N)
//! and R(N); D and L are chosen so that they match the measured levels
//! (Levenberg–Marquardt on log throughput and log response). Where the
//! files give the server's CPU, D comes from the utilisation law instead
//! (D = U·c / X) and only L is fitted.
//!
//! More mechanisms (contention, group commit, processes sharing cores) are
//! more [`Param`]s: each parameter carries its own value, interval and
//! provenance, and the scenario writer prints whatever list it is given.

use super::lm;
use super::measure::{Level, Z95};
use crate::analytic::exact_mva;
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

/// What the fitter found.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// Servers c of the queueing station (given, not fitted).
    pub servers: u32,
    /// Think time (client gap) Z, ms.
    pub think: Param,
    /// Demand D at the queueing station, ms.
    pub demand: Param,
    /// Pure delay L, ms.
    pub delay: Param,
    /// cv of the demands (from the latency distribution at the lowest level).
    pub cv: Param,
    /// The request mix (one entry `request` when the files have no types).
    pub requests: Vec<RequestShare>,
    /// The levels fitted on, ascending.
    pub points: Vec<Point>,
}

impl Calibration {
    /// MVA's throughput and mean response (s) at `n` users.
    pub fn mva(&self, n: u32) -> (f64, f64) {
        model_mva(
            self.demand.value / 1e3,
            self.delay.value / 1e3,
            self.think.value / 1e3,
            self.servers,
            n,
        )
    }

    /// Every fitted parameter, for the writers.
    pub fn params(&self) -> Vec<&Param> {
        vec![&self.think, &self.demand, &self.delay, &self.cv]
    }
}

/// Throughput and mean response (s) of the fitted network at `n` users.
pub fn model_mva(d: f64, l: f64, z: f64, servers: u32, n: u32) -> (f64, f64) {
    let c = servers.max(1) as f64;
    exact_mva(&[d / c], l + d * (c - 1.0) / c, z, n.max(1))
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
    let (d_param, t_fit, t_index, d_fixed) = if with_cpu {
        // Utilisation law: D = U·c / X per level; then only T is fitted.
        let ds: Vec<f64> = points
            .iter()
            .map(|p| p.cpu_util.unwrap_or(0.0) * c as f64 / p.throughput_rps * 1e3)
            .collect();
        let (d_ms, d_lo, d_hi) = t_interval(&ds);
        let d = d_ms / 1e3;
        let res = |q: &[f64]| x_residuals(points, d, q[0].exp(), c);
        let f = lm::minimise(&res, &[(r1 - d).max(r1 * 0.01).ln()], &|_: &mut [f64]| {});
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
            true,
        )
    } else {
        let res = |q: &[f64]| x_residuals(points, q[0].exp(), q[1].exp(), c);
        // Starts: the bottleneck from the highest level, the rest delay;
        // and three splits of the one-user time.
        let top = points.last()?;
        let d0 = (c as f64 / top.throughput_rps).min(r1 * 0.9).max(r1 * 1e-3);
        let t0 = (r1 - d0).max(r1 * 1e-3);
        let mut best: Option<lm::Fit> = None;
        for (a, b) in [
            (d0, t0),
            (r1 * 0.5, r1 * 0.5),
            (r1 * 0.9, r1 * 0.1),
            (r1 * 0.1, r1 * 0.9),
        ] {
            let f = lm::minimise(&res, &[a.ln(), b.ln()], &|_: &mut [f64]| {});
            if best.as_ref().is_none_or(|b| f.rss < b.rss) {
                best = Some(f);
            }
        }
        let f = best?;
        let est = format!(
            "exact MVA (c = {c}) inverted on throughput at N = {levels} (Levenberg–Marquardt on log X), 95% delta-method interval"
        );
        (
            log_param("service demand", &f, 0, &est, &sources),
            f,
            1,
            false,
        )
    };
    let t = log_param("total delay", &t_fit, t_index, "", "");
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
            "L = T − Z, T = Z + L the total delay from exact MVA (c = {c}) inverted on throughput at N = {levels}{} (Levenberg–Marquardt on log X); interval: T's 95% delta-method interval less Z",
            if d_fixed { " given D" } else { "" }
        ),
        source: sources.clone(),
    };
    let cv = cv_param(points);
    Some(Calibration {
        servers: c,
        think,
        demand: d_param,
        delay,
        cv,
        requests,
        points: points.to_vec(),
    })
}

/// Log throughput errors of the network (D, total delay T, c servers).
fn x_residuals(points: &[Point], d: f64, t: f64, c: u32) -> Vec<f64> {
    points
        .iter()
        .map(|p| (model_mva(d, t, 0.0, c, p.users).0 / p.throughput_rps).ln())
        .collect()
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
