//! capsim's integration tests, as one binary: one link instead of sixteen,
//! and the helpers they share in one place ([`helpers`]). Run one module
//! with `cargo test --test it <module>::`, e.g. `cargo test --test it validation::`.
//!
//! report.md and the summary line are pinned by insta snapshots in
//! `snapshots/`. When one changes on purpose, the failing test leaves the new
//! text beside it (`*.snap.new`): review it, then accept it with
//! `cargo insta accept` (or rerun with `INSTA_UPDATE=always`) and commit it.

mod helpers;

mod architectures_db;
mod architectures_scale;
mod bad_scenarios;
mod calibrate_base;
mod calibrate_cli;
mod calibrate_formats;
mod calibrate_real;
mod calibrate_round_trip;
mod claims;
mod cli;
mod engine_limits;
mod fidelity_predictions;
mod fidelity_request_types;
mod fidelity_shapes;
mod fidelity_sqlite_rollback;
mod fuzz;
mod guides;
mod hostile;
mod interrupt;
mod invariants;
mod kill;
mod layering;
mod measured_architectures;
mod output_folders;
mod overload;
mod planning_documents;
mod planning_outputs;
mod readme;
mod scale_examples;
mod shards;
mod sweep;
mod uncertainty;
mod validation;
mod what_if;
