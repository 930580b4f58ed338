//! A database instance and the steps of one transaction against it.

use super::builder::ModelBuilder;
use crate::dist::Dist;
use crate::model::{Discipline, StationId, Step};
use crate::scenario::{Database, RequestSpec};

/// One database server (a primary, a replica or a shard) in a compiled model.
pub struct DbInstance {
    cpu: StationId,
}

impl DbInstance {
    /// Add the stations and resources of one database server named `name`.
    pub fn build(b: &mut ModelBuilder, spec: &Database, name: &str) -> Self {
        DbInstance {
            cpu: b.station(
                format!("{name}.cpu"),
                Discipline::ProcessorSharing,
                spec.cores,
            ),
        }
    }

    /// Steps of one transaction of request `req` with service demand `demand`.
    pub fn call(&self, b: &mut ModelBuilder, _req: &RequestSpec, demand: Dist) {
        b.step(Step::Use {
            station: self.cpu,
            demand,
        });
    }
}
