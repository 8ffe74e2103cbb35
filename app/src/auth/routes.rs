//! The session middleware: authenticates each request from its cookie, and sends anyone not
//! signed in to `/login` (coming back afterwards). Server functions are not redirected: they
//! answer 401 or 403 themselves, so an API caller gets a status, not a page.

use super::service::{authenticate, expired_session_cookie, now_ms, token_from_cookies};
use crate::session::{AppState, Viewer};
use crate::text::encode_component;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Paths anyone may fetch: the sign-in page, the health check, static files, and server
/// functions (which check the session themselves).
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/healthz"
        || path == "/favicon.svg"
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_cookies)
        .map(str::to_owned);
    let mut stale_cookie = false;
    if let Some(token) = token {
        match authenticate(&state.db, &token, now_ms()).await {
            Ok(Some(viewer)) => {
                request.extensions_mut().insert(viewer);
            }
            Ok(None) => stale_cookie = true,
            Err(error) => {
                tracing::error!(%error, "could not check a session");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The service is unavailable; try again shortly.",
                )
                    .into_response();
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
    if stale_cookie {
        if let Ok(value) = HeaderValue::from_str(&expired_session_cookie(state.secure_cookies)) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
