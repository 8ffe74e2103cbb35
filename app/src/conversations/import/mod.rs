//! Importing conversations: NDJSON lines, CSV rows, or the items of an API call, all read into
//! the same checked shape. A file (or a call) is written all or nothing; a bad one reports
//! every bad row (up to [`MAX_REPORTED_ERRORS`]) with its line, its field and why.
//!
//! A file is streamed: read a chunk of rows at a time ([`CHUNK_ROWS`]) and each chunk staged
//! in temporary tables as it comes, all inside one transaction, so that memory stays flat
//! however long the file; once all of it is read and nothing is wrong, the staged rows are
//! written set-wise ([`bulk_store`]). A bad row does not stop the reading: every bad row is
//! reported, and the transaction is rolled back.

mod checks;
mod criteria;
mod json_items;
mod readers;
#[cfg(test)]
mod tests;
mod write;

pub use checks::ImportRow;
pub use criteria::{CSV_CRITERION_PREFIX, NOT_APPLICABLE_CELL};
pub use json_items::BatchRefusal;
pub use readers::{parse_batch, parse_csv, parse_items, parse_ndjson, BatchError, FileFormat};

use super::bulk_store::Staging;
use super::store::{NewConversation, WriteSummary};
use crate::db::{should_retry, Db, StoreError, TRANSIENT_BACKOFF};
use checks::Collector;
use readers::RowReader;
use std::fmt;
use std::io::{self, BufRead};
use write::{import_chunked, import_staged};

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
            Err(ImportError::Store(error)) if should_retry(&error, attempt) => {
                // The store's policy and pauses; a loop of its own because each attempt
                // reads the file again through the caller's source and progress.
                tokio::time::sleep(TRANSIENT_BACKOFF.pause(attempt)).await;
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
