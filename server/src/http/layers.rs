//! The layers every request passes: its log span, timeout, compression, security headers,
//! body limit, and the API's errors as JSON.

use super::MAX_BODY_BYTES;
use crate::assets;
use app::auth::service::SecureRequest;
use app::session::AppState;
use axum::http::{header, HeaderValue};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::net::SocketAddr;

/// Request logging: every request gets a span with its method and path (the query, which may
/// hold what someone searched for, stays out of the log), so whatever is logged while it runs
/// says which request it belongs to; a 5xx answer is logged as a warning, the rest at debug
/// (`RUST_LOG=tower_http=debug` shows every request). The span is at warning level so that it
/// is on whenever the warning it gives context to is.
#[allow(clippy::type_complexity)]
pub(super) fn request_log() -> tower_http::trace::TraceLayer<
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
pub fn request_timeout(options: super::ServeOptions) -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        options.request_timeout,
    )
}

/// Compresses pages, server-function answers, JSON and CSV on the fly with gzip (level 6).
/// Brotli at quality 4 made a page 2% smaller than gzip but cost 40% of the page rate (its
/// encoder allocates megabytes per response); it stays for the precompressed client files,
/// which arrive with their encoding set and are left alone, as is anything under a kilobyte.
pub(super) fn compression(
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
pub(super) async fn security_headers(
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

/// Refuses bodies over [`MAX_BODY_BYTES`] up front when they say their length, and cuts off
/// those that do not.
pub(super) async fn limit_body(request: Request, next: Next) -> Response {
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
