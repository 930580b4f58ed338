//! SQLite: a library inside the app process, a file on the app host's disk.
//!
//! Statements run on the app host's CPU. Writers serialise on one lock, and a
//! writer that finds it taken sleeps on SQLite's busy-handler schedule (see
//! `engine::busy_lock`), failing with SQLITE_BUSY after `busy_timeout`.
//! - WAL: readers take no lock. A write transaction takes the write lock
//!   (`BEGIN IMMEDIATE`), runs its statements, commits (flushing the WAL once
//!   with synchronous=FULL, not at all with NORMAL) and lets go; one commit in
//!   `checkpoint_every_commits` then runs the automatic checkpoint (flushing
//!   the database) before it returns, after the lock is released.
//! - Rollback journal: readers hold SHARED while they read; a writer holds
//!   RESERVED while it works, and to commit needs EXCLUSIVE, which waits for
//!   the readers to leave and keeps new ones out while it flushes.

use super::builder::ModelBuilder;
use crate::dist::{Dist, NS_PER_MS};
use crate::model::{Discipline, SqliteMode, StationId, Step};
use crate::scenario::{Journal, RequestKind, RequestSpec, Sqlite, Synchronous};

pub(super) struct SqliteDb {
    spec: Sqlite,
    /// The app host's cores (SQLite runs in-process).
    cpu: StationId,
    disk: StationId,
    lock: u32,
}

fn ms(x: f64) -> Dist {
    Dist::Constant { ns: x * NS_PER_MS }
}

impl SqliteDb {
    pub(super) fn build(
        b: &mut ModelBuilder,
        spec: &Sqlite,
        name: &str,
        app_cpu: StationId,
    ) -> Self {
        SqliteDb {
            spec: *spec,
            cpu: app_cpu,
            disk: b.station(format!("{name}.disk"), Discipline::Fcfs, 1),
            lock: b.sqlite_lock(
                format!("{name}.lock"),
                (spec.busy_timeout_ms * NS_PER_MS) as u64,
            ),
        }
    }

    pub(super) fn call(&self, b: &mut ModelBuilder, req: &RequestSpec, demand: Dist) {
        let s = &self.spec;
        let lock = self.lock;
        let work = Step::Use {
            station: self.cpu,
            demand,
        };
        if req.kind == RequestKind::Read {
            match s.journal {
                Journal::Wal => b.step(work),
                Journal::Rollback => {
                    b.step(Step::SqliteLock {
                        lock,
                        mode: SqliteMode::Shared,
                    });
                    b.step(work);
                    b.step(Step::SqliteUnlock(lock));
                }
            }
            return;
        }
        b.step(Step::SqliteLock {
            lock,
            mode: SqliteMode::Reserved,
        });
        b.step(work);
        if s.journal == Journal::Rollback {
            b.step(Step::SqliteLock {
                lock,
                mode: SqliteMode::Exclusive,
            });
        }
        if s.commit_ms > 0.0 {
            b.step(Step::Use {
                station: self.cpu,
                demand: ms(s.commit_ms),
            });
        }
        // WAL with synchronous=NORMAL flushes only at checkpoints.
        let flushes = match (s.journal, s.synchronous) {
            (Journal::Wal, Synchronous::Normal) => 0,
            _ => s.flushes_per_commit,
        };
        if flushes > 0 && s.fsync_ms > 0.0 {
            b.step(Step::Use {
                station: self.disk,
                demand: ms(flushes as f64 * s.fsync_ms),
            });
        }
        b.step(Step::SqliteUnlock(lock));
        if s.journal == Journal::Wal && s.checkpoint_ms > 0.0 {
            // One commit in N runs the checkpoint: skip it with 1 − 1/N.
            let at = b.here();
            b.step(Step::Branch {
                p: 1.0 - 1.0 / s.checkpoint_every_commits,
                to: 0,
            });
            b.step(Step::Use {
                station: self.disk,
                demand: ms(s.checkpoint_ms),
            });
            let after = b.here();
            b.patch_branch(at, after);
        }
    }
}
