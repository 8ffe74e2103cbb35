//! Criterion scores as imports read them: the NDJSON (and API) `criteria` object, the CSV
//! `criterion.<key>` cells, the row check, and the check against the organisation's criteria.

use super::checks::{shown, Collector};
use super::json_items::{drain_seq, not_an_object_visits, Loose};
use crate::conversations::store::NewConversation;
use crate::criteria::model::CRITERION_KEY_RULE;
use crate::db::{StoreResult, Tx};
use crate::limits::is_field_key;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// The CSV column prefix of a criterion: `criterion.<key>`.
pub const CSV_CRITERION_PREFIX: &str = "criterion.";

/// The CSV cell that says a criterion did not apply (any case); an empty cell is not scored.
pub const NOT_APPLICABLE_CELL: &str = "n/a";

/// How to define a criterion, for the error that refuses an unknown one.
const DEFINE_CRITERION_COMMAND: &str = "server criterion define --org SLUG --key KEY --label LABEL";

/// A criterion's score as read, before it is checked.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum RawScore {
    NotApplicable,
    Points(f64),
    /// Not a number, as a message shows it.
    NotANumber(String),
}

/// A CSV cell of a `criterion.<key>` column: `None` when empty (not scored).
pub(super) fn read_cell(cell: &str) -> Option<RawScore> {
    let cell = cell.trim();
    if cell.is_empty() {
        None
    } else if cell.eq_ignore_ascii_case(NOT_APPLICABLE_CELL) {
        Some(RawScore::NotApplicable)
    } else {
        Some(match cell.parse::<f64>() {
            Ok(points) => RawScore::Points(points),
            Err(_) => RawScore::NotANumber(format!("`{}`", shown(cell))),
        })
    }
}

/// Checks a row's criterion scores: keys like field keys, scores numbers from 0 to 100 (in
/// hundredths) or not applicable. Reports each problem on `line` as `criteria.<key>`.
pub(super) fn check_scores(
    line: u64,
    raw: Vec<(String, RawScore)>,
    errors: &mut Collector,
) -> Vec<(String, Option<i64>)> {
    let mut scores = Vec::with_capacity(raw.len());
    for (key, score) in raw {
        let at = format!("criteria.{}", shown(&key));
        if !is_field_key(&key) {
            errors.add(line, Some(&at), CRITERION_KEY_RULE);
            continue;
        }
        match score {
            RawScore::NotApplicable => scores.push((key, None)),
            RawScore::NotANumber(shown_as) => errors.add(
                line,
                Some(&at),
                format!(
                    "must be a number from 0 to 100, or null for not applicable, not {shown_as}"
                ),
            ),
            RawScore::Points(points) if !points.is_finite() || !(0.0..=100.0).contains(&points) => {
                errors.add(
                    line,
                    Some(&at),
                    format!("{points} is not between 0 and 100"),
                )
            }
            RawScore::Points(points) => scores.push((key, Some((points * 100.0).round() as i64))),
        }
    }
    scores
}

/// A conversation's criterion scores sorted, for comparing two rows.
pub(super) fn sorted_scores(conversation: &NewConversation) -> Vec<(String, Option<i64>)> {
    let mut scores = conversation.criteria.clone();
    scores.sort();
    scores
}

/// The organisation's criterion keys, read inside the import's transaction after its write
/// version is claimed (so none is deleted before it ends).
pub(super) struct KnownCriteria {
    keys: HashMap<String, i64>,
}

impl KnownCriteria {
    pub(super) async fn read(tx: &mut Tx, org_id: i64) -> StoreResult<KnownCriteria> {
        Ok(KnownCriteria {
            keys: crate::criteria::scores::criterion_ids(tx, org_id).await?,
        })
    }

    /// Reports each criterion the organisation has not defined (criteria are never defined
    /// by an import, unlike fields: a score on a misspelt criterion would be lost silently).
    pub(super) fn check(&self, line: u64, conversation: &NewConversation, errors: &mut Collector) {
        for (key, _) in &conversation.criteria {
            if !self.keys.contains_key(key) {
                errors.add(
                    line,
                    Some(&format!("criteria.{key}")),
                    format!(
                        "the organisation has no criterion `{key}`; define it first with \
                         `{DEFINE_CRITERION_COMMAND}`"
                    ),
                );
            }
        }
    }
}

/// The `criteria` of a JSON conversation: key to score or null (a null `criteria` is none).
pub(super) struct CriteriaObject<'a> {
    pub(super) line: u64,
    pub(super) errors: &'a mut Collector,
}

impl CriteriaObject<'_> {
    fn not_an_object(self) -> Vec<(String, RawScore)> {
        self.errors.add(
            self.line,
            Some("criteria"),
            "must be an object of criterion key to a score from 0 to 100 or null",
        );
        Vec::new()
    }
}

impl<'de> DeserializeSeed<'de> for CriteriaObject<'_> {
    type Value = Vec<(String, RawScore)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CriteriaObject<'_> {
    type Value = Vec<(String, RawScore)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of criterion key to score")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut scores: Vec<(String, RawScore)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let score = match map.next_value::<Loose>()? {
                Loose::Null => RawScore::NotApplicable,
                Loose::Number(points, _) => RawScore::Points(points),
                // As JSON writes it, quotes and all: `"80"` is not a number.
                Loose::Text(text) => {
                    RawScore::NotANumber(serde_json::to_string(&text).unwrap_or(text))
                }
                Loose::Other(described) => RawScore::NotANumber(described),
            };
            // A key given twice keeps its last score.
            match scores.iter_mut().find(|(known, _)| *known == key) {
                Some(known) => known.1 = score,
                None => scores.push((key, score)),
            }
        }
        Ok(scores)
    }

    not_an_object_visits!();
}
