//! The API's error answer: a status, a code and a message, as JSON; store errors mapped to
//! what a caller can do about them.

use super::schema::{ErrorBody, ErrorCode, ItemError, MAX_INGEST_BYTES};
use crate::auth::guard::TryLater;
use crate::conversations::import::RowErrors;
use crate::db::{Failure, StoreError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

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

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
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

    pub(super) fn rows(errors: RowErrors) -> Self {
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

    pub(super) fn busy_writing(_: TryLater) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Busy,
            "Too many API writes are running at once; nothing was written. Try again after the Retry-After seconds.",
        )
    }

    pub(super) fn rate_limited(later: TryLater) -> Self {
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
