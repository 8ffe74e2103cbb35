//! The `/api/v1` routes. Every call but the OpenAPI document needs `Authorization: Bearer …`;
//! the token decides the organisation. Errors are JSON: `{"error": "…"}`, and for rejected
//! conversations also the bad items, as the import reports bad rows.

use super::openapi::{CustomersParams, ErrorBody, InteractionsParams, ItemError};
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
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Most conversations one call may carry.
pub const MAX_ITEMS_PER_CALL: usize = 1000;
/// Largest body of a conversations call.
pub const MAX_INGEST_BYTES: usize = 4 * 1024 * 1024;
/// Most rows a read returns per page.
pub const MAX_PER_PAGE: u32 = 100;
/// Rows of a customer's interactions per page when `per_page` is not given.
pub const INTERACTIONS_PER_PAGE: u32 = 20;
pub use crate::error::RETRY_AFTER_SECS;

/// An error answer: a status and a message for the caller.
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                errors: None,
                total: None,
            },
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn rows(errors: RowErrors) -> Self {
        let items = errors
            .errors
            .iter()
            .map(|e| ItemError {
                field: e.field.clone(),
                item: e.line,
                message: e.message.clone(),
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody {
                error: format!(
                    "{} conversation(s) are not valid; nothing was written",
                    errors.total
                ),
                errors: Some(items),
                total: Some(errors.total),
            },
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
            crate::error::ask_to_retry(response.headers_mut());
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
        .route("/openapi.json", get(openapi_json))
        .merge(authenticated)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "There is no such API call.") })
}

/// The OpenAPI document, made once per process (it is the same for every call).
async fn openapi_json() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(|| {
        super::openapi::document()
            .to_json()
            .expect("the OpenAPI document serialises")
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.as_str(),
    )
        .into_response()
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

/// What a conversations call wrote.
#[derive(Serialize, ToSchema)]
pub struct Written {
    pub created: u64,
    /// Custom fields the call created (keys the organisation did not have).
    pub new_fields: u64,
    /// Conversations sent again unchanged.
    pub skipped: u64,
    pub updated: u64,
}

#[utoipa::path(
    post,
    path = "/api/v1/conversations",
    tag = "conversations",
    summary = "Create or update conversations, all or nothing",
    description = "Each item is checked with the import's rules (the same limits as a file import); one bad item refuses the whole call, and the answer names every bad item. An `external_id` may appear once per call. A `fields` key the organisation lacks creates a text field (a call may create a few, an organisation may have a bounded number: over either is a 422).",
    request_body(content = inline(super::openapi::ConversationBatch), content_type = "application/json"),
    responses(
        (status = 200, description = "Written", body = Written),
        (status = 400, description = "The body is not JSON or not a JSON array", body = ErrorBody),
        (status = 413, description = "More conversations than the batch limit (`maxItems`), or a body over the byte limit; nothing was written: split the batch", body = ErrorBody),
        (status = 422, description = "Bad items (each named, see `errors`) or a value the database cannot store; nothing was written", body = ErrorBody),
    ),
)]
async fn post_conversations(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Written>, ApiError> {
    // A body over the byte limit without a Content-Length is cut off while read: 413, as JSON.
    let body =
        body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
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
    Ok(Json(Written {
        created: summary.written.created,
        new_fields: summary.new_fields as u64,
        skipped: summary.written.skipped,
        updated: summary.written.updated,
    }))
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
pub const VIEW_PARAMETERS: [&str; 5] = ["period", "from", "to", "type", "rep"];
/// The parameters the interactions call takes besides [`VIEW_PARAMETERS`] and the filters.
pub const INTERACTIONS_PARAMETERS: [&str; 2] = ["page", "per_page"];

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

/// A customer as the Customers page lists it.
#[derive(Serialize, ToSchema)]
#[schema(as = Customer)]
pub struct CustomerItem {
    /// No scored conversation counts: null.
    pub average_score: Option<f64>,
    pub display_name: Option<String>,
    /// RFC 3339 in the organisation's time zone.
    pub first_interaction: String,
    pub identifier: String,
    pub interactions: i64,
    /// RFC 3339 in the organisation's time zone.
    pub latest_interaction: String,
}

/// A page of customers.
#[derive(Serialize, ToSchema)]
pub struct CustomersPage {
    pub page: u32,
    pub page_count: u32,
    pub per_page: u32,
    pub rows: Vec<CustomerItem>,
    pub total: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/customers",
    tag = "customers",
    summary = "The Customers page as JSON",
    description = super::openapi::CUSTOMERS_DESCRIPTION,
    params(CustomersParams),
    responses(
        (status = 200, description = "A page of customers", body = CustomersPage),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (a bad date, a range that ends before it starts, `period` with `from`/`to`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it", body = ErrorBody),
    ),
)]
async fn get_customers(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CustomersPage>, ApiError> {
    let (question, pairs) = read_query(&state, &client, raw, None).await?;
    let per_page = per_page(&pairs, crate::customers::query::PAGE_SIZE)?;
    let page = customers_page(
        &state.db,
        &state.read_models,
        client.org_id,
        &question,
        per_page,
    )
    .await?;
    let zone = zone(&client);
    let rows = page
        .rows
        .iter()
        .map(|row| CustomerItem {
            average_score: average(row.score_sum, row.interactions),
            display_name: row.display_name.clone(),
            first_interaction: iso(row.first_ms, zone),
            identifier: row.identifier.clone(),
            interactions: row.interactions,
            latest_interaction: iso(row.latest_ms, zone),
        })
        .collect();
    Ok(Json(CustomersPage {
        page: page.page,
        page_count: page.page_count,
        per_page,
        rows,
        total: page.total,
    }))
}

/// Who handled a conversation.
#[derive(Serialize, ToSchema)]
pub struct RepresentativeRef {
    pub email: String,
    pub name: String,
}

/// One scored conversation of a customer.
#[derive(Serialize, ToSchema)]
#[schema(as = Interaction)]
pub struct InteractionItem {
    pub external_id: String,
    /// RFC 3339 in the organisation's time zone.
    pub occurred_at: String,
    pub representative: RepresentativeRef,
    pub score: f64,
    pub title: String,
    #[serde(rename = "type")]
    #[schema(value_type = super::openapi::Channel)]
    pub kind: String,
}

/// A page of a customer's conversations.
#[derive(Serialize, ToSchema)]
pub struct InteractionsPage {
    pub customer: String,
    pub page: u32,
    pub page_count: u32,
    pub per_page: u32,
    pub rows: Vec<InteractionItem>,
    pub total: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{identifier}/interactions",
    tag = "customers",
    summary = "A customer's scored conversations, newest first",
    description = super::openapi::INTERACTIONS_DESCRIPTION,
    params(
        ("identifier" = String, Path, description = "The customer's identifier, as `identifier` in /api/v1/customers"),
        InteractionsParams,
    ),
    responses(
        (status = 200, description = "A page of conversations", body = InteractionsPage),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value", body = ErrorBody),
        (status = 404, description = "No such customer in the token's organisation", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it", body = ErrorBody),
    ),
)]
async fn get_interactions(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Path(identifier): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<InteractionsPage>, ApiError> {
    let (question, pairs) =
        read_query(&state, &client, raw, Some(&INTERACTIONS_PARAMETERS)).await?;
    let per_page = per_page(&pairs, INTERACTIONS_PER_PAGE)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("There is no customer `{}`.", identifier.escape_debug()),
        )
    };
    // No stored identifier is that long or holds a control character.
    if crate::limits::read_problem(&identifier, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
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
    let rows = page
        .rows
        .iter()
        .map(|row| InteractionItem {
            external_id: row.external_id.clone(),
            occurred_at: iso(row.occurred_at_ms, zone),
            representative: RepresentativeRef {
                email: row.representative_email.clone(),
                name: row.representative_name.clone(),
            },
            score: row.score_hundredths as f64 / 100.0,
            title: row.title.clone(),
            kind: row.kind.clone(),
        })
        .collect();
    Ok(Json(InteractionsPage {
        customer: identifier,
        page: page.page,
        page_count: page.page_count,
        per_page,
        rows,
        total: page.total,
    }))
}
