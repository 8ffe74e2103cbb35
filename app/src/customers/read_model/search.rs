//! The customers' folded search texts joined into one buffer, so that a search is one SIMD
//! substring scan (`memchr::memmem`) instead of 100,000 separate ones.

/// Separates customers in [`SearchIndex`]; a search containing it is tested customer by
/// customer instead.
pub(super) const SEARCH_SEPARATOR: char = '\0';

pub(super) struct SearchIndex {
    text: Vec<u8>,
    /// Where each customer's text starts in `text`, ascending.
    starts: Vec<usize>,
}

impl SearchIndex {
    pub(super) fn new(texts: &[String]) -> SearchIndex {
        let mut text = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum());
        let mut starts = Vec::with_capacity(texts.len());
        for customer_text in texts {
            starts.push(text.len());
            text.extend_from_slice(customer_text.as_bytes());
            text.push(SEARCH_SEPARATOR as u8);
        }
        SearchIndex { text, starts }
    }

    /// Bytes held.
    pub(super) fn bytes(&self) -> usize {
        self.text.capacity() + self.starts.capacity() * std::mem::size_of::<usize>()
    }

    /// For each of `customers`, whether its text contains `needle` (which holds no separator,
    /// so a match never spans two customers).
    pub(super) fn matches(&self, needle: &[u8], customers: usize) -> Vec<bool> {
        let mut found = vec![false; customers];
        let finder = memchr::memmem::Finder::new(needle);
        let mut from = 0;
        while let Some(at) = finder.find(&self.text[from..]) {
            let position = from + at;
            let customer = self.starts.partition_point(|start| *start <= position) - 1;
            found[customer] = true;
            // One match is enough: go on from the next customer's text.
            match self.starts.get(customer + 1) {
                Some(next) => from = *next,
                None => break,
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_finds_each_customer_once_and_never_across_two() {
        let texts: Vec<String> = ["ann\nann archer", "bob", "", "zoë", "annie"]
            .map(str::to_owned)
            .to_vec();
        let index = SearchIndex::new(&texts);
        assert_eq!(
            index.matches(b"ann", texts.len()),
            [true, false, false, false, true]
        );
        assert_eq!(
            index.matches("ë".as_bytes(), texts.len()),
            [false, false, false, true, false]
        );
        // "archer" ends one text and "bob" starts the next: no match spans them.
        assert_eq!(index.matches(b"rbo", texts.len()), [false; 5]);
        assert_eq!(
            index.matches(b"annie", texts.len()),
            [false, false, false, false, true]
        );
    }
}
