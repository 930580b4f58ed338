//! SQLite: a library inside the app process, a file on the app host's disk.
//!
//! Statements run on the app host's CPU. Writers serialise on one lock, and a
//! writer that finds it taken sleeps on SQLite's busy-handler schedule (see
//! `engine::busy_lock`), failing with SQLITE_BUSY after `busy_timeout`.
//! - Every transaction's statements begin with a snapshot: if another
//!   connection has committed since this one's last, SQLite emptied its page
//!   cache and the statements read their pages back (`database.reread_ms`).
//! - WAL: readers take no lock. A write transaction takes the write lock
//!   (`BEGIN IMMEDIATE`), runs its statements, commits (flushing the WAL once
//!   with synchronous=FULL, not at all with NORMAL) and lets go; one commit in
//!   `checkpoint_every_commits` then runs the automatic checkpoint (flushing
//!   the database) before it returns, after the lock is released.
//! - Rollback journal: readers hold SHARED while they read; a writer holds
//!   RESERVED while it works and syncs its journal (readers still get in),
//!   then takes PENDING (no new reader gets in: they go through the busy
//!   handler), waits for the readers present to leave, and holds EXCLUSIVE
//!   while it writes and syncs the database and deletes the journal.
//!   See `defaults::SQLITE_ROLLBACK_FLUSHES_UNDER_EXCLUSIVE`.

use super::builder::ModelBuilder;
use crate::defaults::SQLITE_ROLLBACK_FLUSHES_UNDER_EXCLUSIVE;
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
                (spec.reread_ms * NS_PER_MS).round() as u64,
            ),
        }
    }

    pub(super) fn call(&self, b: &mut ModelBuilder, req: &RequestSpec, demand: Dist) {
        let s = &self.spec;
        let lock = self.lock;
        // The statements, with the pages read back if another connection
        // committed since this one's last transaction.
        let work = Step::SqliteStatements {
            station: self.cpu,
            lock: lock as u16,
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
        // BEGIN IMMEDIATE opens its snapshot with the lock (lockBtree, then
        // the write lock, retried together by the busy handler): the pages
        // are read back once it holds it.
        b.step(work);
        // WAL with synchronous=NORMAL flushes only at checkpoints.
        let flushes = match (s.journal, s.synchronous) {
            (Journal::Wal, Synchronous::Normal) => 0,
            _ => s.flushes_per_commit,
        };
        let flush = |b: &mut ModelBuilder, n: u32| {
            if n > 0 && s.fsync_ms > 0.0 {
                b.step(Step::Use {
                    station: self.disk,
                    demand: ms(n as f64 * s.fsync_ms),
                });
            }
        };
        if s.journal == Journal::Rollback {
            // The journal is synced under RESERVED; the rest of the commit
            // (database write and sync, journal delete) under EXCLUSIVE.
            let exclusive = flushes.min(SQLITE_ROLLBACK_FLUSHES_UNDER_EXCLUSIVE);
            flush(b, flushes - exclusive);
            b.step(Step::SqliteLock {
                lock,
                mode: SqliteMode::Exclusive,
            });
            if s.commit_ms > 0.0 {
                b.step(Step::Use {
                    station: self.cpu,
                    demand: ms(s.commit_ms),
                });
            }
            flush(b, exclusive);
        } else {
            if s.commit_ms > 0.0 {
                b.step(Step::Use {
                    station: self.cpu,
                    demand: ms(s.commit_ms),
                });
            }
            flush(b, flushes);
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
