//! The app tier: one host's CPU cores and its pool of request workers.

use super::builder::ModelBuilder;
use crate::dist::NS_PER_S;
use crate::model::{Discipline, ResourceId, StationId, WaitPolicy};
use crate::scenario::AppTier;

/// One app host: its cores (processor sharing, as the OS shares them) and its
/// synchronous workers (a Gunicorn sync worker is held for the whole request,
/// database calls included).
pub struct AppHost {
    pub cpu: StationId,
    pub workers: ResourceId,
}

impl AppHost {
    pub fn build(b: &mut ModelBuilder, app: &AppTier, h: u32) -> Self {
        AppHost {
            cpu: b.station(
                format!("app{h}.cpu"),
                Discipline::ProcessorSharing,
                app.cores_per_host,
            ),
            workers: b.resource(
                format!("app{h}.workers"),
                app.workers_per_host,
                WaitPolicy {
                    max_waiting: app.backlog,
                    timeout_ns: app.timeout_s.map(|s| (s * NS_PER_S) as u64),
                },
            ),
        }
    }
}
