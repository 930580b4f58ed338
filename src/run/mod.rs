//! The `simulate` job: load every scenario, run its sweep, write its outputs
//! — on one machine, or as one shard of a job spread over many ([`units`],
//! [`shards`], [`merge`]).

pub mod designs;
pub mod merge;
pub mod shards;
pub mod units;

use crate::outcome::{Outcome, Verdict};
use crate::report;
use crate::scenario::{self, LoadAxis, Scenario};
use crate::sweep::{self, CapacityStatus, PointStop, Progress, SweepOptions, SweepPlan};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Exit code: everything ran and was written.
pub const EXIT_OK: i32 = 0;
/// Exit code: a run or a write failed (disk full, interrupted…).
pub const EXIT_RUNTIME: i32 = 1;
/// Exit code: a scenario file or an option is invalid, or an output folder
/// holds another scenario's results; nothing was run.
pub const EXIT_INVALID_INPUT: i32 = 2;
/// Exit code: stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP; scenarios finished
/// before it keep their complete outputs, the one being swept wrote nothing.
/// 130 is what shells report for a command ended by SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// What one `simulate` job does: its command line, parsed.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The scenario files (TOML), in command-line order.
    pub scenarios: Vec<PathBuf>,
    /// The output folder (`--out`): each scenario's results go to its
    /// subfolder named after the file, summary.csv beside them.
    pub out: PathBuf,
    /// Worker threads (`--jobs`); `None`: one per core. Results do not
    /// depend on it.
    pub jobs: Option<usize>,
    /// Load, validate and plan every scenario, then stop without running
    /// (`--check`).
    pub check_only: bool,
    /// Print nothing but errors: no progress bar, no `--check` lines.
    pub quiet: bool,
    /// Draw the PNG charts; `false` writes only the CSV tables and report.md.
    pub plots: bool,
    /// Overwrite output folders that hold another scenario's results.
    pub force: bool,
    /// Print the job's units of work (one JSON line each) instead of running.
    pub list_units: bool,
    /// Run only this shard's units and write them under `OUT/shards/`.
    pub shard: Option<units::Shard>,
    /// What to run of each scenario (`--seed`, `--users`, `--phase`,
    /// `--replications`, …), the same for all.
    pub sweep: SweepOptions,
    /// `--set path=value` overrides, as given, applied to every scenario
    /// file in order (a list sweeps the field: one scenario per value).
    pub sets: Vec<String>,
}

/// A failure, with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code: one of the `EXIT_*` constants.
    pub code: i32,
    /// What went wrong, for standard error.
    pub error: anyhow::Error,
}

/// Load all scenarios first, so that one invalid file stops the job before
/// any run starts, and every invalid file is reported, not just the first.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, Failure> {
    load_all_with(paths, &[])
}

/// [`load_all`] with the `--set path=value` overrides `sets` applied to
/// every file: a file whose overrides sweep a list gives one scenario per
/// value (see [`scenario::load_with`]), in order.
pub fn load_all_with(paths: &[PathBuf], sets: &[String]) -> Result<Vec<Scenario>, Failure> {
    let mut overrides = Vec::new();
    let mut errors = Vec::new();
    for a in sets {
        match scenario::Override::parse(a) {
            Ok(o) => overrides.push(o),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(Failure {
            code: EXIT_INVALID_INPUT,
            error: anyhow::anyhow!(errors.join("\n")),
        });
    }
    let mut scenarios = Vec::new();
    for p in paths {
        match scenario::load_with(p, &overrides) {
            Ok(s) => scenarios.extend(s),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    for s in &scenarios {
        if let Some(why) = unusable_folder_name(&s.slug) {
            errors.push(format!(
                "{}: its results would go to the folder `{}` of the output folder, which {why}; \
                 rename the file (the folder is its name without `.toml`)",
                s.path.display(),
                s.slug.escape_debug()
            ));
        }
    }
    let mut slugs = std::collections::HashMap::new();
    for s in &scenarios {
        if let Some(other) = slugs.insert(s.slug.clone(), s.path.clone()) {
            errors.push(format!(
                "{} and {} would both write to the output folder `{}`; rename one",
                other.display(),
                s.path.display(),
                s.slug
            ));
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(Failure {
            code: EXIT_INVALID_INPUT,
            error: anyhow::anyhow!(errors.join("\n")),
        })
    }
}

/// Why a scenario's output folder name cannot be used, if it cannot: it
/// would escape the output folder, hide, or collide with a file of the run.
fn unusable_folder_name(slug: &str) -> Option<&'static str> {
    if slug.is_empty() {
        Some("is empty")
    } else if slug == "." || slug == ".." {
        Some("would be the output folder itself or its parent")
    } else if slug.starts_with('.') {
        Some("would be hidden (and may collide with capsim's staging folders)")
    } else if slug.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if slug.chars().any(char::is_control) {
        Some("contains a control character")
    } else if RUN_FILES.contains(&slug) {
        Some("is the name of a file every run writes there")
    } else {
        None
    }
}

/// Names the run itself uses in the output folder.
const RUN_FILES: &[&str] = &["summary.csv"];

/// Run the job: load and plan every scenario, then either stop there
/// (`check_only`), list or run one shard's units, or sweep every scenario
/// and write its folder, then summary.csv.
pub fn run(opts: &RunOptions) -> Result<(), Failure> {
    if !opts.sets.is_empty() && (opts.list_units || opts.shard.is_some()) {
        // A shard and `merge` read the scenario files as they are written.
        return Err(Failure {
            code: EXIT_INVALID_INPUT,
            error: anyhow::anyhow!(
                "--set is not supported with --shard or --list-units yet: shards and `simulate merge` \
                 read the scenario files as written; write the override into a copy of the file instead"
            ),
        });
    }
    let scenarios = load_all_with(&opts.scenarios, &opts.sets)?;
    let mut plans = Vec::new();
    for s in &scenarios {
        let plan = sweep::plan(s, &opts.sweep).map_err(|e| Failure {
            code: EXIT_INVALID_INPUT,
            error: e.into(),
        })?;
        designs::check(&plan).map_err(|e| Failure {
            code: EXIT_INVALID_INPUT,
            error: anyhow::anyhow!(e),
        })?;
        plans.push(plan);
    }
    let cancel = interrupt_flag();
    if cancel.load(Ordering::Relaxed) {
        return Err(interrupted(&[], &[]));
    }
    if opts.check_only {
        if !opts.quiet {
            for p in &plans {
                let variant = if p.scenario.overrides.is_empty() {
                    String::new()
                } else {
                    format!(" as `{}`", p.scenario.slug)
                };
                eprintln!(
                    "{}{variant}: valid ({} phases, {} runs)",
                    p.scenario.path.display(),
                    p.scenario.phases.len(),
                    p.points.len()
                );
            }
        }
        return Ok(());
    }
    if opts.list_units || opts.shard.is_some() {
        refuse_shards_slug(&scenarios)?;
        if let Some(p) = plans.iter().find(|p| p.designs > 0) {
            return Err(Failure {
                code: EXIT_INVALID_INPUT,
                error: anyhow::anyhow!(
                    "{}: has ranges, and a sharded job does not spread an uncertainty study's \
                     designs over machines yet; run it on one machine, or shard its point run \
                     alone with --designs 0",
                    p.scenario.path.display()
                ),
            });
        }
        let sources = read_sources(&scenarios)?;
        let all = units::units(&plans, &sources);
        if opts.list_units {
            print_units(&plans, &all);
            return Ok(());
        }
        if let Some(shard) = opts.shard {
            let pool = thread_pool(opts)?;
            return run_shard(&plans, &sources, &all, shard, &pool, opts);
        }
    }
    let pool = thread_pool(opts)?;
    if !opts.force {
        let refusals: Vec<String> = scenarios
            .iter()
            .filter_map(|s| {
                report::manifest::check(&opts.out.join(&s.slug), s)
                    .err()
                    .map(|e| e.to_string())
            })
            .collect();
        if !refusals.is_empty() {
            return Err(Failure {
                code: EXIT_INVALID_INPUT,
                error: anyhow::anyhow!(refusals.join("\n")),
            });
        }
    }
    for plan in &mut plans {
        plan.cancel = Some(cancel);
    }
    let show_bar = !opts.quiet && std::io::stderr().is_terminal();
    let bar = Bar::new(show_bar, &format!("{} scenario(s)", plans.len()));
    // Scenarios run side by side, not one after the other: the end of each
    // sweep (its last capacity-search rounds, its charts) leaves cores idle
    // that the next scenario's runs can use. Every run's seed depends only
    // on its coordinates, so the results do not change.
    let ended: Vec<Ended> = pool.install(|| {
        plans
            .par_iter()
            .map(|plan| sweep_and_write(plan, &bar, opts))
            .collect()
    });
    bar.0.finish_and_clear();
    let kept: Vec<PathBuf> = ended
        .iter()
        .filter_map(|e| match e {
            Ended::Written { dir, .. } => Some(dir.clone()),
            _ => None,
        })
        .collect();
    let unfinished: Vec<&str> = plans
        .iter()
        .zip(&ended)
        .filter(|(_, e)| matches!(e, Ended::Interrupted))
        .map(|(p, _)| p.scenario.name.as_str())
        .collect();
    if cancel.load(Ordering::Relaxed) || !unfinished.is_empty() {
        return Err(interrupted(&unfinished, &kept));
    }
    let mut summary = Vec::new();
    let mut closing = Vec::new();
    for (plan, e) in plans.iter().zip(ended) {
        match e {
            Ended::Written {
                summary_rows, line, ..
            } => {
                summary.extend(summary_rows);
                closing.push(line);
            }
            Ended::Interrupted => unreachable!("handled above"),
            Ended::Panicked(panic) => {
                return Err(Failure {
                    code: EXIT_RUNTIME,
                    error: anyhow::anyhow!(
                        "a run of `{}` failed unexpectedly ({panic}); this is a bug in capsim. \
                         Nothing of this scenario was written{}",
                        plan.scenario.name,
                        kept_list(&kept)
                    ),
                })
            }
            Ended::WriteFailed(error) => {
                return Err(Failure {
                    code: EXIT_RUNTIME,
                    error,
                })
            }
        }
    }
    report::write_summary_csv(&opts.out.join("summary.csv"), &summary).map_err(|error| {
        Failure {
            code: EXIT_RUNTIME,
            error,
        }
    })?;
    // The closing summary, on standard output (progress went to standard
    // error): one line per scenario, in the order given.
    if !opts.quiet {
        for line in closing {
            println!("{line}");
        }
    }
    Ok(())
}

/// The worker threads of the job (`--jobs`, default one per core).
fn thread_pool(opts: &RunOptions) -> Result<rayon::ThreadPool, Failure> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.unwrap_or(0))
        .build()
        .map_err(|e| Failure {
            code: EXIT_RUNTIME,
            error: anyhow::anyhow!("cannot start worker threads: {e}"),
        })
}

/// A sharded job keeps its shards in `OUT/shards/`: no scenario's results
/// may go there.
pub(crate) fn refuse_shards_slug(scenarios: &[Scenario]) -> Result<(), Failure> {
    match scenarios.iter().find(|s| s.slug == shards::SHARDS_DIR) {
        Some(s) => Err(Failure {
            code: EXIT_INVALID_INPUT,
            error: anyhow::anyhow!(
                "{}: a sharded job keeps its shards in the folder `{}` of the output folder, \
                 where this scenario's results would go; rename the file to shard it",
                s.path.display(),
                shards::SHARDS_DIR
            ),
        }),
        None => Ok(()),
    }
}

/// The bytes of every scenario file, for unit ids and manifests.
fn read_sources(scenarios: &[Scenario]) -> Result<Vec<Vec<u8>>, Failure> {
    scenarios
        .iter()
        .map(|s| {
            std::fs::read(&s.path).map_err(|e| Failure {
                code: EXIT_INVALID_INPUT,
                error: anyhow::anyhow!("{}: cannot read: {e}", s.path.display()),
            })
        })
        .collect()
}

/// `--list-units`: one JSON line per unit, to standard output.
fn print_units(plans: &[SweepPlan], all: &[units::Unit]) {
    for u in all {
        let sc = plans[u.scenario].scenario;
        let line = serde_json::json!({
            "id": u.id.to_string(),
            "scenario": sc.path.display().to_string(),
            "slug": sc.slug,
            "phase": sc.phases[u.phase].name,
            "design": u.design,
            "estimated_requests": u.cost.round(),
        });
        println!("{line}");
    }
}

/// `--shard M/N`: run this shard's units, longest first, and write them
/// under `OUT/shards/M-of-N/`; nothing else is written.
fn run_shard(
    plans: &[SweepPlan],
    sources: &[Vec<u8>],
    all: &[units::Unit],
    shard: units::Shard,
    pool: &rayon::ThreadPool,
    opts: &RunOptions,
) -> Result<(), Failure> {
    let started = Instant::now();
    let cancel = interrupt_flag();
    let mut mine: Vec<&units::Unit> = all.iter().filter(|u| shard.takes(u)).collect();
    // Longest first, so that the last unit to start is a short one.
    mine.sort_by(|a, b| b.cost.total_cmp(&a.cost).then(a.id.cmp(&b.id)));
    let show_bar = !opts.quiet && std::io::stderr().is_terminal();
    let bar = Bar::new(show_bar, &format!("shard {shard}: {} unit(s)", mine.len()));
    let ran = guarded(|| {
        pool.install(|| {
            mine.par_iter()
                .map(|u| {
                    let t = Instant::now();
                    let mut plan = plans[u.scenario].only_phase(u.phase);
                    plan.cancel = Some(cancel);
                    let result = plan.run(&bar);
                    (result, t.elapsed().as_secs_f64())
                })
                .collect::<Vec<_>>()
        })
    });
    bar.0.finish_and_clear();
    let ran = ran.map_err(|panic| Failure {
        code: EXIT_RUNTIME,
        error: anyhow::anyhow!(
            "a run of shard {shard} failed unexpectedly ({panic}); this is a bug in capsim. \
             Nothing of this shard was written"
        ),
    })?;
    if cancel.load(Ordering::Relaxed) {
        return Err(Failure {
            code: EXIT_INTERRUPTED,
            error: anyhow::anyhow!("interrupted; nothing of shard {shard} was written"),
        });
    }
    let mut entries = Vec::new();
    let mut results = Vec::new();
    for (u, (result, wall_s)) in mine.iter().zip(ran) {
        let sc = plans[u.scenario].scenario;
        entries.push(shards::UnitEntry {
            id: u.id.to_string(),
            scenario: sc.slug.clone(),
            phase: sc.phases[u.phase].name.clone(),
            design: u.design,
            events: result.runs.iter().map(|r| r.events).sum(),
            wall_s,
        });
        results.push(shards::UnitResult { id: u.id.0, result });
    }
    let manifest = shards::Manifest {
        capsim_version: units::VERSION.to_string(),
        shard: shard.to_string(),
        options: opts.sweep.clone(),
        scenarios: plans
            .iter()
            .zip(sources)
            .map(|(p, b)| shards::scenario_entry(&p.scenario.path, &p.scenario.slug, b))
            .collect(),
        events: entries.iter().map(|e| e.events).sum(),
        units: entries,
        wall_s: started.elapsed().as_secs_f64(),
    };
    let dir = shards::write(&opts.out, shard, &manifest, &results).map_err(|error| Failure {
        code: EXIT_RUNTIME,
        error,
    })?;
    if !opts.quiet {
        eprintln!(
            "shard {shard}: {} of {} units, {:.1} M events in {:.1} s → {}",
            manifest.units.len(),
            all.len(),
            manifest.events as f64 / 1e6,
            manifest.wall_s,
            dir.display()
        );
    }
    Ok(())
}

/// How one scenario's part of the job ended.
enum Ended {
    Written {
        dir: PathBuf,
        /// Its rows of summary.csv, written once every scenario is done.
        summary_rows: Vec<Vec<String>>,
        /// Its line of the closing summary (standard output).
        line: String,
    },
    /// Stopped by a signal before its outputs were written: it wrote nothing.
    Interrupted,
    /// A run panicked (a bug): nothing of the scenario was written.
    Panicked(String),
    WriteFailed(anyhow::Error),
}

/// Sweep a planned scenario and analyse it: the path every `simulate` run
/// takes, and the one tests and benches call. A scenario with ranges also
/// runs its uncertainty study ([`designs`]) beside the point run.
pub fn analyse<'p>(plan: &'p SweepPlan<'p>, progress: &dyn Progress) -> Outcome<'p> {
    let (point, variants) = rayon::join(|| plan.run(progress), || designs::run(plan, progress));
    let mut o = Outcome::of(plan, point);
    let capacity: Vec<_> = o.phases.iter().map(|p| p.capacity.clone()).collect();
    o.uncertainty = designs::summarise(plan, variants, &capacity);
    o
}

/// Sweep one scenario and write its outputs; "done" goes to standard error
/// as soon as it is, its one-line summary to standard output at the end.
fn sweep_and_write(plan: &SweepPlan, bar: &Bar, opts: &RunOptions) -> Ended {
    if plan.interrupted() {
        return Ended::Interrupted;
    }
    let started = Instant::now();
    // A panic in a worker is a bug, but it must not end the job as an
    // abort halfway through: rayon hands it to the caller of the parallel
    // loop that raised it, where it becomes this scenario's failure.
    let outcome = match guarded(|| analyse(plan, bar)) {
        Ok(o) => o,
        Err(panic) => return Ended::Panicked(panic),
    };
    if plan.interrupted() {
        return Ended::Interrupted;
    }
    let dir = opts.out.join(&plan.scenario.slug);
    match report::write_scenario(&dir, &outcome, opts.plots) {
        Ok(()) => {
            let line = summary_line(&outcome, started, &dir);
            if !opts.quiet {
                // Progress, on standard error: the line itself closes the
                // run on standard output, in scenario order.
                bar.println(&format!("done: {} → {}", plan.scenario.name, dir.display()));
            }
            Ended::Written {
                dir,
                summary_rows: report::summary_rows(&outcome),
                line,
            }
        }
        Err(e) => Ended::WriteFailed(e),
    }
}

/// The flag that SIGINT (Ctrl-C) and SIGTERM set. The handler is installed
/// once per process; if it cannot be (another one is installed), signals
/// keep their default effect (ending the process, which the atomic writes
/// make safe too).
pub fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: AtomicBool = AtomicBool::new(false);
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| FLAG.store(true, Ordering::Relaxed));
    });
    &FLAG
}

/// The failure of an interrupted job, saying what was kept.
fn interrupted(during: &[&str], kept: &[PathBuf]) -> Failure {
    let during = if during.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = during.iter().map(|n| format!("`{n}`")).collect();
        format!(" while sweeping {}, which wrote nothing", names.join(", "))
    };
    Failure {
        code: EXIT_INTERRUPTED,
        error: anyhow::anyhow!(
            "interrupted{during}; summary.csv was not updated{}",
            kept_list(kept)
        ),
    }
}

/// "; complete results kept in: a, b" (or that nothing was written).
fn kept_list(kept: &[PathBuf]) -> String {
    if kept.is_empty() {
        "; no scenario had finished, so no results were written".to_string()
    } else {
        let dirs: Vec<String> = kept.iter().map(|d| d.display().to_string()).collect();
        format!("; complete results kept in: {}", dirs.join(", "))
    }
}

/// Run `f` on `pool`; a panic in it or in any of its parallel tasks (rayon
/// passes those on to the caller once the others have finished) comes back
/// as its message instead of unwinding through the job.
pub fn install_guarded<T: Send>(
    pool: &rayon::ThreadPool,
    f: impl FnOnce() -> T + Send,
) -> Result<T, String> {
    guarded(|| pool.install(f))
}

/// Run `f`; a panic in it comes back as its message.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|panic| panic_message(panic.as_ref()))
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// One line per scenario: what ran, how long it took, what it found.
fn summary_line(o: &Outcome, started: Instant, dir: &Path) -> String {
    let events: u64 = o.runs.iter().map(|r| r.events).sum();
    let count = |stop: PointStop| o.points.iter().filter(|p| p.estimate.stop == stop).count();
    let sc = o.scenario();
    let capacity: Vec<String> = o
        .phases
        .iter()
        .filter_map(|ph| {
            let c = &ph.capacity;
            let name = &sc.phases[c.phase].name;
            let unit = match o.load {
                LoadAxis::Users => "users",
                LoadAxis::ArrivalRate => "arrivals/s",
            };
            match c.status {
                CapacityStatus::Found => Some(format!("{name} {} {unit}", c.users)),
                CapacityStatus::AboveGrid => Some(format!("{name} ≥ {} {unit}", c.users)),
                CapacityStatus::Bracketed => Some(format!(
                    "{name} {}–{} {unit}",
                    c.users,
                    c.fails_at.unwrap_or(c.users)
                )),
                CapacityStatus::None => Some(format!("{name} none")),
                CapacityStatus::BelowGrid => {
                    Some(format!("{name} < {} {unit}", c.fails_at.unwrap_or(c.users)))
                }
                CapacityStatus::Open => None,
            }
        })
        .collect();
    let capacity = if capacity.is_empty() {
        String::new()
    } else {
        format!("; capacity: {}", capacity.join(", "))
    };
    let claims = if o.verdicts.is_empty() {
        String::new()
    } else {
        let n = |v: Verdict| o.verdicts.iter().filter(|x| x.verdict == v).count();
        format!(
            "; claims: {} supported, {} refuted, {} inconclusive",
            n(Verdict::Supported),
            n(Verdict::Refuted),
            n(Verdict::Inconclusive)
        )
    };
    format!(
        "{}: {} points ({} precise, {} decided, {} at budget, {} unstable), {} runs, {:.1} M events in {:.1} s{}{} → {}",
        sc.name,
        o.points.len(),
        count(PointStop::Precision),
        count(PointStop::Decided),
        count(PointStop::Budget),
        count(PointStop::Unstable),
        o.runs.len(),
        events as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        capacity,
        claims,
        dir.display()
    )
}

/// A progress bar on standard error; hidden (a no-op) when stderr is not a
/// terminal or with `--quiet`, so logs and pipes stay clean.
struct Bar(ProgressBar);

impl Bar {
    /// Print a line above the bar (or plainly, when it is hidden).
    fn println(&self, line: &str) {
        if self.0.is_hidden() {
            eprintln!("{line}");
        } else {
            self.0.println(line);
        }
    }

    fn new(show: bool, name: &str) -> Self {
        if !show {
            return Bar(ProgressBar::hidden());
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} runs (eta {eta})",
        ) {
            bar.set_style(style);
        }
        bar.set_message(name.to_string());
        Bar(bar)
    }
}

impl Progress for Bar {
    fn planned(&self, runs: u64) {
        self.0.inc_length(runs);
    }
    fn finished(&self) {
        self.0.inc(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_worker_comes_back_as_its_message() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let r = install_guarded(&pool, || {
            (0..1000u32)
                .into_par_iter()
                .map(|i| if i == 577 { panic!("run {i} broke") } else { i })
                .sum::<u32>()
        });
        assert_eq!(r, Err("run 577 broke".to_string()));
        // The pool survives and still works.
        let ok = install_guarded(&pool, || (0..1000u32).into_par_iter().sum::<u32>());
        assert_eq!(ok, Ok(499_500));
    }
}
