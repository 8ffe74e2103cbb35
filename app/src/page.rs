//! One page of a paged list, whatever its rows: the store's pages, the server functions'
//! pages and the API's all use it, so the rule that places a requested page is written once.

use serde::{Deserialize, Serialize};

/// One page of rows out of `total`, numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub total: i64,
    /// The page shown: the one asked for, clamped to the pages there are.
    pub page: u32,
    /// At least 1: an empty list has one (empty) page.
    pub page_count: u32,
}

/// Where a requested page lands among `total` rows at `page_size` a page: the page count
/// (at least 1) and the page clamped into it. Stores place a page before reading its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub total: i64,
    pub page: u32,
    pub page_count: u32,
}

/// How many rows come before the first of 1-based `page`, at `page_size` a page.
pub fn offset_of(page: u32, page_size: u32) -> i64 {
    i64::from(page.max(1) - 1) * i64::from(page_size)
}

impl Paging {
    pub fn new(requested: u32, total: i64, page_size: u32) -> Paging {
        let pages = (total.max(0) as u64).div_ceil(u64::from(page_size.max(1)));
        let page_count = pages.clamp(1, u64::from(u32::MAX)) as u32;
        Paging {
            total,
            page: requested.clamp(1, page_count),
            page_count,
        }
    }

    /// How many rows come before this page's first, at `page_size` a page.
    pub fn offset(self, page_size: u32) -> i64 {
        offset_of(self.page, page_size)
    }

    /// The page placed here, holding `rows`.
    pub fn with_rows<T>(self, rows: Vec<T>) -> Page<T> {
        Page {
            rows,
            total: self.total,
            page: self.page,
            page_count: self.page_count,
        }
    }
}

impl<T> Page<T> {
    /// `rows` as the page `requested` of `total` rows at `page_size` a page (clamped).
    pub fn new(rows: Vec<T>, total: i64, requested: u32, page_size: u32) -> Page<T> {
        Paging::new(requested, total, page_size).with_rows(rows)
    }

    /// The same page with each row turned into another.
    pub fn map<U>(self, row: impl FnMut(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(row).collect(),
            total: self.total,
            page: self.page,
            page_count: self.page_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_has_one_page() {
        let paging = Paging::new(1, 0, 30);
        assert_eq!((paging.page, paging.page_count), (1, 1));
        let paging = Paging::new(7, 0, 30);
        assert_eq!((paging.page, paging.page_count), (1, 1));
        assert_eq!(Paging::new(1, -5, 30).page_count, 1);
    }

    #[test]
    fn page_counts_round_up() {
        assert_eq!(Paging::new(1, 1, 30).page_count, 1);
        assert_eq!(Paging::new(1, 30, 30).page_count, 1);
        assert_eq!(Paging::new(1, 31, 30).page_count, 2);
        assert_eq!(Paging::new(1, 60, 30).page_count, 2);
        assert_eq!(Paging::new(1, 61, 30).page_count, 3);
    }

    #[test]
    fn pages_past_the_end_show_the_last_and_page_zero_the_first() {
        let past = Paging::new(9, 95, 30);
        assert_eq!((past.page, past.page_count), (4, 4));
        // An exact multiple: the last page is full, there is no empty one after it.
        let exact = Paging::new(5, 90, 30);
        assert_eq!((exact.page, exact.page_count), (3, 3));
        assert_eq!(Paging::new(0, 95, 30).page, 1);
        assert_eq!(Paging::new(2, 95, 30).page, 2);
    }

    #[test]
    fn a_page_size_of_zero_counts_as_one() {
        assert_eq!(Paging::new(3, 5, 0).page_count, 5);
    }

    #[test]
    fn pages_keep_their_rows_and_map_them() {
        let page = Page::new(vec![1, 2, 3], 33, 9, 30);
        assert_eq!((page.total, page.page, page.page_count), (33, 2, 2));
        let mapped = page.map(|n| n * 10);
        assert_eq!(mapped.rows, vec![10, 20, 30]);
        assert_eq!((mapped.total, mapped.page, mapped.page_count), (33, 2, 2));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn its_json_names_the_four_fields() {
        let page = Page::new(vec!["a"], 1, 1, 30);
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"rows":["a"],"total":1,"page":1,"page_count":1}"#
        );
    }
}
