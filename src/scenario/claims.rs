//! `[[claim]]`: what a guide says a phase achieves, as a structured
//! expectation capsim can check.
//!
//! ```toml
//! [[claim]]
//! id = "GC-12"
//! phase = "Fase 1: SQLite"
//! quote = "- Latencia: 50-200ms"
//! source = "000_4e7f2fdba52684be.txt:97"
//! users = 1000
//! expect = { p95_ms = { max = 200 } }
//! ```

use super::diag::{echo, Diagnostics};
use super::raw::{Num, S};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClaim {
    pub id: Option<String>,
    pub phase: S<String>,
    pub quote: S<String>,
    pub source: Option<String>,
    /// Why the claim is read this way (the interpretation, if any).
    pub note: Option<String>,
    pub users: Option<S<Num>>,
    pub expect: S<BTreeMap<String, S<RawBound>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBound {
    pub min: Option<S<Num>>,
    pub max: Option<S<Num>>,
}

/// A quantity a claim is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Largest user count whose p95 and error rate meet the SLO.
    CapacityUsers,
    /// Highest throughput the phase reaches anywhere in the sweep.
    MaxThroughputRps,
    /// Monthly cost of the phase.
    CostUsdMonth,
    /// Monthly cost per 1,000 users at capacity.
    CostPer1kUsers,
    /// Mean response time of completed requests, in ms.
    MeanMs,
    /// Median response time, in ms.
    P50Ms,
    /// 95th-percentile response time, in ms.
    P95Ms,
    /// 99th-percentile response time, in ms.
    P99Ms,
    /// Completed requests per second.
    ThroughputRps,
    /// Completed write requests per second.
    WriteTps,
    /// Fraction (0–1) of requests that ended in an error: refused, timed
    /// out, or SQLite busy.
    ErrorRate,
    /// Fraction (0–1) of cache lookups that hit.
    CacheHitRatio,
    /// 95th-percentile replica lag, in ms: commit on the primary → visible
    /// on the replicas.
    ReplicaLagP95Ms,
    /// Fraction (0–1) of replica reads that missed the user's own write.
    StaleReadFraction,
    /// Mean connections open to database servers.
    DbConnections,
}

impl Metric {
    /// Every metric with its name as written under `claim.expect`.
    pub const ALL: [(Metric, &'static str); 15] = [
        (Metric::CapacityUsers, "capacity_users"),
        (Metric::MaxThroughputRps, "max_throughput_rps"),
        (Metric::CostUsdMonth, "cost_usd_month"),
        (Metric::CostPer1kUsers, "cost_per_1k_users"),
        (Metric::MeanMs, "mean_ms"),
        (Metric::P50Ms, "p50_ms"),
        (Metric::P95Ms, "p95_ms"),
        (Metric::P99Ms, "p99_ms"),
        (Metric::ThroughputRps, "throughput_rps"),
        (Metric::WriteTps, "write_tps"),
        (Metric::ErrorRate, "error_rate"),
        (Metric::CacheHitRatio, "cache_hit_ratio"),
        (Metric::ReplicaLagP95Ms, "replica_lag_p95_ms"),
        (Metric::StaleReadFraction, "stale_read_fraction"),
        (Metric::DbConnections, "db_connections"),
    ];

    /// The metric's name as written under `claim.expect`, e.g. `p95_ms`.
    pub fn name(self) -> &'static str {
        Metric::ALL
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("", |(_, n)| n)
    }

    fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.iter().find(|(_, n)| *n == s).map(|(m, _)| *m)
    }

    /// Metrics of a whole phase rather than of one user count.
    pub fn is_phase_level(self) -> bool {
        matches!(
            self,
            Metric::CapacityUsers
                | Metric::MaxThroughputRps
                | Metric::CostUsdMonth
                | Metric::CostPer1kUsers
        )
    }
}

/// One checked claim.
#[derive(Clone, Debug)]
pub struct Claim {
    /// `claim.id`: the claim's label in reports (`claim1`, `claim2`… by
    /// position when absent).
    pub id: String,
    /// Index into `Scenario::phases` of the phase named by `claim.phase`.
    pub phase: usize,
    /// `claim.quote`: the guide's own words, trimmed.
    pub quote: String,
    /// `claim.source`: where in the guide the quote is (e.g. `file.txt:97`).
    pub source: Option<String>,
    /// `claim.note`: why the claim is read this way.
    pub note: Option<String>,
    /// The user count the claim is about (`None` for phase-level metrics).
    pub users: Option<u32>,
    /// The one metric named under `claim.expect`.
    pub metric: Metric,
    /// `claim.expect.<metric>.min`: lowest value that supports the claim, in
    /// the metric's unit. At least one of `min` and `max` is set.
    pub min: Option<f64>,
    /// `claim.expect.<metric>.max`: highest value that supports the claim, in
    /// the metric's unit; never below `min`.
    pub max: Option<f64>,
}

pub(super) fn check_claims(
    d: &mut Diagnostics,
    raw: &[S<RawClaim>],
    phase_names: &[String],
    open: bool,
) -> Option<Vec<Claim>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, c) in raw.iter().enumerate() {
        let f = |x: &str| format!("claim[{i}].{x}");
        let r = c.get_ref();
        let phase = match phase_names
            .iter()
            .position(|p| p == r.phase.get_ref().trim())
        {
            Some(p) => Some(p),
            None => {
                let known: Vec<&str> = phase_names.iter().map(String::as_str).collect();
                d.error(
                    r.phase.span(),
                    f("phase"),
                    format!(
                        "no phase is named `{}` (phases: {})",
                        echo(r.phase.get_ref()),
                        super::quoted_in_order(&known)
                    ),
                );
                None
            }
        };
        if r.quote.get_ref().trim().is_empty() {
            d.error(
                r.quote.span(),
                f("quote"),
                "must quote the guide's own words",
            );
            ok = false;
        }
        let users = match &r.users {
            None => Some(None),
            Some(u) => match u.get_ref().int() {
                Ok(n) if (1..=10_000_000).contains(&n) => Some(Some(n as u32)),
                _ => {
                    d.error(
                        u.span(),
                        f("users"),
                        format!(
                            "must be a user count from 1 to 10000000 (got {})",
                            u.get_ref().got()
                        ),
                    );
                    None
                }
            },
        };
        let expect = r.expect.get_ref();
        if expect.len() != 1 {
            d.error(
                r.expect.span(),
                f("expect"),
                "must name exactly one metric, e.g. expect = { p95_ms = { max = 200 } }; write one claim per metric",
            );
            ok = false;
            continue;
        }
        let (name, bound) = expect.iter().next().expect("one entry");
        let name = &echo(name);
        let Some(metric) = Metric::parse(name) else {
            let valid: Vec<&str> = Metric::ALL.iter().map(|(_, n)| *n).collect();
            d.error(
                r.expect.span(),
                f(&format!("expect.{name}")),
                format!("`{name}` is not a metric; valid: {}", valid.join(", ")),
            );
            ok = false;
            continue;
        };
        let b = bound.get_ref();
        // A bound that is not a finite number is as bad as a missing one.
        let value = |x: &Option<S<Num>>| -> Result<Option<f64>, ()> {
            match x.as_ref().map(|v| v.get_ref().float()) {
                None => Ok(None),
                Some(Ok(v)) if v.is_finite() => Ok(Some(v)),
                Some(_) => Err(()),
            }
        };
        let (min, max) = (value(&b.min), value(&b.max));
        let (min, max) = match (min, max) {
            (Ok(lo), Ok(hi))
                if lo.or(hi).is_some() && !lo.zip(hi).is_some_and(|(lo, hi)| lo > hi) =>
            {
                (lo, hi)
            }
            _ => (None, None),
        };
        if min.is_none() && max.is_none() {
            d.error(
                bound.span(),
                f(&format!("expect.{name}")),
                "needs min, max or both (numbers, min ≤ max), e.g. { max = 200 }",
            );
            ok = false;
        }
        match (users, metric.is_phase_level()) {
            // An open workload has one point, at its arrival rate.
            (Some(None), false) if !open => {
                d.error(
                    c.span(),
                    f("users"),
                    format!("`{name}` is measured at a user count: add users = N"),
                );
                ok = false;
            }
            (Some(Some(_)), true) => {
                d.error(
                    r.users.as_ref().map_or(c.span(), |u| u.span()),
                    f("users"),
                    format!("`{name}` is a property of the whole phase: remove users"),
                );
                ok = false;
            }
            _ => {}
        }
        if let (Some(phase), Some(users)) = (phase, users) {
            out.push(Claim {
                id: r.id.clone().unwrap_or_else(|| format!("claim{}", i + 1)),
                phase,
                quote: r.quote.get_ref().trim().to_string(),
                source: r.source.clone(),
                note: r.note.clone(),
                users,
                metric,
                min,
                max,
            });
        } else {
            ok = false;
        }
    }
    ok.then_some(out)
}
