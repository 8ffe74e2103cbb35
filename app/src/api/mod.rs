//! HTTP API v1 for integrations: bearer tokens per organisation, conversation ingestion with
//! the import's rules, reads with the Customers page's exact semantics, and erasure for Admin
//! tokens.

pub mod error;
pub mod etag;
pub mod guard;
pub mod openapi;
pub mod reads;
pub mod routes;
pub mod schema;
pub mod tokens;
pub mod writes;

#[cfg(feature = "ssr")]
pub use served::router;

/// The routes with the document that describes them: the document reads the routes, so it is
/// served from here rather than from among them.
#[cfg(feature = "ssr")]
mod served {
    use super::guard::WriteLimits;
    use crate::session::AppState;
    use axum::http::header;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;

    /// The `/api/v1` router; `limits` bound its writes (see [`super::guard`]).
    pub fn router(state: AppState, limits: WriteLimits) -> Router<AppState> {
        super::routes::router(state, limits).route("/openapi.json", get(openapi_json))
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
}
