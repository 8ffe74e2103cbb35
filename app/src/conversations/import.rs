//! Importing conversations: NDJSON lines, CSV rows, or the items of an API call, all read into
//! the same checked shape. A file (or a call) is written all or nothing; a bad one reports
//! every bad row (up to [`MAX_REPORTED_ERRORS`]) with its line, its field and why.
//!
//! A file is streamed: read a chunk of rows at a time ([`CHUNK_ROWS`]) and each chunk staged
//! in temporary tables as it comes, all inside one transaction, so that memory stays flat
//! however long the file; once all of it is read and nothing is wrong, the staged rows are
//! written set-wise ([`bulk_store`]). A bad row does not stop the reading: every bad row is
//! reported, and the transaction is rolled back.

use super::bulk_store::{self, Staging};
use super::model::ConversationKind;
use super::store::{write_part, NewConversation, PartWrite, WriteSummary};
use crate::db::{back_off, Db, Sql, StoreError, Tx, TRANSIENT_ATTEMPTS};
use crate::limits::{
    is_field_key, text_problem, FIELD_KEY_RULE, MAX_FIELDS_PER_ORG, MAX_FIELD_VALUE_CHARS,
    MAX_IDENTIFIER_CHARS, MAX_NEW_FIELDS_PER_BATCH, MAX_TITLE_CHARS,
};
use crate::orgs::model::{CustomField, FieldKind};
use crate::orgs::store::{define_field, list_fields_in};
use crate::versions::claim_write_version;
use chrono::{DateTime, NaiveDateTime};
pub use json_items::BatchRefusal;
use json_items::{read_batch, Item};
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;

mod json_items;

/// Bad rows reported at most; the count of all of them is always given.
pub const MAX_REPORTED_ERRORS: usize = 100;
/// The CSV column prefix of a custom field: `field.<key>`.
pub const CSV_FIELD_PREFIX: &str = "field.";
/// Rows of a file read, checked and written at a time.
pub const CHUNK_ROWS: usize = 5_000;
/// The longest NDJSON line read; a longer one is reported and skipped.
pub const MAX_LINE_BYTES: usize = 4 << 20;
/// New field keys remembered at most while counting them for the error that there are too
/// many.
const MAX_COUNTED_NEW_KEYS: usize = 1_000;
/// How a field may be defined by hand, for the errors that refuse new fields.
const DEFINE_FIELD_COMMAND: &str =
    "server field define --org SLUG --key KEY --label LABEL --kind text|select";
/// The UTF-8 byte-order mark some programs start a file with.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

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

/// Gathers the errors of an input: all are counted, and the [`MAX_REPORTED_ERRORS`] with the
/// lowest lines are kept (errors mostly arrive in line order, but not always: a chunk's rows
/// are checked against the organisation's fields after they are all read).
struct Collector {
    /// Each error with the order it came in, to keep a line's errors in that order.
    errors: Vec<(u64, RowError)>,
    total: usize,
    /// The highest line kept, once the list is full.
    highest_kept: u64,
}

impl Collector {
    fn new() -> Self {
        Collector {
            errors: Vec::new(),
            total: 0,
            highest_kept: 0,
        }
    }

    fn add(&mut self, line: u64, field: Option<&str>, message: impl Into<String>) {
        let arrival = self.total as u64;
        self.total += 1;
        if self.errors.len() == MAX_REPORTED_ERRORS && line >= self.highest_kept {
            return;
        }
        let error = RowError {
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        };
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push((arrival, error));
        } else if let Some(slot) = self
            .errors
            .iter_mut()
            .max_by_key(|(arrival, error)| (error.line, *arrival))
        {
            *slot = (arrival, error);
        }
        if self.errors.len() == MAX_REPORTED_ERRORS {
            self.highest_kept = self
                .errors
                .iter()
                .map(|(_, error)| error.line)
                .max()
                .unwrap_or(0);
        }
    }

    fn finish<T>(mut self, value: T) -> Result<T, RowErrors> {
        self.errors
            .sort_by_key(|(arrival, error)| (error.line, *arrival));
        if self.total == 0 {
            Ok(value)
        } else {
            Err(RowErrors {
                total: self.total,
                errors: self.errors.into_iter().map(|(_, error)| error).collect(),
            })
        }
    }
}

/// A value as a message shows it: control characters escaped, and cut short after 60
/// characters, so that a huge or garbled value cannot make a huge or garbled report.
fn shown(value: &str) -> String {
    const SHOWN_CHARS: usize = 60;
    let mut out = String::new();
    for (n, c) in value.chars().enumerate() {
        if n == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A row read from any format, before its values are checked.
struct RawRow {
    line: u64,
    text: HashMap<&'static str, String>,
    /// `None`: not scored. `Some(Err)`: not a number.
    score: Option<Result<f64, String>>,
    fields: Vec<(String, String)>,
}

impl RawRow {
    fn new(line: u64) -> Self {
        RawRow {
            line,
            text: HashMap::new(),
            score: None,
            fields: Vec::new(),
        }
    }
}

/// A checked conversation and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub conversation: NewConversation,
}

/// Checks a row's values (trimmed) against their formats and the limits of
/// [`crate::limits`]; reports each problem and answers the conversation when there is none.
fn check_row(raw: RawRow, errors: &mut Collector) -> Option<NewConversation> {
    let before = errors.total;
    let line = raw.line;
    let mut text = |name: &'static str, required: bool, max_chars: usize| match raw
        .text
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => {
            if required {
                errors.add(line, Some(name), "is required");
            }
            None
        }
        Some(value) => match text_problem(value, max_chars) {
            Some(problem) => {
                errors.add(line, Some(name), problem);
                None
            }
            None => Some(value.to_owned()),
        },
    };
    let external_id = text("external_id", true, MAX_IDENTIFIER_CHARS);
    let customer = text("customer", true, MAX_IDENTIFIER_CHARS);
    let customer_name = text("customer_name", false, MAX_IDENTIFIER_CHARS);
    let representative = text("representative", true, MAX_IDENTIFIER_CHARS);
    let representative_name = text("representative_name", false, MAX_IDENTIFIER_CHARS);
    let title = text("title", true, MAX_TITLE_CHARS);
    // Neither has a limit of its own; these keep a garbled value out of the messages below.
    let kind_text = text("type", true, MAX_IDENTIFIER_CHARS);
    let occurred_text = text("occurred_at", true, MAX_IDENTIFIER_CHARS);
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
            errors.add(
                line,
                Some("score"),
                format!("`{}` is not a number", shown(text)),
            );
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
    let mut fields = Vec::with_capacity(raw.fields.len());
    for (key, value) in raw.fields {
        if !is_field_key(&key) {
            errors.add(
                line,
                Some(&format!("fields.{}", shown(&key))),
                FIELD_KEY_RULE,
            );
            continue;
        }
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if let Some(problem) = text_problem(value, MAX_FIELD_VALUE_CHARS) {
            errors.add(line, Some(&format!("fields.{key}")), problem);
            continue;
        }
        fields.push((key, value.to_owned()));
    }
    if errors.total > before {
        return None;
    }
    Some(NewConversation {
        external_id: external_id?,
        customer: customer?,
        customer_name,
        representative: representative?.to_lowercase(),
        representative_name,
        title: title?,
        kind: kind?,
        occurred_at_ms: occurred_at_ms?,
        score_hundredths,
        fields,
    })
}

/// Whether two rows say the same about their conversation: customer, representative, title,
/// type, time, score and field values. (The customer's and representative's names are
/// theirs, not the conversation's.)
fn same_conversation(a: &NewConversation, b: &NewConversation) -> bool {
    let sorted = |conversation: &NewConversation| {
        let mut fields = conversation.fields.clone();
        fields.sort();
        fields
    };
    a.external_id == b.external_id
        && a.customer == b.customer
        && a.representative == b.representative
        && a.title == b.title
        && a.kind == b.kind
        && a.occurred_at_ms == b.occurred_at_ms
        && a.score_hundredths == b.score_hundredths
        && sorted(a) == sorted(b)
}

/// The error of a line that repeats an earlier line's external id with other values. A
/// repeat that says the same is accepted, in one chunk or across chunks: one rule.
fn repeat_message(external_id: &str, first: u64) -> String {
    format!("`{external_id}` is already on line {first} with other values")
}

/// Checks every row and refuses an external id repeated with other values (see
/// [`same_conversation`]), keeping all the rows: for inputs that are whole in memory anyway.
fn check_all(raws: impl IntoIterator<Item = RawRow>, errors: &mut Collector) -> Vec<ImportRow> {
    let mut rows: Vec<ImportRow> = Vec::new();
    // The position in `rows` of each external id's first row.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for raw in raws {
        let line = raw.line;
        if let Some(conversation) = check_row(raw, errors) {
            if let Some(first) = seen.get(&conversation.external_id) {
                let first = &rows[*first];
                if !same_conversation(&first.conversation, &conversation) {
                    errors.add(
                        line,
                        Some("external_id"),
                        repeat_message(&conversation.external_id, first.line),
                    );
                }
            } else {
                seen.insert(conversation.external_id.clone(), rows.len());
            }
            rows.push(ImportRow { line, conversation });
        }
    }
    rows
}

/// The formats a file may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// One JSON object per line.
    Ndjson,
    /// A header row, then one row per conversation.
    Csv,
}

impl FileFormat {
    /// The format a file's name says: `.ndjson` or `.jsonl`, or `.csv`.
    pub fn of_path(path: &Path) -> Option<FileFormat> {
        let extension = path.extension()?.to_str()?.to_lowercase();
        match extension.as_str() {
            "ndjson" | "jsonl" => Some(FileFormat::Ndjson),
            "csv" => Some(FileFormat::Csv),
            _ => None,
        }
    }
}

/// What a CSV column holds.
enum Column {
    Text(&'static str),
    Occurred,
    Score,
    Field(String),
}

enum Source<R> {
    Ndjson {
        reader: R,
        /// The line last read.
        line: u64,
        buffer: Vec<u8>,
    },
    Csv {
        reader: csv::Reader<R>,
        /// `None` until the header row is read.
        columns: Option<Vec<(String, Column)>>,
        record: csv::ByteRecord,
    },
}

/// Reads the rows of a file one at a time: only the row at hand (and the reader's buffer) is
/// in memory. A byte-order mark at the start is skipped.
struct RowReader<R> {
    source: Source<R>,
    started: bool,
    done: bool,
}

impl<R: BufRead> RowReader<R> {
    fn new(format: FileFormat, reader: R) -> Self {
        let source = match format {
            FileFormat::Ndjson => Source::Ndjson {
                reader,
                line: 0,
                buffer: Vec::new(),
            },
            FileFormat::Csv => Source::Csv {
                reader: csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(false)
                    .from_reader(reader),
                columns: None,
                record: csv::ByteRecord::new(),
            },
        };
        RowReader {
            source,
            started: false,
            done: false,
        }
    }

    /// The next row, read but not checked; `None` at the end (or after a read error).
    fn next_raw(&mut self, errors: &mut Collector) -> Option<RawRow> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            let skipped = match &mut self.source {
                Source::Ndjson { reader, .. } => skip_byte_order_mark(reader),
                Source::Csv { reader, .. } => skip_byte_order_mark(reader.get_mut()),
            };
            if let Err(error) = skipped {
                errors.add(1, None, format!("could not be read: {error}"));
                self.done = true;
                return None;
            }
        }
        let raw = match &mut self.source {
            Source::Ndjson {
                reader,
                line,
                buffer,
            } => next_ndjson(reader, line, buffer, errors),
            Source::Csv {
                reader,
                columns,
                record,
            } => next_csv(reader, columns, record, errors),
        };
        if raw.is_none() {
            self.done = true;
        }
        raw
    }
}

/// Consumes a UTF-8 byte-order mark at the start of `reader`, if there is one. (Only a mark
/// within the first read is seen, which for a file or a slice is always so.)
fn skip_byte_order_mark(reader: &mut impl BufRead) -> io::Result<()> {
    let starts_with_mark = loop {
        match reader.fill_buf() {
            Ok(bytes) => break bytes.starts_with(BYTE_ORDER_MARK),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    };
    if starts_with_mark {
        reader.consume(BYTE_ORDER_MARK.len());
    }
    Ok(())
}

/// How reading one line went.
enum LineRead {
    End,
    Line,
    TooLong,
}

/// Reads one line, without its `\n`, into `buffer`; a line of more than `max_bytes` is read
/// to its end but not kept.
fn read_line(
    reader: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    max_bytes: usize,
) -> io::Result<LineRead> {
    buffer.clear();
    let mut started = false;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(match (started, too_long) {
                (false, _) => LineRead::End,
                (true, false) => LineRead::Line,
                (true, true) => LineRead::TooLong,
            });
        }
        started = true;
        let newline = available.iter().position(|b| *b == b'\n');
        let part = &available[..newline.unwrap_or(available.len())];
        if !too_long {
            if buffer.len() + part.len() > max_bytes {
                too_long = true;
                buffer.clear();
            } else {
                buffer.extend_from_slice(part);
            }
        }
        let used = newline.map_or(available.len(), |at| at + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

fn next_ndjson(
    reader: &mut impl BufRead,
    line: &mut u64,
    buffer: &mut Vec<u8>,
    errors: &mut Collector,
) -> Option<RawRow> {
    loop {
        let read = read_line(reader, buffer, MAX_LINE_BYTES);
        *line += 1;
        match read {
            Ok(LineRead::End) => return None,
            Ok(LineRead::Line) => {}
            Ok(LineRead::TooLong) => {
                errors.add(
                    *line,
                    None,
                    format!(
                        "is longer than {} MiB; no conversation needs that much",
                        MAX_LINE_BYTES >> 20
                    ),
                );
                continue;
            }
            Err(error) => {
                errors.add(*line, None, format!("could not be read: {error}"));
                return None;
            }
        }
        let Ok(text) = std::str::from_utf8(buffer) else {
            errors.add(*line, None, "is not valid UTF-8");
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let mut json = serde_json::Deserializer::from_str(text);
        let read = Item {
            line: *line,
            errors: &mut *errors,
        }
        .deserialize(&mut json)
        .and_then(|raw| json.end().map(|()| raw));
        match read {
            Ok(Some(raw)) => return Some(raw),
            Ok(None) => {}
            Err(error) => errors.add(*line, None, format!("malformed JSON: {error}")),
        }
    }
}

/// Reads and checks the header row: every column known, none twice, none required missing.
/// Its problems are reported on line 1; `None` when there are any.
fn csv_columns<R: io::Read>(
    reader: &mut csv::Reader<R>,
    errors: &mut Collector,
) -> Option<Vec<(String, Column)>> {
    let before = errors.total;
    let headers = match reader.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            errors.add(1, None, format!("unreadable header row: {error}"));
            return None;
        }
    };
    let mut columns: Vec<(String, Column)> = Vec::new();
    // Each name and whether it was found twice, to report that once however often it is.
    let mut names: HashMap<&str, bool> = HashMap::new();
    for header in headers.iter() {
        let Ok(name) = std::str::from_utf8(header) else {
            errors.add(1, None, "a column name is not valid UTF-8");
            continue;
        };
        let name = name.trim();
        if let Some(repeated) = names.get_mut(name) {
            if !*repeated {
                *repeated = true;
                errors.add(1, Some(&shown(name)), "appears twice in the header");
            }
            continue;
        }
        names.insert(name, false);
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
                Some(&shown(name)),
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
    (errors.total == before).then_some(columns)
}

fn next_csv<R: io::Read>(
    reader: &mut csv::Reader<R>,
    columns: &mut Option<Vec<(String, Column)>>,
    record: &mut csv::ByteRecord,
    errors: &mut Collector,
) -> Option<RawRow> {
    if columns.is_none() {
        *columns = Some(csv_columns(reader, errors)?);
    }
    let columns = columns.as_ref()?;
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(record) {
            Ok(false) => return None,
            Ok(true) => {}
            Err(error) => {
                errors.add(line, None, format!("unreadable CSV row: {error}"));
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    return None;
                }
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        let mut raw = RawRow::new(line);
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
        return Some(raw);
    }
}

/// Reads a whole file held in memory, checking every row and refusing repeated external ids.
fn read_all(format: FileFormat, bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
    let mut errors = Collector::new();
    let mut reader = RowReader::new(format, bytes);
    let raws = std::iter::from_fn(|| reader.next_raw(&mut errors)).collect::<Vec<_>>();
    let rows = check_all(raws, &mut errors);
    errors.finish(rows)
}

/// Reads NDJSON: one JSON object per line; blank lines are skipped.
pub fn parse_ndjson(bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
    read_all(FileFormat::Ndjson, bytes)
}

/// Reads CSV with a header row: the columns of the NDJSON shape, and `field.<key>` per field.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
    read_all(FileFormat::Csv, bytes)
}

/// Reads the items of an API call already parsed into values; item N is reported as line N.
/// The rules are [`parse_batch`]'s.
pub fn parse_items(items: Vec<Value>) -> Result<Vec<ImportRow>, RowErrors> {
    let mut errors = Collector::new();
    let mut raws = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let seed = Item {
            line: index as u64 + 1,
            errors: &mut errors,
        };
        // Reading a value already parsed cannot fail: every kind of value is accepted.
        if let Ok(Some(raw)) = seed.deserialize(item) {
            raws.push(raw);
        }
    }
    let rows = last_of_each_external_id(check_each(raws, &mut errors));
    errors.finish(rows)
}

/// Why an API call's conversations were not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The body is not a JSON array of at most the allowed number of items.
    Refused(BatchRefusal),
    /// Items are bad: every one is reported.
    Rows(RowErrors),
}

/// Reads the body of an API call: a JSON array of at most `max_items` conversations, read item
/// by item straight into checked rows (no JSON tree is built), and refused as soon as it holds
/// one item more than allowed, before that item is read. Every bad item is reported, item N
/// as line N. An external id may come more than once (compared trimmed, as it is stored): the
/// last item with it is the one written, the earlier ones are checked and then dropped.
pub fn parse_batch(body: &[u8], max_items: usize) -> Result<Vec<ImportRow>, BatchError> {
    let mut errors = Collector::new();
    let raws = read_batch(body, max_items, &mut errors).map_err(BatchError::Refused)?;
    let rows = last_of_each_external_id(check_each(raws, &mut errors));
    errors.finish(rows).map_err(BatchError::Rows)
}

/// Checks every row, keeping the good ones in order.
fn check_each(raws: Vec<RawRow>, errors: &mut Collector) -> Vec<ImportRow> {
    raws.into_iter()
        .filter_map(|raw| {
            let line = raw.line;
            check_row(raw, errors).map(|conversation| ImportRow { line, conversation })
        })
        .collect()
}

/// The rows without those whose external id a later row has again: one row per conversation,
/// the last one given, in input order.
fn last_of_each_external_id(rows: Vec<ImportRow>) -> Vec<ImportRow> {
    let mut last: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
    for row in &rows {
        last.insert(&row.conversation.external_id, row.line);
    }
    let keep: HashSet<u64> = last.into_values().collect();
    rows.into_iter()
        .filter(|row| keep.contains(&row.line))
        .collect()
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Rows(RowErrors),
    /// The import would define more custom fields than allowed: the message says how many,
    /// the limit, and how to define fields instead.
    #[error("{0}")]
    Fields(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did (or, on a dry run, would do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub written: WriteSummary,
    pub new_fields: usize,
    /// Good rows read.
    pub rows: u64,
}

/// How an import goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Do and count everything, then roll back.
    pub dry_run: bool,
    /// Rows read, checked and written at a time.
    pub chunk_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dry_run: false,
            chunk_rows: CHUNK_ROWS,
        }
    }
}

/// Checked rows, a chunk of an input, in input order.
#[derive(Default)]
struct Chunk {
    lines: Vec<u64>,
    conversations: Vec<NewConversation>,
}

impl Chunk {
    fn clear(&mut self) {
        self.lines.clear();
        self.conversations.clear();
    }
}

/// An input read a chunk at a time.
trait RowSource: Send {
    /// Empties `chunk` and fills it with the next good rows, at most `max`; reports bad ones.
    /// Answers whether the input is used up.
    fn fill(&mut self, max: usize, chunk: &mut Chunk, errors: &mut Collector) -> bool;
}

impl<R: BufRead + Send> RowSource for RowReader<R> {
    fn fill(&mut self, max: usize, chunk: &mut Chunk, errors: &mut Collector) -> bool {
        chunk.clear();
        while chunk.conversations.len() < max {
            let Some(raw) = self.next_raw(errors) else {
                return true;
            };
            let line = raw.line;
            if let Some(conversation) = check_row(raw, errors) {
                chunk.lines.push(line);
                chunk.conversations.push(conversation);
            }
        }
        false
    }
}

/// Rows already checked, as [`parse_items`] and the others answer them.
struct CheckedRows<'a> {
    rows: &'a [ImportRow],
}

impl RowSource for CheckedRows<'_> {
    fn fill(&mut self, max: usize, chunk: &mut Chunk, _: &mut Collector) -> bool {
        chunk.clear();
        let (now, later) = self.rows.split_at(max.min(self.rows.len()));
        for row in now {
            chunk.lines.push(row.line);
            chunk.conversations.push(row.conversation.clone());
        }
        self.rows = later;
        self.rows.is_empty()
    }
}

/// How an import writes. [`ImportDesign::Staged`] is the one used; the others are kept to
/// measure it against (`server import --design`, docs/performance.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImportDesign {
    /// Rows staged in temporary tables (`COPY` on PostgreSQL), then written set-wise.
    #[default]
    Staged,
    /// As `Staged`, but PostgreSQL's staging tables are filled by multi-row inserts.
    StagedByInserts,
    /// Each chunk written by 100-row multi-`VALUES` statements as it is read (the design
    /// before staging). Its repeat rule is older: a repeat within one chunk is refused.
    Chunked,
}

impl ImportDesign {
    /// The design a name (`staged`, `staged-inserts`, `chunked`) says.
    pub fn parse(name: &str) -> Option<ImportDesign> {
        match name {
            "staged" => Some(ImportDesign::Staged),
            "staged-inserts" => Some(ImportDesign::StagedByInserts),
            "chunked" => Some(ImportDesign::Chunked),
            _ => None,
        }
    }
}

/// Writes checked rows in one transaction. Unknown field keys become text fields (up to the
/// limits of [`crate::limits`]); a select field's value must be one of its options. A dry run
/// does all of it, then rolls back. A transaction that fails only because of concurrent
/// writers is tried again.
pub async fn import_rows(
    db: &Db,
    org_id: i64,
    rows: &[ImportRow],
    dry_run: bool,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    let options = ImportOptions {
        dry_run,
        ..ImportOptions::default()
    };
    let mut source = || -> Result<_, ImportError> { Ok(CheckedRows { rows }) };
    with_retries(
        db,
        org_id,
        options,
        ImportDesign::default(),
        &mut source,
        progress,
    )
    .await
}

/// Reads a file with [`import_rows`]'s rules, streaming it: `open` gives a reader from the
/// start of the file, and is called again when the transaction is tried again after a
/// conflict with concurrent writers (what was read is not kept, so it is read again).
/// An external id may come again on a later line only saying the same (see
/// [`same_conversation`]); a repeat with other values is an error naming the first line.
pub async fn import_file<R: BufRead + Send>(
    db: &Db,
    org_id: i64,
    format: FileFormat,
    options: ImportOptions,
    open: &mut (dyn FnMut() -> io::Result<R> + Send),
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    import_file_as(
        db,
        org_id,
        format,
        options,
        ImportDesign::default(),
        open,
        progress,
    )
    .await
}

/// [`import_file`] written the way `design` says: for measuring the designs.
pub async fn import_file_as<R: BufRead + Send>(
    db: &Db,
    org_id: i64,
    format: FileFormat,
    options: ImportOptions,
    design: ImportDesign,
    open: &mut (dyn FnMut() -> io::Result<R> + Send),
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut source = || match open() {
        Ok(reader) => Ok(RowReader::new(format, reader)),
        Err(error) => Err(ImportError::Store(StoreError::Invalid(format!(
            "the file could not be opened: {error}"
        )))),
    };
    with_retries(db, org_id, options, design, &mut source, progress).await
}

async fn with_retries<S: RowSource>(
    db: &Db,
    org_id: i64,
    options: ImportOptions,
    design: ImportDesign,
    source: &mut (dyn FnMut() -> Result<S, ImportError> + Send),
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut attempt = 1;
    loop {
        let mut rows = source()?;
        let result = match design {
            ImportDesign::Staged => {
                import_staged(db, org_id, &mut rows, options, Staging::Copy, progress).await
            }
            ImportDesign::StagedByInserts => {
                import_staged(db, org_id, &mut rows, options, Staging::Inserts, progress).await
            }
            ImportDesign::Chunked => import_chunked(db, org_id, &mut rows, options, progress).await,
        };
        match result {
            Err(ImportError::Store(error))
                if error.is_retryable() && attempt < TRANSIENT_ATTEMPTS =>
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

/// The organisation's fields as an import checks against them.
struct KnownFields {
    count: usize,
    ids: HashMap<String, i64>,
    select_options: HashMap<String, Vec<String>>,
}

impl KnownFields {
    async fn read(tx: &mut Tx, org_id: i64) -> Result<KnownFields, ImportError> {
        let existing = list_fields_in(tx, org_id).await?;
        Ok(KnownFields {
            count: existing.len(),
            ids: existing
                .iter()
                .map(|f| (f.field.key.clone(), f.id))
                .collect(),
            select_options: existing
                .into_iter()
                .filter(|f| f.field.kind == FieldKind::Select)
                .map(|f| (f.field.key, f.field.options))
                .collect(),
        })
    }

    /// Reports a select value that is not an option, and notes keys the organisation lacks.
    fn check(
        &self,
        line: u64,
        conversation: &NewConversation,
        new_keys: &mut NewKeys,
        errors: &mut Collector,
    ) {
        for (key, value) in &conversation.fields {
            if let Some(allowed) = self.select_options.get(key) {
                if !allowed.iter().any(|option| option == value) {
                    errors.add(
                        line,
                        Some(&format!("fields.{key}")),
                        format!(
                            "`{value}` is not one of the options: {}",
                            allowed.join(", ")
                        ),
                    );
                }
            } else if !self.ids.contains_key(key) {
                new_keys.note(key);
            }
        }
    }

    /// Defines the new keys not defined yet, as text fields after the existing ones.
    async fn define(
        &mut self,
        tx: &mut Tx,
        org_id: i64,
        new_keys: &mut NewKeys,
    ) -> Result<(), ImportError> {
        while new_keys.defined < new_keys.order.len() {
            let key = &new_keys.order[new_keys.defined];
            let field = CustomField {
                key: key.clone(),
                label: key.replace('_', " "),
                kind: FieldKind::Text,
                options: Vec::new(),
            };
            let position = (self.count + new_keys.defined) as i64;
            let id = define_field(tx, org_id, &field, position).await?;
            self.ids.insert(key.clone(), id);
            new_keys.defined += 1;
        }
        Ok(())
    }
}

/// The staged design: every good row is checked and staged as it is read (memory holds one
/// chunk), then repeats are found among the staged rows, and only when nothing is wrong are
/// new fields defined and the rows written set-wise (see [`bulk_store`]).
async fn import_staged<S: RowSource>(
    db: &Db,
    org_id: i64,
    source: &mut S,
    options: ImportOptions,
    staging: Staging,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    // The version is claimed first, so that this organisation's other writers wait here and
    // the fields read next cannot change before this transaction ends.
    let mut tx = db.begin_bulk().await?;
    let version = claim_write_version(&mut tx, org_id).await?;
    let mut fields = KnownFields::read(&mut tx, org_id).await?;
    bulk_store::create_staging(&mut tx).await?;
    let mut errors = Collector::new();
    let mut new_keys = NewKeys::default();
    let mut summary = ImportSummary::default();
    let mut chunk = Chunk::default();
    let mut done = 0;
    loop {
        let end = source.fill(options.chunk_rows.max(1), &mut chunk, &mut errors);
        summary.rows += chunk.conversations.len() as u64;
        for (line, conversation) in chunk.lines.iter().zip(&chunk.conversations) {
            fields.check(*line, conversation, &mut new_keys, &mut errors);
        }
        // Staged even after an error, so that repeats among the good rows are reported too.
        bulk_store::stage(&mut tx, &chunk.lines, &chunk.conversations, staging).await?;
        done += chunk.conversations.len();
        progress(done);
        if end {
            break;
        }
    }
    bulk_store::prepare_write(&mut tx, summary.rows).await?;
    bulk_store::take_repeats(&mut tx, |repeat| {
        if repeat.differs != 0 {
            errors.add(
                repeat.line as u64,
                Some("external_id"),
                repeat_message(&repeat.external_id, repeat.first_line as u64),
            );
        }
    })
    .await?;
    summary.new_fields = new_keys.order.len();
    let problem = match errors.finish(()) {
        Err(errors) => Some(ImportError::Rows(errors)),
        Ok(()) => new_keys.problem(fields.count).map(ImportError::Fields),
    };
    if let Some(problem) = problem {
        tx.rollback().await?;
        return Err(problem);
    }
    fields.define(&mut tx, org_id, &mut new_keys).await?;
    let written = bulk_store::write_staged(&mut tx, org_id, version).await?;
    summary.written = WriteSummary {
        created: written.created,
        updated: written.updated,
        // Identical repeats are among them: each is a conversation already so.
        skipped: summary
            .rows
            .saturating_sub(written.created + written.updated),
    };
    bulk_store::drop_staging(&mut tx).await?;
    if options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(summary)
}

/// The field keys an import uses that the organisation lacks, in the order first seen (the
/// order they are defined in).
#[derive(Default)]
struct NewKeys {
    order: Vec<String>,
    seen: HashSet<String>,
    /// How many of `order` are defined.
    defined: usize,
    /// Whether there were more than [`MAX_COUNTED_NEW_KEYS`].
    uncounted: bool,
}

impl NewKeys {
    fn note(&mut self, key: &str) {
        if self.seen.contains(key) {
            return;
        }
        if self.seen.len() == MAX_COUNTED_NEW_KEYS {
            self.uncounted = true;
            return;
        }
        self.seen.insert(key.to_owned());
        self.order.push(key.to_owned());
    }

    /// Why these new keys cannot all become fields of an organisation that has `existing`.
    fn problem(&self, existing: usize) -> Option<String> {
        let count = self.order.len();
        let counted = if self.uncounted {
            format!("more than {count}")
        } else {
            count.to_string()
        };
        let mut listed = self
            .order
            .iter()
            .take(5)
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if count > 5 {
            listed.push_str(", …");
        }
        if count > MAX_NEW_FIELDS_PER_BATCH {
            Some(format!(
                "this import uses {counted} field keys the organisation has no field for \
                 ({listed}); one import may define at most {MAX_NEW_FIELDS_PER_BATCH} new \
                 fields. Define the fields first with `{DEFINE_FIELD_COMMAND}`, or leave the \
                 extra keys out; nothing was written"
            ))
        } else if existing + count > MAX_FIELDS_PER_ORG {
            Some(format!(
                "the organisation has {existing} custom fields and this import would add \
                 {counted} more ({listed}); an organisation may have at most \
                 {MAX_FIELDS_PER_ORG}. Use its existing fields (`{DEFINE_FIELD_COMMAND}` \
                 redefines one) or leave the new keys out; nothing was written"
            ))
        } else {
            None
        }
    }
}

/// The chunked design (see [`ImportDesign::Chunked`]).
async fn import_chunked<S: RowSource>(
    db: &Db,
    org_id: i64,
    source: &mut S,
    options: ImportOptions,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    // The version is claimed first, so that this organisation's other writers wait here and
    // the fields read next cannot change before this transaction ends.
    let mut tx = db.begin().await?;
    let version = claim_write_version(&mut tx, org_id).await?;
    if let Tx::Postgres(_) = tx {
        // Each chunk's statements look up conversations the earlier chunks of this
        // transaction wrote. A plan PostgreSQL made once for the table as it was at the start
        // (perhaps empty, so scanning all of the organisation's rows looks cheap) would
        // otherwise be reused as the table grows, making a long import quadratic.
        tx.execute(
            &Sql::new("SET LOCAL plan_cache_mode = force_custom_plan"),
            "planning each import statement afresh",
        )
        .await?;
    }
    let existing = list_fields_in(&mut tx, org_id).await?;
    let existing_count = existing.len();
    let mut ids: HashMap<String, i64> = existing
        .iter()
        .map(|f| (f.field.key.clone(), f.id))
        .collect();
    let select_options: HashMap<String, Vec<String>> = existing
        .into_iter()
        .filter(|f| f.field.kind == FieldKind::Select)
        .map(|f| (f.field.key, f.field.options))
        .collect();
    let mut errors = Collector::new();
    let mut new_keys = NewKeys::default();
    let mut summary = ImportSummary::default();
    // False from the first problem on: the rest is only read and checked.
    let mut writing = true;
    let mut chunk = Chunk::default();
    let mut in_chunk: HashMap<String, u64> = HashMap::new();
    let mut done = 0;
    loop {
        let end = source.fill(options.chunk_rows.max(1), &mut chunk, &mut errors);
        summary.rows += chunk.conversations.len() as u64;
        in_chunk.clear();
        for (line, conversation) in chunk.lines.iter().zip(&chunk.conversations) {
            if let Some(first) = in_chunk.insert(conversation.external_id.clone(), *line) {
                errors.add(
                    *line,
                    Some("external_id"),
                    format!("`{}` is already on line {first}", conversation.external_id),
                );
            }
            for (key, value) in &conversation.fields {
                if let Some(allowed) = select_options.get(key) {
                    if !allowed.iter().any(|option| option == value) {
                        errors.add(
                            *line,
                            Some(&format!("fields.{key}")),
                            format!(
                                "`{value}` is not one of the options: {}",
                                allowed.join(", ")
                            ),
                        );
                    }
                } else if !ids.contains_key(key) {
                    new_keys.note(key);
                }
            }
        }
        writing = writing && errors.total == 0 && new_keys.problem(existing_count).is_none();
        if writing && !chunk.conversations.is_empty() {
            while new_keys.defined < new_keys.order.len() {
                let key = &new_keys.order[new_keys.defined];
                let field = CustomField {
                    key: key.clone(),
                    label: key.replace('_', " "),
                    kind: FieldKind::Text,
                    options: Vec::new(),
                };
                let position = (existing_count + new_keys.defined) as i64;
                let id = define_field(&mut tx, org_id, &field, position).await?;
                ids.insert(key.clone(), id);
                new_keys.defined += 1;
            }
            let before = done;
            let written = write_part(
                &mut tx,
                org_id,
                version,
                &chunk.conversations,
                &ids,
                &mut |n| progress(before + n),
            )
            .await?;
            match written {
                PartWrite::Written(written) => {
                    summary.written.created += written.created;
                    summary.written.updated += written.updated;
                    summary.written.skipped += written.skipped;
                }
                PartWrite::Repeated(positions) => {
                    for position in positions {
                        errors.add(
                            chunk.lines[position],
                            Some("external_id"),
                            format!(
                                "`{}` appears earlier in this file",
                                chunk.conversations[position].external_id
                            ),
                        );
                    }
                    writing = false;
                }
            }
        }
        done += chunk.conversations.len();
        progress(done);
        if end {
            break;
        }
    }
    summary.new_fields = new_keys.order.len();
    let outcome = match errors.finish(()) {
        Err(errors) => Err(ImportError::Rows(errors)),
        Ok(()) => match new_keys.problem(existing_count) {
            Some(problem) => Err(ImportError::Fields(problem)),
            None => Ok(summary),
        },
    };
    if outcome.is_err() || options.dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    outcome
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
            GOOD.replace("Hello", "Other"),
            // The same conversation again, though its customer's name differs: accepted.
            GOOD.replace("Zoë", "Zoe"),
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
                "line 7: external_id: `c1` is already on line 1 with other values",
                "line 9: is not valid UTF-8",
            ]
        );
    }

    #[test]
    fn values_of_the_wrong_kind_are_named_without_being_kept() {
        let bad = GOOD
            .replace(r#""Hello""#, "[1, [2, {\"deep\": 3}]]")
            .replace(r#""chat""#, "true")
            .replace("87.25", r#"{"points": 80}"#)
            .replace(r#""Billing""#, "12.5")
            .replace(r#""customer_name": "Zoë", "#, r#""colour": {"a": [1]}, "#);
        assert_eq!(
            errors_of(parse_ndjson(bad.as_bytes())),
            vec![
                "line 1: colour: is not a known key",
                "line 1: title: must be text, not […]",
                "line 1: type: must be text, not true",
                "line 1: fields.queue: must be text, not 12.5",
                "line 1: title: is required",
                "line 1: type: is required",
                "line 1: score: `{…}` is not a number",
            ]
        );
        for line in ["[1, 2]", "\"text\"", "42", "null"] {
            assert_eq!(
                errors_of(parse_ndjson(line.as_bytes())),
                vec!["line 1: is not a JSON object"],
                "{line}"
            );
        }
        assert_eq!(
            errors_of(parse_ndjson(format!("{GOOD} 7").as_bytes())),
            vec!["line 1: malformed JSON: trailing characters at line 1 column 243"]
        );
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value() {
        let twice = GOOD
            .replace(
                r#""title": "Hello""#,
                r#""title": "First", "title": "Hello""#,
            )
            .replace(
                r#"{"queue": "Billing"}"#,
                r#"{"queue": "Technical", "queue": "Billing", "team": null}"#,
            );
        let rows = parse_ndjson(twice.as_bytes()).expect("valid");
        assert_eq!(rows[0].conversation.title, "Hello");
        assert_eq!(
            rows[0].conversation.fields,
            vec![("queue".to_owned(), "Billing".to_owned())]
        );
    }

    fn batch_of(items: &[String]) -> String {
        format!("[{}]", items.join(",\n"))
    }

    #[test]
    fn an_api_batch_is_read_item_by_item_with_every_bad_item_named() {
        let items = [
            GOOD.to_owned(),
            GOOD.replace("c1", "c2").replace("87.25", "101"),
            "17".to_owned(),
            GOOD.replace("c1", "c4").replace("chat", "fax"),
        ];
        match parse_batch(batch_of(&items).as_bytes(), 10) {
            Err(BatchError::Rows(errors)) => assert_eq!(
                errors
                    .errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
                vec![
                    "line 2: score: 101 is not between 0 and 100",
                    "line 3: is not a JSON object",
                    "line 4: type: `fax` is not voice, chat or email",
                ]
            ),
            other => panic!("expected bad items, got {other:?}"),
        }
        let good = [GOOD.to_owned(), GOOD.replace("c1", "c2")];
        let rows = parse_batch(batch_of(&good).as_bytes(), 2).expect("valid");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(parse_batch(b" [ ] ", 2).expect("empty"), Vec::new());
    }

    #[test]
    fn an_api_batch_past_the_item_limit_is_refused_before_the_next_item_is_read() {
        let items = vec![GOOD.to_owned(); 3];
        // A fourth item that is not even JSON: the limit is met before it is read.
        let over = format!("[{}, {{not json at all", items.join(","));
        assert_eq!(
            parse_batch(over.as_bytes(), 3),
            Err(BatchError::Refused(BatchRefusal::TooManyItems { max: 3 }))
        );
        // Exactly at the limit is read (and its repeats are one conversation).
        assert_eq!(
            parse_batch(batch_of(&items).as_bytes(), 3)
                .expect("valid")
                .len(),
            1
        );
        for (body, refusal) in [
            ("{}", BatchRefusal::NotAnArray),
            ("\"text\"", BatchRefusal::NotAnArray),
            ("null", BatchRefusal::NotAnArray),
        ] {
            assert_eq!(
                parse_batch(body.as_bytes(), 3),
                Err(BatchError::Refused(refusal)),
                "{body}"
            );
        }
        for body in ["not json", "[", "[1,]", "[] []"] {
            assert!(
                matches!(
                    parse_batch(body.as_bytes(), 3),
                    Err(BatchError::Refused(BatchRefusal::NotJson(_)))
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn in_an_api_batch_the_last_item_of_an_external_id_is_the_one_written() {
        let items = [
            GOOD.replace("Hello", "First"),
            GOOD.replace("c1", "c2"),
            GOOD.replace(r#""c1""#, r#"" c1  ""#)
                .replace("Hello", "Last"),
        ];
        let rows = parse_batch(batch_of(&items).as_bytes(), 10).expect("valid");
        assert_eq!(
            rows.iter()
                .map(|row| (
                    row.line,
                    row.conversation.external_id.as_str(),
                    row.conversation.title.as_str()
                ))
                .collect::<Vec<_>>(),
            vec![(2, "c2", "Hello"), (3, "c1", "Last")]
        );
        // Every item is still checked, the dropped ones too.
        let bad_first = [GOOD.replace("87.25", "101"), GOOD.to_owned()];
        assert!(matches!(
            parse_batch(batch_of(&bad_first).as_bytes(), 10),
            Err(BatchError::Rows(errors)) if errors.errors[0].line == 1
        ));
        // The same rule for items already parsed.
        let values: Vec<Value> = items
            .iter()
            .map(|item| serde_json::from_str(item).unwrap())
            .collect();
        assert_eq!(parse_items(values).expect("valid"), rows);
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

    fn with_customer(customer: &str) -> String {
        serde_json::json!({
            "external_id": "c1", "customer": customer, "representative": "rep@acme.example",
            "title": "Hello", "type": "chat", "occurred_at": "2026-03-14T09:30:00Z"
        })
        .to_string()
    }

    #[test]
    fn an_identifier_over_the_limit_is_refused_naming_the_field_and_the_limit() {
        let long = "c".repeat(6_000);
        assert_eq!(
            errors_of(parse_ndjson(with_customer(&long).as_bytes())),
            vec!["line 1: customer: is 6000 characters long; the limit is 256"]
        );
        let fits = "c".repeat(256);
        assert!(parse_ndjson(with_customer(&fits).as_bytes()).is_ok());
        let names = GOOD.replace("Zoë", &"z".repeat(257)).replace(
            "Rep@Acme.example",
            &format!("{}@acme.example", "r".repeat(300)),
        );
        assert_eq!(
            errors_of(parse_ndjson(names.as_bytes())),
            vec![
                "line 1: customer_name: is 257 characters long; the limit is 256",
                "line 1: representative: is 313 characters long; the limit is 256",
            ]
        );
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            errors_of(parse_ndjson(
                with_customer("zoe\u{0}@example.com").as_bytes()
            )),
            vec!["line 1: customer: contains a control character (U+0000); remove it"]
        );
        let csv = "external_id,customer,representative,title,type,occurred_at\n\
                   c1,zoe@example.com,rep@acme.example,\"Bell \u{7} rings\",chat,2026-03-14T09:30:00Z\n";
        assert_eq!(
            errors_of(parse_csv(csv.as_bytes())),
            vec!["line 2: title: contains a control character (U+0007); remove it"]
        );
    }

    #[test]
    fn characters_that_make_text_look_like_other_text_are_refused_in_import_files() {
        assert_eq!(
            errors_of(parse_ndjson(
                with_customer("\u{202E}moc.elpmaxe@eoz").as_bytes()
            )),
            vec!["line 1: customer: contains an invisible or direction-changing character (U+202E) that can make it look like other text; remove it"]
        );
        let csv = "external_id,customer,representative,title,type,occurred_at,field.queue\n\
                   c1,zoe@example.com,rep@acme.example,Hello,chat,2026-03-14T09:30:00Z,bil\u{200B}ling\n";
        assert_eq!(
            errors_of(parse_csv(csv.as_bytes())),
            vec!["line 2: fields.queue: contains an invisible or direction-changing character (U+200B) that can make it look like other text; remove it"]
        );
        // The joiners stay: Persian needs the zero-width non-joiner.
        assert!(parse_ndjson(with_customer("می\u{200C}خواهم@example.com").as_bytes()).is_ok());
    }

    #[test]
    fn a_title_over_a_thousand_characters_is_refused() {
        let long = GOOD.replace("Hello", &"t".repeat(1_001));
        assert_eq!(
            errors_of(parse_ndjson(long.as_bytes())),
            vec!["line 1: title: is 1001 characters long; the limit is 1000"]
        );
        let fits = GOOD.replace("Hello", &"t".repeat(1_000));
        assert!(parse_ndjson(fits.as_bytes()).is_ok());
    }

    #[test]
    fn a_field_value_over_five_hundred_characters_is_refused() {
        let long = GOOD.replace("Billing", &"b".repeat(501));
        assert_eq!(
            errors_of(parse_ndjson(long.as_bytes())),
            vec!["line 1: fields.queue: is 501 characters long; the limit is 500"]
        );
        // Measured after trimming, as it is stored.
        let padded = GOOD.replace("Billing", &format!("  {}  ", "b".repeat(500)));
        assert!(parse_ndjson(padded.as_bytes()).is_ok());
    }

    #[test]
    fn a_bad_field_key_is_refused_with_the_rule() {
        let bad = GOOD.replace(r#""queue""#, r#""Queue""#);
        assert_eq!(
            errors_of(parse_ndjson(bad.as_bytes())),
            vec![format!("line 1: fields.Queue: {FIELD_KEY_RULE}")]
        );
        let csv = "external_id,customer,representative,title,type,occurred_at,field.my-queue\n\
                   c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,Billing\n";
        assert_eq!(
            errors_of(parse_csv(csv.as_bytes())),
            vec![format!("line 2: fields.my-queue: {FIELD_KEY_RULE}")]
        );
    }

    #[test]
    fn long_or_garbled_values_are_shortened_in_messages() {
        let bad = GOOD.replace("87.25", &format!("\"{}\"", "9".repeat(5_000)));
        let errors = errors_of(parse_ndjson(bad.as_bytes()));
        assert_eq!(
            errors,
            vec![format!(
                "line 1: score: `\"{}…` is not a number",
                "9".repeat(59)
            )]
        );
    }

    #[test]
    fn a_byte_order_mark_starts_an_ndjson_file_harmlessly() {
        let bytes = format!("\u{feff}{GOOD}\n{}\n", GOOD.replace("c1", "c2"));
        let rows = parse_ndjson(bytes.as_bytes()).expect("valid");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 1);
        assert_eq!(rows[0].conversation.external_id, "c1");
    }

    #[test]
    fn a_byte_order_mark_starts_a_csv_file_harmlessly() {
        for header in [
            "external_id,customer,representative,title,type,occurred_at",
            "\"external_id\",\"customer\",\"representative\",\"title\",\"type\",\"occurred_at\"",
        ] {
            let csv = format!(
                "\u{feff}{header}\nc1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z\n"
            );
            let rows = parse_csv(csv.as_bytes()).unwrap_or_else(|e| panic!("{header}: {e}"));
            assert_eq!(rows.len(), 1);
            assert_eq!(rows[0].line, 2);
            assert_eq!(rows[0].conversation.external_id, "c1");
        }
    }

    #[test]
    fn a_column_named_twice_in_the_csv_header_is_refused() {
        let csv = "external_id,customer,representative,title,type,occurred_at,field.queue,title,field.queue,field.queue\n\
                   c1,zoe@example.com,rep@acme.example,Hi,chat,2026-03-14T09:30:00Z,Billing,Hello,Technical,Billing\n";
        assert_eq!(
            errors_of(parse_csv(csv.as_bytes())),
            vec![
                "line 1: title: appears twice in the header",
                "line 1: field.queue: appears twice in the header",
            ]
        );
    }

    #[test]
    fn an_ndjson_line_over_the_byte_limit_is_reported_and_skipped() {
        let huge = format!("{{\"title\": \"{}\"}}", "t".repeat(MAX_LINE_BYTES));
        let bytes = format!("{GOOD}\n{huge}\n{}\n", GOOD.replace("c1", "c2"));
        assert_eq!(
            errors_of(parse_ndjson(bytes.as_bytes())),
            vec!["line 2: is longer than 4 MiB; no conversation needs that much"]
        );
    }

    #[test]
    fn a_file_is_read_in_chunks_of_good_rows() {
        let lines: Vec<String> = (1..=7)
            .map(|i| GOOD.replace("\"c1\"", &format!("\"c{i}\"")))
            .collect();
        let mut bytes = lines.join("\n");
        bytes.push_str("\n{not json\n");
        let mut reader = RowReader::new(FileFormat::Ndjson, bytes.as_bytes());
        let mut errors = Collector::new();
        let mut chunk = Chunk::default();
        let mut sizes = Vec::new();
        loop {
            let end = reader.fill(3, &mut chunk, &mut errors);
            sizes.push((chunk.conversations.len(), chunk.lines.clone()));
            if end {
                break;
            }
        }
        assert_eq!(
            sizes,
            vec![(3, vec![1, 2, 3]), (3, vec![4, 5, 6]), (1, vec![7]),]
        );
        assert_eq!(errors.total, 1);
    }

    #[test]
    fn the_errors_kept_are_those_of_the_lowest_lines() {
        let mut errors = Collector::new();
        for line in (1..=200).rev() {
            errors.add(line, None, "bad");
        }
        let kept = errors.finish(()).unwrap_err();
        assert_eq!(kept.total, 200);
        assert_eq!(
            kept.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
            (1..=100).collect::<Vec<_>>()
        );
    }
}
