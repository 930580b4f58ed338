//! JMeter's JTL results in CSV (jmeter.apache.org/usermanual/listeners.html,
//! "CSV Log format"; the default `jmeter.save.saveservice.*` columns):
//! `timeStamp,elapsed,label,responseCode,responseMessage,threadName,
//! dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,
//! URL,Latency,IdleTime,Connect`, one row per sample, `timeStamp` the
//! sample's start in ms since the epoch, `elapsed` its time in ms.
//!
//! Each run of rows at one `allThreads` (active threads of all groups) is
//! one load level, and within it each `label` a request type. No JMeter
//! installs from the registries here: the tests read fixtures written from
//! this documented format.

use super::{csv_error, csv_reader, field_num, line_of, malformed, FormatError, Header};
use crate::calibrate::measure::{Level, Sampler};
use std::collections::BTreeMap;
use std::path::Path;

const FORMAT: &str = "a JMeter JTL CSV";

#[derive(Default)]
struct Acc {
    first_line: usize,
    last_line: usize,
    start: f64,
    end: f64,
    ok: u64,
    failed: u64,
    samples: Sampler,
}

impl Acc {
    fn add(&mut self, line: usize, ts: f64, elapsed: f64, ok: bool) {
        if self.first_line == 0 {
            self.first_line = line;
            self.start = ts;
            self.end = ts + elapsed;
        }
        self.last_line = line;
        self.start = self.start.min(ts);
        self.end = self.end.max(ts + elapsed);
        if ok {
            self.ok += 1;
            self.samples.push(elapsed);
        } else {
            self.failed += 1;
        }
    }

    fn level(
        self,
        path: &Path,
        users: f64,
        request: Option<String>,
        span_ms: f64,
    ) -> Option<Level> {
        if self.ok == 0 || span_ms <= 0.0 {
            return None;
        }
        let mut l = Level {
            file: path.to_path_buf(),
            window: format!(
                "lines {}–{} (allThreads = {users})",
                self.first_line, self.last_line
            ),
            request,
            users,
            throughput_rps: self.ok as f64 / (span_ms / 1000.0),
            error_rate: Some(self.failed as f64 / (self.ok + self.failed) as f64),
            samples_ms: self.samples.into_vec(),
            ..Level::default()
        };
        l.fill_from_samples();
        Some(l)
    }
}

/// Read a JTL CSV: per `allThreads` value, one [`Level`] for all samples and
/// one per label.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Level>, FormatError> {
    let mut rdr = csv_reader(text);
    let h = Header::of(rdr.headers().map_err(|e| csv_error(path, e))?);
    let c_ts = h.need(path, "timeStamp", FORMAT)?;
    let c_el = h.need(path, "elapsed", FORMAT)?;
    let c_ok = h.need(path, "success", FORMAT)?;
    let c_all = h.need(path, "allThreads", FORMAT)?;
    let c_label = h.find("label");
    // (threads) → (all, per label), in order of first appearance.
    let mut groups: BTreeMap<u64, (Acc, BTreeMap<String, Acc>)> = BTreeMap::new();
    for rec in rdr.records() {
        let r = rec.map_err(|e| csv_error(path, e))?;
        if r.iter().all(|f| f.is_empty()) {
            continue;
        }
        let line = line_of(&r);
        let ts = field_num(path, &r, c_ts, "timeStamp")?;
        let el = field_num(path, &r, c_el, "elapsed")?;
        let ok = match r.get(c_ok).unwrap_or("") {
            "true" => true,
            "false" => false,
            other => {
                return Err(malformed(
                    path,
                    line,
                    c_ok + 1,
                    "success",
                    "true or false",
                    other,
                ))
            }
        };
        let threads = field_num(path, &r, c_all, "allThreads")?;
        if threads < 1.0 {
            continue; // a sample logged as the last thread stopped
        }
        let g = groups.entry(threads as u64).or_default();
        g.0.add(line, ts, el, ok);
        if let Some(label) = c_label.and_then(|i| r.get(i)) {
            g.1.entry(label.to_string())
                .or_default()
                .add(line, ts, el, ok);
        }
    }
    let mut levels = Vec::new();
    for (threads, (all, labels)) in groups {
        let span = all.end - all.start;
        let several = labels.len() > 1;
        levels.extend(all.level(path, threads as f64, None, span));
        if several {
            for (label, acc) in labels {
                levels.extend(acc.level(path, threads as f64, Some(label), span));
            }
        }
    }
    Ok(levels)
}
