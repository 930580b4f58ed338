//! The compiled, immutable form of one phase: stations, passive resources and
//! request plans. The engine interprets it; architectures compile into it.
//!
//! Keeping this vocabulary small is what lets SQLite, PostgreSQL, poolers and
//! caches share one engine: a new architecture is a new compiler, not a new engine.

use crate::dist::Dist;

/// Index of an active station in [`Model::stations`].
pub type StationId = u32;
/// Index of a passive resource in [`Model::resources`].
pub type ResourceId = u32;

/// Passive resources are tracked per request in a 64-bit mask.
pub const MAX_RESOURCES: usize = 64;

/// How an active station shares its servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discipline {
    /// `servers` identical servers, one queue, first come first served.
    Fcfs,
    /// Processor sharing over `servers` cores: with n jobs present each
    /// progresses at rate min(1, servers / n) — how an OS shares CPU cores.
    ProcessorSharing,
    /// Infinite servers: every job is served at once (network, sleeps).
    Delay,
}

/// An active station: does work and takes time.
#[derive(Clone, Debug)]
pub struct Station {
    pub name: String,
    pub discipline: Discipline,
    /// Number of servers or cores (ignored for `Delay`).
    pub servers: u32,
}

/// What happens to a request that finds a passive resource busy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaitPolicy {
    /// Most requests allowed to wait; one more is refused at once.
    /// `None`: unbounded. `Some(0)`: a loss system (Erlang B).
    pub max_waiting: Option<u32>,
    /// Longest wait before the request fails with a timeout error.
    pub timeout_ns: Option<u64>,
}

/// A passive resource: held while other work happens (a worker, a connection).
#[derive(Clone, Debug)]
pub struct Resource {
    pub name: String,
    pub capacity: u32,
    pub policy: WaitPolicy,
}

/// One step of a request plan.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Take one unit of a passive resource, waiting by its policy.
    Acquire(ResourceId),
    /// Give one unit back.
    Release(ResourceId),
    /// Receive service at an active station.
    Use { station: StationId, demand: Dist },
    /// Pure delay outside any station (think of a client-side pause).
    Delay(Dist),
    /// With probability `p` jump to step `to` (an index within the plan),
    /// otherwise fall through.
    Branch { p: f64, to: u32 },
    // --- Scaling tier: replicas, caches, shards (engine/switch.rs, replay.rs, cache.rs).
    /// Choose one of `n` targets: the next `n` steps are jumps
    /// (`Branch { p: 1.0, .. }`), one per target; the request continues at the
    /// chosen one. Routes a read to a replica or a request to its shard.
    Switch { by: SwitchBy, n: u32 },
    /// The write just committed on a primary is shipped to replica group
    /// `group` and queued there for replay costing `replay`. Background work:
    /// the request does not wait for it and it is not a request.
    Ship { group: u32, replay: Dist },
    /// A read about to run on a replica of `group`: it is stale if this user
    /// wrote the same key and the replicas have not replayed that write yet.
    ReplicaRead { group: u32 },
    /// Look the request's key up in cache `cache`; on a hit jump to step
    /// `hit_to` (plan-relative, forward), on a miss fall through.
    CacheLookup { cache: u32, hit_to: u32 },
    /// Store the request's key in cache `cache` (after a miss was served).
    CacheFill { cache: u32 },
    /// Delete the request's key from cache `cache` (a write invalidates it).
    CacheInvalidate { cache: u32 },
}

/// How a [`Step::Switch`] chooses its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwitchBy {
    /// By a fixed hash of the request's key: the same key always goes to the
    /// same target (hash sharding).
    KeyHash,
    /// In turn, with round-robin counter `counter` of the run (reads spread
    /// over replicas).
    RoundRobin { counter: u32 },
}

/// What a cache keeps and for how long.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CachePolicy {
    /// Every lookup hits with probability `hit_ratio`, whatever the key
    /// (the guides' "80% cache hits").
    Fixed { hit_ratio: f64 },
    /// Keys cached on a miss, evicted least-recently-used beyond `capacity`
    /// entries, expired `ttl_ns` after they were stored. Needs a key space.
    Lru { capacity: u32, ttl_ns: Option<u64> },
}

/// One cache instance (a Redis server, or one app host's local cache).
#[derive(Clone, Debug)]
pub struct CacheSpec {
    pub name: String,
    pub policy: CachePolicy,
}

/// Replicas that replay one primary's writes. Replicas of a group receive
/// the same WAL and replay it at the same cost, so they share one replay position.
#[derive(Clone, Debug)]
pub struct ReplicaGroup {
    pub name: String,
    /// Time from a commit on the primary until the replicas receive it.
    pub ship_delay_ns: u64,
}

/// The scaling tier's run-time state a model needs: caches, replica groups,
/// round-robin counters. Empty for a single database.
#[derive(Clone, Debug, Default)]
pub struct Scaling {
    pub caches: Vec<CacheSpec>,
    pub replica_groups: Vec<ReplicaGroup>,
    pub counters: u32,
}

/// A named request type of the workload with its share of requests.
#[derive(Clone, Debug)]
pub struct RequestType {
    pub name: String,
    /// Probability that a new request is of this type.
    pub weight: f64,
    /// Alternative plans (for example one per app host); consecutive requests
    /// of this type take them in round-robin order, like a load balancer.
    pub plans: Vec<Plan>,
}

/// A contiguous range of [`Model::steps`].
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub first: u32,
    pub len: u32,
}

/// Where requests come from.
#[derive(Clone, Copy, Debug)]
pub enum Population {
    /// N users, each thinking for `think` between a response and its next request.
    Closed { think: Dist },
    /// Poisson arrivals at a fixed rate, independent of the system (validation).
    Open { rate_per_s: f64 },
}

/// The rows (or cache keys) requests touch, and how popular each is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    /// Number of distinct keys.
    pub count: u32,
    /// Zipf exponent: key of rank k is drawn with probability ∝ 1/k^s
    /// (0 = uniform). Key 0 is the most popular.
    pub zipf: f64,
}

/// An immutable compiled phase, shared by every run of that phase.
#[derive(Clone, Debug)]
pub struct Model {
    pub stations: Vec<Station>,
    pub resources: Vec<Resource>,
    pub steps: Vec<Step>,
    pub request_types: Vec<RequestType>,
    pub population: Population,
    /// Key popularity; every request draws one key when it starts.
    pub keys: Option<KeySpace>,
    /// Caches, replica groups and routing counters the plans refer to.
    pub scaling: Scaling,
}

impl Model {
    /// Steps of a plan.
    pub fn plan_steps(&self, plan: Plan) -> &[Step] {
        &self.steps[plan.first as usize..(plan.first + plan.len) as usize]
    }

    /// Mean service demand per request at each station (D_k = V_k · S_k),
    /// averaged over request types and their plan variants, in seconds.
    ///
    /// Branches are followed with their probabilities; plans are acyclic
    /// (branches only jump forward, checked by `validate`).
    pub fn station_demands_s(&self) -> Vec<f64> {
        let mut d = vec![0.0; self.stations.len()];
        for rt in &self.request_types {
            let share = rt.weight / rt.plans.len() as f64;
            for &plan in &rt.plans {
                let steps = self.plan_steps(plan);
                // Probability of reaching each step.
                let mut reach = vec![0.0; steps.len() + 1];
                reach[0] = 1.0;
                for (i, step) in steps.iter().enumerate() {
                    let r = reach[i];
                    match *step {
                        Step::Branch { p, to } => {
                            reach[to as usize] += r * p;
                            reach[i + 1] += r * (1.0 - p);
                        }
                        Step::Use { station, demand } => {
                            d[station as usize] += share * r * demand.mean_ns() / 1e9;
                            reach[i + 1] += r;
                        }
                        // Targets of a switch are taken evenly (exact for round
                        // robin, the mean over keys for uniform keys).
                        Step::Switch { n, .. } => {
                            for k in 1..=n as usize {
                                reach[(i + k).min(steps.len())] += r / n as f64;
                            }
                        }
                        Step::CacheLookup { cache, hit_to } => {
                            // An emergent hit ratio is unknown before the run:
                            // count every lookup as a miss (an upper bound).
                            let hit = match self.scaling.caches.get(cache as usize) {
                                Some(CacheSpec {
                                    policy: CachePolicy::Fixed { hit_ratio },
                                    ..
                                }) => *hit_ratio,
                                _ => 0.0,
                            };
                            reach[(hit_to as usize).min(steps.len())] += r * hit;
                            reach[i + 1] += r * (1.0 - hit);
                        }
                        _ => reach[i + 1] += r,
                    }
                }
            }
        }
        d
    }

    /// Check the structural rules the engine relies on. Compilers produce
    /// valid models; this guards hand-written networks and future compilers.
    pub fn validate(&self) -> Result<(), String> {
        if self.resources.len() > MAX_RESOURCES {
            return Err(format!(
                "{} passive resources; at most {MAX_RESOURCES} are supported",
                self.resources.len()
            ));
        }
        if self.request_types.is_empty() {
            return Err("no request types".into());
        }
        for s in &self.stations {
            if s.discipline != Discipline::Delay && s.servers == 0 {
                return Err(format!("station `{}` has no servers", s.name));
            }
        }
        for r in &self.resources {
            if r.capacity == 0 {
                return Err(format!("resource `{}` has capacity 0", r.name));
            }
        }
        for rt in &self.request_types {
            if rt.plans.is_empty() {
                return Err(format!("request type `{}` has no plan", rt.name));
            }
            for &plan in &rt.plans {
                // The sets of resources a request may hold on reaching each
                // step, over every branch path (branches only jump forward, so
                // one pass in step order sees every path).
                let steps = self.plan_steps(plan);
                let mut reaching: Vec<Vec<u64>> = vec![Vec::new(); steps.len() + 1];
                reaching[0].push(0);
                for (i, step) in steps.iter().enumerate() {
                    let here = std::mem::take(&mut reaching[i]);
                    let mut next = Vec::with_capacity(here.len());
                    let mut jump = None;
                    match *step {
                        Step::Acquire(r) if (r as usize) < self.resources.len() => {
                            if here.iter().any(|h| h & (1 << r) != 0) {
                                // Waiting for a unit it holds itself: a deadlock.
                                return Err(format!(
                                    "request `{}` may acquire `{}` twice",
                                    rt.name, self.resources[r as usize].name
                                ));
                            }
                            next.extend(here.iter().map(|h| h | (1 << r)));
                        }
                        Step::Release(r) if (r as usize) < self.resources.len() => {
                            next.extend(here.iter().map(|h| h & !(1 << r)));
                        }
                        Step::Branch { to, .. } if to as usize > i && to <= plan.len => {
                            next.extend_from_slice(&here);
                            jump = Some(to as usize);
                        }
                        _ => next.extend_from_slice(&here),
                    }
                    for (target, masks) in [(Some(i + 1), next.clone()), (jump, next)] {
                        if let Some(t) = target {
                            for m in masks {
                                if !reaching[t].contains(&m) {
                                    reaching[t].push(m);
                                }
                            }
                        }
                    }
                    reaching[i] = here;
                }
                for (i, step) in steps.iter().enumerate() {
                    match *step {
                        Step::Acquire(r) | Step::Release(r)
                            if (r as usize) < self.resources.len() => {}
                        Step::Use { station, .. } if (station as usize) < self.stations.len() => {}
                        Step::Branch { p, to } => {
                            if !(0.0..=1.0).contains(&p) || to as usize <= i || to > plan.len {
                                return Err(format!(
                                    "request `{}` has a branch at step {i} that does not jump forward within its plan",
                                    rt.name
                                ));
                            }
                        }
                        Step::Delay(_) => {}
                        Step::Switch { n, .. } => {
                            let targets = self.plan_steps(plan).get(i + 1..=i + n as usize);
                            let all_jumps = targets.is_some_and(|t| {
                                t.iter().all(|s| matches!(s, Step::Branch { p, .. } if *p >= 1.0))
                            });
                            if n == 0 || !all_jumps {
                                return Err(format!(
                                    "request `{}` has a switch at step {i} not followed by {n} jumps",
                                    rt.name
                                ));
                            }
                        }
                        Step::Ship { group, .. } | Step::ReplicaRead { group }
                            if (group as usize) < self.scaling.replica_groups.len() => {}
                        Step::CacheLookup { cache, hit_to }
                            if (cache as usize) < self.scaling.caches.len() =>
                        {
                            if hit_to as usize <= i || hit_to > plan.len {
                                return Err(format!(
                                    "request `{}` has a cache lookup at step {i} whose hit does not jump forward within its plan",
                                    rt.name
                                ));
                            }
                        }
                        Step::CacheFill { cache } | Step::CacheInvalidate { cache }
                            if (cache as usize) < self.scaling.caches.len() => {}
                        _ => {
                            return Err(format!(
                                "request `{}` names a station, resource, cache or replica group that does not exist",
                                rt.name
                            ))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_plan(steps: Vec<Step>) -> Model {
        let len = steps.len() as u32;
        Model {
            stations: vec![],
            resources: vec![Resource {
                name: "lock".into(),
                capacity: 1,
                policy: WaitPolicy {
                    max_waiting: None,
                    timeout_ns: None,
                },
            }],
            steps,
            request_types: vec![RequestType {
                name: "r".into(),
                weight: 1.0,
                plans: vec![Plan { first: 0, len }],
            }],
            population: Population::Open { rate_per_s: 1.0 },
            keys: None,
            scaling: Scaling::default(),
        }
    }

    #[test]
    fn a_branch_that_leads_to_a_second_acquire_is_rejected() {
        // acquire; with p jump over the release; acquire again → deadlock on that path.
        let m = one_plan(vec![
            Step::Acquire(0),
            Step::Branch { p: 0.5, to: 3 },
            Step::Release(0),
            Step::Acquire(0),
        ]);
        assert!(m
            .validate()
            .unwrap_err()
            .contains("may acquire `lock` twice"));
        // Without the branch every path releases first: valid.
        let ok = one_plan(vec![Step::Acquire(0), Step::Release(0), Step::Acquire(0)]);
        assert_eq!(ok.validate(), Ok(()));
    }
}
