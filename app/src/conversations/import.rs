//! Importing conversations: NDJSON lines, CSV rows, or the items of an API call, all read into
//! the same checked shape. A file (or a call) is written all or nothing; a bad one reports
//! every bad row (up to [`MAX_REPORTED_ERRORS`]) with its line, its field and why.

use super::model::ConversationKind;
use super::store::{write_batch, NewConversation, WriteSummary};
use crate::customers::query::is_field_key;
use crate::customers::read_model::claim_write_version;
use crate::db::{back_off, Db, StoreError, TRANSIENT_ATTEMPTS};
use crate::orgs::model::{CustomField, FieldKind};
use crate::orgs::store::{define_field, list_fields_in};
use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Bad rows reported at most; the count of all of them is always given.
pub const MAX_REPORTED_ERRORS: usize = 100;
/// The CSV column prefix of a custom field: `field.<key>`.
pub const CSV_FIELD_PREFIX: &str = "field.";

const TEXT_COLUMNS: [&str; 7] = [
    "external_id",
    "customer",
    "customer_name",
    "representative",
    "representative_name",
    "title",
    "type",
];

/// One thing wrong with one row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based line of a file, or 1-based item of an API call.
    pub line: u64,
    /// The column or key at fault, when there is one.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Every bad row of an input (the first [`MAX_REPORTED_ERRORS`] of them) and how many there were.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RowErrors {
    pub total: usize,
    pub errors: Vec<RowError>,
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} bad row(s); nothing was written", self.total)?;
        for error in &self.errors {
            writeln!(f, "  {error}")?;
        }
        if self.total > self.errors.len() {
            writeln!(f, "  … and {} more", self.total - self.errors.len())?;
        }
        Ok(())
    }
}

struct Collector {
    errors: Vec<RowError>,
    total: usize,
}

impl Collector {
    fn new() -> Self {
        Collector {
            errors: Vec::new(),
            total: 0,
        }
    }

    fn add(&mut self, line: u64, field: Option<&str>, message: impl Into<String>) {
        self.total += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError {
                line,
                field: field.map(str::to_owned),
                message: message.into(),
            });
        }
    }

    fn finish<T>(mut self, value: T) -> Result<T, RowErrors> {
        self.errors.sort_by_key(|error| error.line);
        if self.total == 0 {
            Ok(value)
        } else {
            Err(RowErrors {
                total: self.total,
                errors: self.errors,
            })
        }
    }
}

/// A row read from any format, before its values are checked.
struct RawRow {
    line: u64,
    text: HashMap<&'static str, String>,
    /// `None`: not scored. `Some(Err)`: not a number.
    score: Option<Result<f64, String>>,
    fields: Vec<(String, String)>,
}

/// A checked conversation and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub conversation: NewConversation,
}

fn check_row(raw: RawRow, errors: &mut Collector) -> Option<NewConversation> {
    let before = errors.total;
    let line = raw.line;
    let text = |name: &str| {
        raw.text
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut required = |name: &'static str| match text(name) {
        Some(value) => Some(value.to_owned()),
        None => {
            errors.add(line, Some(name), "is required");
            None
        }
    };
    let external_id = required("external_id");
    let customer = required("customer");
    let representative = required("representative");
    let title = required("title");
    let kind_text = required("type");
    let occurred_text = required("occurred_at");
    if let Some(email) = &representative {
        if !email.contains('@') {
            errors.add(
                line,
                Some("representative"),
                format!("`{email}` is not an email address"),
            );
        }
    }
    let kind = kind_text.as_deref().and_then(|kind| {
        let parsed = ConversationKind::parse(&kind.to_lowercase());
        if parsed.is_none() {
            errors.add(
                line,
                Some("type"),
                format!("`{kind}` is not voice, chat or email"),
            );
        }
        parsed
    });
    let occurred_at_ms = occurred_text.as_deref().and_then(|when| match DateTime::parse_from_rfc3339(when) {
        Ok(time) => Some(time.timestamp_millis()),
        Err(_) => {
            let message = if NaiveDateTime::parse_from_str(when, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
                format!("`{when}` has no UTC offset: add one, such as Z or +01:00")
            } else {
                format!("`{when}` is not an RFC 3339 date and time, such as 2026-03-14T09:30:00+01:00")
            };
            errors.add(line, Some("occurred_at"), message);
            None
        }
    });
    let score_hundredths = match &raw.score {
        None => None,
        Some(Err(text)) => {
            errors.add(line, Some("score"), format!("`{text}` is not a number"));
            None
        }
        Some(Ok(score)) if !score.is_finite() || !(0.0..=100.0).contains(score) => {
            errors.add(
                line,
                Some("score"),
                format!("{score} is not between 0 and 100"),
            );
            None
        }
        Some(Ok(score)) => Some((score * 100.0).round() as i64),
    };
    for (key, _) in &raw.fields {
        if !is_field_key(key) {
            errors.add(
                line,
                Some(key),
                "is not a valid field key: use lower-case letters, digits and underscores",
            );
        }
    }
    if errors.total > before {
        return None;
    }
    Some(NewConversation {
        external_id: external_id?,
        customer: customer?,
        customer_name: text("customer_name").map(str::to_owned),
        representative: representative?.to_lowercase(),
        representative_name: text("representative_name").map(str::to_owned),
        title: title?,
        kind: kind?,
        occurred_at_ms: occurred_at_ms?,
        score_hundredths,
        fields: raw
            .fields
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(key, value)| (key, value.trim().to_owned()))
            .collect(),
    })
}

fn checked(raws: Vec<RawRow>, mut errors: Collector) -> Result<Vec<ImportRow>, RowErrors> {
    let mut rows = Vec::with_capacity(raws.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for raw in raws {
        let line = raw.line;
        if let Some(conversation) = check_row(raw, &mut errors) {
            if let Some(first) = seen.insert(conversation.external_id.clone(), line) {
                errors.add(
                    line,
                    Some("external_id"),
                    format!("`{}` is already on line {first}", conversation.external_id),
                );
            }
            rows.push(ImportRow { line, conversation });
        }
    }
    errors.finish(rows)
}

/// Reads one JSON object (an NDJSON line or an API item) into a raw row.
fn raw_from_json(line: u64, value: Value, errors: &mut Collector) -> Option<RawRow> {
    let Value::Object(object) = value else {
        errors.add(line, None, "is not a JSON object");
        return None;
    };
    let mut raw = RawRow {
        line,
        text: HashMap::new(),
        score: None,
        fields: Vec::new(),
    };
    for (key, value) in object {
        match key.as_str() {
            "score" => {
                raw.score = match value {
                    Value::Null => None,
                    Value::Number(number) => number.as_f64().map(Ok),
                    other => Some(Err(other.to_string())),
                }
            }
            "fields" => match value {
                Value::Null => {}
                Value::Object(fields) => {
                    for (field, value) in fields {
                        match value {
                            Value::String(text) => raw.fields.push((field, text)),
                            Value::Null => {}
                            other => errors.add(
                                line,
                                Some(&format!("fields.{field}")),
                                format!("must be text, not {other}"),
                            ),
                        }
                    }
                }
                _ => errors.add(
                    line,
                    Some("fields"),
                    "must be an object of field key to text",
                ),
            },
            name => match TEXT_COLUMNS
                .iter()
                .chain(["occurred_at"].iter())
                .find(|known| **known == name)
            {
                Some(known) => match value {
                    Value::String(text) => {
                        raw.text.insert(known, text);
                    }
                    Value::Null => {}
                    other => errors.add(line, Some(known), format!("must be text, not {other}")),
                },
                None => errors.add(line, Some(name), "is not a known key"),
            },
        }
    }
    Some(raw)
}

/// Reads NDJSON: one JSON object per line; blank lines are skipped.
pub fn parse_ndjson(bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
    let mut errors = Collector::new();
    let mut raws = Vec::new();
    for (index, line_bytes) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let Ok(text) = std::str::from_utf8(line_bytes) else {
            errors.add(line, None, "is not valid UTF-8");
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value) => raws.extend(raw_from_json(line, value, &mut errors)),
            Err(error) => errors.add(line, None, format!("malformed JSON: {error}")),
        }
    }
    checked(raws, errors)
}

/// Reads the items of an API call; item N is reported as line N.
pub fn parse_items(items: Vec<Value>) -> Result<Vec<ImportRow>, RowErrors> {
    let mut errors = Collector::new();
    let raws = items
        .into_iter()
        .enumerate()
        .filter_map(|(index, item)| raw_from_json(index as u64 + 1, item, &mut errors))
        .collect();
    checked(raws, errors)
}

/// Reads CSV with a header row: the columns of the NDJSON shape, and `field.<key>` per field.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
    let mut errors = Collector::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = match reader.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            errors.add(1, None, format!("unreadable header row: {error}"));
            return errors.finish(Vec::new());
        }
    };
    enum Column {
        Text(&'static str),
        Occurred,
        Score,
        Field(String),
    }
    let mut columns = Vec::new();
    for header in headers.iter() {
        let Ok(name) = std::str::from_utf8(header) else {
            errors.add(1, None, "a column name is not valid UTF-8");
            continue;
        };
        let name = name.trim().trim_start_matches('\u{feff}');
        let column = if let Some(known) = TEXT_COLUMNS.iter().find(|known| **known == name) {
            Column::Text(known)
        } else if name == "occurred_at" {
            Column::Occurred
        } else if name == "score" {
            Column::Score
        } else if let Some(key) = name.strip_prefix(CSV_FIELD_PREFIX) {
            Column::Field(key.to_owned())
        } else {
            errors.add(
                1,
                Some(name),
                "is not a known column (custom fields are `field.<key>`)",
            );
            continue;
        };
        columns.push((name.to_owned(), column));
    }
    for required in [
        "external_id",
        "customer",
        "representative",
        "title",
        "type",
        "occurred_at",
    ] {
        if !columns.iter().any(|(name, _)| name == required) {
            errors.add(1, Some(required), "column is missing");
        }
    }
    if errors.total > 0 {
        return errors.finish(Vec::new());
    }
    let mut raws = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                errors.add(line, None, format!("unreadable CSV row: {error}"));
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        let mut raw = RawRow {
            line,
            text: HashMap::new(),
            score: None,
            fields: Vec::new(),
        };
        for ((name, column), cell) in columns.iter().zip(record.iter()) {
            let Ok(cell) = std::str::from_utf8(cell) else {
                errors.add(line, Some(name), "is not valid UTF-8");
                continue;
            };
            match column {
                Column::Text(known) => {
                    raw.text.insert(known, cell.to_owned());
                }
                Column::Occurred => {
                    raw.text.insert("occurred_at", cell.to_owned());
                }
                Column::Score => {
                    let cell = cell.trim();
                    if !cell.is_empty() {
                        raw.score = Some(cell.parse::<f64>().map_err(|_| cell.to_owned()));
                    }
                }
                Column::Field(key) => raw.fields.push((key.clone(), cell.to_owned())),
            }
        }
        raws.push(raw);
    }
    checked(raws, errors)
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Rows(RowErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did (or, on a dry run, would do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub written: WriteSummary,
    pub new_fields: usize,
}

/// Writes checked rows in one transaction. Unknown field keys become text fields; a select
/// field's value must be one of its options. A dry run does all of it, then rolls back.
/// A transaction that fails only because of concurrent writers is tried again.
pub async fn import_rows(
    db: &Db,
    org_id: i64,
    rows: &[ImportRow],
    dry_run: bool,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut attempt = 1;
    loop {
        match import_once(db, org_id, rows, dry_run, progress).await {
            Err(ImportError::Store(error))
                if error.is_transient() && attempt < TRANSIENT_ATTEMPTS =>
            {
                back_off(attempt, &error).await;
                attempt += 1;
            }
            Ok(summary) => {
                db.refresh_statistics().await?;
                return Ok(summary);
            }
            result => return result,
        }
    }
}

async fn import_once(
    db: &Db,
    org_id: i64,
    rows: &[ImportRow],
    dry_run: bool,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    // The version is claimed first, so that this organisation's other writers wait here and
    // the fields read next cannot change before this transaction ends.
    let mut tx = db.begin().await?;
    let version = claim_write_version(&mut tx, org_id).await?;
    let existing = list_fields_in(&mut tx, org_id).await?;
    let mut ids: BTreeMap<String, i64> = existing
        .iter()
        .map(|f| (f.field.key.clone(), f.id))
        .collect();
    let options: HashMap<&str, &[String]> = existing
        .iter()
        .filter(|f| f.field.kind == FieldKind::Select)
        .map(|f| (f.field.key.as_str(), f.field.options.as_slice()))
        .collect();
    let mut errors = Collector::new();
    let mut new_keys: Vec<String> = Vec::new();
    for row in rows {
        for (key, value) in &row.conversation.fields {
            if let Some(allowed) = options.get(key.as_str()) {
                if !allowed.iter().any(|option| option == value) {
                    errors.add(
                        row.line,
                        Some(&format!("fields.{key}")),
                        format!(
                            "`{value}` is not one of the options: {}",
                            allowed.join(", ")
                        ),
                    );
                }
            } else if !ids.contains_key(key) && !new_keys.contains(key) {
                new_keys.push(key.clone());
            }
        }
    }
    errors.finish(()).map_err(ImportError::Rows)?;
    let first_position = existing.len() as i64;
    for (offset, key) in new_keys.iter().enumerate() {
        let field = CustomField {
            key: key.clone(),
            label: key.replace('_', " "),
            kind: FieldKind::Text,
            options: Vec::new(),
        };
        let id = define_field(&mut tx, org_id, &field, first_position + offset as i64).await?;
        ids.insert(key.clone(), id);
    }
    let conversations: Vec<NewConversation> =
        rows.iter().map(|row| row.conversation.clone()).collect();
    let ids: HashMap<String, i64> = ids.into_iter().collect();
    let written = write_batch(&mut tx, org_id, version, &conversations, &ids, progress).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(ImportSummary {
        written,
        new_fields: new_keys.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"external_id": "c1", "customer": "zoe@example.com", "customer_name": "Zoë", "representative": "Rep@Acme.example", "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00+01:00", "score": 87.25, "fields": {"queue": "Billing"}}"#;

    fn errors_of(result: Result<Vec<ImportRow>, RowErrors>) -> Vec<String> {
        match result {
            Ok(_) => panic!("expected errors"),
            Err(errors) => errors.errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_good_ndjson_line_becomes_a_conversation() {
        let rows = parse_ndjson(format!("{GOOD}\n\n").as_bytes()).expect("valid");
        assert_eq!(rows.len(), 1);
        let conversation = &rows[0].conversation;
        assert_eq!(conversation.score_hundredths, Some(8725));
        assert_eq!(conversation.occurred_at_ms, 1_773_477_000_000);
        assert_eq!(conversation.representative, "rep@acme.example");
        assert_eq!(
            conversation.fields,
            vec![("queue".to_owned(), "Billing".to_owned())]
        );
    }

    #[test]
    fn every_bad_line_is_reported_with_its_line_field_and_reason() {
        let lines = [
            GOOD.to_owned(),
            "{not json".to_owned(),
            GOOD.replace("+01:00", "").replace("c1", "c2"),
            GOOD.replace("87.25", "101").replace("c1", "c3"),
            GOOD.replace(r#""title": "Hello", "#, "")
                .replace("c1", "c4"),
            GOOD.replace("chat", "fax").replace("c1", "c5"),
            GOOD.to_owned(),
        ];
        let mut bytes = lines.join("\n").into_bytes();
        bytes.extend_from_slice(b"\n\xff\xfe\n");
        let errors = errors_of(parse_ndjson(&bytes));
        assert_eq!(
            errors,
            vec![
                "line 2: malformed JSON: key must be a string at line 1 column 2",
                "line 3: occurred_at: `2026-03-14T09:30:00` has no UTC offset: add one, such as Z or +01:00",
                "line 4: score: 101 is not between 0 and 100",
                "line 5: title: is required",
                "line 6: type: `fax` is not voice, chat or email",
                "line 7: external_id: `c1` is already on line 1",
                "line 8: is not valid UTF-8",
            ]
        );
    }

    #[test]
    fn csv_rows_read_like_ndjson_lines() {
        let csv = "external_id,customer,customer_name,representative,title,type,occurred_at,score,field.queue\n\
                   c1,zoe@example.com,Zoë,rep@acme.example,\"Hello, again\",voice,2026-03-14T09:30:00Z,87.5,Billing\n\
                   c2,ann@example.com,,rep@acme.example,Unscored,email,2026-03-15T09:30:00Z,,\n";
        let rows = parse_csv(csv.as_bytes()).expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].conversation.title, "Hello, again");
        assert_eq!(rows[0].conversation.score_hundredths, Some(8750));
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].conversation.customer_name, None);
        assert_eq!(rows[1].conversation.score_hundredths, None);
        assert!(rows[1].conversation.fields.is_empty());
    }

    #[test]
    fn bad_csv_is_reported_by_line() {
        let missing = "external_id,customer,title\nc1,zoe@example.com,Hi\n";
        let errors = errors_of(parse_csv(missing.as_bytes()));
        assert!(
            errors.contains(&"line 1: representative: column is missing".to_owned()),
            "{errors:?}"
        );
        let unknown = "external_id,customer,representative,title,type,occurred_at,colour\n";
        assert!(errors_of(parse_csv(unknown.as_bytes()))
            .iter()
            .any(|e| e.starts_with("line 1: colour: is not a known column")));
        let rows = "external_id,customer,representative,title,type,occurred_at,score\n\
                    c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,high\n\
                    c2,zoe@example.com,rep@acme.example,,chat,2026-03-14T09:30:00Z,50\n";
        assert_eq!(
            errors_of(parse_csv(rows.as_bytes())),
            vec![
                "line 2: score: `high` is not a number",
                "line 3: title: is required"
            ]
        );
    }

    #[test]
    fn at_most_a_hundred_errors_are_listed_but_all_are_counted() {
        let bad: Vec<String> = (0..150)
            .map(|i| format!("{{\"external_id\": \"c{i}\"}}"))
            .collect();
        match parse_ndjson(bad.join("\n").as_bytes()) {
            Err(errors) => {
                assert_eq!(errors.errors.len(), MAX_REPORTED_ERRORS);
                assert_eq!(errors.total, 750);
            }
            Ok(_) => panic!("expected errors"),
        }
    }
}
