//! A job spread over shards, each a separate `simulate --shard M/N`
//! process run in any order, merges to exactly what one machine writes; a
//! missing shard, another capsim version or an edited scenario is refused
//! with exit status 2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIOS: &[&str] = &[
    "scenarios/examples/cache_locmem.toml",
    "scenarios/examples/cache_redis.toml",
    "scenarios/examples/async_app.toml",
    "scenarios/examples/sqlite_single_host.toml",
];

fn simulate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simulate"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir` except the shards, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new("shards") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn shard_args<'a>(shard: &'a str, out: &'a str, files: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["--shard", shard, "--quiet", "--out", out];
    a.extend_from_slice(files);
    a
}

#[test]
fn merged_shards_are_byte_identical_to_one_machine_for_any_count_and_order() {
    let root = tempfile::tempdir().unwrap();
    let single = root.path().join("single");
    let single_s = single.to_str().unwrap();
    let mut args = vec!["--quiet", "--out", single_s];
    args.extend_from_slice(SCENARIOS);
    ok(simulate(&args));
    let expected = tree(&single);
    assert!(
        expected.len() > 40,
        "the job wrote {} files",
        expected.len()
    );

    let listed =
        String::from_utf8(ok(simulate(&[&["--list-units"], SCENARIOS].concat())).stdout).unwrap();
    let units = listed.lines().count();
    assert_eq!(units, 11, "{listed}");

    for n in [1u32, 2, 3, 7] {
        let out = root.path().join(format!("sharded-{n}"));
        let out_s = out.to_str().unwrap().to_string();
        // Last shard first, then the rest: order must not matter.
        let mut order: Vec<u32> = (1..=n).rev().collect();
        order.rotate_left(1);
        for m in order {
            let shard = format!("{m}/{n}");
            ok(simulate(&shard_args(&shard, &out_s, SCENARIOS)));
        }
        let manifests = std::fs::read_dir(out.join("shards")).unwrap().count();
        assert_eq!(manifests, n as usize);
        ok(simulate(&["merge", &out_s, "--quiet"]));
        let got = tree(&out);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{n} shards: other files"
        );
        for (k, v) in &expected {
            assert!(got[k] == *v, "{n} shards: {} differs", k.display());
        }
    }
}

#[test]
fn merge_refuses_a_missing_shard_another_version_and_an_edited_scenario() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("scen");
    std::fs::create_dir(&dir).unwrap();
    let file = dir.join("cache_redis.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIOS[1]),
        &file,
    )
    .unwrap();
    let file_s = file.to_str().unwrap();
    let out = root.path().join("out");
    let out_s = out.to_str().unwrap();
    // Two units over three shards; then lose a shard that held one.
    for m in ["1/3", "2/3", "3/3"] {
        ok(simulate(&shard_args(m, out_s, &[file_s])));
    }
    let holding = (1..=3)
        .map(|m| out.join(format!("shards/{m}-of-3")))
        .find(|d| {
            let text = std::fs::read_to_string(d.join("manifest.json")).unwrap();
            text.contains("\"id\"")
        })
        .expect("a shard with a unit");
    std::fs::remove_dir_all(&holding).unwrap();
    let r = simulate(&["merge", out_s]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("unit(s) missing"), "{err}");
    // The command it gives reruns the missing shard, and then merge works.
    let cmd = err
        .lines()
        .find_map(|l| l.split_once("rerun it with: ").map(|(_, c)| c.to_string()))
        .expect("a rerun command");
    let words: Vec<&str> = cmd.split(' ').collect();
    assert_eq!(words[0], "simulate");
    ok(simulate(&words[1..]));
    ok(simulate(&["merge", out_s, "--quiet"]));

    // A shard of another capsim version is refused.
    let manifest = holding.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    std::fs::write(
        &manifest,
        text.replace(&format!("\"{version}\""), "\"0.0.0-other\""),
    )
    .unwrap();
    let r = simulate(&["merge", out_s]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("0.0.0-other"), "{err}");
    std::fs::write(&manifest, text).unwrap();

    // An edited scenario is refused.
    let mut scenario = std::fs::read_to_string(&file).unwrap();
    scenario.push_str("\n# edited\n");
    std::fs::write(&file, scenario).unwrap();
    let r = simulate(&["merge", out_s]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("edited since its shards ran"), "{err}");
}
