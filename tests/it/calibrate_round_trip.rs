//! The round trip of `simulate calibrate`: a known scenario is simulated
//! (through `run::analyse`, as `simulate` runs it), its levels are written
//! as each tool would have written them, and calibrating from those files
//! must recover the scenario's service demand and pure delay within the
//! intervals the calibration states, and its think time within 2%.
//!
//! The summary formats (plain CSV, pgbench's output, k6's summary, Locust's
//! history) carry the simulated figures directly. The per-request formats
//! (pgbench -l, k6 json lines, JMeter JTL) need one record per request: each
//! user's requests are laid end to end with response times drawn from a
//! lognormal through the simulated level's mean and median and gaps of the
//! simulated think time, so that the records reproduce the level's
//! throughput by the response-time law. Locust's _stats.csv is left out:
//! it holds one level and no user count, so it cannot calibrate alone.

use capsim::calibrate::{self, CalibrateOptions};
use capsim::run;
use capsim::sweep::{self, Silent, SweepOptions};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, LogNormal};
use std::fmt::Write;
use std::path::{Path, PathBuf};

const D_MS: f64 = 2.0;
const L_MS: f64 = 3.0;
const Z_MS: f64 = 5.0;
const USERS: [u32; 6] = [1, 2, 4, 8, 16, 32];

/// One simulated level.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sim {
    pub(crate) users: u32,
    pub(crate) x: f64,
    pub(crate) mean_ms: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
}

fn truth() -> String {
    format!(
        r#"
name = "round trip"
seed = 11
[workload]
think_time = {{ dist = "exponential", mean_ms = {Z_MS} }}
[[workload.request]]
name = "txn"
weight = 1.0
[sweep]
users = [1]
[[phase]]
name = "truth"
[[phase.station]]
name = "cpu"
discipline = "ps"
servers = 1
[[phase.station]]
name = "wire"
discipline = "delay"
[phase.plan]
txn = [{{ use = "cpu", demand = {{ dist = "lognormal", mean_ms = {D_MS}, cv = 0.5 }} }},
       {{ use = "wire", demand = {{ dist = "lognormal", mean_ms = {L_MS}, cv = 0.5 }} }}]
"#
    )
}

fn simulate() -> Vec<Sim> {
    levels(&truth(), &USERS)
}

/// Scenario `text` simulated at `users` through `run::analyse`, as
/// `simulate` runs it.
pub(crate) fn levels(text: &str, users: &[u32]) -> Vec<Sim> {
    let sc = capsim::scenario::parse(Path::new("truth.toml"), text).unwrap();
    let opts = SweepOptions {
        users: Some(users.to_vec()),
        replications: Some(4),
        measured_requests: Some(50_000),
        ..SweepOptions::default()
    };
    let plan = sweep::plan(&sc, &opts).unwrap();
    let o = run::analyse(&plan, &Silent);
    users
        .iter()
        .map(|&u| {
            let e = &o.points.iter().find(|p| p.users() == u).unwrap().estimate;
            Sim {
                users: u,
                x: e.throughput_rps.mean,
                mean_ms: e.mean_ms.mean,
                p50_ms: e.p50_ms.mean,
                p95_ms: e.p95_ms.mean,
                p99_ms: e.p99_ms.mean,
            }
        })
        .collect()
}

/// One request record: user, start and end (s), response (ms).
struct Record {
    user: u32,
    start: f64,
    end: f64,
}

/// Per-request records of a level: each user's requests end to end.
fn records(s: &Sim, t0: f64, seed: u64) -> Vec<Record> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let sigma2 = 2.0 * (s.mean_ms / s.p50_ms).ln().max(1e-6);
    let resp = LogNormal::new(s.p50_ms.ln(), sigma2.sqrt()).unwrap();
    // The gap that makes N / (R + gap) the simulated throughput.
    let gap_ms = (s.users as f64 / s.x * 1e3 - s.mean_ms).max(0.0);
    let gap = Exp::new(1.0 / gap_ms.max(1e-9)).unwrap();
    let duration = (6000.0 / s.x).max(2.0);
    let mut out = Vec::new();
    for u in 0..s.users {
        let mut t = t0 + gap.sample(&mut rng) / 1e3;
        loop {
            let r = resp.sample(&mut rng) / 1e3;
            if t + r > t0 + duration {
                break;
            }
            out.push(Record {
                user: u,
                start: t,
                end: t + r,
            });
            t += r + gap.sample(&mut rng) / 1e3;
        }
    }
    out.sort_by(|a, b| a.end.total_cmp(&b.end));
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub(crate) fn plain(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    let mut s = String::from("concurrency,throughput_rps,p50_ms,p95_ms,p99_ms,mean_ms\n");
    for l in sims {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            l.users, l.x, l.p50_ms, l.p95_ms, l.p99_ms, l.mean_ms
        );
    }
    vec![write(dir, "levels.csv", &s)]
}

fn pgbench(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    sims.iter()
        .map(|l| {
            let cv = ((l.mean_ms / l.p50_ms).powi(2) - 1.0).max(0.0).sqrt();
            let text = format!(
                "pgbench (15.18 (Debian 15.18-0+deb12u1))\nstarting vacuum...end.\n\
                 progress: 1.0 s, {x:.1} tps, lat {m:.3} ms stddev {sd:.3}, 0 failed\n\
                 transaction type: <builtin: TPC-B (sort of)>\nnumber of clients: {n}\n\
                 number of threads: 1\nnumber of transactions actually processed: {k}\n\
                 number of failed transactions: 0 (0.000%)\nlatency average = {m:.3} ms\n\
                 latency stddev = {sd:.3} ms\ninitial connection time = 2.000 ms\n\
                 tps = {x:.6} (without initial connection time)\n",
                x = l.x,
                m = l.mean_ms,
                sd = cv * l.mean_ms,
                n = l.users,
                k = (l.x * 10.0) as u64
            );
            write(dir, &format!("c{}.txt", l.users), &text)
        })
        .collect()
}

fn pgbench_log(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    sims.iter()
        .enumerate()
        .map(|(i, l)| {
            let mut s = String::new();
            for (k, r) in records(l, 1.7e9, i as u64).iter().enumerate() {
                let us = ((r.end - r.start) * 1e6).round() as u64;
                let _ = writeln!(
                    s,
                    "{} {} {} 0 {} {}",
                    r.user,
                    k,
                    us,
                    r.end.floor() as u64,
                    ((r.end.fract()) * 1e6) as u64
                );
            }
            write(dir, &format!("pgbench_log.{}", l.users), &s)
        })
        .collect()
}

fn locust_history(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    let mut s = String::from("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size\n");
    let (mut t, mut total, mut avg) = (1_700_000_000u64, 0.0f64, 0.0f64);
    for l in sims {
        for _ in 0..20 {
            // One second at this level: X more requests, at the level's mean.
            let before = total;
            total += l.x;
            avg = (before * avg + l.x * l.mean_ms) / total;
            let _ = writeln!(
                s,
                "{t},{},,Aggregated,{},0,{},0,0,0,0,{},0,{},0,0,0,{},0,{},{},0,0,2",
                l.users,
                l.x,
                l.p50_ms,
                l.p95_ms,
                l.p99_ms,
                total.round(),
                l.p50_ms,
                avg
            );
            t += 1;
        }
    }
    vec![write(dir, "run_stats_history.csv", &s)]
}

fn k6_summary(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    sims.iter()
        .map(|l| {
            let text = format!(
                r#"{{"metrics":{{"http_reqs":{{"count":{},"rate":{}}},"http_req_failed":{{"passes":0,"fails":1,"value":0}},
                "http_req_duration":{{"avg":{},"med":{},"p(95)":{},"p(99)":{}}},"vus":{{"value":{u},"min":{u},"max":{u}}}}}}}"#,
                (l.x * 30.0) as u64,
                l.x,
                l.mean_ms,
                l.p50_ms,
                l.p95_ms,
                l.p99_ms,
                u = l.users
            );
            write(dir, &format!("k6_{}.json", l.users), &text)
        })
        .collect()
}

fn iso(t: f64) -> String {
    // Seconds since the epoch as RFC 3339 in UTC (days from the civil date inverted).
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ((t - t.floor()) * 1e9) as u64
    )
}

fn k6_json(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    let mut s = String::new();
    let mut t0 = 1.7e9;
    for (i, l) in sims.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"{{"type":"Point","data":{{"time":"{}","value":{},"tags":{{}}}},"metric":"vus"}}"#,
            iso(t0),
            l.users
        );
        let recs = records(l, t0, 100 + i as u64);
        for r in &recs {
            let _ = writeln!(
                s,
                r#"{{"type":"Point","data":{{"time":"{}","value":{},"tags":{{"expected_response":"true"}}}},"metric":"http_req_duration"}}"#,
                iso(r.end),
                (r.end - r.start) * 1e3
            );
        }
        t0 = recs.last().map_or(t0, |r| r.end) + 0.5;
    }
    vec![write(dir, "points.json", &s)]
}

fn jmeter(dir: &Path, sims: &[Sim]) -> Vec<PathBuf> {
    let mut s = String::from("timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect\n");
    let mut t0 = 1.7e9;
    for (i, l) in sims.iter().enumerate() {
        let recs = records(l, t0, 200 + i as u64);
        for r in &recs {
            let ts = (r.start * 1e3).round() as u64;
            let el = ((r.end - r.start) * 1e3 * 1000.0).round() / 1000.0;
            let _ = writeln!(
                s,
                "{ts},{el},txn,200,OK,T 1-{},text,true,,10,10,{n},{n},http://x/,1,0,0",
                r.user + 1,
                n = l.users
            );
        }
        t0 = recs.last().map_or(t0, |r| r.end) + 0.5;
    }
    vec![write(dir, "results.jtl", &s)]
}

/// Writes a level list in one format, returns the files.
type Writer = fn(&Path, &[Sim]) -> Vec<PathBuf>;

#[test]
fn a_simulated_scenario_written_in_every_format_calibrates_back_to_its_demands() {
    let sims = simulate();
    let formats: [(&str, Writer); 7] = [
        ("plain", plain),
        ("pgbench", pgbench),
        ("pgbench-log", pgbench_log),
        ("locust-history", locust_history),
        ("k6-summary", k6_summary),
        ("k6-json", k6_json),
        ("jmeter", jmeter),
    ];
    let mut failures = Vec::new();
    for (name, writer) in formats {
        let dir = tempfile::tempdir().unwrap();
        let files = writer(dir.path(), &sims);
        let opts = CalibrateOptions {
            files,
            servers: 1,
            hold_out: 0.0,
            out: dir.path().join("out.toml"),
            ..CalibrateOptions::default()
        };
        let r = calibrate::calibrate(&opts).unwrap_or_else(|e| panic!("{name}: {:#}", e.error));
        let c = &r.full;
        let users: Vec<u32> = c.points.iter().map(|p| p.users).collect();
        assert_eq!(users, USERS, "{name}: levels read");
        // The think time's stated range is that of N/X − R over the levels,
        // not a confidence interval: it is held to 2% of the truth instead.
        let z = &c.think;
        eprintln!("{name}: think time {:.4} ms, truth {Z_MS}", z.value);
        if (z.value / Z_MS - 1.0).abs() > 0.02 {
            failures.push(format!(
                "{name}: think time {:.4} ms, truth {Z_MS}",
                z.value
            ));
        }
        for (p, truth) in [(&c.demand, D_MS), (&c.delay, L_MS)] {
            let (lo, hi) = p.interval;
            let line = format!(
                "{name}: {} {:.4} ms, interval [{lo:.4}, {hi:.4}], truth {truth}",
                p.name, p.value
            );
            eprintln!("{line}");
            // The interval must cover the truth and say something: narrower
            // than the value itself.
            if !p.covers(truth) || hi - lo > p.value {
                failures.push(line);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "not recovered:\n{}",
        failures.join("\n")
    );
}

/// A contended truth: 2 cores of processor sharing that lose κ of their rate
/// per job beyond the cores, and a pure delay, with no think time (pgbench's
/// loop).
const KAPPA: f64 = 0.03;
const CONTENDED_USERS: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];

fn contended_truth() -> String {
    r#"
name = "contended round trip"
seed = 5
[workload]
think_time = { dist = "constant", mean_ms = 0 }
[[workload.request]]
name = "txn"
weight = 1.0
[sweep]
users = [1]
[[phase]]
name = "truth"
[[phase.station]]
name = "cpu"
discipline = "ps"
servers = 2
contention = 0.03
[[phase.station]]
name = "wire"
discipline = "delay"
[phase.plan]
txn = [{ use = "cpu", demand = { dist = "exponential", mean_ms = 0.5 } },
       { use = "wire", demand = { dist = "exponential", mean_ms = 0.3 } }]
"#
    .to_string()
}

/// The engine's contended station is the loop the fitter solves: simulated
/// throughput matches the exact birth–death solution, throughput falls past
/// its peak, and calibrating from the simulated levels finds 2 servers and
/// κ, D and the delay inside their intervals.
#[test]
fn a_contended_station_calibrates_back_to_its_contention() {
    let sims = levels(&contended_truth(), &CONTENDED_USERS);
    for s in &sims {
        let exact = capsim::analytic::closed_load_dependent(0.0005, 0.0003, 2, KAPPA, s.users).0;
        assert!(
            (s.x / exact - 1.0).abs() < 0.03,
            "N = {}: simulated {} against the exact {exact}",
            s.users,
            s.x
        );
    }
    let peak = sims.iter().map(|s| s.x).fold(0.0, f64::max);
    assert!(sims.last().unwrap().x < 0.8 * peak, "no fall past the peak");
    let dir = tempfile::tempdir().unwrap();
    let r = calibrate::calibrate(&CalibrateOptions {
        files: plain(dir.path(), &sims),
        servers: 2,
        hold_out: 0.0,
        out: dir.path().join("out.toml"),
        ..CalibrateOptions::default()
    })
    .unwrap_or_else(|e| panic!("{:#}", e.error));
    let c = &r.full;
    assert_eq!(c.servers, 2);
    assert!(c.left_out.is_empty(), "{:?}", c.left_out);
    for (p, truth) in [(&c.contention, KAPPA), (&c.demand, 0.5)] {
        assert!(
            p.covers(truth),
            "{} {} [{}, {}], truth {truth}",
            p.name,
            p.value,
            p.interval.0,
            p.interval.1
        );
    }
    // Z + L is what throughput knows (Z = 0 here).
    let t = c.think.value + c.delay.value;
    assert!((t / 0.3 - 1.0).abs() < 0.1, "total delay {t} ms, truth 0.3");
    // The scenario written carries κ and loads.
    let text = &r.scenario;
    assert!(text.contains("contention = 0.0"), "{text}");
    capsim::scenario::parse(Path::new("out.toml"), text).unwrap_or_else(|e| panic!("{e}"));
}
