//! How many scored conversations were written since a data version.

use super::MOST_COUNTED;
use crate::db::{Db, StoreResult};
use crate::sql;

/// The scored conversations of the organisation written (added or changed) after `since`,
/// up to [`MOST_COUNTED`] + 1. Each write stamps its rows with its version (`revision`,
/// `crate::versions`), so this reads the rows the conversations' revision index finds after
/// `since`: as cheap as what arrived, whatever the organisation's size.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn scored_written_since(db: &Db, org_id: i64, since: i64) -> StoreResult<i64> {
    let sql = sql!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM conversations \
         WHERE org_id = $1 AND revision > $2 AND score_hundredths IS NOT NULL \
         LIMIT $3) AS written",
        org_id,
        since,
        MOST_COUNTED + 1,
    );
    db.scalar(
        &sql,
        "counting scored conversations written since a version",
    )
    .await
}
