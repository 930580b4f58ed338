//! Speed of an uncertainty study beside its point run: a closed model with
//! two ranges (think time, service time), its point sweep and its 16
//! designs plus the tornado's four end runs, on every core.
//!
//! Run with `cargo bench --bench uncertainty`. The four guides at 32
//! designs are timed as a whole job with hyperfine instead (see notes).

use capsim::scenario;
use capsim::sweep::{self, Silent, SweepOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;

const STUDY: &str = r#"
name = "closed model with ranges"
seed = 9
[workload]
think_time = { dist = "exponential", mean_s = { low = 0.5, high = 2.0 } }
[[workload.request]]
name = "job"
weight = 1.0
[sweep]
users = { from = 1, to = 1000, points = 10 }
[uncertainty]
designs = 16
[[phase]]
name = "one server"
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[phase.plan]
job = [{ use = "server", demand = { dist = "exponential", mean_ms = { low = 8, high = 12 } } }]
"#;

fn study(c: &mut Criterion) {
    let sc = scenario::parse(Path::new("study.toml"), STUDY).expect("bench scenario");
    let mut g = c.benchmark_group("uncertainty");
    g.sample_size(10);
    let point = sweep::plan(
        &sc,
        &SweepOptions {
            designs: Some(0),
            ..SweepOptions::default()
        },
    )
    .expect("plan");
    g.bench_function("point run alone (--designs 0)", |b| {
        b.iter(|| capsim::run::analyse(&point, &Silent))
    });
    let plan = sweep::plan(&sc, &SweepOptions::default()).expect("plan");
    g.bench_function("point run + 16 designs + tornado", |b| {
        b.iter(|| capsim::run::analyse(&plan, &Silent))
    });
    g.finish();
}

criterion_group!(benches, study);
criterion_main!(benches);
