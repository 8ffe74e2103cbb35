//! `server import`, `server field define` and `server field delete`: getting an organisation's
//! conversations in, and the fields they carry.

use app::conversations::import::{
    import_file_as, FileFormat, ImportDesign, ImportError, ImportOptions,
};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{define_field, delete_field, find_organisation, list_fields};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

type CliResult = Result<(), anyhow::Error>;

/// The read buffer of an imported file.
const READ_BUFFER_BYTES: usize = 256 * 1024;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    org: String,
    /// Check the files and report what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// How to write: staged (the default), staged-inserts or chunked; only to measure the
    /// designs against each other (docs/performance.md).
    #[arg(long, hide = true, default_value = "staged", value_parser = parse_design)]
    design: ImportDesign,
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
    /// Delete a conversation custom field, with its options and every conversation's value
    /// for it. Views and links that filter by it then open with that filter dropped.
    Delete {
        #[arg(long)]
        org: String,
        #[arg(long)]
        key: String,
    },
}

fn parse_design(name: &str) -> Result<ImportDesign, String> {
    ImportDesign::parse(name)
        .ok_or_else(|| format!("`{name}` is not a design: staged, staged-inserts or chunked"))
}

async fn org_id(db: &Db, slug: &str) -> Result<i64, anyhow::Error> {
    Ok(find_organisation(db, slug)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no organisation `{slug}`"))?
        .id)
}

pub async fn run_field(db: &Db, command: FieldCommand) -> CliResult {
    let (org, key, label, kind, options) = match command {
        FieldCommand::Define {
            org,
            key,
            label,
            kind,
            options,
        } => (org, key, label, kind, options),
        FieldCommand::Delete { org, key } => return run_field_delete(db, &org, &key).await,
    };
    let org_id = org_id(db, &org).await?;
    let kind = FieldKind::parse(&kind)
        .ok_or_else(|| anyhow::anyhow!("`{kind}` is not a field kind: use select or text"))?;
    if kind == FieldKind::Select && options.is_empty() {
        return Err(anyhow::anyhow!(
            "a select field needs at least one --option"
        ));
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

async fn run_field_delete(db: &Db, org: &str, key: &str) -> CliResult {
    let org_id = org_id(db, org).await?;
    let deleted = delete_field(db, org_id, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("`{org}` has no custom field `{key}`"))?;
    println!(
        "deleted the field `{key}` of `{org}`, with {} option(s) and {} conversation value(s)",
        deleted.options, deleted.values
    );
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
        let result = import_file_as(
            db,
            org_id,
            format,
            options,
            args.design,
            &mut open,
            &mut progress,
        )
        .await;
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
        return Err(anyhow::anyhow!(
            "{failed} of {} file(s) were not imported",
            args.files.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::conversations::model::Channel;
    use app::conversations::store::{write_conversations, NewConversation};
    use app::orgs::store::create_organisation;

    #[test]
    fn field_delete_parses_from_the_command_line() {
        use clap::Parser;
        #[derive(Parser, Debug)]
        struct Cli {
            #[command(subcommand)]
            field: FieldCommand,
        }
        let parsed = Cli::try_parse_from(["server", "delete", "--org", "acme", "--key", "queue"])
            .expect("parses");
        assert!(matches!(
            parsed.field,
            FieldCommand::Delete { ref org, ref key } if org == "acme" && key == "queue"
        ));
        assert!(Cli::try_parse_from(["server", "delete", "--org", "acme"]).is_err());
    }

    #[tokio::test]
    async fn fields_are_defined_and_deleted_from_the_command_line() {
        let temp = tools::test_db::TestDb::sqlite().await;
        let db = temp.db.clone();
        let mut tx = db.begin().await.expect("begin");
        let org_id = create_organisation(&mut tx, "acme", "Acme", "UTC")
            .await
            .expect("org");
        tx.commit().await.expect("commit");
        let define = |key: &str, kind: &str, options: &[&str]| FieldCommand::Define {
            org: "acme".to_owned(),
            key: key.to_owned(),
            label: key.to_uppercase(),
            kind: kind.to_owned(),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        };
        run_field(&db, define("queue", "select", &["Billing", "Technical"]))
            .await
            .expect("define queue");
        run_field(&db, define("product", "text", &[]))
            .await
            .expect("define product");
        let conversation = NewConversation {
            external_id: "c1".to_owned(),
            customer: "ann@example.com".to_owned(),
            customer_name: None,
            representative: "rep@example.com".to_owned(),
            representative_name: None,
            title: "Hello".to_owned(),
            channel: Channel::Chat,
            occurred_at_ms: 1_767_225_600_000,
            score_hundredths: Some(7_000),
            fields: vec![
                ("queue".to_owned(), "Billing".to_owned()),
                ("product".to_owned(), "Router".to_owned()),
            ],
        };
        write_conversations(&db, org_id, &[conversation])
            .await
            .expect("write");

        let delete = |key: &str| FieldCommand::Delete {
            org: "acme".to_owned(),
            key: key.to_owned(),
        };
        run_field(&db, delete("queue")).await.expect("delete");
        let keys: Vec<String> = list_fields(&db, org_id)
            .await
            .expect("fields")
            .into_iter()
            .map(|stored| stored.field.key)
            .collect();
        assert_eq!(keys, vec!["product"]);
        let error = run_field(&db, delete("queue")).await.unwrap_err();
        assert!(
            error.to_string().contains("has no custom field `queue`"),
            "{error}"
        );
        let error = run_field(
            &db,
            FieldCommand::Delete {
                org: "nope".to_owned(),
                key: "product".to_owned(),
            },
        )
        .await
        .unwrap_err();
        assert!(error.to_string().contains("no organisation `nope`"));
        // The key can be defined again, as a new field without values.
        run_field(&db, define("queue", "text", &[]))
            .await
            .expect("define again");
    }
}
