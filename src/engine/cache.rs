//! Caches: a fixed hit ratio, or an LRU with optional TTL over the workload's
//! keys whose hit ratio emerges from key popularity.
//!
//! The LRU is an intrusive doubly-linked list in vectors: a key → slot index
//! (4 bytes per key) and per-slot links (24 bytes per entry), both allocated
//! when the run starts. Lookups, fills, evictions and invalidations then
//! allocate nothing.

use crate::model::{CachePolicy, CacheSpec};

const NONE: u32 = u32::MAX;

pub(super) enum CacheState {
    Fixed { hit_ratio: f64 },
    Lru(Lru),
}

impl CacheState {
    /// `keys`: size of the key space (1 without one: every request has key 0).
    pub(super) fn new(spec: &CacheSpec, keys: u32) -> Self {
        match spec.policy {
            CachePolicy::Fixed { hit_ratio } => CacheState::Fixed { hit_ratio },
            CachePolicy::Lru { capacity, ttl_ns } => {
                CacheState::Lru(Lru::new(capacity.min(keys.max(1)), keys.max(1), ttl_ns))
            }
        }
    }

    /// Does the lookup of `key` at `now` hit? A fixed ratio draws one number.
    #[inline]
    pub(super) fn lookup(&mut self, key: u32, now: u64, rng: &mut impl rand::Rng) -> bool {
        match self {
            CacheState::Fixed { hit_ratio } => rng.random::<f64>() < *hit_ratio,
            CacheState::Lru(lru) => lru.lookup(key, now),
        }
    }
}

/// Least-recently-used cache of at most `capacity` keys, each expiring
/// `ttl_ns` after it was stored.
pub(super) struct Lru {
    capacity: u32,
    ttl_ns: Option<u64>,
    /// Slot of each key, or `NONE`.
    slot_of: Vec<u32>,
    key: Vec<u32>,
    /// Towards the most recently used end.
    prev: Vec<u32>,
    /// Towards the least recently used end; also links free slots.
    next: Vec<u32>,
    stored_at: Vec<u64>,
    /// Most recently used.
    head: u32,
    /// Least recently used: evicted first.
    tail: u32,
    len: u32,
    free: u32,
}

impl Lru {
    pub(super) fn new(capacity: u32, keys: u32, ttl_ns: Option<u64>) -> Self {
        let c = capacity.max(1) as usize;
        Lru {
            capacity: c as u32,
            ttl_ns,
            slot_of: vec![NONE; keys as usize],
            // Reserved now, filled as entries arrive: never reallocated, and
            // pages of a large, never-filled cache are never touched.
            key: Vec::with_capacity(c),
            prev: Vec::with_capacity(c),
            next: Vec::with_capacity(c),
            stored_at: Vec::with_capacity(c),
            head: NONE,
            tail: NONE,
            len: 0,
            free: NONE,
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> u32 {
        self.len
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Is `key` cached and fresh at `now`? A hit becomes the most recent entry;
    /// an expired entry is dropped.
    #[inline]
    pub(super) fn lookup(&mut self, key: u32, now: u64) -> bool {
        let Some(&s) = self.slot_of.get(key as usize) else {
            return false;
        };
        if s == NONE {
            return false;
        }
        if self
            .ttl_ns
            .is_some_and(|ttl| now.saturating_sub(self.stored_at[s as usize]) >= ttl)
        {
            self.remove(s);
            return false;
        }
        self.unlink(s);
        self.push_front(s);
        true
    }

    /// Store `key` at `now` (refreshing it if already there), evicting the
    /// least recently used entry when full.
    #[inline]
    pub(super) fn fill(&mut self, key: u32, now: u64) {
        let Some(&s) = self.slot_of.get(key as usize) else {
            return;
        };
        if s != NONE {
            self.stored_at[s as usize] = now;
            self.unlink(s);
            self.push_front(s);
            return;
        }
        if self.len == self.capacity {
            self.remove(self.tail);
        }
        let s = if self.free != NONE {
            let s = self.free;
            self.free = self.next[s as usize];
            self.key[s as usize] = key;
            self.stored_at[s as usize] = now;
            s
        } else {
            // Within the reserved capacity: no reallocation.
            self.key.push(key);
            self.prev.push(NONE);
            self.next.push(NONE);
            self.stored_at.push(now);
            (self.key.len() - 1) as u32
        };
        self.slot_of[key as usize] = s;
        self.len += 1;
        self.push_front(s);
    }

    /// Drop `key` if cached (a write invalidated it).
    #[inline]
    pub(super) fn invalidate(&mut self, key: u32) {
        if let Some(&s) = self.slot_of.get(key as usize) {
            if s != NONE {
                self.remove(s);
            }
        }
    }

    fn remove(&mut self, s: u32) {
        self.unlink(s);
        let k = self.key[s as usize];
        self.slot_of[k as usize] = NONE;
        self.next[s as usize] = self.free;
        self.free = s;
        self.len -= 1;
    }

    #[inline]
    fn unlink(&mut self, s: u32) {
        let (p, n) = (self.prev[s as usize], self.next[s as usize]);
        if p == NONE {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NONE {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
    }

    #[inline]
    fn push_front(&mut self, s: u32) {
        self.prev[s as usize] = NONE;
        self.next[s as usize] = self.head;
        if self.head != NONE {
            self.prev[self.head as usize] = s;
        }
        self.head = s;
        if self.tail == NONE {
            self.tail = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_key() {
        let mut c = Lru::new(2, 10, None);
        c.fill(1, 0);
        c.fill(2, 0);
        assert!(c.lookup(1, 0)); // 1 is now more recent than 2
        c.fill(3, 0); // evicts 2
        assert!(c.lookup(1, 0));
        assert!(!c.lookup(2, 0));
        assert!(c.lookup(3, 0));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn entries_expire_after_their_ttl_and_invalidation_removes_them() {
        let mut c = Lru::new(4, 10, Some(100));
        c.fill(5, 0);
        assert!(c.lookup(5, 99));
        assert!(!c.lookup(5, 100));
        assert!(c.is_empty());
        c.fill(5, 200);
        c.fill(6, 200);
        c.invalidate(5);
        assert!(!c.lookup(5, 201));
        assert!(c.lookup(6, 201));
        // Freed slots are reused rather than growing the vectors.
        for k in 0..10 {
            c.fill(k, 300);
        }
        assert_eq!(c.len(), 4);
        assert!(c.key.len() <= 4);
        c.invalidate(42); // outside the key space: ignored, no panic
        assert!(!c.lookup(42, 0));
    }
}
