//! The scaling tier's mechanisms, each pinned against an exact or classical
//! result computed here: replication lag (Pollaczek–Khinchine, and unbounded
//! growth past replay capacity), stale reads, fixed and emergent cache hit
//! ratios (Che's approximation for LRU, λT/(1+λT) for TTL), replica and shard
//! load, and async app servers.

use crate::helpers::{confidence_interval, parse};
use capsim::arch::compile;
use capsim::engine::{self, shard_of, stats::RunStats, RunConfig};
use capsim::model::Model;

/// The one phase of scenario text, compiled and valid.
fn model(toml: &str) -> Model {
    let sc = parse("test.toml", toml);
    assert_eq!(sc.phases.len(), 1);
    let m = compile(&sc.workload, &sc.phases[0]);
    assert_eq!(m.validate(), Ok(()));
    m
}

fn run(m: &Model, users: u32, seed: u64, warmup: u64, measured: u64) -> RunStats {
    let cfg = RunConfig {
        warmup_requests: warmup,
        measured_requests: measured,
        ..RunConfig::new(users, seed)
    };
    let s = engine::run(m, &cfg);
    assert_eq!(s.stop, engine::stats::StopReason::Target);
    s
}

/// Zipf probabilities of keys 0..n (rank k+1 has weight 1/(k+1)^s).
fn zipf(n: u32, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|x| x / total).collect()
}

/// Writes only, Poisson at `rate`/s; a lightly loaded primary (PS stations
/// are quasi-reversible, so commits leave as a Poisson stream) and replay of
/// constant `replay_ms` per write after `ship_ms`.
fn replication_scenario(rate: f64, replay_ms: f64, ship_ms: f64) -> String {
    format!(
        r#"
[workload]
arrival_rate_per_s = {rate}
[[workload.request]]
name = "write"
weight = 1.0
kind = "write"
db = {{ dist = "exponential", mean_ms = 1 }}
[[phase]]
name = "P"
app = {{ hosts = 1, cores_per_host = 1, workers_per_host = 100000 }}
database = {{ cores = 64 }}
replicas = {{ count = 2, ship_delay_ms = {ship_ms}, replay = {{ dist = "constant", mean_ms = {replay_ms} }} }}
"#
    )
}

#[test]
fn replication_lag_below_replay_capacity_is_bounded_and_matches_pollaczek_khinchine() {
    let (rate, c, ship) = (100.0, 5.0, 2.0); // ρ = 0.5 on the replay server
    let m = model(&replication_scenario(rate, c, ship));
    let short = run(&m, 0, 1, 5_000, 100_000);
    let long = run(&m, 0, 2, 5_000, 200_000);
    // M/D/1: W = S + λS²/(2(1-ρ)); lag = ship delay + W.
    let rho = rate * c / 1e3;
    let expected_ms = ship + c + rate * (c / 1e3).powi(2) / (2.0 * (1.0 - rho)) * 1e3;
    for s in [&short, &long] {
        let mean = s.replication.lag_mean_ms();
        eprintln!(
            "lag ρ=0.5: mean {mean:.3} ms (M/D/1 {expected_ms:.3}), max {:.3}",
            s.replication.lag_max_ms()
        );
        assert!(
            (mean / expected_ms - 1.0).abs() < 0.03,
            "mean lag {mean} ms, M/D/1 says {expected_ms} ms"
        );
        assert_eq!(s.replication.shipped, s.completed);
    }
    // Doubling the run does not double the worst lag: it is bounded.
    let (a, b) = (
        short.replication.lag_max_ms(),
        long.replication.lag_max_ms(),
    );
    assert!(b < 1.5 * a, "max lag {a} ms then {b} ms");
    // Background replay is not a request: the population is the writes alone.
    assert!(short.mean_in_system < 1.0, "{}", short.mean_in_system);
}

#[test]
fn replication_lag_grows_without_bound_when_writes_outpace_replay() {
    let (rate, c) = (100.0, 15.0); // ρ = 1.5: replay falls 0.5 s behind per second
    let m = model(&replication_scenario(rate, c, 1.0));
    let short = run(&m, 0, 3, 1_000, 50_000);
    let long = run(&m, 0, 4, 1_000, 100_000);
    for s in [&short, &long] {
        // The last write waits for all the backlog: (ρ - 1)·t at time t.
        let t = s.warmup_s + s.window_s;
        let expected_ms = (rate * c / 1e3 - 1.0) * t * 1e3;
        let max = s.replication.lag_max_ms();
        eprintln!("lag ρ=1.5: max {max:.0} ms, (ρ-1)·t {expected_ms:.0} ms");
        assert!(
            (max / expected_ms - 1.0).abs() < 0.05,
            "max lag {max} ms, (ρ-1)·t = {expected_ms} ms"
        );
    }
    let ratio = long.replication.lag_quantile_ms(0.95) / short.replication.lag_quantile_ms(0.95);
    assert!((1.8..2.2).contains(&ratio), "p95 lag grew ×{ratio}");
    // The requests themselves are unaffected: replay is background work.
    assert!(long.mean_response_ms() < 2.0);
}

/// A user writes then reads the same key (one key), `think_s` apart.
fn stale_scenario(replay_ms: f64) -> String {
    format!(
        r#"
[workload]
think_time = {{ dist = "exponential", mean_s = 0.05 }}
keys = {{ count = 1 }}
[[workload.request]]
name = "read"
weight = 0.5
db = {{ dist = "exponential", mean_ms = 1 }}
[[workload.request]]
name = "write"
weight = 0.5
kind = "write"
db = {{ dist = "exponential", mean_ms = 1 }}
[[phase]]
name = "P"
app = {{ hosts = 1, cores_per_host = 4, workers_per_host = 1000 }}
database = {{ cores = 16 }}
replicas = {{ count = 2, ship_delay_ms = 1, replay = {{ dist = "constant", mean_ms = {replay_ms} }} }}
"#
    )
}

#[test]
fn reads_after_own_writes_are_stale_only_while_the_replicas_lag() {
    // 10 users, ~180 writes/s: replay of 0.01 ms keeps lag ≈ ship delay (1 ms),
    // far below the ~51 ms between a user's requests.
    let fast = run(&model(&stale_scenario(0.01)), 10, 5, 2_000, 40_000);
    let f = fast.replication.stale_read_fraction();
    // Stale only if the read follows its write within ~1 ms: P ≈ 1 - e^{-1/50}·…
    assert!(f < 0.03, "stale fraction {f} with ~1 ms lag");
    // Replay of 10 ms per write at ~180 writes/s: replicas fall ever further
    // behind, and nearly every read after a write is stale.
    let slow = run(&model(&stale_scenario(10.0)), 10, 5, 2_000, 40_000);
    let f = slow.replication.stale_read_fraction();
    assert!(f > 0.4, "stale fraction {f} with unbounded lag");
    // Every read goes to a replica: counted as it reaches one, completed a
    // moment later, so the two counts differ only by the reads in flight at
    // the window's two edges — at most one per user at each.
    let (reads, done) = (slow.replication.replica_reads, slow.per_type[0].completed);
    assert!(
        reads.abs_diff(done) <= 2 * 10,
        "{reads} replica reads, {done} reads completed"
    );
}

#[test]
fn reads_spread_evenly_over_replicas() {
    let m = model(
        r#"
[workload]
arrival_rate_per_s = 300
[[workload.request]]
name = "read"
weight = 0.9
db = { dist = "constant", mean_ms = 2 }
[[workload.request]]
name = "write"
weight = 0.1
kind = "write"
db = { dist = "constant", mean_ms = 2 }
[[phase]]
name = "P"
app = { hosts = 2, cores_per_host = 4, workers_per_host = 1000 }
database = { cores = 2 }
replicas = { count = 3, cores = 1 }
"#,
    );
    let s = run(&m, 0, 7, 5_000, 100_000);
    let busy = |name: &str| {
        let i = m.stations.iter().position(|st| st.name == name).unwrap();
        s.stations[i].mean_busy.unwrap()
    };
    let r: Vec<f64> = (0..3)
        .map(|k| busy(&format!("db.replica{k}.cpu")))
        .collect();
    // Each replica serves a third of the reads: λ·0.9/3·2 ms = 0.18.
    for &x in &r {
        assert!((x / 0.18 - 1.0).abs() < 0.03, "replica busy {r:?}");
    }
    // Round robin: equal to within the requests in flight at the window's edges.
    let (lo, hi) = r
        .iter()
        .fold((f64::MAX, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(hi / lo < 1.005, "uneven replicas {r:?}");
    // Only writes reach the primary: 0.1·300·2 ms = 0.06.
    assert!((busy("db.cpu") / 0.06 - 1.0).abs() < 0.05);
}

fn cache_scenario(rate: f64, keys: u32, s: f64, cache: &str) -> String {
    format!(
        r#"
[workload]
arrival_rate_per_s = {rate}
keys = {{ count = {keys}, zipf = {s} }}
[[workload.request]]
name = "read"
weight = 1.0
cacheable = true
db = {{ dist = "constant", mean_us = 1 }}
[[phase]]
name = "P"
app = {{ hosts = 1, cores_per_host = 4, workers_per_host = 100000 }}
database = {{ cores = 64 }}
cache = {{ {cache} }}
"#
    )
}

#[test]
fn a_fixed_hit_ratio_is_measured_within_its_confidence_interval() {
    let h = 0.8;
    let m = model(&cache_scenario(
        500.0,
        1,
        0.0,
        &format!("kind = \"redis\", hit_ratio = {h}"),
    ));
    let n = 10;
    let x: Vec<f64> = (0..n)
        .map(|i| run(&m, 0, 100 + i, 1_000, 20_000).cache_hit_ratio())
        .collect();
    // A 99% interval: t(0.995, n − 1) · sd / √n.
    let (mean, half) = confidence_interval(&x, 0.99);
    eprintln!("fixed: {mean:.5} ± {half:.5}");
    assert!(
        (mean - h).abs() <= half,
        "hit ratio {mean} ± {half}, want {h}"
    );
    // And the interval is tight enough to mean something.
    assert!(half < 0.01, "{half}");
}

#[test]
fn lru_hit_ratio_matches_the_che_approximation() {
    let (keys, s, capacity) = (20_000u32, 0.8, 1_000u32);
    let p = zipf(keys, s);
    // Che: the characteristic time T solves Σ (1 - e^{-p_k T}) = C.
    let filled = |t: f64| p.iter().map(|&q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < capacity as f64 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < capacity as f64 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    let che: f64 = p.iter().map(|&q| q * (1.0 - (-q * t).exp())).sum();
    let m = model(&cache_scenario(
        2_000.0,
        keys,
        s,
        &format!("kind = \"redis\", max_entries = {capacity}"),
    ));
    let measured = run(&m, 0, 11, 50_000, 400_000).cache_hit_ratio();
    eprintln!("LRU: measured {measured:.4}, Che {che:.4}");
    assert!(
        (measured / che - 1.0).abs() < 0.03,
        "LRU hit ratio {measured}, Che {che}"
    );
}

#[test]
fn ttl_hit_ratio_matches_lambda_t_over_one_plus_lambda_t_per_key() {
    let (rate, keys, s, ttl) = (1_000.0, 2_000u32, 0.9, 0.5);
    let expected: f64 = zipf(keys, s)
        .iter()
        .map(|&q| {
            let lt = rate * q * ttl;
            q * lt / (1.0 + lt)
        })
        .sum();
    let m = model(&cache_scenario(
        rate,
        keys,
        s,
        &format!("kind = \"redis\", ttl_s = {ttl}, rtt_ms = 0, get = {{ dist = \"constant\", mean_us = 1 }}"),
    ));
    let measured = run(&m, 0, 12, 20_000, 300_000).cache_hit_ratio();
    eprintln!("TTL: measured {measured:.4}, formula {expected:.4}");
    assert!(
        (measured / expected - 1.0).abs() < 0.02,
        "TTL hit ratio {measured}, renewal formula {expected}"
    );
}

#[test]
fn writes_invalidate_cached_keys() {
    // One key: a read leaves it cached (it hit, or it missed and filled) and
    // a write deletes it, so a read hits exactly when the request before it
    // was a read: the hit ratio is the read share, 0.7.
    let m = model(
        r#"
[workload]
arrival_rate_per_s = 200
keys = { count = 1 }
[[workload.request]]
name = "read"
weight = 0.7
cacheable = true
db = { dist = "constant", mean_us = 1 }
[[workload.request]]
name = "write"
weight = 0.3
kind = "write"
db = { dist = "constant", mean_us = 1 }
[[phase]]
name = "P"
app = { hosts = 1, cores_per_host = 4, workers_per_host = 100000 }
database = { cores = 64 }
cache = { kind = "redis", rtt_ms = 0, get = { dist = "constant", mean_us = 1 } }
"#,
    );
    let h = run(&m, 0, 13, 5_000, 200_000).cache_hit_ratio();
    assert!(
        (h - 0.7).abs() < 0.01,
        "hit ratio {h} with invalidation, want 0.7"
    );
}

#[test]
fn shard_load_follows_key_popularity() {
    let (keys, s, n) = (1_000u32, 1.1, 4u32);
    let p = zipf(keys, s);
    let mut share = vec![0.0; n as usize];
    for (k, &q) in p.iter().enumerate() {
        share[shard_of(k as u32, n) as usize] += q;
    }
    let (lo, hi) = share
        .iter()
        .fold((1f64, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(
        hi / lo > 1.2,
        "this key space is not skewed enough to test: {share:?}"
    );
    let m = model(&format!(
        r#"
[workload]
arrival_rate_per_s = 200
keys = {{ count = {keys}, zipf = {s} }}
[[workload.request]]
name = "read"
weight = 1.0
db = {{ dist = "constant", mean_ms = 1 }}
[[phase]]
name = "P"
app = {{ hosts = 1, cores_per_host = 4, workers_per_host = 100000 }}
database = {{ cores = 1 }}
shards = {{ count = {n} }}
"#
    ));
    let st = run(&m, 0, 14, 5_000, 200_000);
    let busy: Vec<f64> = (0..n)
        .map(|k| {
            let i = m
                .stations
                .iter()
                .position(|x| x.name == format!("shard{k}.cpu"))
                .unwrap();
            st.stations[i].mean_busy.unwrap()
        })
        .collect();
    let total: f64 = busy.iter().sum();
    for k in 0..n as usize {
        assert!(
            (busy[k] / total - share[k]).abs() < 0.01,
            "shard {k}: measured share {:.4}, popularity {:.4}",
            busy[k] / total,
            share[k]
        );
    }
}

#[test]
fn async_servers_do_not_run_out_of_workers_while_waiting_on_the_database() {
    // 100 ms of database per request, 1 ms of CPU. Two sync workers carry at
    // most 2/0.101 ≈ 19.8 requests/s; two event loops are bound by CPU alone.
    let scenario = |app: &str| {
        format!(
            r#"
[workload]
think_time = {{ dist = "exponential", mean_s = 1 }}
[[workload.request]]
name = "r"
weight = 1.0
app_cpu = {{ dist = "exponential", mean_ms = 1 }}
db = {{ dist = "constant", mean_ms = 100 }}
[[phase]]
name = "P"
app = {{ {app} }}
database = {{ cores = 1000 }}
"#
        )
    };
    let sync = run(
        &model(&scenario(
            "hosts = 1, cores_per_host = 2, workers_per_host = 2",
        )),
        100,
        15,
        2_000,
        20_000,
    );
    let asy = run(
        &model(&scenario(
            "hosts = 1, cores_per_host = 2, worker = \"async\"",
        )),
        100,
        15,
        2_000,
        20_000,
    );
    assert!(
        sync.throughput_rps() < 2.0 / 0.101 * 1.01,
        "{}",
        sync.throughput_rps()
    );
    // Async: closed network with R ≈ 101 ms, Z = 1 s, N = 100 → X ≈ N/(Z+R).
    let x = 100.0 / 1.101;
    assert!(
        (asy.throughput_rps() / x - 1.0).abs() < 0.03,
        "{}",
        asy.throughput_rps()
    );
}

#[test]
fn an_async_concurrency_limit_refuses_the_excess_at_once() {
    let m = model(
        r#"
[workload]
think_time = { dist = "exponential", mean_s = 0.1 }
[[workload.request]]
name = "r"
weight = 1.0
app_cpu = { dist = "exponential", mean_ms = 1 }
db = { dist = "constant", mean_ms = 100 }
[[phase]]
name = "P"
app = { hosts = 1, cores_per_host = 2, worker = "async", concurrency = 10 }
database = { cores = 1000 }
"#,
    );
    let s = run(&m, 100, 16, 2_000, 20_000);
    // Only 10 requests can be in progress: X ≤ 10/0.101 s.
    assert!(s.throughput_rps() <= 10.0 / 0.100, "{}", s.throughput_rps());
    assert!(s.errors[0] > 0, "no refusals");
    assert_eq!(s.errors[1], 0);
}
