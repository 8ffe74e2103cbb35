//! Writing conversations (with their customers, representatives and field values) and
//! reading one back for the conversation page.

mod participants;

use super::model::Channel;
use crate::db::{retry_transient, Db, Sql, StoreError, StoreResult, Tx};
use crate::sql;
use crate::text::fold;
use crate::versions::claim_write_version;
use participants::{find_or_add_representatives, rep_key, upsert_customers};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap, HashSet};

/// One conversation as a loader hands it over. Customers and representatives are named by
/// their identifier and email and created on first sight.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NewConversation {
    pub external_id: String,
    pub customer: String,
    #[serde(default)]
    pub customer_name: Option<String>,
    pub representative: String,
    #[serde(default)]
    pub representative_name: Option<String>,
    pub title: String,
    #[serde(rename = "type")]
    pub channel: Channel,
    /// UTC milliseconds since the Unix epoch.
    pub occurred_at_ms: i64,
    /// Hundredths of a point, 0..=10000; `None` when not scored.
    #[serde(default)]
    pub score_hundredths: Option<i64>,
    /// Custom field key to value.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
}

impl NewConversation {
    fn check(&self) -> StoreResult<()> {
        let problem = if self.external_id.trim().is_empty() {
            Some("an external id is required")
        } else if self.customer.trim().is_empty() {
            Some("a customer identifier is required")
        } else if self.title.trim().is_empty() {
            Some("a title is required")
        } else if self
            .score_hundredths
            .is_some_and(|s| !(0..=10_000).contains(&s))
        {
            Some("the score must be between 0 and 100")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(StoreError::Invalid(format!(
                "conversation `{}`: {problem}",
                self.external_id
            ))),
            None => Ok(()),
        }
    }
}

/// What a batch write did: new conversations, changed ones, and ones already exactly so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
}

/// A conversation's own columns as stored, to tell an update from a repeat.
#[derive(Clone, Debug, sqlx::FromRow, PartialEq, Eq)]
struct StoredCore {
    id: i64,
    external_id: String,
    customer_id: i64,
    representative_id: i64,
    title: String,
    channel: String,
    occurred_at_ms: i64,
    score_hundredths: Option<i64>,
}

/// [`StoredCore`] as read, with the revision that last wrote it.
#[derive(sqlx::FromRow)]
struct StoredRow {
    #[sqlx(flatten)]
    core: StoredCore,
    revision: i64,
}

#[derive(Clone, Debug, sqlx::FromRow, PartialEq, Eq, PartialOrd, Ord)]
struct StoredValue {
    field_id: i64,
    value: String,
}

#[derive(sqlx::FromRow)]
struct StoredFieldValue {
    conversation_id: i64,
    field_id: i64,
    value: String,
}

#[derive(sqlx::FromRow)]
struct ConversationIdRow {
    id: i64,
    external_id: String,
}

/// What a conversation should look like once the batch is written: its columns (with
/// `id` 0 until it is known) and its field values, sorted.
#[derive(Clone, PartialEq, Eq)]
struct Target {
    core: StoredCore,
    values: Vec<StoredValue>,
}

/// Rows per multi-row statement. Keeps every statement under both backends' placeholder
/// limits (SQLite 32,766, PostgreSQL 65,535) with room to spare.
pub(super) const ROWS_PER_STATEMENT: usize = 100;

/// Writes a batch of conversations in one transaction: all of them or none. Re-writing an
/// external id updates that conversation and replaces its field values.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn write_conversations(
    db: &Db,
    org_id: i64,
    batch: &[NewConversation],
) -> StoreResult<WriteSummary> {
    let summary = retry_transient(|| async {
        let mut tx = db.begin().await?;
        let version = claim_write_version(&mut tx, org_id).await?;
        let fields = field_ids(&mut tx, org_id).await?;
        let summary = write_batch(&mut tx, org_id, version, batch, &fields, &mut |_| {}).await?;
        tx.commit().await?;
        Ok(summary)
    })
    .await?;
    db.refresh_statistics().await?;
    Ok(summary)
}

/// Writes a batch inside the caller's transaction, which has claimed `version` with
/// [`claim_write_version`] as its first statement; `fields` maps field keys to their ids.
/// `progress` hears how many conversations are done as the writing goes on.
///
/// The batch is written set-wise: customers, representatives and the stored versions of the
/// conversations are each read or written with a few multi-row statements, and the rows are
/// then compared in memory, in order, as if written one by one (a later row with the same
/// external id updates an earlier one). Every customer and conversation row written carries
/// `version` as its revision, which is how read models find what changed.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn write_batch(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    batch: &[NewConversation],
    fields: &HashMap<String, i64>,
    progress: &mut (dyn FnMut(usize) + Send),
) -> StoreResult<WriteSummary> {
    match write(tx, org_id, version, batch, fields, progress, false).await? {
        PartWrite::Written(summary) => Ok(summary),
        // Only `write` with `refuse_repeats` reports repeats; a batch write never asks.
        PartWrite::Repeated(_) => Err(StoreError::internal(
            "writing a batch of conversations",
            "a repeat was reported though none was asked for",
        )),
    }
}

/// What [`write_part`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartWrite {
    Written(WriteSummary),
    /// Nothing was written: the rows of the batch at these positions (in batch order) have
    /// external ids that an earlier part of the same write already wrote.
    Repeated(Vec<usize>),
}

/// [`write_batch`] for one part of a write made of several batches under the same `version`,
/// such as a file read in chunks. Before it writes anything it looks for the batch's external
/// ids among the conversations that already carry `version` as their revision, which only an
/// earlier part of this transaction can have written; when there are any, it writes nothing
/// and answers their positions.
///
/// A conversation an earlier part left unchanged (counted as skipped) is not rewritten, so it
/// keeps its older revision and a repeat of it is not seen here.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn write_part(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    batch: &[NewConversation],
    fields: &HashMap<String, i64>,
    progress: &mut (dyn FnMut(usize) + Send),
) -> StoreResult<PartWrite> {
    write(tx, org_id, version, batch, fields, progress, true).await
}

async fn write(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    batch: &[NewConversation],
    fields: &HashMap<String, i64>,
    progress: &mut (dyn FnMut(usize) + Send),
    refuse_repeats: bool,
) -> StoreResult<PartWrite> {
    let mut values_by_row = Vec::with_capacity(batch.len());
    for conversation in batch {
        conversation.check()?;
        values_by_row.push(field_values(conversation, fields)?);
    }
    let (mut stored, written_by_version) = stored_conversations(tx, org_id, version, batch).await?;
    if refuse_repeats && !written_by_version.is_empty() {
        let repeated = batch
            .iter()
            .enumerate()
            .filter(|(_, conversation)| {
                written_by_version.contains(conversation.external_id.trim())
            })
            .map(|(position, _)| position)
            .collect();
        return Ok(PartWrite::Repeated(repeated));
    }
    let customers = upsert_customers(tx, org_id, version, batch).await?;
    let representatives = find_or_add_representatives(tx, org_id, batch).await?;

    // Replay the batch in order against what is stored, to count and to find the final state
    // of each external id.
    let mut summary = WriteSummary::default();
    let mut targets: HashMap<String, Target> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for (conversation, values) in batch.iter().zip(values_by_row) {
        let external_id = conversation.external_id.trim();
        let customer_id = customers[conversation.customer.trim()].id;
        let representative_id = representatives[&rep_key(&conversation.representative)];
        let known = targets.get(external_id).or_else(|| stored.get(external_id));
        let target = Target {
            core: StoredCore {
                id: known.map_or(0, |known| known.core.id),
                external_id: external_id.to_owned(),
                customer_id,
                representative_id,
                title: conversation.title.trim().to_owned(),
                channel: conversation.channel.as_str().to_owned(),
                occurred_at_ms: conversation.occurred_at_ms,
                score_hundredths: conversation.score_hundredths,
            },
            values,
        };
        match known {
            None => summary.created += 1,
            Some(known) if *known == target => summary.skipped += 1,
            Some(_) => summary.updated += 1,
        }
        if !targets.contains_key(external_id) {
            order.push(external_id.to_owned());
        }
        targets.insert(external_id.to_owned(), target);
    }

    let mut inserts: Vec<Target> = Vec::new();
    let mut updates: Vec<(StoredCore, Target)> = Vec::new();
    for external_id in order {
        let Some(target) = targets.remove(&external_id) else {
            continue;
        };
        match stored.remove(&external_id) {
            None => inserts.push(target),
            Some(before) if before == target => {}
            Some(before) => updates.push((before.core, target)),
        }
    }
    let mut done = 0;
    for chunk in inserts.chunks(ROWS_PER_STATEMENT) {
        let ids = insert_conversations(tx, org_id, version, chunk).await?;
        let mut values = Vec::new();
        for target in chunk {
            let Some(id) = ids.get(&target.core.external_id) else {
                return Err(StoreError::internal(
                    "writing conversations",
                    format_args!("conversation `{}` got no id", target.core.external_id),
                ));
            };
            values.extend(target.values.iter().map(|value| (*id, value)));
        }
        insert_field_values(tx, org_id, &values).await?;
        done += chunk.len();
        progress(done);
    }
    for (before, target) in &updates {
        update_conversation(tx, org_id, version, before.id, target).await?;
        done += 1;
    }
    progress(done);
    Ok(PartWrite::Written(summary))
}

/// A conversation's field values as stored rows, sorted; an unknown field key is refused.
fn field_values(
    conversation: &NewConversation,
    fields: &HashMap<String, i64>,
) -> StoreResult<Vec<StoredValue>> {
    let mut values = Vec::with_capacity(conversation.fields.len());
    for (key, value) in &conversation.fields {
        let Some(field_id) = fields.get(key) else {
            return Err(StoreError::Invalid(format!(
                "conversation `{}`: there is no custom field `{key}`",
                conversation.external_id
            )));
        };
        values.push(StoredValue {
            field_id: *field_id,
            value: value.clone(),
        });
    }
    values.sort();
    Ok(values)
}

/// The stored versions of the batch's conversations, with their field values, by external id;
/// and the external ids among them whose revision is `version`.
async fn stored_conversations(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    batch: &[NewConversation],
) -> StoreResult<(HashMap<String, Target>, HashSet<String>)> {
    let external_ids: Vec<&str> = batch
        .iter()
        .map(|conversation| conversation.external_id.trim())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut stored: HashMap<String, Target> = HashMap::new();
    let mut written_by_version = HashSet::new();
    for chunk in external_ids.chunks(ROWS_PER_STATEMENT) {
        let mut sql = Sql::new(
            "SELECT id, external_id, customer_id, representative_id, title, channel, occurred_at_ms, \
             score_hundredths, revision FROM conversations \
             WHERE org_id = $1 AND external_id IN (",
        );
        sql.arg(org_id).push_list(chunk.iter().copied()).push(")");
        let rows: Vec<StoredRow> = tx.fetch_all(&sql, "finding conversations").await?;
        if rows.is_empty() {
            continue;
        }
        let mut by_id: HashMap<i64, Target> = HashMap::with_capacity(rows.len());
        for row in rows {
            if row.revision == version {
                written_by_version.insert(row.core.external_id.clone());
            }
            by_id.insert(
                row.core.id,
                Target {
                    core: row.core,
                    values: Vec::new(),
                },
            );
        }
        let mut values = Sql::new(
            "SELECT conversation_id, field_id, value FROM conversation_field_values \
             WHERE org_id = $1 AND conversation_id IN (",
        );
        values
            .arg(org_id)
            .push_list(by_id.keys().copied())
            .push(")");
        let rows: Vec<StoredFieldValue> = tx.fetch_all(&values, "reading field values").await?;
        for row in rows {
            if let Some(target) = by_id.get_mut(&row.conversation_id) {
                target.values.push(StoredValue {
                    field_id: row.field_id,
                    value: row.value,
                });
            }
        }
        for (_, mut target) in by_id {
            target.values.sort();
            stored.insert(target.core.external_id.clone(), target);
        }
    }
    Ok((stored, written_by_version))
}

/// Inserts new conversations; answers their ids by external id.
async fn insert_conversations(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    targets: &[Target],
) -> StoreResult<HashMap<String, i64>> {
    let mut sql = Sql::new(
        "INSERT INTO conversations (org_id, external_id, customer_id, representative_id, title, channel, \
         occurred_at_ms, score_hundredths, revision)",
    );
    sql.push_values(targets, |row, target| {
        let core = &target.core;
        row.bind(org_id)
            .bind(core.external_id.as_str())
            .bind(core.customer_id)
            .bind(core.representative_id)
            .bind(core.title.as_str())
            .bind(core.channel.as_str())
            .bind(core.occurred_at_ms)
            .bind(core.score_hundredths)
            .bind(version);
    })
    .push(" RETURNING id, external_id");
    let rows: Vec<ConversationIdRow> = tx.fetch_all(&sql, "saving conversations").await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.external_id, row.id))
        .collect())
}

async fn insert_field_values(
    tx: &mut Tx,
    org_id: i64,
    values: &[(i64, &StoredValue)],
) -> StoreResult<()> {
    for chunk in values.chunks(ROWS_PER_STATEMENT) {
        let mut sql = Sql::new(
            "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, value_folded)",
        );
        sql.push_values(chunk, |row, (conversation_id, value)| {
            row.bind(org_id)
                .bind(*conversation_id)
                .bind(value.field_id)
                .bind(value.value.as_str())
                .bind(fold(&value.value));
        });
        tx.execute(&sql, "saving conversation field values").await?;
    }
    Ok(())
}

async fn update_conversation(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    id: i64,
    target: &Target,
) -> StoreResult<()> {
    let core = &target.core;
    let update = sql!(
        "UPDATE conversations SET customer_id = $1, representative_id = $2, title = $3, \
         channel = $4, occurred_at_ms = $5, score_hundredths = $6, revision = $7 \
         WHERE org_id = $8 AND id = $9",
        core.customer_id,
        core.representative_id,
        core.title.as_str(),
        core.channel.as_str(),
        core.occurred_at_ms,
        core.score_hundredths,
        version,
        org_id,
        id,
    );
    tx.execute(&update, "updating a conversation").await?;
    let clear = sql!(
        "DELETE FROM conversation_field_values WHERE org_id = $1 AND conversation_id = $2",
        org_id,
        id,
    );
    tx.execute(&clear, "replacing conversation field values")
        .await?;
    let values: Vec<(i64, &StoredValue)> = target.values.iter().map(|value| (id, value)).collect();
    insert_field_values(tx, org_id, &values).await
}

/// The organisation's field ids by key, read inside the writing transaction (after the
/// version is claimed, so that no other writer adds a field meanwhile).
async fn field_ids(tx: &mut Tx, org_id: i64) -> StoreResult<HashMap<String, i64>> {
    let sql = sql!(
        "SELECT id, key FROM custom_fields WHERE org_id = $1",
        org_id
    );
    let rows: Vec<FieldIdRow> = tx.fetch_all(&sql, "listing custom fields").await?;
    Ok(rows.into_iter().map(|row| (row.key, row.id)).collect())
}

#[derive(sqlx::FromRow)]
struct FieldIdRow {
    id: i64,
    key: String,
}

#[derive(sqlx::FromRow)]
pub struct ConversationRecord {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub channel: String,
    pub occurred_at_ms: i64,
    pub score_hundredths: Option<i64>,
    pub customer_identifier: String,
    pub customer_name: Option<String>,
    pub representative_id: i64,
    pub representative_name: String,
}

#[derive(sqlx::FromRow)]
pub struct FieldValueRecord {
    pub label: String,
    pub value: String,
}

/// One conversation of the organisation, or `None` (also for another organisation's id).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn find_conversation(
    db: &Db,
    org_id: i64,
    conversation_id: i64,
) -> StoreResult<Option<(ConversationRecord, Vec<FieldValueRecord>)>> {
    let sql = sql!(
        "SELECT v.id, v.external_id, v.title, v.channel, v.occurred_at_ms, v.score_hundredths, \
         c.identifier AS customer_identifier, c.display_name AS customer_name, \
         u.id AS representative_id, u.name AS representative_name \
         FROM conversations v \
         JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id \
         JOIN users u ON u.id = v.representative_id AND u.org_id = v.org_id \
         WHERE v.org_id = $1 AND v.id = $2",
        org_id,
        conversation_id,
    );
    let Some(record) = db
        .fetch_optional::<ConversationRecord>(&sql, "reading a conversation")
        .await?
    else {
        return Ok(None);
    };
    let fields_sql = sql!(
        "SELECT f.label, fv.value FROM conversation_field_values fv \
         JOIN custom_fields f ON f.id = fv.field_id AND f.org_id = fv.org_id \
         WHERE fv.org_id = $1 AND fv.conversation_id = $2 \
         ORDER BY f.position, f.key",
        org_id,
        conversation_id,
    );
    let fields = db
        .fetch_all(&fields_sql, "reading conversation field values")
        .await?;
    Ok(Some((record, fields)))
}
