//! `simulate`: parse the command line and hand over to the library.

#![warn(missing_docs, unreachable_pub)]

use capsim::run::merge::MergeOptions;
use capsim::run::units;
use capsim::run::{self, RunOptions, EXIT_INVALID_INPUT};
use capsim::sweep::SweepOptions;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Simulate the capacity of each phase of an architecture, from scenario files.
///
/// Each scenario's results go to OUT/STEM/ (STEM: the file name without
/// .toml): sweep.csv (one row per phase × users, with 95% confidence
/// half-widths), capacity.csv (one row per phase), runs.csv (one row per
/// phase × users × replication), resources.csv, requests.csv, costs.csv,
/// plan.csv, PNG charts and report.md; OUT/summary.csv sums up every
/// scenario.
#[derive(Parser, Debug)]
#[command(
    name = "simulate",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit status: 0 success; 1 a run or a write failed; 2 invalid scenario or option, or an output folder holds another scenario's results (nothing was run); 130 interrupted by Ctrl-C (SIGINT), SIGTERM or SIGHUP: the sweep stops within moments, scenarios already finished keep their complete outputs, the one being swept writes nothing, and summary.csv is not updated.\n\nOutputs are written to a temporary file and renamed into place, so no file is ever left half-written under its final name."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Scenario files (TOML).
    #[arg(required = true, value_name = "SCENARIO")]
    scenarios: Vec<PathBuf>,

    /// Folder for the results.
    #[arg(short, long, default_value = "output", value_name = "DIR")]
    out: PathBuf,

    /// Override every scenario's seed.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Worker threads (default: one per core; at most 1024). Results do not
    /// depend on it.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,

    /// Simulate only these user counts instead of the sweep (comma-separated;
    /// the arrival rates, for an arrival-rate sweep).
    #[arg(long, value_name = "N", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    users: Option<Vec<u32>>,

    /// Simulate only the phase with this name.
    #[arg(long, value_name = "NAME")]
    phase: Option<String>,

    /// Independent replications per point, exactly (overrides the scenario and
    /// turns off adding replications for precision).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    replications: Option<u32>,

    /// Requests measured per run, exactly (overrides the scenario and turns
    /// off shorter runs at lightly loaded points).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    measured_requests: Option<u64>,

    /// Target precision: add replications to a point until the 95% confidence
    /// half-width of its mean response is within this fraction of the mean
    /// (overrides the scenario's sweep.precision; default 0.05).
    #[arg(long, value_name = "FRACTION", value_parser = parse_precision)]
    precision: Option<f64>,

    /// Designs of the uncertainty study over a scenario's ranges (overrides
    /// `[uncertainty] designs`, default 32); 0 runs the point scenario alone.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    designs: Option<u32>,

    /// Override a field of every scenario, e.g. `--set workload.think_time.mean_s=5`
    /// or `--set phase.Base.app.hosts=4` (repeatable). The value is TOML (a
    /// bare word is a string) and is checked as if written in the file; a
    /// list sweeps the field: `--set phase.Base.app.hosts=[1,2,4]` runs one
    /// variant per value, into OUT/STEM@hosts=1/ and so on.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,

    /// Validate the scenario files and exit without running.
    #[arg(long)]
    check: bool,

    /// Write only the CSV tables and report.md, no PNG charts (faster).
    #[arg(long)]
    no_plots: bool,

    /// Overwrite an output folder even if it holds another scenario's results
    /// (by default such a folder is refused, exit status 2).
    #[arg(long)]
    force: bool,

    /// Print the job's units of work — one (scenario, phase) sweep each — as
    /// JSON lines (id, scenario, phase, estimated requests), and exit.
    #[arg(long)]
    list_units: bool,

    /// Run only shard M of N (1-based, e.g. 2/3) of the job's units and write
    /// them under OUT/shards/M-of-N/ for `simulate merge OUT`; `auto` reads
    /// the array index of Slurm, Kubernetes Indexed Jobs or AWS Batch.
    #[arg(long, value_name = "M/N|auto")]
    shard: Option<String>,

    /// The number of shards, for `--shard auto` under an engine that does
    /// not export it (Kubernetes: JOB_COMPLETION_INDEX; AWS Batch).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    shard_count: Option<u32>,

    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Merge the shards under DIR/shards/ into the outputs one machine would
    /// have written (byte-identical); exit status 2 lists missing units with
    /// the commands that rerun them.
    Merge {
        /// The folder the shards were written to (their --out).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Write only the CSV tables and report.md, no PNG charts.
        #[arg(long)]
        no_plots: bool,
        /// Overwrite scenario folders that hold another scenario's results.
        #[arg(long)]
        force: bool,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Fit a scenario to load-test files (pgbench, Locust, k6, JMeter, plain
    /// CSV), back-test it on the highest levels held out of the fit, and
    /// write OUT.toml, calibration.csv and calibration.png beside it.
    Calibrate {
        /// The load-test files: one load level per file or per window.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Their format (default: told from the content).
        #[arg(long, value_enum, value_name = "F")]
        format: Option<capsim::calibrate::formats::Format>,
        /// Share of the levels, the highest, held out of the fit and predicted.
        #[arg(long, value_name = "FRACTION", default_value_t = capsim::calibrate::DEFAULT_HOLD_OUT, conflicts_with = "fit_lowest")]
        hold_out: f64,
        /// Back-test from the K lowest levels only and predict all the others
        /// (instead of --hold-out): how far a few small load tests reach.
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(2..))]
        fit_lowest: Option<u32>,
        /// The scenario to write (calibration.csv and .png go beside it).
        #[arg(
            short,
            long,
            value_name = "OUT.toml",
            default_value = "calibrated.toml"
        )]
        out: PathBuf,
        /// The cores the measured service ran on: the fitted station has from
        /// 1 to this many servers, whichever fits the levels best.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
        servers: u32,
        /// Users of a file that does not say (Locust's _stats.csv).
        #[arg(long, value_name = "N")]
        users: Option<f64>,
        /// Seed of the simulations.
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Write no calibration.png.
        #[arg(long)]
        no_plots: bool,
        /// Your own scenario (one phase: the engine, its settings, the hosts
        /// as measured): fit the numbers --fit names in it instead of a
        /// one-station network.
        #[arg(long, value_name = "ARCH.toml", requires = "fit")]
        base: Option<PathBuf>,
        /// A number of the --base scenario to fit, by its path (repeat for
        /// more): `workload.think_time.mean_s`,
        /// `workload.request.update.db.mean_ms`, `phase[0].database.fsync_ms`.
        #[arg(long, value_name = "FIELD", requires = "base")]
        fit: Vec<String>,
    },
}

fn parse_precision(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 1.0 => Ok(x),
        _ => Err(format!(
            "`{s}` is not a precision; give a fraction above 0 and at most 1, e.g. 0.05 for ±5%"
        )),
    }
}

fn main() {
    // First of all, so that a signal at any moment ends the job the same way
    // (exit 130, nothing half-written), not by its default action.
    let _ = run::interrupt_flag();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_INVALID_INPUT
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    if let Some(Command::Merge {
        dir,
        no_plots,
        force,
        quiet,
    }) = cli.command
    {
        let opts = MergeOptions {
            dir,
            plots: !no_plots,
            force,
            quiet,
        };
        exit_on_failure(run::merge::merge(&opts));
        return;
    }
    if let Some(Command::Calibrate {
        files,
        format,
        hold_out,
        fit_lowest,
        out,
        servers,
        users,
        seed,
        no_plots,
        base,
        fit,
    }) = cli.command
    {
        let opts = capsim::calibrate::CalibrateOptions {
            files,
            format,
            hold_out,
            fit_lowest: fit_lowest.map(|k| k as usize),
            out,
            servers,
            users,
            seed,
            plots: !no_plots,
            base,
            fit,
            ..Default::default()
        };
        exit_on_failure(capsim::calibrate::run(&opts).map(|_| ()));
        return;
    }
    let shard = match cli.shard.as_deref() {
        None => None,
        Some(s) => {
            let parsed = if s == "auto" {
                units::shard_from_env(|k| std::env::var(k).ok(), cli.shard_count)
            } else {
                units::parse_shard(s)
            };
            match parsed {
                Ok(shard) => Some(shard),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(EXIT_INVALID_INPUT);
                }
            }
        }
    };
    let opts = RunOptions {
        scenarios: cli.scenarios,
        out: cli.out,
        jobs: cli.jobs.map(usize::from),
        check_only: cli.check,
        quiet: cli.quiet,
        plots: !cli.no_plots,
        force: cli.force,
        list_units: cli.list_units,
        shard,
        sweep: SweepOptions {
            seed: cli.seed,
            users: cli.users,
            phase: cli.phase,
            replications: cli.replications,
            measured_requests: cli.measured_requests,
            warmup_requests: None,
            precision: cli.precision,
            designs: cli.designs,
        },
        sets: cli.set,
    };
    exit_on_failure(run::run(&opts));
}

/// Print a failure and exit with its status.
fn exit_on_failure(r: Result<(), run::Failure>) {
    if let Err(f) = r {
        eprintln!("error: {:#}", f.error);
        std::process::exit(f.code);
    }
}
