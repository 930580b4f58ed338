//! Caches in front of the database: one shared Redis, or a LocMemCache in
//! each app host.

use super::builder::ModelBuilder;
use crate::defaults;
use crate::dist::{Dist, NS_PER_MS, NS_PER_S};
use crate::model::{CachePolicy, CacheSpec, Discipline, KeySpace, StationId, Step};
use crate::scenario::{Cache, CacheKind};

/// The compiled cache tier.
pub(super) struct CacheTier {
    /// Cache instance of each app host (all the same for Redis).
    instances: Vec<u32>,
    /// Redis: its single thread (FCFS, one server) and the round trip to it.
    redis: Option<(StationId, StationId, Dist)>,
    /// Cost of one command: Redis server time, or app CPU for a local cache.
    command: Dist,
    pub invalidate_on_write: bool,
}

impl CacheTier {
    pub(super) fn build(
        b: &mut ModelBuilder,
        c: &Cache,
        hosts: u32,
        keys: Option<KeySpace>,
    ) -> Self {
        let local = c.kind == CacheKind::Local;
        let policy = match c.hit_ratio {
            Some(hit_ratio) => CachePolicy::Fixed { hit_ratio },
            None => CachePolicy::Lru {
                // Redis without maxmemory keeps every key; LocMemCache culls
                // beyond MAX_ENTRIES.
                capacity: c.max_entries.unwrap_or(if local {
                    defaults::LOCMEM_MAX_ENTRIES
                } else {
                    keys.map_or(1, |k| k.count)
                }),
                ttl_ns: c
                    .ttl_s
                    .or(local.then_some(defaults::LOCMEM_TTL_S))
                    .map(|s| (s * NS_PER_S) as u64),
            },
        };
        let default_us = if local {
            defaults::LOCMEM_COMMAND_US
        } else {
            defaults::REDIS_COMMAND_US
        };
        let command = c.get.unwrap_or(Dist::Constant {
            ns: default_us * 1e3,
        });
        let (instances, redis) = if local {
            let ids = (0..hosts)
                .map(|h| {
                    b.cache(CacheSpec {
                        name: format!("app{h}.locmem"),
                        policy,
                    })
                })
                .collect();
            (ids, None)
        } else {
            let id = b.cache(CacheSpec {
                name: "redis".into(),
                policy,
            });
            let server = b.station("redis", Discipline::Fcfs, 1);
            let net = b.station("redis.network", Discipline::Delay, 0);
            let rtt = Dist::Constant {
                ns: c.rtt_ms.unwrap_or(defaults::DATACENTER_RTT_MS) * NS_PER_MS,
            };
            (vec![id; hosts as usize], Some((server, net, rtt)))
        };
        CacheTier {
            instances,
            redis,
            command,
            invalidate_on_write: c.invalidate_on_write,
        }
    }

    /// The time of one cache command from host `cpu`: a round trip plus the
    /// Redis thread, or CPU in the app process.
    fn command(&self, b: &mut ModelBuilder, cpu: StationId) {
        match self.redis {
            Some((server, net, rtt)) => {
                b.step(Step::Use {
                    station: net,
                    demand: rtt,
                });
                b.step(Step::Use {
                    station: server,
                    demand: self.command,
                });
            }
            None => b.step(Step::Use {
                station: cpu,
                demand: self.command,
            }),
        }
    }

    /// GET from host `h`; returns the plan-relative index of the lookup,
    /// whose hit target is patched to the step after the database work.
    pub(super) fn lookup(&self, b: &mut ModelBuilder, h: u32, cpu: StationId) -> u32 {
        self.command(b, cpu);
        let at = b.here();
        b.step(Step::CacheLookup {
            cache: self.instances[h as usize],
            hit_to: 0,
        });
        at
    }

    /// SET after a miss was served by the database.
    pub(super) fn fill(&self, b: &mut ModelBuilder, h: u32, cpu: StationId) {
        self.command(b, cpu);
        b.step(Step::CacheFill {
            cache: self.instances[h as usize],
        });
    }

    /// DEL after a write. A local cache is only cleared on the host that
    /// served the write: the other hosts keep their copy until it expires.
    pub(super) fn invalidate(&self, b: &mut ModelBuilder, h: u32, cpu: StationId) {
        self.command(b, cpu);
        b.step(Step::CacheInvalidate {
            cache: self.instances[h as usize],
        });
    }
}
