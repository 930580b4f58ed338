//! Ranges and the uncertainty study: on exactly solvable models, `p_holds`
//! matches the exact probability that the claim holds (computed here from
//! the range and the M/M/1 formula, or exact MVA) within its 95% interval;
//! the study's files are byte-identical across `--jobs` and runs; ranges
//! that make no sense are refused with file, line, column and field.

use crate::helpers::{files_under, parse, plan, simulate, temp_dir};
use capsim::outcome::uncertainty::Robust;
use capsim::scenario;
use capsim::sweep::{Silent, SweepOptions};
use std::path::Path;

/// M/M/1 at λ = 50/s with a service time uniform on 5–15 ms; the guide
/// claims a mean response of at most 25 ms.
const MM1: &str = r#"
name = "M/M/1 with an open service time"
seed = 5

[workload]
arrival_rate_per_s = 50

[[workload.request]]
name = "job"
weight = 1.0

[sweep]
replications = 4
max_replications = 4
warmup_requests = 5_000
measured_requests = 40_000

[uncertainty]
designs = 40

[[phase]]
name = "M/M/1"
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[phase.plan]
# Service time: "5 to 15 ms" (the range under test).
job = [{ use = "server", demand = { dist = "exponential", mean_ms = { low = 5, high = 15 } } }]

[[claim]]
id = "fast"
phase = "M/M/1"
quote = "mean response under 25 ms"
expect = { mean_ms = { max = 25 } }
"#;

#[test]
fn mm1_p_holds_matches_the_exact_probability() {
    let sc = parse("mm1_range.toml", MM1);
    assert_eq!(sc.uncertainty.ranges.len(), 1);
    let r = &sc.uncertainty.ranges[0];
    assert_eq!(r.path, "phase[0].plan.job[0].demand.mean_ms");
    let plan = plan(&sc, &SweepOptions::default());
    let o = capsim::run::analyse(&plan, &Silent);
    let study = o.uncertainty.as_ref().expect("a study");
    assert_eq!(study.designs.len(), 40);
    // Exact: R(S) = S / (1 − λS) ≤ x  ⇔  S ≤ x / (1 + λx).
    let (lambda, x) = (50.0 / 1000.0, 25.0); // per ms, ms
    let s_star = x / (1.0 + lambda * x);
    let exact = ((s_star - r.low) / (r.high - r.low)).clamp(0.0, 1.0);
    let c = &study.claims[0];
    assert_eq!(c.designs, 40);
    assert!(
        c.p_low <= exact && exact <= c.p_high,
        "p_holds {:.3} ({:.3}–{:.3}) vs exact {exact:.3}",
        c.p_holds,
        c.p_low,
        c.p_high
    );
    assert_eq!(c.robust, Robust::Depends);
    assert_eq!(c.depends_on, Some(0));
    // Each design holds exactly when its own service time is below S*
    // (a design right at the threshold may go either way).
    let wrong = study
        .designs
        .iter()
        .filter(|d| (d.values[0] - s_star).abs() > 0.3)
        .filter(|d| d.claims[0].holds != (d.values[0] < s_star))
        .count();
    assert_eq!(wrong, 0, "designs judged against their own service time");
    // The point run is at the mid value, 10 ms: R = 10 / (1 − 0.5) = 20 ms.
    let v = &o.verdicts[0];
    assert!((v.value.mean - 20.0).abs() < 1.5, "{:?}", v.value);
}

/// Exact MVA of one FCFS exponential server (`s` seconds) behind `n` users
/// thinking `z` seconds: mean response in seconds.
fn mva_response(z: f64, s: f64, n: u32) -> f64 {
    let (mut q, mut r) = (0.0, s);
    for k in 1..=n {
        r = s * (1.0 + q);
        q = k as f64 / (z + r) * r;
    }
    r
}

/// 100 users, a 10 ms server, think time uniform on 0.5–2 s (log-uniform in
/// the second test); the claim: mean response at most 50 ms.
fn closed(spread: &str) -> String {
    format!(
        r#"
name = "Closed model with an open think time"
seed = 9

[workload]
# Think time: "between half a second and two seconds" (the range under test).
think_time = {{ dist = "exponential", mean_s = {{ low = 0.5, high = 2.0{spread} }} }}

[[workload.request]]
name = "job"
weight = 1.0

[sweep]
users = [100]
replications = 4
max_replications = 4
warmup_requests = 5_000
measured_requests = 40_000

[slo]
p95_ms = 100_000

[uncertainty]
designs = 40

[[phase]]
name = "one server"
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[phase.plan]
job = [{{ use = "server", demand = {{ dist = "exponential", mean_ms = 10 }} }}]

[[claim]]
id = "quick"
phase = "one server"
quote = "100 users see under 50 ms"
users = 100
expect = {{ mean_ms = {{ max = 50 }} }}
"#
    )
}

/// The think time at which exact MVA gives 100 users a mean response of
/// 50 ms (R falls as Z grows): bisection.
fn break_even_think() -> f64 {
    let (mut lo, mut hi) = (0.01, 10.0);
    for _ in 0..100 {
        let z = 0.5 * (lo + hi);
        if mva_response(z, 0.010, 100) > 0.050 {
            lo = z;
        } else {
            hi = z;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn closed_p_holds_matches_exact_mva() {
    let z_star = break_even_think();
    for (spread, exact) in [
        ("", (2.0 - z_star) / 1.5),
        (
            ", scale = \"log\"",
            (2f64.ln() - z_star.ln()) / (2f64.ln() - 0.5f64.ln()),
        ),
    ] {
        let sc = parse("closed_range.toml", &closed(spread));
        let plan = plan(&sc, &SweepOptions::default());
        let o = capsim::run::analyse(&plan, &Silent);
        let c = &o.uncertainty.as_ref().expect("a study").claims[0];
        assert!(
            (0.05..0.95).contains(&exact),
            "the test needs a claim that depends: exact {exact}"
        );
        assert!(
            c.p_low <= exact && exact <= c.p_high,
            "{spread}: p_holds {:.3} ({:.3}–{:.3}) vs exact MVA {exact:.3} (Z* = {z_star:.3} s)",
            c.p_holds,
            c.p_low,
            c.p_high
        );
    }
}

#[test]
fn designs_0_is_the_point_run_alone_and_equals_the_scenario_at_mid() {
    let sc = parse("closed_range.toml", &closed(""));
    let opts = SweepOptions {
        designs: Some(0),
        ..SweepOptions::default()
    };
    let p = plan(&sc, &opts);
    let o = capsim::run::analyse(&p, &Silent);
    assert!(o.uncertainty.is_none());
    // The point run is the scenario written with the mid value: same runs.
    let mid = parse(
        "closed_range.toml",
        &closed("").replace("{ low = 0.5, high = 2.0 }", "1.25"),
    );
    let p2 = plan(&mid, &opts);
    let o2 = capsim::run::analyse(&p2, &Silent);
    assert_eq!(o.verdicts[0].value.mean, o2.verdicts[0].value.mean);
    assert!(mid.uncertainty.ranges.is_empty());
}

#[test]
fn study_outputs_are_byte_identical_across_jobs_and_runs() {
    let dir = temp_dir();
    let file = dir.path().join("closed_range.toml");
    // Two ranges so that the design is a real hypercube, and a tornado.
    let text = closed("").replace(
        "mean_ms = 10 }",
        "mean_ms = { low = 8, high = 12, name = \"server time\" } }",
    );
    std::fs::write(&file, text).unwrap();
    let run = |jobs: &str, out: &str| {
        simulate()
            .args(["--quiet", "--designs", "12", "--jobs", jobs, "--out"])
            .arg(dir.path().join(out))
            .arg(&file)
            .assert()
            .success();
        dir.path().join(out).join("closed_range")
    };
    let a = run("1", "a");
    let b = run("3", "b");
    let files = |d: &Path| {
        let mut f: Vec<_> = files_under(d)
            .into_iter()
            .map(|p| p.strip_prefix(d).unwrap().to_path_buf())
            .collect();
        f.sort();
        f
    };
    let names = files(&a);
    assert_eq!(names, files(&b));
    for f in [
        "uncertainty.csv",
        "tornado.csv",
        "tornado.png",
        "tornado.svg",
        "claims.csv",
    ] {
        assert!(names.iter().any(|n| n.ends_with(f)), "no {f}");
    }
    assert!(!names.iter().any(|n| n.ends_with("sensitivity.csv")));
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{} differs between --jobs 1 and --jobs 3",
            n.display()
        );
    }
    let unc = std::fs::read_to_string(a.join("uncertainty.csv")).unwrap();
    assert_eq!(unc.lines().count(), 1 + 12, "a row per design × phase");
    assert!(unc.lines().next().unwrap().contains("server time"));
    let claims = std::fs::read_to_string(a.join("claims.csv")).unwrap();
    assert!(claims
        .lines()
        .next()
        .unwrap()
        .ends_with("robust_verdict,depends_most_on"));
    let report = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(report.contains("## Robust verdicts"));
}

/// The diagnostics of scenario text, as `file:line:col field: message` lines.
fn errors(text: &str) -> String {
    match scenario::parse(Path::new("bad.toml"), text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_ranges_are_refused_with_place_field_and_what_is_valid() {
    let base = closed("");
    let with = |r: &str| base.replace("{ low = 0.5, high = 2.0 }", r);
    let e = errors(&with("{ low = 2, high = 1 }"));
    assert!(
        e.contains("bad.toml:7:") && e.contains("workload.think_time.mean_s"),
        "{e}"
    );
    assert!(e.contains("low (2) must be below high (1)"), "{e}");
    let e = errors(&with("{ low = 1, mode = 5, high = 2 }"));
    assert!(
        e.contains("workload.think_time.mean_s.mode") && e.contains("must lie from low"),
        "{e}"
    );
    let e = errors(&with("{ low = 0, high = 2, scale = \"log\" }"));
    assert!(e.contains("needs low above 0"), "{e}");
    let e = errors(&with("{ low = 1, high = 2, scale = \"cubic\" }"));
    assert!(e.contains("mean_s.scale"), "{e}");
    // Each end must be a valid value of the field: a negative think time is not.
    let e = errors(&with("{ low = -1, high = 2 }"));
    assert!(e.contains("with every range at its low end"), "{e}");
    assert!(
        e.contains("bad.toml:7:") && e.contains("workload.think_time"),
        "{e}"
    );
    let e = errors(&base.replace("designs = 40", "designs = -3"));
    assert!(e.contains("uncertainty.designs"), "{e}");
}
