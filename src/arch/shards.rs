//! The data tier: one primary, or N shards, each with its optional replicas.
//! Writes go to the primary of their shard; reads go to its replicas unless
//! their request type is pinned to the primary.

use super::builder::ModelBuilder;
use super::database::{DbInstance, DbSite};
use super::replicas::ReplicaSet;
use super::routing::{net, switch, Net};
use crate::dist::Dist;
use crate::model::SwitchBy;
use crate::scenario::{Database, Replicas, RequestKind, RequestSpec, ShardBy, Shards};

struct Shard {
    primary: DbInstance,
    replicas: Option<ReplicaSet>,
}

pub(super) struct DataTier {
    shards: Vec<Shard>,
    /// Shard index of each request type; `None`: by key hash (or one shard).
    by_request: Option<Vec<u32>>,
    primary_reads: Vec<usize>,
}

impl DataTier {
    pub(super) fn build(
        b: &mut ModelBuilder,
        db: &Database,
        replicas: Option<&Replicas>,
        shards: Option<&Shards>,
        site: &DbSite,
    ) -> Self {
        // Replicas are reached directly, not through the primary's pooler.
        let replica_site = DbSite {
            pooler: None,
            ..*site
        };
        let n = shards.map_or(1, |s| s.count.max(1));
        let shards_v = (0..n)
            .map(|s| {
                // Unsharded, the database keeps the name "db".
                let name = if n == 1 && shards.is_none() {
                    "db".to_string()
                } else {
                    format!("shard{s}")
                };
                Shard {
                    primary: DbInstance::build(b, db, &name, site),
                    replicas: replicas.map(|r| ReplicaSet::build(b, db, r, &name, &replica_site)),
                }
            })
            .collect();
        DataTier {
            shards: shards_v,
            by_request: shards.and_then(|s| match &s.by {
                ShardBy::Key => None,
                ShardBy::Request(t) => Some(t.clone()),
            }),
            primary_reads: replicas
                .map(|r| r.primary_reads.clone())
                .unwrap_or_default(),
        }
    }

    /// Steps at the start of a request that uses the database. Sessions
    /// belong to one server: the loader rejects session pooling with shards.
    pub(super) fn session_begin(&self, b: &mut ModelBuilder) {
        self.shards[0].primary.session_begin(b);
    }

    pub(super) fn session_end(&self, b: &mut ModelBuilder) {
        self.shards[0].primary.session_end(b);
    }

    /// The database work of request `r` (index `ri` in the workload) from
    /// app host `host`.
    pub(super) fn call(
        &self,
        b: &mut ModelBuilder,
        ri: usize,
        r: &RequestSpec,
        demand: Dist,
        host: u32,
        n: Net,
    ) {
        let on_replica = r.kind == RequestKind::Read && !self.primary_reads.contains(&ri);
        let shard_call = |b: &mut ModelBuilder, s: u32| {
            let shard = &self.shards[s as usize];
            match &shard.replicas {
                Some(reps) if on_replica => reps.read(b, r, demand, host, n),
                reps => {
                    if !shard.primary.in_process() {
                        net(b, n);
                    }
                    shard.primary.call(b, r, demand, host, n);
                    if let (Some(reps), RequestKind::Write) = (reps, r.kind) {
                        reps.ship(b, demand);
                    }
                }
            }
        };
        match &self.by_request {
            Some(table) => {
                let s = table.get(ri).copied().unwrap_or(0);
                shard_call(b, s.min(self.shards.len() as u32 - 1));
            }
            None => switch(b, SwitchBy::KeyHash, self.shards.len() as u32, shard_call),
        }
    }
}
