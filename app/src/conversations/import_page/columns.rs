//! The import page's shared vocabulary (server and browser): Playbook's columns, how a call
//! platform's column names are guessed onto them, and what the page is told about a preview
//! and an import job.

use serde::{Deserialize, Serialize};

/// Playbook's CSV columns (the names the command-line import reads), with the page's labels.
pub const PLAYBOOK_COLUMNS: [(&str, &str); 9] = [
    ("external_id", "External id"),
    ("customer", "Customer"),
    ("customer_name", "Customer name"),
    ("representative", "Representative (email)"),
    ("representative_name", "Representative name"),
    ("title", "Title"),
    ("type", "Type (voice, chat, email)"),
    ("occurred_at", "Time"),
    ("score", "Score (0–100)"),
];

/// The columns an import cannot do without.
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "external_id",
    "customer",
    "representative",
    "title",
    "type",
    "occurred_at",
];

/// The prefix of a custom field's column, as the command-line import reads it.
pub const FIELD_PREFIX: &str = "field.";
/// The prefix of a playbook criterion's column (`criterion.<key>`), as the import reads it.
pub const CRITERION_PREFIX: &str = "criterion.";
/// A column left out of the import.
pub const LEAVE_OUT: &str = "";
/// Most columns a file's header may have on the page.
pub const MAX_COLUMNS: usize = 200;
/// Longest column name kept (longer ones are cut).
pub const MAX_COLUMN_NAME_CHARS: usize = 120;
/// Bytes of the start of a file the page sends for its preview (a server-function call, under
/// the usual small body limit).
pub const PREVIEW_SAMPLE_BYTES: usize = 32 * 1024;
/// Rows shown in the preview.
pub const PREVIEW_ROWS: usize = 20;

/// One column of a file and what it is read as: a Playbook column, `field.<key>`, or
/// [`LEAVE_OUT`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappedColumn {
    pub source: String,
    pub target: String,
}

/// A column name as compared: lower case, anything but letters and digits as one space.
pub fn column_key(name: &str) -> String {
    let mut key = String::new();
    for word in name
        .trim_start_matches('\u{feff}')
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(&word.to_lowercase());
    }
    key
}

/// The custom-field key a column becomes when it is imported as a field: its name in lower
/// case with underscores (`Queue Name` → `queue_name`), at most 64 characters.
pub fn field_key_of(name: &str) -> String {
    let key: String = column_key(name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .map(|c| if c == ' ' { '_' } else { c })
        .take(64)
        .collect();
    if key.is_empty() {
        "field".to_owned()
    } else {
        key
    }
}

/// Whether `key` may name a custom field: lower-case letters, digits and underscores.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `target` is something a column may be mapped to.
pub fn is_target(target: &str) -> bool {
    target == LEAVE_OUT
        || PLAYBOOK_COLUMNS.iter().any(|(name, _)| *name == target)
        || target.strip_prefix(FIELD_PREFIX).is_some_and(is_key)
        || target.strip_prefix(CRITERION_PREFIX).is_some_and(is_key)
}

/// Other names call platforms give Playbook's columns, as [`column_key`]s.
const SYNONYMS: [(&str, &[&str]); 9] = [
    (
        "external_id",
        &[
            "external id",
            "id",
            "call id",
            "conversation id",
            "interaction id",
            "ticket id",
            "ticket",
            "record id",
            "session id",
            "contact id",
            "call sid",
            "uuid",
            "reference",
        ],
    ),
    (
        "customer",
        &[
            "customer",
            "customer id",
            "customer email",
            "client",
            "client id",
            "client email",
            "caller",
            "caller id",
            "caller number",
            "customer phone",
            "contact",
            "contact email",
            "email",
            "phone",
            "account",
        ],
    ),
    (
        "customer_name",
        &[
            "customer name",
            "client name",
            "caller name",
            "contact name",
            "name",
        ],
    ),
    (
        "representative",
        &[
            "representative",
            "representative email",
            "rep",
            "rep email",
            "agent",
            "agent email",
            "user email",
            "owner email",
            "assignee email",
            "handled by",
        ],
    ),
    (
        "representative_name",
        &[
            "representative name",
            "rep name",
            "agent name",
            "user name",
            "owner name",
            "assignee name",
        ],
    ),
    (
        "title",
        &[
            "title",
            "subject",
            "summary",
            "topic",
            "reason",
            "call reason",
        ],
    ),
    (
        "type",
        &[
            "type",
            "channel",
            "kind",
            "medium",
            "media type",
            "conversation type",
            "interaction type",
        ],
    ),
    (
        "occurred_at",
        &[
            "occurred at",
            "time",
            "date",
            "date time",
            "datetime",
            "date and time",
            "timestamp",
            "start time",
            "started at",
            "start",
            "created at",
            "created",
            "call time",
            "call date",
        ],
    ),
    (
        "score",
        &[
            "score",
            "qa score",
            "quality score",
            "rating",
            "evaluation score",
            "grade",
        ],
    ),
];

/// What a column is most likely read as, from its name: Playbook's own names,
/// `field.<key>` and `criterion.<key>` as they are, common synonyms whatever their case and spacing, else left out.
pub fn guess_target(name: &str) -> String {
    let trimmed = name.trim().trim_start_matches('\u{feff}');
    if trimmed.strip_prefix(FIELD_PREFIX).is_some_and(is_key)
        || trimmed.strip_prefix(CRITERION_PREFIX).is_some_and(is_key)
        || PLAYBOOK_COLUMNS.iter().any(|(known, _)| *known == trimmed)
    {
        return trimmed.to_owned();
    }
    let key = column_key(name);
    SYNONYMS
        .iter()
        .find(|(_, names)| names.contains(&key.as_str()))
        .map(|(target, _)| (*target).to_owned())
        .unwrap_or_default()
}

/// Guesses for every column of a header; each Playbook column goes to the first column that
/// may be it, so two columns never both become the customer, say.
pub fn guess_mapping(header: &[String], remembered: &[(String, String)]) -> Vec<MappedColumn> {
    let mut taken: Vec<String> = Vec::new();
    header
        .iter()
        .map(|source| {
            let key = column_key(source);
            let target = remembered
                .iter()
                .find(|(known, _)| *known == key)
                .map(|(_, target)| target.clone())
                .filter(|target| is_target(target))
                .unwrap_or_else(|| guess_target(source));
            let target = if target != LEAVE_OUT && taken.contains(&target) {
                LEAVE_OUT.to_owned()
            } else {
                taken.push(target.clone());
                target
            };
            MappedColumn {
                source: source.clone(),
                target,
            }
        })
        .collect()
}

/// What each column of a file with `header` is read as: the page's choice for the columns it
/// names, else what the organisation remembers, else a guess.
pub fn choose_mapping(
    header: &[String],
    chosen: Option<&[MappedColumn]>,
    remembered: &[(String, String)],
) -> Vec<MappedColumn> {
    let guessed = guess_mapping(header, remembered);
    let Some(chosen) = chosen else {
        return guessed;
    };
    guessed
        .into_iter()
        .map(
            |column| match chosen.iter().find(|c| c.source.trim() == column.source) {
                Some(choice) => MappedColumn {
                    source: column.source,
                    target: choice.target.clone(),
                },
                None => column,
            },
        )
        .collect()
}

/// The file formats the page takes, from the file's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadFormat {
    Csv,
    Ndjson,
}

impl UploadFormat {
    pub fn of_name(name: &str) -> Option<UploadFormat> {
        let lower = name.to_lowercase();
        if lower.ends_with(".csv") {
            Some(UploadFormat::Csv)
        } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
            Some(UploadFormat::Ndjson)
        } else {
            None
        }
    }
}

/// The first rows of a file as the import will read them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    /// The file's columns and what each is read as (CSV only).
    pub columns: Vec<MappedColumn>,
    /// Problems of the header or the mapping, which stop the whole file.
    pub problems: Vec<String>,
    pub rows: Vec<PreviewRow>,
}

/// The headings of [`PreviewRow::cells`].
pub const PREVIEW_HEADINGS: [&str; 9] = [
    "External id",
    "Customer",
    "Representative",
    "Time (UTC)",
    "Type",
    "Score",
    "Title",
    "Fields",
    "Criteria",
];

/// One row of the preview: its values as read (see [`PREVIEW_HEADINGS`]), or what is wrong
/// with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: u64,
    pub cells: Vec<String>,
    pub problems: Vec<String>,
}

/// Where an import job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobPhase {
    /// The file is arriving.
    Receiving,
    /// The file is being read and written.
    Importing,
    /// Done: see the outcome.
    Finished,
}

/// What an import wrote: the command line's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedFigures {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub new_fields: u64,
    pub customers_touched: u64,
    pub millis: u64,
}

/// How a finished import ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JobOutcome {
    Imported(ImportedFigures),
    /// Bad rows: every one counted, the first ones listed; nothing was written.
    BadRows {
        total: u64,
        lines: Vec<String>,
    },
    /// Nothing was written, for the reason given.
    Failed(String),
}

/// An organisation's import, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportJobView {
    pub id: u64,
    pub file_name: String,
    pub phase: JobPhase,
    /// The file's size once received (bytes received so far while it arrives).
    pub file_bytes: u64,
    /// Bytes of the file read by the import.
    pub bytes_read: u64,
    /// Good rows read so far.
    pub rows: u64,
    pub outcome: Option<JobOutcome>,
}

/// What the import page needs: the organisation's job, the size limit, the backend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportPageState {
    pub job: Option<ImportJobView>,
    pub max_upload_bytes: u64,
    pub sqlite: bool,
}

/// Bytes as people read them: `1.5 MB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obvious_names_are_guessed_whatever_their_case_and_spacing() {
        assert_eq!(guess_target("Call ID"), "external_id");
        assert_eq!(guess_target("  agent_EMAIL "), "representative");
        assert_eq!(guess_target("Start-Time"), "occurred_at");
        assert_eq!(guess_target("QA Score"), "score");
        assert_eq!(guess_target("\u{feff}external_id"), "external_id");
        assert_eq!(guess_target("field.queue"), "field.queue");
        assert_eq!(guess_target("criterion.greeting"), "criterion.greeting");
        assert_eq!(guess_target("Recording URL"), LEAVE_OUT);
        assert_eq!(field_key_of("Queue Name!"), "queue_name");
    }

    #[test]
    fn a_column_is_guessed_once_and_remembered_choices_win() {
        let header: Vec<String> = ["Email", "Caller", "Agent", "When"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let remembered = vec![("when".to_owned(), "occurred_at".to_owned())];
        let mapping = guess_mapping(&header, &remembered);
        let targets: Vec<&str> = mapping.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(targets, ["customer", "", "representative", "occurred_at"]);
        assert!(is_target("field.queue") && is_target("") && !is_target("field.Queue"));
        assert!(is_target("criterion.greeting") && !is_target("criterion.Greeting"));
    }
}
