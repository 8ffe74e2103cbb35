//! The live page's server function: what a tab's notice says.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// The notice of a page rendered at one data version, now that the data is at another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScored {
    /// Scored conversations written since the page's version (at most `MOST_COUNTED` + 1).
    pub scored: i64,
    /// The version they were counted at.
    pub version: i64,
}

/// How many scored conversations were written since `since`, the version a page shows.
#[server(endpoint = "customers_new_conversations", input = Json)]
pub async fn new_conversations(since: i64) -> Result<NewScored, AppError> {
    use crate::error::mark_status;
    use crate::session::{app_state, current_reviewer};
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    // The version first: a write landing between the two reads is counted now and again at
    // the next notice, never missed.
    let version = crate::versions::stored_version(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    let scored = super::store::scored_written_since(&state.db, viewer.org_id, since)
        .await
        .map_err(crate::error::answer)?;
    Ok(NewScored { scored, version })
}
