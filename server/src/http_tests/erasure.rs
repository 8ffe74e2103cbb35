//! Erasure through the API: Admin tokens only, all or nothing.

use super::limits::error_code;
use super::{app, item, json_of, shared_runtime, Answer, ONE_AT_A_TIME};
use axum::http::StatusCode;

#[test]
pub(super) fn admin_tokens_erase_customers_and_conversations_and_no_one_else_can() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let token = app.token("acme", "ingest").await;
        let admin = app.admin_token("acme", "admin").await;
        let globex = app.admin_token("globex", "admin").await;
        let batch = format!(
            "[{}, {}, {}, {}, {}]",
            item("d1a", "del1@example.com", "60"),
            item("d1b", "del1@example.com", "70"),
            item("d2a", "del2@example.com", "80"),
            item("d2b", "del2@example.com", "90"),
            item("d3a", "del 3%@example.com", "50"),
        );
        let answer = app
            .api("POST", "/api/v1/conversations", Some(&token), Some(batch))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let total = |answer: &Answer| json_of(answer)["total"].clone();

        // Only an Admin token of the customer's organisation erases.
        let refused = app
            .api(
                "DELETE",
                "/api/v1/customers/del1@example.com",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(error_code(&refused), "forbidden");
        let elsewhere = app
            .api(
                "DELETE",
                "/api/v1/customers/del1@example.com",
                Some(&globex),
                None,
            )
            .await;
        assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&elsewhere), "not_found");
        let still = app
            .api("GET", "/api/v1/customers?q=del1", Some(&token), None)
            .await;
        assert_eq!(total(&still), 1, "nothing was deleted");

        let erased = app
            .api(
                "DELETE",
                "/api/v1/customers/del1@example.com",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
        assert_eq!(
            json_of(&erased),
            serde_json::json!({"conversations": 2, "customers": 1})
        );
        let history = app
            .api(
                "GET",
                "/api/v1/customers/del1@example.com/interactions",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(history.status, StatusCode::NOT_FOUND);
        let listed = app
            .api("GET", "/api/v1/customers?q=del1", Some(&token), None)
            .await;
        assert_eq!(total(&listed), 0);
        let cookie = app.cookie("manager@acme.example").await;
        let export = app.page("/customers/export.csv", Some(&cookie)).await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(!export.body.contains("del1@example.com"), "{}", export.body);
        assert!(export.body.contains("del2@example.com"));
        let again = app
            .api(
                "DELETE",
                "/api/v1/customers/del1@example.com",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert_eq!(error_code(&again), "not_found");

        // An identifier with a space and a percent sign, percent-encoded in the path.
        let odd = app
            .api(
                "DELETE",
                "/api/v1/customers/del%203%25@example.com",
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(odd.status, StatusCode::OK, "{}", odd.body);

        // One conversation; its customer goes with the last.
        let one = app
            .api("DELETE", "/api/v1/conversations/d2a", Some(&admin), None)
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert_eq!(
            json_of(&one),
            serde_json::json!({"conversations": 1, "customers": 0})
        );
        let history = json_of(
            &app.api(
                "GET",
                "/api/v1/customers/del2@example.com/interactions",
                Some(&token),
                None,
            )
            .await,
        );
        assert_eq!(history["total"], 1);
        assert_eq!(history["rows"][0]["external_id"], "d2b");
        let last = app
            .api("DELETE", "/api/v1/conversations/d2b", Some(&admin), None)
            .await;
        assert_eq!(
            json_of(&last),
            serde_json::json!({"conversations": 1, "customers": 1})
        );
        for path in [
            "/api/v1/conversations/d2b".to_owned(),
            "/api/v1/conversations/nul%00byte".to_owned(),
            format!("/api/v1/conversations/{}", "x".repeat(3_000)),
            "/api/v1/conversations/g1".to_owned(),
        ] {
            let answer = app.api("DELETE", &path, Some(&admin), None).await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{path}: {}",
                answer.body
            );
            assert_eq!(error_code(&answer), "not_found");
        }
        // Globex keeps its conversation `g1`, which an Acme token cannot reach.
        let globex_page = json_of(
            &app.api("GET", "/api/v1/customers", Some(&globex), None)
                .await,
        );
        assert_eq!(globex_page["total"], 1);
        // An Admin token reads and writes like any other.
        let read = app
            .api("GET", "/api/v1/customers", Some(&admin), None)
            .await;
        assert_eq!(read.status, StatusCode::OK);
    })
}
