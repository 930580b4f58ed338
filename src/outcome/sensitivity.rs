//! How much each workload assumption moves a phase's capacity.
//!
//! From the simulated capacity N (users meeting the SLO) and the asymptotic
//! law of closed systems: near capacity the bottleneck runs at its maximum
//! throughput X_max, and users each send one request per Z + R seconds, so
//! N ∝ X_max · (Z + R). Changing a parameter changes X_max (recomputed from
//! the recompiled model's bounds) or Z, and the capacity with them:
//! N' ≈ N · (X'_max / X_max) · (Z' + R) / (Z + R). It is an extrapolation
//! that assumes the SLO binds near saturation, as it does in every guide
//! scenario; it ranks the assumptions, it does not replace a rerun.

use crate::analytic::Analytic;
use crate::arch::compile;
use crate::model::Population;
use crate::scenario::{RequestKind, Scenario, Workload};
use crate::sweep::{Capacity, CapacityStatus};

/// The assumptions varied, in the words of the report.
pub const PARAMETERS: [&str; 4] = [
    "think time",
    "app CPU per request",
    "database time per request",
    "share of writes",
];

/// The factors each assumption is multiplied by.
pub const FACTORS: [f64; 2] = [0.5, 2.0];

/// One phase's capacity extrapolated with one assumption multiplied by one
/// factor.
#[derive(Clone, Debug)]
pub struct Sensitivity {
    /// Index into `Scenario::phases`.
    pub phase: usize,
    /// The assumption varied, one of [`PARAMETERS`].
    pub parameter: &'static str,
    /// What it was multiplied by, one of [`FACTORS`].
    pub factor: f64,
    /// Estimated capacity with the parameter changed, in users.
    pub capacity_users: f64,
    /// Relative change from the simulated capacity.
    pub change: f64,
}

/// Every phase with a found capacity × every parameter × every factor.
pub fn of(sc: &Scenario, capacity: &[Capacity], analytic: &[Analytic]) -> Vec<Sensitivity> {
    let Population::Closed { think } = sc.workload.population else {
        return Vec::new();
    };
    let z = think.mean_ns() / 1e9;
    let mut out = Vec::new();
    for cap in capacity {
        if !matches!(
            cap.status,
            CapacityStatus::Found | CapacityStatus::Bracketed
        ) || cap.users == 0
        {
            continue;
        }
        let phase = &sc.phases[cap.phase];
        let x = analytic[cap.phase].max_throughput_rps();
        let r = cap
            .at
            .as_ref()
            .map(|p| p.mean_ms.mean / 1e3)
            .filter(|r| r.is_finite())
            .unwrap_or(0.0);
        for (k, &parameter) in PARAMETERS.iter().enumerate() {
            for &f in &FACTORS {
                let (x2, z2) = if k == 0 {
                    (x, z * f)
                } else {
                    let w = varied(&sc.workload, k, f);
                    (Analytic::of(&compile(&w, phase)).max_throughput_rps(), z)
                };
                let ratio = if x.is_finite() && x2.is_finite() {
                    x2 / x
                } else {
                    1.0
                };
                let n2 = cap.users as f64 * ratio * (z2 + r) / (z + r);
                out.push(Sensitivity {
                    phase: cap.phase,
                    parameter,
                    factor: f,
                    capacity_users: n2,
                    change: n2 / cap.users as f64 - 1.0,
                });
            }
        }
    }
    out
}

/// The workload with parameter `k` of [`PARAMETERS`] multiplied by `f`.
fn varied(w: &Workload, k: usize, f: f64) -> Workload {
    let mut w = w.clone();
    match k {
        1 => w
            .requests
            .iter_mut()
            .for_each(|r| r.app_cpu = r.app_cpu.map(|d| d.scaled(f))),
        2 => w
            .requests
            .iter_mut()
            .for_each(|r| r.db = r.db.map(|d| d.scaled(f))),
        _ => {
            // Scale the writes' share, then renormalise.
            let writes: f64 = w
                .requests
                .iter()
                .filter(|r| r.kind == RequestKind::Write)
                .map(|r| r.weight)
                .sum();
            if writes > 0.0 && writes < 1.0 {
                let new_writes = (writes * f).min(0.99);
                for r in &mut w.requests {
                    r.weight *= if r.kind == RequestKind::Write {
                        new_writes / writes
                    } else {
                        (1.0 - new_writes) / (1.0 - writes)
                    };
                }
            }
        }
    }
    w
}
