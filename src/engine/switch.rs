//! Choosing among targets at run time: hash sharding by key, round robin.

/// The shard (0..n) that owns `key` under hash partitioning.
///
/// A fixed integer mix (SplitMix64's finaliser) rather than `key % n`: with
/// Zipf popularity the hottest keys are 0, 1, 2…, and `key % n` would deal
/// them out to the shards in turn, a pattern no real hash has. Public so that
/// tests can compute the load each shard should receive.
#[inline]
pub fn shard_of(key: u32, n: u32) -> u32 {
    if n <= 1 {
        return 0;
    }
    let mut z = (key as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Multiply-shift maps the 64-bit hash onto 0..n without modulo bias worth
    // mentioning.
    (((z >> 32) * n as u64) >> 32) as u32
}

/// Take the next value of a round-robin counter over `n` targets.
#[inline]
pub(super) fn round_robin(counter: &mut u32, n: u32) -> u32 {
    let v = if *counter >= n { 0 } else { *counter };
    *counter = if v + 1 >= n { 0 } else { v + 1 };
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_shards_cover_every_shard_about_evenly() {
        let n = 7;
        let mut count = [0u32; 7];
        for k in 0..70_000 {
            let s = shard_of(k, n);
            assert!(s < n);
            count[s as usize] += 1;
        }
        // 10,000 expected per shard; binomial sd ≈ 93, so ±500 is > 5 sd.
        assert!(
            count.iter().all(|&c| (9_500..=10_500).contains(&c)),
            "{count:?}"
        );
        assert_eq!(shard_of(12345, 1), 0);
    }

    #[test]
    fn round_robin_visits_targets_in_turn() {
        let mut c = 0;
        let seq: Vec<u32> = (0..7).map(|_| round_robin(&mut c, 3)).collect();
        assert_eq!(seq, vec![0, 1, 2, 0, 1, 2, 0]);
    }
}
