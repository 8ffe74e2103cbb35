//! Pages and server functions: sign-in, roles, sessions, isolation between organisations, bad calls, text shown as text.

use super::{app, set_cookie, shared_runtime, DEFAULT_QUERY, ONE_AT_A_TIME, PASSWORD};
use crate::http::MAX_BODY_BYTES;
use app::auth::service::IDLE_TIMEOUT_MS;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};

#[test]
pub(super) fn pages_send_anyone_not_signed_in_to_login_and_back() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let answer = app.page("/customers?q=zo%C3%AB&sort=score", None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(
            answer.headers[header::LOCATION],
            "/login?next=%2Fcustomers%3Fq%3Dzo%25C3%25AB%26sort%3Dscore"
        );
        for path in [
            "/",
            "/conversations/1",
            "/representatives/1",
            "/no-such-page",
        ] {
            let answer = app.page(path, None).await;
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
            assert!(
                answer.headers[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/login"),
                "{path}"
            );
        }
        let login = app.page("/login?next=%2Fcustomers", None).await;
        assert_eq!(login.status, StatusCode::OK);
        assert!(login.body.contains("Sign in"));
        assert_eq!(app.page("/healthz", None).await.status, StatusCode::OK);
    })
}

#[test]
pub(super) fn signing_in_sets_a_safe_cookie_and_returns_to_a_same_site_path() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let form = format!(
            "email=manager%40acme.example&password={}&next=%2Fcustomers%3Fq%3Dzo",
            PASSWORD.replace(' ', "+")
        );
        // A plain form post (no wasm): a real redirect.
        let answer = app.form("login", &form, &[("accept", "text/html")]).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        assert_eq!(answer.headers[header::LOCATION], "/customers?q=zo");
        let cookie = set_cookie(&answer);
        assert!(cookie.starts_with("playbook_session="), "{cookie}");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure"),
            "{cookie}"
        );

        // Behind an https proxy (a trusted one: loopback by default) the cookie is Secure; a
        // next path off the site is ignored. The same header from anyone else is not believed.
        let form = format!(
            "email=manager%40acme.example&password={}&next=%2F%2Fevil.example",
            PASSWORD.replace(' ', "+")
        );
        let through = |peer: [u8; 4]| {
            let mut request = Request::post("/api/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("accept", "text/html")
                .header("x-forwarded-proto", "https")
                .body(Body::from(form.clone()))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from((peer, 4000)),
            ));
            request
        };
        let answer = app.send(through([127, 0, 0, 1])).await;
        assert_eq!(answer.headers[header::LOCATION], "/");
        assert!(set_cookie(&answer).contains("; Secure"));
        let answer = app.send(through([203, 0, 113, 5])).await;
        assert_eq!(answer.status, StatusCode::FOUND, "{}", answer.body);
        assert!(!set_cookie(&answer).contains("Secure"));
    })
}

#[test]
pub(super) fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let wrong_password = app
            .form(
                "login",
                "email=manager%40acme.example&password=nope&next=",
                &[],
            )
            .await;
        let wrong_email = app
            .form(
                "login",
                "email=nobody%40acme.example&password=nope&next=",
                &[],
            )
            .await;
        assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.status, wrong_email.status);
        assert_eq!(wrong_password.body, wrong_email.body);
        assert!(wrong_password.body.contains("do not match an account"));
        assert!(set_cookie(&wrong_password).is_empty());
    })
}

#[test]
pub(super) fn five_failures_lock_the_account_with_a_clear_message() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        for _ in 0..5 {
            let answer = app
                .form(
                    "login",
                    "email=admin%40acme.example&password=nope&next=",
                    &[],
                )
                .await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        }
        let form = format!(
            "email=admin%40acme.example&password={}&next=",
            PASSWORD.replace(' ', "+")
        );
        // Locked: the right password is refused with the answer everyone gets, which names
        // the lock (a distinct answer would tell which emails have accounts).
        let answer = app.form("login", &form, &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(
            answer
                .body
                .contains("or there were 5 failed attempts from here: wait 15 minutes"),
            "{}",
            answer.body
        );
    })
}

#[test]
pub(super) fn managers_and_admins_see_customers_and_representatives_do_not() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        for email in ["manager@acme.example", "admin@acme.example"] {
            let cookie = app.cookie(email).await;
            let answer = app.call("customers", DEFAULT_QUERY, Some(&cookie)).await;
            assert_eq!(answer.status, StatusCode::OK, "{email}: {}", answer.body);
            assert!(answer.body.contains("zoe@example.com"));
            let page = app.page("/customers", Some(&cookie)).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("zoe@example.com") && page.body.contains("Custs."));
            // Each of the page's resources (the viewer, the fields, the representatives, the
            // customers, the row the address opens) runs and is sent once: no Suspense
            // re-creates them.
            let sent: Vec<&str> = page
                .body
                .match_indices("__RESOLVED_RESOURCES[")
                .map(|(at, _)| &page.body[at..at + 24])
                .collect();
            assert_eq!(sent.len(), 5, "{sent:?}");
        }
        let rep = app.cookie("rep@acme.example").await;
        for (endpoint, body) in [
            ("customers", DEFAULT_QUERY),
            ("customer_fields", "{}"),
            (
                "customer_interactions",
                r#"{"customer_id": 1, "query": {"search": "", "sort": "Interactions", "dir": "Desc", "page": 1, "filters": {}}, "page": 1}"#,
            ),
            ("conversation", r#"{"id": 1}"#),
            ("representative", r#"{"id": 1, "page": 1}"#),
        ] {
            let answer = app.call(endpoint, body, Some(&rep)).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{endpoint}: {}",
                answer.body
            );
            assert!(!answer.body.contains("zoe@example.com"), "{endpoint}");
        }
        let page = app.page("/customers", Some(&rep)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("Not available to your role"));
        assert!(!page.body.contains("zoe@example.com"));
        assert!(
            !page.body.contains("Custs."),
            "no Customers item in a representative's navigation"
        );
    })
}

#[test]
pub(super) fn without_a_valid_session_server_functions_answer_401() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        assert_eq!(
            app.call("customers", DEFAULT_QUERY, None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.call("customers", DEFAULT_QUERY, Some("playbook_session=forged"))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        // A session idle for longer than the timeout is refused, and its cookie cleared.
        let long_ago = app::clock::now_ms() - IDLE_TIMEOUT_MS - 60_000;
        let expired = app.cookie_for("manager@acme.example", long_ago).await;
        assert_eq!(
            app.call("customers", DEFAULT_QUERY, Some(&expired))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let expired = app.cookie_for("manager@acme.example", long_ago).await;
        let page = app.page("/customers", Some(&expired)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(set_cookie(&page).contains("Max-Age=0"));
    })
}

#[test]
pub(super) fn another_organisations_ids_are_not_found() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        // Conversations 1 and 2 are Acme's; 3 is Globex's. Globex's manager is user 4.
        assert_eq!(
            app.call("conversation", r#"{"id": 1}"#, Some(&cookie))
                .await
                .status,
            StatusCode::OK
        );
        for body in [r#"{"id": 3}"#, r#"{"id": 999}"#] {
            let answer = app.call("conversation", body, Some(&cookie)).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{body}");
            assert!(!answer.body.contains("Globex"));
        }
        assert_eq!(
            app.page("/conversations/3", Some(&cookie)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.page("/conversations/999", Some(&cookie)).await.status,
            StatusCode::NOT_FOUND
        );
        let globex_rep = app
            .call("representative", r#"{"id": 4, "page": 1}"#, Some(&cookie))
            .await;
        assert_eq!(globex_rep.status, StatusCode::NOT_FOUND);
        let search = r#"{"query": {"search": "secret", "sort": "Interactions", "dir": "Desc", "page": 1, "filters": {}}}"#;
        let answer = app.call("customers", search, Some(&cookie)).await;
        assert!(!answer.body.contains("globex"), "{}", answer.body);
    })
}

#[test]
pub(super) fn bad_calls_get_clear_4xx_answers() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let long_search = format!(
            r#"{{"query": {{"search": "{}", "sort": "Interactions", "dir": "Desc", "page": 1, "filters": {{}}}}}}"#,
            "x".repeat(201)
        );
        let answer = app.call("customers", &long_search, Some(&cookie)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.body.contains("longer than 200 characters"));
        let answer = app
            .call("customers", r#"{"nonsense": true}"#, Some(&cookie))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        let huge = format!(r#"{{"padding": "{}"}}"#, "x".repeat(MAX_BODY_BYTES + 1));
        assert_eq!(
            app.call("customers", &huge, Some(&cookie)).await.status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        // A body that does not say its length is cut off at the limit, and refused all the same.
        let without_length = Request::post("/api/customers")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &cookie)
            .body(Body::from(huge))
            .expect("request");
        assert!(app.send(without_length).await.status.is_client_error());
    })
}

#[test]
pub(super) fn signing_out_ends_the_session() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let request = Request::post("/api/logout")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::COOKIE, &cookie);
        let answer = app
            .send(request.body(Body::empty()).expect("request"))
            .await;
        assert_eq!(answer.status, StatusCode::FOUND);
        assert_eq!(answer.headers[header::LOCATION], "/login");
        assert!(set_cookie(&answer).contains("Max-Age=0"));
        assert_eq!(
            app.call("customers", DEFAULT_QUERY, Some(&cookie))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    })
}

#[test]
pub(super) fn data_is_shown_as_text_and_pages_carry_security_headers() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let page = app.page("/customers?q=xss", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "the name is escaped"
        );
        assert!(!page.body.contains("<img src=x"), "and never markup");
        let policy = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap();
        for script in page.body.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
                "inline script without the nonce: {tag}"
            );
        }
        assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(page.headers.contains_key(header::REFERRER_POLICY));
    })
}

#[test]
pub(super) fn the_server_renders_the_row_the_address_opens_with_its_history() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let cookie = app.cookie("manager@acme.example").await;
        let closed = app.page("/customers?q=zoe", Some(&cookie)).await;
        assert_eq!(closed.status, StatusCode::OK);
        assert!(closed.body.contains("zoe@example.com"));
        assert!(!closed.body.contains("history-table"));

        // Usable before the client wakes and without it: the history is in the page.
        let opened = app
            .page("/customers?q=zoe&open=zoe%40example.com", Some(&cookie))
            .await;
        assert_eq!(opened.status, StatusCode::OK);
        assert!(opened.body.contains("history-table"), "{}", opened.body);
        assert!(opened.body.contains("Call a1"));
        assert!(opened.body.contains(r#"aria-expanded="true""#));
        assert!(opened.body.contains("Interaction history pages"));

        // Another organisation's customer, or one not among the rows, opens nothing.
        for path in [
            "/customers?open=secret%40globex.example",
            "/customers?q=xss&open=zoe%40example.com",
        ] {
            let answer = app.page(path, Some(&cookie)).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            assert!(!answer.body.contains("history-table"), "{path}");
            assert!(!answer.body.contains("Globex Secret"), "{path}");
        }
    })
}
