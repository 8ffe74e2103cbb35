//! `server import` and `server field define`: getting an organisation's conversations in.

use app::conversations::import::{import_file, FileFormat, ImportError, ImportOptions};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{define_field, find_organisation, list_fields};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The read buffer of an imported file.
const READ_BUFFER_BYTES: usize = 256 * 1024;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    org: String,
    /// Check the files and report what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// NDJSON (.ndjson, .jsonl) or CSV (.csv) files; each is streamed and written all or
    /// nothing, in one transaction.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum FieldCommand {
    /// Define (or redefine) a conversation custom field.
    Define {
        #[arg(long)]
        org: String,
        /// Lower-case letters, digits and underscores.
        #[arg(long)]
        key: String,
        #[arg(long)]
        label: String,
        /// select or text
        #[arg(long)]
        kind: String,
        /// An option of a select field; repeat for each.
        #[arg(long = "option")]
        options: Vec<String>,
    },
}

async fn org_id(db: &Db, slug: &str) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(find_organisation(db, slug)
        .await?
        .ok_or_else(|| format!("there is no organisation `{slug}`"))?
        .id)
}

pub async fn run_field(db: &Db, command: FieldCommand) -> CliResult {
    let FieldCommand::Define {
        org,
        key,
        label,
        kind,
        options,
    } = command;
    let org_id = org_id(db, &org).await?;
    let kind = FieldKind::parse(&kind)
        .ok_or_else(|| format!("`{kind}` is not a field kind: use select or text"))?;
    if kind == FieldKind::Select && options.is_empty() {
        return Err("a select field needs at least one --option".into());
    }
    let existing = list_fields(db, org_id).await?;
    let position = existing
        .iter()
        .position(|stored| stored.field.key == key)
        .unwrap_or(existing.len()) as i64;
    let field = CustomField {
        key: key.clone(),
        label,
        kind,
        options,
    };
    let mut tx = db.begin().await?;
    define_field(&mut tx, org_id, &field, position).await?;
    tx.commit().await?;
    println!("defined the {} field `{key}` in `{org}`", kind.as_str());
    Ok(())
}

/// Counts the bytes read through it, for the progress report.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The bar shown while a file is imported in a terminal: bytes read of the file's size, as wide
/// as the terminal leaves room for.
fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::new(size);
    if let Ok(style) =
        ProgressStyle::with_template("  [{wide_bar}] {bytes}/{total_bytes}, {msg}, eta {eta}")
    {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_message("0 rows");
    bar
}

pub async fn run_import(db: &Db, args: ImportArgs) -> CliResult {
    let org_id = org_id(db, &args.org).await?;
    let terminal = std::io::stderr().is_terminal();
    let options = ImportOptions {
        dry_run: args.dry_run,
        ..ImportOptions::default()
    };
    let mut failed = 0;
    for path in &args.files {
        let Some(format) = FileFormat::of_path(path) else {
            eprintln!("{}: use .ndjson, .jsonl or .csv", path.display());
            failed += 1;
            continue;
        };
        let size = match std::fs::metadata(path) {
            Ok(metadata) => metadata.len(),
            Err(error) => {
                eprintln!("{}: could not read it: {error}", path.display());
                failed += 1;
                continue;
            }
        };
        let started = Instant::now();
        let bytes_read = Arc::new(AtomicU64::new(0));
        let bar = terminal.then(|| progress_bar(size));
        // Called again to read the file from the start when the import is tried again.
        let mut open = || -> std::io::Result<_> {
            let file = File::open(path)?;
            bytes_read.store(0, Ordering::Relaxed);
            if let Some(bar) = &bar {
                bar.set_position(0);
            }
            Ok(BufReader::with_capacity(
                READ_BUFFER_BYTES,
                Counted {
                    inner: file,
                    count: Arc::clone(&bytes_read),
                },
            ))
        };
        let mut last_report = Instant::now();
        let mut progress = |done: usize| {
            let read = bytes_read.load(Ordering::Relaxed);
            let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
            if let Some(bar) = &bar {
                bar.set_position(read);
                bar.set_message(format!("{done} rows at {rate:.0}/s"));
            } else if last_report.elapsed().as_secs() >= 2 {
                let percent = (read * 100).checked_div(size).unwrap_or(100);
                eprintln!(
                    "  {}: {done} conversations, {percent}% of the file read, {rate:.0}/s",
                    path.display()
                );
                last_report = Instant::now();
            }
        };
        let result = import_file(db, org_id, format, options, &mut open, &mut progress).await;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(summary) => {
                let seconds = started.elapsed().as_secs_f64();
                let verb = if args.dry_run { "would be" } else { "were" };
                println!(
                    "{}: {} rows in {seconds:.1}s ({:.0}/s): {} created, {} updated, {} skipped (unchanged){}{}",
                    path.display(),
                    summary.rows,
                    summary.rows as f64 / seconds.max(0.001),
                    summary.written.created,
                    summary.written.updated,
                    summary.written.skipped,
                    if summary.new_fields > 0 {
                        format!("; {} new text field(s) {verb} defined", summary.new_fields)
                    } else {
                        String::new()
                    },
                    if args.dry_run { " (dry run: nothing written)" } else { "" },
                );
            }
            Err(ImportError::Rows(errors)) => {
                eprint!("{}: {errors}", path.display());
                failed += 1;
            }
            Err(ImportError::Fields(message)) => {
                eprintln!("{}: {message}", path.display());
                failed += 1;
            }
            Err(ImportError::Store(error)) => {
                eprintln!("{}: nothing was written: {error}", path.display());
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} file(s) were not imported", args.files.len()).into());
    }
    Ok(())
}
