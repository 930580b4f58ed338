//! The `database` and `pooler` sections of a phase: SQLite, PostgreSQL and
//! PgBouncer, with their settings by the names their own configuration files
//! use (PRAGMAs, postgresql.conf, pgbouncer.ini). Every default service time
//! lives in `crate::defaults` and can be overridden here.

use super::diag::{echo, Diagnostics};
use super::raw::{Num, S};
use super::value::{duration, int_in, num_in, Bounds, Unit, SPAN, TIMEOUT};
use crate::defaults as def;
use serde::Deserialize;
use std::ops::Range;

/// `[phase.database]` as written.
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub engine: Option<S<String>>,
    pub cores: Option<S<Num>>,
    // PostgreSQL (postgresql.conf names where there is one).
    pub max_connections: Option<S<Num>>,
    pub synchronous_commit: Option<S<String>>,
    pub connection_mb: Option<S<Num>>,
    pub wal_flush_ms: Option<S<Num>>,
    pub wal_flush_per_commit_ms: Option<S<Num>>,
    pub contention: Option<S<Num>>,
    pub connect_ms: Option<S<Num>>,
    /// "transaction" (from connections kept open), "request" (opened and
    /// closed by each request) or "session" (kept by each user).
    pub connections: Option<S<String>>,
    /// Connections each app host keeps open to this server (or to PgBouncer
    /// in front of it) and lends per transaction: Prisma's `connection_limit`.
    pub client_pool: Option<S<Num>>,
    /// How long a transaction waits for one of them, in s (Prisma's
    /// `pool_timeout`).
    pub client_pool_timeout_s: Option<S<Num>>,
    /// What a client refused a session connection does: "error" or "abort".
    pub on_refused: Option<S<String>>,
    /// "own" (its own host) or "app" (sharing the app host's cores).
    pub host: Option<S<String>>,
    // SQLite (PRAGMA names where there is one).
    pub journal_mode: Option<S<String>>,
    pub synchronous: Option<S<String>>,
    pub busy_timeout_ms: Option<S<Num>>,
    pub fsync_ms: Option<S<Num>>,
    pub commit_ms: Option<S<Num>>,
    pub checkpoint_ms: Option<S<Num>>,
    pub checkpoint_every_commits: Option<S<Num>>,
    pub flushes_per_commit: Option<S<Num>>,
    pub reread_ms: Option<S<Num>>,
}

/// `[phase.pooler]` as written: pgbouncer.ini's own names and units
/// (timeouts in seconds).
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPooler {
    pub pool_mode: Option<S<String>>,
    pub max_client_conn: Option<S<Num>>,
    pub default_pool_size: Option<S<Num>>,
    pub min_pool_size: Option<S<Num>>,
    pub reserve_pool_size: Option<S<Num>>,
    pub reserve_pool_timeout: Option<S<Num>>,
    pub max_db_connections: Option<S<Num>>,
    pub query_wait_timeout: Option<S<Num>>,
    /// PgBouncer's CPU per transaction on its single thread.
    pub cpu_ms: Option<S<Num>>,
}

/// A database server of a phase.
#[derive(Clone, Copy, Debug)]
pub struct Database {
    /// CPU cores of the database host (for SQLite: the app host's cores, as
    /// SQLite runs inside the app process).
    pub cores: u32,
    /// `database.engine` and the settings that belong to it.
    pub engine: DbEngine,
}

/// The engine of a [`Database`] (`database.engine`, `"postgres"` if absent).
#[derive(Clone, Copy, Debug)]
pub enum DbEngine {
    /// `engine = "postgres"`: a server on its own host.
    Postgres(Postgres),
    /// `engine = "sqlite"`: a library in the app process, a file on its host.
    Sqlite(Sqlite),
}

impl Database {
    /// Whether the engine is SQLite (which runs on the app host, not its own).
    pub fn is_sqlite(&self) -> bool {
        matches!(self.engine, DbEngine::Sqlite(_))
    }
}

/// PostgreSQL's settings, by their postgresql.conf names where there is one.
#[derive(Clone, Copy, Debug)]
pub struct Postgres {
    /// `database.max_connections`: connections the server accepts, 1–1000000
    /// (default 100); one more is refused.
    pub max_connections: u32,
    /// `synchronous_commit = on`: a commit waits for its WAL flush.
    pub synchronous_commit: bool,
    /// `database.connection_mb`: memory of one open connection (backend
    /// process), in MB, 0–1000000.
    pub connection_mb: f64,
    /// `database.wal_flush_ms`: one WAL flush (fdatasync), in ms, shared by
    /// every commit waiting for it.
    pub wal_flush_ms: f64,
    /// `database.wal_flush_per_commit_ms`: flush time added for each further
    /// commit one flush covers, in ms (default
    /// `defaults::PG_WAL_FLUSH_PER_COMMIT_MS`).
    pub wal_flush_per_commit_ms: f64,
    /// `database.contention`: κ, 0–10 (default 0.005): with n runnable
    /// backends on c cores, the cores do c / (1 + κ(n − c)) of useful work.
    pub contention: f64,
    /// `database.connect_ms`: opening a server connection (fork and
    /// authentication), in ms: on the server's cores for each request with
    /// `connections = "request"`, and as a wait when a pooler or a client
    /// pool opens one.
    pub connect_ms: f64,
    /// `database.connections = "session"`: each client (user) opens one
    /// connection at its first request and keeps it (pgbench's clients: the
    /// load's users are the connection holders); `"transaction"` (the
    /// default): a transaction borrows one of the connections the app keeps
    /// open and gives it back, at no connect cost.
    pub session_connections: bool,
    /// `database.connections = "request"`: each request opens its own
    /// connection and closes it when done (Django's default `CONN_MAX_AGE =
    /// 0`), paying the handshake's round trips
    /// (`defaults::PG_CONNECT_ROUND_TRIPS`) and `connect_ms` of the server's
    /// cores (the backend start-up).
    pub connect_per_request: bool,
    /// `database.client_pool`: connections each app host keeps open and lends
    /// per transaction (Prisma's `connection_limit`; one per Django worker
    /// with `CONN_MAX_AGE > 0`); `None`: no pool in the app.
    pub client_pool: Option<ClientPool>,
    /// `database.on_refused = "abort"`: a client refused its session
    /// connection stops for good, as a pgbench client does (pgbench then
    /// exits with an error); `"error"` (the default): the request fails and
    /// the client tries again with its next one, as an app does.
    pub abort_on_refusal: bool,
    /// `database.host = "app"`: the server runs on the (single) app host and
    /// shares its cores with the app — a load generator and its database on
    /// one machine; `"own"` (the default): a host of its own with
    /// `database.cores`.
    pub on_app_host: bool,
}

/// A pool of connections in each app instance (`database.client_pool`):
/// opened when first needed and kept, lent per transaction; a transaction
/// that finds them all lent waits its turn (FIFO).
#[derive(Clone, Copy, Debug)]
pub struct ClientPool {
    /// Connections per app host, 1–10000.
    pub size: u32,
    /// `database.client_pool_timeout_s`: longest wait for a connection, in s,
    /// before the request fails (Prisma's `pool_timeout`, default
    /// `defaults::CLIENT_POOL_TIMEOUT_S`; 0: wait forever).
    pub timeout_s: Option<f64>,
}

/// SQLite's journal (`database.journal_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Journal {
    /// WAL (the default): readers take no lock; commits append to the log and
    /// an automatic checkpoint writes it back every so many commits.
    Wal,
    /// DELETE, TRUNCATE or PERSIST: a rollback journal.
    Rollback,
}

/// SQLite's `PRAGMA synchronous` (`database.synchronous`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// FULL (the default): every commit flushes to disk before it returns.
    Full,
    /// NORMAL: in WAL mode the log is flushed only at checkpoints; with a
    /// rollback journal a commit flushes 3 times instead of 4 by default.
    Normal,
}

/// SQLite's settings, by their PRAGMA names where there is one.
#[derive(Clone, Copy, Debug)]
pub struct Sqlite {
    /// `database.journal_mode`: `"wal"`, or a rollback journal.
    pub journal: Journal,
    /// `database.synchronous`: `"full"` or `"normal"`.
    pub synchronous: Synchronous,
    /// `database.busy_timeout_ms`: how long a writer sleeps on SQLite's busy
    /// handler before failing with SQLITE_BUSY, in ms (0: at once; default
    /// 5000, Python's).
    pub busy_timeout_ms: f64,
    /// `database.fsync_ms`: one disk flush, in ms.
    pub fsync_ms: f64,
    /// `database.commit_ms`: commit work of one write transaction on the
    /// app's CPU, in ms.
    pub commit_ms: f64,
    /// `database.checkpoint_ms`: one automatic WAL checkpoint, in ms.
    pub checkpoint_ms: f64,
    /// `database.checkpoint_every_commits`: commits between automatic
    /// checkpoints, 1–1e9 (default 920).
    pub checkpoint_every_commits: f64,
    /// `database.flushes_per_commit`: disk flushes per durable commit, 0–16
    /// (default 1 for WAL; 4 for a rollback journal with FULL, 3 with
    /// NORMAL). WAL with NORMAL flushes at checkpoints only, whatever this says.
    pub flushes_per_commit: u32,
    /// `database.reread_ms`: CPU a transaction spends reading back the pages
    /// it needs, in ms, when another connection has committed since this
    /// one's last transaction (SQLite then empties its page cache: see
    /// `defaults::SQLITE_REREAD_MS`; 0: never).
    pub reread_ms: f64,
}

/// How PgBouncer lends server connections (`pooler.pool_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolMode {
    /// A client keeps its server connection until it disconnects (here: the
    /// end of the request).
    Session,
    /// A client borrows a server connection for one transaction.
    Transaction,
}

/// PgBouncer in front of the database.
#[derive(Clone, Copy, Debug)]
pub struct Pooler {
    /// `pooler.pool_mode`: `"session"` (the default) or `"transaction"`.
    pub mode: PoolMode,
    /// `pooler.max_client_conn`: concurrent client connections accepted,
    /// 1–1000000 (default 100); one more is refused at once.
    pub max_client_conn: u32,
    /// `pooler.default_pool_size`: server connections per database any
    /// waiting client may use, 1–1000000 (default 20).
    pub default_pool_size: u32,
    /// `pooler.min_pool_size`: server connections opened at start, at most
    /// `default_pool_size` (default 0).
    pub min_pool_size: u32,
    /// `pooler.reserve_pool_size`: extra server connections for clients that
    /// waited `reserve_pool_timeout_s` (default 0).
    pub reserve_pool_size: u32,
    /// `pooler.reserve_pool_timeout`: wait, in s, after which a client may use
    /// the reserve pool (0: at once; default 5).
    pub reserve_pool_timeout_s: f64,
    /// `pooler.max_db_connections`: server connections per database.
    /// `None`: unlimited (pgbouncer.ini's 0).
    pub max_db_connections: Option<u32>,
    /// `pooler.query_wait_timeout`: longest wait for a server connection, in
    /// s, before the client gets an error (default 120).
    /// `None`: wait forever (pgbouncer.ini's 0).
    pub query_wait_timeout_s: Option<f64>,
    /// `pooler.cpu_ms`: PgBouncer's CPU per transaction on its single thread,
    /// in ms (default 0.1).
    pub cpu_ms: f64,
}

fn pick<T: Clone>(c: &Option<T>, p: &Option<T>) -> Option<T> {
    c.clone().or_else(|| p.clone())
}

/// A child phase's database over its parent's: field by field, unless the
/// child changes the engine, which starts afresh.
pub(super) fn merge_database(c: &S<RawDatabase>, p: &S<RawDatabase>) -> S<RawDatabase> {
    let (cr, pr) = (c.get_ref(), p.get_ref());
    let engine_of = |r: &RawDatabase| {
        r.engine
            .as_ref()
            .map_or("postgres".to_string(), |e| e.get_ref().clone())
    };
    if cr.engine.is_some() && engine_of(cr) != engine_of(pr) {
        return c.clone();
    }
    S::new(
        c.span(),
        RawDatabase {
            engine: pick(&cr.engine, &pr.engine),
            cores: pick(&cr.cores, &pr.cores),
            max_connections: pick(&cr.max_connections, &pr.max_connections),
            synchronous_commit: pick(&cr.synchronous_commit, &pr.synchronous_commit),
            connection_mb: pick(&cr.connection_mb, &pr.connection_mb),
            wal_flush_ms: pick(&cr.wal_flush_ms, &pr.wal_flush_ms),
            wal_flush_per_commit_ms: pick(&cr.wal_flush_per_commit_ms, &pr.wal_flush_per_commit_ms),
            contention: pick(&cr.contention, &pr.contention),
            connect_ms: pick(&cr.connect_ms, &pr.connect_ms),
            connections: pick(&cr.connections, &pr.connections),
            client_pool: pick(&cr.client_pool, &pr.client_pool),
            client_pool_timeout_s: pick(&cr.client_pool_timeout_s, &pr.client_pool_timeout_s),
            on_refused: pick(&cr.on_refused, &pr.on_refused),
            host: pick(&cr.host, &pr.host),
            journal_mode: pick(&cr.journal_mode, &pr.journal_mode),
            synchronous: pick(&cr.synchronous, &pr.synchronous),
            busy_timeout_ms: pick(&cr.busy_timeout_ms, &pr.busy_timeout_ms),
            fsync_ms: pick(&cr.fsync_ms, &pr.fsync_ms),
            commit_ms: pick(&cr.commit_ms, &pr.commit_ms),
            checkpoint_ms: pick(&cr.checkpoint_ms, &pr.checkpoint_ms),
            checkpoint_every_commits: pick(
                &cr.checkpoint_every_commits,
                &pr.checkpoint_every_commits,
            ),
            flushes_per_commit: pick(&cr.flushes_per_commit, &pr.flushes_per_commit),
            reread_ms: pick(&cr.reread_ms, &pr.reread_ms),
        },
    )
}

pub(super) fn merge_pooler(c: &S<RawPooler>, p: &S<RawPooler>) -> S<RawPooler> {
    let (cr, pr) = (c.get_ref(), p.get_ref());
    S::new(
        c.span(),
        RawPooler {
            pool_mode: pick(&cr.pool_mode, &pr.pool_mode),
            max_client_conn: pick(&cr.max_client_conn, &pr.max_client_conn),
            default_pool_size: pick(&cr.default_pool_size, &pr.default_pool_size),
            min_pool_size: pick(&cr.min_pool_size, &pr.min_pool_size),
            reserve_pool_size: pick(&cr.reserve_pool_size, &pr.reserve_pool_size),
            reserve_pool_timeout: pick(&cr.reserve_pool_timeout, &pr.reserve_pool_timeout),
            max_db_connections: pick(&cr.max_db_connections, &pr.max_db_connections),
            query_wait_timeout: pick(&cr.query_wait_timeout, &pr.query_wait_timeout),
            cpu_ms: pick(&cr.cpu_ms, &pr.cpu_ms),
        },
    )
}

/// A number field within [lo, hi], or its default when absent.
fn num_or(
    d: &mut Diagnostics,
    v: &Option<S<Num>>,
    field: &str,
    default: f64,
    (lo, hi): (f64, f64),
    what: &str,
) -> Option<f64> {
    match v {
        None => Some(default),
        Some(v) => num_in(d, v, field, (lo, hi), what),
    }
}

/// A time field in `unit` within `b`, or its default (in that unit) when
/// absent; the value in that unit.
fn time_or(
    d: &mut Diagnostics,
    v: &Option<S<Num>>,
    field: &str,
    default: f64,
    unit: Unit,
    b: Bounds,
) -> Option<f64> {
    match v {
        None => Some(default),
        Some(v) => duration(d, v, field, unit, b).map(|t| t.ns() / unit.ns()),
    }
}

/// The longest database-side time a setting may take: an hour.
const HOUR_NS: f64 = 3600e9;

/// The engine a `[phase.database]` names, lower case ("postgres" if absent).
pub(super) fn engine_word(r: &RawDatabase) -> String {
    r.engine.as_ref().map_or("postgres".to_string(), |e| {
        e.get_ref().trim().to_ascii_lowercase()
    })
}

fn int_or(
    d: &mut Diagnostics,
    v: &Option<S<Num>>,
    field: &str,
    default: u32,
    (lo, hi): (i64, i64),
    what: &str,
) -> Option<u32> {
    match v {
        None => Some(default),
        Some(v) => int_in(d, v, field, lo, hi, what).map(|x| x as u32),
    }
}

/// One of the words `valid` (compared without case), or `default` if absent.
fn word<'a>(
    d: &mut Diagnostics,
    v: &Option<S<String>>,
    field: &str,
    default: &'a str,
    valid: &[&'a str],
) -> Option<&'a str> {
    match v {
        None => Some(default),
        Some(v) => {
            let w = v.get_ref().trim().to_ascii_lowercase();
            match valid.iter().find(|x| **x == w) {
                Some(x) => Some(x),
                None => {
                    let names: Vec<String> = valid.iter().map(|x| format!("\"{x}\"")).collect();
                    d.error(
                        v.span(),
                        field,
                        format!(
                            "`{}` is not valid here; valid: {}",
                            echo(v.get_ref()),
                            names.join(", ")
                        ),
                    );
                    None
                }
            }
        }
    }
}

/// Check `[phase.database]`. `hosts` is the number of app hosts (SQLite is a
/// file on one host) and `app_cores` their cores each.
pub(super) fn check_database(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    db: &S<RawDatabase>,
    hosts: Option<u32>,
    app_cores: Option<u32>,
) -> Option<Database> {
    let r = db.get_ref();
    let engine = word(
        d,
        &r.engine,
        &f("database.engine"),
        "postgres",
        &["postgres", "sqlite"],
    )?;
    // Settings that belong to the other engine are mistakes, not no-ops.
    let given = |name: &'static str, span: Option<Range<usize>>| span.map(|s| (name, s));
    let pg_only = [
        given("cores", r.cores.as_ref().map(|v| v.span())),
        given(
            "max_connections",
            r.max_connections.as_ref().map(|v| v.span()),
        ),
        given(
            "synchronous_commit",
            r.synchronous_commit.as_ref().map(|v| v.span()),
        ),
        given("connection_mb", r.connection_mb.as_ref().map(|v| v.span())),
        given("wal_flush_ms", r.wal_flush_ms.as_ref().map(|v| v.span())),
        given(
            "wal_flush_per_commit_ms",
            r.wal_flush_per_commit_ms.as_ref().map(|v| v.span()),
        ),
        given("contention", r.contention.as_ref().map(|v| v.span())),
        given("connect_ms", r.connect_ms.as_ref().map(|v| v.span())),
        given("connections", r.connections.as_ref().map(|v| v.span())),
        given("client_pool", r.client_pool.as_ref().map(|v| v.span())),
        given(
            "client_pool_timeout_s",
            r.client_pool_timeout_s.as_ref().map(|v| v.span()),
        ),
        given("on_refused", r.on_refused.as_ref().map(|v| v.span())),
        given("host", r.host.as_ref().map(|v| v.span())),
    ];
    let sqlite_only = [
        given("journal_mode", r.journal_mode.as_ref().map(|v| v.span())),
        given("synchronous", r.synchronous.as_ref().map(|v| v.span())),
        given(
            "busy_timeout_ms",
            r.busy_timeout_ms.as_ref().map(|v| v.span()),
        ),
        given("fsync_ms", r.fsync_ms.as_ref().map(|v| v.span())),
        given("commit_ms", r.commit_ms.as_ref().map(|v| v.span())),
        given("checkpoint_ms", r.checkpoint_ms.as_ref().map(|v| v.span())),
        given(
            "checkpoint_every_commits",
            r.checkpoint_every_commits.as_ref().map(|v| v.span()),
        ),
        given(
            "flushes_per_commit",
            r.flushes_per_commit.as_ref().map(|v| v.span()),
        ),
        given("reread_ms", r.reread_ms.as_ref().map(|v| v.span())),
    ];
    let (wrong, other): (&[_], _) = if engine == "sqlite" {
        (&pg_only, "postgres")
    } else {
        (&sqlite_only, "sqlite")
    };
    let mut ok = true;
    for (name, span) in wrong.iter().flatten().cloned() {
        let why = if name == "cores" {
            " (SQLite runs inside the app process, on the app host's cores)"
        } else {
            ""
        };
        d.error(
            span,
            f(&format!("database.{name}")),
            format!("applies to engine = \"{other}\" only, and this database is \"{engine}\"{why}"),
        );
        ok = false;
    }
    let db = if engine == "sqlite" {
        if let Some(h) = hosts.filter(|&h| h > 1) {
            let span = r.engine.as_ref().map_or(db.span(), |e| e.span());
            d.error(
                span,
                f("database.engine"),
                format!(
                    "SQLite is a file on one host, but app.hosts = {h} puts app instances on {h} hosts that cannot share it; use app.hosts = 1 or engine = \"postgres\""
                ),
            );
            ok = false;
        }
        // Its own settings are checked even when the cores are not known.
        check_sqlite(d, f, r, app_cores)
    } else {
        check_postgres(d, f, db, hosts, app_cores)
    };
    db.filter(|_| ok)
}

fn check_sqlite(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    r: &RawDatabase,
    app_cores: Option<u32>,
) -> Option<Database> {
    let journal = word(
        d,
        &r.journal_mode,
        &f("database.journal_mode"),
        "wal",
        &["wal", "delete", "truncate", "persist"],
    )
    .map(|w| match w {
        "wal" => Journal::Wal,
        _ => Journal::Rollback,
    });
    let synchronous = word(
        d,
        &r.synchronous,
        &f("database.synchronous"),
        "full",
        &["full", "normal"],
    )
    .map(|w| match w {
        "normal" => Synchronous::Normal,
        _ => Synchronous::Full,
    });
    // An invalid mode is reported above; the other settings are still checked.
    let flushes_default = match (
        journal.unwrap_or(Journal::Wal),
        synchronous.unwrap_or(Synchronous::Full),
    ) {
        (Journal::Wal, _) => def::SQLITE_WAL_FLUSHES_PER_COMMIT,
        (Journal::Rollback, Synchronous::Full) => def::SQLITE_ROLLBACK_FULL_FLUSHES_PER_COMMIT,
        (Journal::Rollback, Synchronous::Normal) => def::SQLITE_ROLLBACK_NORMAL_FLUSHES_PER_COMMIT,
    };
    let ms = |d: &mut Diagnostics, v: &Option<S<Num>>, name: &str, default: f64| {
        time_or(
            d,
            v,
            &f(&format!("database.{name}")),
            default,
            Unit::Ms,
            SPAN.at_most(HOUR_NS),
        )
    };
    // 0: a busy database fails the transaction at once.
    let busy = time_or(
        d,
        &r.busy_timeout_ms,
        &f("database.busy_timeout_ms"),
        def::SQLITE_BUSY_TIMEOUT_MS,
        Unit::Ms,
        TIMEOUT.or_zero().at_most(HOUR_NS),
    );
    let fsync = ms(d, &r.fsync_ms, "fsync_ms", def::SQLITE_FSYNC_MS);
    let commit = ms(d, &r.commit_ms, "commit_ms", def::SQLITE_COMMIT_MS);
    let checkpoint = ms(
        d,
        &r.checkpoint_ms,
        "checkpoint_ms",
        def::SQLITE_CHECKPOINT_MS,
    );
    let reread = ms(d, &r.reread_ms, "reread_ms", def::SQLITE_REREAD_MS);
    let every = num_or(
        d,
        &r.checkpoint_every_commits,
        &f("database.checkpoint_every_commits"),
        def::SQLITE_CHECKPOINT_EVERY_COMMITS,
        (1.0, 1e9),
        "the commits between automatic checkpoints",
    );
    let flushes = int_or(
        d,
        &r.flushes_per_commit,
        &f("database.flushes_per_commit"),
        flushes_default,
        (0, 16),
        "the disk flushes of a durable commit",
    );
    Some(Database {
        cores: app_cores?,
        engine: DbEngine::Sqlite(Sqlite {
            journal: journal?,
            synchronous: synchronous?,
            busy_timeout_ms: busy?,
            fsync_ms: fsync?,
            commit_ms: commit?,
            checkpoint_ms: checkpoint?,
            checkpoint_every_commits: every?,
            flushes_per_commit: flushes?,
            reread_ms: reread?,
        }),
    })
}

fn check_postgres(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    db: &S<RawDatabase>,
    hosts: Option<u32>,
    app_cores: Option<u32>,
) -> Option<Database> {
    let r = db.get_ref();
    let host = word(d, &r.host, &f("database.host"), "own", &["own", "app"]);
    let connections = word(
        d,
        &r.connections,
        &f("database.connections"),
        "transaction",
        &["transaction", "request", "session"],
    );
    let on_refused = word(
        d,
        &r.on_refused,
        &f("database.on_refused"),
        "error",
        &["error", "abort"],
    );
    if on_refused == Some("abort") && matches!(connections, Some("transaction" | "request")) {
        if let Some(v) = &r.on_refused {
            d.error(
                v.span(),
                f("database.on_refused"),
                "a client aborts when its session connection is refused; with connections = \"transaction\" or \"request\" a refusal fails one request: add connections = \"session\", or use on_refused = \"error\"",
            );
        }
        return None;
    }
    let on_app_host = host == Some("app");
    if on_app_host {
        if let Some(h) = hosts.filter(|&h| h > 1) {
            d.error(
                r.host.as_ref().map_or(db.span(), |v| v.span()),
                f("database.host"),
                format!("host = \"app\" puts the server on the app host, but app.hosts = {h}: use app.hosts = 1, or host = \"own\" with database.cores"),
            );
            return None;
        }
        if let Some(c) = &r.cores {
            d.error(
                c.span(),
                f("database.cores"),
                "with host = \"app\" the server shares the app host's cores (app.cores_per_host): remove database.cores",
            );
            return None;
        }
    }
    let cores = match &r.cores {
        None if on_app_host => app_cores.map(i64::from),
        None => {
            d.error(
                db.span(),
                f("database.cores"),
                "missing: CPU cores of the database host",
            );
            None
        }
        Some(v) => int_in(
            d,
            v,
            &f("database.cores"),
            1,
            1024,
            "CPU cores of the database host",
        ),
    };
    let max_connections = int_or(
        d,
        &r.max_connections,
        &f("database.max_connections"),
        def::PG_MAX_CONNECTIONS,
        (1, 1_000_000),
        "the most connections the server accepts",
    );
    let sync = word(
        d,
        &r.synchronous_commit,
        &f("database.synchronous_commit"),
        "on",
        &["on", "off"],
    );
    let ms = |d: &mut Diagnostics, v: &Option<S<Num>>, name: &str, default: f64| {
        time_or(
            d,
            v,
            &f(&format!("database.{name}")),
            default,
            Unit::Ms,
            SPAN.at_most(HOUR_NS),
        )
    };
    let wal = ms(d, &r.wal_flush_ms, "wal_flush_ms", def::PG_WAL_FLUSH_MS);
    let wal_per_commit = ms(
        d,
        &r.wal_flush_per_commit_ms,
        "wal_flush_per_commit_ms",
        def::PG_WAL_FLUSH_PER_COMMIT_MS,
    );
    let connect = ms(d, &r.connect_ms, "connect_ms", def::PG_CONNECT_MS);
    let mb = num_or(
        d,
        &r.connection_mb,
        &f("database.connection_mb"),
        def::PG_CONNECTION_MB,
        (0.0, 1e6),
        "the memory of one connection in MB",
    );
    let contention = num_or(
        d,
        &r.contention,
        &f("database.contention"),
        def::PG_CONTENTION,
        (0.0, 10.0),
        "the throughput lost per active backend beyond the cores",
    );
    let client_pool = check_client_pool(d, f, r, connections)?;
    Some(Database {
        cores: cores? as u32,
        engine: DbEngine::Postgres(Postgres {
            max_connections: max_connections?,
            synchronous_commit: sync? == "on",
            connection_mb: mb?,
            wal_flush_ms: wal?,
            wal_flush_per_commit_ms: wal_per_commit?,
            contention: contention?,
            connect_ms: connect?,
            session_connections: connections? == "session",
            connect_per_request: connections? == "request",
            client_pool,
            abort_on_refusal: on_refused? == "abort",
            on_app_host: host?.eq("app"),
        }),
    })
}

/// `database.client_pool` and its timeout: `Some(None)` when there is no
/// pool, `None` after an error.
fn check_client_pool(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    r: &RawDatabase,
    connections: Option<&str>,
) -> Option<Option<ClientPool>> {
    let Some(v) = &r.client_pool else {
        if let Some(t) = &r.client_pool_timeout_s {
            d.error(
                t.span(),
                f("database.client_pool_timeout_s"),
                "a wait for the app's pool of connections needs a pool: add client_pool, or remove client_pool_timeout_s",
            );
            return None;
        }
        return Some(None);
    };
    let size = int_in(
        d,
        v,
        &f("database.client_pool"),
        1,
        10_000,
        "the connections each app host keeps open",
    );
    let timeout = time_or(
        d,
        &r.client_pool_timeout_s,
        &f("database.client_pool_timeout_s"),
        def::CLIENT_POOL_TIMEOUT_S,
        Unit::S,
        TIMEOUT.or_zero(),
    );
    let size = size? as u32;
    let timeout = timeout?;
    if let Some(c @ ("session" | "request")) = connections {
        let what = if c == "session" {
            "each user keeps its own connection"
        } else {
            "each request opens and closes its own connection"
        };
        d.error(
            v.span(),
            f("database.client_pool"),
            format!("a client pool keeps its connections open and lends them per transaction, but connections = \"{c}\" says {what}: remove client_pool, or use connections = \"transaction\""),
        );
        return None;
    }
    Some(Some(ClientPool {
        size,
        timeout_s: (timeout > 0.0).then_some(timeout),
    }))
}

/// Check `[phase.pooler]`; a pooler needs a PostgreSQL database behind it.
pub(super) fn check_pooler(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    p: &S<RawPooler>,
    engine: Option<&str>,
) -> Option<Pooler> {
    let r = p.get_ref();
    match engine {
        Some("sqlite") => {
            d.error(
                p.span(),
                f("pooler"),
                "a pooler (PgBouncer) sits in front of PostgreSQL; this phase's database is SQLite, which has no server connections to pool",
            );
            return None;
        }
        None => {
            d.error(
                p.span(),
                f("pooler"),
                "a pooler (PgBouncer) needs a database behind it: add [phase.database] with engine = \"postgres\"",
            );
            return None;
        }
        // PostgreSQL, or an engine already reported as unknown: the pooler's
        // own settings are checked either way.
        Some(_) => {}
    }
    let mode = word(
        d,
        &r.pool_mode,
        &f("pooler.pool_mode"),
        def::PGBOUNCER_POOL_MODE,
        &["session", "transaction"],
    );
    let count = |d: &mut Diagnostics, v: &Option<S<Num>>, name: &str, default: u32, lo: i64| {
        int_or(
            d,
            v,
            &f(&format!("pooler.{name}")),
            default,
            (lo, 1_000_000),
            "a number of connections",
        )
    };
    let max_client = count(
        d,
        &r.max_client_conn,
        "max_client_conn",
        def::PGBOUNCER_MAX_CLIENT_CONN,
        1,
    );
    let size = count(
        d,
        &r.default_pool_size,
        "default_pool_size",
        def::PGBOUNCER_DEFAULT_POOL_SIZE,
        1,
    );
    let min = count(
        d,
        &r.min_pool_size,
        "min_pool_size",
        def::PGBOUNCER_MIN_POOL_SIZE,
        0,
    );
    let reserve = count(
        d,
        &r.reserve_pool_size,
        "reserve_pool_size",
        def::PGBOUNCER_RESERVE_POOL_SIZE,
        0,
    );
    let max_db = count(
        d,
        &r.max_db_connections,
        "max_db_connections",
        def::PGBOUNCER_MAX_DB_CONNECTIONS,
        0,
    );
    // Seconds, as in pgbouncer.ini; 0 is pgbouncer's "at once" (reserve)
    // or "never" (query wait).
    let secs = |d: &mut Diagnostics, v: &Option<S<Num>>, name: &str, default: f64| {
        time_or(
            d,
            v,
            &f(&format!("pooler.{name}")),
            default,
            Unit::S,
            TIMEOUT.or_zero(),
        )
    };
    let reserve_timeout = secs(
        d,
        &r.reserve_pool_timeout,
        "reserve_pool_timeout",
        def::PGBOUNCER_RESERVE_POOL_TIMEOUT_S,
    );
    let wait_timeout = secs(
        d,
        &r.query_wait_timeout,
        "query_wait_timeout",
        def::PGBOUNCER_QUERY_WAIT_TIMEOUT_S,
    );
    // PgBouncer's CPU time per transaction.
    let cpu = time_or(
        d,
        &r.cpu_ms,
        &f("pooler.cpu_ms"),
        def::PGBOUNCER_CPU_MS,
        Unit::Ms,
        SPAN.at_most(1e9),
    );
    if let (Some(min), Some(size), Some(v)) = (min, size, &r.min_pool_size) {
        if min > size {
            d.error(
                v.span(),
                f("pooler.min_pool_size"),
                format!("must be at most default_pool_size ({size}), got {min}"),
            );
            return None;
        }
    }
    Some(Pooler {
        mode: if mode? == "transaction" {
            PoolMode::Transaction
        } else {
            PoolMode::Session
        },
        max_client_conn: max_client?,
        default_pool_size: size?,
        min_pool_size: min?,
        reserve_pool_size: reserve?,
        reserve_pool_timeout_s: reserve_timeout?,
        max_db_connections: max_db.map(|m| (m > 0).then_some(m))?,
        query_wait_timeout_s: wait_timeout.map(|t| (t > 0.0).then_some(t))?,
        cpu_ms: cpu?,
    })
}
