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

/// The name a reader sees for a station, resource or group id: `app0.cpu`
/// → `app host 1 CPU`, `app.cpu` (the folded hosts) → `app hosts' CPU`,
/// `pgbouncer.main.pool` → `PgBouncer pool main`, `db.replica0.cpu` → `db
/// replica 1 CPU`. Ids capsim did not make (a scenario's own stations) are
/// their own names. Every output uses this name; the id keeps its own
/// column where a table has one.
pub fn display_name(id: &str) -> String {
    let parts: Vec<&str> = id.split('.').collect();
    let numbered = |s: &str, prefix: &str| -> Option<u32> {
        s.strip_prefix(prefix)
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u32>().ok())
    };
    let what = |tail: &str| -> Option<String> {
        if let Some(l) = numbered(tail, "loop") {
            return Some(format!("event loop {}", l + 1));
        }
        Some(
            match tail {
                "cpu" => "CPU",
                "workers" => "workers",
                "concurrency" => "concurrency limit",
                "locmem" => "local-memory cache",
                "connections" => "connections",
                "wal" => "WAL flush",
                "rows" => "row locks",
                "disk" => "disk",
                "lock" => "write lock",
                "replicas" => "replicas",
                _ => return None,
            }
            .to_string(),
        )
    };
    match parts.as_slice() {
        ["app", tail] => match what(tail) {
            Some(w) if *tail == "cpu" => Some(format!("app hosts' {w}")),
            Some(w) => Some(format!("app {w}")),
            None => None,
        },
        [head, tail] if numbered(head, "app").is_some() => {
            let h = numbered(head, "app").unwrap_or(0);
            what(tail).map(|w| format!("app host {} {w}", h + 1))
        }
        ["pgbouncer", name, "pool"] => Some(format!("PgBouncer pool {name}")),
        [db, replica, tail] if numbered(replica, "replica").is_some() => {
            let k = numbered(replica, "replica").unwrap_or(0);
            what(tail).map(|w| format!("{} replica {} {w}", shard_or(db), k + 1))
        }
        [db, tail] => what(tail).map(|w| format!("{} {w}", shard_or(db))),
        _ => None,
    }
    .unwrap_or_else(|| id.to_string())
}

/// `shard3` → `shard 4`; other database names as they are.
fn shard_or(db: &str) -> String {
    match db.strip_prefix("shard") {
        Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
            format!("shard {}", d.parse::<u32>().map_or(0, |n| n + 1))
        }
        _ => db.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_have_readable_names() {
        assert_eq!(display_name("app0.cpu"), "app host 1 CPU");
        assert_eq!(display_name("app.cpu"), "app hosts' CPU");
        assert_eq!(display_name("app2.loop0"), "app host 3 event loop 1");
        assert_eq!(display_name("app.loop0"), "app event loop 1");
        assert_eq!(display_name("app.workers"), "app workers");
        assert_eq!(display_name("pgbouncer.main.pool"), "PgBouncer pool main");
        assert_eq!(display_name("db.cpu"), "db CPU");
        assert_eq!(display_name("db.replica1.cpu"), "db replica 2 CPU");
        assert_eq!(display_name("shard0.connections"), "shard 1 connections");
        assert_eq!(display_name("servers"), "servers");
        assert_eq!(display_name("db.unknown"), "db.unknown");
    }

    #[test]
    fn app_hosts_fold_into_one_group() {
        assert_eq!(group_name("app0.cpu"), "app.cpu");
        assert_eq!(group_name("app17.workers"), "app.workers");
        assert_eq!(group_name("db.cpu"), "db.cpu");
        assert_eq!(group_name("apple.cpu"), "apple.cpu");
        assert_eq!(group_name("app.cpu"), "app.cpu");
    }
}
