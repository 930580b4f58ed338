//! Replications of one (phase, users) point reduced to means and 95%
//! confidence intervals, for the charts.
//!
//! The capacity itself comes from the sweep's search (`capacity.rs`); this
//! summary adds what the charts need beyond `estimate::PointSummary`: the
//! utilisation of every resource group with its interval.

use crate::model::Model;
use crate::scenario::Slo;
use crate::sweep::{RunRecord, SweepPlan};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A mean over replications with its 95% confidence interval
/// (`lo == hi == mean` with a single replication).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Estimate {
    /// Student-t interval over the finite values of `xs`; NaN if none is.
    pub fn of(xs: impl IntoIterator<Item = f64>) -> Self {
        let v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
        let n = v.len();
        if n == 0 {
            return Estimate {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
            };
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Estimate {
                mean,
                lo: mean,
                hi: mean,
            };
        }
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .map(|d| d.inverse_cdf(0.975))
            .unwrap_or(f64::NAN);
        let half = t * (var / n as f64).sqrt();
        Estimate {
            mean,
            lo: mean - half,
            hi: mean + half,
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
    pub throughput_rps: Estimate,
    pub p50_ms: Estimate,
    pub p95_ms: Estimate,
    pub error_rate: Estimate,
    /// Utilisation (0–1) of each resource group, in model order.
    pub utilisation: Vec<(String, Estimate)>,
}

impl PointSummary {
    /// Whether the point meets the SLO on average.
    pub fn meets(&self, slo: &Slo) -> bool {
        self.p95_ms.mean <= slo.p95_ms && self.error_rate.mean <= slo.error_rate
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

/// Reduce `runs` (in the sweep's point order) to one summary per
/// (phase, users), in that order.
pub fn summarise(plan: &SweepPlan, runs: &[RunRecord]) -> Vec<PointSummary> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let key = (runs[i].point.phase, runs[i].point.users);
        let j = i + runs[i..]
            .iter()
            .take_while(|r| (r.point.phase, r.point.users) == key)
            .count();
        let group = &runs[i..j];
        let model = &plan.models[key.0];
        let groups = resource_groups(model);
        let utilisation = groups
            .iter()
            .map(|(name, members)| {
                let per_run = group.iter().map(|r| {
                    let us: Vec<f64> = members
                        .iter()
                        .filter_map(|&m| utilisation_of(r, m))
                        .collect();
                    us.iter().sum::<f64>() / us.len() as f64
                });
                (name.clone(), Estimate::of(per_run))
            })
            .collect();
        out.push(PointSummary {
            phase: key.0,
            users: key.1,
            replications: group.len(),
            throughput_rps: Estimate::of(group.iter().map(|r| r.throughput_rps)),
            p50_ms: Estimate::of(group.iter().map(|r| r.p50_ms)),
            p95_ms: Estimate::of(group.iter().map(|r| r.p95_ms)),
            error_rate: Estimate::of(group.iter().map(|r| r.error_rate)),
            utilisation,
        });
        i = j;
    }
    out
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
    use statrs::distribution::{ContinuousCDF, StudentsT};

    #[test]
    fn confidence_interval_is_student_t() {
        let xs = [10.0, 12.0, 14.0];
        let e = Estimate::of(xs);
        // s = 2, n = 3: half-width t(0.975, 2) · 2 / √3.
        let t = StudentsT::new(0.0, 1.0, 2.0).unwrap().inverse_cdf(0.975);
        let half = t * 2.0 / 3f64.sqrt();
        assert_eq!(e.mean, 12.0);
        assert!((e.hi - 12.0 - half).abs() < 1e-12);
        assert!((12.0 - e.lo - half).abs() < 1e-12);
        assert!(half > 4.0, "t(0.975, 2) ≈ 4.3 widens a 3-run interval");
        let one = Estimate::of([5.0, f64::NAN]);
        assert_eq!((one.lo, one.mean, one.hi), (5.0, 5.0, 5.0));
        assert!(Estimate::of([]).mean.is_nan());
    }

    #[test]
    fn app_hosts_fold_into_one_group() {
        assert_eq!(host_group("app0.cpu"), "app.cpu");
        assert_eq!(host_group("app17.workers"), "app.workers");
        assert_eq!(host_group("db.cpu"), "db.cpu");
        assert_eq!(host_group("apple.cpu"), "apple.cpu");
        assert_eq!(host_group("app.cpu"), "app.cpu");
    }
}
