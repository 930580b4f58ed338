//! The four guides: at reduced precision, every claim gets a verdict and a
//! break-even statement, and no verdict flips between two seeds unless one
//! of them is inconclusive.

use crate::helpers::{load, plan, repo};
use capsim::outcome::Verdict;
use capsim::sweep::{Silent, SweepOptions};

const GUIDES: [&str; 4] = ["gigchain", "fixia", "fintech", "ferreteria"];

/// Every claim's (id, verdict, break-even) from the sweep `simulate` runs,
/// at reduced precision.
fn verdicts(name: &str, seed: u64) -> Vec<(String, Verdict, String)> {
    let sc = load(&repo(&format!("scenarios/{name}.toml")));
    let opts = SweepOptions {
        seed: Some(seed),
        replications: Some(3),
        measured_requests: Some(8_000),
        // The point run: the guides' ranges at their mid values.
        designs: Some(0),
        ..SweepOptions::default()
    };
    let plan = plan(&sc, &opts);
    capsim::run::analyse(&plan, &Silent)
        .verdicts
        .into_iter()
        .map(|v| (sc.claims[v.claim].id.clone(), v.verdict, v.break_even))
        .collect()
}

#[test]
fn every_guide_claim_gets_a_stable_verdict_and_a_break_even() {
    let mut flips = Vec::new();
    for name in GUIDES {
        let a = verdicts(name, 1);
        let b = verdicts(name, 2);
        assert!(!a.is_empty(), "{name} has no claims");
        assert_eq!(a.len(), b.len());
        for ((id, va, be), (_, vb, _)) in a.iter().zip(&b) {
            assert!(!be.is_empty(), "{name} {id}: no break-even statement");
            let decided = |v: &Verdict| *v != Verdict::Inconclusive;
            if decided(va) && decided(vb) && va != vb {
                flips.push(format!(
                    "{name} {id}: {} with seed 1, {} with seed 2",
                    va.name(),
                    vb.name()
                ));
            }
        }
    }
    assert!(
        flips.is_empty(),
        "verdicts flipped between seeds:\n{}",
        flips.join("\n")
    );
}
