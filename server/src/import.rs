//! `server import` and `server field define`: getting an organisation's conversations in.

use app::conversations::import::{import_rows, parse_csv, parse_ndjson, ImportError};
use app::db::Db;
use app::orgs::model::{CustomField, FieldKind};
use app::orgs::store::{define_field, find_organisation, list_fields};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

type CliResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long)]
    org: String,
    /// Check the files and report what would change, writing nothing.
    #[arg(long)]
    dry_run: bool,
    /// NDJSON (.ndjson, .jsonl) or CSV (.csv) files; each is written all or nothing.
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

fn read_rows(path: &Path) -> Result<Vec<app::conversations::import::ImportRow>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{}: could not read it: {e}", path.display()))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_lowercase();
    let parsed = match extension.as_str() {
        "ndjson" | "jsonl" => parse_ndjson(&bytes),
        "csv" => parse_csv(&bytes),
        _ => return Err(format!("{}: use .ndjson, .jsonl or .csv", path.display())),
    };
    parsed.map_err(|errors| format!("{}: {errors}", path.display()))
}

pub async fn run_import(db: &Db, args: ImportArgs) -> CliResult {
    let org_id = org_id(db, &args.org).await?;
    let terminal = std::io::stderr().is_terminal();
    let mut failed = 0;
    for path in &args.files {
        let started = Instant::now();
        let rows = match read_rows(path) {
            Ok(rows) => rows,
            Err(message) => {
                eprint!("{message}");
                if !message.ends_with('\n') {
                    eprintln!();
                }
                failed += 1;
                continue;
            }
        };
        let total = rows.len();
        let mut last_report = Instant::now();
        let mut progress = |done: usize| {
            let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
            if terminal {
                let width = 30;
                let filled = (done * width).checked_div(total).unwrap_or(width);
                eprint!(
                    "\r  [{}{}] {done}/{total} conversations, {rate:.0}/s ",
                    "#".repeat(filled),
                    "-".repeat(width - filled)
                );
                let _ = std::io::stderr().flush();
            } else if last_report.elapsed().as_secs() >= 2 || done == total {
                eprintln!(
                    "  {}: {done}/{total} conversations, {rate:.0}/s",
                    path.display()
                );
                last_report = Instant::now();
            }
        };
        let result = import_rows(db, org_id, &rows, args.dry_run, &mut progress).await;
        if terminal {
            eprintln!();
        }
        match result {
            Ok(summary) => {
                let seconds = started.elapsed().as_secs_f64();
                let verb = if args.dry_run { "would be" } else { "were" };
                println!(
                    "{}: {total} rows in {seconds:.1}s ({:.0}/s): {} created, {} updated, {} skipped (unchanged){}{}",
                    path.display(),
                    total as f64 / seconds.max(0.001),
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
