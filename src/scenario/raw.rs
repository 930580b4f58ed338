//! The scenario file exactly as written: serde structs that reject unknown
//! keys and keep the source position of every value that is checked later.

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

pub(super) use super::database::{RawDatabase, RawPooler};
pub(super) use super::value::Num;

pub(super) type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    pub name: Option<S<String>>,
    pub description: Option<String>,
    pub guide: Option<String>,
    pub seed: Option<S<Num>>,
    pub workload: S<RawWorkload>,
    pub sweep: Option<S<RawSweep>>,
    pub slo: Option<S<RawSlo>>,
    pub calibration: Option<S<RawCalibration>>,
    #[serde(default)]
    pub phase: Vec<S<RawPhase>>,
    #[serde(default)]
    pub claim: Vec<S<super::claims::RawClaim>>,
    pub uncertainty: Option<S<super::ranges::RawUncertainty>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    /// Closed population: time between a response and the user's next request.
    pub think_time: Option<S<RawDist>>,
    /// Open population: Poisson arrivals at this rate.
    pub arrival_rate_per_s: Option<S<Num>>,
    /// Key popularity: `keys = { count = 100_000, zipf = 0.9 }`.
    pub keys: Option<S<RawKeys>>,
    #[serde(default)]
    pub request: Vec<S<RawRequest>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeys {
    pub count: S<Num>,
    pub zipf: Option<S<Num>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    pub name: S<String>,
    pub weight: S<Num>,
    pub kind: Option<S<String>>,
    pub app_cpu: Option<S<RawDist>>,
    pub db: Option<S<RawDist>>,
    /// A read whose result may be served from the phase's cache.
    pub cacheable: Option<S<bool>>,
    /// Statements of its database transaction, each a client round trip.
    pub statements: Option<S<Num>>,
    /// A write's row lock is taken by this statement (1-based) and held to commit.
    pub lock_from_statement: Option<S<Num>>,
}

/// A distribution: `{ dist = "lognormal", mean_ms = 8, cv = 1.5 }`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDist {
    pub dist: S<String>,
    pub mean_s: Option<S<Num>>,
    pub mean_ms: Option<S<Num>>,
    pub mean_us: Option<S<Num>>,
    pub cv: Option<S<Num>>,
    pub min_s: Option<S<Num>>,
    pub min_ms: Option<S<Num>>,
    pub min_us: Option<S<Num>>,
    pub max_s: Option<S<Num>>,
    pub max_ms: Option<S<Num>>,
    pub max_us: Option<S<Num>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSweep {
    pub users: Option<S<RawUsers>>,
    /// An open workload's arrival rates, in the same two forms as `users`.
    pub arrival_rates_per_s: Option<S<RawUsers>>,
    pub replications: Option<S<Num>>,
    pub warmup_requests: Option<S<Num>>,
    pub measured_requests: Option<S<Num>>,
    pub max_events: Option<S<Num>>,
    /// Target relative half-width of the 95% interval of mean response.
    pub precision: Option<S<Num>>,
    /// Most replications per point.
    pub max_replications: Option<S<Num>>,
    /// Most calendar events per point, all replications together.
    pub event_budget: Option<S<Num>>,
}

/// `users = [10, 100, 1000]` or `users = { from = 3, to = 1000, points = 13 }`
/// (and `arrival_rates_per_s` alike).
pub(super) enum RawUsers {
    List(Vec<S<Num>>),
    Grid(RawGrid),
}

// By hand rather than `#[serde(untagged)]`: an untagged enum that matches
// neither form reports "data did not match any variant of untagged enum
// RawUsers" and drops the inner error (an unknown grid key, say).
impl<'de> Deserialize<'de> for RawUsers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawUsers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of user counts (users = [10, 100]) or a grid (users = { from = 3, to = 1000, points = 13 })")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawUsers, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(RawUsers::List(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawUsers, A::Error> {
                RawGrid::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawUsers::Grid)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrid {
    pub from: S<Num>,
    pub to: S<Num>,
    pub points: S<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalibration {
    pub measured_max_users: S<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlo {
    pub p95_ms: Option<S<Num>>,
    pub error_rate: Option<S<Num>>,
    pub headroom: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPhase {
    pub name: S<String>,
    pub extends: Option<S<String>>,
    pub description: Option<String>,
    pub app: Option<S<RawApp>>,
    pub database: Option<S<RawDatabase>>,
    /// PgBouncer in front of the database, by pgbouncer.ini's names.
    pub pooler: Option<S<RawPooler>>,
    pub network: Option<S<RawNetwork>>,
    // Scaling tier (checked in scale.rs).
    pub replicas: Option<S<RawReplicas>>,
    pub cache: Option<S<RawCache>>,
    pub shards: Option<S<RawShards>>,
    #[serde(default)]
    pub cost: Vec<S<RawCost>>,
    /// A hand-built queueing network instead of an architecture.
    #[serde(default)]
    pub station: Vec<S<RawStation>>,
    #[serde(default)]
    pub resource: Vec<S<RawResource>>,
    pub plan: Option<S<BTreeMap<String, Vec<S<RawStep>>>>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub hosts: Option<S<Num>>,
    pub cores_per_host: Option<S<Num>>,
    pub workers_per_host: Option<S<Num>>,
    /// Requests allowed to wait for a worker per host (the listen backlog).
    pub backlog: Option<S<Num>>,
    /// Longest a request waits for a worker before the client gives up.
    pub timeout_s: Option<S<Num>>,
    /// "sync" (a worker held per request) or "async" (event loops).
    pub worker: Option<S<String>>,
    /// Async servers: requests in progress per host before new ones are refused.
    pub concurrency: Option<S<Num>>,
    /// The OS scheduler's quantum: the cores are shared in time slices.
    pub quantum_ms: Option<S<Num>>,
    /// One context switch, with time slices.
    pub context_switch_us: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNetwork {
    /// Round trip between app and database, per database call.
    pub rtt_ms: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCost {
    pub item: String,
    pub usd_month: S<Num>,
    /// A component that scales with load: one unit per this many users.
    pub per_users: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStation {
    pub name: S<String>,
    pub discipline: S<String>,
    pub servers: Option<S<Num>>,
    /// `ps` only: the share of throughput lost per job beyond the servers.
    pub contention: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResource {
    pub name: S<String>,
    pub capacity: S<Num>,
    pub max_waiting: Option<S<Num>>,
    pub timeout_ms: Option<S<Num>>,
}

/// One step of a hand-written plan: exactly one of the keys.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    pub acquire: Option<S<String>>,
    pub release: Option<S<String>>,
    #[serde(rename = "use")]
    pub use_: Option<S<String>>,
    pub demand: Option<S<RawDist>>,
    pub delay: Option<S<RawDist>>,
}

// --- Scaling tier: replicas, caches, shards.

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplicas {
    pub count: S<Num>,
    pub cores: Option<S<Num>>,
    pub ship_delay_ms: Option<S<Num>>,
    /// Replay cost per write; default: a fraction of the write's own `db`.
    pub replay: Option<S<RawDist>>,
    /// Read requests that still go to the primary.
    #[serde(default)]
    pub primary_reads: Vec<S<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    /// "redis" (one shared server) or "local" (Django LocMemCache per app host).
    pub kind: S<String>,
    pub hit_ratio: Option<S<Num>>,
    pub max_entries: Option<S<Num>>,
    pub ttl_s: Option<S<Num>>,
    pub invalidate_on_write: Option<S<bool>>,
    /// Server time (Redis) or app CPU (local) per cache command.
    pub get: Option<S<RawDist>>,
    /// Round trip app ↔ Redis.
    pub rtt_ms: Option<S<Num>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShards {
    pub count: Option<S<Num>>,
    /// "key" (hash of the row key) or "request" (by request type).
    pub by: Option<S<String>>,
    /// by = "request": request name → shard index.
    pub route: Option<S<BTreeMap<String, S<Num>>>>,
}
