//! An output folder remembers its scenario (`.capsim`): another scenario
//! that would write to it is refused (exit 2) unless `--force` is given;
//! the same scenario, even edited, overwrites it as before.

use crate::helpers::{data, read, simulate, temp_dir};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// `tests/data/interrupt_small.toml` (well under a second) copied to
/// `dir/sub/small.toml`, with its `name` and `seed` replaced.
fn small(dir: &Path, sub: &str, name: &str, seed: u64) -> PathBuf {
    let text = read(&data("interrupt_small.toml"));
    let text = text
        .replace(
            "name = \"Interrupt test: small\"",
            &format!("name = \"{name}\""),
        )
        .replace("seed = 1\n", &format!("seed = {seed}\n"));
    assert!(text.contains(name) && text.contains(&format!("seed = {seed}\n")));
    let path = dir.join(sub).join("small.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn run(scenario: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    simulate()
        .arg(scenario)
        .args(["--no-plots", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

#[test]
fn another_scenarios_folder_is_refused_unless_forced() {
    let tmp = temp_dir();
    let out = tmp.path().join("out");
    let first = small(tmp.path(), "a", "Shop A", 1);
    let second = small(tmp.path(), "b", "Shop B", 1);
    run(&first, &out, &[]).success();
    let folder = out.join("small");
    let manifest = std::fs::read_to_string(folder.join(".capsim")).unwrap();
    assert!(manifest.contains("name = \"Shop A\""), "{manifest}");
    let before = std::fs::read(folder.join("sweep.csv")).unwrap();

    // Same stem, different scenario: refused, naming both, nothing touched.
    run(&second, &out, &[]).code(2).stderr(
        predicate::str::contains("`Shop A`")
            .and(predicate::str::contains("`Shop B`"))
            .and(predicate::str::contains(first.display().to_string()))
            .and(predicate::str::contains(second.display().to_string()))
            .and(predicate::str::contains("--force")),
    );
    assert_eq!(std::fs::read(folder.join("sweep.csv")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(folder.join(".capsim")).unwrap(),
        manifest
    );

    // --force overwrites, and the folder now belongs to the second one.
    run(&second, &out, &["--force"]).success();
    let manifest = std::fs::read_to_string(folder.join(".capsim")).unwrap();
    assert!(manifest.contains("name = \"Shop B\""), "{manifest}");
    // …so the first is the stranger now.
    run(&first, &out, &[]).code(2);
}

#[test]
fn the_same_scenario_edited_overwrites_its_folder() {
    let tmp = temp_dir();
    let out = tmp.path().join("out");
    let path = small(tmp.path(), "a", "Shop", 1);
    run(&path, &out, &[]).success();
    let runs = out.join("small/runs.csv");
    let before = std::fs::read(&runs).unwrap();
    // Edited (another seed), same name: no refusal, new results.
    small(tmp.path(), "a", "Shop", 2);
    run(&path, &out, &[]).success();
    assert_ne!(std::fs::read(&runs).unwrap(), before);
}

#[test]
fn a_folder_without_a_manifest_is_written_and_then_claimed() {
    let tmp = temp_dir();
    let out = tmp.path().join("out");
    // Results from before manifests existed, or a folder made by hand.
    std::fs::create_dir_all(out.join("small")).unwrap();
    std::fs::write(out.join("small/notes.txt"), "mine").unwrap();
    let path = small(tmp.path(), "a", "Shop", 1);
    run(&path, &out, &[]).success();
    assert!(out.join("small/.capsim").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("small/notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn an_unreadable_manifest_is_refused_too() {
    let tmp = temp_dir();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("small")).unwrap();
    std::fs::write(out.join("small/.capsim"), "not = [toml").unwrap();
    let path = small(tmp.path(), "a", "Shop", 1);
    run(&path, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("not a capsim manifest"));
    run(&path, &out, &["--force"]).success();
}

#[test]
fn help_documents_force_and_every_exit_status() {
    simulate().arg("--help").assert().success().stdout(
        predicate::str::contains("--force")
            .and(predicate::str::contains("0 success"))
            .and(predicate::str::contains("1 a run or a write failed"))
            .and(predicate::str::contains("2 invalid scenario"))
            .and(predicate::str::contains("130 interrupted")),
    );
}

#[test]
fn every_file_a_run_writes_is_one_a_rerun_replaces() {
    // A guide writes every kind of file (claims, charts, and with its
    // ranges the uncertainty study's).
    let tmp = temp_dir();
    let out = tmp.path().join("out");
    simulate()
        .args([
            "scenarios/ferreteria.toml",
            "--quiet",
            "--designs",
            "3",
            "--users",
            "10,3000",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    for e in std::fs::read_dir(out.join("ferreteria")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            capsim::report::OUTPUT_FILES.contains(&name.as_str()),
            "{name} is written but a rerun would keep a stale copy of it"
        );
    }
}
