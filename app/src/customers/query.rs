//! The meaning of a Customers view: search, sort, direction, page and custom-field filters.
//!
//! This one type is read from the page's URL, sent to the server functions, validated there
//! with the same rules, and handed to the store. Invalid URL values fall back to defaults;
//! they never fail the page.

use crate::text::{encode_component, parse_query_string};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Customers shown per page of the main table.
pub const PAGE_SIZE: u32 = 30;
/// Conversations shown per page of an expanded interaction history.
pub const HISTORY_PAGE_SIZE: u32 = 8;
/// Longest search text accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest filter value accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 200;
/// Most filters one query may carry (an organisation has a handful of fields).
pub const MAX_FILTERS: usize = 20;
/// Pages beyond this are clamped; it keeps OFFSET arithmetic far from overflow.
pub const MAX_PAGE: u32 = 1_000_000;

/// The prefix of a filter parameter in the URL: `f.<field key>=<value>`.
pub const FILTER_PREFIX: &str = "f.";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Interactions,
    First,
    Latest,
    Score,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [
        SortKey::Interactions,
        SortKey::First,
        SortKey::Latest,
        SortKey::Score,
    ];

    pub fn param(self) -> &'static str {
        match self {
            SortKey::Interactions => "interactions",
            SortKey::First => "first",
            SortKey::Latest => "latest",
            SortKey::Score => "score",
        }
    }

    pub fn from_param(value: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|key| key.param() == value)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortDir {
    #[default]
    Desc,
    Asc,
}

impl SortDir {
    pub fn param(self) -> &'static str {
        match self {
            SortDir::Desc => "desc",
            SortDir::Asc => "asc",
        }
    }

    pub fn from_param(value: &str) -> Option<SortDir> {
        match value {
            "desc" => Some(SortDir::Desc),
            "asc" => Some(SortDir::Asc),
            _ => None,
        }
    }

    pub fn flipped(self) -> SortDir {
        match self {
            SortDir::Desc => SortDir::Asc,
            SortDir::Asc => SortDir::Desc,
        }
    }
}

/// A validated Customers view.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CustomerQuery {
    /// Trimmed search text; empty means no search.
    pub search: String,
    pub sort: SortKey,
    pub dir: SortDir,
    /// 1-based page number, as asked for; the store clamps it to the last page.
    pub page: u32,
    /// Active filters: field key to value. Keys are `[a-z0-9_]+`, values non-empty.
    pub filters: BTreeMap<String, String>,
}

impl Default for CustomerQuery {
    fn default() -> Self {
        CustomerQuery {
            search: String::new(),
            sort: SortKey::default(),
            dir: SortDir::default(),
            page: 1,
            filters: BTreeMap::new(),
        }
    }
}

/// Whether `key` is a well-formed custom field key.
pub fn is_field_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn clean_text(value: &str, max_chars: usize) -> String {
    value
        .trim()
        .chars()
        .take(max_chars)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

impl CustomerQuery {
    /// Reads a view from URL parameters, leniently: anything unknown or invalid falls back to
    /// its default, so a hand-edited or stale link still opens the page.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> CustomerQuery {
        let mut query = CustomerQuery::default();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            match key {
                "q" => query.search = clean_text(value, MAX_SEARCH_CHARS),
                "sort" => query.sort = SortKey::from_param(value).unwrap_or_default(),
                "dir" => query.dir = SortDir::from_param(value).unwrap_or_default(),
                "page" => query.page = value.trim().parse::<u32>().unwrap_or(1).clamp(1, MAX_PAGE),
                _ => {
                    if let Some(field) = key.strip_prefix(FILTER_PREFIX) {
                        let value = clean_text(value, MAX_FILTER_CHARS);
                        if is_field_key(field)
                            && !value.is_empty()
                            && query.filters.len() < MAX_FILTERS
                        {
                            query.filters.insert(field.to_owned(), value);
                        }
                    }
                }
            }
        }
        query
    }

    /// Reads a view from an API call's parameters, strictly: an unknown parameter or an
    /// invalid value is refused with a message instead of falling back. `extra` names the
    /// parameters the caller reads itself (such as `per_page`).
    pub fn from_pairs_strict<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        extra: &[&str],
    ) -> Result<CustomerQuery, String> {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        for (key, value) in &pairs {
            match key.as_str() {
                "q" if value.trim().chars().count() > MAX_SEARCH_CHARS => {
                    return Err(format!("The search text is longer than {MAX_SEARCH_CHARS} characters."))
                }
                "q" => {}
                "sort" if SortKey::from_param(value).is_none() => {
                    return Err(format!("`sort` must be interactions, first, latest or score, not `{value}`"))
                }
                "dir" if SortDir::from_param(value).is_none() => {
                    return Err(format!("`dir` must be desc or asc, not `{value}`"))
                }
                "page" if value.trim().parse::<u32>().map_or(true, |page| page == 0 || page > MAX_PAGE) => {
                    return Err(format!("`page` must be a number from 1 to {MAX_PAGE}, not `{value}`"))
                }
                "sort" | "dir" | "page" => {}
                other if extra.contains(&other) => {}
                other => match other.strip_prefix(FILTER_PREFIX) {
                    Some(field) if is_field_key(field) && value.trim().chars().count() > MAX_FILTER_CHARS => {
                        return Err(format!("The filter value for `{field}` is longer than {MAX_FILTER_CHARS} characters."))
                    }
                    Some(field) if is_field_key(field) => {}
                    _ => return Err(format!("`{other}` is not a parameter of this call")),
                },
            }
        }
        let query = CustomerQuery::from_pairs(
            pairs
                .iter()
                .filter(|(key, _)| !extra.contains(&key.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        query.validate()?;
        Ok(query)
    }

    pub fn from_query_string(query: &str) -> CustomerQuery {
        CustomerQuery::from_pairs(parse_query_string(query))
    }

    /// Checks a view that arrived over the wire (a server-function call), where no browser
    /// form stood between the user and the server. Unlike URLs, overlong or malformed input
    /// is refused with a message rather than silently repaired.
    pub fn validate(&self) -> Result<(), String> {
        if self.search.chars().count() > MAX_SEARCH_CHARS {
            return Err(format!(
                "The search text is longer than {MAX_SEARCH_CHARS} characters."
            ));
        }
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(format!("The page number must be between 1 and {MAX_PAGE}."));
        }
        if self.filters.len() > MAX_FILTERS {
            return Err(format!(
                "At most {MAX_FILTERS} filters can be applied at once."
            ));
        }
        for (key, value) in &self.filters {
            if !is_field_key(key) {
                return Err(format!("`{key}` is not a valid custom field key."));
            }
            if value.chars().count() > MAX_FILTER_CHARS {
                return Err(format!(
                    "The filter value for `{key}` is longer than {MAX_FILTER_CHARS} characters."
                ));
            }
        }
        Ok(())
    }

    /// The URL parameters of this view, leaving out those at their defaults.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if !self.search.is_empty() {
            pairs.push(("q".to_owned(), self.search.clone()));
        }
        if self.sort != SortKey::default() {
            pairs.push(("sort".to_owned(), self.sort.param().to_owned()));
        }
        if self.dir != SortDir::default() {
            pairs.push(("dir".to_owned(), self.dir.param().to_owned()));
        }
        if self.page != 1 {
            pairs.push(("page".to_owned(), self.page.to_string()));
        }
        for (key, value) in &self.filters {
            pairs.push((format!("{FILTER_PREFIX}{key}"), value.clone()));
        }
        pairs
    }

    /// The query string of this view (without `?`), empty for the default view.
    pub fn to_query_string(&self) -> String {
        self.to_pairs()
            .iter()
            .map(|(key, value)| format!("{}={}", encode_component(key), encode_component(value)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The path and query of this view on the Customers page.
    pub fn href(&self) -> String {
        let query = self.to_query_string();
        if query.is_empty() {
            "/customers".to_owned()
        } else {
            format!("/customers?{query}")
        }
    }

    /// The CSV export of this view: every page of it, so the page number is left out.
    pub fn export_href(&self) -> String {
        let query = CustomerQuery {
            page: 1,
            ..self.clone()
        }
        .to_query_string();
        if query.is_empty() {
            "/customers/export.csv".to_owned()
        } else {
            format!("/customers/export.csv?{query}")
        }
    }

    /// The view after a click on a column header: a new column sorts descending, the sorted
    /// column flips direction. Either way the view returns to page 1.
    pub fn with_sort_clicked(&self, key: SortKey) -> CustomerQuery {
        let dir = if self.sort == key {
            self.dir.flipped()
        } else {
            SortDir::Desc
        };
        CustomerQuery {
            sort: key,
            dir,
            page: 1,
            ..self.clone()
        }
    }

    /// The view with new search text, back on page 1.
    pub fn with_search(&self, search: &str) -> CustomerQuery {
        CustomerQuery {
            search: clean_text(search, MAX_SEARCH_CHARS),
            page: 1,
            ..self.clone()
        }
    }

    /// The view with one filter set (or removed, when `value` is blank), back on page 1.
    pub fn with_filter(&self, key: &str, value: &str) -> CustomerQuery {
        let mut next = CustomerQuery {
            page: 1,
            ..self.clone()
        };
        let value = clean_text(value, MAX_FILTER_CHARS);
        if value.is_empty() {
            next.filters.remove(key);
        } else if is_field_key(key) {
            next.filters.insert(key.to_owned(), value);
        }
        next
    }

    pub fn with_page(&self, page: u32) -> CustomerQuery {
        CustomerQuery {
            page: page.clamp(1, MAX_PAGE),
            ..self.clone()
        }
    }
}

/// The page numbers to show in the pager: the first, the last, and a window around the
/// current one; `None` stands for an ellipsis.
pub fn pager_items(current: u32, page_count: u32) -> Vec<Option<u32>> {
    let mut items = Vec::new();
    let window_start = current.saturating_sub(2).max(1);
    let window_end = (current + 2).min(page_count);
    if window_start > 1 {
        items.push(Some(1));
        if window_start > 2 {
            items.push(None);
        }
    }
    for page in window_start..=window_end {
        items.push(Some(page));
    }
    if window_end < page_count {
        if window_end + 1 < page_count {
            items.push(None);
        }
        items.push(Some(page_count));
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_view_sorts_by_interactions_descending_on_page_one() {
        let query = CustomerQuery::from_query_string("");
        assert_eq!(query.sort, SortKey::Interactions);
        assert_eq!(query.dir, SortDir::Desc);
        assert_eq!(query.page, 1);
        assert_eq!(query.href(), "/customers");
    }

    #[test]
    fn invalid_values_fall_back_to_defaults() {
        let query = CustomerQuery::from_query_string(
            "sort=colour&dir=up&page=0&f.Bad-Key=x&f.region=%20%20&q=%20",
        );
        assert_eq!(query, CustomerQuery::default());
        assert_eq!(CustomerQuery::from_query_string("page=-3").page, 1);
        assert_eq!(CustomerQuery::from_query_string("page=99999999999").page, 1);
        assert_eq!(
            CustomerQuery::from_query_string("page=5000000").page,
            MAX_PAGE
        );
    }

    #[test]
    fn a_view_round_trips_through_its_url() {
        let mut query = CustomerQuery {
            search: "zoë 100%_\\".to_owned(),
            sort: SortKey::Score,
            dir: SortDir::Asc,
            page: 3,
            filters: BTreeMap::new(),
        };
        query
            .filters
            .insert("region".to_owned(), "EMEA & APAC".to_owned());
        let href = query.href();
        let (_, query_string) = href
            .split_once('?')
            .expect("a non-default view has a query string");
        assert_eq!(CustomerQuery::from_query_string(query_string), query);
    }

    #[test]
    fn search_is_trimmed_and_capped() {
        let long = "x".repeat(MAX_SEARCH_CHARS + 50);
        assert_eq!(
            CustomerQuery::from_pairs([("q", long.as_str())])
                .search
                .len(),
            MAX_SEARCH_CHARS
        );
        assert_eq!(
            CustomerQuery::default().with_search("  ann  ").search,
            "ann"
        );
    }

    #[test]
    fn clicking_headers_sorts_descending_then_flips_and_resets_the_page() {
        let query = CustomerQuery::default().with_page(4);
        let by_score = query.with_sort_clicked(SortKey::Score);
        assert_eq!(
            (by_score.sort, by_score.dir, by_score.page),
            (SortKey::Score, SortDir::Desc, 1)
        );
        let flipped = by_score.with_page(2).with_sort_clicked(SortKey::Score);
        assert_eq!(
            (flipped.sort, flipped.dir, flipped.page),
            (SortKey::Score, SortDir::Asc, 1)
        );
        let back = flipped.with_sort_clicked(SortKey::Score);
        assert_eq!(back.dir, SortDir::Desc);
        let other = flipped.with_sort_clicked(SortKey::Latest);
        assert_eq!((other.sort, other.dir), (SortKey::Latest, SortDir::Desc));
    }

    #[test]
    fn filters_are_set_and_cleared_and_reset_the_page() {
        let query = CustomerQuery::default()
            .with_page(3)
            .with_filter("region", "EMEA");
        assert_eq!(
            query.filters.get("region").map(String::as_str),
            Some("EMEA")
        );
        assert_eq!(query.page, 1);
        let cleared = query.with_filter("region", "  ");
        assert!(cleared.filters.is_empty());
        assert!(CustomerQuery::default()
            .with_filter("No Such", "x")
            .filters
            .is_empty());
    }

    #[test]
    fn wire_validation_refuses_what_urls_would_repair() {
        let mut query = CustomerQuery {
            search: "x".repeat(MAX_SEARCH_CHARS + 1),
            ..CustomerQuery::default()
        };
        assert!(query.validate().is_err());
        query.search.clear();
        assert!(query.validate().is_ok());
        query.page = 0;
        assert!(query.validate().is_err());
        query.page = 1;
        query
            .filters
            .insert("DROP TABLE".to_owned(), "x".to_owned());
        assert!(query.validate().is_err());
    }

    #[test]
    fn api_parameters_are_read_strictly() {
        let query = CustomerQuery::from_pairs_strict(
            [
                ("q", "zo"),
                ("sort", "score"),
                ("f.queue", "Billing"),
                ("per_page", "50"),
            ],
            &["per_page"],
        )
        .expect("valid");
        assert_eq!((query.search.as_str(), query.sort), ("zo", SortKey::Score));
        assert_eq!(
            query.filters.get("queue").map(String::as_str),
            Some("Billing")
        );
        for (key, value) in [
            ("sort", "size"),
            ("dir", "up"),
            ("page", "0"),
            ("page", "x"),
            ("colour", "red"),
            ("f.BAD", "1"),
        ] {
            assert!(
                CustomerQuery::from_pairs_strict([(key, value)], &[]).is_err(),
                "{key}={value}"
            );
        }
        assert!(CustomerQuery::from_pairs_strict([("q", "x".repeat(201))], &[]).is_err());
    }

    #[test]
    fn the_pager_shows_ends_and_a_window_with_ellipses() {
        assert_eq!(pager_items(1, 1), vec![Some(1)]);
        assert_eq!(pager_items(1, 4), vec![Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(
            pager_items(1, 10),
            vec![Some(1), Some(2), Some(3), None, Some(10)]
        );
        assert_eq!(
            pager_items(6, 12),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(12)
            ]
        );
        assert_eq!(
            pager_items(10, 10),
            vec![Some(1), None, Some(8), Some(9), Some(10)]
        );
        assert_eq!(
            pager_items(4, 10),
            vec![
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                None,
                Some(10)
            ]
        );
    }
}
