//! Speed of `simulate calibrate`: a dozen files, one load level each — the
//! twelve levels (c = 1 … 500) of the measured PgBouncer TPC-B series of
//! tests/data/real, written as plain CSV — read, fitted, back-tested by
//! simulation and analysed (`calibrate::calibrate`, what the command runs
//! before writing); and the eight real pgbench files of
//! tests/data/calibrate/pgbench (four outputs, four -l logs), alone and on
//! an architecture (`--base`, three numbers fitted by simulation).
//!
//! Run with `cargo bench --bench calibrate`. Seconds per iteration:
//! criterion takes ten samples each.

use capsim::calibrate::{self, CalibrateOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One plain-CSV file per level of the PgBouncer TPC-B series.
fn dozen(dir: &Path) -> Vec<PathBuf> {
    let mut r = csv::Reader::from_path(repo("tests/data/real/pgbouncer.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut files = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[col("series")] != "bouncer_tpcb_sync_on" {
            continue;
        }
        let p = dir.join(format!("c{}.csv", &rec[col("clients")]));
        let text = format!(
            "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms,mean_ms\n{},{},{},{},{},{}\n",
            &rec[col("clients")],
            &rec[col("throughput_tps")],
            &rec[col("p50_ms")],
            &rec[col("p95_ms")],
            &rec[col("p99_ms")],
            &rec[col("mean_ms")]
        );
        std::fs::write(&p, text).unwrap();
        files.push(p);
    }
    assert_eq!(files.len(), 12);
    files
}

const PGBENCH_BASE: &str = r#"
name = "pgbench tpcb-like"
seed = 5
[workload]
think_time = { dist = "constant", mean_s = 0 }
keys = { count = 100, zipf = 0 }
[[workload.request]]
name = "txn"
weight = 1
kind = "write"
statements = 7
lock_from_statement = 5
app_cpu = { dist = "exponential", mean_ms = 0.15 }
db = { dist = "exponential", mean_ms = 0.5 }
[sweep]
users = [1]
[[phase]]
name = "measured"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 1000, quantum_ms = 4 }
network = { rtt_ms = 0.03 }
[phase.database]
engine = "postgres"
host = "app"
max_connections = 97
wal_flush_ms = 0.1
connections = "session"
"#;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("calibrate");
    g.sample_size(10);
    let opts = CalibrateOptions {
        files: dozen(dir.path()),
        servers: 2,
        out: dir.path().join("out.toml"),
        ..CalibrateOptions::default()
    };
    g.bench_function("pgbouncer_12_files", |b| {
        b.iter(|| calibrate::calibrate(&opts).map_err(|e| e.error).unwrap())
    });
    let mut pg: Vec<PathBuf> = std::fs::read_dir(repo("tests/data/calibrate/pgbench"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "log"))
        .collect();
    pg.sort();
    let opts = CalibrateOptions {
        files: pg,
        servers: 2,
        out: dir.path().join("pg.toml"),
        ..CalibrateOptions::default()
    };
    g.bench_function("pgbench_8_real_files", |b| {
        b.iter(|| calibrate::calibrate(&opts).map_err(|e| e.error).unwrap())
    });
    // The same files on an architecture (`--base`): PostgreSQL on the
    // pgbench host, TPC-B as 7 statements, three times fitted by
    // simulation — each step of the search a sweep of the levels.
    let base = dir.path().join("base.toml");
    std::fs::write(&base, PGBENCH_BASE).unwrap();
    let opts = CalibrateOptions {
        base: Some(base),
        fit: [
            "workload.request.txn.app_cpu.mean_ms",
            "workload.request.txn.db.mean_ms",
            "phase.measured.network.rtt_ms",
        ]
        .map(String::from)
        .to_vec(),
        ..opts
    };
    g.bench_function("pgbench_8_real_files_on_an_architecture", |b| {
        b.iter(|| calibrate::calibrate(&opts).map_err(|e| e.error).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
