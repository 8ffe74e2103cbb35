//! The `/api/v1` routes. Every call but the OpenAPI document needs `Authorization: Bearer …`;
//! the token decides the organisation (and, for erasures, whether it may: Admin tokens only).
//! Errors are JSON: `{"code": "…", "error": "…"}`, and for rejected conversations also the bad
//! items, as the import reports bad rows.

use super::etag::{entity_tag, none_match};
use super::guard::{WriteGuard, WriteLimits};
use super::schema::{CustomersParams, ErrorBody, ErrorCode, InteractionsParams, ItemError};
use super::tokens::{authenticate_token, ApiClient, TokenScope};
use crate::auth::guard::TryLater;
use crate::conversations::import::{
    import_rows, parse_batch, BatchError, BatchRefusal, ImportError, RowErrors,
};
use crate::customers::model::SMALL_SAMPLE;
use crate::customers::query::{CustomerQuery, FILTER_PREFIX};
use crate::customers::question::ChangeGroup;
use crate::customers::service::{
    customers_page, history_page, resolve_question, Question, QuestionError, Strictness,
};
use crate::customers::store::find_customer_id;
use crate::db::{Failure, StoreError};
use crate::erasure::{self, Erased};
use crate::orgs::time::{iso, parse_time_zone};
use crate::session::AppState;
use crate::text::parse_query_string;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use chrono_tz::Tz;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

pub use super::schema::{
    INTERACTIONS_PARAMETERS, INTERACTIONS_PER_PAGE, MAX_INGEST_BYTES, MAX_ITEMS_PER_CALL,
    MAX_PER_PAGE, RETRY_AFTER_SECS, VIEW_PARAMETERS,
};

/// An error answer: a status, a code and a message for the caller.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds for `Retry-After` (a 429); a 503 always carries the usual wait.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with `status`, `code` and a message for people.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code,
                error: message.into(),
                errors: None,
                total: None,
            },
            retry_after: None,
        }
    }

    /// An answer whose code is the one of its status (see [`ErrorCode::for_status`]).
    pub fn for_status(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::new(status, ErrorCode::for_status(status), message)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// A body over [`MAX_INGEST_BYTES`] (or a server-function call over its own limit).
    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!(
                "The request is too large: a conversations call may carry at most {} MiB ({MAX_INGEST_BYTES} bytes); split the batch.",
                MAX_INGEST_BYTES >> 20
            ),
        )
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
        let mut error = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidItems,
            format!(
                "{} conversation(s) are not valid; nothing was written",
                errors.total
            ),
        );
        error.body.errors = Some(items);
        error.body.total = Some(errors.total);
        error
    }

    fn busy_writing(_: TryLater) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Busy,
            "Too many API writes are running at once; nothing was written. Try again after the Retry-After seconds.",
        )
    }

    fn rate_limited(later: TryLater) -> Self {
        let seconds = later.seconds().max(1);
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("This token has made more writes than it may for now; nothing was written. Try again in {seconds} s (Retry-After)."),
        );
        error.retry_after = Some(seconds);
        error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        use crate::error::AppError;
        match error.failure() {
            Failure::Refused(reason) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidValue,
                reason,
            ),
            Failure::Loading => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Loading,
                AppError::Loading.to_string(),
            ),
            Failure::Busy => {
                tracing::warn!(%error, "API: database busy or out of reach");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Busy,
                    "The database is busy (an import may be running) or briefly out of reach; nothing was written. Try again after the Retry-After seconds.",
                )
            }
            Failure::BadValue => {
                tracing::warn!(%error, "API: the database refused a value");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidValue,
                    "The request holds a value that cannot be stored or searched for; nothing was written.",
                )
            }
            Failure::OverBudget => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::TooBroad,
                AppError::TooBroad.to_string(),
            ),
            Failure::Internal => {
                tracing::error!(%error, "API store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    AppError::Internal.to_string(),
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            crate::error::ask_to_retry(response.headers_mut());
        }
        response
    }
}

/// The `/api/v1` router; `limits` bound its writes (see [`super::guard`]). `more_reads` are
/// reads whose handlers live in files of their own (which use this file's helpers, so this
/// file cannot name them): they are authenticated like the others.
pub fn router(
    state: AppState,
    limits: WriteLimits,
    more_reads: Router<AppState>,
) -> Router<AppState> {
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
    let reads = Router::new()
        .route("/customers", get(get_customers))
        .route(
            "/customers/{identifier}/interactions",
            get(get_interactions),
        )
        .merge(more_reads);
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
    description = super::schema::CONVERSATIONS_DESCRIPTION,
    request_body(content = inline(super::schema::ConversationBatch), content_type = "application/json"),
    responses(
        (status = 200, description = "Written", body = Written),
        (status = 400, description = "The body is not JSON or not a JSON array (`bad_request`)", body = ErrorBody),
        (status = 413, description = "More conversations than the batch limit (`maxItems`), or a body over the byte limit (`too_large`); nothing was written: split the batch", body = ErrorBody),
        (status = 422, description = "Bad items (`invalid_items`: each named, see `errors`; or more new fields than allowed) or a value the database cannot store (`invalid_value`); nothing was written", body = ErrorBody),
    ),
)]
async fn post_conversations(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Written>, ApiError> {
    // A body over the byte limit without a Content-Length is cut off while read: 413, as JSON.
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
        status => ApiError::for_status(status, rejection.body_text()),
    })?;
    // Parsing and writing hold a slot: at most a few batches are in memory and being written.
    let _slot = guard.slot().await.map_err(ApiError::busy_writing)?;
    let rows = parse_batch(&body, MAX_ITEMS_PER_CALL).map_err(|error| match error {
        BatchError::Refused(BatchRefusal::NotJson(message)) => {
            ApiError::bad_request(format!("The body is not valid JSON: {message}"))
        }
        BatchError::Refused(BatchRefusal::NotAnArray) => {
            ApiError::bad_request("The body must be a JSON array of conversations.")
        }
        BatchError::Refused(BatchRefusal::TooManyItems { max }) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!("At most {max} conversations per call; this one has more. Nothing was written: split the batch."),
        ),
        BatchError::Rows(errors) => ApiError::rows(errors),
    })?;
    drop(body);
    let summary = import_rows(&state.db, client.org_id, &rows, false, &mut |_| {})
        .await
        .map_err(|error| match error {
            ImportError::Rows(errors) => ApiError::rows(errors),
            ImportError::Fields(message) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidItems,
                message,
            ),
            ImportError::Store(error) => ApiError::from(error),
        })?;
    Ok(Json(Written {
        created: summary.written.created,
        new_fields: summary.new_fields as u64,
        skipped: summary.written.skipped,
        updated: summary.written.updated,
    }))
}

/// What an erasure deleted.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// Conversations deleted, with their field values.
    pub conversations: u64,
    /// Customers deleted: the one named, or the customer of a deleted conversation when it
    /// was their last.
    pub customers: u64,
}

impl From<Erased> for Deleted {
    fn from(erased: Erased) -> Self {
        Deleted {
            conversations: erased.conversations,
            customers: erased.customers,
        }
    }
}

#[utoipa::path(
    delete,
    path = "/api/v1/customers/{identifier}",
    tag = "customers",
    summary = "Erase a customer with all their conversations (Admin tokens only)",
    description = super::schema::DELETE_CUSTOMER_DESCRIPTION,
    params(
        ("identifier" = String, Path, description = "The customer's identifier, as `identifier` in /api/v1/customers"),
    ),
    responses(
        (status = 200, description = "Deleted, in one transaction", body = Deleted),
        (status = 403, description = "The token is not an Admin token (`forbidden`); nothing was deleted", body = ErrorBody),
        (status = 404, description = "No such customer in the token's organisation (`not_found`)", body = ErrorBody),
    ),
)]
async fn delete_customer(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    Path(identifier): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "There is no customer `{}`.",
            identifier.escape_debug()
        ))
    };
    // No stored identifier is that long or holds a control character.
    if crate::limits::text_problem(&identifier, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    let _slot = guard.slot().await.map_err(ApiError::busy_writing)?;
    let erased = erasure::delete_customer(&state.db, client.org_id, &identifier)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(
        org_id = client.org_id,
        token_id = client.token_id,
        conversations = erased.conversations,
        "API: a customer was erased"
    );
    Ok(Json(erased.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{external_id}",
    tag = "conversations",
    summary = "Erase one conversation (Admin tokens only)",
    description = super::schema::DELETE_CONVERSATION_DESCRIPTION,
    params(
        ("external_id" = String, Path, description = "The conversation's `external_id`"),
    ),
    responses(
        (status = 200, description = "Deleted, in one transaction", body = Deleted),
        (status = 403, description = "The token is not an Admin token (`forbidden`); nothing was deleted", body = ErrorBody),
        (status = 404, description = "No such conversation in the token's organisation (`not_found`)", body = ErrorBody),
    ),
)]
async fn delete_conversation(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    Path(external_id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "There is no conversation `{}`.",
            external_id.escape_debug()
        ))
    };
    if crate::limits::text_problem(&external_id, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    let _slot = guard.slot().await.map_err(ApiError::busy_writing)?;
    let erased = erasure::delete_conversation(&state.db, client.org_id, &external_id)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(
        org_id = client.org_id,
        token_id = client.token_id,
        "API: a conversation was erased"
    );
    Ok(Json(erased.into()))
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

/// Reads the query string strictly, and refuses filters on fields (or options) and
/// representatives the organisation does not have, instead of ignoring them as the page does.
pub(super) async fn read_query(
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
    /// The average is over fewer than 3 scored conversations: a small sample.
    pub small_sample: bool,
    /// Only when a period with a previous one is chosen (a preset other than `all`, or both
    /// `from` and `to`): scored conversations in the previous period under the same other
    /// conditions; 0 for a customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_interactions: Option<i64>,
    /// Only when a period with a previous one is chosen: the previous period's average score,
    /// to two decimals; null for a customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub previous_avg_score: Option<Option<f64>>,
    /// Only when a period with a previous one is chosen: this period's average minus the
    /// previous one's (exact averages, the difference rounded to two decimals); null for a
    /// customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub change: Option<Option<f64>>,
    /// Only when a period with a previous one is chosen: either side has fewer than 3 scored
    /// conversations (false for a customer new to this period, whose change is null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_uncertain: Option<bool>,
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
    description = super::schema::CUSTOMERS_DESCRIPTION,
    params(
        CustomersParams,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 when it is still this answer"),
    ),
    responses(
        (status = 200, description = "A page of customers", body = CustomersPage, headers(("ETag" = String, description = "A weak tag of everything the answer depends on: the organisation's data version, its fields, the view and the dates a period resolved to"))),
        (status = 304, description = "`If-None-Match` names this answer's `ETag`: nothing changed", headers(("ETag" = String, description = "The answer's tag"))),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (a bad date, a range that ends before it starts) (`bad_request`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it (`too_broad`)", body = ErrorBody),
    ),
)]
async fn get_customers(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (question, pairs) = read_query(&state, &client, raw, None).await?;
    let per_page = per_page(&pairs, crate::customers::query::PAGE_SIZE)?;
    let tag = answer_tag(
        &state,
        &client,
        &question,
        &["customers", &per_page.to_string()],
    )
    .await?;
    if none_match(&headers, &tag) {
        return Ok(not_modified(&tag));
    }
    let page = customers_page(
        &state.db,
        &state.read_models,
        client.org_id,
        &question,
        per_page,
    )
    .await?;
    let zone = zone(&client);
    let compared = question.conditions.previous.is_some();
    let rows = page
        .rows
        .iter()
        .map(|row| CustomerItem {
            small_sample: row.interactions < SMALL_SAMPLE,
            previous_interactions: compared.then_some(row.previous_interactions),
            previous_avg_score: compared
                .then(|| average(row.previous_score_sum, row.previous_interactions)),
            change: compared.then(|| {
                (row.previous_interactions > 0 && row.interactions > 0).then(|| {
                    (row.score_sum as f64 / row.interactions as f64
                        - row.previous_score_sum as f64 / row.previous_interactions as f64)
                        .round()
                        / 100.0
                })
            }),
            change_uncertain: compared.then(|| {
                ChangeGroup::of(row.interactions, row.previous_interactions)
                    == ChangeGroup::Uncertain
            }),
            average_score: average(row.score_sum, row.interactions),
            display_name: row.display_name.clone(),
            first_interaction: iso(row.first_ms, zone),
            identifier: row.identifier.clone(),
            interactions: row.interactions,
            latest_interaction: iso(row.latest_ms, zone),
        })
        .collect();
    Ok(tagged(
        &tag,
        Json(CustomersPage {
            page: page.page,
            page_count: page.page_count,
            per_page,
            rows,
            total: page.total,
        }),
    ))
}

/// The id of the customer `identifier` in the token's organisation; 404 when it has none.
pub(super) async fn customer_id_of(
    state: &AppState,
    client: &ApiClient,
    identifier: &str,
) -> Result<i64, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "There is no customer `{}`.",
            identifier.escape_debug()
        ))
    };
    // No stored identifier is that long or holds a control character.
    if crate::limits::read_problem(identifier, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    find_customer_id(&state.db, client.org_id, identifier)
        .await?
        .ok_or_else(not_found)
}

/// The entity tag of a read answer, from the data version read now (before the answer).
pub(super) async fn answer_tag(
    state: &AppState,
    client: &ApiClient,
    question: &Question,
    call: &[&str],
) -> Result<String, ApiError> {
    let version = crate::versions::stored_version(&state.db, client.org_id).await?;
    Ok(entity_tag(version, &client.time_zone, question, call))
}

/// 304: the client's copy, named by `If-None-Match`, is this answer.
pub(super) fn not_modified(tag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// An answer with its entity tag.
pub(super) fn tagged(tag: &str, answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
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
    #[schema(value_type = super::schema::Channel)]
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
    description = super::schema::INTERACTIONS_DESCRIPTION,
    params(
        ("identifier" = String, Path, description = "The customer's identifier, as `identifier` in /api/v1/customers"),
        InteractionsParams,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 when it is still this answer"),
    ),
    responses(
        (status = 200, description = "A page of conversations", body = InteractionsPage, headers(("ETag" = String, description = "A weak tag of everything the answer depends on: the organisation's data version, its fields, the view and the dates a period resolved to"))),
        (status = 304, description = "`If-None-Match` names this answer's `ETag`: nothing changed", headers(("ETag" = String, description = "The answer's tag"))),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (`bad_request`)", body = ErrorBody),
        (status = 404, description = "No such customer in the token's organisation (`not_found`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it (`too_broad`)", body = ErrorBody),
    ),
)]
async fn get_interactions(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (question, pairs) =
        read_query(&state, &client, raw, Some(&INTERACTIONS_PARAMETERS)).await?;
    let per_page = per_page(&pairs, INTERACTIONS_PER_PAGE)?;
    // Before the customer is looked up: a customer created later is a new version.
    let tag = answer_tag(
        &state,
        &client,
        &question,
        &["interactions", &per_page.to_string(), &identifier],
    )
    .await?;
    let customer_id = customer_id_of(&state, &client, &identifier).await?;
    if none_match(&headers, &tag) {
        return Ok(not_modified(&tag));
    }
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
    Ok(tagged(
        &tag,
        Json(InteractionsPage {
            customer: identifier,
            page: page.page,
            page_count: page.page_count,
            per_page,
            rows,
            total: page.total,
        }),
    ))
}
