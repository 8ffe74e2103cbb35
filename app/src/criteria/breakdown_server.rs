//! Server functions of the criteria breakdown: an opened Customers row's (under the page's
//! view) and a representative's (over all their scored conversations).

use super::breakdown::Breakdown;
use crate::customers::query::CustomerQuery;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The breakdown's rows for the page, with the organisation's bands.
#[cfg(feature = "ssr")]
async fn breakdown_for(
    state: &crate::session::AppState,
    org_id: i64,
    subject: super::breakdown_store::Subject,
    conditions: &crate::customers::store::Conditions,
) -> Result<Breakdown, AppError> {
    use super::breakdown::CriterionRow;
    let figures =
        super::breakdown_store::criteria_breakdown(&state.db, org_id, subject, conditions)
            .await
            .map_err(crate::error::answer)?;
    let bands = crate::orgs::store::score_bands(&state.db, org_id)
        .await
        .map_err(crate::error::answer)?;
    Ok(Breakdown {
        rows: figures
            .iter()
            .map(|figures| CriterionRow::of(figures, &bands))
            .collect(),
    })
}

/// One customer's criteria breakdown under a view of the Customers page (the row's
/// matching conversations, beside every customer's under the same view).
#[server(endpoint = "customer_criteria", input = Json)]
pub async fn customer_criteria(
    customer_id: i64,
    query: CustomerQuery,
) -> Result<Breakdown, AppError> {
    let (state, viewer, question) = crate::customers::server::checked_question(&query).await?;
    breakdown_for(
        &state,
        viewer.org_id,
        super::breakdown_store::Subject::Customer(customer_id),
        &question.conditions,
    )
    .await
}

/// A representative's criteria breakdown over all their scored conversations, beside the
/// organisation's over all of its own.
#[server(endpoint = "representative_criteria", input = Json)]
pub async fn representative_criteria(representative_id: i64) -> Result<Breakdown, AppError> {
    use crate::error::mark_status;
    use crate::session::{app_state, current_reviewer};
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    breakdown_for(
        &state,
        viewer.org_id,
        super::breakdown_store::Subject::Representative(representative_id),
        &crate::customers::store::Conditions::default(),
    )
    .await
}

/// A page of an opened row's history sorted by a criterion (the breakdown's links).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CriterionHistory {
    /// The criterion's label; `None` when the organisation has no criterion of the key asked
    /// for (deleted since the link was made): the page is then the newest-first history.
    pub criterion_label: Option<String>,
    pub rows: crate::page::Page<crate::customers::model::InteractionRow>,
}

/// One page of a customer's history under a view, sorted by the criterion `criterion` (its
/// key) lowest first, each row with its score on it.
#[server(endpoint = "customer_interactions_by_criterion", input = Json)]
pub async fn criterion_interactions(
    customer_id: i64,
    query: CustomerQuery,
    criterion: String,
    page: u32,
) -> Result<CriterionHistory, AppError> {
    use super::breakdown_store::history_by_criterion;
    use super::store::list_criteria;
    use crate::customers::query::HISTORY_PAGE_SIZE;
    use crate::customers::server::interaction_row;
    let (state, viewer, question) = crate::customers::server::checked_question(&query).await?;
    let (db, org_id) = (&state.db, viewer.org_id);
    let criteria = list_criteria(db, org_id)
        .await
        .map_err(crate::error::answer)?;
    let bands = crate::orgs::store::score_bands(db, org_id)
        .await
        .map_err(crate::error::answer)?;
    let Some(chosen) = criteria.into_iter().find(|c| c.key == criterion) else {
        // Rare (a link to a criterion deleted since): the newest-first history instead.
        let rows = crate::customers::server::list_interactions(customer_id, query, page).await?;
        return Ok(CriterionHistory {
            criterion_label: None,
            rows,
        });
    };
    let rows = history_by_criterion(
        db,
        org_id,
        customer_id,
        &question.conditions,
        chosen.id,
        page.max(1),
        HISTORY_PAGE_SIZE,
    )
    .await
    .map_err(crate::error::answer)?;
    Ok(CriterionHistory {
        criterion_label: Some(chosen.label),
        rows: rows.map(|row| {
            let criterion_score = row.criterion_score.map(|score| {
                (
                    crate::conversations::model::format_score(score),
                    bands.band(score),
                )
            });
            crate::customers::model::InteractionRow {
                criterion_score,
                ..interaction_row(row.record, &bands, viewer.time_zone)
            }
        }),
    })
}
