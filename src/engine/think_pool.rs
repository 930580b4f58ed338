//! Users between requests when think times are exponential.
//!
//! A closed model of N users could give every thinking user its own calendar
//! event, as it must for a general think-time distribution: then the calendar
//! holds about N events, and at a million users every push and pop walks ten
//! cache-missing levels of a 24 MB heap. With exponential think times that is
//! unnecessary. By memorylessness the k clocks of the thinking users are, at
//! any moment, k independent exponentials, whatever they have already run;
//! only the earliest matters. So the pool keeps one pending event, the
//! earliest end of a think:
//!
//! - a user who starts thinking draws its own exponential clock; if that ends
//!   before the pending event, it becomes the pending event (the old one is
//!   left in the calendar and ignored when it pops, by its generation);
//! - when the pending event fires, the user who leaves is uniformly one of the
//!   k thinkers (the i.i.d. clocks are exchangeable), and the next end is
//!   drawn afresh as the minimum of k − 1 fresh clocks, exponential with k − 1
//!   times the rate.
//!
//! The process of arrivals, and which user makes each, has exactly the law of
//! per-user clocks; only the random draws differ. The calendar then holds the
//! requests in service, not the population.
//!
//! Where nothing about a user outlives its request (no read-your-writes
//! tracking), which user leaves changes nothing that is measured, so the pool
//! hands out the user who joined last: its slot is still in cache, where a
//! uniformly drawn one of a million is a cache miss on every request.

use super::calendar::{later, Calendar, EventKind};
use super::JobId;
use crate::dist::Dist;
use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

pub(super) struct ThinkPool {
    /// Users thinking, in no particular order.
    users: Vec<JobId>,
    /// Mean think time, in nanoseconds.
    mean_ns: f64,
    /// When the pending event fires (`u64::MAX`: none pending).
    next_at: u64,
    /// Generation of the pending event; older ones are stale.
    generation: u32,
    /// Users carry state between requests: the one who leaves must be drawn
    /// uniformly. Otherwise the last to join leaves.
    draw_user: bool,
}

impl ThinkPool {
    pub(super) fn new(mean_ns: f64, capacity: usize, draw_user: bool) -> Self {
        ThinkPool {
            users: Vec::with_capacity(capacity),
            mean_ns,
            next_at: u64::MAX,
            generation: 0,
            draw_user,
        }
    }

    /// Users thinking now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.users.len()
    }

    /// Put many users in the pool at `now` (the start of a run) with a single
    /// draw: the earliest of their clocks is exponential with their total rate.
    pub(super) fn fill(
        &mut self,
        users: impl Iterator<Item = JobId>,
        now: u64,
        rng: &mut Xoshiro256PlusPlus,
        cal: &mut Calendar,
    ) {
        self.users.extend(users);
        self.reschedule(now, rng, cal);
    }

    /// `user` starts thinking at `now`.
    #[inline]
    pub(super) fn join(
        &mut self,
        user: JobId,
        now: u64,
        rng: &mut Xoshiro256PlusPlus,
        cal: &mut Calendar,
    ) {
        self.users.push(user);
        let t = later(now, exponential(self.mean_ns).sample(rng));
        if t < self.next_at {
            self.pend(t, cal);
        }
    }

    /// The event of generation `generation` fired at `now`: the user whose
    /// think ends, or `None` if the event was stale.
    #[inline]
    pub(super) fn fire(
        &mut self,
        generation: u32,
        now: u64,
        rng: &mut Xoshiro256PlusPlus,
        cal: &mut Calendar,
    ) -> Option<JobId> {
        if generation != self.generation || self.users.is_empty() {
            return None;
        }
        let user = if self.draw_user {
            let i = rng.random_range(0..self.users.len());
            self.users.swap_remove(i)
        } else {
            self.users.pop()?
        };
        self.reschedule(now, rng, cal);
        Some(user)
    }

    /// Draw the earliest end among all thinking users afresh.
    fn reschedule(&mut self, now: u64, rng: &mut Xoshiro256PlusPlus, cal: &mut Calendar) {
        if self.users.is_empty() {
            self.next_at = u64::MAX;
            // Any pending event is now stale.
            self.generation = self.generation.wrapping_add(1);
        } else {
            let t = later(
                now,
                exponential(self.mean_ns / self.users.len() as f64).sample(rng),
            );
            self.pend(t, cal);
        }
    }

    #[inline]
    fn pend(&mut self, t: u64, cal: &mut Calendar) {
        self.generation = self.generation.wrapping_add(1);
        self.next_at = t;
        cal.schedule(t, EventKind::ThinkEnd, 0, self.generation);
    }
}

#[inline]
fn exponential(mean_ns: f64) -> Dist {
    Dist::Exponential { mean_ns }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Drive a pool of `n` users who return the moment they leave (a closed
    /// loop with no service): think ends must form a Poisson process of rate
    /// n / Z, and every user must leave equally often.
    #[test]
    fn pool_of_n_thinkers_is_poisson_with_rate_n_over_z() {
        let (n, mean_ns) = (50u32, 1e9);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut cal = Calendar::with_capacity(64);
        let mut pool = ThinkPool::new(mean_ns, n as usize, true);
        pool.fill(0..n, 0, &mut rng, &mut cal);
        let mut per_user = vec![0u32; n as usize];
        let (mut fired, mut last) = (0u64, 0u64);
        let target = 200_000;
        while fired < target {
            let ev = cal.pop().expect("a pool with users always has an event");
            assert_eq!(ev.kind, EventKind::ThinkEnd);
            if let Some(u) = pool.fire(ev.b, ev.time, &mut rng, &mut cal) {
                per_user[u as usize] += 1;
                fired += 1;
                last = ev.time;
                pool.join(u, ev.time, &mut rng, &mut cal);
            }
            assert_eq!(pool.len(), n as usize);
        }
        // Rate: fired / elapsed should be n / Z = 50 per second; the count
        // of a Poisson process has sd sqrt(200,000) ≈ 0.22%, so 1% is > 4 sd.
        let rate = fired as f64 / (last as f64 / 1e9);
        assert!((rate / 50.0 - 1.0).abs() < 0.01, "rate {rate}");
        // Each user: binomial(200,000, 1/50), mean 4,000, sd ≈ 63; 5 sd.
        for (u, &c) in per_user.iter().enumerate() {
            assert!((c as f64 - 4000.0).abs() < 320.0, "user {u}: {c}");
        }
    }

    /// With one thinker at a time the pool is a single exponential clock:
    /// its mean must be Z.
    #[test]
    fn a_single_thinker_thinks_for_z_on_average() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut cal = Calendar::with_capacity(4);
        let mut pool = ThinkPool::new(2e6, 1, false);
        let (mut sum, mut now) = (0u64, 0u64);
        let k = 100_000;
        pool.join(0, now, &mut rng, &mut cal);
        let mut done = 0;
        while done < k {
            let ev = cal.pop().unwrap();
            if pool.fire(ev.b, ev.time, &mut rng, &mut cal).is_some() {
                sum += ev.time - now;
                now = ev.time;
                done += 1;
                pool.join(0, now, &mut rng, &mut cal);
            }
        }
        // Exponential: sd of the mean of 100,000 is 0.32%; 1.5% is > 4 sd.
        let mean = sum as f64 / k as f64;
        assert!((mean / 2e6 - 1.0).abs() < 0.015, "mean {mean}");
    }
}
