//! Reading an organisation's facts from the database: a first load, a reload after rows were
//! taken away, or the rows written since the version held. Also what the holder remembers
//! in the database: which organisations were questioned lately (to warm them after a
//! restart), and how large an organisation is before it is loaded.

use super::columns::Facts;
use crate::db::{Backend, Db, Sql, StoreError, StoreResult, Tx};
use crate::sql;

#[derive(sqlx::FromRow)]
pub(super) struct CustomerFact {
    pub(super) id: i64,
    pub(super) identifier: String,
    pub(super) display_name: Option<String>,
    pub(super) search_text: String,
}

pub(super) struct ConversationFact {
    pub(super) id: i64,
    pub(super) customer_id: i64,
    pub(super) representative_id: i64,
    /// The channel as its column code, resolved by the database (no text per row).
    pub(super) channel_code: i64,
    pub(super) occurred_at_ms: i64,
    pub(super) score_hundredths: Option<i64>,
}

#[cfg(test)]
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
    customers: Vec<CustomerFact>,
    chunks: Vec<ConversationChunk>,
    groups: Vec<ValueGroup>,
}

impl Facts {
    pub(super) fn apply(&mut self, delta: Delta) -> StoreResult<()> {
        for row in delta.customers {
            self.put_customer(row);
        }
        for chunk in &delta.chunks {
            self.put_chunk(chunk)?;
        }
        let mut slots = Vec::new();
        for group in delta.groups {
            self.put_group(group, &mut slots)?;
        }
        self.finish(delta.version);
        Ok(())
    }
}

/// The fewest changed conversations read as a fresh load rather than as rows to apply; a
/// larger change is applied as rows while it is under half of what is held.
const SMALLEST_RELOAD: i64 = 20_000;

/// The channel's column code, in SQL: the same codes as `columns::channel_code`.
const KIND_CODE: &str =
    "CAST(CASE channel WHEN 'voice' THEN 0 WHEN 'chat' THEN 1 WHEN 'email' THEN 2 ELSE 3 END AS BIGINT)";

/// Conversation ids a first load reads in one statement on SQLite (one row of a few hundred
/// kilobytes of text per column).
const CHUNK_IDS: i64 = 1 << 16;

/// Reads what changed since the `held` version (of `held_conversations` conversations)
/// inside one snapshot, with the version that snapshot holds. Changes are read as rows to
/// apply; a first load, a write since the held version that took rows away, or a change as
/// large as what is held are read into new columns instead.
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
    if tx.backend() == Backend::Postgres {
        // The load's few statements each run once: compiling them costs more than it saves.
        tx.execute(&Sql::new("SET LOCAL jit = off"), "setting up a load")
            .await?;
    }
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

/// Many conversations in one row: each column's values in order, as decimal integers
/// joined by commas (a score of -1 is none). The database does the per-row work; the driver
/// carries a few rows instead of millions.
#[derive(sqlx::FromRow)]
struct ConversationChunk {
    ids: Option<String>,
    customers: Option<String>,
    representatives: Option<String>,
    channels: Option<String>,
    times: Option<String>,
    scores: Option<String>,
}

/// One distinct value of one field, with the conversations holding it (comma-joined ids).
#[derive(sqlx::FromRow)]
struct ValueGroup {
    field_id: i64,
    value: String,
    ids: Option<String>,
}

/// The aggregate that joins a column's integers with commas, on this backend.
fn joined(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({column})"),
        Backend::Postgres => format!("string_agg(({column})::text, ',')"),
    }
}

/// The chunk columns, aggregated over whatever rows the statement's `FROM` and `WHERE` give.
fn chunk_select(backend: Backend) -> String {
    format!(
        "SELECT {} AS ids, {} AS customers, {} AS representatives, {} AS channels, \
         {} AS times, {} AS scores FROM conversations",
        joined(backend, "id"),
        joined(backend, "customer_id"),
        joined(backend, "representative_id"),
        joined(backend, KIND_CODE),
        joined(backend, "occurred_at_ms"),
        joined(backend, "COALESCE(score_hundredths, -1)"),
    )
}

/// The start of a statement reading field values grouped by value, from `from` (which names
/// the value rows `fv`); [`GROUP_VALUES`] ends it after the caller's `WHERE`.
fn value_groups(backend: Backend, from: &str) -> Sql {
    Sql::new(&format!(
        "SELECT fv.field_id AS field_id, fv.value AS value, {} AS ids {from}",
        joined(backend, "fv.conversation_id")
    ))
}

const GROUP_VALUES: &str = " GROUP BY fv.field_id, fv.value";

fn parse_error(what: &'static str) -> StoreError {
    StoreError::internal("reading the read model", format!("malformed {what}"))
}

/// The integers of a comma-joined list, in order.
fn integers<'a>(text: &'a Option<String>) -> impl Iterator<Item = StoreResult<i64>> + 'a {
    text.as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|item| !item.is_empty())
        .map(|item| item.parse::<i64>().map_err(|_| parse_error("integer list")))
}

impl Facts {
    fn put_chunk(&mut self, chunk: &ConversationChunk) -> StoreResult<()> {
        let mut customers = integers(&chunk.customers);
        let mut representatives = integers(&chunk.representatives);
        let mut channels = integers(&chunk.channels);
        let mut times = integers(&chunk.times);
        let mut scores = integers(&chunk.scores);
        for id in integers(&chunk.ids) {
            let next = |column: &mut dyn Iterator<Item = StoreResult<i64>>| {
                column
                    .next()
                    .unwrap_or_else(|| Err(parse_error("conversation chunk")))
            };
            let score = next(&mut scores)?;
            self.put_conversation(ConversationFact {
                id: id?,
                customer_id: next(&mut customers)?,
                representative_id: next(&mut representatives)?,
                channel_code: next(&mut channels)?,
                occurred_at_ms: next(&mut times)?,
                score_hundredths: (score >= 0).then_some(score),
            });
        }
        Ok(())
    }

    fn put_group(&mut self, group: ValueGroup, slots: &mut Vec<u32>) -> StoreResult<()> {
        let ids = integers(&group.ids).collect::<StoreResult<Vec<i64>>>()?;
        self.put_values(group.field_id, group.value, ids, slots);
        Ok(())
    }
}

async fn read_delta(tx: &mut Tx, org_id: i64, since: i64, version: i64) -> StoreResult<Delta> {
    let backend = tx.backend();
    let customers = tx
        .fetch_all(&customers_since(org_id, since), "reading changed customers")
        .await?;
    let mut conversations = Sql::new(&chunk_select(backend));
    conversations
        .push(" WHERE org_id = ")
        .bind(org_id)
        .push(" AND revision > ")
        .bind(since);
    let chunks = tx
        .fetch_all(&conversations, "reading changed conversations")
        .await?;
    let mut values = match backend {
        // Driven by the changed conversations (their revision index, then each one's values
        // by primary key); the `+` keeps the planner from walking every value of the
        // organisation in the value index instead.
        Backend::Sqlite => {
            let mut values = value_groups(backend, "FROM conversation_field_values fv");
            values
                .push(" WHERE fv.conversation_id IN (SELECT id FROM conversations WHERE org_id = ")
                .bind(org_id)
                .push(" AND revision > ")
                .bind(since)
                .push(") AND +fv.org_id = ")
                .bind(org_id);
            values
        }
        Backend::Postgres => {
            let mut values = value_groups(
                backend,
                "FROM conversations v JOIN conversation_field_values fv \
                 ON fv.conversation_id = v.id AND fv.org_id = v.org_id",
            );
            values
                .push(" WHERE v.org_id = ")
                .bind(org_id)
                .push(" AND v.revision > ")
                .bind(since);
            values
        }
    };
    values.push(GROUP_VALUES);
    let groups = tx
        .fetch_all(&values, "reading changed field values")
        .await?;
    Ok(Delta {
        version,
        customers,
        chunks,
        groups,
    })
}

/// The span of an organisation's conversation ids, and how many it has.
#[derive(sqlx::FromRow)]
struct IdSpan {
    low: Option<i64>,
    high: Option<i64>,
    conversations: i64,
}

async fn read_all(tx: &mut Tx, org_id: i64, version: i64) -> StoreResult<Facts> {
    let backend = tx.backend();
    let mut facts = Facts::default();
    tx.for_each_row(
        &customers_since(org_id, -1),
        "reading customers",
        |row: CustomerFact| facts.put_customer(row),
    )
    .await?;
    let span = sql!(
        "SELECT MIN(id) AS low, MAX(id) AS high, COUNT(*) AS conversations \
         FROM conversations WHERE org_id = $1",
        org_id
    );
    let span: IdSpan = tx
        .fetch_optional(&span, "measuring the conversations")
        .await?
        .ok_or_else(|| parse_error("conversation span"))?;
    facts.reserve_conversations(usize::try_from(span.conversations).unwrap_or(0));
    let mut failed = None;
    let mut put = |facts: &mut Facts, chunk: ConversationChunk| {
        if failed.is_none() {
            failed = facts.put_chunk(&chunk).err();
        }
    };
    match (backend, span.low, span.high) {
        (_, None, _) | (_, _, None) => {}
        // SQLite: ranges of the rowid, each one statement walking the table in order (the
        // `+` keeps the planner off the indexes that lead with org_id, which would fetch each
        // row by a lookup); an organisation whose ids are spread thinly over the table is
        // read through its index in one statement instead.
        (Backend::Sqlite, Some(low), Some(high)) => {
            let dense = (high - low) / 4 <= span.conversations + CHUNK_IDS;
            if dense {
                let mut from = low;
                while from <= high {
                    let mut chunk = Sql::new(&chunk_select(backend));
                    chunk
                        .push(" WHERE id >= ")
                        .bind(from)
                        .push(" AND id < ")
                        .bind(from.saturating_add(CHUNK_IDS))
                        .push(" AND +org_id = ")
                        .bind(org_id);
                    tx.for_each_row(&chunk, "reading conversations", |row| put(&mut facts, row))
                        .await?;
                    from = from.saturating_add(CHUNK_IDS);
                }
            } else {
                let mut chunk = Sql::new(&chunk_select(backend));
                chunk.push(" WHERE org_id = ").bind(org_id);
                tx.for_each_row(&chunk, "reading conversations", |row| put(&mut facts, row))
                    .await?;
            }
        }
        // PostgreSQL: one statement, one pass over the rows, a row per range of ids.
        (Backend::Postgres, Some(_), Some(_)) => {
            let mut chunks = Sql::new(&chunk_select(backend));
            chunks
                .push(" WHERE org_id = ")
                .bind(org_id)
                .push(" GROUP BY id / ")
                .bind(CHUNK_IDS)
                .push(" ORDER BY MIN(id)");
            tx.for_each_row(&chunks, "reading conversations", |row| put(&mut facts, row))
                .await?;
        }
    }
    if let Some(error) = failed {
        return Err(error);
    }
    let mut values = value_groups(backend, "FROM conversation_field_values fv");
    values
        .push(" WHERE fv.org_id = ")
        .bind(org_id)
        .push(GROUP_VALUES);
    let mut slots = Vec::new();
    let mut failed = None;
    tx.for_each_row(&values, "reading field values", |group: ValueGroup| {
        if failed.is_none() {
            failed = facts.put_group(group, &mut slots).err();
        }
    })
    .await?;
    if let Some(error) = failed {
        return Err(error);
    }
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
