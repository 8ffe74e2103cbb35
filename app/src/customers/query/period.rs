//! Days, periods and channels: the time and channel filters of a view.

use crate::conversations::model::ConversationKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar day in the organisation's time zone, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Day {
    /// Reads `YYYY-MM-DD` (years 1000 to 9999), refusing days that do not exist.
    pub fn parse(text: &str) -> Option<Day> {
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let day = Day {
            year: i32::try_from(year).ok()?,
            month,
            day,
        };
        (year >= 1000 && (1..=12).contains(&month) && (1..=day.days_in_month()).contains(&day.day))
            .then_some(day)
    }

    fn days_in_month(&self) -> u32 {
        match self.month {
            2 if self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Which conversations count by their date. Presets stay relative (a shared link to "Last 30
/// days" shows the last 30 days on the day it is opened); a range is whole days, inclusive,
/// either end open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Period {
    #[default]
    All,
    Last7Days,
    Last30Days,
    Last90Days,
    ThisMonth,
    LastMonth,
    ThisQuarter,
    ThisYear,
    Range {
        from: Option<Day>,
        to: Option<Day>,
    },
}

impl Period {
    pub const PRESETS: [Period; 8] = [
        Period::All,
        Period::Last7Days,
        Period::Last30Days,
        Period::Last90Days,
        Period::ThisMonth,
        Period::LastMonth,
        Period::ThisQuarter,
        Period::ThisYear,
    ];

    /// The `period=` value of a preset (`all` for All time, `custom` for a range).
    pub fn param(self) -> &'static str {
        match self {
            Period::All => "all",
            Period::Last7Days => "7d",
            Period::Last30Days => "30d",
            Period::Last90Days => "90d",
            Period::ThisMonth => "month",
            Period::LastMonth => "last-month",
            Period::ThisQuarter => "quarter",
            Period::ThisYear => "year",
            Period::Range { .. } => "custom",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Period::All => "All time",
            Period::Last7Days => "Last 7 days",
            Period::Last30Days => "Last 30 days",
            Period::Last90Days => "Last 90 days",
            Period::ThisMonth => "This month",
            Period::LastMonth => "Last month",
            Period::ThisQuarter => "This quarter",
            Period::ThisYear => "This year",
            Period::Range { .. } => "Custom range",
        }
    }

    /// A preset by its `period=` value.
    pub fn from_param(value: &str) -> Option<Period> {
        Period::PRESETS
            .into_iter()
            .find(|preset| preset.param() == value.trim())
    }

    /// A range from its two ends; both open is All time. `to` before `from` is refused.
    pub fn range(from: Option<Day>, to: Option<Day>) -> Result<Period, String> {
        match (from, to) {
            (None, None) => Ok(Period::All),
            (Some(from), Some(to)) if to < from => Err(format!(
                "The date range ends ({to}) before it starts ({from})."
            )),
            _ => Ok(Period::Range { from, to }),
        }
    }
}

/// The channels as the URL writes them: `voice,chat`.
pub fn channels_param(channels: &[ConversationKind]) -> String {
    channels
        .iter()
        .map(|kind| kind.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads `voice,chat`: the channels named (in the order voice, chat, email, once each) and
/// the names that are not channels.
pub(super) fn parse_channels(value: &str) -> (Vec<ConversationKind>, Vec<String>) {
    let mut unknown = Vec::new();
    let mut named = Vec::new();
    for part in value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        match ConversationKind::parse(&part.to_lowercase()) {
            Some(kind) => named.push(kind),
            None => unknown.push(part.to_owned()),
        }
    }
    let channels = ConversationKind::ALL
        .into_iter()
        .filter(|kind| named.contains(kind))
        .collect();
    (channels, unknown)
}
