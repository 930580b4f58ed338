//! Default service times and settings, each with the source or measurement
//! behind it. Every one can be overridden in the scenario (field named beside it).

// ---------------------------------------------------------------------------
// Scaling tier: network, caches, replicas.
// ---------------------------------------------------------------------------

/// Round trip between two hosts of one data centre, in ms (`cache.rtt_ms`;
/// the app ↔ database round trip is `network.rtt_ms`, 0 unless given).
/// Source: "Latency numbers every programmer should know" (J. Dean): a round
/// trip within the same datacenter is 500 µs.
pub const DATACENTER_RTT_MS: f64 = 0.5;

/// Redis server time per GET/SET/DEL, in µs (`cache.get`). Source: redis.io,
/// "Redis benchmark": one Redis thread serves on the order of 100,000–200,000
/// GET/SET per second without pipelining, i.e. 5–10 µs of the single thread
/// per command, network stack included; we take the slower end.
pub const REDIS_COMMAND_US: f64 = 10.0;

/// App CPU per Django LocMemCache get/set, in µs (`cache.get`). Estimate, not
/// measured: a lock, a dict lookup and `pickle.loads` of a small value in CPython.
pub const LOCMEM_COMMAND_US: f64 = 20.0;

/// Django LocMemCache `MAX_ENTRIES` (`cache.max_entries`). Source: Django
/// documentation, "Cache arguments": MAX_ENTRIES defaults to 300.
pub const LOCMEM_MAX_ENTRIES: u32 = 300;

/// Django cache `TIMEOUT` in seconds (`cache.ttl_s`). Source: Django
/// documentation, "Cache arguments": TIMEOUT defaults to 300 seconds.
pub const LOCMEM_TTL_S: f64 = 300.0;

/// Time from a commit on the primary until a streaming replica has received
/// its WAL, in ms (`replicas.ship_delay_ms`). The walsender streams WAL as it
/// is flushed: about one network hop; we take a datacenter round trip.
pub const REPLICA_SHIP_DELAY_MS: f64 = DATACENTER_RTT_MS;

/// Replay cost of a write on a replica, as a fraction of the write's own `db`
/// demand on the primary (`replicas.replay` gives it outright). Assumption,
/// not measured: replay applies WAL records without parsing, planning or
/// client round trips, but in a single process (PostgreSQL's startup
/// process), while the primary runs writes on all its cores at once.
pub const REPLAY_FRACTION_OF_WRITE: f64 = 0.5;
