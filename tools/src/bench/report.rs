//! The report: figures beside their targets, written to docs/BENCHMARKS.md.

use super::client::ClientFile;
use super::http::HttpReport;
use super::store::{mib, BackendFigures};
use super::BenchArgs;
use crate::tenants::TenantFigures;
use std::fmt::Write as _;
use std::process::Command;

pub(super) struct Report {
    pub(super) label: String,
    pub(super) customers: u32,
    pub(super) conversations: u32,
    pub(super) calls: usize,
    pub(super) baseline_calls: usize,
    pub(super) query_budget_seconds: u64,
    pub(super) http_seconds: u32,
    pub(super) backends: Vec<BackendFigures>,
    pub(super) http: Option<HttpReport>,
    pub(super) tenants: Option<TenantFigures>,
    pub(super) client: Vec<ClientFile>,
    pub(super) first_seconds: Option<super::first_seconds::FirstSeconds>,
}

impl Report {
    pub(super) fn new(args: &BenchArgs) -> Report {
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
            first_seconds: None,
        }
    }

    pub(super) fn render(&self) -> String {
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
             (3 selects, 1 text), 6 playbook criteria scored on each scored conversation, \
             imported with `server import` from one CSV file",
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
            "`server import` of the dataset's CSV file into an empty organisation, in its own \
             process; peak memory is that process's resident peak (`VmHWM`). The write path is \
             docs/performance.md's \"Bulk import\".\n"
        );
        let _ = writeln!(
            out,
            "| backend | conversations | seconds | conversations/s | target | peak memory |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---|---:|");
        for backend in &self.backends {
            let Some(import) = &backend.import else {
                let _ = writeln!(
                    out,
                    "| {} | {} | not measured: the dataset was reused (`--postgres-reuse`) |  |  |  |",
                    backend.name,
                    group(backend.import_rows)
                );
                continue;
            };
            let rate = backend.import_rows as f64 / import.seconds;
            let (target, met) = if backend.name == "SQLite" {
                ("100,000", rate >= 100_000.0)
            } else {
                ("30,000", rate >= 30_000.0)
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {} | ≥ {}/s {} | {} |",
                backend.name,
                group(backend.import_rows),
                import.seconds,
                group(rate as u64),
                target,
                verdict(met, false),
                mib(import.peak_bytes)
            );
        }
        let _ = writeln!(out);

        self.render_loading(&mut out);

        for backend in &self.backends {
            // PostgreSQL's targets: 5 ms for pages (SQLite 2 ms), twice SQLite's for the rest.
            let factor = |group: &str| match (backend.name, group) {
                ("SQLite", _) => 1.0,
                // The criteria breakdown's target is the same on both (issue 27, item 2).
                (_, "criteria") => 1.0,
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
                if let Some(live) = &http.live {
                    let _ = writeln!(out, "Live page: {}\n", live.line());
                }
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
            if let Some(brotli) = wasm.brotli {
                let _ = writeln!(
                    out,
                    "\nwasm brotli, as served: {} KB (target ≤ 300 KB {}).",
                    brotli / 1000,
                    verdict(brotli <= 300_000, false)
                );
            }
        }
        let _ = writeln!(out, "\n## First seconds in Chromium\n");
        let _ = writeln!(
            out,
            "`/customers` on the demo data, signed in as a manager, in Debian's Chromium at \
             1366×768: each load in a fresh context with the cache disabled, under \"Slow 4G\" \
             (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip) and a 4× CPU slowdown \
             (`end2end/bench/first-seconds.mjs`). Times run from the start of the navigation.\n"
        );
        match &self.first_seconds {
            Some(figures) => {
                let _ = writeln!(out, "| measure | median | target |");
                let _ = writeln!(out, "|---|---:|---|");
                let _ = writeln!(
                    out,
                    "| rows visible | {:.2} s |  |",
                    figures.table_ms / 1000.0
                );
                let _ = writeln!(
                    out,
                    "| interactive (hydrated) | {:.2} s | ≤ {:.1} s {} |",
                    figures.interactive_ms / 1000.0,
                    super::first_seconds::FirstSeconds::INTERACTIVE_TARGET_MS / 1000.0,
                    verdict(
                        figures.interactive_ms
                            <= super::first_seconds::FirstSeconds::INTERACTIVE_TARGET_MS,
                        false
                    )
                );
                let _ = writeln!(
                    out,
                    "| bytes travelled | {:.0} KiB |  |\n\n{} cold loads.",
                    figures.bytes / 1024.0,
                    figures.loads
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Not measured in this run (the bench's output says why)."
                );
            }
        }
        out
    }
}

impl Report {
    pub(super) fn render_loading(&self, out: &mut String) {
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

    pub(super) fn render_tenants(&self, out: &mut String) {
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

pub(super) fn verdict(met: bool, informational: bool) -> &'static str {
    match (informational, met) {
        (true, _) => "",
        (false, true) => "✅",
        (false, false) => "❌",
    }
}

/// 1234567 → "1,234,567".
pub(super) fn group(value: u64) -> String {
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

pub(super) fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(super) fn machine() -> String {
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
