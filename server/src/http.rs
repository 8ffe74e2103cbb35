//! The HTTP server: Leptos pages and server functions, static files, health check,
//! security headers, request logging, timeouts and graceful shutdown.

use crate::assets::{self, ClientFiles};
use anyhow::Context as _;
use app::auth::routes::resolve_session;
use app::db::Db;
use app::session::AppState;
use app::{shell, App};
use axum::{
    extract::{FromRef, State},
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use layers::{compression, limit_body, request_log, security_headers};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::time::Duration;

mod connections;
mod layers;

pub use connections::accept_until_shutdown;
use connections::{close_within, shutdown_signal};
pub(crate) use layers::api_errors_as_json;
pub use layers::request_timeout;

#[derive(Clone, FromRef)]
struct ServerState {
    leptos_options: LeptosOptions,
    app: AppState,
}

/// Largest request body accepted. Server-function calls are a few hundred bytes; the limit
/// keeps a hostile client from making the server buffer megabytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Connections open at once by default (`PLAYBOOK_MAX_CONNECTIONS`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;
/// A request still running after this long is answered 503 and dropped.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A client must send its request headers (and a new connection its first byte) within this.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with no request in flight for this long is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// On shutdown, how long requests in flight get to finish.
pub const DEFAULT_SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);
/// File descriptors kept free of connections: the database pool, the SQLite files, the client
/// files being served, logs.
pub const RESERVED_DESCRIPTORS: usize = 128;
/// How long a new connection waits for a free place when the server is at its connection cap,
/// before it is refused with 503.
pub const CONNECTION_WAIT: Duration = Duration::from_millis(500);
/// HTTP/2: a ping every this often on a connection with requests in flight; a connection
/// whose pings go unanswered for [`H2_KEEP_ALIVE_TIMEOUT`] is closed.
pub(crate) const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
pub(crate) const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// After the drain time, how long aborted connections get to end.
pub const ABORT_DEADLINE: Duration = Duration::from_secs(1);
/// Then how long the database pools get to close (connections still borrowed by work that was
/// cut off are left to the operating system). With [`ABORT_DEADLINE`] and the runtime's own
/// exit wait (`RUNTIME_EXIT_WAIT` in main.rs), the process ends within drain + 4 s.
pub const CLOSE_DEADLINE: Duration = Duration::from_secs(2);

/// How the server treats connections and requests.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    pub secure_cookies: bool,
    /// A request that takes longer is answered 503 and its work dropped.
    pub request_timeout: Duration,
    /// A client must send its request headers within this time, or the connection is closed.
    pub header_read_timeout: Duration,
    /// After a shutdown signal, requests in flight get this long to finish.
    pub shutdown_drain: Duration,
    /// The memory budget of every organisation's read model together.
    pub read_model_bytes: usize,
    /// The reverse proxies whose forwarded headers are believed; `None`: loopback only.
    pub trusted_proxies: Option<&'static app::auth::service::TrustedProxies>,
    /// How many API writes run at once, and how often one token may write.
    pub api_writes: app::api::guard::WriteLimits,
    /// Where browsers reach the app (`https://playbook.example`), for the forged-request check.
    pub public_origin: Option<&'static str>,
    /// A connection with no request in flight for this long is closed (HTTP/1 keep-alive and
    /// HTTP/2 alike). Before its first request, the header timeout applies instead.
    pub idle_timeout: Duration,
    /// Most connections open at once; past it, new ones wait briefly, then are refused.
    pub max_connections: usize,
    /// The largest file the Import page takes, in bytes.
    pub import_max_bytes: u64,
    /// Where uploads wait while they are imported; `None`: the system's temporary directory.
    pub import_dir: Option<&'static std::path::Path>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            secure_cookies: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_TIMEOUT,
            shutdown_drain: DEFAULT_SHUTDOWN_DRAIN,
            read_model_bytes: app::customers::read_model::DEFAULT_BUDGET_MB * 1024 * 1024,
            trusted_proxies: None,
            api_writes: app::api::guard::WriteLimits::default(),
            public_origin: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            import_max_bytes: app::conversations::import_page::jobs::DEFAULT_MAX_UPLOAD_MB
                * 1024
                * 1024,
            import_dir: None,
        }
    }
}

/// The whole app: pages, server functions, static files, health check, sessions and limits.
pub fn router(
    app: AppState,
    leptos_options: LeptosOptions,
    client: ClientFiles,
    options: ServeOptions,
) -> Router {
    let state = ServerState {
        leptos_options: leptos_options.clone(),
        app,
    };
    // Generating the route list renders the app once in a special mode; it is the same for
    // every router, so it is done once per process.
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    let context_state = state.app.clone();
    let provide = move || {
        provide_context(context_state.clone());
        leptos::nonce::provide_nonce();
    };
    let api = app::api::router(state.app.clone(), options.api_writes).with_state(state.app.clone());
    let export = axum::Router::new()
        .route(
            "/customers/export.csv",
            get(app::customers::export::export_csv),
        )
        .with_state(state.app.clone());
    // The icon and robots.txt, like the client files, answer conditional requests (Leptos's
    // fallback file handler would ignore If-Modified-Since).
    let site_files = app::auth::routes::PUBLIC_FILES
        .into_iter()
        .fold(Router::new(), |router, path| {
            router.route_service(path, assets::file_service(&*leptos_options.site_root))
        });
    let origin_policy = crate::origin::OriginPolicy {
        public_origin: options.public_origin,
    };
    // The Import page's upload: signed in and checked for forgery like the rest, but outside
    // the usual body limit and request timeout (it has its own limit, and a large file takes
    // as long as the network needs).
    let upload = axum::Router::new()
        .route(
            app::conversations::import_page::upload::UPLOAD_PATH,
            axum::routing::post(app::conversations::import_page::upload::upload_import),
        )
        // The live page's event stream: open as long as the page is (no request timeout).
        .route(
            app::customers::live::EVENTS_PATH,
            get(app::customers::live::stream::customer_events),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(
            state.app.clone(),
            resolve_session,
        ))
        .layer(middleware::from_fn_with_state(
            origin_policy,
            crate::origin::refuse_forged,
        ))
        .with_state(state.app.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .nest_service("/api/v1", api)
        .merge(export)
        .merge(site_files)
        .nest_service(
            &format!("/{}", leptos_options.site_pkg_dir),
            assets::file_service(
                std::path::Path::new(&*leptos_options.site_root)
                    .join(&*leptos_options.site_pkg_dir),
            ),
        )
        .leptos_routes_with_context(&state, routes, provide.clone(), {
            let options = leptos_options.clone();
            let stylesheet = client.stylesheet.clone();
            move || shell(options.clone(), &stylesheet)
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            ServerState,
            _,
        >(provide, move |options| {
            shell(options, &client.stylesheet)
        }))
        .layer(middleware::from_fn_with_state(
            state.app.clone(),
            resolve_session,
        ))
        .layer(middleware::from_fn_with_state(
            origin_policy,
            crate::origin::refuse_forged,
        ))
        .layer(middleware::from_fn(limit_body))
        .layer(request_timeout(options))
        .merge(upload)
        .layer(middleware::from_fn(api_errors_as_json))
        .layer(middleware::from_fn_with_state(
            state.app.clone(),
            security_headers,
        ))
        .layer(compression())
        .layer(request_log())
        .with_state(state)
}

/// Where the site lives and what its client files are called: the `LEPTOS_*` variables that
/// `cargo leptos watch` sets, or the defaults of `scripts/build.sh`, which writes `target/site`.
fn site_options() -> Result<LeptosOptions, anyhow::Error> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let site_addr: SocketAddr = var("LEPTOS_SITE_ADDR", "127.0.0.1:3000")
        .parse()
        .context("LEPTOS_SITE_ADDR")?;
    Ok(LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "playbook"))
        .site_root(var("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(site_addr)
        .build())
}

pub async fn serve(
    db: Db,
    sign_in_db: Db,
    addr: Option<SocketAddr>,
    options: ServeOptions,
) -> Result<(), anyhow::Error> {
    let mut leptos_options = site_options()?;
    let client = ClientFiles::configure(&mut leptos_options);
    if !client.hashed {
        tracing::info!(site_root = %leptos_options.site_root, "the client's files are not hashed (no hash.txt): browsers revalidate them");
    }
    if let Some(addr) = addr {
        leptos_options.site_addr = addr;
    }
    let addr = leptos_options.site_addr;
    let read_models = std::sync::Arc::new(app::customers::read_model::ReadModels::new(
        options.read_model_bytes,
    ));
    let import_settings = app::conversations::import_page::jobs::ImportSettings {
        max_upload_bytes: options.import_max_bytes,
        dir: options
            .import_dir
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir),
        ..Default::default()
    };
    let stale = app::conversations::import_page::jobs::remove_stale_uploads(&import_settings.dir);
    if stale > 0 {
        tracing::info!(stale, dir = %import_settings.dir.display(), "removed uploads left by a stopped import");
    }
    let state = AppState {
        import_jobs: std::sync::Arc::new(app::conversations::import_page::jobs::ImportJobs::new(
            import_settings,
        )),
        ..AppState::new(db.clone(), options.secure_cookies)
            .with_read_models(read_models.clone())
            .with_sign_in_db(sign_in_db.clone())
    };
    let state = match options.trusted_proxies {
        Some(trusted) => AppState {
            trusted_proxies: std::sync::Arc::new(trusted.clone()),
            ..state
        },
        None => state,
    };
    let sweeper = tokio::spawn(sweep_idle_sessions(
        sign_in_db.clone(),
        state.sign_in_guard.clone(),
    ));
    let router = router(state, leptos_options, client, options);
    // Ready at once: the organisations questioned most recently are warmed in the
    // background, within the budget; any other loads on its first question.
    let warm_up = tokio::spawn({
        let db = db.clone();
        async move {
            match read_models.warm(&db).await {
                Ok(warmed) => tracing::info!(warmed, "read models warmed"),
                Err(error) => {
                    tracing::warn!(%error, "warming the read models failed; they load on first use")
                }
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(backend = db.backend().name(), "listening on http://{addr}");
    println!("Playbook is running: open http://{addr}/ and sign in");
    accept_until_shutdown(listener, router, options, shutdown_signal()).await;
    sweeper.abort();
    warm_up.abort();
    tracing::info!("shutting down: closing the database");
    tokio::join!(
        close_within(&db, CLOSE_DEADLINE),
        close_within(&sign_in_db, CLOSE_DEADLINE)
    );
    Ok(())
}

/// Ends idle sessions every few minutes (a session past its idle time is refused on sight
/// anyway; this keeps the table small).
async fn sweep_idle_sessions(db: Db, sign_in_guard: std::sync::Arc<app::auth::guard::SignInGuard>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every.tick().await;
        let idle_since = app::clock::now_ms() - app::auth::service::IDLE_TIMEOUT_MS;
        sign_in_guard.forget_recovered();
        let now = app::clock::now_ms();
        if let Err(error) =
            app::auth::store::delete_stale_guesses(&db, app::auth::service::FAILURE_WINDOW_MS, now)
                .await
        {
            tracing::warn!(%error, "could not forget old sign-in counts");
        }
        match app::auth::store::delete_idle_sessions(&db, idle_since).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "ended idle sessions"),
            Err(error) => tracing::warn!(%error, "could not end idle sessions"),
        }
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match app::orgs::store::count_organisations(&state.db).await {
        Ok(_) => Json(serde_json::json!({ "status": "ok", "database": state.db.backend().name() }))
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": state.db.backend().name() })),
            )
                .into_response()
        }
    }
}
