//! The files `simulate calibrate` writes: the scenario, calibration.csv
//! (one row per measured level: measured, fitted, predicted, error) and
//! calibration.png (measured points, the capsim and USL curves, held-out
//! levels marked), each whole or absent ([`crate::report::write_atomically`]).

use super::{BackTestPoint, CalibrateOptions, Report};
use crate::report::charts::{throughput_chart, ChartMeta, Curve};
use crate::report::write_atomically;
use std::path::{Path, PathBuf};

/// The columns of calibration.csv.
pub const CALIBRATION_COLUMNS: &[&str] = &[
    "users",
    "role",
    "source",
    "measured_throughput_rps",
    "fitted_throughput_rps",
    "predicted_throughput_rps",
    "throughput_error",
    "usl_throughput_rps",
    "usl_error",
    "measured_p50_ms",
    "predicted_p50_ms",
    "p50_error",
    "measured_p95_ms",
    "predicted_p95_ms",
    "p95_error",
    "measured_p99_ms",
    "predicted_p99_ms",
    "p99_error",
    "measured_errors",
    "predicted_errors",
];

/// Where calibration.csv and calibration.png go: beside OUT.toml.
pub fn companions(out: &Path) -> (PathBuf, PathBuf) {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    (dir.join("calibration.csv"), dir.join("calibration.png"))
}

fn cell(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

fn opt(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

fn rel(pred: f64, meas: f64) -> f64 {
    if meas > 0.0 {
        pred / meas - 1.0
    } else {
        f64::NAN
    }
}

fn row(p: &BackTestPoint) -> Vec<String> {
    let m = &p.measured;
    vec![
        m.users.to_string(),
        if p.held_out {
            "held-out"
        } else if p.left_out {
            "left-out"
        } else {
            "fit"
        }
        .to_string(),
        m.source.clone(),
        cell(m.throughput_rps, 3),
        cell(p.fitted.throughput_rps, 3),
        cell(p.predicted.throughput_rps, 3),
        cell(p.capsim_error(), 4),
        cell(p.usl_rps, 3),
        cell(p.usl_error(), 4),
        cell(opt(m.p50_ms), 3),
        cell(p.predicted.p50_ms, 3),
        cell(rel(p.predicted.p50_ms, opt(m.p50_ms)), 4),
        cell(opt(m.p95_ms), 3),
        cell(p.predicted.p95_ms, 3),
        cell(rel(p.predicted.p95_ms, opt(m.p95_ms)), 4),
        cell(opt(m.p99_ms), 3),
        cell(p.predicted.p99_ms, 3),
        cell(rel(p.predicted.p99_ms, opt(m.p99_ms)), 4),
        cell(opt(m.error_rate), 6),
        cell(p.predicted.error_rate, 6),
    ]
}

/// Write OUT.toml, calibration.csv and (unless `plots` is off)
/// calibration.png, then print the summary line.
pub fn write(r: &Report, opts: &CalibrateOptions) -> anyhow::Result<()> {
    let (csv_path, png_path) = companions(&opts.out);
    write_atomically(&opts.out, |w| {
        w.write_all(r.scenario.as_bytes())?;
        Ok(())
    })?;
    write_atomically(&csv_path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(CALIBRATION_COLUMNS)?;
        for p in &r.points {
            out.write_record(row(p))?;
        }
        out.flush()?;
        Ok(())
    })?;
    if opts.plots {
        chart(r, &png_path, opts.seed)?;
    }
    println!("{}", r.summary(&opts.out));
    if let Some(w) = r.fit_warning() {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn curve(label: &str, pts: &[(f64, f64)]) -> Curve {
    Curve {
        label: label.to_string(),
        users: pts.iter().map(|p| p.0).collect(),
        mean: pts.iter().map(|p| p.1).collect(),
        lo: pts.iter().map(|p| p.1).collect(),
        hi: pts.iter().map(|p| p.1).collect(),
        stable: Vec::new(),
    }
}

fn chart(r: &Report, path: &Path, seed: u64) -> anyhow::Result<()> {
    let pick = |held: bool| -> Vec<(f64, f64)> {
        r.points
            .iter()
            .filter(|p| p.held_out == held)
            .map(|p| (p.measured.users as f64, p.measured.throughput_rps))
            .collect()
    };
    let capsim: Vec<(f64, f64)> = r
        .points
        .iter()
        .map(|p| (p.measured.users as f64, p.predicted.throughput_rps))
        .collect();
    let (lo, hi) = (
        r.points.first().map_or(1, |p| p.measured.users) as f64,
        r.points.last().map_or(1, |p| p.measured.users) as f64,
    );
    let usl = r.usl_back.as_ref().or(r.usl_full.as_ref());
    let usl_pts: Vec<(f64, f64)> = usl.map_or(Vec::new(), |u| {
        (0..=60)
            .map(|i| {
                let n = lo * (hi / lo).powf(i as f64 / 60.0);
                (n, u.throughput(n))
            })
            .collect()
    });
    let back = if r.back.is_some() {
        "fitted on the lower levels"
    } else {
        "fitted on every level"
    };
    let curves = vec![
        curve("measured, fitted on", &pick(false)),
        curve("measured, held out (predicted)", &pick(true)),
        curve(&format!("capsim, simulated ({back})"), &capsim),
        curve(&format!("USL ({back})"), &usl_pts),
    ];
    let curves: Vec<Curve> = curves.into_iter().filter(|c| !c.users.is_empty()).collect();
    let meta = ChartMeta {
        scenario: "calibration".into(),
        seed,
        assumptions: "fitted to the load-test files named in calibration.csv".into(),
        slo_error_rate: f64::NAN,
        slo_p95_ms: f64::NAN,
        load: crate::scenario::LoadAxis::Users,
    };
    throughput_chart(path, &meta, &curves, &[])
}
