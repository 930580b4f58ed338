//! Utilisation by resource group: the identical app hosts of a phase
//! (`app0.cpu`, `app1.cpu`, …) folded into one group (`app.cpu`) averaged
//! over hosts — the load balancer spreads evenly, and one line per host
//! would bury a chart — and every other station or resource on its own.

use crate::model::{Discipline, Model};
use crate::stats::{self, Estimate};
use crate::sweep::RunRecord;

/// One resource group's utilisation (0–1) at a point, over its replications.
#[derive(Clone, Debug)]
pub struct GroupUtilisation {
    /// The group's name (`app.cpu` for the folded app hosts).
    pub name: String,
    /// Mean over replications of the group's mean utilisation, with its 95%
    /// interval.
    pub utilisation: Estimate,
}

/// Every resource group of `model`, in model order, with its utilisation
/// over `runs` (the replications of one point).
pub fn of_groups<'r>(
    model: &Model,
    runs: impl Iterator<Item = &'r RunRecord> + Clone,
) -> Vec<GroupUtilisation> {
    groups(model)
        .into_iter()
        .map(|(name, members)| {
            let per_run = runs.clone().map(|r| {
                let us: Vec<f64> = members
                    .iter()
                    .filter_map(|&m| utilisation_of(r, m))
                    .collect();
                us.iter().sum::<f64>() / us.len() as f64
            });
            GroupUtilisation {
                name,
                utilisation: stats::estimate(per_run),
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

/// Stations with a utilisation (not delays) and passive resources, grouped
/// by [`group_name`].
fn groups(model: &Model) -> Vec<(String, Vec<Member>)> {
    let mut groups: Vec<(String, Vec<Member>)> = Vec::new();
    let mut add = |name: &str, m: Member| {
        let key = group_name(name);
        match groups.iter_mut().find(|(n, _)| *n == key) {
            Some((_, v)) => v.push(m),
            None => groups.push((key, vec![m])),
        }
    };
    for (i, s) in model.stations.iter().enumerate() {
        if s.discipline != Discipline::Delay {
            add(&s.name, Ok(i));
        }
    }
    for (i, r) in model.resources.iter().enumerate() {
        add(&r.name, Err(i));
    }
    groups
}

/// `app12.cpu` → `app.cpu`; other names unchanged.
pub fn group_name(name: &str) -> String {
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
        assert_eq!(group_name("app0.cpu"), "app.cpu");
        assert_eq!(group_name("app17.workers"), "app.workers");
        assert_eq!(group_name("db.cpu"), "db.cpu");
        assert_eq!(group_name("apple.cpu"), "apple.cpu");
        assert_eq!(group_name("app.cpu"), "app.cpu");
    }
}
