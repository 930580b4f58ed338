//! The sweep's points as the charts and report.md draw them.
//!
//! Means and intervals are the sweep's own (`estimate::PointSummary`, the
//! numbers in sweep.csv: blank latencies at unstable points included); this
//! adds what the charts need beyond them: the utilisation of every resource
//! group, with its interval over the point's replications.

use crate::capacity::SweepResult;
use crate::model::Model;
use crate::scenario::Slo;
use crate::stats;
use crate::sweep::{RunRecord, SweepPlan};

/// A mean with its 95% confidence interval as bounds
/// (`lo == hi == mean` when the interval is undefined: a single replication).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl From<stats::Estimate> for Estimate {
    fn from(e: stats::Estimate) -> Self {
        let h = if e.half_width.is_finite() {
            e.half_width
        } else {
            0.0
        };
        Estimate {
            mean: e.mean,
            lo: e.mean - h,
            hi: e.mean + h,
        }
    }
}

/// One (phase, users) point of the sweep, over its replications.
#[derive(Clone, Debug)]
pub struct PointSummary {
    /// Index into `scenario.phases`.
    pub phase: usize,
    pub users: u32,
    pub replications: usize,
    /// A steady state was measured (latencies are NaN otherwise).
    pub stable: bool,
    pub throughput_rps: Estimate,
    pub p50_ms: Estimate,
    pub p95_ms: Estimate,
    pub error_rate: Estimate,
    /// Utilisation (0–1) of each resource group, in model order.
    pub utilisation: Vec<(String, Estimate)>,
}

impl PointSummary {
    /// Whether the point meets the SLO on average (an unstable point never does).
    pub fn meets(&self, slo: &Slo) -> bool {
        self.stable && self.p95_ms.mean <= slo.p95_ms && self.error_rate.mean <= slo.error_rate
    }

    /// The busiest resource group and its mean utilisation.
    pub fn busiest(&self) -> Option<(&str, f64)> {
        self.utilisation
            .iter()
            .filter(|(_, e)| e.mean.is_finite())
            .fold(None, |best: Option<(&str, f64)>, (n, e)| match best {
                Some((_, b)) if b >= e.mean => best,
                _ => Some((n.as_str(), e.mean)),
            })
    }
}

/// One summary per point of the sweep, with its resource groups' utilisation.
pub fn summarise(plan: &SweepPlan, result: &SweepResult) -> Vec<PointSummary> {
    result
        .points
        .iter()
        .map(|p| {
            let (phase, users) = (p.key.phase, p.key.users);
            let group: Vec<&RunRecord> = result
                .runs
                .iter()
                .filter(|r| r.point.phase == phase && r.point.users == users)
                .collect();
            let utilisation = resource_groups(&plan.models[phase])
                .into_iter()
                .map(|(name, members)| {
                    let per_run = group.iter().map(|r| {
                        let us: Vec<f64> = members
                            .iter()
                            .filter_map(|&m| utilisation_of(r, m))
                            .collect();
                        us.iter().sum::<f64>() / us.len() as f64
                    });
                    (name, stats::estimate(per_run).into())
                })
                .collect();
            PointSummary {
                phase,
                users,
                replications: p.replications as usize,
                stable: p.stable,
                throughput_rps: p.throughput_rps.into(),
                p50_ms: p.p50_ms.into(),
                p95_ms: p.p95_ms.into(),
                error_rate: p.error_rate.into(),
                utilisation,
            }
        })
        .collect()
}

/// A member of a resource group: station `Ok(i)` or passive resource `Err(i)`.
type Member = Result<usize, usize>;

fn utilisation_of(r: &RunRecord, m: Member) -> Option<f64> {
    match m {
        Ok(i) => r.stations.get(i)?.utilisation,
        Err(i) => r.resources.get(i).map(|s| s.utilisation),
    }
}

/// Stations with a utilisation and passive resources, with the identical
/// app hosts (`app0.cpu`, `app1.cpu`, …) folded into one group (`app.cpu`)
/// averaged over hosts: the load balancer spreads evenly, and one line per
/// host would bury the chart.
fn resource_groups(model: &Model) -> Vec<(String, Vec<Member>)> {
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    let mut add = |name: &str, m: Member| {
        let key = host_group(name);
        match groups.iter_mut().find(|(n, _)| *n == key) {
            Some((_, v)) => v.push(m),
            None => groups.push((key, vec![m])),
        }
    };
    for (i, s) in model.stations.iter().enumerate() {
        if s.discipline != crate::model::Discipline::Delay {
            add(&s.name, Ok(i));
        }
    }
    for (i, r) in model.resources.iter().enumerate() {
        add(&r.name, Err(i));
    }
    groups
}

/// `app12.cpu` → `app.cpu`; other names unchanged.
fn host_group(name: &str) -> String {
    if let Some((head, tail)) = name.split_once('.') {
        if let Some(digits) = head.strip_prefix("app") {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return format!("app.{tail}");
            }
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_hosts_fold_into_one_group() {
        assert_eq!(host_group("app0.cpu"), "app.cpu");
        assert_eq!(host_group("app17.workers"), "app.workers");
        assert_eq!(host_group("db.cpu"), "db.cpu");
        assert_eq!(host_group("apple.cpu"), "apple.cpu");
        assert_eq!(host_group("app.cpu"), "app.cpu");
    }
}
