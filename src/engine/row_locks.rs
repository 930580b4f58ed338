//! Row locks keyed by the request's key (PostgreSQL's tuple locks).
//!
//! Under MVCC only writers of the same row wait for each other: the second
//! waits until the first commits, and waiters are served in arrival order.
//! The key space can hold a billion rows, but only rows being written at this
//! moment are locked — at most one per open transaction — so the table keeps
//! only those: open addressing with linear probing, keyed by row, sized to
//! twice the rows locked at the busiest moment so far. It grows (rarely, by
//! doubling) and never shrinks, so the hot loop stops allocating once warm.
//!
//! Waiters form an intrusive FIFO list per row: the slot keeps head and tail,
//! `next[job]` links a waiter to the one behind it.

use super::mechanism::{Cx, Mechanism, Next};
use super::JobId;

const EMPTY: u32 = u32::MAX;
const NONE: JobId = JobId::MAX;

#[derive(Clone, Copy)]
struct Slot {
    key: u32,
    holder: JobId,
    head: JobId,
    tail: JobId,
}

const FREE: Slot = Slot {
    key: EMPTY,
    holder: NONE,
    head: NONE,
    tail: NONE,
};

pub(super) struct RowLocks {
    slots: Vec<Slot>,
    /// Rows locked now.
    len: usize,
    /// Next waiter behind each waiting job (indexed by job).
    next: Vec<JobId>,
}

impl Default for RowLocks {
    fn default() -> Self {
        RowLocks {
            slots: vec![FREE; 64],
            len: 0,
            next: Vec::new(),
        }
    }
}

impl RowLocks {
    #[inline]
    fn ideal(&self, key: u32) -> usize {
        // Fibonacci hashing: popular keys are small consecutive integers.
        let h = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 32) as usize & (self.slots.len() - 1)
    }

    /// Slot of `key`, or the empty slot where it would go.
    #[inline]
    fn find(&self, key: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = self.ideal(key);
        loop {
            let k = self.slots[i].key;
            if k == key || k == EMPTY {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// `job` asks for row `key`: `true` if it now holds it, `false` if it
    /// waits in line (it will be handed the lock by [`unlock`](Self::unlock)).
    #[inline]
    pub(super) fn lock(&mut self, key: u32, job: JobId) -> bool {
        let i = self.find(key);
        if self.slots[i].key == EMPTY {
            self.slots[i] = Slot {
                key,
                holder: job,
                head: NONE,
                tail: NONE,
            };
            self.len += 1;
            if self.len * 2 > self.slots.len() {
                self.grow();
            }
            return true;
        }
        if self.next.len() <= job as usize {
            self.next.resize(job as usize + 1, NONE);
        }
        self.next[job as usize] = NONE;
        let s = &mut self.slots[i];
        if s.tail == NONE {
            s.head = job;
        } else {
            self.next[s.tail as usize] = job;
        }
        s.tail = job;
        false
    }

    /// The holder of row `key` commits: the first waiter, if any, now holds
    /// the row and is returned.
    #[inline]
    pub(super) fn unlock(&mut self, key: u32) -> Option<JobId> {
        let i = self.find(key);
        if self.slots[i].key == EMPTY {
            return None;
        }
        let s = &mut self.slots[i];
        if s.head != NONE {
            let w = s.head;
            s.holder = w;
            s.head = self.next[w as usize];
            if s.head == NONE {
                s.tail = NONE;
            }
            return Some(w);
        }
        self.remove_at(i);
        None
    }

    /// Rows locked now.
    #[cfg(test)]
    #[allow(clippy::len_without_is_empty)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Backward-shift deletion: keeps every probe sequence unbroken without
    /// tombstones.
    fn remove_at(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let k = self.slots[j].key;
            if k == EMPTY {
                break;
            }
            let home = self.ideal(k);
            // The entry at j may move into the hole unless its home lies
            // cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = self.slots[j];
                hole = j;
            }
        }
        self.slots[hole] = FREE;
        self.len -= 1;
    }

    fn grow(&mut self) {
        let doubled = vec![FREE; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        for s in old.into_iter().filter(|s| s.key != EMPTY) {
            let i = self.find(s.key);
            self.slots[i] = s;
        }
    }
}

/// The row-lock tables of the model (one per PostgreSQL server); a request
/// locks the row of its own key.
pub(super) struct RowTables {
    tables: Vec<RowLocks>,
    /// When each job's current row-lock wait began, indexed by job and
    /// grown on demand (a job waits for one row at a time). Kept here
    /// rather than in every job: only keyed PostgreSQL models need it.
    wait_since: Vec<u64>,
}

impl RowTables {
    pub(super) fn new(tables: usize) -> Self {
        RowTables {
            tables: (0..tables).map(|_| RowLocks::default()).collect(),
            wait_since: Vec::new(),
        }
    }
}

impl Mechanism for RowTables {
    type Ask = ();

    #[inline]
    fn acquire(&mut self, cx: &mut Cx, job: JobId, t: u32, _: ()) -> Next {
        let j = &mut cx.jobs[job as usize];
        if cx.measuring {
            cx.db.row_locks += 1;
        }
        if self.tables[t as usize].lock(j.key, job) {
            j.held.rows.insert(t);
            Next::Go
        } else {
            // Waits, without timeout, until the holder commits.
            if self.wait_since.len() <= job as usize {
                self.wait_since.resize(job as usize + 1, 0);
            }
            self.wait_since[job as usize] = cx.now;
            Next::Wait
        }
    }

    /// The holder of the row commits: the next writer of the row, if any,
    /// now holds it.
    #[inline]
    fn release(&mut self, cx: &mut Cx, job: JobId, t: u32) {
        let key = cx.jobs[job as usize].key;
        if let Some(w) = self.tables[t as usize].unlock(key) {
            let wj = &mut cx.jobs[w as usize];
            wj.held.rows.insert(t);
            if cx.measuring {
                cx.db.row_lock_waits += 1;
                cx.db.row_lock_wait_ns += (cx.now - self.wait_since[w as usize]) as f64;
            }
            cx.wake(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::{HashMap, VecDeque};

    /// Random lock/unlock traffic against a plain map of FIFO queues.
    #[test]
    fn matches_a_map_of_fifo_queues() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut t = RowLocks::default();
        let mut reference: HashMap<u32, (JobId, VecDeque<JobId>)> = HashMap::new();
        let mut holding: Vec<(JobId, u32)> = Vec::new();
        let mut next_job: JobId = 0;
        for _ in 0..200_000 {
            if holding.is_empty() || rng.random::<f64>() < 0.55 {
                // Few keys so that rows collide and queues form; large ones
                // so that the table wraps and grows.
                let key = if rng.random::<bool>() {
                    rng.random_range(0..20)
                } else {
                    rng.random_range(0..u32::MAX - 1)
                };
                let job = next_job;
                next_job += 1;
                let granted = t.lock(key, job);
                match reference.get_mut(&key) {
                    None => {
                        assert!(granted);
                        reference.insert(key, (job, VecDeque::new()));
                        holding.push((job, key));
                    }
                    Some((_, q)) => {
                        assert!(!granted);
                        q.push_back(job);
                    }
                }
            } else {
                let (job, key) = holding.swap_remove(rng.random_range(0..holding.len()));
                let (holder, q) = reference.get_mut(&key).unwrap();
                assert_eq!(*holder, job);
                let got = t.unlock(key);
                match q.pop_front() {
                    Some(w) => {
                        assert_eq!(got, Some(w));
                        *holder = w;
                        holding.push((w, key));
                    }
                    None => {
                        assert_eq!(got, None);
                        reference.remove(&key);
                    }
                }
            }
            assert_eq!(t.len(), reference.len());
        }
    }
}
