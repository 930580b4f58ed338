//! The planner's outputs, read back as a spreadsheet or a document would:
//! CSV headers and values, every phase and user count present, PNG charts
//! of the promised size that are not blank, report.md linking what exists.

use crate::helpers::{
    load, read, read_csv, repo, simulate as simulate_cmd, snapshot_settings, temp_dir,
};
use capsim::report::{CHART_FILES, COSTS_COLUMNS, PLAN_COLUMNS, SUMMARY_COLUMNS};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

const USERS: [u32; 3] = [100, 3000, 20_000];

fn scenario() -> PathBuf {
    repo("scenarios/examples/shop_growth.toml")
}

fn simulate(out: &Path, extra: &[&str]) {
    let users = USERS.map(|u| u.to_string()).join(",");
    simulate_cmd()
        .arg(scenario())
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .args([
            "--users",
            &users,
            "--replications",
            "2",
            "--measured-requests",
            "3000",
        ])
        .args(extra)
        .assert()
        .success();
}

fn col(head: &[String], name: &str) -> usize {
    head.iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// A numeric cell as a spreadsheet reads it: empty, or a plain decimal with
/// `.` and no thousands separator.
fn assert_plain_number(cell: &str, what: &str) {
    if cell.is_empty() {
        return;
    }
    assert!(
        cell.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-'),
        "{what}: `{cell}` is not a plain decimal"
    );
    cell.parse::<f64>()
        .unwrap_or_else(|_| panic!("{what}: `{cell}`"));
}

fn phase_names() -> Vec<String> {
    load(&scenario())
        .phases
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn csv_tables_hold_every_phase_and_user_count_with_units_in_their_names() {
    let dir = temp_dir();
    simulate(dir.path(), &["--no-plots"]);
    let sc = dir.path().join("shop_growth");
    let phases = phase_names();
    assert_eq!(phases.len(), 4);

    let (head, rows) = read_csv(&sc.join("costs.csv"));
    assert_eq!(head, COSTS_COLUMNS);
    let got: Vec<&str> = rows
        .iter()
        .map(|r| r[col(&head, "phase")].as_str())
        .collect();
    assert_eq!(got, phases.iter().map(String::as_str).collect::<Vec<_>>());
    for r in &rows {
        for c in [
            "usd_month_min",
            "capacity_users",
            "usd_month_at_capacity",
            "usd_per_1k_users_at_capacity",
        ] {
            assert_plain_number(&r[col(&head, c)], c);
        }
        // The KPI is the bill divided by thousands of users at capacity.
        let cap = &r[col(&head, "capacity_users")];
        if !cap.is_empty() {
            let cap: f64 = cap.parse().unwrap();
            let bill: f64 = r[col(&head, "usd_month_at_capacity")].parse().unwrap();
            let kpi: f64 = r[col(&head, "usd_per_1k_users_at_capacity")]
                .parse()
                .unwrap();
            assert!((kpi - bill / (cap / 1000.0)).abs() < 1e-3, "{r:?}");
            assert!(
                USERS.contains(&(cap as u32)),
                "capacity is a simulated load"
            );
        }
    }

    let (head, rows) = read_csv(&sc.join("plan.csv"));
    assert_eq!(head, PLAN_COLUMNS);
    let users: Vec<u32> = rows
        .iter()
        .map(|r| r[col(&head, "users")].parse().unwrap())
        .collect();
    assert_eq!(users, USERS);
    for r in &rows {
        let p = &r[col(&head, "cheapest_phase")];
        assert!(p.is_empty() || phases.contains(p), "{p}");
        assert_plain_number(&r[col(&head, "usd_month")], "usd_month");
        assert_eq!(p.is_empty(), r[col(&head, "usd_month")].is_empty());
    }

    // Every (phase, users) point has its replications in runs.csv.
    let (head, rows) = read_csv(&sc.join("runs.csv"));
    let seen: BTreeSet<(String, u32)> = rows
        .iter()
        .map(|r| {
            (
                r[col(&head, "phase")].clone(),
                r[col(&head, "users")].parse().unwrap(),
            )
        })
        .collect();
    let want: BTreeSet<(String, u32)> = phases
        .iter()
        .flat_map(|p| USERS.map(|u| (p.clone(), u)))
        .collect();
    assert_eq!(seen, want);

    let (head, rows) = read_csv(&dir.path().join("summary.csv"));
    assert_eq!(head, SUMMARY_COLUMNS);
    assert_eq!(rows.len(), phases.len());
    for c in &head {
        let numeric = c.ends_with("_users")
            || c.ends_with("_ms")
            || c.ends_with("_rps")
            || c.contains("usd")
            || c.ends_with("_rate")
            || c.ends_with("utilisation");
        if numeric {
            for r in &rows {
                assert_plain_number(&r[col(&head, c)], c);
            }
        }
    }

    // --no-plots: no PNG, and the report says why instead of linking to none.
    let pngs: Vec<_> = std::fs::read_dir(&sc)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(pngs.is_empty(), "{pngs:?}");
    // report.md, pinned whole: a row for every phase in the capacity and
    // cost tables, the plan, the claims section behind its marker, no link
    // to a chart and the note that `--no-plots` drew none.
    let report = read(&sc.join("report.md"));
    snapshot_settings(&[])
        .bind(|| insta::assert_snapshot!("shop_growth_report_md_no_plots", report));
}

/// Decode a PNG: (width, height, RGB bytes).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn charts_are_full_size_drawn_images_linked_from_the_report() {
    let dir = temp_dir();
    simulate(dir.path(), &[]);
    let sc = dir.path().join("shop_growth");
    for (file, _) in CHART_FILES {
        let (w, h, rgb) = decode(&sc.join(file));
        assert_eq!((w, h), (1600, 1000), "{file}");
        let pixels: Vec<[u8; 3]> = rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
        let ink = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
        let colours: HashSet<[u8; 3]> = pixels.iter().copied().collect();
        // Axes, grid, text and coloured series: a blank or text-only image
        // has a handful of colours and almost no ink.
        assert!(
            ink * 20 > pixels.len(),
            "{file}: only {ink} non-white pixels"
        );
        assert!(
            colours.len() > 200,
            "{file}: only {} colours",
            colours.len()
        );
        // Every phase's colour is present in the charts with a series per
        // phase (utilisation colours resources; the plan only the phases it picks).
        if ["latency.png", "throughput.png", "cost.png"].contains(file) {
            for i in 0..phase_names().len() {
                let c = capsim::report::charts::colour(i);
                assert!(
                    pixels.contains(&[c.0, c.1, c.2]),
                    "{file}: phase {i}'s colour missing"
                );
            }
        }
    }
    // Every PNG has its SVG: the same drawing, its text in outlines that
    // keep their words.
    let titles = [
        (
            "plan.png",
            "The plan: cheapest phase meeting the SLO, by load",
        ),
        ("latency.png", "Response time vs load"),
        ("errors.png", "Error rate vs load"),
        ("throughput.png", "Throughput vs load"),
        ("utilisation.png", "Utilisation vs load"),
        ("cost.png", "Monthly cost per phase, at capacity"),
    ];
    assert_eq!(titles.len(), CHART_FILES.len());
    for (file, title) in titles {
        assert!(CHART_FILES.iter().any(|(f, _)| *f == file), "{file}");
        let svg = read(&sc.join(capsim::report::svg_of(file)));
        assert_svg(&svg, file);
        assert!(
            svg.contains(&format!("aria-label=\"{}\"", title.replace('\'', "&apos;"))),
            "{file}: no title {title:?} in its SVG"
        );
        for phase in phase_names() {
            if ["latency.png", "throughput.png", "cost.png"].contains(&file) {
                assert!(svg.contains(&phase), "{file}: {phase} missing from its SVG");
            }
        }
    }
    // The report shows every chart, by its relative path and title (the
    // rest of it is pinned by the `--no-plots` snapshot above).
    let report = read(&sc.join("report.md"));
    let charts = &report[report.find("\n## Charts\n").expect("a charts section")..];
    insta::assert_snapshot!("shop_growth_report_md_charts", charts);
}

/// An SVG as capsim writes it: one `<svg>` root, balanced groups, text in
/// glyph outlines (no font asked of the viewer) whose every use is defined.
fn assert_svg(svg: &str, file: &str) {
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{file}"
    );
    assert!(svg.ends_with("</svg>\n"), "{file}");
    assert_eq!(svg.matches("<svg").count(), 1, "{file}");
    assert_eq!(
        svg.matches("<g ").count(),
        svg.matches("</g>").count(),
        "{file}"
    );
    assert!(svg.contains("width=\"1600\" height=\"1000\""), "{file}");
    assert!(
        !svg.contains("<text") && !svg.contains("font-family"),
        "{file}"
    );
    // Every element is closed: self-closed or with its closing tag.
    for tag in ["path", "rect", "polyline", "polygon", "circle", "use"] {
        let open = svg.matches(&format!("<{tag} ")).count();
        // Glyphs, the frame, grid lines and their uses are in every chart.
        let always = ["path", "rect", "polyline", "use"].contains(&tag);
        assert!(open > 0 || !always, "{file}: no <{tag}>");
        assert_eq!(
            svg.split(&format!("<{tag} "))
                .skip(1)
                .filter(|rest| rest.split('>').next().is_some_and(|t| t.ends_with('/')))
                .count(),
            open,
            "{file}: an unclosed <{tag}>"
        );
    }
    for used in svg.split("xlink:href=\"#").skip(1) {
        let id = used.split('"').next().unwrap();
        assert!(
            svg.contains(&format!("<path id=\"{id}\"")),
            "{file}: glyph {id} undefined"
        );
    }
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let one = temp_dir();
    let two = temp_dir();
    simulate(one.path(), &["--jobs", "1"]);
    simulate(two.path(), &["--jobs", "2"]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(one.path().join("shop_growth"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(one.path().join("summary.csv"));
    assert!(files.len() >= 12);
    // The SVGs too: their glyphs are numbered in order of first use.
    for (png, _) in CHART_FILES {
        let svg = one
            .path()
            .join("shop_growth")
            .join(capsim::report::svg_of(png));
        assert!(files.contains(&svg), "{} not written", svg.display());
    }
    for f in files {
        let rel = f.strip_prefix(one.path()).unwrap();
        let a = std::fs::read(&f).unwrap();
        let b = std::fs::read(two.path().join(rel)).unwrap();
        assert!(a == b, "{} differs between 1 and 2 threads", rel.display());
    }
}

#[test]
fn an_open_workload_gets_its_tables_and_a_verdict_but_no_charts() {
    let dir = temp_dir();
    let mm1 = repo("scenarios/validation/mm1_rho50.toml");
    simulate_cmd()
        .arg(mm1)
        .args(["--out", dir.path().to_str().unwrap(), "--quiet"])
        .args(["--replications", "2", "--measured-requests", "2000"])
        .assert()
        .success();
    let sc = dir.path().join("mm1_rho50");
    let (head, rows) = read_csv(&sc.join("costs.csv"));
    assert_eq!(head, COSTS_COLUMNS);
    assert_eq!(rows.len(), 1);
    // Every chart is against users, which an open workload does not vary.
    for (file, _) in CHART_FILES {
        assert!(!sc.join(file).exists(), "{file}");
        assert!(
            !sc.join(capsim::report::svg_of(file)).exists(),
            "{file}'s SVG"
        );
    }
    // The report says it is an open workload, with one results row: M/M/1
    // at ρ = 0.5 has p95 = 20 ms · ln 20 ≈ 60 ms, far within 500 ms, so it
    // meets the SLO ("yes"); and that no chart was drawn.
    let report = read(&sc.join("report.md"));
    snapshot_settings(&[]).bind(|| insta::assert_snapshot!("mm1_rho50_report_md", report));
}
