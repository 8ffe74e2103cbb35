//! The meaning of a Customers view: search, sort, direction, page and custom-field filters.
//!
//! This one type is read from the page's URL, sent to the server functions, validated there
//! with the same rules, and handed to the store. Invalid URL values fall back to defaults;
//! they never fail the page.

mod focus;
mod period;
mod sort;
#[cfg(test)]
mod tests;

use crate::conversations::model::Channel;
use crate::text::{encode_component, parse_query_string};
pub use focus::RowFocus;
use period::parse_channels;
pub use period::{channels_param, Day, Period};
use serde::{Deserialize, Serialize};
pub use sort::{SortDir, SortKey};
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

/// Longest representative email accepted, in characters.
pub const MAX_EMAIL_CHARS: usize = 256;

/// Why the page sorts a view asking for change without a period to compare by interactions.
const NO_CHANGE_WITHOUT_PERIOD: &str =
    "Change compares a period with the one before it: choose a period (or a range with both dates) to sort by it; sorted by Interactions.";

/// Who reads a view's parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The page: `sort=change` without a previous period falls back to the default sort,
    /// with a note, as the column it would sort is not shown.
    Page,
    /// The API: the parameters stand as given (`sort=change` without a previous period
    /// lists every customer as new, by identifier: what the store does with it).
    Api,
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
    /// The conversations' dates that count.
    #[serde(default)]
    pub period: Period,
    /// The channels that count, in the order voice, chat, email; empty means all.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// The representative whose conversations count, by email (lower case); empty means all.
    #[serde(default)]
    pub rep: String,
}

impl Default for CustomerQuery {
    fn default() -> Self {
        CustomerQuery {
            search: String::new(),
            sort: SortKey::default(),
            dir: SortDir::default(),
            page: 1,
            filters: BTreeMap::new(),
            period: Period::All,
            channels: Vec::new(),
            rep: String::new(),
        }
    }
}

pub use crate::limits::is_field_key;

/// Trimmed, capped, and without control characters (which nothing stored contains).
fn clean_text(value: &str, max_chars: usize) -> String {
    value
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The refusal of an overlong search, from the URL and the wire alike.
fn search_too_long() -> String {
    format!("The search text is longer than {MAX_SEARCH_CHARS} characters.")
}

/// The refusal of an overlong filter value, from the URL and the wire alike.
fn filter_too_long(field: &str) -> String {
    format!("The filter value for `{field}` is longer than {MAX_FILTER_CHARS} characters.")
}

/// A representative's email as the query keeps it: trimmed, lower case, capped.
fn clean_email(value: &str) -> String {
    clean_text(value, MAX_EMAIL_CHARS).to_lowercase()
}

impl CustomerQuery {
    /// Reads a view from URL parameters, leniently: anything unknown or invalid falls back to
    /// its default, so a hand-edited or stale link still opens the page.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> CustomerQuery {
        CustomerQuery::from_pairs_noting(pairs).0
    }

    /// [`CustomerQuery::from_pairs`], with a sentence for each value that was not understood
    /// and was replaced by its default (the page shows them). A custom range (`from` or `to`
    /// given, not empty) wins over `period`.
    pub fn from_pairs_noting<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> (CustomerQuery, Vec<String>) {
        CustomerQuery::read_pairs(pairs, Reader::Page)
    }

    fn read_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        reader: Reader,
    ) -> (CustomerQuery, Vec<String>) {
        let mut query = CustomerQuery::default();
        let mut notes = Vec::new();
        let mut preset: Option<Period> = None;
        let (mut from, mut to): (Option<Day>, Option<Day>) = (None, None);
        let mut bad_date = false;
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            match key {
                "q" => query.search = clean_text(value, MAX_SEARCH_CHARS),
                "sort" => query.sort = SortKey::from_param(value).unwrap_or_default(),
                "dir" => query.dir = SortDir::from_param(value).unwrap_or_default(),
                "page" => query.page = value.trim().parse::<u32>().unwrap_or(1).clamp(1, MAX_PAGE),
                "period" => match Period::from_param(value) {
                    Some(period) => preset = Some(period),
                    None if value.trim() == "custom" || value.trim().is_empty() => {}
                    None => notes.push(format!(
                        "“{}” is not a period this page knows; showing All time.",
                        clean_text(value, 40)
                    )),
                },
                "from" | "to" if value.trim().is_empty() => {}
                "from" | "to" => match Day::parse(value) {
                    Some(day) if key == "from" => from = Some(day),
                    Some(day) => to = Some(day),
                    None => bad_date = true,
                },
                "type" => {
                    // A comma list, or the parameter repeated (a plain form's ticked boxes).
                    let (named, _) = parse_channels(value);
                    let mut channels = std::mem::take(&mut query.channels);
                    channels.extend(named);
                    query.channels = Channel::ALL
                        .into_iter()
                        .filter(|channel| channels.contains(channel))
                        .collect();
                }
                "rep" => query.rep = clean_email(value),
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
        // A custom range (`from`/`to`, either end) wins over `period` when both are given: the
        // page's plain form sends the preset and the dates together, and the dates are the more
        // specific of the two.
        let range_given = from.is_some() || to.is_some() || bad_date;
        query.period = if bad_date {
            notes.push(
                "The date range has a date that is not a real YYYY-MM-DD day; showing All time."
                    .to_owned(),
            );
            Period::All
        } else if range_given {
            Period::range(from, to).unwrap_or_else(|problem| {
                notes.push(format!("{problem} Showing All time."));
                Period::All
            })
        } else {
            preset.unwrap_or(Period::All)
        };
        if reader == Reader::Page && query.sort == SortKey::Change && !query.period.has_previous() {
            notes.push(NO_CHANGE_WITHOUT_PERIOD.to_owned());
            query.sort = SortKey::default();
            query.dir = SortDir::default();
        }
        (query, notes)
    }

    /// Reads a view from an API call's parameters, strictly: an unknown parameter or an
    /// invalid value is refused with a message instead of falling back. `extra` names the
    /// parameters the caller reads itself (such as `per_page`). As on the page, a custom
    /// range (`from`/`to`) wins over `period` when both are given.
    pub fn from_pairs_strict<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        extra: &[&str],
    ) -> Result<CustomerQuery, String> {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        for (key, value) in &pairs {
            if let Some(control) = value.chars().find(|c| c.is_control()) {
                return Err(format!(
                    "`{key}` contains a control character (U+{:04X}); remove it",
                    u32::from(control)
                ));
            }
            match key.as_str() {
                "q" if value.trim().chars().count() > MAX_SEARCH_CHARS => return Err(search_too_long()),
                "q" => {}
                "sort" if SortKey::from_param(value).is_none() => {
                    return Err(format!("`sort` must be interactions, first, latest, score or change, not `{value}`"))
                }
                "dir" if SortDir::from_param(value).is_none() => {
                    return Err(format!("`dir` must be desc or asc, not `{value}`"))
                }
                "page" if value.trim().parse::<u32>().map_or(true, |page| page == 0 || page > MAX_PAGE) => {
                    return Err(format!("`page` must be a number from 1 to {MAX_PAGE}, not `{value}`"))
                }
                "period" if Period::from_param(value).is_none() => {
                    return Err(format!(
                        "`period` must be one of {}, not `{value}`; a custom range is `from` and `to`",
                        Period::PRESETS.map(Period::param).join(", ")
                    ))
                }
                "from" | "to" if Day::parse(value).is_none() => {
                    return Err(format!("`{key}` must be a date written YYYY-MM-DD, not `{value}`"))
                }
                "type" => {
                    let (channels, unknown) = parse_channels(value);
                    if let Some(name) = unknown.first() {
                        return Err(format!("`type` takes voice, chat and email, comma-separated; `{name}` is not one of them"));
                    }
                    if channels.is_empty() {
                        return Err("`type` names no channel: use voice, chat or email".to_owned());
                    }
                }
                "rep" if value.trim().is_empty() || value.trim().chars().count() > MAX_EMAIL_CHARS => {
                    return Err(format!("`rep` must be a representative's email of at most {MAX_EMAIL_CHARS} characters"))
                }
                "sort" | "dir" | "page" | "period" | "from" | "to" | "rep" => {}
                other if extra.contains(&other) => {}
                other => match other.strip_prefix(FILTER_PREFIX) {
                    Some(field) if is_field_key(field) && value.trim().chars().count() > MAX_FILTER_CHARS => {
                        return Err(filter_too_long(field))
                    }
                    Some(field) if is_field_key(field) => {}
                    _ => return Err(format!("`{other}` is not a parameter of this call")),
                },
            }
        }
        let (query, notes) = CustomerQuery::read_pairs(
            pairs
                .iter()
                .filter(|(key, _)| !extra.contains(&key.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str())),
            Reader::Api,
        );
        if let Some(note) = notes.into_iter().next() {
            return Err(note.replace(" Showing All time.", ""));
        }
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
            return Err(search_too_long());
        }
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(format!("The page number must be between 1 and {MAX_PAGE}."));
        }
        if self.filters.len() > MAX_FILTERS {
            return Err(format!(
                "At most {MAX_FILTERS} filters can be applied at once."
            ));
        }
        if let Period::Range { from, to } = self.period {
            Period::range(from, to)?;
        }
        if self.rep.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!(
                "The representative's email is longer than {MAX_EMAIL_CHARS} characters."
            ));
        }
        for (key, value) in &self.filters {
            if !is_field_key(key) {
                return Err(format!("`{key}` is not a valid custom field key."));
            }
            if value.chars().count() > MAX_FILTER_CHARS {
                return Err(filter_too_long(key));
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
        match self.period {
            Period::All => {}
            Period::Range { from, to } => {
                if let Some(from) = from {
                    pairs.push(("from".to_owned(), from.to_string()));
                }
                if let Some(to) = to {
                    pairs.push(("to".to_owned(), to.to_string()));
                }
            }
            preset => pairs.push(("period".to_owned(), preset.param().to_owned())),
        }
        if !self.channels.is_empty() {
            pairs.push(("type".to_owned(), channels_param(&self.channels)));
        }
        if !self.rep.is_empty() {
            pairs.push(("rep".to_owned(), self.rep.clone()));
        }
        for (key, value) in &self.filters {
            pairs.push((format!("{FILTER_PREFIX}{key}"), value.clone()));
        }
        pairs
    }

    /// Whether any condition on conversations is active (beyond the search).
    pub fn has_conditions(&self) -> bool {
        !self.filters.is_empty()
            || self.period != Period::All
            || !self.channels.is_empty()
            || !self.rep.is_empty()
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

    /// The view with another period, back on page 1. A range with `to` before `from` is
    /// not applied.
    pub fn with_period(&self, period: Period) -> CustomerQuery {
        let period = match period {
            Period::Range { from, to } => Period::range(from, to).unwrap_or(self.period),
            preset => preset,
        };
        // The Change column leaves with the previous period, and its sort with it.
        let (sort, dir) = if self.sort == SortKey::Change && !period.has_previous() {
            (SortKey::default(), SortDir::default())
        } else {
            (self.sort, self.dir)
        };
        CustomerQuery {
            period,
            sort,
            dir,
            page: 1,
            ..self.clone()
        }
    }

    /// The view with one channel switched on or off, back on page 1.
    pub fn with_channel(&self, channel: Channel, on: bool) -> CustomerQuery {
        let channels = Channel::ALL
            .into_iter()
            .filter(|candidate| {
                if *candidate == channel {
                    on
                } else {
                    self.channels.contains(candidate)
                }
            })
            .collect();
        CustomerQuery {
            channels,
            page: 1,
            ..self.clone()
        }
    }

    /// The view with a representative chosen (or none, when blank), back on page 1.
    pub fn with_rep(&self, email: &str) -> CustomerQuery {
        CustomerQuery {
            rep: clean_email(email),
            page: 1,
            ..self.clone()
        }
    }

    pub fn with_page(&self, page: u32) -> CustomerQuery {
        CustomerQuery {
            page: page.clamp(1, MAX_PAGE),
            ..self.clone()
        }
    }
}

impl CustomerQuery {
    /// "Look at this customer": the Customers page searched for one customer, its row open.
    pub fn customer_link(identifier: &str) -> String {
        RowFocus::href(
            &CustomerQuery::default().with_search(identifier),
            identifier.trim(),
            1,
        )
    }
}
