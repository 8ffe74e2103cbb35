//! `GET /api/v1/customers/{identifier}/criteria`: a customer's criteria breakdown under the
//! list's conditions (`period`, `from`, `to`, `type`, `rep` and the `f.<key>` filters), each
//! criterion beside the organisation's average under the same conditions.

use super::error::ApiError;
use super::etag::none_match;
use super::reads::{answer_tag, customer_id_of, not_modified, read_query, tagged};
use super::schema::{view_parameters, ErrorBody};
use crate::criteria::breakdown::CriterionSums;
use crate::criteria::breakdown_store::{criteria_breakdown, Subject};
use crate::criteria::store::list_criteria;
use crate::orgs::model::{Band, ScoreBands};
use crate::session::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use super::tokens::ApiClient;

pub const CRITERIA_DESCRIPTION: &str = "The customer's playbook criteria over their scored conversations that match the conditions: for each criterion of the organisation, the customer's average over the conversations scored on it (a criterion marked not applicable on a conversation does not count), its band under the organisation's score bands, how many conversations it is over, and the organisation's average of the same criterion over every customer's matching conversations. Criteria the customer is weakest at against the organisation come first (`avg_score` minus `organisation_avg_score`, ascending; equal differences in the organisation's order of criteria), then the criteria the customer has no score on. A custom range (`from`, `to`) wins over `period` when both are given. Custom field filters are described in `x-filter-parameters` and below.";

/// A score band's name.
#[derive(Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BandName {
    Low,
    Medium,
    High,
}

impl From<Band> for BandName {
    fn from(band: Band) -> Self {
        match band {
            Band::Low => BandName::Low,
            Band::Medium => BandName::Medium,
            Band::High => BandName::High,
        }
    }
}

/// One criterion of a customer's breakdown.
#[derive(Serialize, ToSchema)]
#[schema(as = CriterionFigures)]
pub struct CriterionItem {
    pub key: String,
    pub label: String,
    /// The customer's average on this criterion, to two decimals; null when none of their
    /// matching conversations is scored on it.
    pub avg_score: Option<f64>,
    /// The band of the average shown with one decimal, under the organisation's score bands;
    /// null when `avg_score` is.
    pub band: Option<BandName>,
    /// The customer's matching conversations scored on this criterion.
    pub scored: i64,
    /// Every customer's average on this criterion under the same conditions, to two decimals;
    /// null when no matching conversation is scored on it.
    pub organisation_avg_score: Option<f64>,
    /// The matching conversations of the organisation scored on this criterion.
    pub organisation_scored: i64,
}

/// A customer's criteria breakdown.
#[derive(Serialize, ToSchema)]
pub struct CriteriaBreakdown {
    pub customer: String,
    /// Weakest against the organisation first; criteria without a score of the customer last.
    pub criteria: Vec<CriterionItem>,
}

/// The parameters of `GET /api/v1/customers/{identifier}/criteria`: the conditions only.
pub struct CriteriaParams;

impl IntoParams for CriteriaParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        view_parameters()
    }
}

/// An average of hundredths, to two decimals.
fn average(sums: CriterionSums) -> Option<f64> {
    sums.average().map(|hundredths| hundredths.round() / 100.0)
}

#[utoipa::path(
    get,
    path = "/api/v1/customers/{identifier}/criteria",
    tag = "customers",
    summary = "A customer's average on each playbook criterion, beside the organisation's",
    description = CRITERIA_DESCRIPTION,
    params(
        ("identifier" = String, Path, description = "The customer's identifier, as `identifier` in /api/v1/customers"),
        CriteriaParams,
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an answer held: 304 when it is still this answer"),
    ),
    responses(
        (status = 200, description = "The customer's breakdown", body = CriteriaBreakdown, headers(("ETag" = String, description = "A weak tag of everything the answer depends on: the organisation's data version, its fields, criteria and score bands, the view and the dates a period resolved to"))),
        (status = 304, description = "`If-None-Match` names this answer's `ETag`: nothing changed", headers(("ETag" = String, description = "The answer's tag"))),
        (status = 400, description = "An unknown parameter, field, option or representative, or an invalid value (`bad_request`)", body = ErrorBody),
        (status = 404, description = "No such customer in the token's organisation (`not_found`)", body = ErrorBody),
        (status = 422, description = "The question took longer than the server's query budget and was stopped: narrow it (`too_broad`)", body = ErrorBody),
    ),
)]
pub async fn get_criteria(
    State(state): State<AppState>,
    Extension(client): Extension<ApiClient>,
    Path(identifier): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (question, _) = read_query(&state, &client, raw, Some(&[] as &[&str])).await?;
    // Criteria and bands are not covered by the data version: a criterion defined or
    // deleted, or bands changed, must change the tag too.
    let criteria = list_criteria(&state.db, client.org_id).await?;
    let bands: ScoreBands = crate::orgs::store::score_bands(&state.db, client.org_id).await?;
    let tag = answer_tag(
        &state,
        &client,
        &question,
        &[
            "criteria",
            &identifier,
            &format!("{criteria:?}"),
            &format!("{bands:?}"),
        ],
    )
    .await?;
    let customer_id = customer_id_of(&state, &client, &identifier).await?;
    if none_match(&headers, &tag) {
        return Ok(not_modified(&tag));
    }
    let figures = criteria_breakdown(
        &state.db,
        client.org_id,
        Subject::Customer(customer_id),
        &question.conditions,
    )
    .await?;
    let criteria = figures
        .into_iter()
        .map(|row| CriterionItem {
            avg_score: average(row.subject),
            band: bands
                .band_of_average(row.subject.score_sum, row.subject.scored)
                .map(BandName::from),
            scored: row.subject.scored,
            organisation_avg_score: average(row.organisation),
            organisation_scored: row.organisation.scored,
            key: row.criterion.key,
            label: row.criterion.label,
        })
        .collect();
    Ok(tagged(
        &tag,
        Json(CriteriaBreakdown {
            customer: identifier,
            criteria,
        }),
    ))
}
