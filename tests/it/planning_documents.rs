//! What an architect pastes into a planning document stands on its own:
//! bounds are written as bounds (a blank and a status, never a 0 read as
//! measured), the plan keeps headroom and refuses a step within the noise,
//! numbers keep their significant digits, and every resource has one
//! readable name.

use crate::helpers::{csv_rows, simulate, temp_dir};
use std::path::Path;

/// A closed model with one FCFS server of 10 ms and a 1 s think time
/// (saturates near 101 users), priced at $50 a month, with the SLO and the
/// claims given.
fn one_server(slo: &str, claims: &str) -> String {
    format!(
        r#"
name = "One server"
seed = 7

[workload]
think_time = {{ dist = "exponential", mean_s = 1 }}

[[workload.request]]
name = "job"
weight = 1.0

[slo]
{slo}

[sweep]
users = [5, 10, 20]
replications = 2
measured_requests = 2000

[[phase]]
name = "Single"
cost = [{{ item = "server", usd_month = 50 }}]
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[phase.plan]
job = [{{ use = "server", demand = {{ dist = "exponential", mean_ms = 10 }} }}]

{claims}
"#
    )
}

fn run(dir: &Path, text: &str, extra: &[&str]) -> std::path::PathBuf {
    let file = dir.join("one.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    simulate()
        .arg(&file)
        .args(["--out", out.to_str().unwrap(), "--quiet", "--no-plots"])
        .args(extra)
        .assert()
        .success();
    out
}

#[test]
fn an_unknown_capacity_is_a_blank_with_a_status_never_0() {
    let dir = temp_dir();
    // No response is ever faster than a microsecond: not one user meets it.
    let out = run(dir.path(), &one_server("p95_ms = 0.001", ""), &[]);
    for (file, status) in [
        ("one/capacity.csv", "status"),
        ("one/costs.csv", "capacity_status"),
        ("summary.csv", "capacity_status"),
    ] {
        let rows = csv_rows(&out.join(file));
        assert_eq!(rows.len(), 1, "{file}");
        let r = &rows[0];
        assert_eq!(r[status], "none", "{file}: {r:?}");
        assert_eq!(r["capacity_users"], "", "{file}: a blank, not 0: {r:?}");
        assert_eq!(r["capacity_users_at_least"], "", "{file}: {r:?}");
    }
    let costs = &csv_rows(&out.join("one/costs.csv"))[0];
    assert_eq!(costs["usd_per_1k_users_at_capacity"], "");
    assert_eq!(costs["usd_month_at_capacity"], "");

    // Without bisection (--users given), a first count that already misses
    // the SLO leaves the capacity below the grid, not 0.
    let out = run(
        dir.path(),
        &one_server("p95_ms = 0.001", ""),
        &["--users", "5,10"],
    );
    let r = &csv_rows(&out.join("one/capacity.csv"))[0];
    assert_eq!(r["status"], "below_grid", "{r:?}");
    assert_eq!(r["capacity_users"], "");
    assert_eq!(r["fails_at_users"], "5");
}

#[test]
fn a_capacity_above_the_grid_is_a_lower_bound_and_verdicts_on_it_wait_for_the_bound_to_decide() {
    let dir = temp_dir();
    // Every load up to 20 users meets a 10 s p95: capacity ≥ 20, unknown above.
    let claims = r#"
[[claim]]
id = "LOOSE"
phase = "Single"
quote = "under $5,000 per 1k users"
expect = { cost_per_1k_users = { max = 5000 } }

[[claim]]
id = "TIGHT"
phase = "Single"
quote = "under $100 per 1k users"
expect = { cost_per_1k_users = { max = 100 } }

[[claim]]
id = "CAP"
phase = "Single"
quote = "at most 10 users"
expect = { capacity_users = { max = 10 } }
"#;
    let out = run(dir.path(), &one_server("p95_ms = 10000", claims), &[]);
    let cap = &csv_rows(&out.join("one/capacity.csv"))[0];
    assert_eq!(cap["status"], "above_grid");
    assert_eq!(cap["capacity_users"], "", "a bound is not a measurement");
    assert_eq!(cap["capacity_users_at_least"], "20");
    let costs = &csv_rows(&out.join("one/costs.csv"))[0];
    assert_eq!(costs["capacity_users"], "");
    assert_eq!(costs["usd_per_1k_users_at_capacity"], "");
    assert_eq!(costs["capacity_users_at_least"], "20");

    let claims = csv_rows(&out.join("one/claims.csv"));
    let by = |id: &str| claims.iter().find(|c| c["claim"] == id).unwrap();
    // $50 over ≥ 20 users is at most $2,500 per 1k: that bound decides ≤ 5000…
    let loose = by("LOOSE");
    assert_eq!(loose["verdict"], "supported", "{loose:?}");
    assert_eq!(loose["simulated"], "");
    let at_most: f64 = loose["simulated_at_most"].parse().unwrap();
    assert!((at_most - 50.0 / 20.0 * 1000.0).abs() < 1e-6, "{loose:?}");
    // …but not ≤ 100: a larger capacity might bring it there.
    assert_eq!(by("TIGHT")["verdict"], "inconclusive", "{:?}", by("TIGHT"));
    // Capacity ≥ 20 does decide "at most 10 users".
    let cap_claim = by("CAP");
    assert_eq!(cap_claim["verdict"], "refuted");
    assert_eq!(cap_claim["simulated_at_least"], "20");
    assert_eq!(cap_claim["simulated"], "");
}

#[test]
fn a_headroom_of_the_whole_capacity_is_refused_with_what_would_be_valid() {
    let dir = temp_dir();
    let file = dir.path().join("one.toml");
    std::fs::write(&file, one_server("p95_ms = 100\nheadroom = 1", "")).unwrap();
    let out = simulate().arg(&file).arg("--check").assert().code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("one.toml:14:12"), "{err}");
    assert!(err.contains("slo.headroom"), "{err}");
    assert!(err.contains("from 0 to below 1"), "{err}");
}

/// Erlang C: the probability that an arrival to M/M/c with offered load
/// `a` erlangs waits for a server.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut below = 0.0;
    for k in 0..c {
        below += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(c) / (f64::from(c) - a);
    top / (below + top)
}

#[test]
fn the_wait_for_a_server_of_m_m_8_matches_erlang_c() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    simulate()
        .arg(crate::helpers::validation_scenario("mmc8.toml"))
        .args(["--out", out.to_str().unwrap(), "--quiet", "--no-plots"])
        .args(["--replications", "4", "--measured-requests", "200000"])
        .assert()
        .success();
    // λ = 128/s, service 50 ms (μ = 20/s), c = 8: a = 6.4 erlangs.
    let (c, lambda, mu) = (8, 128.0, 20.0);
    let p_wait = erlang_c(c, lambda / mu);
    let drain = f64::from(c) * mu - lambda; // cμ − λ, per second
    let mean_wait_ms = p_wait / drain * 1e3;
    // P(Wq > t) = C·e^(−(cμ−λ)t).
    let p95_wait_ms = (p_wait / 0.05).ln() / drain * 1e3;
    let rows = csv_rows(&out.join("mmc8/resources.csv"));
    assert_eq!(rows.len(), 4, "one station × 4 replications");
    let mean_of = |col: &str| {
        rows.iter()
            .map(|r| {
                r[col]
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("{col}: {r:?}"))
            })
            .sum::<f64>()
            / rows.len() as f64
    };
    for (col, exact) in [
        ("p_wait", p_wait),
        ("mean_wait_ms", mean_wait_ms),
        ("p95_wait_ms", p95_wait_ms),
    ] {
        let got = mean_of(col);
        assert!(
            (got - exact).abs() <= 0.05 * exact,
            "{col}: simulated {got}, Erlang C {exact}"
        );
    }
}

#[test]
fn report_md_states_its_assumptions() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    simulate()
        .arg(crate::helpers::repo("scenarios/examples/shop_growth.toml"))
        .args(["--out", out.to_str().unwrap(), "--quiet", "--no-plots"])
        .args([
            "--users",
            "100",
            "--replications",
            "2",
            "--measured-requests",
            "2000",
        ])
        .assert()
        .success();
    let report = crate::helpers::read(&out.join("shop_growth/report.md"));
    let start = report.find("## Assumptions").expect("an assumptions block");
    let end = start
        + report[start..]
            .find("\n## Capacity")
            .expect("capacity after it");
    let block = &report[start..end];
    // What must be in it, whatever its wording: think time, the mix, the
    // demands, the SLO, the headroom, the seed and the version.
    for needle in [
        "think",
        "%",
        "app CPU",
        "database",
        "p95 ≤",
        "headroom",
        "Seed",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(block.contains(needle), "no `{needle}` in:\n{block}");
    }
    insta::assert_snapshot!("shop_growth_assumptions", block);
}

#[test]
fn summary_csv_keeps_the_rows_of_scenarios_not_rerun() {
    let dir = temp_dir();
    let out = dir.path().join("out");
    let run = |files: &[&str]| {
        let mut cmd = simulate();
        for f in files {
            cmd.arg(crate::helpers::data(f));
        }
        cmd.args(["--out", out.to_str().unwrap(), "--quiet", "--no-plots"])
            .args([
                "--users",
                "10",
                "--replications",
                "2",
                "--measured-requests",
                "1000",
            ])
            .assert()
            .success();
    };
    let scenarios = |rows: &[std::collections::HashMap<String, String>]| {
        let mut s: Vec<String> = rows.iter().map(|r| r["scenario"].clone()).collect();
        s.dedup();
        s
    };
    run(&["claims.toml", "interrupt_small.toml"]);
    let both = csv_rows(&out.join("summary.csv"));
    assert_eq!(scenarios(&both), ["claims", "interrupt_small"]);
    // Rerunning one scenario replaces its rows and keeps the other's.
    run(&["interrupt_small.toml"]);
    let after = csv_rows(&out.join("summary.csv"));
    assert_eq!(after, both, "same scenario, same seed: the same rows");
    assert_eq!(scenarios(&after), ["claims", "interrupt_small"]);
}
