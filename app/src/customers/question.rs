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
}
