//! PostgreSQL: a server with its own cores, a WAL disk with group commit, a
//! process per connection.
//!
//! A transaction holds a connection (`max_connections`: one more is refused,
//! "sorry, too many clients already"), or borrows one from PgBouncer's pool;
//! with `connections = "session"` each user keeps the connection it opened
//! (pgbench's clients), and a refused user gets an error or, with
//! `on_refused = "abort"`, stops as a pgbench client does; with
//! `connections = "request"` each request opens its own (Django's default
//! `CONN_MAX_AGE = 0`) and pays the handshake and the backend start-up; with
//! `client_pool` each app host keeps a pool of connections open (Prisma's
//! `connection_limit`) and a transaction waits for one of them. With
//! `host = "app"` the server runs on the app host and shares its cores.
//! Under MVCC reads never wait; a write locks its row — the request's key,
//! drawn from the workload's Zipf popularity — until it commits, so writers
//! of a hot row queue behind each other. Statements run on the server's cores
//! (processor sharing, with a contention loss when more backends are runnable
//! than there are cores). With `synchronous_commit = on` a commit waits for
//! its WAL flush, which it shares with every commit waiting at the same time.

use super::builder::ModelBuilder;
use super::database::DbSite;
use super::pooler::PoolRef;
use super::routing::{net, Net};
use crate::defaults::{PG_COMMIT_CPU_MS, PG_CONNECT_ROUND_TRIPS};
use crate::dist::NS_PER_S;
use crate::dist::{Dist, NS_PER_MS};
use crate::model::{
    Discipline, GaugeSource, MemoryGauge, ResourceId, ServerPoolSpec, StationId, Step, WaitPolicy,
};
use crate::scenario::{Postgres, RequestKind, RequestSpec};

pub(super) struct PostgresDb {
    cpu: StationId,
    wal: Option<StationId>,
    wal_flush: Dist,
    /// Row locks, when the workload has keys.
    rows: Option<u32>,
    access: Access,
    /// Each app host's pool of connections (`client_pool`), by host.
    client_pools: Vec<u32>,
    /// `connections = "request"`: the backend start-up a request pays.
    connect: Option<Dist>,
}

/// How the app reaches the server.
enum Access {
    /// Its own connection per transaction.
    Direct(ResourceId),
    /// A connection each user opens once and keeps; `abort`: a refused user
    /// stops for good.
    Session {
        connections: ResourceId,
        abort: bool,
    },
    Pooled(PoolRef),
}

impl PostgresDb {
    pub(super) fn build(
        b: &mut ModelBuilder,
        spec: &Postgres,
        cores: u32,
        name: &str,
        site: &DbSite,
    ) -> Self {
        let (keyed, pooler, app_cpu) = (site.keyed, site.pooler, site.app_cpu);
        // Each app host's pool: its connections are server connections
        // (opened with a backend start-up) or, behind PgBouncer, client
        // connections to it, which PgBouncer accepts without one.
        let client_pools: Vec<u32> = spec
            .client_pool
            .map(|cp| {
                (0..site.app_hosts)
                    .map(|h| {
                        let pool = b.server_pool(ServerPoolSpec {
                            name: format!("app{h}.{name}.client_pool"),
                            size: cp.size,
                            min_open: 0,
                            reserve: 0,
                            reserve_timeout_ns: 0,
                            wait_timeout_ns: cp.timeout_s.map(|t| (t * NS_PER_S) as u64),
                            connect: Dist::Constant {
                                ns: if pooler.is_some() {
                                    0.0
                                } else {
                                    spec.connect_ms * NS_PER_MS
                                },
                            },
                        });
                        if pooler.is_none() {
                            b.memory(MemoryGauge {
                                source: GaugeSource::PoolOpen(pool),
                                mb_per_unit: spec.connection_mb,
                            });
                        }
                        pool
                    })
                    .collect()
            })
            .unwrap_or_default();
        let access = match pooler {
            Some(p) => Access::Pooled(p.pool_for(
                b,
                name,
                spec.max_connections,
                spec.connect_ms,
                spec.connection_mb,
            )),
            None => {
                let r = b.resource(
                    format!("{name}.connections"),
                    spec.max_connections,
                    WaitPolicy {
                        max_waiting: Some(0),
                        timeout_ns: None,
                    },
                );
                // With a client pool the open connections are the pools'
                // (the loader keeps them within max_connections).
                if client_pools.is_empty() {
                    b.memory(MemoryGauge {
                        source: GaugeSource::Resource(r),
                        mb_per_unit: spec.connection_mb,
                    });
                }
                if spec.session_connections {
                    Access::Session {
                        connections: r,
                        abort: spec.abort_on_refusal,
                    }
                } else {
                    Access::Direct(r)
                }
            }
        };
        // On the app host the backends share the app's cores (and their
        // contention is the host's).
        let cpu = if spec.on_app_host {
            b.set_contention(app_cpu, spec.contention);
            app_cpu
        } else {
            b.contended_cpu(format!("{name}.cpu"), cores, spec.contention)
        };
        PostgresDb {
            cpu,
            wal: spec.synchronous_commit.then(|| {
                b.station(
                    format!("{name}.wal"),
                    Discipline::GroupCommit {
                        per_commit_ns: (spec.wal_flush_per_commit_ms * NS_PER_MS).round() as u64,
                        leader_releases: true,
                    },
                    1,
                )
            }),
            wal_flush: Dist::Constant {
                ns: spec.wal_flush_ms * NS_PER_MS,
            },
            rows: keyed.then(|| b.row_table(format!("{name}.rows"))),
            access,
            client_pools,
            connect: spec.connect_per_request.then_some(Dist::Constant {
                ns: spec.connect_ms * NS_PER_MS,
            }),
        }
    }

    /// At the start of a request: a client connection to PgBouncer, unless
    /// the app's pool keeps its own open (the loader keeps them within
    /// max_client_conn).
    pub(super) fn session_begin(&self, b: &mut ModelBuilder) {
        if let (Access::Pooled(p), true) = (&self.access, self.client_pools.is_empty()) {
            p.session_begin(b);
        }
    }

    pub(super) fn session_end(&self, b: &mut ModelBuilder) {
        if let (Access::Pooled(p), true) = (&self.access, self.client_pools.is_empty()) {
            p.session_end(b);
        }
    }

    /// One transaction of `req` from app host `host`, the network hop `n`
    /// away (already taken once to get here).
    pub(super) fn call(
        &self,
        b: &mut ModelBuilder,
        req: &RequestSpec,
        demand: Dist,
        host: u32,
        n: Net,
    ) {
        let client_pool = self.client_pools.get(host as usize).copied();
        if let Some(p) = client_pool {
            b.step(Step::PoolAcquire(p));
        }
        match &self.access {
            Access::Direct(r) => {
                // With a client pool its connections are the server's; the
                // loader keeps them within max_connections: never refused.
                b.step(Step::Acquire(*r));
                if let Some(connect) = self.connect {
                    // The handshake (one hop already taken), then the
                    // backend start-up on the server's cores.
                    for _ in 1..PG_CONNECT_ROUND_TRIPS {
                        net(b, n);
                    }
                    b.step(Step::Use {
                        station: self.cpu,
                        demand: connect,
                    });
                }
            }
            &Access::Session { connections, abort } => b.step(Step::Connect {
                resource: connections,
                abort,
            }),
            Access::Pooled(p) => p.transaction_begin(b),
        }
        let write = req.kind == RequestKind::Write;
        let rows = self.rows.filter(|_| write);
        // The transaction's statements, each its share of the demand (drawn
        // apart, so the total's spread narrows as statements add up), each
        // after the first behind another round trip of the client's: the
        // connection and a write's row locks are held through them all.
        let statements = req.statements.max(1);
        let each = if statements > 1 {
            demand.scaled(1.0 / statements as f64)
        } else {
            demand
        };
        let lock_at = req.lock_from_statement.clamp(1, statements) - 1;
        for k in 0..statements {
            if k > 0 {
                net(b, n);
            }
            if let (Some(t), true) = (rows, k == lock_at) {
                b.step(Step::RowLock(t));
            }
            b.step(Step::Use {
                station: self.cpu,
                demand: each,
            });
        }
        if let (true, Some(wal)) = (write, self.wal) {
            b.step(Step::Use {
                station: wal,
                demand: self.wal_flush,
            });
            // The backend that led the flush needs a core again before it
            // lets go of the WAL write lock: behind many runnable backends
            // the next flush waits, and more commits join it.
            b.step(Step::Use {
                station: self.cpu,
                demand: Dist::Constant {
                    ns: PG_COMMIT_CPU_MS * NS_PER_MS,
                },
            });
            b.step(Step::FlushRelease(wal));
        }
        if let Some(t) = rows {
            b.step(Step::RowUnlock(t));
        }
        match &self.access {
            Access::Direct(r) => b.step(Step::Release(*r)),
            // Kept for the user's next request.
            Access::Session { .. } => {}
            Access::Pooled(p) => p.transaction_end(b),
        }
        if let Some(p) = client_pool {
            b.step(Step::PoolRelease(p));
        }
    }
}
