//! What a load-test file says about one load level, in one vocabulary for
//! every tool: the population, what it carried, how long it waited.

use std::path::PathBuf;

/// Latency samples kept per level: enough for percentiles and a cv, few
/// enough that a day-long log does not fill memory (every k-th is kept).
pub const MAX_SAMPLES: usize = 200_000;

/// One load level (or one request type at one level) as measured.
#[derive(Clone, Debug, Default)]
pub struct Level {
    /// The file it was read from.
    pub file: PathBuf,
    /// Where in the file: a line range, a window of time, a user count.
    pub window: String,
    /// The request type (`request` column, endpoint, label); `None`: all.
    pub request: Option<String>,
    /// Concurrent users (clients, threads, virtual users) of the closed loop.
    pub users: f64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Mean response time of successful requests, ms, if the file gives it
    /// (or its samples do).
    pub mean_ms: Option<f64>,
    /// Median response time, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Standard deviation of response time, ms (pgbench prints it).
    pub stddev_ms: Option<f64>,
    /// Fraction (0–1) of requests that failed.
    pub error_rate: Option<f64>,
    /// Busy fraction (0–1) of the server's cores, if measured.
    pub cpu_util: Option<f64>,
    /// Latency samples of successful requests, ms (at most [`MAX_SAMPLES`]).
    pub samples_ms: Vec<f64>,
    /// Throughput of each sub-window (pgbench -P seconds, Locust rows), for
    /// the spread of the level's own estimate.
    pub window_rps: Vec<f64>,
    /// Per-statement mean latencies (pgbench -r): name and ms.
    pub statements: Vec<(String, f64)>,
}

impl Level {
    /// Fill mean, percentiles and sd from the samples where the file gave
    /// none of its own.
    pub fn fill_from_samples(&mut self) {
        if self.samples_ms.is_empty() {
            return;
        }
        let mut s = self.samples_ms.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len() as f64;
        let mean = s.iter().sum::<f64>() / n;
        let var = s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        self.mean_ms.get_or_insert(mean);
        self.stddev_ms.get_or_insert(var.sqrt());
        self.p50_ms.get_or_insert(nearest_rank(&s, 0.50));
        self.p95_ms.get_or_insert(nearest_rank(&s, 0.95));
        self.p99_ms.get_or_insert(nearest_rank(&s, 0.99));
    }

    /// Mean response time, ms: the file's, else a lognormal's through the
    /// median and the 95th percentile, else the median.
    pub fn mean_or_estimate_ms(&self) -> Option<f64> {
        if let Some(m) = self.mean_ms {
            return Some(m);
        }
        let p50 = self.p50_ms?;
        match self.p95_ms {
            Some(p95) if p95 > p50 && p50 > 0.0 => {
                let sigma = (p95 / p50).ln() / Z95;
                Some(p50 * (sigma * sigma / 2.0).exp())
            }
            _ => Some(p50),
        }
    }
}

/// The standard normal's 95th percentile.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// Nearest-rank percentile of sorted values (as tests/data/real uses).
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Keeps at most [`MAX_SAMPLES`] of a stream of samples, evenly spread:
/// when full, every other one is dropped and the stride doubles.
#[derive(Clone, Debug, Default)]
pub struct Sampler {
    kept: Vec<f64>,
    stride: u64,
    seen: u64,
}

impl Sampler {
    /// Offer one sample.
    pub fn push(&mut self, x: f64) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if self.seen.is_multiple_of(self.stride) {
            self.kept.push(x);
            if self.kept.len() >= MAX_SAMPLES {
                let halved: Vec<f64> = self.kept.iter().step_by(2).copied().collect();
                self.kept = halved;
                self.stride *= 2;
            }
        }
        self.seen += 1;
    }

    /// The samples kept.
    pub fn into_vec(self) -> Vec<f64> {
        self.kept
    }
}
