//! An opened row: the customer's trend, criteria breakdown and paginated interaction history
//! (newest first, or lowest first on one criterion: the breakdown's links).

use super::trend_chart::TrendChart;
use crate::components::{range_label, BandMark, ChannelIcon, LoadError, Pager, Part, Step, Turn};
use crate::criteria::breakdown_server::{criterion_interactions, CriterionHistory};
use crate::criteria::breakdown_view::CustomerCriteria;
use crate::customers::model::InteractionRow;
use crate::customers::query::{CustomerQuery, HISTORY_PAGE_SIZE};
use crate::customers::server::{customer_trend, list_interactions};
use crate::page::Page;
use leptos::prelude::*;

#[component]
pub(super) fn InteractionHistory(
    customer_id: i64,
    identifier: String,
    query: CustomerQuery,
    first_page: u32,
    on_page: Callback<u32>,
    /// The criterion (its key) the history is sorted by, from the address.
    by_criterion: Signal<Option<String>>,
    /// The address of the row with its history sorted by a criterion (its key), or newest
    /// first (`None`).
    sorted_link: Callback<Option<String>, String>,
) -> impl IntoView {
    let page = RwSignal::new(first_page.max(1));
    // A criterion's link starts its history from the first page. The address changes on
    // every page turn too, so only a change of criterion counts.
    Effect::watch(
        move || by_criterion.get(),
        move |criterion, previous, _| {
            if previous.is_some_and(|previous| previous != criterion) {
                page.set(1);
            }
        },
        false,
    );
    let history = Resource::new(move || (page.get(), by_criterion.get()), {
        let query = query.clone();
        move |(page, criterion)| {
            let query = query.clone();
            async move {
                match criterion {
                    Some(key) => criterion_interactions(customer_id, query, key, page).await,
                    None => list_interactions(customer_id, query, page)
                        .await
                        .map(|rows| CriterionHistory {
                            criterion_label: None,
                            rows,
                        }),
                }
            }
        }
    });
    let breakdown_query = query.clone();
    // The trend is one call per expansion, beside the first history page, not one per page.
    let trend = Resource::new(|| (), move |_| customer_trend(customer_id, query.clone()));
    let turn_to = Callback::new(move |next: u32| {
        page.set(next);
        on_page.run(next);
    });
    view! {
        <div class="history">
            <Transition fallback=|| view! { <p class="loading">"Loading the score trend…"</p> }>
                {
                    let identifier = identifier.clone();
                    move || {
                        let identifier = identifier.clone();
                        Suspend::new(async move {
                            match trend.await {
                                Ok(trend) => view! { <TrendChart trend=trend identifier=identifier /> }.into_any(),
                                Err(error) => view! {
                                    <LoadError what="score trend" error=error retry=Callback::new(move |_| trend.refetch()) />
                                }
                                    .into_any(),
                            }
                        })
                    }
                }
            </Transition>
            <CustomerCriteria
                customer_id=customer_id
                query=breakdown_query
                link=Callback::new(move |key: String| sorted_link.run(Some(key)))
            />
            <Transition fallback=|| view! { <p class="loading">"Loading interactions…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(data) => view! {
                            <HistoryTable
                                data=data.rows
                                turn=Turn::Buttons(turn_to)
                                criterion_label=data.criterion_label
                                newest_first=sorted_link.run(None)
                            />
                        }
                            .into_any(),
                        Err(error) => view! {
                            <LoadError
                                what="interactions"
                                error=error
                                retry=Callback::new(move |_| history.refetch())
                            />
                        }
                            .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// A history's pager: buttons to the first, previous, next and last page, then the range.
pub(super) const HISTORY_PAGER: &[Part] = &[
    Part::Step(Step::FIRST),
    Part::Step(Step::PREVIOUS),
    Part::Step(Step::NEXT),
    Part::Step(Step::LAST),
    Part::Range,
];

#[component]
pub(super) fn HistoryTable(
    data: Page<InteractionRow>,
    /// Buttons that turn the page in place, or links to the row's addresses (the server's).
    turn: Turn,
    /// The criterion the history is sorted by (lowest first), with a column of its scores.
    criterion_label: Option<String>,
    /// The address of the same row, newest first.
    newest_first: String,
) -> impl IntoView {
    let current = data.page;
    let last = data.page_count;
    let range = range_label(current, HISTORY_PAGE_SIZE, data.rows.len(), data.total);
    let sorted = criterion_label.is_some();
    let caption = match &criterion_label {
        Some(label) => format!("Interaction history, lowest {label} first"),
        None => "Interaction history".to_owned(),
    };
    view! {
        {sorted.then(|| view! {
            <p class="history-sort">
                <a href=newest_first.clone()>"Show newest first"</a>
            </p>
        })}
        <table class="history-table">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">"Conversation"</th>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Representative"</th>
                    {criterion_label.map(|label| view! { <th scope="col" class="numeric">{label}</th> })}
                    <th scope="col" class="numeric">
                        "Score"
                    </th>
                </tr>
            </thead>
            <tbody>
                {data
                    .rows
                    .into_iter()
                    .map(|row| {
                        view! {
                            <tr>
                                <td>
                                    <span class="conversation-cell">
                                        <ChannelIcon channel=row.channel />
                                        <a
                                            href=format!("/conversations/{}", row.conversation_id)
                                            target="_blank"
                                            rel="noopener"
                                        >
                                            {row.title}
                                        </a>
                                    </span>
                                </td>
                                <td>{row.occurred_at}</td>
                                <td>
                                    <a
                                        href=format!("/representatives/{}", row.representative_id)
                                        target="_blank"
                                        rel="noopener"
                                    >
                                        {row.representative_name}
                                    </a>
                                </td>
                                {sorted.then(|| view! {
                                    <td class="numeric">
                                        {match row.criterion_score.clone() {
                                            Some((score, band)) => view! { {score} <BandMark band=band /> }.into_any(),
                                            None => view! { <span class="no-score">"No score"</span> }.into_any(),
                                        }}
                                    </td>
                                })}
                                <td class="numeric">
                                    {row.score}
                                    <BandMark band=row.band />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <Pager
            class="history-pager"
            label="Interaction history pages"
            current=current
            last=last
            turn=turn
            parts=HISTORY_PAGER
            range=range
        />
    }
}
