//! A 4-ary min-heap of small `Copy` items, written by hand rather than
//! `std::collections::BinaryHeap` for two measured reasons (perf on the M/M/1
//! bench, about a third of the run time went to them; on a processor-sharing
//! station holding a million jobs, 60% went to `BinaryHeap::pop`):
//!
//! - `BinaryHeap::push` stores the new item, then reloads it from memory to
//!   sift it up, and `pop` swaps the last item into the root and reloads it.
//!   An item is stored field by field and reloaded in wider moves, which
//!   defeats the CPU's store-to-load forwarding and stalls every push and
//!   pop. Here the moving item stays in registers while the hole moves, and
//!   is written once, at its final slot.
//! - Four children per node halve the depth, so a heap of a million items
//!   costs about ten cache-missing levels per operation instead of twenty;
//!   the four children of a node are adjacent.

pub(super) struct QuadHeap<T> {
    heap: Vec<T>,
}

/// The order of a heap's items: a strict "pops first".
pub(super) trait HeapOrder: Copy {
    fn before(&self, other: &Self) -> bool;
}

/// (finish, job) pairs pop by finish, then by job.
impl HeapOrder for (u64, u32) {
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        self < other
    }
}

const ARITY: usize = 4;

impl<T: HeapOrder> QuadHeap<T> {
    pub(super) fn with_capacity(n: usize) -> Self {
        QuadHeap {
            heap: Vec::with_capacity(n),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, item: T) {
        // Grow by one slot, then move parents down into the hole until the
        // new item's place is found.
        let mut hole = self.heap.len();
        self.heap.push(item);
        while hole > 0 {
            let parent = (hole - 1) / ARITY;
            if !item.before(&self.heap[parent]) {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = item;
    }

    /// The least item.
    #[inline]
    pub(super) fn peek(&self) -> Option<&T> {
        self.heap.first()
    }

    /// Remove and return the least item.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<T> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some(last);
        }
        let top = self.heap[0];
        // Move the least child up into the hole until `last` fits there.
        let mut hole = 0;
        loop {
            let first = hole * ARITY + 1;
            if first >= n {
                break;
            }
            let mut best = first;
            for c in first + 1..(first + ARITY).min(n) {
                if self.heap[c].before(&self.heap[best]) {
                    best = c;
                }
            }
            if !self.heap[best].before(&last) {
                break;
            }
            self.heap[hole] = self.heap[best];
            hole = best;
        }
        self.heap[hole] = last;
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_order_under_interleaved_use() {
        // A deterministic pseudo-random mix of pushes and pops, checked
        // against a sorted reference; many equal keys exercise the ties.
        let mut h = QuadHeap::with_capacity(0);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for id in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if !x.is_multiple_of(3) || reference.is_empty() {
                h.push((x % 50, id));
                reference.push((x % 50, id));
            } else {
                let k = (0..reference.len()).min_by_key(|&k| reference[k]).unwrap();
                assert_eq!(h.peek().copied(), Some(reference[k]));
                assert_eq!(h.pop(), Some(reference.remove(k)));
            }
        }
        reference.sort();
        let rest: Vec<_> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(rest, reference);
    }
}
