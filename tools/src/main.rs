//! `tools`: the benchmark and the fixture loader (see lib.rs).

use app::db::Db;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tools::{bench, fixture};
use tracing_subscriber::EnvFilter;

/// Playbook's developer tools: the benchmark and the browser tests' fixture loader.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load a fixed dataset from a JSON file (used by the browser tests).
    LoadFixture {
        /// sqlite://PATH (a file) or postgres://USER@HOST/DB; the server's default too.
        #[arg(
            long,
            env = "DATABASE_URL",
            default_value = app::db::DEFAULT_DATABASE_URL
        )]
        database_url: String,
        file: PathBuf,
    },
    /// Build a large dataset and measure the store, the release server and the client
    /// (`make bench`).
    Bench(bench::BenchArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}`: the error and its causes, outermost first, on one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), anyhow::Error> {
    match cli.command {
        Command::Bench(args) => bench::run_bench(args).await,
        Command::LoadFixture { database_url, file } => {
            let db = Db::connect(&database_url, 4).await?;
            db.migrate().await?;
            let summary = fixture::load(&db, &file).await;
            db.close().await;
            println!("{}", summary?);
            Ok(())
        }
    }
}
