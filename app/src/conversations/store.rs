//! Writing conversations (with their customers, representatives and field values) and
//! reading one back for the conversation page.

use super::model::ConversationKind;
use crate::db::{Db, Sql, StoreError, StoreResult, Tx};
use crate::orgs::model::Role;
use crate::orgs::store::{upsert_user, NewUser};
use crate::text::fold;
use serde::Deserialize;
use std::collections::HashMap;

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
    pub kind: ConversationKind,
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

/// A stored conversation's own columns, to tell an update from a repeat.
#[derive(sqlx::FromRow, PartialEq, Eq)]
struct StoredCore {
    id: i64,
    customer_id: i64,
    representative_id: i64,
    title: String,
    kind: String,
    occurred_at_ms: i64,
    score_hundredths: Option<i64>,
}

#[derive(sqlx::FromRow, PartialEq, Eq, PartialOrd, Ord)]
struct StoredValue {
    field_id: i64,
    value: String,
}

/// Writes a batch of conversations in one transaction: all of them or none. Re-writing an
/// external id updates that conversation and replaces its field values.
pub async fn write_conversations(
    db: &Db,
    org_id: i64,
    batch: &[NewConversation],
) -> StoreResult<WriteSummary> {
    let fields = field_ids(db, org_id).await?;
    let mut tx = db.begin().await?;
    let summary = write_batch(&mut tx, org_id, batch, &fields, &mut |_| {}).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Writes a batch inside the caller's transaction; `fields` maps field keys to their ids.
/// `progress` hears how many conversations are done, every thousand.
pub async fn write_batch(
    tx: &mut Tx,
    org_id: i64,
    batch: &[NewConversation],
    fields: &HashMap<String, i64>,
    progress: &mut (dyn FnMut(usize) + Send),
) -> StoreResult<WriteSummary> {
    for conversation in batch {
        conversation.check()?;
    }
    let mut customers: HashMap<String, i64> = HashMap::new();
    let mut representatives: HashMap<String, i64> = HashMap::new();
    let mut summary = WriteSummary::default();
    for (done, conversation) in batch.iter().enumerate() {
        if done % 1000 == 0 && done > 0 {
            progress(done);
        }
        let customer_id = match customers.get(&conversation.customer) {
            Some(id) if conversation.customer_name.is_none() => *id,
            _ => {
                let id = upsert_customer(
                    tx,
                    org_id,
                    &conversation.customer,
                    conversation.customer_name.as_deref(),
                )
                .await?;
                customers.insert(conversation.customer.clone(), id);
                id
            }
        };
        let representative_id = match representatives.get(&conversation.representative) {
            Some(id) => *id,
            None => {
                let name = conversation.representative_name.clone().unwrap_or_else(|| {
                    conversation
                        .representative
                        .split('@')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                });
                let user = NewUser {
                    email: &conversation.representative,
                    name: &name,
                    role: Role::Representative,
                    password_hash: None,
                };
                let id = find_or_add_representative(tx, org_id, &user).await?;
                representatives.insert(conversation.representative.clone(), id);
                id
            }
        };
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
        let core = StoredCore {
            id: 0,
            customer_id,
            representative_id,
            title: conversation.title.trim().to_owned(),
            kind: conversation.kind.as_str().to_owned(),
            occurred_at_ms: conversation.occurred_at_ms,
            score_hundredths: conversation.score_hundredths,
        };
        let external_id = conversation.external_id.trim();
        let mut find = Sql::new(
            "SELECT id, customer_id, representative_id, title, kind, occurred_at_ms, score_hundredths \
             FROM conversations WHERE org_id = ",
        );
        find.bind(org_id)
            .push(" AND external_id = ")
            .bind(external_id);
        let stored: Option<StoredCore> = tx.fetch_optional(&find, "finding a conversation").await?;
        let conversation_id = match stored {
            None => {
                let mut insert = Sql::new(
                    "INSERT INTO conversations (org_id, external_id, customer_id, representative_id, title, kind, \
                     occurred_at_ms, score_hundredths) VALUES (",
                );
                insert
                    .bind(org_id)
                    .push(", ")
                    .bind(external_id)
                    .push(", ")
                    .bind(customer_id)
                    .push(", ")
                    .bind(representative_id)
                    .push(", ")
                    .bind(core.title.as_str())
                    .push(", ")
                    .bind(core.kind.as_str())
                    .push(", ")
                    .bind(core.occurred_at_ms)
                    .push(", ")
                    .bind(core.score_hundredths)
                    .push(") RETURNING id");
                summary.created += 1;
                tx.scalar(&insert, "saving a conversation").await?
            }
            Some(stored) => {
                let mut read_values = Sql::new(
                    "SELECT field_id, value FROM conversation_field_values WHERE org_id = ",
                );
                read_values
                    .bind(org_id)
                    .push(" AND conversation_id = ")
                    .bind(stored.id)
                    .push(" ORDER BY field_id, value");
                let stored_values: Vec<StoredValue> =
                    tx.fetch_all(&read_values, "reading field values").await?;
                let same_core = StoredCore {
                    id: stored.id,
                    ..core
                } == stored;
                if same_core && stored_values == values {
                    summary.skipped += 1;
                    continue;
                }
                let mut update = Sql::new("UPDATE conversations SET customer_id = ");
                update
                    .bind(customer_id)
                    .push(", representative_id = ")
                    .bind(representative_id)
                    .push(", title = ")
                    .bind(conversation.title.trim())
                    .push(", kind = ")
                    .bind(conversation.kind.as_str())
                    .push(", occurred_at_ms = ")
                    .bind(conversation.occurred_at_ms)
                    .push(", score_hundredths = ")
                    .bind(conversation.score_hundredths)
                    .push(" WHERE org_id = ")
                    .bind(org_id)
                    .push(" AND id = ")
                    .bind(stored.id);
                tx.execute(&update, "updating a conversation").await?;
                let mut clear = Sql::new("DELETE FROM conversation_field_values WHERE org_id = ");
                clear
                    .bind(org_id)
                    .push(" AND conversation_id = ")
                    .bind(stored.id);
                tx.execute(&clear, "replacing conversation field values")
                    .await?;
                summary.updated += 1;
                stored.id
            }
        };
        for value in &values {
            let mut insert = Sql::new(
                "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, value_folded) VALUES (",
            );
            insert
                .bind(org_id)
                .push(", ")
                .bind(conversation_id)
                .push(", ")
                .bind(value.field_id)
                .push(", ")
                .bind(value.value.as_str())
                .push(", ")
                .bind(fold(&value.value))
                .push(")");
            tx.execute(&insert, "saving a conversation field value")
                .await?;
        }
    }
    progress(batch.len());
    Ok(summary)
}

async fn field_ids(db: &Db, org_id: i64) -> StoreResult<HashMap<String, i64>> {
    Ok(crate::orgs::store::list_fields(db, org_id)
        .await?
        .into_iter()
        .map(|stored| (stored.field.key, stored.id))
        .collect())
}

/// Finds a customer by identifier or adds one; a given display name replaces the stored one.
async fn upsert_customer(
    tx: &mut Tx,
    org_id: i64,
    identifier: &str,
    display_name: Option<&str>,
) -> StoreResult<i64> {
    let identifier = identifier.trim();
    let display_name = display_name.map(str::trim).filter(|name| !name.is_empty());
    let search_text = match display_name {
        Some(name) => fold(&format!("{identifier}\n{name}")),
        None => fold(identifier),
    };
    let mut sql =
        Sql::new("INSERT INTO customers (org_id, identifier, display_name, search_text) VALUES (");
    sql.bind(org_id)
        .push(", ")
        .bind(identifier)
        .push(", ")
        .bind(display_name.map(str::to_owned))
        .push(", ")
        .bind(search_text);
    if display_name.is_some() {
        sql.push(
            ") ON CONFLICT (org_id, identifier) DO UPDATE SET display_name = excluded.display_name, \
             search_text = excluded.search_text RETURNING id",
        );
    } else {
        // Keep the stored name; the no-op update makes RETURNING answer for an existing row too.
        sql.push(") ON CONFLICT (org_id, identifier) DO UPDATE SET identifier = excluded.identifier RETURNING id");
    }
    tx.scalar(&sql, "saving a customer").await
}

/// A representative named in conversation data: an existing user of any role keeps their
/// role and name; an unknown email becomes a representative without a password.
async fn find_or_add_representative(
    tx: &mut Tx,
    org_id: i64,
    user: &NewUser<'_>,
) -> StoreResult<i64> {
    let find = crate::orgs::store::user_id_by_email(org_id, user.email);
    let found: Option<crate::db::IdRow> =
        tx.fetch_optional(&find, "finding a representative").await?;
    match found {
        Some(found) => Ok(found.id),
        None => upsert_user(tx, org_id, user).await,
    }
}

#[derive(sqlx::FromRow)]
pub struct ConversationRecord {
    pub id: i64,
    pub external_id: String,
    pub title: String,
    pub kind: String,
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
pub async fn find_conversation(
    db: &Db,
    org_id: i64,
    conversation_id: i64,
) -> StoreResult<Option<(ConversationRecord, Vec<FieldValueRecord>)>> {
    let mut sql = Sql::new(
        "SELECT v.id, v.external_id, v.title, v.kind, v.occurred_at_ms, v.score_hundredths, \
         c.identifier AS customer_identifier, c.display_name AS customer_name, \
         u.id AS representative_id, u.name AS representative_name \
         FROM conversations v \
         JOIN customers c ON c.id = v.customer_id AND c.org_id = v.org_id \
         JOIN users u ON u.id = v.representative_id AND u.org_id = v.org_id \
         WHERE v.org_id = ",
    );
    sql.bind(org_id).push(" AND v.id = ").bind(conversation_id);
    let Some(record) = db
        .fetch_optional::<ConversationRecord>(&sql, "reading a conversation")
        .await?
    else {
        return Ok(None);
    };
    let mut fields_sql = Sql::new(
        "SELECT f.label, fv.value FROM conversation_field_values fv \
         JOIN custom_fields f ON f.id = fv.field_id AND f.org_id = fv.org_id \
         WHERE fv.org_id = ",
    );
    fields_sql
        .bind(org_id)
        .push(" AND fv.conversation_id = ")
        .bind(conversation_id)
        .push(" ORDER BY f.position, f.key");
    let fields = db
        .fetch_all(&fields_sql, "reading conversation field values")
        .await?;
    Ok(Some((record, fields)))
}
