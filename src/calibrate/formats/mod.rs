//! Readers of the files load-testing tools write, one module per format,
//! each turning a file into [`Level`]s; [`detect`] tells the format from the
//! content, so that a user need not say what they have.

pub mod jmeter;
pub mod k6;
pub mod locust;
pub mod pgbench;
pub mod pgbench_log;
pub mod plain;

use super::measure::Level;
use std::path::{Path, PathBuf};

/// The formats `simulate calibrate` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// pgbench's standard output with -r and -P (progress lines on stderr: use 2>&1).
    Pgbench,
    /// pgbench -l per-transaction log.
    PgbenchLog,
    /// Locust --csv: PREFIX_stats_history.csv (with its User Count column).
    LocustHistory,
    /// Locust --csv: PREFIX_stats.csv (one level; needs --users).
    LocustStats,
    /// k6 --summary-export JSON.
    K6Summary,
    /// k6 --out json lines.
    K6Json,
    /// JMeter JTL in CSV (timeStamp, elapsed, success, allThreads).
    Jmeter,
    /// Plain CSV: `concurrency,throughput_rps,p50_ms,p95_ms,p99_ms` (+ `mean_ms`, `cpu_util`, `errors`, `request`).
    Plain,
}

impl Format {
    /// The name on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pgbench => "pgbench",
            Format::PgbenchLog => "pgbench-log",
            Format::LocustHistory => "locust-history",
            Format::LocustStats => "locust-stats",
            Format::K6Summary => "k6-summary",
            Format::K6Json => "k6-json",
            Format::Jmeter => "jmeter",
            Format::Plain => "plain",
        }
    }
}

/// A file that cannot be read as a load test.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file, as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No format matched the content.
    #[error(
        "{}:1: not a load-test file capsim knows: expected pgbench output (`number of clients:`, \
         `progress:` lines), a pgbench -l log (`client_id transaction_no time script_no epoch us`), \
         a Locust _stats.csv or _stats_history.csv, k6 --summary-export JSON or --out json lines, \
         a JMeter JTL CSV (timeStamp,elapsed,…,success,…,allThreads) or a CSV with the header \
         concurrency,throughput_rps,p50_ms,p95_ms,p99_ms; or name the format with --format",
        path.display()
    )]
    Unknown {
        /// The file.
        path: PathBuf,
    },
    /// A line or field is not what the format has there.
    #[error("{}:{line}:{column}: {field}: expected {expected}, got {got}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (of the field in a CSV, of the character otherwise).
        column: usize,
        /// The field or construct, in the tool's own words.
        field: String,
        /// What would be valid there.
        expected: String,
        /// What the file holds there (shortened).
        got: String,
    },
    /// The file is well-formed but holds nothing to calibrate from.
    #[error("{}: {why}", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What is missing.
        why: String,
    },
}

/// A [`FormatError::Malformed`] for `path`.
pub(crate) fn malformed(
    path: &Path,
    line: usize,
    column: usize,
    field: &str,
    expected: &str,
    got: &str,
) -> FormatError {
    let mut got = got.trim().to_string();
    if got.chars().count() > 60 {
        got = got.chars().take(57).collect::<String>() + "…";
    }
    FormatError::Malformed {
        path: path.to_path_buf(),
        line,
        column,
        field: field.to_string(),
        expected: expected.to_string(),
        got: if got.is_empty() {
            "nothing".into()
        } else {
            format!("`{got}`")
        },
    }
}

/// A number in a field, or a Malformed error naming it.
pub(crate) fn number(
    path: &Path,
    line: usize,
    column: usize,
    field: &str,
    text: &str,
) -> Result<f64, FormatError> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(malformed(path, line, column, field, "a number", text)),
    }
}

/// The format of `text`, from its content.
pub fn detect(text: &str) -> Option<Format> {
    let head: String = text.chars().take(4096).collect();
    let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let trimmed = first.trim_start_matches('\u{feff}').trim();
    if trimmed.starts_with('{') {
        if head.contains("\"type\":\"Point\"")
            || head.contains("\"type\": \"Point\"")
            || head.contains("\"type\":\"Metric\"")
            || head.contains("\"type\": \"Metric\"")
        {
            return Some(Format::K6Json);
        }
        return Some(Format::K6Summary);
    }
    if head.contains("number of clients:")
        || head.lines().any(|l| l.starts_with("progress: "))
        || trimmed.starts_with("pgbench")
        || trimmed.starts_with("starting vacuum")
    {
        return Some(Format::Pgbench);
    }
    let header: Vec<String> = trimmed
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    let has = |h: &str| header.iter().any(|x| x == h);
    if has("allThreads") && has("elapsed") {
        return Some(Format::Jmeter);
    }
    if has("User Count") && has("Requests/s") {
        return Some(Format::LocustHistory);
    }
    if has("Request Count") && has("Requests/s") {
        return Some(Format::LocustStats);
    }
    if has("concurrency") && has("throughput_rps") {
        return Some(Format::Plain);
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    if (6..=9).contains(&fields.len())
        && fields[..2].iter().all(|f| f.parse::<u64>().is_ok())
        && (fields[2].parse::<u64>().is_ok() || fields[2] == "failed" || fields[2] == "skipped")
    {
        return Some(Format::PgbenchLog);
    }
    None
}

/// Read every file; pgbench -l logs of one run written by several threads
/// (`-j`: `pgbench_log.PID`, `pgbench_log.PID.1`, …) are read as one level.
/// Every file's error is returned, not only the first.
pub fn read_all(
    paths: &[PathBuf],
    format: Option<Format>,
    users: Option<f64>,
) -> Result<Vec<Level>, Vec<FormatError>> {
    let mut levels = Vec::new();
    let mut errors = Vec::new();
    // Thread logs of one run, by their run's name, in order of appearance.
    let mut runs: Vec<(String, Vec<(&PathBuf, String)>)> = Vec::new();
    for p in paths {
        let text = match std::fs::read(p) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(source) => {
                errors.push(FormatError::Read {
                    path: p.clone(),
                    source,
                });
                continue;
            }
        };
        let is_log = format.or_else(|| detect(&text)) == Some(Format::PgbenchLog);
        if is_log {
            let run = thread_log_run(p);
            match runs.iter_mut().find(|(r, _)| *r == run) {
                Some((_, v)) => v.push((p, text)),
                None => runs.push((run, vec![(p, text)])),
            }
            continue;
        }
        match parse_text(p, &text, format, users) {
            Ok(ls) => levels.extend(ls),
            Err(e) => errors.push(e),
        }
    }
    for (_, files) in runs {
        if files.len() == 1 {
            match pgbench_log::parse(files[0].0, &files[0].1) {
                Ok(ls) => levels.extend(ls),
                Err(e) => errors.push(e),
            }
            continue;
        }
        // Each thread's log is checked on its own (its errors name its
        // own lines), then all are read as one run.
        let mut all = String::new();
        let mut ok = true;
        for (p, t) in &files {
            if let Err(e) = pgbench_log::parse(p, t) {
                errors.push(e);
                ok = false;
            }
            all.push_str(t);
            if !all.ends_with('\n') {
                all.push('\n');
            }
        }
        if !ok {
            continue;
        }
        let names: Vec<String> = files
            .iter()
            .map(|(p, _)| {
                p.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        match pgbench_log::parse(files[0].0, &all) {
            Ok(mut ls) => {
                for l in &mut ls {
                    l.window = format!(
                        "{} thread logs of one run: {}",
                        files.len(),
                        names.join(", ")
                    );
                }
                levels.extend(ls);
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(levels)
    } else {
        Err(errors)
    }
}

/// The run a pgbench -l file belongs to: pgbench names the log of thread 0
/// `pgbench_log.PID` and those of threads 1, 2, … `pgbench_log.PID.N`; any
/// other name is a run of its own.
fn thread_log_run(p: &Path) -> String {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parts: Vec<&str> = name.split('.').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [prefix, pid] | [prefix, pid, _]
            if digits(pid) && parts.get(2).is_none_or(|t| digits(t)) =>
        {
            p.with_file_name(format!("{prefix}.{pid}"))
                .display()
                .to_string()
        }
        _ => p.display().to_string(),
    }
}

/// Read `path` as `format` (detected when `None`).
pub fn read(
    path: &Path,
    format: Option<Format>,
    users: Option<f64>,
) -> Result<Vec<Level>, FormatError> {
    let bytes = std::fs::read(path).map_err(|source| FormatError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_text(path, &String::from_utf8_lossy(&bytes), format, users)
}

/// Parse the text of `path` as `format` (detected when `None`).
fn parse_text(
    path: &Path,
    text: &str,
    format: Option<Format>,
    users: Option<f64>,
) -> Result<Vec<Level>, FormatError> {
    let format = match format.or_else(|| detect(text)) {
        Some(f) => f,
        None => {
            return Err(FormatError::Unknown {
                path: path.to_path_buf(),
            })
        }
    };
    let levels = match format {
        Format::Pgbench => pgbench::parse(path, text)?,
        Format::PgbenchLog => pgbench_log::parse(path, text)?,
        Format::LocustHistory => locust::parse_history(path, text)?,
        Format::LocustStats => locust::parse_stats(path, text, users)?,
        Format::K6Summary => k6::parse_summary(path, text)?,
        Format::K6Json => k6::parse_json_lines(path, text)?,
        Format::Jmeter => jmeter::parse(path, text)?,
        Format::Plain => plain::parse(path, text)?,
    };
    if levels.is_empty() {
        return Err(FormatError::Empty {
            path: path.to_path_buf(),
            why: format!(
                "read as {}, but it holds no load level with a throughput",
                format.name()
            ),
        });
    }
    Ok(levels)
}

/// Columns of a CSV header by name, for the CSV formats.
pub(crate) struct Header {
    names: Vec<String>,
}

impl Header {
    /// The header of a CSV record.
    pub(crate) fn of(record: &csv::StringRecord) -> Self {
        Header {
            names: record
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
                .collect(),
        }
    }

    /// Index of column `name`.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Index of column `name`, or an error saying the header lacks it.
    pub(crate) fn need(&self, path: &Path, name: &str, format: &str) -> Result<usize, FormatError> {
        self.find(name).ok_or_else(|| {
            malformed(
                path,
                1,
                1,
                "header",
                &format!("a `{name}` column ({format})"),
                &self.names.join(","),
            )
        })
    }
}

/// A CSV reader over `text` with a header row and flexible rows (the
/// parsers check each row's fields themselves).
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes())
}

/// The 1-based line of a CSV record.
pub(crate) fn line_of(r: &csv::StringRecord) -> usize {
    r.position().map_or(0, |p| p.line() as usize)
}

/// A CSV error as a Malformed error.
pub(crate) fn csv_error(path: &Path, e: csv::Error) -> FormatError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    malformed(path, line, 1, "CSV", "a CSV row", &e.to_string())
}

/// Field `i` of a record as a number, or a Malformed error.
pub(crate) fn field_num(
    path: &Path,
    r: &csv::StringRecord,
    i: usize,
    name: &str,
) -> Result<f64, FormatError> {
    let text = r.get(i).unwrap_or("");
    number(path, line_of(r), i + 1, name, text)
}

/// Field `i` as a number if present and not empty.
pub(crate) fn field_opt(
    path: &Path,
    r: &csv::StringRecord,
    i: Option<usize>,
    name: &str,
) -> Result<Option<f64>, FormatError> {
    match i {
        Some(i)
            if r.get(i)
                .is_some_and(|t| !t.trim().is_empty() && t.trim() != "N/A") =>
        {
            field_num(path, r, i, name).map(Some)
        }
        _ => Ok(None),
    }
}
