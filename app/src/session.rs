//! Who is looking: the signed-in person, their role and their organisation. The session
//! middleware (`auth::routes::resolve_session`) puts a [`Viewer`] into each request it can
//! authenticate; server functions read it from there and scope every query to its organisation.

use crate::db::Db;
use crate::error::AppError;
use leptos::prelude::use_context;

/// Server state shared with every request through Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// The pool that signing in, signing out and each request's session check use: the
    /// server gives them a small one of their own, so that heavy reads holding every
    /// connection of `db` cannot keep people from signing in or being recognised. By default
    /// (commands, tests) the same pool as `db`.
    pub sign_in_db: Db,
    /// Every organisation's Customers read model, within one memory budget.
    pub read_models: std::sync::Arc<crate::customers::read_model::ReadModels>,
    /// Mark session cookies `Secure` even when the request does not say it came over https.
    pub secure_cookies: bool,
    /// Rate limits and the verification cap of sign-in, shared by every request.
    pub sign_in_guard: std::sync::Arc<crate::auth::guard::SignInGuard>,
    /// The reverse proxies whose forwarded headers are believed.
    pub trusted_proxies: std::sync::Arc<crate::auth::service::TrustedProxies>,
    /// Imports started from the browser, one per organisation at a time.
    pub import_jobs: std::sync::Arc<crate::conversations::import_page::jobs::ImportJobs>,
    /// The organisations with live Customers pages open, and their data versions.
    pub live: std::sync::Arc<crate::customers::live::registry::LiveVersions>,
}

impl AppState {
    /// The state with read models of the default memory budget.
    pub fn new(db: Db, secure_cookies: bool) -> AppState {
        AppState {
            sign_in_db: db.clone(),
            db,
            read_models: Default::default(),
            secure_cookies,
            sign_in_guard: Default::default(),
            trusted_proxies: Default::default(),
            import_jobs: Default::default(),
            live: Default::default(),
        }
    }

    /// The same state with a pool of its own for sign-in and session checks.
    pub fn with_sign_in_db(self, sign_in_db: Db) -> AppState {
        AppState { sign_in_db, ..self }
    }

    /// The same state with the live page behaving as `settings` say (tests shorten them).
    pub fn with_live(self, settings: crate::customers::live::registry::LiveSettings) -> AppState {
        AppState {
            live: std::sync::Arc::new(crate::customers::live::registry::LiveVersions::new(
                settings,
            )),
            ..self
        }
    }

    /// The same state holding `read_models` (the server's, with its configured budget).
    pub fn with_read_models(
        self,
        read_models: std::sync::Arc<crate::customers::read_model::ReadModels>,
    ) -> AppState {
        AppState {
            read_models,
            ..self
        }
    }
}

pub use crate::auth::model::Viewer;

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the request context");
        AppError::Internal
    })
}

/// The signed-in viewer of the current request, or `Unauthorized`.
pub fn current_viewer() -> Result<Viewer, AppError> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
        .ok_or(AppError::Unauthorized)
}

/// The viewer, when they may review conversations (Admins and Managers); else `Forbidden`.
pub fn current_reviewer() -> Result<Viewer, AppError> {
    let viewer = current_viewer()?;
    if viewer.role.may_review() {
        Ok(viewer)
    } else {
        Err(AppError::Forbidden)
    }
}
