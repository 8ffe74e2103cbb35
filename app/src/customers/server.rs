//! Server functions of the Customers page. Each validates what it was sent, scopes every
//! read to the viewer's organisation, and maps store errors to messages for people.

use super::model::{CustomerPage, InteractionPage};
use super::query::CustomerQuery;
use crate::error::AppError;
use crate::orgs::model::CustomField;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
mod ssr {
    pub use super::super::model::{CustomerRow, InteractionRow};
    pub use super::super::store::{
        applied_query, customer_page, interaction_page, resolve_filters,
    };
    pub use crate::conversations::model::{format_average, format_score, ConversationKind};
    pub use crate::error::with_status;
    pub use crate::orgs::store::list_fields;
    pub use crate::orgs::time::{format_date, format_date_time};
    pub use crate::session::{app_state, current_reviewer};
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
    let fields = list_fields(&state.db, viewer.org_id)
        .await
        .map_err(|e| with_status(e.into()))?;
    let filters = resolve_filters(&query, &fields);
    let data = customer_page(&state.db, viewer.org_id, &query, &filters)
        .await
        .map_err(|e| with_status(e.into()))?;
    let mut applied = applied_query(&query, &fields);
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
    let fields = list_fields(&state.db, viewer.org_id)
        .await
        .map_err(|e| with_status(e.into()))?;
    let filters = resolve_filters(&query, &fields);
    let data = interaction_page(&state.db, viewer.org_id, customer_id, &filters, page.max(1))
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
