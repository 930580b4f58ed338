//! capsim: a discrete-event capacity simulator that shows the arithmetic
//! behind scalability guides.
//!
//! Data flows one way: [`scenario`] files are parsed and validated, each phase
//! is compiled by [`arch`] into an immutable [`model::Model`], the [`sweep`] runs
//! (phase × users × replication) in parallel through the [`engine`], and
//! [`report`] writes what was measured.

pub mod analytic;
pub mod arch;
pub mod capacity;
pub mod cost;
pub mod dist;
pub mod engine;
pub mod estimate;
pub mod model;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sensitivity;
pub mod stats;
pub mod sweep;
pub mod verdict;
