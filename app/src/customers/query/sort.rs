//! The sort key and direction of a view.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Interactions,
    First,
    Latest,
    Score,
    /// The Avg Score against the previous period's, when a period is chosen. The key is the
    /// drop (previous minus current), so the default direction, `desc`, lists the biggest drop
    /// first, then smaller drops, then rises; `asc` the biggest rise first. Either way the
    /// certain changes come first, then the uncertain ones (a side with a small sample), then
    /// the customers new to the period.
    Change,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [
        SortKey::Interactions,
        SortKey::First,
        SortKey::Latest,
        SortKey::Score,
        SortKey::Change,
    ];

    pub fn param(self) -> &'static str {
        match self {
            SortKey::Interactions => "interactions",
            SortKey::First => "first",
            SortKey::Latest => "latest",
            SortKey::Score => "score",
            SortKey::Change => "change",
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
