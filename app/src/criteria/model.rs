use serde::{Deserialize, Serialize};

/// Most criteria one organisation may define.
pub const MOST_CRITERIA: usize = 50;

/// A criterion an organisation scores its conversations on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: i64,
    /// Lower-case letters, digits and underscores, like a custom field's key.
    pub key: String,
    pub label: String,
}

/// One conversation's score on one criterion, as the conversation page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    pub key: String,
    pub label: String,
    /// Hundredths of a point; `None` when the criterion did not apply to the conversation.
    pub score_hundredths: Option<i64>,
}

/// The criterion key rule, for error messages: the same rule as custom field keys
/// ([`crate::limits::is_field_key`]).
pub const CRITERION_KEY_RULE: &str =
    "is not a valid criterion key: use 1 to 64 lower-case letters, digits and underscores";
