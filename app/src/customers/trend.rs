//! The score trend of an expanded row: each matching scored conversation as a point, a moving
//! average, and a sentence that says what the chart shows for people who cannot see it.

use crate::orgs::model::ScoreBands;
use serde::{Deserialize, Serialize};

/// Conversations averaged by each point of the moving-average line (the point and the ones
/// before it).
pub const TREND_WINDOW: usize = 5;
/// Most conversations one chart draws: the latest ones. A customer with more says so.
pub const MAX_TREND_POINTS: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// When the conversation took place, UTC milliseconds.
    pub at_ms: i64,
    /// Its score in hundredths of a point.
    pub score: i64,
}

/// What the chart draws, with its words already in the organisation's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trend {
    /// Oldest first; at most [`MAX_TREND_POINTS`], the latest ones.
    pub points: Vec<TrendPoint>,
    /// Every matching scored conversation, drawn or not.
    pub total: i64,
    pub bands: ScoreBands,
    /// The dates of the first and last point drawn ("3 Mar 2026").
    pub first_label: String,
    pub last_label: String,
    /// One sentence: "Average rose from 71 to 84 between March and October 2026."
    pub summary: String,
}

/// The trailing moving average of each point, in points (not hundredths): the mean of the
/// point and up to `window - 1` before it.
pub fn moving_average(points: &[TrendPoint], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut sum = 0_i64;
    points
        .iter()
        .enumerate()
        .map(|(index, point)| {
            sum += point.score;
            if index >= window {
                sum -= points[index - window].score;
            }
            let count = (index + 1).min(window);
            sum as f64 / count as f64 / 100.0
        })
        .collect()
}

fn mean_points(points: &[TrendPoint]) -> f64 {
    points.iter().map(|point| point.score).sum::<i64>() as f64 / points.len().max(1) as f64 / 100.0
}

/// The chart in one sentence. `month_of` and `day_of` name a point's month ("March 2026")
/// and day ("3 March 2026") in the organisation's time zone. Averages compare the first and
/// last few conversations (up to [`TREND_WINDOW`] each, never overlapping), so one outlier
/// at either end does not decide the direction; a change under one point reads as held.
pub fn summary(
    points: &[TrendPoint],
    month_of: impl Fn(i64) -> String,
    day_of: impl Fn(i64) -> String,
) -> String {
    use crate::conversations::model::format_score;
    match points {
        [] => "No scored conversations match this view.".to_owned(),
        [only] => format!(
            "One scored conversation: {} on {}.",
            format_score(only.score),
            day_of(only.at_ms)
        ),
        [first, .., last] => {
            let take = (points.len() / 2).clamp(1, TREND_WINDOW);
            let start = mean_points(&points[..take]);
            let end = mean_points(&points[points.len() - take..]);
            let (from_month, to_month) = (month_of(first.at_ms), month_of(last.at_ms));
            let when = if from_month == to_month {
                format!("in {to_month}")
            } else {
                format!(
                    "between {} and {to_month}",
                    without_shared_year(&from_month, &to_month)
                )
            };
            let count = points.len();
            if (end - start).abs() < 1.0 {
                format!("Average held at about {end:.0} over {count} conversations {when}.")
            } else {
                let verb = if end > start { "rose" } else { "fell" };
                format!(
                    "Average {verb} from {start:.0} to {end:.0} over {count} conversations {when}."
                )
            }
        }
    }
}

/// "March 2026" before "October 2026" reads "March"; different years keep both.
fn without_shared_year<'a>(from: &'a str, to: &str) -> &'a str {
    match (from.rsplit_once(' '), to.rsplit_once(' ')) {
        (Some((month, from_year)), Some((_, to_year))) if from_year == to_year => month,
        _ => from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(scores: &[i64]) -> Vec<TrendPoint> {
        scores
            .iter()
            .enumerate()
            .map(|(index, score)| TrendPoint {
                at_ms: index as i64,
                score: score * 100,
            })
            .collect()
    }

    fn month(ms: i64) -> String {
        [
            "March 2026",
            "April 2026",
            "May 2026",
            "October 2026",
            "January 2027",
        ][(ms as usize).min(4)]
        .to_owned()
    }

    fn day(ms: i64) -> String {
        format!("{} March 2026", ms + 3)
    }

    #[test]
    fn the_moving_average_trails_over_its_window() {
        let average = moving_average(&points(&[60, 80, 70, 90]), 2);
        assert_eq!(average, vec![60.0, 70.0, 75.0, 80.0]);
        let whole = moving_average(&points(&[60, 80, 70]), 5);
        assert_eq!(whole, vec![60.0, 70.0, 70.0]);
        assert!(moving_average(&[], 5).is_empty());
    }

    #[test]
    fn the_sentence_says_which_way_the_average_went_and_when() {
        assert_eq!(
            summary(&points(&[70, 72, 84, 84]), month, day),
            "Average rose from 71 to 84 over 4 conversations between March and October 2026."
        );
        assert_eq!(
            summary(&points(&[90, 60]), month, day),
            "Average fell from 90 to 60 over 2 conversations between March and April 2026."
        );
        assert_eq!(
            summary(
                &points(&[80, 80, 81, 80, 80]),
                |_| "May 2026".to_owned(),
                day
            ),
            "Average held at about 80 over 5 conversations in May 2026."
        );
        let across_years = summary(&points(&[50, 60, 70, 80, 90]), month, day);
        assert!(
            across_years.ends_with("between March 2026 and January 2027."),
            "{across_years}"
        );
        assert_eq!(
            summary(&points(&[84]), month, day),
            "One scored conversation: 84 on 3 March 2026."
        );
        assert_eq!(
            summary(&[], month, day),
            "No scored conversations match this view."
        );
    }
}
