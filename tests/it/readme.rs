//! The README's annotated scenario is a real scenario: it must load.

use std::path::Path;

#[test]
fn the_annotated_scenario_in_the_readme_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```toml\n").expect("README has a toml example") + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let example = &readme[start..end];
    let sc =
        capsim::scenario::parse(Path::new("README.md"), example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.phases.len(), 2);
    assert_eq!(sc.workload.requests.len(), 2);
    // `extends` inherits field by field and adds costs up.
    let capsim::scenario::Architecture::Tiers(t) = &sc.phases[1].architecture else {
        panic!("the second phase is an architecture")
    };
    assert_eq!((t.app.hosts, t.app.workers_per_host), (2, 8));
    assert_eq!(sc.phases[1].costs.len(), 2);
}
