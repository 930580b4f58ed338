//! The bottleneck: the busiest resource group, by mean utilisation.
//!
//! One definition serves every output: the point's bottleneck in sweep.csv,
//! the phase's at capacity and just beyond it in capacity.csv and
//! summary.csv, and report.md's "what to relieve next".

use super::GroupUtilisation;
use crate::stats::Estimate;

/// The busiest resource group of a point and its mean utilisation (0–1).
#[derive(Clone, Debug, PartialEq)]
pub struct Busiest {
    /// The group's name (`app.cpu`, `db.cpu`, …).
    pub name: String,
    /// Its utilisation over the point's replications: the mean, with its
    /// 95% interval.
    pub utilisation: Estimate,
}

/// The group with the highest finite mean utilisation; ties go to the one
/// listed first (model order).
pub fn busiest(groups: &[GroupUtilisation]) -> Option<Busiest> {
    groups
        .iter()
        .filter(|g| g.utilisation.mean.is_finite())
        .fold(None, |best: Option<&GroupUtilisation>, g| match best {
            Some(b) if b.utilisation.mean >= g.utilisation.mean => best,
            _ => Some(g),
        })
        .map(|g| Busiest {
            name: g.name.clone(),
            utilisation: g.utilisation,
        })
}
