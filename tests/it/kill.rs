//! SIGKILL at random moments — mid-sweep, mid-write, during a rerun over
//! earlier results — never leaves a partial file under a final name or a
//! folder mixing two runs, and the next run leaves no temporary file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = "scenarios/examples/async_app.toml";
const SLUG: &str = "async_app";
/// Kills of a rerun over a complete earlier run, and of a first run.
const KILLS_OVER_EARLIER: u32 = 16;
const KILLS_OF_FIRST_RUN: u32 = 6;

fn simulate(out: &Path, seed: u64) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simulate"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([SCENARIO, "--quiet", "--force", "--jobs", "2", "--seed"])
        .arg(seed.to_string())
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Every file of a folder tree, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// A complete run's scenario folder, and how long it took.
fn reference(root: &Path, seed: u64) -> (BTreeMap<PathBuf, Vec<u8>>, Duration) {
    let out = root.join(format!("ref-{seed}"));
    let t = Instant::now();
    assert!(simulate(&out, seed).status().unwrap().success());
    (tree(&out.join(SLUG)), t.elapsed())
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Start a run and SIGKILL it after `after`; true if it was still running.
fn kill_after(out: &Path, seed: u64, after: Duration) -> bool {
    let mut child = simulate(out, seed).spawn().unwrap();
    std::thread::sleep(after);
    let running = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    running
}

/// The folder holds one complete run (`a` or `b`) or, for a first run, none.
fn assert_whole(
    dir: &Path,
    a: Option<&BTreeMap<PathBuf, Vec<u8>>>,
    b: &BTreeMap<PathBuf, Vec<u8>>,
    when: &str,
) {
    let got = tree(dir);
    let ok = if got.is_empty() {
        a.is_none()
    } else {
        &got == b || a.is_some_and(|a| &got == a)
    };
    assert!(
        ok,
        "{when}: {} holds neither complete run: files {:?}",
        dir.display(),
        got.keys().collect::<Vec<_>>()
    );
}

/// Entries of the output folder other than the scenario's folder and summary.csv.
fn leftovers(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != SLUG && n != "summary.csv")
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigkill_never_leaves_a_partial_file_or_a_folder_mixing_two_runs() {
    let root = tempfile::tempdir().unwrap();
    let (run_a, _) = reference(root.path(), 1);
    let (run_b, took) = reference(root.path(), 2);
    assert_ne!(run_a, run_b, "two seeds must give distinguishable runs");
    // Kills are drawn from the run's time, as the references took it. The
    // time moves with the machine's load (other tests run beside this one):
    // a kill that finds the run already finished shortens the window the
    // next kills are drawn from, so that they keep landing inside a run.
    let mut span = took.as_secs_f64() * 1.2;
    let mut rng = Lcg(0x6b696c6c);
    let out = root.path().join("out");
    let mut killed_running = 0;
    // One kill at a random instant of the window; how long after the start.
    let mut kill = |out: &Path| {
        let after = Duration::from_secs_f64(span * rng.next_f64());
        if kill_after(out, 2, after) {
            killed_running += 1;
        } else {
            span *= 0.7;
        }
        after
    };

    // A first run into an empty folder: killed, it leaves nothing or all.
    for i in 0..KILLS_OF_FIRST_RUN {
        let _ = std::fs::remove_dir_all(&out);
        let after = kill(&out);
        assert_whole(
            &out.join(SLUG),
            None,
            &run_b,
            &format!("first run, kill {i} after {after:?}"),
        );
    }

    // A rerun over earlier complete results: killed, the folder holds the
    // earlier run or the new one, whole.
    for i in 0..KILLS_OVER_EARLIER {
        copy_tree(&root.path().join("ref-1"), &out);
        let after = kill(&out);
        assert_whole(
            &out.join(SLUG),
            Some(&run_a),
            &run_b,
            &format!("rerun, kill {i} after {after:?}"),
        );
    }
    assert!(
        killed_running >= (KILLS_OF_FIRST_RUN + KILLS_OVER_EARLIER) / 2,
        "only {killed_running} kills hit a running process: the test did not test much"
    );

    // Whatever the kills left beside the folder, the next run removes.
    assert!(simulate(&out, 2).status().unwrap().success());
    assert_eq!(tree(&out.join(SLUG)), run_b);
    assert_eq!(leftovers(&out), Vec::<String>::new());
}
