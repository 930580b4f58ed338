//! `report.md`: one page per scenario that an architect can paste into a
//! wiki — capacity, cost, the migration plan, the claim verdicts and the
//! charts by relative path.

use super::figures::CHART_FILES;
use super::write_atomically;
use crate::dist::Dist;
use crate::model::Population;
use crate::outcome::cost;
use crate::outcome::sensitivity::PARAMETERS;
use crate::outcome::utilisation::display_name;
use crate::outcome::{ClaimVerdict, Outcome, Sensitivity};
use crate::scenario::{LoadAxis, RequestKind, Scenario};
use crate::sweep::{Capacity, CapacityStatus};
use crate::sweep::{FULL_LENGTH_BUSY, MIN_RUN_LENGTH_SCALE};
use std::fmt::Write as _;
use std::path::Path;

/// Marks the claims section so that tools can find and replace it.
pub const CLAIMS_MARKER: &str = "<!-- capsim:claims -->";

/// Write `report.md`; `charts` are the chart files drawn beside it.
pub fn write_report_md(path: &Path, o: &Outcome, charts: &[&str]) -> anyhow::Result<()> {
    let text = render(o, charts);
    write_atomically(path, |w| Ok(w.write_all(text.as_bytes())?))
}

/// The report as Markdown.
pub fn render(o: &Outcome, charts: &[&str]) -> String {
    let sc = o.scenario();
    let plan = o.plan;
    let mut s = String::new();
    // `write!` to a String cannot fail; the results are discarded on purpose.
    let _ = writeln!(s, "# {}\n", sc.name);
    if let Some(d) = &sc.description {
        let _ = writeln!(s, "{}\n", d.trim());
    }
    let mut users: Vec<u32> = plan.points.iter().map(|p| p.users).collect();
    users.sort_unstable();
    users.dedup();
    let reps = plan
        .points
        .iter()
        .map(|p| p.replication + 1)
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        s,
        "- **Service-level objective:** p95 response time ≤ {} ms and error rate ≤ {}%",
        fmt_num(sc.slo.p95_ms),
        fmt_num(sc.slo.error_rate * 100.0)
    );
    let counts = if users.iter().any(|&u| u > 0) && o.load == LoadAxis::ArrivalRate {
        format!(
            "{} arrival rates from {} to {} per second",
            users.len(),
            thousands(users[0]),
            thousands(users[users.len() - 1])
        )
    } else if users.iter().any(|&u| u > 0) {
        format!(
            "{} user counts from {} to {}",
            users.len(),
            thousands(users[0]),
            thousands(users[users.len() - 1])
        )
    } else {
        "open workload".to_string()
    };
    let replications = if plan.max_replications > reps {
        format!(
            "{reps} replications to start, more until the 95% half-width of mean response is \
             within {}% (at most {})",
            fmt_num(plan.precision * 100.0),
            plan.max_replications
        )
    } else {
        format!(
            "{reps} replication{} each",
            if reps == 1 { "" } else { "s" }
        )
    };
    let measured = plan.config.measured_requests;
    let length = if plan.scale_run_length {
        format!(
            "{} measured requests per run where the bottleneck is at least {}% busy, \
             down to {} at light loads",
            thousands_u64(measured),
            fmt_num(FULL_LENGTH_BUSY * 100.0),
            thousands_u64((measured as f64 * MIN_RUN_LENGTH_SCALE).ceil() as u64)
        )
    } else {
        format!("{} measured requests per run", thousands_u64(measured))
    };
    let _ = writeln!(s, "- **Sweep:** {counts}; {replications}; {length}");
    let _ = writeln!(s, "- **Seed:** {}", o.seed());
    if let Some(g) = &sc.guide {
        let _ = writeln!(s, "- **Guide:** {}", cell(g));
    }
    if sc.overrides.is_empty() {
        let _ = writeln!(s, "- **Scenario file:** `{}`\n", sc.path.display());
    } else {
        let _ = writeln!(s, "- **Scenario file:** `{}`", sc.path.display());
        let sets: Vec<String> = sc
            .overrides
            .iter()
            .map(|o| format!("`--set {}`", o.replace('`', "'")))
            .collect();
        let _ = writeln!(
            s,
            "- **Overrides** (applied to the file before it was checked): {}\n",
            sets.join(", ")
        );
    }
    if let Some(study) = &o.uncertainty {
        s.push_str(&super::uncertainty::robust_section(
            o,
            study,
            charts.contains(&"tornado.png"),
        ));
    }
    s.push_str(&assumptions_block(o));

    if !users.iter().any(|&u| u > 0) {
        open_results(&mut s, sc, o);
    } else {
        capacity_table(&mut s, sc, o);
    }
    cost_table(&mut s, sc, o);

    if !o.migration.is_empty() {
        let _ = writeln!(s, "\n## The plan\n");
        let _ = writeln!(
            s,
            "The cheapest phase that meets the SLO at each simulated load with {}% of its capacity kept in reserve \
             (`[slo] headroom = {}`): when to migrate, and what it costs. A migration is planned only for a \
             capacity gain beyond the noise — the phase's capacity interval (`capacity.csv`: \
             `capacity_users_surely_met` to `_surely_missed`) above the previous phase's.\n",
            fmt_num(sc.slo.headroom * 100.0),
            fmt_num(sc.slo.headroom)
        );
        for line in plan_lines(sc, o) {
            let _ = writeln!(s, "- {line}");
        }
    }

    let _ = writeln!(s, "\n## Claims\n");
    let _ = writeln!(s, "{CLAIMS_MARKER}");
    let claims = claims_section(o);
    if claims.is_empty() {
        let _ = writeln!(s, "_No claims were checked in this run._");
    } else {
        let _ = writeln!(s, "{}", claims.trim_end());
    }

    let _ = writeln!(s, "\n## Charts\n");
    if charts.is_empty() {
        let _ = writeln!(s, "_Charts were not drawn: the run had `--no-plots`, or an open workload, whose single arrival rate gives nothing to draw against users._");
    }
    for (file, title) in CHART_FILES {
        if charts.contains(file) {
            let _ = writeln!(s, "![{title}]({file})\n");
            let svg = super::figures::svg_of(file);
            let _ = writeln!(s, "SVG: [{svg}]({svg})\n");
        }
    }
    let _ = writeln!(
        s,
        "Data: `runs.csv`, `resources.csv`, `requests.csv`, `costs.csv`, `plan.csv` in this folder."
    );
    s
}

/// Marks the assumptions block so that tools can find it.
pub const ASSUMPTIONS_MARKER: &str = "<!-- capsim:assumptions -->";

/// What every number of the report rests on, stated where a reader who
/// pastes the report elsewhere still sees it: the workload (think time or
/// arrival rate), the request mix with each type's demands, the SLO and the
/// plan's headroom, the seed and capsim's version.
pub fn assumptions_block(o: &Outcome) -> String {
    let sc = o.scenario();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Assumptions

{ASSUMPTIONS_MARKER}
"
    );
    let workload = match sc.workload.population {
        Population::Closed { think } => format!(
            "closed users, each with a think time of {} (mean; {}) between a response and their next request",
            ms_or_s(think.mean_ns()),
            dist_name(&think)
        ),
        Population::Open { .. } if o.load == LoadAxis::ArrivalRate => {
            "open: Poisson arrivals at each swept rate (the load axis, in arrivals per second), whatever the response times".to_string()
        }
        Population::Open { rate_per_s } => format!(
            "open: Poisson arrivals at {} requests/s, whatever the response times",
            fmt_num(rate_per_s)
        ),
    };
    let _ = writeln!(s, "- **Workload:** {workload}");
    let _ = writeln!(
        s,
        "- **Request mix** (share; app CPU and database time per request, means):"
    );
    for r in &sc.workload.requests {
        let kind = match r.kind {
            RequestKind::Read if r.cacheable => "read, cacheable",
            RequestKind::Read => "read",
            RequestKind::Write => "write",
        };
        let demand = |d: &Option<Dist>| {
            d.as_ref().map_or("none".to_string(), |d| {
                format!("{} ({})", ms_or_s(d.mean_ns()), dist_name(d))
            })
        };
        let demands = if r.app_cpu.is_none() && r.db.is_none() {
            "demands as each phase's `plan` gives them".to_string()
        } else {
            format!("app CPU {}, database {}", demand(&r.app_cpu), demand(&r.db))
        };
        let _ = writeln!(
            s,
            "  - `{}` {}% ({kind}): {demands}",
            cell(&r.name),
            fmt_num(r.weight * 100.0),
        );
    }
    let _ = writeln!(
        s,
        "- **SLO:** p95 ≤ {} ms, error rate ≤ {}%; the plan keeps {}% of each capacity in reserve (`[slo] headroom`)",
        fmt_num(sc.slo.p95_ms),
        fmt_num(sc.slo.error_rate * 100.0),
        fmt_num(sc.slo.headroom * 100.0)
    );
    let _ = writeln!(
        s,
        "- **Seed** {}, **capsim** {}; each phase's hosts, pools and settings are in the scenario file\n",
        o.seed(),
        env!("CARGO_PKG_VERSION")
    );
    s
}

/// The one-line form of the assumptions, for a chart's footer (the seed
/// and version are on the line above it).
pub fn assumptions_footer(o: &Outcome) -> String {
    let sc = o.scenario();
    let workload = match sc.workload.population {
        Population::Closed { think } => format!("think {}", ms_or_s(think.mean_ns())),
        Population::Open { .. } if o.load == LoadAxis::ArrivalRate => {
            "open arrivals, rate swept".to_string()
        }
        Population::Open { rate_per_s } => format!("{} req/s open", fmt_num(rate_per_s)),
    };
    let mix: Vec<String> = sc
        .workload
        .requests
        .iter()
        .map(|r| {
            let ms = |d: &Option<Dist>| d.as_ref().map_or(0.0, |d| d.mean_ns() / 1e6);
            format!(
                "{} {}% cpu {} ms db {} ms",
                r.name,
                fmt_num(r.weight * 100.0),
                fmt_num(ms(&r.app_cpu)),
                fmt_num(ms(&r.db))
            )
        })
        .collect();
    format!(
        "Assumed: {workload}; {}; SLO p95 ≤ {} ms, errors ≤ {}%, headroom {}%",
        mix.join(", "),
        fmt_num(sc.slo.p95_ms),
        fmt_num(sc.slo.error_rate * 100.0),
        fmt_num(sc.slo.headroom * 100.0)
    )
}

/// A duration in ns as ms below a second, else s.
fn ms_or_s(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{} s", fmt_num(ns / 1e9))
    } else if ns > 0.0 && ns < 1e6 {
        format!("{} µs", fmt_num(ns / 1e3))
    } else {
        format!("{} ms", fmt_num(ns / 1e6))
    }
}

fn dist_name(d: &Dist) -> &'static str {
    match d {
        Dist::Constant { .. } => "constant",
        Dist::Exponential { .. } => "exponential",
        Dist::LogNormal { .. } => "lognormal",
        Dist::Gamma { .. } => "gamma",
        Dist::Uniform { .. } => "uniform",
    }
}

fn capacity_table(s: &mut String, sc: &Scenario, o: &Outcome) {
    let _ = writeln!(s, "## Capacity\n");
    let _ = writeln!(
        s,
        "Capacity is the largest {} whose p95 and error rate meet the SLO, searched by bisection \
         between the grid's last passing and first failing loads (as in `capacity.csv`). The bottleneck is \
         the busiest resource at the load just above capacity.\n",
        match o.load {
            LoadAxis::Users => "user count",
            LoadAxis::ArrivalRate => "arrival rate (whole arrivals per second)",
        }
    );
    let _ = writeln!(
        s,
        "| Phase | Capacity ({}) | p95 at capacity (ms) | Throughput at capacity (req/s) | Bottleneck beyond capacity |",
        o.load.noun()
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---|");
    for p in &o.phases {
        let at = o.at_capacity(p).map(|a| &a.estimate);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            cell(&sc.phases[p.phase].name),
            capacity_cell(&p.capacity, o.load),
            at.map_or("–".into(), |a| fmt_num(a.p95_ms.mean)),
            at.map_or("–".into(), |a| fmt_num(a.throughput_rps.mean)),
            p.beyond_capacity
                .as_ref()
                .map_or("not reached".to_string(), |b| format!(
                    "{} ({:.0}% busy)",
                    display_name(&b.name),
                    b.utilisation.mean * 100.0
                )),
        );
    }
}

/// A capacity as report.md shows it: a value, or the bound it is known by.
fn capacity_cell(c: &Capacity, load: LoadAxis) -> String {
    match (c.status, c.measured(), c.at_least()) {
        (_, Some(u), _) => thousands(u),
        (CapacityStatus::AboveGrid, None, Some(u)) => {
            format!("≥ {} (every load simulated meets the SLO)", thousands(u))
        }
        (CapacityStatus::BelowGrid, ..) => format!(
            "< {} (the smallest load simulated misses the SLO)",
            c.fails_at.map_or("–".into(), thousands)
        ),
        _ if load == LoadAxis::ArrivalRate => {
            "none (not even the lightest rate meets the SLO)".into()
        }
        _ => "none (not even one user meets the SLO)".into(),
    }
}

/// An open workload has one arrival rate: say whether each phase carries it.
fn open_results(s: &mut String, sc: &Scenario, o: &Outcome) {
    let _ = writeln!(s, "## Results\n");
    let _ = writeln!(
        s,
        "An open workload (Poisson arrivals at a fixed rate) has no capacity in users; each phase either carries the rate within the SLO or not.\n"
    );
    let _ = writeln!(
        s,
        "| Phase | Throughput (req/s) | p50 (ms) | p95 (ms) | Error rate | Meets the SLO |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---|");
    for p in &o.phases {
        for pt in o.points_of(p.phase).map(|lp| &lp.estimate) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&sc.phases[p.phase].name),
                fmt_num(pt.throughput_rps.mean),
                fmt_num(pt.p50_ms.mean),
                fmt_num(pt.p95_ms.mean),
                fmt_num(pt.error_rate.mean),
                if pt.meets(&sc.slo) { "yes" } else { "**no**" }
            );
        }
    }
}

fn cost_table(s: &mut String, sc: &Scenario, o: &Outcome) {
    let _ = writeln!(s, "\n## Cost\n");
    let _ = writeln!(
        s,
        "| Phase | Components | Minimum (USD/month) | At capacity (USD/month) | USD per 1k users at capacity |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|");
    for p in &o.phases {
        let ph = &sc.phases[p.phase];
        let items: Vec<String> = ph
            .costs
            .iter()
            .map(|c| match c.per_users {
                None => format!("{} ${}", c.item, fmt_num(c.usd_month)),
                Some(n) => format!(
                    "{} ${} per {} users{}",
                    c.item,
                    fmt_num(c.usd_month),
                    thousands(n),
                    p.cost.capacity_users.map_or(String::new(), |u| format!(
                        " (×{} at capacity)",
                        cost::units(c, u)
                    ))
                ),
            })
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            cell(&ph.name),
            if items.is_empty() {
                "none listed".to_string()
            } else {
                cell(&items.join("; "))
            },
            fmt_money(p.cost.usd_month_min),
            p.cost.usd_month_at_capacity.map_or("–".into(), |x| {
                if p.cost.capacity_is_lower_bound {
                    format!("≥ {}", fmt_money(x))
                } else {
                    fmt_money(x)
                }
            }),
            p.cost.usd_per_1k_users.map_or("–".into(), |x| {
                if p.cost.capacity_is_lower_bound {
                    format!("≤ {}", fmt_money(x))
                } else {
                    fmt_money(x)
                }
            }),
        );
    }
}

/// The plan as ranges of load: "Up to 1,000 users: Base — $20/month".
fn plan_lines(sc: &Scenario, o: &Outcome) -> Vec<String> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < o.migration.len() {
        let first = &o.migration[i];
        let j = i + o.migration[i..]
            .iter()
            .take_while(|p| p.phase == first.phase && p.within_noise == first.within_noise)
            .count();
        let last = &o.migration[j - 1];
        // A phase is shown to carry only the loads simulated, so a range
        // starts just above the previous simulated load.
        let range = if i == 0 {
            format!("Up to {} users", thousands(last.users))
        } else if j == o.migration.len() && first.phase.is_none() {
            format!("Beyond {} users", thousands(o.migration[i - 1].users))
        } else {
            format!(
                "More than {} and up to {} users",
                thousands(o.migration[i - 1].users),
                thousands(last.users)
            )
        };
        let what = match first.phase {
            Some(p) => {
                let lo = first.usd_month.unwrap_or(f64::NAN);
                let hi = last.usd_month.unwrap_or(f64::NAN);
                let price = if (hi - lo).abs() < 0.005 {
                    format!("{}/month", fmt_money(lo))
                } else {
                    format!("{} to {}/month", fmt_money(lo), fmt_money(hi))
                };
                format!("**{}** — {}", sc.phases[o.phases[p].phase].name, price)
            }
            None => match first.within_noise {
                Some(w) => format!(
                    "no migration: **{}** has room, but its capacity is above the previous phase's only within the noise",
                    sc.phases[o.phases[w].phase].name
                ),
                None => "no simulated phase meets the SLO with the headroom kept".to_string(),
            },
        };
        lines.push(format!("{range}: {what}"));
        i = j;
    }
    lines
}

/// The claims section: the verdicts, then what moves each capacity (empty
/// when the scenario has neither).
fn claims_section(o: &Outcome) -> String {
    let sc = o.scenario();
    let mut section = String::new();
    if !sc.claims.is_empty() {
        section.push_str(&claims_table(sc, &o.verdicts));
    }
    if !o.sensitivity.is_empty() && o.uncertainty.is_none() {
        section.push_str(
            "\n### What moves the capacity\n\nEach phase's capacity with one assumption halved or doubled, \
             extrapolated from the simulated capacity by the asymptotic law N ∝ X_max·(Z+R) \
             (the three assumptions that move it most):\n\n",
        );
        section.push_str(&sensitivity_table(sc, &o.sensitivity));
    }
    section
}

/// The claims section of report.md: one row per claim.
fn claims_table(sc: &Scenario, verdicts: &[ClaimVerdict]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::from(
        "| claim | phase | guide says | claimed | simulated (95% CI) | verdict | break-even |\n|---|---|---|---|---|---|---|\n",
    );
    for v in verdicts {
        let c = &sc.claims[v.claim];
        let bound = match (c.min, c.max) {
            (Some(lo), Some(hi)) => format!("{lo} – {hi}"),
            (Some(lo), None) => format!("≥ {lo}"),
            (None, Some(hi)) => format!("≤ {hi}"),
            (None, None) => String::new(),
        };
        let at = c.users.map_or(String::new(), |u| format!(" at {u} users"));
        let value = if let Some((lo, hi)) = v.bound {
            bound_text(lo, hi)
        } else if v.value.mean.is_finite() {
            if v.value.half_width.is_finite() && v.value.half_width > 0.0 {
                format!("{} ± {}", sig(v.value.mean), sig(v.value.half_width))
            } else {
                sig(v.value.mean)
            }
        } else {
            "—".into()
        };
        out.push_str(&format!(
            "| {} | {} | “{}” | {} {}{} | {} | **{}**: {} | {} |\n",
            cell(&c.id),
            cell(&sc.phases[c.phase].name),
            cell(&c.quote),
            c.metric.name(),
            bound,
            at,
            value,
            v.verdict.name(),
            cell(&v.reason),
            cell(&v.break_even),
        ));
    }
    out
}

/// A value known only to lie in [lo, hi], either end possibly infinite.
fn bound_text(lo: f64, hi: f64) -> String {
    if !lo.is_finite() {
        "∞".into()
    } else if !hi.is_finite() {
        format!("≥ {}", sig(lo))
    } else if lo <= 0.0 && hi <= 0.0 {
        "< 1".into()
    } else if lo <= 0.0 {
        format!("≤ {}", sig(hi))
    } else {
        format!("{} – {}", sig(lo), sig(hi))
    }
}

/// A number with about three significant digits, for reading.
fn sig(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// The sensitivity section of report.md: per phase, the assumptions ranked
/// by how far halving or doubling them moves the capacity.
fn sensitivity_table(sc: &Scenario, rows: &[Sensitivity]) -> String {
    let mut out = String::from(
        "| phase | assumption | ×0.5 → capacity | ×2 → capacity |\n|---|---|---|---|\n",
    );
    for (p, phase) in sc.phases.iter().enumerate() {
        let mut params: Vec<(&str, f64, f64, f64)> = PARAMETERS
            .iter()
            .filter_map(|&name| {
                let at = |f: f64| {
                    rows.iter()
                        .find(|s| s.phase == p && s.parameter == name && s.factor == f)
                };
                let (lo, hi) = (at(0.5)?, at(2.0)?);
                let swing = lo.change.abs().max(hi.change.abs());
                Some((name, lo.capacity_users, hi.capacity_users, swing))
            })
            .filter(|x| x.3 > 0.005)
            .collect();
        params.sort_by(|a, b| b.3.total_cmp(&a.3));
        for (name, lo, hi, _) in params.into_iter().take(3) {
            out.push_str(&format!(
                "| {} | {name} | {lo:.0} users | {hi:.0} users |\n",
                phase.name.replace('|', "\\|")
            ));
        }
    }
    out
}

/// A table cell: pipes would end the cell, newlines the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn thousands(u: u32) -> String {
    thousands_u64(u64::from(u))
}

fn thousands_u64(u: u64) -> String {
    let s = u.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Up to three significant decimals, no trailing zeros.
fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let d = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.d$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn fmt_money(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if (x - x.round()).abs() < 0.005 {
        format!("${}", thousands_u64(x.round().max(0.0) as u64))
    } else {
        format!("${x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_numbers_read_well() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(fmt_num(59.914), "59.9");
        assert_eq!(fmt_num(0.5), "0.5");
        assert_eq!(fmt_num(1234.4), "1234");
        assert_eq!(fmt_money(20.0), "$20");
        assert_eq!(fmt_money(2.5), "$2.50");
    }
}
