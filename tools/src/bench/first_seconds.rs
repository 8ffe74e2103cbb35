//! The first seconds of the Customers page in Chromium: cold loads under "Slow 4G" and a 4×
//! CPU slowdown, on the demo data, as a manager; the time to a visible table and to an
//! interactive (hydrated) page, medians of [`LOADS`] (target: interactive ≤ 2.2 s). The browser
//! side is `end2end/bench/first-seconds.mjs`, run with the browser tests' Playwright.
//! `tools bench --first-seconds-only` runs it alone.

use super::http::{sign_in_as, ServerProcess};
use super::store::percentile;
use super::{BenchArgs, BenchResult};
use anyhow::Context as _;
use std::process::Command;

/// Cold loads measured.
pub(super) const LOADS: usize = 5;

/// What a manager waits for, median of the loads.
pub(super) struct FirstSeconds {
    pub(super) loads: usize,
    pub(super) table_ms: f64,
    pub(super) interactive_ms: f64,
    pub(super) bytes: f64,
}

impl FirstSeconds {
    /// The target for a hydrated page, from issue "The first seconds".
    pub(super) const INTERACTIVE_TARGET_MS: f64 = 2_200.0;

    pub(super) fn line(&self) -> String {
        format!(
            "median of {} cold loads: rows visible after {:.2} s, interactive after {:.2} s \
             (target ≤ {:.1} s), {:.0} KiB travelled",
            self.loads,
            self.table_ms / 1000.0,
            self.interactive_ms / 1000.0,
            Self::INTERACTIVE_TARGET_MS / 1000.0,
            self.bytes / 1024.0
        )
    }
}

#[derive(serde::Deserialize)]
struct Load {
    table_ms: f64,
    interactive_ms: f64,
    bytes: f64,
}

#[derive(serde::Deserialize)]
struct Loads {
    runs: Vec<Load>,
}

/// Seeds the demo organisation into a database of its own, serves it with the release
/// server, and times [`LOADS`] cold loads of `/customers` in Chromium.
pub(super) async fn measure_first_seconds(args: &BenchArgs) -> BenchResult<FirstSeconds> {
    std::fs::create_dir_all(&args.work_dir)?;
    let path = args.work_dir.join("first-seconds.db");
    crate::databases::remove_sqlite_files(&path);
    let url = format!("sqlite://{}", path.display());
    let db = app::db::Db::connect(&url, 2).await?;
    db.migrate().await?;
    app::demo::seed_demo(&db, app::demo::DemoOptions::default()).await?;
    db.close().await;

    let addr = "127.0.0.1:3952";
    let server = ServerProcess::start(&args.server, &url, addr, 8)?;
    let cookie = sign_in_as(addr, "manager@demo.example", app::demo::DEMO_PASSWORD)?;
    let output = Command::new("node")
        .current_dir("end2end")
        .args(["bench/first-seconds.mjs", "--url"])
        .arg(format!("http://{addr}/customers"))
        .args(["--cookie", &cookie, "--runs", &LOADS.to_string()])
        .output()
        .context("running node end2end/bench/first-seconds.mjs (is Node installed? `make test` installs it)")?;
    drop(server);
    anyhow::ensure!(
        output.status.success(),
        "the browser measurement failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let loads: Loads = serde_json::from_slice(&output.stdout)
        .context("the browser measurement printed no figures")?;
    Ok(summarise(&loads.runs))
}

fn summarise(loads: &[Load]) -> FirstSeconds {
    let median = |figure: fn(&Load) -> f64| {
        let mut values: Vec<f64> = loads.iter().map(figure).collect();
        values.sort_by(f64::total_cmp);
        percentile(&values, 0.5)
    };
    FirstSeconds {
        loads: loads.len(),
        table_ms: median(|load| load.table_ms),
        interactive_ms: median(|load| load.interactive_ms),
        bytes: median(|load| load.bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_are_the_medians_of_the_loads() {
        let loads: Loads = serde_json::from_str(
            r#"{"runs": [
                {"table_ms": 900, "interactive_ms": 3100, "bytes": 500000},
                {"table_ms": 450, "interactive_ms": 2900, "bytes": 430000},
                {"table_ms": 440, "interactive_ms": 2800, "bytes": 424000}
            ]}"#,
        )
        .unwrap();
        let figures = summarise(&loads.runs);
        assert_eq!(figures.loads, 3);
        assert_eq!(figures.table_ms, 450.0);
        assert_eq!(figures.interactive_ms, 2900.0);
        assert_eq!(figures.bytes, 430000.0);
        assert!(figures.line().contains("interactive after 2.90 s"));
    }
}
