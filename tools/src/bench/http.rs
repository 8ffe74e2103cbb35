//! The release server under load (oha): pages, history, sign-in, and its peak memory.

use super::{BenchArgs, BenchResult, MANAGER, PASSWORD};
use anyhow::Context as _;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(super) struct HttpFigures {
    pub(super) label: String,
    pub(super) connections: u32,
    pub(super) requests_per_second: f64,
    pub(super) p95_ms: f64,
    pub(super) errors: u64,
    pub(super) target_rps: Option<f64>,
}

pub(super) struct HttpReport {
    pub(super) runs: Vec<HttpFigures>,
    pub(super) peak_memory_mb: f64,
    pub(super) connections: u32,
    /// The live page's streams, measured after the runs (`None` when that failed).
    pub(super) live: Option<super::live::LiveFigures>,
}

/// Stops the server when the benchmark is done, however it ends.
pub(super) struct ServerProcess(Child);

impl ServerProcess {
    /// The release server serving `database_url` at `addr`, once it listens.
    pub(super) fn start(
        server: &std::path::Path,
        database_url: &str,
        addr: &str,
        connections: u32,
    ) -> BenchResult<ServerProcess> {
        let process = ServerProcess(
            Command::new(server)
                .args(["serve", "--addr", addr, "--db-connections"])
                .arg(connections.to_string())
                .env("DATABASE_URL", database_url)
                .env("RUST_LOG", "warn")
                .env("LEPTOS_SITE_ROOT", "target/site")
                .stdout(Stdio::null())
                .spawn()?,
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                return Err(anyhow::anyhow!(
                    "the server did not start listening within a minute"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(process)
    }

    pub(super) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn measure_http(sqlite_url: &str, args: &BenchArgs) -> BenchResult<Option<HttpReport>> {
    if Command::new(&args.oha).arg("--version").output().is_err() {
        eprintln!(
            "bench: `{}` is not installed; skipping the HTTP runs",
            args.oha
        );
        return Ok(None);
    }
    let addr = "127.0.0.1:3950";
    let connections = 8;
    let server = ServerProcess::start(&args.server, sqlite_url, addr, connections)?;
    let pid = server.pid();
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
    let live = super::live::measure_live(args, sqlite_url, addr, pid, &cookie)
        .inspect(|figures| eprintln!("bench: {}", figures.line()))
        .inspect_err(|error| eprintln!("bench: the live page's streams: {error:#}"))
        .ok();
    drop(server);
    Ok(Some(HttpReport {
        runs,
        peak_memory_mb,
        connections,
        live,
    }))
}

/// The status of one call of the `customers` server function for the default view.
pub(super) fn customers_status(addr: &str, cookie: &str) -> BenchResult<u16> {
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
pub(super) fn sign_in(addr: &str) -> BenchResult<String> {
    sign_in_as(addr, MANAGER, PASSWORD)
}

/// Signs `email` in through the login server function; answers the cookie.
pub(super) fn sign_in_as(addr: &str, email: &str, password: &str) -> BenchResult<String> {
    let body = format!(
        "email={}&password={}&next=%2Fcustomers",
        app::text::encode_component(email),
        app::text::encode_component(password)
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
pub(super) fn run_oha(
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
    memory_mb(pid, "VmHWM")
}

/// A memory figure of the process from /proc/PID/status (`VmHWM` its peak, `VmRSS` now), in MB.
pub(crate) fn memory_mb(pid: u32, field: &str) -> BenchResult<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/PID/status"))?;
    Ok(kb / 1024.0)
}

// ---------------------------------------------------------------------------------------
// Client bundle
