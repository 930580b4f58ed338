//! The one interface between the main loop and a mechanism that requests
//! take, hold and give back (passive resources, SQLite's lock, PgBouncer's
//! pools, row locks): `acquire` / `release` / `on_deadline`, each answering
//! with a small enum of what the loop does next.
//!
//! Dispatch is static: the loop calls each mechanism's struct directly, and
//! [`Cx`] is a bundle of borrows of the engine's other fields, built on the
//! stack per call (no allocation, nothing boxed, nothing cloned).

use super::calendar::Calendar;
use super::stats::{DbStats, ErrorCause};
use super::{Job, JobId};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::VecDeque;

/// What a mechanism may touch of the rest of the engine.
pub(super) struct Cx<'a> {
    pub now: u64,
    /// Inside the measurement window (statistics are recorded).
    pub measuring: bool,
    pub jobs: &'a mut [Job],
    /// Jobs whose wait ended with a grant: the mechanism has already moved
    /// them past their step; the loop runs them on, in this order.
    pub ready: &'a mut VecDeque<JobId>,
    pub cal: &'a mut Calendar,
    pub rng: &'a mut Xoshiro256PlusPlus,
    pub db: &'a mut DbStats,
}

impl Cx<'_> {
    /// `job`'s wait for a grant ended with one: it is past its step and
    /// becomes ready. The wait token moves on, so the wait's deadline and
    /// line entry (if any) are now stale.
    #[inline]
    pub(super) fn wake(&mut self, job: JobId) {
        let j = &mut self.jobs[job as usize];
        j.end_wait();
        j.step += 1;
        self.ready.push_back(job);
    }
}

/// What the loop does with a request after a mechanism handled its step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Granted at once: go on with the next step.
    Go,
    /// The request waits: for a calendar event of its own, or for a release
    /// that will [`wake`](Cx::wake) it.
    Wait,
    /// The request fails with this cause.
    Fail(ErrorCause),
    /// The request fails with this cause and its user stops for good.
    Abort(ErrorCause),
}

/// What the earliest due deadline of a line meant (see [`Mechanism::on_deadline`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Due {
    /// The job's wait timed out: it fails with [`ErrorCause::Timeout`].
    Fail(JobId),
    /// Handled inside the mechanism (or the wait had already ended).
    Handled,
    /// Nothing more is due on the line; its next deadline is armed.
    Clear,
}

/// A mechanism a plan step takes (`acquire`) and gives back (`release`),
/// with `part` the index of the lock, pool, table or resource in the model.
pub(super) trait Mechanism {
    /// What else the step asks for (SQLite's lock mode; `()` for most).
    type Ask: Copy;

    /// `job` asks for `part`. On [`Next::Go`] the mechanism has recorded the
    /// part in the job's `held`, and the loop moves the job past the step.
    fn acquire(&mut self, cx: &mut Cx, job: JobId, part: u32, ask: Self::Ask) -> Next;

    /// `job` gives `part` back (it is no longer in its `held`); a waiter
    /// that receives it is woken through [`Cx::wake`].
    fn release(&mut self, cx: &mut Cx, job: JobId, part: u32);

    /// The calendar's event for deadline line `line` of this mechanism fired
    /// (see `deadlines.rs`): handle the earliest due deadline. The loop calls
    /// it until it answers [`Due::Clear`]. Mechanisms without timeouts never
    /// schedule one.
    fn on_deadline(&mut self, _cx: &mut Cx, _line: u32) -> Due {
        Due::Clear
    }
}
