//! What the Customers server functions send to the page.

use super::query::CustomerQuery;
use crate::conversations::model::Channel;
use crate::orgs::model::{Band, ScoreBands};
use crate::page::Page;
use serde::{Deserialize, Serialize};

/// An average over fewer scored conversations than this is a small sample: marked, and a
/// change with such a side is uncertain.
pub const SMALL_SAMPLE: i64 = 3;

/// Which way an average moved, as shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Up,
    Down,
    /// Rounds to no change at one decimal.
    Flat,
}

/// The Change cell of a row, when the view compares with a previous period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowChange {
    /// No scored conversation counted in the previous period.
    New,
    Moved {
        /// This period's average minus the previous one's, one decimal with its sign: "+3.2",
        /// "−1.0", "±0.0".
        delta: String,
        direction: Direction,
        /// The previous period's average, one decimal, and how many conversations it is over.
        previous_avg: String,
        previous_interactions: i64,
        /// Either side is a small sample.
        uncertain: bool,
    },
}

impl RowChange {
    /// The cell for a customer's figures this period and the previous one (scores in
    /// hundredths). The delta is the exact difference of the two averages, rounded to one
    /// decimal as the averages are shown; it is not the difference of the rounded averages.
    pub fn of(
        interactions: i64,
        score_sum: i64,
        previous_interactions: i64,
        previous_score_sum: i64,
    ) -> RowChange {
        if previous_interactions <= 0 || interactions <= 0 {
            return RowChange::New;
        }
        let points = (score_sum as f64 / interactions as f64
            - previous_score_sum as f64 / previous_interactions as f64)
            / 100.0;
        let size = format!("{:.1}", points.abs());
        let (delta, direction) = if size == "0.0" {
            ("±0.0".to_owned(), Direction::Flat)
        } else if points > 0.0 {
            (format!("+{size}"), Direction::Up)
        } else {
            (format!("\u{2212}{size}"), Direction::Down)
        };
        RowChange::Moved {
            delta,
            direction,
            previous_avg: crate::conversations::model::format_average(
                previous_score_sum,
                previous_interactions,
            ),
            previous_interactions,
            uncertain: interactions < SMALL_SAMPLE || previous_interactions < SMALL_SAMPLE,
        }
    }
}

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
    /// The average is over fewer than [`SMALL_SAMPLE`] scored conversations.
    #[serde(default)]
    pub small_sample: bool,
    /// `None` when the view has no previous period to compare with.
    #[serde(default)]
    pub change: Option<RowChange>,
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
    /// The previous period's days ("1 Nov 2026 – 5 Nov 2026") when the view compares with
    /// one: the table then has a Change column.
    #[serde(default)]
    pub previous_period: Option<String>,
    /// The organisation's data version read just before the rows: the live notice counts
    /// what was written after it.
    #[serde(default)]
    pub data_version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRow {
    pub conversation_id: i64,
    pub title: String,
    pub channel: Channel,
    pub occurred_at: String,
    pub representative_id: i64,
    pub representative_name: String,
    pub score: String,
    pub band: Band,
    /// When the history is sorted by a criterion (`hsort`): the conversation's score on it,
    /// with its band; `None` otherwise, and when it has no score on that criterion.
    pub criterion_score: Option<(String, Band)>,
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
    fn a_change_is_the_exact_difference_rounded_with_its_sign() {
        assert_eq!(RowChange::of(3, 24_000, 0, 0), RowChange::New);
        // 80.00 against 76.67: +3.3, both sides of three conversations.
        assert_eq!(
            RowChange::of(3, 24_000, 3, 23_000),
            RowChange::Moved {
                delta: "+3.3".to_owned(),
                direction: Direction::Up,
                previous_avg: "76.7".to_owned(),
                previous_interactions: 3,
                uncertain: false,
            }
        );
        let RowChange::Moved {
            delta,
            direction,
            uncertain,
            ..
        } = RowChange::of(2, 10_000, 5, 40_000)
        else {
            panic!("a change");
        };
        assert_eq!(
            (delta.as_str(), direction, uncertain),
            ("\u{2212}30.0", Direction::Down, true)
        );
        let RowChange::Moved {
            delta, direction, ..
        } = RowChange::of(4, 32_001, 4, 32_000)
        else {
            panic!("a change");
        };
        assert_eq!((delta.as_str(), direction), ("±0.0", Direction::Flat));
    }

    #[test]
    fn a_customer_page_keeps_its_json_fields_side_by_side() {
        let page = CustomersPage {
            query: CustomerQuery::default(),
            customers: Page::new(Vec::new(), 0, 1, 30),
            bands: ScoreBands::default(),
            previous_period: None,
            data_version: 0,
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
            [
                "bands",
                "data_version",
                "page",
                "page_count",
                "previous_period",
                "query",
                "rows",
                "total"
            ]
        );
        assert_eq!(serde_json::from_value::<CustomersPage>(json).unwrap(), page);
    }
}
