//! SQLite's file lock and its busy handler.
//!
//! SQLite has no queue of waiters: a connection that finds the lock taken
//! gets SQLITE_BUSY, and the default busy handler (`sqliteDefaultBusyCallback`
//! in main.c) sleeps on a fixed schedule and tries again, until the total
//! sleep would pass `busy_timeout`. Nobody is woken when the lock is released,
//! so a writer that releases and immediately begins again takes the lock
//! before the sleepers wake: the lock is unfair and its tail is long.
//!
//! One state machine covers both journal modes:
//! - WAL: only writers use it, at `Reserved` (the WAL write lock); readers
//!   never touch it, so they never wait for writers.
//! - Rollback journal: readers hold `Shared`; a writer holds `Reserved` while
//!   it works (readers still welcome) and at commit asks for `Exclusive`,
//!   which raises PENDING (no new reader gets in) and succeeds once the
//!   readers present have left.

use super::calendar::{later, EventKind};
use super::mechanism::{Cx, Mechanism, Next};
use super::stats::ErrorCause;
use super::JobId;
use crate::model::{SqliteLockSpec, SqliteMode};

const NOBODY: JobId = JobId::MAX;

/// Sleeps of SQLite's default busy handler, in ms, for the first calls;
/// every later call sleeps 100 ms (main.c: `delays[]`).
const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/// How long the busy handler sleeps on its `count`-th call (0-based) under
/// `timeout_ns`, or `None` when the time is spent and SQLITE_BUSY is returned.
///
/// As in SQLite: the sleeps already taken add up to `prior`; the next sleep is
/// cut so that the total never passes the timeout, and a call with nothing
/// left gives up.
fn busy_sleep_ns(count: u32, timeout_ns: u64) -> Option<u64> {
    const MS: u64 = 1_000_000;
    let n = DELAYS_MS.len() as u64;
    let c = count as u64;
    let prior_ms = if c < n {
        DELAYS_MS[..c as usize].iter().sum::<u64>()
    } else {
        DELAYS_MS.iter().sum::<u64>() + (c - n) * 100
    };
    let delay_ms = if c < n { DELAYS_MS[c as usize] } else { 100 };
    let prior = prior_ms.saturating_mul(MS);
    let delay = (delay_ms * MS).min(timeout_ns.saturating_sub(prior));
    (delay > 0).then_some(delay)
}

/// Every SQLite database file's lock of the model, with the busy handler.
pub(super) struct SqliteLocks {
    states: Vec<SqliteLockState>,
    /// Busy-handler calls so far in each job's current lock wait (0 when
    /// not waiting), indexed by job and grown on demand. Kept here rather
    /// than in every job: only SQLite models need it.
    retries: Vec<u32>,
    /// The commits to each file each job's connection has seen, at
    /// `job * files + lock`, grown on demand (a closed model's job is its
    /// user, so its connection; an open model's slot stands for one of the
    /// app's pooled connections).
    seen: Vec<u64>,
}

impl SqliteLocks {
    pub(super) fn new(specs: &[SqliteLockSpec]) -> Self {
        SqliteLocks {
            states: specs
                .iter()
                .map(|l| SqliteLockState::new(l.busy_timeout_ns, l.reread_ns))
                .collect(),
            retries: Vec::new(),
            seen: Vec::new(),
        }
    }

    #[inline]
    fn seen_slot(&mut self, job: JobId, lock: u32) -> &mut u64 {
        let at = job as usize * self.states.len() + lock as usize;
        if self.seen.len() <= at {
            self.seen.resize(at + 1, 0);
        }
        &mut self.seen[at]
    }

    /// What `job`'s transaction statements on `lock` take more, in ns: the
    /// pages read back if another connection committed since its last
    /// transaction began, else nothing.
    #[inline]
    pub(super) fn reread_ns(&mut self, job: JobId, lock: u32) -> u64 {
        let reread = self.states[lock as usize].reread_ns;
        if reread > 0 && self.snapshot_is_stale(job, lock) {
            reread
        } else {
            0
        }
    }

    /// `job` begins a snapshot of `lock`: whether another connection has
    /// committed since its last (its page cache was emptied). From now on
    /// it has seen every commit so far.
    #[inline]
    fn snapshot_is_stale(&mut self, job: JobId, lock: u32) -> bool {
        let commits = self.states[lock as usize].commits;
        let seen = self.seen_slot(job, lock);
        let stale = *seen != commits;
        *seen = commits;
        stale
    }

    /// `job` ends its transaction on `lock` normally: if it is the writer,
    /// that is a commit, which its own connection knows of and every other
    /// connection's next snapshot finds.
    #[inline]
    pub(super) fn end_transaction(&mut self, job: JobId, lock: u32) {
        let l = &mut self.states[lock as usize];
        if l.writer == job {
            l.commits += 1;
            let commits = l.commits;
            *self.seen_slot(job, lock) = commits;
        }
    }
}

impl Mechanism for SqliteLocks {
    type Ask = SqliteMode;

    /// One try; on SQLITE_BUSY the busy handler sleeps (a `BusyRetry` event
    /// brings the job back to the same step) or, its time spent, fails.
    #[inline]
    fn acquire(&mut self, cx: &mut Cx, job: JobId, lock: u32, mode: SqliteMode) -> Next {
        let l = &mut self.states[lock as usize];
        if l.try_lock(job, mode) {
            cx.jobs[job as usize].held.sqlite.insert(lock);
            if let Some(r) = self.retries.get_mut(job as usize) {
                *r = 0;
            }
            return Next::Go;
        }
        if self.retries.len() <= job as usize {
            self.retries.resize(job as usize + 1, 0);
        }
        let retries = &mut self.retries[job as usize];
        match busy_sleep_ns(*retries, l.busy_timeout_ns) {
            Some(d) => {
                *retries += 1;
                if cx.measuring {
                    cx.db.busy_sleeps += 1;
                }
                let at = later(cx.now, d);
                let token = cx.jobs[job as usize].token;
                cx.cal.schedule(at, EventKind::BusyRetry, job, token);
                Next::Wait
            }
            None => {
                *retries = 0;
                Next::Fail(ErrorCause::Busy)
            }
        }
    }

    /// Nobody is woken: sleepers find the lock free when they retry.
    #[inline]
    fn release(&mut self, _cx: &mut Cx, job: JobId, lock: u32) {
        self.states[lock as usize].unlock(job);
    }
}

/// The lock of one SQLite database file.
struct SqliteLockState {
    busy_timeout_ns: u64,
    /// The pages read back after another connection's commit, in ns.
    reread_ns: u64,
    /// Readers holding SHARED (rollback mode only).
    shared: u32,
    /// The writer holding RESERVED (and maybe PENDING / EXCLUSIVE).
    writer: JobId,
    /// The writer wants EXCLUSIVE: no new reader may enter.
    pending: bool,
    /// Write transactions committed so far.
    commits: u64,
}

impl SqliteLockState {
    fn new(busy_timeout_ns: u64, reread_ns: u64) -> Self {
        SqliteLockState {
            busy_timeout_ns,
            reread_ns,
            shared: 0,
            writer: NOBODY,
            pending: false,
            commits: 0,
        }
    }

    /// Try once to take `mode` for `job`; `false` means SQLITE_BUSY.
    #[inline]
    fn try_lock(&mut self, job: JobId, mode: SqliteMode) -> bool {
        match mode {
            SqliteMode::Shared => {
                if self.pending {
                    return false;
                }
                self.shared += 1;
                true
            }
            SqliteMode::Reserved => {
                if self.writer != NOBODY {
                    return false;
                }
                self.writer = job;
                true
            }
            SqliteMode::Exclusive => {
                if self.writer != job {
                    // Plans always take Reserved first; a stray request waits.
                    return false;
                }
                self.pending = true;
                self.shared == 0
            }
        }
    }

    /// `job` lets go of whatever it holds.
    #[inline]
    fn unlock(&mut self, job: JobId) {
        if self.writer == job {
            self.writer = NOBODY;
            self.pending = false;
        } else {
            self.shared = self.shared.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const MS: u64 = 1_000_000;

    #[test]
    fn busy_handler_follows_sqlite_schedule_and_spends_exactly_the_timeout() {
        // With a long timeout the sleeps are SQLite's table, then 100 ms each.
        let sleeps: Vec<u64> = (0..15)
            .map(|c| busy_sleep_ns(c, 10_000 * MS).unwrap() / MS)
            .collect();
        assert_eq!(
            sleeps,
            [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100, 100, 100, 100]
        );
        // Total sleep never passes the timeout and reaches it exactly.
        for timeout_ms in [0u64, 1, 4, 100, 228, 229, 5000] {
            let mut total = 0;
            let mut c = 0;
            while let Some(s) = busy_sleep_ns(c, timeout_ms * MS) {
                total += s;
                c += 1;
            }
            assert_eq!(total, timeout_ms * MS, "timeout {timeout_ms} ms");
        }
    }

    #[test]
    fn a_snapshot_is_stale_only_after_another_connections_commit() {
        let mut locks = SqliteLocks::new(&[SqliteLockSpec {
            name: "db".into(),
            busy_timeout_ns: 0,
            reread_ns: 500,
        }]);
        let (a, b) = (0, 7);
        assert!(!locks.snapshot_is_stale(a, 0), "nothing committed yet");
        // A writes and commits: its own commit leaves its cache valid.
        assert!(locks.states[0].try_lock(a, SqliteMode::Reserved));
        locks.end_transaction(a, 0);
        locks.states[0].unlock(a);
        assert!(!locks.snapshot_is_stale(a, 0), "its own commit");
        // B has not seen A's commit: its next snapshot finds the cache stale,
        // once.
        assert!(locks.snapshot_is_stale(b, 0));
        assert!(!locks.snapshot_is_stale(b, 0), "seen now");
        // A reader's end of transaction is no commit.
        locks.end_transaction(b, 0);
        assert!(!locks.snapshot_is_stale(a, 0));
        // B commits: A's next snapshot is stale, B's is not.
        assert!(locks.states[0].try_lock(b, SqliteMode::Reserved));
        locks.end_transaction(b, 0);
        locks.states[0].unlock(b);
        assert!(!locks.snapshot_is_stale(b, 0));
        assert!(locks.snapshot_is_stale(a, 0));
    }

    #[test]
    fn rollback_writer_waits_for_readers_and_keeps_new_ones_out() {
        let mut l = SqliteLockState::new(0, 0);
        assert!(l.try_lock(1, SqliteMode::Shared));
        assert!(l.try_lock(2, SqliteMode::Reserved));
        assert!(!l.try_lock(3, SqliteMode::Reserved), "one writer at a time");
        assert!(
            l.try_lock(4, SqliteMode::Shared),
            "readers share with RESERVED"
        );
        assert!(
            !l.try_lock(2, SqliteMode::Exclusive),
            "readers still inside"
        );
        assert!(
            !l.try_lock(5, SqliteMode::Shared),
            "PENDING keeps new readers out"
        );
        l.unlock(1);
        l.unlock(4);
        assert!(l.try_lock(2, SqliteMode::Exclusive));
        l.unlock(2);
        assert!(l.try_lock(5, SqliteMode::Shared));
        assert!(l.try_lock(3, SqliteMode::Reserved));
    }
}
