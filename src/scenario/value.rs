//! Numbers and durations as written in a scenario file.
//!
//! Every numeric field is read as a [`Num`], which accepts any TOML value:
//! a wrong type (`hosts = 1.5`, `weight = "most"`) is then reported by the
//! field's own check, with its dotted path and valid range, next to every
//! other problem of the file — instead of a serde error that names a Rust
//! type and stops the parse at the first one.
//!
//! Every time field is checked into a [`Duration`]: finite, within the
//! field's [`Bounds`], and never above [`MAX_DURATION_NS`].

use super::diag::{echo, num, Diagnostics};
use super::raw::S;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A numeric field as written.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
    /// Not a number (or an integer beyond 64 bits): what was written, for
    /// the message.
    Other(String),
}

impl Num {
    /// The value as a whole number, or what was written instead.
    pub(super) fn int(&self) -> Result<i64, String> {
        match self {
            Num::Int(i) => Ok(*i),
            Num::Float(x) => Err(num(*x)),
            Num::Other(s) => Err(s.clone()),
        }
    }

    /// The value as a number (a whole number is a number too), or what was
    /// written instead.
    pub(super) fn float(&self) -> Result<f64, String> {
        match self {
            Num::Int(i) => Ok(*i as f64),
            Num::Float(x) => Ok(*x),
            Num::Other(s) => Err(s.clone()),
        }
    }

    /// What was written, for "(got …)".
    pub(super) fn got(&self) -> String {
        match self {
            Num::Int(i) => i.to_string(),
            Num::Float(x) => num(*x),
            Num::Other(s) => s.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(i64::try_from(v).map_or_else(|_| Num::Other(format!("{v}")), Num::Int))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Num, E> {
                Ok(i64::try_from(v).map_or_else(|_| Num::Other(format!("{v}")), Num::Int))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Num, E> {
                Ok(i64::try_from(v).map_or_else(|_| Num::Other(format!("{v}")), Num::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Float(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Num, E> {
                Ok(Num::Other(format!("the boolean {v}")))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num::Other(format!("the string \"{}\"", echo(v))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Num, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Num::Other("an array".into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                // TOML dates and times reach serde as a table too.
                Ok(Num::Other("a table or a date".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer field within [lo, hi].
pub(super) fn int_in(
    d: &mut Diagnostics,
    v: &S<Num>,
    field: &str,
    lo: i64,
    hi: i64,
    what: &str,
) -> Option<i64> {
    match v.get_ref().int() {
        Ok(x) if (lo..=hi).contains(&x) => Some(x),
        _ => {
            d.error(
                v.span(),
                field,
                format!(
                    "must be {what}, a whole number from {lo} to {hi} (got {})",
                    v.get_ref().got()
                ),
            );
            None
        }
    }
}

/// A number field that passes `ok`; `valid` says what would.
pub(super) fn num_where(
    d: &mut Diagnostics,
    v: &S<Num>,
    field: &str,
    ok: impl Fn(f64) -> bool,
    valid: &str,
) -> Option<f64> {
    match v.get_ref().float() {
        Ok(x) if x.is_finite() && ok(x) => Some(x),
        _ => {
            d.error(
                v.span(),
                field,
                format!("{valid} (got {})", v.get_ref().got()),
            );
            None
        }
    }
}

/// A number field within [lo, hi].
pub(super) fn num_in(
    d: &mut Diagnostics,
    v: &S<Num>,
    field: &str,
    (lo, hi): (f64, f64),
    what: &str,
) -> Option<f64> {
    num_where(
        d,
        v,
        field,
        |x| (lo..=hi).contains(&x),
        &format!("must be {what}, from {} to {}", num(lo), num(hi)),
    )
}

/// Nanoseconds per microsecond, millisecond, second.
const NS_PER_US: f64 = 1e3;
const NS_PER_MS: f64 = 1e6;
const NS_PER_S: f64 = 1e9;
const DAY_NS: f64 = 86_400.0 * NS_PER_S;

/// No time field may exceed a year. The engine's clock counts nanoseconds in
/// a u64, which holds 584 years; a year leaves that room hundreds of times
/// over, yet is longer than anything a capacity scenario waits for (the
/// longest real setting, a cache TTL, is hours to days). Fields that are
/// drawn per request (service and think times) stop at a day: see [`SPAN`].
pub(super) const MAX_DURATION_NS: f64 = 365.0 * DAY_NS;

/// The unit a time field is written in (its suffix: `_s`, `_ms`, `_us`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    S,
    Ms,
    Us,
}

impl Unit {
    pub(super) fn ns(self) -> f64 {
        match self {
            Unit::S => NS_PER_S,
            Unit::Ms => NS_PER_MS,
            Unit::Us => NS_PER_US,
        }
    }

    pub(super) fn symbol(self) -> &'static str {
        match self {
            Unit::S => "s",
            Unit::Ms => "ms",
            Unit::Us => "µs",
        }
    }
}

/// What a time field accepts: `zero` (if allowed), else durations from
/// `min_ns` to `max_ns`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    /// 0 is valid (no wait, no cost, or a setting's "off").
    pub zero: bool,
    /// The shortest nonzero duration. The clock ticks in whole nanoseconds,
    /// so anything shorter than its resolution would round to nothing; a
    /// timeout below a microsecond would fire before any work could happen.
    pub min_ns: f64,
    pub max_ns: f64,
    /// The noun for the message: "a duration", "a timeout".
    pub what: &'static str,
}

/// A service, think or delay time: drawn for every request, so at most a day
/// — 100,000 requests of a day each still fit the clock 2 times over.
pub(super) const SPAN: Bounds = Bounds {
    zero: true,
    min_ns: 1.0,
    max_ns: DAY_NS,
    what: "a duration",
};

/// A timeout that must fire eventually: from 1 µs to a day.
pub(super) const TIMEOUT: Bounds = Bounds {
    zero: false,
    min_ns: NS_PER_US,
    max_ns: DAY_NS,
    what: "a timeout",
};

impl Bounds {
    /// The same bounds with a lower maximum (a field with its own limit).
    pub(super) const fn at_most(self, max_ns: f64) -> Bounds {
        Bounds { max_ns, ..self }
    }

    /// The same bounds, 0 allowed (the setting's "off" or "at once").
    pub(super) const fn or_zero(self) -> Bounds {
        Bounds { zero: true, ..self }
    }
}

/// A checked time: finite, in its field's bounds, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub(super) struct Duration {
    ns: f64,
}

impl Duration {
    pub(super) const ZERO: Duration = Duration { ns: 0.0 };

    pub(super) fn ns(self) -> f64 {
        self.ns
    }

    pub(super) fn ms(self) -> f64 {
        self.ns / NS_PER_MS
    }

    pub(super) fn s(self) -> f64 {
        self.ns / NS_PER_S
    }

    /// Whole nanoseconds for the engine's clock, rounded to nearest.
    pub(super) fn whole_ns(self) -> u64 {
        self.ns.round() as u64
    }
}

/// A duration in words: "1 ns", "1 µs", "1 day", "1 year", else in units.
fn human(ns: f64) -> String {
    let named = [
        (1.0, "1 ns"),
        (NS_PER_US, "1 µs"),
        (3600.0 * NS_PER_S, "1 hour"),
        (DAY_NS, "1 day"),
        (MAX_DURATION_NS, "1 year"),
    ];
    match named.iter().find(|(n, _)| *n == ns) {
        Some((_, name)) => (*name).to_string(),
        None if ns >= NS_PER_S => format!("{} s", num(ns / NS_PER_S)),
        None => format!("{} ms", num(ns / NS_PER_MS)),
    }
}

/// What a field accepts in words and in its unit, e.g. "0 or a duration
/// from 1 ns to 1 day (0 or 0.000001 to 86400000 ms)".
pub(super) fn range_text(b: Bounds, unit: Unit) -> String {
    let k = unit.ns();
    let (lo, hi) = (num(b.min_ns / k), num(b.max_ns / k));
    let u = unit.symbol();
    let (hlo, hhi) = (human(b.min_ns), human(b.max_ns));
    let what = b.what;
    if b.zero {
        format!("0 or {what} from {hlo} to {hhi} (0 or {lo} to {hi} {u})")
    } else {
        format!("{what} from {hlo} to {hhi} ({lo} to {hi} {u})")
    }
}

/// Check a time field written in `unit` against `b`.
pub(super) fn duration(
    d: &mut Diagnostics,
    v: &S<Num>,
    field: &str,
    unit: Unit,
    b: Bounds,
) -> Option<Duration> {
    debug_assert!(b.max_ns <= MAX_DURATION_NS);
    let ns = v.get_ref().float().ok().map(|x| x * unit.ns());
    match ns {
        Some(ns) if ns == 0.0 && b.zero => Some(Duration::ZERO),
        Some(ns) if ns.is_finite() && ns >= b.min_ns && ns <= b.max_ns => Some(Duration { ns }),
        _ => {
            d.error(
                v.span(),
                field,
                format!(
                    "must be {} (got {})",
                    range_text(b, unit),
                    v.get_ref().got()
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_in_words_and_in_the_fields_unit() {
        assert_eq!(
            range_text(SPAN, Unit::Ms),
            "0 or a duration from 1 ns to 1 day (0 or 0.000001 to 86400000 ms)"
        );
        assert_eq!(
            range_text(TIMEOUT, Unit::S),
            "a timeout from 1 µs to 1 day (0.000001 to 86400 s)"
        );
    }
}
