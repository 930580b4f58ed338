//! `[sweep]` and `[slo]`: which user counts, how precisely, against what objective.

use super::*;

pub(super) fn check_sweep(
    d: &mut Diagnostics,
    s: Option<&S<RawSweep>>,
    is_open: bool,
) -> Option<Sweep> {
    let mut sweep = Sweep {
        users: log_grid(3, 1_000_000, 25),
        replications: 5,
        // Short runs, more of them: the sweep adds replications until mean
        // response is precise enough (`precision`), and MSER-5 lengthens a
        // warm-up that proves too short, so light points stop early.
        warmup_requests: 5_000,
        measured_requests: 50_000,
        max_events: 100_000_000,
        precision: 0.05,
        max_replications: 30,
        event_budget: 300_000_000,
    };
    let Some(s) = s else {
        if is_open {
            sweep.users = vec![0];
        }
        return Some(sweep);
    };
    let r = s.get_ref();
    let mut ok = true;
    if let Some(u) = &r.users {
        match u.get_ref() {
            RawUsers::List(list) => {
                if list.is_empty() || list.iter().any(|&x| !(1..=MAX_USERS).contains(&x)) {
                    d.error(
                        u.span(),
                        "sweep.users",
                        format!("each user count must be a whole number from 1 to {MAX_USERS}, and the list must not be empty"),
                    );
                    ok = false;
                } else {
                    let mut v: Vec<u32> = list.iter().map(|&x| x as u32).collect();
                    v.sort_unstable();
                    v.dedup();
                    sweep.users = v;
                }
            }
            RawUsers::Grid(g) => {
                if !(1..=MAX_USERS).contains(&g.from)
                    || !(1..=MAX_USERS).contains(&g.to)
                    || g.from > g.to
                {
                    d.error(
                        u.span(),
                        "sweep.users",
                        format!(
                            "needs 1 ≤ from ≤ to ≤ {MAX_USERS} (got from = {}, to = {})",
                            g.from, g.to
                        ),
                    );
                    ok = false;
                } else if !(1..=1000).contains(&g.points) || (g.points == 1 && g.from != g.to) {
                    d.error(
                        u.span(),
                        "sweep.users.points",
                        format!(
                            "must be from 2 to 1000 (1 only when from = to) (got {})",
                            g.points
                        ),
                    );
                    ok = false;
                } else {
                    sweep.users = log_grid(g.from as u32, g.to as u32, g.points as u32);
                }
            }
        }
    }
    if is_open {
        if let Some(u) = &r.users {
            d.error(
                u.span(),
                "sweep.users",
                "an open workload (arrival_rate_per_s) has no user count to sweep; remove sweep.users",
            );
            ok = false;
        }
        sweep.users = vec![0];
    }
    if let Some(v) = &r.replications {
        match int_in(
            d,
            v,
            "sweep.replications",
            1,
            1000,
            "the number of independent runs per point",
        ) {
            Some(x) => sweep.replications = x as u32,
            None => ok = false,
        }
    }
    if let Some(v) = &r.warmup_requests {
        match int_in(
            d,
            v,
            "sweep.warmup_requests",
            0,
            1_000_000_000,
            "the requests discarded before measuring",
        ) {
            Some(x) => sweep.warmup_requests = x as u64,
            None => ok = false,
        }
    }
    if let Some(v) = &r.measured_requests {
        match int_in(
            d,
            v,
            "sweep.measured_requests",
            1,
            1_000_000_000,
            "the requests measured per run",
        ) {
            Some(x) => sweep.measured_requests = x as u64,
            None => ok = false,
        }
    }
    if let Some(v) = &r.max_events {
        match int_in(
            d,
            v,
            "sweep.max_events",
            1000,
            100_000_000_000,
            "the event budget per run",
        ) {
            Some(x) => sweep.max_events = x as u64,
            None => ok = false,
        }
    }
    if let Some(v) = &r.precision {
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 && x <= 1.0 {
            sweep.precision = x;
        } else {
            d.error(
                v.span(),
                "sweep.precision",
                format!("must be the target relative half-width of the 95% interval of mean response, above 0 and at most 1 (e.g. 0.05 for ±5%) (got {x})"),
            );
            ok = false;
        }
    }
    if let Some(v) = &r.max_replications {
        match int_in(
            d,
            v,
            "sweep.max_replications",
            1,
            1000,
            "the most replications a point may get while its interval is too wide",
        ) {
            Some(x) if (x as u32) < sweep.replications => {
                d.error(
                    v.span(),
                    "sweep.max_replications",
                    format!(
                        "must be at least sweep.replications ({}) (got {x})",
                        sweep.replications
                    ),
                );
                ok = false;
            }
            Some(x) => sweep.max_replications = x as u32,
            None => ok = false,
        }
    }
    if let Some(v) = &r.event_budget {
        match int_in(
            d,
            v,
            "sweep.event_budget",
            1000,
            1_000_000_000_000,
            "the most calendar events a point may spend over all its replications",
        ) {
            Some(x) => sweep.event_budget = x as u64,
            None => ok = false,
        }
    }
    ok.then_some(sweep)
}

/// `points` user counts from `from` to `to`, evenly spaced on a log scale,
/// rounded to whole users (duplicates from rounding removed).
pub fn log_grid(from: u32, to: u32, points: u32) -> Vec<u32> {
    if points <= 1 || from == to {
        return vec![from];
    }
    let (a, b) = ((from as f64).ln(), (to as f64).ln());
    let mut v: Vec<u32> = (0..points)
        .map(|i| (a + (b - a) * i as f64 / (points - 1) as f64).exp().round() as u32)
        .collect();
    v[0] = from;
    *v.last_mut().unwrap() = to;
    v.dedup();
    v
}

pub(super) fn check_slo(d: &mut Diagnostics, s: Option<&S<RawSlo>>) -> Slo {
    let mut slo = Slo {
        p95_ms: 500.0,
        error_rate: 0.01,
    };
    if let Some(s) = s {
        let r = s.get_ref();
        if let Some(p) = &r.p95_ms {
            let x = *p.get_ref();
            if x.is_finite() && x > 0.0 {
                slo.p95_ms = x;
            } else {
                d.error(
                    p.span(),
                    "slo.p95_ms",
                    format!("must be a latency above 0 ms (got {x})"),
                );
            }
        }
        if let Some(e) = &r.error_rate {
            let x = *e.get_ref();
            if (0.0..=1.0).contains(&x) {
                slo.error_rate = x;
            } else {
                d.error(
                    e.span(),
                    "slo.error_rate",
                    format!("must be a fraction from 0 to 1 (got {x})"),
                );
            }
        }
    }
    slo
}
