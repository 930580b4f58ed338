//! What one request holds: passive resources, SQLite locks, server
//! connections and row locks, one fixed-width bit set per kind.
//!
//! Each set's width is the model's limit for its kind ([`ResourceSet`] gives
//! [`MAX_RESOURCES`](crate::model::MAX_RESOURCES), [`DbPartSet`] gives
//! [`MAX_DB_PARTS`](crate::model::MAX_DB_PARTS)), and `Model::validate`
//! checks those limits, so no bit layout has to be kept in step with them by
//! hand. Indices are in range because the engine indexes the part's state
//! (`states[i]`, a bounds-checked slice of at most the limit's length) before
//! it marks the part held.

use crate::model::{DbPartSet, ResourceSet};

/// A set of small indices, one bit each, in the integer type `$bits`.
macro_rules! bit_set {
    ($name:ident, $bits:ty) => {
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        pub(super) struct $name($bits);

        impl $name {
            #[inline(always)]
            pub(super) fn insert(&mut self, i: u32) {
                self.0 |= 1 << i;
            }

            /// Remove `i`; `true` if it was in the set.
            #[inline(always)]
            pub(super) fn remove(&mut self, i: u32) -> bool {
                let was = self.0 & (1 << i) != 0;
                self.0 &= !(1 << i);
                was
            }

            /// Take the smallest index out of the set.
            // Used for resource sessions only: unused on the other sets.
            #[allow(dead_code)]
            #[inline(always)]
            pub(super) fn contains(&self, i: u32) -> bool {
                self.0 & (1 << i) != 0
            }

            #[inline(always)]
            pub(super) fn pop_first(&mut self) -> Option<u32> {
                if self.0 == 0 {
                    return None;
                }
                let i = self.0.trailing_zeros();
                self.0 &= self.0 - 1;
                Some(i)
            }
        }
    };
}

bit_set!(ResourceBits, ResourceSet);
bit_set!(PartBits, DbPartSet);

/// Everything one request holds. Released in this field order, each set in
/// index order, when the request ends.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Held {
    pub resources: ResourceBits,
    pub sqlite: PartBits,
    pub pools: PartBits,
    pub rows: PartBits,
}

impl Held {
    pub(super) const NOTHING: Held = Held {
        resources: ResourceBits(0),
        sqlite: PartBits(0),
        pools: PartBits(0),
        rows: PartBits(0),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MAX_DB_PARTS, MAX_RESOURCES};

    #[test]
    fn every_index_below_the_model_limits_fits() {
        let mut h = Held::NOTHING;
        for i in 0..MAX_RESOURCES as u32 {
            h.resources.insert(i);
        }
        for i in 0..MAX_DB_PARTS as u32 {
            h.sqlite.insert(i);
            h.rows.insert(i);
        }
        assert!(h.resources.remove(MAX_RESOURCES as u32 - 1));
        assert!(h.sqlite.remove(MAX_DB_PARTS as u32 - 1));
        assert!(!h.sqlite.remove(MAX_DB_PARTS as u32 - 1));
        assert_eq!(h.pools.pop_first(), None);
        let taken: Vec<u32> = std::iter::from_fn(|| h.rows.pop_first()).collect();
        assert_eq!(taken, (0..MAX_DB_PARTS as u32).collect::<Vec<_>>());
    }
}
