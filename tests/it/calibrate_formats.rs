//! One test per input format of `simulate calibrate`, on the real files of
//! tests/data/calibrate/ (pgbench and Locust, made by the scripts in
//! validation/calibrate/) and on documented-format fixtures (k6, JMeter;
//! see their READMEs). Expected values are recomputed here from the files'
//! own text, by a second, simpler reading; malformed files must name the
//! file, the line and what was expected.

use capsim::calibrate::formats::{self, detect, Format, FormatError};
use capsim::calibrate::measure::Level;
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/calibrate")
        .join(rel)
}

fn read(rel: &str) -> (String, Vec<Level>) {
    let p = data(rel);
    let text = std::fs::read_to_string(&p).unwrap();
    let levels = formats::read(&p, None, None).unwrap_or_else(|e| panic!("{e}"));
    (text, levels)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-12)
}

/// The number after `key` on its line.
fn after(text: &str, key: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(key)).unwrap();
    line[key.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn pgbench_stdout_with_r_and_p() {
    for c in [1, 2, 4, 8] {
        let rel = format!("pgbench/tpcb_c{c}.txt");
        let (text, levels) = read(&rel);
        assert_eq!(detect(&text), Some(Format::Pgbench));
        assert_eq!(levels.len(), 1);
        let l = &levels[0];
        assert_eq!(l.users, after(&text, "number of clients:"));
        assert_eq!(l.users, c as f64);
        assert_eq!(l.throughput_rps, after(&text, "tps ="));
        assert_eq!(l.mean_ms, Some(after(&text, "latency average =")));
        assert_eq!(l.stddev_ms, Some(after(&text, "latency stddev =")));
        let progress = text.lines().filter(|x| x.starts_with("progress: ")).count();
        assert_eq!(l.window_rps.len(), progress);
        // -r: the SQL statements of TPC-B, meta-commands left out, END last.
        assert_eq!(l.statements.len(), 7, "{:?}", l.statements);
        assert!(l.statements.last().unwrap().0.starts_with("END"));
        assert_eq!(l.error_rate, Some(0.0));
    }
}

#[test]
fn pgbench_per_transaction_log() {
    let (text, levels) = read("pgbench/tpcb_c4.log");
    assert_eq!(detect(&text), Some(Format::PgbenchLog));
    let l = &levels[0];
    let rows: Vec<Vec<f64>> = text
        .lines()
        .map(|r| r.split_whitespace().map(|f| f.parse().unwrap()).collect())
        .collect();
    let mut clients: Vec<u64> = rows.iter().map(|r| r[0] as u64).collect();
    clients.sort();
    clients.dedup();
    assert_eq!(l.users, clients.len() as f64);
    let end = |r: &Vec<f64>| r[4] + r[5] / 1e6;
    let first = rows
        .iter()
        .map(|r| end(r) - r[2] / 1e6)
        .fold(f64::INFINITY, f64::min);
    let last = rows.iter().map(end).fold(f64::NEG_INFINITY, f64::max);
    assert!(close(
        l.throughput_rps,
        rows.len() as f64 / (last - first),
        1e-9
    ));
    let mean = rows.iter().map(|r| r[2] / 1e3).sum::<f64>() / rows.len() as f64;
    assert!(close(l.mean_ms.unwrap(), mean, 1e-9));
    // The log and pgbench's own summary of the same run agree.
    let (stdout, _) = read("pgbench/tpcb_c4.txt");
    assert!(close(
        l.mean_ms.unwrap(),
        after(&stdout, "latency average ="),
        0.01
    ));
    assert!(l.p50_ms.unwrap() <= l.p95_ms.unwrap() && l.p95_ms.unwrap() <= l.p99_ms.unwrap());
}

#[test]
fn locust_stats_history_one_level_per_user_count() {
    let (text, levels) = read("locust/steps_stats_history.csv");
    assert_eq!(detect(&text), Some(Format::LocustHistory));
    let all: Vec<&Level> = levels.iter().filter(|l| l.request.is_none()).collect();
    let users: Vec<f64> = all.iter().map(|l| l.users).collect();
    assert_eq!(users, vec![1.0, 2.0, 4.0, 8.0]);
    // Recompute the 8-user level from the Aggregated rows by hand.
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .filter(|r: &Vec<&str>| r[3] == "Aggregated" && r[1] == "8")
        .collect();
    let (a, b) = (&rows[0], rows.last().unwrap());
    let num = |r: &Vec<&str>, i: usize| r[i].parse::<f64>().unwrap();
    let x = (num(b, 17) - num(a, 17) - (num(b, 18) - num(a, 18))) / (num(b, 0) - num(a, 0));
    assert!(
        close(all[3].throughput_rps, x, 1e-9),
        "{} vs {x}",
        all[3].throughput_rps
    );
    let mean = (num(b, 17) * num(b, 20) - num(a, 17) * num(a, 20)) / (num(b, 17) - num(a, 17));
    assert!(close(all[3].mean_ms.unwrap(), mean, 1e-9));
    // --csv-full-history: each endpoint too.
    assert!(levels.iter().any(|l| l.request.as_deref() == Some("/item")));
    assert!(levels
        .iter()
        .any(|l| l.request.as_deref() == Some("/search")));
}

#[test]
fn locust_stats_needs_a_user_count_and_reads_every_endpoint() {
    let p = data("locust/steps_stats.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(detect(&text), Some(Format::LocustStats));
    let e = formats::read(&p, None, None).unwrap_err().to_string();
    assert!(e.contains("User Count") && e.contains("--users"), "{e}");
    let levels = formats::read(&p, None, Some(8.0)).unwrap();
    let agg = levels.iter().find(|l| l.request.is_none()).unwrap();
    let row: Vec<&str> = text
        .lines()
        .find(|l| l.contains(",Aggregated,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        agg.throughput_rps,
        row[9].parse::<f64>().unwrap() - row[10].parse::<f64>().unwrap()
    );
    assert_eq!(agg.p95_ms, Some(row[16].parse().unwrap()));
    assert_eq!(levels.len(), 3);
}

#[test]
fn k6_summary_export() {
    let (text, levels) = read("k6/summary.json");
    assert_eq!(detect(&text), Some(Format::K6Summary));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = &v["metrics"];
    let l = &levels[0];
    assert_eq!(l.users, m["vus"]["max"].as_f64().unwrap());
    let failed = m["http_req_failed"]["value"].as_f64().unwrap();
    assert!(close(
        l.throughput_rps,
        m["http_reqs"]["rate"].as_f64().unwrap() * (1.0 - failed),
        1e-12
    ));
    assert_eq!(l.p50_ms, m["http_req_duration"]["med"].as_f64());
    assert_eq!(l.p99_ms, m["http_req_duration"]["p(99)"].as_f64());
}

#[test]
fn k6_json_lines_one_level_per_vu_count() {
    let (text, levels) = read("k6/points.json");
    assert_eq!(detect(&text), Some(Format::K6Json));
    let users: Vec<f64> = levels.iter().map(|l| l.users).collect();
    assert_eq!(users, vec![1.0, 4.0]);
    // 1 VU back to back at ~20 ms: ~50 requests per second, mean ~20 ms.
    let durations: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.contains("\"metric\":\"http_req_duration\"") && l.contains("\"type\":\"Point\"")
        })
        .filter(|l| l.contains("\"expected_response\":\"true\""))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["data"]["value"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let n_all = levels[0].samples_ms.len() + levels[1].samples_ms.len();
    assert_eq!(n_all, durations.len());
    assert!(close(
        levels[0].throughput_rps,
        1000.0 / levels[0].mean_ms.unwrap(),
        0.1
    ));
    // Times with an offset: the parser's epoch agrees with a hand computation.
    assert_eq!(
        formats::k6::rfc3339_seconds("2024-05-09T16:34:45.5+02:00"),
        Some(1_715_265_285.5)
    );
}

#[test]
fn jmeter_jtl_one_level_per_thread_count_and_label() {
    let (text, levels) = read("jmeter/results.jtl");
    assert_eq!(detect(&text), Some(Format::Jmeter));
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    for threads in ["2", "6"] {
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[12] == threads).collect();
        let ok = mine.iter().filter(|r| r[7] == "true").count() as f64;
        let start = mine
            .iter()
            .map(|r| r[0].parse::<f64>().unwrap())
            .fold(f64::INFINITY, f64::min);
        let end = mine
            .iter()
            .map(|r| r[0].parse::<f64>().unwrap() + r[1].parse::<f64>().unwrap())
            .fold(0.0, f64::max);
        let l = levels
            .iter()
            .find(|l| l.request.is_none() && l.users == threads.parse::<f64>().unwrap())
            .unwrap();
        assert!(close(l.throughput_rps, ok / ((end - start) / 1000.0), 1e-9));
        let failed = mine.len() as f64 - ok;
        assert!(close(
            l.error_rate.unwrap(),
            failed / mine.len() as f64,
            1e-12
        ));
    }
    assert!(levels
        .iter()
        .any(|l| l.request.as_deref() == Some("search")));
}

#[test]
fn plain_csv_with_optional_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("levels.csv");
    std::fs::write(
        &p,
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms,cpu_util,errors,request\n\
         1,100,9,14,20,0.2,0,checkout\n4,350,10.5,18,30,0.7,0.001,checkout\n",
    )
    .unwrap();
    let levels = formats::read(&p, None, None).unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[1].users, 4.0);
    assert_eq!(levels[1].throughput_rps, 350.0);
    assert_eq!(levels[1].cpu_util, Some(0.7));
    assert_eq!(levels[1].error_rate, Some(0.001));
    assert_eq!(levels[1].request.as_deref(), Some("checkout"));
    assert_eq!(levels[1].window, "line 3");
}

/// Write `text` to a file and read it (format detected or given).
fn err(name: &str, text: &str, format: Option<Format>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    let e: FormatError = formats::read(&p, format, None).unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with(&p.display().to_string()), "{s}");
    s
}

#[test]
fn malformed_files_name_the_file_the_line_and_what_was_expected() {
    let e = err(
        "p.csv",
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms\n1,100,9,14,20\n2,fast,9,14,20\n",
        None,
    );
    assert!(
        e.contains(":3:2: throughput_rps: expected a number, got `fast`"),
        "{e}"
    );
    let e = err(
        "p.csv",
        "concurrency,throughput_rps,p50_ms,p95_ms\n1,100,9,14\n",
        None,
    );
    assert!(
        e.contains(":1:1: header: expected a `p99_ms` column"),
        "{e}"
    );
    let e = err(
        "p.csv",
        "concurrency,throughput_rps,p50_ms,p95_ms,p99_ms,errors\n1,100,9,14,20,7\n",
        None,
    );
    assert!(
        e.contains(":2:6: errors: expected a failed fraction from 0 to 1"),
        "{e}"
    );
    let e = err(
        "pgbench_log.1",
        "0 1 2894 0 1796127665 783737\n0 2 lots 0 1796127665 784664\n",
        None,
    );
    assert!(
        e.contains(":2:3: time (µs): expected a number, got `lots`"),
        "{e}"
    );
    let e = err("log", "0 1 2894\n", Some(Format::PgbenchLog));
    assert!(e.contains(":1:1: log line: expected 6 to 8 fields"), "{e}");
    let e = err(
        "out.txt",
        "pgbench (15.18)\nprogress: 1.0 s, many tps, lat 3 ms stddev 1, 0 failed\n",
        None,
    );
    assert!(
        e.contains(":2:1: progress tps: expected a number, got `many`"),
        "{e}"
    );
    let e = err("out.txt", "pgbench (15.18)\nstarting vacuum...end.\n", None);
    assert!(e.contains("number of clients"), "{e}");
    let e = err(
        "s.json",
        "{\"metrics\": {\"http_reqs\": {\"count\": 3}",
        None,
    );
    assert!(
        e.contains(":1:") && e.contains("JSON: expected valid JSON"),
        "{e}"
    );
    let e = err("p.json", "{\"type\":\"Point\",\"metric\":\"vus\",\"data\":{\"value\":1}}\n{\"type\":\"Point\",\"metric\":\"vus\",\"data\":{}}\n", None);
    assert!(e.contains(":2:1: data.value: expected a number"), "{e}");
    let e = err(
        "r.jtl",
        "timeStamp,elapsed,label,success,allThreads\n1,5,a,true,1\n2,5,a,maybe,1\n",
        None,
    );
    assert!(
        e.contains(":3:4: success: expected true or false, got `maybe`"),
        "{e}"
    );
    let e = err("x.txt", "hello\nworld\n", None);
    assert!(e.contains(":1: not a load-test file capsim knows"), "{e}");
}

#[test]
fn pgbench_thread_logs_of_one_run_are_one_level() {
    // pgbench -j 2 writes pgbench_log.PID (thread 0) and pgbench_log.PID.1:
    // split the real 4-client log that way and read the two files together.
    let text = std::fs::read_to_string(data("pgbench/tpcb_c4.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut a, mut b) = (String::new(), String::new());
    for l in text.lines() {
        let client: u32 = l.split_whitespace().next().unwrap().parse().unwrap();
        let to = if client < 2 { &mut a } else { &mut b };
        to.push_str(l);
        to.push('\n');
    }
    let (pa, pb) = (
        dir.path().join("pgbench_log.4242"),
        dir.path().join("pgbench_log.4242.1"),
    );
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let together = formats::read_all(&[pa, pb], None, None).unwrap();
    let whole = formats::read(&data("pgbench/tpcb_c4.log"), None, None).unwrap();
    assert_eq!(together.len(), 1);
    assert_eq!(together[0].users, 4.0);
    assert!(close(
        together[0].throughput_rps,
        whole[0].throughput_rps,
        1e-12
    ));
    assert!(
        together[0].window.contains("2 thread logs"),
        "{}",
        together[0].window
    );
}
