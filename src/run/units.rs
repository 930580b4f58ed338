//! Units of work: one (scenario, phase, design) with its whole sweep and
//! capacity search, the grain a job is spread over machines by.
//!
//! A unit's id is a hash of what decides its results — the scenario file's
//! bytes, capsim's version, the phase and the design — so it is the same on
//! every machine and does not move when another phase is added. Shards take
//! units by rendezvous hashing on that id: adding a unit, or a shard, moves
//! only the units that must move.

use crate::sweep::SweepPlan;
use std::fmt;

/// The version of capsim writing or merging shards: results of two versions
/// are never mixed.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The design of a unit: 0 is the point run (every parameter at its value);
/// designs of an uncertainty study are numbered from 1.
pub type Design = u32;

/// One unit of work.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Stable id (16 hex digits).
    pub id: UnitId,
    /// Index of the scenario in the job's list.
    pub scenario: usize,
    /// Index into the scenario's phases.
    pub phase: usize,
    /// The design (0: the point run).
    pub design: Design,
    /// Estimated cost, in simulated requests (replications × measured
    /// requests over the grid, from the analytic model's run lengths).
    pub cost: f64,
}

/// A unit's stable id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitId(pub u64);

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl std::str::FromStr for UnitId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(UnitId)
    }
}

/// FNV-1a, 64 bits: a hash whose value is fixed by its definition, unlike
/// std's `DefaultHasher`, so ids agree across machines and Rust versions.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Fnv {
    /// The FNV-1a offset basis.
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Hash `bytes`, preceded by their length so that fields cannot run
    /// into each other ("ab" + "c" ≠ "a" + "bc").
    pub fn field(mut self, bytes: &[u8]) -> Self {
        for b in (bytes.len() as u64).to_le_bytes().iter().chain(bytes) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

/// The hash of a scenario file's bytes, as manifests record it.
pub fn scenario_hash(bytes: &[u8]) -> String {
    format!("{:016x}", Fnv::new().field(bytes).finish())
}

/// The id of a unit.
pub fn unit_id(scenario_bytes: &[u8], phase: &str, design: Design) -> UnitId {
    UnitId(
        Fnv::new()
            .field(scenario_bytes)
            .field(VERSION.as_bytes())
            .field(phase.as_bytes())
            .field(&design.to_le_bytes())
            .finish(),
    )
}

/// Every unit of `plans` (the job's scenarios, planned), in job order:
/// scenario, then phase, then design. `sources[i]` is scenario `i`'s bytes.
pub fn units(plans: &[SweepPlan], sources: &[Vec<u8>]) -> Vec<Unit> {
    let mut out = Vec::new();
    for (i, (plan, bytes)) in plans.iter().zip(sources).enumerate() {
        for &phase in &plan.phases {
            let design = 0;
            out.push(Unit {
                id: unit_id(bytes, &plan.scenario.phases[phase].name, design),
                scenario: i,
                phase,
                design,
                cost: estimated_cost(plan, phase),
            });
        }
    }
    out
}

/// Requests a unit simulates on its grid: replications × run length at each
/// user count. The capacity search adds a few more points near capacity.
fn estimated_cost(plan: &SweepPlan, phase: usize) -> f64 {
    plan.users
        .iter()
        .map(|&u| f64::from(plan.replications) * plan.measured_requests_at(phase, u) as f64)
        .sum()
}

/// Which of `count` shards (0-based) takes the unit `id`: the shard with the
/// highest hash of (id, shard) — rendezvous hashing, so that changing the
/// number of shards moves only about 1/count of the units.
pub fn shard_of(id: UnitId, count: u32) -> u32 {
    (0..count)
        .max_by_key(|&s| {
            Fnv::new()
                .field(&id.0.to_le_bytes())
                .field(&s.to_le_bytes())
                .finish()
        })
        .unwrap_or(0)
}

/// A shard of a job: `index` of `count`, 1-based as written (`--shard 2/3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    /// At least 1.
    pub count: u32,
}

impl Shard {
    /// The shard's folder name under `OUT/shards/`.
    pub fn folder(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// Whether this shard takes `unit`.
    pub fn takes(&self, unit: &Unit) -> bool {
        shard_of(unit.id, self.count) + 1 == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a shard cannot be worked out.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShardError {
    /// `--shard` is not `M/N` with 1 ≤ M ≤ N.
    #[error(
        "`{0}` is not a shard: give M/N with 1 ≤ M ≤ N (1-based, e.g. --shard 2/3), or `auto`"
    )]
    Syntax(String),
    /// `--shard auto` found no array index in the environment.
    #[error(
        "--shard auto found no array index: set by Slurm (SLURM_ARRAY_TASK_ID with \
         SLURM_ARRAY_TASK_COUNT), Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with \
         --shard-count N) or AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, with --shard-count N)"
    )]
    NoIndex,
    /// An index variable is set but the count is unknown.
    #[error("{0} is set but the number of shards is not: pass --shard-count N")]
    NoCount(&'static str),
    /// An environment variable does not hold a number, or the index is out
    /// of range.
    #[error("{name}={value} {why}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Parse `--shard M/N`.
pub fn parse_shard(s: &str) -> Result<Shard, ShardError> {
    let bad = || ShardError::Syntax(s.to_string());
    let (m, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = m.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// `--shard auto`: the shard from the array engine's environment.
/// `get` reads a variable (the process environment, or a test's map);
/// `count` is `--shard-count`.
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
    count: Option<u32>,
) -> Result<Shard, ShardError> {
    let num = |name: &'static str| -> Result<Option<u32>, ShardError> {
        get(name)
            .map(|v| {
                v.trim().parse::<u32>().map_err(|_| ShardError::BadEnv {
                    name,
                    value: v.clone(),
                    why: "is not a whole number",
                })
            })
            .transpose()
    };
    // Slurm numbers array tasks as written in `--array` (0-2, 1-3, 5-7…):
    // the shard is the task's position from SLURM_ARRAY_TASK_MIN.
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let n = match num("SLURM_ARRAY_TASK_COUNT")? {
            Some(n) => n,
            None => count.ok_or(ShardError::NoCount("SLURM_ARRAY_TASK_ID"))?,
        };
        let index = id.checked_sub(min).map(|k| k + 1).filter(|&k| k <= n);
        return index
            .map(|index| Shard { index, count: n })
            .ok_or(ShardError::BadEnv {
                name: "SLURM_ARRAY_TASK_ID",
                value: id.to_string(),
                why: "is outside SLURM_ARRAY_TASK_MIN … MIN + SLURM_ARRAY_TASK_COUNT − 1",
            });
    }
    for name in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
        if let Some(i) = num(name)? {
            let n = count.ok_or(ShardError::NoCount(name))?;
            return if i < n {
                Ok(Shard {
                    index: i + 1,
                    count: n,
                })
            } else {
                Err(ShardError::BadEnv {
                    name,
                    value: i.to_string(),
                    why: "is not below --shard-count",
                })
            };
        }
    }
    Err(ShardError::NoIndex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_are_fixed_by_their_inputs() {
        let a = unit_id(b"x = 1", "Base", 0);
        assert_eq!(a, unit_id(b"x = 1", "Base", 0));
        assert_ne!(a, unit_id(b"x = 2", "Base", 0));
        assert_ne!(a, unit_id(b"x = 1", "Fase 1", 0));
        assert_ne!(a, unit_id(b"x = 1", "Base", 1));
        // FNV-1a of the empty input is its offset basis, by definition.
        assert_eq!(Fnv::new().finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(a.to_string().parse::<UnitId>().unwrap(), a);
    }

    #[test]
    fn rendezvous_moves_few_units_when_a_shard_is_added() {
        let ids: Vec<UnitId> = (0..3000u32)
            .map(|i| unit_id(&i.to_le_bytes(), "p", 0))
            .collect();
        let moved = ids
            .iter()
            .filter(|&&id| shard_of(id, 7) != shard_of(id, 8))
            .count();
        // Ideally 1/8 of them; every moved unit goes to the new shard.
        assert!((250..500).contains(&moved), "{moved} of 3000 moved");
        assert!(ids
            .iter()
            .filter(|&&id| shard_of(id, 7) != shard_of(id, 8))
            .all(|&id| shard_of(id, 8) == 7));
        // And each shard gets its share.
        for s in 0..8 {
            let n = ids.iter().filter(|&&id| shard_of(id, 8) == s).count();
            assert!((250..500).contains(&n), "shard {s}: {n}");
        }
    }

    #[test]
    fn shards_are_one_based_and_read_from_the_array_engines() {
        assert_eq!(parse_shard("2/3"), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        // Slurm `--array=5-7`: task 6 is the second of three.
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ]);
        assert_eq!(
            shard_from_env(slurm, None),
            Ok(Shard { index: 2, count: 3 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(
            shard_from_env(&k8s, Some(4)),
            Ok(Shard { index: 1, count: 4 })
        );
        assert_eq!(
            shard_from_env(&k8s, None),
            Err(ShardError::NoCount("JOB_COMPLETION_INDEX"))
        );
        let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "4")]);
        assert!(matches!(
            shard_from_env(aws, Some(4)),
            Err(ShardError::BadEnv { .. })
        ));
        assert_eq!(shard_from_env(env(&[]), Some(2)), Err(ShardError::NoIndex));
    }
}
