//! Verdicts on a model whose answers are known exactly, and the break-even
//! think time checked against exact mean value analysis; the report of the
//! same sweep, as `simulate --no-plots` writes it, pinned by a snapshot.

use crate::helpers::{data, load, plan, snapshot_settings};
use capsim::outcome::Verdict;
use capsim::report::markdown::render;
use capsim::sweep::{Silent, SweepOptions};

/// Exact MVA of think time `z` (s) in front of one FCFS server of mean `s`
/// (s): mean response at `n` users.
fn mva_response(z: f64, s: f64, n: u32) -> f64 {
    let mut q = 0.0;
    let mut r = s;
    for k in 1..=n {
        r = s * (1.0 + q);
        let x = k as f64 / (z + r);
        q = x * r;
    }
    r
}

#[test]
fn verdicts_and_break_even_on_a_known_model() {
    let sc = load(&data("claims.toml"));
    let plan = plan(&sc, &SweepOptions::default());
    // The path every `simulate` run takes.
    let outcome = capsim::run::analyse(&plan, &Silent);
    let verdicts = &outcome.verdicts;
    assert_eq!(verdicts.len(), sc.claims.len());
    let by_id = |id: &str| {
        let i = sc.claims.iter().position(|c| c.id == id).unwrap();
        verdicts.iter().find(|v| v.claim == i).unwrap()
    };

    // 10 users: exact mean response ≈ 11 ms, far below 20 ms.
    assert!(mva_response(1.0, 0.01, 10) < 0.0115);
    assert_eq!(by_id("light").verdict, Verdict::Supported);
    // 150 users are past the knee (101): the server is saturated and the
    // mean response is N/X − Z = 150/100 − 1 = 500 ms, not 50.
    assert_eq!(by_id("heavy").verdict, Verdict::Refuted);
    // $20 + $5, exactly.
    assert_eq!(by_id("cost").verdict, Verdict::Supported);
    assert_eq!(by_id("cost").value.mean, 25.0);
    // The SLO (p95 ≤ 200 ms) fails well before 1,000 users.
    assert_eq!(by_id("capacity").verdict, Verdict::Refuted);
    // The most a 10 ms server does is 100/s.
    let sat = by_id("saturation");
    assert!((sat.value.mean - 100.0).abs() < 3.0, "{:?}", sat.value);

    // Break-even: the think time at which 150 users would see a 50 ms mean.
    // Check it against exact MVA at that think time: within 20% of 50 ms.
    let z = by_id("heavy")
        .break_even_think_s
        .expect("a break-even think time");
    assert!(z > 1.0, "more think time is needed, got {z}");
    let r = mva_response(z, 0.01, 150);
    assert!(
        (r - 0.050).abs() <= 0.2 * 0.050,
        "at Z* = {z:.3} s exact MVA gives {:.1} ms",
        r * 1e3
    );
    // The capacity claim's break-even scales the think time with the users.
    let zc = by_id("capacity")
        .break_even_think_s
        .expect("a break-even think time");
    assert!(zc > 5.0, "1,000 users need far more think time, got {zc}");

    // report.md of this sweep without charts (`--no-plots`): the capacity
    // table, the cost, the claims section behind its marker with each
    // verdict and break-even, and the note that no chart was drawn.
    let report = render(&outcome, &[]);
    snapshot_settings(&[]).bind(|| insta::assert_snapshot!("claims_report_md", report));
}

#[test]
fn a_capacity_claim_inside_the_capacitys_noise_is_inconclusive() {
    // The known model's capacity, read with the noise of its points: the
    // largest count whose intervals surely meet the SLO, and the smallest
    // above it that surely misses it.
    let base = std::fs::read_to_string(data("claims.toml")).unwrap();
    let sc = crate::helpers::parse("claims.toml", &base);
    let opts = SweepOptions::default();
    let first = plan(&sc, &opts);
    let outcome = capsim::run::analyse(&first, &Silent);
    let noise = outcome.phases[0].noise;
    let fails = noise
        .surely_fails
        .expect("the SLO is surely missed somewhere");
    assert!(
        fails > noise.surely_meets + 1,
        "no count lies inside the noise: {noise:?}"
    );
    // The same sweep (capacity claims add no point) with three claims: at
    // the count that surely meets, inside the noise, and at the one that
    // surely misses.
    let inside = (noise.surely_meets + fails) / 2;
    let mut text = base.clone();
    for (id, n) in [
        ("sure", noise.surely_meets),
        ("inside", inside),
        ("miss", fails),
    ] {
        text.push_str(&format!(
            "\n[[claim]]\nid = \"{id}\"\nphase = \"One server\"\nquote = \"{n} users\"\nexpect = {{ capacity_users = {{ min = {n} }} }}\n"
        ));
    }
    let sc = crate::helpers::parse("claims.toml", &text);
    let second = plan(&sc, &opts);
    let outcome = capsim::run::analyse(&second, &Silent);
    assert_eq!(outcome.phases[0].noise, noise, "the sweep changed");
    let verdict = |id: &str| {
        let i = sc.claims.iter().position(|c| c.id == id).unwrap();
        outcome.verdicts.iter().find(|v| v.claim == i).unwrap()
    };
    assert_eq!(verdict("sure").verdict, Verdict::Supported);
    assert_eq!(verdict("miss").verdict, Verdict::Refuted);
    let v = verdict("inside");
    assert_eq!(v.verdict, Verdict::Inconclusive, "{}", v.reason);
    assert!(v.reason.contains("noise"), "{}", v.reason);
}
