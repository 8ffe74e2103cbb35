//! Server functions of the Customers page. Each validates what it was sent, scopes every
//! read to the viewer's organisation, and maps store errors to messages for people.

use super::model::{CustomersPage, InteractionRow, RepresentativeOption};
use super::query::CustomerQuery;
use super::saved_views::SavedView;
use super::trend::Trend;
use crate::error::AppError;
use crate::orgs::model::CustomField;
use crate::page::Page;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
mod ssr {
    pub use super::super::model::{CustomerRow, RowChange, SMALL_SAMPLE};
    pub use super::super::query::{HISTORY_PAGE_SIZE, PAGE_SIZE};
    pub use super::super::service::{
        customers_page, history_page, resolve_question, trend_points, Strictness,
    };
    pub use super::super::trend::{summary, MAX_TREND_POINTS};
    pub use crate::conversations::model::{format_average, format_score, Channel};
    pub use crate::error::mark_status;
    pub use crate::orgs::store::list_fields;
    pub use crate::orgs::store::score_bands;
    pub use crate::orgs::time::{format_date, format_date_time, format_long_date, format_month};
    pub use crate::session::{app_state, current_reviewer};

    /// "1 Nov 2026 – 5 Nov 2026", or one day.
    pub fn format_day_span(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
        let day = |date: chrono::NaiveDate| date.format("%-d %b %Y").to_string();
        if first == last {
            day(first)
        } else {
            format!("{} – {}", day(first), day(last))
        }
    }
}

/// A view sent by the page, validated and resolved for the signed-in reviewer, with the
/// request's state and viewer: the start of every server function that reads customers.
#[cfg(feature = "ssr")]
pub(crate) async fn checked_question(
    query: &CustomerQuery,
) -> Result<
    (
        crate::session::AppState,
        crate::session::Viewer,
        super::service::Question,
    ),
    AppError,
> {
    use ssr::*;
    query
        .validate()
        .map_err(|message| mark_status(AppError::BadRequest(message)))?;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    let question = question_for(&state.db, &viewer, query).await?;
    Ok((state, viewer, question))
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
    .map_err(|e| mark_status(e.into()))
}

/// The representatives who have conversations in the organisation, for the type-ahead.
#[server(endpoint = "customer_representatives", input = Json)]
pub async fn customer_representatives() -> Result<Vec<RepresentativeOption>, AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    crate::representatives::store::representatives_with_conversations(
        &state.db,
        &state.read_models,
        viewer.org_id,
    )
    .await
    .map_err(crate::error::answer)
}

/// The organisation's custom fields, for the filter inputs.
#[server(endpoint = "customer_fields", input = Json)]
pub async fn customer_fields() -> Result<Vec<CustomField>, AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    let fields = list_fields(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    Ok(fields.into_iter().map(|stored| stored.field).collect())
}

/// One page of the Customers table for a view.
#[server(endpoint = "customers", input = Json)]
pub async fn list_customers(query: CustomerQuery) -> Result<CustomersPage, AppError> {
    use ssr::*;
    let (state, viewer, question) = checked_question(&query).await?;
    // Before the rows: a write landing meanwhile is announced again, never missed.
    let data_version = crate::versions::stored_version(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    let data = customers_page(
        &state.db,
        &state.read_models,
        viewer.org_id,
        &question,
        PAGE_SIZE,
    )
    .await
    .map_err(crate::error::answer)?;
    let bands = score_bands(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    let mut applied = question.applied;
    applied.page = data.page;
    let compared = question.conditions.previous.is_some();
    let previous_period = question
        .previous_days
        .map(|(first, last)| format_day_span(first, last));
    Ok(CustomersPage {
        query: applied,
        previous_period,
        data_version,
        customers: data.map(|row| CustomerRow {
            small_sample: row.interactions < SMALL_SAMPLE,
            change: compared.then(|| {
                RowChange::of(
                    row.interactions,
                    row.score_sum,
                    row.previous_interactions,
                    row.previous_score_sum,
                )
            }),
            id: row.id,
            identifier: row.identifier,
            display_name: row.display_name,
            interactions: row.interactions,
            first_interaction: format_date(row.first_ms, viewer.time_zone),
            latest_interaction: format_date(row.latest_ms, viewer.time_zone),
            avg_score: format_average(row.score_sum, row.interactions),
            avg_band: bands.band_of_average(row.score_sum, row.interactions),
        }),
        bands,
    })
}

/// One page of a customer's interaction history, under the view's filters.
#[server(endpoint = "customer_interactions", input = Json)]
pub async fn list_interactions(
    customer_id: i64,
    query: CustomerQuery,
    page: u32,
) -> Result<Page<InteractionRow>, AppError> {
    use ssr::*;
    let (state, viewer, question) = checked_question(&query).await?;
    let data = history_page(
        &state.db,
        viewer.org_id,
        customer_id,
        &question,
        page.max(1),
        HISTORY_PAGE_SIZE,
    )
    .await
    .map_err(crate::error::answer)?;
    let bands = score_bands(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    Ok(data.map(|row| interaction_row(row, &bands, viewer.time_zone)))
}

/// A history's row as the page shows it.
#[cfg(feature = "ssr")]
pub(crate) fn interaction_row(
    row: super::store::InteractionRecord,
    bands: &crate::orgs::model::ScoreBands,
    zone: chrono_tz::Tz,
) -> InteractionRow {
    use ssr::*;
    InteractionRow {
        conversation_id: row.id,
        title: row.title,
        channel: Channel::parse(&row.channel).unwrap_or(Channel::Chat),
        occurred_at: format_date_time(row.occurred_at_ms, zone),
        representative_id: row.representative_id,
        representative_name: row.representative_name,
        score: format_score(row.score_hundredths),
        band: bands.band(row.score_hundredths),
        criterion_score: None,
    }
}

/// The score trend of one customer under a view: the points its expanded row draws, with a
/// sentence that says what they show. One call beside the history's, made once per expansion.
#[server(endpoint = "customer_trend", input = Json)]
pub async fn customer_trend(customer_id: i64, query: CustomerQuery) -> Result<Trend, AppError> {
    use ssr::*;
    let (state, viewer, question) = checked_question(&query).await?;
    let (points, total) = trend_points(
        &state.db,
        viewer.org_id,
        customer_id,
        &question,
        MAX_TREND_POINTS,
    )
    .await
    .map_err(crate::error::answer)?;
    let bands = score_bands(&state.db, viewer.org_id)
        .await
        .map_err(crate::error::answer)?;
    let zone = viewer.time_zone;
    let label = |point: Option<&super::trend::TrendPoint>| {
        point.map_or_else(String::new, |point| format_date(point.at_ms, zone))
    };
    Ok(Trend {
        first_label: label(points.first()),
        last_label: label(points.last()),
        summary: summary(
            &points,
            |ms| format_month(ms, zone),
            |ms| format_long_date(ms, zone),
        ),
        points,
        total,
        bands,
    })
}

/// The signed-in person's saved views, by name.
#[server(endpoint = "saved_views", input = Json)]
pub async fn list_saved_views() -> Result<Vec<SavedView>, AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    super::saved_views_store::list_saved_views(&state.db, viewer.org_id, viewer.user_id)
        .await
        .map_err(crate::error::answer)
}

/// Saves a view under a name; a name the person already uses is replaced.
#[server(endpoint = "save_view", input = Json)]
pub async fn save_view(name: String, query: CustomerQuery) -> Result<SavedView, AppError> {
    use ssr::*;
    query
        .validate()
        .map_err(|message| mark_status(AppError::BadRequest(message)))?;
    let name = super::saved_views::clean_view_name(&name)
        .map_err(|message| mark_status(AppError::BadRequest(message)))?;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    super::saved_views_store::save_view(&state.db, viewer.org_id, viewer.user_id, &name, &query)
        .await
        .map_err(crate::error::answer)
}

/// Renames one of the person's saved views.
#[server(endpoint = "rename_view", input = Json)]
pub async fn rename_saved_view(id: i64, name: String) -> Result<SavedView, AppError> {
    use ssr::*;
    let name = super::saved_views::clean_view_name(&name)
        .map_err(|message| mark_status(AppError::BadRequest(message)))?;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    super::saved_views_store::rename_saved_view(&state.db, viewer.org_id, viewer.user_id, id, &name)
        .await
        .map_err(crate::error::answer)?
        .ok_or_else(|| mark_status(AppError::NotFound("The saved view".to_owned())))
}

/// Deletes one of the person's saved views.
#[server(endpoint = "delete_view", input = Json)]
pub async fn delete_saved_view(id: i64) -> Result<(), AppError> {
    use ssr::*;
    let state = app_state()?;
    let viewer = current_reviewer().map_err(mark_status)?;
    let deleted =
        super::saved_views_store::delete_saved_view(&state.db, viewer.org_id, viewer.user_id, id)
            .await
            .map_err(crate::error::answer)?;
    if deleted {
        Ok(())
    } else {
        Err(mark_status(AppError::NotFound("The saved view".to_owned())))
    }
}
