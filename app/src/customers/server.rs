//! Server functions of the Customers page. Each validates what it was sent, scopes every
//! read to the viewer's organisation, and maps store errors to messages for people.

use super::model::{CustomerPage, InteractionPage, RepresentativeOption};
use super::query::CustomerQuery;
use crate::error::AppError;
use crate::orgs::model::CustomField;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
mod ssr {
    pub use super::super::model::{CustomerRow, InteractionRow};
    pub use super::super::query::{HISTORY_PAGE_SIZE, PAGE_SIZE};
    pub use super::super::service::{
        customers_page, history_page, resolve_question, QuestionError, Strictness,
    };
    pub use crate::conversations::model::{format_average, format_score, ConversationKind};
    pub use crate::error::with_status;
    pub use crate::orgs::store::list_fields;
    pub use crate::orgs::time::{format_date, format_date_time};
    pub use crate::session::{app_state, current_reviewer};
}

/// The view resolved for the viewer's organisation; what it lacks is dropped, as on the page.
#[cfg(feature = "ssr")]
async fn question_for(
    db: &crate::db::Db,
    viewer: &crate::session::Viewer,
    query: &CustomerQuery,
) -> Result<super::service::Question, AppError> {
    use ssr::*;
    resolve_question(
        db,
        viewer.org_id,
        viewer.time_zone,
        query,
        Strictness::Lenient,
    )
    .await
    .map_err(|error| {
        with_status(match error {
            QuestionError::Refused(message) => AppError::BadRequest(message),
            QuestionError::Store(error) => error.into(),
        })
    })
}

/// The representatives who have conversations in the organisation, for the type-ahead.
#[server(endpoint = "customer_representatives", input = Json)]
pub async fn customer_representatives() -> Result<Vec<RepresentativeOption>, AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(with_status)?;
    crate::representatives::store::representatives_with_conversations(&state.db, viewer.org_id)
        .await
        .map_err(|e| with_status(e.into()))
}

/// The organisation's custom fields, for the filter inputs.
#[server(endpoint = "customer_fields", input = Json)]
pub async fn customer_fields() -> Result<Vec<CustomField>, AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(with_status)?;
    let fields = list_fields(&state.db, viewer.org_id)
        .await
        .map_err(|e| with_status(e.into()))?;
    Ok(fields.into_iter().map(|stored| stored.field).collect())
}

/// One page of the Customers table for a view.
#[server(endpoint = "customers", input = Json)]
pub async fn list_customers(query: CustomerQuery) -> Result<CustomerPage, AppError> {
    use ssr::*;
    query
        .validate()
        .map_err(|message| with_status(AppError::BadRequest(message)))?;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(with_status)?;
    let question = question_for(&state.db, &viewer, &query).await?;
    let data = customers_page(&state.db, viewer.org_id, &question, PAGE_SIZE)
        .await
        .map_err(|e| with_status(e.into()))?;
    let mut applied = question.applied;
    applied.page = data.page;
    Ok(CustomerPage {
        query: applied,
        rows: data
            .rows
            .into_iter()
            .map(|row| CustomerRow {
                id: row.id,
                identifier: row.identifier,
                display_name: row.display_name,
                interactions: row.interactions,
                first_interaction: format_date(row.first_ms, viewer.time_zone),
                latest_interaction: format_date(row.latest_ms, viewer.time_zone),
                avg_score: format_average(row.score_sum, row.interactions),
            })
            .collect(),
        total: data.total,
        page: data.page,
        page_count: data.page_count,
    })
}

/// One page of a customer's interaction history, under the view's filters.
#[server(endpoint = "customer_interactions", input = Json)]
pub async fn list_interactions(
    customer_id: i64,
    query: CustomerQuery,
    page: u32,
) -> Result<InteractionPage, AppError> {
    use ssr::*;
    query
        .validate()
        .map_err(|message| with_status(AppError::BadRequest(message)))?;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(with_status)?;
    let question = question_for(&state.db, &viewer, &query).await?;
    let data = history_page(
        &state.db,
        viewer.org_id,
        customer_id,
        &question,
        page.max(1),
        HISTORY_PAGE_SIZE,
    )
    .await
    .map_err(|e| with_status(e.into()))?;
    Ok(InteractionPage {
        rows: data
            .rows
            .into_iter()
            .map(|row| InteractionRow {
                conversation_id: row.id,
                title: row.title,
                kind: ConversationKind::parse(&row.kind).unwrap_or(ConversationKind::Chat),
                occurred_at: format_date_time(row.occurred_at_ms, viewer.time_zone),
                representative_id: row.representative_id,
                representative_name: row.representative_name,
                score: format_score(row.score_hundredths),
            })
            .collect(),
        total: data.total,
        page: data.page,
        page_count: data.page_count,
    })
}
