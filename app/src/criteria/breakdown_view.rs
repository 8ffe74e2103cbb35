//! The criteria breakdown as a table: in an opened Customers row (each criterion linking to
//! the row's history sorted by it) and on a representative's page (whose resource the page
//! creates beside its profile's, outside its Suspense).

use super::breakdown::{Breakdown, CriterionRow};
use super::breakdown_server::customer_criteria;
use crate::components::{group_thousands, BandMark, LoadError};
use crate::customers::query::CustomerQuery;
use crate::error::AppError;
use leptos::prelude::*;

/// An opened row's breakdown under the page's view. `link` gives the address of the row's
/// history sorted by a criterion (its key).
#[component]
pub fn CustomerCriteria(
    customer_id: i64,
    query: CustomerQuery,
    link: Callback<String, String>,
) -> impl IntoView {
    let breakdown = Resource::new(
        || (),
        move |_| customer_criteria(customer_id, query.clone()),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading the criteria…"</p> }>
            {move || Suspend::new(async move {
                let answer = breakdown.await;
                view! {
                    <BreakdownAnswer
                        answer=answer
                        subject="This customer"
                        link=Some(link)
                        retry=Callback::new(move |_| breakdown.refetch())
                    />
                }
            })}
        </Transition>
    }
}

/// A breakdown as answered: its table, a sentence when the organisation has no criteria, or
/// the error with a retry. `subject` heads the subject's column; `link` (when given) makes
/// each criterion a link to that address.
#[component]
pub fn BreakdownAnswer(
    answer: Result<Breakdown, AppError>,
    subject: &'static str,
    link: Option<Callback<String, String>>,
    retry: Callback<()>,
) -> impl IntoView {
    match answer {
        Ok(breakdown) if breakdown.rows.is_empty() => view! {
            <p class="criteria-empty">"No playbook criteria are defined for this organisation."</p>
        }
        .into_any(),
        Ok(breakdown) => view! {
            <BreakdownTable breakdown=breakdown subject=subject link=link />
        }
        .into_any(),
        Err(error) => view! { <LoadError what="criteria" error=error retry=retry /> }.into_any(),
    }
}

/// An average with its band mark, or "No score".
fn average_cell(average: String, band: Option<crate::orgs::model::Band>) -> impl IntoView {
    if average.is_empty() {
        view! { <span class="no-score">"No score"</span> }.into_any()
    } else {
        view! {
            {average}
            {band.map(|band| view! { <BandMark band=band /> })}
        }
        .into_any()
    }
}

#[component]
fn BreakdownTable(
    breakdown: Breakdown,
    subject: &'static str,
    link: Option<Callback<String, String>>,
) -> impl IntoView {
    let rows = breakdown.rows.into_iter().map(move |row: CriterionRow| {
        let name = match link {
            Some(link) => view! {
                <a href=link.run(row.key.clone())>
                    {row.label.clone()}
                    <span class="visually-hidden">": conversations, lowest score first"</span>
                </a>
            }
            .into_any(),
            None => view! { {row.label.clone()} }.into_any(),
        };
        view! {
            <tr>
                <th scope="row">{name}</th>
                <td class="numeric">{average_cell(row.avg_score, row.band)}</td>
                <td class="numeric">{group_thousands(row.scored)}</td>
                <td class="numeric">
                    {average_cell(row.organisation_avg_score, row.organisation_band)}
                </td>
            </tr>
        }
    });
    view! {
        <div class="table-wrap">
        <table class="history-table criteria-table">
            <caption>"Criteria, weakest against the organisation first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Criterion"</th>
                    <th scope="col" class="numeric">{subject}</th>
                    <th scope="col" class="numeric">"Conversations scored"</th>
                    <th scope="col" class="numeric">"Organisation"</th>
                </tr>
            </thead>
            <tbody>{rows.collect_view()}</tbody>
        </table>
        </div>
    }
}
