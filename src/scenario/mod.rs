//! Scenario files: parse (serde + toml), check every field, and hand back a
//! validated [`Scenario`] — or every problem of the file at once, each with
//! file:line:column, the field, and what would be valid.

mod claims;
mod database;
mod diag;
mod dists;
mod network;
mod path;
mod ranges;
mod raw;
mod scale;
mod set;
mod sweep;
mod value;

pub use claims::{Claim, Metric};
pub use database::{
    ClientPool, Database, DbEngine, Journal, PoolMode, Pooler, Postgres, Sqlite, Synchronous,
};
pub use diag::{Diagnostic, ScenarioError};
use dists::check_dist;
use network::check_network;
pub use ranges::{ParamRange, Spread, Uncertainty, DEFAULT_DESIGNS};
pub use scale::{Cache, CacheKind, Replicas, ShardBy, Shards, WorkerKind};
pub use set::{
    edited, is_written, load_with, number_at, toml_string, Override, SetError, MAX_VARIANTS,
};
use sweep::{check_slo, check_sweep};
pub use sweep::{log_grid, LoadAxis};

use crate::dist::Dist;
use crate::model::{self, Discipline, Population, Step, WaitPolicy};
use diag::Diagnostics;
use diag::{echo, num};
use raw::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use value::{duration, int_in, num_in, num_where, Bounds, Unit, SPAN, TIMEOUT};

/// A validated scenario: a workload, the phases of an architecture, a sweep.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file it was read from, as given.
    pub path: PathBuf,
    /// Short name used for the output folder: the file stem.
    pub slug: String,
    /// `name`: the title of reports; the slug when absent.
    pub name: String,
    /// `description`: what the scenario models, in a sentence.
    pub description: Option<String>,
    /// `guide`: the scalability guide the scenario reproduces (its file name).
    pub guide: Option<String>,
    /// `seed`: base of every run's random streams, 0–2⁶³−1 (default 1).
    pub seed: u64,
    /// `[workload]`: who sends requests, and what each request costs.
    pub workload: Workload,
    /// `[sweep]`: the user counts simulated and how long and often.
    pub sweep: Sweep,
    /// `[slo]`: the objective that defines a phase's capacity.
    pub slo: Slo,
    /// `[[phase]]`: the architectures compared, in file order, with
    /// `extends` resolved.
    pub phases: Vec<Phase>,
    /// What the guide says each phase achieves.
    pub claims: Vec<Claim>,
    /// The fields given as ranges, and `[uncertainty]`; every range's
    /// field above holds its mid value (the point scenario).
    pub uncertainty: Uncertainty,
    /// `[calibration]`: the scenario was fitted to measurements by
    /// `simulate calibrate`; `None` for a scenario written by hand.
    pub calibration: Option<Calibrated>,
    /// The `--set path=value` overrides applied to the file's text before it
    /// was checked, as given on the command line (each with the one value
    /// of this variant, for a list that sweeps); empty without `--set`.
    pub overrides: Vec<String>,
}

/// `[calibration]` of a scenario `simulate calibrate` wrote.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibrated {
    /// `calibration.measured_max_users`: the largest load measured (1–1e7
    /// users). Points beyond twice it are extrapolations.
    pub measured_max_users: u32,
}

impl Calibrated {
    /// Whether `users` lies beyond twice the largest measured load.
    pub fn extrapolated(&self, users: u32) -> bool {
        u64::from(users) > 2 * u64::from(self.measured_max_users)
    }
}

/// `[workload]`: the population and the request types it sends.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Closed users with `workload.think_time` between a response and their
    /// next request, or open Poisson arrivals at `workload.arrival_rate_per_s`
    /// (above 0, at most 1e9 per second).
    pub population: Population,
    /// `workload.keys`: the rows requests touch (1–1e9 keys) and their Zipf
    /// popularity (exponent 0–10, default 0: uniform); `None`: no keys, so no
    /// row locks, key sharding or emergent cache hit ratio.
    pub keys: Option<model::KeySpace>,
    /// `[[workload.request]]`: the request types, 1–[`MAX_REQUESTS`], in file
    /// order.
    pub requests: Vec<RequestSpec>,
}

impl Scenario {
    /// An open workload at its one arrival rate: a single point, with no
    /// load axis to sweep, chart or search for a capacity along.
    pub fn one_rate(&self) -> bool {
        self.workload.is_open() && self.sweep.load == LoadAxis::Users
    }
}

impl Workload {
    /// Whether arrivals are open (`arrival_rate_per_s`) rather than a closed
    /// population of users.
    pub fn is_open(&self) -> bool {
        matches!(self.population, Population::Open { .. })
    }
}

/// What a request does to the data (`workload.request.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `"read"` (the default): may go to a replica or be served by a cache.
    Read,
    /// `"write"`: goes to the primary, locks its row, flushes on commit,
    /// is shipped to replicas and invalidates its cache key.
    Write,
}

/// One `[[workload.request]]`: a request type and what it costs.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// `workload.request.name`: unique within the workload.
    pub name: String,
    /// Normalised so that the weights of a workload sum to one.
    /// `workload.request.weight` (above 0, at most 1) is this share before
    /// normalisation.
    pub weight: f64,
    /// `workload.request.kind`: read or write.
    pub kind: RequestKind,
    /// `workload.request.app_cpu`: CPU time on an app host; `None`: none.
    pub app_cpu: Option<Dist>,
    /// `workload.request.db`: service time of the request's database work;
    /// `None`: the request does not use the database.
    pub db: Option<Dist>,
    /// `workload.request.cacheable`: a read the phase's cache may serve
    /// (default false; never a write).
    pub cacheable: bool,
    /// `workload.request.statements`: the statements of its database
    /// transaction (BEGIN … COMMIT counted), 1–1000, default 1. `db` is
    /// their total; each statement after the first costs the client another
    /// round trip while the connection (and a write's row lock) stays held.
    pub statements: u32,
    /// `workload.request.lock_from_statement`: the statement (1-based, at
    /// most `statements`, default 1) whose row lock a write takes and holds
    /// to commit: TPC-B's contended branch row is its fifth of seven.
    pub lock_from_statement: u32,
}

/// `[sweep]`: the points simulated for each phase and how each is run.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Closed populations to simulate, ascending and distinct: `sweep.users`
    /// (a list, or a log-spaced grid `{ from, to, points }`; default up to
    /// 25 points from 3 to 1000000) plus every claim's user count, at most
    /// [`MAX_POINTS`]. For an open workload one point, `[0]`, unless its
    /// arrival rate is swept: then the rates of `sweep.arrival_rates_per_s`
    /// (same forms, whole arrivals per second) — the load levels of
    /// [`Sweep::load`].
    pub users: Vec<u32>,
    /// What the load levels in `users` count: users, or arrivals per second.
    pub load: LoadAxis,
    /// `sweep.replications`: independent runs per point to start with,
    /// 1–1000 (default 5).
    pub replications: u32,
    /// `sweep.warmup_requests`: completed requests discarded before
    /// measuring in each run, 0–1e9 (default 5000).
    pub warmup_requests: u64,
    /// `sweep.measured_requests`: completed requests measured per run,
    /// 1–1e9 (default 50000).
    pub measured_requests: u64,
    /// `sweep.max_events`: calendar events after which one run stops short
    /// of its measured requests, 1000–1e11 (default 1e8).
    pub max_events: u64,
    /// Stop adding replications to a point once the 95% half-width of its
    /// mean response is within this fraction of the mean (`sweep.precision`,
    /// above 0 and at most 1, default 0.05)…
    pub precision: f64,
    /// …or once it has this many replications (`sweep.max_replications`,
    /// from `replications` to 1000, default 30)…
    pub max_replications: u32,
    /// …or has spent this many calendar events over all its replications
    /// (`sweep.event_budget`, 1000–1e12, default 3e8).
    pub event_budget: u64,
}

/// `[slo]`: the service-level objective a point must meet to count towards
/// a phase's capacity.
#[derive(Clone, Copy, Debug)]
pub struct Slo {
    /// `slo.p95_ms`: highest acceptable 95th-percentile response, in ms,
    /// above 0 and at most a day (default 500).
    pub p95_ms: f64,
    /// `slo.error_rate`: highest acceptable fraction (0–1) of requests that
    /// fail (default 0.01).
    pub error_rate: f64,
    /// `slo.headroom`: the share of each phase's capacity the plan keeps in
    /// reserve, 0 to below 1 (default [`crate::defaults::PLAN_HEADROOM`]):
    /// the plan loads a phase to at most (1 − headroom) × its capacity.
    pub headroom: f64,
}

/// One `[[phase]]`: a step of the guide's architecture, with its cost.
#[derive(Clone, Debug)]
pub struct Phase {
    /// `phase.name`: unique within the scenario, trimmed.
    pub name: String,
    /// `phase.description`: what changes in this phase.
    pub description: Option<String>,
    /// App/database tiers, or a hand-built network.
    pub architecture: Architecture,
    /// `[[phase.cost]]`: the phase's bill, the parent's items (through
    /// `extends`) first.
    pub costs: Vec<CostItem>,
}

/// One `[[phase.cost]]` item of a phase's monthly bill.
#[derive(Clone, Debug)]
pub struct CostItem {
    /// `cost.item`: what is paid for (a VPS, a managed database…).
    pub item: String,
    /// `cost.usd_month`: price of one unit per month, in US dollars, 0–1e9.
    pub usd_month: f64,
    /// `cost.per_users`, 1–10000000.
    /// `None`: one unit whatever the load. `Some(n)`: ⌈users / n⌉ units, as
    /// for app instances added every n users.
    pub per_users: Option<u32>,
}

/// What a phase simulates.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // built once per phase, never in bulk
pub enum Architecture {
    /// App hosts in front of an optional database.
    Tiers(Tiers),
    /// A hand-built queueing network (validation models, experts).
    Network(NetworkSpec),
}

/// An architecture of tiers, compiled by [`crate::arch`]: app hosts, then an
/// optional cache, pooler and database (sharded, replicated).
#[derive(Clone, Debug)]
pub struct Tiers {
    /// `[phase.app]`: the app hosts (required).
    pub app: AppTier,
    /// `[phase.database]`: the primary database (of each shard); `None`: no
    /// database, and the requests' `db` work is not simulated.
    pub database: Option<Database>,
    /// `[phase.pooler]`: PgBouncer between the app and the database.
    pub pooler: Option<Pooler>,
    /// `network.rtt_ms`: round trip per database call, in ms, up to 10 s
    /// (default 0).
    pub rtt_ms: f64,
    /// `[phase.replicas]`: read replicas of the primary (of each shard).
    pub replicas: Option<Replicas>,
    /// `[phase.cache]`: a cache in front of the database.
    pub cache: Option<Cache>,
    /// `[phase.shards]`: the database split into shards.
    pub shards: Option<Shards>,
}

/// `[phase.app]`: identical app hosts behind a round-robin load balancer.
#[derive(Clone, Copy, Debug)]
pub struct AppTier {
    /// `app.hosts`: identical app hosts behind the load balancer, 1–48.
    pub hosts: u32,
    /// `app.cores_per_host`: CPU cores of each app host, 1–1024.
    pub cores_per_host: u32,
    /// `app.workers_per_host`: synchronous workers per host, each held for a
    /// whole request, 1–1000000; for async workers, event loops per host, at
    /// most one per core (default: one per core).
    pub workers_per_host: u32,
    /// `app.backlog`: requests that may wait for a worker (async: for a
    /// concurrency slot) on a host, 0–1e8; one more is refused. `None`:
    /// unbounded for sync workers, 0 past an async host's concurrency.
    pub backlog: Option<u32>,
    /// `app.timeout_s`: longest wait for a worker, in s, before the request
    /// fails. `None`: no timeout.
    pub timeout_s: Option<f64>,
    /// `app.worker`: sync workers (the default) or async event loops.
    pub worker: WorkerKind,
    /// `app.concurrency`: async only, requests in progress per host before
    /// new ones are refused, 1–1e7. `None`: unlimited.
    pub concurrency: Option<u32>,
    /// `app.quantum_ms` (with `app.context_switch_us`): the cores are shared
    /// in time slices, as an OS shares them among processes, instead of
    /// continuously (processor sharing, the default).
    pub time_slice: Option<TimeSlice>,
}

/// How an OS scheduler shares cores among more processes than cores
/// (`quantum_ms`, `context_switch_us`); see `engine::time_slice`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeSlice {
    /// The quantum, in ns: a process runs this long before the next waiting
    /// one gets its core (1 µs – 1 s).
    pub quantum_ns: u64,
    /// One context switch, in ns (0 – 1 ms; default
    /// `defaults::CONTEXT_SWITCH_US`).
    pub switch_ns: u64,
}

/// A hand-built queueing network (`[[phase.station]]`, `[[phase.resource]]`,
/// `[phase.plan]`), run as written.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// `[[phase.station]]`: the active stations, in file order.
    pub stations: Vec<model::Station>,
    /// `[[phase.resource]]`: the passive resources, in file order.
    pub resources: Vec<model::Resource>,
    /// One plan per request of the workload, in workload order.
    pub plans: Vec<Vec<Step>>,
}

const DEFAULT_SEED: u64 = 1;
const MAX_USERS: i64 = 10_000_000;
/// Dearest cost item per month: far above any bill, low enough that a sum
/// over millions of users stays a finite number.
const MAX_USD_MONTH: f64 = 1e9;

/// Largest scenario file read: 4 MiB, a thousand times the biggest real
/// scenario (a few KB). Parsing holds the TOML document tree and then the
/// typed one, up to ~70 bytes of memory per byte of a hostile file (tens of
/// thousands of tiny tables), so 4 MiB keeps `--check` well under 1 GB; the
/// limit also keeps a mistaken argument (a log, a disk image) from being
/// read into memory whole.
pub const MAX_FILE_BYTES: u64 = 4 << 20;
/// Most user counts simulated per phase: the grid, a list and the user
/// counts of claims together. Each is a full simulation point.
pub const MAX_POINTS: usize = 1000;
/// Most phases of a scenario (real ones have up to 5); each is a whole sweep.
pub const MAX_PHASES: usize = 64;
/// Longest chain of `extends` (a phase, its parent, its parent's parent …).
/// Real chains are a few links; the resolved phases share the chain's costs,
/// so a bound on the chain bounds what resolving the phases holds.
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// Why a scenario file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", path.display())]
    /// The file could not be inspected or read.
    Read {
        /// The file, as given.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    #[error("{}: is {what}, not a scenario file; give the path of a .toml file", path.display())]
    /// The path is not a regular file (a directory, a FIFO, a device…).
    NotAFile {
        /// The path, as given.
        path: PathBuf,
        /// What it is instead, in words (e.g. "a directory").
        what: &'static str,
    },
    #[error(
        "{}: is {} bytes; a scenario file is at most {} MiB ({MAX_FILE_BYTES} bytes)",
        path.display(),
        if *exact { format!("{size}") } else { format!("more than {size}") },
        MAX_FILE_BYTES >> 20
    )]
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge {
        /// The file, as given.
        path: PathBuf,
        /// Its size in bytes, or the limit it grew past while being read.
        size: u64,
        /// `size` is the file's size (`false`: the file outgrew the limit
        /// while being read, so its size is only known to exceed `size`).
        exact: bool,
    },
    /// The file was read but is not a valid scenario.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
    /// A `--set` argument cannot be applied to the file.
    #[error(transparent)]
    Set(#[from] SetError),
}

/// Read and validate a scenario file.
///
/// Only a regular file is opened (a FIFO would block the loader forever, a
/// device would be read without end), and at most [`MAX_FILE_BYTES`] are read.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    Ok(parse_bytes(path, &read_file(path)?)?)
}

/// The bytes of a scenario file: a regular file of at most
/// [`MAX_FILE_BYTES`].
fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile {
            path: path.to_path_buf(),
            what: file_kind(&meta),
        });
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            exact: true,
        });
    }
    // The file may have grown since (or be a file whose size the system
    // does not know): never read past the limit.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .map_err(read_err)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: MAX_FILE_BYTES,
            exact: false,
        });
    }
    Ok(bytes)
}

/// What a path that is not a regular file is, in words.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Validate scenario bytes: they must be UTF-8 (a UTF-8 byte-order mark is
/// skipped, as editors do); anything else is located at its first bad byte.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(_) if looks_like_utf16(bytes) => Err(ScenarioError {
            path: path.to_path_buf(),
            diagnostics: vec![Diagnostic {
                line: 1,
                column: 1,
                field: String::new(),
                message: "the file looks like UTF-16 (every other byte is 0); a scenario file is UTF-8: save it as UTF-8".into(),
            }],
            more: 0,
        }),
        Ok(source) => parse(path, source),
        Err(e) => Err(not_utf8(path, bytes, e)),
    }
}

/// UTF-16 text of ASCII characters is valid UTF-8 with a 0 byte between
/// every two characters; TOML text never holds a raw 0 byte.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64)];
    head.len() >= 4 && head.iter().filter(|&&b| b == 0).count() * 3 >= head.len()
}

fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> ScenarioError {
    let at = e.valid_up_to();
    let (line, column) = diag::line_col_bytes(bytes, at);
    let utf16 =
        bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || looks_like_utf16(bytes);
    let hint = if utf16 {
        "the file looks like UTF-16; save it as UTF-8"
    } else {
        "save the file as UTF-8"
    };
    // The field the bad byte is in, if the rest of the text says.
    let lossy = String::from_utf8_lossy(bytes);
    let field = path::path_at(&lossy, at).unwrap_or_default();
    ScenarioError {
        path: path.to_path_buf(),
        diagnostics: vec![Diagnostic {
            line,
            column,
            field,
            message: format!(
                "byte 0x{:02X} (offset {at}) is not UTF-8 text; a scenario file is UTF-8: {hint}",
                bytes[at]
            ),
        }],
        more: 0,
    }
}

/// Validate scenario text; `path` names it in errors and gives the slug.
///
/// Fields given as ranges are read at their mid values (see
/// [`Uncertainty`]); the scenario must also be valid with every range at
/// its low end and at its high end.
pub fn parse(path: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    let mut d = Diagnostics::new(path, source);
    let found = ranges::find(&mut d, source).unwrap_or_default();
    if d.has_errors() {
        return d.finish(None);
    }
    if found.is_empty() {
        return parse_text(path, source);
    }
    let at = |pick: &dyn Fn(&ParamRange) -> f64| {
        let values: Vec<f64> = found.iter().map(pick).collect();
        ranges::substitute(source, &found, &values)
    };
    let mut sc = parse_text(path, &at(&|r| r.mid()))
        .map_err(|e| ranges::relabel(e, source, &found, "at its mid value"))?;
    for (end, pick) in [
        (
            "low",
            &(|r: &ParamRange| r.low) as &dyn Fn(&ParamRange) -> f64,
        ),
        ("high", &|r: &ParamRange| r.high),
    ] {
        parse_text(path, &at(pick))
            .map_err(|e| ranges::relabel_all(e, &format!("with every range at its {end} end")))?;
    }
    sc.uncertainty.ranges = found;
    sc.uncertainty.source = Some(source.into());
    Ok(sc)
}

impl Scenario {
    /// The scenario with its ranges at `values` (one per range, in
    /// [`Uncertainty::ranges`] order), checked by the same path as the file:
    /// one design of an uncertainty study. The result has no ranges.
    pub fn at(&self, values: &[f64]) -> Result<Scenario, ScenarioError> {
        let Some(source) = &self.uncertainty.source else {
            return Ok(self.clone());
        };
        let text = ranges::substitute(source, &self.uncertainty.ranges, values);
        let mut sc = parse_text(&self.path, &text)?;
        sc.uncertainty.designs = 0;
        Ok(sc)
    }
}

/// Validate scenario text without ranges.
fn parse_text(path: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    let mut d = Diagnostics::new(path, source);
    let raw: RawScenario = match toml::from_str(source) {
        Ok(r) => r,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut field =
                path::path_at(source, span.start).unwrap_or_else(|| key_at(source, span.start));
            // serde points a missing field at the table that lacks it: name
            // the field itself.
            if let Some(missing) = e
                .message()
                .strip_prefix("missing field `")
                .and_then(|m| m.split('`').next())
            {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(&echo(missing));
            }
            d.error(span, field, toml_message(&e));
            return d.finish(None);
        }
    };
    let scenario = check(&mut d, path, raw);
    d.finish(scenario)
}

/// The toml error's own message, without the source excerpt it appends
/// (we print file:line:column ourselves), in the words of a scenario author
/// rather than of Rust types, with long echoed values shortened.
fn toml_message(e: &toml::de::Error) -> String {
    let m = e.message().trim();
    if m.is_empty() {
        return "invalid TOML".into();
    }
    let m = diag::shorten_quoted(m);
    m.replace("expected f64", "expected a number")
        .replace("expected i64", "expected a whole number")
        .replace("expected a string", "expected a quoted string")
        .replace("expected a boolean", "expected true or false")
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: table")
}

/// The key whose value starts at byte `at`, read off the source line
/// (`weight = "heavy"` → `weight`): the fallback for text so broken that
/// the parser's recovery finds no field there.
fn key_at(source: &str, at: usize) -> String {
    let at = at.min(source.len());
    let Some(line_start) = source.get(..at).map(|s| s.rfind('\n').map_or(0, |i| i + 1)) else {
        return String::new();
    };
    let before = &source[line_start..at];
    let Some(eq) = before.rfind('=') else {
        // The error points at a key itself (an unknown field): name that key.
        let rest = source.get(at..).unwrap_or("");
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        return diag::echo(&rest[..end]);
    };
    let key = before[..eq].trim_end();
    let start = key
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    diag::echo(&key[start..])
}

fn check(d: &mut Diagnostics, path: &Path, raw: RawScenario) -> Option<Scenario> {
    let slug = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let name = raw
        .name
        .as_ref()
        .map(|n| n.get_ref().clone())
        .unwrap_or_else(|| slug.clone());
    if let Some(n) = &raw.name {
        if n.get_ref().trim().is_empty() {
            d.error(n.span(), "name", "must not be empty");
        }
    }
    let seed = match &raw.seed {
        None => Some(DEFAULT_SEED),
        Some(s) => match s.get_ref().int() {
            Ok(x) if x >= 0 => Some(x as u64),
            _ => {
                d.error(
                    s.span(),
                    "seed",
                    format!(
                        "must be a whole number from 0 to {} (got {})",
                        i64::MAX,
                        s.get_ref().got()
                    ),
                );
                None
            }
        },
    };
    let designs = match raw
        .uncertainty
        .as_ref()
        .and_then(|u| u.get_ref().designs.as_ref())
    {
        None => Some(ranges::DEFAULT_DESIGNS),
        Some(n) => int_in(
            d,
            n,
            "uncertainty.designs",
            0,
            ranges::MAX_DESIGNS,
            "the designs of the uncertainty study (0: the point run alone)",
        )
        .map(|n| n as u32),
    };
    // An arrival-rate sweep makes a workload open by itself: its own
    // arrival_rate_per_s may then be left out.
    let swept_rates = raw
        .sweep
        .as_ref()
        .is_some_and(|s| s.get_ref().arrival_rates_per_s.is_some());
    let workload = check_workload(d, &raw.workload, swept_rates);
    let w = raw.workload.get_ref();
    let is_open = w.think_time.is_none() && (w.arrival_rate_per_s.is_some() || swept_rates);
    let sweep = check_sweep(d, raw.sweep.as_ref(), is_open);
    let slo = check_slo(d, raw.slo.as_ref());
    let phases = check_phases(d, &raw.phase, workload.as_ref());
    let names: Vec<String> = raw
        .phase
        .iter()
        .map(|p| p.get_ref().name.get_ref().trim().to_string())
        .collect();
    let claims = claims::check_claims(d, &raw.claim, &names, is_open);
    // Along arrival rates only what holds for the whole phase whatever the
    // load can be judged: a capacity or a cost per user is read in users,
    // and a point's metric at a user count.
    let claims = claims.filter(|c| {
        let mut ok = true;
        if swept_rates && is_open {
            for (i, (claim, raw)) in c.iter().zip(&raw.claim).enumerate() {
                if !matches!(claim.metric, Metric::MaxThroughputRps | Metric::CostUsdMonth) {
                    d.error(
                        raw.span(),
                        format!("claim[{i}].expect.{}", claim.metric.name()),
                        "an arrival-rate sweep judges only claims on the whole phase whatever the load (max_throughput_rps, cost_usd_month); this metric is read in users or at a user count: check it in a scenario that sweeps users",
                    );
                    ok = false;
                }
            }
        }
        ok
    });
    let calibration = match &raw.calibration {
        None => Some(None),
        Some(c) => int_in(
            d,
            &c.get_ref().measured_max_users,
            "calibration.measured_max_users",
            1,
            10_000_000,
            "a whole number of users from 1 to 10,000,000",
        )
        .map(|n| {
            Some(Calibrated {
                measured_max_users: n as u32,
            })
        }),
    };
    // The sweep also visits every user count a claim is about: one cap on
    // the points simulated, however they are asked for.
    let sweep = sweep.and_then(|mut s| {
        if !is_open {
            if let Some(c) = &claims {
                s.users.extend(c.iter().filter_map(|c| c.users));
                s.users.sort_unstable();
                s.users.dedup();
            }
        }
        if s.users.len() > MAX_POINTS {
            let span = raw
                .sweep
                .as_ref()
                .and_then(|r| r.get_ref().users.as_ref().map(|u| u.span()))
                .or_else(|| raw.claim.first().map(|c| c.span()))
                .unwrap_or(0..0);
            d.error(
                span,
                "sweep.users",
                format!(
                    "{} distinct user counts to simulate (the sweep's and the claims' together); at most {MAX_POINTS} are allowed: fewer grid points, list entries or claim user counts",
                    s.users.len()
                ),
            );
            return None;
        }
        Some(s)
    });
    if raw.phase.is_empty() {
        d.error(0..0, "phase", "a scenario needs at least one [[phase]]");
    }
    let scenario = Scenario {
        path: path.to_path_buf(),
        slug,
        name,
        description: raw.description,
        guide: raw.guide,
        seed: seed?,
        workload: workload?,
        sweep: sweep?,
        slo: slo?,
        phases: phases?,
        claims: claims?,
        calibration: calibration?,
        overrides: Vec::new(),
        uncertainty: Uncertainty {
            designs: designs?,
            ..Uncertainty::default()
        },
    };
    if d.has_errors() {
        return None;
    }
    Some(scenario)
}

/// Most request types of a workload (real ones have a handful): every
/// phase holds a plan per request type.
pub const MAX_REQUESTS: usize = 1000;
/// Fastest open arrivals: one per nanosecond, the clock's resolution.
const MAX_ARRIVAL_RATE_PER_S: f64 = 1e9;

fn check_workload(d: &mut Diagnostics, w: &S<RawWorkload>, swept_rates: bool) -> Option<Workload> {
    let span = w.span();
    let w = w.get_ref();
    // A bad population does not stop the checks of the requests below, so
    // that every problem of the file is reported at once.
    let population = match (&w.think_time, &w.arrival_rate_per_s) {
        (Some(t), None) => {
            check_dist(d, t, "workload.think_time").map(|think| Population::Closed { think })
        }
        (None, Some(r)) => num_where(
            d,
            r,
            "workload.arrival_rate_per_s",
            |x| x > 0.0 && x <= MAX_ARRIVAL_RATE_PER_S,
            &format!(
                "must be a rate above 0 and at most {} requests per second (one per nanosecond, the clock's resolution)",
                num(MAX_ARRIVAL_RATE_PER_S)
            ),
        )
        .map(|rate_per_s| Population::Open { rate_per_s }),
        (Some(t), Some(_)) => {
            d.error(
                t.span(),
                "workload",
                "give either think_time (a closed population of users) or arrival_rate_per_s (open Poisson arrivals), not both",
            );
            None
        }
        // Every point sets its own rate (the sweep's); this one is only
        // what the compiled model holds until a run replaces it.
        (None, None) if swept_rates => Some(Population::Open { rate_per_s: 1.0 }),
        (None, None) => {
            d.error(
                span.clone(),
                "workload",
                "missing think_time (a closed population of users, e.g. think_time = { dist = \"exponential\", mean_s = 30 }) or arrival_rate_per_s (open Poisson arrivals)",
            );
            None
        }
    };
    // Keys are checked whatever the requests' problems.
    let keys = match &w.keys {
        None => Some(None),
        Some(k) => check_keys(d, k).map(Some),
    };
    if w.request.is_empty() {
        d.error(
            span,
            "workload.request",
            "at least one [[workload.request]] is needed",
        );
        return None;
    }
    if w.request.len() > MAX_REQUESTS {
        d.error(
            w.request[MAX_REQUESTS].span(),
            "workload.request",
            format!(
                "{} request types; at most {MAX_REQUESTS} are allowed (each phase plans every one)",
                w.request.len()
            ),
        );
        return None;
    }
    let mut requests = Vec::new();
    let mut seen = HashMap::new();
    let mut ok = true;
    for (i, r) in w.request.iter().enumerate() {
        let field = |f: &str| format!("workload.request[{i}].{f}");
        let rs = r.get_ref();
        let name = rs.name.get_ref().trim().to_string();
        if name.is_empty() {
            d.error(rs.name.span(), field("name"), "must not be empty");
            ok = false;
        } else if seen.insert(name.clone(), i).is_some() {
            d.error(
                rs.name.span(),
                field("name"),
                format!(
                    "`{}` names two requests; request names must be unique",
                    echo(&name)
                ),
            );
            ok = false;
        }
        let weight = num_where(
            d,
            &rs.weight,
            &field("weight"),
            |x| x > 0.0 && x <= 1.0,
            "must be a share above 0 and at most 1",
        );
        ok &= weight.is_some();
        let kind = match rs.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("read") => RequestKind::Read,
            Some("write") => RequestKind::Write,
            Some(other) => {
                d.error(
                    rs.kind.as_ref().unwrap().span(),
                    field("kind"),
                    format!(
                        "`{}` is not a request kind; valid: \"read\", \"write\"",
                        echo(other)
                    ),
                );
                ok = false;
                RequestKind::Read
            }
        };
        let app_cpu = rs
            .app_cpu
            .as_ref()
            .map(|x| check_dist(d, x, &field("app_cpu")));
        let db = rs.db.as_ref().map(|x| check_dist(d, x, &field("db")));
        if app_cpu.as_ref().is_some_and(Option::is_none) || db.as_ref().is_some_and(Option::is_none)
        {
            ok = false;
        }
        let cacheable = rs.cacheable.as_ref().is_some_and(|c| *c.get_ref());
        if cacheable && kind == RequestKind::Write {
            d.error(
                rs.cacheable.as_ref().unwrap().span(),
                field("cacheable"),
                "a write is never served from a cache (writes invalidate it); only reads can be cacheable",
            );
            ok = false;
        }
        let statements = match &rs.statements {
            None => Some(1),
            Some(v) if rs.db.is_none() => {
                d.error(
                    v.span(),
                    field("statements"),
                    "statements are the parts of a database transaction: give the request its `db` time, or remove `statements`",
                );
                None
            }
            Some(v) => int_in(
                d,
                v,
                &field("statements"),
                1,
                1000,
                "the statements of the transaction (BEGIN … COMMIT counted)",
            )
            .map(|n| n as u32),
        };
        ok &= statements.is_some();
        let lock_from_statement = match (&rs.lock_from_statement, statements) {
            (None, _) => Some(1),
            (Some(v), _) if kind != RequestKind::Write => {
                d.error(
                    v.span(),
                    field("lock_from_statement"),
                    "only a write takes a row lock: set kind = \"write\" or remove `lock_from_statement`",
                );
                None
            }
            (Some(v), n) => int_in(
                d,
                v,
                &field("lock_from_statement"),
                1,
                i64::from(n.unwrap_or(1)),
                "the statement that takes the row lock, counted from 1 up to `statements`",
            )
            .map(|k| k as u32),
        };
        ok &= lock_from_statement.is_some();
        requests.push(RequestSpec {
            name,
            weight: weight.unwrap_or(0.0),
            kind,
            app_cpu: app_cpu.flatten(),
            db: db.flatten(),
            cacheable,
            statements: statements.unwrap_or(1),
            lock_from_statement: lock_from_statement.unwrap_or(1),
        });
    }
    let total: f64 = requests.iter().map(|r| r.weight).sum();
    if ok && (total - 1.0).abs() > 1e-6 {
        let last = w.request.last().unwrap().get_ref();
        d.error(
            last.weight.span(),
            "workload.request.weight",
            format!(
                "weights must sum to 1 (they sum to {}); they are shares of all requests",
                num(total)
            ),
        );
        ok = false;
    }
    let (population, keys) = (population?, keys?);
    if !ok {
        return None;
    }
    for r in &mut requests {
        r.weight /= total;
    }
    Some(Workload {
        population,
        keys,
        requests,
    })
}

fn check_keys(d: &mut Diagnostics, k: &S<RawKeys>) -> Option<model::KeySpace> {
    let r = k.get_ref();
    let count = int_in(
        d,
        &r.count,
        "workload.keys.count",
        1,
        1_000_000_000,
        "the number of distinct keys (rows)",
    );
    let zipf = match &r.zipf {
        None => Some(0.0),
        Some(z) => num_where(
            d,
            z,
            "workload.keys.zipf",
            |x| (0.0..=10.0).contains(&x),
            "must be a Zipf exponent from 0 (uniform) to 10",
        ),
    };
    Some(model::KeySpace {
        count: count? as u32,
        zipf: zipf?,
    })
}

/// Field-by-field inheritance: what the child sets wins.
fn merge_phase(child: &RawPhase, parent: &RawPhase) -> RawPhase {
    fn pick<T: Clone>(c: &Option<T>, p: &Option<T>) -> Option<T> {
        c.clone().or_else(|| p.clone())
    }
    let app = match (&child.app, &parent.app) {
        (Some(c), Some(p)) => {
            let (cr, pr) = (c.get_ref(), p.get_ref());
            Some(S::new(
                c.span(),
                RawApp {
                    hosts: pick(&cr.hosts, &pr.hosts),
                    cores_per_host: pick(&cr.cores_per_host, &pr.cores_per_host),
                    workers_per_host: pick(&cr.workers_per_host, &pr.workers_per_host),
                    backlog: pick(&cr.backlog, &pr.backlog),
                    timeout_s: pick(&cr.timeout_s, &pr.timeout_s),
                    worker: pick(&cr.worker, &pr.worker),
                    concurrency: pick(&cr.concurrency, &pr.concurrency),
                    quantum_ms: pick(&cr.quantum_ms, &pr.quantum_ms),
                    context_switch_us: pick(&cr.context_switch_us, &pr.context_switch_us),
                },
            ))
        }
        (c, p) => pick(c, p),
    };
    let database = match (&child.database, &parent.database) {
        (Some(c), Some(p)) => Some(database::merge_database(c, p)),
        (c, p) => pick(c, p),
    };
    let pooler = match (&child.pooler, &parent.pooler) {
        (Some(c), Some(p)) => Some(database::merge_pooler(c, p)),
        (c, p) => pick(c, p),
    };
    let inherit_network =
        child.station.is_empty() && child.resource.is_empty() && child.plan.is_none();
    RawPhase {
        name: child.name.clone(),
        extends: child.extends.clone(),
        description: child.description.clone(),
        app,
        database,
        pooler,
        network: pick(&child.network, &parent.network),
        replicas: pick(&child.replicas, &parent.replicas),
        cache: pick(&child.cache, &parent.cache),
        shards: pick(&child.shards, &parent.shards),
        cost: parent.cost.iter().chain(&child.cost).cloned().collect(),
        station: if inherit_network {
            parent.station.clone()
        } else {
            child.station.clone()
        },
        resource: if inherit_network {
            parent.resource.clone()
        } else {
            child.resource.clone()
        },
        plan: if inherit_network {
            parent.plan.clone()
        } else {
            child.plan.clone()
        },
    }
}

/// Most items (stations, resources, plan steps, cost items) all phases may
/// hold once inheritance is resolved. A child phase copies what it inherits,
/// so without a bound 63 children of one huge phase would multiply it.
pub const MAX_RESOLVED_ITEMS: usize = 200_000;

/// The items of a phase that a child inherits and copies.
fn phase_items(p: &RawPhase) -> usize {
    p.station.len()
        + p.resource.len()
        + p.cost.len()
        + p.plan
            .as_ref()
            .map_or(0, |m| m.get_ref().values().map(Vec::len).sum())
}

fn check_phases(
    d: &mut Diagnostics,
    raw: &[S<RawPhase>],
    w: Option<&Workload>,
) -> Option<Vec<Phase>> {
    if raw.len() > MAX_PHASES {
        d.error(
            raw[MAX_PHASES].span(),
            format!("phase[{MAX_PHASES}]"),
            format!(
                "{} phases; at most {MAX_PHASES} are allowed (each phase is a whole sweep)",
                raw.len()
            ),
        );
        return None;
    }
    // Each phase resolved against its parent, once; children share it.
    let mut resolved: Vec<std::rc::Rc<RawPhase>> = Vec::new();
    // Links from each phase to the root of its `extends` chain.
    let mut depth: Vec<usize> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut items = 0usize;
    let mut phases = Vec::new();
    let mut ok = true;
    for (i, p) in raw.iter().enumerate() {
        let pr = p.get_ref();
        let name = pr.name.get_ref().trim().to_string();
        if name.is_empty() {
            d.error(
                pr.name.span(),
                format!("phase[{i}].name"),
                "must not be empty",
            );
            ok = false;
        } else if index.contains_key(&name) {
            d.error(
                pr.name.span(),
                format!("phase[{i}].name"),
                format!(
                    "`{}` names two phases; phase names must be unique",
                    echo(&name)
                ),
            );
            ok = false;
        }
        let parent = match &pr.extends {
            None => None,
            Some(parent) => match index.get(parent.get_ref().trim()) {
                Some(&j) if depth[j] + 1 > MAX_EXTENDS_DEPTH => {
                    d.error(
                        parent.span(),
                        format!("phase[{i}].extends"),
                        format!(
                            "`{}` is itself {} links down a chain of `extends`; a chain may have at most {MAX_EXTENDS_DEPTH} links: extend a phase nearer the root",
                            echo(parent.get_ref()),
                            depth[j]
                        ),
                    );
                    ok = false;
                    index.insert(name.clone(), resolved.len());
                    resolved.push(std::rc::Rc::new(pr.clone()));
                    depth.push(0);
                    continue;
                }
                Some(&j) => Some(j),
                None => {
                    let known: Vec<&str> = index.keys().map(String::as_str).collect();
                    d.error(
                        parent.span(),
                        format!("phase[{i}].extends"),
                        format!(
                            "no earlier phase is named `{}`; a phase extends one defined above it ({})",
                            echo(parent.get_ref()),
                            if known.is_empty() { "none is".to_string() } else { format!("known: {}", quoted(&known)) }
                        ),
                    );
                    ok = false;
                    // Checking it against no parent would only repeat this error.
                    index.insert(name.clone(), resolved.len());
                    resolved.push(std::rc::Rc::new(pr.clone()));
                    depth.push(0);
                    continue;
                }
            },
        };
        // Count what resolving this phase would hold before building it.
        let own = phase_items(pr) + parent.map_or(0, |j| phase_items(&resolved[j]));
        items = items.saturating_add(own);
        if items > MAX_RESOLVED_ITEMS {
            d.error(
                p.span(),
                format!("phase[{i}]"),
                format!(
                    "the phases hold more than {MAX_RESOLVED_ITEMS} stations, resources, plan steps and cost items, counting what each inherits through `extends`; that is far beyond any architecture: share less through `extends` or model fewer parts"
                ),
            );
            return None;
        }
        let merged = std::rc::Rc::new(match parent {
            None => pr.clone(),
            Some(j) => merge_phase(pr, &resolved[j]),
        });
        index.insert(name.clone(), resolved.len());
        depth.push(parent.map_or(0, |j| depth[j] + 1));
        resolved.push(merged.clone());
        match check_phase(d, i, p.span(), &merged, w) {
            Some(phase) => phases.push(phase),
            None => ok = false,
        }
    }
    ok.then_some(phases)
}

/// Most names listed in a message ("known: …"): a file with thousands of
/// phases would otherwise repeat them all in every error.
const MAX_LISTED: usize = 20;

fn quoted(names: &[&str]) -> String {
    let mut v: Vec<&str> = names.to_vec();
    v.sort_unstable();
    quoted_in_order(&v)
}

/// Names as `a`, `b`, … in the order given, at most [`MAX_LISTED`].
fn quoted_in_order(v: &[&str]) -> String {
    let mut out: Vec<String> = v
        .iter()
        .take(MAX_LISTED)
        .map(|n| format!("`{}`", echo(n)))
        .collect();
    if v.len() > MAX_LISTED {
        out.push(format!("and {} more", v.len() - MAX_LISTED));
    }
    out.join(", ")
}

fn check_phase(
    d: &mut Diagnostics,
    i: usize,
    span: std::ops::Range<usize>,
    p: &RawPhase,
    w: Option<&Workload>,
) -> Option<Phase> {
    let f = |x: &str| format!("phase[{i}].{x}");
    let mut ok = true;
    let mut costs = Vec::new();
    for c in &p.cost {
        let x = num_in(
            d,
            &c.get_ref().usd_month,
            &f("cost.usd_month"),
            (0.0, MAX_USD_MONTH),
            "a monthly price in US dollars",
        );
        ok &= x.is_some();
        let per_users = match &c.get_ref().per_users {
            None => None,
            Some(n) => match n.get_ref().int() {
                Ok(v) if (1..=MAX_USERS).contains(&v) => Some(v as u32),
                _ => {
                    d.error(
                        n.span(),
                        f("cost.per_users"),
                        format!(
                            "must be a whole number of users from 1 to {MAX_USERS}: one unit of the item per that many users (got {})",
                            n.get_ref().got()
                        ),
                    );
                    ok = false;
                    None
                }
            },
        };
        costs.push(CostItem {
            item: c.get_ref().item.clone(),
            usd_month: x.unwrap_or(0.0),
            per_users,
        });
    }
    let is_network = !p.station.is_empty() || !p.resource.is_empty() || p.plan.is_some();
    let architecture = if is_network {
        if p.app.is_some()
            || p.database.is_some()
            || p.network.is_some()
            || p.replicas.is_some()
            || p.cache.is_some()
            || p.shards.is_some()
            || p.pooler.is_some()
        {
            d.error(
                span,
                f("station"),
                "a phase is either an architecture (app, database, network) or a hand-built network (station, resource, plan), not both",
            );
            return None;
        }
        Architecture::Network(check_network(d, i, span, p, w)?)
    } else {
        Architecture::Tiers(check_tiers(d, i, span, p, w)?)
    };
    ok.then(|| Phase {
        name: p.name.get_ref().trim().to_string(),
        description: p.description.clone(),
        architecture,
        costs,
    })
}

fn check_tiers(
    d: &mut Diagnostics,
    i: usize,
    span: std::ops::Range<usize>,
    p: &RawPhase,
    w: Option<&Workload>,
) -> Option<Tiers> {
    let f = |x: &str| format!("phase[{i}].{x}");
    let Some(app) = &p.app else {
        d.error(
            span,
            f("app"),
            "missing: every architecture has an app tier, e.g. app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }",
        );
        return None;
    };
    let a = app.get_ref();
    let need =
        |d: &mut Diagnostics, v: &Option<S<Num>>, name: &str, what: &str, hi: i64| -> Option<u32> {
            match v {
                None => {
                    d.error(
                        app.span(),
                        f(&format!("app.{name}")),
                        format!("missing: {what}"),
                    );
                    None
                }
                Some(v) => int_in(d, v, &f(&format!("app.{name}")), 1, hi, what).map(|x| x as u32),
            }
        };
    // Each host's workers are one passive resource, and a request tracks the
    // resources it holds in a 64-bit mask: leave room for the database's.
    let hosts = need(d, &a.hosts, "hosts", "the number of app hosts", 48);
    let cores = need(
        d,
        &a.cores_per_host,
        "cores_per_host",
        "CPU cores per app host",
        1024,
    );
    let worker = scale::check_worker(d, &f, a);
    let workers = match (worker, &a.workers_per_host, cores) {
        // Async: one event loop per core unless told otherwise.
        (Some((WorkerKind::Async, _)), None, Some(c)) => Some(c),
        (Some((WorkerKind::Async, _)), Some(v), Some(c)) => int_in(
            d,
            v,
            &f("app.workers_per_host"),
            1,
            c as i64,
            "event loops per host, at most one per core (more would time-share the cores, which is not modelled)",
        )
        .map(|x| x as u32),
        _ => need(
            d,
            &a.workers_per_host,
            "workers_per_host",
            "request workers per app host",
            1_000_000,
        ),
    };
    let backlog = match &a.backlog {
        None => Some(None),
        Some(v) => int_in(
            d,
            v,
            &f("app.backlog"),
            0,
            100_000_000,
            "the requests that may wait for a worker",
        )
        .map(|x| Some(x as u32)),
    };
    let timeout_s = match &a.timeout_s {
        None => Some(None),
        Some(v) => duration(d, v, &f("app.timeout_s"), Unit::S, TIMEOUT).map(|t| Some(t.s())),
    };
    // The engine as written, so that the pooler and the replicas are checked
    // against it even when the database has other problems.
    let engine = p
        .database
        .as_ref()
        .map(|db| database::engine_word(db.get_ref()));
    let database = match &p.database {
        None => Some(None),
        Some(db) => database::check_database(d, &f, db, hosts, cores).map(Some),
    };
    let pooler = match &p.pooler {
        None => Some(None),
        Some(pl) => database::check_pooler(d, &f, pl, engine.as_deref()).map(Some),
    };
    let rtt_ms = match p.network.as_ref().and_then(|n| n.get_ref().rtt_ms.clone()) {
        None => Some(0.0),
        Some(v) => duration(
            d,
            &v,
            &f("network.rtt_ms"),
            Unit::Ms,
            SPAN.at_most(10.0 * 1e9),
        )
        .map(|t| t.ms()),
    };
    let has_db = p.database.is_some();
    let replicas = match &p.replicas {
        None => Some(None),
        Some(r) if engine.as_deref() == Some("sqlite") => {
            d.error(
                r.span(),
                f("replicas"),
                "SQLite has no read replicas: it is a file inside the app process, with no server to stream its log to another; remove replicas, or use engine = \"postgres\"",
            );
            None
        }
        Some(r) => scale::check_replicas(d, &f, r, has_db, w).map(Some),
    };
    let cache = match &p.cache {
        None => Some(None),
        Some(c) => scale::check_cache(d, &f, c, hosts, w).map(Some),
    };
    let shards = match &p.shards {
        None => Some(None),
        Some(s) => scale::check_shards(d, &f, s, has_db, w).map(Some),
    };
    let time_slice = check_time_slice(
        d,
        &f("app"),
        a.quantum_ms.as_ref(),
        a.context_switch_us.as_ref(),
    );
    if let Some(Some(Database {
        engine: DbEngine::Postgres(pg),
        ..
    })) = &database
    {
        let at = p.database.as_ref().map_or(span.clone(), |db| {
            db.get_ref()
                .connections
                .as_ref()
                .map_or(db.span(), |v| v.span())
        });
        if pg.session_connections && p.pooler.is_some() {
            d.error(
                at,
                f("database.connections"),
                "with a pooler the app's connections go to PgBouncer and pool_mode decides how long a server connection is kept: remove connections = \"session\" (or the pooler)",
            );
            return None;
        }
        if pg.connect_per_request && p.pooler.is_some() {
            d.error(
                at,
                f("database.connections"),
                "with a pooler each request is a client connection to PgBouncer, which keeps its server connections open: remove connections = \"request\" (or the pooler)",
            );
            return None;
        }
        if let (Some(cp), Some(h)) = (pg.client_pool, hosts) {
            let at = p
                .database
                .as_ref()
                .and_then(|db| db.get_ref().client_pool.as_ref().map(|v| v.span()))
                .unwrap_or(span.clone());
            let open = u64::from(h) * u64::from(cp.size);
            let limit = match &pooler {
                Some(Some(pl)) if pl.mode == PoolMode::Session => {
                    d.error(
                        at,
                        f("database.client_pool"),
                        "a client pool keeps its connections open, and in pool_mode = \"session\" PgBouncer would give each a server connection for good: use pool_mode = \"transaction\", or remove client_pool",
                    );
                    return None;
                }
                Some(Some(pl)) => Some((pl.max_client_conn, "pooler.max_client_conn")),
                Some(None) => Some((pg.max_connections, "database.max_connections")),
                None => None,
            };
            if let Some((max, name)) = limit.filter(|&(max, _)| open > u64::from(max)) {
                d.error(
                    at,
                    f("database.client_pool"),
                    format!("{h} app hosts × client_pool {} = {open} connections kept open, more than {name} = {max} accepts: the rest would be refused; use a smaller pool or raise {name}", cp.size),
                );
                return None;
            }
        }
        if pg.session_connections && w.is_some_and(|w| w.is_open()) {
            d.error(
                at,
                f("database.connections"),
                "a session connection is kept by a user between its requests; an open workload's arrivals are new clients each: use connections = \"transaction\", or a closed workload (think_time)",
            );
            return None;
        }
    }
    let (worker, concurrency) = worker?;
    if let (Some(Some(_)), WorkerKind::Async) = (&time_slice, worker) {
        d.error(
            a.quantum_ms.as_ref().map_or(app.span(), |q| q.span()),
            f("app.quantum_ms"),
            "time slices share a sync host's cores among its workers; an async host runs one event loop per core: remove quantum_ms, or use worker = \"sync\"",
        );
        return None;
    }
    Some(Tiers {
        app: AppTier {
            hosts: hosts?,
            cores_per_host: cores?,
            workers_per_host: workers?,
            backlog: backlog?,
            timeout_s: timeout_s?,
            worker,
            concurrency,
            time_slice: time_slice?,
        },
        database: database?,
        pooler: pooler?,
        rtt_ms: rtt_ms?,
        replicas: replicas?,
        cache: cache?,
        shards: shards?,
    })
}

/// `quantum_ms` and `context_switch_us` of a section named `at`: time
/// slices when the quantum is given; a switch time alone is an error.
fn check_time_slice(
    d: &mut Diagnostics,
    at: &str,
    quantum: Option<&S<Num>>,
    switch: Option<&S<Num>>,
) -> Option<Option<TimeSlice>> {
    let q = match quantum {
        None => {
            if let Some(s) = switch {
                d.error(
                    s.span(),
                    format!("{at}.context_switch_us"),
                    "a context switch costs something only with time slices: add quantum_ms (e.g. 4, one scheduler tick at 250 Hz), or remove context_switch_us",
                );
                return None;
            }
            return Some(None);
        }
        Some(q) => duration(
            d,
            q,
            &format!("{at}.quantum_ms"),
            Unit::Ms,
            TIMEOUT.at_most(1e9),
        ),
    };
    let s = match switch {
        None => Some(crate::defaults::CONTEXT_SWITCH_US * 1e3),
        Some(s) => duration(
            d,
            s,
            &format!("{at}.context_switch_us"),
            Unit::Us,
            SPAN.at_most(1e6),
        )
        .map(|t| t.ns()),
    };
    Some(Some(TimeSlice {
        quantum_ns: q?.whole_ns(),
        switch_ns: s?.round() as u64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_grid_spans_the_range_without_duplicates() {
        let g = log_grid(3, 1_000_000, 25);
        assert_eq!(g.first(), Some(&3));
        assert_eq!(g.last(), Some(&1_000_000));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert!(g.len() >= 20);
        assert_eq!(log_grid(1, 4, 10), vec![1, 2, 3, 4]);
    }

    const STOPPING: &str = r#"
[workload]
arrival_rate_per_s = 50
[[workload.request]]
name = "job"
weight = 1.0
[sweep]
replications = 4
precision = PRECISION
max_replications = MAXREP
[[phase]]
name = "q"
[[phase.station]]
name = "server"
discipline = "fcfs"
servers = 1
[phase.plan]
job = [{ use = "server", demand = { dist = "exponential", mean_ms = 10 } }]
"#;

    #[test]
    fn stopping_rule_keys_are_read_and_checked_with_their_location() {
        let text = |p: &str, m: &str| STOPPING.replace("PRECISION", p).replace("MAXREP", m);
        let ok = parse(Path::new("s.toml"), &text("0.02", "8")).unwrap();
        assert_eq!(ok.sweep.precision, 0.02);
        assert_eq!(ok.sweep.max_replications, 8);
        let bad = parse(Path::new("s.toml"), &text("1.5", "3"))
            .unwrap_err()
            .to_string();
        assert!(bad.contains("s.toml:9:13: sweep.precision"), "{bad}");
        assert!(
            bad.contains("s.toml:10:20: sweep.max_replications"),
            "{bad}"
        );
        assert!(bad.contains("at least sweep.replications (4)"), "{bad}");
    }
}
