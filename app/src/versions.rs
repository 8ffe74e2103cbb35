//! The write-version protocol that keeps every server's in-memory read models exact.
//!
//! Every transaction that writes customers or conversations first increments its
//! organisation's row in `read_model_versions` ([`claim_write_version`]) and stamps each
//! customer and conversation row it writes with that version (`revision`). The increment
//! locks the row until commit, so an organisation's writers run one after another and
//! versions commit in order. A reader compares the version it holds with the stored one and,
//! when behind, reads the rows whose revision is newer inside one snapshot.
//!
//! A write that takes rows away rather than changing them (a custom field deleted with its
//! values, an erasure) cannot be read as changed rows: it also records its version as the
//! organisation's `reload_version` ([`reload_from_here`]), and a reader holding an older
//! version loads the organisation afresh.
//!
//! This module sits below the features: the organisations' and the conversations' stores
//! write through it, and the Customers read model reads through it, without importing
//! each other.

use crate::db::{Db, StoreResult, Tx};
use crate::sql;

/// Claims the next write version of the organisation: the first statement of every
/// transaction that writes customers or conversations. It holds the organisation's version
/// row locked until the transaction ends.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn claim_write_version(tx: &mut Tx, org_id: i64) -> StoreResult<i64> {
    let sql = sql!(
        "INSERT INTO read_model_versions (org_id, version) VALUES ($1, 1) \
         ON CONFLICT (org_id) DO UPDATE SET version = read_model_versions.version + 1 \
         RETURNING version",
        org_id,
    );
    tx.scalar(&sql, "claiming a write version").await
}

/// Marks `version`, claimed by this transaction, as a write that held read models cannot
/// apply as changed rows: whoever holds an older version reloads the organisation from scratch.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn reload_from_here(tx: &mut Tx, org_id: i64, version: i64) -> StoreResult<()> {
    let sql = sql!(
        "UPDATE read_model_versions SET reload_version = $1 WHERE org_id = $2",
        version,
        org_id
    );
    tx.execute(&sql, "marking a version to reload from").await?;
    Ok(())
}

/// The organisation's data version as last committed (0 before its first write).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn stored_version(db: &Db, org_id: i64) -> StoreResult<i64> {
    let row: Option<VersionRow> = db
        .fetch_optional(
            &sql!(
                "SELECT version FROM read_model_versions WHERE org_id = $1",
                org_id
            ),
            "reading the data version",
        )
        .await?;
    Ok(row.map_or(0, |row| row.version))
}

/// The data version and the version a reader must reload from, inside `tx`'s snapshot.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn versions_in(tx: &mut Tx, org_id: i64) -> StoreResult<(i64, i64)> {
    let row: Option<VersionsRow> = tx
        .fetch_optional(
            &sql!(
                "SELECT version, reload_version FROM read_model_versions WHERE org_id = $1",
                org_id
            ),
            "reading the data version",
        )
        .await?;
    Ok(row.map_or((0, 0), |row| (row.version, row.reload_version)))
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
}

#[derive(sqlx::FromRow)]
struct VersionsRow {
    version: i64,
    reload_version: i64,
}
