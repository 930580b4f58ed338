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
