//! Turn one phase of a scenario into a [`Model`] the engine can run.
//!
//! Each architecture is a small compiler onto the same vocabulary of stations,
//! passive resources and plans.

use crate::dist::{Dist, NS_PER_MS, NS_PER_S};
use crate::model::{Discipline, Model, Plan, RequestType, Resource, Station, Step, WaitPolicy};
use crate::scenario::{Architecture, NetworkSpec, Phase, Tiers, Workload};

/// Compile `phase` for `workload`.
pub fn compile(workload: &Workload, phase: &Phase) -> Model {
    let model = match &phase.architecture {
        Architecture::Network(n) => network(workload, n),
        Architecture::Tiers(t) => tiers(workload, t),
    };
    debug_assert_eq!(model.validate(), Ok(()));
    model
}

fn network(w: &Workload, n: &NetworkSpec) -> Model {
    let mut steps = Vec::new();
    let request_types = w
        .requests
        .iter()
        .zip(&n.plans)
        .map(|(r, plan)| {
            let first = steps.len() as u32;
            steps.extend_from_slice(plan);
            RequestType {
                name: r.name.clone(),
                weight: r.weight,
                plans: vec![Plan {
                    first,
                    len: plan.len() as u32,
                }],
            }
        })
        .collect();
    Model {
        stations: n.stations.clone(),
        resources: n.resources.clone(),
        steps,
        request_types,
        population: w.population,
        keys: w.keys,
    }
}

/// App hosts, each with its CPU cores and a pool of synchronous workers held
/// for the whole request, in front of an optional database.
///
/// A load balancer spreads requests round-robin over the hosts: each request
/// type gets one plan per host and takes them in turn.
fn tiers(w: &Workload, t: &Tiers) -> Model {
    let app = t.app;
    let mut stations = Vec::new();
    let mut resources = Vec::new();
    let mut host_cpu = Vec::new();
    let mut host_workers = Vec::new();
    for h in 0..app.hosts {
        host_cpu.push(stations.len() as u32);
        stations.push(Station {
            name: format!("app{h}.cpu"),
            discipline: Discipline::ProcessorSharing,
            servers: app.cores_per_host,
        });
        host_workers.push(resources.len() as u32);
        resources.push(Resource {
            name: format!("app{h}.workers"),
            capacity: app.workers_per_host,
            policy: WaitPolicy {
                max_waiting: app.backlog,
                timeout_ns: app.timeout_s.map(|s| (s * NS_PER_S) as u64),
            },
        });
    }
    let db = t.database.map(|db| {
        stations.push(Station {
            name: "db.cpu".into(),
            discipline: Discipline::ProcessorSharing,
            servers: db.cores,
        });
        (stations.len() - 1) as u32
    });
    let net = (t.rtt_ms > 0.0).then(|| {
        stations.push(Station {
            name: "network".into(),
            discipline: Discipline::Delay,
            servers: 0,
        });
        (stations.len() - 1) as u32
    });

    let mut steps = Vec::new();
    let mut request_types = Vec::new();
    for r in &w.requests {
        let mut plans = Vec::new();
        for h in 0..app.hosts as usize {
            let first = steps.len() as u32;
            steps.push(Step::Acquire(host_workers[h]));
            if let Some(cpu) = r.app_cpu {
                steps.push(Step::Use {
                    station: host_cpu[h],
                    demand: cpu,
                });
            }
            if let (Some(demand), Some(db)) = (r.db, db) {
                if let Some(net) = net {
                    steps.push(Step::Use {
                        station: net,
                        demand: Dist::Constant {
                            ns: t.rtt_ms * NS_PER_MS,
                        },
                    });
                }
                steps.push(Step::Use {
                    station: db,
                    demand,
                });
            }
            steps.push(Step::Release(host_workers[h]));
            plans.push(Plan {
                first,
                len: steps.len() as u32 - first,
            });
        }
        request_types.push(RequestType {
            name: r.name.clone(),
            weight: r.weight,
            plans,
        });
    }
    Model {
        stations,
        resources,
        steps,
        request_types,
        population: w.population,
        keys: w.keys,
    }
}
