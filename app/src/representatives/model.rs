use crate::conversations::model::Channel;
use serde::{Deserialize, Serialize};

/// Conversations per page on a representative profile.
pub const PROFILE_PAGE_SIZE: u32 = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileConversation {
    pub id: i64,
    pub title: String,
    pub channel: Channel,
    pub occurred_at: String,
    pub customer_identifier: String,
    pub score: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepresentativeProfile {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub scored_conversations: i64,
    /// One decimal; empty when nothing is scored.
    pub average_score: String,
    pub conversations: Vec<ProfileConversation>,
    pub total_conversations: i64,
    pub page: u32,
    pub page_count: u32,
}
