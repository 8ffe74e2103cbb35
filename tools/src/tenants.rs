//! The benchmark's many-organisation runs, against the release server over HTTP: one
//! organisation at L beside many small ones, questioned in a random mix within a memory
//! budget; a restart; and a small organisation's pages and sign-ins while heavy questions and
//! exports run on the large one. `tools bench` calls [`measure_tenants`] and writes what it
//! answers to docs/BENCHMARKS.md.

use anyhow::Context as _;
use app::api::tokens::create_token;
use app::conversations::import::{import_rows, parse_csv};
use app::db::Db;
use app::orgs::model::{CustomField, Role};
use app::orgs::store::{create_organisation_with, NewUser};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, anyhow::Error>;

/// Writes `conversations` conversations of `customers` customers as an import CSV, drawn
/// with a seed.
pub type WriteRows = dyn Fn(&mut Vec<u8>, u32, u32, u64) -> BenchResult<()> + Sync;

/// What the benchmark knows of the large organisation, already in the database.
pub struct LargeOrg {
    pub org_id: i64,
    pub manager: &'static str,
    pub password: &'static str,
}

/// How the many-organisation runs are set up.
pub struct TenantPlan<'a> {
    pub server: &'a Path,
    pub sqlite_url: &'a str,
    pub log: PathBuf,
    pub orgs: usize,
    pub conversations_each: u32,
    pub customers_each: u32,
    pub budget_mb: usize,
    pub fields: Vec<CustomField>,
    /// Writes one organisation's conversations as an import CSV.
    pub write_rows: &'a WriteRows,
    pub isolation_seconds: u64,
}

/// Milliseconds at the usual ranks, over `count` requests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Answers other than 200.
    pub failed: usize,
}

impl Latency {
    fn of(samples: &[(f64, u16)]) -> Latency {
        let mut ms: Vec<f64> = samples.iter().map(|(ms, _)| *ms).collect();
        ms.sort_by(f64::total_cmp);
        Latency {
            count: ms.len(),
            p50_ms: crate::bench::percentile(&ms, 0.50),
            p95_ms: crate::bench::percentile(&ms, 0.95),
            p99_ms: crate::bench::percentile(&ms, 0.99),
            failed: samples.iter().filter(|(_, status)| *status != 200).count(),
        }
    }
}

pub struct TenantFigures {
    pub orgs: usize,
    pub conversations_each: u32,
    pub setup_seconds: f64,
    pub budget_mb: usize,
    /// From the server's start to the large organisation's first answer (its first load).
    pub first_large_answer_seconds: f64,
    pub mix_seconds: f64,
    pub large: Latency,
    pub small_again: Latency,
    pub cold: Latency,
    pub loads: usize,
    pub evictions: usize,
    pub peak_rss_mb: f64,
    pub restart_first_small_ms: f64,
    pub restart_first_large_ms: f64,
    pub isolation: Isolation,
}

pub struct Isolation {
    pub seconds: f64,
    pub page: Latency,
    pub sign_in: Latency,
    pub heavy_done: usize,
    pub exports_done: usize,
    pub heavy_failed: usize,
}

struct Small {
    token: String,
}

/// Adds the small organisations to the database (each with a manager and an API token) and
/// answers their tokens, with the large organisation's.
async fn set_up(plan: &TenantPlan<'_>, large: &LargeOrg) -> BenchResult<(Vec<Small>, String)> {
    let db = Db::connect_with_cache(plan.sqlite_url, 2, 64).await?;
    let hash = app::auth::password::hash_password(large.password)?;
    let mut smalls = Vec::with_capacity(plan.orgs);
    let mut rows = Vec::new();
    for n in 0..plan.orgs {
        let slug = format!("tenant-{n:04}");
        let email = small_manager(n);
        let manager = NewUser {
            email: &email,
            name: "Tenant Manager",
            role: Role::Manager,
            password_hash: Some(&hash),
        };
        let mut tx = db.begin().await?;
        let org_id = create_organisation_with(
            &mut tx,
            &slug,
            &format!("Tenant {n}"),
            "Europe/London",
            &[manager],
            &plan.fields,
        )
        .await?;
        tx.commit().await?;
        rows.clear();
        (plan.write_rows)(
            &mut rows,
            plan.customers_each,
            plan.conversations_each,
            n as u64,
        )?;
        let parsed = parse_csv(&rows)
            .map_err(|errors| anyhow::anyhow!("the generated rows do not parse: {errors:?}"))?;
        import_rows(&db, org_id, &parsed, false, &mut |_| {})
            .await
            .map_err(|error| anyhow::anyhow!("importing into {slug}: {error}"))?;
        smalls.push(Small {
            token: create_token(&db, org_id, "bench", Default::default()).await?,
        });
    }
    let large_token = create_token(
        &db,
        large.org_id,
        &format!("bench-{}", std::process::id()),
        Default::default(),
    )
    .await?;
    db.close().await;
    Ok((smalls, large_token))
}

fn small_manager(n: usize) -> String {
    format!("manager@tenant-{n:04}.example")
}

/// Stops the server when the run ends, however it ends.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ADDR: &str = "127.0.0.1:3951";

fn start(plan: &TenantPlan<'_>) -> BenchResult<(Server, Instant)> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&plan.log)?;
    let started = Instant::now();
    let child = Command::new(plan.server)
        .args(["serve", "--addr", ADDR])
        .env("DATABASE_URL", plan.sqlite_url)
        .env("PLAYBOOK_READ_MODEL_MB", plan.budget_mb.to_string())
        // The holder logs each load and eviction at debug: counted from the log.
        .env("RUST_LOG", "warn,app::customers::read_model=debug")
        .env("LEPTOS_SITE_ROOT", "target/site")
        // The server logs to standard output.
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let server = Server { child };
    while std::net::TcpStream::connect(ADDR).is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            return Err(anyhow::anyhow!("the server did not listen within a minute"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((server, started))
}

/// One HTTP/1.1 request on a new connection; answers the status and the body's length.
fn request(
    method: &str,
    path: &str,
    headers: &[String],
    body: Option<(&str, &str)>,
) -> BenchResult<(u16, usize, String)> {
    let mut stream = std::net::TcpStream::connect(ADDR)?;
    stream.set_read_timeout(Some(Duration::from_secs(300)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {ADDR}\r\nConnection: close\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    if let Some((kind, text)) = body {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            text.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if let Some((_, text)) = body {
        stream.write_all(text.as_bytes())?;
    }
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    Ok((status, response.len().saturating_sub(end), head))
}

fn timed(method: &str, path: &str, headers: &[String], body: Option<(&str, &str)>) -> (f64, u16) {
    let started = Instant::now();
    let status = request(method, path, headers, body).map_or(0, |(status, _, _)| status);
    (started.elapsed().as_secs_f64() * 1000.0, status)
}

fn bearer(token: &str) -> Vec<String> {
    vec![format!("Authorization: Bearer {token}")]
}

fn sign_in(email: &str, password: &str) -> BenchResult<String> {
    let body = format!(
        "email={}&password={password}&next=%2Fcustomers",
        app::text::encode_component(email)
    );
    let (_, _, head) = request(
        "POST",
        "/api/login",
        &[],
        Some(("application/x-www-form-urlencoded", &body)),
    )?;
    head.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim())
        })
        .find(|value| value.starts_with("playbook_session="))
        .and_then(|value| value.split(';').next())
        .map(|cookie| format!("Cookie: {cookie}"))
        .with_context(|| format!("signing {email} in set no session cookie"))
}

/// Asks until the answer is 200 (a load in progress answers 503); answers the milliseconds
/// from `since`.
fn first_answer(path: &str, headers: &[String], since: Instant) -> BenchResult<f64> {
    loop {
        let (status, _, _) = request("GET", path, headers, None)?;
        if status == 200 {
            return Ok(since.elapsed().as_secs_f64() * 1000.0);
        }
        if since.elapsed() > Duration::from_secs(600) {
            return Err(anyhow::anyhow!(
                "{path} did not answer 200 within ten minutes"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn peak_rss_mb(server: &Server) -> BenchResult<f64> {
    crate::bench::peak_memory_mb(server.child.id())
}

fn count_lines(log: &Path, from: u64, needle: &str) -> BenchResult<usize> {
    let text = std::fs::read(log)?;
    let start = usize::try_from(from).unwrap_or(0).min(text.len());
    Ok(String::from_utf8_lossy(&text[start..])
        .lines()
        .filter(|line| line.contains(needle))
        .count())
}

const PAGE: &str = "/api/v1/customers";

pub async fn measure_tenants(plan: TenantPlan<'_>, large: LargeOrg) -> BenchResult<TenantFigures> {
    let setting_up = Instant::now();
    eprintln!(
        "bench: tenants: adding {} organisations of {} conversations",
        plan.orgs, plan.conversations_each
    );
    let (smalls, large_token) = set_up(&plan, &large).await?;
    let setup_seconds = setting_up.elapsed().as_secs_f64();
    eprintln!("bench: tenants: set up in {setup_seconds:.1} s");
    let _ = std::fs::remove_file(&plan.log);
    tokio::task::block_in_place(|| run(&plan, &large, &smalls, &large_token, setup_seconds))
}

fn run(
    plan: &TenantPlan<'_>,
    large: &LargeOrg,
    smalls: &[Small],
    large_token: &str,
    setup_seconds: f64,
) -> BenchResult<TenantFigures> {
    let (server, started) = start(plan)?;
    let large_headers = bearer(large_token);
    let first_large_answer_seconds = first_answer(PAGE, &large_headers, started)? / 1000.0;
    eprintln!("bench: tenants: the large organisation answered {first_large_answer_seconds:.1} s after start");

    // The mix: every small organisation once in a random order (its first question is
    // cold), each followed by a question to the large organisation or to a small one asked
    // before, at random; four clients at once.
    let mut order: Vec<usize> = (0..smalls.len()).collect();
    let mut random = fastrand::Rng::with_seed(0x7E4A_2026);
    random.shuffle(&mut order);
    let next = AtomicUsize::new(0);
    let asked: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let cold = Mutex::new(Vec::new());
    let large_samples = Mutex::new(Vec::new());
    let small_again = Mutex::new(Vec::new());
    let log_from = std::fs::metadata(&plan.log).map_or(0, |m| m.len());
    let mixing = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..4u64 {
            let (order, next, asked, cold, large_samples, small_again) =
                (&order, &next, &asked, &cold, &large_samples, &small_again);
            let large_headers = &large_headers;
            scope.spawn(move || {
                let mut random = fastrand::Rng::with_seed(client);
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&org) = order.get(at) else { break };
                    let sample = timed("GET", PAGE, &bearer(&smalls[org].token), None);
                    cold.lock().map(|mut v| v.push(sample)).ok();
                    asked.lock().map(|mut v| v.push(org)).ok();
                    if random.bool() {
                        let sample = timed("GET", PAGE, large_headers, None);
                        large_samples.lock().map(|mut v| v.push(sample)).ok();
                    } else {
                        let again = asked
                            .lock()
                            .ok()
                            .and_then(|v| v.get(random.usize(..v.len().max(1))).copied())
                            .unwrap_or(org);
                        let sample = timed("GET", PAGE, &bearer(&smalls[again].token), None);
                        small_again.lock().map(|mut v| v.push(sample)).ok();
                    }
                }
            });
        }
    });
    let mix_seconds = mixing.elapsed().as_secs_f64();
    let take =
        |samples: Mutex<Vec<(f64, u16)>>| Latency::of(&samples.into_inner().unwrap_or_default());
    let (cold, large_page, small_again) = (take(cold), take(large_samples), take(small_again));
    let loads = count_lines(&plan.log, log_from, "read model loaded")?;
    let evictions = count_lines(&plan.log, log_from, "read model evicted")?;
    eprintln!(
        "bench: tenants: mix of {:.1} s: cold p95 {:.1} ms, large p95 {:.1} ms, {loads} loads, {evictions} evictions",
        mix_seconds, cold.p95_ms, large_page.p95_ms
    );

    // Isolation: heavy questions and exports on the large organisation; a small one's page
    // and sign-ins measured meanwhile.
    first_answer(PAGE, &large_headers, Instant::now())?;
    let large_cookie = vec![sign_in(large.manager, large.password)?];
    let small_cookie = vec![sign_in(&small_manager(0), large.password)?];
    let stop = AtomicBool::new(false);
    let heavy_done = AtomicUsize::new(0);
    let heavy_failed = AtomicUsize::new(0);
    let exports_done = AtomicUsize::new(0);
    let pages = Mutex::new(Vec::new());
    let sign_ins = Mutex::new(Vec::new());
    let heavy_path = format!("{PAGE}?q=son&f.campaign=spring-1");
    let isolating = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (stop, heavy_done, heavy_failed) = (&stop, &heavy_done, &heavy_failed);
            let (heavy_path, large_headers) = (&heavy_path, &large_headers);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (_, status) = timed("GET", heavy_path, large_headers, None);
                    heavy_done.fetch_add(1, Ordering::Relaxed);
                    if status != 200 {
                        heavy_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        for _ in 0..2 {
            let (stop, exports_done, large_cookie) = (&stop, &exports_done, &large_cookie);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (_, status) = timed("GET", "/customers/export.csv", large_cookie, None);
                    if status == 200 {
                        exports_done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        // Let the heavy work start before measuring.
        std::thread::sleep(Duration::from_secs(1));
        let (stop_ref, pages, small_cookie) = (&stop, &pages, &small_cookie);
        let page_thread = scope.spawn(move || {
            while !stop_ref.load(Ordering::Relaxed) {
                let sample = timed("GET", "/customers", small_cookie, None);
                pages.lock().map(|mut v| v.push(sample)).ok();
            }
        });
        let (stop_ref, sign_ins) = (&stop, &sign_ins);
        let password = large.password;
        let orgs = smalls.len();
        let sign_in_thread = scope.spawn(move || {
            // The server admits 300 sign-in attempts a minute from one address and 60 per
            // account: one every 250 ms, each with another small organisation's manager.
            let mut account = 1;
            while !stop_ref.load(Ordering::Relaxed) {
                let body = format!(
                    "email={}&password={password}&next=%2Fcustomers",
                    app::text::encode_component(&small_manager(account))
                );
                account = account % (orgs - 1).max(1) + 1;
                let started = Instant::now();
                let answer = request(
                    "POST",
                    "/api/login",
                    &[],
                    Some(("application/x-www-form-urlencoded", &body)),
                );
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                // A sign-in counts when it set a session cookie.
                let status = match answer {
                    Ok((_, _, head)) if head.contains("playbook_session=") => 200,
                    Ok((200, _, _)) | Err(_) => 0,
                    Ok((status, _, _)) => status,
                };
                sign_ins.lock().map(|mut v| v.push((ms, status))).ok();
                std::thread::sleep(Duration::from_millis(250).saturating_sub(started.elapsed()));
            }
        });
        std::thread::sleep(Duration::from_secs(plan.isolation_seconds));
        stop.store(true, Ordering::Relaxed);
        let _ = page_thread.join();
        let _ = sign_in_thread.join();
    });
    let isolation = Isolation {
        seconds: isolating.elapsed().as_secs_f64(),
        page: take(pages),
        sign_in: take(sign_ins),
        heavy_done: heavy_done.into_inner(),
        exports_done: exports_done.into_inner(),
        heavy_failed: heavy_failed.into_inner(),
    };
    eprintln!(
        "bench: tenants: isolation: page p95 {:.1} ms, sign-in p95 {:.1} ms ({} heavy questions, {} exports)",
        isolation.page.p95_ms, isolation.sign_in.p95_ms, isolation.heavy_done, isolation.exports_done
    );
    let peak_rss_mb = peak_rss_mb(&server)?;
    drop(server);

    // A restart: the server warms the organisations questioned last, in the background.
    let (server, started) = start(plan)?;
    let restart_first_small_ms = first_answer(PAGE, &bearer(&smalls[0].token), started)?;
    let restart_first_large_ms = first_answer(PAGE, &large_headers, started)?;
    drop(server);
    Ok(TenantFigures {
        orgs: plan.orgs,
        conversations_each: plan.conversations_each,
        setup_seconds,
        budget_mb: plan.budget_mb,
        first_large_answer_seconds,
        mix_seconds,
        large: large_page,
        small_again,
        cold,
        loads,
        evictions,
        peak_rss_mb,
        restart_first_small_ms,
        restart_first_large_ms,
        isolation,
    })
}
