//! Service-demand and think-time distributions.
//!
//! A `Dist` is a small `Copy` enum so that plans can store it inline and the
//! engine samples it with a `match` — static dispatch, no boxing on the hot path.
//! Every distribution is specified by its mean (what guides and measurements
//! give) plus, where needed, its coefficient of variation.

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// Nanoseconds per second: simulated time is an integer count of nanoseconds.
pub const NS_PER_S: f64 = 1e9;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: f64 = 1e6;

/// A non-negative random duration, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    /// Always the same value.
    Constant {
        /// The value, in ns.
        ns: f64,
    },
    /// Exponential with the given mean (coefficient of variation 1).
    Exponential {
        /// The mean, in ns.
        mean_ns: f64,
    },
    /// Lognormal with parameters of the underlying normal.
    LogNormal {
        /// Mean of ln(duration in ns).
        mu: f64,
        /// Standard deviation of ln(duration in ns).
        sigma: f64,
    },
    /// Gamma with shape `k` and scale `theta` (mean k·θ, cv 1/√k).
    Gamma {
        /// Shape k, dimensionless.
        shape: f64,
        /// Scale θ, in ns.
        scale_ns: f64,
    },
    /// Uniform on [lo, hi].
    Uniform {
        /// Lower end, in ns.
        lo_ns: f64,
        /// Upper end, in ns.
        hi_ns: f64,
    },
}

impl Dist {
    /// Lognormal with a given mean and coefficient of variation.
    pub fn lognormal(mean_ns: f64, cv: f64) -> Dist {
        let sigma2 = (1.0 + cv * cv).ln();
        Dist::LogNormal {
            mu: mean_ns.ln() - sigma2 / 2.0,
            sigma: sigma2.sqrt(),
        }
    }

    /// Gamma with a given mean and coefficient of variation.
    pub fn gamma(mean_ns: f64, cv: f64) -> Dist {
        let shape = 1.0 / (cv * cv);
        Dist::Gamma {
            shape,
            scale_ns: mean_ns / shape,
        }
    }

    /// The same distribution with every draw multiplied by `f`: same shape
    /// and coefficient of variation, mean × f.
    pub fn scaled(self, f: f64) -> Dist {
        match self {
            Dist::Constant { ns } => Dist::Constant { ns: ns * f },
            Dist::Exponential { mean_ns } => Dist::Exponential {
                mean_ns: mean_ns * f,
            },
            Dist::LogNormal { mu, sigma } => Dist::LogNormal {
                mu: mu + f.ln(),
                sigma,
            },
            Dist::Gamma { shape, scale_ns } => Dist::Gamma {
                shape,
                scale_ns: scale_ns * f,
            },
            Dist::Uniform { lo_ns, hi_ns } => Dist::Uniform {
                lo_ns: lo_ns * f,
                hi_ns: hi_ns * f,
            },
        }
    }

    /// The mean, in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Dist::Constant { ns } => ns,
            Dist::Exponential { mean_ns } => mean_ns,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale_ns } => shape * scale_ns,
            Dist::Uniform { lo_ns, hi_ns } => (lo_ns + hi_ns) / 2.0,
        }
    }

    /// The second moment E\[X²\], in ns² (used by Pollaczek–Khinchine and by tests).
    pub fn second_moment_ns2(&self) -> f64 {
        let m = self.mean_ns();
        match *self {
            Dist::Constant { ns } => ns * ns,
            Dist::Exponential { mean_ns } => 2.0 * mean_ns * mean_ns,
            Dist::LogNormal { mu, sigma } => (2.0 * mu + 2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, scale_ns } => shape * (shape + 1.0) * scale_ns * scale_ns,
            Dist::Uniform { lo_ns, hi_ns } => m * m + (hi_ns - lo_ns).powi(2) / 12.0,
        }
    }

    /// Coefficient of variation (standard deviation over mean).
    pub fn cv(&self) -> f64 {
        let m = self.mean_ns();
        if m <= 0.0 {
            return 0.0;
        }
        ((self.second_moment_ns2() - m * m).max(0.0)).sqrt() / m
    }

    /// Draw one value in nanoseconds, rounded to the integer clock.
    ///
    /// Rounding half up keeps the sampled mean unbiased to within 0.5 ns.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        let x = match *self {
            Dist::Constant { ns } => ns,
            Dist::Exponential { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                e * mean_ns
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { shape, scale_ns } => sample_gamma(rng, shape) * scale_ns,
            Dist::Uniform { lo_ns, hi_ns } => lo_ns + (hi_ns - lo_ns) * rng.random::<f64>(),
        };
        // `as` saturates: an absurd draw becomes u64::MAX / 4 below, never wraps.
        (x + 0.5).min((u64::MAX / 4) as f64) as u64
    }
}

/// Marsaglia–Tsang gamma sampler with unit scale.
///
/// Written here rather than taken from `rand_distr::Gamma` because that type
/// validates its parameters on construction and is not `Copy`; this keeps
/// `Dist` a plain value that plans store inline.
#[inline]
fn sample_gamma<R: Rng + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if shape < 1.0 {
        // Boost: G(k) = G(k+1) · U^(1/k).
        let u: f64 = rng.random::<f64>();
        return sample_gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z: f64 = StandardNormal.sample(rng);
        let v = 1.0 + c * z;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u: f64 = rng.random::<f64>();
        if u < 1.0 - 0.0331 * z.powi(4) || u.ln() < 0.5 * z * z + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn moments(d: Dist, n: usize) -> (f64, f64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng) as f64;
            s += x;
            s2 += x * x;
        }
        let m = s / n as f64;
        (m, (s2 / n as f64 - m * m).sqrt() / m)
    }

    #[test]
    fn sampled_means_and_cvs_match_the_specification() {
        let cases = [
            (Dist::Constant { ns: 5e6 }, 0.0),
            (Dist::Exponential { mean_ns: 5e6 }, 1.0),
            (Dist::lognormal(5e6, 1.5), 1.5),
            (Dist::gamma(5e6, 0.5), 0.5),
            (Dist::gamma(5e6, 2.0), 2.0),
            (
                Dist::Uniform {
                    lo_ns: 2e6,
                    hi_ns: 8e6,
                },
                (6e6f64 / 12f64.sqrt()) / 5e6,
            ),
        ];
        for (d, cv) in cases {
            assert!((d.mean_ns() - 5e6).abs() < 1.0, "{d:?}");
            assert!((d.cv() - cv).abs() < 1e-9, "{d:?}: cv {} vs {cv}", d.cv());
            let (m, c) = moments(d, 400_000);
            assert!((m / 5e6 - 1.0).abs() < 0.015, "{d:?}: mean {m}");
            assert!((c - cv).abs() < 0.05 * cv.max(0.2), "{d:?}: cv {c} vs {cv}");
        }
    }
}
