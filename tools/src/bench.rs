//! `tools bench`: builds a large dataset through the real import command of the release
//! server binary, then measures the store (against the plain GROUP BY as a baseline), that
//! binary serving under load, and the client bundle, and writes the figures to
//! docs/BENCHMARKS.md. `make bench` runs it with a release build; docs/BENCHMARKS.md says how
//! to read it.

use crate::tenants::{measure_tenants, LargeOrg, TenantFigures, TenantPlan};
use anyhow::Context as _;
use app::conversations::model::ConversationKind;
use app::customers::query::{
    CustomerQuery, Period, SortDir, SortKey, HISTORY_PAGE_SIZE, PAGE_SIZE,
};
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, history_page, resolve_question, Strictness};
use app::customers::store::grouped_page;
use app::db::Db;
use app::hash_list::HashList;
use app::orgs::model::{CustomField, FieldKind, Role};
use app::orgs::store::{create_organisation, define_field, upsert_user, NewUser};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
}

pub async fn run_bench(args: BenchArgs) -> BenchResult<()> {
    if !args.server.is_file() {
        return Err(anyhow::anyhow!(
            "no server binary at {}: build it first (scripts/build.sh) or name it with --server",
            args.server.display()
        ));
    }
    std::fs::create_dir_all(&args.work_dir)?;
    let data = args
        .work_dir
        // Named by its generator too: a file an earlier generator wrote holds other rows.
        .join(format!(
            "{}-{}-fastrand.csv",
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
                write_rows(out, customers, conversations, 0, seed)
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
            "{}-{}-after-{}-fastrand.csv",
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

const FIRST_NAMES: [&str; 24] = [
    "Ava", "Noah", "Mia", "Liam", "Zoë", "Omar", "Ines", "Yuki", "Sven", "Priya", "Mateo", "Chloé",
    "Aaliyah", "Jonas", "Freya", "Kofi", "Lena", "Ravi", "Sofia", "Tomás", "Elif", "Hugo", "Nadia",
    "Oskar",
];
const LAST_NAMES: [&str; 24] = [
    "Andersen",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Haddad",
    "García",
    "Novak",
    "Johansson",
    "Kowalski",
    "Nguyen",
    "Rossi",
    "Fischer",
    "Dubois",
    "Petrov",
    "Silva",
    "Murphy",
    "Kaya",
    "Larsen",
    "Mendes",
    "Ishikawa",
    "Brennan",
    "Costa",
    "Ward",
];
const QUEUES: [&str; 5] = ["Billing", "Technical", "Sales", "Returns", "Onboarding"];
const REGIONS: [&str; 4] = ["EMEA", "North America", "APAC", "LATAM"];
const TIERS: [&str; 3] = ["Gold", "Silver", "Bronze"];
const KINDS: [&str; 3] = ["voice", "chat", "email"];
const TOPICS: [&str; 8] = [
    "Refund request",
    "Login trouble",
    "Upgrade question",
    "Invoice dispute",
    "Delivery delay",
    "Renewal call",
    "Setup help",
    "Cancellation",
];

/// The four custom fields of the benchmark organisation: three selects and a text field.
fn bench_fields() -> Vec<CustomField> {
    let select = |key: &str, label: &str, options: &[&str]| CustomField {
        key: key.to_owned(),
        label: label.to_owned(),
        kind: FieldKind::Select,
        options: options.iter().map(|o| (*o).to_owned()).collect(),
    };
    vec![
        select("queue", "Queue", &QUEUES),
        select("region", "Region", &REGIONS),
        select("tier", "Tier", &TIERS),
        CustomField {
            key: "campaign".to_owned(),
            label: "Campaign".to_owned(),
            kind: FieldKind::Text,
            options: Vec::new(),
        },
    ]
}

fn customer_identity(index: u32) -> (String, String) {
    let first = FIRST_NAMES[(index as usize) % FIRST_NAMES.len()];
    let last = LAST_NAMES[(index as usize / FIRST_NAMES.len()) % LAST_NAMES.len()];
    let ascii = |s: &str| {
        s.to_lowercase()
            .replace(['ë', 'é'], "e")
            .replace('í', "i")
            .replace('á', "a")
    };
    (
        format!("{}.{}.{index}@example.com", ascii(first), ascii(last)),
        format!("{first} {last}"),
    )
}

/// Writes the dataset as an import CSV. Customers get conversations unevenly (a few have
/// hundreds, most a handful), over the year 2026, by 200 representatives.
fn write_dataset(path: &Path, customers: u32, conversations: u32) -> BenchResult<()> {
    write_dataset_from(path, customers, conversations, 0, DATASET_SEED)
}

/// The dataset's seed: every run measures the same data (Cargo.lock pins the generator).
const DATASET_SEED: u64 = 0x5EED_2026;

/// [`write_dataset`] with external ids from `first` on, drawn with `seed`.
fn write_dataset_from(
    path: &Path,
    customers: u32,
    conversations: u32,
    first: u32,
    seed: u64,
) -> BenchResult<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write_rows(&mut out, customers, conversations, first, seed)?;
    out.flush()?;
    Ok(())
}

fn write_rows(
    out: &mut impl Write,
    customers: u32,
    conversations: u32,
    first: u32,
    seed: u64,
) -> BenchResult<()> {
    writeln!(
        out,
        "external_id,customer,customer_name,representative,title,type,occurred_at,score,\
         field.queue,field.region,field.tier,field.campaign"
    )?;
    let mut random = fastrand::Rng::with_seed(seed);
    let year_start = 1_767_225_600_i64; // 2026-01-01T00:00:00Z
    for n in first..first.saturating_add(conversations) {
        // Every customer appears at least once; the rest are skewed towards low indices.
        let customer = if n - first < customers {
            n - first
        } else {
            let u = random.f64();
            ((u * u) * f64::from(customers)) as u32 % customers
        };
        let (identifier, name) = customer_identity(customer);
        let rep = random.u64(..200);
        let seconds = year_start + random.u64(..365 * 86_400) as i64;
        let at = chrono::DateTime::from_timestamp(seconds, 0)
            .context("timestamp out of range")?
            .format("%Y-%m-%dT%H:%M:%SZ");
        let score = if random.u64(..10) == 0 {
            String::new()
        } else {
            format!("{:.2}", 40.0 + random.u64(..6_001) as f64 / 100.0)
        };
        let campaign = if random.u64(..2) == 0 {
            format!("spring-{}", random.u64(..60))
        } else {
            String::new()
        };
        writeln!(
            out,
            "c{n:08},{identifier},{name},rep{rep}@bench.example,{} #{n},{},{at},{score},{},{},{},{campaign}",
            TOPICS[random.u64(..TOPICS.len() as u64) as usize],
            KINDS[random.u64(..3) as usize],
            QUEUES[random.u64(..QUEUES.len() as u64) as usize],
            REGIONS[random.u64(..REGIONS.len() as u64) as usize],
            TIERS[random.u64(..TIERS.len() as u64) as usize],
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Store level

struct BackendFigures {
    name: &'static str,
    url: String,
    org_id: i64,
    import_rows: u64,
    /// `None` when the dataset was reused rather than imported.
    import_seconds: Option<f64>,
    /// A new holder's first question: the organisation's first load, then the page.
    first_load_seconds: f64,
    after_import: Option<AfterImport>,
    customers_listed: i64,
    rows: Vec<QueryFigures>,
}

struct QueryFigures {
    group: &'static str,
    label: String,
    timing: Timing,
    baseline_p50_ms: Option<f64>,
    /// The target for this query's group, in milliseconds (p95).
    target_ms: f64,
}

async fn recreate_postgres_database(admin_url: &str) -> BenchResult<String> {
    let admin = Db::connect(admin_url, 1).await?;
    let created = crate::databases::create_postgres_database(&admin, "playbook_bench", true).await;
    admin.close().await;
    created.context("recreating the benchmark database")?;
    crate::databases::postgres_url(admin_url, "playbook_bench")
        .context("the PostgreSQL URL must end in /DATABASE")
}

async fn measure_backend(
    name: &'static str,
    url: &str,
    data: &Path,
    args: &BenchArgs,
    reuse: bool,
) -> BenchResult<BackendFigures> {
    eprintln!("bench: {name}: setting up");
    // The first question waits for the read model's first load (seconds at L), which a
    // server does at start; the measured questions run after it.
    let db = Db::connect(url, 8)
        .await?
        .with_query_budget(Duration::from_secs(600));
    db.migrate().await?;
    let (org_id, import_seconds) = if reuse {
        // A database an earlier run (or a copy of one) filled: measured as it is.
        let org: app::db::IdRow = db
            .fetch_optional(
                &app::sql!("SELECT id FROM organisations WHERE slug = $1", ORG),
                "finding the benchmark organisation",
            )
            .await?
            .with_context(|| format!("no organisation `{ORG}` in the reused {name} database"))?;
        eprintln!("bench: {name}: reusing the dataset in the database");
        (org.id, None)
    } else {
        let mut tx = db.begin().await?;
        let org_id =
            create_organisation(&mut tx, ORG, "Benchmark Contact Centre", "Europe/London").await?;
        for (position, field) in bench_fields().iter().enumerate() {
            define_field(&mut tx, org_id, field, position as i64).await?;
        }
        let hash = app::auth::password::hash_password(PASSWORD)?;
        let manager = NewUser {
            email: MANAGER,
            name: "Bench Manager",
            role: Role::Manager,
            password_hash: Some(&hash),
        };
        upsert_user(&mut tx, org_id, &manager).await?;
        tx.commit().await?;

        // The real import command, in its own process, as an operator would run it.
        eprintln!("bench: {name}: importing {}", data.display());
        let started = Instant::now();
        let status = Command::new(&args.server)
            .args(["import", "--org", ORG])
            .arg(data)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null())
            .status()?;
        let import_seconds = started.elapsed().as_secs_f64();
        if !status.success() {
            return Err(anyhow::anyhow!("the import into {name} failed ({status})"));
        }
        eprintln!(
            "bench: {name}: {} conversations in {import_seconds:.1}s ({:.0}/s)",
            args.conversations,
            f64::from(args.conversations) / import_seconds
        );
        (org_id, Some(import_seconds))
    };
    let import_rows = u64::from(args.conversations);

    let default = CustomerQuery::default();
    let resolve = |query: CustomerQuery| {
        let db = &db;
        async move {
            resolve_question(db, org_id, chrono_tz::UTC, &query, Strictness::Strict)
                .await
                .map_err(anyhow::Error::from)
        }
    };
    let default_question = resolve(default.clone()).await?;
    let loading = Instant::now();
    let models = ReadModels::default();
    let first_page = customers_page(&db, &models, org_id, &default_question, PAGE_SIZE).await?;
    let first_load_seconds = loading.elapsed().as_secs_f64();
    eprintln!("bench: {name}: read model first load and first page: {first_load_seconds:.2} s");
    let pages = first_page.page_count;
    let mut cases: Vec<(&'static str, String, CustomerQuery, f64)> = vec![(
        "default page",
        "default (interactions ↓, page 1)".to_owned(),
        default.clone(),
        2.0,
    )];
    for sort in SortKey::ALL {
        for dir in [SortDir::Desc, SortDir::Asc] {
            for (where_, page) in [("first", 1), ("middle", pages / 2), ("last", pages)] {
                let query = CustomerQuery {
                    sort,
                    dir,
                    page: page.max(1),
                    ..CustomerQuery::default()
                };
                let arrow = if dir == SortDir::Desc { "↓" } else { "↑" };
                cases.push((
                    "sorts and pages",
                    format!("{} {arrow}, {where_} page ({})", sort.param(), page.max(1)),
                    query,
                    2.0,
                ));
            }
        }
    }
    for search in ["a", "an", "son", "lindqvis"] {
        cases.push((
            "search",
            format!("search `{search}` ({} chars)", search.chars().count()),
            default.with_search(search),
            5.0,
        ));
    }
    let billing = default.with_filter("queue", "Billing");
    cases.push((
        "one filter",
        "queue = Billing".to_owned(),
        billing.clone(),
        50.0,
    ));
    cases.push((
        "two filters",
        "queue = Billing, region = EMEA".to_owned(),
        billing.with_filter("region", "EMEA"),
        50.0,
    ));
    cases.push((
        "filter and search",
        "queue = Billing, search `son`".to_owned(),
        billing.with_search("son"),
        50.0,
    ));
    let last_90 = default.with_period(Period::Last90Days);
    cases.push((
        "predicates",
        "Last 90 days, queue = Billing, region = EMEA".to_owned(),
        billing
            .with_filter("region", "EMEA")
            .with_period(Period::Last90Days),
        50.0,
    ));
    cases.push((
        "predicates",
        "All time, campaign contains `spring-1`".to_owned(),
        default.with_filter("campaign", "spring-1"),
        50.0,
    ));
    cases.push((
        "predicates",
        "Last 90 days, channel voice".to_owned(),
        last_90.with_channel(ConversationKind::Voice, true),
        50.0,
    ));
    cases.push((
        "predicates",
        "representative rep7, channel chat or email".to_owned(),
        default
            .with_rep("rep7@bench.example")
            .with_channel(ConversationKind::Chat, true)
            .with_channel(ConversationKind::Email, true),
        50.0,
    ));
    cases.push((
        "predicates",
        "Last 90 days, tier = Gold, search `son`".to_owned(),
        last_90.with_filter("tier", "Gold").with_search("son"),
        50.0,
    ));
    // Issue 27: a period brings the Change column (the previous 90 days, a second selection).
    cases.push((
        "change",
        "Last 90 days with the Change column (default sort)".to_owned(),
        last_90.clone(),
        10.0,
    ));
    cases.push((
        "change",
        "Last 90 days sorted by change (biggest drop first)".to_owned(),
        last_90.with_sort_clicked(SortKey::Change),
        50.0,
    ));

    let budget = Duration::from_secs(args.query_budget_seconds);
    let mut rows = Vec::new();
    for (group, label, query, target_ms) in cases {
        let question = resolve(query.clone()).await?;
        let timing = time_calls(args.calls, budget, || {
            let (db, models, question) = (&db, &models, &question);
            async move {
                customers_page(db, models, org_id, question, PAGE_SIZE).await?;
                Ok(())
            }
        })
        .await?;
        let baseline_p50_ms = if wants_baseline(group, &label) {
            Some(
                time_calls(args.baseline_calls, budget, || {
                    let (db, question) = (&db, &question);
                    async move {
                        grouped_page(
                            db,
                            org_id,
                            &question.applied,
                            &question.conditions,
                            PAGE_SIZE,
                        )
                        .await?;
                        Ok(())
                    }
                })
                .await?
                .p50_ms,
            )
        } else {
            None
        };
        eprintln!(
            "bench: {name}: {label}: p50 {:.2} ms, p95 {:.2} ms ({} calls)",
            timing.p50_ms, timing.p95_ms, timing.calls
        );
        rows.push(QueryFigures {
            group,
            label,
            timing,
            baseline_p50_ms,
            target_ms,
        });
    }

    // Interaction histories of the busiest customers, page 1 and their last page.
    let busiest: Vec<i64> = first_page.rows.iter().map(|row| row.id).collect();
    let mut turn = 0usize;
    let timing = time_calls(args.calls, budget, || {
        turn += 1;
        let customer = busiest[turn % busiest.len().max(1)];
        let page = if turn.is_multiple_of(2) { 1 } else { u32::MAX };
        let (db, question) = (&db, &default_question);
        async move {
            history_page(db, org_id, customer, question, page, HISTORY_PAGE_SIZE).await?;
            Ok(())
        }
    })
    .await?;
    rows.push(QueryFigures {
        group: "history",
        label: "interaction history page (busiest customers, first and last page)".to_owned(),
        timing,
        baseline_p50_ms: None,
        target_ms: 5.0,
    });
    db.close().await;
    Ok(BackendFigures {
        name,
        url: url.to_owned(),
        org_id,
        import_rows,
        import_seconds,
        first_load_seconds,
        after_import: None,
        customers_listed: first_page.total,
        rows,
    })
}

/// What the next question takes after a large import into the organisation.
struct AfterImport {
    rows: u32,
    import_seconds: f64,
    question_seconds: f64,
}

/// Loads the large organisation into a new holder, imports `data` with the real import
/// command, and times the next question (which reads what the import wrote).
async fn measure_after_import(
    name: &'static str,
    url: &str,
    org_id: i64,
    data: &Path,
    args: &BenchArgs,
) -> BenchResult<AfterImport> {
    let db = Db::connect(url, 8)
        .await?
        .with_query_budget(Duration::from_secs(600));
    let question = resolve_question(
        &db,
        org_id,
        chrono_tz::UTC,
        &CustomerQuery::default(),
        Strictness::Strict,
    )
    .await?;
    let models = ReadModels::default();
    let before = customers_page(&db, &models, org_id, &question, PAGE_SIZE).await?;
    eprintln!("bench: {name}: importing {}", data.display());
    let started = Instant::now();
    let status = Command::new(&args.server)
        .args(["import", "--org", ORG])
        .arg(data)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .status()?;
    let import_seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(anyhow::anyhow!("the import into {name} failed ({status})"));
    }
    let asking = Instant::now();
    let after = customers_page(&db, &models, org_id, &question, PAGE_SIZE).await?;
    let question_seconds = asking.elapsed().as_secs_f64();
    let interactions = |page: &app::page::Page<app::customers::store::CustomerSummary>| {
        page.rows.iter().map(|row| row.interactions).sum::<i64>()
    };
    eprintln!(
        "bench: {name}: next question after importing {} conversations: {question_seconds:.2} s \
         (top page's interactions {} before, {} after)",
        args.big_import,
        interactions(&before),
        interactions(&after)
    );
    db.close().await;
    Ok(AfterImport {
        rows: args.big_import,
        import_seconds,
        question_seconds,
    })
}

/// The baseline runs for a representative subset: at L one plain GROUP BY takes seconds.
fn wants_baseline(group: &str, label: &str) -> bool {
    match group {
        "default page" | "one filter" | "two filters" | "filter and search" => true,
        "predicates" => label.starts_with("Last 90 days, queue"),
        "sorts and pages" => label.starts_with("score ↑, last"),
        "search" => label.contains("(1 chars)") || label.contains("(8 chars)"),
        _ => false,
    }
}

/// p50 and p95 in ms, over `calls` timed calls.
#[derive(Clone, Copy, Debug)]
struct Timing {
    p50_ms: f64,
    p95_ms: f64,
    calls: usize,
}

/// At least this many calls are timed even when the time budget runs out first.
const MIN_CALLS: usize = 10;

/// Runs `call` three times to warm up, then `calls` times, or fewer (but at least
/// [`MIN_CALLS`]) when `budget` is spent: a query that takes seconds a call shows that with
/// ten samples, and 200 of them would hold the benchmark up for many minutes.
async fn time_calls<F, Fut>(calls: usize, budget: Duration, mut call: F) -> BenchResult<Timing>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = BenchResult<()>>,
{
    for _ in 0..calls.min(3) {
        call().await?;
    }
    let mut samples = Vec::with_capacity(calls);
    let started_all = Instant::now();
    for _ in 0..calls.max(1) {
        let started = Instant::now();
        call().await?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
        if samples.len() >= MIN_CALLS && started_all.elapsed() > budget {
            break;
        }
    }
    samples.sort_by(f64::total_cmp);
    Ok(Timing {
        p50_ms: percentile(&samples, 0.50),
        p95_ms: percentile(&samples, 0.95),
        calls: samples.len(),
    })
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

// ---------------------------------------------------------------------------------------
// HTTP

struct HttpFigures {
    label: String,
    connections: u32,
    requests_per_second: f64,
    p95_ms: f64,
    errors: u64,
    target_rps: Option<f64>,
}

struct HttpReport {
    runs: Vec<HttpFigures>,
    peak_memory_mb: f64,
    connections: u32,
}

/// Stops the server when the benchmark is done, however it ends.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn measure_http(sqlite_url: &str, args: &BenchArgs) -> BenchResult<Option<HttpReport>> {
    if Command::new(&args.oha).arg("--version").output().is_err() {
        eprintln!(
            "bench: `{}` is not installed; skipping the HTTP runs",
            args.oha
        );
        return Ok(None);
    }
    let addr = "127.0.0.1:3950";
    let connections = 8;
    let server = ServerProcess(
        Command::new(&args.server)
            .args(["serve", "--addr", addr, "--db-connections"])
            .arg(connections.to_string())
            .env("DATABASE_URL", sqlite_url)
            .env("RUST_LOG", "warn")
            .env("LEPTOS_SITE_ROOT", "target/site")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let pid = server.0.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            return Err(anyhow::anyhow!(
                "the server did not start listening within a minute"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cookie = sign_in(addr)?;
    let base = format!("http://{addr}");
    // The server loads the read model at start (tens of seconds at L); until then questions
    // answer 503. The runs measure a server that is ready.
    let ready = Instant::now();
    while customers_status(addr, &cookie)? != 200 {
        if ready.elapsed() > Duration::from_secs(600) {
            return Err(anyhow::anyhow!(
                "the server's read model was not ready within ten minutes"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "bench: HTTP: the server's read model was ready {:.1} s after sign-in",
        ready.elapsed().as_secs_f64()
    );
    let default_body =
        r#"{"query":{"search":"","sort":"Interactions","dir":"Desc","page":1,"filters":{}}}"#;
    let search_body =
        r#"{"query":{"search":"son","sort":"Interactions","dir":"Desc","page":1,"filters":{}}}"#;
    let two_filters_body = r#"{"query":{"search":"","sort":"Interactions","dir":"Desc","page":1,"filters":{"queue":"Billing","region":"EMEA"}}}"#;
    let mut runs = Vec::new();
    for connections in [16u32, 64] {
        // (label, address, JSON body, whether the client accepts compression, target at 64)
        let plan: [(&str, String, Option<&str>, bool, f64); 6] = [
            (
                "server function `customers`, default page",
                format!("{base}/api/customers"),
                Some(default_body),
                false,
                5_000.0,
            ),
            (
                "server function `customers`, search `son`",
                format!("{base}/api/customers"),
                Some(search_body),
                false,
                2_000.0,
            ),
            (
                "server function `customers`, two filters",
                format!("{base}/api/customers"),
                Some(two_filters_body),
                false,
                500.0,
            ),
            (
                "whole page `/customers`",
                format!("{base}/customers"),
                None,
                false,
                1_500.0,
            ),
            (
                "whole page `/customers?q=son`",
                format!("{base}/customers?q=son"),
                None,
                false,
                1_500.0,
            ),
            (
                "whole page `/customers`, compressed (`Accept-Encoding: br, gzip`)",
                format!("{base}/customers"),
                None,
                true,
                1_500.0,
            ),
        ];
        for (label, url, body, compressed, target) in plan {
            let figures = run_oha(
                &args.oha,
                &url,
                body,
                compressed,
                &cookie,
                connections,
                args.http_seconds,
            )?;
            eprintln!(
                "bench: {label} at {connections}: {:.0} req/s, p95 {:.1} ms, {} errors",
                figures.0, figures.1, figures.2
            );
            runs.push(HttpFigures {
                label: label.to_owned(),
                connections,
                requests_per_second: figures.0,
                p95_ms: figures.1,
                errors: figures.2,
                target_rps: (connections == 64).then_some(target),
            });
        }
    }
    let peak_memory_mb = peak_memory_mb(pid)?;
    drop(server);
    Ok(Some(HttpReport {
        runs,
        peak_memory_mb,
        connections,
    }))
}

/// The status of one call of the `customers` server function for the default view.
fn customers_status(addr: &str, cookie: &str) -> BenchResult<u16> {
    let body =
        r#"{"query":{"search":"","sort":"Interactions","dir":"Desc","page":1,"filters":{}}}"#;
    let mut stream = std::net::TcpStream::connect(addr)?;
    write!(
        stream,
        "POST /api/customers HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Cookie: {cookie}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0))
}

/// Signs the benchmark manager in through the login server function; answers the cookie.
fn sign_in(addr: &str) -> BenchResult<String> {
    let body = format!(
        "email={}&password={PASSWORD}&next=%2Fcustomers",
        app::text::encode_component(MANAGER)
    );
    let mut stream = std::net::TcpStream::connect(addr)?;
    write!(
        stream,
        "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    response
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim())
        })
        .find(|value| value.starts_with("playbook_session="))
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "signing in did not set a session cookie: {}",
                response.lines().next().unwrap_or_default()
            )
        })
}

/// One load run; answers requests per second, p95 latency in ms, and failed requests.
fn run_oha(
    oha: &str,
    url: &str,
    body: Option<&str>,
    compressed: bool,
    cookie: &str,
    connections: u32,
    seconds: u32,
) -> BenchResult<(f64, f64, u64)> {
    let mut command = Command::new(oha);
    command
        .args(["--no-tui", "--output-format", "json", "-z"])
        .arg(format!("{seconds}s"))
        .arg("-c")
        .arg(connections.to_string())
        .arg("-H")
        .arg(format!("Cookie: {cookie}"));
    if compressed {
        command.args(["-H", "Accept-Encoding: br, gzip"]);
    }
    if let Some(body) = body {
        command
            .args(["-m", "POST", "-T", "application/json", "-d"])
            .arg(body);
    }
    let output = command.arg(url).stderr(Stdio::inherit()).output()?;
    if !output.status.success() {
        return Err(anyhow::anyhow!("oha failed on {url}: {}", output.status));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let rps = json["summary"]["requestsPerSec"]
        .as_f64()
        .unwrap_or_default();
    let p95_ms = json["latencyPercentiles"]["p95"]
        .as_f64()
        .unwrap_or_default()
        * 1000.0;
    // Requests still in flight when the run's time is up are cut off by oha itself and
    // reported as "aborted due to deadline"; they are not the server's errors.
    let mut errors: u64 = json["errorDistribution"]
        .as_object()
        .map(|errors| {
            errors
                .iter()
                .filter(|(kind, _)| !kind.contains("aborted due to deadline"))
                .filter_map(|(_, count)| count.as_u64())
                .sum()
        })
        .unwrap_or_default();
    if let Some(codes) = json["statusCodeDistribution"].as_object() {
        errors += codes
            .iter()
            .filter(|(code, _)| code.as_str() != "200")
            .filter_map(|(_, count)| count.as_u64())
            .sum::<u64>();
    }
    Ok((rps, p95_ms, errors))
}

pub(crate) fn peak_memory_mb(pid: u32) -> BenchResult<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/PID/status")?;
    Ok(kb / 1024.0)
}

// ---------------------------------------------------------------------------------------
// Client bundle

struct ClientFile {
    name: String,
    raw: u64,
    gzip: Option<u64>,
    brotli: Option<u64>,
}

fn measure_client(site_pkg: &Path) -> BenchResult<Vec<ClientFile>> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(site_pkg) else {
        eprintln!("bench: no client bundle at {}", site_pkg.display());
        return Ok(files);
    };
    // The build keeps the previous build's files beside the current ones: measure only those
    // the hash list names, when there is one.
    let current: Vec<String> = site_pkg
        .parent()
        .and_then(|site| std::fs::read_to_string(site.join("hash.txt")).ok())
        .map(|list| {
            HashList::parse(&list)
                .hashes()
                .map(|hash| format!(".{hash}."))
                .collect()
        })
        .unwrap_or_default();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .filter(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            current.is_empty() || current.iter().any(|hash| name.contains(hash.as_str()))
        })
        .collect();
    paths.sort();
    for path in paths {
        files.push(ClientFile {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: std::fs::metadata(&path)?.len(),
            gzip: compressed_size("gzip", &["-9", "-c"], &path),
            brotli: compressed_size("brotli", &["-q", "11", "-c"], &path),
        });
    }
    Ok(files)
}

fn compressed_size(program: &str, flags: &[&str], path: &Path) -> Option<u64> {
    let output = Command::new(program).args(flags).arg(path).output().ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}

// ---------------------------------------------------------------------------------------
// The report

struct Report {
    label: String,
    customers: u32,
    conversations: u32,
    calls: usize,
    baseline_calls: usize,
    query_budget_seconds: u64,
    http_seconds: u32,
    backends: Vec<BackendFigures>,
    http: Option<HttpReport>,
    tenants: Option<TenantFigures>,
    client: Vec<ClientFile>,
}

impl Report {
    fn new(args: &BenchArgs) -> Report {
        Report {
            label: args.label.clone(),
            customers: args.customers,
            conversations: args.conversations,
            calls: args.calls,
            baseline_calls: args.baseline_calls,
            query_budget_seconds: args.query_budget_seconds,
            http_seconds: args.http_seconds,
            backends: Vec::new(),
            http: None,
            tenants: None,
            client: Vec::new(),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `make bench` (`tools bench`, release build). Do not edit by hand: run it again.\n"
        );
        let _ = writeln!(
            out,
            "- run: {}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        );
        let _ = writeln!(out, "- commit: {}", git_commit());
        let _ = writeln!(out, "- machine: {}", machine());
        let _ = writeln!(
            out,
            "- dataset {}: {} customers, {} conversations (about 10% unscored), 4 custom fields \
             (3 selects, 1 text), imported with `server import` from one CSV file",
            self.label,
            group(u64::from(self.customers)),
            group(u64::from(self.conversations))
        );
        let _ = writeln!(
            out,
            "- store figures: {} calls a query after 3 warm-up calls, one at a time, through \
             `customer_page` / `interaction_page`, the functions the server functions call; a \
             query stops early once it has run {} s and at least 10 calls (the calls column says how many); \
             the baseline is the plain GROUP BY over conversations, {} calls a query\n",
            self.calls, self.query_budget_seconds, self.baseline_calls
        );

        let _ = writeln!(out, "## Import\n");
        let _ = writeln!(
            out,
            "| backend | conversations | seconds | conversations/s | target |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        for backend in &self.backends {
            let Some(seconds) = backend.import_seconds else {
                let _ = writeln!(
                    out,
                    "| {} | {} | not measured: the dataset was reused (`--postgres-reuse`) |  |  |",
                    backend.name,
                    group(backend.import_rows)
                );
                continue;
            };
            let rate = backend.import_rows as f64 / seconds;
            let (target, met) = if backend.name == "SQLite" {
                ("100,000", rate >= 100_000.0)
            } else {
                ("50,000", rate >= 50_000.0)
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {} | ≥ {}/s {} |",
                backend.name,
                group(backend.import_rows),
                seconds,
                group(rate as u64),
                target,
                verdict(met, false)
            );
        }
        let _ = writeln!(out);

        self.render_loading(&mut out);

        for backend in &self.backends {
            // PostgreSQL's targets: 5 ms for pages (SQLite 2 ms), twice SQLite's for the rest.
            let factor = |group: &str| match (backend.name, group) {
                ("SQLite", _) => 1.0,
                (_, "default page" | "sorts and pages") => 2.5,
                _ => 2.0,
            };
            let _ = writeln!(
                out,
                "## Store on {} ({} customers listed)\n",
                backend.name,
                group(backend.customers_listed as u64)
            );
            let _ = writeln!(
                out,
                "| group | query | calls | p50 ms | p95 ms | target p95 | baseline p50 ms | speed-up |"
            );
            let _ = writeln!(out, "|---|---|---:|---:|---:|---|---:|---:|");
            for row in &backend.rows {
                let target = row.target_ms * factor(row.group);
                let (baseline, ratio) = match row.baseline_p50_ms {
                    Some(baseline) => (
                        format!("{baseline:.1}"),
                        format!("{:.0}×", baseline / row.timing.p50_ms.max(0.001)),
                    ),
                    None => ("".to_owned(), "".to_owned()),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.2} | {:.2} | ≤ {} ms {} | {} | {} |",
                    row.group,
                    row.label,
                    row.timing.calls,
                    row.timing.p50_ms,
                    row.timing.p95_ms,
                    target,
                    verdict(row.timing.p95_ms <= target, false),
                    baseline,
                    ratio
                );
            }
            let _ = writeln!(out);
        }

        let _ = writeln!(out, "## HTTP (release server on SQLite)\n");
        match &self.http {
            None => {
                let _ = writeln!(
                    out,
                    "Not measured: the load generator `oha` was not installed.\n"
                );
            }
            Some(http) => {
                let _ = writeln!(
                    out,
                    "`oha`, {} s a run, signed in as a manager; the server has {} database connections.\n",
                    self.http_seconds, http.connections
                );
                let _ = writeln!(
                    out,
                    "| request | connections | requests/s | p95 ms | errors | target |"
                );
                let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
                for run in &http.runs {
                    let target = match run.target_rps {
                        Some(target) => format!(
                            "≥ {} /s, no errors {}",
                            group(target as u64),
                            verdict(run.requests_per_second >= target && run.errors == 0, false)
                        ),
                        None => String::new(),
                    };
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {:.1} | {} | {} |",
                        run.label,
                        run.connections,
                        group(run.requests_per_second as u64),
                        run.p95_ms,
                        run.errors,
                        target
                    );
                }
                let _ = writeln!(
                    out,
                    "\nServer peak memory (VmHWM) over all runs, serving dataset {} from its first \
                     load on: {:.0} MB (target ≤ 150 MB {}).\n",
                    self.label,
                    http.peak_memory_mb,
                    verdict(http.peak_memory_mb <= 150.0, false)
                );
            }
        }

        self.render_tenants(&mut out);

        let _ = writeln!(out, "## Client bundle\n");
        let _ = writeln!(out, "| file | raw | gzip -9 | brotli -q 11 |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for file in &self.client {
            let size =
                |bytes: Option<u64>| bytes.map_or("n/a".to_owned(), |b| format!("{} B", group(b)));
            let _ = writeln!(
                out,
                "| {} | {} B | {} | {} |",
                file.name,
                group(file.raw),
                size(file.gzip),
                size(file.brotli)
            );
        }
        if let Some(wasm) = self.client.iter().find(|file| file.name.ends_with(".wasm")) {
            if let Some(gzip) = wasm.gzip {
                let _ = writeln!(
                    out,
                    "\nwasm gzip: {} KB (target ≤ 250 KB {}).",
                    gzip / 1000,
                    verdict(gzip <= 250_000, false)
                );
            }
        }
        out
    }
}

impl Report {
    fn render_loading(&self, out: &mut String) {
        let _ = writeln!(out, "## Loading an organisation\n");
        let _ = writeln!(
            out,
            "A new read-model holder's first question at {} (the organisation's first load, then \
             the page), and, at the end of the run, the next question after `server import` of \
             more conversations into it (read as changed rows).\n",
            self.label
        );
        let _ = writeln!(out, "| backend | measure | seconds | target |");
        let _ = writeln!(out, "|---|---|---:|---|");
        for backend in &self.backends {
            let _ = writeln!(
                out,
                "| {} | first load and first page | {:.2} | ≤ 3 s {} |",
                backend.name,
                backend.first_load_seconds,
                verdict(backend.first_load_seconds <= 3.0, false)
            );
            if let Some(after) = &backend.after_import {
                let _ = writeln!(
                    out,
                    "| {} | import of {} conversations (`server import`) | {:.1} |  |",
                    backend.name,
                    group(u64::from(after.rows)),
                    after.import_seconds
                );
                let _ = writeln!(
                    out,
                    "| {} | the next question after it | {:.2} | ≤ 1 s {} |",
                    backend.name,
                    after.question_seconds,
                    verdict(after.question_seconds <= 1.0, false)
                );
            }
        }
        let _ = writeln!(out);
    }

    fn render_tenants(&self, out: &mut String) {
        let Some(t) = &self.tenants else {
            return;
        };
        let _ = writeln!(
            out,
            "## Many organisations (release server on SQLite, PLAYBOOK_READ_MODEL_MB={})\n",
            t.budget_mb
        );
        let _ = writeln!(
            out,
            "The organisation of dataset {} and {} organisations of {} conversations each (added \
             through the import functions in {:.0} s), each asked for its default page through \
             `GET /api/v1/customers` with its API token. The mix: every small organisation once in \
             a random order (its first question: cold), each followed at random by a question to the \
             large organisation or to a small one asked before; four clients at once, {:.1} s in \
             all. Loads and evictions are counted from the server's log (the holder logs each at \
             debug).\n",
            self.label,
            group(t.orgs as u64),
            group(u64::from(t.conversations_each)),
            t.setup_seconds,
            t.mix_seconds
        );
        let _ = writeln!(
            out,
            "| measure | requests | p50 ms | p95 ms | p99 ms | not 200 | target |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
        let row = |out: &mut String, label: &str, l: &crate::tenants::Latency, target: &str| {
            let _ = writeln!(
                out,
                "| {label} | {} | {:.1} | {:.1} | {:.1} | {} | {target} |",
                l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.failed
            );
        };
        row(
            out,
            "cold organisation's first question",
            &t.cold,
            &format!(
                "p95 ≤ 50 ms {}",
                verdict(t.cold.p95_ms <= 50.0 && t.cold.failed == 0, false)
            ),
        );
        row(
            out,
            &format!("warm organisation's page (dataset {})", self.label),
            &t.large,
            "",
        );
        row(out, "small organisation asked again", &t.small_again, "");
        let minutes = t.mix_seconds / 60.0;
        let _ = writeln!(out);
        let _ = writeln!(out, "| measure | figure | target |");
        let _ = writeln!(out, "|---|---:|---|");
        let _ = writeln!(
            out,
            "| server peak memory (VmHWM), mix and isolation runs | {:.0} MB | ≤ {} MB {} |",
            t.peak_rss_mb,
            t.budget_mb + 100,
            verdict(t.peak_rss_mb <= (t.budget_mb + 100) as f64, false)
        );
        let _ = writeln!(
            out,
            "| loads per minute in the mix | {:.0} ({} in {:.1} s) |  |",
            t.loads as f64 / minutes.max(f64::MIN_POSITIVE),
            t.loads,
            t.mix_seconds
        );
        let _ = writeln!(
            out,
            "| evictions per minute in the mix | {:.0} ({} in {:.1} s) |  |",
            t.evictions as f64 / minutes.max(f64::MIN_POSITIVE),
            t.evictions,
            t.mix_seconds
        );
        let _ = writeln!(
            out,
            "| first start: to the first answer of the large organisation | {:.2} s |  |",
            t.first_large_answer_seconds
        );
        let _ = writeln!(
            out,
            "| restart: to the first answer (a small organisation) | {:.0} ms |  |",
            t.restart_first_small_ms
        );
        let _ = writeln!(
            out,
            "| restart: to the first answer of the large organisation (warmed in the background) | {:.2} s |  |",
            t.restart_first_large_ms / 1000.0
        );
        let i = &t.isolation;
        let _ = writeln!(
            out,
            "\nIsolation: for {:.0} s, 8 clients asked the large organisation a text filter with a \
             search (`?q=son&f.campaign=spring-1`, {} answered, {} not 200) and 2 clients downloaded \
             its CSV export ({} whole exports) without pause; meanwhile one client loaded a small \
             organisation's whole `/customers` page and another signed in, one request at a time.\n",
            i.seconds, i.heavy_done, i.heavy_failed, i.exports_done
        );
        let _ = writeln!(
            out,
            "| measure | requests | p50 ms | p95 ms | p99 ms | not 200 | target |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
        row(
            out,
            "another organisation's default page",
            &i.page,
            &format!(
                "p95 ≤ 50 ms {}",
                verdict(i.page.p95_ms <= 50.0 && i.page.failed == 0, false)
            ),
        );
        row(
            out,
            "sign-in",
            &i.sign_in,
            &format!(
                "p95 ≤ 150 ms {}",
                verdict(i.sign_in.p95_ms <= 150.0 && i.sign_in.failed == 0, false)
            ),
        );
        let _ = writeln!(out);
    }
}

fn verdict(met: bool, informational: bool) -> &'static str {
    match (informational, met) {
        (true, _) => "",
        (false, true) => "✅",
        (false, false) => "❌",
    }
}

/// 1234567 → "1,234,567".
fn group(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (n, ch) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or("unknown".to_owned(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores ({cpu}), {memory_gib} memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let samples: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&samples, 0.50), 100.0);
        assert_eq!(percentile(&samples, 0.95), 190.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(2_000_000), "2,000,000");
    }

    #[test]
    fn the_generated_dataset_is_an_import_file() {
        let dir = std::env::temp_dir().join(format!("bench-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("tiny.csv");
        write_dataset(&path, 10, 50).expect("write");
        let bytes = std::fs::read(&path).expect("read");
        let rows = app::conversations::import::parse_csv(&bytes).expect("parses as an import");
        assert_eq!(rows.len(), 50);
        let unscored = rows
            .iter()
            .filter(|row| row.conversation.score_hundredths.is_none())
            .count();
        assert!(unscored < 50, "most conversations are scored");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
