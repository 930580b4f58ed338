//! The analytic companion of a phase: asymptotic bounds and an approximate
//! mean value analysis (MVA), computed from the same compiled [`Model`] the
//! engine runs, so that simulation and theory can be drawn side by side.
//!
//! What the theory sees of a model:
//! - each FCFS or processor-sharing station is a queueing centre with demand
//!   D_k (visits × mean service, [`Model::station_demands_s`]) and c_k servers;
//! - delay stations and `Delay` steps are pure delays;
//! - passive resources (worker pools, connections) only enter the bounds:
//!   a pool of c units held for at least H seconds of service per request
//!   carries at most c / H requests per second. MVA ignores them, so it is
//!   optimistic wherever a pool, not a station, is the bottleneck.

use crate::model::{Discipline, Model, Population, Step};

/// Populations up to this size get exact MVA; larger ones Schweitzer's
/// approximation (exact MVA costs O(N·K) and N reaches millions).
pub const EXACT_MVA_MAX: u32 = 2_000;

/// A queueing centre as the theory sees it.
#[derive(Clone, Debug)]
pub struct Centre {
    /// The station's name, as in the scenario.
    pub name: String,
    /// Total demand per request, in seconds.
    pub demand_s: f64,
    /// Servers c_k working in parallel: the centre saturates at c_k / D_k
    /// requests per second.
    pub servers: u32,
}

/// One limit on throughput: a station's servers or a resource's units.
#[derive(Clone, Debug)]
pub struct Limit {
    /// Name of the station or passive resource (pool, connections) that
    /// imposes it.
    pub name: String,
    /// Most requests per second this station or resource can carry.
    pub max_rps: f64,
}

/// Everything the bounds and MVA need of one phase.
#[derive(Clone, Debug)]
pub struct Analytic {
    /// The queueing centres (FCFS and processor-sharing stations with
    /// demand), in model order.
    pub centres: Vec<Centre>,
    /// Pure delay per request (delay stations and delay steps), seconds.
    pub delay_s: f64,
    /// Mean think time Z of a closed population (0 for open workloads).
    pub think_s: f64,
    /// Arrival rate of an open workload.
    pub open_rate_per_s: Option<f64>,
    /// Requests can be refused or time out somewhere in the model, so an
    /// open workload above the bound may still be steady (a loss system).
    pub sheds_load: bool,
    /// Throughput limits of every station and resource, tightest first.
    pub limits: Vec<Limit>,
    /// Per passive resource, MVA's estimate of what it lets through when
    /// always full (an estimate, not a bound: used to cap the MVA curve).
    pub pools: Vec<Limit>,
}

/// MVA's estimate at one population (or at the open arrival rate).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MvaPoint {
    /// Throughput X, requests per second (the arrival rate, for an open
    /// workload).
    pub throughput_rps: f64,
    /// Mean response time (time in system per request), seconds.
    pub response_s: f64,
    /// Mean number of requests in the system (not thinking).
    pub in_system: f64,
}

impl Analytic {
    /// The theory of one compiled phase: its centres and demands, pure
    /// delays, think time and every throughput limit.
    pub fn of(model: &Model) -> Self {
        let demands = model.station_demands_s();
        let (delay_steps, hold) = delays_and_holding(model);
        let mut centres = Vec::new();
        let mut delay_s = delay_steps;
        let mut limits = Vec::new();
        for (s, &d) in model.stations.iter().zip(&demands) {
            match s.discipline {
                // A group-commit disk serves any number of commits per flush:
                // it adds a wait, never a throughput limit.
                Discipline::Delay | Discipline::GroupCommit { .. } => delay_s += d,
                Discipline::Fcfs | Discipline::ProcessorSharing | Discipline::TimeSliced { .. } => {
                    if d > 0.0 {
                        limits.push(Limit {
                            name: s.name.clone(),
                            max_rps: s.servers as f64 / d,
                        });
                        centres.push(Centre {
                            name: s.name.clone(),
                            demand_s: d,
                            servers: s.servers,
                        });
                    }
                }
            }
        }
        let mut pools = Vec::new();
        for (r, h) in model.resources.iter().zip(&hold) {
            let held = h.station_s.iter().sum::<f64>() + h.delay_s;
            if held > 0.0 {
                limits.push(Limit {
                    name: r.name.clone(),
                    max_rps: r.capacity as f64 / held,
                });
                let mut delay = h.delay_s;
                let queues = model
                    .stations
                    .iter()
                    .zip(&h.station_s)
                    .filter(|(_, &d)| d > 0.0)
                    .map(|(st, &d)| {
                        let (q, extra) = seidmann_split(d, st.servers);
                        delay += extra;
                        q
                    })
                    .collect::<Vec<f64>>();
                // The pool, always full, as a closed network of `capacity`
                // requests with no think time: its MVA throughput (flow-
                // equivalent server) caps what the pool lets through.
                let (x, _) = closed_mva(&queues, delay, 0.0, r.capacity);
                pools.push(Limit {
                    name: r.name.clone(),
                    max_rps: x,
                });
            }
        }
        limits.sort_by(|a, b| a.max_rps.total_cmp(&b.max_rps));
        let (think_s, open_rate_per_s) = match model.population {
            Population::Closed { think } => (think.mean_ns() / 1e9, None),
            Population::Open { rate_per_s } => (0.0, Some(rate_per_s)),
        };
        // Where requests can be turned away or give up (a bounded waiting
        // room, a timeout, SQLite's busy handler, a pooler's wait timeout),
        // an open workload above the bound still has a steady state: it
        // sheds the excess as errors. Only the simulation can tell then.
        let sheds_load = model
            .resources
            .iter()
            .any(|r| r.policy.max_waiting.is_some() || r.policy.timeout_ns.is_some())
            || !model.db.sqlite_locks.is_empty()
            || model.db.pools.iter().any(|p| p.wait_timeout_ns.is_some());
        Analytic {
            centres,
            delay_s,
            think_s,
            open_rate_per_s,
            limits,
            pools,
            sheds_load,
        }
    }

    /// D: total time a request needs with no queueing at all, in seconds.
    pub fn total_demand_s(&self) -> f64 {
        self.centres.iter().map(|c| c.demand_s).sum::<f64>() + self.delay_s
    }

    /// The tightest limit: the bottleneck as the bounds see it.
    pub fn bottleneck(&self) -> Option<&Limit> {
        self.limits.first()
    }

    /// 1 / D_max: the most requests per second the phase can carry
    /// (D_max = D_k / c_k for a c-server station, H_r / c_r for a pool).
    pub fn max_throughput_rps(&self) -> f64 {
        self.bottleneck().map_or(f64::INFINITY, |l| l.max_rps)
    }

    /// The knee N* = (D + Z) / D_max: below it users mostly think, above it
    /// they mostly queue at the bottleneck.
    pub fn knee_users(&self) -> f64 {
        (self.total_demand_s() + self.think_s) * self.max_throughput_rps()
    }

    /// Asymptotic bound on throughput: X(N) ≤ min(N / (D + Z), 1 / D_max);
    /// for an open workload, min(λ, 1 / D_max).
    pub fn throughput_bound_rps(&self, users: u32) -> f64 {
        let demand = match self.open_rate(users) {
            Some(rate) => rate,
            None => users as f64 / (self.total_demand_s() + self.think_s),
        };
        demand.min(self.max_throughput_rps())
    }

    /// The arrival rate of an open workload at load level `users`: the
    /// level itself when above 0 (a point of an arrival-rate sweep), else
    /// the workload's own rate; `None` for a closed population.
    pub fn open_rate(&self, users: u32) -> Option<f64> {
        self.open_rate_per_s
            .map(|rate| if users > 0 { f64::from(users) } else { rate })
    }

    /// An open workload whose arrival rate (at load level `users`, see
    /// [`Self::open_rate`]) reaches a limit, in a model that cannot shed the
    /// excess, has no steady state.
    pub fn open_overloaded(&self, users: u32) -> bool {
        !self.sheds_load
            && self
                .open_rate(users)
                .is_some_and(|rate| rate >= self.max_throughput_rps())
    }

    /// Multi-server centres follow Seidmann's approximation: a c-server
    /// station of demand D becomes a single server of demand D / c followed
    /// by a pure delay of D (c − 1) / c. It is exact at both ends (light load:
    /// D; saturation: c / D requests per second) and a few percent off around
    /// the knee, where the c servers pool their queue better than it assumes.
    fn seidmann(&self) -> (Vec<f64>, f64) {
        let mut extra = 0.0;
        let q = self
            .centres
            .iter()
            .map(|c| {
                let (q, d) = seidmann_split(c.demand_s, c.servers);
                extra += d;
                q
            })
            .collect();
        (q, self.delay_s + extra)
    }

    /// MVA at `users` (for open workloads, the M/M/1-per-centre product
    /// form at the arrival rate of load level `users`, see
    /// [`Self::open_rate`]; NaN when the rate reaches a limit).
    pub fn mva(&self, users: u32) -> MvaPoint {
        let (q, delay) = self.seidmann();
        if let Some(rate) = self.open_rate(users) {
            if self.open_overloaded(users) {
                return MvaPoint {
                    throughput_rps: f64::NAN,
                    response_s: f64::NAN,
                    in_system: f64::NAN,
                };
            }
            let r: f64 = q.iter().map(|&d| d / (1.0 - rate * d)).sum::<f64>() + delay;
            return MvaPoint {
                throughput_rps: rate,
                response_s: r,
                in_system: rate * r,
            };
        }
        if users == 0 {
            return MvaPoint {
                throughput_rps: 0.0,
                response_s: q.iter().sum::<f64>() + delay,
                in_system: 0.0,
            };
        }
        let (mut x, mut r) = closed_mva(&q, delay, self.think_s, users);
        // Hierarchical step for passive resources (MVA proper cannot see
        // them): the system carries no more than its tightest pool lets
        // through; the users it cannot carry wait, and R follows from
        // Little's law for the whole closed loop, R = N / X − Z.
        let pool = self
            .pools
            .iter()
            .map(|p| p.max_rps)
            .fold(f64::INFINITY, f64::min);
        if pool < x {
            x = pool;
            r = users as f64 / x - self.think_s;
        }
        MvaPoint {
            throughput_rps: x,
            response_s: r,
            in_system: x * r,
        }
    }
}

/// Seidmann's split of a c-server station of demand d: (queueing demand,
/// pure delay) = (d / c, d (c − 1) / c).
fn seidmann_split(d: f64, servers: u32) -> (f64, f64) {
    let c = servers.max(1) as f64;
    (d / c, d * (c - 1.0) / c)
}

/// Exact MVA up to [`EXACT_MVA_MAX`] users, Schweitzer beyond.
fn closed_mva(q: &[f64], delay: f64, z: f64, n: u32) -> (f64, f64) {
    if n <= EXACT_MVA_MAX {
        exact_mva(q, delay, z, n)
    } else {
        schweitzer(q, delay, z, n)
    }
}

/// Exact MVA for a closed network of single-server queueing centres (demands
/// `q`), a pure delay and think time `z`: returns (X, R) at `n` users.
pub fn exact_mva(q: &[f64], delay: f64, z: f64, n: u32) -> (f64, f64) {
    let mut queue = vec![0.0; q.len()];
    let (mut x, mut r) = (0.0, delay + q.iter().sum::<f64>());
    for users in 1..=n {
        let mut total = delay;
        for (k, &d) in q.iter().enumerate() {
            total += d * (1.0 + queue[k]);
        }
        r = total;
        x = users as f64 / (z + r);
        for (k, &d) in q.iter().enumerate() {
            queue[k] = x * d * (1.0 + queue[k]);
        }
    }
    (x, r)
}

/// A closed loop of `n` users around one load-dependent station and a pure
/// delay: each user spends `delay` (think time, round trips: anything that
/// does not queue) and then a demand of mean `d` at `servers` cores shared by
/// processor sharing, whose rate with k jobs present is
/// min(k, c) / d / (1 + κ·max(0, k − c)) — the engine's contended `ps`
/// station. Returns (X, mean time at the station).
///
/// Exact: the number at the station is a birth–death chain (births at
/// (n − k) / delay, deaths at the station's rate), and the product form is
/// insensitive to the delay's and the demand's distributions, so this is
/// the simulated network's mean, not an approximation of it. Weights are
/// kept in logarithms: 500 users overflow the factorials otherwise.
pub fn closed_load_dependent(d: f64, delay: f64, servers: u32, kappa: f64, n: u32) -> (f64, f64) {
    let c = servers.max(1) as f64;
    let rate = |k: f64| k.min(c) / d / (1.0 + kappa * (k - c).max(0.0));
    if n == 0 || d <= 0.0 {
        return (0.0, d.max(0.0));
    }
    if delay <= 0.0 {
        // Everyone always at the station.
        let k = n as f64;
        return (rate(k), k / rate(k));
    }
    // log p(k) up to a constant: p(k) = p(k−1) · (n − k + 1) / delay / rate(k).
    let mut logs = Vec::with_capacity(n as usize + 1);
    logs.push(0.0f64);
    for k in 1..=n {
        let kf = k as f64;
        let prev = logs[k as usize - 1];
        logs.push(prev + ((n - k + 1) as f64 / delay).ln() - rate(kf).ln());
    }
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut total, mut x, mut queue) = (0.0, 0.0, 0.0);
    for (k, l) in logs.iter().enumerate() {
        let w = (l - top).exp();
        total += w;
        if k > 0 {
            x += w * rate(k as f64);
            queue += w * k as f64;
        }
    }
    let (x, queue) = (x / total, queue / total);
    (x, queue / x)
}

/// Schweitzer–Bard approximate MVA: an arriving request sees the queues of
/// the full population scaled by (N − 1) / N; solved by fixed-point
/// iteration from the asymptotic guess (everyone queued at the bottleneck
/// beyond the knee, spread by demand below it).
pub fn schweitzer(q: &[f64], delay: f64, z: f64, n: u32) -> (f64, f64) {
    let nf = n as f64;
    let d_total: f64 = q.iter().sum::<f64>() + delay;
    let d_max = q.iter().copied().fold(0.0, f64::max);
    if q.is_empty() || d_max <= 0.0 {
        return (nf / (z + d_total), d_total);
    }
    let x0 = (nf / (z + d_total)).min(1.0 / d_max);
    let mut queue: Vec<f64> = q.iter().map(|&d| x0 * d).collect();
    let queued = (nf - x0 * (z + d_total)).max(0.0);
    if let Some(k) = q.iter().position(|&d| d == d_max) {
        queue[k] += queued;
    }
    let scale = (nf - 1.0) / nf;
    let (mut x, mut r) = (x0, d_total);
    for _ in 0..100_000 {
        r = delay
            + q.iter()
                .zip(&queue)
                .map(|(&d, &qk)| d * (1.0 + scale * qk))
                .sum::<f64>();
        x = nf / (z + r);
        let mut change = 0.0f64;
        for (k, &d) in q.iter().enumerate() {
            let next = x * d * (1.0 + scale * queue[k]);
            change = change.max((next - queue[k]).abs());
            queue[k] = next;
        }
        if change <= 1e-9 * nf.max(1.0) {
            break;
        }
    }
    (x, r)
}

/// What requests do while holding one passive resource, per request.
#[derive(Clone, Debug, Default)]
struct Holding {
    /// Demand at each station while holding, seconds.
    station_s: Vec<f64>,
    /// `Delay` steps while holding, seconds.
    delay_s: f64,
}

/// Mean pure delay per request from `Delay` steps, and per passive resource
/// the service and delays a request receives while holding it.
///
/// Held resources are tracked along each plan's step order; a branch that
/// jumps over an acquire or a release would make this approximate (no
/// compiler emits one).
fn delays_and_holding(model: &Model) -> (f64, Vec<Holding>) {
    let mut delay = 0.0;
    let mut hold = vec![
        Holding {
            station_s: vec![0.0; model.stations.len()],
            delay_s: 0.0,
        };
        model.resources.len()
    ];
    for rt in &model.request_types {
        let share = rt.weight / rt.plans.len().max(1) as f64;
        for &plan in &rt.plans {
            let steps = model.plan_steps(plan);
            let reach = model.reach_probabilities(steps);
            let mut held: u64 = 0;
            for (step, &r) in steps.iter().zip(&reach) {
                let mut used: Option<(Option<usize>, f64)> = None;
                if let Some((station, ns)) = model.step_demand_ns(step) {
                    used = Some((Some(station as usize), share * r * ns / 1e9));
                }
                match *step {
                    Step::Delay(dist) => {
                        let d = share * r * dist.mean_ns() / 1e9;
                        delay += d;
                        used = Some((None, d));
                    }
                    Step::Acquire(res) => held |= 1u64 << (res % 64),
                    Step::Release(res) => held &= !(1u64 << (res % 64)),
                    // Routing, caches, locks and pools add no demand here.
                    _ => {}
                }
                let Some((station, d)) = used else { continue };
                let mut bits = held;
                while bits != 0 {
                    let k = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let Some(h) = hold.get_mut(k) else { continue };
                    let delay_station = station.map(|s| {
                        model
                            .stations
                            .get(s)
                            .is_none_or(|st| st.discipline == Discipline::Delay)
                    });
                    match (station, delay_station) {
                        (Some(s), Some(false)) => h.station_s[s] += d,
                        _ => h.delay_s += d,
                    }
                }
            }
        }
    }
    (delay, hold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_load_dependent_server_without_contention_is_exact_mva() {
        for n in [1, 2, 5, 40] {
            let (x, r) = closed_load_dependent(0.002, 0.010, 1, 0.0, n);
            let (x_mva, r_mva) = exact_mva(&[0.002], 0.0, 0.010, n);
            assert!((x / x_mva - 1.0).abs() < 1e-12, "n = {n}: {x} vs {x_mva}");
            assert!((r / r_mva - 1.0).abs() < 1e-12, "n = {n}: {r} vs {r_mva}");
        }
    }

    /// The machine-repairman model M/M/c//N computed term by term: the
    /// load-dependent solver at κ = 0 is it.
    #[test]
    fn c_servers_match_the_machine_repairman_formula() {
        let (d, z, c, n) = (0.004f64, 0.006f64, 3u32, 9u32);
        let mut p = vec![1.0f64];
        for k in 1..=n {
            let mu = (k.min(c) as f64) / d;
            p.push(p[k as usize - 1] * (n - k + 1) as f64 / z / mu);
        }
        let total: f64 = p.iter().sum();
        let x: f64 = p
            .iter()
            .enumerate()
            .map(|(k, w)| w / total * (k as u32).min(c) as f64 / d)
            .sum();
        let (got, _) = closed_load_dependent(d, z, c, 0.0, n);
        assert!((got / x - 1.0).abs() < 1e-12, "{got} vs {x}");
    }

    #[test]
    fn contention_makes_throughput_fall_past_the_peak() {
        let x = |n| closed_load_dependent(0.001, 0.0005, 2, 0.02, n).0;
        let peak = (1..=100).map(x).fold(0.0, f64::max);
        assert!(x(100) < 0.7 * peak, "{} vs peak {peak}", x(100));
        // Saturated and everyone at the station: c / (d (1 + κ (n − c))).
        let all_in = closed_load_dependent(0.001, 0.0, 2, 0.02, 50).0;
        assert!((all_in - 2.0 / 0.001 / (1.0 + 0.02 * 48.0)).abs() < 1e-6);
    }
    use crate::dist::Dist;
    use crate::model::{Plan, RequestType, Resource, Station, WaitPolicy};

    /// A pool of 4 workers around 2 ms of 2-core CPU and 5 ms of one-core
    /// database, 10 ms of network delay, think time 1 s.
    fn model() -> Model {
        let exp = |ms: f64| Dist::Exponential { mean_ns: ms * 1e6 };
        Model {
            stations: vec![
                Station {
                    name: "cpu".into(),
                    discipline: Discipline::ProcessorSharing,
                    servers: 2,
                    contention: 0.0,
                },
                Station {
                    name: "db".into(),
                    discipline: Discipline::Fcfs,
                    servers: 1,
                    contention: 0.0,
                },
                Station {
                    name: "net".into(),
                    discipline: Discipline::Delay,
                    servers: 0,
                    contention: 0.0,
                },
            ],
            resources: vec![Resource {
                name: "workers".into(),
                capacity: 4,
                policy: WaitPolicy {
                    max_waiting: None,
                    timeout_ns: None,
                },
            }],
            steps: vec![
                Step::Acquire(0),
                Step::Use {
                    station: 0,
                    demand: exp(2.0),
                },
                Step::Use {
                    station: 2,
                    demand: Dist::Constant { ns: 10e6 },
                },
                Step::Use {
                    station: 1,
                    demand: exp(5.0),
                },
                Step::Release(0),
            ],
            request_types: vec![RequestType {
                name: "r".into(),
                weight: 1.0,
                plans: vec![Plan { first: 0, len: 5 }],
            }],
            population: Population::Closed { think: exp(1000.0) },
            keys: None,
            scaling: Default::default(),
            db: Default::default(),
        }
    }

    #[test]
    fn bounds_of_a_known_model() {
        let a = Analytic::of(&model());
        // D = 2 + 5 + 10 ms; the db (5 ms, one server) limits at 200/s; the
        // cpu at 2 / 2 ms = 1000/s; the 4 workers, held 17 ms, at 235.3/s.
        assert!((a.total_demand_s() - 0.017).abs() < 1e-12);
        assert_eq!(a.bottleneck().unwrap().name, "db");
        assert!((a.max_throughput_rps() - 200.0).abs() < 1e-9);
        let workers = a.limits.iter().find(|l| l.name == "workers").unwrap();
        assert!((workers.max_rps - 4.0 / 0.017).abs() < 1e-9);
        // N* = (D + Z) / D_max = 1.017 / 0.005.
        assert!((a.knee_users() - 203.4).abs() < 1e-9);
        assert!((a.throughput_bound_rps(100) - 100.0 / 1.017).abs() < 1e-9);
        assert!((a.throughput_bound_rps(1_000_000) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn mva_stays_within_the_bounds_and_reaches_them() {
        let a = Analytic::of(&model());
        for n in [1u32, 10, 100, 203, 500, 2_000, 2_001, 100_000, 1_000_000] {
            let m = a.mva(n);
            let b = a.throughput_bound_rps(n);
            assert!(m.throughput_rps <= b * (1.0 + 1e-9), "n={n}: {m:?} > {b}");
            // Response is at least D, and at least N / X_max − Z.
            assert!(m.response_s >= a.total_demand_s() * (1.0 - 1e-9));
            assert!(m.response_s >= n as f64 / 200.0 - 1.0 - 1e-6);
        }
        assert!((a.mva(1).response_s - 0.017).abs() < 1e-12);
        // Four workers cycling through 17 ms of work, 5 ms of it queueing at
        // the db, cannot keep the db busy: the pool caps MVA below 200/s.
        let pool = a.pools[0].max_rps;
        assert!(pool < 200.0 && pool > 150.0, "{pool}");
        assert!((a.mva(1_000_000).throughput_rps - pool).abs() < 1e-9);
    }

    #[test]
    fn schweitzer_is_close_to_exact_mva() {
        // Knee at (0.016 + 1) / 0.005 ≈ 203 users. Schweitzer's error is
        // worst there (response time), and small on either side.
        let q = [0.005, 0.001];
        for (n, r_tol) in [
            (5u32, 0.02),
            (50, 0.02),
            (200, 0.20),
            (600, 0.05),
            (2000, 0.02),
        ] {
            let (xe, re) = exact_mva(&q, 0.01, 1.0, n);
            let (xs, rs) = schweitzer(&q, 0.01, 1.0, n);
            assert!((xs - xe).abs() / xe < 0.05, "n={n}: {xs} vs {xe}");
            assert!((rs - re).abs() / re < r_tol, "n={n}: {rs} vs {re}");
        }
    }

    #[test]
    fn exact_mva_of_a_single_queue_with_one_user_has_no_queueing() {
        // One user never waits: R = D, X = 1 / (D + Z).
        let (x, r) = exact_mva(&[0.01], 0.0, 0.99, 1);
        assert!((r - 0.01).abs() < 1e-15);
        assert!((x - 1.0).abs() < 1e-12);
    }
}
