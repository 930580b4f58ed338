//! A FIFO line of requests waiting for a unit (a worker, a pooled
//! connection), with lazy removal: a request that gives up (timeout) leaves
//! its entry behind, stale, and the entry is skipped when it reaches the
//! front. Removal from the middle would cost O(n); this costs nothing.

use super::stats::{TimeAverage, WaitRecorder};
use super::JobId;
use std::collections::VecDeque;

pub(super) struct WaitLine {
    /// (job, wait token, time it joined): an entry is live while the job's
    /// token still matches.
    line: VecDeque<(JobId, u32, u64)>,
    /// Live waiters (the line may also hold stale entries).
    waiting: u32,
    /// Time-average of live waiters.
    pub avg: TimeAverage,
    /// How long the requests granted a unit waited for it.
    pub wait: WaitRecorder,
}

impl Default for WaitLine {
    fn default() -> Self {
        WaitLine {
            line: VecDeque::new(),
            waiting: 0,
            avg: TimeAverage::default(),
            wait: WaitRecorder::new(super::HISTOGRAM_MAX_NS),
        }
    }
}

impl WaitLine {
    /// Live waiters.
    #[inline]
    pub(super) fn len(&self) -> u32 {
        self.waiting
    }

    #[inline]
    pub(super) fn push(&mut self, job: JobId, token: u32, now: u64) {
        self.waiting += 1;
        self.avg.set(now, self.waiting as f64);
        self.line.push_back((job, token, now));
    }

    /// A request got its unit without waiting.
    #[inline]
    pub(super) fn granted_at_once(&mut self) {
        self.wait.served(0);
    }

    /// A waiter left without being served: its entry is now stale.
    #[inline]
    pub(super) fn abandon(&mut self, now: u64) {
        self.waiting -= 1;
        self.avg.set(now, self.waiting as f64);
    }

    /// The first live waiter (as judged by `is_live`), taken off the line.
    #[inline]
    pub(super) fn pop_live(
        &mut self,
        now: u64,
        is_live: impl Fn(JobId, u32) -> bool,
    ) -> Option<JobId> {
        while let Some((job, token, since)) = self.line.pop_front() {
            if is_live(job, token) {
                self.abandon(now);
                self.wait.served(now - since);
                return Some(job);
            }
        }
        None
    }
}
