//! The API's reads: the Customers list and a customer's interactions, with the page's exact
//! semantics, their ETags and 304s.

use super::error::ApiError;
use super::etag::{entity_tag, none_match};
use super::schema::{
    CustomersParams, ErrorBody, InteractionsParams, INTERACTIONS_PARAMETERS, INTERACTIONS_PER_PAGE,
    MAX_PER_PAGE, VIEW_PARAMETERS,
};
use super::tokens::ApiClient;
use crate::customers::model::SMALL_SAMPLE;
use crate::customers::query::{CustomerQuery, FILTER_PREFIX};
use crate::customers::question::ChangeGroup;
use crate::customers::service::{
    customers_page, history_page, resolve_question, Question, QuestionError, Strictness,
};
use crate::customers::store::find_customer_id;
use crate::orgs::time::{iso, parse_time_zone};
use crate::session::AppState;
use crate::text::parse_query_string;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
fn per_page(pairs: &[(String, String)], default: u32) -> Result<u32, ApiError> {
    match pairs.iter().rev().find(|(key, _)| key == "per_page") {
        None => Ok(default),
        Some((_, value)) => match value.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "`per_page` must be a number from 1 to {MAX_PER_PAGE}, not `{value}`"
            ))),
        },
    }
}

/// Reads the query string strictly, and refuses filters on fields (or options) and
/// representatives the organisation does not have, instead of ignoring them as the page does.
async fn read_query(
    state: &AppState,
    client: &ApiClient,
    raw: Option<String>,
    allowed_keys: Option<&[&str]>,
) -> Result<(Question, Vec<(String, String)>), ApiError> {
    let pairs = parse_query_string(raw.as_deref().unwrap_or_default());
    if let Some(allowed) = allowed_keys {
        if let Some((key, _)) = pairs.iter().find(|(key, _)| {
            !allowed.contains(&key.as_str())
                && !VIEW_PARAMETERS.contains(&key.as_str())
                && !key.starts_with(FILTER_PREFIX)
        }) {
            return Err(ApiError::bad_request(format!(
                "`{key}` is not a parameter of this call"
            )));
        }
    }
    let query = CustomerQuery::from_pairs_strict(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["per_page"],
    )
    .map_err(ApiError::bad_request)?;
    let question = resolve_question(
        &state.db,
        client.org_id,
        zone(client),
        &query,
        Strictness::Strict,
    )
    .await
    .map_err(|error| match error {
        QuestionError::Refused(message) => ApiError::bad_request(message),
        QuestionError::Store(error) => ApiError::from(error),
    })?;
    Ok((question, pairs))
}

fn zone(client: &ApiClient) -> Tz {
    parse_time_zone(&client.time_zone).unwrap_or(Tz::UTC)
}

/// An average of hundredths, to two decimals.
fn average(score_sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| (score_sum as f64 / count as f64).round() / 100.0)
}

/// A customer as the Customers page lists it.
#[derive(Serialize, ToSchema)]
#[schema(as = Customer)]
pub struct CustomerItem {
    /// No scored conversation counts: null.
    pub average_score: Option<f64>,
    pub display_name: Option<String>,
    /// RFC 3339 in the organisation's time zone.
    pub first_interaction: String,
    pub identifier: String,
    pub interactions: i64,
    /// RFC 3339 in the organisation's time zone.
    pub latest_interaction: String,
    /// The average is over fewer than 3 scored conversations: a small sample.
    pub small_sample: bool,
    /// Only when a period with a previous one is chosen (a preset other than `all`, or both
    /// `from` and `to`): scored conversations in the previous period under the same other
    /// conditions; 0 for a customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_interactions: Option<i64>,
    /// Only when a period with a previous one is chosen: the previous period's average score,
    /// to two decimals; null for a customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub previous_avg_score: Option<Option<f64>>,
    /// Only when a period with a previous one is chosen: this period's average minus the
    /// previous one's (exact averages, the difference rounded to two decimals); null for a
    /// customer new to this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, required = false)]
    pub change: Option<Option<f64>>,
    /// Only when a period with a previous one is chosen: either side has fewer than 3 scored
    /// conversations (false for a customer new to this period, whose change is null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_uncertain: Option<bool>,
}

/// A page of customers.
#[derive(Serialize, ToSchema)]
pub struct CustomersPage {
    pub page: u32,
    pub page_count: u32,
    pub per_page: u32,
    pub rows: Vec<CustomerItem>,
    pub total: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/customers",
    tag = "customers",
    summary = "The Customers page as JSON",
    description = super::schema::CUSTOMERS_DESCRIPTION,
    params(
        CustomersParams,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 when it is still this answer"),
    ),
    responses(
        (status = 200, description = "A page of customers", body = CustomersPage, headers(("ETag" = String, description = "A weak tag of everything the answer depends on: the organisation's data version, its fields, the view and the dates a period resolved to"))),
        (status = 304, description = "`If-None-Match` names this answer's `ETag`: nothing changed", headers(("ETag" = String, description = "The answer's tag"))),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (a bad date, a range that ends before it starts) (`bad_request`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it (`too_broad`)", body = ErrorBody),
    ),
)]
pub(super) async fn get_customers(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (question, pairs) = read_query(&state, &client, raw, None).await?;
    let per_page = per_page(&pairs, crate::customers::query::PAGE_SIZE)?;
    let tag = answer_tag(
        &state,
        &client,
        &question,
        &["customers", &per_page.to_string()],
    )
    .await?;
    if none_match(&headers, &tag) {
        return Ok(not_modified(&tag));
    }
    let page = customers_page(
        &state.db,
        &state.read_models,
        client.org_id,
        &question,
        per_page,
    )
    .await?;
    let zone = zone(&client);
    let compared = question.conditions.previous.is_some();
    let rows = page
        .rows
        .iter()
        .map(|row| CustomerItem {
            small_sample: row.interactions < SMALL_SAMPLE,
            previous_interactions: compared.then_some(row.previous_interactions),
            previous_avg_score: compared
                .then(|| average(row.previous_score_sum, row.previous_interactions)),
            change: compared.then(|| {
                (row.previous_interactions > 0 && row.interactions > 0).then(|| {
                    (row.score_sum as f64 / row.interactions as f64
                        - row.previous_score_sum as f64 / row.previous_interactions as f64)
                        .round()
                        / 100.0
                })
            }),
            change_uncertain: compared.then(|| {
                ChangeGroup::of(row.interactions, row.previous_interactions)
                    == ChangeGroup::Uncertain
            }),
            average_score: average(row.score_sum, row.interactions),
            display_name: row.display_name.clone(),
            first_interaction: iso(row.first_ms, zone),
            identifier: row.identifier.clone(),
            interactions: row.interactions,
            latest_interaction: iso(row.latest_ms, zone),
        })
        .collect();
    Ok(tagged(
        &tag,
        Json(CustomersPage {
            page: page.page,
            page_count: page.page_count,
            per_page,
            rows,
            total: page.total,
        }),
    ))
}

/// The entity tag of a read answer, from the data version read now (before the answer).
async fn answer_tag(
    state: &AppState,
    client: &ApiClient,
    question: &Question,
    call: &[&str],
) -> Result<String, ApiError> {
    let version = crate::versions::stored_version(&state.db, client.org_id).await?;
    Ok(entity_tag(version, &client.time_zone, question, call))
}

/// 304: the client's copy, named by `If-None-Match`, is this answer.
fn not_modified(tag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// An answer with its entity tag.
fn tagged(tag: &str, answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Who handled a conversation.
#[derive(Serialize, ToSchema)]
pub struct RepresentativeRef {
    pub email: String,
    pub name: String,
}

/// One scored conversation of a customer.
#[derive(Serialize, ToSchema)]
#[schema(as = Interaction)]
pub struct InteractionItem {
    pub external_id: String,
    /// RFC 3339 in the organisation's time zone.
    pub occurred_at: String,
    pub representative: RepresentativeRef,
    pub score: f64,
    pub title: String,
    #[serde(rename = "type")]
    #[schema(value_type = crate::conversations::model::Channel)]
    pub channel: String,
}

/// A page of a customer's conversations.
#[derive(Serialize, ToSchema)]
pub struct InteractionsPage {
    pub customer: String,
    pub page: u32,
    pub page_count: u32,
    pub per_page: u32,
    pub rows: Vec<InteractionItem>,
    pub total: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{identifier}/interactions",
    tag = "customers",
    summary = "A customer's scored conversations, newest first",
    description = super::schema::INTERACTIONS_DESCRIPTION,
    params(
        ("identifier" = String, Path, description = "The customer's identifier, as `identifier` in /api/v1/customers"),
        InteractionsParams,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 when it is still this answer"),
    ),
    responses(
        (status = 200, description = "A page of conversations", body = InteractionsPage, headers(("ETag" = String, description = "A weak tag of everything the answer depends on: the organisation's data version, its fields, the view and the dates a period resolved to"))),
        (status = 304, description = "`If-None-Match` names this answer's `ETag`: nothing changed", headers(("ETag" = String, description = "The answer's tag"))),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (`bad_request`)", body = ErrorBody),
        (status = 404, description = "No such customer in the token's organisation (`not_found`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it (`too_broad`)", body = ErrorBody),
    ),
)]
pub(super) async fn get_interactions(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (question, pairs) =
        read_query(&state, &client, raw, Some(&INTERACTIONS_PARAMETERS)).await?;
    let per_page = per_page(&pairs, INTERACTIONS_PER_PAGE)?;
    let not_found = || {
        ApiError::not_found(format!(
            "There is no customer `{}`.",
            identifier.escape_debug()
        ))
    };
    // No stored identifier is that long or holds a control character.
    if crate::limits::read_problem(&identifier, crate::limits::MAX_IDENTIFIER_CHARS).is_some() {
        return Err(not_found());
    }
    // Before the customer is looked up: a customer created later is a new version.
    let tag = answer_tag(
        &state,
        &client,
        &question,
        &["interactions", &per_page.to_string(), &identifier],
    )
    .await?;
    let customer_id = find_customer_id(&state.db, client.org_id, &identifier)
        .await?
        .ok_or_else(not_found)?;
    if none_match(&headers, &tag) {
        return Ok(not_modified(&tag));
    }
    let page = history_page(
        &state.db,
        client.org_id,
        customer_id,
        &question,
        question.applied.page,
        per_page,
    )
    .await?;
    let zone = zone(&client);
    let rows = page
        .rows
        .iter()
        .map(|row| InteractionItem {
            external_id: row.external_id.clone(),
            occurred_at: iso(row.occurred_at_ms, zone),
            representative: RepresentativeRef {
                email: row.representative_email.clone(),
                name: row.representative_name.clone(),
            },
            score: row.score_hundredths as f64 / 100.0,
            title: row.title.clone(),
            channel: row.channel.clone(),
        })
        .collect();
    Ok(tagged(
        &tag,
        Json(InteractionsPage {
            customer: identifier,
            page: page.page,
            page_count: page.page_count,
            per_page,
            rows,
            total: page.total,
        }),
    ))
}
