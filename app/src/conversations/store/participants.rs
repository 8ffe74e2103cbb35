//! The people a batch of conversations names: its customers (added, or renamed when a
//! display name is given) and its representatives (found by email, or added without a
//! password), within the batch's transaction.

use super::{NewConversation, ROWS_PER_STATEMENT};
use crate::db::{Sql, StoreResult, Tx};
use crate::orgs::model::Role;
use crate::orgs::store::{upsert_user, NewUser};
use crate::text::fold;
use std::collections::{BTreeSet, HashMap};

/// A customer of the batch as stored.
#[derive(sqlx::FromRow)]
pub(super) struct CustomerRow {
    pub(super) id: i64,
    pub(super) identifier: String,
}

#[derive(sqlx::FromRow)]
struct UserIdRow {
    id: i64,
    email: String,
}

/// The key a representative's email is known by: trimmed and lower-cased, as users store it.
pub(super) fn rep_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Adds the batch's new customers and renames the ones given a display name (the last name
/// given wins). Answers every customer by trimmed identifier.
pub(super) async fn upsert_customers(
    tx: &mut Tx,
    org_id: i64,
    version: i64,
    batch: &[NewConversation],
) -> StoreResult<HashMap<String, CustomerRow>> {
    let mut names: HashMap<&str, Option<&str>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for conversation in batch {
        let identifier = conversation.customer.trim();
        let name = conversation
            .customer_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty());
        match names.get_mut(identifier) {
            Some(known) => {
                if name.is_some() {
                    *known = name;
                }
            }
            None => {
                names.insert(identifier, name);
                order.push(identifier);
            }
        }
    }
    let mut ids = HashMap::with_capacity(order.len());
    for chunk in order.chunks(ROWS_PER_STATEMENT) {
        let mut sql = Sql::new(
            "INSERT INTO customers (org_id, identifier, display_name, search_text, revision)",
        );
        sql.push_values(chunk, |row, identifier| {
            let name = names[identifier];
            let search_text = match name {
                Some(name) => fold(&format!("{identifier}\n{name}")),
                None => fold(identifier),
            };
            row.bind(org_id)
                .bind(*identifier)
                .bind(name.map(str::to_owned))
                .bind(search_text)
                .bind(version);
        });
        // A missing name keeps the stored one; the update also makes RETURNING answer for
        // customers that already exist.
        sql.push(
            " ON CONFLICT (org_id, identifier) DO UPDATE SET \
             display_name = COALESCE(excluded.display_name, customers.display_name), \
             search_text = CASE WHEN excluded.display_name IS NULL THEN customers.search_text \
             ELSE excluded.search_text END, revision = excluded.revision \
             RETURNING id, identifier",
        );
        let rows: Vec<CustomerRow> = tx.fetch_all(&sql, "saving customers").await?;
        ids.extend(rows.into_iter().map(|row| (row.identifier.clone(), row)));
    }
    Ok(ids)
}

/// The ids of the batch's representatives by [`rep_key`]: an existing user of any role keeps
/// their role and name; an unknown email becomes a representative without a password.
pub(super) async fn find_or_add_representatives(
    tx: &mut Tx,
    org_id: i64,
    batch: &[NewConversation],
) -> StoreResult<HashMap<String, i64>> {
    let mut wanted: Vec<(String, &NewConversation)> = Vec::new();
    let mut seen = BTreeSet::new();
    for conversation in batch {
        let key = rep_key(&conversation.representative);
        if seen.insert(key.clone()) {
            wanted.push((key, conversation));
        }
    }
    let mut ids = HashMap::with_capacity(wanted.len());
    for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
        let mut sql = Sql::new("SELECT id, email FROM users WHERE org_id = $1 AND email IN (");
        sql.arg(org_id)
            .push_list(chunk.iter().map(|(key, _)| key.as_str()))
            .push(")");
        let rows: Vec<UserIdRow> = tx.fetch_all(&sql, "finding representatives").await?;
        ids.extend(rows.into_iter().map(|row| (row.email, row.id)));
    }
    for (key, conversation) in wanted {
        if ids.contains_key(&key) {
            continue;
        }
        let name = conversation
            .representative_name
            .clone()
            .unwrap_or_else(|| key.split('@').next().unwrap_or_default().to_owned());
        let user = NewUser {
            email: &conversation.representative,
            name: &name,
            role: Role::Representative,
            password_hash: None,
        };
        let id = upsert_user(tx, org_id, &user).await?;
        ids.insert(key, id);
    }
    Ok(ids)
}
