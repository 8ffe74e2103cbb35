//! The API's writes: conversations in (with the import's rules), and erasure of a customer
//! or a conversation.

use super::error::ApiError;
use super::guard::WriteGuard;
use super::schema::{ErrorBody, ErrorCode, MAX_ITEMS_PER_CALL};
use super::tokens::ApiClient;
use crate::conversations::import::{
    import_rows, parse_batch, BatchError, BatchRefusal, ImportError,
};
use crate::erasure::{self, Erased};
use crate::session::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
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
pub(super) async fn post_conversations(
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
pub(super) async fn delete_customer(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    Path(identifier): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let erasing = erasure::delete_customer(&state.db, client.org_id, &identifier);
    let erased = erase_named(&guard, "customer", &identifier, erasing).await?;
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
pub(super) async fn delete_conversation(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Extension(guard): Extension<Arc<WriteGuard>>,
    Path(external_id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let erasing = erasure::delete_conversation(&state.db, client.org_id, &external_id);
    let erased = erase_named(&guard, "conversation", &external_id, erasing).await?;
    tracing::info!(
        org_id = client.org_id,
        token_id = client.token_id,
        "API: a conversation was erased"
    );
    Ok(Json(erased.into()))
}

/// Runs `erasing` (the erasure of the `what` named `key`) in a write slot: 404 when no such row
/// exists, and at once for a key no stored one could be (too long, a control character).
async fn erase_named(
    guard: &WriteGuard,
    what: &str,
    key: &str,
    erasing: impl std::future::Future<Output = crate::db::StoreResult<Option<Erased>>>,
) -> Result<Erased, ApiError> {
    let not_found = || ApiError::not_found(format!("There is no {what} `{}`.", key.escape_debug()));
    if crate::limits::text_problem(key, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    let _slot = guard.slot().await.map_err(ApiError::busy_writing)?;
    erasing.await?.ok_or_else(not_found)
}
