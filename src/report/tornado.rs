//! `tornado.png`: per phase, the capacity re-simulated with each range at
//! its low end (a bar left or right of the point run's capacity) and at its
//! high end, widest swing on top — one panel per phase.

use super::charts::{
    self, axis_style, render, si, tick_style, title_style, Area, ChartMeta, DrawResult,
};
use crate::outcome::uncertainty::Study;
use crate::outcome::Outcome;
use plotters::prelude::*;
use std::path::Path;

/// One bar: the parameter, capacity at its low end, at mid, at its high end.
type Bar = (String, f64, f64, f64);

/// Ranges shown per phase: the widest few keep the bars readable.
const MAX_BARS: usize = 8;

/// Draw the tornado of every phase with a capacity; whether anything was
/// drawn (an open workload, or no finite capacity, gives nothing).
pub(super) fn write_tornado_png(path: &Path, o: &Outcome, study: &Study) -> anyhow::Result<bool> {
    let sc = o.scenario();
    let panels: Vec<(String, Vec<Bar>)> = o
        .phases
        .iter()
        .map(|ph| {
            let bars: Vec<Bar> = study
                .tornado
                .iter()
                .filter(|b| b.phase == ph.phase)
                .filter(|b| b.at_low.is_finite() && b.at_high.is_finite() && b.at_mid.is_finite())
                .take(MAX_BARS)
                .map(|b| {
                    (
                        study.ranges[b.range].label.clone(),
                        b.at_low,
                        b.at_mid,
                        b.at_high,
                    )
                })
                .collect();
            (sc.phases[ph.phase].name.clone(), bars)
        })
        .filter(|(_, bars)| !bars.is_empty())
        .collect();
    if panels.is_empty() {
        return Ok(false);
    }
    let meta = ChartMeta {
        scenario: sc.name.clone(),
        seed: o.seed(),
        assumptions: super::markdown::assumptions_footer(o),
        slo_error_rate: sc.slo.error_rate,
        slo_p95_ms: sc.slo.p95_ms,
        load: o.load,
    };
    render!(path, &meta, |area| {
        let (head, body) = area.split_vertically(60);
        head.draw_text(
            "Capacity with each range at its low (blue) and high (orange) end, others at mid",
            &title_style(),
            (24, 12),
        )?;
        let parts = body.split_evenly((panels.len(), 1));
        for (part, (name, bars)) in parts.iter().zip(&panels) {
            panel(part, name, bars)?;
        }
        Ok(())
    })?;
    Ok(true)
}

fn panel<DB: DrawingBackend>(area: &Area<DB>, name: &str, bars: &[Bar]) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let lo = bars
        .iter()
        .flat_map(|b| [b.1, b.2, b.3])
        .fold(f64::INFINITY, f64::min);
    let hi = bars
        .iter()
        .flat_map(|b| [b.1, b.2, b.3])
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.08).max(1.0);
    let n = bars.len() as f64;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(name, axis_style())
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(320)
        .build_cartesian_2d((lo - pad).max(0.0)..hi + pad, -0.5..n - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .label_style(tick_style())
        .y_labels(bars.len().max(1))
        .y_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 0.01 && i >= 0.0 {
                // Widest on top: row 0 is drawn at the top.
                labels
                    .get(bars.len() - 1 - i as usize)
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|v| si(*v))
        .draw()?;
    let low_colour = charts::colour(0);
    let high_colour = charts::colour(1);
    for (k, b) in bars.iter().enumerate() {
        let y = (bars.len() - 1 - k) as f64;
        for (end, colour) in [(b.1, low_colour), (b.3, high_colour)] {
            let (a, c) = if end < b.2 { (end, b.2) } else { (b.2, end) };
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, y - 0.35), (c.max(a), y + 0.35)],
                colour.mix(0.8).filled(),
            )))?;
        }
    }
    let mid = bars[0].2;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(mid, -0.5), (mid, n - 0.5)],
        BLACK.stroke_width(2),
    )))?;
    Ok(())
}
