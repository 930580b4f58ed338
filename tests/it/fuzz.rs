//! Property tests: no input makes the loader or the engine panic, and the
//! engine's invariants hold on randomly generated valid models.

use capsim::dist::Dist;
use capsim::engine::{self, RunConfig};
use capsim::key_popularity::KeyPopularity;
use capsim::model::{
    Discipline, KeySpace, Model, Plan, Population, RequestType, Resource, Station, Step, WaitPolicy,
};
use proptest::prelude::*;
use std::path::Path;

const VALID: &str = r#"
name = "Fuzz base"
[workload]
think_time = { dist = "exponential", mean_s = 1 }
[[workload.request]]
name = "r"
weight = 1.0
app_cpu = { dist = "lognormal", mean_ms = 8, cv = 1.0 }
db = { dist = "exponential", mean_ms = 2 }
[sweep]
users = [10, 100]
[[phase]]
name = "P"
app = { hosts = 1, cores_per_host = 2, workers_per_host = 4 }
database = { engine = "postgres", cores = 2 }
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_loader_never_panics_on_arbitrary_text(s in "\\PC{0,400}") {
        let _ = capsim::scenario::parse(Path::new("fuzz.toml"), &s);
    }

    #[test]
    fn the_loader_never_panics_on_a_mutated_scenario(
        at in 0usize..VALID.len(),
        cut in 0usize..40,
        insert in "[ -~\n]{0,20}",
    ) {
        let mut s = VALID.to_string();
        let at = (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap();
        let end = (at + cut).min(s.len());
        let end = (end..=s.len()).find(|&i| s.is_char_boundary(i)).unwrap();
        s.replace_range(at..end, &insert);
        if let Err(e) = capsim::scenario::parse(Path::new("fuzz.toml"), &s) {
            // Every failure says where.
            prop_assert!(!e.diagnostics.is_empty());
            prop_assert!(e.to_string().starts_with("fuzz.toml:"));
        }
    }

    #[test]
    fn a_set_never_panics_and_every_failure_says_where(
        path in "(workload|sweep|phase|phase\\[[0-2]\\]|phase\\.P|app|database|x)(\\.(app|hosts|cores|users|think_time|mean_s|request|\\[0\\]|name|y)){0,4}",
        value in "(\\PC{0,12}|\\[[0-9, ]{0,8}\\]|\\{ ?[a-z]{0,4} ?= ?[0-9]{0,3} ?\\})",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fuzz.toml");
        std::fs::write(&file, VALID).unwrap();
        let arg = format!("{path}={value}");
        let Ok(o) = capsim::scenario::Override::parse(&arg) else {
            return Ok(());
        };
        match capsim::scenario::load_with(&file, &[o]) {
            Ok(scenarios) => prop_assert!(!scenarios.is_empty()),
            Err(capsim::scenario::LoadError::Invalid(e)) => {
                prop_assert!(!e.diagnostics.is_empty());
                prop_assert!(e.diagnostics.iter().all(|d| d.line >= 1 && d.column >= 1));
            }
            Err(e) => prop_assert!(e.to_string().starts_with("--set "), "{e}"),
        }
    }
}

/// A random but valid model: a few stations and resources, plans that
/// acquire, use, delay, branch forward and release.
fn arb_model() -> impl Strategy<Value = Model> {
    let station = (0u8..3, 1u32..4).prop_map(|(d, c)| Station {
        name: "s".into(),
        discipline: [
            Discipline::Fcfs,
            Discipline::ProcessorSharing,
            Discipline::Delay,
        ][d as usize],
        servers: c,
        contention: 0.0,
    });
    let resource = (
        1u32..5,
        proptest::option::of(0u32..4),
        proptest::option::of(1u64..50),
    )
        .prop_map(|(c, m, t)| Resource {
            name: "r".into(),
            capacity: c,
            policy: WaitPolicy {
                max_waiting: m,
                timeout_ns: t.map(|ms| ms * 1_000_000),
            },
        });
    let dist = (0u8..5, 0.1f64..20.0, 0.2f64..3.0).prop_map(|(k, m, cv)| {
        let ns = m * 1e6;
        match k {
            0 => Dist::Constant { ns },
            1 => Dist::Exponential { mean_ns: ns },
            2 => Dist::lognormal(ns, cv),
            3 => Dist::gamma(ns, cv),
            _ => Dist::Uniform {
                lo_ns: 0.0,
                hi_ns: 2.0 * ns,
            },
        }
    });
    (
        proptest::collection::vec(station, 1..4),
        proptest::collection::vec(resource, 0..3),
        proptest::collection::vec((0u8..4, 0usize..8, dist, 0.0f64..1.0), 1..8),
        0.5f64..50.0,
        any::<bool>(),
        // Exponential think times pool the thinking users (one calendar
        // event); any other gives each user its own event: fuzz both.
        any::<bool>(),
    )
        .prop_map(|(stations, resources, raw_steps, think_ms, open, pooled)| {
            let mut steps = Vec::new();
            let mut held = vec![false; resources.len()];
            for (kind, target, d, p) in raw_steps {
                match kind {
                    0 if !resources.is_empty() => {
                        let r = target % resources.len();
                        if held[r] {
                            steps.push(Step::Release(r as u32));
                        } else {
                            steps.push(Step::Acquire(r as u32));
                        }
                        held[r] = !held[r];
                    }
                    1 => steps.push(Step::Delay(d)),
                    2 => steps.push(Step::Branch { p, to: 0 }),
                    _ => steps.push(Step::Use {
                        station: (target % stations.len()) as u32,
                        demand: d,
                    }),
                }
            }
            // Branches jump forward, at most to the end of the plan.
            let len = steps.len() as u32;
            for (i, s) in steps.iter_mut().enumerate() {
                if let Step::Branch { to, .. } = s {
                    *to = (i as u32 + 2).min(len);
                }
            }
            // Some plans keep a resource to the end: completion releases it.
            Model {
                stations,
                resources,
                steps,
                request_types: vec![RequestType {
                    name: "r".into(),
                    weight: 1.0,
                    plans: vec![Plan { first: 0, len }],
                }],
                population: if open {
                    Population::Open {
                        rate_per_s: 1000.0 / think_ms,
                    }
                } else {
                    Population::Closed {
                        think: if pooled {
                            Dist::Exponential {
                                mean_ns: think_ms * 1e6,
                            }
                        } else {
                            Dist::lognormal(think_ms * 1e6, 1.0)
                        },
                    }
                },
                keys: Some(KeyPopularity::new(KeySpace {
                    count: 1000,
                    zipf: 0.8,
                })),
                scaling: Default::default(),
                db: Default::default(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn engine_invariants_hold_on_random_models(model in arb_model(), users in 1u32..200, seed in any::<u64>()) {
        prop_assume!(model.validate().is_ok());
        let cfg = RunConfig {
            users,
            seed,
            warmup_requests: 500,
            measured_requests: 20_000,
            max_events: 2_000_000,
            max_in_system: 5_000,
        };
        let s = engine::run(&model, &cfg);
        // Conservation: nothing is created or lost.
        prop_assert_eq!(s.total_started, s.total_completed + s.total_errored + s.in_flight_at_end);
        // Without a measured window (the budget ran out during warm-up)
        // averages are undefined, and reported as such.
        if s.window_s == 0.0 {
            prop_assert!(s.mean_in_system.is_nan());
            return Ok(());
        }
        // Utilisation never exceeds one per server.
        for st in &s.stations {
            if let Some(u) = st.utilisation {
                prop_assert!(u <= 1.0 + 1e-9, "station utilisation {}", u);
            }
        }
        for r in &s.resources {
            prop_assert!(r.utilisation <= 1.0 + 1e-9, "resource utilisation {}", r.utilisation);
        }
        // Little's law over a long, completed window. It holds for any stable
        // system, up to the time in system of requests that straddle the
        // window's ends. Those can be long (heavy-tailed demands shared by
        // processor sharing; a few long holders among many instant refusals,
        // which make the *mean* time in system tiny), so the window must dwarf
        // the longest response, not the mean.
        let r = s.mean_sojourn_s();
        let longest_s = s.max_ms() / 1e3;
        if s.stop == engine::stats::StopReason::Target
            && s.departures() >= 20_000
            && s.window_s > 300.0 * r
            && s.window_s > 100.0 * longest_s
        {
            let x = s.departures() as f64 / s.window_s;
            if s.mean_in_system > 0.5 {
                prop_assert!((s.mean_in_system - x * r).abs() <= 0.03 * s.mean_in_system + 0.05,
                    "L = {} but X·R = {}", s.mean_in_system, x * r);
            }
        }
        // Determinism: the same seed gives the same run.
        let again = engine::run(&model, &cfg);
        prop_assert_eq!(again.events, s.events);
        prop_assert_eq!(again.response_sum_ns, s.response_sum_ns);
    }
}
