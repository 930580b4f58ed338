//! Hostile input: every file in tests/hostile/ (written by generate.py there)
//! is a scenario with one hostile mutation — unbounded or sub-nanosecond
//! durations, no work at all, caps to bypass, wrong types, huge values,
//! bytes that are not UTF-8. Each must fail to load with exactly the
//! diagnostics of the `.err` beside it, through the loader `simulate --check`
//! uses; none may panic. `HOSTILE_BLESS=1` rewrites the `.err` files.
//!
//! Inputs too big to commit (a 3 MB value, a 7,000-phase `extends` chain,
//! 100,000 errors, a FIFO, `/dev/zero`) are made at run time below and run
//! through the binary, within a time limit.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DIR: &str = "tests/hostile";

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "bin"))
        .collect();
    files.sort();
    files
}

/// The diagnostics of one corpus file, with the directory left out.
fn diagnostics(path: &Path) -> String {
    let rel = Path::new(DIR).join(path.file_name().unwrap());
    let abs = Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel);
    match capsim::scenario::load(&abs) {
        Ok(_) => format!("{}: loaded, but should fail", rel.display()),
        Err(e) => e
            .to_string()
            .replace(&format!("{}/", abs.parent().unwrap().display()), ""),
    }
}

#[test]
fn every_hostile_file_reports_exactly_the_expected_errors() {
    let files = corpus();
    assert!(files.len() >= 80, "only {} hostile files", files.len());
    let bless = std::env::var_os("HOSTILE_BLESS").is_some();
    let mut mismatches = Vec::new();
    for path in &files {
        let got = diagnostics(path);
        let err = path.with_extension("err");
        if bless {
            std::fs::write(&err, format!("{got}\n")).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&err)
            .unwrap_or_else(|_| panic!("{} has no .err file", path.display()));
        if got.trim() != expected.trim() {
            mismatches.push(format!(
                "{}:\n  expected: {}\n  got:      {}",
                path.file_name().unwrap().to_string_lossy(),
                expected.trim().replace('\n', "\n            "),
                got.replace('\n', "\n            ")
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn every_hostile_error_is_located_and_names_its_field() {
    for path in corpus() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let err = capsim::scenario::parse_bytes(Path::new(&name), &bytes).unwrap_err();
        assert!(!err.diagnostics.is_empty(), "{name}");
        for d in &err.diagnostics {
            assert!(d.line >= 1 && d.column >= 1, "{name}: {d:?}");
            // Only bytes that are not UTF-8 text may lie outside any field
            // (in a comment, or a whole file in UTF-16).
            assert!(
                !d.field.is_empty() || d.message.contains("UTF-8"),
                "{name}: no field named in {d:?}"
            );
            // Never the whole of a long value.
            assert!(d.message.chars().count() < 600, "{name}: {d:?}");
        }
    }
}

fn simulate_check(path: &Path) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .arg("--check")
        .arg(path)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (out, start.elapsed())
}

/// `simulate --check` on `text` written to a file: fails, within 10 s, with
/// a message containing each of `expect`.
fn rejects(name: &str, text: &[u8], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let (out, took) = simulate_check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{name} was accepted");
    assert!(
        took < Duration::from_secs(10),
        "{name}: --check took {took:?}"
    );
    assert!(
        stderr.len() < 20_000,
        "{name}: {} bytes of errors",
        stderr.len()
    );
    for e in expect {
        assert!(stderr.contains(e), "{name}: no `{e}` in\n{stderr}");
    }
}

const BASE: &str = r#"
[workload]
think_time = { dist = "exponential", mean_s = 5 }
[[workload.request]]
name = "browse"
weight = 1.0
app_cpu = { dist = "lognormal", mean_ms = 8, cv = 1.0 }
"#;

const PHASE: &str = r#"
[[phase]]
name = "P0"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
"#;

#[test]
fn a_three_megabyte_value_is_echoed_by_its_start() {
    let text = format!(
        "{BASE}{PHASE}database = {{ engine = \"{}\" }}\n",
        "x".repeat(3 << 20)
    );
    rejects(
        "huge_value.toml",
        text.as_bytes(),
        &[
            "phase[0].database.engine: `xxxxxxxx",
            "…` is not valid here",
        ],
    );
}

#[test]
fn a_list_of_100000_user_counts_is_over_the_point_cap() {
    let users: Vec<String> = (1..=100_000).map(|u| u.to_string()).collect();
    let text = format!("{BASE}[sweep]\nusers = [{}]\n{PHASE}", users.join(","));
    rejects(
        "users.toml",
        text.as_bytes(),
        &["sweep.users: lists 100000 user counts; at most 1000 points"],
    );
}

#[test]
fn five_thousand_claims_cannot_add_points_past_the_cap() {
    let mut text = format!("{BASE}[sweep]\nusers = [10]\n{PHASE}");
    for u in 0..5000 {
        text.push_str(&format!(
            "[[claim]]\nphase = \"P0\"\nquote = \"q\"\nusers = {}\nexpect = {{ p95_ms = {{ max = 200 }} }}\n",
            u + 11
        ));
    }
    rejects(
        "claims.toml",
        text.as_bytes(),
        &["sweep.users: 5001 distinct user counts", "at most 1000"],
    );
}

#[test]
fn a_seven_thousand_phase_extends_chain_is_cut_at_its_cap() {
    let mut text = format!("{BASE}{PHASE}cost = [{{ item = \"vps\", usd_month = 5 }}]\n");
    for i in 1..7000 {
        text.push_str(&format!(
            "[[phase]]\nname = \"P{i}\"\nextends = \"P{}\"\ncost = [{{ item = \"x{i}\", usd_month = 1 }}]\n",
            i - 1
        ));
    }
    assert!(text.len() > 500_000);
    rejects(
        "chain.toml",
        text.as_bytes(),
        &["phase[64]: 7000 phases; at most 64 are allowed"],
    );
    // Under the phase cap, the chain's own cap applies.
    let mut text = format!("{BASE}{PHASE}");
    for i in 1..40 {
        text.push_str(&format!(
            "[[phase]]\nname = \"P{i}\"\nextends = \"P{}\"\n",
            i - 1
        ));
    }
    rejects(
        "chain40.toml",
        text.as_bytes(),
        &["phase[17].extends: `P16` is itself 16 links down a chain of `extends`; a chain may have at most 16 links"],
    );
}

#[test]
fn a_hundred_thousand_errors_are_counted_not_printed() {
    // Three errors a claim: unknown phase, empty quote, no metric.
    let mut text = format!("{BASE}{PHASE}");
    for _ in 0..33_334 {
        text.push_str("[[claim]]\nphase=\"n\"\nquote=\"\"\nexpect={}\n");
    }
    rejects(
        "errors.toml",
        text.as_bytes(),
        &[
            "claim[0].phase: no phase is named `n`",
            "and 99952 more errors (only the first 50 are shown)",
        ],
    );
}

#[test]
fn a_file_over_4_mib_is_not_read() {
    let mut text = format!("{BASE}{PHASE}");
    text.push_str(&"# padding\n".repeat((5 << 20) / 10));
    rejects(
        "big.toml",
        text.as_bytes(),
        &[&format!(
            "big.toml: is {} bytes; a scenario file is at most 4 MiB (4194304 bytes)",
            text.len()
        )],
    );
}

#[test]
fn only_regular_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (out, took) = simulate_check(dir.path());
    assert!(!out.status.success() && took < Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory, not a scenario file"));
    #[cfg(unix)]
    {
        let (out, took) = simulate_check(Path::new("/dev/zero"));
        assert!(!out.status.success() && took < Duration::from_secs(10));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("/dev/zero: is a device, not a scenario file"),
            "{stderr}"
        );
        let fifo = dir.path().join("pipe.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Opening a FIFO with no writer would block forever.
            let (out, took) = simulate_check(&fifo);
            assert!(!out.status.success() && took < Duration::from_secs(10));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("is a named pipe (FIFO), not a scenario file"),
                "{stderr}"
            );
        }
    }
}
