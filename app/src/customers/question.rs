//! What the store and the read model both speak: an applied filter, and one customer's
//! aggregates. Kept apart from both so that each depends on it, and neither on the other's
//! vocabulary.

/// How one active filter matches a conversation's value for its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// A select field: the value equals this option.
    Equals(String),
    /// A text field: the folded value contains this folded text.
    Contains(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedFilter {
    pub field_id: i64,
    pub matcher: Matcher,
}

/// One customer's aggregates over the conversations that count.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerSummary {
    pub id: i64,
    pub identifier: String,
    pub display_name: Option<String>,
    pub interactions: i64,
    pub first_ms: i64,
    pub latest_ms: i64,
    pub score_sum: i64,
    /// The same figures over the previous period, when the question compares with one (0
    /// when the customer had no scored conversation then, or there is nothing to compare).
    pub previous_interactions: i64,
    pub previous_score_sum: i64,
}

/// Averages over fewer scored conversations than this are small samples (issue 27, item 4).
pub use crate::customers::model::SMALL_SAMPLE;

/// Where a customer sorts by change: certain changes, then uncertain ones (a side with a small
/// sample), then customers with no scored conversation in the previous period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeGroup {
    Certain,
    Uncertain,
    New,
}

impl ChangeGroup {
    pub fn of(interactions: i64, previous_interactions: i64) -> ChangeGroup {
        if previous_interactions == 0 {
            ChangeGroup::New
        } else if interactions < SMALL_SAMPLE || previous_interactions < SMALL_SAMPLE {
            ChangeGroup::Uncertain
        } else {
            ChangeGroup::Certain
        }
    }
}

/// The drop in the average, previous minus current, as both backends compute it (IEEE
/// divisions, then a subtraction), so that orders agree; 0 for a new customer.
pub fn average_drop(
    score_sum: i64,
    interactions: i64,
    previous_score_sum: i64,
    previous_interactions: i64,
) -> f64 {
    if previous_interactions == 0 || interactions == 0 {
        return 0.0;
    }
    previous_score_sum as f64 / previous_interactions as f64
        - score_sum as f64 / interactions as f64
}
