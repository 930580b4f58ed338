//! Distributions in scenario files: `{ dist = "lognormal", mean_ms = 8, cv = 1.5 }`.

use super::*;

/// A duration field given in one of several units (`mean_s`, `mean_ms` or
/// `mean_us`), checked against `bounds`: nanoseconds if given.
#[allow(clippy::too_many_arguments)]
pub(super) fn one_duration(
    d: &mut Diagnostics,
    field: &str,
    name: &str,
    s: &Option<S<Num>>,
    ms: &Option<S<Num>>,
    us: &Option<S<Num>>,
    whole: std::ops::Range<usize>,
    bounds: Bounds,
) -> Option<Option<f64>> {
    let given: Vec<(&S<Num>, Unit, &str)> = [
        (s, Unit::S, "_s"),
        (ms, Unit::Ms, "_ms"),
        (us, Unit::Us, "_us"),
    ]
    .into_iter()
    .filter_map(|(v, k, u)| v.as_ref().map(|v| (v, k, u)))
    .collect();
    match given.as_slice() {
        [] => Some(None),
        [(v, unit, u)] => {
            duration(d, v, &format!("{field}.{name}{u}"), *unit, bounds).map(|t| Some(t.ns()))
        }
        _ => {
            d.error(
                whole,
                format!("{field}.{name}"),
                format!("give {name} in one unit only: {name}_s, {name}_ms or {name}_us"),
            );
            None
        }
    }
}

/// "a lognormal", "an exponential".
pub(super) fn article(kind: &str) -> String {
    // "uniform" starts with a vowel letter but a consonant sound.
    let an = kind.starts_with(['a', 'e', 'i', 'o', 'u']) && !kind.starts_with("uni");
    format!("{} {kind}", if an { "an" } else { "a" })
}

const DIST_NAMES: &str = "\"constant\", \"exponential\", \"lognormal\", \"gamma\", \"uniform\"";

pub(super) fn check_dist(d: &mut Diagnostics, x: &S<RawDist>, field: &str) -> Option<Dist> {
    let span = x.span();
    let r = x.get_ref();
    // Every unit field is checked before giving up on any, so that all
    // their problems are reported together.
    let mean = one_duration(
        d,
        field,
        "mean",
        &r.mean_s,
        &r.mean_ms,
        &r.mean_us,
        span.clone(),
        SPAN,
    );
    let min = one_duration(
        d,
        field,
        "min",
        &r.min_s,
        &r.min_ms,
        &r.min_us,
        span.clone(),
        SPAN,
    );
    let max = one_duration(
        d,
        field,
        "max",
        &r.max_s,
        &r.max_ms,
        &r.max_us,
        span.clone(),
        SPAN,
    );
    let (mean, min, max) = (mean?, min?, max?);
    let cv = r.cv.as_ref();
    let kind = r.dist.get_ref().as_str();
    let need_mean = |d: &mut Diagnostics| {
        d.error(
            span.clone(),
            field,
            format!(
                "{} distribution needs its mean: mean_s, mean_ms or mean_us",
                article(kind)
            ),
        );
    };
    let unused = |d: &mut Diagnostics, what: &str| {
        d.error(
            span.clone(),
            field,
            format!("{} distribution takes no {what}", article(kind)),
        );
    };
    let check_cv = |d: &mut Diagnostics| -> Option<f64> {
        match cv {
            None => {
                d.error(
                    span.clone(),
                    field,
                    format!("{} distribution needs cv, its coefficient of variation (standard deviation / mean), above 0", article(kind)),
                );
                None
            }
            Some(c) => num_where(
                d,
                c,
                &format!("{field}.cv"),
                |c| c > 0.0 && c <= 100.0,
                "must be above 0 and at most 100",
            ),
        }
    };
    match kind {
        "constant" | "exponential" | "lognormal" | "gamma" => {
            if min.is_some() || max.is_some() {
                unused(d, "min or max (those are for \"uniform\")");
                return None;
            }
            let Some(m) = mean else {
                need_mean(d);
                return None;
            };
            match kind {
                "constant" | "exponential" => {
                    if cv.is_some() {
                        unused(d, "cv");
                        return None;
                    }
                    if kind == "constant" {
                        Some(Dist::Constant { ns: m })
                    } else if m > 0.0 {
                        Some(Dist::Exponential { mean_ns: m })
                    } else {
                        d.error(
                            span.clone(),
                            field,
                            "an exponential distribution needs a mean above 0",
                        );
                        None
                    }
                }
                _ => {
                    let c = check_cv(d)?;
                    if m <= 0.0 {
                        d.error(
                            span.clone(),
                            field,
                            format!("{} distribution needs a mean above 0", article(kind)),
                        );
                        return None;
                    }
                    Some(if kind == "lognormal" {
                        Dist::lognormal(m, c)
                    } else {
                        Dist::gamma(m, c)
                    })
                }
            }
        }
        "uniform" => {
            if mean.is_some() || cv.is_some() {
                unused(d, "mean or cv: give min and max");
                return None;
            }
            match (min, max) {
                (Some(lo), Some(hi)) if lo <= hi => Some(Dist::Uniform {
                    lo_ns: lo,
                    hi_ns: hi,
                }),
                (Some(_), Some(_)) => {
                    d.error(
                        span.clone(),
                        field,
                        "a uniform distribution needs min ≤ max",
                    );
                    None
                }
                _ => {
                    d.error(
                        span.clone(),
                        field,
                        "a uniform distribution needs both min and max (e.g. min_ms = 2, max_ms = 8)",
                    );
                    None
                }
            }
        }
        other => {
            d.error(
                r.dist.span(),
                format!("{field}.dist"),
                format!(
                    "`{}` is not a distribution; valid: {DIST_NAMES}",
                    echo(other)
                ),
            );
            None
        }
    }
}
