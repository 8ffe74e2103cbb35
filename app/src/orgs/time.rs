//! Dates as the organisation sees them: every date on a page is shown in its IANA time zone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The UTC milliseconds at which `day` starts in `zone`: local midnight, or where a
/// daylight-saving change skips midnight, the first moment of the day that exists.
pub fn day_start_ms(day: NaiveDate, zone: Tz) -> i64 {
    (0..24)
        .find_map(|hour| {
            day.and_hms_opt(hour, 0, 0)
                .and_then(|local| zone.from_local_datetime(&local).earliest())
        })
        .map_or_else(
            || {
                day.and_hms_opt(0, 0, 0)
                    .map_or(0, |utc| utc.and_utc().timestamp_millis())
            },
            |start| start.timestamp_millis(),
        )
}

/// Parses an IANA time zone name such as `Europe/London`.
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

fn local(ms: i64, zone: Tz) -> Option<DateTime<Tz>> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|utc| utc.with_timezone(&zone))
}

/// "14 Mar 2026"
pub fn format_date(ms: i64, zone: Tz) -> String {
    local(ms, zone)
        .map(|t| t.format("%-d %b %Y").to_string())
        .unwrap_or_default()
}

/// "14 Mar 2026, 09:32"
pub fn format_date_time(ms: i64, zone: Tz) -> String {
    local(ms, zone)
        .map(|t| t.format("%-d %b %Y, %H:%M").to_string())
        .unwrap_or_default()
}

/// "March 2026"
pub fn format_month(ms: i64, zone: Tz) -> String {
    local(ms, zone)
        .map(|t| t.format("%B %Y").to_string())
        .unwrap_or_default()
}

/// "14 March 2026"
pub fn format_long_date(ms: i64, zone: Tz) -> String {
    local(ms, zone)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

/// An ISO 8601 timestamp with the zone's offset, for `<time datetime=…>`.
pub fn iso(ms: i64, zone: Tz) -> String {
    local(ms, zone).map(|t| t.to_rfc3339()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_shown_in_the_organisation_time_zone() {
        // 2026-03-14 23:30 UTC is already the 15th in Tokyo and still the 14th in New York.
        let ms = DateTime::parse_from_rfc3339("2026-03-14T23:30:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            format_date(ms, parse_time_zone("Asia/Tokyo").unwrap()),
            "15 Mar 2026"
        );
        assert_eq!(
            format_date(ms, parse_time_zone("America/New_York").unwrap()),
            "14 Mar 2026"
        );
        assert_eq!(
            format_date_time(ms, parse_time_zone("Europe/London").unwrap()),
            "14 Mar 2026, 23:30"
        );
        assert!(parse_time_zone("Mars/Olympus").is_none());
        let tokyo = parse_time_zone("Asia/Tokyo").unwrap();
        assert_eq!(format_month(ms, tokyo), "March 2026");
        assert_eq!(format_long_date(ms, tokyo), "15 March 2026");
    }
}
