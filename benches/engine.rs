//! Engine speed, in calendar events per second on one core.
//!
//! - `mm1`: the M/M/1 model of `scenarios/validation/mm1_rho90.toml`, the
//!   issue's yardstick (target ≥ 15 M events/s; a hand-written single-purpose
//!   M/M/1 loop does about 40 M here).
//! - `closed_1m_users`: the closed model of
//!   `scenarios/validation/closed_mva.toml` with 1,000,000 users, all of them
//!   soon queued at the saturated server: the calendar, the job table and the
//!   queue at their largest. Peak memory of the same run is measured on the
//!   release binary with `/usr/bin/time -v` (see the README), not here.
//! - `sqlite_wal_normal`: the WAL NORMAL phase of
//!   `scenarios/examples/sqlite_single_host.toml` at 1,000 users: SQLite's
//!   lock, busy handler and page-cache snapshots on the request path.
//!
//! Each benchmark runs one fixed seed, so every iteration processes the same
//! number of events and criterion's throughput is events per second.

use capsim::arch::compile;
use capsim::engine::{self, RunConfig};
use capsim::model::Model;
use capsim::scenario;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::Path;

fn model(file: &str, phase: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let sc = scenario::load(&path).expect("bench scenario loads");
    let p = sc
        .phases
        .iter()
        .find(|p| p.name == phase)
        .expect("bench phase exists");
    compile(&sc.workload, p)
}

fn mm1(c: &mut Criterion) {
    let m = model("validation/mm1_rho90.toml", "M/M/1");
    let cfg = RunConfig {
        warmup_requests: 0,
        measured_requests: 1_000_000,
        ..RunConfig::new(0, 42)
    };
    let events = engine::run(&m, &cfg).events;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.sample_size(20);
    g.bench_function("mm1", |b| b.iter(|| engine::run(&m, &cfg)));
    g.finish();
}

fn closed_1m_users(c: &mut Criterion) {
    let m = model("validation/closed_mva.toml", "PS server");
    let cfg = RunConfig {
        warmup_requests: 0,
        measured_requests: 200_000,
        ..RunConfig::new(1_000_000, 42)
    };
    let events = engine::run(&m, &cfg).events;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.sample_size(10);
    // The returned statistics are dropped outside the timing.
    g.bench_function("closed_1m_users", |b| {
        b.iter_batched(|| (), |()| engine::run(&m, &cfg), BatchSize::PerIteration)
    });
    g.finish();
}

fn sqlite_wal_normal(c: &mut Criterion) {
    let m = model(
        "examples/sqlite_single_host.toml",
        "WAL, synchronous=NORMAL",
    );
    let cfg = RunConfig {
        warmup_requests: 0,
        measured_requests: 200_000,
        ..RunConfig::new(1_000, 42)
    };
    let events = engine::run(&m, &cfg).events;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.sample_size(20);
    g.bench_function("sqlite_wal_normal", |b| b.iter(|| engine::run(&m, &cfg)));
    g.finish();
}

criterion_group!(benches, mm1, closed_1m_users, sqlite_wal_normal);
criterion_main!(benches);
