//! The customers table: sortable headers, rows that open in place, the empty state.

use super::history::InteractionHistory;
use super::legend::BandLegend;
use super::opened_row::{OpenedOnServer, ServerHistory};
use super::pager::CustomerPager;
use crate::components::{group_thousands, BandMark};
use crate::criteria::breakdown_server::CriterionHistory;
use crate::customers::model::{CustomerRow, CustomersPage, Direction, RowChange};
use crate::customers::query::{CustomerQuery, RowFocus, SortDir, SortKey};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

#[component]
pub(super) fn SortHeader(
    label: &'static str,
    key: SortKey,
    query: Memo<CustomerQuery>,
) -> impl IntoView {
    let sorted_dir = move || query.with(|q| (q.sort == key).then_some(q.dir));
    let aria_sort = move || {
        sorted_dir().map(|dir| match dir {
            SortDir::Desc => "descending",
            SortDir::Asc => "ascending",
        })
    };
    let indicator = move || match sorted_dir() {
        Some(SortDir::Desc) => "▼",
        Some(SortDir::Asc) => "▲",
        None => "↕",
    };
    view! {
        <th scope="col" class="numeric sortable" aria-sort=aria_sort>
            // A link to the sorted view: it works before the client wakes, and after, the
            // router follows it in place (data-noscroll keeps the scroll position).
            <a
                class="sort-button"
                class:sorted=move || sorted_dir().is_some()
                href=move || query.with(|q| q.with_sort_clicked(key).href())
                data-noscroll=""
            >
                {label}
                <span class="sort-indicator" aria-hidden="true">
                    {indicator}
                </span>
            </a>
        </th>
    }
}

#[component]
pub(super) fn CustomerTable(
    page: CustomersPage,
    query: Memo<CustomerQuery>,
    focus: Memo<RowFocus>,
    /// The row the address opens, as the server read it (on the server's page only).
    opened: Option<OpenedOnServer>,
) -> impl IntoView {
    if page.customers.rows.is_empty() {
        return view! { <EmptyState query=page.query total=page.customers.total /> }.into_any();
    }
    let applied = page.query.clone();
    let rows = page.customers.rows.clone();
    let bands = page.bands;
    let previous_period = page.previous_period.clone();
    let compared = previous_period.is_some();
    let asked = focus.get_untracked();
    let missing = asked
        .open
        .clone()
        .filter(|open| !rows.iter().any(|row| &row.identifier == open));
    view! {
        {missing.map(|identifier| view! {
            <p class="notice" role="status">
                {format!("Customer “{identifier}” is not on this page of results.")}
            </p>
        })}
        <BandLegend bands=bands previous_period=previous_period />
        <div class="table-wrap">
            <table class="customers" aria-label="Customers">
                <thead>
                    <tr>
                        <th scope="col" class="customer-col">
                            "Customer"
                        </th>
                        <SortHeader label="Interactions" key=SortKey::Interactions query=query />
                        <SortHeader label="First Interaction" key=SortKey::First query=query />
                        <SortHeader label="Latest Interaction" key=SortKey::Latest query=query />
                        <SortHeader label="Avg Score" key=SortKey::Score query=query />
                        {compared.then(|| view! {
                            <SortHeader label="Change" key=SortKey::Change query=query />
                        })}
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let open = asked.open.as_deref() == Some(row.identifier.as_str());
                            let hpage = if open { asked.hpage } else { 1 };
                            let from_server = opened
                                .as_ref()
                                .filter(|opened| open && opened.identifier == row.identifier)
                                .map(|opened| opened.history.clone());
                            // The address sorts the history of the row it opens.
                            let identifier = row.identifier.clone();
                            let by_criterion = Signal::derive(move || {
                                focus.with(|f| {
                                    f.hsort.clone().filter(|_| f.open.as_deref() == Some(identifier.as_str()))
                                })
                            });
                            view! {
                                <CustomerRowView
                                    row=row
                                    applied=applied.clone()
                                    query=query
                                    open=open
                                    hpage=hpage
                                    by_criterion=by_criterion
                                    compared=compared
                                    from_server=from_server
                                />
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <CustomerPager page=page />
    }
    .into_any()
}

#[component]
pub(super) fn EmptyState(query: CustomerQuery, total: i64) -> impl IntoView {
    let message = match (query.search.is_empty(), !query.has_conditions()) {
        (true, true) if total == 0 => {
            "No customers yet: customers appear here once a conversation with them is scored."
                .to_owned()
        }
        (false, true) => format!("No customers match “{}”.", query.search),
        (true, false) => "No customers have conversations matching these filters.".to_owned(),
        _ => format!("No customers match “{}” with these filters.", query.search),
    };
    let clear = CustomerQuery::default();
    view! {
        <div class="empty-state" role="status">
            <p>{message}</p>
            <a class="button" href=clear.href()>
                "Show all customers"
            </a>
        </div>
    }
}

/// The rows opened on the page, each with its history page, so that refreshing the table in
/// place (the live notice's Update) opens them again where they were.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct OpenedRows(RwSignal<std::collections::HashMap<String, u32>>);

impl OpenedRows {
    pub(super) fn forget_all(self) {
        self.0.update(std::collections::HashMap::clear);
    }

    fn page_of(self, identifier: &str) -> Option<u32> {
        self.0
            .with_untracked(|opened| opened.get(identifier).copied())
    }

    fn note(self, identifier: &str, open: bool, hpage: u32) {
        self.0.update(|opened| {
            if open {
                opened.insert(identifier.to_owned(), hpage);
            } else {
                opened.remove(identifier);
            }
        });
    }
}

#[component]
pub(super) fn CustomerRowView(
    row: CustomerRow,
    /// The view the server applied: the history and trend are read under it.
    applied: CustomerQuery,
    /// The view in the address, which opening a row extends with `open=`.
    query: Memo<CustomerQuery>,
    open: bool,
    hpage: u32,
    /// The criterion (its key) the address sorts this row's history by.
    by_criterion: Signal<Option<String>>,
    /// The table has a Change column.
    compared: bool,
    /// This row's history as the server read it, shown until the client opens the row live.
    from_server: Option<CriterionHistory>,
) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let from_server = RwSignal::new(from_server);
    let shown_open = move || expanded.get() || from_server.with(Option::is_some);
    let opened = use_context::<OpenedRows>().unwrap_or_default();
    let remembered = opened.page_of(&row.identifier);
    let open = open || remembered.is_some();
    let hpage = remembered.unwrap_or(hpage);
    // A row the address opens is opened live in the browser, once the page is live: its
    // history, trend and criteria then load as for a click, in place of the server's plain
    // history. (The live history's resources, created by the server in a second render
    // pass, would no longer match the client's.)
    Effect::new(move |_| {
        if open {
            from_server.set(None);
            expanded.set(true);
        }
    });
    let identifier = row.identifier.clone();
    // The address names the row last opened (and its history page and sort), so it can be
    // sent on. Opening a row starts it newest first; paging keeps the sort.
    let show_in_address = {
        let identifier = identifier.clone();
        move |open: bool, hpage: u32, keep_sort: bool| {
            opened.note(&identifier, open, hpage);
            let current = query.get_untracked();
            let sort = if keep_sort {
                by_criterion.get_untracked()
            } else {
                None
            };
            let address = if open {
                RowFocus::href_sorted(&current, &identifier, hpage, sort.as_deref())
            } else {
                current.href()
            };
            go_to_address(&address);
        }
    };
    let toggle = {
        let show_in_address = show_in_address.clone();
        move || {
            let open = !expanded.get_untracked();
            expanded.set(open);
            show_in_address(open, 1, false);
        }
    };
    let toggle_by_key = toggle.clone();
    let toggle_href = {
        let identifier = identifier.clone();
        move || {
            let current = query.get();
            if shown_open() {
                current.href()
            } else {
                RowFocus::href(&current, &identifier, 1)
            }
        }
    };
    let customer_id = row.id;
    let history_id = format!("history-{customer_id}");
    view! {
        // Click anywhere on the row opens it; the button in its first cell is the control that
        // keyboards and screen readers use (the disclosure pattern).
        <tr class="customer-row" class:expanded=shown_open on:click=move |_| toggle()>
            <td class="customer-col">
                // A link to the address that opens (or closes) the row, so it works before
                // the client wakes; once awake, the row opens in place (the click reaches the
                // row) and the link only says where. A disclosure button to assistive
                // technology, which Space works too.
                <a
                    class="row-toggle"
                    role="button"
                    href=toggle_href
                    data-noscroll=""
                    aria-expanded=move || shown_open().to_string()
                    aria-controls=history_id.clone()
                    on:click=|event| event.prevent_default()
                    on:keydown=move |event: web_sys::KeyboardEvent| {
                        if event.key() == " " {
                            event.prevent_default();
                            toggle_by_key();
                        }
                    }
                >
                    <span class="chevron" aria-hidden="true"></span>
                    <span class="customer-name">
                        <span class="identifier">{row.identifier.clone()}</span>
                        {row.display_name.clone().map(|name| view! { <span class="display-name">{name}</span> })}
                    </span>
                </a>
            </td>
            <td class="numeric">{group_thousands(row.interactions)}</td>
            <td class="numeric">{row.first_interaction.clone()}</td>
            <td class="numeric">{row.latest_interaction.clone()}</td>
            <td class="numeric">
                {row.avg_score.clone()}
                {row.avg_band.map(|band| view! { <BandMark band=band /> })}
                {row.small_sample.then(|| view! { <SmallSampleMark /> })}
            </td>
            {compared.then(|| view! { <ChangeCell change=row.change.clone() /> })}
        </tr>
        {
            let (history_id, identifier) = (history_id.clone(), identifier.clone());
            move || from_server.get().map(|history| view! {
                <tr class="history-row" id=history_id.clone()>
                    <td colspan=if compared { "6" } else { "5" }>
                        <ServerHistory
                            history=history
                            identifier=identifier.clone()
                            query=query
                            by_criterion=by_criterion.get_untracked()
                        />
                    </td>
                </tr>
            })
        }
        <Show when=move || expanded.get()>
            <tr class="history-row" id=history_id.clone()>
                <td colspan=if compared { "6" } else { "5" }>
                    <InteractionHistory
                        customer_id=customer_id
                        identifier=identifier.clone()
                        query=applied.clone()
                        first_page=hpage
                        on_page=Callback::new({
                            let show_in_address = show_in_address.clone();
                            move |page: u32| show_in_address(true, page, true)
                        })
                        by_criterion=by_criterion
                        sorted_link=Callback::new({
                            let identifier = identifier.clone();
                            move |key: Option<String>| {
                                RowFocus::href_sorted(&query.get_untracked(), &identifier, 1, key.as_deref())
                            }
                        })
                    />
                </td>
            </tr>
        </Show>
    }
}

/// Replaces the address without a new history entry or a scroll.
pub(super) fn go_to_address(address: &str) {
    let navigate = use_navigate();
    navigate(
        address,
        NavigateOptions {
            replace: true,
            scroll: false,
            ..Default::default()
        },
    );
}

/// The mark of an average over fewer than 3 scored conversations; the legend explains it.
#[component]
fn SmallSampleMark() -> impl IntoView {
    view! {
        <span class="small-sample">
            <span class="sample-mark" aria-hidden="true">"*"</span>
            <span class="visually-hidden">"(small sample: fewer than 3 scored conversations)"</span>
        </span>
    }
}

/// This period's average against the previous period's: a sign, an arrow, and words for
/// screen readers; "New" without a scored conversation then.
#[component]
fn ChangeCell(change: Option<RowChange>) -> impl IntoView {
    let cell = match change {
        None => ().into_any(),
        Some(RowChange::New) => view! {
            <span class="change new">"New"</span>
            <span class="visually-hidden">": no scored conversation in the previous period"</span>
        }
        .into_any(),
        Some(RowChange::Moved {
            delta,
            direction,
            previous_avg,
            previous_interactions: _,
            uncertain,
        }) => {
            let (class, arrow, words) = match direction {
                Direction::Up => (
                    "change up",
                    "▲",
                    format!("up {} from {previous_avg}", &delta[1..]),
                ),
                Direction::Down => (
                    "change down",
                    "▼",
                    format!(
                        "down {} from {previous_avg}",
                        delta.trim_start_matches('\u{2212}')
                    ),
                ),
                Direction::Flat => ("change flat", "▶", format!("no change from {previous_avg}")),
            };
            view! {
                <span class=class aria-hidden="true">
                    <span class="change-arrow">{arrow}</span>
                    {delta}
                </span>
                <span class="visually-hidden">{words}</span>
                {uncertain.then(|| view! {
                    <span class="uncertain-change">
                        <span class="uncertain-mark" aria-hidden="true">"?"</span>
                        <span class="visually-hidden">
                            " (uncertain: a period with fewer than 3 scored conversations)"
                        </span>
                    </span>
                })}
            }
            .into_any()
        }
    };
    view! { <td class="numeric change-col">{cell}</td> }
}
