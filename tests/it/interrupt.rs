//! Interrupting a sweep: the run in progress stops, the scenario being swept
//! writes nothing, scenarios already finished keep whole files.

use crate::helpers::{data, load, plan};
use capsim::engine::stats::StopReason;
use capsim::sweep::{Silent, SweepOptions};
use std::sync::atomic::{AtomicBool, Ordering};

/// The cancel flag is read inside the engine's loop, not only between runs:
/// a run of a billion requests, cancelled from another thread, returns with
/// `interrupted` long before its target or its event budget.
#[test]
fn a_cancelled_run_stops_inside_the_engine_loop() {
    static CANCEL: AtomicBool = AtomicBool::new(false);
    let sc = load(&data("interrupt_long.toml"));
    let mut plan = plan(&sc, &SweepOptions::default());
    plan.cancel = Some(&CANCEL);
    let p = plan.points[0];
    // As the sweep runs a replication: warm start, then the engine's loop.
    let record = std::thread::scope(|s| {
        let run = s.spawn(|| plan.replication(p.phase, p.users, p.replication));
        std::thread::sleep(std::time::Duration::from_millis(200));
        CANCEL.store(true, Ordering::Relaxed);
        run.join().unwrap()
    });
    assert_eq!(record.stop, StopReason::Interrupted);
    assert!(record.events < plan.config.max_events);
    assert!(record.completed < plan.config.measured_requests);
    // Once set, nothing runs at all: the sweep returns without new runs.
    assert!(plan.interrupted());
    let again = plan.replication(p.phase, p.users, p.replication);
    assert_eq!((again.stop, again.events), (StopReason::Interrupted, 0));
    let result = plan.run(&Silent);
    assert!(result.runs.is_empty());
    assert!(result.points.iter().all(|p| p.replications == 0));
}

#[cfg(unix)]
mod signals {
    use crate::helpers::{data, files_under as files, temp_dir};
    use std::io::{BufRead, BufReader};
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    fn assert_whole_csv(path: &Path) {
        let mut r = csv::Reader::from_path(path).unwrap();
        let width = r.headers().unwrap().len();
        let rows: Vec<csv::StringRecord> = r
            .records()
            .map(|x| x.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .collect();
        assert!(!rows.is_empty(), "{} has no rows", path.display());
        assert!(rows.iter().all(|row| row.len() == width));
    }

    fn assert_whole_png(path: &Path) {
        let file = std::fs::File::open(path).unwrap();
        let mut reader = png::Decoder::new(BufReader::new(file))
            .read_info()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader
            .next_frame(&mut buf)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// Run the small scenario then the long one; once the small one's
    /// results are written (its summary line is printed after its last
    /// file), send `signal`; check what is left.
    fn interrupt_mid_sweep(signal: &str) {
        let out = temp_dir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
            .arg(data("interrupt_small.toml"))
            .arg(data("interrupt_long.toml"))
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap();
                let _ = tx.send(line.clone());
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let small_done = loop {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains("interrupt_small") => break true,
                Ok(_) => continue,
                Err(_) => break false,
            }
        };
        if !small_done {
            let _ = child.kill();
            panic!("the small scenario never finished");
        }
        // Let the long sweep get going (not needed for correctness: a
        // signal between the two scenarios must give the same files).
        std::thread::sleep(Duration::from_millis(300));
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        // The engine looks at the flag every 65,536 events (milliseconds);
        // the bound only keeps a broken build from hanging the test suite.
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("simulate did not stop after SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = reader.join().unwrap();
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        assert!(
            stderr.contains("complete results kept in") && stderr.contains("interrupt_small"),
            "{stderr}"
        );

        let all = files(out.path());
        let partial: Vec<_> = all
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(partial.is_empty(), "temporary files left: {partial:?}");
        let long: Vec<_> = all
            .iter()
            .filter(|p| p.starts_with(out.path().join("interrupt_long")))
            .collect();
        assert!(long.is_empty(), "the interrupted scenario wrote {long:?}");
        assert!(
            !out.path().join("summary.csv").exists(),
            "summary.csv would describe only part of the job"
        );

        let small = out.path().join("interrupt_small");
        let mut csvs = 0;
        let mut pngs = 0;
        for f in files(&small) {
            match f.extension().and_then(|e| e.to_str()) {
                Some("csv") => {
                    assert_whole_csv(&f);
                    csvs += 1;
                }
                Some("png") => {
                    assert_whole_png(&f);
                    pngs += 1;
                }
                _ => {}
            }
        }
        for name in [
            "sweep.csv",
            "capacity.csv",
            "runs.csv",
            "report.md",
            ".capsim",
        ] {
            assert!(small.join(name).is_file(), "{name} missing");
        }
        assert!(csvs >= 5 && pngs >= 1, "{csvs} CSV, {pngs} PNG");
    }

    #[test]
    fn sigint_mid_sweep_keeps_finished_scenarios_and_writes_nothing_partial() {
        interrupt_mid_sweep("INT");
    }

    #[test]
    fn sigterm_mid_sweep_keeps_finished_scenarios_and_writes_nothing_partial() {
        interrupt_mid_sweep("TERM");
    }
}
