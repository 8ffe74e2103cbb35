//! The criterion scores of an import's bulk write: staged beside the rows (`COPY` on
//! PostgreSQL, multi-row inserts on SQLite) and compared as one text per conversation, like
//! field values (see [`super::bulk_store`]).

use super::store::NewConversation;
use crate::db::{Backend, Sql, StoreResult, Tx};

/// Separates a criterion's key from its score, and one criterion from the next, in the text
/// a conversation's scores are compared by (keys are lower-case letters, digits and `_`).
pub(super) const SCORE_KEY_END: &str = "\u{1f}";
pub(super) const SCORE_END: &str = "\u{1e}";
/// A not-applicable score in that text (scores are written as hundredths, digits only).
pub(super) const NOT_APPLICABLE: &str = "n/a";

/// Staged scores per insert (3 values each).
const SCORES_PER_INSERT: usize = 1_000;

pub(super) const CREATE_SCORES_SQLITE: &str = "CREATE TEMP TABLE import_scores (
    line INTEGER NOT NULL,
    criterion_key TEXT NOT NULL,
    score_hundredths BIGINT
)";

pub(super) const CREATE_SCORES_POSTGRES: &str = r#"CREATE TEMP TABLE import_scores (
    line BIGINT NOT NULL,
    criterion_key TEXT COLLATE "C" NOT NULL,
    score_hundredths BIGINT
)"#;

const COPY_SCORES: &str = "COPY import_scores (line, criterion_key, score_hundredths) FROM STDIN";

/// A conversation's scores as compared: sorted by key, each `key SCORE_KEY_END score` (hundredths,
/// or [`NOT_APPLICABLE`]), joined by `SCORE_END`. The bulk write builds the same text from
/// stored scores.
pub(super) fn scores_text(conversation: &NewConversation) -> String {
    let mut scores: Vec<&(String, Option<i64>)> = conversation.criteria.iter().collect();
    scores.sort();
    let mut text = String::new();
    for (n, (key, score)) in scores.into_iter().enumerate() {
        if n > 0 {
            text.push_str(SCORE_END);
        }
        text.push_str(key);
        text.push_str(SCORE_KEY_END);
        match score {
            Some(score) => text.push_str(&score.to_string()),
            None => text.push_str(NOT_APPLICABLE),
        }
    }
    text
}

/// Stages the chunk's criterion scores, each with its line: through `COPY` when `copy`.
pub(super) async fn stage_scores(
    tx: &mut Tx,
    lines: &[u64],
    conversations: &[NewConversation],
    copy: bool,
) -> StoreResult<()> {
    let scores: Vec<(i64, &str, Option<i64>)> = lines
        .iter()
        .zip(conversations)
        .flat_map(|(line, conversation)| {
            conversation
                .criteria
                .iter()
                .map(move |(key, score)| (*line as i64, key.as_str(), *score))
        })
        .collect();
    if scores.is_empty() {
        return Ok(());
    }
    if copy && tx.backend() == Backend::Postgres {
        // Keys are field-like and scores digits: nothing COPY reads specially.
        let mut text = String::with_capacity(scores.len() * 24);
        for (line, key, score) in &scores {
            let score = score.map_or_else(|| "\\N".to_owned(), |score| score.to_string());
            text.push_str(&format!("{line}\t{key}\t{score}\n"));
        }
        tx.copy_in(
            COPY_SCORES,
            text.as_bytes(),
            "staging imported criterion scores",
        )
        .await?;
        return Ok(());
    }
    for part in scores.chunks(SCORES_PER_INSERT) {
        let mut sql = Sql::new("INSERT INTO import_scores (line, criterion_key, score_hundredths)");
        sql.push_values(part, |row, (line, key, score)| {
            row.bind(*line).bind(*key).bind(*score);
        });
        tx.execute(&sql, "staging imported criterion scores")
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::model::ConversationKind;

    #[test]
    fn scores_compare_in_key_order_with_not_applicable_spelt_out() {
        let with = |criteria: &[(&str, Option<i64>)]| NewConversation {
            external_id: "c1".to_owned(),
            customer: "ann@example.com".to_owned(),
            customer_name: None,
            representative: "rep@acme.example".to_owned(),
            representative_name: None,
            title: "Hello".to_owned(),
            kind: ConversationKind::Chat,
            occurred_at_ms: 5,
            score_hundredths: None,
            fields: Vec::new(),
            criteria: criteria
                .iter()
                .map(|(key, score)| ((*key).to_owned(), *score))
                .collect(),
        };
        let one = with(&[("greeting", Some(8_050)), ("empathy", None)]);
        let other = with(&[("empathy", None), ("greeting", Some(8_050))]);
        assert_eq!(
            scores_text(&one),
            "empathy\u{1f}n/a\u{1e}greeting\u{1f}8050"
        );
        assert_eq!(scores_text(&one), scores_text(&other));
        assert_ne!(
            scores_text(&one),
            scores_text(&with(&[("greeting", Some(8_050))]))
        );
        assert_eq!(scores_text(&with(&[])), "");
    }
}
