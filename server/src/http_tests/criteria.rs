//! Criterion scores over HTTP: `POST /api/v1/conversations` items with `criteria` (written,
//! replaced on a re-post, and each bad item refused with a 422 that writes nothing), the
//! document's schema of them, and the conversation page's list of them.

use super::*;
use app::criteria::store::define_criterion;

/// The app with Acme's criteria `greeting` and `resolution`.
async fn app_with_criteria() -> TestApp {
    let app = app().await;
    let org_id = app::orgs::store::find_organisation(&app.db, "acme")
        .await
        .unwrap()
        .expect("acme")
        .id;
    for (key, label) in [("greeting", "Greeting"), ("resolution", "Resolution")] {
        define_criterion(&app.db, org_id, key, label)
            .await
            .expect("criterion");
    }
    app
}

fn item_with(id: &str, criteria: &str) -> String {
    item(id, "crit@example.com", "70").replace(
        r#""fields": {"source": "api"}"#,
        &format!(r#""criteria": {criteria}"#),
    )
}

/// Every stored criterion score: `external_id key score`, `-` for not applicable.
async fn stored_scores(db: &Db) -> Vec<String> {
    let sql = app::sql!(
        "SELECT COALESCE(string_agg(line, '|' ORDER BY line), '') FROM \
         (SELECT v.external_id || ' ' || k.key || ' ' || COALESCE(CAST(s.score_hundredths AS TEXT), '-') AS line \
         FROM conversation_criterion_scores s JOIN conversations v ON v.id = s.conversation_id \
         JOIN criteria k ON k.id = s.criterion_id) AS scores"
    );
    let lines: String = db.scalar(&sql, "reading scores").await.expect("scores");
    lines
        .split('|')
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
pub(super) fn conversations_are_posted_with_criteria_and_bad_ones_refused() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app_with_criteria().await;
        let token = app.token("acme", "ingest").await;
        let post =
            |body: String| app.api("POST", "/api/v1/conversations", Some(&token), Some(body));

        let batch = format!(
            "[{}]",
            item_with("k1", r#"{"greeting": 92.5, "resolution": null}"#)
        );
        let answer = post(batch.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(json_of(&answer)["created"], 1);
        assert_eq!(
            stored_scores(&app.db).await,
            ["k1 greeting 9250", "k1 resolution -"]
        );
        assert_eq!(
            json_of(&post(batch).await)["skipped"],
            1,
            "the same again changes nothing"
        );
        let answer = post(format!("[{}]", item_with("k1", r#"{"resolution": 40}"#))).await;
        assert_eq!(json_of(&answer)["updated"], 1);
        assert_eq!(
            stored_scores(&app.db).await,
            ["k1 resolution 4000"],
            "a re-post replaces them"
        );

        let before = stored_scores(&app.db).await;
        for (criteria, field, message) in [
            (
                r#"{"empathy": 50}"#,
                "criteria.empathy",
                "the organisation has no criterion `empathy`",
            ),
            (
                r#"{"greeting": 100.5}"#,
                "criteria.greeting",
                "100.5 is not between 0 and 100",
            ),
            (
                r#"{"greeting": -1}"#,
                "criteria.greeting",
                "-1 is not between 0 and 100",
            ),
            (r#"{"greeting": "90"}"#, "criteria.greeting", "not \"90\""),
            (r#"{"greeting": true}"#, "criteria.greeting", "not true"),
            (
                r#"{"Greeting": 50}"#,
                "criteria.Greeting",
                "is not a valid criterion key",
            ),
            (r#"[50]"#, "criteria", "must be an object"),
        ] {
            // A good item first: the whole call is refused with the bad one.
            let body = format!("[{}, {}]", item_with("ok", "{}"), item_with("k2", criteria));
            let answer = post(body).await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{criteria}: {}",
                answer.body
            );
            let error = &json_of(&answer)["errors"][0];
            assert_eq!(error["item"], 2, "{criteria}: {error}");
            assert_eq!(error["field"], field, "{criteria}: {error}");
            assert!(
                error["message"].as_str().unwrap().contains(message),
                "{criteria}: {error}"
            );
        }
        assert_eq!(stored_scores(&app.db).await, before, "nothing was written");
        let conversations: i64 = app
            .db
            .scalar(
                &app::sql!("SELECT COUNT(*) FROM conversations WHERE external_id IN ('ok', 'k2')"),
                "counting",
            )
            .await
            .unwrap();
        assert_eq!(conversations, 0);
    })
}

#[test]
pub(super) fn the_document_describes_criteria_exactly() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let doc = json_of(&app.api("GET", "/api/v1/openapi.json", None, None).await);
        let criteria = &doc["components"]["schemas"]["Conversation"]["properties"]["criteria"];
        assert_eq!(criteria["type"], serde_json::json!(["object", "null"]));
        assert_eq!(
            criteria["maxProperties"],
            app::criteria::model::MOST_CRITERIA
        );
        assert_eq!(criteria["propertyNames"]["pattern"], "^[a-z0-9_]{1,64}$");
        let score = &criteria["additionalProperties"];
        assert_eq!(score["type"], serde_json::json!(["number", "null"]));
        assert_eq!(
            (score["minimum"].as_f64(), score["maximum"].as_f64()),
            (Some(0.0), Some(100.0))
        );
    })
}

#[test]
pub(super) fn the_conversation_page_lists_its_criteria_with_their_bands() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app_with_criteria().await;
        let token = app.token("acme", "ingest").await;
        let batch = format!(
            "[{}, {}]",
            item_with("p1", r#"{"greeting": 92.5, "resolution": null}"#),
            item_with("p2", "{}")
        );
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let id = |external_id: &'static str| {
            let db = app.db.clone();
            async move {
                db.scalar::<i64>(
                    &app::sql!(
                        "SELECT id FROM conversations WHERE external_id = $1",
                        external_id
                    ),
                    "finding",
                )
                .await
                .unwrap()
            }
        };
        let cookie = app.cookie("manager@acme.example").await;
        let page = app
            .page(&format!("/conversations/{}", id("p1").await), Some(&cookie))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Playbook criteria"), "{}", page.body);
        let table = &page.body[page.body.find("Playbook criteria").unwrap()..];
        assert!(
            table.contains("Greeting") && table.contains("92.5") && table.contains("High"),
            "{table}"
        );
        assert!(
            table.contains("Resolution") && table.contains("Not applicable"),
            "{table}"
        );
        let without = app
            .page(&format!("/conversations/{}", id("p2").await), Some(&cookie))
            .await;
        assert_eq!(without.status, StatusCode::OK);
        assert!(
            !without.body.contains("Playbook criteria"),
            "nothing when it has none"
        );
    })
}
