//! The `/api/v1` routes. Every call but the OpenAPI document needs `Authorization: Bearer …`;
//! the token decides the organisation. Errors are JSON: `{"error": "…"}`, and for rejected
//! conversations also the bad items, as the import reports bad rows.

use super::tokens::{authenticate_token, ApiClient};
use crate::conversations::import::{import_rows, parse_items, ImportError, RowErrors};
use crate::customers::query::{CustomerQuery, FILTER_PREFIX};
use crate::customers::service::{
    customers_page, history_page, resolve_question, Question, QuestionError, Strictness,
};
use crate::customers::store::find_customer_id;
use crate::db::{Failure, StoreError};
use crate::orgs::time::{iso, parse_time_zone};
use crate::session::AppState;
use crate::text::parse_query_string;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono_tz::Tz;
use serde_json::{json, Value};

/// Most conversations one call may carry.
pub const MAX_ITEMS_PER_CALL: usize = 1000;
/// Largest body of a conversations call.
pub const MAX_INGEST_BYTES: usize = 4 * 1024 * 1024;
/// Most rows a read returns per page.
pub const MAX_PER_PAGE: u32 = 100;

/// An error answer: a status and a message for the caller.
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn rows(errors: RowErrors) -> Self {
        let items: Vec<Value> = errors
            .errors
            .iter()
            .map(|e| json!({ "item": e.line, "field": e.field, "message": e.message }))
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({
                "error": format!("{} conversation(s) are not valid; nothing was written", errors.total),
                "total": errors.total,
                "errors": items,
            }),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        use crate::error::AppError;
        match error.failure() {
            Failure::Refused(reason) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, reason),
            Failure::Loading => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::Loading.to_string(),
            ),
            Failure::Busy => {
                tracing::warn!(%error, "API: database busy or out of reach");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is busy (an import may be running) or briefly out of reach; nothing was written. Try again after the Retry-After seconds.",
                )
            }
            Failure::BadValue => {
                tracing::warn!(%error, "API: the database refused a value");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "The request holds a value that cannot be stored or searched for; nothing was written.",
                )
            }
            Failure::OverBudget => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                AppError::TooBroad.to_string(),
            ),
            Failure::Internal => {
                tracing::error!(%error, "API store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    AppError::Internal.to_string(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // The start-up load, a busy or unreachable database: worth trying again shortly.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        response
    }
}

/// The `/api/v1` router.
pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/conversations", post(post_conversations))
        .route("/customers", get(get_customers))
        .route(
            "/customers/{identifier}/interactions",
            get(get_interactions),
        )
        .layer(middleware::from_fn_with_state(state, require_token));
    Router::new()
        .route(
            "/openapi.json",
            get(|| async { Json(super::openapi::document()) }),
        )
        .merge(authenticated)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "There is no such API call.") })
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
            "The API token is not valid or has been revoked.",
        )
        .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn post_conversations(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(
            "The body must be a JSON array of conversations.",
        ));
    };
    if items.len() > MAX_ITEMS_PER_CALL {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "At most {MAX_ITEMS_PER_CALL} conversations per call; this one has {}.",
                items.len()
            ),
        ));
    }
    let rows = parse_items(items).map_err(ApiError::rows)?;
    let summary = import_rows(&state.db, client.org_id, &rows, false, &mut |_| {})
        .await
        .map_err(|error| match error {
            ImportError::Rows(errors) => ApiError::rows(errors),
            ImportError::Fields(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            ImportError::Store(error) => ApiError::from(error),
        })?;
    Ok(Json(json!({
        "created": summary.written.created,
        "updated": summary.written.updated,
        "skipped": summary.written.skipped,
        "new_fields": summary.new_fields,
    })))
}

fn per_page(pairs: &[(String, String)], default: u32) -> Result<u32, ApiError> {
    match pairs.iter().rev().find(|(key, _)| key == "per_page") {
        None => Ok(default),
        Some((_, value)) => match value.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "`per_page` must be a number from 1 to {MAX_PER_PAGE}, not `{value}`"
            ))),
        },
    }
}

/// The parameters every Customers read takes besides the custom-field filters.
const VIEW_PARAMETERS: [&str; 5] = ["period", "from", "to", "type", "rep"];

/// Reads the query string strictly, and refuses filters on fields (or options) and
/// representatives the organisation does not have, instead of ignoring them as the page does.
async fn read_query(
    state: &AppState,
    client: &ApiClient,
    raw: Option<String>,
    allowed_keys: Option<&[&str]>,
) -> Result<(Question, Vec<(String, String)>), ApiError> {
    let pairs = parse_query_string(raw.as_deref().unwrap_or_default());
    if let Some(allowed) = allowed_keys {
        if let Some((key, _)) = pairs.iter().find(|(key, _)| {
            !allowed.contains(&key.as_str())
                && !VIEW_PARAMETERS.contains(&key.as_str())
                && !key.starts_with(FILTER_PREFIX)
        }) {
            return Err(ApiError::bad_request(format!(
                "`{key}` is not a parameter of this call"
            )));
        }
    }
    let query = CustomerQuery::from_pairs_strict(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["per_page"],
    )
    .map_err(ApiError::bad_request)?;
    let question = resolve_question(
        &state.db,
        client.org_id,
        zone(client),
        &query,
        Strictness::Strict,
    )
    .await
    .map_err(|error| match error {
        QuestionError::Refused(message) => ApiError::bad_request(message),
        QuestionError::Store(error) => ApiError::from(error),
    })?;
    Ok((question, pairs))
}

fn zone(client: &ApiClient) -> Tz {
    parse_time_zone(&client.time_zone).unwrap_or(Tz::UTC)
}

/// An average of hundredths, to two decimals.
fn average(score_sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| (score_sum as f64 / count as f64).round() / 100.0)
}

async fn get_customers(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (question, pairs) = read_query(&state, &client, raw, None).await?;
    let per_page = per_page(&pairs, crate::customers::query::PAGE_SIZE)?;
    let page = customers_page(&state.db, client.org_id, &question, per_page).await?;
    let zone = zone(&client);
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            json!({
                "identifier": row.identifier,
                "display_name": row.display_name,
                "interactions": row.interactions,
                "first_interaction": iso(row.first_ms, zone),
                "latest_interaction": iso(row.latest_ms, zone),
                "average_score": average(row.score_sum, row.interactions),
            })
        })
        .collect();
    Ok(Json(json!({
        "total": page.total,
        "page": page.page,
        "per_page": per_page,
        "page_count": page.page_count,
        "rows": rows,
    })))
}

async fn get_interactions(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Path(identifier): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (question, pairs) = read_query(&state, &client, raw, Some(&["page", "per_page"])).await?;
    let per_page = per_page(&pairs, 20)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("There is no customer `{}`.", identifier.escape_debug()),
        )
    };
    // No stored identifier is that long or holds a control character.
    if crate::limits::text_problem(&identifier, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    let customer_id = find_customer_id(&state.db, client.org_id, &identifier)
        .await?
        .ok_or_else(not_found)?;
    let page = history_page(
        &state.db,
        client.org_id,
        customer_id,
        &question,
        question.applied.page,
        per_page,
    )
    .await?;
    let zone = zone(&client);
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|row| {
            json!({
                "external_id": row.external_id,
                "title": row.title,
                "type": row.kind,
                "occurred_at": iso(row.occurred_at_ms, zone),
                "representative": { "email": row.representative_email, "name": row.representative_name },
                "score": row.score_hundredths as f64 / 100.0,
            })
        })
        .collect();
    Ok(Json(json!({
        "customer": identifier,
        "total": page.total,
        "page": page.page,
        "per_page": per_page,
        "page_count": page.page_count,
        "rows": rows,
    })))
}
