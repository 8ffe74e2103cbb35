//! The meaning of a Customers view: search, sort, direction, page and custom-field filters.
//!
//! This one type is read from the page's URL, sent to the server functions, validated there
//! with the same rules, and handed to the store. Invalid URL values fall back to defaults;
//! they never fail the page.

use crate::conversations::model::ConversationKind;
use crate::text::{encode_component, parse_query_string};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

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

/// A calendar day in the organisation's time zone, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// Reads `YYYY-MM-DD` (years 1000 to 9999), refusing days that do not exist.
    pub fn parse(text: &str) -> Option<Day> {
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let day = Day {
            year: i32::try_from(year).ok()?,
            month,
            day,
        };
        (year >= 1000 && (1..=12).contains(&month) && (1..=day.days_in_month()).contains(&day.day))
            .then_some(day)
    }

    fn days_in_month(&self) -> u32 {
        match self.month {
            2 if self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which conversations count by their date. Presets stay relative (a shared link to "Last 30
/// days" shows the last 30 days on the day it is opened); a range is whole days, inclusive,
/// either end open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    #[default]
    All,
    Last7Days,
    Last30Days,
    Last90Days,
    ThisMonth,
    LastMonth,
    ThisQuarter,
    ThisYear,
    Range {
        from: Option<Day>,
        to: Option<Day>,
    },
}

impl Period {
    pub const PRESETS: [Period; 8] = [
        Period::All,
        Period::Last7Days,
        Period::Last30Days,
        Period::Last90Days,
        Period::ThisMonth,
        Period::LastMonth,
        Period::ThisQuarter,
        Period::ThisYear,
    ];

    /// The `period=` value of a preset (`all` for All time, `custom` for a range).
    pub fn param(self) -> &'static str {
        match self {
            Period::All => "all",
            Period::Last7Days => "7d",
            Period::Last30Days => "30d",
            Period::Last90Days => "90d",
            Period::ThisMonth => "month",
            Period::LastMonth => "last-month",
            Period::ThisQuarter => "quarter",
            Period::ThisYear => "year",
            Period::Range { .. } => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Period::All => "All time",
            Period::Last7Days => "Last 7 days",
            Period::Last30Days => "Last 30 days",
            Period::Last90Days => "Last 90 days",
            Period::ThisMonth => "This month",
            Period::LastMonth => "Last month",
            Period::ThisQuarter => "This quarter",
            Period::ThisYear => "This year",
            Period::Range { .. } => "Custom range",
        }
    }

    /// A preset by its `period=` value.
    pub fn from_param(value: &str) -> Option<Period> {
        Period::PRESETS
            .into_iter()
            .find(|preset| preset.param() == value.trim())
    }

    /// A range from its two ends; both open is All time. `to` before `from` is refused.
    pub fn range(from: Option<Day>, to: Option<Day>) -> Result<Period, String> {
        match (from, to) {
            (None, None) => Ok(Period::All),
            (Some(from), Some(to)) if to < from => Err(format!(
                "The date range ends ({to}) before it starts ({from})."
            )),
            _ => Ok(Period::Range { from, to }),
        }
    }
}

/// The channels as the URL writes them: `voice,chat`.
pub fn channels_param(channels: &[ConversationKind]) -> String {
    channels
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads `voice,chat`: the channels named (in the order voice, chat, email, once each) and
/// the names that are not channels.
fn parse_channels(value: &str) -> (Vec<ConversationKind>, Vec<String>) {
    let mut unknown = Vec::new();
    let mut named = Vec::new();
    for part in value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        match ConversationKind::parse(&part.to_lowercase()) {
            Some(kind) => named.push(kind),
            None => unknown.push(part.to_owned()),
        }
    }
    let channels = ConversationKind::ALL
        .into_iter()
        .filter(|kind| named.contains(kind))
        .collect();
    (channels, unknown)
}

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
    /// The conversations' dates that count.
    #[serde(default)]
    pub period: Period,
    /// The channels that count, in the order voice, chat, email; empty means all.
    #[serde(default)]
    pub channels: Vec<ConversationKind>,
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
                    query.channels = ConversationKind::ALL
                        .into_iter()
                        .filter(|kind| channels.contains(kind))
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
                        return Err(format!("The filter value for `{field}` is longer than {MAX_FILTER_CHARS} characters."))
                    }
                    Some(field) if is_field_key(field) => {}
                    _ => return Err(format!("`{other}` is not a parameter of this call")),
                },
            }
        }
        let (query, notes) = CustomerQuery::from_pairs_noting(
            pairs
                .iter()
                .filter(|(key, _)| !extra.contains(&key.as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str())),
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
        CustomerQuery {
            period,
            page: 1,
            ..self.clone()
        }
    }

    /// The view with one channel switched on or off, back on page 1.
    pub fn with_channel(&self, kind: ConversationKind, on: bool) -> CustomerQuery {
        let channels = ConversationKind::ALL
            .into_iter()
            .filter(|candidate| {
                if *candidate == kind {
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

/// Which row the URL asks to open, and on which page of its history: `open=<identifier>` and
/// `hpage=N`. Kept apart from [`CustomerQuery`]: opening a row changes the address (so it can
/// be sent as "look at this customer") without asking the server for the table again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFocus {
    /// The customer's identifier, as stored (trimmed).
    pub open: Option<String>,
    /// 1-based page of the open row's history.
    pub hpage: u32,
}

impl Default for RowFocus {
    fn default() -> Self {
        RowFocus {
            open: None,
            hpage: 1,
        }
    }
}

impl RowFocus {
    /// Reads `open` and `hpage` leniently, as the page reads everything else.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> RowFocus {
        let mut focus = RowFocus::default();
        for (key, value) in pairs {
            match key.as_ref() {
                "open" => {
                    let identifier =
                        clean_text(value.as_ref(), crate::limits::MAX_IDENTIFIER_CHARS);
                    focus.open = (!identifier.is_empty()).then_some(identifier);
                }
                "hpage" => {
                    focus.hpage = value
                        .as_ref()
                        .trim()
                        .parse::<u32>()
                        .unwrap_or(1)
                        .clamp(1, MAX_PAGE)
                }
                _ => {}
            }
        }
        focus
    }

    /// The address of `query` with one customer's row open on history page `hpage`.
    pub fn href(query: &CustomerQuery, identifier: &str, hpage: u32) -> String {
        let mut address = query.href();
        address.push(if address.contains('?') { '&' } else { '?' });
        address.push_str("open=");
        address.push_str(&encode_component(identifier));
        if hpage > 1 {
            address.push_str(&format!("&hpage={hpage}"));
        }
        address
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_to_a_customer_searches_for_it_and_opens_its_row() {
        assert_eq!(
            CustomerQuery::customer_link("ACME & Co"),
            "/customers?q=ACME%20%26%20Co&open=ACME%20%26%20Co"
        );
        let query = CustomerQuery::from_query_string("q=acme&sort=score&open=ACME-1&hpage=3");
        let focus = RowFocus::from_pairs(parse_query_string("q=acme&open=ACME-1&hpage=3"));
        assert_eq!(focus.open.as_deref(), Some("ACME-1"));
        assert_eq!(focus.hpage, 3);
        assert_eq!(
            RowFocus::href(&query, "ACME-1", 3),
            "/customers?q=acme&sort=score&open=ACME-1&hpage=3"
        );
        assert_eq!(
            RowFocus::href(&CustomerQuery::default(), "A", 1),
            "/customers?open=A"
        );
        let bad = RowFocus::from_pairs(parse_query_string("open=%20%00&hpage=zero"));
        assert_eq!(bad, RowFocus::default());
    }

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
            period: Period::Range {
                from: Day::parse("2026-02-01"),
                to: None,
            },
            channels: vec![ConversationKind::Voice, ConversationKind::Email],
            rep: "sam@acme.example".to_owned(),
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
    fn days_are_real_calendar_days() {
        assert_eq!(
            Day::parse("2024-02-29"),
            Some(Day {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-04-31",
            "2026-4-1",
            "26-04-01",
            "2026-04-01x",
            "",
            "0999-01-01",
            "+026-01-01",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Day::parse("2026-03-07").map(|d| d.to_string()).as_deref(),
            Some("2026-03-07")
        );
    }

    #[test]
    fn periods_channels_and_representatives_are_read_from_the_url() {
        let query = CustomerQuery::from_query_string(
            "period=30d&type=chat,VOICE,chat&rep=%20Sam@Acme.example%20",
        );
        assert_eq!(query.period, Period::Last30Days);
        assert_eq!(
            query.channels,
            vec![ConversationKind::Voice, ConversationKind::Chat]
        );
        assert_eq!(query.rep, "sam@acme.example");
        assert!(query.has_conditions());
        assert_eq!(
            query.to_query_string(),
            "period=30d&type=voice%2Cchat&rep=sam%40acme.example"
        );
        let range = CustomerQuery::from_query_string("to=2026-03-31");
        assert_eq!(
            range.period,
            Period::Range {
                from: None,
                to: Day::parse("2026-03-31")
            }
        );
        for preset in Period::PRESETS {
            let query = CustomerQuery::default().with_period(preset);
            assert_eq!(
                CustomerQuery::from_query_string(&query.to_query_string()).period,
                preset
            );
        }
    }

    #[test]
    fn a_bad_date_range_falls_back_to_all_time_and_says_so() {
        for bad in [
            "from=2026-05-01&to=2026-04-01",
            "from=2026-02-30",
            "to=yesterday",
            "period=fortnight",
        ] {
            let (query, notes) = CustomerQuery::from_pairs_noting(parse_query_string(bad));
            assert_eq!(query.period, Period::All, "{bad}");
            assert_eq!(notes.len(), 1, "{bad}: {notes:?}");
            assert!(notes[0].contains("All time"), "{bad}: {notes:?}");
        }
        let (_, notes) =
            CustomerQuery::from_pairs_noting(parse_query_string("from=2026-04-01&to=2026-04-01"));
        assert!(notes.is_empty());
        let reversed = CustomerQuery::default().with_period(Period::Range {
            from: Day::parse("2026-05-01"),
            to: Day::parse("2026-04-01"),
        });
        assert_eq!(reversed.period, Period::All);
        let wire = CustomerQuery {
            period: Period::Range {
                from: Day::parse("2026-05-01"),
                to: Day::parse("2026-04-01"),
            },
            ..CustomerQuery::default()
        };
        assert!(wire.validate().is_err());
    }

    #[test]
    fn the_api_refuses_bad_periods_channels_and_representatives() {
        for (key, value) in [
            ("period", "fortnight"),
            ("period", "custom"),
            ("from", "2026-02-30"),
            ("to", "31/03/2026"),
            ("type", "fax"),
            ("type", ","),
            ("rep", " "),
        ] {
            assert!(
                CustomerQuery::from_pairs_strict([(key, value)], &[]).is_err(),
                "{key}={value}"
            );
        }
        assert!(CustomerQuery::from_pairs_strict(
            [("from", "2026-05-01"), ("to", "2026-04-01")],
            &[]
        )
        .is_err());
        let query = CustomerQuery::from_pairs_strict(
            [("from", "2026-04-01"), ("type", "email"), ("rep", "a@b.c")],
            &[],
        )
        .expect("valid");
        assert_eq!(
            query.period,
            Period::Range {
                from: Day::parse("2026-04-01"),
                to: None
            }
        );
        assert_eq!(query.channels, vec![ConversationKind::Email]);
    }

    #[test]
    fn a_custom_range_wins_over_a_period_on_the_page_and_in_the_api() {
        let range = Period::Range {
            from: Day::parse("2026-04-01"),
            to: Day::parse("2026-04-30"),
        };
        for pairs in [
            "period=7d&from=2026-04-01&to=2026-04-30",
            "from=2026-04-01&period=year&to=2026-04-30",
            "period=custom&from=2026-04-01&to=2026-04-30",
        ] {
            let (query, notes) = CustomerQuery::from_pairs_noting(parse_query_string(pairs));
            assert_eq!((query.period, notes.len()), (range, 0), "{pairs}");
            let strict = CustomerQuery::from_pairs_strict(
                parse_query_string(pairs)
                    .into_iter()
                    .filter(|(k, v)| !(k == "period" && v == "custom")),
                &[],
            )
            .unwrap_or_else(|e| panic!("{pairs}: {e}"));
            assert_eq!(strict.period, range, "{pairs}");
        }
        // One end is a range too; empty dates (the plain form's) are not given.
        let open = CustomerQuery::from_query_string("period=30d&to=2026-04-30");
        assert_eq!(
            open.period,
            Period::Range {
                from: None,
                to: Day::parse("2026-04-30")
            }
        );
        assert_eq!(
            CustomerQuery::from_query_string("period=30d&from=&to=").period,
            Period::Last30Days
        );
        // A range that cannot be read is not replaced by the period: the page says so and
        // shows All time, the API refuses it.
        let (query, notes) =
            CustomerQuery::from_pairs_noting(parse_query_string("period=7d&from=2026-02-30"));
        assert_eq!((query.period, notes.len()), (Period::All, 1));
        assert!(CustomerQuery::from_pairs_strict(
            [
                ("period", "7d"),
                ("from", "2026-05-01"),
                ("to", "2026-04-01")
            ],
            &[]
        )
        .is_err());
        assert!(CustomerQuery::from_pairs_strict(
            [("period", "fortnight"), ("from", "2026-04-01")],
            &[]
        )
        .is_err());
    }

    #[test]
    fn channels_toggle_and_reset_the_page() {
        let query = CustomerQuery::default()
            .with_page(3)
            .with_channel(ConversationKind::Email, true);
        assert_eq!(
            (query.channels.clone(), query.page),
            (vec![ConversationKind::Email], 1)
        );
        let both = query.with_channel(ConversationKind::Voice, true);
        assert_eq!(
            both.channels,
            vec![ConversationKind::Voice, ConversationKind::Email]
        );
        assert!(both
            .with_channel(ConversationKind::Voice, false)
            .with_channel(ConversationKind::Email, false)
            .channels
            .is_empty());
    }
}
