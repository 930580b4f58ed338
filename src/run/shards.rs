//! Shard folders: what `simulate --shard M/N` writes under `OUT/shards/`,
//! and what `simulate merge OUT` reads back.
//!
//! A shard folder holds `units.bin` — each unit's sweep result exactly as
//! the sweep returned it (postcard: floats bit for bit, NaN included) — and
//! `manifest.json`, which says who wrote it (capsim's version, the options,
//! each scenario file's hash) and what it holds (unit ids, events, wall
//! time). It is written whole or not at all (see [`crate::report::Staging`]):
//! two files, two syncs, whatever the number of units.

use super::units::{scenario_hash, Shard, UnitId};
use crate::report::{write_atomically, Staging};
use crate::sweep::{SweepOptions, SweepResult};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name in a shard folder.
pub const MANIFEST: &str = "manifest.json";
/// The unit results' file name in a shard folder.
pub const UNITS: &str = "units.bin";
/// The folder of shards under `--out`.
pub const SHARDS_DIR: &str = "shards";

/// Who wrote a shard, and what it holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// capsim's version: shards of two versions are never merged.
    pub capsim_version: String,
    /// `M/N`.
    pub shard: String,
    /// The options every run of the job used.
    pub options: SweepOptions,
    /// The job's scenario files, in the order given.
    pub scenarios: Vec<ScenarioEntry>,
    /// The units this shard ran.
    pub units: Vec<UnitEntry>,
    /// Calendar events of all its runs.
    pub events: u64,
    /// Wall time of the shard, in seconds.
    pub wall_s: f64,
}

/// One scenario file of the job.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScenarioEntry {
    /// As given on the command line.
    pub path: PathBuf,
    /// Its output folder's name.
    pub slug: String,
    /// FNV-1a hash of the file's bytes ([`scenario_hash`]).
    pub hash: String,
}

/// One unit a shard ran.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UnitEntry {
    /// The unit's stable id (16 hex digits).
    pub id: String,
    /// The scenario's output folder name.
    pub scenario: String,
    /// The phase's name.
    pub phase: String,
    /// The design (0: the point run).
    pub design: u32,
    /// Calendar events of its runs.
    pub events: u64,
    /// Wall time of its sweep, in seconds.
    pub wall_s: f64,
}

/// One unit's result, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UnitResult {
    /// The unit's id.
    pub id: u64,
    /// Its sweep, as [`crate::sweep::SweepPlan::run`] returned it.
    pub result: SweepResult,
}

/// Write shard `shard`'s folder under `out`, whole.
pub fn write(
    out: &Path,
    shard: Shard,
    manifest: &Manifest,
    units: &[UnitResult],
) -> anyhow::Result<PathBuf> {
    let target = out.join(SHARDS_DIR).join(shard.folder());
    let staging = Staging::begin(&target)?;
    let bytes = postcard::to_stdvec(units).context("cannot encode the unit results")?;
    write_atomically(&staging.path().join(UNITS), |w| Ok(w.write_all(&bytes)?))?;
    let json = serde_json::to_string_pretty(manifest).context("cannot encode the manifest")?;
    write_atomically(&staging.path().join(MANIFEST), |w| {
        Ok(w.write_all(json.as_bytes())?)
    })?;
    staging.commit(&[MANIFEST, UNITS])?;
    Ok(target)
}

/// A shard folder read back.
pub struct ShardRead {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Every shard folder under `out/shards/`, by folder name; folders being
/// staged (their names start with `.`) are not shards yet.
pub fn read_manifests(out: &Path) -> anyhow::Result<Vec<ShardRead>> {
    let dir = out.join(SHARDS_DIR);
    let entries = std::fs::read_dir(&dir).with_context(|| {
        format!(
            "{} holds no shards (run `simulate --shard M/N … --out {}` first)",
            dir.display(),
            out.display()
        )
    })?;
    let mut found = Vec::new();
    for e in entries {
        let e = e.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.path().is_dir() {
            continue;
        }
        let file = e.path().join(MANIFEST);
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a capsim shard manifest", file.display()))?;
        found.push(ShardRead {
            dir: e.path(),
            manifest,
        });
    }
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(found)
}

/// The unit results of one shard folder, checked against its manifest.
pub fn read_units(shard: &ShardRead) -> anyhow::Result<Vec<UnitResult>> {
    let file = shard.dir.join(UNITS);
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let units: Vec<UnitResult> = postcard::from_bytes(&bytes)
        .with_context(|| format!("{} is not a capsim shard's unit results", file.display()))?;
    let listed: Vec<String> = shard.manifest.units.iter().map(|u| u.id.clone()).collect();
    let held: Vec<String> = units.iter().map(|u| UnitId(u.id).to_string()).collect();
    anyhow::ensure!(
        listed == held,
        "{} does not hold the units its manifest lists; rerun that shard",
        file.display()
    );
    Ok(units)
}

/// The manifest entry of a scenario file as it is now.
pub fn scenario_entry(path: &Path, slug: &str, bytes: &[u8]) -> ScenarioEntry {
    ScenarioEntry {
        path: path.to_path_buf(),
        slug: slug.to_string(),
        hash: scenario_hash(bytes),
    }
}
