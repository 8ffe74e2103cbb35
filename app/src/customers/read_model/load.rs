//! Reading an organisation's facts from the database: a first load, a reload after rows were
//! taken away, or the rows written since the version held. Also what the holder remembers
//! in the database: which organisations were questioned lately (to warm them after a
//! restart), and how large an organisation is before it is loaded.

use super::columns::Facts;
use crate::db::{Db, StoreResult, Tx};
use crate::sql;

#[derive(sqlx::FromRow)]
pub(super) struct CustomerFact {
    pub(super) id: i64,
    pub(super) identifier: String,
    pub(super) display_name: Option<String>,
    pub(super) search_text: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct ConversationFact {
    pub(super) id: i64,
    pub(super) customer_id: i64,
    pub(super) representative_id: i64,
    /// The channel as its column code, resolved by the database (no text per row).
    pub(super) kind_code: i64,
    pub(super) occurred_at_ms: i64,
    pub(super) score_hundredths: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(super) struct ValueFact {
    pub(super) conversation_id: i64,
    pub(super) field_id: i64,
    pub(super) value: String,
}

/// What a load read: new columns, or the rows to apply to the held ones.
pub(super) enum Change {
    Replace(Box<Facts>),
    Apply(Delta),
}

pub(super) struct Delta {
    pub(super) version: i64,
    pub(super) customers: Vec<CustomerFact>,
    pub(super) conversations: Vec<ConversationFact>,
    pub(super) values: Vec<ValueFact>,
}

impl Facts {
    pub(super) fn apply(&mut self, delta: Delta) {
        for row in delta.customers {
            self.put_customer(row);
        }
        for row in delta.conversations {
            self.put_conversation(row);
        }
        for row in delta.values {
            self.put_value(row);
        }
        self.finish(delta.version);
    }
}

/// The fewest changed conversations read as a fresh load rather than as rows to apply; a
/// larger change is applied as rows while it is under half of what is held.
const SMALLEST_RELOAD: i64 = 20_000;

/// The channel's column code, in SQL: the same codes as `columns::kind_code`.
const KIND_CODE: &str =
    "CAST(CASE kind WHEN 'voice' THEN 0 WHEN 'chat' THEN 1 WHEN 'email' THEN 2 ELSE 3 END AS BIGINT)";

/// Reads what changed since the `held` version (of `held_conversations` conversations)
/// inside one snapshot, with the version that snapshot holds. Changes are read as rows to
/// apply; a first load, a write since the held version that took rows away, or a change as
/// large as what is held are streamed into new columns instead.
pub(super) async fn load(
    db: &Db,
    org_id: i64,
    held: Option<i64>,
    held_conversations: usize,
) -> StoreResult<Change> {
    let mut tx = db.begin_snapshot().await?;
    let (version, reload_version) = crate::versions::versions_in(&mut tx, org_id).await?;
    let since = match held {
        // Rows were taken away since the held version: only a fresh load sees that.
        Some(held) if held < reload_version => None,
        None => None,
        Some(held) => {
            let count = sql!(
                "SELECT COUNT(*) FROM conversations WHERE org_id = $1 AND revision > $2",
                org_id,
                held,
            );
            let changed: i64 = tx.scalar(&count, "counting changed conversations").await?;
            let most = SMALLEST_RELOAD.max(held_conversations as i64 / 2);
            (changed <= most).then_some(held)
        }
    };
    let change = match since {
        Some(since) => Change::Apply(read_delta(&mut tx, org_id, since, version).await?),
        None => Change::Replace(Box::new(read_all(&mut tx, org_id, version).await?)),
    };
    tx.rollback().await?;
    Ok(change)
}

fn customers_since(org_id: i64, revision: i64) -> crate::db::Sql {
    sql!(
        "SELECT id, identifier, display_name, search_text FROM customers \
         WHERE org_id = $1 AND revision > $2",
        org_id,
        revision,
    )
}

fn conversations_since(org_id: i64, revision: i64) -> crate::db::Sql {
    let mut sql = crate::db::Sql::new("SELECT id, customer_id, representative_id, ");
    sql.push(KIND_CODE).push(
        " AS kind_code, occurred_at_ms, score_hundredths \
         FROM conversations WHERE org_id = ",
    );
    sql.bind(org_id).push(" AND revision > ").bind(revision);
    sql
}

async fn read_delta(tx: &mut Tx, org_id: i64, since: i64, version: i64) -> StoreResult<Delta> {
    let values = sql!(
        "SELECT fv.conversation_id, fv.field_id, fv.value FROM conversations v \
         JOIN conversation_field_values fv \
         ON fv.conversation_id = v.id AND fv.org_id = v.org_id \
         WHERE v.org_id = $1 AND v.revision > $2",
        org_id,
        since,
    );
    Ok(Delta {
        version,
        customers: tx
            .fetch_all(&customers_since(org_id, since), "reading changed customers")
            .await?,
        conversations: tx
            .fetch_all(
                &conversations_since(org_id, since),
                "reading changed conversations",
            )
            .await?,
        values: tx
            .fetch_all(&values, "reading changed field values")
            .await?,
    })
}

async fn read_all(tx: &mut Tx, org_id: i64, version: i64) -> StoreResult<Facts> {
    let mut facts = Facts::default();
    tx.for_each_row(
        &customers_since(org_id, -1),
        "reading customers",
        |row: CustomerFact| facts.put_customer(row),
    )
    .await?;
    tx.for_each_row(
        &conversations_since(org_id, -1),
        "reading conversations",
        |row| facts.put_conversation(row),
    )
    .await?;
    let values = sql!(
        "SELECT conversation_id, field_id, value FROM conversation_field_values \
         WHERE org_id = $1",
        org_id,
    );
    tx.for_each_row(&values, "reading field values", |row| facts.put_value(row))
        .await?;
    facts.finish(version);
    facts.shrink();
    Ok(facts)
}

/// Rows of an organisation, to tell how large its columns would be before loading them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub(super) struct Size {
    pub(super) customers: i64,
    pub(super) conversations: i64,
    pub(super) values: i64,
}

impl Size {
    /// Bytes the columns of this many rows take, with the caches a first question builds
    /// (measured on the benchmark's datasets, rounded up).
    pub(super) fn estimated_bytes(self) -> usize {
        let bytes = self.customers * 200 + self.conversations * 32 + self.values * 6;
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }
}

pub(super) async fn size(db: &Db, org_id: i64) -> StoreResult<Size> {
    let sql = sql!(
        "SELECT (SELECT COUNT(*) FROM customers WHERE org_id = $1) AS customers, \
         (SELECT COUNT(*) FROM conversations WHERE org_id = $1) AS conversations, \
         (SELECT COUNT(*) FROM conversation_field_values WHERE org_id = $1) AS \"values\"",
        org_id,
    );
    Ok(db
        .fetch_optional::<Size>(&sql, "measuring an organisation")
        .await?
        .unwrap_or_default())
}

/// Records that the organisation was questioned at `at_ms`, for warming after a restart.
pub(super) async fn remember_questioned(db: &Db, org_id: i64, at_ms: i64) -> StoreResult<()> {
    let sql = sql!(
        "INSERT INTO read_model_demand (org_id, questioned_at_ms) VALUES ($1, $2) \
         ON CONFLICT (org_id) DO UPDATE SET questioned_at_ms = $2",
        org_id,
        at_ms,
    );
    db.execute(&sql, "remembering a questioned organisation")
        .await?;
    Ok(())
}

/// The organisations questioned most recently, newest first, at most `limit`.
pub(super) async fn recently_questioned(db: &Db, limit: i64) -> StoreResult<Vec<i64>> {
    let sql = sql!(
        "SELECT d.org_id AS id FROM read_model_demand d \
         JOIN organisations o ON o.id = d.org_id \
         ORDER BY d.questioned_at_ms DESC LIMIT $1",
        limit,
    );
    let rows: Vec<crate::db::IdRow> = db
        .fetch_all(&sql, "listing recently questioned organisations")
        .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}
