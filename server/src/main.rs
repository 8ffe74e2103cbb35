//! The Playbook server: serves the app and runs its maintenance commands.

mod accounts;
mod bench;
mod fixture;
mod http;
#[cfg(test)]
mod http_tests;
mod import;
#[cfg(test)]
mod test_support;

use app::db::Db;
use app::demo::{seed_demo, DemoOptions};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// SQLite page cache of the import command, in MiB.
const IMPORT_CACHE_MIB: u32 = 2048;

/// The embedded default: an SQLite file under `data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/playbook.db";

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "Playbook: review how your team handles customer conversations"
)]
struct Cli {
    /// sqlite://PATH (the default, a file) or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the web app (migrates the database first). The default when no command is given.
    Serve {
        /// Address to listen on; defaults to LEPTOS_SITE_ADDR or 127.0.0.1:3000.
        #[arg(long, env = "PLAYBOOK_ADDR")]
        addr: Option<std::net::SocketAddr>,
        /// Seed the demo organisation (with demo sign-ins) when the database has none yet.
        #[arg(long)]
        demo: bool,
        /// Mark session cookies Secure even when requests do not say they came over https
        /// (they are marked when X-Forwarded-Proto says https).
        #[arg(long, env = "PLAYBOOK_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Most database connections in the pool.
        #[arg(long, env = "PLAYBOOK_DB_CONNECTIONS", default_value_t = 8)]
        db_connections: u32,
        /// How long one Customers question may take, in milliseconds, before the database
        /// stops it and the user is asked to narrow it.
        #[arg(long, env = "PLAYBOOK_QUERY_BUDGET_MS", default_value_t = 5_000)]
        query_budget_ms: u64,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Create the demo organisation with deterministic, realistic data.
    Demo {
        #[arg(long, default_value_t = DemoOptions::default().customers)]
        customers: u32,
        #[arg(long, default_value_t = DemoOptions::default().conversations)]
        conversations: u32,
        #[arg(long, default_value_t = DemoOptions::default().seed)]
        seed: u64,
    },
    /// Load a fixed dataset from a JSON file (used by the browser tests).
    LoadFixture { file: PathBuf },
    /// Import conversations from NDJSON or CSV files (each file all or nothing).
    Import(import::ImportArgs),
    /// Conversation custom fields.
    #[command(subcommand)]
    Field(import::FieldCommand),
    /// Organisations.
    #[command(subcommand)]
    Org(accounts::OrgCommand),
    /// People who sign in.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Build a large dataset and measure the store, the server and the client (`make bench`).
    Bench(bench::BenchArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn")),
        )
        .init();
    // `server` alone serves, as `cargo leptos serve` and `cargo leptos end-to-end` start it.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 1 {
        args.push("serve".into());
    }
    let cli = Cli::parse_from(args);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = std::error::Error::source(error.as_ref());
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str, connections: u32) -> Result<Db, Box<dyn std::error::Error>> {
    let db = Db::connect(url, connections).await?;
    db.migrate().await?;
    Ok(db)
}

/// Opens the database for a one-off command, runs it, and closes the pool whatever the outcome.
async fn with_db(
    url: &str,
    command: impl AsyncFnOnce(&Db) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = open(url, 2).await?;
    let result = command(&db).await;
    db.close().await;
    result
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            addr,
            demo,
            secure_cookies,
            db_connections,
            query_budget_ms,
        } => {
            let db = open(&cli.database_url, db_connections)
                .await?
                .with_query_budget(std::time::Duration::from_millis(query_budget_ms));
            if demo && app::orgs::store::count_organisations(&db).await? == 0 {
                tracing::info!("empty database: creating the demo organisation (a few seconds)");
                seed_demo(&db, DemoOptions::default()).await?;
            } else if demo {
                app::demo::ensure_demo_sign_ins(&db).await?;
            }
            http::serve(db, addr, secure_cookies).await
        }
        Command::Bench(args) => bench::run_bench(args).await,
        Command::Import(args) => {
            // One import is one transaction: a page cache that holds what it changes keeps
            // SQLite from spilling the same pages to its log over and over.
            let db = Db::connect_with_cache(&cli.database_url, 2, IMPORT_CACHE_MIB).await?;
            db.migrate().await?;
            let result = import::run_import(&db, args).await;
            db.close().await;
            result
        }
        Command::Field(command) => {
            with_db(&cli.database_url, async |db| {
                import::run_field(db, command).await
            })
            .await
        }
        Command::Token(command) => {
            with_db(&cli.database_url, async |db| {
                accounts::run_token(db, command).await
            })
            .await
        }
        Command::Org(command) => {
            with_db(&cli.database_url, async |db| {
                accounts::run_org(db, command).await
            })
            .await
        }
        Command::User(command) => {
            with_db(&cli.database_url, async |db| {
                accounts::run_user(db, command).await
            })
            .await
        }
        Command::Migrate => {
            let db = open(&cli.database_url, 1).await?;
            println!("{} schema is up to date", db.backend().name());
            db.close().await;
            Ok(())
        }
        Command::Demo {
            customers,
            conversations,
            seed,
        } => {
            let db = open(&cli.database_url, 4).await?;
            let started = std::time::Instant::now();
            seed_demo(
                &db,
                DemoOptions {
                    customers,
                    conversations,
                    seed,
                },
            )
            .await?;
            println!(
                "created the demo organisation: {customers} customers, {conversations} conversations in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            db.close().await;
            Ok(())
        }
        Command::LoadFixture { file } => {
            let db = open(&cli.database_url, 4).await?;
            let summary = fixture::load(&db, &file).await?;
            println!("{summary}");
            db.close().await;
            Ok(())
        }
    }
}
