//! The bulk write of an import: checked rows are staged in temporary tables (through `COPY`
//! on PostgreSQL, reused multi-row inserts on SQLite), then written into the real tables by a
//! few set-based statements. The staging tables live on disk (PostgreSQL's temporary tables
//! spill past `temp_buffers`; SQLite's go to a temporary file, see [`Db::begin_bulk`]), so a
//! file of any length costs the importing process only a chunk of rows.
//!
//! [`Db::begin_bulk`]: crate::db::Db::begin_bulk

use super::store::{NewConversation, WriteSummary};
use crate::db::{Backend, IdRow, Sql, StoreResult, Tx};
use crate::sql;
use crate::text::fold;

/// How staged rows reach PostgreSQL's staging tables. SQLite always inserts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Staging {
    /// `COPY … FROM STDIN`, one per chunk and table.
    #[default]
    Copy,
    /// Multi-row inserts, as on SQLite (kept to measure against `COPY`).
    Inserts,
}

/// Separates a field's key from its value, and one field from the next, in the text a
/// conversation's field values are compared by. Field values cannot hold control characters
/// (see [`crate::limits::text_problem`]) and keys are lower-case letters, digits and `_`.
const KEY_END: &str = "\u{1f}";
const FIELD_END: &str = "\u{1e}";

/// Staged rows per insert: 12 values a row keeps a statement far below SQLite's 32,766
/// placeholders, and a chunk of full statements reuses one prepared statement.
const ROWS_PER_INSERT: usize = 500;
/// Staged field values per insert (4 values each).
const VALUES_PER_INSERT: usize = 1_000;

const CREATE_ROWS_SQLITE: &str = "CREATE TEMP TABLE import_rows (
    line INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    customer TEXT NOT NULL,
    customer_name TEXT,
    customer_search TEXT NOT NULL,
    representative TEXT NOT NULL,
    representative_name TEXT NOT NULL,
    title TEXT NOT NULL,
    channel TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    score_hundredths BIGINT,
    fields TEXT NOT NULL
)";

// No key or index: COPY appends fastest to a bare table, and every later statement reads all
// of it anyway (hash joins after ANALYZE).
const CREATE_ROWS_POSTGRES: &str = r#"CREATE TEMP TABLE import_rows (
    line BIGINT NOT NULL,
    external_id TEXT COLLATE "C" NOT NULL,
    customer TEXT COLLATE "C" NOT NULL,
    customer_name TEXT,
    customer_search TEXT COLLATE "C" NOT NULL,
    representative TEXT COLLATE "C" NOT NULL,
    representative_name TEXT NOT NULL,
    title TEXT NOT NULL,
    channel TEXT NOT NULL,
    occurred_at_ms BIGINT NOT NULL,
    score_hundredths BIGINT,
    fields TEXT COLLATE "C" NOT NULL
)"#;

const CREATE_VALUES_SQLITE: &str = "CREATE TEMP TABLE import_values (
    line INTEGER NOT NULL,
    field_key TEXT NOT NULL,
    value TEXT NOT NULL,
    value_folded TEXT NOT NULL
)";

const CREATE_VALUES_POSTGRES: &str = r#"CREATE TEMP TABLE import_values (
    line BIGINT NOT NULL,
    field_key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    value_folded TEXT COLLATE "C" NOT NULL
)"#;

const CREATE_REPEATED: &str =
    "CREATE TEMP TABLE import_repeated (external_id TEXT NOT NULL, first_line BIGINT NOT NULL)";

const COPY_ROWS: &str = "COPY import_rows (line, external_id, customer, customer_name, \
    customer_search, representative, representative_name, title, channel, occurred_at_ms, \
    score_hundredths, fields) FROM STDIN";

const COPY_VALUES: &str = "COPY import_values (line, field_key, value, value_folded) FROM STDIN";

/// Creates the staging tables, empty, inside the import's transaction.
#[tracing::instrument(skip_all)]
pub async fn create_staging(tx: &mut Tx) -> StoreResult<()> {
    let (rows, values) = match tx.backend() {
        Backend::Sqlite => (CREATE_ROWS_SQLITE, CREATE_VALUES_SQLITE),
        Backend::Postgres => (CREATE_ROWS_POSTGRES, CREATE_VALUES_POSTGRES),
    };
    for statement in [rows, values, CREATE_REPEATED] {
        tx.execute(&Sql::new(statement), "creating the import's staging tables")
            .await?;
    }
    Ok(())
}

/// Drops the staging tables, before the transaction commits (SQLite would keep them on the
/// connection otherwise). A rollback drops them too.
#[tracing::instrument(skip_all)]
pub async fn drop_staging(tx: &mut Tx) -> StoreResult<()> {
    for statement in [
        "DROP TABLE import_rows",
        "DROP TABLE import_values",
        "DROP TABLE import_repeated",
    ] {
        tx.execute(&Sql::new(statement), "dropping the import's staging tables")
            .await?;
    }
    Ok(())
}

/// A conversation's field values as compared: sorted by key, each `key KEY_END value`, joined
/// by `FIELD_END`. The statements below build the same text from stored values.
fn fields_text(conversation: &NewConversation) -> String {
    let mut fields: Vec<&(String, String)> = conversation.fields.iter().collect();
    fields.sort();
    let mut text = String::new();
    for (n, (key, value)) in fields.into_iter().enumerate() {
        if n > 0 {
            text.push_str(FIELD_END);
        }
        text.push_str(key);
        text.push_str(KEY_END);
        text.push_str(value);
    }
    text
}

/// The text a customer is searched by, as `store::upsert_customers` writes it.
fn customer_search(conversation: &NewConversation) -> String {
    match &conversation.customer_name {
        Some(name) => fold(&format!("{}\n{name}", conversation.customer)),
        None => fold(&conversation.customer),
    }
}

/// The name a representative first seen in an import gets: the one given, or the email's
/// local part, as `store::find_or_add_representatives` names them.
fn representative_name(conversation: &NewConversation) -> String {
    conversation.representative_name.clone().unwrap_or_else(|| {
        let email = &conversation.representative;
        email.split('@').next().unwrap_or_default().to_owned()
    })
}

/// Adds checked conversations, each with its line, to the staging tables.
#[tracing::instrument(skip_all)]
pub async fn stage(
    tx: &mut Tx,
    lines: &[u64],
    conversations: &[NewConversation],
    staging: Staging,
) -> StoreResult<()> {
    if tx.backend() == Backend::Postgres && staging == Staging::Copy {
        let (rows, values) = copy_text(lines, conversations);
        tx.copy_in(COPY_ROWS, &rows, "staging imported rows")
            .await?;
        if !values.is_empty() {
            tx.copy_in(COPY_VALUES, &values, "staging imported field values")
                .await?;
        }
        return Ok(());
    }
    let staged: Vec<(u64, &NewConversation)> = lines.iter().copied().zip(conversations).collect();
    for part in staged.chunks(ROWS_PER_INSERT) {
        let mut sql = Sql::new(
            "INSERT INTO import_rows (line, external_id, customer, customer_name, \
             customer_search, representative, representative_name, title, channel, occurred_at_ms, \
             score_hundredths, fields)",
        );
        sql.push_values(part, |row, (line, conversation)| {
            row.bind(*line as i64)
                .bind(conversation.external_id.as_str())
                .bind(conversation.customer.as_str())
                .bind(conversation.customer_name.clone())
                .bind(customer_search(conversation))
                .bind(conversation.representative.as_str())
                .bind(representative_name(conversation))
                .bind(conversation.title.as_str())
                .bind(conversation.channel.as_str())
                .bind(conversation.occurred_at_ms)
                .bind(conversation.score_hundredths)
                .bind(fields_text(conversation));
        });
        tx.execute(&sql, "staging imported rows").await?;
    }
    let values: Vec<(u64, &(String, String))> = staged
        .iter()
        .flat_map(|(line, conversation)| conversation.fields.iter().map(|value| (*line, value)))
        .collect();
    for part in values.chunks(VALUES_PER_INSERT) {
        let mut sql = Sql::new("INSERT INTO import_values (line, field_key, value, value_folded)");
        sql.push_values(part, |row, (line, (key, value))| {
            row.bind(*line as i64)
                .bind(key.as_str())
                .bind(value.as_str())
                .bind(fold(value));
        });
        tx.execute(&sql, "staging imported field values").await?;
    }
    Ok(())
}

/// Appends one column of COPY's text format: `\N` for none, and the characters COPY reads
/// specially escaped.
fn copy_column(out: &mut Vec<u8>, value: Option<&str>, last: bool) {
    match value {
        None => out.extend_from_slice(b"\\N"),
        Some(value) => {
            for byte in value.bytes() {
                match byte {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(byte),
                }
            }
        }
    }
    out.push(if last { b'\n' } else { b'\t' });
}

/// The chunk as COPY text for `import_rows` and for `import_values`.
fn copy_text(lines: &[u64], conversations: &[NewConversation]) -> (Vec<u8>, Vec<u8>) {
    let mut rows = Vec::with_capacity(conversations.len() * 256);
    let mut values = Vec::new();
    for (line, conversation) in lines.iter().zip(conversations) {
        let line = line.to_string();
        let occurred = conversation.occurred_at_ms.to_string();
        let score = conversation.score_hundredths.map(|score| score.to_string());
        let columns = [
            Some(line.as_str()),
            Some(conversation.external_id.as_str()),
            Some(conversation.customer.as_str()),
            conversation.customer_name.as_deref(),
            Some(&customer_search(conversation)),
            Some(conversation.representative.as_str()),
            Some(&representative_name(conversation)),
            Some(conversation.title.as_str()),
            Some(conversation.channel.as_str()),
            Some(occurred.as_str()),
            score.as_deref(),
            Some(&fields_text(conversation)),
        ];
        let count = columns.len();
        for (n, column) in columns.into_iter().enumerate() {
            copy_column(&mut rows, column, n + 1 == count);
        }
        for (key, value) in &conversation.fields {
            copy_column(&mut values, Some(&line), false);
            copy_column(&mut values, Some(key), false);
            copy_column(&mut values, Some(value), false);
            copy_column(&mut values, Some(&fold(value)), true);
        }
    }
    (rows, values)
}

/// A line whose external id an earlier line of the same import has.
#[derive(Debug, sqlx::FromRow)]
pub struct Repeat {
    pub line: i64,
    pub external_id: String,
    pub first_line: i64,
    /// 1 when it says something else than the first line: another customer, representative,
    /// title, type, time, score or field values. (Names of the customer and representative
    /// are theirs, not the conversation's.)
    pub differs: i64,
}

/// Finds every staged line whose external id an earlier line has, hands each to `each` in
/// line order, and then leaves only the first line of each external id staged. Answers how
/// many repeats there were.
#[tracing::instrument(skip_all)]
pub async fn take_repeats(tx: &mut Tx, mut each: impl FnMut(Repeat) + Send) -> StoreResult<u64> {
    let find = Sql::new(
        "INSERT INTO import_repeated (external_id, first_line) \
         SELECT external_id, MIN(line) FROM import_rows GROUP BY external_id HAVING COUNT(*) > 1",
    );
    if tx.execute(&find, "finding repeated external ids").await? == 0 {
        return Ok(0);
    }
    let list = Sql::new(
        "SELECT r.line, r.external_id, d.first_line, \
         CAST(CASE WHEN r.customer = f.customer AND r.representative = f.representative \
         AND r.title = f.title AND r.channel = f.channel AND r.occurred_at_ms = f.occurred_at_ms \
         AND r.score_hundredths IS NOT DISTINCT FROM f.score_hundredths AND r.fields = f.fields \
         THEN 0 ELSE 1 END AS BIGINT) AS differs \
         FROM import_repeated d \
         JOIN import_rows f ON f.line = d.first_line \
         JOIN import_rows r ON r.external_id = d.external_id AND r.line > d.first_line \
         ORDER BY r.line",
    );
    let mut count = 0;
    tx.for_each_row(&list, "listing repeated external ids", |repeat: Repeat| {
        count += 1;
        each(repeat);
    })
    .await?;
    let drop = Sql::new(
        "DELETE FROM import_rows WHERE line IN (SELECT r.line FROM import_repeated d \
         JOIN import_rows r ON r.external_id = d.external_id AND r.line > d.first_line)",
    );
    tx.execute(&drop, "dropping repeated lines").await?;
    Ok(count)
}

/// Staged rows from which PostgreSQL joins them by hashing only (see [`prepare_write`]).
const LARGE_IMPORT_ROWS: u64 = 50_000;

/// Readies PostgreSQL's planner for the set-wise statements. It is shown the staged tables'
/// sizes (autovacuum never analyses temporary tables). The tables this transaction fills
/// (customers, users, conversations) keep the statistics of before it: on a first load they
/// say the organisation has a handful of rows, and the planner nested-loops 200
/// representatives over 400,000 staged rows (measured: 16 s of a 25 s statement). Analysing
/// them here would hold a lock that makes other organisations' imports wait for this one, so
/// a large import (every statement reads every staged row) joins by hashing instead, with
/// room to hash and sort in memory; a small one (an API batch) is planned as usual.
#[tracing::instrument(skip_all)]
pub async fn prepare_write(tx: &mut Tx, staged_rows: u64) -> StoreResult<()> {
    if tx.backend() != Backend::Postgres {
        return Ok(());
    }
    tx.execute(
        &Sql::new("ANALYZE import_rows, import_values"),
        "measuring the staged rows",
    )
    .await?;
    if staged_rows >= LARGE_IMPORT_ROWS {
        for setting in [
            "SET LOCAL enable_nestloop = off",
            "SET LOCAL work_mem = '64MB'",
        ] {
            tx.execute(&Sql::new(setting), "planning a large import")
                .await?;
        }
    }
    Ok(())
}

/// Writes the staged rows (one per external id by now) into the organisation's tables, all
/// stamped with `version`: new representatives (an existing user of any role is kept as
/// is), every customer named (the last name given wins; none keeps the stored one), changed
/// conversations with their field values replaced, and new ones. A conversation that is
/// already stored exactly so is left alone. Answers what was created and updated; the
/// caller counts the rest as skipped.
#[tracing::instrument(skip_all, fields(org_id = org_id))]
pub async fn write_staged(tx: &mut Tx, org_id: i64, version: i64) -> StoreResult<WriteSummary> {
    let representatives = sql!(
        "INSERT INTO users (org_id, email, name, role) \
         SELECT $1, r.representative, r.representative_name, 'representative' \
         FROM import_rows r \
         JOIN (SELECT representative, MIN(line) AS line FROM import_rows GROUP BY representative) f \
         ON f.line = r.line \
         WHERE true \
         ON CONFLICT (org_id, email) DO NOTHING",
        org_id,
    );
    tx.execute(&representatives, "saving representatives")
        .await?;

    // The line of each customer that names it last, or its last line when none does.
    let customers = sql!(
        "INSERT INTO customers (org_id, identifier, display_name, search_text, revision) \
         SELECT $1, r.customer, r.customer_name, r.customer_search, $2 \
         FROM import_rows r \
         JOIN (SELECT customer, COALESCE(MAX(CASE WHEN customer_name IS NULL THEN NULL ELSE line END), \
         MAX(line)) AS line FROM import_rows GROUP BY customer) c ON c.line = r.line \
         WHERE true \
         ON CONFLICT (org_id, identifier) DO UPDATE SET \
         display_name = COALESCE(excluded.display_name, customers.display_name), \
         search_text = CASE WHEN excluded.display_name IS NULL THEN customers.search_text \
         ELSE excluded.search_text END, revision = excluded.revision",
        org_id,
        version,
    );
    tx.execute(&customers, "saving customers").await?;

    // Before the inserts, so that only conversations stored before this import are compared.
    let update = sql!(
        "UPDATE conversations SET customer_id = t.customer_id, \
         representative_id = t.representative_id, title = t.title, channel = t.channel, \
         occurred_at_ms = t.occurred_at_ms, score_hundredths = t.score_hundredths, revision = $1 \
         FROM (SELECT r.external_id, c.id AS customer_id, u.id AS representative_id, r.title, \
         r.channel, r.occurred_at_ms, r.score_hundredths, r.fields \
         FROM import_rows r \
         JOIN customers c ON c.org_id = $2 AND c.identifier = r.customer \
         JOIN users u ON u.org_id = $3 AND u.email = r.representative) AS t \
         WHERE conversations.org_id = $4 AND conversations.external_id = t.external_id \
         AND (conversations.customer_id <> t.customer_id \
         OR conversations.representative_id <> t.representative_id \
         OR conversations.title <> t.title OR conversations.channel <> t.channel \
         OR conversations.occurred_at_ms <> t.occurred_at_ms \
         OR conversations.score_hundredths IS DISTINCT FROM t.score_hundredths \
         OR t.fields <> COALESCE((SELECT string_agg(f.key || $5 || v.value, $6 ORDER BY f.key) \
         FROM conversation_field_values v JOIN custom_fields f ON f.id = v.field_id \
         WHERE v.conversation_id = conversations.id), ''))",
        version,
        org_id,
        org_id,
        org_id,
        KEY_END,
        FIELD_END,
    );
    // An organisation without conversations has none to update: a first load skips the
    // statement, which would otherwise look every staged row up for nothing.
    let stored = sql!(
        "SELECT id FROM conversations WHERE org_id = $1 LIMIT 1",
        org_id
    );
    let any_stored: Option<IdRow> = tx.fetch_optional(&stored, "finding conversations").await?;
    let updated = if any_stored.is_some() {
        tx.execute(&update, "updating conversations").await?
    } else {
        0
    };
    if updated > 0 {
        let clear = sql!(
            "DELETE FROM conversation_field_values WHERE org_id = $1 AND conversation_id IN \
             (SELECT id FROM conversations WHERE org_id = $2 AND revision = $3)",
            org_id,
            org_id,
            version,
        );
        tx.execute(&clear, "replacing conversation field values")
            .await?;
    }

    let insert = sql!(
        "INSERT INTO conversations (org_id, external_id, customer_id, representative_id, title, \
         channel, occurred_at_ms, score_hundredths, revision) \
         SELECT $1, r.external_id, c.id, u.id, r.title, r.channel, r.occurred_at_ms, \
         r.score_hundredths, $2 \
         FROM import_rows r \
         JOIN customers c ON c.org_id = $3 AND c.identifier = r.customer \
         JOIN users u ON u.org_id = $4 AND u.email = r.representative \
         WHERE true \
         ORDER BY r.line \
         ON CONFLICT (org_id, external_id) DO NOTHING",
        org_id,
        version,
        org_id,
        org_id,
    );
    let created = tx.execute(&insert, "saving conversations").await?;

    // Every conversation this import created or changed carries `version`, and only those.
    let values = sql!(
        "INSERT INTO conversation_field_values (org_id, conversation_id, field_id, value, \
         value_folded) \
         SELECT $1, v.id, f.id, iv.value, iv.value_folded \
         FROM import_values iv \
         JOIN import_rows r ON r.line = iv.line \
         JOIN conversations v ON v.org_id = $2 AND v.external_id = r.external_id \
         JOIN custom_fields f ON f.org_id = $3 AND f.key = iv.field_key \
         WHERE v.revision = $4",
        org_id,
        org_id,
        org_id,
        version,
    );
    tx.execute(&values, "saving conversation field values")
        .await?;
    Ok(WriteSummary {
        created,
        updated,
        skipped: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::model::Channel;

    fn conversation(fields: &[(&str, &str)]) -> NewConversation {
        NewConversation {
            external_id: "c1".to_owned(),
            customer: "Zoë@example.com".to_owned(),
            customer_name: Some("Zoë\tZ\\".to_owned()),
            representative: "rep@acme.example".to_owned(),
            representative_name: None,
            title: "Line\nbreak".to_owned(),
            channel: Channel::Chat,
            occurred_at_ms: 5,
            score_hundredths: None,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let (rows, values) = copy_text(&[7], &[conversation(&[("queue", "Bil\\ling")])]);
        assert_eq!(
            String::from_utf8(rows).unwrap(),
            "7\tc1\tZoë@example.com\tZoë\\tZ\\\\\tzoë@example.com\\nzoë\\tz\\\\\trep@acme.example\trep\t\
             Line\\nbreak\tchat\t5\t\\N\tqueue\u{1f}Bil\\\\ling\n"
        );
        assert_eq!(
            String::from_utf8(values).unwrap(),
            "7\tqueue\tBil\\\\ling\tbil\\\\ling\n"
        );
    }

    #[test]
    fn field_values_compare_in_key_order() {
        let one = conversation(&[("b", "2"), ("a", "1")]);
        let other = conversation(&[("a", "1"), ("b", "2")]);
        assert_eq!(fields_text(&one), "a\u{1f}1\u{1e}b\u{1f}2");
        assert_eq!(fields_text(&one), fields_text(&other));
        assert_eq!(fields_text(&conversation(&[])), "");
    }
}
