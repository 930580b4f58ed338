//! A pooler's pool of server connections (PgBouncer).
//!
//! Clients borrow a server connection per transaction (or per session) and
//! queue FIFO when none is free. The pool opens connections on demand up to
//! `size` (`default_pool_size`), keeping `min_open` (`min_pool_size`) open
//! from the start; opening one costs a backend start-up. A client that has
//! waited `reserve_timeout` (`reserve_pool_timeout`) gets one of `reserve`
//! extra connections (`reserve_pool_size`) if any is left; an extra
//! connection is closed as soon as nobody waits for it (PgBouncer's janitor
//! closes connections above the pool size when idle). A client that waits
//! longer than `query_wait_timeout` is disconnected with an error (the
//! engine's deadline lines, `deadlines.rs`).

use super::calendar::{later, EventKind};
use super::deadlines::DeadlineLines;
use super::mechanism::{Cx, Due, Mechanism, Next};
use super::stats::TimeAverage;
use super::wait_line::WaitLine;
use super::{JobId, Waiting};
use crate::dist::Dist;
use crate::model::ServerPoolSpec;

/// Deadline-line owner tag of the pools' `query_wait_timeout` and
/// `reserve_pool_timeout`.
pub(super) const DEADLINE_OWNER: u32 = 1;

/// Every pooler pool of the model. Deadline line `p` holds pool `p`'s
/// `query_wait_timeout`s, line `n + p` its `reserve_pool_timeout`s (`n`
/// pools): every wait on one line lasts the same time.
pub(super) struct ServerPools {
    pub states: Vec<ServerPoolState>,
    deadlines: DeadlineLines,
}

impl ServerPools {
    pub(super) fn new(specs: &[ServerPoolSpec]) -> Self {
        ServerPools {
            states: specs.iter().map(ServerPoolState::new).collect(),
            deadlines: DeadlineLines::new(2 * specs.len(), DEADLINE_OWNER),
        }
    }

    /// `job` opens a new server connection of pool `p` (a backend start-up);
    /// its `PoolAcquire` step ends when the connection is ready.
    fn connect(&self, cx: &mut Cx, job: JobId, p: u32) {
        let d = self.states[p as usize].connect.sample(cx.rng);
        cx.cal.schedule(later(cx.now, d), EventKind::Done, job, 0);
    }
}

impl Mechanism for ServerPools {
    type Ask = ();

    #[inline]
    fn acquire(&mut self, cx: &mut Cx, job: JobId, p: u32, _: ()) -> Next {
        let token = cx.jobs[job as usize].token;
        let pool = &mut self.states[p as usize];
        match pool.acquire(job, token, cx.now) {
            PoolGrant::Granted { connect } => {
                cx.jobs[job as usize].held.pools.insert(p);
                if !connect {
                    return Next::Go;
                }
                self.connect(cx, job, p);
                Next::Wait
            }
            PoolGrant::Waiting => {
                cx.jobs[job as usize].waiting_on = Waiting::pool(p);
                let (timeout, reserve) = (
                    pool.wait_timeout_ns,
                    pool.has_reserve().then_some(pool.reserve_timeout_ns),
                );
                let n = self.states.len() as u32;
                if let Some(t) = timeout {
                    let at = later(cx.now, t);
                    self.deadlines.wait_until(p, at, job, token, cx.cal);
                }
                if let Some(t) = reserve {
                    let at = later(cx.now, t);
                    self.deadlines.wait_until(n + p, at, job, token, cx.cal);
                }
                Next::Wait
            }
        }
    }

    /// The connection passes to the first live waiter, if any.
    #[inline]
    fn release(&mut self, cx: &mut Cx, _job: JobId, p: u32) {
        let jobs = &*cx.jobs;
        let next = self.states[p as usize].release(cx.now, |w, token| {
            let wj = &jobs[w as usize];
            wj.token == token && wj.waiting_on == Waiting::pool(p)
        });
        if let Some(w) = next {
            cx.jobs[w as usize].held.pools.insert(p);
            cx.wake(w);
        }
    }

    /// A `query_wait_timeout` fails the client; a `reserve_pool_timeout`
    /// opens a reserve connection for it if the reserve is not used up.
    fn on_deadline(&mut self, cx: &mut Cx, line: u32) -> Due {
        let Some((job, token)) = self.deadlines.pop_due(line, cx.now) else {
            self.deadlines.arm(line, cx.jobs, cx.cal);
            return Due::Clear;
        };
        let n = self.states.len() as u32;
        let (reserve, p) = if line < n {
            (false, line)
        } else {
            (true, line - n)
        };
        let j = &mut cx.jobs[job as usize];
        if j.token != token || j.waiting_on != Waiting::pool(p) {
            return Due::Handled;
        }
        if !reserve {
            j.end_wait();
            self.states[p as usize].abandon(cx.now);
            return Due::Fail(job);
        }
        if self.states[p as usize].open_reserve(cx.now) {
            j.end_wait();
            j.held.pools.insert(p);
            self.connect(cx, job, p);
        }
        Due::Handled
    }
}

/// Outcome of asking for a server connection.
enum PoolGrant {
    /// Got one; `connect` if it had to be opened first.
    Granted { connect: bool },
    /// Queued; the engine puts the wait timeout and the reserve check on its
    /// deadline lines.
    Waiting,
}

pub(super) struct ServerPoolState {
    size: u32,
    reserve: u32,
    reserve_timeout_ns: u64,
    wait_timeout_ns: Option<u64>,
    connect: Dist,
    held: u32,
    /// Open server connections, busy or idle.
    open: u32,
    pub line: WaitLine,
    pub held_avg: TimeAverage,
    pub open_avg: TimeAverage,
    /// Most connections open at once, and reserve connections opened, since
    /// the measurement started.
    pub max_open: u32,
    pub reserve_opened: u64,
}

impl ServerPoolState {
    pub(super) fn new(spec: &ServerPoolSpec) -> Self {
        let open = spec.min_open.min(spec.size);
        let mut open_avg = TimeAverage::default();
        open_avg.set(0, open as f64);
        ServerPoolState {
            size: spec.size,
            reserve: spec.reserve,
            reserve_timeout_ns: spec.reserve_timeout_ns,
            wait_timeout_ns: spec.wait_timeout_ns,
            connect: spec.connect,
            held: 0,
            open,
            line: WaitLine::default(),
            held_avg: TimeAverage::default(),
            open_avg,
            max_open: open,
            reserve_opened: 0,
        }
    }

    fn has_reserve(&self) -> bool {
        self.reserve > 0
    }

    fn set_open(&mut self, now: u64, open: u32) {
        self.open = open;
        self.open_avg.set(now, open as f64);
        self.max_open = self.max_open.max(open);
    }

    #[inline]
    fn acquire(&mut self, job: JobId, token: u32, now: u64) -> PoolGrant {
        if self.held < self.open {
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            self.line.granted_at_once();
            PoolGrant::Granted { connect: false }
        } else if self.open < self.size {
            self.set_open(now, self.open + 1);
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            self.line.granted_at_once();
            PoolGrant::Granted { connect: true }
        } else {
            self.line.push(job, token, now);
            PoolGrant::Waiting
        }
    }

    /// A waiter that has waited `reserve_timeout` asks for a reserve
    /// connection; `true` if one was opened for it (its line entry is stale).
    #[inline]
    fn open_reserve(&mut self, now: u64) -> bool {
        if self.open >= self.size + self.reserve {
            return false;
        }
        self.set_open(now, self.open + 1);
        self.held += 1;
        self.held_avg.set(now, self.held as f64);
        self.abandon(now);
        self.reserve_opened += 1;
        true
    }

    /// A waiter left the line (timeout or reserve): its entry is stale.
    #[inline]
    fn abandon(&mut self, now: u64) {
        self.line.abandon(now);
    }

    /// A client gives its connection back. It passes to the first live
    /// waiter (returned), else it idles — or closes if it was a reserve one.
    #[inline]
    fn release(&mut self, now: u64, is_live: impl Fn(JobId, u32) -> bool) -> Option<JobId> {
        if let Some(job) = self.line.pop_live(now, is_live) {
            return Some(job);
        }
        self.held -= 1;
        self.held_avg.set(now, self.held as f64);
        if self.open > self.size {
            self.set_open(now, self.open - 1);
        }
        None
    }

    /// Start of measurement: forget the past.
    pub(super) fn restart(&mut self, now: u64) {
        self.line.wait.restart();
        self.held_avg.restart(now);
        self.open_avg.restart(now);
        self.line.avg.restart(now);
        self.max_open = self.open;
        self.reserve_opened = 0;
    }
}
