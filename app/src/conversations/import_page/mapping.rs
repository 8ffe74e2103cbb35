//! Reading a call platform's CSV as Playbook's: a reader in front of the import
//! ([`super::super::import::import_file`]) that rewrites the header to Playbook's column names and
//! leaves out the columns mapped to nothing, row by row, so the import's own rules (and its
//! line numbers) apply unchanged. Also the page's preview of the first rows.

use super::super::import::{parse_csv, parse_ndjson, ImportRow, RowErrors, NOT_APPLICABLE_CELL};
use super::super::model::format_score;
use super::columns::{
    ImportPreview, MappedColumn, PreviewRow, LEAVE_OUT, MAX_COLUMNS, MAX_COLUMN_NAME_CHARS,
    PREVIEW_ROWS,
};
use std::io::{self, BufRead, Read};

/// The column names of a CSV header, as the page shows them (cut to
/// [`MAX_COLUMN_NAME_CHARS`], a byte-order mark removed).
fn header_names(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .enumerate()
        .map(|(n, cell)| {
            let name = String::from_utf8_lossy(cell);
            let name = if n == 0 {
                name.trim_start_matches('\u{feff}').to_owned()
            } else {
                name.into_owned()
            };
            name.trim().chars().take(MAX_COLUMN_NAME_CHARS).collect()
        })
        .collect()
}

/// Reads just the header of a CSV: its column names.
pub fn read_header(reader: impl Read) -> io::Result<Vec<String>> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    match csv.read_byte_record(&mut record) {
        Ok(_) => Ok(header_names(&record)),
        Err(error) => Err(io::Error::other(error.to_string())),
    }
}

/// Whether reading a file with `mapping` changes nothing: every column already named as
/// Playbook names it, none left out.
pub fn is_identity(mapping: &[MappedColumn]) -> bool {
    mapping
        .iter()
        .all(|column| column.target != LEAVE_OUT && column.target == column.source.trim())
}

/// A CSV read through a column mapping: Playbook's header, then each row with the kept
/// columns only. Each row starts on the line it starts on in the file (blank lines are
/// written back), so the import's errors name the file's lines.
pub struct MappedCsv<R> {
    reader: csv::Reader<R>,
    /// The file's columns kept, in their order.
    keep: Vec<usize>,
    width: usize,
    record: csv::ByteRecord,
    out: Vec<u8>,
    at: usize,
    /// Lines written so far.
    lines: u64,
    done: bool,
}

impl<R: Read> MappedCsv<R> {
    /// Reads the header of `reader` and asks `choose` what each column is read as (one target
    /// per column, in order). Answers the mapping used beside the reader.
    pub fn open(
        reader: R,
        choose: impl FnOnce(&[String]) -> Vec<MappedColumn>,
    ) -> io::Result<(MappedCsv<R>, Vec<MappedColumn>)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(reader);
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|error| io::Error::other(error.to_string()))?;
        let names = if has_header {
            header_names(&record)
        } else {
            Vec::new()
        };
        if names.len() > MAX_COLUMNS {
            return Err(io::Error::other(format!(
                "the header has {} columns; a file may have at most {MAX_COLUMNS}",
                names.len()
            )));
        }
        let mapping = choose(&names);
        let keep: Vec<usize> = mapping
            .iter()
            .enumerate()
            .filter(|(n, column)| column.target != LEAVE_OUT && *n < names.len())
            .map(|(n, _)| n)
            .collect();
        let mut mapped = MappedCsv {
            reader,
            width: names.len(),
            record,
            out: Vec::new(),
            at: 0,
            lines: 0,
            done: !has_header,
            keep,
        };
        if has_header {
            let header: Vec<&str> = mapped
                .keep
                .iter()
                .map(|n| mapping[*n].target.as_str())
                .collect();
            mapped.write(&header)?;
        }
        Ok((mapped, mapping))
    }

    /// Writes one CSV record: a cell is quoted when it holds a quote, comma or line break (and
    /// a lone empty cell, which would otherwise read as a blank line).
    fn write<T: AsRef<[u8]>>(&mut self, cells: &[T]) -> io::Result<()> {
        for (n, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            if n > 0 {
                self.out.push(b',');
            }
            let quoted = (cells.len() == 1 && cell.is_empty())
                || cell
                    .iter()
                    .any(|b| matches!(b, b'"' | b',' | b'\n' | b'\r'));
            if quoted {
                self.out.push(b'"');
                for byte in cell {
                    if *byte == b'"' {
                        self.out.push(b'"');
                    }
                    self.out.push(*byte);
                }
                self.out.push(b'"');
            } else {
                self.out.extend_from_slice(cell);
            }
            self.lines += cell.iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.out.push(b'\n');
        self.lines += 1;
        Ok(())
    }

    /// Writes the next row (after blank lines up to its line); `false` at the end.
    fn next_row(&mut self) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .map_err(|error| match error.into_kind() {
                csv::ErrorKind::Io(error) => error,
                other => io::Error::other(format!("{other:?}")),
            })?;
        if !more {
            self.done = true;
            return Ok(false);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        while self.lines + 1 < line {
            self.out.push(b'\n');
            self.lines += 1;
        }
        let record = std::mem::take(&mut self.record);
        let mut cells: Vec<&[u8]> = self.keep.iter().filter_map(|n| record.get(*n)).collect();
        // A row of another width than the header stays one, for the import to report.
        if record.len() != self.width && cells.len() == self.keep.len() {
            cells.push(b"");
        }
        let written = self.write(&cells);
        self.record = record;
        written.map(|()| true)
    }
}

impl<R: Read> Read for MappedCsv<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for MappedCsv<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.out.len() {
            self.out.clear();
            self.at = 0;
            if !self.next_row()? {
                break;
            }
        }
        Ok(&self.out[self.at..])
    }

    fn consume(&mut self, amount: usize) {
        self.at = (self.at + amount).min(self.out.len());
    }
}

/// The preview's cells of a row read well.
fn cells_of(row: &ImportRow) -> Vec<String> {
    let c = &row.conversation;
    let with_name = |id: &str, name: &Option<String>| match name {
        Some(name) => format!("{id} ({name})"),
        None => id.to_owned(),
    };
    let time = chrono::DateTime::from_timestamp_millis(c.occurred_at_ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    vec![
        c.external_id.clone(),
        with_name(&c.customer, &c.customer_name),
        with_name(&c.representative, &c.representative_name),
        time,
        c.channel.as_str().to_owned(),
        c.score_hundredths.map(format_score).unwrap_or_default(),
        c.title.clone(),
        c.fields
            .iter()
            .map(|(key, value)| format!("{key}: {value}"))
            .collect::<Vec<_>>()
            .join("; "),
        // As a CSV cell would say it: a score, or `n/a` for not applicable.
        {
            let mut criteria: Vec<_> = c.criteria.iter().collect();
            criteria.sort();
            criteria
        }
        .into_iter()
        .map(|(key, score)| match score {
            Some(hundredths) => format!("{key}: {}", format_score(*hundredths)),
            None => format!("{key}: {NOT_APPLICABLE_CELL}"),
        })
        .collect::<Vec<_>>()
        .join("; "),
    ]
}

/// A row's preview from what reading it alone answered.
fn preview_row(line: u64, read: Result<Vec<ImportRow>, RowErrors>, raw: &str) -> PreviewRow {
    match read {
        Ok(rows) => match rows.first() {
            Some(row) => PreviewRow {
                line,
                cells: cells_of(row),
                problems: Vec::new(),
            },
            None => PreviewRow {
                line,
                cells: Vec::new(),
                problems: vec!["is empty".to_owned()],
            },
        },
        Err(errors) => PreviewRow {
            line,
            cells: vec![raw.chars().take(80).collect()],
            problems: errors
                .errors
                .iter()
                .map(|error| match &error.field {
                    Some(field) => format!("{field}: {}", error.message),
                    None => error.message.clone(),
                })
                .collect(),
        },
    }
}

/// The first [`PREVIEW_ROWS`] rows of a CSV sample read through the mapping `choose` gives,
/// each checked by the import's own rules. `truncated`: the sample is the start of a longer
/// file, so its last row may be cut and is not shown.
pub fn preview_csv(
    sample: &[u8],
    truncated: bool,
    choose: impl FnOnce(&[String]) -> Vec<MappedColumn>,
) -> io::Result<ImportPreview> {
    let (mut mapped, columns) = MappedCsv::open(sample, choose)?;
    let header = std::mem::take(&mut mapped.out);
    let header_lines = mapped.lines;
    let mut problems = Vec::new();
    if let Err(errors) = parse_csv(&header) {
        problems = errors.errors.iter().map(ToString::to_string).collect();
    }
    let mut records = Vec::new();
    while records.len() <= PREVIEW_ROWS {
        mapped.out.clear();
        let before = mapped.lines;
        match mapped.next_row() {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                problems.push(format!("unreadable CSV: {error}"));
                break;
            }
        }
        let line = mapped.record.position().map_or(before + 1, |p| p.line());
        let raw = String::from_utf8_lossy(&mapped.out).trim().to_owned();
        let row = mapped.out.trim_ascii_start().to_vec();
        records.push((line, row, raw));
    }
    if truncated && records.len() <= PREVIEW_ROWS {
        records.pop();
    }
    records.truncate(PREVIEW_ROWS);
    let rows = records
        .into_iter()
        .map(|(line, row, raw)| {
            // The header, blank lines up to the row's own line, the row: read alone.
            let mut bytes = header.clone();
            bytes.resize(
                bytes.len() + (line.saturating_sub(header_lines + 1)) as usize,
                b'\n',
            );
            bytes.extend_from_slice(&row);
            let mut read = parse_csv(&bytes);
            if let Err(errors) = &mut read {
                errors.errors.retain(|error| error.line != 1);
            }
            preview_row(line, read, &raw)
        })
        .collect();
    Ok(ImportPreview {
        columns,
        problems,
        rows,
    })
}

/// The first [`PREVIEW_ROWS`] lines of an NDJSON sample, each read by the import's rules.
pub fn preview_ndjson(sample: &[u8], truncated: bool) -> ImportPreview {
    let sample = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let mut lines: Vec<(u64, &[u8])> = sample
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(n, line)| (n as u64 + 1, line))
        .collect();
    if truncated || sample.last() != Some(&b'\n') {
        // The last piece is cut short, or empty after the final newline.
        if truncated {
            lines.pop();
        }
    }
    let rows = lines
        .into_iter()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .take(PREVIEW_ROWS)
        .map(|(line, text)| {
            let mut bytes = vec![b'\n'; (line - 1) as usize];
            bytes.extend_from_slice(text);
            preview_row(line, parse_ndjson(&bytes), &String::from_utf8_lossy(text))
        })
        .collect();
    ImportPreview {
        columns: Vec::new(),
        problems: Vec::new(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::import_page::columns::{guess_mapping, PREVIEW_HEADINGS};

    const FOREIGN: &str =
        "Call ID,Caller,Agent Email,Start Time,Channel,QA Score,Subject,Recording URL\n\
        c1,ann@example.com,rep@acme.example,2026-03-14T09:30:00Z,Voice,80,Billing,http://x/1\n\
        \n\
        c2,bob@example.com,rep@acme.example,2026-03-15T09:30:00Z,fax,,Other,\"http://x/2\"\n";

    fn mapped(text: &str) -> String {
        let (mut reader, _) =
            MappedCsv::open(text.as_bytes(), |header| guess_mapping(header, &[])).expect("open");
        let mut out = String::new();
        reader.read_to_string(&mut out).expect("read");
        out
    }

    #[test]
    fn a_foreign_header_is_rewritten_and_unmapped_columns_left_out_keeping_lines() {
        assert_eq!(
            mapped(FOREIGN),
            "external_id,customer,representative,occurred_at,type,score,title\n\
             c1,ann@example.com,rep@acme.example,2026-03-14T09:30:00Z,Voice,80,Billing\n\
             c2,bob@example.com,rep@acme.example,2026-03-15T09:30:00Z,fax,,Other\n"
        );
        let errors = parse_csv(mapped(FOREIGN).as_bytes()).unwrap_err();
        assert_eq!(errors.total, 1);
        // The line the command line would report for the file (the CSV reader's count).
        assert_eq!(errors.errors[0].line, 3);
    }

    #[test]
    fn the_preview_shows_criterion_scores_as_read() {
        let csv = "external_id,customer,representative,occurred_at,type,score,title,criterion.greeting,criterion.empathy\n\
                   c1,ann@example.com,rep@acme.example,2026-03-14T09:30:00Z,voice,80,Call,72.5,n/a\n\
                   c2,bob@example.com,rep@acme.example,2026-03-15T09:30:00Z,voice,80,Call,,101\n";
        let preview = preview_csv(csv.as_bytes(), false, |header| guess_mapping(header, &[]))
            .expect("preview");
        assert!(preview.problems.is_empty(), "{:?}", preview.problems);
        let criteria = PREVIEW_HEADINGS
            .iter()
            .position(|h| *h == "Criteria")
            .expect("a heading");
        assert_eq!(
            preview.rows[0].cells[criteria],
            "empathy: n/a; greeting: 72.5"
        );
        assert!(
            preview.rows[1]
                .problems
                .iter()
                .any(|p| p.contains("empathy")),
            "{:?}",
            preview.rows[1]
        );
    }

    #[test]
    fn the_preview_shows_rows_as_read_and_what_is_wrong() {
        let preview = preview_csv(FOREIGN.as_bytes(), false, |header| {
            guess_mapping(header, &[])
        })
        .expect("preview");
        assert!(preview.problems.is_empty(), "{:?}", preview.problems);
        assert_eq!(preview.rows.len(), 2);
        assert_eq!(preview.rows[0].cells[0], "c1");
        assert_eq!(preview.rows[0].cells[4], "voice");
        assert_eq!(preview.rows[1].line, 3);
        assert!(
            preview.rows[1].problems[0].contains("type"),
            "{:?}",
            preview.rows[1]
        );
        // A cut sample drops its last row; a missing column is a problem of the whole file.
        let cut = preview_csv(FOREIGN.as_bytes(), true, |header| {
            let mut mapping = guess_mapping(header, &[]);
            mapping[0].target = String::new();
            mapping
        })
        .expect("preview");
        assert_eq!(cut.rows.len(), 1);
        assert!(
            cut.problems.iter().any(|p| p.contains("external_id")),
            "{:?}",
            cut.problems
        );
    }

    #[test]
    fn rows_of_another_width_stay_errors() {
        let text = "Call ID,Caller,Agent,Start,Channel,Subject,Notes\nc1,a,r@x.y,2026-03-14T09:30:00Z,voice,T\n";
        let errors = parse_csv(mapped(text).as_bytes()).unwrap_err();
        assert_eq!(errors.errors[0].line, 2);
    }

    #[test]
    fn ndjson_preview_reads_lines_alone() {
        let sample = b"{\"external_id\": \"c1\"}\n\n{\"external_id\": \"c2\", \"customer\"";
        let preview = preview_ndjson(sample, true);
        assert_eq!(preview.rows.len(), 1);
        assert!(!preview.rows[0].problems.is_empty());
    }
}
