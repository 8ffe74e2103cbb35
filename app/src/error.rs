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
            AppError::Internal => 500,
            AppError::Unreachable => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::BadRequest(format!("The request was not understood: {message}"))
            }
            ServerFnErrorErr::Request(_) => AppError::Unreachable,
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::db::StoreError> for AppError {
    fn from(error: crate::db::StoreError) -> Self {
        tracing::error!(error = %error, "store error");
        AppError::Internal
    }
}

/// Sets the HTTP status of the current server response from an error, then passes it on.
#[cfg(feature = "ssr")]
pub fn with_status(error: AppError) -> AppError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    error
}
