//! Readers: NDJSON lines, CSV rows (byte-order mark, headers, `field.` columns) and the API's items.

use super::checks::{
    check_all, check_each, check_row, last_of_each_external_id, shown, Collector, ImportRow, RawRow,
};
use super::criteria::{read_cell, CSV_CRITERION_PREFIX};
use super::json_items::{read_batch, BatchRefusal, Item};
use super::{
    Chunk, RowErrors, RowSource, BYTE_ORDER_MARK, CSV_FIELD_PREFIX, MAX_LINE_BYTES, TEXT_COLUMNS,
};
use serde::de::DeserializeSeed;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, BufRead};
use std::path::Path;

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
pub(super) enum Column {
    Text(&'static str),
    Occurred,
    Score,
    Field(String),
    Criterion(String),
}

pub(super) enum Source<R> {
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
pub(super) struct RowReader<R> {
    pub(super) source: Source<R>,
    pub(super) started: bool,
    pub(super) done: bool,
}

impl<R: BufRead> RowReader<R> {
    pub(super) fn new(format: FileFormat, reader: R) -> Self {
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
    pub(super) fn next_raw(&mut self, errors: &mut Collector) -> Option<RawRow> {
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
pub(super) fn skip_byte_order_mark(reader: &mut impl BufRead) -> io::Result<()> {
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
pub(super) enum LineRead {
    End,
    Line,
    TooLong,
}

/// Reads one line, without its `\n`, into `buffer`; a line of more than `max_bytes` is read
/// to its end but not kept.
pub(super) fn read_line(
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

pub(super) fn next_ndjson(
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
pub(super) fn csv_columns<R: io::Read>(
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
        } else if let Some(key) = name.strip_prefix(CSV_CRITERION_PREFIX) {
            Column::Criterion(key.to_owned())
        } else {
            errors.add(
                1,
                Some(&shown(name)),
                "is not a known column (custom fields are `field.<key>`, criteria `criterion.<key>`)",
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

pub(super) fn next_csv<R: io::Read>(
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
                Column::Criterion(key) => {
                    if let Some(score) = read_cell(cell) {
                        raw.criteria.push((key.clone(), score));
                    }
                }
            }
        }
        return Some(raw);
    }
}

/// Reads a whole file held in memory, checking every row and refusing repeated external ids.
pub(super) fn read_all(format: FileFormat, bytes: &[u8]) -> Result<Vec<ImportRow>, RowErrors> {
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
