//! Change against the previous period, over the API and in the export; the API's ETags.

use super::*;
use axum::http::{header, Request, StatusCode};

/// A conversation of `customer` at 10:00 UTC on `day` (YYYY-MM-DD), for the Change tests.
fn dated(id: &str, customer: &str, day: &str, score: u32) -> String {
    format!(
        r#"{{"external_id": "{id}", "customer": "{customer}", "representative": "api@acme.example", "title": "API {id}", "type": "chat", "occurred_at": "{day}T10:00:00Z", "score": {score}}}"#
    )
}

#[test]
fn the_api_and_the_export_compare_with_the_previous_period() {
    use serde_json::json;
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "change").await;
        // 11–20 February against 1–10 February (London is on UTC then).
        let mut items = Vec::new();
        let mut add = |customer: &str, days: &[&str], score: u32| {
            for day in days {
                items.push(dated(
                    &format!("{customer}-{day}-{score}"),
                    customer,
                    day,
                    score,
                ));
            }
        };
        add("chg-a", &["2026-02-01", "2026-02-02", "2026-02-10"], 90);
        add("chg-a", &["2026-02-11", "2026-02-12", "2026-02-20"], 60);
        add("chg-b", &["2026-02-05"], 50);
        add("chg-b", &["2026-02-15", "2026-02-16"], 70);
        add("chg-c", &["2026-02-13", "2026-02-14", "2026-02-15"], 80);
        add("chg-d", &["2026-02-03", "2026-02-04", "2026-02-05"], 60);
        add("chg-d", &["2026-02-17", "2026-02-18", "2026-02-19"], 70);
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", items.join(","))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

        let range = "q=chg-&from=2026-02-11&to=2026-02-20";
        let list = |body: &serde_json::Value| -> Vec<String> {
            body["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["identifier"].as_str().unwrap().to_owned())
                .collect()
        };
        let by_drop = app
            .api(
                "GET",
                &format!("/api/v1/customers?{range}&sort=change"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(by_drop.status, StatusCode::OK, "{}", by_drop.body);
        let body = json_of(&by_drop);
        // Certain changes by drop (a −30, d +10), then the uncertain b, then the new c.
        assert_eq!(list(&body), ["chg-a", "chg-d", "chg-b", "chg-c"]);
        let rows = body["rows"].as_array().unwrap();
        let a = &rows[0];
        assert_eq!(
            (
                &a["average_score"],
                &a["previous_avg_score"],
                &a["previous_interactions"],
                &a["change"]
            ),
            (&json!(60.0), &json!(90.0), &json!(3), &json!(-30.0))
        );
        assert_eq!(
            (&a["change_uncertain"], &a["small_sample"]),
            (&json!(false), &json!(false))
        );
        let b = &rows[2];
        assert_eq!(
            (&b["change"], &b["previous_interactions"]),
            (&json!(20.0), &json!(1))
        );
        assert_eq!(
            (&b["change_uncertain"], &b["small_sample"]),
            (&json!(true), &json!(true))
        );
        let c = &rows[3];
        assert_eq!(
            (
                &c["previous_avg_score"],
                &c["change"],
                &c["previous_interactions"]
            ),
            (
                &serde_json::Value::Null,
                &serde_json::Value::Null,
                &json!(0)
            )
        );
        let by_rise = app
            .api(
                "GET",
                &format!("/api/v1/customers?{range}&sort=change&dir=asc"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(
            list(&json_of(&by_rise)),
            ["chg-d", "chg-a", "chg-b", "chg-c"]
        );

        // Without a previous period: no comparison fields; sorted by change, every customer
        // is new, listed by identifier.
        let all = json_of(
            &app.api("GET", "/api/v1/customers?q=chg-", Some(&token), None)
                .await,
        );
        assert!(all["rows"][0].get("previous_avg_score").is_none(), "{all}");
        assert!(all["rows"][0].get("change").is_none(), "{all}");
        assert_eq!(all["rows"][0]["small_sample"], json!(false));
        for query in [
            "sort=change",
            "sort=change&period=all",
            "sort=change&from=2026-02-11",
        ] {
            let answer = app
                .api(
                    "GET",
                    &format!("/api/v1/customers?q=chg-&{query}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
            let body = json_of(&answer);
            assert_eq!(list(&body), ["chg-a", "chg-b", "chg-c", "chg-d"], "{query}");
            assert!(body["rows"][0].get("change").is_none(), "{query}");
        }

        let manager = app.cookie("manager@acme.example").await;
        let export = app
            .page(
                &format!("/customers/export.csv?{range}&sort=change"),
                Some(&manager),
            )
            .await;
        assert_eq!(export.status, StatusCode::OK);
        let lines: Vec<&str> = export.body.lines().collect();
        assert_eq!(
            lines,
            [
                "Customer,Display name,Interactions,First Interaction,Latest Interaction,Avg Score,\
                 Previous Interactions,Previous Avg Score,Change,Change Uncertain",
                "chg-a,,3,11 Feb 2026,20 Feb 2026,60.0,3,90.0,-30.0,no",
                "chg-d,,3,17 Feb 2026,19 Feb 2026,70.0,3,60.0,10.0,no",
                "chg-b,,2,15 Feb 2026,16 Feb 2026,70.0,1,50.0,20.0,yes",
                "chg-c,,3,13 Feb 2026,15 Feb 2026,80.0,0,,New,",
            ]
        );
        let plain = app
            .page("/customers/export.csv?q=chg-", Some(&manager))
            .await;
        assert_eq!(
            plain.body.lines().next(),
            Some(
                "Customer,Display name,Interactions,First Interaction,Latest Interaction,Avg Score"
            )
        );
    })
}

#[test]
fn api_reads_carry_an_etag_and_if_none_match_answers_304_until_something_changes() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "etag").await;
        let get = |path: String, tag: Option<String>| {
            let mut request =
                Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
            if let Some(tag) = tag {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            app.send(request.body(Body::empty()).expect("request"))
        };
        let tag_of = |answer: &Answer| {
            answer.headers[header::ETAG]
                .to_str()
                .expect("an ETag")
                .to_owned()
        };
        let list = "/api/v1/customers?period=year&sort=score".to_owned();
        let history = "/api/v1/customers/zoe@example.com/interactions?per_page=5".to_owned();
        for path in [list.clone(), history.clone()] {
            let first = get(path.clone(), None).await;
            assert_eq!(first.status, StatusCode::OK, "{}", first.body);
            let tag = tag_of(&first);
            assert!(tag.starts_with("W/\""), "{tag}");
            // The same question again: the same tag; held, it answers 304 with no body.
            assert_eq!(tag_of(&get(path.clone(), None).await), tag);
            let held = get(path.clone(), Some(tag.clone())).await;
            assert_eq!(held.status, StatusCode::NOT_MODIFIED, "{path}");
            assert!(held.body.is_empty());
            assert_eq!(tag_of(&held), tag);
            let other = get(path.clone(), Some("W/\"something else\"".to_owned())).await;
            assert_eq!(other.status, StatusCode::OK);
        }
        // Another view, another page size: another tag.
        let list_tag = tag_of(&get(list.clone(), None).await);
        let history_tag = tag_of(&get(history.clone(), None).await);
        assert_ne!(
            tag_of(&get("/api/v1/customers?period=year&sort=latest".to_owned(), None).await),
            list_tag
        );
        assert_ne!(
            tag_of(
                &get(
                    "/api/v1/customers?period=year&sort=score&per_page=5".to_owned(),
                    None
                )
                .await
            ),
            list_tag
        );
        assert_ne!(
            tag_of(
                &get(
                    "/api/v1/customers/zoe@example.com/interactions?per_page=6".to_owned(),
                    None
                )
                .await
            ),
            history_tag
        );
        // A write anywhere in the organisation is a new data version: the held copies are stale.
        let answer = app
            .api(
                "POST",
                "/api/v1/conversations",
                Some(&token),
                Some(format!("[{}]", item("etag-1", "etag@example.com", "70"))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let fresh = get(list.clone(), Some(list_tag.clone())).await;
        assert_eq!(fresh.status, StatusCode::OK);
        assert_ne!(tag_of(&fresh), list_tag);
        let fresh = get(history.clone(), Some(history_tag.clone())).await;
        assert_eq!(fresh.status, StatusCode::OK);
        assert_ne!(tag_of(&fresh), history_tag);
        // A field defined changes what filters mean: a new tag too.
        let before = tag_of(&get(list.clone(), None).await);
        let org_id = app::orgs::store::find_organisation(&app.db, "acme")
            .await
            .unwrap()
            .unwrap()
            .id;
        let mut tx = app.db.begin().await.unwrap();
        let field = app::orgs::model::CustomField {
            key: "etag_field".to_owned(),
            label: "ETag field".to_owned(),
            kind: app::orgs::model::FieldKind::Text,
            options: Vec::new(),
        };
        app::orgs::store::define_field(&mut tx, org_id, &field, 99)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_ne!(tag_of(&get(list.clone(), None).await), before);
    })
}
