//! The HTTP server: Leptos pages and server functions, static files, health check,
//! security headers, request logging, timeouts and graceful shutdown.

use crate::assets::{self, ClientFiles};
use anyhow::Context as _;
use app::auth::routes::resolve_session;
use app::auth::service::SecureRequest;
use app::db::Db;
use app::session::AppState;
use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::{
    extract::{FromRef, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::time::Duration;

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
const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(10);
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

/// Request logging: every request gets a span with its method and path (the query, which may
/// hold what someone searched for, stays out of the log), so whatever is logged while it runs
/// says which request it belongs to; a 5xx answer is logged as a warning, the rest at debug
/// (`RUST_LOG=tower_http=debug` shows every request). The span is at warning level so that it
/// is on whenever the warning it gives context to is.
#[allow(clippy::type_complexity)]
fn request_log() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
    (),
    tower_http::trace::DefaultOnResponse,
    (),
    (),
    tower_http::trace::DefaultOnFailure,
> {
    fn request_span(request: &Request) -> tracing::Span {
        tracing::warn_span!("request", method = %request.method(), path = %loggable_path(request.uri().path()))
    }
    tower_http::trace::TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request) -> tracing::Span)
        .on_request(())
        .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN))
}

/// A request's path as the log may show it: a customer identifier in an API path becomes
/// `{identifier}`, and any other segment that is not a plain word or number (an email, a
/// name typed into the address, percent-escapes) becomes `{…}`, so that no customer
/// identifier, email or search text reaches the log at any level.
pub fn loggable_path(path: &str) -> String {
    let plain = |segment: &str| {
        segment.len() <= 40
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let mut shown = Vec::new();
    let mut after_customers = false;
    for segment in path.split('/') {
        shown.push(if after_customers {
            "{identifier}"
        } else if plain(segment) {
            segment
        } else {
            "{…}"
        });
        after_customers =
            segment == "customers" && shown.len() == 4 && path.starts_with("/api/v1/");
    }
    shown.join("/")
}

/// Answers 503 for a request still running after the request timeout, and drops its work.
pub fn request_timeout(options: ServeOptions) -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        options.request_timeout,
    )
}

/// Compresses pages, server-function answers, JSON and CSV on the fly with gzip (level 6).
/// Brotli at quality 4 made a page 2% smaller than gzip but cost 40% of the page rate (its
/// encoder allocates megabytes per response); it stays for the precompressed client files,
/// which arrive with their encoding set and are left alone, as is anything under a kilobyte.
fn compression(
) -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    tower_http::compression::CompressionLayer::new()
        .no_br()
        .no_deflate()
        .no_zstd()
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::const_new("application/wasm"))
                .and(NotForContentType::SSE),
        )
}

/// Paths whose answers are the same for everyone and hold nothing private.
fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || app::auth::routes::PUBLIC_FILES.contains(&path)
}

/// Headers on every answer: no sniffing, no referrer to other sites, no framing; `no-store` on everything
/// but public static files, so neither a shared proxy nor the browser's back-forward cache
/// keeps customer data after sign-out; HSTS when the site is served over https.
async fn security_headers(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    // Forwarded headers count only from a trusted proxy; then the client's own address (for
    // rate limits and lock-out) is the one the proxy saw.
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let from_trusted_proxy = peer.is_some_and(|peer| state.trusted_proxies.contains(peer.ip()));
    if let (true, Some(peer)) = (from_trusted_proxy, peer) {
        if let Some(client) = state.trusted_proxies.client_behind(request.headers()) {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(SocketAddr::new(
                    client,
                    peer.port(),
                )));
        }
    }
    let secure = SecureRequest::decide(
        state.secure_cookies,
        request.uri(),
        request.headers(),
        from_trusted_proxy,
    );
    request.extensions_mut().insert(secure);
    let SecureRequest(secure) = secure;
    let mut response = next.run(request).await;
    if is_public_asset(&path) {
        assets::set_cache_control(&path, &mut response);
    } else {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
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

/// What one connection is doing: requests in flight and when it was last busy, so that an
/// idle or silent connection can be closed whatever its protocol.
struct Activity {
    opened: tokio::time::Instant,
    requests: std::sync::atomic::AtomicU64,
    in_flight: std::sync::atomic::AtomicUsize,
    /// Milliseconds after `opened` when a request last started or finished.
    last_busy_ms: std::sync::atomic::AtomicU64,
}

impl Activity {
    fn new() -> std::sync::Arc<Activity> {
        std::sync::Arc::new(Activity {
            opened: tokio::time::Instant::now(),
            requests: Default::default(),
            in_flight: Default::default(),
            last_busy_ms: Default::default(),
        })
    }

    fn mark_busy(&self) {
        let now = self.opened.elapsed().as_millis() as u64;
        self.last_busy_ms
            .store(now, std::sync::atomic::Ordering::Relaxed);
    }

    /// A request starts; the guard ends it when dropped (with the response's body).
    fn begin(self: &std::sync::Arc<Self>) -> InFlight {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        self.mark_busy();
        InFlight(self.clone())
    }

    /// Resolves once the connection has had nothing to do for too long: no request at all
    /// within `first` of opening (a silent socket, a half-sent preface or header), or no
    /// request in flight for `idle` since the last one. Long responses (an export, an event
    /// stream) are in flight and never idle.
    async fn until_idle(&self, first: Duration, idle: Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        loop {
            let limit = if self.requests.load(Relaxed) == 0 {
                first
            } else {
                idle
            };
            if self.in_flight.load(Relaxed) > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let deadline =
                self.opened + Duration::from_millis(self.last_busy_ms.load(Relaxed)) + limit;
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

struct InFlight(std::sync::Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.mark_busy();
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A response body that keeps its request counted as in flight until it is sent or dropped.
struct TrackedBody {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl axum::body::HttpBody for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection cap actually used: the one configured, but never so many that connections
/// could take the descriptors the database and files need.
pub fn connection_cap(configured: usize) -> usize {
    let configured = configured.max(1);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            let usable = (limit.rlim_cur as usize).saturating_sub(RESERVED_DESCRIPTORS);
            if usable < configured {
                tracing::warn!(
                    configured,
                    descriptors = limit.rlim_cur,
                    cap = usable.max(1),
                    "fewer file descriptors than PLAYBOOK_MAX_CONNECTIONS needs: connections are capped lower"
                );
                return usable.max(1);
            }
        }
    }
    configured
}

/// The answer for a connection over the cap: come back in a second.
const AT_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

fn refuse(stream: tokio::net::TcpStream) {
    // Never waits: a client that does not read its answer just sees the connection close.
    let _ = stream.try_write(AT_CAPACITY);
}

/// Serves connections until a shutdown signal, then lets requests in flight finish for at most
/// the drain time, after which every connection still open is aborted (within
/// [`ABORT_DEADLINE`]). Unlike `axum::serve`: a connection must send its first request's
/// headers within the header timeout of being accepted (HTTP/1 or HTTP/2, so a socket that
/// sends nothing is closed), one with no request in flight is closed after the idle timeout,
/// HTTP/2 connections are pinged, at most `max_connections` are open at once, and each
/// request knows the address it came from (for sign-in rate limits).
pub async fn accept_until_shutdown(
    listener: tokio::net::TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use tower::ServiceExt;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(H2_KEEP_ALIVE_INTERVAL))
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT)
        .max_concurrent_streams(100);
    let places = std::sync::Arc::new(tokio::sync::Semaphore::new(connection_cap(
        options.max_connections,
    )));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Finished connections leave the set.
        while connections.try_join_next().is_some() {}
        // At the cap, a new connection waits (in the listen queue) briefly for a place.
        let place = tokio::select! {
            place = tokio::time::timeout(CONNECTION_WAIT, places.clone().acquire_owned()) => {
                place.ok().and_then(Result::ok)
            }
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, most often: wait a little rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = place.or_else(|| places.clone().try_acquire_owned().ok()) else {
            // Still full: this one and every other already waiting are told to come back.
            refuse(stream);
            while places.available_permits() == 0 {
                match tokio::time::timeout(Duration::ZERO, listener.accept()).await {
                    Ok(Ok((waiting, _))) => refuse(waiting),
                    _ => break,
                }
            }
            tracing::debug!("at the connection cap: refused new connections");
            continue;
        };
        let router = router.clone();
        let activity = Activity::new();
        let service = hyper::service::service_fn({
            let activity = activity.clone();
            move |mut request: Request<hyper::body::Incoming>| {
                let in_flight = activity.begin();
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let answer = router.clone().oneshot(request.map(axum::body::Body::new));
                async move {
                    let response = answer.await?;
                    Ok::<_, std::convert::Infallible>(response.map(|inner| {
                        axum::body::Body::new(TrackedBody {
                            inner,
                            _in_flight: in_flight,
                        })
                    }))
                }
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let (first, idle) = (options.header_read_timeout, options.idle_timeout);
        connections.spawn(async move {
            let _place = place;
            tokio::select! {
                ended = connection => if let Err(error) = ended {
                    tracing::debug!(%error, "connection ended with an error");
                },
                () = activity.until_idle(first, idle) => {
                    tracing::debug!("closed a connection with nothing to do");
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all requests finished"),
        () = tokio::time::sleep(options.shutdown_drain) => tracing::warn!(
            drain_secs = options.shutdown_drain.as_secs_f64(),
            still_open = connections.len(),
            "requests still running after the drain time are cut off"
        ),
    }
    connections.abort_all();
    if tokio::time::timeout(ABORT_DEADLINE, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!("some connections did not close in time; leaving them");
    }
}

/// Closes the database pool, waiting at most `deadline` for connections still borrowed (by a
/// request or a background load that was cut off); the process exits either way.
pub async fn close_within(db: &Db, deadline: Duration) -> bool {
    let closed = tokio::time::timeout(deadline, db.close()).await.is_ok();
    if !closed {
        tracing::warn!(
            deadline_secs = deadline.as_secs_f64(),
            "database connections still in use at exit were left to the operating system"
        );
    }
    closed
}

/// Ends idle sessions every few minutes (a session past its idle time is refused on sight
/// anyway; this keeps the table small).
async fn sweep_idle_sessions(db: Db, sign_in_guard: std::sync::Arc<app::auth::guard::SignInGuard>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        every.tick().await;
        let idle_since = app::auth::service::now_ms() - app::auth::service::IDLE_TIMEOUT_MS;
        sign_in_guard.forget_recovered();
        let now = app::auth::service::now_ms();
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

/// Refuses bodies over [`MAX_BODY_BYTES`] up front when they say their length, and cuts off
/// those that do not.
async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Conversation ingestion carries up to a thousand conversations; everything else is small.
    let limit = if request.uri().path() == "/api/v1/conversations" {
        app::api::routes::MAX_INGEST_BYTES
    } else {
        MAX_BODY_BYTES
    };
    if declared.is_some_and(|length| length > limit as u64) {
        // The API answers its errors as JSON, with their code, as its OpenAPI document says.
        if request.uri().path().starts_with("/api/v1/") {
            return app::api::routes::ApiError::too_large().into_response();
        }
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, limited)).await
}

/// Makes every error answer of the API JSON with its code, as its document promises, also
/// those made outside its handlers: the request timeout's 503 and a method a call does not
/// take (405), which come without a body.
pub(crate) async fn api_errors_as_json(request: Request, next: Next) -> Response {
    use app::api::routes::ApiError;
    use app::api::schema::ErrorCode;
    if !request.uri().path().starts_with("/api/v1/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, _) = response.into_parts();
    let error = match status {
        StatusCode::SERVICE_UNAVAILABLE => ApiError::new(
            status,
            ErrorCode::Timeout,
            "The request took longer than the server allows and was stopped. Try again after the Retry-After seconds.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::for_status(status, "This call does not take that method (see Allow).")
        }
        _ => ApiError::for_status(
            status,
            status
                .canonical_reason()
                .unwrap_or("The request was refused."),
        ),
    };
    let mut answer = error.into_response();
    // Keep what the answer said besides its body (Allow on a 405, say).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    answer
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

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "could not listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("signal received: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    #[test]
    fn logged_paths_hold_no_customer_identifier_email_or_search_text() {
        use super::loggable_path;
        assert_eq!(
            loggable_path("/api/v1/customers/C-1042/interactions"),
            "/api/v1/customers/{identifier}/interactions"
        );
        assert_eq!(
            loggable_path("/api/v1/customers/zoe%40example.com/interactions"),
            "/api/v1/customers/{identifier}/interactions"
        );
        assert_eq!(loggable_path("/api/v1/customers"), "/api/v1/customers");
        assert_eq!(loggable_path("/conversations/12"), "/conversations/12");
        assert_eq!(
            loggable_path("/pkg/playbook.a1b2.wasm"),
            "/pkg/playbook.a1b2.wasm"
        );
        assert_eq!(
            loggable_path("/customers/zoe@example.com"),
            "/customers/{…}"
        );
        assert_eq!(loggable_path("/search/Zo%C3%AB%20Smith"), "/search/{…}");
    }
}
