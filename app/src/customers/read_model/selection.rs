//! Sets of conversation slots, 64 to a word: the conditions of a question narrow one set by
//! one tight loop each (which the compiler vectorises, and which skips words already empty).

use super::work::Deadline;
use crate::db::StoreResult;

/// Words between two looks at the clock in the loops below.
const WORDS_PER_CHECK: usize = 1 << 14;

/// A set of conversation slots.
pub(super) struct Selection {
    words: Vec<u64>,
}

impl Selection {
    /// The slots whose `column` value passes `test`.
    pub(super) fn new<T: Copy>(
        column: &[T],
        test: impl Fn(T) -> bool,
        deadline: &Deadline,
    ) -> StoreResult<Selection> {
        let mut words = Vec::with_capacity(column.len().div_ceil(64));
        for (n, chunk) in column.chunks(64).enumerate() {
            if n % WORDS_PER_CHECK == 0 {
                deadline.check()?;
            }
            words.push(chunk.iter().enumerate().fold(0u64, |bits, (bit, value)| {
                bits | (u64::from(test(*value)) << bit)
            }));
        }
        Ok(Selection { words })
    }

    /// Drops the slots whose `column` value fails `test`.
    pub(super) fn keep<T: Copy>(
        &mut self,
        column: &[T],
        test: impl Fn(T) -> bool,
        deadline: &Deadline,
    ) -> StoreResult<()> {
        for (n, (word, chunk)) in self.words.iter_mut().zip(column.chunks(64)).enumerate() {
            if n % WORDS_PER_CHECK == 0 {
                deadline.check()?;
            }
            if *word == 0 {
                continue;
            }
            *word &= chunk.iter().enumerate().fold(0u64, |bits, (bit, value)| {
                bits | (u64::from(test(*value)) << bit)
            });
        }
        Ok(())
    }

    /// Keeps only the slots listed in `slots` (ascending) whose paired `code` passes `test`:
    /// a sparse column, where a slot that is not listed has no value.
    pub(super) fn keep_listed(
        &mut self,
        slots: &[u32],
        codes: &[u32],
        test: impl Fn(u32) -> bool,
        deadline: &Deadline,
    ) -> StoreResult<()> {
        let mut kept = vec![0u64; self.words.len()];
        for (n, (slot, code)) in slots.iter().zip(codes).enumerate() {
            if n % (WORDS_PER_CHECK * 64) == 0 {
                deadline.check()?;
            }
            if test(*code) {
                let slot = *slot as usize;
                if let Some(word) = kept.get_mut(slot / 64) {
                    *word |= 1 << (slot % 64);
                }
            }
        }
        for (word, keep) in self.words.iter_mut().zip(kept) {
            *word &= keep;
        }
        Ok(())
    }

    pub(super) fn slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let mut bits = *word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    index * 64 + bit
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_the_slots_that_pass_every_test() {
        let never = Deadline::none();
        let values: Vec<i64> = (0..200).collect();
        let mut even = Selection::new(&values, |v| v % 2 == 0, &never).unwrap();
        even.keep(&values, |v| v % 3 == 0, &never).unwrap();
        even.keep(&values, |v| v != 66, &never).unwrap();
        let expected: Vec<usize> = (0..200).filter(|v| v % 6 == 0 && *v != 66).collect();
        assert_eq!(even.slots().collect::<Vec<_>>(), expected);
        let none = Selection::new(&values, |_| false, &never).unwrap();
        assert_eq!(none.slots().count(), 0);
        assert_eq!(
            Selection::new(&[] as &[i64], |_| true, &never)
                .unwrap()
                .slots()
                .count(),
            0
        );
    }

    #[test]
    fn a_sparse_column_keeps_only_its_listed_slots_that_pass() {
        let never = Deadline::none();
        let values: Vec<i64> = (0..300).collect();
        let mut all = Selection::new(&values, |_| true, &never).unwrap();
        // Slots 5, 70 and 290 have codes 1, 2 and 1; the rest have no value.
        all.keep_listed(&[5, 70, 290], &[1, 2, 1], |code| code == 1, &never)
            .unwrap();
        assert_eq!(all.slots().collect::<Vec<_>>(), [5, 290]);
    }

    #[test]
    fn a_spent_deadline_stops_the_loop() {
        let spent = Deadline::after(std::time::Duration::ZERO);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let values: Vec<i64> = (0..10).collect();
        assert!(Selection::new(&values, |_| true, &spent).is_err());
    }
}
