use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    Text,
    Select,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Select => "select",
        }
    }

    pub fn parse(value: &str) -> Option<FieldKind> {
        match value {
            "text" => Some(FieldKind::Text),
            "select" => Some(FieldKind::Select),
            _ => None,
        }
    }
}

/// A conversation custom field of an organisation, as the filters need it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    /// The choices of a select field, in their defined order; empty for a text field.
    pub options: Vec<String>,
}

impl CustomField {
    /// Whether a filter on this field with `value` can be applied: any text for a text field,
    /// one of the choices for a select field. A filter that could not be shown on the page
    /// must not narrow the results either.
    pub fn accepts_filter(&self, value: &str) -> bool {
        match self.kind {
            FieldKind::Text => true,
            FieldKind::Select => self.options.iter().any(|option| option == value),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Manager,
    Representative,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Representative => "representative",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "representative" => Some(Role::Representative),
            _ => None,
        }
    }
}

/// Where an organisation's scores change band, in hundredths of a point (scores are stored
/// that way): below `low` is Low, from `low` up to `high` is Medium, `high` and above is High.
/// The default is below 60, 60 to 80, 80 and above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoreBands {
    pub low: i64,
    pub high: i64,
}

impl Default for ScoreBands {
    fn default() -> Self {
        ScoreBands {
            low: 6_000,
            high: 8_000,
        }
    }
}

/// A score's band. Shown by colour and by a shape and a word, so colour is never the only sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Band {
    Low,
    Medium,
    High,
}

impl Band {
    pub const ALL: [Band; 3] = [Band::Low, Band::Medium, Band::High];

    pub fn name(self) -> &'static str {
        match self {
            Band::Low => "Low",
            Band::Medium => "Medium",
            Band::High => "High",
        }
    }

    /// The class suffix the stylesheet colours.
    pub fn class(self) -> &'static str {
        match self {
            Band::Low => "band-low",
            Band::Medium => "band-medium",
            Band::High => "band-high",
        }
    }

    /// A shape that tells the bands apart without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Band::Low => "▼",
            Band::Medium => "◆",
            Band::High => "▲",
        }
    }
}

/// Points (0 to 100, up to two decimals) as stored hundredths.
pub fn points_to_hundredths(points: f64) -> Option<i64> {
    (points.is_finite() && (0.0..=100.0).contains(&points)).then(|| (points * 100.0).round() as i64)
}

impl ScoreBands {
    /// Bands from their two edges in points; refuses edges outside 0–100 or out of order.
    pub fn from_points(low: f64, high: f64) -> Result<ScoreBands, String> {
        let (Some(low), Some(high)) = (points_to_hundredths(low), points_to_hundredths(high))
        else {
            return Err("score band edges are points from 0 to 100".to_owned());
        };
        ScoreBands::new(low, high)
    }

    /// Bands from their two edges in hundredths.
    pub fn new(low: i64, high: i64) -> Result<ScoreBands, String> {
        if !(0..=10_000).contains(&low) || !(0..=10_000).contains(&high) {
            return Err("score band edges are points from 0 to 100".to_owned());
        }
        if low >= high {
            return Err(format!(
                "the lower band edge ({}) must be below the upper one ({})",
                crate::conversations::model::format_score(low),
                crate::conversations::model::format_score(high)
            ));
        }
        Ok(ScoreBands { low, high })
    }

    pub fn band(&self, hundredths: i64) -> Band {
        if hundredths < self.low {
            Band::Low
        } else if hundredths < self.high {
            Band::Medium
        } else {
            Band::High
        }
    }

    /// The band of an average shown with one decimal ("79.96" shows as "80.0", and is High),
    /// so the shape always agrees with the number beside it.
    pub fn band_of_average(&self, sum_hundredths: i64, count: i64) -> Option<Band> {
        (count > 0).then(|| {
            let tenths = (sum_hundredths as f64 / count as f64 / 10.0).round() as i64;
            self.band(tenths * 10)
        })
    }

    /// What a band covers, in words: "Below 60", "60 to 80", "80 and above".
    pub fn describe(&self, band: Band) -> String {
        use crate::conversations::model::format_score;
        match band {
            Band::Low => format!("Below {}", format_score(self.low)),
            Band::Medium => format!("{} to {}", format_score(self.low), format_score(self.high)),
            Band::High => format!("{} and above", format_score(self.high)),
        }
    }
}

#[cfg(test)]
mod band_tests {
    use super::*;

    #[test]
    fn scores_fall_into_the_default_bands_at_their_edges() {
        let bands = ScoreBands::default();
        assert_eq!(bands.band(5_999), Band::Low);
        assert_eq!(bands.band(6_000), Band::Medium);
        assert_eq!(bands.band(7_999), Band::Medium);
        assert_eq!(bands.band(8_000), Band::High);
        assert_eq!(bands.describe(Band::Low), "Below 60");
        assert_eq!(bands.describe(Band::Medium), "60 to 80");
        assert_eq!(bands.describe(Band::High), "80 and above");
    }

    #[test]
    fn an_average_takes_the_band_of_the_number_shown() {
        let bands = ScoreBands::default();
        // 79.96 shows as 80.0.
        assert_eq!(bands.band_of_average(7_996 * 3, 3), Some(Band::High));
        assert_eq!(bands.band_of_average(7_940 * 2, 2), Some(Band::Medium));
        assert_eq!(bands.band_of_average(0, 0), None);
    }

    #[test]
    fn band_edges_must_be_in_range_and_in_order() {
        assert_eq!(
            ScoreBands::from_points(50.0, 75.5),
            Ok(ScoreBands {
                low: 5_000,
                high: 7_550
            })
        );
        assert!(ScoreBands::from_points(80.0, 60.0).is_err());
        assert!(ScoreBands::from_points(70.0, 70.0).is_err());
        assert!(ScoreBands::from_points(-1.0, 60.0).is_err());
        assert!(ScoreBands::from_points(60.0, 101.0).is_err());
        assert!(ScoreBands::from_points(f64::NAN, 60.0).is_err());
    }
}
