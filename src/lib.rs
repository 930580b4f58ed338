//! capsim: a discrete-event capacity simulator that shows the arithmetic
//! behind scalability guides.
//!
//! Data flows one way: [`scenario`] files are parsed and validated, each phase
//! is compiled by [`arch`] into an immutable [`model::Model`], the [`sweep`] runs
//! (phase × users × replication) in parallel through the [`engine`], and
//! [`report`] writes what was measured.
//!
//! ```
//! use capsim::engine::{self, RunConfig};
//! use std::path::Path;
//!
//! // An M/M/1 queue at utilisation 0.5: the mean response is S/(1-ρ) = 20 ms.
//! let toml = r#"
//!     [workload]
//!     arrival_rate_per_s = 50
//!     [[workload.request]]
//!     name = "job"
//!     weight = 1.0
//!     [[phase]]
//!     name = "M/M/1"
//!     [[phase.station]]
//!     name = "server"
//!     discipline = "fcfs"
//!     servers = 1
//!     [phase.plan]
//!     job = [{ use = "server", demand = { dist = "exponential", mean_ms = 10 } }]
//! "#;
//! let sc = capsim::scenario::parse(Path::new("mm1.toml"), toml).unwrap();
//! let model = capsim::arch::compile(&sc.workload, &sc.phases[0]);
//! let stats = engine::run(&model, &RunConfig::new(0, 7));
//! assert!((stats.mean_response_ms() - 20.0).abs() < 1.0);
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod analytic;
pub mod arch;
pub mod calibrate;
pub mod defaults;
pub mod dist;
pub mod engine;
pub mod key_popularity;
pub mod model;
pub mod outcome;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod sweep;
