//! The session middleware: authenticates each request from its cookie, and sends anyone not
//! signed in to `/login` (coming back afterwards). Server functions are not redirected: they
//! answer 401 or 403 themselves, so an API caller gets a status, not a page.

use super::service::{
    authenticate, expired_session_cookie, session_cookie, token_from_cookies, SecureRequest,
};
use crate::clock::now_ms;
use crate::session::{AppState, Viewer};
use crate::text::encode_component;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The site's own files outside `/pkg/` (from `public/`), the same for everyone.
pub const PUBLIC_FILES: [&str; 2] = ["/favicon.svg", "/robots.txt"];

/// Paths anyone may fetch: the sign-in page, the health check, static files, and server
/// functions and event streams under `/events/` (which check the session themselves).
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/healthz"
        || PUBLIC_FILES.contains(&path)
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/events/")
}

pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let secure = SecureRequest::of(
        state.secure_cookies,
        request.uri(),
        request.headers(),
        request.extensions(),
    );
    let token = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| token_from_cookies(cookies, secure))
        .map(str::to_owned);
    let mut stale_cookie = false;
    let mut refreshed_cookie = None;
    if let Some(token) = &token {
        match authenticate(&state.sign_in_db, token, now_ms()).await {
            Ok(Some(session)) => {
                request.extensions_mut().insert(session.viewer);
                refreshed_cookie = session
                    .refresh_cookie_max_age
                    .map(|max_age| session_cookie(token, secure, max_age));
            }
            Ok(None) => stale_cookie = true,
            Err(error) => {
                tracing::error!(%error, "could not check a session");
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is unavailable; try again shortly.",
                )
                    .into_response();
                crate::error::ask_to_retry(response.headers_mut());
                return response;
            }
        }
    }
    let signed_in = request.extensions().get::<Viewer>().is_some();
    let is_page_request = matches!(*request.method(), Method::GET | Method::HEAD);
    let path = request.uri().path().to_owned();
    let mut response = if !signed_in && is_page_request && !is_public(&path) {
        let back_to = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let login = if back_to == "/" {
            "/login".to_owned()
        } else {
            format!("/login?next={}", encode_component(back_to))
        };
        Redirect::to(&login).into_response()
    } else if signed_in && is_page_request && path == "/login" {
        Redirect::to("/").into_response()
    } else {
        next.run(request).await
    };
    // Sign-out sets its own cookie; a refresh must not bring the session back.
    let cookie = if stale_cookie {
        Some(expired_session_cookie(secure))
    } else if response.headers().contains_key(header::SET_COOKIE) {
        None
    } else {
        refreshed_cookie
    };
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
