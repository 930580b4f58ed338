//! The architecture each measured series of tests/data/real/ ran on, as the
//! base scenario `simulate calibrate --base` fits: what the experimenter
//! knows (the engine and its settings, the machine's cores, the scheduler's
//! quantum, the disk's flush time, pgbench's script and scale) written out,
//! and the times they do not know named to fit. The values written for
//! those are first guesses from the series' lowest level, where the fit
//! starts; the fit moves them.

use crate::calibrate_real::{cores, median_of, real};
use std::collections::BTreeMap;

type Row = BTreeMap<String, String>;

fn f(r: &Row, col: &str) -> f64 {
    r[col]
        .parse()
        .unwrap_or_else(|_| panic!("column {col}: `{}` is not a number", r[col]))
}

/// The measured processes' scheduler quantum, ms: machine.csv's
/// `scheduler`, "SCHED_RR priority 1 (quantum 4 ms) …", set by measure.sh.
fn quantum_ms() -> f64 {
    let m = real("machine.csv");
    let s = &m
        .iter()
        .find(|r| r["key"] == "scheduler")
        .expect("scheduler")["value"];
    let after = s.split("quantum ").nth(1).expect("a quantum");
    after
        .split(' ')
        .next()
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("machine.csv scheduler: {s}"))
}

/// The seed of a base scenario: `default`, or `CAPSIM_BASE_SEED` when set,
/// to see how far another order of the simulation's random draws moves a
/// fit and its predictions (`CAPSIM_BASE_SEED=12 cargo test --release --test
/// it fidelity_predictions::prediction_table -- --nocapture`).
fn seed(default: u64) -> u64 {
    match std::env::var("CAPSIM_BASE_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("CAPSIM_BASE_SEED: `{v}` is not a seed")),
        Err(_) => default,
    }
}

/// The coefficient of variation of a lognormal whose median is `p50` and
/// whose quantile `z` standard deviations up is `upper` (σ = ln(upper /
/// p50) / z, cv² = e^σ² − 1), kept within 0.05–2. A demand written as an
/// exponential (cv 1) where the measured times are tight has a mean 1.44
/// times its median (1 / ln 2): fitted to the median, it would serve up to
/// 30% too little at one process.
fn lognormal_cv(p50: f64, upper: f64, z: f64) -> f64 {
    let sigma = (upper / p50).ln().max(0.0) / z;
    (sigma * sigma).exp_m1().sqrt().clamp(0.05, 2.0)
}

/// A base scenario for `series`, and the fields to fit.
pub(crate) fn base(series: &str) -> (String, Vec<String>) {
    if let Some(rest) = series.strip_prefix("sqlite_") {
        sqlite(rest)
    } else {
        postgres(series)
    }
}

/// `wal_normal_rw80_5000ms` and the like.
fn sqlite(rest: &str) -> (String, Vec<String>) {
    let rows: Vec<Row> = real("sqlite.csv")
        .into_iter()
        .filter(|r| format!("{}_{}_{}ms", r["mode"], r["workload"], r["busy_timeout_ms"]) == rest)
        .collect();
    let one = rows
        .iter()
        .find(|r| r["processes"] == "1")
        .expect("a K = 1 row");
    let (journal, sync) = match one["mode"].as_str() {
        "wal_normal" => ("wal", "normal"),
        "wal_full" => ("wal", "full"),
        _ => ("delete", "full"),
    };
    let busy = &one["busy_timeout_ms"];
    // The disk's flush, as the probe beside every point read it.
    let fsync = median_of(rows.iter().map(|r| f(r, "fdatasync_probe_ms")).collect());
    let x1 = f(one, "throughput_tps");
    let p50 = f(one, "p50_ms");
    // The driver's loop between transactions is the think time; the
    // statements run inside the transaction (BEGIN IMMEDIATE … COMMIT holds
    // the lock), so almost all of a write's time is the database's.
    let think_s = (1.0 / x1 - p50 / 1e3).max(1e-6);
    let write_ms = (f(one, "write_p50_ms") - if sync == "full" { fsync } else { 0.0 }).max(0.002);
    let reads = one["workload"] == "rw80";
    // Each statement's spread at one process: the write's p95, the read's p99.
    let write_cv = lognormal_cv(f(one, "write_p50_ms"), f(one, "write_p95_ms"), 1.645);
    let mut fit = vec![
        "workload.think_time.mean_s".to_string(),
        "workload.request.update.db.mean_ms".to_string(),
    ];
    // WAL's automatic checkpoint: the default (9 ms every 920 commits,
    // measurements.md) is another machine's; on this one it is fitted. It
    // is half a WAL NORMAL write's mean there, so a wrong one shows at one
    // process already.
    let checkpoint = if journal == "wal" {
        fit.push("phase.measured.database.checkpoint_ms".into());
        format!(
            "checkpoint_ms = {}\n",
            capsim::defaults::SQLITE_CHECKPOINT_MS
        )
    } else {
        String::new()
    };
    let read = if reads {
        fit.push("workload.request.select.db.mean_ms".into());
        format!(
            r#"
[[workload.request]]
name = "select"
weight = 0.8
kind = "read"
app_cpu = {{ dist = "exponential", mean_ms = 0.001 }}
db = {{ dist = "lognormal", mean_ms = {}, cv = {} }}
"#,
            f(one, "read_p50_ms").max(0.001),
            lognormal_cv(f(one, "read_p50_ms"), f(one, "read_p99_ms"), 2.326)
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"
name = "sqlite {rest}"
seed = {seed}
[workload]
think_time = {{ dist = "exponential", mean_s = {think_s} }}
{read}
[[workload.request]]
name = "update"
weight = {w}
kind = "write"
app_cpu = {{ dist = "exponential", mean_ms = 0.001 }}
db = {{ dist = "lognormal", mean_ms = {write_ms}, cv = {write_cv} }}
[sweep]
users = [1]
[[phase]]
name = "measured"
app = {{ hosts = 1, cores_per_host = {cores}, workers_per_host = 64, quantum_ms = {q} }}
[phase.database]
engine = "sqlite"
journal_mode = "{journal}"
synchronous = "{sync}"
busy_timeout_ms = {busy}
fsync_ms = {fsync}
commit_ms = 0.004
{checkpoint}"#,
        w = if reads { 0.2 } else { 1.0 },
        cores = cores(),
        seed = seed(11),
        q = quantum_ms(),
    );
    (text, fit)
}

/// pgbench against PostgreSQL on the same cores, directly (each client
/// keeps its connection; beyond max_connections − 3 for an ordinary role
/// pgbench aborts) or through PgBouncer's transaction pool of 20.
fn postgres(series: &str) -> (String, Vec<String>) {
    let (file, bouncer) = match series.strip_prefix("bouncer_") {
        Some(_) => ("pgbouncer.csv", true),
        None => ("postgres.csv", false),
    };
    let rows: Vec<Row> = real(file)
        .into_iter()
        .filter(|r| r["series"] == series)
        .collect();
    let low: Vec<&Row> = rows
        .iter()
        .filter(|r| ["1", "2", "4"].contains(&r["clients"].as_str()))
        .collect();
    let one = low
        .iter()
        .find(|r| r["clients"] == "1")
        .expect("a c = 1 row");
    let top = low
        .iter()
        .find(|r| r["clients"] == "4")
        .expect("a c = 4 row");
    let select = one["script"] == "select-only";
    let sync = one["synchronous_commit"].clone();
    let fsync = median_of(low.iter().map(|r| f(r, "fdatasync_probe_ms")).collect());
    let max_connections: u32 = one["max_connections"].parse().unwrap();
    let client = f(one, "client_cpu_ms_per_txn");
    let server = f(one, "server_cpu_ms_per_txn");
    // TPC-B: BEGIN; UPDATE accounts; SELECT accounts; UPDATE tellers;
    // UPDATE branches; INSERT history; END — 7 statements, the branch row
    // (one of `scale`) locked from the 5th to COMMIT.
    let scale = &one["scale"];
    let request = if select {
        format!(
            r#"[[workload.request]]
name = "txn"
weight = 1
kind = "read"
app_cpu = {{ dist = "exponential", mean_ms = {client} }}
db = {{ dist = "exponential", mean_ms = {server} }}"#
        )
    } else {
        format!(
            r#"keys = {{ count = {scale}, zipf = 0 }}
[[workload.request]]
name = "txn"
weight = 1
kind = "write"
statements = 7
lock_from_statement = 5
app_cpu = {{ dist = "exponential", mean_ms = {client} }}
db = {{ dist = "exponential", mean_ms = {server} }}"#
        )
    };
    let connections = if bouncer {
        format!(
            "[phase.pooler]\npool_mode = \"transaction\"\nmax_client_conn = {}\ndefault_pool_size = {}\ncpu_ms = {}\n",
            // measure.sh raises PgBouncer's client limit so that the pool,
            // not the limit, is measured.
            600,
            one["pool_size"],
            // At the highest of the levels fitted on: at one client the
            // figure is five times the loaded one (idle-core wake-ups).
            f(top, "pgbouncer_cpu_ms_per_txn").max(0.001)
        )
    } else {
        "connections = \"session\"\non_refused = \"abort\"\n".into()
    };
    let text = format!(
        r#"
name = "pgbench {series}"
seed = {seed}
[workload]
think_time = {{ dist = "constant", mean_s = 0 }}
{request}
[sweep]
users = [1]
[[phase]]
name = "measured"
app = {{ hosts = 1, cores_per_host = {cores}, workers_per_host = 1000, quantum_ms = {q} }}
network = {{ rtt_ms = 0.03 }}
[phase.database]
engine = "postgres"
host = "app"
max_connections = {mc}
synchronous_commit = "{sync}"
wal_flush_ms = {fsync}
{connections}"#,
        cores = cores(),
        seed = seed(5),
        q = quantum_ms(),
        mc = max_connections - 3,
    );
    // The loopback round trip between pgbench and the server is fitted
    // too: each statement's client → server → client hand-off blocks one
    // process and wakes the other, which is what keeps a time-sliced core
    // from running one client's transactions back to back.
    let fit = vec![
        "workload.request.txn.app_cpu.mean_ms".to_string(),
        "workload.request.txn.db.mean_ms".to_string(),
        "phase.measured.network.rtt_ms".to_string(),
    ];
    (text, fit)
}
