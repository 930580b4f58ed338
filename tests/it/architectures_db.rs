//! The database models pin their mechanisms: each test compares the engine
//! with a reference computed here, or with the same model where the
//! mechanism is switched off, so that it fails if the mechanism is wrong.

use crate::helpers::{first_model as model, parse};
use capsim::engine::stats::{ErrorCause, RunStats};
use capsim::engine::{run, RunConfig};
use capsim::model::Model;
use capsim::scenario;
use std::path::Path;

fn simulate(m: &Model, users: u32, measured: u64, seed: u64) -> RunStats {
    let mut cfg = RunConfig::new(users, seed);
    cfg.warmup_requests = measured / 10;
    cfg.measured_requests = measured;
    run(m, &cfg)
}

/// Mean response of request type `t`, in ms.
fn type_mean_ms(s: &RunStats, t: usize) -> f64 {
    let x = &s.per_type[t];
    x.response_sum_ns / x.completed as f64 / 1e6
}

// ------------------------------------------------------------------ SQLite

/// Readers (constant 1 ms) and writers (2 ms of work + a 5 ms flush, holding
/// the lock 7 ms), open arrivals, an app host too big to queue.
fn sqlite_mix(journal: &str, write_share: f64, busy_timeout_ms: f64) -> String {
    format!(
        r#"
[workload]
arrival_rate_per_s = 400
[[workload.request]]
name = "read"
weight = {r}
kind = "read"
db = {{ dist = "constant", mean_ms = 1 }}
[[workload.request]]
name = "write"
weight = {w}
kind = "write"
db = {{ dist = "exponential", mean_ms = 2 }}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 100000 }}
database = {{ engine = "sqlite", journal_mode = "{journal}", synchronous = "full", fsync_ms = 5, commit_ms = 0, checkpoint_ms = 0, flushes_per_commit = 1, busy_timeout_ms = {busy_timeout_ms}, reread_ms = 0 }}
"#,
        r = 1.0 - write_share,
        w = write_share.max(1e-9),
    )
}

#[test]
fn wal_readers_latency_does_not_grow_with_writers() {
    // Reads cost exactly 1 ms when nothing makes them wait.
    for writes in [0.0, 0.1, 0.2] {
        let s = simulate(&model(&sqlite_mix("wal", writes, 60_000.0)), 0, 100_000, 1);
        let read = type_mean_ms(&s, 0);
        assert!(
            (read - 1.0).abs() < 0.01,
            "WAL, write share {writes}: readers took {read} ms, not 1 ms"
        );
    }
    // The same load in rollback-journal mode: committing writers block
    // readers, so the comparison above can fail.
    let s = simulate(&model(&sqlite_mix("delete", 0.2, 60_000.0)), 0, 100_000, 1);
    let read = type_mean_ms(&s, 0);
    assert!(
        read > 1.5,
        "rollback journal: readers should wait for commits, took {read} ms"
    );
}

#[test]
fn sqlite_busy_errors_appear_with_a_short_busy_timeout_and_vanish_with_a_long_one() {
    // 80 writes/s holding the lock ~7 ms: the lock is busy about 56% of the time.
    let short = simulate(&model(&sqlite_mix("wal", 0.2, 3.0)), 0, 100_000, 2);
    let busy = short.errors[ErrorCause::Busy as usize];
    let writes = short.per_type[1].completed + short.per_type[1].errors;
    assert!(
        busy as f64 > 0.05 * writes as f64,
        "busy_timeout 3 ms: only {busy} SQLITE_BUSY in {writes} writes"
    );
    assert_eq!(
        short.per_type[0].errors, 0,
        "WAL readers never get SQLITE_BUSY"
    );

    let long = simulate(&model(&sqlite_mix("wal", 0.2, 60_000.0)), 0, 100_000, 2);
    assert_eq!(long.errors[ErrorCause::Busy as usize], 0);
    assert!(
        long.db.busy_sleeps > 0,
        "writers did sleep, and then got the lock"
    );
}

#[test]
fn sqlite_writers_sleep_instead_of_queueing() {
    // Two writers that each hold the lock for exactly 10 ms, arriving
    // together: the second sleeps 1+2+5 = 8 ms (busy), then wakes at 8 ms
    // (busy again: 10 ms of work), sleeps 10 ms more and gets the lock at
    // 18 ms, so it finishes at 28 ms, not at 20 ms as in a FIFO queue.
    let src = r#"
[workload]
think_time = { dist = "constant", mean_s = 1000 }
[[workload.request]]
name = "write"
weight = 1
kind = "write"
db = { dist = "constant", mean_ms = 10 }
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 8, workers_per_host = 8 }
database = { engine = "sqlite", commit_ms = 0, checkpoint_ms = 0, fsync_ms = 0, reread_ms = 0 }
"#;
    let s = simulate(&model(src), 2, 2, 3);
    assert_eq!(s.completed, 2);
    assert!(
        (s.max_ms() - 28.0).abs() < 0.1,
        "second writer finished at {} ms",
        s.max_ms()
    );
}

/// Closed users who think ~100 ms between requests; reads cost exactly
/// 1 ms, a fifth of the requests write; reading the pages back costs 0.5 ms.
fn rereading(users: u32, journal: &str, reread_ms: f64) -> RunStats {
    let src = format!(
        r#"
[workload]
think_time = {{ dist = "exponential", mean_s = 0.1 }}
[[workload.request]]
name = "read"
weight = 0.8
kind = "read"
db = {{ dist = "constant", mean_ms = 1 }}
[[workload.request]]
name = "write"
weight = 0.2
kind = "write"
db = {{ dist = "constant", mean_ms = 0.2 }}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 256 }}
database = {{ engine = "sqlite", journal_mode = "{journal}", synchronous = "normal", commit_ms = 0, checkpoint_ms = 0, fsync_ms = 0, reread_ms = {reread_ms} }}
"#
    );
    simulate(&model(&src), users, 40_000, 5)
}

#[test]
fn a_transaction_reads_its_pages_back_after_another_connections_commit_only() {
    for journal in ["wal", "delete"] {
        // One connection: its own commits leave its cache valid, so reads
        // and writes cost their 1 ms and 0.2 ms, as without the mechanism.
        let alone = rereading(1, journal, 0.5);
        for (t, ms) in [(0, 1.0), (1, 0.2)] {
            let took = type_mean_ms(&alone, t);
            assert!(
                (took - ms).abs() < 1e-9,
                "{journal}, one connection: type {t} took {took} ms, not {ms}"
            );
        }
        // Fifty: a user's snapshot is valid only if none of the other 49
        // committed since its last, that is during its last request (mean
        // response s) and its think (exponential, mean θ): with the others'
        // commits Poisson at rate r, with probability e^(−r·s) / (1 + r·θ).
        let many = rereading(50, journal, 0.5);
        let share = |t: usize| many.per_type[t].completed as f64 / many.completed as f64;
        let r = many.throughput_rps() * share(1) * 49.0 / 50.0;
        let s = (share(0) * type_mean_ms(&many, 0) + share(1) * type_mean_ms(&many, 1)) / 1e3;
        let fresh = (-r * s).exp() / (1.0 + r * 0.1);
        let expected = 1.0 + 0.5 * (1.0 - fresh);
        let read = type_mean_ms(&many, 0);
        assert!(
            fresh < 0.1,
            "{journal}: the mechanism is tested where it acts"
        );
        if journal == "wal" {
            assert!(
                (read - expected).abs() < 0.01,
                "{journal}, fifty connections: reads took {read} ms, not {expected}"
            );
        } else {
            // Rollback readers also wait for committing writers, and a
            // reader reading its pages back under SHARED keeps the next
            // writer's EXCLUSIVE waiting longer: the read-back adds at least
            // itself.
            let without = type_mean_ms(&rereading(50, journal, 0.0), 0);
            let added = read - without;
            assert!(
                added > expected - 1.0 - 0.02,
                "{journal}, fifty connections: reading back added {added} ms, not {}",
                expected - 1.0
            );
        }
    }
}

#[test]
fn sqlite_on_several_hosts_is_rejected_with_a_located_error() {
    let src = r#"
[workload]
think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "r"
weight = 1
db = { dist = "exponential", mean_ms = 1 }
[[phase]]
name = "p"
app = { hosts = 2, cores_per_host = 2, workers_per_host = 4 }
database = { engine = "sqlite" }
"#;
    let err = scenario::parse(Path::new("x.toml"), src).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!((d.line, d.field.as_str()), (11, "phase[0].database.engine"));
    assert!(d.message.contains("one host"), "{}", d.message);
}

// -------------------------------------------------------------- PostgreSQL

fn pg(workload: &str, database: &str, pooler: &str) -> String {
    format!(
        r#"
[workload]
{workload}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 100000 }}
database = {{ engine = "postgres", {database} }}
{pooler}
"#
    )
}

#[test]
fn row_lock_waits_grow_with_zipf_skew_as_per_key_queues_predict() {
    // Every write locks its row for exactly H = 1 ms (no flush, idle CPU):
    // each row is an M/D/1 queue fed by a Poisson stream of rate λ·p_k, so a
    // writer finds its row locked with probability Σ p_k · λ p_k H (PASTA).
    let (lambda, h, n) = (500.0, 1e-3, 1000usize);
    let mut last = -1.0;
    for s in [0.0, 0.6, 1.0, 1.4] {
        let w = format!(
            r#"arrival_rate_per_s = {lambda}
keys = {{ count = {n}, zipf = {s} }}
[[workload.request]]
name = "w"
weight = 1
kind = "write"
db = {{ dist = "constant", mean_ms = 1 }}"#
        );
        let m = model(&pg(
            &w,
            "cores = 256, max_connections = 100000, synchronous_commit = \"off\", contention = 0",
            "",
        ));
        let st = simulate(&m, 0, 200_000, 4);
        let norm: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
        let sum_p2: f64 = (1..=n).map(|k| ((k as f64).powf(-s) / norm).powi(2)).sum();
        let expected = lambda * h * sum_p2;
        let locks = st.db.row_locks as f64;
        let measured = st.db.row_lock_waits as f64 / locks;
        let se = (expected * (1.0 - expected) / locks).sqrt();
        assert!(
            (measured - expected).abs() < 5.0 * se + 0.002 * expected,
            "zipf {s}: waited {measured:.5}, per-key M/D/1 says {expected:.5} (se {se:.5})"
        );
        assert!(measured > last, "waits must grow with skew");
        last = measured;
    }
}

#[test]
fn max_connections_refusals_follow_erlang_b() {
    // Direct connections held for exactly the transaction (2 ms), refused
    // when all max_connections are taken: an Erlang loss system.
    let (lambda, h, c) = (2000.0, 2e-3, 5u32);
    let w = format!(
        r#"arrival_rate_per_s = {lambda}
[[workload.request]]
name = "r"
weight = 1
kind = "read"
db = {{ dist = "constant", mean_ms = 2 }}"#
    );
    let m = model(&pg(
        &w,
        &format!("cores = 256, max_connections = {c}, connection_mb = 10"),
        "",
    ));
    let st = simulate(&m, 0, 200_000, 5);
    let a = lambda * h;
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let refused = st.errors[ErrorCause::Refused as usize] as f64 / st.departures() as f64;
    assert!(
        (refused - b).abs() < 0.01,
        "refused {refused:.4}, Erlang B({c}, {a}) = {b:.4}"
    );
    // Memory follows the connections held.
    let held = st.resources[m
        .resources
        .iter()
        .position(|r| r.name == "db.connections")
        .unwrap()]
    .mean_held;
    assert!((st.db.connection_memory_mb - 10.0 * held).abs() < 1e-9);
    assert!((held - a * (1.0 - b)).abs() < 0.05, "carried load {held}");
}

#[test]
fn group_commit_shares_flushes() {
    // 2,000 commits/s against a 1 ms flush: one flush per commit would need
    // a disk twice as fast. Group commit carries it.
    let run_at = |rate: f64| {
        let w = format!(
            r#"arrival_rate_per_s = {rate}
keys = {{ count = 1000000 }}
[[workload.request]]
name = "w"
weight = 1
kind = "write"
db = {{ dist = "exponential", mean_ms = 0.1 }}"#
        );
        let m = model(&pg(
            &w,
            "cores = 256, max_connections = 100000, wal_flush_ms = 1, contention = 0",
            "",
        ));
        simulate(&m, 0, 100_000, 6)
    };
    let heavy = run_at(2000.0);
    assert_eq!(heavy.stop.name(), "target", "group commit keeps up");
    let per_flush = heavy.db.flushed_commits as f64 / heavy.db.flushes as f64;
    let flushes_per_s = heavy.db.flushes as f64 / heavy.window_s;
    assert!(per_flush > 1.8, "{per_flush} commits per flush");
    assert!(
        flushes_per_s <= 1000.0 * 1.001,
        "{flushes_per_s} flushes/s with a 1 ms flush"
    );
    // At light load almost every commit flushes alone: a commit shares only
    // if it arrives during another's flush (probability ≈ λ·F = 1%).
    let light = run_at(10.0);
    let per_flush = light.db.flushed_commits as f64 / light.db.flushes as f64;
    assert!(per_flush < 1.03, "{per_flush} commits per flush at 10/s");
}

#[test]
fn contention_costs_throughput_beyond_the_cores() {
    // 20 backends always runnable on 2 cores (think ≈ 0): throughput is
    // cores / S / (1 + κ (n − cores)).
    let xput = |kappa: f64| {
        let w = r#"think_time = { dist = "constant", mean_us = 1 }
[[workload.request]]
name = "r"
weight = 1
kind = "read"
db = { dist = "exponential", mean_ms = 1 }"#;
        let m = model(&pg(
            w,
            &format!("cores = 2, max_connections = 1000, contention = {kappa}"),
            "",
        ));
        simulate(&m, 20, 100_000, 7).throughput_rps()
    };
    let ideal = xput(0.0);
    let contended = xput(0.01);
    assert!((ideal / 2000.0 - 1.0).abs() < 0.02, "ideal {ideal}/s");
    let expected = 2000.0 / (1.0 + 0.01 * 18.0);
    assert!(
        (contended / expected - 1.0).abs() < 0.02,
        "contended {contended}/s, expected {expected}"
    );
}

// --------------------------------------------------------------- PgBouncer

/// Users that each hold the pooler for `hold_ms` of database work, with a
/// constant think time, so that they arrive together.
fn pooled(users_hold_ms: f64, think_ms: f64, pooler: &str) -> Model {
    let w = format!(
        r#"think_time = {{ dist = "constant", mean_ms = {think_ms} }}
[[workload.request]]
name = "r"
weight = 1
kind = "read"
db = {{ dist = "constant", mean_ms = {users_hold_ms} }}"#
    );
    model(&pg(
        &w,
        "cores = 256, max_connections = 1000, connect_ms = 0",
        &format!("[phase.pooler]\ncpu_ms = 0\n{pooler}"),
    ))
}

#[test]
fn pgbouncer_refuses_client_max_client_conn_plus_one() {
    // Think 1 s, so that the refused user does not retry at once.
    let m = pooled(
        100.0,
        1000.0,
        "pool_mode = \"transaction\"\nmax_client_conn = 10\ndefault_pool_size = 100",
    );
    let at_limit = simulate(&m, 10, 2_000, 8);
    assert_eq!(at_limit.errors_total(), 0);
    let over = simulate(&m, 11, 2_000, 8);
    assert!(over.errors[ErrorCause::Refused as usize] > 0);
    // Exactly one client in eleven is turned away each round.
    let share = over.errors[ErrorCause::Refused as usize] as f64 / over.departures() as f64;
    assert!((share - 1.0 / 11.0).abs() < 0.01, "refused share {share}");
}

#[test]
fn reserve_connections_open_only_after_reserve_pool_timeout() {
    // Three clients, two pool connections, transactions of exactly 1 s. The
    // third client gets a reserve connection after waiting 0.3 s, so it
    // answers in 1.3 s; with the default 5 s it waits for a release (1 s).
    let with = |timeout: &str| {
        pooled(
            1000.0,
            0.001,
            &format!(
                "pool_mode = \"transaction\"\ndefault_pool_size = 2\nreserve_pool_size = 1\nreserve_pool_timeout = {timeout}"
            ),
        )
    };
    let quick = simulate(&with("0.3"), 3, 300, 9);
    assert!(
        (quick.max_ms() - 1300.0).abs() < 2.0,
        "max {}",
        quick.max_ms()
    );
    // Every third client waits exactly the timeout, never less: the fastest
    // are at 1 s and none between 1 s and 1.3 s.
    let between = quick.response.count_between(1_002_000_000, 1_298_000_000);
    assert_eq!(between, 0);
    assert!(quick.db.pools[0].reserve_opened > 0);
    assert_eq!(quick.db.pools[0].max_open, 3);

    let slow = simulate(&with("5"), 3, 300, 9);
    assert_eq!(slow.db.pools[0].reserve_opened, 0);
    assert_eq!(slow.db.pools[0].max_open, 2);
    assert!(
        (slow.max_ms() - 2000.0).abs() < 3.0,
        "max {}",
        slow.max_ms()
    );
}

#[test]
fn query_wait_timeout_disconnects_waiting_clients() {
    // One server connection, 100 ms transactions, 4 clients: the last in line
    // would wait 300 ms, past the 0.25 s query_wait_timeout.
    let m = pooled(
        100.0,
        0.001,
        "pool_mode = \"transaction\"\ndefault_pool_size = 1\nquery_wait_timeout = 0.25",
    );
    let s = simulate(&m, 4, 1_000, 10);
    assert!(s.errors[ErrorCause::Timeout as usize] > 0);
    assert!(
        s.max_ms() < 351.0,
        "nobody completes after waiting past the timeout"
    );
    let m = pooled(
        100.0,
        0.001,
        "pool_mode = \"transaction\"\ndefault_pool_size = 1",
    );
    assert_eq!(simulate(&m, 4, 1_000, 10).errors_total(), 0);
}

#[test]
fn session_mode_holds_the_server_connection_for_the_whole_request() {
    // 50 ms of app CPU then 10 ms in the database. A pool of 1 serves one
    // request at a time in session mode (60 ms each) but lends the connection
    // for only 10 ms in transaction mode.
    let w = r#"think_time = { dist = "constant", mean_us = 1 }
[[workload.request]]
name = "r"
weight = 1
kind = "read"
app_cpu = { dist = "constant", mean_ms = 50 }
db = { dist = "constant", mean_ms = 10 }"#;
    let xput = |mode: &str| {
        let m = model(&pg(
            w,
            "cores = 256, max_connections = 1000, connect_ms = 0",
            &format!("[phase.pooler]\ncpu_ms = 0\npool_mode = \"{mode}\"\ndefault_pool_size = 1"),
        ));
        simulate(&m, 4, 2_000, 11).throughput_rps()
    };
    let session = xput("session");
    let transaction = xput("transaction");
    assert!((session - 1000.0 / 60.0).abs() < 0.5, "session {session}/s");
    // Four users each needing 60 ms with only 10 ms on the shared
    // connection: all four proceed in parallel.
    assert!(
        (transaction - 4000.0 / 60.0).abs() < 1.0,
        "transaction {transaction}/s"
    );
}

#[test]
fn the_guides_pgbouncer_ini_loads_by_its_own_names() {
    // From seeds/002: the [pgbouncer] settings that shape capacity.
    let ini = r#"
pool_mode = "transaction"
max_client_conn = 1000
default_pool_size = 25
min_pool_size = 5
reserve_pool_size = 5
reserve_pool_timeout = 5
max_db_connections = 100
"#;
    let w = r#"think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "r"
weight = 1
db = { dist = "exponential", mean_ms = 1 }"#;
    let m = model(&pg(w, "cores = 2", &format!("[phase.pooler]\n{ini}")));
    let pool = &m.db.pools[0];
    assert_eq!((pool.size, pool.min_open, pool.reserve), (25, 5, 5));
    // listen_port is a pgbouncer.ini setting without effect on capacity.
    let bad = pg(w, "cores = 2", "[phase.pooler]\nlisten_port = 6432");
    assert!(scenario::parse(Path::new("x.toml"), &bad).is_err());
}

// ------------------------------------------------------------------ Loader

#[test]
fn settings_of_the_other_engine_or_a_pooler_without_postgres_are_located_errors() {
    let base = r#"
[workload]
think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "r"
weight = 1
db = { dist = "exponential", mean_ms = 1 }
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
"#;
    let cases = [
        (
            "database = { engine = \"sqlite\", max_connections = 10 }",
            "phase[0].database.max_connections",
            "postgres",
        ),
        (
            "database = { engine = \"postgres\", cores = 2, journal_mode = \"wal\" }",
            "phase[0].database.journal_mode",
            "sqlite",
        ),
        (
            "database = { engine = \"sqlite\", journal_mode = \"wall\" }",
            "phase[0].database.journal_mode",
            "\"wal\"",
        ),
        (
            "database = { engine = \"sqlite\" }\npooler = { pool_mode = \"transaction\" }",
            "phase[0].pooler",
            "SQLite",
        ),
        (
            "pooler = { pool_mode = \"statement\" }\ndatabase = { cores = 1 }",
            "phase[0].pooler.pool_mode",
            "\"transaction\"",
        ),
    ];
    for (extra, field, hint) in cases {
        let err = scenario::parse(Path::new("x.toml"), &format!("{base}{extra}\n")).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.field, field, "{extra}: {err}");
        assert!(d.line >= 11, "located on the phase's lines: {err}");
        assert!(d.message.contains(hint), "{extra}: {}", d.message);
    }
}

#[test]
fn a_child_phase_switching_engine_does_not_inherit_the_other_engines_settings() {
    let src = r#"
[workload]
think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "r"
weight = 1
db = { dist = "exponential", mean_ms = 1 }
[[phase]]
name = "SQLite"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
database = { engine = "sqlite", journal_mode = "wal", busy_timeout_ms = 100 }
[[phase]]
name = "PostgreSQL on 3 hosts"
extends = "SQLite"
app = { hosts = 3 }
database = { engine = "postgres", cores = 2 }
"#;
    let sc = parse("x.toml", src);
    assert_eq!(sc.phases.len(), 2);
}

/// A transaction of `statements` statements, 2 ms of database time in all,
/// 1 ms client round trips, open arrivals at `lambda`.
fn statements_model(statements: u32, lambda: f64, max_connections: u32) -> Model {
    let text = format!(
        r#"
[workload]
arrival_rate_per_s = {lambda}
[[workload.request]]
name = "r"
weight = 1
kind = "read"
db = {{ dist = "constant", mean_ms = 2 }}
statements = {statements}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 100000 }}
network = {{ rtt_ms = 1 }}
database = {{ engine = "postgres", cores = 256, max_connections = {max_connections}, contention = 0 }}
"#
    );
    model(&text)
}

#[test]
fn each_statement_after_the_first_costs_a_round_trip_inside_the_transaction() {
    // Idle servers: a request takes its first round trip, then the 2 ms of
    // its statements and a round trip before each statement after the first.
    for k in [1u32, 3, 7] {
        let st = simulate(&statements_model(k, 50.0, 100_000), 0, 20_000, 3);
        let mean = type_mean_ms(&st, 0);
        let exact = 1.0 + 2.0 + (k - 1) as f64;
        // The clock counts whole nanoseconds: up to one lost or gained per
        // statement's share of the 2 ms.
        assert!(
            (mean - exact).abs() <= k as f64 * 1e-6 + 1e-9,
            "{k} statements: mean {mean} ms, exact {exact} ms"
        );
    }
    // The connection is held through the round trips between statements:
    // an Erlang loss system whose holding time is 2 ms + (k − 1) × 1 ms.
    let (lambda, c, k) = (1000.0, 5u32, 5u32);
    let m = statements_model(k, lambda, c);
    let st = simulate(&m, 0, 200_000, 6);
    let a = lambda * (2.0 + (k - 1) as f64) / 1e3;
    let mut b = 1.0;
    for n in 1..=c {
        b = a * b / (n as f64 + a * b);
    }
    let refused = st.errors[ErrorCause::Refused as usize] as f64 / st.departures() as f64;
    assert!(
        (refused - b).abs() < 0.01,
        "refused {refused:.4}, Erlang B({c}, {a}) = {b:.4}"
    );
}

#[test]
fn statements_without_database_time_are_refused() {
    let text = r#"
[workload]
arrival_rate_per_s = 10
[[workload.request]]
name = "r"
weight = 1
statements = 3
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
"#;
    let e = scenario::parse(Path::new("s.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("s.toml:7:14: workload.request[0].statements: statements are the parts of a database transaction"),
        "{e}"
    );
}

#[test]
fn a_row_lock_is_held_from_the_statement_that_takes_it_to_commit() {
    // One hot row, Poisson writers: the row is an M/D/1 queue whose service
    // is the time from the locking statement to commit, so a writer finds
    // it locked with probability ρ = λ·H (PASTA). Five statements of 0.4 ms
    // with a 1 ms round trip before each after the first: locked from the
    // first, H = 5 × 0.4 + 4 × 1 = 6 ms; from the third, H = 3 × 0.4 + 2 × 1
    // = 3.2 ms.
    let lambda = 100.0;
    for (from, h_ms) in [(1u32, 6.0), (3, 3.2)] {
        let text = format!(
            r#"
[workload]
arrival_rate_per_s = {lambda}
keys = {{ count = 1 }}
[[workload.request]]
name = "w"
weight = 1
kind = "write"
db = {{ dist = "constant", mean_ms = 2 }}
statements = 5
lock_from_statement = {from}
[[phase]]
name = "p"
app = {{ hosts = 1, cores_per_host = 256, workers_per_host = 100000 }}
network = {{ rtt_ms = 1 }}
database = {{ engine = "postgres", cores = 256, max_connections = 100000, synchronous_commit = "off", contention = 0 }}
"#
        );
        let st = simulate(&model(&text), 0, 100_000, 9);
        let waited = st.db.row_lock_waits as f64 / st.db.row_locks as f64;
        let rho = lambda * h_ms / 1e3;
        assert!(
            (waited - rho).abs() < 0.015,
            "locked from statement {from}: waited {waited:.4}, ρ = {rho:.4}"
        );
    }
    let bad = r#"
[workload]
arrival_rate_per_s = 10
[[workload.request]]
name = "w"
weight = 1
kind = "write"
db = { dist = "constant", mean_ms = 2 }
statements = 3
lock_from_statement = 4
[[phase]]
name = "p"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
database = { engine = "postgres", cores = 2 }
"#;
    let e = scenario::parse(Path::new("s.toml"), bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("s.toml:10:23: workload.request[0].lock_from_statement: must be the statement that takes the row lock, counted from 1 up to `statements`"),
        "{e}"
    );
}

// ------------------------------------------------- connection lifetimes

/// `users` closed-loop users without think time against PostgreSQL on cores
/// too many to queue: a request is 1 ms of database work (constant), no app
/// CPU; `db_extra` goes into `[phase.database]`.
fn connection_lifetime(hosts: u32, rtt_ms: f64, db_extra: &str) -> String {
    format!(
        r#"
[workload]
think_time = {{ dist = "constant", mean_s = 0 }}
[[workload.request]]
name = "q"
weight = 1
db = {{ dist = "constant", mean_ms = 1 }}
[[phase]]
name = "p"
app = {{ hosts = {hosts}, cores_per_host = 64, workers_per_host = 1000 }}
network = {{ rtt_ms = {rtt_ms} }}
[phase.database]
engine = "postgres"
cores = 256
max_connections = 1000
connect_ms = 2
{db_extra}
"#
    )
}

#[test]
fn a_request_that_opens_its_own_connection_pays_the_handshake_and_the_backend_start_up() {
    let rtt = 0.5;
    let mean_ms = |extra: &str| {
        let s = simulate(&model(&connection_lifetime(1, rtt, extra)), 1, 2_000, 3);
        s.response_sum_ns / s.completed as f64 / 1e6
    };
    // Kept-open connections: one round trip and the query.
    let kept = mean_ms("");
    assert!((kept - (rtt + 1.0)).abs() < 1e-6, "kept open: {kept} ms");
    // Opened per request: the handshake's round trips, the backend's
    // start-up (connect_ms) on the server, then the query.
    let trips = capsim::defaults::PG_CONNECT_ROUND_TRIPS as f64;
    let opened = mean_ms("connections = \"request\"");
    let want = trips * rtt + 2.0 + 1.0;
    assert!(
        (opened - want).abs() < 1e-6,
        "opened per request: {opened} ms, want {want} ms"
    );
}

#[test]
fn a_client_pool_per_app_host_caps_each_hosts_transactions_and_stays_open() {
    // 40 users without think time, 1 ms per transaction: a pool of 2 per host
    // is always lent out, so each host completes 2 transactions per ms, and
    // its 2 connections, once opened, stay open.
    for hosts in [1u32, 2] {
        let m = model(&connection_lifetime(hosts, 0.0, "client_pool = 2"));
        let s = simulate(&m, 40, 40_000, 4);
        let x = s.completed as f64 / s.window_s;
        let want = 2_000.0 * hosts as f64;
        assert!(
            (x / want - 1.0).abs() < 0.01,
            "{hosts} hosts: {x} transactions/s, want {want}"
        );
        let open = s.db.connections;
        assert!(
            (open - 2.0 * hosts as f64).abs() < 1e-3,
            "{hosts} hosts: {open} connections open on average"
        );
    }
    // Without the pool the same load runs 40 transactions at once.
    let s = simulate(&model(&connection_lifetime(1, 0.0, "")), 40, 40_000, 4);
    let x = s.completed as f64 / s.window_s;
    assert!((x / 40_000.0 - 1.0).abs() < 0.01, "no pool: {x}/s");
}

#[test]
fn a_transaction_that_waits_past_the_client_pools_timeout_fails() {
    // One connection, 10 ms per transaction, 20 users: a transaction waits
    // ~190 ms for its turn, past a 50 ms pool_timeout.
    let text = connection_lifetime(1, 0.0, "client_pool = 1\nclient_pool_timeout_s = 0.05")
        .replace("mean_ms = 1 }", "mean_ms = 10 }");
    let s = simulate(&model(&text), 20, 5_000, 5);
    let failed: u64 = s.errors.iter().sum();
    assert!(
        failed > s.completed,
        "{failed} failed, {} served",
        s.completed
    );
    // With the default timeout (10 s) nobody fails.
    let text = text.replace("client_pool_timeout_s = 0.05", "");
    let s = simulate(&model(&text), 20, 5_000, 5);
    assert_eq!(s.errors.iter().sum::<u64>(), 0);
}
