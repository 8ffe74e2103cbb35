//! The API's limits and the server's loads: byte and item limits, error codes, write caps and rates, loading answers.

use super::{app, app_with, app_with_writes, item, json_of, shared_runtime, Answer, ONE_AT_A_TIME};
use crate::http::ServeOptions;
use app::db::{ConnectOptions, Db};
use app::session::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Writes `count` scored conversations for acme straight to the store, in one import.
async fn bulk_for_acme(db: &Db, count: usize) {
    let org_id = app::orgs::store::find_organisation(db, "acme")
        .await
        .unwrap()
        .expect("acme")
        .id;
    let rows: Vec<app::conversations::import::ImportRow> = (0..count)
        .map(|n| app::conversations::import::ImportRow {
            line: n as u64 + 1,
            conversation: tools::test_data::conversation(
                &format!("bulk-{n}"),
                &format!("bulk{}@example.com", n % 500),
                1_767_225_600_000 + n as i64,
                Some(5_000),
            ),
        })
        .collect();
    app::conversations::import::import_rows(db, org_id, &rows, false, &mut |_| {})
        .await
        .expect("import");
}

#[test]
pub(super) fn a_load_the_server_started_is_a_503_or_a_loading_page_never_a_4xx() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        // A query budget no load of 20,000 conversations fits in: the first question finds
        // its organisation loading.
        let hurried = |db: Db| {
            AppState::new(
                db.with_query_budget(std::time::Duration::from_millis(1)),
                false,
            )
        };
        let api = app_with(ConnectOptions::new(4), hurried).await;
        bulk_for_acme(&api.db, 20_000).await;
        let token = api.token("acme", "reader").await;
        let answer = api
            .api("GET", "/api/v1/customers", Some(&token), None)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert_eq!(answer.headers[header::RETRY_AFTER], "5");
        assert!(json_of(&answer)["error"]
            .as_str()
            .is_some_and(|message| message.contains("being loaded")));

        let page_app = app_with(ConnectOptions::new(4), hurried).await;
        bulk_for_acme(&page_app.db, 20_000).await;
        let manager = page_app.cookie("manager@acme.example").await;
        let page = page_app.page("/customers", Some(&manager)).await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
        // Before the client wakes, or without it, the browser loads the page again by itself.
        assert_eq!(page.headers[header::REFRESH], "5");
        assert!(
            page.body.contains("being loaded on the server"),
            "{}",
            page.body
        );
        assert!(page.body.contains("loading-figures"), "{}", page.body);
    })
}

#[test]
pub(super) fn an_export_streams_every_customer_of_a_large_organisation() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        bulk_for_acme(&app.db, 30_000).await;
        let manager = app.cookie("manager@acme.example").await;
        let export = app.page("/customers/export.csv", Some(&manager)).await;
        assert_eq!(export.status, StatusCode::OK);
        let lines: Vec<&str> = export.body.lines().collect();
        // The header, 500 bulk customers and the fixture's two.
        assert_eq!(lines.len(), 1 + 500 + 2);
        let bulk: Vec<&str> = lines
            .iter()
            .filter(|line| line.starts_with("bulk"))
            .copied()
            .collect();
        assert_eq!(bulk.len(), 500);
        assert!(bulk.iter().all(|line| line.contains(",60,")));
    })
}

/// `{"code": …, "error": …}`: an API error answer, its code checked against the document's list.
pub(super) fn error_code(answer: &Answer) -> String {
    assert!(
        answer
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json")),
        "not JSON: {:?} {}",
        answer.headers,
        answer.body
    );
    let body = json_of(answer);
    assert!(body["error"].is_string(), "{}", answer.body);
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    assert!(
        app::api::schema::ErrorCode::ALL
            .iter()
            .any(|known| known.as_str() == code),
        "`{code}` is not a documented code: {}",
        answer.body
    );
    code
}

/// A call to a batch of `count` conversations of `customer`, padded with whitespace to
/// exactly `bytes` bytes.
pub(super) fn padded_batch(count: usize, customer: &str, bytes: usize) -> String {
    let items: Vec<String> = (0..count)
        .map(|n| item(&format!("pad{n}"), customer, "70"))
        .collect();
    let mut batch = format!("[{}]", items.join(","));
    assert!(batch.len() <= bytes);
    batch.insert_str(batch.len() - 1, &" ".repeat(bytes - batch.len()));
    assert_eq!(batch.len(), bytes);
    batch
}

#[test]
pub(super) fn the_documented_byte_limit_is_the_one_enforced() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let limit = app::api::routes::MAX_INGEST_BYTES;
        // 3.9 MiB: over axum's default body limit of 2 MiB, under the documented 4 MiB.
        let big = padded_batch(10, "big@example.com", limit * 39 / 40);
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(big))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(json_of(&answer)["created"], 10);
        // Exactly the limit is still accepted (the same ten again: skipped).
        let full = padded_batch(10, "big@example.com", limit);
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(full))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(json_of(&answer)["skipped"], 10);

        // One byte more: 413 with the JSON error, whether the length is declared or not.
        let over = padded_batch(10, "over@example.com", limit + 1);
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(over.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(error_code(&answer), "too_large");
        assert!(json_of(&answer)["error"]
            .as_str()
            .unwrap()
            .contains("4 MiB"));
        // Without a Content-Length, the body is cut off as it is read.
        let streamed = Request::post("/api/v1/conversations")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(over))
            .expect("request");
        let answer = app.send(streamed).await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.body
        );
        assert_eq!(error_code(&answer), "too_large");
        let page = json_of(
            &app.api("GET", "/api/v1/customers?q=over", Some(&token), None)
                .await,
        );
        assert_eq!(page["total"], 0, "nothing of a refused call is written");
    })
}

#[test]
pub(super) fn a_batch_over_the_item_limit_is_refused_before_the_items_past_it_are_read() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let max = app::api::routes::MAX_ITEMS_PER_CALL;
        let items: Vec<String> = (0..max)
            .map(|n| item(&format!("cap{n}"), "cap@example.com", "50"))
            .collect();
        // The item past the limit is not even JSON: had it been read, the answer would be 400.
        let over = format!("[{}, {{\"external_id\": oops", items.join(","));
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(over))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            answer.body
        );
        assert_eq!(error_code(&answer), "too_large");
        assert!(json_of(&answer)["error"]
            .as_str()
            .unwrap()
            .contains(&format!("At most {max} conversations")));
        // Exactly the limit is written.
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", items.join(","))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(json_of(&answer)["created"], max);
    })
}

#[test]
pub(super) fn a_repeated_external_id_in_one_call_is_one_conversation_the_last_item_written() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let batch = format!(
            "[{}, {}, {}]",
            item("twice", "first@example.com", "10"),
            item("other", "first@example.com", "20"),
            item("twice", "second@example.com", "90").replace("\"twice\"", "\" twice \""),
        );
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            json_of(&answer),
            serde_json::json!({"created": 2, "updated": 0, "skipped": 0, "new_fields": 1})
        );
        let history = json_of(
            &app.api(
                "GET",
                "/api/v1/customers/second@example.com/interactions",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(history["total"], 1);
        assert_eq!(history["rows"][0]["external_id"], "twice");
        assert_eq!(history["rows"][0]["score"], 90.0);
        let first = json_of(
            &app.api(
                "GET",
                "/api/v1/customers/first@example.com/interactions",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(first["total"], 1, "only `other` is first's");
    })
}

#[test]
pub(super) fn every_api_error_carries_a_stable_code() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let bad_item = format!("[{}]", item("c1", "x@example.com", "101"));
        for (method, path, token, body, status, code) in [
            ("GET", "/api/v1/customers", None, None, 401, "unauthorized"),
            (
                "GET",
                "/api/v1/customers",
                Some("pb_forged"),
                None,
                401,
                "unauthorized",
            ),
            (
                "GET",
                "/api/v1/customers?sort=size",
                Some(&token),
                None,
                400,
                "bad_request",
            ),
            (
                "GET",
                "/api/v1/no-such-call",
                Some(&token),
                None,
                404,
                "not_found",
            ),
            (
                "GET",
                "/api/v1/customers/nobody@example.com/interactions",
                Some(&token),
                None,
                404,
                "not_found",
            ),
            (
                "PUT",
                "/api/v1/conversations",
                Some(&token),
                Some("[]".to_owned()),
                405,
                "method_not_allowed",
            ),
            (
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some("not json".to_owned()),
                400,
                "bad_request",
            ),
            (
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some("{}".to_owned()),
                400,
                "bad_request",
            ),
            (
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(bad_item),
                422,
                "invalid_items",
            ),
            (
                "DELETE",
                "/api/v1/customers/zoe@example.com",
                Some(&token),
                None,
                403,
                "forbidden",
            ),
            (
                "DELETE",
                "/api/v1/conversations/a1",
                Some(&token),
                None,
                403,
                "forbidden",
            ),
        ] {
            let answer = app.api(method, path, token, body).await;
            assert_eq!(
                answer.status.as_u16(),
                status,
                "{method} {path}: {}",
                answer.body
            );
            assert_eq!(error_code(&answer), code, "{method} {path}");
            if status == 405 {
                assert!(
                    answer.headers.contains_key(header::ALLOW),
                    "{:?}",
                    answer.headers
                );
            }
        }
        // Too many new fields: the items are refused.
        let fields: String = (0..25)
            .map(|n| format!("\"k{n}\": \"v\""))
            .collect::<Vec<_>>()
            .join(", ");
        let many = format!(
            "[{}]",
            item("f1", "f@example.com", "50").replace("\"source\": \"api\"", &fields)
        );
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(many))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.body
        );
        assert_eq!(error_code(&answer), "invalid_items");
    })
}

#[test]
pub(super) fn a_request_past_its_timeout_gets_the_api_error_with_code_timeout() {
    use std::time::Duration;
    shared_runtime().block_on(async {
        let options = ServeOptions {
            request_timeout: Duration::from_millis(100),
            ..ServeOptions::default()
        };
        let slow = Router::new()
            .route(
                "/api/v1/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(crate::http::request_timeout(options))
            .layer(axum::middleware::from_fn(crate::http::api_errors_as_json));
        let request = |path: &str| Request::get(path).body(Body::empty()).expect("request");
        let response = slow
            .clone()
            .oneshot(request("/api/v1/slow"))
            .await
            .expect("response");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let answer = Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error_code(&answer), "timeout");
        assert!(answer.headers.contains_key(header::RETRY_AFTER));
        // Pages keep their own answers.
        let page = slow.oneshot(request("/slow")).await.expect("response");
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.headers().get(header::CONTENT_TYPE).is_none());
    })
}

#[test]
pub(super) fn writes_past_the_concurrent_ones_wait_briefly_then_get_503_with_retry_after() {
    use std::time::{Duration, Instant};
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let mut connect = ConnectOptions::new(4);
        connect.lock_wait = Some(Duration::from_millis(3_000));
        let limits = app::api::guard::WriteLimits {
            concurrent_writes: 1,
            slot_wait: Duration::from_millis(300),
            ..app::api::guard::WriteLimits::default()
        };
        let app = app_with_writes(connect, limits).await;
        let token = app.token("acme", "ingest").await;
        let admin = app.admin_token("acme", "admin").await;
        // Another process holds the write lock, so the one write slot stays taken.
        let importer = Db::connect(&app._temp.url, 1).await.expect("second pool");
        let org_id = app::orgs::store::find_organisation(&app.db, "acme")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut import = importer.begin().await.unwrap();
        app::versions::claim_write_version(&mut import, org_id)
            .await
            .unwrap();
        let first = {
            let router = app.router.clone();
            let body = format!("[{}]", item("slot1", "slot@example.com", "70"));
            let token = token.clone();
            tokio::spawn(async move {
                let request = Request::post("/api/v1/conversations")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, body.len())
                    .body(Body::from(body))
                    .expect("request");
                router.oneshot(request).await.expect("response").status()
            })
        };
        tokio::time::sleep(Duration::from_millis(400)).await;
        let started = Instant::now();
        let second = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", item("slot2", "slot@example.com", "70"))),
            )
            .await;
        let waited = started.elapsed();
        assert_eq!(
            second.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            second.body
        );
        assert_eq!(error_code(&second), "busy");
        assert!(second.headers.contains_key(header::RETRY_AFTER));
        assert!(json_of(&second)["error"]
            .as_str()
            .unwrap()
            .contains("Too many API writes"));
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_millis(2_000),
            "{waited:?}"
        );
        // Erasures take a slot too.
        let erase = app
            .api(
                "DELETE",
                "/api/v1/customers/zoe@example.com",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(
            erase.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            erase.body
        );
        // Reads do not wait for a slot.
        let read = app
            .api("GET", "/api/v1/customers", Some(&token), None)
            .await;
        assert_eq!(read.status, StatusCode::OK);

        import.rollback().await.unwrap();
        assert_eq!(first.await.expect("first write"), StatusCode::OK);
        let third = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", item("slot3", "slot@example.com", "70"))),
            )
            .await;
        assert_eq!(third.status, StatusCode::OK, "{}", third.body);
        importer.close().await;
    })
}

#[test]
pub(super) fn writes_past_a_tokens_rate_get_429_with_retry_after_and_write_nothing() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let limits = app::api::guard::WriteLimits {
            writes_per_minute: 2,
            ..app::api::guard::WriteLimits::default()
        };
        let app = app_with_writes(ConnectOptions::new(4), limits).await;
        let token = app.token("acme", "ingest").await;
        let other = app.token("acme", "other").await;
        let write = |id: &str| format!("[{}]", item(id, &format!("{id}@example.com"), "70"));
        for id in ["r1", "r2"] {
            let answer = app
                .api(
                    "POST",
                    "/api/v1/conversations",
                    Some(&token),
                    Some(write(id)),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
        let refused = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(write("r3")),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            refused.body
        );
        assert_eq!(error_code(&refused), "rate_limited");
        let retry_after: u64 = refused.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry_after), "{retry_after}");
        // Reads are not limited; another token has a rate of its own.
        let page = json_of(
            &app.api("GET", "/api/v1/customers?q=r3", Some(&token), None)
                .await,
        );
        assert_eq!(page["total"], 0, "the refused write wrote nothing");
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&other),
                Some(write("r4")),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    })
}
