//! The sort key and direction of a view.

use serde::{Deserialize, Serialize};

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
