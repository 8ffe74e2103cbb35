//! Store code for saved views (see [`super::saved_views`]): each person's own named views,
//! never another person's, never another organisation's.
//!
//! Names are unique per person whatever their case: the table keeps `name_key`, the name
//! folded by [`crate::text::fold`], under a unique constraint, and lists views in its order.
//! Every write first locks the person's row in `users` (a no-op update), so that one person's
//! saves, renames and the count of their views are serialised on both backends; saving is then
//! one `INSERT … ON CONFLICT … DO UPDATE`.

use super::query::CustomerQuery;
use super::saved_views::{
    clean_view_name, saved_query_string, SavedView, MAX_SAVED_VIEWS_PER_PERSON,
};
use crate::clock::now_ms;
use crate::db::{retry_transient, Db, StoreError, StoreResult, Tx};
use crate::sql;
use crate::text::fold;

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: i64,
    name: String,
    query: String,
}

impl From<ViewRow> for SavedView {
    fn from(row: ViewRow) -> Self {
        SavedView {
            id: row.id,
            name: row.name,
            query: row.query,
        }
    }
}

/// The person's saved views, by name (case-insensitively).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn list_saved_views(db: &Db, org_id: i64, user_id: i64) -> StoreResult<Vec<SavedView>> {
    let sql = sql!(
        "SELECT id, name, query FROM saved_views WHERE org_id = $1 AND user_id = $2 \
         ORDER BY name_key, id",
        org_id,
        user_id,
    );
    let rows: Vec<ViewRow> = db.fetch_all(&sql, "listing saved views").await?;
    Ok(rows.into_iter().map(SavedView::from).collect())
}

/// Saves `query` as the person's view `name`. A name they already have (in any case) is
/// replaced: that view keeps its id and takes the new query and this spelling of the name. A
/// new name past [`MAX_SAVED_VIEWS_PER_PERSON`] is refused.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn save_view(
    db: &Db,
    org_id: i64,
    user_id: i64,
    name: &str,
    query: &CustomerQuery,
) -> StoreResult<SavedView> {
    let name = clean_view_name(name).map_err(StoreError::Invalid)?;
    let name_key = fold(&name);
    let query = saved_query_string(query);
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        if !lock_person(&mut tx, org_id, user_id).await? {
            tx.rollback().await?;
            return Err(StoreError::Invalid(
                "Only a person of the organisation can save a view in it.".to_owned(),
            ));
        }
        let others = sql!(
            "SELECT COUNT(*) FROM saved_views WHERE org_id = $1 AND user_id = $2 AND name_key <> $3",
            org_id,
            user_id,
            name_key.as_str(),
        );
        let others: i64 = tx.scalar(&others, "counting saved views").await?;
        if others >= MAX_SAVED_VIEWS_PER_PERSON as i64 {
            tx.rollback().await?;
            return Err(StoreError::Invalid(format!(
                "You already have {MAX_SAVED_VIEWS_PER_PERSON} saved views, the most one person \
                 can keep. Delete one to save “{name}”."
            )));
        }
        let now = now_ms();
        let save = sql!(
            "INSERT INTO saved_views \
             (org_id, user_id, name, name_key, query, created_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org_id, user_id, name_key) DO UPDATE SET name = excluded.name, \
             query = excluded.query, updated_at_ms = excluded.updated_at_ms \
             RETURNING id, name, query",
            org_id,
            user_id,
            name.as_str(),
            name_key.as_str(),
            query.as_str(),
            now,
            now,
        );
        let saved: Option<ViewRow> = tx.fetch_optional(&save, "saving a view").await?;
        tx.commit().await?;
        saved
            .map(SavedView::from)
            .ok_or_else(|| StoreError::internal("saving a view", "the statement returned no row"))
    })
    .await
}

/// Renames the person's view `id`; `None` when they have no such view (another person's or
/// another organisation's view is not theirs). A name they use for another of their views is
/// refused; the view's own name in another case is not.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn rename_saved_view(
    db: &Db,
    org_id: i64,
    user_id: i64,
    id: i64,
    new_name: &str,
) -> StoreResult<Option<SavedView>> {
    let name = clean_view_name(new_name).map_err(StoreError::Invalid)?;
    let name_key = fold(&name);
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        if !lock_person(&mut tx, org_id, user_id).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let taken = sql!(
            "SELECT COUNT(*) FROM saved_views \
             WHERE org_id = $1 AND user_id = $2 AND name_key = $3 AND id <> $4",
            org_id,
            user_id,
            name_key.as_str(),
            id,
        );
        let taken: i64 = tx.scalar(&taken, "checking a view name").await?;
        if taken > 0 {
            tx.rollback().await?;
            return Err(StoreError::Invalid(format!(
                "You already have a view named “{name}”."
            )));
        }
        let rename = sql!(
            "UPDATE saved_views SET name = $1, name_key = $2, updated_at_ms = $3 \
             WHERE org_id = $4 AND user_id = $5 AND id = $6 RETURNING id, name, query",
            name.as_str(),
            name_key.as_str(),
            now_ms(),
            org_id,
            user_id,
            id,
        );
        let renamed: Option<ViewRow> = tx.fetch_optional(&rename, "renaming a view").await?;
        tx.commit().await?;
        Ok(renamed.map(SavedView::from))
    })
    .await
}

/// Deletes the person's view `id`; `false` when they have no such view.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_saved_view(db: &Db, org_id: i64, user_id: i64, id: i64) -> StoreResult<bool> {
    let sql = sql!(
        "DELETE FROM saved_views WHERE org_id = $1 AND user_id = $2 AND id = $3",
        org_id,
        user_id,
        id,
    );
    Ok(db.execute(&sql, "deleting a view").await? > 0)
}

/// Locks the person's row until the transaction ends, so that their view writes run one after
/// another (a row lock on PostgreSQL; on SQLite the write lock, taken at once). `false` when the
/// organisation has no such person. Saving for one is refused: a view belongs to a person of
/// the organisation it is stored under.
async fn lock_person(tx: &mut Tx, org_id: i64, user_id: i64) -> StoreResult<bool> {
    let sql = sql!(
        "UPDATE users SET role = role WHERE org_id = $1 AND id = $2",
        org_id,
        user_id
    );
    Ok(tx.execute(&sql, "locking a person's saved views").await? > 0)
}
