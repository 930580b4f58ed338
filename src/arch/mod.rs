//! Architectures: turn one phase of a scenario into a [`Model`] the engine
//! can run.
//!
//! Each architecture is a small compiler onto the same vocabulary of stations,
//! passive resources and plans; [`ModelBuilder`] assembles them.

mod app;
mod builder;
mod database;
pub mod defaults;
mod pooler;
mod postgres;
mod sqlite;

use crate::dist::{Dist, NS_PER_MS};
use crate::model::{Discipline, Model, Plan, RequestType, Step};
use crate::scenario::{Architecture, NetworkSpec, Phase, Tiers, Workload};
use app::AppHost;
pub use builder::ModelBuilder;
use database::{DbInstance, DbSite};
use pooler::PoolerInstance;

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
        db: Default::default(),
    }
}

/// App hosts, each with its CPU cores and a pool of synchronous workers held
/// for the whole request, in front of an optional database.
///
/// A load balancer spreads requests round-robin over the hosts: each request
/// type gets one plan per host and takes them in turn.
fn tiers(w: &Workload, t: &Tiers) -> Model {
    let mut b = ModelBuilder::default();
    let hosts: Vec<AppHost> = (0..t.app.hosts)
        .map(|h| AppHost::build(&mut b, &t.app, h))
        .collect();
    let pooler = t.pooler.map(|p| PoolerInstance::build(&mut b, &p));
    let site = DbSite {
        app_cpu: hosts[0].cpu,
        pooler: pooler.as_ref(),
        keyed: w.keys.is_some(),
    };
    let db = t
        .database
        .map(|spec| DbInstance::build(&mut b, &spec, "db", &site));
    let net = (t.rtt_ms > 0.0).then(|| b.station("network", Discipline::Delay, 0));

    let mut request_types = Vec::new();
    for r in &w.requests {
        let mut plans = Vec::new();
        for host in &hosts {
            b.begin_plan();
            b.step(Step::Acquire(host.workers));
            let session = r.db.and(db.as_ref());
            if let Some(db) = session {
                db.session_begin(&mut b);
            }
            if let Some(cpu) = r.app_cpu {
                b.step(Step::Use {
                    station: host.cpu,
                    demand: cpu,
                });
            }
            if let (Some(demand), Some(db)) = (r.db, &db) {
                if let Some(net) = net.filter(|_| !db.in_process()) {
                    b.step(Step::Use {
                        station: net,
                        demand: Dist::Constant {
                            ns: t.rtt_ms * NS_PER_MS,
                        },
                    });
                }
                db.call(&mut b, r, demand);
            }
            if let Some(db) = session {
                db.session_end(&mut b);
            }
            b.step(Step::Release(host.workers));
            plans.push(b.end_plan());
        }
        request_types.push(RequestType {
            name: r.name.clone(),
            weight: r.weight,
            plans,
        });
    }
    b.finish(request_types, w.population, w.keys)
}
