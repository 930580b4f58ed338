//! Active stations: where requests receive service and time passes.

use super::calendar::{later, Calendar, EventKind};
use super::group_commit::GroupCommitDisk;
use super::quad_heap::QuadHeap;
use super::stats::{TimeAverage, WaitRecorder};
use super::time_slice::TimeSliced;
use super::JobId;
use crate::model::{Discipline, Station};
use std::collections::VecDeque;

/// `servers` servers in front of one first-come-first-served queue.
pub(super) struct FcfsStation {
    servers: u32,
    busy: u32,
    /// Waiting jobs with their already-drawn service demand and the time
    /// they joined the queue.
    queue: VecDeque<(JobId, u64, u64)>,
    /// How long jobs waited for a server.
    pub(super) wait: WaitRecorder,
}

/// Processor sharing over `cores`: n jobs each progress at min(1, cores/n).
///
/// Tracked in virtual time V (service received by any one job): a job that
/// arrives at V₀ with demand d leaves when V reaches V₀ + d. One event on the
/// calendar stands for the earliest finisher; it may fire early (jobs arrived
/// since and slowed everyone down), and then just reschedules. Only when the
/// earliest finish moves earlier is a new event scheduled: the epoch moves
/// on and the old event is ignored when it pops.
pub(super) struct PsStation {
    cores: f64,
    /// Fraction of throughput lost per job beyond the cores (see `rate`).
    contention: f64,
    n: u32,
    v: f64,
    last: u64,
    epoch: u32,
    /// Time of the live `PsDone` event of this epoch (`u64::MAX`: none).
    scheduled_at: u64,
    /// (virtual finish time as f64 bits — monotone for non-negative floats, job)
    finishers: QuadHeap<(u64, JobId)>,
}

/// Infinite servers: a pure delay.
pub(super) struct DelayStation {
    present: u32,
}

/// One active station with its statistics.
pub(super) struct StationState {
    pub kind: StationKind,
    pub present: TimeAverage,
    pub busy: TimeAverage,
}

pub(super) enum StationKind {
    Fcfs(FcfsStation),
    Ps(PsStation),
    Delay(DelayStation),
    GroupCommit(GroupCommitDisk),
    TimeSliced(TimeSliced),
}

impl StationState {
    pub(super) fn new(spec: &Station) -> Self {
        let kind = match spec.discipline {
            Discipline::Fcfs => StationKind::Fcfs(FcfsStation {
                servers: spec.servers,
                busy: 0,
                queue: VecDeque::new(),
                wait: WaitRecorder::new(super::HISTOGRAM_MAX_NS),
            }),
            Discipline::ProcessorSharing => StationKind::Ps(PsStation {
                cores: spec.servers as f64,
                contention: spec.contention,
                n: 0,
                v: 0.0,
                last: 0,
                epoch: 0,
                scheduled_at: u64::MAX,
                finishers: QuadHeap::with_capacity(0),
            }),
            Discipline::Delay => StationKind::Delay(DelayStation { present: 0 }),
            Discipline::GroupCommit {
                per_commit_ns,
                leader_releases,
            } => StationKind::GroupCommit(GroupCommitDisk::new(per_commit_ns, leader_releases)),
            Discipline::TimeSliced {
                quantum_ns,
                switch_ns,
            } => StationKind::TimeSliced(TimeSliced::new(
                spec.servers,
                quantum_ns,
                switch_ns,
                spec.contention,
            )),
        };
        StationState {
            kind,
            present: TimeAverage::default(),
            busy: TimeAverage::default(),
        }
    }

    /// Job `job` arrives with service demand `demand`; schedules what follows.
    #[inline]
    pub(super) fn arrive(
        &mut self,
        id: u32,
        job: JobId,
        demand: u64,
        now: u64,
        cal: &mut Calendar,
    ) {
        self.present.add(now, 1.0);
        match &mut self.kind {
            StationKind::Fcfs(s) => {
                if s.busy < s.servers {
                    s.busy += 1;
                    self.busy.set(now, s.busy as f64);
                    s.wait.served(0);
                    cal.schedule(later(now, demand), EventKind::Done, job, 0);
                } else {
                    s.queue.push_back((job, demand, now));
                }
            }
            StationKind::Ps(s) => {
                s.advance(now);
                let finish = s.v + demand as f64;
                s.finishers.push((finish.to_bits(), job));
                s.n += 1;
                self.busy.set(now, (s.n as f64).min(s.cores));
                s.reschedule(id, now, cal);
            }
            StationKind::Delay(s) => {
                s.present += 1;
                cal.schedule(later(now, demand), EventKind::Done, job, 0);
            }
            StationKind::GroupCommit(s) => {
                s.arrive(id, job, demand, now, cal);
                self.busy.set(now, 1.0);
            }
            StationKind::TimeSliced(s) => {
                s.arrive(id, job, demand, now, cal);
                self.busy.set(now, s.busy as f64);
            }
        }
    }

    /// A `SliceEnd` event popped at a time-sliced station: push the job done
    /// here, if it is, onto `done`.
    #[inline]
    pub(super) fn slice_end(
        &mut self,
        id: u32,
        core: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) {
        let StationKind::TimeSliced(s) = &mut self.kind else {
            return;
        };
        let before = done.len();
        s.slice_end(id, core, now, cal, done);
        let left = done.len() - before;
        self.present.add(now, -(left as f64));
    }

    /// A `CoreCheck` event popped at a time-sliced station.
    #[inline]
    pub(super) fn core_check(&mut self, id: u32, tag: u32, now: u64, cal: &mut Calendar) {
        let StationKind::TimeSliced(s) = &mut self.kind else {
            return;
        };
        s.core_check(id, tag, now, cal);
        self.busy.set(now, s.busy as f64);
    }

    /// A `FlushDone` event popped at a group-commit station: push the commits
    /// made durable onto `done`.
    #[inline]
    pub(super) fn flush_done(
        &mut self,
        id: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) {
        let StationKind::GroupCommit(s) = &mut self.kind else {
            return;
        };
        let n = s.flush_done(id, now, cal, done);
        self.present.add(now, -(n as f64));
        self.busy.set(now, if s.flushing() { 1.0 } else { 0.0 });
    }

    /// `job` takes a `FlushRelease` step at group-commit station `id`: push
    /// the commits that finish onto `done`.
    #[inline]
    pub(super) fn flush_release(
        &mut self,
        id: u32,
        job: JobId,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) {
        let StationKind::GroupCommit(s) = &mut self.kind else {
            return;
        };
        let n = s.release(id, job, now, cal, done);
        self.present.add(now, -(n as f64));
        self.busy.set(now, if s.flushing() { 1.0 } else { 0.0 });
    }

    /// Job leaves an FCFS or delay station after its `Done` event.
    #[inline]
    pub(super) fn depart(&mut self, now: u64, cal: &mut Calendar) {
        self.present.add(now, -1.0);
        match &mut self.kind {
            StationKind::Fcfs(s) => {
                if let Some((next, demand, since)) = s.queue.pop_front() {
                    s.wait.served(now - since);
                    cal.schedule(later(now, demand), EventKind::Done, next, 0);
                } else {
                    s.busy -= 1;
                    self.busy.set(now, s.busy as f64);
                }
            }
            StationKind::Delay(s) => s.present -= 1,
            StationKind::Ps(_) => unreachable!("PS stations finish jobs by PsDone events"),
            // Group commit finishes jobs by FlushDone events, time slices by
            // SliceEnd events.
            StationKind::GroupCommit(_) | StationKind::TimeSliced(_) => {}
        }
    }

    /// A `PsDone` event for epoch `epoch` popped: push the jobs that finished
    /// onto `done` and schedule the next finisher. Stale events do nothing.
    #[inline]
    pub(super) fn ps_done(
        &mut self,
        id: u32,
        epoch: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) {
        let StationKind::Ps(s) = &mut self.kind else {
            return;
        };
        if epoch != s.epoch {
            return;
        }
        s.scheduled_at = u64::MAX;
        s.advance(now);
        // The event time was rounded up to whole nanoseconds, so every job due
        // by now has V ≥ its finish time, up to floating-point error.
        let due = s.v + 1e-3;
        let mut left = 0u32;
        while let Some(&(bits, job)) = s.finishers.peek() {
            if f64::from_bits(bits) > due {
                break;
            }
            s.finishers.pop();
            done.push_back(job);
            left += 1;
        }
        s.n -= left;
        if s.n == 0 {
            // Restart virtual time while idle so it never loses precision.
            s.v = 0.0;
        }
        self.present.add(now, -(left as f64));
        self.busy.set(now, (s.n as f64).min(s.cores));
        s.reschedule(id, now, cal);
    }

    /// Servers, for utilisation (`None` for delays).
    pub(super) fn servers(&self) -> Option<f64> {
        match &self.kind {
            StationKind::Fcfs(s) => Some(s.servers as f64),
            StationKind::Ps(s) => Some(s.cores),
            StationKind::Delay(_) => None,
            StationKind::GroupCommit(_) => Some(1.0),
            StationKind::TimeSliced(s) => Some(s.cores() as f64),
        }
    }
}

impl PsStation {
    /// Service rate of each job present. Beyond the cores, n jobs share them
    /// and, with contention κ, lose a further factor 1 / (1 + κ·(n − cores)):
    /// lock and cache-line contention among more runnable backends than cores
    /// (a linear, Amdahl-like penalty; κ = 0 is ideal sharing).
    #[inline]
    fn rate(&self) -> f64 {
        let n = self.n as f64;
        if n <= self.cores {
            1.0
        } else {
            self.cores / n / (1.0 + self.contention * (n - self.cores))
        }
    }

    #[inline]
    fn advance(&mut self, now: u64) {
        if self.n > 0 {
            self.v += (now - self.last) as f64 * self.rate();
        }
        self.last = now;
    }

    #[inline]
    fn reschedule(&mut self, id: u32, now: u64, cal: &mut Calendar) {
        let next = self.finishers.peek().map(|&(bits, _)| {
            let work = (f64::from_bits(bits) - self.v).max(0.0);
            later(now, ceil_ns(work / self.rate()))
        });
        // Keep the pending event unless the earliest finisher now finishes
        // sooner. An arrival never makes anyone finish sooner (rates only
        // fall as n grows), so it leaves the pending event in place: that
        // event then fires early, finds nobody due, and reschedules. Moving
        // it instead would leave a stale event on the calendar for every
        // arrival: with a million jobs sharing the cores, finishes lie
        // minutes ahead and the stale events piled up by the hundred
        // thousand (half of all events in a lightly loaded tier otherwise).
        if next.unwrap_or(u64::MAX) >= self.scheduled_at {
            return;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.scheduled_at = next.unwrap_or(u64::MAX);
        if let Some(t) = next {
            cal.schedule(t, EventKind::PsDone, id, self.epoch);
        }
    }
}

/// `x.ceil() as u64` for x ≥ 0, without `f64::ceil`, a libm call on
/// baseline x86-64 (4% of a run where processor sharing is busy).
#[inline]
fn ceil_ns(x: f64) -> u64 {
    let t = x as u64;
    if (t as f64) < x {
        t + 1
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::ceil_ns;

    #[test]
    fn ceil_ns_rounds_up_to_whole_nanoseconds() {
        for (x, want) in [
            (0.0, 0),
            (1.0, 1),
            (1.2, 2),
            (2.999_999, 3),
            (1e15 + 0.5, 1e15 as u64 + 1),
        ] {
            assert_eq!(ceil_ns(x), want, "{x}");
            assert_eq!(ceil_ns(x), x.ceil() as u64, "{x}");
        }
    }
}
