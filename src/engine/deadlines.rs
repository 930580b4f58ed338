//! Waits that end after a fixed time unless something ends them first: a
//! resource's wait timeout, PgBouncer's `query_wait_timeout` and
//! `reserve_pool_timeout`.
//!
//! Giving each waiter its own calendar event would leave one event on the
//! calendar for every wait, almost all of them stale (the wait ended with a
//! grant long before): behind PgBouncer's default two-minute
//! `query_wait_timeout`, one for every wait of the last two minutes — at
//! 800 waits a second, 96,000 — and every push and pop of the calendar
//! walking that heap. But
//! every wait on one line lasts the same time, so the deadlines come due in
//! the order the waits began: a FIFO queue per line holds them, and one
//! calendar event stands for its earliest live deadline. Deadlines whose wait
//! has already ended are dropped when they reach the head, without an event.

use super::calendar::{Calendar, EventKind};
use super::{Job, JobId};
use std::collections::VecDeque;

/// The deadlines of one line, in the order they come due.
struct Deadlines {
    /// (deadline, job, the job's wait token when the wait began).
    queue: VecDeque<(u64, JobId, u32)>,
    /// A calendar event is pending for this line. (A flag, not a sentinel
    /// time: a deadline may saturate at `u64::MAX`.) While no event is
    /// pending the queue is empty: `arm` only stops when it empties it.
    armed: bool,
}

/// The deadline lines of one mechanism; its calendar events carry the
/// mechanism's `owner` tag so the loop knows whose lines fired.
pub(super) struct DeadlineLines {
    lines: Vec<Deadlines>,
    owner: u32,
}

impl DeadlineLines {
    pub(super) fn new(lines: usize, owner: u32) -> Self {
        DeadlineLines {
            lines: (0..lines).map(|_| Deadlines::new()).collect(),
            owner,
        }
    }

    /// `job`'s wait (token `token`) on `line` ends at `deadline` unless
    /// something ends it first.
    #[inline]
    pub(super) fn wait_until(
        &mut self,
        line: u32,
        deadline: u64,
        job: JobId,
        token: u32,
        cal: &mut Calendar,
    ) {
        let q = &mut self.lines[line as usize];
        q.push(deadline, job, token);
        if !q.armed {
            // The queue was empty: the new deadline is its head, and live.
            q.armed = true;
            cal.schedule(deadline, EventKind::Deadline, line, self.owner);
        }
    }

    /// The earliest deadline of `line` if it is due at `now`, taken off.
    #[inline]
    pub(super) fn pop_due(&mut self, line: u32, now: u64) -> Option<(JobId, u32)> {
        let q = &mut self.lines[line as usize];
        let (deadline, job, token) = q.head()?;
        if deadline > now {
            return None;
        }
        q.pop();
        Some((job, token))
    }

    /// Drop the deadlines at the head of `line` whose wait has already ended
    /// (the job's wait token moved on), and put one calendar event on the
    /// earliest that has not.
    pub(super) fn arm(&mut self, line: u32, jobs: &[Job], cal: &mut Calendar) {
        let q = &mut self.lines[line as usize];
        while let Some((deadline, job, token)) = q.head() {
            if jobs[job as usize].token != token {
                q.pop();
                continue;
            }
            q.armed = true;
            cal.schedule(deadline, EventKind::Deadline, line, self.owner);
            return;
        }
        q.armed = false;
    }
}

impl Deadlines {
    fn new() -> Self {
        Deadlines {
            queue: VecDeque::new(),
            armed: false,
        }
    }

    /// `job` began a wait (token `token`) that ends at `deadline`, no
    /// earlier than any deadline already queued.
    #[inline]
    fn push(&mut self, deadline: u64, job: JobId, token: u32) {
        debug_assert!(self.queue.back().is_none_or(|&(d, _, _)| d <= deadline));
        self.queue.push_back((deadline, job, token));
    }

    /// The earliest deadline, if any.
    #[inline]
    fn head(&self) -> Option<(u64, JobId, u32)> {
        self.queue.front().copied()
    }

    #[inline]
    fn pop(&mut self) {
        self.queue.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_in_order() {
        let mut d = Deadlines::new();
        assert!(!d.armed);
        d.push(10, 1, 0);
        d.push(10, 2, 5);
        d.push(30, 3, 1);
        assert_eq!(d.head(), Some((10, 1, 0)));
        d.pop();
        assert_eq!(d.head(), Some((10, 2, 5)));
        d.pop();
        d.pop();
        assert_eq!(d.head(), None);
    }
}
