//! Store code of the import page: the column mapping each organisation remembers, and the
//! figures an import's summary adds to the command line's (customers touched).

use super::columns::{column_key, is_target, MappedColumn, MAX_COLUMNS};
use crate::clock::now_ms;
use crate::db::{retry_transient, Db, StoreError, StoreResult};
use crate::sql;

/// Most columns remembered per organisation; past it, those mapped longest ago are forgotten.
pub const MAX_REMEMBERED_COLUMNS: i64 = 1_000;

#[derive(sqlx::FromRow)]
struct MappingRow {
    source_key: String,
    target: String,
}

/// The organisation's remembered mapping: each column key (see [`column_key`]) and its target.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn remembered_mapping(db: &Db, org_id: i64) -> StoreResult<Vec<(String, String)>> {
    let sql = sql!(
        "SELECT source_key, target FROM import_column_mappings WHERE org_id = $1 \
         ORDER BY source_key",
        org_id,
    );
    let rows: Vec<MappingRow> = db.fetch_all(&sql, "reading the import mapping").await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.source_key, row.target))
        .collect())
}

/// Remembers what each of `columns` is read as (replacing what was remembered for the same
/// column names), in one transaction; the oldest columns are forgotten past
/// [`MAX_REMEMBERED_COLUMNS`].
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn remember_mapping(db: &Db, org_id: i64, columns: &[MappedColumn]) -> StoreResult<()> {
    if columns.len() > MAX_COLUMNS {
        return Err(StoreError::Invalid(format!(
            "A file may have at most {MAX_COLUMNS} columns."
        )));
    }
    if let Some(bad) = columns.iter().find(|column| !is_target(&column.target)) {
        return Err(StoreError::Invalid(format!(
            "`{}` is not something a column can be imported as.",
            bad.target
        )));
    }
    let keyed: Vec<(String, &str)> = columns
        .iter()
        .map(|column| (column_key(&column.source), column.target.as_str()))
        .filter(|(key, _)| !key.is_empty())
        .collect();
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        let now = now_ms();
        for (key, target) in &keyed {
            let upsert = sql!(
                "INSERT INTO import_column_mappings (org_id, source_key, target, updated_at_ms) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, source_key) DO UPDATE \
                 SET target = excluded.target, updated_at_ms = excluded.updated_at_ms",
                org_id,
                key.as_str(),
                *target,
                now,
            );
            tx.execute(&upsert, "remembering the import mapping")
                .await?;
        }
        let trim = sql!(
            "DELETE FROM import_column_mappings WHERE org_id = $1 AND source_key IN \
             (SELECT source_key FROM import_column_mappings WHERE org_id = $2 \
              ORDER BY updated_at_ms DESC, source_key LIMIT 1000000000 OFFSET $3)",
            org_id,
            org_id,
            MAX_REMEMBERED_COLUMNS,
        );
        tx.execute(&trim, "forgetting old import columns").await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// The organisation's write version now: an import's changes carry a later one.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn current_write_version(db: &Db, org_id: i64) -> StoreResult<i64> {
    let sql = sql!(
        "SELECT COALESCE(MAX(version), 0) FROM read_model_versions WHERE org_id = $1",
        org_id,
    );
    db.scalar(&sql, "reading the write version").await
}

/// Customers of the organisation changed by writes after `version`: after an import, the
/// customers it touched.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn customers_changed_since(db: &Db, org_id: i64, version: i64) -> StoreResult<i64> {
    let sql = sql!(
        "SELECT COUNT(*) FROM customers WHERE org_id = $1 AND revision > $2",
        org_id,
        version,
    );
    db.scalar(&sql, "counting the customers an import touched")
        .await
}
