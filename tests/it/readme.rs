//! The README's annotated scenario is a real scenario: it must load.

use crate::helpers::{parse, read, repo};

#[test]
fn the_annotated_scenario_in_the_readme_is_valid() {
    let readme = read(&repo("README.md"));
    let start = readme.find("```toml\n").expect("README has a toml example") + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let example = &readme[start..end];
    let sc = parse("README.md", example);
    assert_eq!(sc.phases.len(), 2);
    assert_eq!(sc.workload.requests.len(), 2);
    // `extends` inherits field by field and adds costs up.
    let capsim::scenario::Architecture::Tiers(t) = &sc.phases[1].architecture else {
        panic!("the second phase is an architecture")
    };
    assert_eq!((t.app.hosts, t.app.workers_per_host), (2, 8));
    assert_eq!(sc.phases[1].costs.len(), 2);
}

#[test]
fn the_readme_snippet_of_every_block_is_a_valid_scenario() {
    let readme = read(&repo("README.md"));
    let marker = "<!-- capsim:blocks -->\n```toml\n";
    let start = readme.find(marker).expect("README has the blocks snippet") + marker.len();
    let end = start + readme[start..].find("```").unwrap();
    let sc = parse("README.md", &readme[start..end]);
    assert_eq!(sc.phases.len(), 5);
    assert!(sc.workload.requests[0].cacheable);
    let capsim::scenario::Architecture::Tiers(last) = &sc.phases[4].architecture else {
        panic!("the last phase is an architecture")
    };
    // Each phase added its block, and the last one has them all.
    assert!(last.pooler.is_some(), "pooler");
    assert!(last.cache.is_some(), "cache");
    assert!(last.replicas.is_some(), "replicas");
    assert!(last.shards.is_some(), "shards");
}

#[test]
fn the_readme_snippet_of_an_arrival_rate_sweep_is_a_valid_scenario() {
    let readme = read(&repo("README.md"));
    let marker = "<!-- capsim:arrival-sweep -->\n```toml\n";
    let start = readme
        .find(marker)
        .expect("README has the arrival-rate snippet")
        + marker.len();
    let end = start + readme[start..].find("```").unwrap();
    let sc = parse("README.md", &readme[start..end]);
    assert!(sc.workload.is_open());
    assert_eq!(sc.sweep.load, capsim::scenario::LoadAxis::ArrivalRate);
    assert_eq!(sc.sweep.users, [10, 20, 40, 60, 80]);
}
