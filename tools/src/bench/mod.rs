//! `tools bench`: builds a large dataset through the real import command of the release
//! server binary, then measures the store (against the plain GROUP BY as a baseline), that
//! binary serving under load, and the client bundle, and writes the figures to
//! docs/BENCHMARKS.md. `make bench` runs it with a release build; docs/BENCHMARKS.md says how
//! to read it.

mod client;
mod dataset;
mod first_seconds;
mod http;
mod live;
mod report;
mod store;
#[cfg(test)]
mod tests;

use crate::tenants::{measure_tenants, LargeOrg, TenantPlan};
use client::measure_client;
use dataset::{bench_fields, write_dataset, write_dataset_from, write_rows, DATASET_SEED};
use http::measure_http;
pub(crate) use http::peak_memory_mb;
use report::Report;
use std::path::PathBuf;
use std::time::Instant;
pub(crate) use store::percentile;
use store::{measure_after_import, measure_backend, recreate_postgres_database};

type BenchResult<T> = Result<T, anyhow::Error>;

const ORG: &str = "bench";

const MANAGER: &str = "manager@bench.example";

const PASSWORD: &str = "bench-password-1";

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The server binary whose `import` builds the dataset and whose `serve` is measured
    /// (`scripts/build.sh` builds it).
    #[arg(long, default_value = "target/release/server")]
    server: PathBuf,
    /// Customers in the dataset.
    #[arg(long, default_value_t = 100_000)]
    customers: u32,
    /// Conversations in the dataset (about 10% of them unscored).
    #[arg(long, default_value_t = 2_000_000)]
    conversations: u32,
    /// The dataset's name in the report.
    #[arg(long, default_value = "L")]
    label: String,
    /// Calls per store query.
    #[arg(long, default_value_t = 200)]
    calls: usize,
    /// Calls per query of the plain GROUP BY baseline (it takes seconds a call at L).
    #[arg(long, default_value_t = 3)]
    baseline_calls: usize,
    /// Seconds a query may take in all; past it, a query stops after ten timed calls.
    #[arg(long, default_value_t = 30)]
    query_budget_seconds: u64,
    /// Also measure on PostgreSQL: the server URL to create the benchmark database on.
    #[arg(long)]
    postgres: Option<String>,
    /// With --postgres: the URL names a database that already holds the dataset (from an
    /// earlier run, or copied from the SQLite one); it is measured without importing.
    #[arg(long)]
    postgres_reuse: bool,
    /// Where the dataset file and the SQLite database go.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// The report to write.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
    /// The built client bundle (`scripts/build.sh` puts it here).
    #[arg(long, default_value = "target/site/pkg")]
    site_pkg: PathBuf,
    /// Seconds of load per HTTP run.
    #[arg(long, default_value_t = 8)]
    http_seconds: u32,
    /// The load generator (oha, installed with cargo by scripts/bench.sh).
    #[arg(long, default_value = "oha")]
    oha: String,
    /// Small organisations (1,000 conversations each) beside the large one in the
    /// many-organisation run; 0 skips it.
    #[arg(long, default_value_t = 1_000)]
    tenants: usize,
    /// Conversations imported into the large organisation at the end, before timing the next
    /// question; 0 skips it.
    #[arg(long, default_value_t = 300_000)]
    big_import: u32,
    /// Measure only the first seconds of the Customers page in Chromium (cold loads under
    /// "Slow 4G" and a 4× CPU slowdown, on the demo data): seconds, not the whole benchmark.
    #[arg(long)]
    first_seconds_only: bool,
    /// Measure only the live page's event streams (memory for 200, a notice's latency), on
    /// a small database of its own: seconds, not the whole benchmark.
    #[arg(long)]
    live_only: bool,
}

pub async fn run_bench(args: BenchArgs) -> BenchResult<()> {
    if !args.server.is_file() {
        return Err(anyhow::anyhow!(
            "no server binary at {}: build it first (scripts/build.sh) or name it with --server",
            args.server.display()
        ));
    }
    if args.live_only {
        return live::run_live_only(&args).await;
    }
    if args.first_seconds_only {
        let figures = first_seconds::measure_first_seconds(&args).await?;
        println!("First seconds in Chromium: {}.", figures.line());
        return Ok(());
    }
    std::fs::create_dir_all(&args.work_dir)?;
    let data = args
        .work_dir
        // Named by its generator too: a file an earlier generator wrote holds other rows.
        .join(format!(
            "{}-{}-fastrand-criteria.csv",
            args.customers, args.conversations
        ));
    if !data.exists() {
        let started = Instant::now();
        write_dataset(&data, args.customers, args.conversations)?;
        eprintln!(
            "bench: wrote {} in {:.1}s",
            data.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let mut report = Report::new(&args);

    let sqlite_path = args.work_dir.join(format!("bench-{}.db", args.label));
    crate::databases::remove_sqlite_files(&sqlite_path);
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());
    let sqlite = measure_backend("SQLite", &sqlite_url, &data, &args, false).await?;
    report.backends.push(sqlite);

    if let Some(admin_url) = &args.postgres {
        let url = if args.postgres_reuse {
            admin_url.clone()
        } else {
            recreate_postgres_database(admin_url).await?
        };
        let postgres =
            measure_backend("PostgreSQL", &url, &data, &args, args.postgres_reuse).await?;
        report.backends.push(postgres);
    }

    eprintln!("bench: HTTP load against the release server on SQLite");
    report.http = measure_http(&sqlite_url, &args)?;

    if args.tenants > 0 {
        let plan = TenantPlan {
            server: &args.server,
            sqlite_url: &sqlite_url,
            log: args.work_dir.join("tenants-server.log"),
            orgs: args.tenants,
            conversations_each: 1_000,
            customers_each: 100,
            budget_mb: 256,
            fields: bench_fields(),
            write_rows: &|out, customers, conversations, seed| {
                // The tenants have no criteria.
                write_rows(out, customers, conversations, 0, seed, false)
            },
            isolation_seconds: 20,
        };
        let large = LargeOrg {
            org_id: report.backends[0].org_id,
            manager: MANAGER,
            password: PASSWORD,
        };
        report.tenants = Some(measure_tenants(plan, large).await?);
    }

    // Last, as it grows the large organisation: a big import, then the next question.
    if args.big_import > 0 {
        let big = args.work_dir.join(format!(
            "{}-{}-after-{}-fastrand-criteria.csv",
            args.customers, args.big_import, args.conversations
        ));
        if !big.exists() {
            write_dataset_from(
                &big,
                args.customers,
                args.big_import,
                args.conversations,
                DATASET_SEED + 1,
            )?;
        }
        for backend in &mut report.backends {
            backend.after_import = Some(
                measure_after_import(backend.name, &backend.url, backend.org_id, &big, &args)
                    .await?,
            );
        }
    }
    report.client = measure_client(&args.site_pkg)?;
    eprintln!("bench: the first seconds of the Customers page in Chromium");
    report.first_seconds = match first_seconds::measure_first_seconds(&args).await {
        Ok(figures) => Some(figures),
        Err(error) => {
            eprintln!("bench: the first seconds were not measured: {error:#}");
            None
        }
    };
    let text = report.render();
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, &text)?;
    println!("{text}");
    eprintln!("bench: wrote {}", args.out.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The dataset
