//! Ranges: a numeric field the guide leaves open, written as a table instead
//! of a number — `mean_s = { low = 10, high = 60 }` (uniform),
//! `{ low, mode, high }` (triangular), `{ low, high, scale = "log" }`
//! (log-uniform, for ranges over an order of magnitude); an optional
//! `name = "…"` labels it in reports.
//!
//! Ranges are resolved on the TOML text before the typed checks, so that
//! any numeric field can be one without each field's check knowing: the
//! range's inline table is replaced by a number (padded to the table's
//! length, so every other value keeps its line and column) and the text is
//! then checked as usual. The point scenario has every range at its mid
//! value; a design of an uncertainty study is the same text with the
//! design's values, checked by the same path ([`super::Scenario::at`]).

use super::diag::{echo, num, Diagnostics};
use super::raw::{Num, S};
use std::ops::Range as Span;
use std::sync::Arc;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// `[uncertainty]` as written.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUncertainty {
    pub designs: Option<S<Num>>,
}

/// Designs of an uncertainty study when `[uncertainty] designs` is not
/// given: 32 Latin-hypercube points put a p_holds of 0.5 within ±0.18 (95%)
/// and leave 8 designs in each quarter of every range.
pub const DEFAULT_DESIGNS: u32 = 32;
/// Most designs of a study: each is a whole sweep.
pub(super) const MAX_DESIGNS: i64 = 10_000;

/// What the scenario leaves open, and how widely to explore it.
#[derive(Clone, Debug, Default)]
pub struct Uncertainty {
    /// `uncertainty.designs`: designs of the study, 0–10000 (default 32);
    /// 0 runs the point scenario alone.
    pub designs: u32,
    /// Every field given as a range, in file order.
    pub ranges: Vec<ParamRange>,
    /// The scenario text the ranges were found in (`None` without ranges).
    pub(super) source: Option<Arc<str>>,
}

impl Uncertainty {
    /// The parameters of the study: ranges that share a `name` are one
    /// parameter (they move together, each at the same quantile of its own
    /// range); each unnamed range is one. Indices into [`Self::ranges`], in
    /// order of first appearance.
    pub fn params(&self) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = Vec::new();
        for (i, r) in self.ranges.iter().enumerate() {
            match out.iter_mut().find(|g| self.ranges[g[0]].label == r.label) {
                Some(g) => g.push(i),
                None => out.push(vec![i]),
            }
        }
        out
    }
}

/// Keys a range table may hold.
const KEYS: [&str; 5] = ["low", "mode", "high", "scale", "name"];

/// Nesting beyond this is not searched (no scenario field is deeper).
const MAX_DEPTH: usize = 16;

/// How a range's values are spread between its ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spread {
    /// Uniform between `low` and `high`; mid value the midpoint.
    Uniform,
    /// Triangular with its peak at `mode`; mid value the mode.
    Triangular {
        /// The most likely value, within [low, high].
        mode: f64,
    },
    /// Uniform in the logarithm (`scale = "log"`); mid value the geometric
    /// mean. Needs `low > 0`.
    Log,
}

/// One numeric field of the scenario given as a range.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRange {
    /// Dotted path of the field (`workload.think_time.mean_s`).
    pub path: String,
    /// `name`: the label of reports; the path when absent. Ranges that
    /// share a name are one parameter of the study (see
    /// [`Uncertainty::params`]).
    pub label: String,
    /// `low`: the smallest value.
    pub low: f64,
    /// `high`: the largest value, above `low`.
    pub high: f64,
    /// How values spread between the ends.
    pub spread: Spread,
    /// Both ends were written as whole numbers: every value is rounded to
    /// one (host counts, pool sizes…).
    pub whole: bool,
    /// Byte span of the range's table in the source.
    pub(super) span: Span<usize>,
}

impl ParamRange {
    /// The value at quantile `u` (0–1) of the range's spread, rounded when
    /// the range is of whole numbers.
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (a, b) = (self.low, self.high);
        let x = match self.spread {
            Spread::Uniform => a + u * (b - a),
            Spread::Log => (a.ln() + u * (b.ln() - a.ln())).exp(),
            Spread::Triangular { mode: c } => {
                let f = (c - a) / (b - a);
                if u < f {
                    a + (u * (b - a) * (c - a)).sqrt()
                } else {
                    b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
                }
            }
        };
        self.round(x.clamp(a, b))
    }

    /// The value of the point run: the midpoint, the mode or the geometric
    /// mean.
    pub fn mid(&self) -> f64 {
        self.round(match self.spread {
            Spread::Uniform => 0.5 * (self.low + self.high),
            Spread::Triangular { mode } => mode,
            Spread::Log => (self.low * self.high).sqrt(),
        })
    }

    fn round(&self, x: f64) -> f64 {
        if self.whole {
            x.round()
        } else {
            x
        }
    }

    /// The range as written, in words: "10–60 (uniform)".
    pub fn describe(&self) -> String {
        let spread = match self.spread {
            Spread::Uniform => "uniform".to_string(),
            Spread::Triangular { mode } => format!("triangular, mode {}", num(mode)),
            Spread::Log => "log-uniform".to_string(),
        };
        format!("{}–{} ({spread})", num(self.low), num(self.high))
    }
}

/// Every range of `source`, checked (errors into `d`), in file order.
/// `None` when the text is not TOML (the typed parse reports that).
pub(super) fn find(d: &mut Diagnostics, source: &str) -> Option<Vec<ParamRange>> {
    let doc = DeTable::parse(source).ok()?;
    let mut out = Vec::new();
    walk_table(d, source, doc.get_ref(), &mut String::new(), 0, &mut out);
    out.sort_by_key(|r| r.span.start);
    Some(out)
}

fn walk_table(
    d: &mut Diagnostics,
    source: &str,
    t: &DeTable,
    path: &mut String,
    depth: usize,
    out: &mut Vec<ParamRange>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for (k, v) in t.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&echo(k.get_ref()));
        walk_value(d, source, v, path, depth + 1, out);
        path.truncate(len);
    }
}

fn walk_value(
    d: &mut Diagnostics,
    source: &str,
    v: &Spanned<DeValue>,
    path: &mut String,
    depth: usize,
    out: &mut Vec<ParamRange>,
) {
    match v.get_ref() {
        DeValue::Table(t) if is_range(t) => {
            if let Some(r) = check(d, source, t, v.span(), path) {
                out.push(r);
            }
        }
        DeValue::Table(t) => walk_table(d, source, t, path, depth, out),
        DeValue::Array(a) if depth <= MAX_DEPTH => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk_value(d, source, x, path, depth + 1, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// A table of range keys only, with `low` and `high`, one of them a number:
/// anything else (a distribution, a grid, a plan whose requests happen to be
/// called `low`) is left to the field's own check.
fn is_range(t: &DeTable) -> bool {
    let key = |k: &str| {
        t.iter()
            .find(|(name, _)| name.get_ref() == k)
            .map(|(_, v)| v)
    };
    let numeric = |v: Option<&Spanned<DeValue>>| {
        v.is_some_and(|v| matches!(v.get_ref(), DeValue::Integer(_) | DeValue::Float(_)))
    };
    t.iter().all(|(k, _)| KEYS.contains(&k.get_ref().as_ref()))
        && key("low").is_some()
        && key("high").is_some()
        && (numeric(key("low")) || numeric(key("high")))
}

/// A number as written: (value, written as a whole number).
pub(super) fn number(v: &DeValue) -> Option<(f64, bool)> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|x| (x as f64, true)),
        DeValue::Float(x) => x.as_str().parse::<f64>().ok().map(|x| (x, false)),
        _ => None,
    }
}

fn check(
    d: &mut Diagnostics,
    source: &str,
    t: &DeTable,
    span: Span<usize>,
    path: &str,
) -> Option<ParamRange> {
    let what = "a range is { low = A, high = B } (uniform), { low = A, mode = M, high = B } (triangular) or { low = A, high = B, scale = \"log\" }, with A < B";
    if !source.get(span.clone()).is_some_and(|s| s.starts_with('{')) {
        d.error(
            span,
            path,
            format!("write a range inline, on the field's own line: {what}"),
        );
        return None;
    }
    let get = |k: &str| {
        t.iter()
            .find(|(name, _)| name.get_ref() == k)
            .map(|(_, v)| v)
    };
    let mut ok = true;
    let mut read = |d: &mut Diagnostics, k: &str| -> Option<(f64, bool)> {
        let v = get(k)?;
        match number(v.get_ref()).filter(|(x, _)| x.is_finite()) {
            Some(x) => Some(x),
            None => {
                d.error(
                    v.span(),
                    format!("{path}.{k}"),
                    format!("must be a finite number; {what}"),
                );
                ok = false;
                None
            }
        }
    };
    let low = read(d, "low");
    let high = read(d, "high");
    let mode = read(d, "mode");
    let log = match get("scale") {
        None => false,
        Some(s) => match s.get_ref().as_str() {
            Some("linear") => false,
            Some("log") => true,
            _ => {
                d.error(
                    s.span(),
                    format!("{path}.scale"),
                    "must be \"log\" (log-uniform) or \"linear\" (the default)",
                );
                ok = false;
                false
            }
        },
    };
    let label = match get("name") {
        None => path.to_string(),
        Some(n) => match n.get_ref().as_str() {
            Some(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => {
                d.error(
                    n.span(),
                    format!("{path}.name"),
                    "must be a non-empty quoted string: the range's label in reports",
                );
                ok = false;
                String::new()
            }
        },
    };
    let (Some((low, whole_lo)), Some((high, whole_hi))) = (low, high) else {
        return None;
    };
    if !ok {
        return None;
    }
    if low >= high {
        d.error(
            span,
            path,
            format!(
                "low ({}) must be below high ({}); {what}",
                num(low),
                num(high)
            ),
        );
        return None;
    }
    let spread = match (mode, log) {
        (Some(_), true) => {
            d.error(
                span,
                path,
                "a log-uniform range has no mode: give either mode or scale = \"log\"",
            );
            return None;
        }
        (Some((m, _)), false) if !(low..=high).contains(&m) => {
            d.error(
                get("mode").map_or(span, |v| v.span()),
                format!("{path}.mode"),
                format!(
                    "must lie from low ({}) to high ({}) (got {})",
                    num(low),
                    num(high),
                    num(m)
                ),
            );
            return None;
        }
        (Some((m, _)), false) => Spread::Triangular { mode: m },
        (None, true) if low <= 0.0 => {
            d.error(
                span,
                path,
                format!(
                    "a log-uniform range needs low above 0 (got {}); use a uniform range to include 0",
                    num(low)
                ),
            );
            return None;
        }
        (None, true) => Spread::Log,
        (None, false) => Spread::Uniform,
    };
    Some(ParamRange {
        path: path.to_string(),
        label,
        low,
        high,
        spread,
        whole: whole_lo && whole_hi,
        span,
    })
}

/// Say which diagnostics of the point scenario come from a range's value:
/// those located inside a range's table get "(the range's …)" added.
pub(super) fn relabel(
    mut e: super::ScenarioError,
    source: &str,
    ranges: &[ParamRange],
    which: &str,
) -> super::ScenarioError {
    let lines = super::diag::LineIndex::new(source);
    let places: Vec<((usize, usize), usize)> = ranges
        .iter()
        .map(|r| {
            let start = lines.line_col(source, r.span.start);
            (start, source[r.span.clone()].chars().count())
        })
        .collect();
    for dg in &mut e.diagnostics {
        let inside = places
            .iter()
            .any(|&((line, col), w)| dg.line == line && dg.column >= col && dg.column < col + w);
        if inside {
            dg.message = format!("{} (the range {which})", dg.message);
        }
    }
    e
}

/// Prefix every diagnostic with `when` ("with every range at its low end").
pub(super) fn relabel_all(mut e: super::ScenarioError, when: &str) -> super::ScenarioError {
    for dg in &mut e.diagnostics {
        dg.message = format!("{when}: {}", dg.message);
    }
    e
}

/// `source` with each range's table replaced by its value in `values`
/// (same order), padded with spaces to the table's length so that every
/// other value keeps its line and column.
pub(super) fn substitute(source: &str, ranges: &[ParamRange], values: &[f64]) -> String {
    let mut out = String::with_capacity(source.len());
    let mut at = 0;
    for (r, &x) in ranges.iter().zip(values) {
        out.push_str(&source[at..r.span.start]);
        let lit = literal(x, r.whole);
        let width = source[r.span.clone()].chars().count();
        out.push_str(&lit);
        for _ in lit.chars().count()..width {
            out.push(' ');
        }
        at = r.span.end;
    }
    out.push_str(&source[at..]);
    out
}

/// A TOML literal for `x`: a whole number, or the shortest float that reads
/// back as `x` (always with a `.` or an exponent, so that TOML reads it as
/// a float).
fn literal(x: f64, whole: bool) -> String {
    if whole {
        return format!("{}", x.round() as i64);
    }
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(spread: Spread, low: f64, high: f64) -> ParamRange {
        ParamRange {
            path: "x".into(),
            label: "x".into(),
            low,
            high,
            spread,
            whole: false,
            span: 0..0,
        }
    }

    #[test]
    fn quantiles_and_mids_follow_the_spread() {
        let u = range(Spread::Uniform, 10.0, 60.0);
        assert_eq!(u.mid(), 35.0);
        assert_eq!(u.quantile(0.2), 20.0);
        let l = range(Spread::Log, 1.0, 100.0);
        assert!((l.mid() - 10.0).abs() < 1e-12);
        assert!((l.quantile(0.25) - 100f64.powf(0.25)).abs() < 1e-9);
        let t = range(Spread::Triangular { mode: 2.0 }, 0.0, 10.0);
        assert_eq!(t.mid(), 2.0);
        // F(mode) = (c − a)/(b − a) = 0.2 for the triangle.
        assert!((t.quantile(0.2) - 2.0).abs() < 1e-12);
        assert_eq!(t.quantile(0.0), 0.0);
        assert_eq!(t.quantile(1.0), 10.0);
    }

    #[test]
    fn literals_read_back_as_the_same_number() {
        for x in [35.0, 0.1, 1e-7, 12345.678, 3e21] {
            let s = literal(x, false);
            let back: f64 = toml::from_str::<toml::Table>(&format!("v = {s}")).unwrap()["v"]
                .as_float()
                .unwrap();
            assert_eq!(back, x, "{s}");
        }
        assert_eq!(literal(2.6, true), "3");
    }
}
