//! `simulate merge OUT`: the shards under `OUT/shards/` become the outputs
//! one machine would have written for the same files, options and seed —
//! byte for byte, since every unit's result is the sweep's own, bit for bit,
//! and the outcome and the writers are the same code.
//!
//! It refuses, with exit status 2, shards of another capsim version, shards
//! of differing jobs, a scenario file edited since its shards ran, and an
//! incomplete or duplicated set of units — listing the commands that rerun
//! exactly the missing shards.

use super::shards::{self, ShardRead, UnitResult};
use super::units::{self, scenario_hash, Shard, UnitId, VERSION};
use super::{load_all, Failure, EXIT_INVALID_INPUT, EXIT_RUNTIME};
use crate::outcome::Outcome;
use crate::report;
use crate::sweep::{self, SweepOptions, SweepResult};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to merge, and how to write it.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// The `--out` folder the shards were written to; the merged outputs go
    /// there too.
    pub dir: PathBuf,
    /// Draw the PNG charts.
    pub plots: bool,
    /// Overwrite scenario folders that hold another scenario's results.
    pub force: bool,
    /// Print nothing but errors.
    pub quiet: bool,
}

fn invalid(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: EXIT_INVALID_INPUT,
        error: error.into(),
    }
}

/// Merge the shards under `opts.dir`.
pub fn merge(opts: &MergeOptions) -> Result<(), Failure> {
    let found = shards::read_manifests(&opts.dir).map_err(invalid)?;
    let Some(first) = found.first() else {
        return Err(invalid(anyhow::anyhow!(
            "{} holds no shards (run `simulate --shard M/N … --out {}` first)",
            opts.dir.join(shards::SHARDS_DIR).display(),
            opts.dir.display()
        )));
    };
    check_same_job(&found)?;
    let job = &first.manifest;
    // The scenario files must be the ones the shards ran.
    let paths: Vec<PathBuf> = job.scenarios.iter().map(|s| s.path.clone()).collect();
    let mut edited = Vec::new();
    let mut sources = Vec::new();
    for s in &job.scenarios {
        let bytes = std::fs::read(&s.path).map_err(|e| {
            invalid(anyhow::anyhow!(
                "{}: cannot read ({e}): merge reads the scenario files the shards ran, from where they ran",
                s.path.display()
            ))
        })?;
        if scenario_hash(&bytes) != s.hash {
            edited.push(format!("{}", s.path.display()));
        }
        sources.push(bytes);
    }
    if !edited.is_empty() {
        return Err(invalid(anyhow::anyhow!(
            "edited since its shards ran: {}; rerun every shard of the job (or restore the file)",
            edited.join(", ")
        )));
    }
    let scenarios = load_all(&paths)?;
    super::refuse_shards_slug(&scenarios)?;
    let mut plans = Vec::new();
    for s in &scenarios {
        plans.push(sweep::plan(s, &job.options).map_err(invalid)?);
    }
    let expected = units::units(&plans, &sources);
    let results = collect_units(&found, &expected, &paths, &job.options, &opts.dir)?;
    let mut summary = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let mut result = SweepResult {
            points: Vec::new(),
            runs: Vec::new(),
            capacity: Vec::new(),
        };
        // In the plan's phase order, as the unsharded search returns them.
        for u in expected.iter().filter(|u| u.scenario == i) {
            let r = &results[&u.id].result;
            result.points.extend(r.points.iter().cloned());
            result.runs.extend(r.runs.iter().cloned());
            result.capacity.extend(r.capacity.iter().cloned());
        }
        let dir = opts.dir.join(&plan.scenario.slug);
        if !opts.force {
            report::manifest::check(&dir, plan.scenario).map_err(invalid)?;
        }
        let outcome = Outcome::of(plan, result);
        report::write_scenario(&dir, &outcome, opts.plots).map_err(|error| Failure {
            code: EXIT_RUNTIME,
            error,
        })?;
        summary.extend(report::summary_rows(&outcome));
        if !opts.quiet {
            eprintln!(
                "{}: merged {} unit(s) → {}",
                plan.scenario.name,
                plan.phases.len(),
                dir.display()
            );
        }
    }
    report::write_summary_csv(&opts.dir.join("summary.csv"), &summary).map_err(|error| Failure {
        code: EXIT_RUNTIME,
        error,
    })
}

/// Every shard must come from the same job, run by this version.
fn check_same_job(found: &[ShardRead]) -> Result<(), Failure> {
    let mut versions: Vec<&str> = found
        .iter()
        .map(|s| s.manifest.capsim_version.as_str())
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if versions != [VERSION] {
        return Err(invalid(anyhow::anyhow!(
            "the shards were written by capsim {} and this is capsim {VERSION}: \
             merge only shards of one version, the one merging them (rerun the others)",
            versions.join(", ")
        )));
    }
    let first = &found[0];
    for s in &found[1..] {
        let m = &s.manifest;
        if m.options != first.manifest.options || m.scenarios != first.manifest.scenarios {
            return Err(invalid(anyhow::anyhow!(
                "{} and {} are shards of different jobs (other scenario files, contents or \
                 options); merge only the shards of one job",
                first.dir.display(),
                s.dir.display()
            )));
        }
    }
    Ok(())
}

/// The result of every expected unit, or a refusal listing the missing and
/// duplicated ones and the commands that rerun just the missing.
fn collect_units(
    found: &[ShardRead],
    expected: &[units::Unit],
    paths: &[PathBuf],
    options: &SweepOptions,
    dir: &Path,
) -> Result<BTreeMap<UnitId, UnitResult>, Failure> {
    let mut results: BTreeMap<UnitId, UnitResult> = BTreeMap::new();
    let mut holders: BTreeMap<UnitId, Vec<PathBuf>> = BTreeMap::new();
    for shard in found {
        for u in shards::read_units(shard).map_err(invalid)? {
            let id = UnitId(u.id);
            holders.entry(id).or_default().push(shard.dir.clone());
            results.entry(id).or_insert(u);
        }
    }
    let mut problems = Vec::new();
    for (id, dirs) in holders.iter().filter(|(_, d)| d.len() > 1) {
        let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        problems.push(format!(
            "unit {id} is in more than one shard ({}): shards of different --shard N were mixed; \
             remove all but one set",
            dirs.join(", ")
        ));
    }
    let missing: Vec<&units::Unit> = expected
        .iter()
        .filter(|u| !results.contains_key(&u.id))
        .collect();
    if !missing.is_empty() {
        // Which shards own them, under the shard count the job used.
        let counts: Vec<u32> = found
            .iter()
            .filter_map(|s| units::parse_shard(&s.manifest.shard).ok().map(|k| k.count))
            .collect();
        let count = counts
            .first()
            .copied()
            .filter(|c| counts.iter().all(|x| x == c));
        let mut owners: BTreeMap<u32, usize> = BTreeMap::new();
        for u in &missing {
            if let Some(n) = count {
                *owners.entry(units::shard_of(u.id, n) + 1).or_default() += 1;
            }
        }
        problems.push(format!("{} unit(s) missing:", missing.len()));
        match count {
            Some(n) => {
                for (index, k) in owners {
                    problems.push(format!(
                        "  {k} unit(s) of shard {index}/{n}; rerun it with: {}",
                        rerun_command(Shard { index, count: n }, paths, options, dir)
                    ));
                }
            }
            None => problems.push(
                "  the shards present were run with different --shard counts; rerun every \
                 shard of one count"
                    .into(),
            ),
        }
    }
    if problems.is_empty() {
        Ok(results)
    } else {
        Err(invalid(anyhow::anyhow!("{}", problems.join("\n"))))
    }
}

/// The exact command that reruns one shard of the job.
fn rerun_command(shard: Shard, paths: &[PathBuf], o: &SweepOptions, dir: &Path) -> String {
    let mut words = vec!["simulate".to_string(), "--shard".into(), shard.to_string()];
    words.extend(paths.iter().map(|p| quote(&p.display().to_string())));
    words.extend(["--out".into(), quote(&dir.display().to_string())]);
    if let Some(s) = o.seed {
        words.extend(["--seed".into(), s.to_string()]);
    }
    if let Some(u) = &o.users {
        let list: Vec<String> = u.iter().map(|x| x.to_string()).collect();
        words.extend(["--users".into(), list.join(",")]);
    }
    if let Some(p) = &o.phase {
        words.extend(["--phase".into(), quote(p)]);
    }
    if let Some(r) = o.replications {
        words.extend(["--replications".into(), r.to_string()]);
    }
    if let Some(m) = o.measured_requests {
        words.extend(["--measured-requests".into(), m.to_string()]);
    }
    if let Some(p) = o.precision {
        words.extend(["--precision".into(), p.to_string()]);
    }
    words.join(" ")
}

/// A word for a POSIX shell: as it is when plain, else in single quotes.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./,:=+@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rerun_commands_quote_what_a_shell_would_split() {
        let o = SweepOptions {
            seed: Some(7),
            phase: Some("Fase 1: PgBouncer".into()),
            ..SweepOptions::default()
        };
        let cmd = rerun_command(
            Shard { index: 2, count: 3 },
            &[
                PathBuf::from("scenarios/fixia.toml"),
                PathBuf::from("my file.toml"),
            ],
            &o,
            Path::new("out"),
        );
        assert_eq!(
            cmd,
            "simulate --shard 2/3 scenarios/fixia.toml 'my file.toml' --out out --seed 7 \
             --phase 'Fase 1: PgBouncer'"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
