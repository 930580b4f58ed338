//! PNG charts for planning documents, drawn with plotters from plain data.
//!
//! Every chart is 1600×1000 — legible when pasted into a document at half
//! size — with a title, axis labels with units, a legend and a footer naming
//! the scenario and seed. Text uses the DejaVu Sans carried in `assets/fonts`
//! and embedded in the binary, so charts render identically on a machine
//! without any font installed. The inputs are plain numbers, so that they can
//! come from any statistics stage.

use super::svg::{self, SvgCanvas};
use super::write_atomically;
use crate::scenario::LoadAxis;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, RGBAColor, RGBColor};
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
const LEGEND_PX: u32 = 24;
/// Axis titles and ticks of the small utilisation panels (four or more).
const SMALL_AXIS_PX: u32 = 24;
const SMALL_TICK_PX: u32 = 23;

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
    /// What the charts against load have on their x axis: users or
    /// arrivals per second (the outcome's load axis).
    pub load: LoadAxis,
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
    /// Whether a steady state was measured at each user count; empty when
    /// every point was. The last stable point before an unstable one is
    /// marked "saturated".
    pub stable: Vec<bool>,
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
pub(super) fn fonts() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, svg::REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, svg::BOLD).is_ok()
    });
    anyhow::ensure!(ok, "the embedded DejaVu Sans font could not be read");
    Ok(())
}

/// A drawing area of any backend: one drawing function serves the PNG and
/// the SVG.
pub(super) type Area<DB> = DrawingArea<DB, Shift>;

/// Draw a chart as NAME.png and NAME.svg (`path` names the PNG), from one
/// drawing expression: `render!(path, meta, |area| ...)` hands the same
/// code to [`render_both`] once per backend.
macro_rules! render {
    ($path:expr, $meta:expr, |$area:ident| $draw:expr) => {
        $crate::report::charts::render_both($path, $meta, |$area| $draw, |$area| $draw)
    };
}
pub(super) use render;

/// Draw a chart with `png` into an RGB buffer and with `svg` into an SVG
/// document (the same drawing, one per backend), then write them as `path`
/// and `path` with the extension `svg`, each atomically.
pub(super) fn render_both(
    path: &Path,
    meta: &ChartMeta,
    png: impl FnOnce(&Area<BitMapBackend<'_>>) -> DrawResult<()>,
    svg: impl FnOnce(&Area<SvgCanvas<'_>>) -> DrawResult<()>,
) -> anyhow::Result<()> {
    fonts()?;
    let fail =
        |e: Box<dyn std::error::Error>| anyhow::anyhow!("cannot draw {}: {e}", path.display());
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        frame(&root, meta, png).map_err(fail)?;
    }
    let mut doc = String::new();
    {
        let root = SvgCanvas::new(&mut doc, (WIDTH, HEIGHT)).into_drawing_area();
        frame(&root, meta, svg).map_err(fail)?;
    }
    write_atomically(path, |w| {
        let mut enc = png::Encoder::new(w, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut png = enc.write_header()?;
        png.write_image_data(&rgb)?;
        png.finish()?;
        Ok(())
    })?;
    write_atomically(&path.with_extension("svg"), |w| {
        Ok(w.write_all(doc.as_bytes())?)
    })
}

/// The frame every chart shares: white ground, the footer, then `draw` above it.
fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    meta: &ChartMeta,
    draw: impl FnOnce(&Area<DB>) -> DrawResult<()>,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (main, footer) = root.split_vertically(HEIGHT - FOOTER_PX);
    draw_footer(&footer, meta)?;
    draw(&main)?;
    root.present()?;
    Ok(())
}

fn draw_footer<DB: DrawingBackend>(area: &Area<DB>, meta: &ChartMeta) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
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
fn centred_title<DB: DrawingBackend>(area: &Area<DB>, title: &str) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
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

/// How a series is told apart besides its colour: the marker at each point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// The marker of the `i`-th series: shapes cycle apart from the colours, so
/// two series still differ where their colours are hard to tell apart.
fn marker(i: usize) -> Marker {
    [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
    ][i % 4]
}

/// How one series is drawn: colour, marker, and whether it is dashed
/// (a series lying on an earlier one is dashed over it, so both show).
#[derive(Clone, Copy, Debug)]
struct Look {
    colour: RGBColor,
    marker: Marker,
    /// Dash and gap lengths in pixels; solid when `None`.
    dash: Option<(u32, u32)>,
}

impl Look {
    /// The `i`-th series' look; `coincides` when it lies on an earlier one,
    /// `nth` counting such series so that each gets its own dash.
    fn of(i: usize, coincides: bool, nth: usize) -> Look {
        Look {
            colour: colour(i),
            marker: marker(i),
            dash: coincides.then(|| (14 + 10 * nth as u32 % 30, 14 + 6 * nth as u32 % 24)),
        }
    }
}

/// The y axis a series is drawn on, for telling whether two series lie on
/// top of each other.
#[derive(Clone, Copy, Debug)]
pub enum YAxis {
    /// A log axis spanning the curves' own values.
    Log,
    /// A linear axis from `.0` to `.1`.
    Linear(f64, f64),
}

/// Distance, as a share of the plot's width and height, under which two
/// series are drawn on top of each other (1.2% is about 15 pixels).
const COINCIDE: f64 = 0.012;

/// For each curve, the first earlier curve it coincides with: every point
/// of each lies within `COINCIDE` of the other's line, in the plot's own
/// coordinates (log users across; `y` up), over at least two points. Such
/// curves hide each other; the chart dashes the later one and says which it
/// lies on. Points are compared with the other's line rather than with its
/// points, since each phase's capacity search adds loads of its own; and a
/// curve that goes on where the other stops does not coincide with it.
pub fn coinciding(curves: &[Curve], y: YAxis) -> Vec<Option<usize>> {
    let ok = |u: f64, m: f64| {
        u.is_finite() && u > 0.0 && m.is_finite() && (!matches!(y, YAxis::Log) || m > 0.0)
    };
    let raw: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            c.users
                .iter()
                .zip(&c.mean)
                .filter(|(u, m)| ok(**u, **m))
                .map(|(&u, &m)| {
                    (
                        u.log10(),
                        if matches!(y, YAxis::Log) {
                            m.log10()
                        } else {
                            m
                        },
                    )
                })
                .collect()
        })
        .collect();
    let all = raw.iter().flatten();
    let (x0, x1) = all
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
    let (y0, y1) = match y {
        YAxis::Linear(lo, hi) => (lo, hi),
        YAxis::Log => all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        }),
    };
    let (sx, sy) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    let pts: Vec<Vec<(f64, f64)>> = raw
        .iter()
        .map(|r| {
            r.iter()
                .map(|&(a, b)| ((a - x0) / sx, (b - y0) / sy))
                .collect()
        })
        .collect();
    // Distance from p to the polyline `line` (or its single point).
    let dist = |p: (f64, f64), line: &[(f64, f64)]| -> f64 {
        let seg = |a: (f64, f64), b: (f64, f64)| {
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let len = dx * dx + dy * dy;
            let t = if len > 0.0 {
                (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len).clamp(0.0, 1.0)
            } else {
                0.0
            };
            ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
        };
        match line {
            [] => f64::INFINITY,
            [a] => seg(*a, *a),
            _ => line
                .windows(2)
                .map(|w| seg(w[0], w[1]))
                .fold(f64::INFINITY, f64::min),
        }
    };
    let on = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.len() >= 2
            && b.len() >= 2
            && a.iter().all(|&p| dist(p, b) <= COINCIDE)
            && b.iter().all(|&p| dist(p, a) <= COINCIDE)
    };
    (0..curves.len())
        .map(|i| (0..i).find(|&j| on(&pts[i], &pts[j])))
        .collect()
}

/// The looks of a chart's series and their legend labels, `X (= Y)` for a
/// series that coincides with an earlier one.
fn looks(curves: &[Curve], y: YAxis) -> Vec<(Look, String)> {
    let on = coinciding(curves, y);
    let mut nth = 0;
    curves
        .iter()
        .enumerate()
        .map(|(i, c)| match on[i] {
            Some(j) => {
                nth += 1;
                (
                    Look::of(i, true, nth - 1),
                    format!("{} (= {})", c.label, curves[j].label),
                )
            }
            None => (Look::of(i, false, 0), c.label.clone()),
        })
        .collect()
}

/// Index of the last stable point of a curve that stops because the loads
/// beyond it are unstable: where the chart marks "saturated".
pub fn saturation_point(c: &Curve) -> Option<usize> {
    let first_unstable = c.stable.iter().position(|s| !s)?;
    (0..first_unstable)
        .rev()
        .find(|&k| c.mean.get(k).is_some_and(|m| m.is_finite()) && c.users[k].is_finite())
}

/// Draw one point's marker.
fn draw_marker<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[(f64, f64)],
    look: Look,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    // A dashed series lies on another: hollow markers let the one under show.
    let fill = look.dash.is_none();
    let style = if fill {
        look.colour.filled()
    } else {
        look.colour.stroke_width(3)
    };
    let pts = points.iter().copied();
    match look.marker {
        Marker::Circle => {
            chart.draw_series(pts.map(|p| Circle::new(p, 6, style)))?;
        }
        Marker::Square => {
            chart.draw_series(
                pts.map(|p| EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], style)),
            )?;
        }
        Marker::Triangle => {
            chart.draw_series(pts.map(|p| TriangleMarker::new(p, 8, style)))?;
        }
        Marker::Diamond => {
            chart.draw_series(pts.map(|p| {
                EmptyElement::at(p)
                    + PathElement::new(vec![(0, -8), (8, 0), (0, 8), (-8, 0), (0, -8)], style)
            }))?;
            if fill {
                chart.draw_series(points.iter().map(|&p| {
                    EmptyElement::at(p)
                        + Polygon::new(vec![(0, -8), (8, 0), (0, 8), (-8, 0)], style)
                }))?;
            }
        }
    }
    Ok(())
}

/// Draw one curve: its band (translucent), its line and markers in `look`,
/// and the "saturated" mark at its last stable point.
fn draw_curve<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    c: &Curve,
    look: Look,
    log_y: bool,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    // A series lying on another adds no band: the other's is the same.
    for poly in bands(c, log_y).into_iter().filter(|_| look.dash.is_none()) {
        chart.draw_series(std::iter::once(Polygon::new(
            poly,
            look.colour.mix(0.18).filled(),
        )))?;
    }
    let style = look.colour.stroke_width(4);
    for run in runs(&c.users, &c.mean, log_y) {
        match look.dash {
            Some((dash, gap)) => {
                chart.draw_series(DashedLineSeries::new(run.clone(), dash, gap, style))?
            }
            None => chart.draw_series(LineSeries::new(run.clone(), style))?,
        };
        draw_marker(chart, &run, look)?;
    }
    if let Some(k) = saturation_point(c) {
        let p = (c.users[k], c.mean[k]);
        if !log_y || p.1 > 0.0 {
            chart.draw_series(std::iter::once(Cross::new(p, 12, INK.stroke_width(4))))?;
        }
    }
    Ok(())
}

/// What a legend entry shows beside its name.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A series: its line (dashed or not) and marker.
    Series(Look),
    /// A reference line (SLO, bound, capacity): dashed in a colour.
    Dashed(RGBColor, u32, u32),
    /// A filled box (a bar, a shaded region).
    Box(RGBAColor),
    /// The cross at a curve's last stable load.
    Saturated,
}

/// One legend entry.
type Item = (String, Swatch);

/// One legend entry per styled series.
fn series_items(styled: &[(Look, String)]) -> Vec<Item> {
    styled
        .iter()
        .map(|(look, label)| (label.clone(), Swatch::Series(*look)))
        .collect()
}

const SWATCH_W: i32 = 44;
const ROW_H: i32 = 36;

/// The legend's rows: each a list of (entry, width), fitting `width`.
fn legend_layout<DB: DrawingBackend>(
    area: &Area<DB>,
    items: &[Item],
) -> DrawResult<Vec<Vec<(usize, i32)>>>
where
    DB::ErrorType: 'static,
{
    let style = legend_style();
    let (w, _) = area.dim_in_pixel();
    let (gap, pad) = (12, 40);
    let mut rows: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
    let mut used = 0;
    for (k, (name, _)) in items.iter().enumerate() {
        let (tw, _) = area.estimate_text_size(name, &style)?;
        let width = SWATCH_W + gap + tw as i32;
        if used > 0 && used + pad + width > w as i32 - 48 {
            rows.push(Vec::new());
            used = 0;
        }
        used += if used > 0 { pad } else { 0 } + width;
        if let Some(row) = rows.last_mut() {
            row.push((k, width));
        }
    }
    rows.retain(|r| !r.is_empty());
    Ok(rows)
}

fn legend_style() -> TextStyle<'static> {
    (FONT, LEGEND_PX).into_font().color(&INK)
}

/// A chart's head: its title, and its legend as centred rows under it —
/// outside the data, where no curve runs under it. Returns the area below.
fn head<DB: DrawingBackend>(area: &Area<DB>, title: &str, items: &[Item]) -> DrawResult<Area<DB>>
where
    DB::ErrorType: 'static,
{
    let rows = legend_layout(area, items)?;
    let height = 66 + ROW_H * rows.len() as i32 + if rows.is_empty() { 0 } else { 10 };
    let (top, body) = area.split_vertically(height);
    centred_title(&top, title)?;
    let style = legend_style();
    let (w, _) = top.dim_in_pixel();
    let pad = 40;
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|i| i.1).sum::<i32>() + pad * (row.len() as i32 - 1);
        let mut x = (w as i32 - total) / 2;
        let y = 66 + ROW_H * r as i32;
        for &(k, width) in row {
            let (name, swatch) = &items[k];
            let mid = (x + SWATCH_W / 2, y + 12);
            match *swatch {
                Swatch::Series(look) => {
                    let line = vec![(x, y + 12), (x + SWATCH_W, y + 12)];
                    let style = look.colour.stroke_width(5);
                    match look.dash {
                        Some((d, g)) => top.draw(&plotters::element::DashedPathElement::new(
                            line,
                            d.min(16),
                            g.min(10),
                            style,
                        ))?,
                        None => top.draw(&PathElement::new(line, style))?,
                    }
                    let fill = look.dash.is_none();
                    let st = if fill {
                        look.colour.filled()
                    } else {
                        look.colour.stroke_width(3)
                    };
                    match look.marker {
                        Marker::Circle => top.draw(&Circle::new(mid, 6, st))?,
                        Marker::Square => top.draw(&Rectangle::new(
                            [(mid.0 - 5, mid.1 - 5), (mid.0 + 5, mid.1 + 5)],
                            st,
                        ))?,
                        Marker::Triangle => top.draw(&TriangleMarker::new(mid, 8, st))?,
                        Marker::Diamond => {
                            let d = vec![
                                (mid.0, mid.1 - 8),
                                (mid.0 + 8, mid.1),
                                (mid.0, mid.1 + 8),
                                (mid.0 - 8, mid.1),
                            ];
                            if fill {
                                top.draw(&Polygon::new(d, st))?
                            } else {
                                let mut closed = d.clone();
                                closed.push(d[0]);
                                top.draw(&PathElement::new(closed, st))?
                            }
                        }
                    }
                }
                Swatch::Dashed(c, d, g) => top.draw(&plotters::element::DashedPathElement::new(
                    vec![(x, y + 12), (x + SWATCH_W, y + 12)],
                    d,
                    g,
                    c.stroke_width(4),
                ))?,
                Swatch::Box(c) => top.draw(&Rectangle::new(
                    [(x + 4, y + 2), (x + SWATCH_W - 4, y + 22)],
                    c.filled(),
                ))?,
                Swatch::Saturated => top.draw(&Cross::new(mid, 10, INK.stroke_width(4)))?,
            }
            top.draw_text(name, &style, (x + SWATCH_W + 12, y))?;
            x += width + pad;
        }
    }
    Ok(body)
}

/// The legend entry of the "saturated" cross, when any curve has one.
fn saturated_item(curves: &[&Curve]) -> Option<Item> {
    curves
        .iter()
        .any(|c| saturation_point(c).is_some())
        .then(|| {
            (
                "last stable load: beyond it the phase saturates".to_string(),
                Swatch::Saturated,
            )
        })
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

/// The common mesh of the charts against load: log x in 1k/10k/1M ticks,
/// labelled with the meta's load axis.
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

/// A chart on `area` with the common margins (its title and legend are in
/// the head above it).
fn builder<'a, 'b, DB: DrawingBackend>(area: &'a Area<DB>) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin(20)
        .margin_right(48)
        .x_label_area_size(90)
        .y_label_area_size(130);
    b
}

/// A dotted vertical line at each phase's capacity, in its colour.
fn capacity_lines<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    capacities: &[Option<f64>],
    (bottom, top): (f64, f64),
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, cap) in capacities.iter().enumerate() {
        if let Some(cap) = cap.filter(|c| c.is_finite() && *c > 0.0) {
            chart.draw_series(DashedLineSeries::new(
                vec![(cap, bottom), (cap, top)],
                4,
                8,
                colour(i).stroke_width(3),
            ))?;
        }
    }
    Ok(())
}

fn capacity_item(capacities: &[Option<f64>]) -> Option<Item> {
    capacities.iter().any(Option::is_some).then(|| {
        (
            "dotted: each phase's capacity under the SLO".to_string(),
            Swatch::Dashed(GREY, 4, 8),
        )
    })
}

/// Response time vs users: the median (left) and the 95th percentile with
/// the SLO and each phase's capacity dotted (right, `capacities[i]` for
/// `p95[i]`), one line per phase with its 95% confidence band.
pub fn latency_chart(
    path: &Path,
    meta: &ChartMeta,
    p50: &[Curve],
    p95: &[Curve],
    capacities: &[Option<f64>],
) -> anyhow::Result<()> {
    render!(path, meta, |area| {
        let slo = (meta.slo_p95_ms.is_finite() && meta.slo_p95_ms > 0.0).then_some(meta.slo_p95_ms);
        // Phases coincide when both their medians and their p95s do.
        let on50 = coinciding(p50, YAxis::Log);
        let on95 = coinciding(p95, YAxis::Log);
        let mut nth = 0;
        let styled: Vec<(Look, String)> = p95
            .iter()
            .enumerate()
            .map(|(i, c)| match (on95[i], on50.get(i).copied().flatten()) {
                (Some(j), Some(k)) if j == k => {
                    nth += 1;
                    (
                        Look::of(i, true, nth - 1),
                        format!("{} (= {})", c.label, p95[j].label),
                    )
                }
                _ => (Look::of(i, false, 0), c.label.clone()),
            })
            .collect();
        let all: Vec<&Curve> = p50.iter().chain(p95).collect();
        let mut items = series_items(&styled);
        if let Some(slo) = slo {
            items.push((
                format!("SLO: p95 ≤ {}", duration_label(slo)),
                Swatch::Dashed(SLO_RED, 18, 10),
            ));
        }
        items.extend(capacity_item(capacities));
        items.extend(saturated_item(&all));
        let body = head(area, "Response time vs load", &items)?;
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
                meta.load.axis(),
                "Response time (log scale)",
                &|v| duration_label(*v),
                AXIS_PX,
                TICK_PX
            );
            if k == 1 {
                capacity_lines(&mut chart, capacities, (ylo, yhi))?;
            }
            for (c, (look, _)) in curves.iter().zip(&styled) {
                draw_curve(&mut chart, c, *look, true)?;
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
    render!(path, meta, |area| {
        let slo = meta.slo_error_rate * 100.0;
        let pct: Vec<Curve> = curves.iter().map(|c| percent(c, 100.0)).collect();
        let all: Vec<&Curve> = pct.iter().collect();
        let top = all
            .iter()
            .flat_map(|c| c.hi.iter().chain(&c.mean).copied())
            .chain([slo])
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let top = (top * 1.15).clamp(1.0, 105.0);
        let styled = looks(&pct, YAxis::Linear(0.0, top));
        let mut items = series_items(&styled);
        if slo.is_finite() {
            items.push((
                format!("SLO: errors ≤ {}%", trim_pct(slo)),
                Swatch::Dashed(SLO_RED, 18, 10),
            ));
        }
        items.extend(capacity_item(capacities));
        items.extend(saturated_item(&all));
        let body = head(area, "Error rate vs load", &items)?;
        let x = users_range(&all);
        let mut chart = builder(&body).build_cartesian_2d(log_axis(x.0, x.1), 0.0..top)?;
        users_mesh!(
            chart,
            meta.load.axis(),
            "Requests failed or never served (%)",
            &|v| format!("{}%", trim_pct(*v)),
            AXIS_PX,
            TICK_PX
        );
        capacity_lines(&mut chart, capacities, (0.0, top))?;
        for (c, (look, _)) in pct.iter().zip(&styled) {
            draw_curve(&mut chart, c, *look, false)?;
        }
        if slo.is_finite() {
            chart.draw_series(DashedLineSeries::new(
                vec![(x.0, slo), (x.1, slo)],
                18,
                10,
                SLO_RED.stroke_width(3),
            ))?;
        }
        Ok(())
    })
}

/// A 0–1 curve in percent, its band clipped to [0, `cap`].
fn percent(c: &Curve, cap: f64) -> Curve {
    Curve {
        label: c.label.clone(),
        users: c.users.clone(),
        mean: c.mean.iter().map(|v| v * 100.0).collect(),
        lo: c.lo.iter().map(|v| (v * 100.0).max(0.0)).collect(),
        hi: c.hi.iter().map(|v| (v * 100.0).min(cap)).collect(),
        stable: c.stable.clone(),
    }
}

/// A percentage without trailing zeros.
fn trim_pct(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The colour an analytic bound is drawn in over its phase's curve: the
/// phase's colour, darkened, so that the dashes show on the line they lie on.
pub fn bound_colour(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = colour(i);
    let dark = |v: u8| (f64::from(v) * 0.45).round() as u8;
    RGBColor(dark(r), dark(g), dark(b))
}

/// Throughput vs users per phase (log–log), with each phase's analytic
/// bound dashed on top in a dark shade of its colour when given
/// (`bound[i].label` names the phase it bounds).
pub fn throughput_chart(
    path: &Path,
    meta: &ChartMeta,
    sim: &[Curve],
    bound: &[Curve],
) -> anyhow::Result<()> {
    render!(path, meta, |area| {
        let all: Vec<&Curve> = sim.iter().chain(bound).collect();
        let styled = looks(sim, YAxis::Log);
        let mut items = series_items(&styled);
        if !bound.is_empty() {
            items.push((
                // Along arrival rates the bound is the offered load itself.
                match meta.load {
                    LoadAxis::ArrivalRate => "dashed dark: analytic bound, min(λ, 1 / D_max)",
                    LoadAxis::Users => "dashed dark: analytic bound, min(N / (D + Z), 1 / D_max)",
                }
                .to_string(),
                Swatch::Dashed(INK, 14, 9),
            ));
        }
        let sims: Vec<&Curve> = sim.iter().collect();
        items.extend(saturated_item(&sims));
        let body = head(area, "Throughput vs load", &items)?;
        let x = users_range(&all);
        let (ylo, yhi) = log_range(&all, &[]);
        let mut chart =
            builder(&body).build_cartesian_2d(log_axis(x.0, x.1), log_axis(ylo, yhi))?;
        users_mesh!(
            chart,
            meta.load.axis(),
            "Throughput (requests/s, log scale)",
            &|v| si(*v),
            AXIS_PX,
            TICK_PX
        );
        for (c, (look, _)) in sim.iter().zip(&styled) {
            draw_curve(&mut chart, c, *look, true)?;
        }
        // The bounds last, on top of the simulation they bound: under
        // light load the two coincide, and a bound drawn first vanished.
        for (k, b) in bound.iter().enumerate() {
            let i = sim.iter().position(|c| c.label == b.label).unwrap_or(k);
            for run in runs(&b.users, &b.mean, true) {
                chart.draw_series(DashedLineSeries::new(
                    run,
                    14,
                    9,
                    bound_colour(i).stroke_width(3),
                ))?;
            }
        }
        Ok(())
    })
}

/// Extra colours for panels with more resources than the palette has
/// colours (Tol's muted scheme, distinct from the palette's).
const MORE: [RGBColor; 5] = [
    RGBColor(136, 34, 85),
    RGBColor(153, 153, 51),
    RGBColor(68, 170, 153),
    RGBColor(102, 51, 0),
    RGBColor(120, 120, 120),
];

/// A colour for each resource name over all panels: a name keeps its colour
/// in every panel (one legend serves them all), and no two names drawn in
/// the same panel share one. Greedy: each name, in order of first
/// appearance, takes the first colour no name has yet (so that the legend
/// tells them all apart), and once all are taken, the first that no name it
/// shares a panel with has. Returns the names and their colour indices
/// (into the palette, then MORE).
pub fn resource_colours(panels: &[Panel]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for p in panels {
        for c in &p.curves {
            if out.iter().any(|(n, _)| *n == c.label) {
                continue;
            }
            let taken: Vec<usize> = panels
                .iter()
                .filter(|q| q.curves.iter().any(|d| d.label == c.label))
                .flat_map(|q| &q.curves)
                .filter_map(|d| out.iter().find(|(n, _)| *n == d.label).map(|(_, k)| *k))
                .collect();
            let n = PALETTE.len() + MORE.len();
            let k = (0..n)
                .find(|k| !out.iter().any(|(_, j)| j == k))
                .or_else(|| (0..).find(|k| !taken.contains(k)))
                .unwrap_or(0);
            out.push((c.label.clone(), k));
        }
    }
    out
}

/// The `k`-th colour of the resource colours: the palette, then MORE, then
/// round again.
fn resource_colour(k: usize) -> RGBColor {
    let n = PALETTE.len() + MORE.len();
    match k % n {
        j if j < PALETTE.len() => PALETTE[j],
        j => MORE[j - PALETTE.len()],
    }
}

/// Utilisation of the main resources vs users, one panel per phase; a
/// resource keeps its colour across panels, and the colours within a panel
/// all differ; one legend above the panels names them.
pub fn utilisation_chart(path: &Path, meta: &ChartMeta, panels: &[Panel]) -> anyhow::Result<()> {
    render!(path, meta, |area| {
        let names = resource_colours(panels);
        let look = |label: &str| {
            let k = names
                .iter()
                .find(|(n, _)| n == label)
                .map_or(0, |(_, k)| *k);
            Look {
                colour: resource_colour(k),
                marker: marker(k),
                dash: None,
            }
        };
        let all: Vec<&Curve> = panels.iter().flat_map(|p| &p.curves).collect();
        let items: Vec<Item> = names
            .iter()
            .map(|(n, _)| (n.clone(), Swatch::Series(look(n))))
            .collect();
        let body = head(area, "Utilisation vs load", &items)?;
        let n = panels.len().max(1);
        // Three phases side by side rather than a 2×2 grid with a hole.
        let cols = match n {
            1..=3 => n,
            4 => 2,
            _ => 3,
        };
        let rows = n.div_ceil(cols);
        let cells = body.split_evenly((rows, cols));
        let x = users_range(&all);
        let small = rows > 1;
        for (panel, cell) in panels.iter().zip(&cells) {
            // A long phase name shrinks to fit its panel rather than run
            // off its edge (down to the legend's size).
            let (w, _) = cell.dim_in_pixel();
            let mut size = if small { 27 } else { 30 };
            while size > LEGEND_PX {
                let font = TextStyle::from((FONT, size, FontStyle::Bold).into_font());
                if cell.estimate_text_size(&panel.phase, &font)?.0 + 24 <= w {
                    break;
                }
                size -= 1;
            }
            let mut chart = ChartBuilder::on(cell)
                .caption(
                    &panel.phase,
                    (FONT, size, FontStyle::Bold).into_font().color(&INK),
                )
                .margin(14)
                .margin_right(30)
                .x_label_area_size(if small { 66 } else { 90 })
                .y_label_area_size(if small { 100 } else { 120 })
                .build_cartesian_2d(log_axis(x.0, x.1), 0.0..105.0)?;
            users_mesh!(
                chart,
                meta.load.axis(),
                "Utilisation (%)",
                &|v| format!("{v:.0}%"),
                if small { SMALL_AXIS_PX } else { AXIS_PX },
                if small { SMALL_TICK_PX } else { TICK_PX }
            );
            // Resources at the same utilisation (two replicas) hide each
            // other: the later one is dashed over the first.
            // A resource's utilisation goes on past saturation: the crosses
            // of every resource of every phase would only crowd the panel.
            let pct: Vec<Curve> = panel
                .curves
                .iter()
                .map(|c| Curve {
                    stable: Vec::new(),
                    ..percent(c, 105.0)
                })
                .collect();
            let on = coinciding(&pct, YAxis::Linear(0.0, 105.0));
            for (i, c) in pct.iter().enumerate() {
                let mut l = look(&c.label);
                if on[i].is_some() {
                    l.dash = Some((14, 14));
                }
                draw_curve(&mut chart, c, l, false)?;
            }
        }
        Ok(())
    })
}

/// Monthly cost per phase at its capacity: the fixed part solid, the part
/// that scales with load lighter, annotated with capacity and $ per 1k users.
pub fn cost_chart(path: &Path, meta: &ChartMeta, bars: &[CostBar]) -> anyhow::Result<()> {
    render!(path, meta, |area| {
        let n = bars.len().max(1) as f64;
        let top = bars
            .iter()
            .map(|b| b.usd_month)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let ymax = if top > 0.0 { top * 1.3 } else { 10.0 };
        let scaled = bars
            .iter()
            .any(|b| b.usd_month > b.fixed_usd_month.min(b.usd_month).max(0.0));
        let items: Vec<Item> = if scaled {
            vec![(
                "lighter: components that scale with users".to_string(),
                Swatch::Box(GREY.mix(0.45)),
            )]
        } else {
            Vec::new()
        };
        let body = head(area, "Monthly cost per phase, at capacity", &items)?;
        let mut chart = builder(&body).build_cartesian_2d(-0.5..n - 0.5, 0.0..ymax)?;
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
        if top <= 0.0 && !bars.is_empty() {
            // Bars of $0 draw nothing: say why the chart is empty.
            let style = TextStyle::from((FONT, AXIS_PX).into_font())
                .color(&INK)
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            chart.draw_series(std::iter::once(Text::new(
                "The scenario prices no component: every phase costs $0 a month",
                ((n - 1.0) / 2.0, ymax * 0.55),
                style,
            )))?;
        }
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
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - half, fixed), (x + half, b.usd_month)],
                    c.mix(0.45).filled(),
                )))?;
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
    render!(path, meta, |area| {
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
        // The legend first (it sets the head's height): each phase the plan
        // picks, then the loads no phase carries.
        let mut items: Vec<Item> = Vec::new();
        let mut listed: Vec<usize> = Vec::new();
        let mut uncovered: Option<f64> = None;
        let mut before: Option<f64> = None;
        for s in steps.iter().filter(|s| s.users > 0) {
            let u = f64::from(s.users);
            match (s.phase, s.usd_month) {
                (Some(p), Some(_)) if p < phases.len() => {
                    if !listed.contains(&p) {
                        listed.push(p);
                        items.push((
                            plan_label(&phases[p], p, steps),
                            Swatch::Series(Look::of(p, false, 0)),
                        ));
                    }
                }
                _ => {
                    uncovered.get_or_insert(before.unwrap_or(u));
                }
            }
            before = Some(u);
        }
        if let Some(u) = uncovered {
            items.push((
                format!(
                    "no phase meets the SLO with the headroom kept beyond {} users",
                    thousands(u)
                ),
                Swatch::Box(SLO_RED.mix(0.2)),
            ));
        }
        let body = head(
            area,
            "The plan: cheapest phase meeting the SLO, by load",
            &items,
        )?;
        let mut chart = builder(&body).build_cartesian_2d(log_axis(x.0, x.1), 0.0..ymax)?;
        users_mesh!(
            chart,
            meta.load.axis(),
            "Monthly cost (USD)",
            &|v| dollars(*v),
            AXIS_PX,
            TICK_PX
        );
        // A phase is only known to carry the loads simulated up to its
        // capacity, so each step is drawn back to the previous simulated
        // load: the migration is due *after* the last load the cheaper phase
        // was shown to carry, not at the next grid point.
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
                    chart.draw_series(LineSeries::new(pts, col.stroke_width(5)))?;
                    draw_marker(&mut chart, &[(u, c)], Look::of(p, false, 0))?;
                }
                _ => {
                    uncovered_from.get_or_insert(from);
                }
            }
            prev = Some((u, s.phase, s.usd_month));
        }
        if let Some(u) = uncovered_from {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(u, 0.0), (x.1, ymax)],
                SLO_RED.mix(0.08).filled(),
            )))?;
        }
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

    /// A planning document shows a chart about 780 px wide: the smallest
    /// text drawn (ticks, legends, the small panels' ticks) must
    /// still be 11 px there, the usual floor for body text on screen.
    #[test]
    fn the_smallest_text_is_legible_at_a_documents_width() {
        let at_780 = |px: u32| f64::from(px) * 780.0 / f64::from(WIDTH);
        for px in [TICK_PX, LEGEND_PX, AXIS_PX, SMALL_AXIS_PX, SMALL_TICK_PX] {
            assert!(
                at_780(px) >= 11.0,
                "{px} px at {WIDTH} is {:.1} px at 780",
                at_780(px)
            );
        }
    }

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

    fn line(label: &str, users: &[f64], mean: &[f64]) -> Curve {
        Curve {
            label: label.into(),
            users: users.to_vec(),
            mean: mean.to_vec(),
            lo: mean.to_vec(),
            hi: mean.to_vec(),
            stable: Vec::new(),
        }
    }

    #[test]
    fn coinciding_series_are_found_and_named_in_the_legend() {
        let u = [10.0, 100.0, 1000.0, 10_000.0];
        let curves = [
            line("Base", &u, &[1.0, 10.0, 100.0, 150.0]),
            // Within 3% of Base at every load: hidden under it.
            line("Pooler", &u, &[1.01, 10.1, 99.0, 151.0]),
            // Apart at the last load only: visible.
            line("Replicas", &u, &[1.0, 10.0, 100.0, 300.0]),
            // Lies on the replicas, not on Base.
            line("Redis", &u, &[1.0, 10.0, 100.0, 295.0]),
            // Base's points up to where it stops, then three more: it goes
            // on where Base stops, so it does not hide behind it.
            line(
                "Longer",
                &[10.0, 100.0, 1000.0, 10_000.0, 2e4, 3e4, 4e4],
                &[1.0, 10.0, 100.0, 150.0, 160.0, 170.0, 180.0],
            ),
        ];
        assert_eq!(
            coinciding(&curves, YAxis::Log),
            vec![None, Some(0), None, Some(2), None]
        );
        let labels: Vec<String> = looks(&curves, YAxis::Log)
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(labels[1], "Pooler (= Base)");
        assert_eq!(labels[3], "Redis (= Replicas)");
        assert_eq!(labels[2], "Replicas");
        // The hidden ones are dashed, each with its own dash, the others solid.
        let ls = looks(&curves, YAxis::Log);
        assert!(ls[0].0.dash.is_none() && ls[2].0.dash.is_none());
        assert!(ls[1].0.dash.is_some() && ls[3].0.dash.is_some());
        assert_ne!(ls[1].0.dash, ls[3].0.dash);
        // Each phase's capacity search adds loads of its own: a curve
        // through other points of the same line still lies on it, even on
        // its steep rise.
        let steep = [
            line(
                "a",
                &[10.0, 100.0, 1000.0, 2000.0],
                &[10.0, 10.0, 12.0, 2000.0],
            ),
            line(
                "b",
                &[10.0, 300.0, 1000.0, 1500.0, 2000.0],
                &[10.0, 10.5, 12.0, 240.0, 2000.0],
            ),
        ];
        assert_eq!(coinciding(&steep, YAxis::Log), vec![None, Some(0)]);
        // …but a point off that rise (1 s where the line passes 240 ms)
        // shows as a second curve.
        let mut off = steep.clone();
        off[1].mean[3] = 1000.0;
        assert_eq!(coinciding(&off, YAxis::Log), vec![None, None]);
        // On a linear 0–100% axis, 0.1% and 0.3% lie on each other; on one
        // spanning 0–0.5% they are far apart.
        let flat = [line("a", &u, &[0.1; 4]), line("b", &u, &[0.3; 4])];
        assert_eq!(
            coinciding(&flat, YAxis::Linear(0.0, 100.0)),
            vec![None, Some(0)]
        );
        assert_eq!(coinciding(&flat, YAxis::Linear(0.0, 0.5)), vec![None, None]);
    }

    #[test]
    fn colours_differ_within_every_panel_and_stay_with_their_resource() {
        // Thirteen resources over three panels, more than the palette's seven.
        let u = [10.0, 100.0];
        let panel = |phase: &str, names: &[&str]| Panel {
            phase: phase.into(),
            curves: names.iter().map(|n| line(n, &u, &[0.1, 0.2])).collect(),
        };
        let panels = [
            panel("A", &["cpu", "db", "pool", "loop", "disk", "net"]),
            panel("B", &["cpu", "r1", "r2", "r3", "r4", "r5"]),
            panel("C", &["db", "r5", "s1", "s2", "r1", "pool"]),
        ];
        let names = resource_colours(&panels);
        assert_eq!(names.len(), 13);
        let rgb = |n: &str| {
            let k = names.iter().find(|(m, _)| m == n).unwrap().1;
            let c = resource_colour(k);
            (c.0, c.1, c.2)
        };
        for p in &panels {
            let mut seen = std::collections::HashSet::new();
            for c in &p.curves {
                assert!(
                    seen.insert(rgb(&c.label)),
                    "{}: {} repeats a colour",
                    p.phase,
                    c.label
                );
            }
        }
        // While colours last, every name has its own, so that the one
        // legend tells them apart; the thirteenth reuses one of a name it
        // never shares a panel with.
        let first: std::collections::HashSet<_> = names[..12].iter().map(|(n, _)| rgb(n)).collect();
        assert_eq!(first.len(), 12);
        // The first panel keeps the palette's order.
        assert_eq!(rgb("cpu"), (colour(0).0, colour(0).1, colour(0).2));
        assert_eq!(rgb("db"), (colour(1).0, colour(1).1, colour(1).2));
    }

    #[test]
    fn a_curve_that_stops_is_marked_saturated_at_its_last_stable_load() {
        let mut c = line("a", &[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, f64::NAN, f64::NAN]);
        assert_eq!(saturation_point(&c), None, "stable everywhere: no mark");
        c.stable = vec![true, true, false, false];
        assert_eq!(saturation_point(&c), Some(1));
        c.stable = vec![false, false, false, false];
        assert_eq!(saturation_point(&c), None, "nothing stable to mark");
        // The mark is drawn: the ink's cross adds dark pixels.
        let dir = tempfile::tempdir().unwrap();
        let (with, without) = (dir.path().join("w.png"), dir.path().join("o.png"));
        c.stable = vec![true, true, false, false];
        let mut plain = c.clone();
        plain.stable.clear();
        latency_chart(&with, &meta(), &[c.clone()], &[c], &[]).unwrap();
        latency_chart(&without, &meta(), &[plain.clone()], &[plain], &[]).unwrap();
        let count = |p: &Path| {
            pixels(p)
                .iter()
                .filter(|px| **px == [INK.0, INK.1, INK.2])
                .count()
        };
        assert!(
            count(&with) > count(&without) + 100,
            "{} vs {}",
            count(&with),
            count(&without)
        );
    }

    #[test]
    fn the_legend_sits_above_the_data() {
        fonts().unwrap();
        let mut rgb = vec![0u8; (WIDTH * 600 * 3) as usize];
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, 600)).into_drawing_area();
        let items: Vec<Item> = (0..8)
            .map(|i| {
                (
                    format!("a phase with a long name number {i}"),
                    Swatch::Series(Look::of(i, false, 0)),
                )
            })
            .collect();
        let rows = legend_layout(&root, &items).unwrap();
        assert!(rows.len() >= 2, "eight long names wrap");
        assert_eq!(rows.iter().map(Vec::len).sum::<usize>(), 8);
        let body = head(&root, "Title", &items).unwrap();
        // The data area starts below the last legend row.
        let top = body.get_base_pixel().1;
        assert!(top >= 66 + ROW_H * rows.len() as i32, "{top}");
        for row in &rows {
            let width: i32 = row.iter().map(|r| r.1).sum::<i32>() + 40 * (row.len() as i32 - 1);
            assert!(width <= WIDTH as i32 - 48, "a row overflows: {width}");
        }
    }

    /// The RGB pixels of a PNG.
    fn pixels(path: &Path) -> Vec<[u8; 3]> {
        let file = std::fs::File::open(path).unwrap();
        let mut r = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf[..info.buffer_size()]
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2]])
            .collect()
    }

    #[test]
    fn the_analytic_bound_shows_where_it_lies_on_the_simulation() {
        // The bound equal to the simulated throughput at every load: drawn
        // under the line, in its colour, it was invisible.
        let dir = tempfile::tempdir().unwrap();
        let u = [10.0, 100.0, 1000.0];
        let sim = line("A", &u, &[1.0, 10.0, 50.0]);
        let path = dir.path().join("t.png");
        let same = std::slice::from_ref(&sim);
        throughput_chart(&path, &meta(), same, same).unwrap();
        let dark = bound_colour(0);
        let on_top = pixels(&path)
            .iter()
            .filter(|p| **p == [dark.0, dark.1, dark.2])
            .count();
        // Dashes over about 1,000 px of line, 3 px wide, 60% ink.
        assert!(on_top > 800, "only {on_top} pixels of the bound show");
        assert_ne!(dark, colour(0));
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
            load: LoadAxis::Users,
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
            stable: Vec::new(),
        };
        let bound = Curve {
            label: "A".into(),
            users,
            mean: vec![60.0; 3],
            lo: vec![60.0; 3],
            hi: vec![60.0; 3],
            stable: Vec::new(),
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
                stable: vec![false],
            },
            Curve {
                label: "one point".into(),
                users: vec![7.0],
                mean: vec![3.0],
                lo: vec![-5.0],
                hi: vec![9.0],
                stable: vec![true, false, true],
            },
        ];
        let p = |n: &str| dir.path().join(n);
        latency_chart(&p("l.png"), &meta(), &odd, &[], &[None, Some(f64::NAN)]).unwrap();
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
