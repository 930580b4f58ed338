//! PNG charts for planning documents, drawn with plotters from plain data.
//!
//! Every chart is 1600×1000 — legible when pasted into a document at half
//! size — with a title, axis labels with units, a legend and a footer naming
//! the scenario and seed. Text uses the DejaVu Sans carried in `assets/fonts`
//! and embedded in the binary, so charts render identically on a machine
//! without any font installed. The inputs are plain numbers, so that they can
//! come from any statistics stage.

use super::write_atomically;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBColor};
use std::path::Path;
use std::sync::OnceLock;

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1600;
/// Height of every chart, in pixels, footer included.
pub const HEIGHT: u32 = 1000;

const FOOTER_PX: u32 = 76;
/// Longest assumptions line a footer holds at its font size; a longer one
/// is cut and points to report.md, which has them all.
const FOOTER_CHARS: usize = 130;
const FONT: &str = "sans-serif";
const TITLE_PX: u32 = 40;
const AXIS_PX: u32 = 28;
const TICK_PX: u32 = 24;
const LEGEND_PX: u32 = 22;

/// Colour-blind-safe qualitative palette (Okabe & Ito), without the yellow
/// that vanishes on white.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];
const INK: RGBColor = RGBColor(40, 40, 40);
const GREY: RGBColor = RGBColor(150, 150, 150);
const SLO_RED: RGBColor = RGBColor(200, 0, 0);

/// Colour of the `i`-th series.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// What every chart of a scenario shows in its footer and SLO line.
#[derive(Clone, Debug)]
pub struct ChartMeta {
    /// The scenario's name, in the footer.
    pub scenario: String,
    /// Seed of the sweep, in the footer: with the scenario it reproduces
    /// the chart.
    pub seed: u64,
    /// The assumptions the chart rests on, in one line (think time, mix,
    /// demands, SLO), in the footer: a chart pasted alone still says them.
    pub assumptions: String,
    /// The SLO's error rate (0–1), drawn as a line on the error chart.
    pub slo_error_rate: f64,
    /// The SLO's p95 response time in ms, drawn as a line on the latency
    /// chart (none when not finite and positive).
    pub slo_p95_ms: f64,
    /// The load axis of the charts against load, as drawn
    /// ("Concurrent users (log scale)", "Arrivals per second (log scale)"):
    /// the outcome's load axis.
    pub load_axis: String,
}

/// One line with its 95% confidence band: `mean[i]` at `users[i]`, the band
/// from `lo[i]` to `hi[i]`. Non-finite or (on log axes) non-positive values
/// break the line rather than drawing nonsense.
#[derive(Clone, Debug, Default)]
pub struct Curve {
    /// The phase (or resource) the line belongs to, shown in the legend.
    pub label: String,
    /// The x values: user counts, ascending.
    pub users: Vec<f64>,
    /// The line at each user count, in the chart's unit (ms, requests per
    /// second, utilisation 0–1).
    pub mean: Vec<f64>,
    /// Low end of the 95% band at each user count.
    pub lo: Vec<f64>,
    /// High end of the 95% band at each user count.
    pub hi: Vec<f64>,
}

/// The curves of one phase, drawn as one panel (utilisation per resource).
#[derive(Clone, Debug)]
pub struct Panel {
    /// The phase's name, the panel's title.
    pub phase: String,
    /// One curve per resource shown, labelled with the resource's name.
    pub curves: Vec<Curve>,
}

/// One bar of the cost chart.
#[derive(Clone, Debug)]
pub struct CostBar {
    /// The phase's name, under its bar.
    pub phase: String,
    /// Components bought once.
    pub fixed_usd_month: f64,
    /// The whole bill at capacity (fixed + load-scaled components), or the
    /// minimum bill when the phase has no capacity.
    pub usd_month: f64,
    /// Users the phase carries within the SLO, written above the bar;
    /// `None` greys the bar out ("misses the SLO").
    pub capacity_users: Option<u32>,
    /// Dollars a month per 1,000 users at that capacity, written above the
    /// bar.
    pub usd_per_1k_users: Option<f64>,
    /// The capacity is only a lower bound (every load simulated met the
    /// SLO): the bar says "≥" users and "≤" per 1k users.
    pub capacity_is_lower_bound: bool,
}

/// One user count of the plan: the cheapest phase carrying it, if any.
#[derive(Clone, Debug)]
pub struct PlanStep {
    /// The load: a simulated user count.
    pub users: u32,
    /// Index into the phase names given with the steps.
    pub phase: Option<usize>,
    /// What that phase costs a month at this load, in USD.
    pub usd_month: Option<f64>,
}

pub(super) type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Register the embedded fonts with plotters, once per process.
fn fonts() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        let regular = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let bold = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, regular).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, bold).is_ok()
    });
    anyhow::ensure!(ok, "the embedded DejaVu Sans font could not be read");
    Ok(())
}

/// Draw into an RGB buffer with `draw`, then write it as a PNG, atomically.
pub(super) fn render(
    path: &Path,
    meta: &ChartMeta,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult<()>,
) -> anyhow::Result<()> {
    fonts()?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn: DrawResult<()> = (|| {
            root.fill(&WHITE)?;
            let (main, footer) = root.split_vertically(HEIGHT - FOOTER_PX);
            draw_footer(&footer, meta)?;
            draw(&main)?;
            root.present()?;
            Ok(())
        })();
        drawn.map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", path.display()))?;
    }
    write_atomically(path, |w| {
        let mut enc = png::Encoder::new(w, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut png = enc.write_header()?;
        png.write_image_data(&rgb)?;
        png.finish()?;
        Ok(())
    })
}

fn draw_footer(area: &DrawingArea<BitMapBackend<'_>, Shift>, meta: &ChartMeta) -> DrawResult<()> {
    area.fill(&RGBColor(245, 245, 245))?;
    let style = TextStyle::from((FONT, 22).into_font()).color(&RGBColor(80, 80, 80));
    area.draw_text(
        &format!(
            "Scenario: {}   ·   seed {}   ·   capsim {}",
            meta.scenario,
            meta.seed,
            env!("CARGO_PKG_VERSION")
        ),
        &style,
        (24, 10),
    )?;
    let line = if meta.assumptions.chars().count() > FOOTER_CHARS {
        let cut: String = meta.assumptions.chars().take(FOOTER_CHARS - 20).collect();
        format!("{cut}… (all in report.md)")
    } else {
        meta.assumptions.clone()
    };
    area.draw_text(&line, &style, (24, 42))?;
    Ok(())
}

/// A chart title centred at the top of `area`.
fn centred_title(area: &DrawingArea<BitMapBackend<'_>, Shift>, title: &str) -> DrawResult<()> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let (w, _) = area.dim_in_pixel();
    let style = title_style().pos(Pos::new(HPos::Center, VPos::Top));
    area.draw_text(title, &style, (w as i32 / 2, 14))?;
    Ok(())
}

/// A log axis from `lo` to `hi` whose labelled ticks suit its span: powers
/// of ten over three decades or more, 1-2-5 over one to three, 1-2-3-5
/// within one (plotters alone would label a single power of ten there).
/// The minor grid marks every digit.
fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let digits = |keep: &dyn Fn(f64) -> bool| -> Vec<f64> {
        let mut out = Vec::new();
        let mut decade = 10f64.powf(lo.log10().floor());
        while decade <= hi {
            for d in 1..10 {
                let v = decade * f64::from(d);
                if v >= lo && v <= hi && keep(f64::from(d)) {
                    out.push(v);
                }
            }
            decade *= 10.0;
        }
        out
    };
    let span = hi / lo;
    let bold = if !(lo > 0.0 && span.is_finite() && span > 1.0) {
        Vec::new()
    } else if span >= 1000.0 {
        digits(&|d| d == 1.0)
    } else if span >= 10.0 {
        digits(&|d| d == 1.0 || d == 2.0 || d == 5.0)
    } else {
        digits(&|d| d == 1.0 || d == 2.0 || d == 3.0 || d == 5.0)
    };
    let light = if bold.is_empty() {
        Vec::new()
    } else {
        digits(&|_| true)
    };
    (lo..hi)
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

pub(super) fn title_style() -> TextStyle<'static> {
    (FONT, TITLE_PX, FontStyle::Bold).into_font().color(&INK)
}

pub(super) fn axis_style() -> TextStyle<'static> {
    (FONT, AXIS_PX).into_font().color(&INK)
}

pub(super) fn tick_style() -> TextStyle<'static> {
    (FONT, TICK_PX).into_font().color(&INK)
}

/// `1500` → `1.5k`, `1000000` → `1M`: tick labels a planner reads at a glance.
pub fn si(v: f64) -> String {
    let (x, suffix) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else if x.abs() >= 10.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    format!("{s}{suffix}")
}

/// A duration in ms as a tick label: `0.5 ms`, `20 ms`, `2 s`.
pub fn duration_label(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", si(ms / 1000.0))
    } else {
        format!("{} ms", si(ms))
    }
}

fn dollars(v: f64) -> String {
    if v >= 100.0 || (v - v.round()).abs() < 1e-9 {
        format!("${}", thousands(v.round()))
    } else {
        format!("${v:.2}")
    }
}

/// `12345` → `12,345` (for annotations, never for CSV cells).
fn thousands(v: f64) -> String {
    let s = format!("{}", v.abs().round() as u64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Maximal runs of drawable points of `(x, y)`.
fn runs(xs: &[f64], ys: &[f64], log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (&x, &y) in xs.iter().zip(ys) {
        let ok = x.is_finite() && x > 0.0 && y.is_finite() && (!log_y || y > 0.0);
        match (ok, out.last_mut()) {
            (true, Some(run)) => run.push((x, y)),
            (false, Some(run)) if !run.is_empty() => out.push(Vec::new()),
            _ => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Polygons of the confidence band, one per run of drawable points.
fn bands(c: &Curve, log_y: bool) -> Vec<Vec<(f64, f64)>> {
    let mut polys = Vec::new();
    let mut cur: Vec<(f64, f64, f64)> = Vec::new();
    let ok = |x: f64, lo: f64, hi: f64| {
        x.is_finite() && x > 0.0 && lo.is_finite() && hi.is_finite() && hi >= lo
    };
    let mut flush = |cur: &mut Vec<(f64, f64, f64)>| {
        if cur.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = cur.iter().map(|&(x, lo, _)| (x, lo)).collect();
            poly.extend(cur.iter().rev().map(|&(x, _, hi)| (x, hi)));
            polys.push(poly);
        }
        cur.clear();
    };
    for i in 0..c.users.len().min(c.lo.len()).min(c.hi.len()) {
        let (x, mut lo, hi) = (c.users[i], c.lo[i], c.hi[i]);
        if log_y && lo <= 0.0 {
            // A wide interval near zero: clip its foot to the line's scale.
            lo = hi.min(c.mean.get(i).copied().unwrap_or(hi)) * 0.5;
        }
        if ok(x, lo, hi) && (!log_y || lo > 0.0) {
            cur.push((x, lo, hi));
        } else {
            flush(&mut cur);
        }
    }
    flush(&mut cur);
    polys
}

/// Draw one curve: its band (translucent), its line, and one legend entry.
fn draw_curve<X, Y>(
    chart: &mut ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
    c: &Curve,
    label: &str,
    colour: RGBColor,
    log_y: bool,
    dashed: bool,
) -> DrawResult<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    // A dashed line is a reference (a bound): no band, no markers.
    for poly in bands(c, log_y).into_iter().filter(|_| !dashed) {
        chart.draw_series(std::iter::once(Polygon::new(
            poly,
            colour.mix(0.18).filled(),
        )))?;
    }
    let mut labelled = false;
    let style = colour.stroke_width(4);
    for run in runs(&c.users, &c.mean, log_y) {
        if !dashed {
            chart.draw_series(run.iter().map(|&p| Circle::new(p, 5, colour.filled())))?;
        }
        let points: Vec<(f64, f64)> = run;
        let anno = if dashed {
            chart.draw_series(DashedLineSeries::new(points, 14, 9, style))?
        } else {
            chart.draw_series(LineSeries::new(points, style))?
        };
        if !labelled {
            labelled = true;
            anno.label(label.to_string()).legend(move |(x, y)| {
                PathElement::new(vec![(x - 6, y), (x + 26, y)], colour.stroke_width(5))
            });
        }
    }
    Ok(())
}

fn legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'b>, CT>,
    pos: SeriesLabelPosition,
) -> DrawResult<()> {
    chart
        .configure_series_labels()
        .position(pos)
        .margin(16)
        .legend_area_size(40)
        .background_style(WHITE.mix(0.88))
        .border_style(GREY)
        .label_font((FONT, LEGEND_PX).into_font().color(&INK))
        .draw()?;
    Ok(())
}

/// A legend laid out as one centred row of swatches and names at height `y`
/// of `area`, wrapping onto a second row when it does not fit.
fn legend_row(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    items: &[(String, RGBColor)],
    y: i32,
) -> DrawResult<()> {
    let style = TextStyle::from((FONT, 24).into_font()).color(&INK);
    let (w, _) = area.dim_in_pixel();
    let (swatch, gap, pad) = (34, 14, 44);
    let mut rows: Vec<Vec<(&str, RGBColor, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for (name, col) in items {
        let (tw, _) = area.estimate_text_size(name, &style)?;
        let width = swatch + gap + tw as i32;
        if used > 0 && used + pad + width > w as i32 - 48 {
            rows.push(Vec::new());
            used = 0;
        }
        used += if used > 0 { pad } else { 0 } + width;
        if let Some(row) = rows.last_mut() {
            row.push((name, *col, width));
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|i| i.2).sum::<i32>() + pad * (row.len() as i32 - 1);
        let mut x = (w as i32 - total) / 2;
        let yy = y + 34 * r as i32;
        for (name, col, width) in row {
            area.draw(&PathElement::new(
                vec![(x, yy + 12), (x + swatch, yy + 12)],
                col.stroke_width(6),
            ))?;
            area.draw_text(name, &style, (x + swatch + gap, yy))?;
            x += width + pad;
        }
    }
    Ok(())
}

/// Range of users over all curves, padded for a log axis.
fn users_range(curves: &[&Curve]) -> (f64, f64) {
    let (lo, hi) = curves
        .iter()
        .flat_map(|c| c.users.iter().copied())
        .filter(|u| u.is_finite() && *u > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), u| (a.min(u), b.max(u)));
    if lo.is_finite() && hi > 0.0 {
        (lo / 1.3, (hi * 1.3).max(lo * 2.0))
    } else {
        (1.0, 10.0)
    }
}

/// Range of positive values over curves (means and bands) and `extra`,
/// padded for a log axis.
fn log_range(curves: &[&Curve], extra: &[f64]) -> (f64, f64) {
    let vals = curves
        .iter()
        .flat_map(|c| c.mean.iter().chain(&c.lo).chain(&c.hi).copied())
        .chain(extra.iter().copied())
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = vals.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if lo.is_finite() && hi > 0.0 {
        (lo / 1.6, (hi * 1.6).max(lo * 10.0))
    } else {
        (1.0, 10.0)
    }
}

/// The common mesh of the charts against users: log x in 1k/10k/1M ticks.
/// (A macro, because plotters' mesh bounds on generic axes are unwieldy.)
macro_rules! users_mesh {
    ($chart:expr, $x_desc:expr, $y_desc:expr, $y_fmt:expr, $axis_px:expr, $tick_px:expr) => {
        $chart
            .configure_mesh()
            .x_desc($x_desc)
            .y_desc($y_desc)
            .axis_desc_style((FONT, $axis_px).into_font().color(&INK))
            .label_style((FONT, $tick_px).into_font().color(&INK))
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| si(*v))
            .y_label_formatter($y_fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(205, 205, 205))
            .draw()?
    };
}

/// A chart over the whole area with the common margins and title.
fn builder<'a, 'b>(
    area: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut b = ChartBuilder::on(area);
    b.caption(title, title_style())
        .margin(24)
        .margin_right(48)
        .x_label_area_size(90)
        .y_label_area_size(130);
    b
}

/// Response time vs users: the median (left) and the 95th percentile with
/// the SLO (right), one line per phase with its 95% confidence band.
pub fn latency_chart(
    path: &Path,
    meta: &ChartMeta,
    p50: &[Curve],
    p95: &[Curve],
) -> anyhow::Result<()> {
    render(path, meta, |area| {
        // One legend for both panels, under the title: inside either panel
        // it would hide the lines, which fill both corners of the top.
        let (head, body) = area.split_vertically(130);
        centred_title(&head, "Response time vs load")?;
        let slo = (meta.slo_p95_ms.is_finite() && meta.slo_p95_ms > 0.0).then_some(meta.slo_p95_ms);
        let mut items: Vec<(String, RGBColor)> = p95
            .iter()
            .enumerate()
            .map(|(i, c)| (c.label.clone(), colour(i)))
            .collect();
        if let Some(slo) = slo {
            items.push((format!("SLO: p95 ≤ {}", duration_label(slo)), SLO_RED));
        }
        legend_row(&head, &items, 76)?;
        let all: Vec<&Curve> = p50.iter().chain(p95).collect();
        let x = users_range(&all);
        let (ylo, yhi) = log_range(&all, &[meta.slo_p95_ms]);
        let panels = body.split_evenly((1, 2));
        for (k, (area, curves, name)) in [
            (&panels[0], p50, "Median (p50)"),
            (&panels[1], p95, "95th percentile (p95)"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut chart = ChartBuilder::on(area)
                .caption(name, (FONT, 30, FontStyle::Bold).into_font().color(&INK))
                .margin(20)
                .margin_right(36)
                .x_label_area_size(90)
                .y_label_area_size(120)
                .build_cartesian_2d(log_axis(x.0, x.1), log_axis(ylo, yhi))?;
            users_mesh!(
                chart,
                meta.load_axis.as_str(),
                "Response time (log scale)",
                &|v| duration_label(*v),
                AXIS_PX,
                TICK_PX
            );
            for (i, c) in curves.iter().enumerate() {
                draw_curve(&mut chart, c, &c.label, colour(i), true, false)?;
            }
            if let (1, Some(slo)) = (k, slo) {
                chart.draw_series(DashedLineSeries::new(
                    vec![(x.0, slo), (x.1, slo)],
                    18,
                    10,
                    SLO_RED.stroke_width(3),
                ))?;
            }
        }
        Ok(())
    })
}

/// Error rate vs users, one line per phase with its 95% band, the SLO's
/// error rate dashed, and a dotted vertical line at each phase's capacity
/// (`capacities[i]` for `curves[i]`, in the phase's colour). Past
/// saturation this is what the latency chart cannot show: the requests that
/// never completed.
pub fn error_chart(
    path: &Path,
    meta: &ChartMeta,
    curves: &[Curve],
    capacities: &[Option<f64>],
) -> anyhow::Result<()> {
    render(path, meta, |area| {
        // The legend above the data, as on the latency chart: the curves
        // rise to the right and would run under a legend in a corner.
        let (head, body) = area.split_vertically(130);
        centred_title(&head, "Error rate vs load")?;
        let slo = meta.slo_error_rate * 100.0;
        let mut items: Vec<(String, RGBColor)> = curves
            .iter()
            .enumerate()
            .map(|(i, c)| (c.label.clone(), colour(i)))
            .collect();
        if slo.is_finite() {
            items.push((format!("SLO: errors ≤ {}%", trim_pct(slo)), SLO_RED));
        }
        legend_row(&head, &items, 76)?;
        let pct: Vec<Curve> = curves
            .iter()
            .map(|c| Curve {
                label: c.label.clone(),
                users: c.users.clone(),
                mean: c.mean.iter().map(|v| v * 100.0).collect(),
                lo: c.lo.iter().map(|v| (v * 100.0).max(0.0)).collect(),
                hi: c.hi.iter().map(|v| (v * 100.0).min(100.0)).collect(),
            })
            .collect();
        let all: Vec<&Curve> = pct.iter().collect();
        let x = users_range(&all);
        let top = all
            .iter()
            .flat_map(|c| c.hi.iter().chain(&c.mean).copied())
            .chain([slo])
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let top = (top * 1.15).clamp(1.0, 105.0);
        let mut chart = ChartBuilder::on(&body)
            .margin(20)
            .margin_right(48)
            .x_label_area_size(90)
            .y_label_area_size(130)
            .build_cartesian_2d(log_axis(x.0, x.1), 0.0..top)?;
        users_mesh!(
            chart,
            meta.load_axis.as_str(),
            "Requests failed or never served (%)",
            &|v| format!("{}%", trim_pct(*v)),
            AXIS_PX,
            TICK_PX
        );
        for (i, c) in pct.iter().enumerate() {
            draw_curve(&mut chart, c, &c.label, colour(i), false, false)?;
            if let Some(Some(cap)) = capacities.get(i) {
                chart.draw_series(DashedLineSeries::new(
                    vec![(*cap, 0.0), (*cap, top)],
                    4,
                    8,
                    colour(i).stroke_width(3),
                ))?;
            }
        }
        if slo.is_finite() {
            chart.draw_series(DashedLineSeries::new(
                vec![(x.0, slo), (x.1, slo)],
                18,
                10,
                SLO_RED.stroke_width(3),
            ))?;
        }
        // A caption for the markers, in the plot's top left corner where
        // the curves, at 0% under light load, are not.
        if capacities.iter().any(Option::is_some) {
            let style = TextStyle::from((FONT, LEGEND_PX).into_font()).color(&INK);
            chart.plotting_area().draw(&Text::new(
                "dotted: each phase's capacity under the SLO",
                (x.0 * 1.08, top * 0.95),
                style,
            ))?;
        }
        Ok(())
    })
}

/// A percentage without trailing zeros.
fn trim_pct(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Throughput vs users per phase (log–log), with each phase's analytic
/// bound dashed in the same colour when given (`bound[i].label` names the
/// phase it bounds).
pub fn throughput_chart(
    path: &Path,
    meta: &ChartMeta,
    sim: &[Curve],
    bound: &[Curve],
) -> anyhow::Result<()> {
    render(path, meta, |area| {
        let all: Vec<&Curve> = sim.iter().chain(bound).collect();
        let x = users_range(&all);
        let (ylo, yhi) = log_range(&all, &[]);
        let mut chart = builder(area, "Throughput vs load")
            .build_cartesian_2d(log_axis(x.0, x.1), log_axis(ylo, yhi))?;
        users_mesh!(
            chart,
            meta.load_axis.as_str(),
            "Throughput (requests/s, log scale)",
            &|v| si(*v),
            AXIS_PX,
            TICK_PX
        );
        for (i, c) in sim.iter().enumerate() {
            draw_curve(&mut chart, c, &c.label, colour(i), true, false)?;
        }
        // One legend entry for all bounds: each is dashed in its phase's colour.
        for (k, b) in bound.iter().enumerate() {
            let i = sim.iter().position(|c| c.label == b.label).unwrap_or(k);
            for run in runs(&b.users, &b.mean, true) {
                chart.draw_series(DashedLineSeries::new(run, 14, 9, colour(i).stroke_width(3)))?;
            }
        }
        if !bound.is_empty() {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label("dashed: analytic bound, min(N / (D + Z), 1 / D_max)")
                .legend(|(x, y)| {
                    plotters::element::DashedPathElement::new(
                        vec![(x - 6, y), (x + 26, y)],
                        6,
                        4,
                        GREY.stroke_width(4),
                    )
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// Utilisation of the main resources vs users, one panel per phase; a
/// resource keeps its colour across panels.
pub fn utilisation_chart(path: &Path, meta: &ChartMeta, panels: &[Panel]) -> anyhow::Result<()> {
    render(path, meta, |area| {
        let (head, body) = area.split_vertically(70);
        centred_title(&head, "Utilisation vs load")?;
        let n = panels.len().max(1);
        let cols = if n == 1 {
            1
        } else if n <= 4 {
            2
        } else {
            3
        };
        let rows = n.div_ceil(cols);
        let cells = body.split_evenly((rows, cols));
        let all: Vec<&Curve> = panels.iter().flat_map(|p| &p.curves).collect();
        let x = users_range(&all);
        let mut names: Vec<&str> = Vec::new();
        for c in &all {
            if !names.contains(&c.label.as_str()) {
                names.push(&c.label);
            }
        }
        let small = rows > 1;
        for (panel, cell) in panels.iter().zip(&cells) {
            let mut chart = ChartBuilder::on(cell)
                .caption(
                    &panel.phase,
                    (FONT, if small { 26 } else { 30 }, FontStyle::Bold)
                        .into_font()
                        .color(&INK),
                )
                .margin(16)
                .margin_right(30)
                .x_label_area_size(if small { 64 } else { 90 })
                .y_label_area_size(if small { 96 } else { 120 })
                .build_cartesian_2d(log_axis(x.0, x.1), 0.0..105.0)?;
            users_mesh!(
                chart,
                meta.load_axis.as_str(),
                "Utilisation (%)",
                &|v| format!("{v:.0}%"),
                if small { 22 } else { AXIS_PX },
                if small { 20 } else { TICK_PX }
            );
            for c in &panel.curves {
                let pct = Curve {
                    label: c.label.clone(),
                    users: c.users.clone(),
                    mean: c.mean.iter().map(|v| v * 100.0).collect(),
                    lo: c.lo.iter().map(|v| (v * 100.0).max(0.0)).collect(),
                    hi: c.hi.iter().map(|v| (v * 100.0).min(105.0)).collect(),
                };
                let i = names.iter().position(|n| *n == c.label).unwrap_or(0);
                draw_curve(&mut chart, &pct, &c.label, colour(i), false, false)?;
            }
            legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        }
        Ok(())
    })
}

/// Monthly cost per phase at its capacity: the fixed part solid, the part
/// that scales with load lighter, annotated with capacity and $ per 1k users.
pub fn cost_chart(path: &Path, meta: &ChartMeta, bars: &[CostBar]) -> anyhow::Result<()> {
    render(path, meta, |area| {
        let n = bars.len().max(1) as f64;
        let top = bars
            .iter()
            .map(|b| b.usd_month)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let ymax = if top > 0.0 { top * 1.3 } else { 10.0 };
        let mut chart = builder(area, "Monthly cost per phase, at capacity")
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..ymax)?;
        let names: Vec<String> = bars.iter().map(|b| b.phase.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("Phase")
            .y_desc("Monthly cost (USD)")
            .axis_desc_style(axis_style())
            .label_style(tick_style())
            .x_labels(bars.len().max(1))
            .y_labels(8)
            .x_label_formatter(&|v| {
                let i = v.round();
                if (v - i).abs() < 0.01 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| dollars(*v))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()?;
        let note = TextStyle::from((FONT, 24).into_font()).color(&INK).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Bottom,
            ),
        );
        let bold = TextStyle::from((FONT, 28, FontStyle::Bold).into_font())
            .color(&INK)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Bottom,
            ));
        let half = 0.32;
        let mut scaled_shown = false;
        for (i, b) in bars.iter().enumerate() {
            let x = i as f64;
            let c = if b.capacity_users.is_some() {
                colour(i)
            } else {
                GREY
            };
            let fixed = b.fixed_usd_month.min(b.usd_month).max(0.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - half, 0.0), (x + half, fixed)],
                c.filled(),
            )))?;
            if b.usd_month > fixed {
                let s = chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - half, fixed), (x + half, b.usd_month)],
                    c.mix(0.45).filled(),
                )))?;
                if !scaled_shown {
                    scaled_shown = true;
                    s.label("lighter: components that scale with users")
                        .legend(|(x, y)| {
                            Rectangle::new(
                                [(x - 6, y - 8), (x + 26, y + 8)],
                                GREY.mix(0.45).filled(),
                            )
                        });
                }
            }
            let y = b.usd_month.max(0.0);
            let step = ymax * 0.045;
            chart.draw_series(std::iter::once(Text::new(
                format!("{}/month", dollars(b.usd_month)),
                (x, y + step * 2.2),
                bold.clone(),
            )))?;
            let (l1, l2) = match (b.capacity_users, b.usd_per_1k_users) {
                (Some(u), Some(k)) if b.capacity_is_lower_bound => (
                    format!("capacity ≥ {} users", thousands(f64::from(u))),
                    format!("≤ {} per 1k users", dollars(k)),
                ),
                (Some(u), Some(k)) => (
                    format!("capacity {} users", thousands(f64::from(u))),
                    format!("{} per 1k users", dollars(k)),
                ),
                _ => (
                    "misses the SLO".to_string(),
                    "at every load simulated".to_string(),
                ),
            };
            chart.draw_series(std::iter::once(Text::new(
                l1,
                (x, y + step * 1.15),
                note.clone(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                l2,
                (x, y + step * 0.2),
                note.clone(),
            )))?;
        }
        if scaled_shown {
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    })
}

/// The plan: for each user count, the monthly cost of the cheapest phase
/// that meets the SLO, as a step line coloured by phase, with the loads at
/// which to migrate marked. `phases` names the phases `steps` refer to.
pub fn plan_chart(
    path: &Path,
    meta: &ChartMeta,
    phases: &[String],
    steps: &[PlanStep],
) -> anyhow::Result<()> {
    render(path, meta, |area| {
        let users: Vec<f64> = steps.iter().map(|s| f64::from(s.users)).collect();
        let probe = Curve {
            users: users.clone(),
            ..Curve::default()
        };
        let x = users_range(&[&probe]);
        let top = steps
            .iter()
            .filter_map(|s| s.usd_month)
            .fold(0.0f64, f64::max);
        let ymax = if top > 0.0 { top * 1.35 } else { 10.0 };
        let mut chart = builder(area, "The plan: cheapest phase meeting the SLO, by load")
            .build_cartesian_2d(log_axis(x.0, x.1), 0.0..ymax)?;
        users_mesh!(
            chart,
            meta.load_axis.as_str(),
            "Monthly cost (USD)",
            &|v| dollars(*v),
            AXIS_PX,
            TICK_PX
        );
        // A phase is only known to carry the loads simulated up to its
        // capacity, so each step is drawn back to the previous simulated
        // load: the migration is due *after* the last load the cheaper phase
        // was shown to carry, not at the next grid point.
        let mut shown: Vec<bool> = vec![false; phases.len()];
        let mut uncovered_from: Option<f64> = None;
        let mut prev: Option<(f64, Option<usize>, Option<f64>)> = None;
        for s in steps.iter().filter(|s| s.users > 0) {
            let u = f64::from(s.users);
            let from = prev.map_or(u, |p| p.0);
            match (s.phase, s.usd_month) {
                (Some(p), Some(c)) if p < phases.len() => {
                    let col = colour(p);
                    let mut pts = Vec::new();
                    if let Some((pu, _, Some(pc))) = prev {
                        pts.push((pu, pc));
                    }
                    pts.extend([(from, c), (u, c)]);
                    let anno = chart.draw_series(LineSeries::new(pts, col.stroke_width(5)))?;
                    if !shown[p] {
                        shown[p] = true;
                        anno.label(plan_label(&phases[p], p, steps))
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x - 6, y), (x + 26, y)], col.stroke_width(6))
                            });
                    }
                    chart.draw_series(std::iter::once(Circle::new((u, c), 6, col.filled())))?;
                }
                _ => {
                    uncovered_from.get_or_insert(from);
                }
            }
            prev = Some((u, s.phase, s.usd_month));
        }
        if let Some(u) = uncovered_from {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(u, 0.0), (x.1, ymax)],
                    SLO_RED.mix(0.08).filled(),
                )))?
                .label(format!(
                    "no phase meets the SLO with the headroom kept beyond {} users",
                    thousands(u)
                ))
                .legend(|(x, y)| {
                    Rectangle::new([(x - 6, y - 8), (x + 26, y + 8)], SLO_RED.mix(0.2).filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    })
}

/// Legend entry of a phase in the plan: the loads it serves and its price,
/// e.g. `Two app hosts: > 5,623 to 10,000 users, $60/month`.
fn plan_label(name: &str, phase: usize, steps: &[PlanStep]) -> String {
    let mut first: Option<(Option<u32>, u32)> = None;
    let mut last = 0;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut before: Option<u32> = None;
    for s in steps.iter().filter(|s| s.users > 0) {
        if s.phase == Some(phase) {
            first.get_or_insert((before, s.users));
            last = s.users;
            if let Some(c) = s.usd_month {
                lo = lo.min(c);
                hi = hi.max(c);
            }
        }
        before = Some(s.users);
    }
    let loads = match first {
        None => return name.to_string(),
        Some((None, _)) => format!("up to {} users", thousands(f64::from(last))),
        Some((Some(b), _)) => format!(
            "> {} to {} users",
            thousands(f64::from(b)),
            thousands(f64::from(last))
        ),
    };
    let price = if hi - lo < 0.005 {
        format!("{}/month", dollars(lo))
    } else {
        format!("{} to {}/month", dollars(lo), dollars(hi))
    };
    format!("{name}: {loads}, {price}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(si(3.0), "3");
        assert_eq!(si(1000.0), "1k");
        assert_eq!(si(1500.0), "1.5k");
        assert_eq!(si(10_000.0), "10k");
        assert_eq!(si(1_000_000.0), "1M");
        assert_eq!(si(0.5), "0.5");
        assert_eq!(si(0.25), "0.25");
        assert_eq!(si(2.5e6), "2.5M");
        assert_eq!(duration_label(2000.0), "2 s");
        assert_eq!(duration_label(20.0), "20 ms");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(dollars(1.5), "$1.50");
        assert_eq!(dollars(1200.0), "$1,200");
    }

    #[test]
    fn lines_break_at_undrawable_points() {
        let r = runs(&[1.0, 2.0, 3.0, 4.0], &[1.0, f64::NAN, 0.0, 2.0], true);
        assert_eq!(r, vec![vec![(1.0, 1.0)], vec![(4.0, 2.0)]]);
        let r = runs(&[1.0, 2.0, 3.0], &[1.0, 0.0, 2.0], false);
        assert_eq!(r, vec![vec![(1.0, 1.0), (2.0, 0.0), (3.0, 2.0)]]);
    }

    fn decode(path: &Path) -> (u32, u32, usize) {
        let file = std::fs::File::open(path).unwrap();
        let mut r = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        let ink = buf[..info.buffer_size()]
            .chunks_exact(3)
            .filter(|p| p != &[255, 255, 255])
            .count();
        (info.width, info.height, ink)
    }

    fn meta() -> ChartMeta {
        ChartMeta {
            scenario: "test".into(),
            seed: 1,
            assumptions: "Assumed: think 1 s".into(),
            slo_error_rate: 0.01,
            slo_p95_ms: 100.0,
            load_axis: "Concurrent users (log scale)".into(),
        }
    }

    #[test]
    fn the_analytic_bound_is_drawn_dashed_beside_the_simulation() {
        let dir = tempfile::tempdir().unwrap();
        let users = vec![10.0, 100.0, 1000.0];
        let sim = Curve {
            label: "A".into(),
            users: users.clone(),
            mean: vec![1.0, 10.0, 50.0],
            lo: vec![0.9, 9.0, 45.0],
            hi: vec![1.1, 11.0, 55.0],
        };
        let bound = Curve {
            label: "A".into(),
            users,
            mean: vec![60.0; 3],
            lo: vec![60.0; 3],
            hi: vec![60.0; 3],
        };
        let with = dir.path().join("with.png");
        let without = dir.path().join("without.png");
        throughput_chart(&with, &meta(), std::slice::from_ref(&sim), &[bound]).unwrap();
        throughput_chart(&without, &meta(), &[sim], &[]).unwrap();
        let (w, h, ink_with) = decode(&with);
        let (_, _, ink_without) = decode(&without);
        assert_eq!((w, h), (WIDTH, HEIGHT));
        // The dashed line and its legend entry add ink.
        assert!(ink_with > ink_without + 500, "{ink_with} vs {ink_without}");
    }

    #[test]
    fn degenerate_inputs_draw_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let odd = vec![
            Curve::default(),
            Curve {
                label: "nan and zero".into(),
                users: vec![0.0, 1.0, f64::NAN, 5.0],
                mean: vec![f64::NAN, 0.0, 1.0],
                lo: vec![-1.0],
                hi: vec![],
            },
            Curve {
                label: "one point".into(),
                users: vec![7.0],
                mean: vec![3.0],
                lo: vec![-5.0],
                hi: vec![9.0],
            },
        ];
        let p = |n: &str| dir.path().join(n);
        latency_chart(&p("l.png"), &meta(), &odd, &[]).unwrap();
        throughput_chart(&p("t.png"), &meta(), &[], &odd).unwrap();
        let panels: Vec<Panel> = (0..7)
            .map(|i| Panel {
                phase: format!("phase {i} with a rather long name for a panel title"),
                curves: odd.clone(),
            })
            .collect();
        utilisation_chart(&p("u.png"), &meta(), &panels).unwrap();
        utilisation_chart(&p("u0.png"), &meta(), &[]).unwrap();
        cost_chart(&p("c0.png"), &meta(), &[]).unwrap();
        let bars = [CostBar {
            phase: "nothing".into(),
            fixed_usd_month: f64::NAN,
            usd_month: f64::INFINITY,
            capacity_users: Some(0),
            usd_per_1k_users: None,
            capacity_is_lower_bound: false,
        }];
        cost_chart(&p("c.png"), &meta(), &bars).unwrap();
        plan_chart(&p("p0.png"), &meta(), &[], &[]).unwrap();
        let steps = [
            PlanStep {
                users: 0,
                phase: Some(0),
                usd_month: Some(1.0),
            },
            PlanStep {
                users: 10,
                phase: Some(5),
                usd_month: Some(1.0),
            },
            PlanStep {
                users: 20,
                phase: None,
                usd_month: None,
            },
        ];
        plan_chart(&p("p.png"), &meta(), &["only".into()], &steps).unwrap();
        assert_eq!(decode(&p("p.png")).0, WIDTH);
    }
}
