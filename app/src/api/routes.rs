//! The `/api/v1` routes. Every call but the OpenAPI document needs `Authorization: Bearer …`;
//! the token decides the organisation (and, for erasures, whether it may: Admin tokens only).
//! Errors are JSON: `{"code": "…", "error": "…"}`, and for rejected conversations also the bad
//! items, as the import reports bad rows.

use super::guard::{WriteGuard, WriteLimits};
use super::schema::ErrorCode;
use super::tokens::{authenticate_token, ApiClient, TokenScope};
use crate::session::AppState;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use std::sync::Arc;

pub use super::schema::{
    INTERACTIONS_PARAMETERS, INTERACTIONS_PER_PAGE, MAX_INGEST_BYTES, MAX_ITEMS_PER_CALL,
    MAX_PER_PAGE, RETRY_AFTER_SECS, VIEW_PARAMETERS,
};

pub use super::error::ApiError;
use super::reads::{get_customers, get_interactions};
use super::writes::{delete_conversation, delete_customer, post_conversations};

/// The `/api/v1` router; `limits` bound its writes (see [`super::guard`]).
pub fn router(state: AppState, limits: WriteLimits) -> Router<AppState> {
    let guard = Arc::new(WriteGuard::new(limits));
    let writes = Router::new()
        .route(
            "/conversations",
            // The app's own body limit (the server's `limit_body`) is the one that counts: the
            // extractor's default of 2 MiB would refuse bodies the document allows.
            post(post_conversations).layer(DefaultBodyLimit::max(MAX_INGEST_BYTES)),
        )
        .route("/conversations/{external_id}", delete(delete_conversation))
        .route("/customers/{identifier}", delete(delete_customer))
        .route_layer(middleware::from_fn(admit_write));
    let reads = Router::new().route("/customers", get(get_customers)).route(
        "/customers/{identifier}/interactions",
        get(get_interactions),
    );
    let authenticated = reads
        .merge(writes)
        .layer(Extension(guard))
        .layer(middleware::from_fn_with_state(state, require_token));
    Router::new()
        .merge(authenticated)
        .fallback(|| async { ApiError::not_found("There is no such API call.") })
}

async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned());
    let Some(token) = token else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "Send an API token: Authorization: Bearer <token>.",
        )
        .into_response();
    };
    match authenticate_token(&state.db, &token).await {
        Ok(Some(client)) => {
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Ok(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "The API token is not valid or has been revoked.",
        )
        .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Before any write: erasures are for Admin tokens only (403), and each token writes at its
/// own bounded rate (429 with Retry-After). Both are decided before the body is read.
async fn admit_write(
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::DELETE && client.scope != TokenScope::Admin {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Only an Admin token may erase (server token create --admin); nothing was deleted.",
        )
        .into_response();
    }
    match guard.admit(client.token_id) {
        Ok(()) => next.run(request).await,
        Err(later) => ApiError::rate_limited(later).into_response(),
    }
}
