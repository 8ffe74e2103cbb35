//! Row ids to the read model's slots, in about 4 bytes an id.
//!
//! Ids come from one sequence shared by every organisation, so one organisation's ids are
//! mostly dense: a table indexed by `id - base` holds them in 4 bytes each, where a hash map
//! of 2 million ids takes some 70 MB (and twice that while it grows). When an organisation's
//! ids are spread too thinly over the sequence (many organisations writing at once), the
//! table would waste more than it saves, and the index becomes a hash map.

use std::collections::HashMap;

const EMPTY: u32 = u32::MAX;
/// The table may span this many ids per id it holds (plus some slack) before it gives way to
/// a hash map: at 4 bytes a cell, still well under the map's 30-odd bytes an entry.
const MOST_CELLS_PER_ID: usize = 4;
const SLACK_CELLS: usize = 4096;
/// While ids arrive (in whatever order the database reads them) the table may be sparser, up
/// to 4 MB of slack; [`SlotIndex::settle`] applies the rule above once they are all in.
const LOADING_SLACK_CELLS: usize = 1 << 20;

#[derive(Debug)]
pub enum SlotIndex {
    Dense {
        base: i64,
        cells: Vec<u32>,
        count: usize,
    },
    Sparse(HashMap<i64, u32>),
}

impl Default for SlotIndex {
    fn default() -> Self {
        SlotIndex::Dense {
            base: 0,
            cells: Vec::new(),
            count: 0,
        }
    }
}

impl SlotIndex {
    pub fn get(&self, id: i64) -> Option<u32> {
        match self {
            SlotIndex::Dense { base, cells, .. } => {
                let offset = usize::try_from(id.checked_sub(*base)?).ok()?;
                cells.get(offset).copied().filter(|slot| *slot != EMPTY)
            }
            SlotIndex::Sparse(map) => map.get(&id).copied(),
        }
    }

    /// Records `id` at `slot` (a new id: callers look it up first).
    pub fn insert(&mut self, id: i64, slot: u32) {
        debug_assert_ne!(slot, EMPTY);
        match self {
            SlotIndex::Sparse(map) => {
                map.insert(id, slot);
            }
            SlotIndex::Dense { base, cells, count } => {
                if *count == 0 {
                    *base = id;
                    cells.clear();
                }
                let low = i128::from((*base).min(id));
                let high = (i128::from(*base) + cells.len() as i128 - 1).max(i128::from(id));
                let span = usize::try_from(high - low + 1).unwrap_or(usize::MAX);
                let fits =
                    span <= (*count + 1).saturating_mul(MOST_CELLS_PER_ID) + LOADING_SLACK_CELLS;
                if !fits || !Self::place(base, cells, id, slot) {
                    self.make_sparse();
                    self.insert(id, slot);
                    return;
                }
                *count += 1;
            }
        }
    }

    /// After a load: a table sparser than the rule allows becomes a hash map.
    pub fn settle(&mut self) {
        if let SlotIndex::Dense { cells, count, .. } = self {
            if cells.len() > count.saturating_mul(MOST_CELLS_PER_ID) + SLACK_CELLS {
                self.make_sparse();
            }
        }
    }

    fn make_sparse(&mut self) {
        if let SlotIndex::Dense { base, cells, count } = self {
            let mut map = HashMap::with_capacity(*count + 1);
            for (offset, &cell) in cells.iter().enumerate() {
                if cell != EMPTY {
                    map.insert(*base + offset as i64, cell);
                }
            }
            *self = SlotIndex::Sparse(map);
        }
    }

    /// Puts `id` in the table, growing it; false when the table cannot reach it.
    fn place(base: &mut i64, cells: &mut Vec<u32>, id: i64, slot: u32) -> bool {
        if id < *base {
            // Grows at the front by at least the current span, so ids arriving in
            // descending order cost amortised constant time too.
            let Some(grow) = base
                .checked_sub(id)
                .map(|gap| (gap as usize).max(cells.len()))
            else {
                return false;
            };
            let Some(new_base) = base.checked_sub(grow as i64) else {
                return false;
            };
            let mut grown = vec![EMPTY; grow];
            grown.extend_from_slice(cells);
            *cells = grown;
            *base = new_base;
        }
        let Some(offset) = id.checked_sub(*base).and_then(|o| usize::try_from(o).ok()) else {
            return false;
        };
        if offset >= cells.len() {
            cells.resize(offset + 1, EMPTY);
        }
        cells[offset] = slot;
        true
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        match self {
            SlotIndex::Dense { cells, .. } => cells.capacity() * std::mem::size_of::<u32>(),
            // A hash map entry: the key, the slot and a control byte, rounded up.
            SlotIndex::Sparse(map) => map.capacity() * 17,
        }
    }

    #[cfg(test)]
    fn is_dense(&self) -> bool {
        matches!(self, SlotIndex::Dense { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id inserted reads back its slot and nothing else reads as present, whatever the
    /// order and spread of the ids.
    fn check(ids: &[i64]) -> SlotIndex {
        let mut index = SlotIndex::default();
        let mut expected = HashMap::new();
        for (slot, &id) in ids.iter().enumerate() {
            if index.get(id).is_none() {
                index.insert(id, slot as u32);
                expected.insert(id, slot as u32);
            }
        }
        index.settle();
        for (&id, &slot) in &expected {
            assert_eq!(index.get(id), Some(slot), "id {id}");
        }
        for probe in [-5, 0, 1, 17, 999, 1_000_000, i64::MAX, i64::MIN] {
            assert_eq!(
                index.get(probe),
                expected.get(&probe).copied(),
                "probe {probe}"
            );
        }
        index
    }

    #[test]
    fn dense_ids_in_any_order_stay_in_the_table() {
        let ascending: Vec<i64> = (100..5_100).collect();
        assert!(check(&ascending).is_dense());
        let descending: Vec<i64> = (100..5_100).rev().collect();
        assert!(check(&descending).is_dense());
        // Two organisations interleaved: every other id is this one's.
        let every_other: Vec<i64> = (0..5_000).map(|n| 1 + 2 * n).collect();
        assert!(check(&every_other).is_dense());
        let shuffled: Vec<i64> = (0..5_000).map(|n| (n * 7_919) % 5_000 + 10).collect();
        assert!(check(&shuffled).is_dense());
    }

    #[test]
    fn thinly_spread_ids_move_to_a_map_and_keep_every_slot() {
        let spread: Vec<i64> = (0..2_000).map(|n| n * 100 + 3).collect();
        assert!(!check(&spread).is_dense());
        let far_apart = [5, i64::MAX - 1, -9_000_000_000, 6, 7];
        assert!(!check(&far_apart).is_dense());
    }

    #[test]
    fn an_empty_index_finds_nothing() {
        let index = SlotIndex::default();
        assert_eq!(index.get(0), None);
        assert_eq!(index.get(i64::MIN), None);
    }
}
