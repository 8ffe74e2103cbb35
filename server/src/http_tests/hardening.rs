//! Hardening: limits, security headers, proxies, sign-in limits, timeouts, a lost database.

use super::{
    app, app_with, fixture, item, json_of, set_cookie, shared_runtime, unhashed_client, TestApp,
    DEFAULT_QUERY, ONE_AT_A_TIME, PASSWORD,
};
use crate::http::{router, ServeOptions};
use app::auth::service::IDLE_TIMEOUT_MS;
use app::db::{ConnectOptions, Db};
use app::session::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use leptos::prelude::LeptosOptions;
use tools::fixture::load_text;
use tools::test_db::TestDb;
use tower::ServiceExt;

#[test]
pub(super) fn values_over_the_limits_are_refused_naming_item_field_and_limit_and_write_nothing() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let before = app
            .api("GET", "/api/v1/customers", Some(&token), None)
            .await
            .body;
        let long_customer = "c".repeat(6_000);
        let cases = [
            (item("l1", &long_customer, "70"), "customer", "256"),
            (
                item("l2", "nul\\u0000byte@example.com", "70"),
                "customer",
                "control character",
            ),
            (
                item("l3", "ok@example.com", "70").replace("API l3", &"t".repeat(1_001)),
                "title",
                "1000",
            ),
            (
                item("l4", "ok@example.com", "70")
                    .replace("\"api\"", &format!("\"{}\"", "v".repeat(501))),
                "fields.source",
                "500",
            ),
        ];
        for (bad, field, limit) in cases {
            let batch = format!("[{}, {bad}]", item("fine", "fine@example.com", "50"));
            let answer = app
                .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
                .await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}: {}",
                answer.body
            );
            let body = json_of(&answer);
            let error = &body["errors"][0];
            assert_eq!(error["item"], 2, "{body}");
            assert_eq!(error["field"], field, "{body}");
            assert!(error["message"].as_str().unwrap().contains(limit), "{body}");
        }
        let after = app
            .api("GET", "/api/v1/customers", Some(&token), None)
            .await
            .body;
        assert_eq!(before, after, "nothing was written");

        // Reads: a control character is refused (API) or dropped (page); an impossible
        // identifier is simply not found.
        let search = app
            .api("GET", "/api/v1/customers?q=zo%00e", Some(&token), None)
            .await;
        assert_eq!(search.status, StatusCode::BAD_REQUEST, "{}", search.body);
        assert!(search.body.contains("control character"), "{}", search.body);
        let rep = app
            .api(
                "GET",
                "/api/v1/customers?rep=a%00b%40acme.example",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(rep.status, StatusCode::BAD_REQUEST, "{}", rep.body);
        for path in [
            "/api/v1/customers/nul%00byte/interactions".to_owned(),
            format!("/api/v1/customers/{}/interactions", "x".repeat(3_000)),
        ] {
            let answer = app.api("GET", &path, Some(&token), None).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        }
        let cookie = app.cookie("manager@acme.example").await;
        let page = app.page("/customers?q=zo%00&rep=%00", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
    })
}

#[test]
pub(super) fn every_answer_carries_the_security_headers_and_private_ones_are_never_stored() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let token = app.token("acme", "reader").await;
        let answers = [
            ("page", app.page("/customers", Some(&cookie)).await),
            ("login page", app.page("/login", None).await),
            (
                "server function",
                app.call("customers", DEFAULT_QUERY, Some(&cookie)).await,
            ),
            (
                "API",
                app.api("GET", "/api/v1/customers", Some(&token), None)
                    .await,
            ),
            (
                "API error",
                app.api("GET", "/api/v1/customers", None, None).await,
            ),
            (
                "export",
                app.page("/customers/export.csv", Some(&cookie)).await,
            ),
        ];
        for (what, answer) in &answers {
            assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store", "{what}");
            assert_eq!(
                answer.headers[header::X_CONTENT_TYPE_OPTIONS],
                "nosniff",
                "{what}"
            );
            assert_eq!(
                answer.headers[header::REFERRER_POLICY],
                "same-origin",
                "{what}"
            );
            let policy = answer.headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap();
            assert!(
                policy.contains("frame-ancestors 'none'"),
                "{what}: {policy}"
            );
            assert!(
                !answer
                    .headers
                    .contains_key(header::STRICT_TRANSPORT_SECURITY),
                "{what}: plain http"
            );
        }
        // Public files may be cached; they carry the other headers all the same.
        let file = app.page("/pkg/playbook.css", None).await;
        assert_ne!(
            file.headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store")
        );
        assert_eq!(file.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        // Over https (here, as a proxy in front says so), HSTS too.
        let request = Request::get("/login")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap();
        let secure = app.send(through_local_proxy(request)).await;
        assert!(secure.headers[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
    })
}

/// `request` as a reverse proxy on the same machine (trusted by default) passes it on.
pub(super) fn through_local_proxy(mut request: Request<Body>) -> Request<Body> {
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            4000,
        ))));
    request
}

#[test]
pub(super) fn over_https_the_session_cookie_is_host_prefixed_and_only_it_counts() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let form = format!(
            "email=manager%40acme.example&password={}&next=%2F",
            PASSWORD.replace(' ', "+")
        );
        let login = Request::post("/api/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("x-forwarded-proto", "https")
            .body(Body::from(form))
            .unwrap();
        let answer = app.send(through_local_proxy(login)).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        let cookie = set_cookie(&answer);
        assert!(cookie.starts_with("__Host-playbook_session="), "{cookie}");
        assert!(
            cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
            "{cookie}"
        );
        let token = cookie
            .trim_start_matches("__Host-playbook_session=")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let over_https = |cookie: String| {
            through_local_proxy(
                Request::get("/customers")
                    .header("x-forwarded-proto", "https")
                    .header(header::ACCEPT, "text/html")
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
        };
        let planted = app
            .send(over_https(format!("playbook_session={token}")))
            .await;
        assert_eq!(
            planted.status,
            StatusCode::SEE_OTHER,
            "a plain cookie does not count over https"
        );
        let proper = app
            .send(over_https(format!("__Host-playbook_session={token}")))
            .await;
        assert_eq!(proper.status, StatusCode::OK);
    })
}

/// A login call's status, body and duration.
pub(super) async fn attempt(
    app: &TestApp,
    email: &str,
    password: &str,
) -> (StatusCode, String, std::time::Duration) {
    let form = format!(
        "email={}&password={}&next=%2F",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let started = std::time::Instant::now();
    let answer = app.form("login", &form, &[]).await;
    (answer.status, answer.body, started.elapsed())
}

#[test]
pub(super) fn an_unknown_email_a_wrong_password_and_a_locked_account_answer_alike() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        for n in 0..app::auth::service::MAX_FAILED_LOGINS {
            let (status, _, _) = attempt(&app, "admin@acme.example", &format!("wrong {n}")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        let mut timings = Vec::new();
        let mut answers = Vec::new();
        for (email, password) in [
            ("nobody@acme.example", PASSWORD),
            ("manager@acme.example", "wrong password"),
            ("admin@acme.example", PASSWORD), // locked: the right password is refused too
        ] {
            let mut fastest = std::time::Duration::MAX;
            for _ in 0..3 {
                let (status, body, took) = attempt(&app, email, password).await;
                answers.push((status, body));
                fastest = fastest.min(took);
            }
            timings.push(fastest);
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
        assert!(
            answers[0]
                .1
                .contains("or there were 5 failed attempts from here"),
            "{}",
            answers[0].1
        );
        // Each spends one password verification; none answers in a fraction of the others' time.
        let slowest = timings.iter().max().unwrap().as_secs_f64();
        let quickest = timings.iter().min().unwrap().as_secs_f64();
        assert!(quickest > slowest / 3.0, "{timings:?}");
    })
}

#[test]
pub(super) fn sign_in_attempts_are_limited_per_address_and_per_account_with_retry_after() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app_with(ConnectOptions::new(4), |db| AppState {
            sign_in_guard: std::sync::Arc::new(app::auth::guard::SignInGuard::new(3, 2, 1)),
            ..AppState::new(db, false)
        })
        .await;
        let from = |address: [u8; 4], email: &str| {
            let mut request = Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "email={}&password=wrong&next=%2F",
                    email.replace('@', "%40")
                )))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((address, 4000)),
            ));
            request
        };
        // Per account and address: the third attempt on one email from one address is
        // refused; from another address it is not (a stranger cannot use up the owner's).
        for _ in 0..2 {
            assert_eq!(
                app.send(from([10, 0, 0, 5], "pat@acme.example"))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        let limited = app.send(from([10, 0, 0, 5], "PAT@acme.example")).await;
        assert_eq!(
            limited.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            limited.body
        );
        let retry: u64 = limited.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(
            app.send(from([10, 0, 0, 6], "pat@acme.example"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        // Per address: the fourth attempt from one address is refused, whatever the email.
        for email in ["a@acme.example", "b@acme.example", "d@acme.example"] {
            assert_eq!(
                app.send(from([10, 0, 0, 1], email)).await.status,
                StatusCode::UNAUTHORIZED
            );
        }
        let limited = app.send(from([10, 0, 0, 1], "c@acme.example")).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.headers.contains_key(header::RETRY_AFTER));
        assert_eq!(
            app.send(from([10, 0, 0, 9], "c@acme.example")).await.status,
            StatusCode::UNAUTHORIZED
        );
    })
}

#[test]
pub(super) fn an_active_session_gets_its_cookie_again_as_it_slides() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let signed_in_before = app::clock::now_ms() - 5 * 60 * 1000;
        let cookie = app
            .cookie_for("manager@acme.example", signed_in_before)
            .await;
        let page = app.page("/customers", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        let refreshed = set_cookie(&page);
        assert!(refreshed.starts_with(&format!("{cookie};")), "{refreshed}");
        assert!(
            refreshed.contains(&format!("Max-Age={}", IDLE_TIMEOUT_MS / 1000)),
            "{refreshed}"
        );
        // Just refreshed: the next request sends nothing.
        let again = app.page("/customers", Some(&cookie)).await;
        assert_eq!(set_cookie(&again), "");
    })
}

#[test]
pub(super) fn during_a_long_write_api_writes_answer_503_quickly_while_pages_and_sign_in_work() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let mut connect = ConnectOptions::new(4);
        connect.lock_wait = Some(std::time::Duration::from_millis(1_500));
        let app = app_with(connect, |db| AppState::new(db, false)).await;
        let token = app.token("acme", "ingest").await;
        let cookie = app
            .cookie_for("manager@acme.example", app::clock::now_ms() - 120_000)
            .await;
        // Another process (an import) holds the write lock.
        let url = app._temp.url.clone();
        let importer = Db::connect(&url, 1).await.expect("second pool");
        let org_id = app::orgs::store::find_organisation(&app.db, "acme")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut import = importer.begin().await.unwrap();
        app::versions::claim_write_version(&mut import, org_id)
            .await
            .unwrap();

        let started = std::time::Instant::now();
        let batch = format!("[{}]", item("busy1", "busy@example.com", "70"));
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(batch.clone()),
            )
            .await;
        let took = started.elapsed();
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert!(answer.headers.contains_key(header::RETRY_AFTER));
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
        // Pages, session refresh and sign-in go on.
        let page = app.page("/customers", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(set_cookie(&page).contains("Max-Age="), "the session slid");
        let (status, _, _) = attempt(&app, "admin@acme.example", PASSWORD).await;
        assert!(status.is_success() || status.is_redirection(), "{status}");

        import.rollback().await.unwrap();
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        importer.close().await;
    })
}

#[test]
pub(super) fn slow_clients_and_slow_requests_are_cut_off_and_shutdown_drains_for_a_bounded_time() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let start = |options: ServeOptions| async move {
            let slow = axum::Router::new()
                .route(
                    "/slow",
                    axum::routing::get(|| async {
                        tokio::time::sleep(Duration::from_secs(20)).await;
                        "late"
                    }),
                )
                .layer(crate::http::request_timeout(options));
            super::serve_until_stopped(slow, options).await
        };
        let quick = ServeOptions {
            request_timeout: Duration::from_secs(1),
            header_read_timeout: Duration::from_secs(1),
            shutdown_drain: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        let (address, stop, server) = start(quick).await;
        // A request past its timeout: 503.
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0_u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
            .await
            .expect("answered");
        let answer = String::from_utf8_lossy(&answer[..read.unwrap()]).into_owned();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        // A client that never finishes its headers: the connection is closed.
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: te")
            .await
            .unwrap();
        let mut buffer = [0_u8; 256];
        let started = Instant::now();
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the connection stayed open");
        assert!(started.elapsed() < Duration::from_secs(4));
        let _ = stop.send(());
        server.await.unwrap();

        // Shutdown with a request in flight that would take 20 s: over after the drain time.
        let patient = ServeOptions {
            request_timeout: Duration::from_secs(60),
            ..quick
        };
        let (address, stop, server) = start(patient).await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stopped")
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    })
}

#[test]
pub(super) fn at_start_an_unreachable_database_is_retried_for_the_time_given() {
    shared_runtime().block_on(async {
        let started = std::time::Instant::now();
        let result = crate::open_patiently(
            "postgres://postgres@127.0.0.1:9/never",
            ConnectOptions::new(1),
            std::time::Duration::from_millis(1_000),
        )
        .await;
        assert!(result.is_err());
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_millis(700),
            "gave up without retrying: {waited:?}"
        );
        assert!(waited < std::time::Duration::from_secs(5), "{waited:?}");
    })
}

#[test]
pub(super) fn a_database_connection_ended_under_a_request_gives_a_clean_503_then_normal_answers() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let postgres = TestDb::postgres().await;
        let name = postgres.postgres_name().expect("a PostgreSQL database");
        let admin = Db::connect(&tools::test_db::postgres_admin_url(), 1)
            .await
            .expect("PostgreSQL");
        let db = postgres.db.clone();
        load_text(&db, &fixture(), "fixture").await.expect("fixture");
        let app = TestApp {
            router: router(
                AppState::new(db.clone(), false),
                LeptosOptions::builder().output_name("playbook").build(),
                unhashed_client(),
                ServeOptions::default(),
            ),
            db: db.clone(),
            _temp: TestDb::sqlite().await,
        };
        let token = app.token("acme", "reader").await;
        let path = "/api/v1/customers/zoe@example.com/interactions";
        assert_eq!(app.api("GET", path, Some(&token), None).await.status, StatusCode::OK);

        // Hold the request on a lock, then end its database connection from outside.
        let mut blocker = db.begin().await.unwrap();
        blocker
            .execute(&app::db::Sql::new("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"), "locking")
            .await
            .unwrap();
        let request = {
            let router = app.router.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let request = Request::get(path)
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap();
                router.oneshot(request).await.unwrap()
            })
        };
        let waiting = app::db::Sql::new(&format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'",
            name
        ));
        let mut terminated = false;
        for _ in 0..100 {
            let count: i64 = admin.scalar(&waiting, "watching").await.unwrap();
            if count > 0 {
                let terminate = app::db::Sql::new(&format!(
                    "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = '{}' AND wait_event_type = 'Lock'",
                    name
                ));
                let _: i64 = admin.scalar(&terminate, "terminating").await.unwrap();
                terminated = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(terminated, "the request never waited on the lock");
        blocker.rollback().await.unwrap();
        let response = request.await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        // The pool replaces the lost connection: the next calls are answered normally.
        for _ in 0..3 {
            assert_eq!(app.api("GET", path, Some(&token), None).await.status, StatusCode::OK);
        }
        drop(app);
        postgres.drop_database().await;
    })
}
