//! Architectures: turn one phase of a scenario into a [`Model`] the engine
//! can run.
//!
//! Each architecture is a small compiler onto the same vocabulary of stations,
//! passive resources and plans; [`ModelBuilder`] assembles them.

mod app;
mod builder;
mod cache;
mod database;
mod pooler;
mod postgres;
mod replicas;
mod routing;
mod shards;
mod sqlite;

use crate::dist::{Dist, NS_PER_MS};
use crate::model::{Discipline, Model, RequestType, Step};
use crate::scenario::{Architecture, NetworkSpec, Phase, RequestKind, Tiers, Workload};
use app::AppHost;
pub use builder::ModelBuilder;
use cache::CacheTier;
use database::DbSite;
use pooler::PoolerInstance;
use routing::Net;
use shards::DataTier;

/// Compile `phase` for `workload`, checking the model against the rules and
/// limits the engine relies on (in every build: past a limit the engine's
/// per-request sets could not hold what a request holds).
pub fn try_compile(workload: &Workload, phase: &Phase) -> Result<Model, CompileError> {
    let model = match &phase.architecture {
        Architecture::Network(n) => compile_network(workload, n),
        Architecture::Tiers(t) => tiers(workload, t),
    };
    model.validate().map_err(|reason| CompileError {
        phase: phase.name.clone(),
        reason,
    })?;
    Ok(model)
}

/// A phase whose compiled model breaks a rule of the engine.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("phase `{phase}` cannot be simulated: {reason}")]
pub struct CompileError {
    /// The phase's name.
    pub phase: String,
    /// The rule it breaks.
    pub reason: crate::model::ModelError,
}

/// [`try_compile`] for phases known to compile (tests, benches, and phases
/// a sweep plan has already compiled); panics with the reason otherwise.
pub fn compile(workload: &Workload, phase: &Phase) -> Model {
    try_compile(workload, phase).unwrap_or_else(|e| panic!("{e}"))
}

/// A hand-built network, as written in the scenario.
pub fn compile_network(w: &Workload, n: &NetworkSpec) -> Model {
    Model::network(
        n.stations.clone(),
        n.resources.clone(),
        &n.plans,
        w.requests.iter().map(|r| (r.name.clone(), r.weight)),
        w.population,
        w.keys,
    )
}

/// App hosts in front of an optional data tier (a primary, or shards, each
/// with optional read replicas), with an optional cache in between.
///
/// A load balancer spreads requests round-robin over the hosts (and, for async
/// servers, over each host's event loops): each request type gets one plan per
/// (loop, host) and takes them in turn. A cacheable read looks its key up
/// first and skips the database on a hit; a miss reads the database and fills
/// the cache; a write invalidates its key.
fn tiers(w: &Workload, t: &Tiers) -> Model {
    let mut b = ModelBuilder::default();
    let hosts: Vec<AppHost> = (0..t.app.hosts)
        .map(|h| AppHost::build(&mut b, &t.app, h))
        .collect();
    let pooler = t.pooler.map(|p| PoolerInstance::build(&mut b, &p));
    let site = DbSite {
        // SQLite runs in the app process; the loader allows it on one host only.
        app_cpu: hosts[0].cpus[0],
        pooler: pooler.as_ref(),
        keyed: w.keys.is_some(),
        app_hosts: t.app.hosts,
    };
    let data = t
        .database
        .as_ref()
        .map(|spec| DataTier::build(&mut b, spec, t.replicas.as_ref(), t.shards.as_ref(), &site));
    let cache = t
        .cache
        .as_ref()
        .map(|c| CacheTier::build(&mut b, c, t.app.hosts, w.keys));
    let net: Net = (t.rtt_ms > 0.0).then(|| {
        (
            b.station("network", Discipline::Delay, 0),
            Dist::Constant {
                ns: t.rtt_ms * NS_PER_MS,
            },
        )
    });
    // Load-balancer order: every host's first CPU, then every host's second…
    let loops = hosts.iter().map(|h| h.cpus.len()).max().unwrap_or(1);
    let mut request_types = Vec::new();
    for (ri, r) in w.requests.iter().enumerate() {
        let mut plans = Vec::new();
        for l in 0..loops {
            for (h, host) in hosts.iter().enumerate() {
                let Some(&cpu) = host.cpus.get(l) else {
                    continue;
                };
                b.begin_plan();
                if let Some(held) = host.held {
                    b.step(Step::Acquire(held));
                }
                // A request that uses the database connects first (a pooler
                // client connection; a session-mode server connection).
                let session = r.db.and(data.as_ref());
                if let Some(data) = session {
                    data.session_begin(&mut b);
                }
                if let Some(demand) = r.app_cpu {
                    b.step(Step::Use {
                        station: cpu,
                        demand,
                    });
                }
                if let (Some(demand), Some(data)) = (r.db, &data) {
                    let h = h as u32;
                    let cached = cache.as_ref().filter(|_| r.cacheable);
                    let lookup = cached.map(|c| c.lookup(&mut b, h, cpu));
                    data.call(&mut b, ri, r, demand, h, net);
                    if let Some(c) = cached {
                        c.fill(&mut b, h, cpu);
                    }
                    if let Some(c) = &cache {
                        if r.kind == RequestKind::Write && c.invalidate_on_write {
                            c.invalidate(&mut b, h, cpu);
                        }
                    }
                    if let Some(at) = lookup {
                        let end = b.here();
                        b.patch_lookup(at, end);
                    }
                }
                if let Some(data) = session {
                    data.session_end(&mut b);
                }
                if let Some(held) = host.held {
                    b.step(Step::Release(held));
                }
                plans.push(b.end_plan());
            }
        }
        request_types.push(RequestType {
            name: r.name.clone(),
            weight: r.weight,
            plans,
        });
    }
    b.finish(request_types, w.population, w.keys)
}
