//! Saved views: a person's named Customers views (search, sort, filters, period), kept in the
//! database per person. A view is stored as its query string, the same text its URL carries,
//! so opening one is following a link, and a view whose field was since deleted opens with
//! that filter dropped, as any link does.

use super::query::CustomerQuery;
use serde::{Deserialize, Serialize};

/// Longest name of a saved view, in characters.
pub const MAX_SAVED_VIEW_NAME_CHARS: usize = 80;
/// Saved views one person may keep.
pub const MAX_SAVED_VIEWS_PER_PERSON: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The view's query string (no `?`, no page), as [`CustomerQuery::to_query_string`] writes it.
    pub query: String,
}

impl SavedView {
    /// Where opening the view goes.
    pub fn href(&self) -> String {
        CustomerQuery::from_query_string(&self.query)
            .with_page(1)
            .href()
    }
}

/// A view's name as stored: trimmed, 1 to [`MAX_SAVED_VIEW_NAME_CHARS`] characters, no
/// control characters.
pub fn clean_view_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Give the view a name.".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("A view's name cannot contain control characters.".to_owned());
    }
    if let Some(c) = name.chars().find(|&c| crate::limits::is_lookalike_char(c)) {
        return Err(format!(
            "A view's name cannot contain invisible or direction-changing characters (U+{:04X}).",
            u32::from(c)
        ));
    }
    let chars = name.chars().count();
    if chars > MAX_SAVED_VIEW_NAME_CHARS {
        return Err(format!(
            "The name is {chars} characters long; the limit is {MAX_SAVED_VIEW_NAME_CHARS}."
        ));
    }
    Ok(name.to_owned())
}

/// The query string a view is saved as: the whole view but its page.
pub fn saved_query_string(query: &CustomerQuery) -> String {
    query.with_page(1).to_query_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(
            clean_view_name("  Escalations  ").as_deref(),
            Ok("Escalations")
        );
        assert!(clean_view_name("   ").is_err());
        assert!(clean_view_name("a\u{0}b").is_err());
        assert!(clean_view_name(&"x".repeat(MAX_SAVED_VIEW_NAME_CHARS + 1)).is_err());
        assert!(clean_view_name(&"é".repeat(MAX_SAVED_VIEW_NAME_CHARS)).is_ok());
    }

    #[test]
    fn a_view_is_saved_without_its_page_and_opens_on_page_one() {
        let query =
            CustomerQuery::from_query_string("q=acme&sort=score&dir=asc&page=4&f.region=EMEA");
        let text = saved_query_string(&query);
        assert!(!text.contains("page="), "{text}");
        let view = SavedView {
            id: 1,
            name: "EMEA".to_owned(),
            query: text,
        };
        assert_eq!(
            view.href(),
            "/customers?q=acme&sort=score&dir=asc&f.region=EMEA"
        );
    }
}
