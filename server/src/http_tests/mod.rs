//! The HTTP surface, called as a browser or an API client would: each role's cookie, no
//! cookie, an expired session, another organisation's ids, malformed and oversized calls.

mod api;
mod change;
mod connections;
mod criteria;
mod criteria_breakdown;
mod delivery;
mod erasure;
mod hardening;
mod import_page;
mod limits;
mod live;
mod pages;

use crate::assets::ClientFiles;
use crate::http::{router, ServeOptions};
use app::auth::service::{sign_in, SignIn};
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
    let options = LeptosOptions::builder().output_name("playbook").build();
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
/// Serves `routes` through the server's own accept loop on a port of its own, until `stop`
/// is sent: (address, stop, the server's task).
async fn serve_until_stopped(
    routes: Router,
    options: ServeOptions,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("its address");
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

fn unhashed_client() -> ClientFiles {
    ClientFiles {
        stylesheet: "/pkg/playbook.css".into(),
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
        self.cookie_for(email, app::clock::now_ms()).await
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
