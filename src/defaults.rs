//! Every default service time and setting, with the source or measurement
//! behind it. Each can be overridden in the scenario (the field is named
//! beside it).
//!
//! "measurements.md" is `../shared/measurements.md`: single-client
//! measurements on a 2-vCPU VM with ext4 on a virtual disk (one 8 kB write +
//! fdatasync ≈ 0.12–0.15 ms). Disk times there are fast (a host write cache):
//! a consumer NVMe flush is ~1.6 ms and a 7,200 rpm disk ~8 ms (same file), so
//! a scenario about spinning disks should override `fsync_ms`/`wal_flush_ms`.

// ---------------------------------------------------------------------------
// Planning.
// ---------------------------------------------------------------------------

/// Share of a phase's capacity the plan keeps in reserve (`slo.headroom`).
/// A convention, not a measurement: capacity planners commonly size for
/// peaks at 70–80% of what a system carries, so that a burst, a slow
/// dependency or a wrong assumption does not land at the SLO's edge; we take
/// the laxer end, 20% in reserve. report.md states the value used.
pub const PLAN_HEADROOM: f64 = 0.2;

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

// ---------------------------------------------------------------- SQLite

/// Commit work of one SQLite write transaction on the app's CPU, in ms
/// (`database.commit_ms`). measurements.md: WAL + synchronous=NORMAL costs
/// "about 9 µs per commit" apart from checkpoints.
pub const SQLITE_COMMIT_MS: f64 = 0.009;

/// One disk flush (fsync) in ms (`database.fsync_ms`). measurements.md: "A
/// flush costs ~0.15 ms here".
pub const SQLITE_FSYNC_MS: f64 = 0.15;

/// Flushes per durable commit. measurements.md, column "disk flushes per
/// transaction": WAL with synchronous=FULL 1.00 (with NORMAL the WAL is only
/// flushed at checkpoints, so 0 per commit) (`database.flushes_per_commit`).
pub const SQLITE_WAL_FLUSHES_PER_COMMIT: u32 = 1;
/// Rollback (DELETE) journal, synchronous=FULL: 4.00 per commit (journal,
/// database, directory, journal delete) — measurements.md.
pub const SQLITE_ROLLBACK_FULL_FLUSHES_PER_COMMIT: u32 = 4;
/// Rollback journal, synchronous=NORMAL: 3. Not measured: an assumption from
/// SQLite's documentation (NORMAL omits the second sync of the journal before
/// the database is written).
pub const SQLITE_ROLLBACK_NORMAL_FLUSHES_PER_COMMIT: u32 = 3;

/// Of a rollback-journal commit's flushes, those made under EXCLUSIVE (the
/// rest come first, under RESERVED, while readers still get in). SQLite's
/// commit order (<https://www.sqlite.org/lockingv3.html>, section 5.0
/// "Writing to a database file"; `sqlite3PagerCommitPhaseOne` in pager.c):
/// the journal is synced first, then the writer takes PENDING and EXCLUSIVE,
/// writes the database pages, syncs the database and deletes the journal
/// (the commit point), and only then unlocks. Of measurements.md's four
/// flushes (journal, database, directory, journal delete) the journal's and
/// the directory's (synced with the journal the first time it is synced,
/// unixSync's dirSync) come before EXCLUSIVE, the database's and the
/// delete's under it: 2. With fewer flushes per commit, all of them.
pub const SQLITE_ROLLBACK_FLUSHES_UNDER_EXCLUSIVE: u32 = 2;

/// An automatic WAL checkpoint, in ms (`database.checkpoint_ms`).
/// measurements.md: "an automatic checkpoint of about 9 ms".
pub const SQLITE_CHECKPOINT_MS: f64 = 9.0;

/// Commits between automatic checkpoints (`database.checkpoint_every_commits`).
/// measurements.md: "roughly every 920 commits" (the default
/// wal_autocheckpoint of 1,000 pages, ~1.09 pages per one-row commit).
pub const SQLITE_CHECKPOINT_EVERY_COMMITS: f64 = 920.0;

/// CPU, in ms, a SQLite transaction spends reading back the pages it needs
/// when another connection has committed since its last one
/// (`database.reread_ms`). At the start of every transaction SQLite compares
/// the database's change marker with the one it saw last (the WAL-index
/// header in WAL mode, the file change counter with a rollback journal) and,
/// if another connection changed it, empties its page cache (pager.c:
/// `pagerBeginReadTransaction` and `pagerSharedLock` call `pager_reset`);
/// its own commits leave the marker as it knows it. So one process never
/// pays it, and many processes that all write pay it on almost every
/// transaction. Measured here by `validation/real/sqlite_reread.py`
/// (tests/data/real/sqlite_reread.csv): a read of the load's table after
/// another connection's commit against one right after its own read, 3.5–7.1
/// µs more over the three journal modes and three passes, 3.9 µs in the
/// median (`fidelity_shapes::the_reread_default_is_the_probes_measured_read_back`).
pub const SQLITE_REREAD_MS: f64 = 0.0039;

/// `busy_timeout` in ms (`database.busy_timeout_ms`). SQLite's own default is
/// 0 (fail at once), but Python's `sqlite3.connect(timeout=5.0)` — and so
/// Django — sets 5 s.
pub const SQLITE_BUSY_TIMEOUT_MS: f64 = 5000.0;

/// A one-row select in SQLite, for workloads that want a measured `db`
/// demand. measurements.md: 0.0047 ms mean. (A one-row update is all commit
/// work: `SQLITE_COMMIT_MS`, plus checkpoints, gives measurements.md's
/// 0.019 ms mean for WAL/NORMAL.)
pub const SQLITE_SELECT_MS: f64 = 0.0047;

// ------------------------------------------------------------ Hosts

/// One context switch on a time-sliced host, in µs (`app.context_switch_us`,
/// used when `app.quantum_ms` is given): the direct cost of a switch between
/// processes on Linux is 1–3 µs (lmbench's lat_ctx on current x86); the
/// cache a switched-in process has lost costs more, and depends on how much
/// it touches. 5 µs is an assumption in that range; fit it from a load test
/// where processes outnumber cores (tests/data/real: SQLite, K > cores).
pub const CONTEXT_SWITCH_US: f64 = 5.0;

// ------------------------------------------------------------ PostgreSQL

/// `max_connections` (`database.max_connections`): PostgreSQL's default,
/// 100 (design.md).
pub const PG_MAX_CONNECTIONS: u32 = 100;

/// One WAL flush (fdatasync) in ms (`database.wal_flush_ms`).
/// measurements.md: "PostgreSQL's WAL fdatasync took 0.23 ms at one client".
pub const PG_WAL_FLUSH_MS: f64 = 0.23;

/// Flush time added for each further commit a WAL flush covers, in ms
/// (`database.wal_flush_per_commit_ms`): a flush writes every commit's log
/// records inserted so far before it syncs, so a flush covering n commits
/// takes wal_flush_ms + (n − 1) × this. 0 by default (a flush's time fixed),
/// because what tests/data/real shows is mostly something else: pgbench
/// tpcb-like (synchronous_commit on) writes ~10 kB of WAL per commit and its
/// COMMIT took 0.77 ms at c = 8 and 11 ms at c = 90 while 3.8 and 26 commits
/// shared each flush — 0.3–0.4 ms per further commit, far more than writing
/// 10 kB takes; the rest is the flushing backend waiting for a core behind
/// the runnable others before the next flush can begin (see
/// tests/it/fidelity_shapes.rs). Set it where a log device is slow to write.
pub const PG_WAL_FLUSH_PER_COMMIT_MS: f64 = 0.0;

/// CPU of a PostgreSQL backend after its WAL flush returns, in ms: it lets
/// go of the WAL write lock, marks its transaction committed and answers the
/// client. An assumption (not measured here: a few thousand instructions and
/// a send). What matters is less its size than that it needs a core: a
/// backend that led a group-commit flush holds the next flush back until it
/// runs again (see `engine::group_commit`).
pub const PG_COMMIT_CPU_MS: f64 = 0.01;

/// Memory of one PostgreSQL connection (backend process) in MB
/// (`database.connection_mb`). design.md: "several MB each"; 5 MB is an
/// assumption within that range (not measured here).
pub const PG_CONNECTION_MB: f64 = 5.0;

/// Throughput lost per runnable backend beyond the cores
/// (`database.contention`): with n > cores backends on the CPU, the CPU does
/// cores / (1 + κ(n − cores)) of useful work. An assumption (not measured
/// here): κ = 0.005 costs ~20% at 50 runnable backends on 2 cores, the order
/// of the decline pgbench shows past its peak, and the reason for the
/// PostgreSQL wiki's advice of connections ≈ 2 × cores + disks.
pub const PG_CONTENTION: f64 = 0.005;

/// Opening a server connection (backend fork and authentication), in ms
/// (`database.connect_ms`): the server's CPU for each request that opens
/// its own connection (`connections = "request"`), a wait when PgBouncer or
/// an app's pool opens one. An assumption (not measured here; connecting
/// anew per transaction, pgbench -C, is known to cost PostgreSQL on the
/// order of a millisecond or more of backend start-up).
pub const PG_CONNECT_MS: f64 = 2.0;

/// PostgreSQL CPU per TPC-B-like transaction, in ms, for workloads that want
/// a measured `db` demand: measurements.md gives 0.39–0.45 ms at 4–16
/// clients; this is the upper end.
pub const PG_TPCB_MS: f64 = 0.45;
/// PostgreSQL CPU per one-row select, in ms, for workloads that want a
/// measured `db` demand: measurements.md gives 0.03–0.055 ms at 4–16
/// clients; this is the upper end.
pub const PG_SELECT_MS: f64 = 0.055;

// -------------------------------------------------------------- PgBouncer

/// PgBouncer's CPU per transaction on its one thread, in ms
/// (`pooler.cpu_ms`). measurements.md: "roughly 0.1 ms of CPU per transaction".
pub const PGBOUNCER_CPU_MS: f64 = 0.1;

// The rest are pgbouncer.ini's defaults (design.md, from PgBouncer's
// documentation), each under its pgbouncer.ini name in `pooler`.

/// `pool_mode` (`pooler.pool_mode`): in session mode a client holds its
/// server connection for the whole request; `"transaction"` returns it after
/// each transaction.
pub const PGBOUNCER_POOL_MODE: &str = "session";
/// Most concurrent client connections (`pooler.max_client_conn`); the next
/// client is refused at once.
pub const PGBOUNCER_MAX_CLIENT_CONN: u32 = 100;
/// Server connections per database (`pooler.default_pool_size`), opened on
/// demand up to this many.
pub const PGBOUNCER_DEFAULT_POOL_SIZE: u32 = 20;
/// Server connections open from the start (`pooler.min_pool_size`); 0: each
/// is opened when first needed, at a backend start-up.
pub const PGBOUNCER_MIN_POOL_SIZE: u32 = 0;
/// Extra server connections for clients that have waited
/// `reserve_pool_timeout` (`pooler.reserve_pool_size`); 0: none.
pub const PGBOUNCER_RESERVE_POOL_SIZE: u32 = 0;
/// How long a client waits for a server connection, in seconds, before it
/// may take a reserve one (`pooler.reserve_pool_timeout`).
pub const PGBOUNCER_RESERVE_POOL_TIMEOUT_S: f64 = 5.0;
/// Most server connections to one database (`pooler.max_db_connections`);
/// 0 = unlimited, as in pgbouncer.ini.
pub const PGBOUNCER_MAX_DB_CONNECTIONS: u32 = 0;
/// Longest a client waits for a server connection, in seconds, before it is
/// disconnected with an error (`pooler.query_wait_timeout`; 0 = forever).
pub const PGBOUNCER_QUERY_WAIT_TIMEOUT_S: f64 = 120.0;

// ------------------------------------------------------- App-side pools

/// How long a transaction waits for a connection of the app's own pool, in s
/// (`database.client_pool_timeout_s`). Prisma's `pool_timeout` default
/// (Prisma documentation, "Connection pool": "pool_timeout … Default: 10"
/// seconds; past it the query fails with P2024, "Timed out fetching a new
/// connection from the connection pool").
pub const CLIENT_POOL_TIMEOUT_S: f64 = 10.0;

/// Network round trips a client waits for while it opens a PostgreSQL
/// connection (`database.connections = "request"`): the TCP handshake, the
/// startup packet answered by the authentication request, and SCRAM-SHA-256
/// (PostgreSQL's default `password_encryption` since 14) in two exchanges,
/// the last answered by AuthenticationOk and ReadyForQuery (PostgreSQL
/// documentation, "Frontend/Backend Protocol: Message Flow", SASL
/// authentication). No TLS (it would add one or two more).
pub const PG_CONNECT_ROUND_TRIPS: u32 = 4;
