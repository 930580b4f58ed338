//! `claims.csv`: one row per claim of the guide, with its verdict.

use super::{num, write_atomically};
use crate::outcome::Outcome;
use std::path::Path;

/// The columns of `claims.csv`, in order (documented in the README).
pub const CLAIMS_COLUMNS: &[&str] = &[
    "scenario",
    "claim",
    "phase",
    "metric",
    "users",
    "claimed_min",
    "claimed_max",
    "simulated",
    "simulated_ci",
    "verdict",
    "reason",
    "break_even_think_s",
    "break_even",
    "quote",
    "source",
    "note",
    "simulated_at_least",
    "simulated_at_most",
];

/// Write `claims.csv`: one row per claim.
pub fn write_claims_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        let study = o.uncertainty.as_ref();
        let mut head: Vec<&str> = CLAIMS_COLUMNS.to_vec();
        if study.is_some() {
            head.extend(super::uncertainty::CLAIMS_STUDY_COLUMNS);
        }
        out.write_record(&head)?;
        for v in &o.verdicts {
            let c = &sc.claims[v.claim];
            let opt = |x: Option<f64>| x.map_or(String::new(), num);
            let mut row = vec![
                sc.slug.clone(),
                c.id.clone(),
                sc.phases[c.phase].name.clone(),
                c.metric.name().to_string(),
                c.users.map_or(String::new(), |u| u.to_string()),
                opt(c.min),
                opt(c.max),
                num(v.value.mean),
                num(v.value.half_width),
                v.verdict.name().to_string(),
                v.reason.clone(),
                opt(v.break_even_think_s),
                v.break_even.clone(),
                c.quote.clone(),
                c.source.clone().unwrap_or_default(),
                c.note.clone().unwrap_or_default(),
                // A value known only by its ends: `simulated` is blank and
                // these say where it lies (an infinite end is blank).
                v.bound.map_or(String::new(), |b| num(b.0)),
                v.bound.map_or(String::new(), |b| num(b.1)),
            ];
            if let Some(study) = study {
                row.extend(super::uncertainty::claim_cells(study, v.claim));
            }
            out.write_record(&row)?;
        }
        out.flush()?;
        Ok(())
    })
}

/// The columns of `sensitivity.csv`.
pub const SENSITIVITY_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "parameter",
    "factor",
    "capacity_users_estimate",
    "change_pct",
];

/// Write `sensitivity.csv`: one row per phase × assumption × factor.
pub fn write_sensitivity_csv(path: &Path, o: &Outcome) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(SENSITIVITY_COLUMNS)?;
        for r in &o.sensitivity {
            out.write_record([
                sc.slug.clone(),
                sc.phases[r.phase].name.clone(),
                r.parameter.to_string(),
                num(r.factor),
                num(r.capacity_users),
                num(100.0 * r.change),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}
