//! An opened row: the customer's trend and paginated interaction history.

use super::trend_chart::TrendChart;
use crate::components::{range_label, BandMark, ChannelIcon, LoadError, Pager, Part, Step, Turn};
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
) -> impl IntoView {
    let page = RwSignal::new(first_page.max(1));
    let history = Resource::new(move || page.get(), {
        let query = query.clone();
        move |page| list_interactions(customer_id, query.clone(), page)
    });
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
            <Transition fallback=|| view! { <p class="loading">"Loading interactions…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(data) => view! { <HistoryTable data=data turn_to=turn_to /> }.into_any(),
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
pub(super) fn HistoryTable(data: Page<InteractionRow>, turn_to: Callback<u32>) -> impl IntoView {
    let current = data.page;
    let last = data.page_count;
    let range = range_label(current, HISTORY_PAGE_SIZE, data.rows.len(), data.total);
    view! {
        <table class="history-table">
            <caption>"Interaction history"</caption>
            <thead>
                <tr>
                    <th scope="col">"Conversation"</th>
                    <th scope="col">"Date"</th>
                    <th scope="col">"Representative"</th>
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
            turn=Turn::Buttons(turn_to)
            parts=HISTORY_PAGER
            range=range
        />
    }
}
