//! Every example scenario of the scaling tier loads, runs, and keeps the
//! invariants of any queueing simulation; bad scaling sections are rejected
//! with located errors.

use capsim::engine::stats::StopReason;
use capsim::scenario;
use capsim::sweep::{self, SweepOptions};
use std::path::Path;

#[test]
fn example_scenarios_keep_littles_law_conservation_and_utilisation() {
    let mut paths: Vec<_> = std::fs::read_dir("scenarios/examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "{paths:?}");
    for path in paths {
        let sc = scenario::load(&path).unwrap_or_else(|e| panic!("{e:#}"));
        let opts = SweepOptions {
            replications: Some(1),
            ..Default::default()
        };
        let plan = sweep::plan(&sc, &opts).unwrap();
        for m in &plan.models {
            assert_eq!(m.validate(), Ok(()), "{}", path.display());
        }
        for r in plan.run_all() {
            let at = format!(
                "{} / {} / {} users",
                path.display(),
                sc.phases[r.point.phase].name,
                r.point.users
            );
            assert_eq!(r.stop, StopReason::Target, "{at}");
            // Little's law over the window: L = X·R, background replay excluded.
            let l = r.mean_in_system;
            assert!(
                (l - r.little_xr).abs() <= 0.02 * l,
                "{at}: L {l} vs X·R {}",
                r.little_xr
            );
            assert_eq!(
                r.total_started,
                r.total_completed + r.total_errored + r.in_flight_at_end,
                "{at}"
            );
            for s in &r.stations {
                assert!(s.utilisation.is_none_or(|u| u <= 1.0 + 1e-9), "{at}: {s:?}");
            }
            for s in &r.resources {
                assert!(s.utilisation <= 1.0 + 1e-9, "{at}: {s:?}");
            }
            if r.cache_lookups > 0 {
                assert!((0.0..=1.0).contains(&r.cache_hit_ratio), "{at}");
            }
        }
    }
}

fn errors(toml: &str) -> String {
    match scenario::parse(Path::new("bad.toml"), toml) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

const WORKLOAD: &str = r#"
[workload]
think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "read"
weight = 0.5
cacheable = true
db = { dist = "exponential", mean_ms = 1 }
[[workload.request]]
name = "write"
weight = 0.5
kind = "write"
db = { dist = "exponential", mean_ms = 1 }
[[phase]]
name = "P"
app = { hosts = 1, cores_per_host = 1, workers_per_host = 1 }
"#;

#[test]
fn bad_scaling_sections_are_located_and_say_what_is_valid() {
    let e = errors(&format!("{WORKLOAD}replicas = {{ count = 2 }}\n"));
    assert!(
        e.contains("bad.toml:17:")
            && e.contains("phase[0].replicas")
            && e.contains("need a primary"),
        "{e}"
    );

    let e = errors(&format!("{WORKLOAD}database = {{ cores = 1 }}\nreplicas = {{ count = 2, primary_reads = [\"wrte\"] }}\n"));
    assert!(
        e.contains("bad.toml:18:")
            && e.contains("primary_reads[0]")
            && e.contains("`read`, `write`"),
        "{e}"
    );

    let e = errors(&format!(
        "{WORKLOAD}database = {{ cores = 1 }}\ncache = {{ kind = \"memcached\" }}\n"
    ));
    assert!(
        e.contains("phase[0].cache.kind") && e.contains("\"redis\"") && e.contains("\"local\""),
        "{e}"
    );

    let e = errors(&format!(
        "{WORKLOAD}database = {{ cores = 1 }}\ncache = {{ kind = \"redis\", max_entries = 100 }}\n"
    ));
    assert!(e.contains("needs workload.keys"), "{e}");

    let e = errors(&format!(
        "{WORKLOAD}database = {{ cores = 1 }}\ncache = {{ kind = \"redis\", hit_ratio = 1.5 }}\n"
    ));
    assert!(
        e.contains("phase[0].cache.hit_ratio") && e.contains("fraction from 0 to 1"),
        "{e}"
    );

    let e = errors(&format!("{WORKLOAD}database = {{ cores = 1 }}\nshards = {{ by = \"request\", route = {{ read = 0 }} }}\n"));
    assert!(
        e.contains("request `write` uses the database but has no shard"),
        "{e}"
    );

    let e = errors(&format!(
        "{WORKLOAD}database = {{ cores = 1 }}\nshards = {{ count = 3, by = \"user\" }}\n"
    ));
    assert!(
        e.contains("phase[0].shards.by") && e.contains("\"key\""),
        "{e}"
    );

    let e = errors(&WORKLOAD.replace(
        "workers_per_host = 1 }",
        "workers_per_host = 1, concurrency = 5 }",
    ));
    assert!(
        e.contains("phase[0].app.concurrency") && e.contains("for worker = \"async\""),
        "{e}"
    );

    let e = errors(&WORKLOAD.replace("kind = \"write\"", "kind = \"write\"\ncacheable = true"));
    assert!(
        e.contains("workload.request[1].cacheable") && e.contains("only reads"),
        "{e}"
    );

    // A huge key space with per-host LRU caches would not fit in memory.
    let big = WORKLOAD
        .replace(
            "[[workload.request]]\nname = \"read\"",
            "keys = { count = 100_000_000 }\n[[workload.request]]\nname = \"read\"",
        )
        .replace("hosts = 1,", "hosts = 8,");
    let e = errors(&format!(
        "{big}database = {{ cores = 1 }}\ncache = {{ kind = \"local\" }}\n"
    ));
    assert!(e.contains("MiB") && e.contains("phase[0].cache"), "{e}");
}
