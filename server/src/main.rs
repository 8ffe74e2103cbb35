//! The Playbook server: serves the app and runs its maintenance commands.

mod accounts;
mod assets;
mod criteria;
mod erasure;
mod http;
#[cfg(test)]
mod http_tests;
mod import;
mod origin;

use app::db::{ConnectOptions, Db};
use app::demo::{seed_demo, DemoOptions};
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// SQLite page cache of the import command, in MiB.
const IMPORT_CACHE_MIB: u32 = 2048;

/// At start, how long the server keeps trying a database it cannot reach.
const DB_START_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Parser, Debug)]
#[command(
    name = "server",
    version,
    about = "Playbook: review how your team handles customer conversations"
)]
struct Cli {
    /// sqlite://PATH (the default, a file) or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = app::db::DEFAULT_DATABASE_URL, global = true)]
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
        #[arg(long, env = "PLAYBOOK_DB_CONNECTIONS", default_value_t = app::db::SERVER_CONNECTIONS)]
        db_connections: u32,
        /// Database connections of their own for signing in, signing out and each request's
        /// session check, apart from the main pool, so that heavy reads holding every main
        /// connection cannot keep people from signing in.
        #[arg(long, env = "PLAYBOOK_SIGN_IN_DB_CONNECTIONS", default_value_t = app::db::SERVER_SIGN_IN_CONNECTIONS)]
        sign_in_db_connections: u32,
        /// How long a request waits for a free database connection, in milliseconds, before
        /// it is answered 503 with Retry-After.
        #[arg(long, env = "PLAYBOOK_DB_ACQUIRE_WAIT_MS", default_value_t = app::db::SERVER_ACQUIRE_WAIT.as_millis() as u64)]
        db_acquire_wait_ms: u64,
        /// How long one Customers question may take, in milliseconds, before the database
        /// stops it and the user is asked to narrow it.
        #[arg(long, env = "PLAYBOOK_QUERY_BUDGET_MS", default_value_t = app::db::DEFAULT_QUERY_BUDGET.as_millis() as u64)]
        query_budget_ms: u64,
        /// How long a write waits for another writer (an import holding SQLite's write lock,
        /// say) before the request is answered 503 with Retry-After, in milliseconds.
        #[arg(long, env = "PLAYBOOK_LOCK_WAIT_MS", default_value_t = app::db::SERVER_LOCK_WAIT.as_millis() as u64)]
        lock_wait_ms: u64,
        /// A request still running after this many seconds is answered 503 and dropped.
        #[arg(long, env = "PLAYBOOK_REQUEST_TIMEOUT_SECS", default_value_t = http::DEFAULT_REQUEST_TIMEOUT.as_secs())]
        request_timeout_secs: u64,
        /// A client must send its request headers within this many seconds.
        #[arg(long, env = "PLAYBOOK_HEADER_TIMEOUT_SECS", default_value_t = http::DEFAULT_HEADER_TIMEOUT.as_secs())]
        header_timeout_secs: u64,
        /// A connection with no request in flight for this many seconds is closed.
        #[arg(long, env = "PLAYBOOK_IDLE_TIMEOUT_SECS", default_value_t = http::DEFAULT_IDLE_TIMEOUT.as_secs())]
        idle_timeout_secs: u64,
        /// Most connections open at once (each open event stream holds one); past it new
        /// connections wait half a second, then are refused with 503. Capped below the
        /// process's file descriptor limit.
        #[arg(long, env = "PLAYBOOK_MAX_CONNECTIONS", default_value_t = http::DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// On shutdown, how many seconds requests in flight get to finish.
        #[arg(long, env = "PLAYBOOK_SHUTDOWN_DRAIN_SECS", default_value_t = http::DEFAULT_SHUTDOWN_DRAIN.as_secs())]
        shutdown_drain_secs: u64,
        /// At start, how many seconds to keep retrying a database that cannot be reached.
        #[arg(long, env = "PLAYBOOK_DB_START_WAIT_SECS", default_value_t = DB_START_WAIT.as_secs())]
        db_start_wait_secs: u64,
        /// Memory for every organisation's Customers read model together, in MiB; the
        /// organisations questioned least recently are evicted to stay within it.
        #[arg(long, env = "PLAYBOOK_READ_MODEL_MB", default_value_t = app::customers::read_model::DEFAULT_BUDGET_MB)]
        read_model_mb: usize,
        /// How many API writes (conversation batches, erasures) may parse and write at once;
        /// others wait briefly, then are answered 503 with Retry-After.
        #[arg(long, env = "PLAYBOOK_API_WRITERS", default_value_t = app::api::guard::DEFAULT_CONCURRENT_WRITES)]
        api_writers: usize,
        /// How many API writes one token may make per minute (a burst of that many); past it
        /// the API answers 429 with Retry-After.
        #[arg(long, env = "PLAYBOOK_API_WRITES_PER_MINUTE", default_value_t = app::api::guard::DEFAULT_WRITES_PER_MINUTE)]
        api_writes_per_minute: u32,
        /// Where browsers reach the app, as they send it in `Origin` (e.g.
        /// https://playbook.example); state-changing requests from any other origin are
        /// refused. Without it, a request's own Host is its origin.
        #[arg(long, env = "PLAYBOOK_PUBLIC_ORIGIN")]
        public_origin: Option<String>,
        /// The reverse proxies (addresses or CIDR blocks, comma-separated) whose
        /// X-Forwarded-Proto and X-Forwarded-For are believed; from anyone else they are
        /// ignored. Empty: trust no one.
        #[arg(long, env = "PLAYBOOK_TRUSTED_PROXIES", default_value = app::auth::service::DEFAULT_TRUSTED_PROXIES)]
        trusted_proxies: String,
        /// The largest file the Import page accepts, in MiB. The upload is streamed to disk
        /// (never held in memory) and is exempt from the usual body limit and request timeout.
        #[arg(long, env = "PLAYBOOK_IMPORT_MAX_MB", default_value_t = app::conversations::import_page::jobs::DEFAULT_MAX_UPLOAD_MB)]
        import_max_mb: u64,
        /// Where the Import page's uploads are written while they are imported (removed when
        /// done); the system's temporary directory by default. Needs room for the largest file.
        #[arg(long, env = "PLAYBOOK_IMPORT_DIR")]
        import_dir: Option<std::path::PathBuf>,
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
    /// Import conversations from NDJSON or CSV files (each file all or nothing).
    Import(import::ImportArgs),
    /// Conversation custom fields.
    #[command(subcommand)]
    Field(import::FieldCommand),
    /// Playbook criteria (greeting, discovery, ...), at most 50 per organisation.
    #[command(subcommand)]
    Criterion(criteria::CriterionCommand),
    /// Organisations.
    #[command(subcommand)]
    Org(accounts::OrgCommand),
    /// People who sign in.
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Customers: erasure.
    #[command(subcommand)]
    Customer(erasure::CustomerCommand),
    /// Conversations: erasure.
    #[command(subcommand)]
    Conversation(erasure::ConversationCommand),
    /// Report stored names, identifiers and field values that hold invisible or
    /// direction-changing characters (written before they were refused); changes nothing.
    CheckText,
}

/// Makes glibc give large allocations back to the system when they are freed. By default it
/// raises its mmap threshold to the size of the largest block freed so far (up to 32 MiB), after
/// which every password verification's 19 MiB block comes from the heap and stays resident:
/// measured here, 400 parallel sign-ins left the server at 670 MB instead of 67 MB. A fixed
/// threshold keeps blocks of 1 MiB and more in their own mappings, returned on free.
fn keep_large_allocations_returnable() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before any other thread
    // of this process allocates.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// At exit, how long work still running on the runtime's blocking threads (a read-model load
/// or a password verification cut off by shutdown) may hold the process; its async tasks are
/// dropped at once.
const RUNTIME_EXIT_WAIT: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    keep_large_allocations_returnable();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => {
            let code = runtime.block_on(async_main());
            // Dropping the runtime would wait for every blocking job, however long.
            runtime.shutdown_timeout(RUNTIME_EXIT_WAIT);
            code
        }
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn async_main() -> ExitCode {
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
            // `{:#}`: the error and its causes, outermost first, on one line.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(url: &str, connections: u32) -> Result<Db, anyhow::Error> {
    let db = Db::connect(url, connections).await?;
    db.migrate().await?;
    Ok(db)
}

/// Opens the server's database, trying again with growing pauses while it cannot be reached
/// (a database server still starting, say), for at most `patience`; saying so in the log.
async fn open_patiently(
    url: &str,
    connect: ConnectOptions,
    patience: Duration,
) -> Result<Db, anyhow::Error> {
    let started = std::time::Instant::now();
    let backoff = app::retry::Backoff {
        first: Duration::from_millis(250),
        most: Duration::from_secs(5),
        spread: Duration::ZERO,
    };
    let attempt = || async move {
        let connected = async {
            let db = Db::connect_with(url, connect).await?;
            db.migrate().await?;
            Ok::<Db, app::db::StoreError>(db)
        };
        // A pool keeps trying to connect for its whole acquire timeout; cut each attempt
        // short so that the log says what is happening and the patience is kept.
        let attempt_time = patience
            .saturating_sub(started.elapsed())
            .clamp(Duration::from_millis(500), Duration::from_secs(3));
        match tokio::time::timeout(attempt_time, connected).await {
            Ok(outcome) => outcome,
            Err(_) => Err(app::db::StoreError::Unreachable {
                waited_ms: attempt_time.as_millis(),
            }),
        }
    };
    let again = |error: &app::db::StoreError, _attempt: u32, pause: Duration| {
        let again = error.is_unavailable() && started.elapsed() + pause <= patience;
        if again {
            tracing::warn!(
                %error,
                retry_in_ms = pause.as_millis() as u64,
                waited_secs = started.elapsed().as_secs(),
                "the database cannot be reached yet; trying again"
            );
        }
        again
    };
    Ok(app::retry::retry(backoff, attempt, again).await?)
}

/// Opens the database for a one-off command, runs it, and closes the pool whatever the outcome.
async fn with_db(
    url: &str,
    command: impl AsyncFnOnce(&Db) -> Result<(), anyhow::Error>,
) -> Result<(), anyhow::Error> {
    let db = open(url, 2).await?;
    let result = command(&db).await;
    db.close().await;
    result
}

async fn run(cli: Cli) -> Result<(), anyhow::Error> {
    match cli.command {
        Command::Serve {
            addr,
            demo,
            secure_cookies,
            db_connections,
            sign_in_db_connections,
            db_acquire_wait_ms,
            query_budget_ms,
            lock_wait_ms,
            request_timeout_secs,
            header_timeout_secs,
            idle_timeout_secs,
            max_connections,
            shutdown_drain_secs,
            db_start_wait_secs,
            read_model_mb,
            api_writers,
            api_writes_per_minute,
            public_origin,
            trusted_proxies,
            import_max_mb,
            import_dir,
        } => {
            let trusted_proxies = app::auth::service::TrustedProxies::parse(&trusted_proxies)
                .map_err(|problem| anyhow::anyhow!("PLAYBOOK_TRUSTED_PROXIES: {problem}"))?;
            let mut connect = ConnectOptions::new(db_connections);
            connect.lock_wait = Some(Duration::from_millis(lock_wait_ms));
            connect.acquire_wait = Some(Duration::from_millis(db_acquire_wait_ms.max(1)));
            let db = open_patiently(
                &cli.database_url,
                connect,
                Duration::from_secs(db_start_wait_secs),
            )
            .await?
            .with_query_budget(Duration::from_millis(query_budget_ms));
            // Opened after the main pool has migrated the schema, on the same database.
            let sign_in_db = Db::connect_with(
                &cli.database_url,
                ConnectOptions {
                    max_connections: sign_in_db_connections.max(1),
                    ..connect
                },
            )
            .await?;
            if demo && app::orgs::store::count_organisations(&db).await? == 0 {
                tracing::info!("empty database: creating the demo organisation (a few seconds)");
                seed_demo(&db, DemoOptions::default()).await?;
            } else if demo {
                app::demo::ensure_demo_sign_ins(&db).await?;
            }
            let options = http::ServeOptions {
                secure_cookies,
                request_timeout: Duration::from_secs(request_timeout_secs.max(1)),
                header_read_timeout: Duration::from_secs(header_timeout_secs.max(1)),
                shutdown_drain: Duration::from_secs(shutdown_drain_secs),
                idle_timeout: Duration::from_secs(idle_timeout_secs.max(1)),
                max_connections,
                read_model_bytes: read_model_mb.saturating_mul(1024 * 1024),
                // Read once at start and kept for the life of the process.
                trusted_proxies: Some(Box::leak(Box::new(trusted_proxies))),
                api_writes: app::api::guard::WriteLimits {
                    concurrent_writes: api_writers.max(1),
                    writes_per_minute: api_writes_per_minute.max(1),
                    ..app::api::guard::WriteLimits::default()
                },
                // Read once at start and kept for the life of the process.
                public_origin: public_origin.map(|origin| {
                    &*Box::leak(origin.trim_end_matches('/').to_owned().into_boxed_str())
                }),
                import_max_bytes: import_max_mb.max(1).saturating_mul(1024 * 1024),
                // Read once at start and kept for the life of the process.
                import_dir: import_dir.map(|dir| &*Box::leak(dir.into_boxed_path())),
            };
            http::serve(db, sign_in_db, addr, options).await
        }
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
        Command::Customer(command) => {
            with_db(&cli.database_url, async |db| {
                erasure::run_customer(db, command).await
            })
            .await
        }
        Command::Conversation(command) => {
            with_db(&cli.database_url, async |db| {
                erasure::run_conversation(db, command).await
            })
            .await
        }
        Command::Criterion(command) => {
            with_db(&cli.database_url, async |db| {
                criteria::run_criterion(db, command).await
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
        Command::CheckText => with_db(&cli.database_url, accounts::run_check_text).await,
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
    }
}
