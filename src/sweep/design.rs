//! The designs of an uncertainty study: a Latin hypercube over the
//! scenario's ranges, seeded from the sweep's seed.
//!
//! Each of the `n` designs takes, in every range, a different one of `n`
//! equal-probability strata (a random permutation per range) and a uniform
//! point inside it: every range is covered evenly even by few designs,
//! which plain random sampling does not promise. The values are the
//! strata's quantiles of each range's spread
//! ([`crate::scenario::ParamRange::quantile`]); ranges that share a name are
//! one parameter and take the same quantile.

use crate::scenario::Uncertainty;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `n` points of a Latin hypercube in `dims` dimensions: each a quantile
/// (0–1) per dimension, design-major. The same (seed, n, dims) always give
/// the same points.
pub fn latin_hypercube(seed: u64, n: u32, dims: usize) -> Vec<Vec<f64>> {
    let n = n as usize;
    // A stream of its own: the runs' streams derive from the same seed.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x6c68_735f_6465_7369); // "lhs_desi"
    let mut designs = vec![Vec::with_capacity(dims); n];
    for _ in 0..dims {
        let mut strata: Vec<usize> = (0..n).collect();
        // Fisher–Yates, by hand so the order is fixed by this code alone.
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            strata.swap(i, j);
        }
        for (d, &s) in designs.iter_mut().zip(&strata) {
            d.push((s as f64 + rng.random::<f64>()) / n as f64);
        }
    }
    designs
}

/// `n` designs over the scenario's ranges: one value per range each (in
/// [`Uncertainty::ranges`] order), a Latin hypercube over its parameters.
pub fn designs(seed: u64, n: u32, u: &Uncertainty) -> Vec<Vec<f64>> {
    let params = u.params();
    latin_hypercube(seed, n, params.len())
        .into_iter()
        .map(|q| {
            let mut values = vec![0.0; u.ranges.len()];
            for (k, members) in params.iter().enumerate() {
                for &i in members {
                    values[i] = u.ranges[i].quantile(q[k]);
                }
            }
            values
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn ranges() -> Uncertainty {
        let text = r#"
[workload]
think_time = { dist = "exponential", mean_s = { low = 10, high = 60 } }
[[workload.request]]
name = "r"
weight = 1
app_cpu = { dist = "exponential", mean_ms = { low = 1.0, high = 100.0, scale = "log" } }
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
"#;
        parse(Path::new("t.toml"), text).unwrap().uncertainty
    }

    #[test]
    fn every_stratum_of_every_range_is_taken_once() {
        let rs = ranges();
        assert_eq!(rs.ranges.len(), 2);
        let n = 16;
        let d = designs(7, n, &rs);
        assert_eq!(d.len(), n as usize);
        // Think time is uniform 10–60: stratum k is [10 + 50k/n, 10 + 50(k+1)/n).
        let mut seen: Vec<usize> = d
            .iter()
            .map(|v| ((v[0] - 10.0) / 50.0 * n as f64).floor() as usize)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n as usize).collect::<Vec<_>>());
        // Log-uniform 1–100: strata in the logarithm.
        let mut seen: Vec<usize> = d
            .iter()
            .map(|v| (v[1].log10() / 2.0 * n as f64).floor() as usize)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n as usize).collect::<Vec<_>>());
        assert_eq!(d, designs(7, n, &rs), "not reproducible");
        assert_ne!(d, designs(8, n, &rs), "ignores the seed");
    }
}
