//! What one run measured, reduced to numbers, and whether it describes a
//! steady state.

use super::Point;
use crate::engine::stats::{
    DbStats, ErrorCause, ResourceStats, RunStats, StationStats, StopReason, TypeStats,
};

/// What one run measured, reduced to numbers (the histogram is summarised
/// in the worker so that thousands of runs stay small in memory).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunRecord {
    /// Which run: phase, users, replication and seed.
    pub point: Point,
    /// Why the run stopped (target reached, event budget, overflow,
    /// interrupted).
    pub stop: StopReason,
    /// Calendar events processed, warm-up included: the run's cost.
    pub events: u64,
    /// Simulated time at which measurement started, in s.
    pub warmup_s: f64,
    /// Length of the measured window, in simulated s.
    pub window_s: f64,
    /// Requests begun in the window.
    pub started: u64,
    /// Requests completed in the window.
    pub completed: u64,
    /// Requests that failed in the window, by cause (indexed by
    /// `ErrorCause as usize`).
    pub errors: [u64; ErrorCause::COUNT],
    /// Completed requests per second of window.
    pub throughput_rps: f64,
    /// Fraction (0–1) of the window's departures that failed; 0 when none
    /// left.
    pub error_rate: f64,
    /// Mean response time of completed requests, in ms (NaN if none).
    pub mean_ms: f64,
    /// Median response time of completed requests, in ms.
    pub p50_ms: f64,
    /// 90th percentile of response time, in ms.
    pub p90_ms: f64,
    /// 95th percentile of response time, in ms: the one the SLO bounds.
    pub p95_ms: f64,
    /// 99th percentile of response time, in ms.
    pub p99_ms: f64,
    /// Longest response time of a completed request, in ms.
    pub max_ms: f64,
    /// Time-average number of requests in the system (not thinking) over
    /// the window: Little's law's left-hand side.
    pub mean_in_system: f64,
    /// Little's law's right-hand side: departures per second × mean time in system.
    pub little_xr: f64,
    /// Per station, in model order: time-averaged jobs present, servers
    /// busy and utilisation over the window.
    pub stations: Vec<StationStats>,
    /// Per passive resource (pool, connections), in model order: mean
    /// units held, utilisation and waiters over the window.
    pub resources: Vec<ResourceStats>,
    /// Per request type, in model order: completions, failures and
    /// summed response time in the window.
    pub per_type: Vec<TypeStats>,
    /// Response-time quantiles per request type (same index as `per_type`),
    /// summarised from the run's per-type histograms.
    pub per_type_latency: Vec<TypeLatency>,
    /// Requests begun over the whole run, warm-up included; with the next
    /// three, the conservation check `total_started = total_completed +
    /// total_errored + in_flight_at_end`.
    pub total_started: u64,
    /// Requests completed over the whole run.
    pub total_completed: u64,
    /// Requests failed over the whole run.
    pub total_errored: u64,
    /// Requests still in the system when the run stopped.
    pub in_flight_at_end: u64,
    /// Requests discarded as warm-up (the warm start's, then the fixed
    /// count, doubled if MSER-5 asked for a rerun).
    pub warmup_requests: u64,
    /// Users that started with a request in flight (warm start).
    pub preplaced: u32,
    /// Completed requests MSER-5 would discard, over the whole run.
    pub mser_cut_requests: u64,
    /// MSER-5 found the end of the warm-up within the discarded requests.
    pub settled: bool,
    // Scaling tier (NaN where the phase has no cache or no replicas).
    /// Cache lookups in the window, over every cache.
    pub cache_lookups: u64,
    /// Fraction (0–1) of those lookups that hit; NaN without lookups.
    pub cache_hit_ratio: f64,
    /// Writes shipped to a replica group in the window.
    pub replica_writes: u64,
    /// Mean replica lag (commit on the primary → visible on the replicas),
    /// in ms; NaN without shipped writes.
    pub replica_lag_mean_ms: f64,
    /// Median replica lag, in ms.
    pub replica_lag_p50_ms: f64,
    /// 95th percentile of replica lag, in ms.
    pub replica_lag_p95_ms: f64,
    /// Longest replica lag, in ms.
    pub replica_lag_max_ms: f64,
    /// Replay work offered per second of window: above 1, lag grows without bound.
    pub replay_offered_load: f64,
    /// Reads served by replicas in the window.
    pub replica_reads: u64,
    /// Fraction (0–1) of replica reads that missed the user's own earlier
    /// write (read-your-writes violated); NaN without replica reads.
    pub stale_read_fraction: f64,
    /// Database mechanisms: locks, flushes, pools, connections.
    pub db: DbStats,
}

/// Response-time quantiles of one request type's completed requests, in ms
/// (NaN where none completed).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct TypeLatency {
    /// Median response, in ms (requests.csv `p50_ms`).
    pub p50_ms: f64,
    /// 95th percentile, in ms (requests.csv `p95_ms`).
    pub p95_ms: f64,
    /// 99th percentile, in ms (requests.csv `p99_ms`).
    pub p99_ms: f64,
}

impl RunRecord {
    /// The numbers of run `point` from its engine statistics; MSER-5's
    /// verdict (`mser_cut_requests`, `settled`) is left for the caller.
    pub fn from_stats(point: Point, s: &RunStats) -> Self {
        let departures_rate = if s.window_s > 0.0 {
            s.departures() as f64 / s.window_s
        } else {
            f64::NAN
        };
        RunRecord {
            point,
            stop: s.stop,
            events: s.events,
            warmup_s: s.warmup_s,
            window_s: s.window_s,
            started: s.started,
            completed: s.completed,
            errors: s.errors,
            throughput_rps: s.throughput_rps(),
            error_rate: s.error_rate(),
            mean_ms: s.mean_response_ms(),
            p50_ms: s.quantile_ms(0.50),
            p90_ms: s.quantile_ms(0.90),
            p95_ms: s.quantile_ms(0.95),
            p99_ms: s.quantile_ms(0.99),
            max_ms: s.max_ms(),
            mean_in_system: s.mean_in_system,
            little_xr: departures_rate * s.mean_sojourn_s(),
            stations: s.stations.clone(),
            resources: s.resources.clone(),
            per_type: s.per_type.clone(),
            per_type_latency: (0..s.per_type.len())
                .map(|k| TypeLatency {
                    p50_ms: s.type_quantile_ms(k, 0.50),
                    p95_ms: s.type_quantile_ms(k, 0.95),
                    p99_ms: s.type_quantile_ms(k, 0.99),
                })
                .collect(),
            total_started: s.total_started,
            total_completed: s.total_completed,
            total_errored: s.total_errored,
            in_flight_at_end: s.in_flight_at_end,
            warmup_requests: s.warmup_departures,
            preplaced: s.preplaced,
            mser_cut_requests: 0,
            settled: true,
            cache_lookups: s.cache_lookups,
            cache_hit_ratio: s.cache_hit_ratio(),
            replica_writes: s.replication.shipped,
            replica_lag_mean_ms: s.replication.lag_mean_ms(),
            replica_lag_p50_ms: s.replication.lag_quantile_ms(0.50),
            replica_lag_p95_ms: s.replication.lag_quantile_ms(0.95),
            replica_lag_max_ms: s.replication.lag_max_ms(),
            replay_offered_load: if s.window_s > 0.0 && s.replication.shipped > 0 {
                s.replication.replay_work_ns / 1e9 / s.window_s
            } else {
                f64::NAN
            },
            replica_reads: s.replication.replica_reads,
            stale_read_fraction: s.replication.stale_read_fraction(),
            db: s.db.clone(),
        }
    }

    /// Whether this run describes a steady state: it did not overflow, its
    /// warm-up was long enough by MSER-5, it measured something before its
    /// event budget ran out, and its window is long next to the time a
    /// request spends in the system. The last rule catches saturated closed
    /// systems of very many users: their requests queue for far longer than
    /// any affordable window, so the few that finish inside it are the
    /// lucky short ones and their mean says nothing of the steady state.
    /// The time in system is taken both over all departures (Little's law)
    /// and over completed requests alone: where most requests are refused at
    /// once, the first is tiny while the accepted ones still queue for long.
    pub fn stable(&self) -> bool {
        // Little's law: time in system = requests in system / departure rate.
        let departures = self.completed + self.errors_total();
        let in_system_s = if departures > 0 && self.window_s > 0.0 {
            self.mean_in_system * self.window_s / departures as f64
        } else {
            0.0
        };
        let response_s = if self.completed > 0 {
            self.mean_ms / 1e3
        } else {
            0.0
        };
        self.stop != StopReason::Overflow
            && self.settled
            && !(self.stop == StopReason::EventBudget && self.completed == 0)
            && self.window_s >= MIN_WINDOWS_PER_SOJOURN * in_system_s.max(response_s)
    }

    /// Requests that ended in an error, of every cause.
    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Of the requests the run took in, the share it did not serve: those
    /// that failed and those still in the system when it stopped. For an
    /// open workload past saturation this is what matters: counting only the
    /// requests that left would report an error rate of 0 for a system that
    /// serves a tenth of its arrivals.
    pub fn unserved_rate(&self) -> f64 {
        ratio(
            (self.total_errored + self.in_flight_at_end) as f64,
            self.total_started as f64,
        )
    }

    /// Writers per second that found their row locked.
    pub fn row_lock_waits_per_s(&self) -> f64 {
        ratio(self.db.row_lock_waits as f64, self.window_s)
    }

    /// Mean wait of a writer that found its row locked, in ms.
    pub fn row_lock_wait_ms(&self) -> f64 {
        ratio(
            self.db.row_lock_wait_ns / 1e6,
            self.db.row_lock_waits as f64,
        )
    }

    /// Commits made durable per log flush (group commit).
    pub fn commits_per_flush(&self) -> f64 {
        ratio(self.db.flushed_commits as f64, self.db.flushes as f64)
    }

    /// Mean response of request type `k` (completed requests), in ms.
    pub fn type_mean_ms(&self, k: usize) -> f64 {
        let t = &self.per_type[k];
        if t.completed > 0 {
            t.response_sum_ns / t.completed as f64 / 1e6
        } else {
            f64::NAN
        }
    }

    /// Failed requests of type `k` with `cause`.
    pub fn type_errors(&self, k: usize, cause: ErrorCause) -> u64 {
        self.per_type[k].errors_by_cause[cause as usize]
    }

    /// Completions per second of request type `k`.
    pub fn type_throughput_rps(&self, k: usize) -> f64 {
        ratio(self.per_type[k].completed as f64, self.window_s)
    }

    /// Mean jobs waiting (present, not in service) at station `k`; NaN for
    /// a delay, where nobody waits.
    pub fn station_waiting(&self, k: usize) -> f64 {
        let st = &self.stations[k];
        st.mean_busy.map_or(f64::NAN, |b| st.mean_present - b)
    }

    /// Server connections lent over the `capacity` of pooler pool `k`
    /// (reserve included, so at most 1).
    pub fn pool_utilisation(&self, k: usize, capacity: u32) -> f64 {
        ratio(self.db.pools[k].mean_held, f64::from(capacity))
    }
}

/// `a / b`, or NaN when `b` is 0 (nothing to average).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// A steady-state estimate needs a window this many times longer than the
/// mean time a request spends in the system.
pub const MIN_WINDOWS_PER_SOJOURN: f64 = 10.0;
