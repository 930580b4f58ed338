//! The engine's limits on what one request can hold (one bit per part in
//! `engine::held`) cover what the loader accepts, and a model past them is
//! refused with the reason where it is compiled, in every build.
//!
//! Regression: SQLite with a rollback journal and more than 16 shards used to
//! panic in release builds (a reader's lock on shard 16 landed in the bits of
//! pooler pool 0), and with 17–31 shards ran a model its own check rejected.

use capsim::arch::{compile, try_compile};
use capsim::engine::stats::ErrorCause;
use capsim::engine::{run, RunConfig};
use capsim::model::MAX_DB_PARTS;
use capsim::scenario::parse;
use std::path::Path;

/// Readers and writers over `shards` SQLite files (rollback journal: readers
/// take SHARED, writers RESERVED then EXCLUSIVE), sharded by key, each file
/// under the same load, with a busy timeout short enough that writers give
/// up on EXCLUSIVE while they hold RESERVED: the failure path that lets go of
/// everything a request holds (where the old layout misread shard 16's lock
/// as pooler pool 0's connection and panicked).
fn sqlite_rollback_shards(shards: u32) -> String {
    format!(
        r#"
[workload]
arrival_rate_per_s = {rate}
keys = {{ count = 100_000, zipf = 0 }}
[[workload.request]]
name = "read"
weight = 0.8
kind = "read"
db = {{ dist = "exponential", mean_ms = 5 }}
[[workload.request]]
name = "write"
weight = 0.2
kind = "write"
db = {{ dist = "exponential", mean_ms = 1 }}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 100000 }}
database = {{ engine = "sqlite", journal_mode = "delete", synchronous = "full", fsync_ms = 1, commit_ms = 0, checkpoint_ms = 0, flushes_per_commit = 1, busy_timeout_ms = 1 }}
shards = {{ count = {shards}, by = "key" }}
"#,
        rate = 600 * shards
    )
}

/// Fraction of requests that failed with SQLITE_BUSY.
fn busy_fraction(shards: u32) -> f64 {
    let sc = parse(Path::new("t.toml"), &sqlite_rollback_shards(shards))
        .unwrap_or_else(|e| panic!("{e}"));
    let m = compile(&sc.workload, &sc.phases[0]);
    assert_eq!(m.db.sqlite_locks.len(), shards as usize);
    let mut cfg = RunConfig::new(0, 7);
    cfg.warmup_requests = 10_000;
    cfg.measured_requests = 100_000;
    let s = run(&m, &cfg);
    let busy = s.errors[ErrorCause::Busy as usize];
    assert_eq!(
        s.completed + busy,
        100_000,
        "{shards} shards: only busy errors"
    );
    busy as f64 / 100_000.0
}

#[test]
fn sqlite_rollback_journal_with_17_and_32_shards_is_simulated() {
    const { assert!(MAX_DB_PARTS >= 32, "the loader accepts up to 32 shards") };
    // Every file carries the same load, so the share of busy errors is the
    // same whatever the number of files: a lock that files from 16 on
    // failed to give back would jam them and multiply it.
    let reference = busy_fraction(16);
    assert!(reference > 0.01, "busy errors: {reference}");
    for shards in [17, 32] {
        let f = busy_fraction(shards);
        assert!(
            (f / reference - 1.0).abs() < 0.25,
            "{shards} shards: busy fraction {f}, 16 shards: {reference}"
        );
    }
}

#[test]
fn a_model_past_the_limits_is_refused_where_it_is_compiled() {
    // 32 keyed PostgreSQL shards with one replica each: 64 servers, each
    // with its row-lock table and its connection limit.
    let src = r#"
[workload]
arrival_rate_per_s = 100
keys = { count = 1000, zipf = 0 }
[[workload.request]]
name = "write"
weight = 1
kind = "write"
db = { dist = "constant", mean_ms = 1 }
[[phase]]
name = "wide"
app = { hosts = 1, cores_per_host = 4, workers_per_host = 64 }
database = { cores = 1 }
replicas = { count = 1 }
shards = { count = 32, by = "key" }
"#;
    // (Also 65 passive resources: a connection limit per server and the
    // app's workers.) Were the loader to reject it, that would do too.
    let Ok(sc) = parse(Path::new("t.toml"), src) else {
        return;
    };
    let e = try_compile(&sc.workload, &sc.phases[0]).unwrap_err();
    assert_eq!(e.phase, "wide");
    assert!(
        matches!(e.reason, capsim::model::ModelError::TooMany { max: 64, .. }),
        "{e}"
    );
}
