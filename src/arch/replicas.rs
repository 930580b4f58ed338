//! Read replicas: reads spread round-robin over them; every write committed on
//! the primary is shipped to them and replayed serially in the background.

use super::builder::ModelBuilder;
use super::database::{DbInstance, DbSite};
use super::routing::{net, switch, Net};
use crate::defaults;
use crate::dist::{Dist, NS_PER_MS};
use crate::model::{ReplicaGroup, Step, SwitchBy};
use crate::scenario::{Database, Replicas, RequestSpec};

/// The replicas of one primary.
pub(super) struct ReplicaSet {
    group: u32,
    counter: u32,
    dbs: Vec<DbInstance>,
    replay: Option<Dist>,
}

impl ReplicaSet {
    /// Replicas of the primary named `name`, each with its own cores.
    pub(super) fn build(
        b: &mut ModelBuilder,
        primary: &Database,
        r: &Replicas,
        name: &str,
        site: &DbSite,
    ) -> Self {
        let mut spec = *primary;
        if let Some(c) = r.cores {
            spec.cores = c;
        }
        let ship_ms = r.ship_delay_ms.unwrap_or(defaults::REPLICA_SHIP_DELAY_MS);
        ReplicaSet {
            group: b.replica_group(ReplicaGroup {
                name: format!("{name}.replicas"),
                ship_delay_ns: (ship_ms * NS_PER_MS) as u64,
            }),
            counter: b.counter(),
            dbs: (0..r.count)
                .map(|k| DbInstance::build(b, &spec, &format!("{name}.replica{k}"), site))
                .collect(),
            replay: r.replay,
        }
    }

    /// A read served by the next replica in turn.
    pub(super) fn read(
        &self,
        b: &mut ModelBuilder,
        req: &RequestSpec,
        demand: Dist,
        host: u32,
        n: Net,
    ) {
        let by = SwitchBy::RoundRobin {
            counter: self.counter,
        };
        switch(b, by, self.dbs.len() as u32, |b, k| {
            net(b, n);
            b.step(Step::ReplicaRead { group: self.group });
            self.dbs[k as usize].call(b, req, demand, host, n);
        });
    }

    /// After a write committed on the primary: ship it for replay.
    pub(super) fn ship(&self, b: &mut ModelBuilder, demand: Dist) {
        b.step(Step::Ship {
            group: self.group,
            replay: self
                .replay
                .unwrap_or_else(|| demand.scaled(defaults::REPLAY_FRACTION_OF_WRITE)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_a_distribution_scales_its_mean_and_keeps_its_cv() {
        for d in [
            Dist::Constant { ns: 4e6 },
            Dist::Exponential { mean_ns: 4e6 },
            Dist::lognormal(4e6, 1.5),
            Dist::gamma(4e6, 0.5),
            Dist::Uniform {
                lo_ns: 2e6,
                hi_ns: 6e6,
            },
        ] {
            let s = d.scaled(0.25);
            assert!((s.mean_ns() - 1e6).abs() < 1e-3, "{d:?}");
            assert!((s.cv() - d.cv()).abs() < 1e-9, "{d:?}");
        }
    }
}
