//! Read replicas: the primary's writes replayed serially after a shipping
//! delay, and the stale reads that lag causes.
//!
//! Replay is background work. It never holds a request and is not a
//! request, so it stays out of the population, Little's law and station
//! utilisation; its offered load is reported on its own.

use hdrhistogram::Histogram;

/// One replica group's replay position.
///
/// Replay is a single FCFS server (PostgreSQL's startup process replays WAL
/// in one process) fed in commit order after a constant shipping delay, so a
/// write's replay end is known when it is shipped:
/// `max(free_at, commit + ship) + cost`. No queue and no events are needed —
/// which also keeps an overloaded replica (lag growing without bound) at
/// constant memory.
pub(super) struct ReplayQueue {
    ship_delay_ns: u64,
    /// When the replay server finishes the last write shipped so far.
    free_at: u64,
}

impl ReplayQueue {
    pub(super) fn new(ship_delay_ns: u64) -> Self {
        ReplayQueue {
            ship_delay_ns,
            free_at: 0,
        }
    }

    /// A write committed at `now` with replay cost `cost`: when it becomes
    /// visible on the replicas.
    #[inline]
    pub(super) fn ship(&mut self, now: u64, cost: u64) -> u64 {
        let arrives = now.saturating_add(self.ship_delay_ns);
        self.free_at = self.free_at.max(arrives).saturating_add(cost);
        self.free_at
    }
}

/// Each user's last write, to tell whether a later read of the same key on a
/// replica is stale. Closed populations only: there a job slot is a user.
/// 16 bytes per user, allocated once.
pub(super) struct ReadYourWrites {
    key: Vec<u32>,
    group: Vec<u32>,
    visible_at: Vec<u64>,
}

impl ReadYourWrites {
    pub(super) fn new(users: usize) -> Self {
        ReadYourWrites {
            key: vec![0; users],
            group: vec![u32::MAX; users],
            visible_at: vec![0; users],
        }
    }

    #[inline]
    pub(super) fn wrote(&mut self, user: u32, key: u32, group: u32, visible_at: u64) {
        let u = user as usize;
        if u < self.key.len() {
            self.key[u] = key;
            self.group[u] = group;
            self.visible_at[u] = visible_at;
        }
    }

    /// Would this user's read of `key` on `group` at `now` miss its own write?
    #[inline]
    pub(super) fn is_stale(&self, user: u32, key: u32, group: u32, now: u64) -> bool {
        let u = user as usize;
        u < self.key.len()
            && self.group[u] == group
            && self.key[u] == key
            && now < self.visible_at[u]
    }
}

/// What replication measured in the window.
#[derive(Clone, Debug)]
pub struct ReplicationStats {
    /// Writes shipped to a replica group.
    pub shipped: u64,
    /// Lag of each shipped write: commit on the primary → visible on replicas.
    pub lag: Histogram<u64>,
    /// Lags of the shipped writes summed, in ns.
    pub lag_sum_ns: f64,
    /// Longest lag of a shipped write, in ns.
    pub lag_max_ns: u64,
    /// Replay work shipped, summed (offered load × window).
    pub replay_work_ns: f64,
    /// Reads served by replicas, and those that missed the user's own write.
    pub replica_reads: u64,
    /// Replica reads that missed the user's own write (stale).
    pub stale_reads: u64,
}

impl ReplicationStats {
    /// Nothing measured yet; the lag histogram resolves lags up to `max_ns`.
    pub fn new(max_ns: u64) -> Self {
        ReplicationStats {
            shipped: 0,
            lag: Histogram::new_with_bounds(1, max_ns, 3)
                .expect("static histogram bounds are valid"),
            lag_sum_ns: 0.0,
            lag_max_ns: 0,
            replay_work_ns: 0.0,
            replica_reads: 0,
            stale_reads: 0,
        }
    }

    /// One write shipped: its lag and its replay cost, both in ns.
    #[inline]
    pub fn record_lag(&mut self, lag_ns: u64, cost_ns: u64) {
        self.shipped += 1;
        self.lag.saturating_record(lag_ns.max(1));
        self.lag_sum_ns += lag_ns as f64;
        self.lag_max_ns = self.lag_max_ns.max(lag_ns);
        self.replay_work_ns += cost_ns as f64;
    }

    /// Lag quantile in ms, NaN without shipped writes.
    pub fn lag_quantile_ms(&self, q: f64) -> f64 {
        if self.shipped == 0 {
            f64::NAN
        } else {
            self.lag.value_at_quantile(q) as f64 / 1e6
        }
    }

    /// Mean lag in ms, NaN without shipped writes.
    pub fn lag_mean_ms(&self) -> f64 {
        if self.shipped == 0 {
            f64::NAN
        } else {
            self.lag_sum_ns / self.shipped as f64 / 1e6
        }
    }

    /// Longest lag in ms, NaN without shipped writes.
    pub fn lag_max_ms(&self) -> f64 {
        if self.shipped == 0 {
            f64::NAN
        } else {
            self.lag_max_ns as f64 / 1e6
        }
    }

    /// Fraction of replica reads that were stale, 0–1; NaN without
    /// replica reads.
    pub fn stale_read_fraction(&self) -> f64 {
        if self.replica_reads == 0 {
            f64::NAN
        } else {
            self.stale_reads as f64 / self.replica_reads as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_is_serial_after_the_shipping_delay() {
        let mut q = ReplayQueue::new(10);
        assert_eq!(q.ship(0, 5), 15); // arrives at 10, replayed by 15
        assert_eq!(q.ship(1, 5), 20); // arrives at 11, waits until 15
        assert_eq!(q.ship(100, 5), 115); // idle again
    }

    #[test]
    fn a_read_is_stale_only_for_the_writer_the_key_and_until_replay() {
        let mut r = ReadYourWrites::new(2);
        r.wrote(0, 7, 0, 100);
        assert!(r.is_stale(0, 7, 0, 99));
        assert!(!r.is_stale(0, 7, 0, 100));
        assert!(!r.is_stale(0, 8, 0, 50));
        assert!(!r.is_stale(1, 7, 0, 50));
        assert!(!r.is_stale(0, 7, 1, 50));
        assert!(!r.is_stale(5, 7, 0, 50)); // out of range: no panic
    }
}
