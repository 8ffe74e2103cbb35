//! A criteria breakdown (issue 27, item 2): each criterion's average over one subject's
//! matching conversations (a customer's, or a representative's), beside the same criterion's
//! average over every matching conversation of the organisation, the criteria the subject is
//! weakest at against the organisation first. Scores are hundredths, so sums are exact; only
//! a criterion's rows with a score count (a "not applicable" row does not).

use super::model::Criterion;
use crate::orgs::model::{Band, ScoreBands};
use serde::{Deserialize, Serialize};

/// How many scores a criterion's average is over, and their sum in hundredths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionSums {
    pub scored: i64,
    pub score_sum: i64,
}

impl CriterionSums {
    /// The average in hundredths (the IEEE division both backends' figures are compared by).
    pub fn average(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.score_sum as f64 / self.scored as f64)
    }
}

/// One criterion's figures: the subject's and the organisation's under the same filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionFigures {
    pub criterion: Criterion,
    pub subject: CriterionSums,
    pub organisation: CriterionSums,
}

impl CriterionFigures {
    /// The subject's average minus the organisation's, in hundredths; `None` when the
    /// subject has no score on the criterion.
    pub fn against_organisation(&self) -> Option<f64> {
        Some(self.subject.average()? - self.organisation.average()?)
    }
}

/// Orders a breakdown (given in the criteria's own order): criteria the subject has scores
/// on, weakest against the organisation first (the subject's average minus the
/// organisation's, ascending); then those without, in the criteria's order. Equal
/// differences keep the criteria's order, so the order is the same on every call.
pub fn weakest_first(figures: &mut [CriterionFigures]) {
    figures.sort_by(
        |a, b| match (a.against_organisation(), b.against_organisation()) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        },
    );
}

/// One row of the breakdown as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionRow {
    pub key: String,
    pub label: String,
    /// One decimal ("84.3"); empty when the subject has no score on it.
    pub avg_score: String,
    pub band: Option<Band>,
    pub scored: i64,
    /// One decimal; empty when no matching conversation of the organisation has one.
    pub organisation_avg_score: String,
    pub organisation_band: Option<Band>,
}

impl CriterionRow {
    pub fn of(figures: &CriterionFigures, bands: &ScoreBands) -> CriterionRow {
        use crate::conversations::model::format_average;
        let (subject, organisation) = (figures.subject, figures.organisation);
        CriterionRow {
            key: figures.criterion.key.clone(),
            label: figures.criterion.label.clone(),
            avg_score: format_average(subject.score_sum, subject.scored),
            band: bands.band_of_average(subject.score_sum, subject.scored),
            scored: subject.scored,
            organisation_avg_score: format_average(organisation.score_sum, organisation.scored),
            organisation_band: bands.band_of_average(organisation.score_sum, organisation.scored),
        }
    }
}

/// What the breakdown section shows: its rows, weakest against the organisation first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub rows: Vec<CriterionRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(key: &str, subject: (i64, i64), organisation: (i64, i64)) -> CriterionFigures {
        CriterionFigures {
            criterion: Criterion {
                id: 0,
                key: key.to_owned(),
                label: key.to_owned(),
            },
            subject: CriterionSums {
                scored: subject.0,
                score_sum: subject.1,
            },
            organisation: CriterionSums {
                scored: organisation.0,
                score_sum: organisation.1,
            },
        }
    }

    #[test]
    fn the_weakest_against_the_organisation_come_first_and_the_unscored_last() {
        let mut rows = vec![
            figures("unscored", (0, 0), (4, 30_000)),
            figures("strong", (2, 18_000), (4, 28_000)),
            figures("weak", (1, 5_000), (4, 30_000)),
            figures("level_a", (1, 7_000), (2, 14_000)),
            figures("level_b", (3, 21_000), (3, 21_000)),
            figures("nobody", (0, 0), (0, 0)),
        ];
        weakest_first(&mut rows);
        let keys: Vec<&str> = rows.iter().map(|r| r.criterion.key.as_str()).collect();
        assert_eq!(
            keys,
            ["weak", "level_a", "level_b", "strong", "unscored", "nobody"]
        );
    }

    #[test]
    fn a_row_shows_averages_with_one_decimal_and_their_bands() {
        let bands = ScoreBands::default();
        let row = CriterionRow::of(&figures("greeting", (3, 17_990), (4, 32_000)), &bands);
        assert_eq!(row.avg_score, "60.0");
        assert_eq!(row.band, Some(Band::Medium));
        assert_eq!(row.scored, 3);
        assert_eq!(row.organisation_avg_score, "80.0");
        assert_eq!(row.organisation_band, Some(Band::High));
        let empty = CriterionRow::of(&figures("greeting", (0, 0), (0, 0)), &bands);
        assert_eq!((empty.avg_score.as_str(), empty.band), ("", None));
    }
}
