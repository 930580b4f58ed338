//! Drawing the key (row, cache entry) a request touches, with Zipf popularity.
//!
//! `rand_distr::Zipf` samples by rejection-inversion: two or three `powf`
//! calls per draw, which perf showed as 17% of a guide's sweep (every request
//! draws a key). For key spaces up to [`TABLE_MAX_KEYS`] an alias table
//! (Vose's method) is built once per compiled phase and shared by all its
//! runs: a draw is then two random numbers and one 8-byte table read.
//! Larger key spaces, where the table would cost more memory than it saves
//! time, keep rejection-inversion.

use rand::Rng;
use rand_distr::{Distribution, Zipf};
use std::fmt;
use std::sync::Arc;

/// The rows (or cache keys) requests touch, and how popular each is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    /// Number of distinct keys.
    pub count: u32,
    /// Zipf exponent: key of rank k is drawn with probability ∝ 1/k^s
    /// (0 = uniform). Key 0 is the most popular.
    pub zipf: f64,
}

/// Largest key space drawn from an alias table (8 bytes a key: 8 MiB).
pub const TABLE_MAX_KEYS: u32 = 1 << 20;

/// A key space and the sampler of its keys. Key 0 is the most popular.
#[derive(Clone)]
pub struct KeyPopularity {
    /// The keys drawn from: how many, and how skewed.
    pub space: KeySpace,
    sampler: Sampler,
}

#[derive(Clone)]
enum Sampler {
    Table(Arc<[Slot]>),
    Zipf(Zipf<f64>),
}

/// One alias-table column: key `i` is drawn with probability
/// `threshold / 2^32`, else `alias` is.
#[derive(Clone, Copy)]
struct Slot {
    threshold: u32,
    alias: u32,
}

impl KeyPopularity {
    /// The space must be valid (count ≥ 1, exponent finite and ≥ 0): the
    /// scenario loader checks it.
    pub fn new(space: KeySpace) -> Self {
        let sampler = if space.count <= TABLE_MAX_KEYS {
            Sampler::Table(alias_table(space).into())
        } else {
            Sampler::Zipf(
                Zipf::new(space.count as f64, space.zipf)
                    .expect("key space validated by the loader"),
            )
        };
        KeyPopularity { space, sampler }
    }

    /// Number of distinct keys; draws fall in `0..count`.
    pub fn count(&self) -> u32 {
        self.space.count
    }

    /// A key in `0..count`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        match &self.sampler {
            Sampler::Table(slots) => {
                let i = rng.random_range(0..slots.len());
                let s = slots[i];
                if rng.random::<u32>() < s.threshold {
                    i as u32
                } else {
                    s.alias
                }
            }
            Sampler::Zipf(z) => (z.sample(rng) as u32).saturating_sub(1),
        }
    }
}

impl fmt::Debug for KeyPopularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.sampler {
            Sampler::Table(_) => "alias table",
            Sampler::Zipf(_) => "rejection-inversion",
        };
        f.debug_struct("KeyPopularity")
            .field("space", &self.space)
            .field("sampler", &how)
            .finish()
    }
}

impl PartialEq for KeyPopularity {
    fn eq(&self, other: &Self) -> bool {
        self.space == other.space
    }
}

/// Vose's alias method over weights (k + 1)^-s, k = 0..n.
fn alias_table(space: KeySpace) -> Vec<Slot> {
    let n = space.count as usize;
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-space.zipf)).collect();
    let total: f64 = weights.iter().sum();
    // Scaled so that the mean column holds exactly 1.
    let mut q: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
    let mut slots: Vec<Slot> = (0..n as u32)
        .map(|i| Slot {
            threshold: u32::MAX,
            alias: i,
        })
        .collect();
    let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| q[i] < 1.0);
    while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
        small.pop();
        slots[s] = Slot {
            threshold: to_threshold(q[s]),
            alias: l as u32,
        };
        q[l] -= 1.0 - q[s];
        if q[l] < 1.0 {
            large.pop();
            small.push(l);
        }
    }
    // What is left holds 1 up to rounding: it keeps its own key (alias = i,
    // so either branch draws it).
    slots
}

/// Probability `p` in [0, 1] as a threshold on a uniform `u32`.
fn to_threshold(p: f64) -> u32 {
    (p.clamp(0.0, 1.0) * 4_294_967_296.0).min(u32::MAX as f64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The probability the table gives each key, computed from the table.
    fn table_probabilities(kp: &KeyPopularity) -> Vec<f64> {
        let Sampler::Table(slots) = &kp.sampler else {
            panic!("expected a table")
        };
        let n = slots.len() as f64;
        let mut p = vec![0.0; slots.len()];
        for (i, s) in slots.iter().enumerate() {
            let keep = s.threshold as f64 / 4_294_967_296.0;
            p[i] += keep / n;
            p[s.alias as usize] += (1.0 - keep) / n;
        }
        p
    }

    #[test]
    fn the_table_holds_the_zipf_probabilities_exactly() {
        for (count, zipf) in [(1, 1.0), (7, 0.0), (1000, 0.8), (20_000, 1.2), (3, 10.0)] {
            let kp = KeyPopularity::new(KeySpace { count, zipf });
            let h: f64 = (1..=count).map(|k| (k as f64).powf(-zipf)).sum();
            for (i, p) in table_probabilities(&kp).iter().enumerate() {
                let exact = ((i + 1) as f64).powf(-zipf) / h;
                // Thresholds are quantised to 2^-32 of a column.
                assert!(
                    (p - exact).abs() < 1e-9 + 1e-9 * exact,
                    "count {count} s {zipf} key {i}: {p} vs {exact}"
                );
            }
        }
    }

    /// Draws agree with the exact law, and with rejection-inversion's.
    #[test]
    fn draws_follow_zipf() {
        let space = KeySpace {
            count: 100,
            zipf: 0.9,
        };
        let kp = KeyPopularity::new(space);
        let h: f64 = (1..=100).map(|k| (k as f64).powf(-0.9)).sum();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 1_000_000;
        let mut counts = [0u32; 100];
        for _ in 0..n {
            counts[kp.sample(&mut rng) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let p = ((i + 1) as f64).powf(-0.9) / h;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - n as f64 * p).abs() < 5.0 * sd,
                "key {i}: {c} vs {}",
                n as f64 * p
            );
        }
    }

    #[test]
    fn huge_key_spaces_keep_rejection_inversion() {
        let kp = KeyPopularity::new(KeySpace {
            count: TABLE_MAX_KEYS + 1,
            zipf: 1.0,
        });
        assert!(matches!(kp.sampler, Sampler::Zipf(_)));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for _ in 0..1000 {
            assert!(kp.sample(&mut rng) <= TABLE_MAX_KEYS);
        }
    }
}
