//! Speed of whole sweeps: the default sweep of shipped scenarios (a guide on
//! every core, an M/M/1 validation model on one thread), and one
//! 1,000,000-user point of a closed model (one replication, and the default
//! five), on one thread.
//!
//! Run with `cargo bench --bench sweep`. These are long benchmarks (seconds
//! per iteration): criterion takes ten samples each. The whole job over every
//! shipped scenario (a minute) is timed with hyperfine instead; see README.

use capsim::scenario;
use capsim::sweep::{self, Origin, PointKey, Silent, SweepOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;

/// A closed model saturated far beyond its knee: 1,000,000 users thinking
/// 30 s against ~440 requests/s (8 workers around 4 ms of 2-core CPU and
/// 2 ms of one-core database).
const CLOSED: &str = r#"
name = "one million users"
seed = 3
[workload]
think_time = { dist = "exponential", mean_s = 30 }
[[workload.request]]
name = "r"
weight = 1.0
app_cpu = { dist = "exponential", mean_ms = 4 }
db = { dist = "exponential", mean_ms = 2 }
[sweep]
users = [1000000]
[[phase]]
name = "Base"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 8 }
database = { cores = 1 }
"#;

fn one_thread() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool")
}

fn shipped(name: &str) -> scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    scenario::load(&path).expect("shipped scenario loads")
}

fn shipped_scenario_sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    // A guide: five phases, 3 → 1,000,000 users, capacity search, default
    // replications and precision, on every core (rayon's global pool).
    let guide = shipped("fixia.toml");
    let plan = sweep::plan(&guide, &SweepOptions::default()).expect("plan");
    g.bench_function("fixia default sweep, all cores", |b| {
        b.iter(|| plan.run(&Silent))
    });
    let mm1 = shipped("validation/mm1_rho90.toml");
    let plan = sweep::plan(&mm1, &SweepOptions::default()).expect("plan");
    let pool = one_thread();
    g.bench_function("mm1_rho90 default sweep, 1 thread", |b| {
        b.iter(|| pool.install(|| plan.run(&Silent)))
    });
    g.finish();
}

fn million_user_point(c: &mut Criterion) {
    let sc = scenario::parse(Path::new("million.toml"), CLOSED).expect("bench scenario");
    let plan = sweep::plan(&sc, &SweepOptions::default()).expect("plan");
    let pool = one_thread();
    let mut g = c.benchmark_group("closed point, 1,000,000 users");
    g.sample_size(10);
    g.bench_function("one replication", |b| {
        b.iter(|| plan.replication(0, 1_000_000, 0))
    });
    let key = PointKey {
        phase: 0,
        users: 1_000_000,
        origin: Origin::Grid,
    };
    g.bench_function("whole point (default replications), 1 thread", |b| {
        b.iter(|| pool.install(|| plan.estimate(&[key], &Silent)))
    });
    g.finish();
}

criterion_group!(benches, shipped_scenario_sweep, million_user_point);
criterion_main!(benches);
