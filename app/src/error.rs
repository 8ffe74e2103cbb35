//! The error type every server function returns. It crosses the wire as JSON, so the browser
//! gets the same variants the server chose, with messages meant for people.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Please sign in to continue.")]
    Unauthorized,
    #[error("This is available to Admins and Managers only.")]
    Forbidden,
    #[error("This is available to Admins only.")]
    AdminsOnly,
    /// A sign-in that did not succeed: a wrong email or password, or a locked account.
    #[error("{0}")]
    SignInRefused(String),
    #[error("{0}")]
    TooManyAttempts(String),
    /// A question that ran past its time budget and was stopped.
    #[error("This question took too long to answer and was stopped. Narrow it with a filter, a shorter period or a longer search, then try again.")]
    TooBroad,
    /// While the server loads an organisation's customer figures (its first question after a
    /// start, or a large import): the server's own work, never the question's fault.
    #[error(
        "The customer figures are being loaded on the server. Please try again in a few seconds."
    )]
    Loading,
    /// The database is out of reach for a moment, or busy with another write (an import).
    #[error("The service is busy or briefly unavailable. Please try again in a few seconds.")]
    Busy,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("Could not reach the server. Check your connection and try again.")]
    Unreachable,
}

impl AppError {
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::SignInRefused(_) => 401,
            AppError::Forbidden | AppError::AdminsOnly => 403,
            AppError::TooManyAttempts(_) => 429,
            AppError::TooBroad => 422,
            AppError::Internal => 500,
            AppError::Unreachable | AppError::Loading | AppError::Busy => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server this runs while a call's arguments are decoded: a malformed call is the
        // caller's mistake, and its response says so (400), not a server failure (500).
        mark_status(match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::BadRequest(format!("The request was not understood: {message}"))
            }
            // On the server, what fails to deserialize is the caller's request body; in the
            // browser it would be the server's answer, which is not the user's fault.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(message) => {
                AppError::BadRequest(format!("The request was not understood: {message}"))
            }
            ServerFnErrorErr::Request(_) => AppError::Unreachable,
            _ => AppError::Internal,
        })
    }
}

/// The answer to a store error, made once where a server function or the export answers: it
/// is logged here (never where it is converted), its status is set on the response, and the
/// person gets the message of its class.
#[cfg(feature = "ssr")]
pub fn answer(error: crate::db::StoreError) -> AppError {
    use crate::db::Failure;
    let answer = match error.failure() {
        Failure::Refused(reason) => AppError::BadRequest(reason.to_owned()),
        Failure::OverBudget => {
            tracing::warn!(%error, "a question ran past its budget and was stopped");
            AppError::TooBroad
        }
        Failure::Loading => AppError::Loading,
        Failure::Busy => {
            tracing::warn!(%error, "database busy or out of reach");
            AppError::Busy
        }
        Failure::BadValue => {
            tracing::warn!(%error, "the database refused a value");
            AppError::BadRequest(
                "The request holds a value that cannot be stored or searched for.".to_owned(),
            )
        }
        Failure::Internal => {
            tracing::error!(%error, "store error");
            AppError::Internal
        }
    };
    mark_status(answer)
}

/// Seconds a 503 answer asks the caller to wait (`Retry-After`): the start-up load, a busy or
/// unreachable database are worth trying again shortly.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Adds `Retry-After` to a 503 answer's headers.
#[cfg(feature = "ssr")]
pub fn ask_to_retry(headers: &mut axum::http::HeaderMap) {
    let (name, value) = retry_after();
    headers.insert(name, value);
}

/// The `Retry-After` header of a 503 answer.
#[cfg(feature = "ssr")]
fn retry_after() -> (axum::http::HeaderName, axum::http::HeaderValue) {
    (
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(RETRY_AFTER_SECS),
    )
}

/// An error as a plain response outside the server functions (the CSV export): its status,
/// its message, and Retry-After when trying again shortly can help.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::StatusCode;
        let status =
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.to_string()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            ask_to_retry(response.headers_mut());
        }
        response
    }
}

/// In the browser, where there is no response to mark, passes the error on.
#[cfg(not(feature = "ssr"))]
pub fn mark_status(error: AppError) -> AppError {
    error
}

/// Sets the HTTP status of the current server response from an error, then passes it on.
#[cfg(feature = "ssr")]
pub fn mark_status(error: AppError) -> AppError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
            if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
                let (name, value) = retry_after();
                response.insert_header(name, value);
            }
            if error == AppError::Loading {
                // A page rendered while its figures load asks the browser to load it again,
                // so it retries by itself even before (or without) the client.
                response.insert_header(
                    axum::http::header::REFRESH,
                    axum::http::HeaderValue::from(RETRY_AFTER_SECS),
                );
            }
        }
    }
    error
}
