//! The live Customers page at scale: event streams held open against the release server, the
//! memory they add to it (target: 200 streams add ≤ 20 MB), and how soon a conversation
//! posted through the API reaches an open stream and its notice's count (target ≤ 2 s).
//! `tools bench` runs it against the server it measures; `tools bench --live-only` runs it
//! alone on a small database, in seconds.

use super::http::{memory_mb, sign_in, ServerProcess};
use super::{BenchArgs, BenchResult, MANAGER, ORG, PASSWORD};
use anyhow::Context as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Streams opened by the measurement.
pub(super) const STREAMS: usize = 200;

pub(super) struct LiveFigures {
    pub(super) streams: usize,
    pub(super) rss_before_mb: f64,
    pub(super) rss_after_mb: f64,
    /// From posting a conversation to the event on an open stream.
    pub(super) event_ms: f64,
    /// From posting to the notice's count answered (what a tab shows).
    pub(super) notice_ms: f64,
}

impl LiveFigures {
    pub(super) fn growth_mb(&self) -> f64 {
        self.rss_after_mb - self.rss_before_mb
    }

    pub(super) fn line(&self) -> String {
        format!(
            "{} open event streams added {:.1} MB to the server (resident {:.1} → {:.1} MB; \
             target ≤ 20 MB); a conversation posted through the API reached an open stream \
             in {:.0} ms and its notice's count in {:.0} ms (target ≤ 2,000 ms).",
            self.streams,
            self.growth_mb(),
            self.rss_before_mb,
            self.rss_after_mb,
            self.event_ms,
            self.notice_ms
        )
    }
}

/// Holds [`STREAMS`] streams open against the server `pid` at `addr` (signed in as `cookie`),
/// then posts one conversation through the API with a token made on `database_url`.
pub(super) fn measure_live(
    args: &BenchArgs,
    database_url: &str,
    addr: &str,
    pid: u32,
    cookie: &str,
) -> BenchResult<LiveFigures> {
    let since = data_version(addr, cookie)?;
    // Settle what the first requests allocate before the baseline.
    drop(open_stream(addr, cookie, since)?);
    std::thread::sleep(Duration::from_millis(500));
    let rss_before_mb = memory_mb(pid, "VmRSS")?;
    let mut streams = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        streams.push(open_stream(addr, cookie, since)?);
    }
    std::thread::sleep(Duration::from_secs(2));
    let rss_after_mb = memory_mb(pid, "VmRSS")?;

    let token = api_token(&args.server, database_url)?;
    let posted = Instant::now();
    post_conversation(addr, &token)?;
    let first = streams.first_mut().context("no stream")?;
    wait_for_event(first, Duration::from_secs(10))?;
    let event_ms = posted.elapsed().as_secs_f64() * 1000.0;
    let counted = new_conversations(addr, cookie, since)?;
    let notice_ms = posted.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        counted >= 1,
        "the notice counted {counted} new conversations"
    );
    Ok(LiveFigures {
        streams: STREAMS,
        rss_before_mb,
        rss_after_mb,
        event_ms,
        notice_ms,
    })
}

/// `tools bench --live-only`: a fresh SQLite database with the benchmark's manager and a
/// few conversations, the release server on it, and the measurement.
pub(super) async fn run_live_only(args: &BenchArgs) -> BenchResult<()> {
    std::fs::create_dir_all(&args.work_dir)?;
    let path = args.work_dir.join("live.db");
    crate::databases::remove_sqlite_files(&path);
    let url = format!("sqlite://{}", path.display());
    let db = app::db::Db::connect(&url, 2).await?;
    db.migrate().await?;
    let fixture = format!(
        r#"{{"organisations": [{{"slug": "{ORG}", "name": "Bench", "time_zone": "UTC",
            "users": [{{"email": "{MANAGER}", "name": "Manager", "role": "manager", "password": "{PASSWORD}"}}],
            "conversations": [{{"external_id": "seed-1", "customer": "seed@example.com",
                "representative": "rep@bench.example", "title": "Seed", "type": "chat",
                "occurred_at": "2026-11-01T10:00:00Z", "score": 80}}]}}]}}"#
    );
    crate::fixture::load_text(&db, &fixture, "the live benchmark's organisation").await?;
    db.close().await;
    let addr = "127.0.0.1:3951";
    let server = ServerProcess::start(&args.server, &url, addr, 8)?;
    let cookie = sign_in(addr)?;
    let figures = measure_live(args, &url, addr, server.pid(), &cookie)?;
    drop(server);
    println!("{}", figures.line());
    Ok(())
}

fn open_stream(addr: &str, cookie: &str, since: i64) -> BenchResult<TcpStream> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {}?since={since} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
         Cookie: {cookie}\r\n\r\n",
        app::customers::live::EVENTS_PATH
    )?;
    let head = read_until(&mut stream, "\r\n\r\n", Duration::from_secs(10))?;
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 200"),
        "the event stream was refused: {}",
        head.lines().next().unwrap_or_default()
    );
    Ok(stream)
}

fn wait_for_event(stream: &mut TcpStream, within: Duration) -> BenchResult<()> {
    read_until(
        stream,
        &format!("event: {}", app::customers::live::VERSION_EVENT),
        within,
    )
    .map(drop)
}

/// Reads from `stream` until what was read holds `marker`.
fn read_until(stream: &mut TcpStream, marker: &str, within: Duration) -> BenchResult<String> {
    let deadline = Instant::now() + within;
    let mut read = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !String::from_utf8_lossy(&read).contains(marker) {
        anyhow::ensure!(Instant::now() < deadline, "nothing like {marker:?} in time");
        let n = stream.read(&mut buffer)?;
        anyhow::ensure!(n > 0, "the stream ended before {marker:?}");
        read.extend_from_slice(&buffer[..n]);
    }
    Ok(String::from_utf8_lossy(&read).into_owned())
}

/// One request with `Connection: close`; answers the body.
fn request(addr: &str, head: &str, body: &str) -> BenchResult<String> {
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "{head}\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    anyhow::ensure!(
        response.starts_with("HTTP/1.1 200"),
        "{head}: {}",
        response.lines().next().unwrap_or_default()
    );
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}

fn json_field(body: &str, field: &str) -> BenchResult<i64> {
    let value: serde_json::Value = serde_json::from_str(body).context("not JSON")?;
    value[field].as_i64().with_context(|| format!("no {field}"))
}

fn data_version(addr: &str, cookie: &str) -> BenchResult<i64> {
    let body = request(
        addr,
        &format!("POST /api/customers HTTP/1.1\r\nCookie: {cookie}"),
        r#"{"query":{"search":"","sort":"Interactions","dir":"Desc","page":1,"filters":{}}}"#,
    )?;
    json_field(&body, "data_version")
}

fn new_conversations(addr: &str, cookie: &str, since: i64) -> BenchResult<i64> {
    let body = request(
        addr,
        &format!("POST /api/customers_new_conversations HTTP/1.1\r\nCookie: {cookie}"),
        &format!(r#"{{"since": {since}}}"#),
    )?;
    json_field(&body, "scored")
}

fn api_token(server: &Path, database_url: &str) -> BenchResult<String> {
    let name = format!("live-bench-{}", std::process::id());
    let output = Command::new(server)
        .args(["token", "create", "--org", ORG, "--name", &name])
        .env("DATABASE_URL", database_url)
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(output.status.success(), "could not create an API token");
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn post_conversation(addr: &str, token: &str) -> BenchResult<()> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let id = format!("live-{nanos}");
    let body = format!(
        r#"[{{"external_id": "{id}", "customer": "live@example.com", "representative": "rep@bench.example",
            "title": "Live", "type": "chat", "occurred_at": "2026-11-02T10:00:00Z", "score": 75}}]"#
    );
    request(
        addr,
        &format!("POST /api/v1/conversations HTTP/1.1\r\nAuthorization: Bearer {token}"),
        &body,
    )
    .map(drop)
}
