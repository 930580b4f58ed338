//! The fitted model as a scenario file: one phase, a queueing station and a
//! delay, every fitted number with a comment naming its file, window and
//! estimator, and `[calibration] measured_max_users` so that sweeps of it
//! mark what lies beyond the measured range.

use super::fit::{Calibration, Param};
use crate::scenario::toml_string;
use std::fmt::Write;

/// Name of the phase a calibrated scenario holds.
pub const PHASE: &str = "Calibrated";
/// Names of its two stations.
pub const STATION: &str = "service";
/// The pure delay's station.
pub const DELAY: &str = "latency";

/// What the scenario text needs beyond the fit.
#[derive(Clone, Debug)]
pub struct ScenarioText<'a> {
    /// Its `name`.
    pub name: &'a str,
    /// The user counts of its sweep.
    pub users: &'a [u32],
    /// `sweep.measured_requests`.
    pub measured_requests: u64,
    /// `seed`.
    pub seed: u64,
}

fn ms(x: f64) -> String {
    // Enough digits for sub-microsecond demands, no noise beyond.
    format!("{}", (x * 1e6).round() / 1e6)
}

fn comment(p: &Param) -> String {
    let iv = if p.interval.0.is_finite() && p.interval.1.is_finite() {
        format!(
            "95% interval [{}, {}] {}",
            sig(p.interval.0),
            sig(p.interval.1),
            p.unit
        )
    } else {
        "interval: not identifiable from these levels".into()
    };
    let mut s = format!(
        "# {}: {} {}; {iv}\n# estimator: {}\n",
        p.name,
        sig(p.value),
        p.unit,
        p.estimator
    );
    if !p.source.is_empty() {
        let _ = writeln!(s, "# measured: {}", p.source);
    }
    s
}

/// A TOML number with six significant digits (no exponent: TOML reads
/// `1e-5` but a spreadsheet user reading the file should not have to).
fn sig_plain(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let digits = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let t = format!("{x:.digits$}");
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    }
}

/// Four significant digits, for comments.
pub fn sig(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    // Below a femto-unit a fitted time is zero that the optimiser did not
    // quite reach (no measured demand is a femtosecond).
    if x.abs() < 1e-12 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}

fn dist(mean_ms: f64, cv: f64) -> String {
    if cv > 1e-3 {
        format!(
            "{{ dist = \"lognormal\", mean_ms = {}, cv = {} }}",
            ms(mean_ms),
            (cv * 1e4).round() / 1e4
        )
    } else {
        format!("{{ dist = \"constant\", mean_ms = {} }}", ms(mean_ms))
    }
}

/// Prefix every line of `text` with `# `.
fn commented(text: &str, indent: &str) -> String {
    text.lines().map(|l| format!("{indent}{l}\n")).collect()
}

/// The scenario text of a calibration.
pub fn scenario_text(c: &Calibration, t: &ScenarioText) -> String {
    let mut s = String::new();
    let max_users = c.points.iter().map(|p| p.users).max().unwrap_or(1);
    let _ = writeln!(
        s,
        "# Written by `simulate calibrate` (capsim {}). Every fitted number below",
        env!("CARGO_PKG_VERSION")
    );
    s.push_str(
        "# names the files and windows it was fitted on and its estimator. The model: users wait\n",
    );
    s.push_str(
        "# think_time between requests; a request queues for its demand at `service` (processor\n",
    );
    s.push_str(
        "# sharing over `servers`, losing `contention` of its rate per job beyond them) and then\n",
    );
    s.push_str("# spends the pure delay at `latency` (round trips, waits that do not queue).\n");
    for l in &c.left_out {
        let _ = writeln!(s, "# Left out of the fit: N = {}: {}.", l.users, l.reason);
    }
    let _ = writeln!(s, "name = {}", toml_string(t.name));
    let _ = writeln!(s, "seed = {}", t.seed);
    s.push_str("\n[workload]\n");
    s.push_str(&comment(&c.think));
    if c.think.value > 1e-6 {
        let _ = writeln!(
            s,
            "think_time = {{ dist = \"exponential\", mean_ms = {} }}",
            ms(c.think.value)
        );
    } else {
        s.push_str("think_time = { dist = \"constant\", mean_ms = 0 }\n");
    }
    for r in &c.requests {
        s.push_str("\n[[workload.request]]\n");
        let _ = writeln!(
            s,
            "# share of requests {:.4}, time {:.4} × the mix's, read from {}",
            r.weight, r.time_ratio, r.source
        );
        let _ = writeln!(s, "name = {}", toml_string(&r.name));
        let _ = writeln!(s, "weight = {}", (r.weight * 1e6).round().max(1.0) / 1e6);
    }
    s.push_str("\n[sweep]\n");
    let users: Vec<String> = t.users.iter().map(u32::to_string).collect();
    let _ = writeln!(s, "users = [{}]", users.join(", "));
    let _ = writeln!(s, "measured_requests = {}", t.measured_requests);
    s.push_str("\n[calibration]\n");
    s.push_str(
        "# the largest load measured: sweep.csv marks points beyond twice it `extrapolated`\n",
    );
    let _ = writeln!(s, "measured_max_users = {max_users}");
    let _ = writeln!(s, "\n[[phase]]\nname = {}", toml_string(PHASE));
    let _ = writeln!(
        s,
        "\n[[phase.station]]\nname = {}\ndiscipline = \"ps\"",
        toml_string(STATION)
    );
    let _ = writeln!(
        s,
        "servers = {}   # fitted: of 1 to the cores given (--servers), the station size that fits best",
        c.servers
    );
    s.push_str(&comment(&c.contention));
    let _ = writeln!(s, "contention = {}", sig_plain(c.contention.value));
    let _ = writeln!(
        s,
        "\n[[phase.station]]\nname = {}\ndiscipline = \"delay\"",
        toml_string(DELAY)
    );
    s.push_str("\n[phase.plan]\n");
    s.push_str(&commented(&comment(&c.demand), ""));
    s.push_str(&commented(&comment(&c.delay), ""));
    s.push_str(&commented(&comment(&c.cv), ""));
    for r in &c.requests {
        let d = c.demand.value * r.time_ratio;
        let l = c.delay.value * r.time_ratio;
        // A demand below a nanosecond is none (the clock's resolution).
        let mut steps = Vec::new();
        if d > 1e-6 {
            steps.push(format!(
                "{{ use = {}, demand = {} }}",
                toml_string(STATION),
                dist(d, c.cv.value)
            ));
        }
        if l > 1e-6 || steps.is_empty() {
            steps.push(format!(
                "{{ use = {}, demand = {} }}",
                toml_string(DELAY),
                dist(l.max(1e-6), c.cv.value)
            ));
        }
        let _ = writeln!(s, "{} = [{}]", toml_string(&r.name), steps.join(", "));
    }
    s
}
