//! Store code for an organisation's criteria: defining, deleting and listing them.

use super::model::{Criterion, CRITERION_KEY_RULE, MOST_CRITERIA};
use crate::db::{retry_transient, Db, IdRow, StoreError, StoreResult};
use crate::limits::{is_field_key, text_problem, MAX_IDENTIFIER_CHARS};
use crate::sql;
use crate::versions::{claim_write_version, reload_from_here};

/// Refuses a key that is not a field-like key and a label that is empty, too long or holds
/// control or look-alike characters; answers the trimmed label.
fn checked_label<'a>(key: &str, label: &'a str) -> StoreResult<&'a str> {
    if !is_field_key(key) {
        return Err(StoreError::Invalid(format!(
            "`{}` {CRITERION_KEY_RULE}",
            key.escape_debug()
        )));
    }
    let label = label.trim();
    if label.is_empty() {
        return Err(StoreError::Invalid(format!(
            "the criterion `{key}` needs a label"
        )));
    }
    match text_problem(label, MAX_IDENTIFIER_CHARS) {
        Some(problem) => Err(StoreError::Invalid(format!(
            "the criterion label {problem}"
        ))),
        None => Ok(label),
    }
}

/// Defines the organisation's criterion `key`, or relabels the one with that key (which keeps
/// its place); a new one goes after the others. Refuses a bad key or label and a criterion
/// past the [`MOST_CRITERIA`]th.
///
/// The transaction claims a write version first, so definitions of one organisation run one
/// after another (two cannot both see room for one more) and never between a writer's reading
/// the criteria and its writing scores.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn define_criterion(
    db: &Db,
    org_id: i64,
    key: &str,
    label: &str,
) -> StoreResult<Criterion> {
    let label = checked_label(key, label)?;
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        claim_write_version(&mut tx, org_id).await?;
        let others = sql!(
            "SELECT COUNT(*) FROM criteria WHERE org_id = $1 AND key <> $2",
            org_id,
            key,
        );
        let others: i64 = tx.scalar(&others, "counting criteria").await?;
        if others >= MOST_CRITERIA as i64 {
            return Err(StoreError::Invalid(format!(
                "the organisation already has {others} criteria, the most it may have \
                 ({MOST_CRITERIA}); relabel or delete one instead of adding `{key}`"
            )));
        }
        let save = sql!(
            "INSERT INTO criteria (org_id, key, label, position) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position), -1) + 1 FROM criteria WHERE org_id = $4)) \
             ON CONFLICT (org_id, key) DO UPDATE SET label = excluded.label RETURNING id",
            org_id,
            key,
            label,
            org_id,
        );
        let id: i64 = tx.scalar(&save, "saving a criterion").await?;
        tx.commit().await?;
        Ok(Criterion {
            id,
            key: key.to_owned(),
            label: label.to_owned(),
        })
    })
    .await
}

/// Deletes the organisation's criterion `key` with every conversation's score on it, in one
/// transaction; answers how many scores went, or `None` when there is no such criterion.
///
/// Like deleting a custom field it claims a write version and marks it as one to reload
/// from: the scores that disappear are not rows a reader could see as changed.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_criterion(db: &Db, org_id: i64, key: &str) -> StoreResult<Option<u64>> {
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        let version = claim_write_version(&mut tx, org_id).await?;
        let find = sql!(
            "SELECT id FROM criteria WHERE org_id = $1 AND key = $2",
            org_id,
            key
        );
        let Some(criterion) = tx
            .fetch_optional::<IdRow>(&find, "finding a criterion")
            .await?
        else {
            // Nothing changed: the claimed version is given back.
            tx.rollback().await?;
            return Ok(None);
        };
        let scores = sql!(
            "DELETE FROM conversation_criterion_scores WHERE org_id = $1 AND criterion_id = $2",
            org_id,
            criterion.id,
        );
        let scores = tx.execute(&scores, "deleting a criterion's scores").await?;
        let delete = sql!(
            "DELETE FROM criteria WHERE org_id = $1 AND id = $2",
            org_id,
            criterion.id
        );
        tx.execute(&delete, "deleting a criterion").await?;
        reload_from_here(&mut tx, org_id, version).await?;
        tx.commit().await?;
        Ok(Some(scores))
    })
    .await
}

/// The organisation's criteria in the order they were defined.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn list_criteria(db: &Db, org_id: i64) -> StoreResult<Vec<Criterion>> {
    let sql = sql!(
        "SELECT id, key, label FROM criteria WHERE org_id = $1 ORDER BY position, key",
        org_id
    );
    let rows: Vec<CriterionRow> = db.fetch_all(&sql, "listing criteria").await?;
    Ok(rows.into_iter().map(CriterionRow::into_criterion).collect())
}

#[derive(sqlx::FromRow)]
struct CriterionRow {
    id: i64,
    key: String,
    label: String,
}

impl CriterionRow {
    fn into_criterion(self) -> Criterion {
        Criterion {
            id: self.id,
            key: self.key,
            label: self.label,
        }
    }
}
