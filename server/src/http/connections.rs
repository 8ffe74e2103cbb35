//! Connections: accepting them within a cap, timing out silent and idle ones, and draining
//! them on shutdown.

use super::{
    ServeOptions, ABORT_DEADLINE, CONNECTION_WAIT, H2_KEEP_ALIVE_INTERVAL, H2_KEEP_ALIVE_TIMEOUT,
    RESERVED_DESCRIPTORS,
};
use app::db::Db;
use axum::extract::Request;
use axum::Router;
use std::time::Duration;

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

pub(super) async fn shutdown_signal() {
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
