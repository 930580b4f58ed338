//! The scaling tier's sections of a phase: `replicas`, `cache`, `shards`, and
//! the app tier's worker model. Every error is located like the others.

use super::diag::{echo, Diagnostics};
use super::raw::*;
use super::value::{duration, int_in, num_where, Bounds, Unit, MAX_DURATION_NS, SPAN, TIMEOUT};
use super::{check_dist, quoted, RequestKind, Workload, MAX_REQUESTS};
use crate::dist::Dist;

/// Read replicas of the primary (and of each shard).
#[derive(Clone, Debug)]
pub struct Replicas {
    /// `replicas.count`: read replicas per primary, 1–16; reads go to them
    /// round-robin.
    pub count: u32,
    /// `replicas.cores`: cores per replica, 1–1024; `None`: as many as the
    /// primary.
    pub cores: Option<u32>,
    /// `replicas.ship_delay_ms`: time from a commit on the primary until the
    /// replicas have received it, in ms, up to 60000; `None`: one datacenter
    /// round trip (0.5 ms).
    pub ship_delay_ms: Option<f64>,
    /// `replicas.replay`: replay cost per write on a replica; `None`: half the
    /// write's `db` demand.
    pub replay: Option<Dist>,
    /// `replicas.primary_reads`: indices (in workload order) of the read
    /// requests that go to the primary instead of a replica.
    pub primary_reads: Vec<usize>,
}

/// Where the cache lives (`cache.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheKind {
    /// One shared Redis server across the network.
    Redis,
    /// Django's LocMemCache: each app host has its own.
    Local,
}

/// A cache in front of the database (`[phase.cache]`): cacheable reads look
/// their key up first and skip the database on a hit.
#[derive(Clone, Debug)]
pub struct Cache {
    /// `cache.kind`: `"redis"` or `"local"`.
    pub kind: CacheKind,
    /// `cache.hit_ratio`: fixed fraction (0–1) of lookups that hit; `None`:
    /// the ratio emerges from key popularity, capacity and TTL (an LRU).
    pub hit_ratio: Option<f64>,
    /// `cache.max_entries`: keys the cache holds before it evicts, 1–1e8;
    /// `None`: every key for Redis, Django's 300 for a local cache.
    pub max_entries: Option<u32>,
    /// `cache.ttl_s`: time an entry lives, in s; `None`: forever for Redis,
    /// Django's 300 s for a local cache.
    pub ttl_s: Option<f64>,
    /// `cache.invalidate_on_write` (default true): a write deletes its key
    /// (on a local cache, only on the host that served the write).
    pub invalidate_on_write: bool,
    /// `cache.get`: cost of one GET/SET/DEL (Redis server time, or app CPU for
    /// a local cache); `None`: 10 µs for Redis, 20 µs for a local cache.
    pub get: Option<Dist>,
    /// `cache.rtt_ms`: round trip to Redis, in ms, up to 10000; `None`: 0.5 ms.
    /// Never set for a local cache.
    pub rtt_ms: Option<f64>,
}

/// How requests are routed to a shard (`shards.by`).
#[derive(Clone, Debug)]
pub enum ShardBy {
    /// Hash of the request's key.
    Key,
    /// Shard index of each request type, in workload order.
    Request(Vec<u32>),
}

/// The database split into shards (`[phase.shards]`), each a copy of the
/// phase's database with its own replicas.
#[derive(Clone, Debug)]
pub struct Shards {
    /// `shards.count`: number of shards, 1–32 (for `by = "request"`, the
    /// highest routed index + 1 when absent).
    pub count: u32,
    /// `shards.by`: `"key"` (the default) or `"request"` with `shards.route`.
    pub by: ShardBy,
}

/// How an app host serves requests (`app.worker`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerKind {
    /// Gunicorn sync workers: one request per worker process, held throughout.
    Sync,
    /// Event loops (uvicorn workers): CPU work serialises on its loop, waits
    /// for the database hold nothing but a concurrency slot.
    Async,
}

/// Memory the LRU caches of one run may use (a key index of 4 bytes per key
/// and 24 bytes per entry, per cache instance), so that a sweep stays bounded.
const CACHE_MEMORY_BUDGET: u64 = 1 << 30;

fn request_index(
    d: &mut Diagnostics,
    w: &Workload,
    name: &S<String>,
    field: &str,
) -> Option<usize> {
    let found = w
        .requests
        .iter()
        .position(|r| r.name == name.get_ref().trim());
    if found.is_none() {
        let known: Vec<&str> = w.requests.iter().map(|r| r.name.as_str()).collect();
        d.error(
            name.span(),
            field,
            format!(
                "no request of the workload is named `{}` (known: {})",
                echo(name.get_ref()),
                quoted(&known)
            ),
        );
    }
    found
}

/// An optional time in ms, from 0 to `hi_ms`.
fn ms_up_to(
    d: &mut Diagnostics,
    v: &Option<S<Num>>,
    field: &str,
    hi_ms: f64,
) -> Option<Option<f64>> {
    match v {
        None => Some(None),
        Some(v) => duration(d, v, field, Unit::Ms, SPAN.at_most(hi_ms * 1e6)).map(|t| Some(t.ms())),
    }
}

pub(super) fn check_replicas(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    r: &S<RawReplicas>,
    has_db: bool,
    w: Option<&Workload>,
) -> Option<Replicas> {
    let x = r.get_ref();
    if !has_db {
        d.error(
            r.span(),
            f("replicas"),
            "read replicas need a primary: add a database to this phase",
        );
        return None;
    }
    let count = int_in(
        d,
        &x.count,
        &f("replicas.count"),
        1,
        16,
        "the number of read replicas",
    );
    let cores = match &x.cores {
        None => Some(None),
        Some(c) => int_in(d, c, &f("replicas.cores"), 1, 1024, "CPU cores per replica")
            .map(|c| Some(c as u32)),
    };
    let ship = ms_up_to(d, &x.ship_delay_ms, &f("replicas.ship_delay_ms"), 60_000.0);
    let replay = match &x.replay {
        None => Some(None),
        Some(dist) => check_dist(d, dist, &f("replicas.replay")).map(Some),
    };
    let mut primary_reads = Vec::new();
    let mut ok = true;
    if x.primary_reads.len() > MAX_REQUESTS {
        d.error(
            x.primary_reads[MAX_REQUESTS].span(),
            f("replicas.primary_reads"),
            format!(
                "lists {} names; a workload has at most {MAX_REQUESTS} requests to list",
                x.primary_reads.len()
            ),
        );
        return None;
    }
    if let Some(w) = w {
        for (k, name) in x.primary_reads.iter().enumerate() {
            let field = f(&format!("replicas.primary_reads[{k}]"));
            match request_index(d, w, name, &field) {
                Some(i) if w.requests[i].kind == RequestKind::Write => {
                    d.error(
                        name.span(),
                        field,
                        format!(
                            "`{}` is a write; writes always go to the primary, list reads only",
                            echo(name.get_ref())
                        ),
                    );
                    ok = false;
                }
                Some(i) => primary_reads.push(i),
                None => ok = false,
            }
        }
    }
    let r = Replicas {
        count: count? as u32,
        cores: cores?,
        ship_delay_ms: ship?,
        replay: replay?,
        primary_reads,
    };
    ok.then_some(r)
}

pub(super) fn check_cache(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    c: &S<RawCache>,
    hosts: Option<u32>,
    w: Option<&Workload>,
) -> Option<Cache> {
    let x = c.get_ref();
    let mut ok = true;
    let kind = match x.kind.get_ref().as_str() {
        "redis" => Some(CacheKind::Redis),
        "local" => Some(CacheKind::Local),
        other => {
            d.error(
                x.kind.span(),
                f("cache.kind"),
                format!("`{}` is not a cache kind; valid: \"redis\" (one shared server), \"local\" (Django LocMemCache in each app host)", echo(other)),
            );
            None
        }
    };
    let hit_ratio = match &x.hit_ratio {
        None => None,
        Some(h) => {
            let v = num_where(
                d,
                h,
                &f("cache.hit_ratio"),
                |v| (0.0..=1.0).contains(&v),
                "must be a fraction from 0 to 1",
            );
            ok &= v.is_some();
            if x.max_entries.is_some() || x.ttl_s.is_some() {
                d.error(
                    h.span(),
                    f("cache.hit_ratio"),
                    "give either a fixed hit_ratio or the cache's max_entries/ttl_s (the ratio then emerges from key popularity), not both",
                );
                ok = false;
            }
            // A fixed ratio was meant, even if it is invalid.
            Some(v.unwrap_or(0.0))
        }
    };
    let max_entries = match &x.max_entries {
        None => None,
        Some(m) => {
            let v = int_in(
                d,
                m,
                &f("cache.max_entries"),
                1,
                100_000_000,
                "the entries the cache holds",
            );
            ok &= v.is_some();
            v.map(|v| v as u32)
        }
    };
    let ttl_s = match &x.ttl_s {
        None => None,
        Some(t) => {
            // Compared with the clock, never drawn: up to the longest time
            // any field takes.
            let ttl = Bounds {
                what: "a time to live",
                ..TIMEOUT
            }
            .at_most(MAX_DURATION_NS);
            let v = duration(d, t, &f("cache.ttl_s"), Unit::S, ttl);
            ok &= v.is_some();
            v.map(|v| v.s())
        }
    };
    let get = match &x.get {
        None => None,
        Some(g) => {
            let v = check_dist(d, g, &f("cache.get"));
            ok &= v.is_some();
            v
        }
    };
    let rtt_ms = ms_up_to(d, &x.rtt_ms, &f("cache.rtt_ms"), 10_000.0);
    if kind == Some(CacheKind::Local) && x.rtt_ms.is_some() {
        d.error(
            c.span(),
            f("cache.rtt_ms"),
            "a local cache lives in the app process: it has no round trip",
        );
        ok = false;
    }
    // An emergent hit ratio needs keys, and its index must fit in memory.
    if hit_ratio.is_none() {
        if let Some(w) = w {
            match w.keys {
                None => {
                    d.error(
                        c.span(),
                        f("cache"),
                        "a cache without a fixed hit_ratio needs workload.keys (its hit ratio emerges from key popularity); or give hit_ratio",
                    );
                    ok = false;
                }
                Some(k) => {
                    let instances = match kind {
                        Some(CacheKind::Local) => hosts.unwrap_or(1) as u64,
                        _ => 1,
                    };
                    let entries = max_entries.map_or(k.count, |m| m.min(k.count)) as u64;
                    let bytes = instances * (4 * k.count as u64 + 24 * entries);
                    if bytes > CACHE_MEMORY_BUDGET {
                        d.error(
                            c.span(),
                            f("cache"),
                            format!(
                                "{instances} cache(s) over {} keys would need {} MiB; at most {} MiB is allowed (fewer keys, fewer entries or a fixed hit_ratio)",
                                k.count,
                                bytes >> 20,
                                CACHE_MEMORY_BUDGET >> 20
                            ),
                        );
                        ok = false;
                    }
                }
            }
        }
    }
    if let Some(w) = w {
        if !w.requests.iter().any(|r| r.cacheable) {
            d.error(
                c.span(),
                f("cache"),
                "no request of the workload is cacheable; mark the reads the cache serves with cacheable = true",
            );
            ok = false;
        }
    }
    let cache = Cache {
        kind: kind?,
        hit_ratio,
        max_entries,
        ttl_s,
        invalidate_on_write: x.invalidate_on_write.as_ref().is_none_or(|b| *b.get_ref()),
        get,
        rtt_ms: rtt_ms?,
    };
    ok.then_some(cache)
}

pub(super) fn check_shards(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    s: &S<RawShards>,
    has_db: bool,
    w: Option<&Workload>,
) -> Option<Shards> {
    let x = s.get_ref();
    if !has_db {
        d.error(
            s.span(),
            f("shards"),
            "shards split a database: add a database to this phase",
        );
        return None;
    }
    let count = match &x.count {
        None => None,
        Some(c) => Some(int_in(d, c, &f("shards.count"), 1, 32, "the number of shards")? as u32),
    };
    let by = x.by.as_ref().map_or("key", |b| b.get_ref().as_str());
    match by {
        "key" => {
            if let Some(r) = &x.route {
                d.error(r.span(), f("shards.route"), "route is for by = \"request\"; by = \"key\" shards by a hash of each request's key");
                return None;
            }
            let Some(count) = count else {
                d.error(s.span(), f("shards.count"), "missing: the number of shards");
                return None;
            };
            if w.is_some_and(|w| w.keys.is_none()) && count > 1 {
                d.error(
                    s.span(),
                    f("shards.by"),
                    "sharding by key needs workload.keys (keys = { count = ..., zipf = ... }); or shard by = \"request\"",
                );
                return None;
            }
            Some(Shards {
                count,
                by: ShardBy::Key,
            })
        }
        "request" => {
            let w = w?;
            let Some(route) = &x.route else {
                d.error(
                    s.span(),
                    f("shards.route"),
                    "by = \"request\" needs route = { request_name = shard_index, ... } for every request that uses the database",
                );
                return None;
            };
            if route.get_ref().len() > MAX_REQUESTS {
                d.error(
                    route.span(),
                    f("shards.route"),
                    format!(
                        "routes {} names; a workload has at most {MAX_REQUESTS} requests to route",
                        route.get_ref().len()
                    ),
                );
                return None;
            }
            let mut ok = true;
            let mut table = vec![u32::MAX; w.requests.len()];
            let hi = count.map_or(31, |c| c as i64 - 1);
            for (name, idx) in route.get_ref() {
                let field = f(&format!("shards.route.{}", echo(name)));
                let Some(i) = w.requests.iter().position(|r| &r.name == name) else {
                    let known: Vec<&str> = w.requests.iter().map(|r| r.name.as_str()).collect();
                    d.error(
                        idx.span(),
                        field,
                        format!(
                            "no request of the workload is named `{}` (known: {})",
                            echo(name),
                            quoted(&known)
                        ),
                    );
                    ok = false;
                    continue;
                };
                match int_in(d, idx, &field, 0, hi, "a shard index") {
                    Some(k) => table[i] = k as u32,
                    None => ok = false,
                }
            }
            for (i, r) in w.requests.iter().enumerate() {
                if r.db.is_some() && table[i] == u32::MAX && ok {
                    d.error(route.span(), f("shards.route"), format!("request `{}` uses the database but has no shard; add {} = <shard index>", r.name, r.name));
                    ok = false;
                }
            }
            let used = table
                .iter()
                .filter(|&&k| k != u32::MAX)
                .max()
                .map_or(1, |m| m + 1);
            let count = count.unwrap_or(used);
            ok.then_some(Shards {
                count,
                by: ShardBy::Request(table),
            })
        }
        other => {
            d.error(
                x.by.as_ref().map_or(s.span(), |b| b.span()),
                f("shards.by"),
                format!("`{}` is not a way to shard; valid: \"key\" (hash of the row key), \"request\" (by request type)", echo(other)),
            );
            None
        }
    }
}

pub(super) fn check_worker(
    d: &mut Diagnostics,
    f: &dyn Fn(&str) -> String,
    a: &RawApp,
) -> Option<(WorkerKind, Option<u32>)> {
    let kind = match a.worker.as_ref().map(|w| (w.get_ref().as_str(), w.span())) {
        None | Some(("sync", _)) => WorkerKind::Sync,
        Some(("async", _)) => WorkerKind::Async,
        Some((other, span)) => {
            d.error(
                span,
                f("app.worker"),
                format!("`{}` is not a worker model; valid: \"sync\" (Gunicorn sync workers, one request each), \"async\" (event loops with a concurrency limit)", echo(other)),
            );
            return None;
        }
    };
    let concurrency = match &a.concurrency {
        None => None,
        Some(c) if kind == WorkerKind::Sync => {
            d.error(
                c.span(),
                f("app.concurrency"),
                "sync workers serve one request each: their concurrency is workers_per_host; concurrency is for worker = \"async\"",
            );
            return None;
        }
        Some(c) => Some(int_in(
            d,
            c,
            &f("app.concurrency"),
            1,
            10_000_000,
            "the requests in progress per host",
        )? as u32),
    };
    Some((kind, concurrency))
}
