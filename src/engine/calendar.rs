//! The event calendar: a binary heap of small `Copy` events ordered by
//! (time, sequence). The sequence number makes the order total, so two runs
//! with the same seed pop events in exactly the same order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// What an event means; the engine's `match` on it is the only dispatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A closed user finishes thinking (`a` = user), or the open source emits
    /// its next arrival (`a` = `NO_JOB`).
    Arrival,
    /// Job `a` finishes its current FCFS or delay service, or `Delay` step.
    Done,
    /// The earliest job at processor-sharing station `a` finishes, if the
    /// station's epoch is still `b` (otherwise the event is stale).
    PsDone,
    /// Job `a` has waited too long for a resource, if its wait token is still `b`.
    Timeout,
    /// Job `a` wakes from SQLite's busy-handler sleep and retries its lock
    /// (if its wait token is still `b`).
    BusyRetry,
    /// The flush under way at group-commit station `a` ends.
    FlushDone,
    /// Job `a` has waited `reserve_pool_timeout` for a server connection, if
    /// its wait token is still `b`: it may open a reserve connection.
    ReserveCheck,
}

/// One scheduled event: 24 bytes, no heap data.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub time: u64,
    seq: u64,
    pub kind: EventKind,
    pub a: u32,
    pub b: u32,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// The future event list.
pub struct Calendar {
    heap: BinaryHeap<Event>,
    next_seq: u64,
}

impl Calendar {
    pub fn with_capacity(n: usize) -> Self {
        Calendar {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
        }
    }

    #[inline]
    pub fn schedule(&mut self, time: u64, kind: EventKind, a: u32, b: u32) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Event {
            time,
            seq,
            kind,
            a,
            b,
        });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
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
}
