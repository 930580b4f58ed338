//! Speed of `simulate calibrate`: a dozen files, one load level each — the
//! twelve levels (c = 1 … 500) of the measured PgBouncer TPC-B series of
//! tests/data/real, written as plain CSV — read, fitted, back-tested by
//! simulation and analysed (`calibrate::calibrate`, what the command runs
//! before writing); and the eight real pgbench files of
//! tests/data/calibrate/pgbench (four outputs, four -l logs).
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
