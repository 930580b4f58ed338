//! A database instance and the steps of one transaction against it.

use super::builder::ModelBuilder;
use super::pooler::PoolerInstance;
use super::postgres::PostgresDb;
use super::routing::Net;
use super::sqlite::SqliteDb;
use crate::dist::Dist;
use crate::model::StationId;
use crate::scenario::{Database, DbEngine, RequestSpec};

/// Where a database server is built.
pub(super) struct DbSite<'a> {
    /// The app host's cores: SQLite runs in the app process, and a
    /// PostgreSQL server with `host = "app"` on the app host (the loader
    /// allows either only with one app host).
    pub app_cpu: StationId,
    /// PgBouncer in front of the server, if any.
    pub pooler: Option<&'a PoolerInstance>,
    /// The workload draws keys: writes lock their row.
    pub keyed: bool,
    /// App hosts: each keeps its own client pool, if the database has one.
    pub app_hosts: u32,
}

/// One database server (a primary, a replica or a shard) in a compiled model.
pub(super) enum DbInstance {
    Sqlite(SqliteDb),
    Postgres(PostgresDb),
}

impl DbInstance {
    /// Add the stations and resources of one database server named `name`.
    pub(super) fn build(b: &mut ModelBuilder, spec: &Database, name: &str, site: &DbSite) -> Self {
        match &spec.engine {
            DbEngine::Sqlite(s) => DbInstance::Sqlite(SqliteDb::build(b, s, name, site.app_cpu)),
            DbEngine::Postgres(p) => {
                DbInstance::Postgres(PostgresDb::build(b, p, spec.cores, name, site))
            }
        }
    }

    /// SQLite is reached without a network round trip.
    pub(super) fn in_process(&self) -> bool {
        matches!(self, DbInstance::Sqlite(_))
    }

    /// Steps at the start of a request that uses this database (a pooler
    /// client connection, a session-mode server connection).
    pub(super) fn session_begin(&self, b: &mut ModelBuilder) {
        if let DbInstance::Postgres(p) = self {
            p.session_begin(b);
        }
    }

    /// Steps at the end of such a request.
    pub(super) fn session_end(&self, b: &mut ModelBuilder) {
        if let DbInstance::Postgres(p) = self {
            p.session_end(b);
        }
    }

    /// Steps of one transaction of request `req` with service demand
    /// `demand`, from app host `host`, the network hop `n` away.
    pub(super) fn call(
        &self,
        b: &mut ModelBuilder,
        req: &RequestSpec,
        demand: Dist,
        host: u32,
        n: Net,
    ) {
        match self {
            DbInstance::Sqlite(s) => s.call(b, req, demand),
            DbInstance::Postgres(p) => p.call(b, req, demand, host, n),
        }
    }
}
