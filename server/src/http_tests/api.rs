//! The API and the CSV export: tokens, conversations in, customers out, filters, concurrent writers.

use super::{app, item, json_of, shared_runtime, ONE_AT_A_TIME};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

#[test]
pub(super) fn api_calls_need_a_live_token_and_see_only_its_organisation() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        assert_eq!(
            app.api("GET", "/api/v1/customers", None, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        let forged = app
            .api("GET", "/api/v1/customers", Some("pb_forged"), None)
            .await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
        assert!(json_of(&forged)["error"]
            .as_str()
            .unwrap()
            .contains("not valid"));

        let acme = app.token("acme", "crm-sync").await;
        let globex = app.token("globex", "crm-sync").await;
        let answer = app.api("GET", "/api/v1/customers", Some(&acme), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body = json_of(&answer);
        let identifiers: Vec<&str> = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["identifier"].as_str().unwrap())
            .collect();
        assert!(
            identifiers.contains(&"zoe@example.com")
                && !identifiers.contains(&"secret@globex.example")
        );
        assert_eq!(
            body["rows"][0]["first_interaction"],
            "2026-03-14T09:30:00+00:00"
        );
        assert_eq!(body["rows"][0]["average_score"], 80.0);
        let answer = app
            .api("GET", "/api/v1/customers", Some(&globex), None)
            .await;
        assert_eq!(json_of(&answer)["total"], 1);
        assert_eq!(
            json_of(&answer)["rows"][0]["first_interaction"],
            "2026-03-14T18:30:00+09:00"
        );
        let other = app
            .api(
                "GET",
                "/api/v1/customers/zoe@example.com/interactions",
                Some(&globex),
                None,
            )
            .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND);

        let org_id = app::orgs::store::find_organisation(&app.db, "acme")
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(app::api::tokens::revoke_token(&app.db, org_id, "crm-sync")
            .await
            .unwrap());
        assert_eq!(
            app.api("GET", "/api/v1/customers", Some(&acme), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        // The OpenAPI document is public.
        let document = app.api("GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(document.status, StatusCode::OK);
        assert_eq!(json_of(&document)["openapi"], "3.1.0");
        // A body over the byte limit is refused before it is read, as JSON like every API error.
        let huge = format!("[\"{}\"]", "x".repeat(app::api::routes::MAX_INGEST_BYTES));
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&acme), Some(huge))
            .await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(json_of(&answer)["error"].is_string(), "{}", answer.body);
    })
}

#[test]
pub(super) fn conversations_posted_through_the_api_round_trip_and_repeat_harmlessly() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let batch = format!(
            "[{}, {}]",
            item("n1", "new@example.com", "70"),
            item("n22", "new@example.com", "90")
        );
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(batch.clone()),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            json_of(&answer),
            serde_json::json!({"created": 2, "updated": 0, "skipped": 0, "new_fields": 1})
        );
        let again = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
            .await;
        assert_eq!(json_of(&again)["skipped"], 2);

        let page = json_of(
            &app.api(
                "GET",
                "/api/v1/customers?q=NEW&f.source=API",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(page["total"], 1);
        assert_eq!(page["rows"][0]["interactions"], 2);
        assert_eq!(page["rows"][0]["average_score"], 80.0);
        let history = json_of(
            &app.api(
                "GET",
                "/api/v1/customers/new@example.com/interactions?per_page=1",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(history["total"], 2);
        assert_eq!(history["page_count"], 2);
        assert_eq!(history["rows"][0]["external_id"], "n22", "newest first");
        assert_eq!(
            history["rows"][0]["occurred_at"], "2026-05-04T09:00:00+01:00",
            "10:00+02:00 is 09:00 in London"
        );
        assert_eq!(
            history["rows"][0]["representative"]["email"],
            "api@acme.example"
        );
    })
}

#[test]
pub(super) fn bad_api_calls_are_refused_clearly_and_write_nothing() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let before = app.api("GET", "/api/v1/customers", Some(&token), None).await.body;
        let bad = format!(
            "[{}, {}, {}]",
            item("b1", "bad@example.com", "70"),
            item("b2", "bad@example.com", "101"),
            item("b1", "bad@example.com", "70").replace("\"email\"", "\"fax\"")
        );
        let answer = app.api("POST", "/api/v1/conversations", Some(&token), Some(bad)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
        let body = json_of(&answer);
        assert_eq!(body["total"], 2);
        assert_eq!(body["errors"][0], serde_json::json!({"item": 2, "field": "score", "message": "101 is not between 0 and 100"}));
        assert_eq!(body["errors"][1]["item"], 3);
        assert_eq!(app.api("GET", "/api/v1/customers", Some(&token), None).await.body, before);

        for (body, status) in [
            ("not json".to_owned(), StatusCode::BAD_REQUEST),
            (r#"{"external_id": "x"}"#.to_owned(), StatusCode::BAD_REQUEST),
            (format!("[{}]", vec![item("x", "y@example.com", "1"); 1001].join(",")), StatusCode::PAYLOAD_TOO_LARGE),
        ] {
            let answer = app.api("POST", "/api/v1/conversations", Some(&token), Some(body)).await;
            assert_eq!(answer.status, status, "{}", answer.body);
            assert!(json_of(&answer)["error"].is_string());
        }
        let long_search = format!("q={}", "x".repeat(201));
        for query in ["sort=size", "dir=up", "page=0", "per_page=101", "per_page=0", "colour=red", "f.nope=1", &long_search] {
            let answer = app.api("GET", &format!("/api/v1/customers?{query}"), Some(&token), None).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.body);
            assert!(json_of(&answer)["error"].is_string());
        }
        let answer = app.api("GET", "/api/v1/customers/zoe@example.com/interactions?sort=score", Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    })
}

#[test]
pub(super) fn the_api_reads_date_channel_and_representative_filters() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        // Zoë (fixture): one voice call by rep@acme.example on 14 Mar 2026 at 80. One more
        // email by api@acme.example on 3 May 2026 (item n4) at 60.
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", item("n4", "zoe@example.com", "60"))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let interactions = |body: serde_json::Value| {
            body["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|row| row["identifier"] == "zoe@example.com")
                .map(|row| row["interactions"].as_i64().unwrap_or_default())
        };
        for (query, zoe) in [
            ("", Some(2)),
            ("type=voice", Some(1)),
            ("type=email,chat", Some(1)),
            ("rep=REP@acme.example", Some(1)),
            ("rep=api@acme.example&type=voice", None),
            ("from=2026-03-14&to=2026-03-14", Some(1)),
            ("from=2026-03-15", Some(1)),
            ("to=2026-05-03", Some(2)),
            ("to=2026-05-02", Some(1)),
            ("period=all&type=voice", Some(1)),
            // A custom range wins over `period`: 7 days back from today would not reach
            // 14 March 2026, nor would a year back from whenever this runs much later.
            ("period=7d&from=2026-03-14&to=2026-03-14", Some(1)),
            ("to=2026-03-14&period=year", Some(1)),
        ] {
            let answer = app
                .api(
                    "GET",
                    &format!("/api/v1/customers?{query}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
            assert_eq!(interactions(json_of(&answer)), zoe, "{query}");
        }
        let history = json_of(
            &app.api(
                "GET",
                "/api/v1/customers/zoe@example.com/interactions?type=email&from=2026-05-01",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(history["total"], 1);
        assert_eq!(history["rows"][0]["external_id"], "n4");
        for query in [
            "from=2026-05-01&to=2026-04-01",
            "from=2026-02-30",
            "to=04/01/2026",
            "period=fortnight",
            "period=fortnight&from=2026-01-01",
            "period=7d&from=2026-05-01&to=2026-04-01",
            "type=fax",
            "rep=nobody@acme.example",
        ] {
            for path in [
                "/api/v1/customers",
                "/api/v1/customers/zoe@example.com/interactions",
            ] {
                let answer = app
                    .api("GET", &format!("{path}?{query}"), Some(&token), None)
                    .await;
                assert_eq!(
                    answer.status,
                    StatusCode::BAD_REQUEST,
                    "{path}?{query}: {}",
                    answer.body
                );
                assert!(json_of(&answer)["error"].is_string());
            }
        }
    })
}

#[test]
pub(super) fn sixteen_api_writers_at_once_all_succeed_and_the_figures_add_up() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..16 {
            let (router, token) = (app.router.clone(), token.clone());
            writers.spawn(async move {
                // The same 30 customers, odd writers in reverse order; a conversation every
                // writer moves to a customer of its own; one new external id from all of them.
                let mut customers: Vec<usize> = (0..30).collect();
                if writer % 2 == 1 {
                    customers.reverse();
                }
                let mut items: Vec<String> = customers
                    .iter()
                    .map(|c| {
                        item(
                            &format!("w{writer}-{c}"),
                            &format!("race{c:02}@example.com"),
                            "50",
                        )
                    })
                    .collect();
                items.push(item("moved", &format!("race{writer:02}@example.com"), "70"));
                items.push(item(
                    "same",
                    &format!("race{:02}@example.com", 29 - writer),
                    "90",
                ));
                let body = format!("[{}]", items.join(","));
                let request = Request::builder()
                    .method("POST")
                    .uri("/api/v1/conversations")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, body.len())
                    .body(Body::from(body))
                    .expect("request");
                let response = router.oneshot(request).await.expect("response");
                response.status()
            });
        }
        while let Some(status) = writers.join_next().await {
            assert_eq!(status.expect("writer"), StatusCode::OK);
        }
        let page = json_of(
            &app.api(
                "GET",
                "/api/v1/customers?per_page=100&q=race",
                Some(&token),
                None,
            )
            .await,
        );
        let rows = page["rows"].as_array().expect("rows");
        assert_eq!(page["total"], 30);
        assert_eq!(rows.len(), 30);
        let interactions: i64 = rows
            .iter()
            .map(|row| row["interactions"].as_i64().unwrap_or_default())
            .sum();
        // 16 writers × 30 conversations of their own, plus `moved` and `same` once each.
        assert_eq!(interactions, 16 * 30 + 2);
    })
}

#[test]
pub(super) fn the_csv_export_streams_the_whole_view_for_reviewers_only() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let many: Vec<String> = (0..45)
            .map(|n| item(&format!("m{n}"), &format!("bulk{n:02}@example.com"), "50"))
            .collect();
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", many.join(","))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

        let manager = app.cookie("manager@acme.example").await;
        let export = app
            .page(
                "/customers/export.csv?q=bulk&sort=latest&page=2",
                Some(&manager),
            )
            .await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(export.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("attachment; filename=\"customers-"));
        let lines: Vec<&str> = export.body.lines().collect();
        assert_eq!(
            lines[0],
            "Customer,Display name,Interactions,First Interaction,Latest Interaction,Avg Score"
        );
        assert_eq!(lines.len(), 46, "every page of the view, not just one");
        assert!(lines.iter().skip(1).all(|line| line.starts_with("bulk")));
        // Compressed on the way out, the stream still ends with a whole gzip member.
        let (status, headers, gzipped) = app
            .send_for_bytes(
                Request::get("/customers/export.csv?q=bulk&sort=latest&page=2")
                    .header(header::COOKIE, &manager)
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        let mut unpacked = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&gzipped[..]),
            &mut unpacked,
        )
        .expect("a complete gzip stream");
        assert_eq!(unpacked, export.body);

        let all = app.page("/customers/export.csv", Some(&manager)).await;
        assert!(
            all.body.contains(
                "xss@example.com,<img src=x onerror=alert(1)>,1,14 Mar 2026,14 Mar 2026,80.0"
            ),
            "{}",
            all.body
        );
        let rep = app.cookie("rep@acme.example").await;
        assert_eq!(
            app.page("/customers/export.csv", Some(&rep)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.page("/customers/export.csv", None).await.status,
            StatusCode::SEE_OTHER
        );
    })
}

// ---- Hardening: limits, headers, sign-in abuse, sessions, busy and lost databases, timeouts.
