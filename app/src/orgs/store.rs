//! Store code for organisations, users and custom field definitions.

use super::model::{CustomField, FieldKind, Role, ScoreBands};
use crate::db::{retry_transient, Db, Sql, StoreError, StoreResult, Tx};
use crate::limits::{
    is_field_key, text_problem, FIELD_KEY_RULE, MAX_FIELDS_PER_ORG, MAX_FIELD_VALUE_CHARS,
    MAX_IDENTIFIER_CHARS,
};
use crate::sql;
use crate::versions::{claim_write_version, reload_from_here};

/// Refuses a value over its limit or with control characters, naming what it is.
fn check_text(what: &str, value: &str, max_chars: usize) -> StoreResult<()> {
    match text_problem(value, max_chars) {
        Some(problem) => Err(StoreError::Invalid(format!("the {what} {problem}"))),
        None => Ok(()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Organisation {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
}

/// A custom field with its database id, for the store's own joins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredField {
    pub id: i64,
    pub field: CustomField,
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: i64,
    key: String,
    label: String,
    kind: String,
}

#[derive(sqlx::FromRow)]
struct OptionRow {
    field_id: i64,
    value: String,
}

pub fn is_org_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[tracing::instrument(skip_all)]
pub async fn create_organisation(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    time_zone: &str,
) -> StoreResult<i64> {
    if !is_org_slug(slug) {
        return Err(StoreError::Invalid(format!(
            "`{slug}` is not a valid organisation slug: use lower-case letters, digits and dashes"
        )));
    }
    if super::time::parse_time_zone(time_zone).is_none() {
        return Err(StoreError::Invalid(format!(
            "`{time_zone}` is not an IANA time zone (for example Europe/London)"
        )));
    }
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(
            "an organisation needs a name".to_owned(),
        ));
    }
    check_text("organisation name", name.trim(), MAX_IDENTIFIER_CHARS)?;
    let sql = sql!(
        "INSERT INTO organisations (slug, name, time_zone) VALUES ($1, $2, $3) RETURNING id",
        slug,
        name.trim(),
        time_zone,
    );
    tx.scalar(&sql, "creating an organisation").await
}

#[tracing::instrument(skip_all)]
pub async fn find_organisation(db: &Db, slug: &str) -> StoreResult<Option<Organisation>> {
    let sql = sql!(
        "SELECT id, slug, name, time_zone FROM organisations WHERE slug = $1",
        slug
    );
    db.fetch_optional(&sql, "finding an organisation").await
}

#[derive(sqlx::FromRow)]
struct BandsRow {
    low: i64,
    high: i64,
}

/// The organisation's score bands; the default ones for an organisation that does not exist.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn score_bands(db: &Db, org_id: i64) -> StoreResult<ScoreBands> {
    let sql = sql!(
        "SELECT score_band_low AS low, score_band_high AS high FROM organisations WHERE id = $1",
        org_id
    );
    let row: Option<BandsRow> = db.fetch_optional(&sql, "reading score bands").await?;
    // The table's CHECK keeps stored bands valid; `new` is only the net under it.
    Ok(row
        .and_then(|row| ScoreBands::new(row.low, row.high).ok())
        .unwrap_or_default())
}

/// Sets the organisation's score bands; refuses bands out of range or out of order, and an
/// organisation that does not exist.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn set_score_bands(db: &Db, org_id: i64, bands: ScoreBands) -> StoreResult<()> {
    let bands = ScoreBands::new(bands.low, bands.high).map_err(StoreError::Invalid)?;
    let sql = sql!(
        "UPDATE organisations SET score_band_low = $1, score_band_high = $2 WHERE id = $3",
        bands.low,
        bands.high,
        org_id,
    );
    match db.execute(&sql, "setting score bands").await? {
        0 => Err(StoreError::Invalid(format!(
            "there is no organisation with id {org_id}"
        ))),
        _ => Ok(()),
    }
}

#[tracing::instrument(skip_all)]
pub async fn count_organisations(db: &Db) -> StoreResult<i64> {
    db.scalar(
        &sql!("SELECT COUNT(*) FROM organisations"),
        "counting organisations",
    )
    .await
}

/// The id of the organisation's user with this email (emails are stored trimmed and
/// lower-cased).
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn find_user_id(db: &Db, org_id: i64, email: &str) -> StoreResult<Option<i64>> {
    let sql = sql!(
        "SELECT id FROM users WHERE org_id = $1 AND email = $2",
        org_id,
        email.trim().to_lowercase(),
    );
    let row: Option<crate::db::IdRow> = db.fetch_optional(&sql, "finding a user").await?;
    Ok(row.map(|row| row.id))
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
}

/// Adds a user, or updates the name and role of the one with that email.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn upsert_user(tx: &mut Tx, org_id: i64, user: &NewUser<'_>) -> StoreResult<i64> {
    let email = user.email.trim().to_lowercase();
    check_text("email", &email, MAX_IDENTIFIER_CHARS)?;
    check_text("name", user.name.trim(), MAX_IDENTIFIER_CHARS)?;
    if !email.contains('@') {
        return Err(StoreError::Invalid(format!(
            "`{}` is not an email address",
            user.email
        )));
    }
    let sql = sql!(
        "INSERT INTO users (org_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, email) DO UPDATE SET name = excluded.name, role = excluded.role \
         RETURNING id",
        org_id,
        email,
        user.name.trim(),
        user.role.as_str(),
        user.password_hash.map(str::to_owned),
    );
    tx.scalar(&sql, "saving a user").await
}

/// Defines a custom field, or updates the label, kind and options of the one with that key.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn define_field(
    tx: &mut Tx,
    org_id: i64,
    field: &CustomField,
    position: i64,
) -> StoreResult<i64> {
    if !is_field_key(&field.key) {
        return Err(StoreError::Invalid(format!(
            "`{}` {FIELD_KEY_RULE}",
            field.key.escape_debug()
        )));
    }
    check_text("field label", field.label.trim(), MAX_IDENTIFIER_CHARS)?;
    for option in &field.options {
        check_text("option", option, MAX_FIELD_VALUE_CHARS)?;
    }
    let count = sql!(
        "SELECT COUNT(*) FROM custom_fields WHERE org_id = $1 AND key <> $2",
        org_id,
        field.key.as_str(),
    );
    let others: i64 = tx.scalar(&count, "counting custom fields").await?;
    if others >= MAX_FIELDS_PER_ORG as i64 {
        return Err(StoreError::Invalid(format!(
            "the organisation already has {others} custom fields, the most it may have \
             ({MAX_FIELDS_PER_ORG}); redefine an existing field instead of adding `{}`",
            field.key
        )));
    }
    let sql = sql!(
        "INSERT INTO custom_fields (org_id, key, label, kind, position) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, key) DO UPDATE SET label = excluded.label, kind = excluded.kind, \
         position = excluded.position RETURNING id",
        org_id,
        field.key.as_str(),
        field.label.trim(),
        field.kind.as_str(),
        position,
    );
    let field_id: i64 = tx.scalar(&sql, "saving a custom field").await?;
    let clear = sql!(
        "DELETE FROM custom_field_options WHERE field_id = $1",
        field_id
    );
    tx.execute(&clear, "replacing custom field options").await?;
    if !field.options.is_empty() {
        let mut insert =
            Sql::new("INSERT INTO custom_field_options (org_id, field_id, position, value)");
        insert
            .push_values(
                field.options.iter().enumerate(),
                |row, (position, option)| {
                    row.bind(org_id)
                        .bind(field_id)
                        .bind(position as i64)
                        .bind(option.as_str());
                },
            )
            .push(" ON CONFLICT (field_id, value) DO NOTHING");
        tx.execute(&insert, "saving a custom field's options")
            .await?;
    }
    Ok(field_id)
}

/// Creates an organisation with its people and its custom fields (positioned in the order
/// given), all in `tx`: how the demo and the browser tests' fixture start one.
#[tracing::instrument(skip_all)]
pub async fn create_organisation_with(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    time_zone: &str,
    users: &[NewUser<'_>],
    fields: &[CustomField],
) -> StoreResult<i64> {
    let org_id = create_organisation(tx, slug, name, time_zone).await?;
    for user in users {
        upsert_user(tx, org_id, user).await?;
    }
    for (position, field) in fields.iter().enumerate() {
        define_field(tx, org_id, field, position as i64).await?;
    }
    Ok(org_id)
}

/// What deleting a custom field removed besides the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedField {
    /// Conversations that had a value for the field.
    pub values: u64,
    /// The options of a select field.
    pub options: u64,
}

/// Deletes the organisation's custom field `key` with its options and every conversation's
/// value for it, in one transaction; `None` when the organisation has no such field.
///
/// The transaction claims a write version like any write of conversations (so it runs after,
/// or before, the organisation's other writers, never between their reading the fields and
/// writing values) and marks that version as one the read models must load afresh: the
/// values that disappear are not rows a read model could read as changed.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn delete_field(db: &Db, org_id: i64, key: &str) -> StoreResult<Option<DeletedField>> {
    retry_transient(|| async {
        let mut tx = db.begin().await?;
        let version = claim_write_version(&mut tx, org_id).await?;
        let find = sql!(
            "SELECT id FROM custom_fields WHERE org_id = $1 AND key = $2",
            org_id,
            key
        );
        let Some(field) = tx
            .fetch_optional::<crate::db::IdRow>(&find, "finding a custom field")
            .await?
        else {
            // Nothing changed: the claimed version is given back.
            tx.rollback().await?;
            return Ok(None);
        };
        let values = sql!(
            "DELETE FROM conversation_field_values WHERE org_id = $1 AND field_id = $2",
            org_id,
            field.id,
        );
        let values = tx
            .execute(&values, "deleting a custom field's values")
            .await?;
        let options = sql!(
            "DELETE FROM custom_field_options WHERE org_id = $1 AND field_id = $2",
            org_id,
            field.id,
        );
        let options = tx
            .execute(&options, "deleting a custom field's options")
            .await?;
        let delete = sql!(
            "DELETE FROM custom_fields WHERE org_id = $1 AND id = $2",
            org_id,
            field.id
        );
        tx.execute(&delete, "deleting a custom field").await?;
        reload_from_here(&mut tx, org_id, version).await?;
        tx.commit().await?;
        Ok(Some(DeletedField { values, options }))
    })
    .await
}

/// The organisation's custom fields, in display order, with their options.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn list_fields(db: &Db, org_id: i64) -> StoreResult<Vec<StoredField>> {
    let rows: Vec<FieldRow> = db
        .fetch_all(&fields_sql(org_id), "listing custom fields")
        .await?;
    let options: Vec<OptionRow> = db
        .fetch_all(&options_sql(org_id), "listing custom field options")
        .await?;
    Ok(stored_fields(rows, options))
}

/// [`list_fields`] inside a transaction.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn list_fields_in(tx: &mut Tx, org_id: i64) -> StoreResult<Vec<StoredField>> {
    let rows: Vec<FieldRow> = tx
        .fetch_all(&fields_sql(org_id), "listing custom fields")
        .await?;
    let options: Vec<OptionRow> = tx
        .fetch_all(&options_sql(org_id), "listing custom field options")
        .await?;
    Ok(stored_fields(rows, options))
}

fn fields_sql(org_id: i64) -> Sql {
    sql!(
        "SELECT id, key, label, kind FROM custom_fields WHERE org_id = $1 ORDER BY position, key",
        org_id
    )
}

fn options_sql(org_id: i64) -> Sql {
    sql!(
        "SELECT field_id, value FROM custom_field_options WHERE org_id = $1 \
         ORDER BY field_id, position",
        org_id
    )
}

fn stored_fields(rows: Vec<FieldRow>, options: Vec<OptionRow>) -> Vec<StoredField> {
    rows.into_iter()
        .map(|row| StoredField {
            id: row.id,
            field: CustomField {
                options: options
                    .iter()
                    .filter(|option| option.field_id == row.id)
                    .map(|option| option.value.clone())
                    .collect(),
                kind: FieldKind::parse(&row.kind).unwrap_or(FieldKind::Text),
                key: row.key,
                label: row.label,
            },
        })
        .collect()
}

/// A stored value holding a character that makes text look like other text
/// ([`crate::limits::is_lookalike_char`]), written before the rule refused them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookalikeValue {
    /// The organisation's slug.
    pub organisation: String,
    /// What it is, as `table.column`.
    pub what: &'static str,
    /// The row: its id, or `conversation/field` for a conversation's field value.
    pub row: String,
    pub value: String,
}

#[derive(sqlx::FromRow)]
struct LookalikeRow {
    slug: String,
    row_key: String,
    value: String,
}

/// Where stored text may hold look-alike characters: `(what, table, column, row key)`.
const CHECKED_TEXT: &[(&str, &str, &str, &str)] = &[
    (
        "organisations.name",
        "organisations",
        "name",
        "CAST(x.id AS TEXT)",
    ),
    ("users.email", "users", "email", "CAST(x.id AS TEXT)"),
    ("users.name", "users", "name", "CAST(x.id AS TEXT)"),
    (
        "customers.identifier",
        "customers",
        "identifier",
        "CAST(x.id AS TEXT)",
    ),
    (
        "customers.display_name",
        "customers",
        "display_name",
        "CAST(x.id AS TEXT)",
    ),
    (
        "conversations.external_id",
        "conversations",
        "external_id",
        "CAST(x.id AS TEXT)",
    ),
    (
        "conversations.title",
        "conversations",
        "title",
        "CAST(x.id AS TEXT)",
    ),
    (
        "custom_fields.label",
        "custom_fields",
        "label",
        "CAST(x.id AS TEXT)",
    ),
    (
        "custom_field_options.value",
        "custom_field_options",
        "value",
        "CAST(x.field_id AS TEXT) || '/' || CAST(x.position AS TEXT)",
    ),
    (
        "conversation_field_values.value",
        "conversation_field_values",
        "value",
        "CAST(x.conversation_id AS TEXT) || '/' || CAST(x.field_id AS TEXT)",
    ),
    (
        "saved_views.name",
        "saved_views",
        "name",
        "CAST(x.id AS TEXT)",
    ),
];

/// Most rows reported per column, so that a database full of them cannot fill memory.
pub const MAX_LOOKALIKES_PER_COLUMN: i64 = 1_000;

/// Every stored value (up to [`MAX_LOOKALIKES_PER_COLUMN`] per column) that holds a
/// look-alike character; nothing is changed.
#[tracing::instrument(skip_all)]
pub async fn lookalike_values(db: &Db) -> StoreResult<Vec<LookalikeValue>> {
    let mut found = Vec::new();
    for &(what, table, column, row_key) in CHECKED_TEXT {
        let org = if table == "organisations" {
            "x.id"
        } else {
            "x.org_id"
        };
        let mut sql = Sql::new(&format!(
            "SELECT o.slug, {row_key} AS row_key, x.{column} AS value \
             FROM {table} x JOIN organisations o ON o.id = {org} WHERE "
        ));
        for (i, c) in crate::limits::LOOKALIKE_CHARS.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(&format!("x.{column} LIKE "))
                .bind(format!("%{c}%"));
        }
        sql.push(" ORDER BY o.slug LIMIT ")
            .bind(MAX_LOOKALIKES_PER_COLUMN);
        let rows: Vec<LookalikeRow> = db.fetch_all(&sql, "finding look-alike text").await?;
        found.extend(rows.into_iter().map(|row| LookalikeValue {
            organisation: row.slug,
            what,
            row: row.row_key,
            value: row.value,
        }));
    }
    Ok(found)
}
