//! Verdicts that hold across what the guide leaves open: the designs of an
//! uncertainty study (each a whole sweep at one combination of the ranges'
//! values, common random numbers throughout) summed up.
//!
//! - the 5th, 50th and 95th percentile of each phase's capacity across the
//!   designs;
//! - each claim's `p_holds`, the share of designs in which it holds, with
//!   its exact (Clopper–Pearson) binomial 95% interval, and a robust
//!   verdict: `holds` when p_holds ≥ 95%, `fails` when ≤ 5%, else
//!   `depends` — on the range that explains most of the claim's simulated
//!   value;
//! - a tornado per phase: the capacity re-simulated with each range at its
//!   low and at its high end, the others at their mid values;
//! - a global ranking of the ranges per phase: the first-order (Sobol)
//!   index of capacity, estimated from the design as the correlation ratio
//!   η² = Var(E[capacity | range's stratum]) / Var(capacity).
//!
//! A design "holds" a claim as its verdict says when that is decided, and by
//! its simulated mean against the bounds when the verdict is inconclusive,
//! so that a claim right at its bound counts in about half the designs.

use super::verdict::{self, compare_interval, Verdict};
use crate::scenario::{ParamRange, Scenario};
use crate::sweep::{Capacity, CapacityStatus, SweepResult};
use statrs::distribution::{Beta, ContinuousCDF};

/// p_holds at or above which a claim robustly holds.
pub const HOLDS_AT: f64 = 0.95;
/// p_holds at or below which a claim robustly fails.
pub const FAILS_AT: f64 = 0.05;

/// One claim in one design.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DesignClaim {
    /// The claim's simulated value (NaN when there is nothing to judge by).
    pub value: f64,
    /// Whether the claim holds in this design.
    pub holds: bool,
}

/// What the study keeps of one design's sweep.
#[derive(Clone, Debug)]
pub struct DesignRun {
    /// One value per range, in [`Study::ranges`] order.
    pub values: Vec<f64>,
    /// The capacity of every phase run, in the point run's order.
    pub capacity: Vec<Capacity>,
    /// Every claim of the scenario, in file order.
    pub claims: Vec<DesignClaim>,
}

impl DesignRun {
    /// Judge `sc` (the scenario at `values`) on its finished sweep.
    pub fn of(sc: &Scenario, values: Vec<f64>, result: SweepResult) -> Self {
        let claims = verdict::judge(sc, &result)
            .into_iter()
            .map(|v| {
                let c = &sc.claims[v.claim];
                let value = v.value.mean;
                let holds = match v.verdict {
                    Verdict::Supported => true,
                    Verdict::Refuted => false,
                    Verdict::Inconclusive => {
                        value.is_finite()
                            && compare_interval(value, value, c.min, c.max) == Verdict::Supported
                    }
                };
                DesignClaim { value, holds }
            })
            .collect();
        DesignRun {
            values,
            capacity: result.capacity,
            claims,
        }
    }

    /// The capacity of `phase` (an index into the scenario's phases), in
    /// users: 0 when not even one user meets the SLO, NaN for an open
    /// workload or a phase not run.
    pub fn capacity_users(&self, phase: usize) -> f64 {
        self.capacity
            .iter()
            .find(|c| c.phase == phase)
            .map_or(f64::NAN, capacity_users)
    }
}

/// A capacity as a number of users (see [`DesignRun::capacity_users`]).
pub fn capacity_users(c: &Capacity) -> f64 {
    match c.status {
        CapacityStatus::Found | CapacityStatus::Bracketed | CapacityStatus::AboveGrid => {
            f64::from(c.users)
        }
        CapacityStatus::None => 0.0,
        // Below the smallest count given, by how much unknown.
        CapacityStatus::Open | CapacityStatus::BelowGrid => f64::NAN,
    }
}

/// The robust verdict on a claim across the designs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Robust {
    /// Holds in at least [`HOLDS_AT`] of the designs.
    Holds,
    /// Holds in at most [`FAILS_AT`] of them.
    Fails,
    /// Anything between: it depends on where in the ranges the truth lies.
    Depends,
}

impl Robust {
    /// As claims.csv and report.md write it.
    pub fn name(self) -> &'static str {
        match self {
            Robust::Holds => "holds",
            Robust::Fails => "fails",
            Robust::Depends => "depends",
        }
    }
}

/// A phase's capacity across the designs.
#[derive(Clone, Copy, Debug)]
pub struct CapacitySpread {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// 5th, 50th and 95th percentile of capacity, in users (NaN when open).
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// A claim across the designs.
#[derive(Clone, Copy, Debug)]
pub struct ClaimSpread {
    /// Index into `Scenario::claims`.
    pub claim: usize,
    /// Designs in which it holds.
    pub holds: u32,
    /// Designs that judged it (those with a value or a decided verdict).
    pub designs: u32,
    /// holds / designs (NaN without designs).
    pub p_holds: f64,
    /// Clopper–Pearson 95% interval of p_holds.
    pub p_low: f64,
    /// Upper end of that interval.
    pub p_high: f64,
    /// Holds, fails or depends.
    pub robust: Robust,
    /// Index into [`Study::ranges`] of the range that explains most of the
    /// claim's simulated value (first-order index), if any explains some.
    pub depends_on: Option<usize>,
}

/// One bar of a phase's tornado.
#[derive(Clone, Copy, Debug)]
pub struct TornadoBar {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// Index into [`Study::ranges`].
    pub range: usize,
    /// Capacity with the range at its low end, the others at mid, in users.
    pub at_low: f64,
    /// Capacity with the range at its high end.
    pub at_high: f64,
    /// Capacity with every range at mid (the point run).
    pub at_mid: f64,
}

impl TornadoBar {
    /// How far the range moves the capacity end to end, in users.
    pub fn swing(&self) -> f64 {
        let s = (self.at_high - self.at_low).abs();
        if s.is_finite() {
            s
        } else {
            0.0
        }
    }
}

/// How much of a phase's capacity variance one range explains.
#[derive(Clone, Copy, Debug)]
pub struct Influence {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// Index into [`Study::ranges`].
    pub range: usize,
    /// First-order index, 0–1 (the correlation ratio over the design).
    pub first_order: f64,
    /// Spearman rank correlation of the range's value with capacity, −1–1:
    /// the sign says which way it pushes.
    pub rank_correlation: f64,
}

/// The study of one scenario's ranges.
#[derive(Clone, Debug)]
pub struct Study {
    /// The parameters explored, in file order, each by its first range
    /// (ranges sharing a name are one parameter).
    pub ranges: Vec<ParamRange>,
    /// The dotted paths of each parameter's fields, same order.
    pub fields: Vec<Vec<String>>,
    /// Every design, in design order (design 1 first).
    pub designs: Vec<DesignRun>,
    /// One per phase run, in the point run's order.
    pub capacity: Vec<CapacitySpread>,
    /// One per claim, in file order.
    pub claims: Vec<ClaimSpread>,
    /// Per phase run, its ranges by swing, widest first.
    pub tornado: Vec<TornadoBar>,
    /// Per phase run, its ranges by first-order index, largest first.
    pub ranking: Vec<Influence>,
    /// Variants that could not be run (not a valid scenario), each with
    /// why; empty after `simulate`'s checks.
    pub invalid: Vec<String>,
}

/// Sum up a study: `designs` in design order; `ends[i]` the runs with
/// range i at its low and at its high end (others at mid); `point` the point
/// run's capacities (every range at mid).
pub fn study(
    sc: &Scenario,
    ranges: Vec<ParamRange>,
    designs: Vec<DesignRun>,
    ends: &[(DesignRun, DesignRun)],
    point: &[Capacity],
) -> Study {
    let phases: Vec<usize> = point.iter().map(|c| c.phase).collect();
    let capacity = phases
        .iter()
        .map(|&phase| {
            let mut xs: Vec<f64> = designs
                .iter()
                .map(|d| d.capacity_users(phase))
                .filter(|x| x.is_finite())
                .collect();
            xs.sort_by(f64::total_cmp);
            CapacitySpread {
                phase,
                p5: quantile(&xs, 0.05),
                p50: quantile(&xs, 0.5),
                p95: quantile(&xs, 0.95),
            }
        })
        .collect();
    let claims = (0..sc.claims.len())
        .map(|claim| {
            let judged: Vec<&DesignClaim> = designs.iter().map(|d| &d.claims[claim]).collect();
            let n = judged.len() as u32;
            let holds = judged.iter().filter(|c| c.holds).count() as u32;
            let p_holds = if n == 0 {
                f64::NAN
            } else {
                f64::from(holds) / f64::from(n)
            };
            let (p_low, p_high) = clopper_pearson(holds, n);
            let robust = if p_holds >= HOLDS_AT {
                Robust::Holds
            } else if p_holds <= FAILS_AT {
                Robust::Fails
            } else {
                Robust::Depends
            };
            let y: Vec<f64> = judged
                .iter()
                .map(|c| {
                    if c.value.is_finite() {
                        c.value
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            let depends_on = strongest(&designs, &ranges, &y);
            ClaimSpread {
                claim,
                holds,
                designs: n,
                p_holds,
                p_low,
                p_high,
                robust,
                depends_on,
            }
        })
        .collect();
    let mut tornado = Vec::new();
    let mut ranking = Vec::new();
    for (k, &phase) in phases.iter().enumerate() {
        let at_mid = capacity_users(&point[k]);
        let mut bars: Vec<TornadoBar> = ends
            .iter()
            .enumerate()
            .map(|(range, (lo, hi))| TornadoBar {
                phase,
                range,
                at_low: lo.capacity_users(phase),
                at_high: hi.capacity_users(phase),
                at_mid,
            })
            .collect();
        bars.sort_by(|a, b| b.swing().total_cmp(&a.swing()).then(a.range.cmp(&b.range)));
        tornado.extend(bars);
        let y: Vec<f64> = designs.iter().map(|d| d.capacity_users(phase)).collect();
        let mut inf: Vec<Influence> = (0..ranges.len())
            .map(|range| {
                let x: Vec<f64> = designs.iter().map(|d| d.values[range]).collect();
                Influence {
                    phase,
                    range,
                    first_order: first_order(&x, &y),
                    rank_correlation: spearman(&x, &y),
                }
            })
            .collect();
        inf.sort_by(|a, b| {
            b.first_order
                .total_cmp(&a.first_order)
                .then(a.range.cmp(&b.range))
        });
        ranking.extend(inf);
    }
    Study {
        fields: ranges.iter().map(|r| vec![r.path.clone()]).collect(),
        ranges,
        designs,
        capacity,
        claims,
        tornado,
        ranking,
        invalid: Vec::new(),
    }
}

/// The range with the largest first-order index on `y` (one per design),
/// if any explains some of it.
fn strongest(designs: &[DesignRun], ranges: &[ParamRange], y: &[f64]) -> Option<usize> {
    (0..ranges.len())
        .map(|r| {
            let x: Vec<f64> = designs.iter().map(|d| d.values[r]).collect();
            (r, first_order(&x, y))
        })
        .filter(|(_, s)| *s > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(r, _)| r)
}

/// Quantile `q` of sorted `xs` (linear between order statistics, as
/// spreadsheets' PERCENTILE does); NaN when empty.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    match xs.len() {
        0 => f64::NAN,
        1 => xs[0],
        n => {
            let h = q * (n - 1) as f64;
            let i = h.floor() as usize;
            let j = (i + 1).min(n - 1);
            xs[i] + (h - i as f64) * (xs[j] - xs[i])
        }
    }
}

/// The exact (Clopper–Pearson) 95% interval of a binomial proportion:
/// `k` successes in `n` trials. (NaN, NaN) when n is 0.
pub fn clopper_pearson(k: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let (k, n) = (f64::from(k), f64::from(n));
    let beta = |a: f64, b: f64, p: f64| Beta::new(a, b).map_or(f64::NAN, |d| d.inverse_cdf(p));
    let lo = if k == 0.0 {
        0.0
    } else {
        beta(k, n - k + 1.0, 0.025)
    };
    let hi = if k == n {
        1.0
    } else {
        beta(k + 1.0, n - k, 0.975)
    };
    (lo, hi)
}

/// First-order index of `y` on `x`: the share of y's variance explained by
/// which stratum of x a design lies in (√n equal-count strata by x's rank,
/// at least 2). Pairs with a non-finite y are left out; 0 when y does not
/// vary.
pub fn first_order(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(_, y)| y.is_finite())
        .map(|(&a, &b)| (a, b))
        .collect();
    let n = pairs.len();
    if n < 4 {
        return 0.0;
    }
    let mean = pairs.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let total: f64 = pairs.iter().map(|p| (p.1 - mean).powi(2)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let strata = ((n as f64).sqrt().floor() as usize).max(2);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| pairs[a].0.total_cmp(&pairs[b].0).then(a.cmp(&b)));
    let mut sum = vec![0.0; strata];
    let mut count = vec![0usize; strata];
    for (rank, &i) in order.iter().enumerate() {
        let s = rank * strata / n;
        sum[s] += pairs[i].1;
        count[s] += 1;
    }
    let between: f64 = sum
        .iter()
        .zip(&count)
        .filter(|(_, &c)| c > 0)
        .map(|(&s, &c)| c as f64 * (s / c as f64 - mean).powi(2))
        .sum();
    (between / total).clamp(0.0, 1.0)
}

/// Spearman's rank correlation of `x` and `y` (pairs with a non-finite y
/// left out; ties get their mean rank); NaN when either does not vary.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (xs, ys): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(_, y)| y.is_finite())
        .map(|(&a, &b)| (a, b))
        .unzip();
    let (rx, ry) = (ranks(&xs), ranks(&ys));
    pearson(&rx, &ry)
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            r[k] = mean_rank;
        }
        i = j + 1;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 {
        f64::NAN
    } else {
        cov / (va * vb).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_matches_its_definition() {
        // The lower end p solves P(X ≥ k | n, p) = 0.025.
        let (n, k) = (32u32, 10u32);
        let (lo, hi) = clopper_pearson(k, n);
        let tail_at_least = |p: f64| -> f64 {
            (k..=n)
                .map(|i| {
                    let c: f64 = (0..i)
                        .map(|j| f64::from(n - j) / f64::from(j + 1))
                        .product();
                    c * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32)
                })
                .sum()
        };
        assert!((tail_at_least(lo) - 0.025).abs() < 1e-6, "{lo}");
        let tail_at_most = |p: f64| {
            1.0 - tail_at_least(p) + {
                let c: f64 = (0..k)
                    .map(|j| f64::from(n - j) / f64::from(j + 1))
                    .product();
                c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
            }
        };
        assert!((tail_at_most(hi) - 0.025).abs() < 1e-6, "{hi}");
        assert_eq!(clopper_pearson(0, 10).0, 0.0);
        assert_eq!(clopper_pearson(10, 10).1, 1.0);
        // k = n: lower end is 0.025^(1/n).
        assert!((clopper_pearson(10, 10).0 - 0.025f64.powf(0.1)).abs() < 1e-9);
    }

    #[test]
    fn the_first_order_index_sees_the_range_that_moves_y() {
        let n = 36;
        let x1: Vec<f64> = (0..n).map(|i| i as f64).collect();
        // x2 is x1 reshuffled: unrelated to y.
        let x2: Vec<f64> = (0..n).map(|i| ((i * 7) % n) as f64).collect();
        let y: Vec<f64> = x1.iter().map(|x| 3.0 * x + 1.0).collect();
        let s1 = first_order(&x1, &y);
        let s2 = first_order(&x2, &y);
        assert!(s1 > 0.9, "{s1}");
        assert!(s2 < 0.2, "{s2}");
        assert!((spearman(&x1, &y) - 1.0).abs() < 1e-12);
        assert_eq!(first_order(&x1, &[5.0; 36]), 0.0);
    }

    #[test]
    fn quantiles_interpolate() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&xs, 0.5), 3.0);
        assert_eq!(quantile(&xs, 0.05), 1.2);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
