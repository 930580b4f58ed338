//! Cores shared by processes the way an operating system shares them: in
//! time slices, with a cost for every switch.
//!
//! Processor sharing divides the cores among the jobs present continuously,
//! as if the scheduler switched infinitely often for free. Real schedulers
//! run a process for a quantum (a few ms) and then, if others are waiting,
//! put it at the back of the run queue. Where processes hold a lock while
//! they run, the difference is the whole story: a process preempted while it
//! holds SQLite's write lock keeps it for a whole round of the run queue, and
//! every other writer that wakes meanwhile finds the lock taken and goes back
//! to sleep on the busy handler. That is why WAL with synchronous=NORMAL loses
//! throughput once processes outnumber cores, which processor sharing cannot
//! show (it shares the lock holder's core, it never stops it).
//!
//! The rules (SCHED_RR's, which is also what the fair scheduler does to
//! CPU-bound processes at the granularity of its tick):
//! - `cores` cores, one FIFO run queue; a job that arrives takes a free core
//!   or joins the back of the queue (no preemption on arrival);
//! - a job runs until its service is done or its quantum is spent; a job
//!   whose quantum is spent goes to the back of the queue if anyone waits,
//!   else runs on with a fresh quantum;
//! - the quantum belongs to the process, not to the request: a job that comes
//!   back at the same instant it left (it did not block: it took a lock
//!   without waiting, or started its next request without thinking) keeps its
//!   core and the rest of its quantum; a job that blocked (slept, flushed,
//!   waited on the network) starts a fresh quantum when it comes back;
//! - a core that switches to another job than the one it ran last spends
//!   `switch_ns` first (the switch and the cache it loses);
//! - with contention κ, a run started while n jobs are present on c cores
//!   takes (1 + κ·(n − c)) times its work when n > c: lock and cache-line
//!   contention among more runnable processes than cores, the same term
//!   processor sharing applies (`engine::station::PsStation::rate`).

use super::calendar::{later, Calendar, EventKind};
use super::JobId;
use std::collections::VecDeque;

/// What one core is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Core {
    Idle,
    /// Running `job`, which still needs `left` ns after this run ends.
    Running {
        job: JobId,
        left: u64,
    },
    /// `job` finished its service here at this instant; the core waits for it
    /// until the same instant is over, in case it comes straight back.
    Kept {
        job: JobId,
    },
}

/// A time-sliced CPU (see the module documentation).
pub(super) struct TimeSliced {
    quantum: u64,
    switch_ns: u64,
    contention: f64,
    cores: Vec<Core>,
    /// The job each core ran last (`JobId::MAX`: none), for the switch cost.
    last_ran: Vec<JobId>,
    /// Waiting jobs with the service they still need.
    queue: VecDeque<(JobId, u64)>,
    /// Per job: quantum used so far, and the instant it last left a core
    /// (grown on demand to the number of jobs, during the warm-up).
    used: Vec<u64>,
    left_at: Vec<u64>,
    /// Cores running (or switching), for utilisation.
    pub busy: u32,
}

impl TimeSliced {
    pub(super) fn new(cores: u32, quantum_ns: u64, switch_ns: u64, contention: f64) -> Self {
        TimeSliced {
            quantum: quantum_ns.max(1),
            switch_ns,
            contention,
            cores: vec![Core::Idle; cores as usize],
            last_ran: vec![JobId::MAX; cores as usize],
            queue: VecDeque::new(),
            used: Vec::new(),
            left_at: Vec::new(),
            busy: 0,
        }
    }

    pub(super) fn cores(&self) -> usize {
        self.cores.len()
    }

    fn grow(&mut self, job: JobId) {
        if self.used.len() <= job as usize {
            self.used.resize(job as usize + 1, 0);
            self.left_at.resize(job as usize + 1, u64::MAX);
        }
    }

    /// Job `job` arrives needing `demand` ns of CPU.
    #[inline]
    pub(super) fn arrive(
        &mut self,
        id: u32,
        job: JobId,
        demand: u64,
        now: u64,
        cal: &mut Calendar,
    ) {
        self.grow(job);
        let j = job as usize;
        if self.left_at[j] != now {
            // It blocked since it last ran: a fresh quantum.
            self.used[j] = 0;
        }
        if let Some(c) = self.cores.iter().position(|&c| c == Core::Kept { job }) {
            // Straight back to the core it kept: no switch, same quantum.
            self.run(id, c, job, demand, now, cal);
            return;
        }
        match self.cores.iter().position(|&c| c == Core::Idle) {
            Some(c) => {
                self.busy += 1;
                self.run(id, c, job, demand, now, cal);
            }
            None => self.queue.push_back((job, demand)),
        }
    }

    /// Start (or continue) `job` on core `c`, for its demand or what is left
    /// of its quantum, whichever ends first.
    #[inline]
    fn run(&mut self, id: u32, c: usize, job: JobId, need: u64, now: u64, cal: &mut Calendar) {
        let j = job as usize;
        let switch = if self.last_ran[c] == job {
            0
        } else {
            self.switch_ns
        };
        self.last_ran[c] = job;
        let slice = need.min(self.quantum.saturating_sub(self.used[j]).max(1));
        self.used[j] += slice;
        self.cores[c] = Core::Running {
            job,
            left: need - slice,
        };
        let cores = self.cores.len();
        let present = self.queue.len() + self.busy as usize;
        let wall = if self.contention > 0.0 && present > cores {
            let stretch = 1.0 + self.contention * (present - cores) as f64;
            (slice as f64 * stretch) as u64
        } else {
            slice
        };
        cal.schedule(
            later(now, switch.saturating_add(wall)),
            EventKind::SliceEnd,
            id,
            c as u32,
        );
    }

    /// The run on core `c` ended: the job is done here (pushed onto `done`;
    /// the core is kept for it until this instant is over, see
    /// [`TimeSliced::release_kept`]) or its quantum is spent.
    #[inline]
    pub(super) fn slice_end(
        &mut self,
        id: u32,
        c: u32,
        now: u64,
        cal: &mut Calendar,
        done: &mut VecDeque<JobId>,
    ) {
        let c = c as usize;
        let Core::Running { job, left } = self.cores[c] else {
            return;
        };
        if left == 0 {
            self.left_at[job as usize] = now;
            self.cores[c] = Core::Kept { job };
            done.push_back(job);
            // Two hops at this instant: the first lets the job's own
            // zero-time steps run, the second its zero-think next request
            // (an arrival scheduled at this instant, after the first hop).
            cal.schedule(now, EventKind::CoreCheck, id, (c as u32) << 1);
            return;
        }
        // Its quantum is spent: it runs on with a fresh one, or is
        // preempted to the back of the queue and gets a fresh one when it
        // runs again.
        self.used[job as usize] = 0;
        match self.queue.pop_front() {
            None => self.run(id, c, job, left, now, cal),
            Some((next, need)) => {
                self.left_at[job as usize] = u64::MAX;
                self.queue.push_back((job, left));
                self.run(id, c, next, need, now, cal);
            }
        }
    }

    /// A `CoreCheck` event: `tag` is the core (shifted) and the hop. After the
    /// second hop a core still kept for a job that did not come back goes to
    /// the next waiting job, or idles.
    #[inline]
    pub(super) fn core_check(&mut self, id: u32, tag: u32, now: u64, cal: &mut Calendar) {
        let c = (tag >> 1) as usize;
        if !matches!(self.cores[c], Core::Kept { .. }) {
            return;
        }
        if tag & 1 == 0 {
            cal.schedule(now, EventKind::CoreCheck, id, tag | 1);
            return;
        }
        match self.queue.pop_front() {
            Some((next, need)) => self.run(id, c, next, need, now, cal),
            None => {
                self.cores[c] = Core::Idle;
                self.busy -= 1;
            }
        }
    }

    /// Jobs present: running, kept for or waiting.
    #[cfg(test)]
    fn present(&self) -> usize {
        self.cores
            .iter()
            .filter(|c| matches!(c, Core::Running { .. }))
            .count()
            + self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::calendar::Calendar;

    /// Drive the station alone: jobs with the given demands arrive at 0;
    /// returns each job's finish time.
    fn finish_times(cores: u32, quantum: u64, switch: u64, demands: &[u64]) -> Vec<u64> {
        finish_times_with(cores, quantum, switch, 0.0, demands)
    }

    /// [`finish_times`] with contention κ.
    fn finish_times_with(
        cores: u32,
        quantum: u64,
        switch: u64,
        contention: f64,
        demands: &[u64],
    ) -> Vec<u64> {
        let mut cal = Calendar::with_capacity(8);
        let mut s = TimeSliced::new(cores, quantum, switch, contention);
        for (j, &d) in demands.iter().enumerate() {
            s.arrive(0, j as JobId, d, 0, &mut cal);
        }
        let mut done = VecDeque::new();
        let mut finished = vec![u64::MAX; demands.len()];
        while let Some(ev) = cal.pop() {
            match ev.kind {
                EventKind::SliceEnd => s.slice_end(0, ev.b, ev.time, &mut cal, &mut done),
                EventKind::CoreCheck => s.core_check(0, ev.b, ev.time, &mut cal),
                _ => unreachable!(),
            }
            while let Some(j) = done.pop_front() {
                finished[j as usize] = ev.time;
            }
        }
        assert_eq!(s.present(), 0);
        assert_eq!(s.busy, 0);
        finished
    }

    #[test]
    fn short_jobs_run_to_completion_in_arrival_order() {
        // Three 1 ms jobs on one core, quantum 4 ms, no switch cost: FCFS.
        assert_eq!(
            finish_times(1, 4_000_000, 0, &[1_000_000; 3]),
            vec![1_000_000, 2_000_000, 3_000_000]
        );
    }

    #[test]
    fn long_jobs_take_turns_a_quantum_at_a_time() {
        // Two 10 ms jobs, quantum 4 ms, one core: A 0–4, B 4–8, A 8–12,
        // B 12–16, A 16–18, B 18–20.
        assert_eq!(
            finish_times(1, 4_000_000, 0, &[10_000_000, 10_000_000]),
            vec![18_000_000, 20_000_000]
        );
    }

    #[test]
    fn every_switch_costs_the_switch_time() {
        // As above with 1 ms per switch: 6 runs, each after a switch
        // (A, B, A, B, A, B): A ends at 3·1 + 10 + 2·… computed step by step.
        let (q, s) = (4_000_000, 1_000_000);
        // A: [1,5], B: [6,10], A: [11,15], B: [16,20], A: [21,23], B: [24,26]
        assert_eq!(
            finish_times(1, q, s, &[10_000_000, 10_000_000]),
            vec![23_000_000, 26_000_000]
        );
    }

    #[test]
    fn a_lone_job_keeps_its_core_past_its_quantum() {
        // Nobody waits: no preemption and no switch after the first.
        assert_eq!(
            finish_times(1, 4_000_000, 1_000_000, &[10_000_000]),
            vec![11_000_000]
        );
    }

    #[test]
    fn contention_stretches_runs_that_start_with_others_waiting() {
        // κ = 0.5, one core, three 2 ms jobs: A starts alone (0–2); B starts
        // with C waiting, two present: 2 ms of work take 3 (2–5); C alone
        // (5–7).
        assert_eq!(
            finish_times_with(1, 4_000_000, 0, 0.5, &[2_000_000; 3]),
            vec![2_000_000, 5_000_000, 7_000_000]
        );
    }

    #[test]
    fn two_cores_serve_two_jobs_at_once() {
        assert_eq!(
            finish_times(2, 4_000_000, 0, &[3_000_000, 5_000_000, 1_000_000]),
            vec![3_000_000, 5_000_000, 4_000_000]
        );
    }
}
