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

use super::stats::TimeAverage;
use super::wait_line::WaitLine;
use super::JobId;
use crate::dist::Dist;
use crate::model::ServerPoolSpec;

/// Outcome of asking for a server connection.
pub enum PoolGrant {
    /// Got one; `connect` if it had to be opened first.
    Granted { connect: bool },
    /// Queued; the engine puts the wait timeout and the reserve check on its
    /// deadline lines.
    Waiting,
}

pub struct ServerPoolState {
    size: u32,
    reserve: u32,
    pub reserve_timeout_ns: u64,
    pub wait_timeout_ns: Option<u64>,
    pub connect: Dist,
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
    pub fn new(spec: &ServerPoolSpec) -> Self {
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

    pub fn has_reserve(&self) -> bool {
        self.reserve > 0
    }

    fn set_open(&mut self, now: u64, open: u32) {
        self.open = open;
        self.open_avg.set(now, open as f64);
        self.max_open = self.max_open.max(open);
    }

    #[inline]
    pub fn acquire(&mut self, job: JobId, token: u32, now: u64) -> PoolGrant {
        if self.held < self.open {
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            PoolGrant::Granted { connect: false }
        } else if self.open < self.size {
            self.set_open(now, self.open + 1);
            self.held += 1;
            self.held_avg.set(now, self.held as f64);
            PoolGrant::Granted { connect: true }
        } else {
            self.line.push(job, token, now);
            PoolGrant::Waiting
        }
    }

    /// A waiter that has waited `reserve_timeout` asks for a reserve
    /// connection; `true` if one was opened for it (its line entry is stale).
    #[inline]
    pub fn open_reserve(&mut self, now: u64) -> bool {
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
    pub fn abandon(&mut self, now: u64) {
        self.line.abandon(now);
    }

    /// A client gives its connection back. It passes to the first live
    /// waiter (returned), else it idles — or closes if it was a reserve one.
    #[inline]
    pub fn release(&mut self, now: u64, is_live: impl Fn(JobId, u32) -> bool) -> Option<JobId> {
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
    pub fn restart(&mut self, now: u64) {
        self.held_avg.restart(now);
        self.open_avg.restart(now);
        self.line.avg.restart(now);
        self.max_open = self.open;
        self.reserve_opened = 0;
    }
}
