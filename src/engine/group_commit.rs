//! A log disk with group commit (PostgreSQL's WAL flush).
//!
//! A committing backend that finds no flush under way flushes at once; one
//! that arrives during a flush waits for the next, and the next flush writes
//! the log up to the newest record, so it covers every commit that waited for
//! it. Under load many commits share one flush: flushes per second level off
//! at 1 / flush time while commits per second keep growing.
//!
//! A flush takes the service time drawn for the first commit it covers.

use super::calendar::{later, Calendar, EventKind};
use super::JobId;
use std::collections::VecDeque;

#[derive(Default)]
pub(super) struct GroupCommitDisk {
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

    /// The flush under way ended: its commits are durable (pushed onto
    /// `done`); the commits that waited start the next flush together.
    /// Returns how many commits finished.
    #[inline]
    pub(super) fn flush_done(
        &mut self,
        id: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) -> usize {
        let n = self.current.len();
        done.extend(self.current.drain(..));
        if let Some(&(_, demand)) = self.next.first() {
            self.flushes += 1;
            self.commits += self.next.len() as u64;
            self.current.extend(self.next.drain(..).map(|(j, _)| j));
            cal.schedule(later(now, demand), EventKind::FlushDone, id, 0);
        } else {
            self.flushing = false;
        }
        n
    }
}
