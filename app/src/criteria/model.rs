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
