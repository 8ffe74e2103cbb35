//! What the Customers server functions send to the page.

use super::query::CustomerQuery;
use crate::conversations::model::ConversationKind;
use crate::orgs::model::{Band, ScoreBands};
use crate::page::Page;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub id: i64,
    pub identifier: String,
    pub display_name: Option<String>,
    pub interactions: i64,
    /// Dates in the organisation's time zone, ready to show.
    pub first_interaction: String,
    pub latest_interaction: String,
    /// One decimal.
    pub avg_score: String,
    /// The band of the average as shown; `None` without scored conversations.
    pub avg_band: Option<Band>,
}

/// A page of the Customers table with the view it answers. Its JSON is the page's fields
/// (`rows`, `total`, `page`, `page_count`) beside `query` and `bands`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomersPage {
    /// The view that was applied: unknown filters dropped, the page clamped.
    pub query: CustomerQuery,
    #[serde(flatten)]
    pub customers: Page<CustomerRow>,
    /// The organisation's score bands, for the marks and the legend.
    pub bands: ScoreBands,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRow {
    pub conversation_id: i64,
    pub title: String,
    pub kind: ConversationKind,
    pub occurred_at: String,
    pub representative_id: i64,
    pub representative_name: String,
    pub score: String,
    pub band: Band,
}

/// A representative the page's type-ahead offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RepresentativeOption {
    pub email: String,
    pub name: String,
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_customer_page_keeps_its_json_fields_side_by_side() {
        let page = CustomersPage {
            query: CustomerQuery::default(),
            customers: Page::new(Vec::new(), 0, 1, 30),
            bands: ScoreBands::default(),
        };
        let json = serde_json::to_value(&page).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["bands", "page", "page_count", "query", "rows", "total"]
        );
        assert_eq!(serde_json::from_value::<CustomersPage>(json).unwrap(), page);
    }
}
