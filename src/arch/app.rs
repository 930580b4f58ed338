//! The app tier: one host's CPU and what a request holds while it is served.

use super::builder::ModelBuilder;
use crate::dist::NS_PER_S;
use crate::model::{Discipline, ResourceId, StationId, WaitPolicy};
use crate::scenario::{AppTier, WorkerKind};

/// One app host.
///
/// - Sync (Gunicorn sync workers): the cores are one processor-sharing
///   station, as the OS shares them among worker processes (or, with
///   `app.quantum_ms`, a time-sliced one); a request holds a
///   worker for its whole life, database calls included, so workers — not
///   cores — usually run out first.
/// - Async (uvicorn-style event loops, one per core): each loop runs one
///   handler's CPU work at a time (an FCFS single server: a slow handler
///   blocks every request on its loop), while a request waiting on the
///   database holds only a slot of the host's concurrency limit, if any.
pub(super) struct AppHost {
    /// Held for the whole request: a sync worker or an async concurrency slot.
    pub held: Option<ResourceId>,
    /// Where the request's app CPU is spent: the host's cores (sync), or one
    /// station per event loop (async); the load balancer picks among them.
    pub cpus: Vec<StationId>,
}

impl AppHost {
    pub(super) fn build(b: &mut ModelBuilder, app: &AppTier, h: u32) -> Self {
        let policy = |max_waiting| WaitPolicy {
            max_waiting,
            timeout_ns: app.timeout_s.map(|s| (s * NS_PER_S) as u64),
        };
        match app.worker {
            WorkerKind::Sync => AppHost {
                cpus: vec![b.station(
                    format!("app{h}.cpu"),
                    match app.time_slice {
                        None => Discipline::ProcessorSharing,
                        Some(t) => Discipline::TimeSliced {
                            quantum_ns: t.quantum_ns,
                            switch_ns: t.switch_ns,
                        },
                    },
                    app.cores_per_host,
                )],
                held: Some(b.resource(
                    format!("app{h}.workers"),
                    app.workers_per_host,
                    policy(app.backlog),
                )),
            },
            WorkerKind::Async => AppHost {
                cpus: (0..app.workers_per_host)
                    .map(|l| b.station(format!("app{h}.loop{l}"), Discipline::Fcfs, 1))
                    .collect(),
                // Past the limit an async server answers 503 at once (uvicorn's
                // --limit-concurrency) unless a backlog is given.
                held: app.concurrency.map(|c| {
                    b.resource(
                        format!("app{h}.concurrency"),
                        c,
                        policy(Some(app.backlog.unwrap_or(0))),
                    )
                }),
            },
        }
    }
}
