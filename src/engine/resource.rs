//! Passive resources: units held across steps (a worker, a connection),
//! with a FIFO waiting line, an optional bound on it, and an optional timeout.

use super::calendar::later;
use super::deadlines::DeadlineLines;
use super::held::ResourceBits;
use super::mechanism::{Cx, Due, Mechanism, Next};
use super::stats::{ErrorCause, TimeAverage};
use super::wait_line::WaitLine;
use super::{JobId, Waiting};
use crate::model::{Resource, WaitPolicy};

/// Outcome of asking for a unit.
enum Acquire {
    Granted,
    /// Queued; the caller puts the timeout, if the policy has one, on the
    /// resource's deadline line.
    Waiting,
    Refused,
}

pub(super) struct ResourceState {
    capacity: u32,
    policy: WaitPolicy,
    held: u32,
    pub line: WaitLine,
    pub held_avg: TimeAverage,
}

impl ResourceState {
    pub(super) fn new(spec: &Resource) -> Self {
        ResourceState {
            capacity: spec.capacity,
            policy: spec.policy,
            held: 0,
            line: WaitLine::default(),
            held_avg: TimeAverage::default(),
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        self.capacity
    }

    fn timeout_ns(&self) -> Option<u64> {
        self.policy.timeout_ns
    }

    /// Take a free unit at once, if there is one.
    #[inline]
    fn take(&mut self, now: u64) -> bool {
        if self.held < self.capacity {
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            self.line.granted_at_once();
            true
        } else {
            false
        }
    }

    #[inline]
    fn acquire(&mut self, job: JobId, token: u32, now: u64) -> Acquire {
        if self.take(now) {
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
    fn abandon(&mut self, now: u64) {
        self.line.abandon(now);
    }

    /// Give a unit back. If a live waiter is first in line (as judged by
    /// `is_live`), the unit passes straight to it and it is returned.
    #[inline]
    fn release(&mut self, now: u64, is_live: impl Fn(JobId, u32) -> bool) -> Option<JobId> {
        if let Some(job) = self.line.pop_live(now, is_live) {
            return Some(job);
        }
        self.held -= 1;
        self.held_avg.set(now, self.held as f64);
        None
    }
}

/// Deadline-line owner tag of passive resources' wait timeouts.
pub(super) const DEADLINE_OWNER: u32 = 0;

/// Every passive resource of the model, with its timeouts: line `r` of
/// `timeouts` holds the deadlines of waits on resource `r` (one wait timeout
/// per resource, so deadlines come due in the order the waits began).
pub(super) struct Resources {
    pub states: Vec<ResourceState>,
    timeouts: DeadlineLines,
    /// Per job (user): the session connections it keeps between requests,
    /// grown on demand. Kept out of the job's `held`, which is let go at
    /// the end of every request.
    sessions: Vec<ResourceBits>,
}

impl Resources {
    pub(super) fn new(specs: &[Resource]) -> Self {
        Resources {
            states: specs.iter().map(ResourceState::new).collect(),
            timeouts: DeadlineLines::new(specs.len(), DEADLINE_OWNER),
            sessions: Vec::new(),
        }
    }

    /// `Step::Connect`: `job`'s user keeps a unit of `r` from now on, unless
    /// it has one. A session is opened or refused, never waited for.
    #[inline]
    pub(super) fn connect(&mut self, cx: &mut Cx, job: JobId, r: u32, abort: bool) -> Next {
        if self.sessions.len() <= job as usize {
            self.sessions
                .resize(job as usize + 1, ResourceBits::default());
        }
        if self.sessions[job as usize].contains(r) {
            return Next::Go;
        }
        if self.states[r as usize].take(cx.now) {
            self.sessions[job as usize].insert(r);
            Next::Go
        } else if abort {
            Next::Abort(ErrorCause::Refused)
        } else {
            Next::Fail(ErrorCause::Refused)
        }
    }
}

impl Mechanism for Resources {
    type Ask = ();

    #[inline]
    fn acquire(&mut self, cx: &mut Cx, job: JobId, r: u32, _: ()) -> Next {
        let token = cx.jobs[job as usize].token;
        let res = &mut self.states[r as usize];
        match res.acquire(job, token, cx.now) {
            Acquire::Granted => {
                cx.jobs[job as usize].held.resources.insert(r);
                Next::Go
            }
            Acquire::Waiting => {
                cx.jobs[job as usize].waiting_on = Waiting::resource(r);
                if let Some(t) = res.timeout_ns() {
                    let at = later(cx.now, t);
                    self.timeouts.wait_until(r, at, job, token, cx.cal);
                }
                Next::Wait
            }
            Acquire::Refused => Next::Fail(ErrorCause::Refused),
        }
    }

    #[inline]
    fn release(&mut self, cx: &mut Cx, _job: JobId, r: u32) {
        let jobs = &*cx.jobs;
        let next = self.states[r as usize].release(cx.now, |w, token| {
            let wj = &jobs[w as usize];
            wj.token == token && wj.waiting_on == Waiting::resource(r)
        });
        if let Some(w) = next {
            cx.jobs[w as usize].held.resources.insert(r);
            cx.wake(w);
        }
    }

    fn on_deadline(&mut self, cx: &mut Cx, r: u32) -> Due {
        let Some((job, token)) = self.timeouts.pop_due(r, cx.now) else {
            self.timeouts.arm(r, cx.jobs, cx.cal);
            return Due::Clear;
        };
        let j = &mut cx.jobs[job as usize];
        if j.token != token || j.waiting_on != Waiting::resource(r) {
            return Due::Handled;
        }
        j.end_wait();
        self.states[r as usize].abandon(cx.now);
        Due::Fail(job)
    }
}
