//! The event calendar: a heap of small `Copy` events ordered by
//! (time, sequence). The sequence number makes the order total, so two runs
//! with the same seed pop events in exactly the same order.

use super::quad_heap::{HeapOrder, QuadHeap};

/// `now + d` on the integer-nanosecond clock, saturating: a duration drawn
/// from a huge distribution pins the time at the end of the clock instead of
/// wrapping it into the past (which would reorder the calendar). Every time
/// the engine schedules is made by this. One add and one conditional move.
#[inline(always)]
pub(super) fn later(now: u64, d: u64) -> u64 {
    now.saturating_add(d)
}

/// What an event means; the engine's `match` on it is the only dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EventKind {
    /// A closed user finishes thinking (`a` = user), or the open source emits
    /// its next arrival (`a` = `NO_JOB`).
    Arrival,
    /// The earliest think of a closed model's pooled thinkers ends, if the
    /// pool's generation is still `b` (see `ThinkPool`).
    ThinkEnd,
    /// Job `a` finishes its current FCFS or delay service, or `Delay` step.
    Done,
    /// The earliest job at processor-sharing station `a` finishes, if the
    /// station's epoch is still `b` (otherwise the event is stale).
    PsDone,
    /// The earliest deadline of fixed-length wait line `a` of the mechanism
    /// tagged `b` is due (see `DeadlineLines`).
    Deadline,
    /// Job `a` wakes from SQLite's busy-handler sleep and retries its lock
    /// (if its wait token is still `b`).
    BusyRetry,
    /// The flush under way at group-commit station `a` ends.
    FlushDone,
    /// The run on core `b` of time-sliced station `a` ends (its job is done
    /// there, or its quantum is spent).
    SliceEnd,
    /// Time-sliced station `a` checks whether the job its core `b >> 1` was
    /// kept for came back at this instant (`b & 1`: the hop).
    CoreCheck,
}

/// One scheduled event: 32 bytes (25 of data), no heap data.
#[derive(Clone, Copy, Debug)]
pub(super) struct Event {
    pub time: u64,
    seq: u64,
    pub kind: EventKind,
    pub a: u32,
    pub b: u32,
}

/// The future event list: a 4-ary min-heap (see `QuadHeap`) on
/// (time, sequence).
pub(super) struct Calendar {
    heap: QuadHeap<Event>,
    next_seq: u64,
}

/// Events pop by (time, sequence): the sequence makes the order total.
impl HeapOrder for Event {
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        (self.time, self.seq) < (other.time, other.seq)
    }
}

impl Calendar {
    pub(super) fn with_capacity(n: usize) -> Self {
        Calendar {
            heap: QuadHeap::with_capacity(n),
            next_seq: 0,
        }
    }

    #[inline]
    pub(super) fn schedule(&mut self, time: u64, kind: EventKind, a: u32, b: u32) {
        let ev = Event {
            time,
            seq: self.next_seq,
            kind,
            a,
            b,
        };
        self.next_seq += 1;
        self.heap.push(ev);
    }

    #[inline]
    pub(super) fn pop(&mut self) -> Option<Event> {
        self.heap.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_scheduling_order() {
        let mut c = Calendar::with_capacity(4);
        c.schedule(20, EventKind::Done, 1, 0);
        c.schedule(10, EventKind::Done, 2, 0);
        c.schedule(20, EventKind::Done, 3, 0);
        c.schedule(10, EventKind::Done, 4, 0);
        let order: Vec<u32> = std::iter::from_fn(|| c.pop()).map(|e| e.a).collect();
        assert_eq!(order, vec![2, 4, 1, 3]);
    }

    #[test]
    fn pops_in_time_then_sequence_order_under_interleaved_use() {
        // A deterministic pseudo-random mix of schedules and pops, checked
        // against a sorted reference; many equal times exercise the ties.
        let mut c = Calendar::with_capacity(0);
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut now = 0;
        let mut id = 0u32;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if !x.is_multiple_of(3) || reference.is_empty() {
                let t = now + x % 50;
                c.schedule(t, EventKind::Done, id, step);
                reference.push((t, id));
                id += 1;
            } else {
                let ev = c.pop().expect("not empty");
                // The earliest time, and among equal times the first scheduled.
                let k = (0..reference.len()).min_by_key(|&k| reference[k]).unwrap();
                assert_eq!((ev.time, ev.a), reference.remove(k));
                now = ev.time;
            }
        }
        while let Some(ev) = c.pop() {
            let k = (0..reference.len()).min_by_key(|&k| reference[k]).unwrap();
            assert_eq!((ev.time, ev.a), reference.remove(k));
        }
        assert!(reference.is_empty());
    }
}
