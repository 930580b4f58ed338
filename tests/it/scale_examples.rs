//! Bad scaling sections are rejected with located errors. (The invariants of
//! every shipped scenario, examples included, are checked in invariants.rs.)

use capsim::scenario;
use std::path::Path;

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
