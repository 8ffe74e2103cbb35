//! The HTTP surface, called as a browser or an API client would: each role's cookie, no
//! cookie, an expired session, another organisation's ids, malformed and oversized calls.

use crate::assets::{self, ClientFiles};
use crate::http::{router, ServeOptions, MAX_BODY_BYTES};
use app::auth::service::{sign_in, SignIn, IDLE_TIMEOUT_MS};
use app::db::{ConnectOptions, Db};
use app::session::AppState;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tools::fixture::load_text;
use tools::test_db::TestDb;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

/// One runtime for every test here, as the server has one, and one test at a time: each test
/// builds its own router, and building Leptos routes while another router renders pages
/// (which a server never does: it builds one router before serving) occasionally left a
/// request waiting forever. Concurrent requests to one router are measured by the benchmark.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn shared_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    })
}

struct TestApp {
    db: Db,
    router: Router,
    _temp: TestDb,
}

fn fixture() -> String {
    let user = |email: &str, role: &str| {
        format!(
            r#"{{"email": "{email}", "name": "{role} person", "role": "{role}", "password": "{PASSWORD}"}}"#
        )
    };
    let conversation = |id: &str, customer: &str, name: &str, rep: &str| {
        format!(
            r#"{{"external_id": "{id}", "customer": "{customer}", "customer_name": "{name}", "representative": "{rep}",
                "title": "Call {id}", "type": "voice", "occurred_at": "2026-03-14T09:30:00Z", "score": 80}}"#
        )
    };
    format!(
        r#"{{"organisations": [
            {{"slug": "acme", "name": "Acme", "time_zone": "Europe/London",
              "users": [{}, {}, {}],
              "conversations": [{}, {}]}},
            {{"slug": "globex", "name": "Globex", "time_zone": "Asia/Tokyo",
              "users": [{}],
              "conversations": [{}]}}
        ]}}"#,
        user("admin@acme.example", "admin"),
        user("manager@acme.example", "manager"),
        user("rep@acme.example", "representative"),
        conversation("a1", "zoe@example.com", "Zoë", "rep@acme.example"),
        conversation(
            "a2",
            "xss@example.com",
            "<img src=x onerror=alert(1)>",
            "rep@acme.example"
        ),
        user("manager@globex.example", "manager"),
        conversation(
            "g1",
            "secret@globex.example",
            "Globex Secret",
            "manager@globex.example"
        ),
    )
}

async fn app() -> TestApp {
    app_with(ConnectOptions::new(4), |db| AppState::new(db, false)).await
}

/// The app on a database connected with `connect`, with the state `state` makes.
async fn app_with(connect: ConnectOptions, state: impl FnOnce(Db) -> AppState) -> TestApp {
    app_serving(connect, state, ServeOptions::default()).await
}

/// The app with its API writes limited as `api_writes` says.
async fn app_with_writes(
    connect: ConnectOptions,
    api_writes: app::api::guard::WriteLimits,
) -> TestApp {
    let options = ServeOptions {
        api_writes,
        ..ServeOptions::default()
    };
    app_serving(connect, |db| AppState::new(db, false), options).await
}

async fn app_serving(
    connect: ConnectOptions,
    state: impl FnOnce(Db) -> AppState,
    serve: ServeOptions,
) -> TestApp {
    let temp = TestDb::sqlite_with(connect).await;
    let db = temp.db.clone();
    load_text(&db, &fixture(), "fixture")
        .await
        .expect("fixture");
    let options = LeptosOptions::builder().output_name("custs").build();
    TestApp {
        router: router(state(db.clone()), options, unhashed_client(), serve),
        db,
        _temp: temp,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

/// The client files of a build without content hashes (`cargo leptos watch`, say).
fn unhashed_client() -> ClientFiles {
    ClientFiles {
        stylesheet: "/pkg/custs.css".into(),
        hashed: false,
    }
}

impl TestApp {
    async fn send(&self, request: Request<Body>) -> Answer {
        let (status, headers, bytes) = self.send_for_bytes(request).await;
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn send_for_bytes(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, axum::body::Bytes) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, bytes)
    }

    async fn cookie_for(&self, email: &str, at_ms: i64) -> String {
        match sign_in(&self.db, email, PASSWORD, at_ms)
            .await
            .expect("sign in")
        {
            SignIn::Started { token } => format!("playbook_session={token}"),
            _ => panic!("could not sign in {email}"),
        }
    }

    async fn cookie(&self, email: &str) -> String {
        self.cookie_for(email, app::auth::service::now_ms()).await
    }

    async fn page(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn call(&self, endpoint: &str, json: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, json.len());
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(json.to_owned())).expect("request"))
            .await
    }

    async fn form(&self, endpoint: &str, form: &str, extra: &[(&str, &str)]) -> Answer {
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(form.to_owned())).expect("request"))
            .await
    }
}

const DEFAULT_QUERY: &str =
    r#"{"query": {"search": "", "sort": "Interactions", "dir": "Desc", "page": 1, "filters": {}}}"#;

fn set_cookie(answer: &Answer) -> String {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pages_send_anyone_not_signed_in_to_login_and_back() {
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
fn signing_in_sets_a_safe_cookie_and_returns_to_a_same_site_path() {
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
fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
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
fn five_failures_lock_the_account_with_a_clear_message() {
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
fn managers_and_admins_see_customers_and_representatives_do_not() {
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
            // customers) runs and is sent once: no Suspense re-creates them.
            let sent: Vec<&str> = page
                .body
                .match_indices("__RESOLVED_RESOURCES[")
                .map(|(at, _)| &page.body[at..at + 24])
                .collect();
            assert_eq!(sent.len(), 4, "{sent:?}");
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
fn without_a_valid_session_server_functions_answer_401() {
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
        let long_ago = app::auth::service::now_ms() - IDLE_TIMEOUT_MS - 60_000;
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
fn another_organisations_ids_are_not_found() {
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
fn bad_calls_get_clear_4xx_answers() {
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
fn signing_out_ends_the_session() {
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
fn data_is_shown_as_text_and_pages_carry_security_headers() {
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

impl TestApp {
    async fn api(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path_and_query);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CONTENT_LENGTH, body.len());
                Body::from(body)
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    async fn token(&self, org: &str, name: &str) -> String {
        self.token_with(org, name, app::api::tokens::TokenScope::ReadWrite)
            .await
    }

    async fn admin_token(&self, org: &str, name: &str) -> String {
        self.token_with(org, name, app::api::tokens::TokenScope::Admin)
            .await
    }

    async fn token_with(
        &self,
        org: &str,
        name: &str,
        scope: app::api::tokens::TokenScope,
    ) -> String {
        let org_id = app::orgs::store::find_organisation(&self.db, org)
            .await
            .unwrap()
            .expect("org")
            .id;
        app::api::tokens::create_token(&self.db, org_id, name, scope)
            .await
            .expect("token")
    }
}

fn json_of(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", answer.body))
}

fn item(id: &str, customer: &str, score: &str) -> String {
    format!(
        r#"{{"external_id": "{id}", "customer": "{customer}", "representative": "api@acme.example", "title": "API {id}", "type": "email", "occurred_at": "2026-05-0{}T10:00:00+02:00", "score": {score}, "fields": {{"source": "api"}}}}"#,
        id.len() % 9 + 1
    )
}

#[test]
fn api_calls_need_a_live_token_and_see_only_its_organisation() {
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
fn conversations_posted_through_the_api_round_trip_and_repeat_harmlessly() {
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
fn bad_api_calls_are_refused_clearly_and_write_nothing() {
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
fn the_api_reads_date_channel_and_representative_filters() {
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
fn sixteen_api_writers_at_once_all_succeed_and_the_figures_add_up() {
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
fn the_csv_export_streams_the_whole_view_for_reviewers_only() {
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

// ---- Hardening: limits, headers, sign-in abuse, sessions, busy and lost databases, timeouts.

#[test]
fn values_over_the_limits_are_refused_naming_item_field_and_limit_and_write_nothing() {
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
fn every_answer_carries_the_security_headers_and_private_ones_are_never_stored() {
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
        let file = app.page("/pkg/custs.css", None).await;
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
fn through_local_proxy(mut request: Request<Body>) -> Request<Body> {
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            4000,
        ))));
    request
}

#[test]
fn over_https_the_session_cookie_is_host_prefixed_and_only_it_counts() {
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
async fn attempt(
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
fn an_unknown_email_a_wrong_password_and_a_locked_account_answer_alike() {
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
fn sign_in_attempts_are_limited_per_address_and_per_account_with_retry_after() {
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
fn an_active_session_gets_its_cookie_again_as_it_slides() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let app = app().await;
        let signed_in_before = app::auth::service::now_ms() - 5 * 60 * 1000;
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
fn during_a_long_write_api_writes_answer_503_quickly_while_pages_and_sign_in_work() {
    shared_runtime().block_on(async {
        let _one_at_a_time = ONE_AT_A_TIME.lock().await;
        let mut connect = ConnectOptions::new(4);
        connect.lock_wait = Some(std::time::Duration::from_millis(1_500));
        let app = app_with(connect, |db| AppState::new(db, false)).await;
        let token = app.token("acme", "ingest").await;
        let cookie = app
            .cookie_for(
                "manager@acme.example",
                app::auth::service::now_ms() - 120_000,
            )
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
fn slow_clients_and_slow_requests_are_cut_off_and_shutdown_drains_for_a_bounded_time() {
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
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(crate::http::accept_until_shutdown(
                listener,
                slow,
                options,
                async {
                    let _ = stopped.await;
                },
            ));
            (address, stop, server)
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
fn at_start_an_unreachable_database_is_retried_for_the_time_given() {
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
fn a_database_connection_ended_under_a_request_gives_a_clean_503_then_normal_answers() {
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
                LeptosOptions::builder().output_name("custs").build(),
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

/// A site directory as `scripts/build.sh` writes it: hashed client files, each with brotli
/// and gzip variants (stand-in bytes, so each answer shows which variant it is).
fn hashed_site(dir: &std::path::Path) {
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    for (file, contents) in [
        ("custs.1111111111111111.wasm", "raw wasm"),
        ("custs.1111111111111111.wasm.br", "brotli wasm"),
        ("custs.1111111111111111.wasm.gz", "gzip wasm"),
        ("custs.2222222222222222.js", "raw js"),
        ("custs.2222222222222222.js.br", "brotli js"),
        ("custs.3333333333333333.css", "raw css"),
    ] {
        std::fs::write(pkg.join(file), contents).expect("site file");
    }
    std::fs::write(dir.join("favicon.svg"), "<svg/>").expect("icon");
    std::fs::write(
        dir.join("hash.txt"),
        "js: 2222222222222222\nwasm: 1111111111111111\ncss: 3333333333333333\n",
    )
    .expect("hash list");
}

#[test]
fn client_files_arrive_precompressed_under_hashed_names_kept_a_year() {
    shared_runtime().block_on(async {
        let site = std::env::temp_dir().join(format!("playbook-site-{}", std::process::id()));
        hashed_site(&site);
        let mut options = LeptosOptions::builder()
            .output_name("custs")
            .site_root(site.to_string_lossy().into_owned())
            .build();
        let client = ClientFiles::configure(&mut options);
        assert!(client.hashed);
        let temp = TestDb::sqlite().await;
        load_text(&temp.db, &fixture(), "fixture")
            .await
            .expect("fixture");
        let app = TestApp {
            router: router(
                AppState::new(temp.db.clone(), false),
                options,
                client,
                ServeOptions::default(),
            ),
            db: temp.db.clone(),
            _temp: temp,
        };
        let get = |path: &str, encodings: Option<&str>| {
            let mut request = Request::get(path);
            if let Some(encodings) = encodings {
                request = request.header(header::ACCEPT_ENCODING, encodings);
            }
            request.body(Body::empty()).expect("request")
        };
        let wasm = "/pkg/custs.1111111111111111.wasm";

        // The best variant the browser accepts, under the file's own type.
        let answer = app.send(get(wasm, Some("gzip, deflate, br, zstd"))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body, "brotli wasm");
        assert_eq!(answer.headers[header::CONTENT_ENCODING], "br");
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(answer.headers[header::CACHE_CONTROL], assets::IMMUTABLE);
        assert!(answer.headers[header::VARY]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding"));
        let answer = app.send(get(wasm, Some("gzip"))).await;
        assert_eq!(
            (
                answer.body.as_str(),
                &answer.headers[header::CONTENT_ENCODING]
            ),
            ("gzip wasm", &"gzip".parse().unwrap())
        );
        let answer = app.send(get(wasm, None)).await;
        assert_eq!(answer.body, "raw wasm");
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING));
        // A file without a gzip variant goes out as it is, never compressed again on the fly.
        let answer = app
            .send(get("/pkg/custs.2222222222222222.js", Some("gzip")))
            .await;
        assert_eq!(answer.body, "raw js");
        assert!(!answer.headers.contains_key(header::CONTENT_ENCODING));

        // An old build's name is gone, not served as a page.
        let answer = app
            .send(get("/pkg/custs.9999999999999999.wasm", Some("br")))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_ne!(
            answer
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some(assets::IMMUTABLE)
        );

        // A file without a hash in its name is revalidated by its date.
        let icon = app.send(get("/favicon.svg", None)).await;
        assert_eq!(icon.headers[header::CACHE_CONTROL], assets::REVALIDATE);
        let modified = icon.headers[header::LAST_MODIFIED].clone();
        let again = app
            .send(
                Request::get("/favicon.svg")
                    .header(header::IF_MODIFIED_SINCE, modified)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);

        // Pages name the hashed files, and are themselves compressed when the browser accepts it.
        let page = app.page("/login", None).await;
        for name in [
            "/pkg/custs.2222222222222222.js",
            "/pkg/custs.1111111111111111.wasm",
            "/pkg/custs.3333333333333333.css",
        ] {
            assert!(page.body.contains(name), "{name} in {}", page.body);
        }
        assert!(!page.body.contains("/pkg/custs.css"));
        let compressed = app
            .send(
                Request::get("/login")
                    .header(header::ACCEPT, "text/html")
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(compressed.status, StatusCode::OK);
        assert_eq!(compressed.headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(compressed.headers[header::CACHE_CONTROL], "no-store");
        assert!(!compressed.body.contains("<html"));
        std::fs::remove_dir_all(&site).ok();
    })
}

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
fn a_load_the_server_started_is_a_503_or_a_loading_page_never_a_4xx() {
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
fn an_export_streams_every_customer_of_a_large_organisation() {
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
fn error_code(answer: &Answer) -> String {
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
fn padded_batch(count: usize, customer: &str, bytes: usize) -> String {
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
fn the_documented_byte_limit_is_the_one_enforced() {
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
fn a_batch_over_the_item_limit_is_refused_before_the_items_past_it_are_read() {
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
fn a_repeated_external_id_in_one_call_is_one_conversation_the_last_item_written() {
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
fn every_api_error_carries_a_stable_code() {
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
fn a_request_past_its_timeout_gets_the_api_error_with_code_timeout() {
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
fn writes_past_the_concurrent_ones_wait_briefly_then_get_503_with_retry_after() {
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
fn writes_past_a_tokens_rate_get_429_with_retry_after_and_write_nothing() {
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

#[test]
fn admin_tokens_erase_customers_and_conversations_and_no_one_else_can() {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::http::accept_until_shutdown(
        listener,
        routes,
        options,
        async {
            let _ = stopped.await;
        },
    ));
    (address, stop, server)
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
fn from_browser(
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
fn forged_requests_from_other_sites_are_refused_and_write_nothing() {
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
fn lookalike_characters_are_refused_by_the_api_naming_the_field() {
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
fn past_the_connection_cap_new_connections_wait_briefly_then_get_503() {
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
fn signing_out_everywhere_ends_every_session_of_the_person() {
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
fn silent_and_idle_connections_are_closed_on_http1_and_http2() {
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
