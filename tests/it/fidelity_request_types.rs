//! Per-request-type percentiles and error causes (issue 12, item 2): the
//! engine keeps one response-time histogram and one error count per cause
//! for each request type, and `requests.csv` writes them.
//!
//! The reference is exact: two request types, each served by its own M/M/1
//! server, fed by one Poisson stream split by weight (each type's arrivals
//! are Poisson too). A type's sojourn time in M/M/1 (FCFS) is exponential
//! with rate μ − λ, so its q-quantile is −ln(1 − q) / (μ − λ). The run-level
//! histogram mixes both types and matches neither: a per-type quantile
//! computed from the mixture (or from the wrong type) fails.

use capsim::dist::Dist;
use capsim::engine::stats::{ErrorCause, RunStats};
use capsim::engine::{run, RunConfig};
use capsim::model::{Discipline, Model, Population, Resource, Station, Step, WaitPolicy};

const MS: f64 = 1e6;

fn station(name: &str) -> Station {
    Station {
        name: name.into(),
        discipline: Discipline::Fcfs,
        servers: 1,
        contention: 0.0,
    }
}

fn simulate(m: &Model, measured: u64, seed: u64) -> RunStats {
    let mut cfg = RunConfig::new(0, seed);
    cfg.warmup_requests = measured / 10;
    cfg.measured_requests = measured;
    run(m, &cfg)
}

/// M/M/1 sojourn quantile, in ms, for arrival rate `lambda` and service
/// rate `mu` (per second).
fn mm1_sojourn_quantile_ms(lambda: f64, mu: f64, q: f64) -> f64 {
    -(1.0 - q).ln() / (mu - lambda) * 1e3
}

#[test]
fn per_type_percentiles_match_each_types_own_mm1_queue() {
    // 1,000 arrivals/s, half of each type. Fast: 0.8 ms mean service
    // (ρ = 0.4); slow: 1.6 ms (ρ = 0.8).
    let rate = 1000.0;
    let (fast_mean_ms, slow_mean_ms) = (0.8, 1.6);
    let m = Model::network(
        vec![station("fast"), station("slow")],
        vec![],
        &[
            vec![Step::Use {
                station: 0,
                demand: Dist::Exponential {
                    mean_ns: fast_mean_ms * MS,
                },
            }],
            vec![Step::Use {
                station: 1,
                demand: Dist::Exponential {
                    mean_ns: slow_mean_ms * MS,
                },
            }],
        ],
        [("fast".to_string(), 0.5), ("slow".to_string(), 0.5)],
        Population::Open { rate_per_s: rate },
        None,
    );
    let s = simulate(&m, 400_000, 12);
    for (k, mean_ms) in [(0, fast_mean_ms), (1, slow_mean_ms)] {
        let (lambda, mu) = (rate * 0.5, 1e3 / mean_ms);
        for q in [0.50, 0.95, 0.99] {
            let exact = mm1_sojourn_quantile_ms(lambda, mu, q);
            let got = s.type_quantile_ms(k, q);
            // Sampling error of a quantile of ~200,000 correlated sojourns
            // (ρ = 0.8 at worst): a few percent; the histogram adds 0.1%.
            // The other type's quantile differs by 3× (slow vs fast) and the
            // mixture's by over 25%, so either mistake fails here.
            assert!(
                (got / exact - 1.0).abs() < 0.06,
                "type {k}, q {q}: {got:.3} ms, M/M/1 says {exact:.3} ms"
            );
        }
    }
    // The mixture is not either type: its p95 lies strictly between them.
    let (fast, slow, all) = (
        s.type_quantile_ms(0, 0.95),
        s.type_quantile_ms(1, 0.95),
        s.quantile_ms(0.95),
    );
    assert!(
        fast * 1.25 < all && all < slow / 1.05,
        "{fast} {all} {slow}"
    );
    // Every completed request is in exactly one type's histogram.
    let recorded: u64 = s.per_type_response.iter().map(|h| h.len()).sum();
    assert_eq!(recorded, s.completed);
    assert_eq!(recorded, s.response.len());
}

#[test]
fn per_type_errors_are_counted_by_cause_and_type() {
    // Type "lossy" holds one unit of a loss resource (Erlang B, 1 server,
    // no waiting room) for an exponential 1 ms; type "free" never touches
    // it. With 500 lossy arrivals/s the offered load is a = 0.5 erlang and
    // Erlang B gives a blocking probability of a / (1 + a) = 1/3.
    let m = Model::network(
        vec![Station {
            name: "delay".into(),
            discipline: Discipline::Delay,
            servers: 1,
            contention: 0.0,
        }],
        vec![Resource {
            name: "loss".into(),
            capacity: 1,
            policy: WaitPolicy {
                max_waiting: Some(0),
                timeout_ns: None,
            },
        }],
        &[
            vec![
                Step::Acquire(0),
                Step::Use {
                    station: 0,
                    demand: Dist::Exponential { mean_ns: 1.0 * MS },
                },
                Step::Release(0),
            ],
            vec![Step::Use {
                station: 0,
                demand: Dist::Exponential { mean_ns: 1.0 * MS },
            }],
        ],
        [("lossy".to_string(), 0.5), ("free".to_string(), 0.5)],
        Population::Open { rate_per_s: 1000.0 },
        None,
    );
    let s = simulate(&m, 300_000, 3);
    let lossy = &s.per_type[0];
    let free = &s.per_type[1];
    assert_eq!(free.errors, 0);
    assert_eq!(free.errors_by_cause, [0; ErrorCause::COUNT]);
    assert_eq!(lossy.errors, lossy.errors_by_cause.iter().sum::<u64>());
    assert_eq!(
        lossy.errors,
        lossy.errors_by_cause[ErrorCause::Refused as usize],
        "a full loss resource refuses: no timeouts, no SQLITE_BUSY"
    );
    let blocked = lossy.errors as f64 / (lossy.errors + lossy.completed) as f64;
    assert!(
        (blocked - 1.0 / 3.0).abs() < 0.01,
        "Erlang B(1, 0.5) = 1/3, measured {blocked:.4}"
    );
    // The run-level counts are the sums of the per-type ones.
    for c in ErrorCause::ALL {
        let by_type: u64 = s
            .per_type
            .iter()
            .map(|t| t.errors_by_cause[c as usize])
            .sum();
        assert_eq!(by_type, s.errors[c as usize], "{}", c.name());
    }
}

#[test]
fn requests_csv_has_per_type_percentiles_and_error_causes() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("two_types.toml");
    std::fs::write(
        &scenario,
        r#"
name = "two types"
seed = 5
[workload]
think_time = { dist = "exponential", mean_s = 0.01 }
[[workload.request]]
name = "quick"
weight = 0.5
kind = "read"
app_cpu = { dist = "exponential", mean_ms = 0.5 }
[[workload.request]]
name = "slow"
weight = 0.5
kind = "read"
app_cpu = { dist = "exponential", mean_ms = 5 }
[sweep]
users = [4]
replications = 1
warmup_requests = 1000
measured_requests = 20000
[[phase]]
name = "one host"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 2, backlog = 0 }
"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success());
    let csv = std::fs::read_to_string(out.join("two_types/requests.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(head, capsim::report::REQUESTS_COLUMNS);
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // One row per run × type: the sweep may add replications of its own.
    assert!(
        rows.len() >= 2 && rows.len().is_multiple_of(2),
        "{} rows",
        rows.len()
    );
    let num = |r: &Vec<&str>, c: &str| r[col(c)].parse::<f64>().unwrap();
    for r in &rows {
        assert!(num(r, "p50_ms") <= num(r, "p95_ms") && num(r, "p95_ms") <= num(r, "p99_ms"));
        let causes = num(r, "errors_refused") + num(r, "errors_timeout") + num(r, "errors_busy");
        assert_eq!(causes, num(r, "errors"));
        assert_eq!(num(r, "errors_timeout") + num(r, "errors_busy"), 0.0);
    }
    let mut refused = 0.0;
    for run in rows.chunks(2) {
        let (quick, slow) = (&run[0], &run[1]);
        assert_eq!(quick[col("request")], "quick");
        assert_eq!(slow[col("request")], "slow");
        // Ten times the demand: the slow type's p95 is several times the quick one's.
        assert!(num(slow, "p95_ms") > 4.0 * num(quick, "p95_ms"));
        refused += num(quick, "errors_refused") + num(slow, "errors_refused");
    }
    // Four users, two workers, no waiting room: some requests are refused.
    assert!(refused > 0.0);
}

#[test]
fn a_single_request_type_has_the_runs_histogram() {
    // One type: its histogram is the run's (kept once, copied at the end).
    let m = Model::network(
        vec![station("only")],
        vec![],
        &[vec![Step::Use {
            station: 0,
            demand: Dist::Exponential { mean_ns: 1.0 * MS },
        }]],
        [("only".to_string(), 1.0)],
        Population::Open { rate_per_s: 500.0 },
        None,
    );
    let s = simulate(&m, 50_000, 1);
    assert_eq!(s.per_type_response.len(), 1);
    assert_eq!(s.per_type_response[0].len(), s.completed);
    for q in [0.5, 0.95, 0.99] {
        assert_eq!(s.type_quantile_ms(0, q), s.quantile_ms(q));
        let exact = mm1_sojourn_quantile_ms(500.0, 1000.0, q);
        assert!((s.type_quantile_ms(0, q) / exact - 1.0).abs() < 0.08);
    }
}
