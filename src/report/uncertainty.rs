//! The uncertainty study's files: `uncertainty.csv` (one row per design ×
//! phase), `tornado.csv` (one row per phase × range: the re-simulated
//! tornado and the design's ranking), the robust-verdict section that leads
//! report.md, and the study's columns of capacity.csv and claims.csv.

use super::{num, write_atomically};
use crate::outcome::uncertainty::{Study, TornadoBar};
use crate::outcome::Outcome;
use std::fmt::Write as _;
use std::path::Path;

/// Columns capacity.csv gains when the scenario has ranges.
pub const CAPACITY_STUDY_COLUMNS: &[&str] = &["capacity_p5", "capacity_p50", "capacity_p95"];

/// Columns claims.csv gains when the scenario has ranges.
pub const CLAIMS_STUDY_COLUMNS: &[&str] = &[
    "p_holds",
    "p_holds_low",
    "p_holds_high",
    "designs",
    "robust_verdict",
    "depends_most_on",
];

/// The study's cells of capacity.csv for `phase`.
pub(super) fn capacity_cells(study: &Study, phase: usize) -> Vec<String> {
    match study.capacity.iter().find(|c| c.phase == phase) {
        Some(c) => vec![num(c.p5), num(c.p50), num(c.p95)],
        None => vec![String::new(); 3],
    }
}

/// The study's cells of claims.csv for `claim`.
pub(super) fn claim_cells(study: &Study, claim: usize) -> Vec<String> {
    match study.claims.iter().find(|c| c.claim == claim) {
        Some(c) => vec![
            num(c.p_holds),
            num(c.p_low),
            num(c.p_high),
            c.designs.to_string(),
            c.robust.name().to_string(),
            c.depends_on
                .map_or(String::new(), |r| study.ranges[r].label.clone()),
        ],
        None => vec![String::new(); CLAIMS_STUDY_COLUMNS.len()],
    }
}

/// Write `uncertainty.csv`: per design × phase run, the ranges' values, the
/// capacity and the simulated value of each of the phase's claims (a column
/// per claim, blank on the other phases' rows).
pub fn write_uncertainty_csv(path: &Path, o: &Outcome, study: &Study) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        let mut head = vec![
            "scenario".to_string(),
            "design".to_string(),
            "phase".to_string(),
        ];
        head.extend(study.ranges.iter().map(|r| r.label.clone()));
        head.push("capacity_users".into());
        head.extend(sc.claims.iter().map(|c| format!("claim {}", c.id)));
        out.write_record(&head)?;
        for (k, d) in study.designs.iter().enumerate() {
            for ph in &o.phases {
                let mut row = vec![
                    sc.slug.clone(),
                    (k + 1).to_string(),
                    sc.phases[ph.phase].name.clone(),
                ];
                row.extend(d.values.iter().map(|v| format!("{v}")));
                row.push(num(d.capacity_users(ph.phase)));
                for (c, claim) in d.claims.iter().zip(&sc.claims) {
                    row.push(if claim.phase == ph.phase {
                        num(c.value)
                    } else {
                        String::new()
                    });
                }
                out.write_record(&row)?;
            }
        }
        out.flush()?;
        Ok(())
    })
}

/// The columns of `tornado.csv`.
pub const TORNADO_COLUMNS: &[&str] = &[
    "scenario",
    "phase",
    "parameter",
    "path",
    "low",
    "high",
    "capacity_at_low",
    "capacity_at_mid",
    "capacity_at_high",
    "first_order_index",
    "rank_correlation",
];

/// Write `tornado.csv`: per phase, each range by swing (widest first), its
/// re-simulated capacities and its first-order index over the design.
pub fn write_tornado_csv(path: &Path, o: &Outcome, study: &Study) -> anyhow::Result<()> {
    let sc = o.scenario();
    write_atomically(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(TORNADO_COLUMNS)?;
        for b in &study.tornado {
            let r = &study.ranges[b.range];
            let inf = study
                .ranking
                .iter()
                .find(|i| i.phase == b.phase && i.range == b.range);
            out.write_record([
                sc.slug.clone(),
                sc.phases[b.phase].name.clone(),
                r.label.clone(),
                r.path.clone(),
                format!("{}", r.low),
                format!("{}", r.high),
                num(b.at_low),
                num(b.at_mid),
                num(b.at_high),
                num(inf.map_or(f64::NAN, |i| i.first_order)),
                num(inf.map_or(f64::NAN, |i| i.rank_correlation)),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

/// The section that leads report.md for a scenario with ranges: what was
/// left open, the robust verdicts, capacity across the designs, and what
/// moves it (the re-simulated tornado and the design's ranking).
pub fn robust_section(o: &Outcome, study: &Study, tornado_png: bool) -> String {
    let sc = o.scenario();
    let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
    let mut s = String::new();
    let _ = writeln!(s, "## Robust verdicts\n");
    let _ = writeln!(
        s,
        "What the guide leaves open is given as ranges; {} designs (a Latin hypercube over them, \
         seeded from the scenario's seed, common random numbers throughout) each ran the whole \
         sweep and capacity search. A claim **holds** when it holds in at least 95% of the \
         designs, **fails** when in at most 5%, and otherwise **depends** — most on the range \
         named. The tables further down show the point run, every range at its mid value.\n",
        study.designs.len()
    );
    let _ = writeln!(s, "| range | field | values (point run) |\n|---|---|---|");
    for (r, fields) in study.ranges.iter().zip(&study.fields) {
        let more = if fields.len() > 1 {
            format!(" (and {} more fields, moved together)", fields.len() - 1)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {} | `{}`{more} | {} ({}) |",
            cell(&r.label),
            r.path,
            cell(&r.describe()),
            r.mid()
        );
    }
    if !study.invalid.is_empty() {
        let _ = writeln!(s, "\n**Left out** (not a valid scenario):\n");
        for i in &study.invalid {
            let _ = writeln!(s, "- {}", cell(i));
        }
    }
    if !study.claims.is_empty() {
        let _ = writeln!(
            s,
            "\n| claim | phase | guide says | robust verdict | p_holds (95% CI) | depends most on |\n|---|---|---|---|---|---|"
        );
        for c in &study.claims {
            let claim = &sc.claims[c.claim];
            let _ = writeln!(
                s,
                "| {} | {} | {} | **{}** | {:.0}% ({:.0}–{:.0}%) of {} | {} |",
                cell(&claim.id),
                cell(&sc.phases[claim.phase].name),
                cell(&claim.quote),
                c.robust.name(),
                100.0 * c.p_holds,
                100.0 * c.p_low,
                100.0 * c.p_high,
                c.designs,
                c.depends_on
                    .map_or("—".to_string(), |r| cell(&study.ranges[r].label))
            );
        }
    }
    if o.has_users() {
        let _ = writeln!(
            s,
            "\n| phase | capacity p5 | p50 | p95 | most influential range (first-order index) |\n|---|---|---|---|---|"
        );
        for c in &study.capacity {
            let top = study
                .ranking
                .iter()
                .find(|i| i.phase == c.phase)
                .filter(|i| i.first_order > 0.0)
                .map_or("—".to_string(), |i| {
                    format!(
                        "{} ({:.2})",
                        cell(&study.ranges[i.range].label),
                        i.first_order
                    )
                });
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {top} |",
                cell(&sc.phases[c.phase].name),
                num(c.p5),
                num(c.p50),
                num(c.p95)
            );
        }
        let _ = writeln!(
            s,
            "\n### What moves the capacity\n\nEach phase's capacity re-simulated with one range at \
             its low and at its high end, the others at mid (widest swing first):\n"
        );
        let _ = writeln!(
            s,
            "| phase | range | at low | at mid | at high |\n|---|---|---|---|---|"
        );
        for b in &study.tornado {
            let _ = writeln!(s, "{}", tornado_row(o, study, b));
        }
        if tornado_png {
            let _ = writeln!(
                s,
                "\n![Tornado: capacity at each range's ends](tornado.png)\n\nSVG: [tornado.svg](tornado.svg)"
            );
        }
    }
    let _ = writeln!(s, "\nData: `uncertainty.csv`, `tornado.csv`.\n");
    s
}

fn tornado_row(o: &Outcome, study: &Study, b: &TornadoBar) -> String {
    let sc = o.scenario();
    let r = &study.ranges[b.range];
    format!(
        "| {} | {} ({}–{}) | {} | {} | {} |",
        sc.phases[b.phase].name.replace('|', "\\|"),
        r.label.replace('|', "\\|"),
        r.low,
        r.high,
        num(b.at_low),
        num(b.at_mid),
        num(b.at_high)
    )
}
