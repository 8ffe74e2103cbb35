//! Erasure: a customer with all their conversations, one conversation, or a whole
//! organisation, deleted for good (the store code behind `server customer delete`,
//! `server conversation delete`, `server org delete` and the API's DELETE calls).
//!
//! Each deletion is one transaction: all of it or nothing. Like every write of conversations
//! it first claims the organisation's next write version (so it runs before or after the
//! organisation's other writers, never between their reading and writing), and it marks that
//! version as one to reload from: rows that disappear cannot be read by a read model as changed
//! rows, so every server's read model that holds an older version loads the organisation
//! afresh at its next question, and stays exact.

use crate::db::{retry_transient, Db, IdRow, Sql, StoreResult, Tx};
use crate::sql;
use crate::versions::{claim_write_version, reload_from_here};

/// What a deletion removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    /// Customers deleted: the one asked for, or the customer of a deleted conversation
    /// when it had no other conversation.
    pub customers: u64,
    pub conversations: u64,
}

/// What deleting an organisation removed, besides the organisation itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ErasedOrganisation {
    pub customers: u64,
    pub conversations: u64,
    /// Everyone who could sign in or handled conversations (representatives included).
    pub people: u64,
    pub custom_fields: u64,
    pub api_tokens: u64,
    pub saved_views: u64,
    pub sessions: u64,
}

/// Deletes the organisation's customer `identifier` (compared trimmed, as it is stored) with
/// every conversation of theirs and those conversations' field values; `None` when the
/// organisation has no such customer (and nothing changed).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_customer(
    db: &Db,
    org_id: i64,
    identifier: &str,
) -> StoreResult<Option<Erased>> {
    let identifier = identifier.trim();
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        let version = claim_write_version(&mut tx, org_id).await?;
        let find = sql!(
            "SELECT id FROM customers WHERE org_id = $1 AND identifier = $2",
            org_id,
            identifier,
        );
        let Some(customer) = tx
            .fetch_optional::<IdRow>(&find, "finding a customer to delete")
            .await?
        else {
            // Nothing changed: the claimed version is given back.
            tx.rollback().await?;
            return Ok(None);
        };
        let conversations = delete_conversations_of(&mut tx, org_id, customer.id).await?;
        let customers = delete_customer_row(&mut tx, org_id, customer.id).await?;
        reload_from_here(&mut tx, org_id, version).await?;
        tx.commit().await?;
        Ok(Some(Erased {
            customers,
            conversations,
        }))
    })
    .await
}

#[derive(sqlx::FromRow)]
struct ConversationOf {
    id: i64,
    customer_id: i64,
}

/// Deletes the organisation's conversation `external_id` (compared trimmed) with its field
/// values, and its customer when that was the customer's last conversation (a customer exists
/// through their conversations: created on first sight, gone with the last); `None` when the
/// organisation has no such conversation (and nothing changed).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_conversation(
    db: &Db,
    org_id: i64,
    external_id: &str,
) -> StoreResult<Option<Erased>> {
    let external_id = external_id.trim();
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        let version = claim_write_version(&mut tx, org_id).await?;
        let find = sql!(
            "SELECT id, customer_id FROM conversations WHERE org_id = $1 AND external_id = $2",
            org_id,
            external_id,
        );
        let Some(conversation) = tx
            .fetch_optional::<ConversationOf>(&find, "finding a conversation to delete")
            .await?
        else {
            tx.rollback().await?;
            return Ok(None);
        };
        let scores = sql!(
            "DELETE FROM conversation_criterion_scores WHERE org_id = $1 AND conversation_id = $2",
            org_id,
            conversation.id,
        );
        tx.execute(&scores, "deleting a conversation's criterion scores")
            .await?;
        let values = sql!(
            "DELETE FROM conversation_field_values WHERE org_id = $1 AND conversation_id = $2",
            org_id,
            conversation.id,
        );
        tx.execute(&values, "deleting a conversation's field values")
            .await?;
        let delete = sql!(
            "DELETE FROM conversations WHERE org_id = $1 AND id = $2",
            org_id,
            conversation.id,
        );
        let conversations = tx.execute(&delete, "deleting a conversation").await?;
        let left = sql!(
            "SELECT COUNT(*) FROM conversations WHERE org_id = $1 AND customer_id = $2",
            org_id,
            conversation.customer_id,
        );
        let left: i64 = tx
            .scalar(&left, "counting a customer's conversations")
            .await?;
        let customers = if left == 0 {
            delete_customer_row(&mut tx, org_id, conversation.customer_id).await?
        } else {
            0
        };
        reload_from_here(&mut tx, org_id, version).await?;
        tx.commit().await?;
        Ok(Some(Erased {
            customers,
            conversations,
        }))
    })
    .await
}

/// Deletes a customer's conversations with their criterion scores and field values; answers
/// how many conversations.
async fn delete_conversations_of(tx: &mut Tx, org_id: i64, customer_id: i64) -> StoreResult<u64> {
    let scores = sql!(
        "DELETE FROM conversation_criterion_scores WHERE org_id = $1 AND conversation_id IN \
         (SELECT id FROM conversations WHERE org_id = $2 AND customer_id = $3)",
        org_id,
        org_id,
        customer_id,
    );
    tx.execute(&scores, "deleting a customer's criterion scores")
        .await?;
    let values = sql!(
        "DELETE FROM conversation_field_values WHERE org_id = $1 AND conversation_id IN \
         (SELECT id FROM conversations WHERE org_id = $2 AND customer_id = $3)",
        org_id,
        org_id,
        customer_id,
    );
    tx.execute(&values, "deleting a customer's field values")
        .await?;
    let conversations = sql!(
        "DELETE FROM conversations WHERE org_id = $1 AND customer_id = $2",
        org_id,
        customer_id,
    );
    tx.execute(&conversations, "deleting a customer's conversations")
        .await
}

async fn delete_customer_row(tx: &mut Tx, org_id: i64, customer_id: i64) -> StoreResult<u64> {
    let customer = sql!(
        "DELETE FROM customers WHERE org_id = $1 AND id = $2",
        org_id,
        customer_id,
    );
    tx.execute(&customer, "deleting a customer").await
}

/// Every table with an `org_id` column, children before the tables they refer to: the order an
/// organisation's rows are deleted in. (`sessions` and `sign_in_failures` are in the `auth`
/// file on SQLite, which its connections attach, and in the database itself on PostgreSQL;
/// `read_model_versions` goes last but one, after the rows it versions.)
pub const ORGANISATION_TABLES: [&str; 15] = [
    "import_column_mappings",
    "conversation_criterion_scores",
    "conversation_field_values",
    "conversations",
    "customers",
    "criteria",
    "custom_field_options",
    "custom_fields",
    "saved_views",
    "sessions",
    "sign_in_failures",
    "api_tokens",
    "users",
    "read_model_versions",
    "read_model_demand",
];

/// Deletes the organisation `org_id` and every row that carries its id, in one transaction;
/// `None` when there is no such organisation.
///
/// On SQLite, sign-in state (sessions, failed attempts) lives in a file of its own; SQLite
/// commits a transaction over two files of a WAL database atomically per file, so a crash at
/// the very moment of the commit could leave those rows behind. They name a person who no
/// longer exists, and a session is only accepted with its person, so they grant nothing.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_organisation(db: &Db, org_id: i64) -> StoreResult<Option<ErasedOrganisation>> {
    let erased = retry_transient(|| async {
        let mut tx = db.begin().await?;
        let find = sql!("SELECT id FROM organisations WHERE id = $1", org_id);
        if tx
            .fetch_optional::<IdRow>(&find, "finding an organisation to delete")
            .await?
            .is_none()
        {
            tx.rollback().await?;
            return Ok(None);
        }
        // Waits for the organisation's writers in flight; those that come later find no
        // organisation to write to.
        claim_write_version(&mut tx, org_id).await?;
        let mut erased = ErasedOrganisation::default();
        for table in ORGANISATION_TABLES {
            let mut delete = Sql::new(&format!("DELETE FROM {table} WHERE org_id = "));
            delete.bind(org_id);
            let deleted = tx
                .execute(&delete, "deleting an organisation's rows")
                .await?;
            match table {
                "customers" => erased.customers = deleted,
                "conversations" => erased.conversations = deleted,
                "users" => erased.people = deleted,
                "custom_fields" => erased.custom_fields = deleted,
                "api_tokens" => erased.api_tokens = deleted,
                "saved_views" => erased.saved_views = deleted,
                "sessions" => erased.sessions = deleted,
                _ => {}
            }
        }
        let organisation = sql!("DELETE FROM organisations WHERE id = $1", org_id);
        tx.execute(&organisation, "deleting an organisation")
            .await?;
        tx.commit().await?;
        Ok(Some(erased))
    })
    .await?;
    Ok(erased)
}
