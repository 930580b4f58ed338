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

/// A run of `requests` measured requests (no warm-up) of `users` users
/// (0: open) from seed 42, as the `engine` group's `name`, in events per
/// second; `batched` drops the returned statistics outside the timing.
fn bench_run(
    c: &mut Criterion,
    name: &str,
    m: &Model,
    users: u32,
    requests: u64,
    samples: usize,
    batched: bool,
) {
    let cfg = RunConfig {
        warmup_requests: 0,
        measured_requests: requests,
        ..RunConfig::new(users, 42)
    };
    let events = engine::run(m, &cfg).events;
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(events));
    g.sample_size(samples);
    if batched {
        g.bench_function(name, |b| {
            b.iter_batched(|| (), |()| engine::run(m, &cfg), BatchSize::PerIteration)
        });
    } else {
        g.bench_function(name, |b| b.iter(|| engine::run(m, &cfg)));
    }
    g.finish();
}

fn mm1(c: &mut Criterion) {
    let m = model("validation/mm1_rho90.toml", "M/M/1");
    bench_run(c, "mm1", &m, 0, 1_000_000, 20, false);
}

fn closed_1m_users(c: &mut Criterion) {
    // A million users' statistics are large: dropped outside the timing.
    let m = model("validation/closed_mva.toml", "PS server");
    bench_run(c, "closed_1m_users", &m, 1_000_000, 200_000, 10, true);
}

fn sqlite_wal_normal(c: &mut Criterion) {
    let m = model(
        "examples/sqlite_single_host.toml",
        "WAL, synchronous=NORMAL",
    );
    bench_run(c, "sqlite_wal_normal", &m, 1_000, 200_000, 20, false);
}

criterion_group!(benches, mm1, closed_1m_users, sqlite_wal_normal);
criterion_main!(benches);
