//! Connections and forged requests: origins, look-alike text, the connection cap, idle connections, pools.

use super::hardening::attempt;
use super::{
    app, fixture, item, json_of, serve_until_stopped, set_cookie, shared_runtime, unhashed_client,
    TestApp, DEFAULT_QUERY, ONE_AT_A_TIME, PASSWORD,
};
use crate::http::{router, ServeOptions};
use app::db::{ConnectOptions, Db};
use app::session::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tools::fixture::load_text;
use tools::test_db::TestDb;

/// A server with `/fast` and `/hold` (two seconds) on a port of its own, until `stop` is sent.
async fn bare_server(
    options: ServeOptions,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let routes = axum::Router::new()
        .route("/fast", axum::routing::get(|| async { "fast" }))
        .route(
            "/hold",
            axum::routing::get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                "held"
            }),
        );
    serve_until_stopped(routes, options).await
}

/// How long until the server closes `stream` (reading whatever it sends), at most `limit`.
async fn closed_within(
    stream: &mut tokio::net::TcpStream,
    limit: std::time::Duration,
) -> Option<std::time::Duration> {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut buffer = [0_u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await
    .ok()
    .map(|()| started.elapsed())
}

/// A browser's request to a server function: JSON, with the headers a browser adds.
pub(super) fn from_browser(
    endpoint: &str,
    content_type: &str,
    body: &str,
    cookie: &str,
    browser: &[(&str, &str)],
) -> Request<Body> {
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::HOST, "playbook.test")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::COOKIE, cookie);
    for (name, value) in browser {
        request = request.header(*name, *value);
    }
    request.body(Body::from(body.to_owned())).expect("request")
}

#[test]
pub(super) fn forged_requests_from_other_sites_are_refused_and_write_nothing() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let save = r#"{"name": "Forged", "query": {"search": "", "sort": "Interactions", "dir": "Desc", "page": 1, "filters": {}}}"#;
        let json = "application/json";
        let forged: [(&str, &[(&str, &str)]); 5] = [
            ("foreign Origin", &[("origin", "https://evil.example")]),
            ("sibling Origin", &[("origin", "https://evil.playbook.test")]),
            ("cross-site", &[("sec-fetch-site", "cross-site")]),
            (
                "same-site",
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "https://playbook.test"),
                ],
            ),
            ("null Origin", &[("origin", "null")]),
        ];
        for (what, headers) in forged {
            let answer = app
                .send(from_browser("save_view", json, save, &cookie, headers))
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what}: {}", answer.body);
            assert!(answer.body.contains("nothing was changed"), "{}", answer.body);
        }
        // The attack as measured: a text/plain body (a simple request, no preflight).
        let answer = app
            .send(from_browser("save_view", "text/plain", save, &cookie, &[]))
            .await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", answer.body);
        let answer = app
            .send(from_browser(
                "save_view",
                "text/plain",
                save,
                &cookie,
                &[("origin", "https://evil.example")],
            ))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        // Nothing was written.
        let views = app.call("saved_views", "{}", Some(&cookie)).await;
        assert_eq!(views.status, StatusCode::OK);
        assert!(!views.body.contains("Forged"), "{}", views.body);
        // Signing out from another site ends nothing.
        let answer = app
            .send(from_browser(
                "logout",
                "application/x-www-form-urlencoded",
                "",
                &cookie,
                &[("sec-fetch-site", "cross-site")],
            ))
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(set_cookie(&answer).is_empty());
        assert_eq!(
            app.call("saved_views", "{}", Some(&cookie)).await.status,
            StatusCode::OK
        );
        // Login CSRF: a cross-site form cannot sign the browser into the attacker's account.
        let form = format!(
            "email=admin%40acme.example&password={}&next=%2F",
            PASSWORD.replace(' ', "+")
        );
        for headers in [
            &[("sec-fetch-site", "cross-site")][..],
            &[("origin", "https://evil.example")][..],
        ] {
            let answer = app.form("login", &form, headers).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
            assert!(set_cookie(&answer).is_empty(), "no session cookie");
        }
        // The app's own pages: the sign-in form (no wasm) and a JSON call from the page.
        let answer = app
            .form(
                "login",
                &form,
                &[
                    ("accept", "text/html"),
                    ("host", "playbook.test"),
                    ("origin", "http://playbook.test"),
                    ("sec-fetch-site", "same-origin"),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        assert!(set_cookie(&answer).contains("playbook_session="));
        let answer = app
            .send(from_browser(
                "save_view",
                json,
                save,
                &cookie,
                &[
                    ("origin", "http://playbook.test"),
                    ("sec-fetch-site", "same-origin"),
                ],
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        // Bearer-token API calls are not browser calls: unaffected.
        let token = app.token("acme", "ingest").await;
        let request = Request::post("/api/v1/conversations")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::from(format!(
                "[{}]",
                item("csrf1", "csrf@example.com", "70")
            )))
            .expect("request");
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    })
}

#[test]
pub(super) fn lookalike_characters_are_refused_by_the_api_naming_the_field() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let cases = [
            (
                item("b1", "\\u202emoc.elpmaxe@eoz", "70"),
                "customer",
                "U+202E",
            ),
            (
                item("b2", "ok@example.com", "70").replace("API b2", "API\\u200b b2"),
                "title",
                "U+200B",
            ),
            (
                item("b3", "ok@example.com", "70").replace("\"api\"", "\"a\\u2067pi\""),
                "fields.source",
                "U+2067",
            ),
            (
                item("b4", "ok@example.com", "70")
                    .replace("\"title\"", "\"customer_name\": \"Zo\\ufeffe\", \"title\""),
                "customer_name",
                "U+FEFF",
            ),
        ];
        for (bad, field, code) in cases {
            let answer = app
                .api(
                    "POST",
                    "/api/v1/conversations",
                    Some(&token),
                    Some(format!("[{bad}]")),
                )
                .await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}: {}",
                answer.body
            );
            let body = json_of(&answer);
            assert_eq!(body["errors"][0]["field"], field, "{body}");
            assert!(
                body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains(code),
                "{body}"
            );
        }
        // Joiners are spelling in Persian and Devanagari.
        let joined = item("b5", "ok@example.com", "70").replace(
            "\"title\"",
            "\"customer_name\": \"می\\u200cخواهم\", \"title\"",
        );
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{joined}]")),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    })
}

#[test]
pub(super) fn past_the_connection_cap_new_connections_wait_briefly_then_get_503() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let options = ServeOptions {
            max_connections: 3,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
            shutdown_drain: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        let (address, stop, server) = bare_server(options).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            stream
                .write_all(b"GET /hold HTTP/1.1\r\nHost: test\r\n\r\n")
                .await
                .unwrap();
            held.push(stream);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A fourth: it waits for a place, then is told to come back.
        let started = Instant::now();
        let mut over = tokio::net::TcpStream::connect(address).await.unwrap();
        over.write_all(b"GET /fast HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0_u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(3), over.read(&mut answer))
            .await
            .expect("an answer")
            .unwrap_or(0);
        let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
        let refused_after = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
        assert!(answer.contains("Retry-After: 1"), "{answer}");
        assert!(
            refused_after < Duration::from_millis(1_500),
            "{refused_after:?}"
        );
        // The three held connections are answered in full.
        for stream in &mut held {
            let mut answer = vec![0_u8; 256];
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
                .await
                .expect("answered")
                .unwrap();
            assert!(String::from_utf8_lossy(&answer[..read]).ends_with("held"));
        }
        eprintln!(
            "held 3 connections at a cap of 3; the fourth was refused after {refused_after:?}"
        );
        // Once they close, new connections are served again.
        drop(held);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut next = tokio::net::TcpStream::connect(address).await.unwrap();
        next.write_all(b"GET /fast HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0_u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(3), next.read(&mut answer))
            .await
            .expect("answered")
            .unwrap();
        assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
        let _ = stop.send(());
        server.await.unwrap();
    })
}

#[test]
pub(super) fn signing_out_everywhere_ends_every_session_of_the_person() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let laptop = app.cookie("manager@acme.example").await;
        let phone = app.cookie("manager@acme.example").await;
        let colleague = app.cookie("admin@acme.example").await;
        let request = Request::post("/api/logout_everywhere")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &laptop)
            .body(Body::empty())
            .expect("request");
        let answer = app.send(request).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        assert_eq!(answer.headers[header::LOCATION], "/login");
        assert!(set_cookie(&answer).contains("Max-Age=0"));
        for cookie in [&laptop, &phone] {
            assert_eq!(
                app.call("customers", DEFAULT_QUERY, Some(cookie))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        assert_eq!(
            app.call("customers", DEFAULT_QUERY, Some(&colleague))
                .await
                .status,
            StatusCode::OK
        );
        // The menu offers it.
        let cookie = app.cookie("manager@acme.example").await;
        let page = app.page("/customers", Some(&cookie)).await;
        assert!(page.body.contains("Sign out everywhere"));
    })
}

#[test]
pub(super) fn silent_and_idle_connections_are_closed_on_http1_and_http2() {
    use std::time::Duration;
    use tokio::io::AsyncWriteExt;
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let options = ServeOptions {
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            shutdown_drain: Duration::from_secs(1),
            ..ServeOptions::default()
        };
        let (address, stop, server) = bare_server(options).await;
        // A socket that sends nothing at all: closed after the header timeout.
        let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
        let took = closed_within(&mut silent, Duration::from_secs(5)).await;
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(3)),
            "silent: {took:?}"
        );
        // Half an HTTP/2 preface, then nothing.
        let mut half = tokio::net::TcpStream::connect(address).await.unwrap();
        half.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        let took = closed_within(&mut half, Duration::from_secs(5)).await;
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(3)),
            "preface: {took:?}"
        );
        // An HTTP/1 keep-alive connection after its answer: closed once idle.
        let mut kept = tokio::net::TcpStream::connect(address).await.unwrap();
        kept.write_all(b"GET /fast HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let took = closed_within(&mut kept, Duration::from_secs(5)).await;
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(3)),
            "keep-alive: {took:?}"
        );
        // HTTP/2: a request is answered, then the idle connection is closed.
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .expect("HTTP/2 handshake");
        let connection = tokio::spawn(connection);
        let request = Request::get(format!("http://{address}/fast"))
            .body(http_body_util::Empty::<axum::body::Bytes>::new())
            .unwrap();
        let answer = sender.send_request(request).await.expect("HTTP/2 answer");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.version(), axum::http::Version::HTTP_2);
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"fast");
        let started = std::time::Instant::now();
        let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
        assert!(ended.is_ok(), "the idle HTTP/2 connection stayed open");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let _ = stop.send(());
        server.await.unwrap();
    })
}

#[test]
pub(super) fn with_every_main_connection_held_sign_in_and_sessions_work_and_the_rest_is_503_with_retry_after(
) {
    use std::time::{Duration, Instant};
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let mut connect = ConnectOptions::new(2);
        connect.acquire_wait = Some(app::db::SERVER_ACQUIRE_WAIT);
        let temp = TestDb::sqlite_with(connect).await;
        let db = temp.db.clone();
        load_text(&db, &fixture(), "fixture")
            .await
            .expect("fixture");
        let sign_in_db = Db::connect_with(
            &temp.url,
            ConnectOptions {
                max_connections: 1,
                ..connect
            },
        )
        .await
        .expect("the sign-in pool");
        let state = AppState::new(db.clone(), false).with_sign_in_db(sign_in_db.clone());
        let options = LeptosOptions::builder().output_name("custs").build();
        let app = TestApp {
            router: router(state, options, unhashed_client(), ServeOptions::default()),
            db: db.clone(),
            _temp: temp,
        };
        let cookie = app.cookie("manager@acme.example").await;
        // Heavy reads hold every connection of the main pool.
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut tx = db.begin().await.expect("a connection");
            tx.scalar::<i64>(
                &app::db::Sql::new("SELECT COUNT(*) FROM conversations"),
                "reading",
            )
            .await
            .expect("read");
            held.push(tx);
        }
        // A question needs the main pool: after about 2 s, 503 with Retry-After.
        let started = Instant::now();
        let answer = app.call("customers", DEFAULT_QUERY, Some(&cookie)).await;
        let waited = started.elapsed();
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert_eq!(answer.headers[header::RETRY_AFTER], "5");
        assert!(
            waited >= Duration::from_millis(1_800) && waited < Duration::from_secs(4),
            "{waited:?}"
        );
        // The session check passed (a 401 otherwise) and answers at once: signing in too.
        let started = Instant::now();
        let (status, body, _) = attempt(&app, "admin@acme.example", PASSWORD).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{status}: {body}"
        );
        let answer = app.form("logout", "", &[("cookie", &cookie)]).await;
        assert!(
            answer.status.is_success() || answer.status.is_redirection(),
            "{}: {}",
            answer.status,
            answer.body
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        drop(held);
        sign_in_db.close().await;
    })
}
