//! The custom fields' columns: each field's values per conversation as codes into a
//! dictionary of its distinct values, stored densely or sparsely by how many conversations
//! hold one. Every byte is accounted, and a value no conversation holds gives its code back.

use std::collections::HashMap;
use std::mem::size_of;

/// Bytes of a `String` held in a vector: its header and its text.
pub(super) fn string_bytes(text: &str, capacity: usize) -> usize {
    size_of::<String>() + capacity.max(text.len())
}

/// Bytes of a hash map with `capacity` entries of `entry` bytes, with its control bytes.
pub(super) fn map_bytes(capacity: usize, entry: usize) -> usize {
    capacity * (entry + 1)
}

/// The distinct values of one custom field, each with a code (from 1; 0 is "no value") and
/// the number of conversations that hold it. A code no conversation holds is given back:
/// its text is dropped and the code reused by the next new value.
#[derive(Default)]
pub(super) struct Dictionary {
    /// Value of code `n` at `n - 1`; empty while the code is free.
    pub(super) values: Vec<String>,
    /// The case-folded value, likewise (what a text filter matches).
    folded: Vec<String>,
    /// Conversations holding each code.
    refs: Vec<u32>,
    code_of: HashMap<String, u32>,
    free: Vec<u32>,
}

impl Dictionary {
    /// The code of `value`, counting one more conversation that holds it.
    pub(super) fn acquire(&mut self, value: String) -> u32 {
        if let Some(&code) = self.code_of.get(&value) {
            self.refs[code as usize - 1] += 1;
            return code;
        }
        let folded = crate::text::fold(&value);
        let code = match self.free.pop() {
            Some(code) => {
                let at = code as usize - 1;
                self.values[at] = value.clone();
                self.folded[at] = folded;
                self.refs[at] = 1;
                code
            }
            None => {
                self.values.push(value.clone());
                self.folded.push(folded);
                self.refs.push(1);
                self.values.len() as u32
            }
        };
        self.code_of.insert(value, code);
        code
    }

    /// The code of `value`, counting `holders` more conversations that hold it (at least one).
    pub(super) fn acquire_many(&mut self, value: String, holders: u32) -> u32 {
        let code = self.acquire(value);
        self.refs[code as usize - 1] += holders.saturating_sub(1);
        code
    }

    /// One conversation fewer holds `code`; the last one frees it.
    pub(super) fn release(&mut self, code: u32) {
        if code == 0 {
            return;
        }
        let at = code as usize - 1;
        let Some(refs) = self.refs.get_mut(at) else {
            return;
        };
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            let value = std::mem::take(&mut self.values[at]);
            self.folded[at] = String::new();
            self.code_of.remove(&value);
            self.free.push(code);
        }
    }

    pub(super) fn code_of(&self, value: &str) -> Option<u32> {
        self.code_of.get(value).copied()
    }

    /// Folded value of code `n` at `n - 1` (empty for free codes).
    pub(super) fn folded(&self) -> &[String] {
        &self.folded
    }

    /// Codes in use (a test's view of what is held).
    #[cfg(test)]
    pub(super) fn live(&self) -> usize {
        self.code_of.len()
    }

    pub(super) fn bytes(&self) -> usize {
        let texts: usize = self
            .values
            .iter()
            .chain(&self.folded)
            .map(|text| string_bytes(text, text.capacity()))
            .sum();
        let keys: usize = self.code_of.keys().map(String::capacity).sum();
        texts
            + self.refs.capacity() * size_of::<u32>()
            + self.free.capacity() * size_of::<u32>()
            + map_bytes(
                self.code_of.capacity(),
                size_of::<String>() + size_of::<u32>(),
            )
            + keys
    }
}

/// Which code each conversation holds for one field.
pub(super) enum Cells {
    /// One code per conversation slot: for fields most conversations have.
    Dense { codes: Vec<u32>, filled: usize },
    /// The slots that have a value, ascending, and their codes: for fields few have. Changes
    /// to slots not listed wait in `pending` until [`Cells::settle`] merges them; a cleared
    /// slot keeps its place with code 0 until then.
    Sparse {
        slots: Vec<u32>,
        codes: Vec<u32>,
        pending: Vec<(u32, u32)>,
        filled: usize,
    },
}

impl Default for Cells {
    fn default() -> Self {
        Cells::Sparse {
            slots: Vec::new(),
            codes: Vec::new(),
            pending: Vec::new(),
            filled: 0,
        }
    }
}

impl Cells {
    /// Sets `slot`'s code, answering the code it held (0: none), except for a sparse slot not
    /// yet listed, whose earlier pending code [`Cells::settle`] answers instead.
    pub(super) fn set(&mut self, slot: u32, code: u32) -> u32 {
        match self {
            Cells::Dense { codes, filled } => {
                let at = slot as usize;
                if at >= codes.len() {
                    codes.resize(at + 1, 0);
                }
                let old = std::mem::replace(&mut codes[at], code);
                *filled = *filled + usize::from(code != 0) - usize::from(old != 0);
                old
            }
            Cells::Sparse {
                slots,
                codes,
                pending,
                filled,
            } => match slots.binary_search(&slot) {
                Ok(at) => {
                    let old = std::mem::replace(&mut codes[at], code);
                    *filled = *filled + usize::from(code != 0) - usize::from(old != 0);
                    old
                }
                Err(_) => {
                    if code != 0 {
                        pending.push((slot, code));
                        *filled += 1;
                    }
                    0
                }
            },
        }
    }

    /// Brings the cells to `len` slots: merges pending changes, drops cleared slots, and
    /// chooses the cheaper layout (with room between the two thresholds, so a field that
    /// hovers at the edge does not switch at every write). Answers the codes that pending
    /// changes overwrote, for their holders to be released.
    pub(super) fn settle(&mut self, len: usize) -> Vec<u32> {
        let mut overwritten = Vec::new();
        if let Cells::Sparse {
            slots,
            codes,
            pending,
            filled,
        } = self
        {
            if !pending.is_empty() || codes.contains(&0) {
                pending.sort_by_key(|(slot, _)| *slot);
                // The same slot twice in one load: the later code wins.
                let mut merged_pending: Vec<(u32, u32)> = Vec::with_capacity(pending.len());
                for (slot, code) in pending.drain(..) {
                    match merged_pending.last_mut() {
                        Some(last) if last.0 == slot => {
                            overwritten.push(std::mem::replace(&mut last.1, code));
                            *filled -= 1;
                        }
                        _ => merged_pending.push((slot, code)),
                    }
                }
                let mut merged_slots = Vec::with_capacity(*filled);
                let mut merged_codes = Vec::with_capacity(*filled);
                let mut new = merged_pending.into_iter().peekable();
                for (slot, code) in slots.iter().zip(codes.iter()) {
                    while let Some(&(pending_slot, pending_code)) = new.peek() {
                        if pending_slot >= *slot {
                            break;
                        }
                        merged_slots.push(pending_slot);
                        merged_codes.push(pending_code);
                        new.next();
                    }
                    if *code != 0 {
                        merged_slots.push(*slot);
                        merged_codes.push(*code);
                    }
                }
                for (slot, code) in new {
                    merged_slots.push(slot);
                    merged_codes.push(code);
                }
                *slots = merged_slots;
                *codes = merged_codes;
                *pending = Vec::new();
            }
        }
        match self {
            Cells::Dense { codes, filled } if *filled * 3 < len => {
                let (mut slots, mut sparse_codes) = (Vec::new(), Vec::new());
                for (slot, code) in codes.iter().enumerate() {
                    if *code != 0 {
                        slots.push(slot as u32);
                        sparse_codes.push(*code);
                    }
                }
                *self = Cells::Sparse {
                    filled: slots.len(),
                    slots,
                    codes: sparse_codes,
                    pending: Vec::new(),
                };
            }
            Cells::Dense { codes, .. } => codes.resize(len, 0),
            Cells::Sparse {
                slots,
                codes,
                filled,
                ..
            } if *filled * 2 > len => {
                let mut dense = vec![0u32; len];
                for (slot, code) in slots.iter().zip(codes.iter()) {
                    if let Some(cell) = dense.get_mut(*slot as usize) {
                        *cell = *code;
                    }
                }
                *self = Cells::Dense {
                    codes: dense,
                    filled: *filled,
                };
            }
            Cells::Sparse { .. } => {}
        }
        overwritten
    }

    pub(super) fn bytes(&self) -> usize {
        match self {
            Cells::Dense { codes, .. } => codes.capacity() * size_of::<u32>(),
            Cells::Sparse {
                slots,
                codes,
                pending,
                ..
            } => {
                (slots.capacity() + codes.capacity()) * size_of::<u32>()
                    + pending.capacity() * size_of::<(u32, u32)>()
            }
        }
    }

    #[cfg(test)]
    pub(super) fn is_sparse(&self) -> bool {
        matches!(self, Cells::Sparse { .. })
    }
}

/// One custom field's values: which code each conversation holds, and what the codes mean.
#[derive(Default)]
pub(super) struct FieldColumn {
    pub(super) cells: Cells,
    pub(super) dictionary: Dictionary,
}

impl FieldColumn {
    #[cfg(test)]
    pub(super) fn put(&mut self, slot: u32, value: String) {
        let code = self.dictionary.acquire(value);
        let old = self.cells.set(slot, code);
        self.dictionary.release(old);
    }

    /// `value` for every slot of `slots`: the dictionary is consulted once.
    pub(super) fn put_all(&mut self, slots: &[u32], value: String, len: usize) {
        let Ok(holders) = u32::try_from(slots.len()) else {
            return;
        };
        if holders == 0 {
            return;
        }
        let code = self.dictionary.acquire_many(value, holders);
        for &slot in slots {
            let old = self.cells.set(slot, code);
            self.dictionary.release(old);
        }
        // A field most conversations have becomes dense as soon as it is known to, rather
        // than holding all its pending changes until the load ends.
        if let Cells::Sparse {
            pending, filled, ..
        } = &self.cells
        {
            if !pending.is_empty() && *filled * 2 > len {
                self.settle(len);
            }
        }
    }

    pub(super) fn clear(&mut self, slot: u32) {
        let old = self.cells.set(slot, 0);
        self.dictionary.release(old);
    }

    pub(super) fn settle(&mut self, len: usize) {
        for code in self.cells.settle(len) {
            self.dictionary.release(code);
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.cells.bytes() + self.dictionary.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_cells_take_changes_and_clearing_in_any_order() {
        let mut cells = Cells::default();
        for slot in [9, 3, 5] {
            cells.set(slot, slot + 100);
        }
        assert!(cells.settle(10).is_empty());
        // Overwrite one, clear one, add one before and one after.
        assert_eq!(cells.set(5, 1), 105);
        assert_eq!(cells.set(3, 0), 103);
        cells.set(1, 2);
        cells.set(12, 3);
        cells.settle(20);
        let Cells::Sparse { slots, codes, .. } = &cells else {
            panic!("few values stay sparse");
        };
        assert_eq!(slots, &[1, 5, 9, 12]);
        assert_eq!(codes, &[2, 1, 109, 3]);
        // Filled past half: dense.
        for slot in 0..15 {
            cells.set(slot, 1);
        }
        cells.settle(20);
        let Cells::Dense { codes, filled } = &cells else {
            panic!("most slots filled: dense");
        };
        assert_eq!(*filled, 15);
        assert_eq!(codes.len(), 20);
    }
}
