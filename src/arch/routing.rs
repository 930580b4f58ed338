//! Plan fragments shared by the scaling tier: jump tables and network hops.

use super::builder::ModelBuilder;
use crate::dist::Dist;
use crate::model::{StationId, Step, SwitchBy};

/// A network round trip to take before each call to another tier, if any.
pub(super) type Net = Option<(StationId, Dist)>;

pub(super) fn net(b: &mut ModelBuilder, n: Net) {
    if let Some((station, demand)) = n {
        b.step(Step::Use { station, demand });
    }
}

/// Emit `n` alternative blocks, one chosen per request by `by`:
/// `Switch`, then `n` jumps (the jump table), then each block followed by a
/// jump to the common end. With one target, just the block.
pub(super) fn switch(
    b: &mut ModelBuilder,
    by: SwitchBy,
    n: u32,
    mut block: impl FnMut(&mut ModelBuilder, u32),
) {
    if n <= 1 {
        block(b, 0);
        return;
    }
    b.step(Step::Switch { by, n });
    let table: Vec<u32> = (0..n).map(|_| b.jump(0)).collect();
    let mut ends = Vec::with_capacity(n as usize);
    for (k, &entry) in table.iter().enumerate() {
        let start = b.here();
        b.patch_branch(entry, start);
        block(b, k as u32);
        ends.push(b.jump(0));
    }
    let end = b.here();
    for e in ends {
        b.patch_branch(e, end);
    }
}
