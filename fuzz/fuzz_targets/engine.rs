//! The engine on structurally valid models: every scenario the loader
//! accepts is compiled and run briefly, at a few user counts. A run must
//! never panic (the fuzz build has overflow checks and debug assertions on)
//! and must keep its books: requests started = completed + failed + in
//! flight, utilisations within [0, 1]. Seeded with the shipped scenarios,
//! libFuzzer mutates their numbers and structure into new valid models.
#![no_main]

use capsim::engine::{self, RunConfig};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Engine runs made so far, printed every 10,000 (libFuzzer counts inputs,
/// most of which the loader rejects).
static RUNS: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let Ok(sc) = capsim::scenario::parse_bytes(Path::new("fuzz.toml"), data) else {
        return;
    };
    for phase in &sc.phases {
        let Ok(model) = capsim::arch::try_compile(&sc.workload, phase) else {
            continue;
        };
        for users in [1u32, 7, 300] {
            let cfg = RunConfig {
                warmup_requests: 50,
                measured_requests: 300,
                max_events: 30_000,
                max_in_system: 5_000,
                ..RunConfig::new(users, u64::from(users) ^ data.len() as u64)
            };
            let s = engine::run(&model, &cfg);
            assert_eq!(
                s.total_started,
                s.total_completed + s.total_errored + s.in_flight_at_end,
                "requests not conserved"
            );
            for st in &s.stations {
                if let Some(u) = st.utilisation {
                    assert!((0.0..=1.0 + 1e-9).contains(&u) || u.is_nan(), "utilisation {u}");
                }
            }
            let n = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
            if n % 10_000 == 0 {
                eprintln!("engine runs: {n}");
            }
        }
    }
});
