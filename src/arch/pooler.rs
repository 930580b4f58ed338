//! PgBouncer: one process, one thread, between the app and PostgreSQL.
//!
//! Every request that uses the database is a client connection for its whole
//! duration (Django opens the connection at the first query and closes it at
//! the end of the request when `CONN_MAX_AGE = 0`): the `max_client_conn + 1`-th
//! concurrent client is refused at once. Each transaction costs PgBouncer's
//! single thread `cpu_ms`. Server connections come from a pool per database
//! (`engine::server_pool`): per transaction in transaction mode, for the
//! whole request in session mode.

use super::builder::ModelBuilder;
use crate::dist::{Dist, NS_PER_MS, NS_PER_S};
use crate::model::{
    Discipline, GaugeSource, MemoryGauge, ResourceId, ServerPoolSpec, StationId, Step, WaitPolicy,
};
use crate::scenario::{PoolMode, Pooler};

#[derive(Clone, Copy)]
pub(super) struct PoolerInstance {
    pub spec: Pooler,
    cpu: StationId,
    clients: ResourceId,
}

/// One pool of server connections to one database, behind a pooler.
#[derive(Clone, Copy)]
pub(super) struct PoolRef {
    pooler: PoolerInstance,
    pool: u32,
}

impl PoolerInstance {
    pub(super) fn build(b: &mut ModelBuilder, spec: &Pooler) -> Self {
        PoolerInstance {
            spec: *spec,
            cpu: b.station("pgbouncer.cpu", Discipline::Fcfs, 1),
            clients: b.resource(
                "pgbouncer.clients",
                spec.max_client_conn,
                // "no more connections allowed": refused at once.
                WaitPolicy {
                    max_waiting: Some(0),
                    timeout_ns: None,
                },
            ),
        }
    }

    /// The pool of server connections to database `name`, which accepts
    /// `max_connections`. Server connections are capped by
    /// `max_db_connections` and by the server's own limit (PgBouncer would
    /// keep retrying the refused ones; the clients would wait as here).
    pub(super) fn pool_for(
        &self,
        b: &mut ModelBuilder,
        name: &str,
        max_connections: u32,
        connect_ms: f64,
        connection_mb: f64,
    ) -> PoolRef {
        let s = &self.spec;
        let cap = s
            .max_db_connections
            .unwrap_or(u32::MAX)
            .min(max_connections);
        let size = s.default_pool_size.min(cap);
        let pool = b.server_pool(ServerPoolSpec {
            name: format!("pgbouncer.{name}.pool"),
            size,
            min_open: s.min_pool_size.min(size),
            reserve: s.reserve_pool_size.min(cap - size),
            reserve_timeout_ns: (s.reserve_pool_timeout_s * NS_PER_S) as u64,
            wait_timeout_ns: s.query_wait_timeout_s.map(|t| (t * NS_PER_S) as u64),
            connect: Dist::Constant {
                ns: connect_ms * NS_PER_MS,
            },
        });
        b.memory(MemoryGauge {
            source: GaugeSource::PoolOpen(pool),
            mb_per_unit: connection_mb,
        });
        PoolRef {
            pooler: *self,
            pool,
        }
    }
}

impl PoolRef {
    /// At the start of a request that will use the database: connect as a
    /// client (and, in session mode, take a server connection).
    pub(super) fn session_begin(&self, b: &mut ModelBuilder) {
        b.step(Step::Acquire(self.pooler.clients));
        if self.pooler.spec.mode == PoolMode::Session {
            b.step(Step::PoolAcquire(self.pool));
        }
    }

    pub(super) fn session_end(&self, b: &mut ModelBuilder) {
        if self.pooler.spec.mode == PoolMode::Session {
            b.step(Step::PoolRelease(self.pool));
        }
        b.step(Step::Release(self.pooler.clients));
    }

    /// Before a transaction: PgBouncer's CPU, and in transaction mode a
    /// server connection.
    pub(super) fn transaction_begin(&self, b: &mut ModelBuilder) {
        let cpu_ms = self.pooler.spec.cpu_ms;
        if cpu_ms > 0.0 {
            b.step(Step::Use {
                station: self.pooler.cpu,
                demand: Dist::Exponential {
                    mean_ns: cpu_ms * NS_PER_MS,
                },
            });
        }
        if self.pooler.spec.mode == PoolMode::Transaction {
            b.step(Step::PoolAcquire(self.pool));
        }
    }

    pub(super) fn transaction_end(&self, b: &mut ModelBuilder) {
        if self.pooler.spec.mode == PoolMode::Transaction {
            b.step(Step::PoolRelease(self.pool));
        }
    }
}
