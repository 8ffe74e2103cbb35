//! The server process ends within the drain time + 5 s of SIGTERM (issue 25, item 5), while a
//! request is stuck on the database (holding a pooled connection that never comes back) and a
//! connection that sends nothing is open. Run against the real binary on both backends: the
//! stuck request is a sign-in, whose one write waits for a lock this test holds.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tools::test_db::TestDb;

const DRAIN_SECS: u64 = 2;

/// A port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `server serve` on `url` and waits until it listens.
fn start_server(url: &str, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("PLAYBOOK_SHUTDOWN_DRAIN_SECS", DRAIN_SECS.to_string())
        // Nothing but shutdown may end the held request and the silent connection.
        .env("PLAYBOOK_LOCK_WAIT_MS", "120000")
        .env("PLAYBOOK_REQUEST_TIMEOUT_SECS", "120")
        .env("PLAYBOOK_HEADER_TIMEOUT_SECS", "120")
        .env("PLAYBOOK_DB_START_WAIT_SECS", "5")
        .env(
            "LEPTOS_SITE_ROOT",
            std::env::temp_dir().join("playbook-no-site"),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("Playbook is running") => break,
            Some(Ok(_)) => continue,
            _ => {
                let _ = child.kill();
                panic!("the server ended before it listened");
            }
        }
    }
    // Its log goes on to stdout: keep reading it, so that writing never fails or blocks.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// Sends SIGTERM and measures how long the process takes to end (at most `limit`).
fn terminate(child: &mut Child, limit: Duration) -> Duration {
    let started = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "the server exited with {status}");
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server was still running {limit:?} after SIGTERM");
}

/// Ends the server if a test fails before it could.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// With the sign-in counts locked by another session (`lock`, in a transaction kept open), a
/// sign-in waits on that lock inside the server, holding a pooled connection; then SIGTERM.
async fn exits_within_the_drain_time_plus_5_s(test: &TestDb, lock: &str) {
    let port = free_port();
    let mut running = Running(Some(start_server(&test.url, port)));
    let locker = app::db::Db::connect(&test.url, 1).await.expect("locker");
    let mut held = locker.begin().await.expect("begin");
    held.execute(&app::db::Sql::new(lock), "locking the sign-in counts")
        .await
        .expect("lock");
    let mut stuck = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let form = "email=nobody%40example.com&password=wrong&next=%2F";
    let request = format!(
        "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    stuck.write_all(request.as_bytes()).await.expect("send");
    let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    // Past its password verifications, still waiting on the lock: nothing answered yet.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut answer = [0_u8; 64];
    assert!(
        matches!(stuck.try_read(&mut answer), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "the sign-in answered while its write was locked out"
    );
    let mut child = running.0.take().expect("the server");
    let took = tokio::task::spawn_blocking(move || {
        terminate(&mut child, Duration::from_secs(DRAIN_SECS + 10))
    })
    .await
    .expect("terminate");
    println!("server exited {took:?} after SIGTERM (drain {DRAIN_SECS} s)");
    assert!(
        took >= Duration::from_secs(DRAIN_SECS),
        "the request in flight got its drain time: {took:?}"
    );
    assert!(
        took < Duration::from_secs(DRAIN_SECS + 5),
        "exited within drain + 5 s: {took:?}"
    );
    let _ = held.rollback().await;
    locker.close().await;
}

mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_server_exits_within_the_drain_time_plus_5_s_with_a_request_stuck_on_the_database()
    {
        let test = TestDb::sqlite().await;
        // A write into the sign-in file holds its write lock until the transaction ends.
        exits_within_the_drain_time_plus_5_s(
            &test,
            "INSERT INTO auth.sign_in_guesses (account_key, source_key, failures, window_start_ms) VALUES ('held', 'held', 0, 0)",
        )
        .await;
        test.drop_database().await;
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_server_exits_within_the_drain_time_plus_5_s_with_a_request_stuck_on_the_database()
    {
        let test = TestDb::postgres().await;
        exits_within_the_drain_time_plus_5_s(
            &test,
            "LOCK TABLE sign_in_guesses IN ACCESS EXCLUSIVE MODE",
        )
        .await;
        test.drop_database().await;
    }
}
