//! Passive resources: units held across steps (a worker, a connection),
//! with a FIFO waiting line, an optional bound on it, and an optional timeout.

use super::stats::TimeAverage;
use super::wait_line::WaitLine;
use super::JobId;
use crate::model::{Resource, WaitPolicy};

/// Outcome of asking for a unit.
pub enum Acquire {
    Granted,
    /// Queued; the caller puts the timeout, if the policy has one, on the
    /// resource's deadline line.
    Waiting,
    Refused,
}

pub struct ResourceState {
    capacity: u32,
    policy: WaitPolicy,
    held: u32,
    pub line: WaitLine,
    pub held_avg: TimeAverage,
}

impl ResourceState {
    pub fn new(spec: &Resource) -> Self {
        ResourceState {
            capacity: spec.capacity,
            policy: spec.policy,
            held: 0,
            line: WaitLine::default(),
            held_avg: TimeAverage::default(),
        }
    }

    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    pub fn timeout_ns(&self) -> Option<u64> {
        self.policy.timeout_ns
    }

    #[inline]
    pub fn acquire(&mut self, job: JobId, token: u32, now: u64) -> Acquire {
        if self.held < self.capacity {
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            Acquire::Granted
        } else if self
            .policy
            .max_waiting
            .is_some_and(|m| self.line.len() >= m)
        {
            Acquire::Refused
        } else {
            self.line.push(job, token, now);
            Acquire::Waiting
        }
    }

    /// A waiter gave up (timeout): its line entry is now stale.
    #[inline]
    pub fn abandon(&mut self, now: u64) {
        self.line.abandon(now);
    }

    /// Give a unit back. If a live waiter is first in line (as judged by
    /// `is_live`), the unit passes straight to it and it is returned.
    #[inline]
    pub fn release(&mut self, now: u64, is_live: impl Fn(JobId, u32) -> bool) -> Option<JobId> {
        if let Some(job) = self.line.pop_live(now, is_live) {
            return Some(job);
        }
        self.held -= 1;
        self.held_avg.set(now, self.held as f64);
        None
    }
}
