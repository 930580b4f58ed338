//! What one run measures.

use hdrhistogram::Histogram;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCause {
    /// Turned away at once: the resource's waiting room was full
    /// (a listen backlog, PgBouncer's `max_client_conn`, an Erlang-B loss).
    Refused = 0,
    /// Waited longer than the resource's timeout.
    Timeout = 1,
    /// SQLITE_BUSY: SQLite's busy handler slept its whole `busy_timeout`
    /// without getting the lock.
    Busy = 2,
}

impl ErrorCause {
    /// Number of causes: the length of per-cause arrays.
    pub const COUNT: usize = 3;
    /// Every cause, in index order (`ErrorCause as usize`).
    pub const ALL: [ErrorCause; Self::COUNT] =
        [ErrorCause::Refused, ErrorCause::Timeout, ErrorCause::Busy];

    /// Column-friendly name.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCause::Refused => "refused",
            ErrorCause::Timeout => "timeout",
            ErrorCause::Busy => "busy",
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StopReason {
    /// The requested number of measured requests finished.
    Target,
    /// The event budget ran out first.
    EventBudget,
    /// An open workload piled up more requests in the system than allowed:
    /// arrivals outpace service and no steady state exists.
    Overflow,
    /// Stopped from outside (Ctrl-C or SIGTERM): the run measured nothing
    /// worth keeping.
    Interrupted,
}

impl StopReason {
    /// Column-friendly name.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Target => "target",
            StopReason::EventBudget => "event_budget",
            StopReason::Overflow => "overflow",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// A time-weighted average of a piecewise-constant quantity
/// (jobs present, servers busy, units held).
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeAverage {
    value: f64,
    last: u64,
    area: f64,
    start: u64,
}

impl TimeAverage {
    /// The quantity becomes `value` at `now` (ns).
    #[inline]
    pub fn set(&mut self, now: u64, value: f64) {
        // Through i64: u64 → f64 takes several instructions on x86-64 and this
        // runs a few times per event; spans never approach 2^63 ns (292 years).
        self.area += self.value * (now - self.last) as i64 as f64;
        self.last = now;
        self.value = value;
    }

    /// The quantity changes by `delta` at `now` (ns).
    #[inline]
    pub fn add(&mut self, now: u64, delta: f64) {
        let v = self.value + delta;
        self.set(now, v);
    }

    /// The quantity's current value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Forget the past (end of warm-up) but keep the current value.
    pub fn restart(&mut self, now: u64) {
        self.set(now, self.value);
        self.area = 0.0;
        self.start = now;
    }

    /// Mean over [restart, now].
    pub fn mean(&self, now: u64) -> f64 {
        let area = self.area + self.value * (now - self.last) as f64;
        let span = (now - self.start) as f64;
        if span > 0.0 {
            area / span
        } else {
            self.value
        }
    }
}

/// Per request type, over the measured window. (Its response-time
/// histogram is [`RunStats::per_type_response`]: histograms are summarised
/// into quantiles before runs are kept, see `sweep::RunRecord`.)
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TypeStats {
    /// Requests of this type completed.
    pub completed: u64,
    /// Failed requests of every cause (the sum of `errors_by_cause`).
    pub errors: u64,
    /// Failed requests by cause, indexed by `ErrorCause as usize`.
    pub errors_by_cause: [u64; ErrorCause::COUNT],
    /// Response times of the completed requests summed, in ns.
    pub response_sum_ns: f64,
}

/// How long requests waited for a server or a unit: counted in the hot
/// loop into fixed-size storage (a histogram sized once, when the run is
/// set up), so recording allocates nothing.
#[derive(Clone, Debug)]
pub struct WaitRecorder {
    /// Requests that got a server or a unit.
    served: u64,
    /// Of those, the ones that had to wait first.
    waited: u64,
    /// Their waits summed, in ns.
    wait_sum_ns: f64,
    /// The waits of those that waited (the others waited 0).
    hist: Histogram<u64>,
}

impl WaitRecorder {
    /// A recorder whose histogram resolves waits from 1 ns to `max_ns`.
    pub fn new(max_ns: u64) -> Self {
        WaitRecorder {
            served: 0,
            waited: 0,
            wait_sum_ns: 0.0,
            hist: Histogram::new_with_bounds(1, max_ns.max(2), 3)
                .expect("static histogram bounds are valid"),
        }
    }

    /// A request got its server or unit after waiting `wait_ns` (0: at once).
    #[inline]
    pub fn served(&mut self, wait_ns: u64) {
        self.served += 1;
        if wait_ns > 0 {
            self.waited += 1;
            self.wait_sum_ns += wait_ns as f64;
            self.hist.saturating_record(wait_ns);
        }
    }

    /// Forget the warm-up: measurement starts now.
    pub fn restart(&mut self) {
        self.served = 0;
        self.waited = 0;
        self.wait_sum_ns = 0.0;
        self.hist.reset();
    }

    /// The wait's quantile `q` over every request served, those that did
    /// not wait counting as 0, in ms.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.served == 0 {
            return f64::NAN;
        }
        let p_wait = self.waited as f64 / self.served as f64;
        if q <= 1.0 - p_wait {
            return 0.0;
        }
        let within = ((q - (1.0 - p_wait)) / p_wait).clamp(0.0, 1.0);
        self.hist.value_at_quantile(within) as f64 / 1e6
    }

    /// What a report shows of the waits (NaN throughout when nothing was
    /// served).
    pub fn summary(&self) -> WaitStats {
        let n = self.served as f64;
        WaitStats {
            served: self.served,
            waited: self.waited,
            mean_wait_ms: if self.served == 0 {
                f64::NAN
            } else {
                self.wait_sum_ns / n / 1e6
            },
            p95_wait_ms: self.quantile_ms(0.95),
            p99_wait_ms: self.quantile_ms(0.99),
        }
    }
}

/// The waits at one station or resource over the measured window.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WaitStats {
    /// Requests served (given a server or a unit).
    pub served: u64,
    /// Of those, the ones that waited first.
    pub waited: u64,
    /// Mean wait over every request served, in ms.
    pub mean_wait_ms: f64,
    /// 95th percentile of the wait over every request served, in ms.
    pub p95_wait_ms: f64,
    /// 99th percentile, in ms.
    pub p99_wait_ms: f64,
}

impl WaitStats {
    /// The share of requests that waited, P(wait) (NaN when none was served).
    pub fn p_wait(&self) -> f64 {
        if self.served == 0 {
            f64::NAN
        } else {
            self.waited as f64 / self.served as f64
        }
    }
}

/// Per active station, over the measured window.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StationStats {
    /// Mean number of jobs at the station, waiting or in service.
    pub mean_present: f64,
    /// Mean number of busy servers (`None` for infinite-server delays).
    pub mean_busy: Option<f64>,
    /// Busy servers over servers, in [0, 1] (`None` for delays).
    pub utilisation: Option<f64>,
    /// Waits for a server (`None` where nothing queues for one: processor
    /// sharing, delays, group commit).
    pub wait: Option<WaitStats>,
}

/// Per passive resource, over the measured window.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResourceStats {
    /// Mean units held.
    pub mean_held: f64,
    /// Held over capacity, in [0, 1].
    pub utilisation: f64,
    /// Mean number of requests waiting for a unit.
    pub mean_waiting: f64,
    /// Waits of the requests granted a unit (one that gave up is an error).
    pub wait: WaitStats,
}

/// Per pooler pool of server connections, over the measured window.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PoolStats {
    /// Mean server connections lent to clients.
    pub mean_held: f64,
    /// Mean server connections open (lent or idle).
    pub mean_open: f64,
    /// Most server connections open at once.
    pub max_open: u32,
    /// Mean clients waiting for a server connection.
    pub mean_waiting: f64,
    /// Reserve connections opened for clients that waited `reserve_pool_timeout`.
    pub reserve_opened: u64,
    /// Waits of the clients lent a connection from the pool (one given a
    /// reserve connection or that gave up is not counted).
    pub wait: WaitStats,
}

/// What the database mechanisms measured, over the measured window.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DbStats {
    /// Sleeps of SQLite's busy handler.
    pub busy_sleeps: u64,
    /// Writers that found their row locked, and the total time they waited.
    pub row_lock_waits: u64,
    /// Time those writers waited for their row locks, summed, in ns.
    pub row_lock_wait_ns: f64,
    /// Row locks taken (waited for or not).
    pub row_locks: u64,
    /// Log flushes and the commits they covered (group-commit disks).
    pub flushes: u64,
    /// Commits the log flushes covered.
    pub flushed_commits: u64,
    /// Per pooler pool, indexed as `DbParts::pools`.
    pub pools: Vec<PoolStats>,
    /// Mean connections open to database servers and the memory they take.
    pub connections: f64,
    /// Memory those connections take, in MB.
    pub connection_memory_mb: f64,
    /// Users refused a session connection that stopped for good (a pgbench
    /// client aborts), over the whole run: pgbench exits with an error if
    /// there is any.
    #[serde(default)]
    pub aborted_users: u64,
}

/// Everything one run measured. Counts and averages cover the measured
/// window (after warm-up) unless named `total_*`.
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Why the run stopped.
    pub stop: StopReason,
    /// Calendar events processed over the whole run, warm-up included.
    pub events: u64,
    /// Simulated time at which measurement began (the warm-up's length), in s.
    pub warmup_s: f64,
    /// Departures discarded as warm-up (warm-start ones included).
    pub warmup_departures: u64,
    /// Users that began the run with a request in the system (warm start).
    pub preplaced: u32,
    /// Length of the measured window, in s.
    pub window_s: f64,
    /// Requests that began in the window.
    pub started: u64,
    /// Requests that completed in the window.
    pub completed: u64,
    /// Requests that failed in the window, by cause (`ErrorCause as usize`).
    pub errors: [u64; ErrorCause::COUNT],
    /// Response times of completed requests, in nanoseconds.
    pub response: Histogram<u64>,
    /// Response times of completed requests summed, in ns.
    pub response_sum_ns: f64,
    /// Time in system of every request that left (completed or failed),
    /// summed, in ns.
    pub sojourn_sum_ns: f64,
    /// Time-average number of requests in the system (not thinking).
    pub mean_in_system: f64,
    /// Per request type, indexed as `Model::request_types`.
    pub per_type: Vec<TypeStats>,
    /// Response times of completed requests per request type (same index as
    /// `per_type`), in nanoseconds, with the run-level histogram's bounds.
    pub per_type_response: Vec<Histogram<u64>>,
    /// Per active station, indexed as `Model::stations`.
    pub stations: Vec<StationStats>,
    /// Per passive resource, indexed as `Model::resources`.
    pub resources: Vec<ResourceStats>,
    /// Over the whole run, for the conservation check:
    /// `total_started = total_completed + total_errored + in_flight_at_end`.
    pub total_started: u64,
    /// Requests completed over the whole run.
    pub total_completed: u64,
    /// Requests failed over the whole run.
    pub total_errored: u64,
    /// Requests still in the system when the run stopped.
    pub in_flight_at_end: u64,
    /// Cache lookups in the window, over every cache, and how many hit.
    pub cache_lookups: u64,
    /// Cache lookups in the window that hit.
    pub cache_hits: u64,
    /// Replica lag and stale reads in the window.
    pub replication: super::ReplicationStats,
    /// SQLite locks, row locks, group commit, pools, connection memory.
    pub db: DbStats,
}

impl RunStats {
    /// Requests that failed in the window, every cause.
    pub fn errors_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Requests that left the system in the window, completed or not.
    pub fn departures(&self) -> u64 {
        self.completed + self.errors_total()
    }

    /// Completed requests per second of the window (0 without a window).
    pub fn throughput_rps(&self) -> f64 {
        if self.window_s > 0.0 {
            self.completed as f64 / self.window_s
        } else {
            0.0
        }
    }

    /// Fraction of departures in the window that failed, 0–1.
    pub fn error_rate(&self) -> f64 {
        let d = self.departures();
        if d == 0 {
            0.0
        } else {
            self.errors_total() as f64 / d as f64
        }
    }

    /// Mean response time of completed requests, in ms (NaN if none
    /// completed).
    pub fn mean_response_ms(&self) -> f64 {
        if self.completed == 0 {
            f64::NAN
        } else {
            self.response_sum_ns / self.completed as f64 / 1e6
        }
    }

    /// Response-time quantile of completed requests, in ms (`q` in [0, 1]).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.response.is_empty() {
            f64::NAN
        } else {
            self.response.value_at_quantile(q) as f64 / 1e6
        }
    }

    /// Response-time quantile of completed requests of type `k`, in ms
    /// (NaN if none completed).
    pub fn type_quantile_ms(&self, k: usize, q: f64) -> f64 {
        let h = &self.per_type_response[k];
        if h.is_empty() {
            f64::NAN
        } else {
            h.value_at_quantile(q) as f64 / 1e6
        }
    }

    /// Longest response time of a completed request, in ms (NaN if none
    /// completed).
    pub fn max_ms(&self) -> f64 {
        if self.response.is_empty() {
            f64::NAN
        } else {
            self.response.max() as f64 / 1e6
        }
    }

    /// Measured cache hit ratio, NaN without lookups.
    pub fn cache_hit_ratio(&self) -> f64 {
        if self.cache_lookups == 0 {
            f64::NAN
        } else {
            self.cache_hits as f64 / self.cache_lookups as f64
        }
    }

    /// Mean time in system of all departures (Little's law's R), in seconds.
    pub fn mean_sojourn_s(&self) -> f64 {
        let d = self.departures();
        if d == 0 {
            f64::NAN
        } else {
            self.sojourn_sum_ns / d as f64 / 1e9
        }
    }
}
