//! Days, periods and channels: the time and channel filters of a view.

use crate::conversations::model::Channel;
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

impl Period {
    /// Whether the period has a previous period to compare with (the Change column): every
    /// preset but All time, and a range closed at both ends.
    pub fn has_previous(self) -> bool {
        match self {
            Period::All => false,
            Period::Range { from, to } => from.is_some() && to.is_some(),
            _ => true,
        }
    }
}

/// The previous period: what the Change column compares a period with. One rule for the page,
/// the API and the export.
#[cfg(feature = "ssr")]
mod previous {
    use super::Period;
    use chrono::{Datelike, Days, Months, NaiveDate};
    use chrono_tz::Tz;

    impl Period {
        /// The first and last day (inclusive) of the period before this one, for an
        /// organisation whose calendar shows `today`; `None` for All time and a range open at
        /// either end.
        ///
        /// - a range and Last 7/30/90 days: as many days, just before;
        /// - This month/quarter/year: the same days of the previous month/quarter/year so far
        ///   (1–5 December against 1–5 November; a day the shorter month lacks becomes its
        ///   last day: 31 March against February to its end);
        /// - Last month: the month before it.
        pub fn previous_days(self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
            let last_days = |n: u64| {
                let first = today.checked_sub_days(Days::new(2 * n - 1))?;
                Some((first, today.checked_sub_days(Days::new(n))?))
            };
            // The same days `months` months earlier: the period's start to today, moved back.
            let so_far = |start: NaiveDate, months: u32| {
                Some((
                    start.checked_sub_months(Months::new(months))?,
                    today.checked_sub_months(Months::new(months))?,
                ))
            };
            let first_of_month = today.with_day(1)?;
            match self {
                Period::All | Period::Range { from: None, .. } | Period::Range { to: None, .. } => {
                    None
                }
                Period::Last7Days => last_days(7),
                Period::Last30Days => last_days(30),
                Period::Last90Days => last_days(90),
                Period::ThisMonth => so_far(first_of_month, 1),
                Period::ThisQuarter => {
                    let start =
                        NaiveDate::from_ymd_opt(today.year(), today.month0() / 3 * 3 + 1, 1)?;
                    so_far(start, 3)
                }
                Period::ThisYear => so_far(NaiveDate::from_ymd_opt(today.year(), 1, 1)?, 12),
                Period::LastMonth => {
                    let first = first_of_month.checked_sub_months(Months::new(2))?;
                    let last = first_of_month
                        .checked_sub_months(Months::new(1))?
                        .pred_opt()?;
                    Some((first, last))
                }
                Period::Range {
                    from: Some(from),
                    to: Some(to),
                } => {
                    let from = NaiveDate::from_ymd_opt(from.year, from.month, from.day)?;
                    let to = NaiveDate::from_ymd_opt(to.year, to.month, to.day)?;
                    let days = u64::try_from((to - from).num_days()).ok()? + 1;
                    Some((from.checked_sub_days(Days::new(days))?, from.pred_opt()?))
                }
            }
        }

        /// The UTC milliseconds of [`Period::previous_days`], from (inclusive) until
        /// (exclusive), days starting at local midnight in `zone`.
        pub fn previous_bounds(self, zone: Tz, today: NaiveDate) -> Option<(i64, i64)> {
            let (first, last) = self.previous_days(today)?;
            let start = |day: NaiveDate| crate::orgs::time::day_start_ms(day, zone);
            Some((start(first), start(last.succ_opt()?)))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::customers::query::Day;

        fn day(text: &str) -> NaiveDate {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
        }

        fn previous(period: Period, today: &str) -> Option<(String, String)> {
            period
                .previous_days(day(today))
                .map(|(first, last)| (first.to_string(), last.to_string()))
        }

        fn days(first: &str, last: &str) -> Option<(String, String)> {
            Some((first.to_owned(), last.to_owned()))
        }

        #[test]
        fn last_n_days_compare_with_as_many_days_just_before() {
            // Last 7 days on 20 May: 14–20 May, against 7–13 May.
            assert_eq!(
                previous(Period::Last7Days, "2026-05-20"),
                days("2026-05-07", "2026-05-13")
            );
            assert_eq!(
                previous(Period::Last30Days, "2026-03-01"),
                days("2026-01-01", "2026-01-30")
            );
            // 2024 is a leap year: 29 February counts as a day.
            assert_eq!(
                previous(Period::Last30Days, "2024-03-01"),
                days("2024-01-02", "2024-01-31")
            );
            assert_eq!(
                previous(Period::Last90Days, "2026-12-31"),
                days("2026-07-05", "2026-10-02")
            );
        }

        #[test]
        fn this_month_quarter_and_year_compare_with_the_same_days_so_far() {
            assert_eq!(
                previous(Period::ThisMonth, "2026-12-05"),
                days("2026-11-01", "2026-11-05")
            );
            // A day the previous month lacks becomes its last day.
            assert_eq!(
                previous(Period::ThisMonth, "2026-03-31"),
                days("2026-02-01", "2026-02-28")
            );
            assert_eq!(
                previous(Period::ThisMonth, "2024-03-30"),
                days("2024-02-01", "2024-02-29")
            );
            assert_eq!(
                previous(Period::ThisMonth, "2026-01-15"),
                days("2025-12-01", "2025-12-15")
            );
            // A quarter's boundary: 1 April starts Q2, against 1 January.
            assert_eq!(
                previous(Period::ThisQuarter, "2026-04-01"),
                days("2026-01-01", "2026-01-01")
            );
            assert_eq!(
                previous(Period::ThisQuarter, "2026-05-31"),
                days("2026-01-01", "2026-02-28")
            );
            assert_eq!(
                previous(Period::ThisQuarter, "2026-01-10"),
                days("2025-10-01", "2025-10-10")
            );
            assert_eq!(
                previous(Period::ThisYear, "2028-02-29"),
                days("2027-01-01", "2027-02-28")
            );
            assert_eq!(
                previous(Period::ThisYear, "2026-12-05"),
                days("2025-01-01", "2025-12-05")
            );
        }

        #[test]
        fn last_month_compares_with_the_month_before() {
            assert_eq!(
                previous(Period::LastMonth, "2026-12-05"),
                days("2026-10-01", "2026-10-31")
            );
            assert_eq!(
                previous(Period::LastMonth, "2024-04-30"),
                days("2024-02-01", "2024-02-29")
            );
            assert_eq!(
                previous(Period::LastMonth, "2026-01-31"),
                days("2025-11-01", "2025-11-30")
            );
            assert_eq!(
                previous(Period::LastMonth, "2026-02-10"),
                days("2025-12-01", "2025-12-31")
            );
        }

        #[test]
        fn a_range_compares_with_as_many_days_before_and_an_open_one_with_nothing() {
            let range = |from: &str, to: &str| Period::Range {
                from: Day::parse(from),
                to: Day::parse(to),
            };
            assert_eq!(
                previous(range("2024-03-01", "2024-03-31"), "2026-11-26"),
                days("2024-01-30", "2024-02-29")
            );
            assert_eq!(
                previous(range("2026-01-01", "2026-01-01"), "2026-11-26"),
                days("2025-12-31", "2025-12-31")
            );
            let open = Period::Range {
                from: Day::parse("2026-01-01"),
                to: None,
            };
            assert_eq!(previous(open, "2026-11-26"), None);
            assert!(!open.has_previous());
            assert_eq!(previous(Period::All, "2026-11-26"), None);
            assert!(!Period::All.has_previous());
            assert!(range("2026-01-01", "2026-01-02").has_previous());
            for preset in Period::PRESETS.into_iter().filter(|p| *p != Period::All) {
                assert!(preset.has_previous());
                assert!(preset.previous_days(day("2026-11-26")).is_some());
            }
        }

        #[test]
        fn previous_bounds_are_whole_days_in_the_organisation_time_zone() {
            let london: Tz = "Europe/London".parse().expect("zone");
            let ms = |text: &str| {
                chrono::DateTime::parse_from_rfc3339(text)
                    .expect("a timestamp")
                    .timestamp_millis()
            };
            // 1–5 April 2026 (summer time) against 1–5 March (winter time).
            assert_eq!(
                Period::ThisMonth.previous_bounds(london, day("2026-04-05")),
                Some((ms("2026-03-01T00:00:00Z"), ms("2026-03-06T00:00:00Z")))
            );
            assert_eq!(
                Period::Last7Days.previous_bounds(london, day("2026-05-20")),
                Some((
                    ms("2026-05-07T00:00:00+01:00"),
                    ms("2026-05-14T00:00:00+01:00")
                ))
            );
            assert_eq!(Period::All.previous_bounds(london, day("2026-05-20")), None);
        }
    }
}

/// The channels as the URL writes them: `voice,chat`.
pub fn channels_param(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|channel| channel.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads `voice,chat`: the channels named (in the order voice, chat, email, once each) and
/// the names that are not channels.
pub(super) fn parse_channels(value: &str) -> (Vec<Channel>, Vec<String>) {
    let mut unknown = Vec::new();
    let mut named = Vec::new();
    for part in value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        match Channel::parse(&part.to_lowercase()) {
            Some(channel) => named.push(channel),
            None => unknown.push(part.to_owned()),
        }
    }
    let channels = Channel::ALL
        .into_iter()
        .filter(|channel| named.contains(channel))
        .collect();
    (channels, unknown)
}
