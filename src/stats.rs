//! Statistics across independent replications: Student-t confidence
//! intervals, and MSER-5 warm-up detection on a run's batch means.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Confidence level of every interval capsim reports.
pub const CONFIDENCE: f64 = 0.95;

/// A mean over independent replications with its 95% confidence half-width.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// Mean of the replications' values, in the unit of the quantity; NaN
    /// when none gave a value.
    pub mean: f64,
    /// Half-width of the 95% Student-t interval; NaN with fewer than two values.
    pub half_width: f64,
    /// Replications that gave a value (NaNs are left out).
    pub n: usize,
}

impl Estimate {
    /// Nothing measured: no replication gave a value (mean and half-width
    /// NaN, `n` 0).
    pub const NONE: Estimate = Estimate {
        mean: f64::NAN,
        half_width: f64::NAN,
        n: 0,
    };

    /// Half-width relative to the mean (∞ when it cannot be judged).
    pub fn relative_half_width(&self) -> f64 {
        if self.n < 2 || !self.half_width.is_finite() {
            f64::INFINITY
        } else if self.mean.abs() > 0.0 {
            self.half_width / self.mean.abs()
        } else if self.half_width == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    }

    /// The 95% interval as (low, high); a single replication's interval is
    /// the mean itself (its half-width is undefined).
    pub fn interval(&self) -> (f64, f64) {
        let h = if self.half_width.is_finite() {
            self.half_width
        } else {
            0.0
        };
        (self.mean - h, self.mean + h)
    }

    /// Whether the 95% interval contains `x`.
    pub fn covers(&self, x: f64) -> bool {
        (self.mean - x).abs() <= self.half_width
    }
}

/// Two-sided Student-t quantile for `CONFIDENCE` with `df` degrees of freedom.
pub fn t_quantile(df: usize) -> f64 {
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(0.5 + CONFIDENCE / 2.0),
        Err(_) => f64::NAN,
    }
}

/// Mean and 95% Student-t half-width of independent observations. Values
/// that are not finite (a replication that measured nothing) are left out.
pub fn estimate(values: impl IntoIterator<Item = f64>) -> Estimate {
    let xs: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    let n = xs.len();
    if n == 0 {
        return Estimate::NONE;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            mean,
            half_width: f64::NAN,
            n,
        };
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    Estimate {
        mean,
        half_width: t_quantile(n - 1) * (var / n as f64).sqrt(),
        n,
    }
}

/// Observations per batch in MSER-5.
pub const MSER_BATCH: u32 = 5;

/// Where MSER puts the end of the warm-up in a series of batch means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Batches to discard.
    pub batches: usize,
    /// Batches in the series.
    pub of: usize,
}

impl Truncation {
    /// MSER's own verdict that the series has not settled: the best
    /// truncation point is in the last part of the searched half, so the run
    /// is too short (or the system has no steady state) to tell warm-up from
    /// trend. The usual rule (White 1997; Hoad et al. 2010) rejects
    /// truncations beyond half the series; we also reject the last tenth of
    /// that half, where the minimum is pinned at the boundary.
    pub fn settled(&self) -> bool {
        self.of >= 10 && self.batches * 20 < self.of * 9
    }
}

/// MSER (White's Marginal Standard Error Rule) on batch means: the truncation
/// d in [0, n/2] that minimises the squared standard error of the mean of
/// what is kept, Σ_{i≥d}(Y_i − Ȳ_d)² / (n − d)². With batches of five
/// observations this is MSER-5.
pub fn mser(batch_means: &[f64]) -> Truncation {
    let n = batch_means.len();
    if n < 2 {
        return Truncation { batches: 0, of: n };
    }
    // Suffix sums of Y and Y², from the end, in one pass.
    let mut best = (f64::INFINITY, 0usize);
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    let mut stat = vec![f64::INFINITY; n];
    for d in (0..n).rev() {
        let y = batch_means[d];
        s += y;
        s2 += y * y;
        let k = (n - d) as f64;
        // Σ(Y − Ȳ)² = ΣY² − (ΣY)²/k, clamped against rounding below zero.
        stat[d] = (s2 - s * s / k).max(0.0) / (k * k);
    }
    for (d, &m) in stat.iter().enumerate().take(n / 2 + 1) {
        // Strict: ties keep the earliest (shortest) truncation.
        if m < best.0 {
            best = (m, d);
        }
    }
    Truncation {
        batches: best.1,
        of: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_the_textbook() {
        // 1, 2, 3, 4, 5: mean 3, s = √2.5, t(0.975, 4) = 2.7764451…
        let e = estimate([1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.n, 5);
        assert!((e.mean - 3.0).abs() < 1e-12);
        let expect = 2.776_445_105_197_793 * (2.5f64 / 5.0).sqrt();
        assert!((e.half_width - expect).abs() < 1e-9, "{}", e.half_width);
        let one = estimate([7.0, f64::NAN]);
        assert_eq!(one.n, 1);
        assert!(one.half_width.is_nan());
        assert_eq!(estimate([]).n, 0);
    }

    #[test]
    fn mser_cuts_an_initial_transient_and_keeps_a_flat_series() {
        // A deterministic, mean-zero wiggle around 10, after 200 batches that
        // climb from 0: the cut must land at the end of the climb.
        let wiggle = |i: usize| ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        let mut y: Vec<f64> = (0..200).map(|i| i as f64 / 20.0).collect();
        y.extend((0..1800).map(|i| 10.0 + wiggle(i)));
        let t = mser(&y);
        assert!((150..=220).contains(&t.batches), "{t:?}");
        assert!(t.settled());
        let flat: Vec<f64> = (0..2000).map(|i| 10.0 + wiggle(i)).collect();
        let t = mser(&flat);
        assert!(t.settled(), "{t:?}");
        assert!(t.batches < 100, "{t:?}");
    }

    #[test]
    fn mser_says_a_growing_series_has_not_settled() {
        let y: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert!(!mser(&y).settled());
    }
}
