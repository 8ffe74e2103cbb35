//! Store-level figures: the import, page and history questions against the plain GROUP BY, and the questions after an import.

use super::dataset::bench_fields;
use super::report::group;
use super::{BenchArgs, BenchResult, MANAGER, ORG, PASSWORD};
use anyhow::Context as _;
use app::conversations::model::Channel;
use app::customers::query::{
    CustomerQuery, Period, SortDir, SortKey, HISTORY_PAGE_SIZE, PAGE_SIZE,
};
use app::customers::read_model::ReadModels;
use app::customers::service::{customers_page, history_page, resolve_question, Strictness};
use app::customers::store::grouped_page;
use app::db::Db;
use app::orgs::model::Role;
use app::orgs::store::{create_organisation, define_field, upsert_user, NewUser};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub(super) struct BackendFigures {
    pub(super) name: &'static str,
    pub(super) url: String,
    pub(super) org_id: i64,
    pub(super) import_rows: u64,
    /// `None` when the dataset was reused rather than imported.
    pub(super) import: Option<ImportRun>,
    /// A new holder's first question: the organisation's first load, then the page.
    pub(super) first_load_seconds: f64,
    pub(super) after_import: Option<AfterImport>,
    pub(super) customers_listed: i64,
    pub(super) rows: Vec<QueryFigures>,
}

pub(super) struct QueryFigures {
    pub(super) group: &'static str,
    pub(super) label: String,
    pub(super) timing: Timing,
    pub(super) baseline_p50_ms: Option<f64>,
    /// The target for this query's group, in milliseconds (p95).
    pub(super) target_ms: f64,
}

pub(super) async fn recreate_postgres_database(admin_url: &str) -> BenchResult<String> {
    let admin = Db::connect(admin_url, 1).await?;
    let created = crate::databases::create_postgres_database(&admin, "playbook_bench", true).await;
    admin.close().await;
    created.context("recreating the benchmark database")?;
    crate::databases::postgres_url(admin_url, "playbook_bench")
        .context("the PostgreSQL URL must end in /DATABASE")
}

pub(super) async fn measure_backend(
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
    let (org_id, import) = if reuse {
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
        let run = run_import(&args.server, url, data)?;
        eprintln!(
            "bench: {name}: {} conversations in {:.1}s ({:.0}/s), peak memory {}",
            args.conversations,
            run.seconds,
            f64::from(args.conversations) / run.seconds,
            mib(run.peak_bytes)
        );
        (org_id, Some(run))
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
        last_90.with_channel(Channel::Voice, true),
        50.0,
    ));
    cases.push((
        "predicates",
        "representative rep7, channel chat or email".to_owned(),
        default
            .with_rep("rep7@bench.example")
            .with_channel(Channel::Chat, true)
            .with_channel(Channel::Email, true),
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
        import,
        first_load_seconds,
        after_import: None,
        customers_listed: first_page.total,
        rows,
    })
}

/// One run of `server import`: how long it took and the most memory the process held.
pub(super) struct ImportRun {
    pub(super) seconds: f64,
    /// The process's peak resident set (`VmHWM`), when the system tells it.
    pub(super) peak_bytes: Option<u64>,
}

/// Runs the release server's import of `data` into the benchmark organisation, in its own
/// process as an operator would, watching its peak memory while it runs.
pub(super) fn run_import(server: &Path, url: &str, data: &Path) -> BenchResult<ImportRun> {
    let started = Instant::now();
    let mut child = Command::new(server)
        .args(["import", "--org", ORG])
        .arg(data)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_bytes = None;
    let status = loop {
        // The peak only grows, so the last reading before the process ends is its peak
        // (to within the last interval).
        if let Some(peak) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| peak_resident_bytes(&status))
        {
            peak_bytes = Some(peak);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(anyhow::anyhow!("the import into {url} failed ({status})"));
    }
    Ok(ImportRun {
        seconds,
        peak_bytes,
    })
}

/// `VmHWM` of a `/proc/PID/status` text, in bytes.
pub(super) fn peak_resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

pub(super) fn mib(bytes: Option<u64>) -> String {
    match bytes {
        Some(bytes) => format!("{} MiB", group(bytes >> 20)),
        None => "not known".to_owned(),
    }
}

/// What the next question takes after a large import into the organisation.
pub(super) struct AfterImport {
    pub(super) rows: u32,
    pub(super) import_seconds: f64,
    pub(super) question_seconds: f64,
}

/// Loads the large organisation into a new holder, imports `data` with the real import
/// command, and times the next question (which reads what the import wrote).
pub(super) async fn measure_after_import(
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
    let import_seconds = run_import(&args.server, url, data)?.seconds;
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
pub(super) fn wants_baseline(group: &str, label: &str) -> bool {
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
pub(super) struct Timing {
    pub(super) p50_ms: f64,
    pub(super) p95_ms: f64,
    pub(super) calls: usize,
}

/// At least this many calls are timed even when the time budget runs out first.
pub(super) const MIN_CALLS: usize = 10;

/// Runs `call` three times to warm up, then `calls` times, or fewer (but at least
/// [`MIN_CALLS`]) when `budget` is spent: a query that takes seconds a call shows that with
/// ten samples, and 200 of them would hold the benchmark up for many minutes.
pub(super) async fn time_calls<F, Fut>(
    calls: usize,
    budget: Duration,
    mut call: F,
) -> BenchResult<Timing>
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
