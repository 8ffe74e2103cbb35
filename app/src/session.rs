//! Who is looking: the organisation whose data a request may see.
//!
//! Until sign-in exists, an installation serves one organisation: the one named by
//! `--org` / `CUSTS_ORG`, or else the first one created.

use crate::db::Db;
use crate::error::AppError;
use crate::orgs::store::{find_organisation, first_organisation};
use crate::orgs::time::parse_time_zone;
use chrono_tz::Tz;
use leptos::prelude::use_context;

/// Server state shared with every request through Leptos context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub org_slug: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Viewer {
    pub org_id: i64,
    pub time_zone: Tz,
}

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the request context");
        AppError::Internal
    })
}

pub async fn current_viewer(state: &AppState) -> Result<Viewer, AppError> {
    let organisation = match &state.org_slug {
        Some(slug) => find_organisation(&state.db, slug).await?,
        None => first_organisation(&state.db).await?,
    };
    let organisation = organisation.ok_or_else(|| {
        tracing::error!(slug = ?state.org_slug, "no organisation to serve");
        AppError::NotFound("The organisation".to_owned())
    })?;
    Ok(Viewer {
        org_id: organisation.id,
        time_zone: parse_time_zone(&organisation.time_zone).unwrap_or(Tz::UTC),
    })
}
