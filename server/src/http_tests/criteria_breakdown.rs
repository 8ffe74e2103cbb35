//! A customer's criteria breakdown over the API: the figures, the list's filters, 404 for an
//! unknown customer, 400 for a bad filter or parameter, the ETag.

use super::*;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use tools::test_criteria::{define_criterion, score_criterion};

/// A conversation of `customer` on 1 March at `hour`, by `channel`, scored `score`.
fn scored(id: &str, customer: &str, hour: u32, channel: &str, score: u32) -> String {
    format!(
        r#"{{"external_id": "{id}", "customer": "{customer}", "representative": "api@acme.example", "title": "API {id}", "type": "{channel}", "occurred_at": "2026-03-01T{hour:02}:00:00Z", "score": {score}}}"#
    )
}

#[test]
fn the_criteria_breakdown_answers_figures_under_the_list_filters() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "criteria").await;
        let items = [
            scored("cr-1", "crit-a", 9, "voice", 70),
            scored("cr-2", "crit-a", 10, "chat", 80),
            scored("cr-3", "crit-b", 11, "chat", 90),
            scored("cr-4", "crit-b", 12, "voice", 60),
        ];
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", items.join(","))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let org_id = app::orgs::store::find_organisation(&app.db, "acme")
            .await
            .unwrap()
            .expect("acme")
            .id;
        for (position, key) in ["greeting", "resolution", "empathy"].iter().enumerate() {
            define_criterion(&app.db, org_id, key, position as i64).await;
        }
        // greeting: a 40 and 50 (45) against the organisation's 40, 50, 90, 70 (62.5);
        // resolution: a 90, not applicable, against 90 and 60 (75); empathy never scored.
        for (id, key, score) in [
            ("cr-1", "greeting", Some(4_000)),
            ("cr-2", "greeting", Some(5_000)),
            ("cr-3", "greeting", Some(9_000)),
            ("cr-4", "greeting", Some(7_000)),
            ("cr-1", "resolution", Some(9_000)),
            ("cr-2", "resolution", None),
            ("cr-3", "resolution", Some(6_000)),
        ] {
            score_criterion(&app.db, org_id, id, key, score).await;
        }
        let get = |path: String, tag: Option<String>| {
            let mut request =
                Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
            if let Some(tag) = tag {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            app.send(request.body(Body::empty()).expect("request"))
        };
        let path = "/api/v1/customers/crit-a/criteria".to_owned();
        let whole = get(path.clone(), None).await;
        assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
        assert_eq!(
            json_of(&whole),
            json!({
                "customer": "crit-a",
                "criteria": [
                    {"key": "greeting", "label": "Greeting", "avg_score": 45.0, "band": "low",
                     "scored": 2, "organisation_avg_score": 62.5, "organisation_scored": 4},
                    {"key": "resolution", "label": "Resolution", "avg_score": 90.0, "band": "high",
                     "scored": 1, "organisation_avg_score": 75.0, "organisation_scored": 2},
                    {"key": "empathy", "label": "Empathy", "avg_score": null, "band": null,
                     "scored": 0, "organisation_avg_score": null, "organisation_scored": 0},
                ],
            })
        );
        // The list's filters: voice only (cr-1 and cr-4).
        let voice = json_of(&get(format!("{path}?type=voice"), None).await);
        assert_eq!(voice["criteria"][0]["key"], "greeting");
        assert_eq!(voice["criteria"][0]["avg_score"], json!(40.0));
        assert_eq!(voice["criteria"][0]["organisation_avg_score"], json!(55.0));

        // An unknown customer, a bad filter, a parameter the call does not take.
        let missing = get("/api/v1/customers/nobody/criteria".to_owned(), None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(json_of(&missing)["code"], "not_found");
        for bad in ["f.nope=x", "page=2", "from=2026-13-01", "type=fax"] {
            let refused = get(format!("{path}?{bad}"), None).await;
            assert_eq!(
                refused.status,
                StatusCode::BAD_REQUEST,
                "{bad}: {}",
                refused.body
            );
            assert_eq!(json_of(&refused)["code"], "bad_request");
        }

        // The tag: 304 while nothing changed; a new criterion is another answer.
        let tag = whole.headers[header::ETAG]
            .to_str()
            .expect("a tag")
            .to_owned();
        let held = get(path.clone(), Some(tag.clone())).await;
        assert_eq!(held.status, StatusCode::NOT_MODIFIED);
        define_criterion(&app.db, org_id, "closing", 3).await;
        let changed = get(path.clone(), Some(tag)).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_eq!(
            json_of(&changed)["criteria"].as_array().map(Vec::len),
            Some(4)
        );
    })
}
