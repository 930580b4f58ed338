//! Gunther's Universal Scalability Law, X(N) = λN / (1 + σ(N − 1) +
//! κN(N − 1)), fitted by least squares on relative throughput errors: the
//! familiar cross-check beside the queueing model, with its peak
//! N* = √((1 − σ) / κ) and X(N*).

use super::lm::{self, Fit};

/// A fitted USL curve.
#[derive(Clone, Debug)]
pub struct Usl {
    /// λ: throughput of one user, requests per second.
    pub lambda: f64,
    /// σ: contention (serial fraction), 0–1.
    pub sigma: f64,
    /// κ: coherency (crosstalk), ≥ 0.
    pub kappa: f64,
    /// 95% half-widths of (λ, σ, κ), delta method.
    pub half_width: [f64; 3],
}

impl Usl {
    /// Throughput at `n` users.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }

    /// The peak N* = √((1 − σ) / κ) (infinite when κ = 0).
    pub fn peak_users(&self) -> f64 {
        if self.kappa <= 0.0 {
            f64::INFINITY
        } else {
            ((1.0 - self.sigma).max(0.0) / self.kappa).sqrt()
        }
    }

    /// X(N*), or λ/σ (the asymptote) when κ = 0.
    pub fn peak_throughput(&self) -> f64 {
        let n = self.peak_users();
        if n.is_finite() {
            self.throughput(n)
        } else if self.sigma > 0.0 {
            self.lambda / self.sigma
        } else {
            f64::INFINITY
        }
    }
}

/// Fit the USL to (users, throughput) points; several starts, the best kept.
pub fn fit(points: &[(f64, f64)]) -> Option<Usl> {
    if points.len() < 2 {
        return None;
    }
    let (n0, x0) = points.iter().copied().min_by(|a, b| a.0.total_cmp(&b.0))?;
    let lambda0 = x0 / n0;
    let residuals = |p: &[f64]| -> Vec<f64> {
        points
            .iter()
            .map(|&(n, x)| {
                let u = Usl {
                    lambda: p[0],
                    sigma: p[1],
                    kappa: p[2],
                    half_width: [0.0; 3],
                };
                u.throughput(n) / x - 1.0
            })
            .collect()
    };
    let clamp = |p: &mut [f64]| {
        p[0] = p[0].max(1e-12);
        p[1] = p[1].clamp(0.0, 1.0);
        p[2] = p[2].max(0.0);
    };
    let mut best: Option<Fit> = None;
    for sigma in [0.0, 0.05, 0.3] {
        for kappa in [0.0, 1e-5, 1e-3, 1e-2] {
            let f = lm::minimise(&residuals, &[lambda0, sigma, kappa], &clamp);
            if best.as_ref().is_none_or(|b| f.rss < b.rss) {
                best = Some(f);
            }
        }
    }
    let f = best?;
    Some(Usl {
        lambda: f.params[0],
        sigma: f.params[1],
        kappa: f.params[2],
        half_width: [f.half_width[0], f.half_width[1], f.half_width[2]],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_parameters_of_an_exact_curve_and_its_peak() {
        let truth = Usl {
            lambda: 250.0,
            sigma: 0.04,
            kappa: 0.0008,
            half_width: [0.0; 3],
        };
        let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
            .iter()
            .map(|&n| (n, truth.throughput(n)))
            .collect();
        let u = fit(&pts).unwrap();
        assert!((u.lambda / 250.0 - 1.0).abs() < 1e-4, "{u:?}");
        assert!((u.sigma - 0.04).abs() < 1e-5, "{u:?}");
        assert!((u.kappa / 0.0008 - 1.0).abs() < 1e-3, "{u:?}");
        let n_star = (0.96f64 / 0.0008).sqrt();
        assert!((u.peak_users() / n_star - 1.0).abs() < 1e-3);
        assert!((u.peak_throughput() / truth.throughput(n_star) - 1.0).abs() < 1e-4);
    }
}
