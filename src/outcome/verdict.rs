//! Verdicts on a guide's claims: supported, refuted or inconclusive, with
//! the simulated value and its confidence interval, and the break-even
//! assumption under which the claim would just hold.
//!
//! A claim is *supported* when the whole 95% interval of the simulated value
//! lies on the promised side of every bound, *refuted* when the whole
//! interval lies on the wrong side of one, and *inconclusive* when the
//! interval straddles a bound: more replications, not a guess, would decide.
//!
//! The break-even think time rests on load equivalence: in a closed system
//! what the servers see is the request rate N/(Z+R). A claim about N users at
//! think time Z therefore holds about when the simulated curve (at the
//! scenario's own think time Z₀) holds at the population N' with the same
//! request rate, N'/(Z₀+R) = N/(Z+R). Reading N' off the curve where the
//! metric crosses the claimed bound gives Z* = (Z₀+R)·N/N' − R. It is exact in
//! the limit of many users each sending few requests (the guides' setting)
//! and needs no extra simulation.

use crate::model::Population;
use crate::scenario::{Claim, Metric, RequestKind, Scenario};
use crate::stats::{estimate, Estimate};
use crate::sweep::{Capacity, CapacityStatus, PointEstimate, RunRecord, SweepResult};

/// What the simulation says of one claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The whole 95% interval lies on the promised side of every bound.
    Supported,
    /// The whole 95% interval lies on the wrong side of a bound.
    Refuted,
    /// The interval straddles a bound (more replications would decide), or
    /// there is nothing to judge by (the phase was not run, an open
    /// workload has no capacity).
    Inconclusive,
}

impl Verdict {
    /// The verdict as claims.csv and report.md write it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Refuted => "refuted",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// The verdict on one claim.
#[derive(Clone, Debug)]
pub struct ClaimVerdict {
    /// Index into `Scenario::claims`.
    pub claim: usize,
    /// The claim's metric as simulated, in the metric's own unit (users, ms,
    /// requests per second, USD a month, fraction 0–1…), with its 95%
    /// interval (for a capacity, the search's bracket); [`Estimate::NONE`]
    /// when there is nothing to judge by.
    pub value: Estimate,
    /// When the value is known only to lie between two ends (a capacity
    /// above the grid, a cost per user over such a capacity), those ends —
    /// either may be infinite — and `value` is [`Estimate::NONE`]: a bound is
    /// not a measurement, and a verdict on it is inconclusive unless the
    /// bound itself decides.
    pub bound: Option<(f64, f64)>,
    /// Where that interval lies against the claim's bounds.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub reason: String,
    /// Think time at which the claim would just hold (`None`: it does not
    /// depend on think time, or the curve never crosses the bound).
    pub break_even_think_s: Option<f64>,
    /// What the break-even means, in words.
    pub break_even: String,
}

/// Judge every claim of `sc` against a finished sweep.
pub fn judge(sc: &Scenario, result: &SweepResult) -> Vec<ClaimVerdict> {
    sc.claims
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut v = judge_one(sc, result, i, c);
            if v.break_even.is_empty() {
                v.break_even = "not a function of think time alone".into();
            }
            flag_extrapolation(sc, c, &mut v);
            v
        })
        .collect()
}

/// A calibrated scenario knows how far it was measured: a verdict resting
/// on a load beyond twice that (the claim's users, or the capacity found)
/// says it is an extrapolation.
fn flag_extrapolation(sc: &Scenario, c: &Claim, v: &mut ClaimVerdict) {
    let Some(cal) = sc.calibration else {
        return;
    };
    let users = match c.metric {
        Metric::CapacityUsers if v.value.mean.is_finite() => Some(v.value.mean.round() as u32),
        _ => c.users,
    };
    if users.is_some_and(|u| cal.extrapolated(u)) {
        v.reason = format!(
            "{}{}extrapolated: beyond twice the largest measured load ({} users)",
            v.reason,
            if v.reason.is_empty() { "" } else { "; " },
            cal.measured_max_users
        );
    }
}

fn judge_one(sc: &Scenario, result: &SweepResult, index: usize, c: &Claim) -> ClaimVerdict {
    let think_s = match sc.workload.population {
        Population::Closed { think } => Some(think.mean_ns() / 1e9),
        Population::Open { .. } => None,
    };
    let cap = result.capacity.iter().find(|k| k.phase == c.phase);
    let make = |value: Estimate, verdict: Verdict, reason: String| ClaimVerdict {
        claim: index,
        value,
        bound: None,
        verdict,
        reason,
        break_even_think_s: None,
        break_even: String::new(),
    };
    match c.metric {
        Metric::CapacityUsers => {
            let Some(cap) = cap else {
                return make(
                    Estimate::NONE,
                    Verdict::Inconclusive,
                    "the phase was not run".into(),
                );
            };
            let mut v = judge_capacity(c, cap, index);
            within_noise(sc, result, c, cap, &mut v);
            // Capacity scales with the time between a user's requests.
            let r = cap
                .at
                .as_ref()
                .map_or(0.0, |p| finite_or(p.mean_ms.mean / 1e3, 0.0));
            match (think_s, c.min, c.max) {
                (None, _, _) => v.break_even = "an open workload has no think time".into(),
                _ if cap.users == 0 => {
                    v.break_even = "not even one user meets the SLO: no think time helps".into()
                }
                (Some(z0), Some(n), _) => {
                    let z = (z0 + r) * n / cap.users as f64 - r;
                    v.break_even_think_s = Some(z);
                    v.break_even = think_sentence(z, r, n);
                }
                (Some(z0), None, Some(n)) => {
                    let z = (z0 + r) * n / cap.users as f64 - r;
                    v.break_even_think_s = Some(z);
                    v.break_even = if z <= 0.0 {
                        format!("the phase carries more than {n:.0} users at any think time")
                    } else {
                        format!("capacity stays at most {n:.0} users only if each thinks ≤ {z:.1} s between requests")
                    };
                }
                _ => {}
            }
            v
        }
        Metric::CostUsdMonth => {
            let cost = phase_cost(sc, c.phase);
            let value = exact(cost);
            let verdict = compare(value, c.min, c.max);
            let mut v = make(
                value,
                verdict,
                format!("the phase's items add up to ${cost:.0} a month"),
            );
            v.break_even = "does not depend on the workload".into();
            v
        }
        Metric::CostPer1kUsers => {
            let cost = phase_cost(sc, c.phase);
            let per_1k = |users: f64| cost / users * 1000.0;
            let Some(cap) = cap.filter(|k| k.status != CapacityStatus::Open) else {
                return make(
                    Estimate::NONE,
                    Verdict::Inconclusive,
                    "no capacity in users to divide by".into(),
                );
            };
            let Some(users) = cap.at_least() else {
                // Below one user, or below the smallest load simulated: the
                // cost per user is known only from below.
                let lo = cap.fails_at.map_or(f64::INFINITY, |f| per_1k(f64::from(f)));
                let verdict = compare_interval(lo, f64::INFINITY, c.min, c.max);
                let mut v = make(
                    Estimate::NONE,
                    verdict,
                    format!("no simulated user count meets the SLO: ${cost:.0} a month carries fewer than {} users", cap.fails_at.map_or(1, |f| f.max(1))),
                );
                v.bound = Some((lo, f64::INFINITY));
                return v;
            };
            let hi = per_1k(f64::from(users));
            let mut v = if cap.measured().is_some() {
                // The capacity is known to a bracket [users, fails_at).
                let lo = cap.fails_at.map_or(hi, |f| per_1k(f64::from(f)));
                let value = Estimate {
                    mean: hi,
                    half_width: (hi - lo) / 2.0,
                    n: 1,
                };
                make(
                    value,
                    compare_interval(lo, hi, c.min, c.max),
                    format!("${cost:.0} a month over a capacity of {users} users"),
                )
            } else {
                // Capacity ≥ users: the cost per user is at most `hi`, and
                // only a claim that this bound decides gets a verdict.
                let mut v = make(
                    Estimate::NONE,
                    compare_interval(0.0, hi, c.min, c.max),
                    format!("${cost:.0} a month over a capacity of at least {users} users (every load simulated meets the SLO)"),
                );
                v.bound = Some((0.0, hi));
                v
            };
            if let (Some(z0), Some(max)) = (think_s, c.max) {
                // Cost per user falls as capacity rises, and capacity rises with think time.
                let n_needed = cost / max * 1000.0;
                let r = cap.at.as_ref().map_or(0.0, |p| p.mean_ms.mean / 1e3);
                let r = if r.is_finite() { r } else { 0.0 };
                let z = (z0 + r) * n_needed / f64::from(users) - r;
                v.break_even_think_s = Some(z);
                v.break_even = format!(
                    "holds if the phase carries {n_needed:.0} users: {}",
                    think_sentence(z, r, n_needed)
                );
            }
            v
        }
        Metric::MaxThroughputRps => {
            let best = result
                .points
                .iter()
                .filter(|p| p.key.phase == c.phase && p.throughput_rps.mean.is_finite())
                .max_by(|a, b| a.throughput_rps.mean.total_cmp(&b.throughput_rps.mean));
            let Some(best) = best else {
                return make(
                    Estimate::NONE,
                    Verdict::Inconclusive,
                    "no point was measured".into(),
                );
            };
            let verdict = compare(best.throughput_rps, c.min, c.max);
            let mut v = make(
                best.throughput_rps,
                verdict,
                format!(
                    "highest throughput of the sweep, at {} users",
                    best.key.users
                ),
            );
            v.break_even = "does not depend on think time: a property of the bottleneck".into();
            v
        }
        _ => judge_point(sc, result, index, c, think_s),
    }
}

fn judge_point(
    sc: &Scenario,
    result: &SweepResult,
    index: usize,
    c: &Claim,
    think_s: Option<f64>,
) -> ClaimVerdict {
    let users = c.users.unwrap_or(0);
    let point = result
        .points
        .iter()
        .find(|p| p.key.phase == c.phase && p.key.users == users);
    let runs: Vec<&RunRecord> = result
        .runs
        .iter()
        .filter(|r| r.point.phase == c.phase && r.point.users == users)
        .collect();
    let mut v = ClaimVerdict {
        claim: index,
        value: Estimate::NONE,
        bound: None,
        verdict: Verdict::Inconclusive,
        reason: String::new(),
        break_even_think_s: None,
        break_even: String::new(),
    };
    let Some(point) = point else {
        v.reason = format!("{users} users were not simulated");
        return v;
    };
    let latency = matches!(
        c.metric,
        Metric::MeanMs | Metric::P50Ms | Metric::P95Ms | Metric::P99Ms
    );
    if latency && !point.stable {
        // Saturated: response times exceed any bound, which refutes a
        // promise of speed and supports a warning of degradation.
        v.verdict = if c.max.is_some() {
            Verdict::Refuted
        } else {
            Verdict::Supported
        };
        v.reason = format!(
            "at {users} users the phase is saturated: requests queue far longer than any measured window, so response times exceed any bound"
        );
    } else {
        v.value = point_metric(sc, c.metric, point, &runs);
        v.verdict = compare(v.value, c.min, c.max);
        v.reason = match v.verdict {
            Verdict::Supported => "the whole 95% interval meets the claim".into(),
            Verdict::Refuted => "the whole 95% interval misses the claim".into(),
            Verdict::Inconclusive => "the 95% interval straddles the claimed bound".into(),
        };
    }
    if let Some(z0) = think_s {
        let (z, text) = break_even_point(sc, result, c, z0);
        v.break_even_think_s = z;
        v.break_even = text;
    }
    v
}

/// A metric at one point, as an estimate over its replications.
fn point_metric(sc: &Scenario, m: Metric, p: &PointEstimate, runs: &[&RunRecord]) -> Estimate {
    let over = |f: &dyn Fn(&RunRecord) -> f64| estimate(runs.iter().map(|r| f(r)));
    match m {
        Metric::MeanMs => p.mean_ms,
        Metric::P50Ms => p.p50_ms,
        Metric::P95Ms => p.p95_ms,
        Metric::P99Ms => p.p99_ms,
        Metric::ThroughputRps => p.throughput_rps,
        Metric::ErrorRate => p.error_rate,
        Metric::WriteTps => over(&|r| {
            let writes: u64 = sc
                .workload
                .requests
                .iter()
                .zip(&r.per_type)
                .filter(|(q, _)| q.kind == RequestKind::Write)
                .map(|(_, t)| t.completed)
                .sum();
            if r.window_s > 0.0 {
                writes as f64 / r.window_s
            } else {
                f64::NAN
            }
        }),
        Metric::CacheHitRatio => over(&|r| r.cache_hit_ratio),
        Metric::ReplicaLagP95Ms => over(&|r| r.replica_lag_p95_ms),
        Metric::StaleReadFraction => over(&|r| r.stale_read_fraction),
        Metric::DbConnections => over(&|r| r.db.connections),
        Metric::CapacityUsers
        | Metric::MaxThroughputRps
        | Metric::CostUsdMonth
        | Metric::CostPer1kUsers => Estimate::NONE,
    }
}

/// Break-even think time of a point claim, read off the phase's curve.
fn break_even_point(
    sc: &Scenario,
    result: &SweepResult,
    c: &Claim,
    z0: f64,
) -> (Option<f64>, String) {
    let n = c.users.unwrap_or(0) as f64;
    let mut curve: Vec<&PointEstimate> = result
        .points
        .iter()
        .filter(|p| p.key.phase == c.phase)
        .collect();
    curve.sort_by_key(|p| p.key.users);
    let latency = matches!(
        c.metric,
        Metric::MeanMs | Metric::P50Ms | Metric::P95Ms | Metric::P99Ms
    );
    match c.metric {
        // Throughput at N users is the request rate N/(Z+R) while the phase
        // keeps up: the claim holds for Z ≤ N/X − R.
        Metric::ThroughputRps | Metric::WriteTps if c.min.is_some() => {
            let x = c.min.unwrap_or(f64::NAN);
            let share = if c.metric == Metric::WriteTps {
                sc.workload
                    .requests
                    .iter()
                    .filter(|q| q.kind == RequestKind::Write)
                    .map(|q| q.weight)
                    .sum::<f64>()
            } else {
                1.0
            };
            let r = curve
                .iter()
                .find(|p| p.key.users == c.users.unwrap_or(0))
                .map_or(0.0, |p| finite_or(p.mean_ms.mean / 1e3, 0.0));
            let z = n * share / x - r;
            if z > 0.0 {
                (
                    Some(z),
                    format!(
                        "holds while each user sends a request at least every {:.1} s (think time ≤ {z:.1} s), if the phase keeps up",
                        z + r
                    ),
                )
            } else {
                (
                    None,
                    format!("{n:.0} users cannot offer {x} per second at any think time"),
                )
            }
        }
        _ if latency || c.metric == Metric::ErrorRate => {
            // The largest population on the curve at which the claim holds.
            let holds = |p: &PointEstimate| -> Option<bool> {
                let v = curve_value(c.metric, p);
                if !p.stable {
                    return Some(false);
                }
                v.is_finite()
                    .then(|| c.max.is_none_or(|m| v <= m) && c.min.is_none_or(|m| v >= m))
            };
            // An upper bound (a promise of speed) holds at light load and
            // fails beyond an edge; a lower bound (a warning of degradation)
            // the other way round. Find the edge on the curve.
            let degrades = c.max.is_none();
            let statuses: Vec<(&PointEstimate, bool)> = curve
                .iter()
                .filter_map(|p| holds(p).map(|h| (*p, h)))
                .collect();
            let light = !degrades;
            let Some(first) = statuses.iter().position(|(_, h)| *h != light) else {
                return (
                    None,
                    if degrades {
                        "never degrades that far within the sweep: no think time makes it hold"
                            .into()
                    } else {
                        format!(
                            "holds over the whole sweep (up to {} users at the scenario's {z0:.0} s think time)",
                            curve.last().map_or(0, |p| p.key.users)
                        )
                    },
                );
            };
            if first == 0 {
                return (
                    None,
                    if degrades {
                        "holds at every simulated load".into()
                    } else {
                        "fails at every simulated load: no think time makes it hold".into()
                    },
                );
            }
            let (ok, bad) = (statuses[first - 1].0, statuses[first].0);
            // Between the two, find where the metric crosses the bound:
            // linear in the metric, on a log scale of users (the geometric
            // midpoint if the far point is saturated and has no value).
            let value = |p: &PointEstimate| curve_value(c.metric, p);
            let bound = c.max.or(c.min).unwrap_or(f64::NAN);
            let (v0, v1) = (value(ok), value(bad));
            let t = if bad.stable && v1.is_finite() && v1 != v0 {
                ((bound - v0) / (v1 - v0)).clamp(0.0, 1.0)
            } else {
                0.5
            };
            let (l0, l1) = ((ok.key.users as f64).ln(), (bad.key.users as f64).ln());
            let n_edge = (l0 + t * (l1 - l0)).exp();
            let r = finite_or(ok.mean_ms.mean / 1e3, 0.0);
            let z = (z0 + r) * n / n_edge - r;
            if degrades {
                let text = if z <= 0.0 {
                    format!("{n:.0} users never load the phase that much")
                } else {
                    format!(
                        "holds for {n:.0} users if each thinks ≤ {z:.1} s between requests (≥ {:.2} requests per user per minute)",
                        60.0 / (z + r)
                    )
                };
                (Some(z), text)
            } else {
                (Some(z), think_sentence(z, r, n))
            }
        }
        _ => (None, "not a function of think time alone".into()),
    }
}

/// A latency metric (or the error rate) at one point, as the break-even
/// search reads the curve.
fn curve_value(m: Metric, p: &PointEstimate) -> f64 {
    match m {
        Metric::MeanMs => p.mean_ms.mean,
        Metric::P50Ms => p.p50_ms.mean,
        Metric::P95Ms => p.p95_ms.mean,
        Metric::P99Ms => p.p99_ms.mean,
        _ => p.error_rate.mean,
    }
}

fn finite_or(x: f64, d: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        d
    }
}

fn think_sentence(z: f64, r: f64, n: f64) -> String {
    if z <= 0.0 {
        format!("holds for {n:.0} users even if they never pause between requests")
    } else {
        format!(
            "holds for {n:.0} users if each thinks ≥ {z:.1} s between requests (≤ {:.2} requests per user per minute)",
            60.0 / (z + r)
        )
    }
}

/// A capacity claim whose bound lies where the replications cannot tell
/// whether the SLO is met — above the largest count whose intervals surely
/// meet it, below the smallest that surely misses it
/// ([`super::CapacityNoise`]) — is inconclusive: the bracket of the capacity
/// search alone would give it a verdict another seed could reverse.
fn within_noise(
    sc: &Scenario,
    result: &SweepResult,
    c: &Claim,
    cap: &Capacity,
    v: &mut ClaimVerdict,
) {
    if v.verdict == Verdict::Inconclusive || cap.measured().is_none() {
        return;
    }
    let noise = super::CapacityNoise::of(
        &sc.slo,
        result.points.iter().filter(|p| p.key.phase == c.phase),
    );
    // Capacity ≥ n holds surely if n users surely meet the SLO, fails surely
    // if a count at or below n surely misses it; capacity ≤ n the other way.
    let unsure = |n: f64| {
        f64::from(noise.surely_meets) < n && noise.surely_fails.is_none_or(|f| n < f64::from(f))
    };
    let at_min = c.min.filter(|&n| unsure(n));
    let at_max = c.max.filter(|&n| unsure(n + 1.0));
    if let Some(n) = at_min.or(at_max) {
        v.verdict = Verdict::Inconclusive;
        v.reason = format!(
            "{}; but {n:.0} users lie inside the capacity's noise: {} users surely meet the SLO, {} surely miss it",
            v.reason,
            noise.surely_meets,
            noise
                .surely_fails
                .map_or("no simulated count".into(), |f| f.to_string())
        );
    }
}

fn judge_capacity(c: &Claim, cap: &Capacity, index: usize) -> ClaimVerdict {
    let users = cap.users as f64;
    let fails = cap.fails_at.map(|f| f as f64);
    // The true capacity lies in [users, fails_at).
    let (lo, hi, reason) = match cap.status {
        // Fewer than one user, or fewer than the smallest load simulated:
        // the capacity lies in [0, fails_at − 1].
        CapacityStatus::None => (0.0, 0.0, "not even one user meets the SLO".to_string()),
        CapacityStatus::BelowGrid => (
            0.0,
            fails.map_or(0.0, |f| f - 1.0),
            format!(
                "the smallest load simulated, {} users, already misses the SLO",
                cap.fails_at.map_or("—".into(), |f| f.to_string())
            ),
        ),
        CapacityStatus::AboveGrid => (
            users,
            f64::INFINITY,
            format!(
                "meets the SLO at every simulated count, up to {} users",
                cap.users
            ),
        ),
        CapacityStatus::Open => (
            f64::NAN,
            f64::NAN,
            "an open workload has no user count".into(),
        ),
        _ => (
            users,
            fails.map_or(users, |f| f - 1.0),
            format!(
                "meets the SLO up to {} users, fails at {}",
                cap.users,
                cap.fails_at.map_or("—".into(), |f| f.to_string())
            ),
        ),
    };
    let verdict = if lo.is_nan() {
        Verdict::Inconclusive
    } else {
        compare_interval(lo, hi, c.min, c.max)
    };
    // A measured capacity is a value with its bracket; anything else is
    // known only by its ends.
    let (value, bound) = match cap.measured() {
        Some(_) => (
            Estimate {
                mean: users,
                half_width: (hi - lo) / 2.0,
                n: 1,
            },
            None,
        ),
        None if lo.is_nan() => (Estimate::NONE, None),
        None => (Estimate::NONE, Some((lo, hi))),
    };
    ClaimVerdict {
        claim: index,
        value,
        bound,
        verdict,
        reason,
        break_even_think_s: None,
        break_even: String::new(),
    }
}

fn phase_cost(sc: &Scenario, phase: usize) -> f64 {
    sc.phases[phase].costs.iter().map(|c| c.usd_month).sum()
}

fn exact(x: f64) -> Estimate {
    Estimate {
        mean: x,
        half_width: 0.0,
        n: 1,
    }
}

/// Judge an estimate's 95% interval against the bounds.
pub fn compare(e: Estimate, min: Option<f64>, max: Option<f64>) -> Verdict {
    if !e.mean.is_finite() {
        return Verdict::Inconclusive;
    }
    let h = if e.half_width.is_finite() {
        e.half_width
    } else {
        0.0
    };
    compare_interval(e.mean - h, e.mean + h, min, max)
}

/// Judge a value known to lie in [lo, hi] against the bounds.
pub fn compare_interval(lo: f64, hi: f64, min: Option<f64>, max: Option<f64>) -> Verdict {
    let fails = min.is_some_and(|m| hi < m) || max.is_some_and(|m| lo > m);
    let holds = min.is_none_or(|m| lo >= m) && max.is_none_or(|m| hi <= m);
    if fails {
        Verdict::Refuted
    } else if holds {
        Verdict::Supported
    } else {
        Verdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_decide_only_when_they_clear_the_bound() {
        let e = |mean, half_width| Estimate {
            mean,
            half_width,
            n: 5,
        };
        assert_eq!(compare(e(80.0, 5.0), None, Some(100.0)), Verdict::Supported);
        assert_eq!(compare(e(120.0, 5.0), None, Some(100.0)), Verdict::Refuted);
        assert_eq!(
            compare(e(98.0, 5.0), None, Some(100.0)),
            Verdict::Inconclusive
        );
        assert_eq!(
            compare(e(60.0, 5.0), Some(50.0), Some(100.0)),
            Verdict::Supported
        );
        assert_eq!(
            compare(e(40.0, 5.0), Some(50.0), Some(100.0)),
            Verdict::Refuted
        );
        assert_eq!(
            compare(e(f64::NAN, 5.0), Some(50.0), None),
            Verdict::Inconclusive
        );
    }
}
