//! `[sweep]` and `[slo]`: which user counts, how precisely, against what objective.

use super::*;

/// What a sweep varies: the load axis of its points, charts and tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LoadAxis {
    /// A closed population's size (`sweep.users`); also an open workload at
    /// its one arrival rate, which has no axis (its one point is at load 0).
    #[default]
    Users,
    /// An open workload's arrival rate, in whole arrivals per second
    /// (`sweep.arrival_rates_per_s`): each point's load level is its rate.
    ArrivalRate,
}

impl LoadAxis {
    /// The load in words, as axes and report.md name it.
    pub fn noun(self) -> &'static str {
        match self {
            LoadAxis::Users => "users",
            LoadAxis::ArrivalRate => "arrivals per second",
        }
    }

    /// The load axis of a chart drawn on a log scale.
    pub fn axis(self) -> &'static str {
        match self {
            LoadAxis::Users => "Concurrent users (log scale)",
            LoadAxis::ArrivalRate => "Arrivals per second (log scale)",
        }
    }

    /// The word CSV column names use for the load (`users`,
    /// `capacity_users` → `arrivals_per_s`, `capacity_arrivals_per_s`).
    pub fn column(self) -> &'static str {
        match self {
            LoadAxis::Users => "users",
            LoadAxis::ArrivalRate => "arrivals_per_s",
        }
    }

    /// A CSV column name with the load word of this axis: the load column
    /// `users` and the load-valued `capacity_users…`, `fails_at_users` and
    /// `knee_users` name [`Self::column`] instead; other columns (such as
    /// `aborted_users`, a count of users) are kept.
    pub fn rename(self, column: &str) -> String {
        const LOAD: [&str; 4] = ["users", "capacity_users", "fails_at_users", "knee_users"];
        if LOAD
            .iter()
            .any(|c| column == *c || column.starts_with(&format!("{c}_")))
        {
            column.replacen("users", self.column(), 1)
        } else {
            column.to_string()
        }
    }

    /// Every column name of a header, through [`Self::rename`].
    pub fn header(self, columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| self.rename(c)).collect()
    }
}

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
        load: LoadAxis::Users,
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
        match levels(d, u, &USERS) {
            Some(v) => sweep.users = v,
            None => ok = false,
        }
    }
    if is_open {
        if let Some(u) = &r.users {
            d.error(
                u.span(),
                "sweep.users",
                "an open workload (arrival_rate_per_s) has no user count to sweep; remove sweep.users, or sweep its arrival rate with sweep.arrival_rates_per_s",
            );
            ok = false;
        }
        sweep.users = vec![0];
    }
    if let Some(u) = &r.arrival_rates_per_s {
        if !is_open {
            d.error(
                u.span(),
                "sweep.arrival_rates_per_s",
                "sweeps an open workload's arrival rate, but this workload is a closed population (think_time): sweep it with sweep.users, or replace think_time with open arrivals",
            );
            ok = false;
        } else {
            match levels(d, u, &RATES) {
                Some(v) => {
                    sweep.users = v;
                    sweep.load = LoadAxis::ArrivalRate;
                }
                None => ok = false,
            }
        }
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
        match num_where(
            d,
            v,
            "sweep.precision",
            |x| x > 0.0 && x <= 1.0,
            "must be the target relative half-width of the 95% interval of mean response, above 0 and at most 1 (e.g. 0.05 for ±5%)",
        ) {
            Some(x) => sweep.precision = x,
            None => ok = false,
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

/// What a list or grid of load levels counts, for its messages.
struct Levels {
    /// The key, under `[sweep]`.
    key: &'static str,
    /// One level, in words ("a user count").
    one: &'static str,
    /// One level, bare ("user count").
    bare: &'static str,
    /// Levels, in words ("user counts").
    plural: &'static str,
    /// The example of a list.
    example: &'static str,
}

const USERS: Levels = Levels {
    key: "users",
    one: "a user count",
    bare: "user count",
    plural: "user counts",
    example: "users = [10, 100, 1000]",
};

const RATES: Levels = Levels {
    key: "arrival_rates_per_s",
    one: "an arrival rate in whole arrivals per second",
    bare: "arrival rate",
    plural: "arrival rates (whole arrivals per second)",
    example: "arrival_rates_per_s = [10, 20, 40]",
};

/// A list or a log-spaced grid of whole load levels from 1 to
/// [`MAX_USERS`], ascending and distinct: `sweep.users` or
/// `sweep.arrival_rates_per_s`.
fn levels(d: &mut Diagnostics, u: &S<RawUsers>, what: &Levels) -> Option<Vec<u32>> {
    let key = format!("sweep.{}", what.key);
    match u.get_ref() {
        RawUsers::List(list) if list.is_empty() => {
            d.error(
                u.span(),
                key,
                format!(
                    "the list must not be empty: give {} from 1 to {MAX_USERS}, e.g. {}",
                    what.plural, what.example
                ),
            );
            None
        }
        RawUsers::List(list) if list.len() > MAX_POINTS => {
            d.error(
                list[MAX_POINTS].span(),
                key,
                format!(
                    "lists {} {}; at most {MAX_POINTS} points are simulated (or use a grid: {} = {{ from, to, points }})",
                    list.len(),
                    what.plural,
                    what.key
                ),
            );
            None
        }
        RawUsers::List(list) => {
            let mut v = Vec::with_capacity(list.len());
            let mut ok = true;
            for (k, x) in list.iter().enumerate() {
                match int_in(d, x, &format!("{key}[{k}]"), 1, MAX_USERS, what.one) {
                    Some(n) => v.push(n as u32),
                    None => ok = false,
                }
            }
            v.sort_unstable();
            v.dedup();
            ok.then_some(v)
        }
        RawUsers::Grid(g) => {
            let from = int_in(
                d,
                &g.from,
                &format!("{key}.from"),
                1,
                MAX_USERS,
                &format!("the smallest {}", what.bare),
            );
            let to = int_in(
                d,
                &g.to,
                &format!("{key}.to"),
                1,
                MAX_USERS,
                &format!("the largest {}", what.bare),
            );
            let points = int_in(
                d,
                &g.points,
                &format!("{key}.points"),
                1,
                MAX_POINTS as i64,
                &format!(
                    "the number of {}, spaced evenly on a log scale",
                    what.plural
                ),
            );
            match (from, to, points) {
                (Some(from), Some(to), _) if from > to => {
                    d.error(
                        u.span(),
                        key,
                        format!("needs 1 ≤ from ≤ to ≤ {MAX_USERS} (got from = {from}, to = {to})"),
                    );
                    None
                }
                (Some(from), Some(to), Some(1)) if from != to => {
                    d.error(
                        g.points.span(),
                        format!("{key}.points"),
                        format!("must be from 2 to {MAX_POINTS} (1 only when from = to) (got 1)"),
                    );
                    None
                }
                (Some(from), Some(to), Some(points)) => {
                    Some(log_grid(from as u32, to as u32, points as u32))
                }
                _ => None,
            }
        }
    }
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

/// The longest p95 objective: a day, the longest duration drawn.
const MAX_P95_MS: f64 = 86_400_000.0;

pub(super) fn check_slo(d: &mut Diagnostics, s: Option<&S<RawSlo>>) -> Option<Slo> {
    let mut slo = Slo {
        p95_ms: 500.0,
        error_rate: 0.01,
        headroom: crate::defaults::PLAN_HEADROOM,
    };
    let mut ok = true;
    if let Some(s) = s {
        let r = s.get_ref();
        if let Some(p) = &r.p95_ms {
            match num_where(
                d,
                p,
                "slo.p95_ms",
                |x| x > 0.0 && x <= MAX_P95_MS,
                &format!(
                    "must be a latency above 0 ms and at most {} ms (a day)",
                    MAX_P95_MS
                ),
            ) {
                Some(x) => slo.p95_ms = x,
                None => ok = false,
            }
        }
        if let Some(e) = &r.error_rate {
            match num_where(
                d,
                e,
                "slo.error_rate",
                |x| (0.0..=1.0).contains(&x),
                "must be a fraction from 0 to 1",
            ) {
                Some(x) => slo.error_rate = x,
                None => ok = false,
            }
        }
        if let Some(h) = &r.headroom {
            match num_where(
                d,
                h,
                "slo.headroom",
                |x| (0.0..1.0).contains(&x),
                "must be the share of capacity kept in reserve, from 0 to below 1 (e.g. 0.2)",
            ) {
                Some(x) => slo.headroom = x,
                None => ok = false,
            }
        }
    }
    ok.then_some(slo)
}
