//! Conversations' scores on criteria: what the conversations' write path stores beside a
//! conversation's field values, and what the conversation page reads back. A row with a NULL
//! score means "not applicable"; no row means the criterion was not scored.

use super::model::CriterionScore;
use crate::db::{Db, Sql, StoreError, StoreResult, Tx};
use crate::sql;
use std::collections::HashMap;

/// Rows per multi-row statement, as in the conversations' write path.
const ROWS_PER_STATEMENT: usize = 100;

/// One conversation's score on one criterion as stored: hundredths, `None` for not applicable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct StoredScore {
    pub criterion_id: i64,
    pub score_hundredths: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ScoreOfConversation {
    conversation_id: i64,
    criterion_id: i64,
    score_hundredths: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct CriterionIdRow {
    id: i64,
    key: String,
}

/// The organisation's criterion ids by key, read inside the writing transaction (after its
/// write version is claimed, so no criterion is deleted meanwhile).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn criterion_ids(tx: &mut Tx, org_id: i64) -> StoreResult<HashMap<String, i64>> {
    let sql = sql!("SELECT id, key FROM criteria WHERE org_id = $1", org_id);
    let rows: Vec<CriterionIdRow> = tx.fetch_all(&sql, "listing criteria").await?;
    Ok(rows.into_iter().map(|row| (row.key, row.id)).collect())
}

/// A conversation's criterion scores (key, hundredths or `None` for not applicable) as stored
/// rows, sorted; an unknown key, a key given twice and a score outside 0..=10000 are refused.
pub fn stored_scores(
    external_id: &str,
    scores: &[(String, Option<i64>)],
    criteria: &HashMap<String, i64>,
) -> StoreResult<Vec<StoredScore>> {
    let refuse = |problem: String| {
        Err(StoreError::Invalid(format!(
            "conversation `{external_id}`: {problem}"
        )))
    };
    let mut stored = Vec::with_capacity(scores.len());
    for (key, score) in scores {
        let Some(criterion_id) = criteria.get(key) else {
            return refuse(format!("there is no criterion `{key}`"));
        };
        if score.is_some_and(|score| !(0..=10_000).contains(&score)) {
            return refuse(format!(
                "the score on the criterion `{key}` must be between 0 and 100"
            ));
        }
        stored.push(StoredScore {
            criterion_id: *criterion_id,
            score_hundredths: *score,
        });
    }
    stored.sort();
    if stored
        .windows(2)
        .any(|pair| pair[0].criterion_id == pair[1].criterion_id)
    {
        return refuse("a criterion is given more than once".to_owned());
    }
    Ok(stored)
}

/// The stored scores of these conversations, by conversation id, each list sorted.
pub async fn scores_of(
    tx: &mut Tx,
    org_id: i64,
    conversation_ids: impl Iterator<Item = i64>,
) -> StoreResult<HashMap<i64, Vec<StoredScore>>> {
    let mut sql = Sql::new(
        "SELECT conversation_id, criterion_id, score_hundredths \
         FROM conversation_criterion_scores WHERE org_id = $1 AND conversation_id IN (",
    );
    sql.arg(org_id).push_list(conversation_ids).push(")");
    let rows: Vec<ScoreOfConversation> = tx.fetch_all(&sql, "reading criterion scores").await?;
    let mut scores: HashMap<i64, Vec<StoredScore>> = HashMap::new();
    for row in rows {
        scores
            .entry(row.conversation_id)
            .or_default()
            .push(StoredScore {
                criterion_id: row.criterion_id,
                score_hundredths: row.score_hundredths,
            });
    }
    for list in scores.values_mut() {
        list.sort();
    }
    Ok(scores)
}

/// Inserts scores, each with its conversation's id.
pub async fn insert_scores(
    tx: &mut Tx,
    org_id: i64,
    scores: &[(i64, &StoredScore)],
) -> StoreResult<()> {
    for chunk in scores.chunks(ROWS_PER_STATEMENT) {
        let mut sql = Sql::new(
            "INSERT INTO conversation_criterion_scores \
             (org_id, conversation_id, criterion_id, score_hundredths)",
        );
        sql.push_values(chunk, |row, (conversation_id, score)| {
            row.bind(org_id)
                .bind(*conversation_id)
                .bind(score.criterion_id)
                .bind(score.score_hundredths);
        });
        tx.execute(&sql, "saving criterion scores").await?;
    }
    Ok(())
}

/// Replaces a conversation's scores with `scores`.
pub async fn replace_scores(
    tx: &mut Tx,
    org_id: i64,
    conversation_id: i64,
    scores: &[StoredScore],
) -> StoreResult<()> {
    let clear = sql!(
        "DELETE FROM conversation_criterion_scores WHERE org_id = $1 AND conversation_id = $2",
        org_id,
        conversation_id,
    );
    tx.execute(&clear, "replacing criterion scores").await?;
    let rows: Vec<(i64, &StoredScore)> = scores
        .iter()
        .map(|score| (conversation_id, score))
        .collect();
    insert_scores(tx, org_id, &rows).await
}

#[derive(sqlx::FromRow)]
struct ScoreRecord {
    key: String,
    label: String,
    score_hundredths: Option<i64>,
}

/// One conversation's criterion scores, in the criteria's order, for the conversation page.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn conversation_scores(
    db: &Db,
    org_id: i64,
    conversation_id: i64,
) -> StoreResult<Vec<CriterionScore>> {
    let sql = sql!(
        "SELECT c.key, c.label, s.score_hundredths FROM conversation_criterion_scores s \
         JOIN criteria c ON c.id = s.criterion_id AND c.org_id = s.org_id \
         WHERE s.org_id = $1 AND s.conversation_id = $2 \
         ORDER BY c.position, c.key",
        org_id,
        conversation_id,
    );
    let rows: Vec<ScoreRecord> = db.fetch_all(&sql, "reading criterion scores").await?;
    Ok(rows
        .into_iter()
        .map(|row| CriterionScore {
            key: row.key,
            label: row.label,
            score_hundredths: row.score_hundredths,
        })
        .collect())
}
