//! Which row the address opens, and on which page of its history.

use super::{clean_text, CustomerQuery, MAX_PAGE};
use crate::text::encode_component;

/// Which row the URL asks to open, and on which page of its history: `open=<identifier>` and
/// `hpage=N`. Kept apart from [`CustomerQuery`]: opening a row changes the address (so it can
/// be sent as "look at this customer") without asking the server for the table again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowFocus {
    /// The customer's identifier, as stored (trimmed).
    pub open: Option<String>,
    /// 1-based page of the open row's history.
    pub hpage: u32,
    /// The key of the criterion the open row's history is sorted by, lowest score first
    /// (`hsort=<key>`, the criteria breakdown's links); newest first without it.
    pub hsort: Option<String>,
}

impl Default for RowFocus {
    fn default() -> Self {
        RowFocus {
            open: None,
            hpage: 1,
            hsort: None,
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
                "hsort" => {
                    let key = value.as_ref().trim();
                    focus.hsort = crate::limits::is_field_key(key).then(|| key.to_owned());
                }
                _ => {}
            }
        }
        focus
    }

    /// The address of `query` with one customer's row open on history page `hpage`.
    pub fn href(query: &CustomerQuery, identifier: &str, hpage: u32) -> String {
        RowFocus::href_sorted(query, identifier, hpage, None)
    }

    /// The same, its history sorted by the criterion `sort_key` (a criterion's key) when given.
    pub fn href_sorted(
        query: &CustomerQuery,
        identifier: &str,
        hpage: u32,
        sort_key: Option<&str>,
    ) -> String {
        let mut address = query.href();
        address.push(if address.contains('?') { '&' } else { '?' });
        address.push_str("open=");
        address.push_str(&encode_component(identifier));
        if hpage > 1 {
            address.push_str(&format!("&hpage={hpage}"));
        }
        if let Some(key) = sort_key {
            address.push_str("&hsort=");
            address.push_str(&encode_component(key));
        }
        address
    }
}
