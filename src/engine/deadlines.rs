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

use super::JobId;
use std::collections::VecDeque;

/// The deadlines of one line, in the order they come due.
pub struct Deadlines {
    /// (deadline, job, the job's wait token when the wait began).
    queue: VecDeque<(u64, JobId, u32)>,
    /// When this line's calendar event fires (`u64::MAX`: none pending).
    pub armed_at: u64,
}

impl Deadlines {
    pub fn new() -> Self {
        Deadlines {
            queue: VecDeque::new(),
            armed_at: u64::MAX,
        }
    }

    /// `job` began a wait (token `token`) that ends at `deadline`, no
    /// earlier than any deadline already queued.
    #[inline]
    pub fn push(&mut self, deadline: u64, job: JobId, token: u32) {
        debug_assert!(self.queue.back().is_none_or(|&(d, _, _)| d <= deadline));
        self.queue.push_back((deadline, job, token));
    }

    /// The earliest deadline, if any.
    #[inline]
    pub fn head(&self) -> Option<(u64, JobId, u32)> {
        self.queue.front().copied()
    }

    #[inline]
    pub fn pop(&mut self) {
        self.queue.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_in_order() {
        let mut d = Deadlines::new();
        assert_eq!(d.armed_at, u64::MAX);
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
