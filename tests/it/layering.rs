//! The folders show the flow — scenario → arch → model → engine → sweep →
//! outcome → report, with the jobs run and calibrate on top — and the
//! arrows point one way: no module of `src/` depends on one that depends
//! back on it, and the writers compute no statistics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names (`crate::x`),
/// tests and comments left out.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "main.rs" || name == "lib.rs" {
            continue;
        }
        let module = name.trim_end_matches(".rs").to_string();
        let mut files = Vec::new();
        collect(&p, &mut files);
        let mut deps = BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let dep: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !dep.is_empty() && dep != module {
                        deps.insert(dep);
                    }
                }
            }
        }
        graph.insert(module, deps);
    }
    graph
}

fn collect(p: &Path, out: &mut Vec<std::path::PathBuf>) {
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            collect(&e.unwrap().path(), out);
        }
    } else if p.extension().is_some_and(|x| x == "rs") {
        out.push(p.to_path_buf());
    }
}

#[test]
fn no_module_depends_on_one_that_depends_back_on_it() {
    let graph = dependencies();
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            match state.get(d.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|x| x == d).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                None => {
                    if let Some(c) = visit(d, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m.as_str()) {
            if let Some(cycle) = visit(m, &graph, &mut state, &mut Vec::new()) {
                panic!("module cycle: {}", cycle.join(" → "));
            }
        }
    }
    // The stages in the order of the flow each depend only on earlier ones
    // (the loader on nothing of them). Beneath them all lies the vocabulary
    // they share — the model's steps and stations, distributions, keys,
    // defaults, statistics, the analytic bounds — which depends on no stage.
    // `calibrate` is a job on top like `run` (it reads load-test files, fits
    // and simulates through `run::analyse`): last, so nothing depends on it.
    let flow = [
        "scenario",
        "arch",
        "engine",
        "sweep",
        "outcome",
        "report",
        "run",
        "calibrate",
    ];
    for (i, stage) in flow.iter().enumerate() {
        for later in &flow[i + 1..] {
            assert!(
                !graph[*stage].contains(*later),
                "{stage} depends on {later}, later in the flow"
            );
        }
    }
    let vocabulary = [
        "model",
        "dist",
        "key_popularity",
        "defaults",
        "stats",
        "analytic",
    ];
    for v in vocabulary {
        for stage in flow {
            assert!(
                !graph[v].contains(stage),
                "{v} (shared vocabulary) depends on the stage {stage}"
            );
        }
    }
}

#[test]
fn the_writers_compute_no_statistics() {
    let graph = dependencies();
    for forbidden in ["stats", "analytic", "arch"] {
        assert!(
            !graph["report"].contains(forbidden),
            "report/ uses crate::{forbidden}: analysis belongs in outcome/"
        );
    }
}
