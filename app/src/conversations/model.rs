use serde::{Deserialize, Serialize};

/// The channel a conversation took place on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channel {
    Voice,
    Chat,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Voice, Channel::Chat, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
        }
    }

    pub fn parse(value: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str() == value)
    }

    /// The channel's name, as a filter offers it.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Voice => "Voice",
            Channel::Chat => "Chat",
            Channel::Email => "Email",
        }
    }

    /// The accessible name of the type icon.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Voice => "Voice call",
            Channel::Chat => "Chat",
            Channel::Email => "Email",
        }
    }
}

/// A score in hundredths of a point (0..=10000), as stored.
pub fn format_score(hundredths: i64) -> String {
    let text = format!("{:.2}", hundredths as f64 / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// An average of scores in hundredths, with one decimal: "84.3".
pub fn format_average(sum_hundredths: i64, count: i64) -> String {
    if count <= 0 {
        return String::new();
    }
    format!("{:.1}", sum_hundredths as f64 / count as f64 / 100.0)
}

/// Everything the conversation page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub channel: Channel,
    pub occurred_at: String,
    pub customer_identifier: String,
    pub customer_name: Option<String>,
    pub representative_id: i64,
    pub representative_name: String,
    /// `None` when the conversation was not scored.
    pub score: Option<String>,
    /// Label and value of each custom field the conversation has a value for.
    pub fields: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_show_their_decimals_and_averages_one() {
        assert_eq!(format_score(8425), "84.25");
        assert_eq!(format_score(8750), "87.5");
        assert_eq!(format_score(9000), "90");
        assert_eq!(format_score(0), "0");
        assert_eq!(format_average(8000 + 9000 + 8500, 3), "85.0");
        assert_eq!(format_average(10001, 3), "33.3");
        assert_eq!(format_average(0, 0), "");
    }
}
