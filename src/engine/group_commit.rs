//! A log disk with group commit (PostgreSQL's WAL flush).
//!
//! A committing backend that finds no flush under way flushes at once; one
//! that arrives during a flush waits for the next, and the next flush writes
//! the log up to the newest record, so it covers every commit that waited for
//! it. Under load many commits share one flush: flushes per second level off
//! at 1 / flush time while commits per second keep growing.
//!
//! A flush takes the service time drawn for the first commit it covers, plus
//! `per_commit_ns` for each further commit: more commits mean more log
//! records to write before the sync (PostgreSQL's XLogFlush writes and
//! syncs everything inserted so far).

use super::calendar::{later, Calendar, EventKind};
use super::JobId;
use std::collections::VecDeque;

pub(super) struct GroupCommitDisk {
    per_commit_ns: u64,
    /// The next flush waits for the leader of the last one to be back on a
    /// core (PostgreSQL: the backend that flushed holds WALWriteLock until it
    /// runs again and lets go).
    leader_releases: bool,
    leader: JobId,
    awaiting_release: bool,
    flushing: bool,
    /// Commits covered by the flush under way.
    current: Vec<JobId>,
    /// Commits waiting for the next flush, with their drawn flush times.
    next: Vec<(JobId, u64)>,
    /// Flushes started and commits covered, since the measurement started.
    pub flushes: u64,
    pub commits: u64,
}

impl GroupCommitDisk {
    pub(super) fn new(per_commit_ns: u64, leader_releases: bool) -> Self {
        GroupCommitDisk {
            per_commit_ns,
            leader_releases,
            leader: JobId::MAX,
            awaiting_release: false,
            flushing: false,
            current: Vec::new(),
            next: Vec::new(),
            flushes: 0,
            commits: 0,
        }
    }

    pub(super) fn flushing(&self) -> bool {
        self.flushing
    }

    #[inline]
    pub(super) fn arrive(
        &mut self,
        id: u32,
        job: JobId,
        demand: u64,
        now: u64,
        cal: &mut Calendar,
    ) {
        if self.flushing {
            self.next.push((job, demand));
        } else {
            self.flushing = true;
            self.current.push(job);
            self.flushes += 1;
            self.commits += 1;
            cal.schedule(later(now, demand), EventKind::FlushDone, id, 0);
        }
    }

    /// The flush under way ended: its commits are durable. Without a
    /// leader's release they all finish (pushed onto `done`) and the commits
    /// that waited start the next flush together. With one, only the leader
    /// (the commit that started the flush) goes on: the others and the next
    /// flush wait until it is back on a core and calls
    /// [`GroupCommitDisk::release`]. Returns how many commits finished.
    #[inline]
    pub(super) fn flush_done(
        &mut self,
        id: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) -> usize {
        if self.leader_releases && !self.current.is_empty() {
            // The followers stay in arrival order.
            let leader = self.current.remove(0);
            self.leader = leader;
            self.awaiting_release = true;
            done.push_back(leader);
            return 1;
        }
        let n = self.current.len();
        done.extend(self.current.drain(..));
        self.start_next(id, now, cal);
        n
    }

    /// `job` is back on a core after its flush (`Step::FlushRelease`): if it
    /// led the flush, its followers finish (pushed onto `done`) and the next
    /// flush begins. Anyone else: nothing. Returns how many commits finished.
    #[inline]
    pub(super) fn release(
        &mut self,
        id: u32,
        job: JobId,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) -> usize {
        if !self.awaiting_release || job != self.leader {
            return 0;
        }
        self.awaiting_release = false;
        self.leader = JobId::MAX;
        let n = self.current.len();
        done.extend(self.current.drain(..));
        self.start_next(id, now, cal);
        n
    }

    /// Start the next flush with every commit that waited, or go idle.
    #[inline]
    fn start_next(&mut self, id: u32, now: u64, cal: &mut Calendar) {
        if let Some(&(_, demand)) = self.next.first() {
            let extra = (self.next.len() as u64 - 1).saturating_mul(self.per_commit_ns);
            let demand = demand.saturating_add(extra);
            self.flushes += 1;
            self.commits += self.next.len() as u64;
            self.current.extend(self.next.drain(..).map(|(j, _)| j));
            cal.schedule(later(now, demand), EventKind::FlushDone, id, 0);
        } else {
            self.flushing = false;
        }
    }
}
