//! The designs of an uncertainty study: a Latin hypercube over the
//! scenario's ranges, seeded from the sweep's seed.
//!
//! Each of the `n` designs takes, in every range, a different one of `n`
//! equal-probability strata (a random permutation per range) and a uniform
//! point inside it: every range is covered evenly even by few designs,
//! which plain random sampling does not promise. The values are the
//! strata's quantiles of each range's spread
//! ([`crate::scenario::ParamRange::quantile`]).

use crate::scenario::ParamRange;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `n` designs over `ranges`: one value per range each, design-major. The
/// same (seed, n, ranges) always give the same designs.
pub fn latin_hypercube(seed: u64, n: u32, ranges: &[ParamRange]) -> Vec<Vec<f64>> {
    let n = n as usize;
    // A stream of its own: the runs' streams derive from the same seed.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x6c68_735f_6465_7369); // "lhs_desi"
    let mut designs = vec![Vec::with_capacity(ranges.len()); n];
    for r in ranges {
        let mut strata: Vec<usize> = (0..n).collect();
        // Fisher–Yates, by hand so the order is fixed by this code alone.
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            strata.swap(i, j);
        }
        for (d, &s) in designs.iter_mut().zip(&strata) {
            let u = (s as f64 + rng.random::<f64>()) / n as f64;
            d.push(r.quantile(u));
        }
    }
    designs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;
    use std::path::Path;

    fn ranges() -> Vec<ParamRange> {
        let text = r#"
[workload]
think_time = { dist = "exponential", mean_s = { low = 10, high = 60 } }
[[workload.request]]
name = "r"
weight = 1
app_cpu = { dist = "exponential", mean_ms = { low = 1.0, high = 100.0, scale = "log" } }
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 2 }
"#;
        parse(Path::new("t.toml"), text).unwrap().uncertainty.ranges
    }

    #[test]
    fn every_stratum_of_every_range_is_taken_once() {
        let rs = ranges();
        assert_eq!(rs.len(), 2);
        let n = 16;
        let d = latin_hypercube(7, n, &rs);
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
        assert_eq!(d, latin_hypercube(7, n, &rs), "not reproducible");
        assert_ne!(d, latin_hypercube(8, n, &rs), "ignores the seed");
    }
}
