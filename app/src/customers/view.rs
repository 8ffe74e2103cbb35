//! The Customers page. The view lives in the URL: every control navigates to the URL of the
//! next view, and the page reads its [`CustomerQuery`] from the URL, so reload, shared links,
//! back and forward all show the same thing.

use super::model::{
    group_thousands, range_label, CustomerPage, CustomerRow, InteractionPage, RepresentativeOption,
};
use super::query::{
    pager_items, CustomerQuery, Day, Period, SortDir, SortKey, HISTORY_PAGE_SIZE, MAX_EMAIL_CHARS,
    MAX_SEARCH_CHARS, PAGE_SIZE,
};
use super::server::{customer_fields, customer_representatives, list_customers, list_interactions};
use crate::auth::view::RequireReviewer;
use crate::conversations::model::ConversationKind;
use crate::error::AppError;
use crate::orgs::model::{CustomField, FieldKind};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use std::time::Duration;

/// How long typing pauses before the view follows the search box.
const TYPING_DEBOUNCE: Duration = Duration::from_millis(250);

/// Navigates to a view of the page. Refining a search replaces the history entry, so back
/// does not step through every keystroke; clicks push one.
fn go_to(query: &CustomerQuery, replace: bool) {
    let navigate = use_navigate();
    navigate(
        &query.href(),
        NavigateOptions {
            replace,
            scroll: false,
            ..Default::default()
        },
    );
}

#[component]
pub fn CustomersPage() -> impl IntoView {
    let location = use_location();
    let read = Memo::new(move |_| {
        CustomerQuery::from_pairs_noting(crate::text::parse_query_string(&location.search.get()))
    });
    let query = Memo::new(move |_| read.with(|(query, _)| query.clone()));
    // What the URL asked for that the page could not apply (a bad date range, say).
    let notes = Memo::new(move |_| read.with(|(_, notes)| notes.clone()));
    let fields = Resource::new(|| (), |_| customer_fields());
    let representatives = Resource::new(|| (), |_| customer_representatives());
    let customers = Resource::new(move || query.get(), list_customers);
    let (busy, set_busy) = signal(false);
    // The pending flag only ever changes in the browser. On the server the Transition's
    // pending effect runs as a task of its own and can outlive a render pass that Suspense
    // discards, writing to a signal that is already gone, so it is attached in the browser only.
    let set_pending: SignalSetter<bool> = if cfg!(feature = "hydrate") {
        set_busy.into()
    } else {
        SignalSetter::default()
    };

    // The gate sits inside the page, below the resources: a Suspense may render its
    // children more than once on the server, and resources created there would each run
    // and be serialized into the page again.
    view! {
        <RequireReviewer>
            <section class="page customers-page">
                <header class="page-header">
                    <h1>"Customers"</h1>
                    <p class="page-lede">
                        "Every customer your team has talked to, with how often and how well."
                    </p>
                </header>
                <div class="toolbar" role="search">
                    <SearchBox query=query />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match fields.await {
                                Ok(fields) => view! { <FieldFilters fields=fields query=query /> }.into_any(),
                                Err(error) => view! {
                                    <p class="inline-error" role="alert">
                                        "Filters are unavailable: " {error.to_string()}
                                    </p>
                                }
                                    .into_any(),
                            }
                        })}
                    </Suspense>
                    <PeriodFilter query=query />
                    <ChannelFilter query=query />
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let options = representatives.await.unwrap_or_default();
                            view! { <RepresentativeFilter options=options query=query /> }
                        })}
                    </Suspense>
                    <a class="button export" href=move || query.with(CustomerQuery::export_href) download rel="nofollow">
                        "Export CSV"
                    </a>
                    <span class="busy" class:visible=busy aria-live="polite">
                        {move || if busy.get() { "Loading…" } else { "" }}
                    </span>
                </div>
                <Show when=move || notes.with(|notes| !notes.is_empty())>
                    <p class="notice" role="status">
                        {move || notes.get().join(" ")}
                    </p>
                </Show>
                <div class="results" aria-busy=move || busy.get().to_string()>
                    <Transition
                        fallback=|| view! { <p class="loading">"Loading customers…"</p> }
                        set_pending=set_pending
                    >
                        {move || Suspend::new(async move {
                            match customers.await {
                                Ok(page) => view! { <CustomerTable page=page query=query /> }.into_any(),
                                Err(error) => view! {
                                    <LoadError
                                        what="customers"
                                        error=error
                                        retry=Callback::new(move |_| customers.refetch())
                                    />
                                }
                                    .into_any(),
                            }
                        })}
                    </Transition>
                </div>
            </section>
        </RequireReviewer>
    }
}

/// An inline error with a retry button.
#[component]
fn LoadError(what: &'static str, error: AppError, retry: Callback<()>) -> impl IntoView {
    view! {
        <div class="inline-error" role="alert">
            <p>{format!("The {what} could not be loaded. ")} {error.to_string()}</p>
            <button type="button" class="button" on:click=move |_| retry.run(())>
                "Retry"
            </button>
        </div>
    }
}

/// A text box that follows the URL and, after a pause in typing, moves the URL along.
#[component]
fn DebouncedText(
    id: String,
    label: String,
    value: Signal<String>,
    #[prop(into)] on_settle: Callback<String>,
    #[prop(optional)] search: bool,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let text = RwSignal::new(value.get_untracked());
    // Bumped on every keystroke; a pending timer only fires if it is still the latest.
    let typing = RwSignal::new(0_u64);
    let pending = RwSignal::new(false);
    // Back, forward or another control changed the URL: show its value, unless the user is
    // mid-way through typing something newer.
    Effect::new(move |_| {
        let from_url = value.get();
        if !pending.get_untracked() && text.get_untracked().trim() != from_url {
            text.set(from_url);
        }
    });
    let on_input = move |event| {
        text.set(event_target_value(&event));
        pending.set(true);
        let ticket = typing.get_untracked() + 1;
        typing.set(ticket);
        set_timeout(
            move || {
                if typing.get_untracked() == ticket {
                    pending.set(false);
                    on_settle.run(text.get_untracked());
                }
            },
            TYPING_DEBOUNCE,
        );
    };
    let input_type = if search { "search" } else { "text" };
    view! {
        <div class="control">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=input_type
                maxlength=MAX_SEARCH_CHARS.to_string()
                autocomplete="off"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || text.get()
                on:input=on_input
            />
        </div>
    }
}

#[component]
fn SearchBox(query: Memo<CustomerQuery>) -> impl IntoView {
    let value = Signal::derive(move || query.with(|q| q.search.clone()));
    let on_settle = move |text: String| {
        let current = query.get_untracked();
        let next = current.with_search(&text);
        if next != current {
            // Starting or clearing a search is a step back can return to; refining one is not.
            let refining = !current.search.is_empty() && !next.search.is_empty();
            go_to(&next, refining);
        }
    };
    view! {
        <DebouncedText
            id="customer-search".to_owned()
            label="Search customers".to_owned()
            value=value
            on_settle=on_settle
            search=true
            placeholder="Identifier or name"
        />
    }
}

#[component]
fn FieldFilters(fields: Vec<CustomField>, query: Memo<CustomerQuery>) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let key = field.key.clone();
            let id = format!("filter-{}", field.key);
            let value = Signal::derive({
                let key = key.clone();
                move || query.with(|q| q.filters.get(&key).cloned().unwrap_or_default())
            });
            let apply = {
                let key = key.clone();
                move |text: String| {
                    let next = query.get_untracked().with_filter(&key, &text);
                    if next != query.get_untracked() {
                        go_to(&next, false);
                    }
                }
            };
            match field.kind {
                FieldKind::Select => view! {
                    <div class="control">
                        <label for=id.clone()>{field.label.clone()}</label>
                        <select
                            id=id
                            prop:value=move || value.get()
                            on:change=move |event| apply(event_target_value(&event))
                        >
                            <option value="">"Any"</option>
                            {field
                                .options
                                .iter()
                                .map(|option| {
                                    let selected_value = option.clone();
                                    view! {
                                        <option
                                            value=option.clone()
                                            selected=move || value.get() == selected_value
                                        >
                                            {option.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                }
                .into_any(),
                FieldKind::Text => view! {
                    <DebouncedText id=id label=field.label.clone() value=value on_settle=apply />
                }
                .into_any(),
            }
        })
        .collect_view()
}

/// The date range: presets, or a custom from–to in whole days.
#[component]
fn PeriodFilter(query: Memo<CustomerQuery>) -> impl IntoView {
    // "Custom range" shows the two date boxes before either holds a date.
    let custom = RwSignal::new(matches!(query.get_untracked().period, Period::Range { .. }));
    Effect::new(move |_| {
        if matches!(query.get().period, Period::Range { .. }) {
            custom.set(true);
        }
    });
    let problem = RwSignal::new(None::<String>);
    let selected = move || {
        if custom.get() {
            "custom"
        } else {
            query.with(|q| q.period.param())
        }
    };
    let on_change = move |event| {
        let value = event_target_value(&event);
        problem.set(None);
        if value == "custom" {
            custom.set(true);
            return;
        }
        custom.set(false);
        let period = Period::from_param(&value).unwrap_or_default();
        let next = query.get_untracked().with_period(period);
        if next != query.get_untracked() {
            go_to(&next, false);
        }
    };
    let day_of = move |end: fn(Period) -> Option<Day>| {
        move || {
            query
                .with(|q| end(q.period))
                .map(|day| day.to_string())
                .unwrap_or_default()
        }
    };
    let from_value = day_of(|period| match period {
        Period::Range { from, .. } => from,
        _ => None,
    });
    let to_value = day_of(|period| match period {
        Period::Range { to, .. } => to,
        _ => None,
    });
    let (from_box, to_box) = (
        NodeRef::<leptos::html::Input>::new(),
        NodeRef::<leptos::html::Input>::new(),
    );
    let apply_range = move |_| {
        let read = |input: NodeRef<leptos::html::Input>| {
            input
                .get()
                .map(|element| element.value())
                .unwrap_or_default()
        };
        let (from_text, to_text) = (read(from_box), read(to_box));
        let (from, to) = (Day::parse(&from_text), Day::parse(&to_text));
        if (!from_text.is_empty() && from.is_none()) || (!to_text.is_empty() && to.is_none()) {
            problem.set(Some("Enter dates as YYYY-MM-DD.".to_owned()));
            return;
        }
        match Period::range(from, to) {
            Err(message) => problem.set(Some(message)),
            Ok(period) => {
                problem.set(None);
                let next = query.get_untracked().with_period(period);
                if next != query.get_untracked() {
                    go_to(&next, false);
                }
            }
        }
    };
    view! {
        <div class="control period">
            <label for="filter-period">"Period"</label>
            <select id="filter-period" prop:value=selected on:change=on_change>
                {Period::PRESETS
                    .into_iter()
                    .map(|preset| {
                        view! {
                            <option value=preset.param() selected=move || selected() == preset.param()>
                                {preset.label()}
                            </option>
                        }
                    })
                    .collect_view()}
                <option value="custom" selected=move || selected() == "custom">
                    "Custom range"
                </option>
            </select>
        </div>
        <Show when=move || custom.get()>
            <div class="control date">
                <label for="filter-from">"From"</label>
                <input id="filter-from" type="date" node_ref=from_box prop:value=from_value on:change=apply_range />
            </div>
            <div class="control date">
                <label for="filter-to">"To"</label>
                <input id="filter-to" type="date" node_ref=to_box prop:value=to_value on:change=apply_range />
            </div>
        </Show>
        <Show when=move || problem.with(Option::is_some)>
            <p class="field-error" role="alert">
                {move || problem.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// Voice, chat, email: any of them; none ticked means all.
#[component]
fn ChannelFilter(query: Memo<CustomerQuery>) -> impl IntoView {
    view! {
        <fieldset class="control channels">
            <legend>"Channel"</legend>
            {ConversationKind::ALL
                .into_iter()
                .map(|kind| {
                    let id = format!("filter-type-{}", kind.as_str());
                    let checked = move || query.with(|q| q.channels.contains(&kind));
                    let on_change = move |event| {
                        let next = query.get_untracked().with_channel(kind, event_target_checked(&event));
                        go_to(&next, false);
                    };
                    view! {
                        <span class="choice">
                            <input id=id.clone() type="checkbox" prop:checked=checked on:change=on_change />
                            <label for=id>{kind.name()}</label>
                        </span>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// One representative, chosen by typing part of a name or email (organisations have
/// hundreds): the browser's own type-ahead over a list of the representatives.
#[component]
fn RepresentativeFilter(
    options: Vec<RepresentativeOption>,
    query: Memo<CustomerQuery>,
) -> impl IntoView {
    let emails: Vec<String> = options.iter().map(|option| option.email.clone()).collect();
    let value = move || query.with(|q| q.rep.clone());
    let apply = move |text: String| {
        let next = query.get_untracked().with_rep(&text);
        if next != query.get_untracked() {
            go_to(&next, false);
        }
    };
    let on_input = move |event| {
        // Picking from the list applies at once; typed text applies on Enter or leaving the box.
        let text = event_target_value(&event);
        if emails
            .iter()
            .any(|email| email.eq_ignore_ascii_case(text.trim()))
        {
            apply(text);
        }
    };
    view! {
        <div class="control representative">
            <label for="filter-rep">"Representative"</label>
            <input
                id="filter-rep"
                type="text"
                list="filter-rep-options"
                placeholder="Anyone"
                autocomplete="off"
                spellcheck="false"
                maxlength=MAX_EMAIL_CHARS.to_string()
                prop:value=value
                on:input=on_input
                on:change=move |event| apply(event_target_value(&event))
            />
            <datalist id="filter-rep-options">
                {options
                    .into_iter()
                    .map(|option| view! { <option value=option.email.clone()>{option.name.clone()}</option> })
                    .collect_view()}
            </datalist>
        </div>
    }
}

#[component]
fn SortHeader(label: &'static str, key: SortKey, query: Memo<CustomerQuery>) -> impl IntoView {
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
            <button
                type="button"
                class="sort-button"
                class:sorted=move || sorted_dir().is_some()
                on:click=move |_| go_to(&query.get_untracked().with_sort_clicked(key), false)
            >
                {label}
                <span class="sort-indicator" aria-hidden="true">
                    {indicator}
                </span>
            </button>
        </th>
    }
}

#[component]
fn CustomerTable(page: CustomerPage, query: Memo<CustomerQuery>) -> impl IntoView {
    if page.rows.is_empty() {
        return view! { <EmptyState query=page.query total=page.total /> }.into_any();
    }
    let applied = page.query.clone();
    let rows = page.rows.clone();
    view! {
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
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| view! { <CustomerRowView row=row query=applied.clone() /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <Pager page=page />
    }
    .into_any()
}

#[component]
fn EmptyState(query: CustomerQuery, total: i64) -> impl IntoView {
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

#[component]
fn CustomerRowView(row: CustomerRow, query: CustomerQuery) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let toggle = move || expanded.update(|open| *open = !*open);
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        let key = event.key();
        if key == "Enter" || key == " " {
            event.prevent_default();
            toggle();
        }
    };
    let customer_id = row.id;
    let history_id = format!("history-{customer_id}");
    view! {
        <tr
            class="customer-row"
            class:expanded=move || expanded.get()
            tabindex="0"
            aria-expanded=move || expanded.get().to_string()
            aria-controls=history_id.clone()
            on:click=move |_| toggle()
            on:keydown=on_keydown
        >
            <td class="customer-col">
                <span class="identifier">{row.identifier.clone()}</span>
                {row.display_name.clone().map(|name| view! { <span class="display-name">{name}</span> })}
            </td>
            <td class="numeric">{group_thousands(row.interactions)}</td>
            <td class="numeric">{row.first_interaction.clone()}</td>
            <td class="numeric">{row.latest_interaction.clone()}</td>
            <td class="numeric">{row.avg_score.clone()}</td>
        </tr>
        <Show when=move || expanded.get()>
            <tr class="history-row" id=history_id.clone()>
                <td colspan="5">
                    <InteractionHistory customer_id=customer_id query=query.clone() />
                </td>
            </tr>
        </Show>
    }
}

#[component]
fn InteractionHistory(customer_id: i64, query: CustomerQuery) -> impl IntoView {
    let page = RwSignal::new(1_u32);
    let history = Resource::new(
        move || page.get(),
        move |page| list_interactions(customer_id, query.clone(), page),
    );
    view! {
        <div class="history">
            <Transition fallback=|| view! { <p class="loading">"Loading interactions…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(data) => view! { <HistoryTable data=data page=page /> }.into_any(),
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

fn kind_icon(kind: ConversationKind) -> impl IntoView {
    // Simple inline glyphs: no icon font or image request, and an accessible name.
    let path = match kind {
        ConversationKind::Voice => "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z",
        ConversationKind::Chat => "M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H8l-4 4V5a1 1 0 0 1 1-1z",
        ConversationKind::Email => "M3 5h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm9 7.2L20 7H4z",
    };
    view! {
        <svg class=format!("kind-icon kind-{}", kind.as_str()) viewBox="0 0 24 24" role="img" aria-label=kind.label()>
            <title>{kind.label()}</title>
            <path d=path fill="currentColor"></path>
        </svg>
    }
}

#[component]
fn HistoryTable(data: InteractionPage, page: RwSignal<u32>) -> impl IntoView {
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
                                        {kind_icon(row.kind)}
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
                                <td class="numeric">{row.score}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="history-pager" aria-label="Interaction history pages">
            <button type="button" aria-label="First page" disabled={current <= 1} on:click=move |_| page.set(1)>
                "«"
            </button>
            <button
                type="button"
                aria-label="Previous page"
                disabled={current <= 1}
                on:click=move |_| page.set(current.saturating_sub(1).max(1))
            >
                "‹"
            </button>
            <button
                type="button"
                aria-label="Next page"
                disabled={current >= last}
                on:click=move |_| page.set((current + 1).min(last))
            >
                "›"
            </button>
            <button type="button" aria-label="Last page" disabled={current >= last} on:click=move |_| page.set(last)>
                "»"
            </button>
            <span class="range">{range}</span>
        </nav>
    }
}

#[component]
fn Pager(page: CustomerPage) -> impl IntoView {
    if page.page_count <= 1 {
        let count = match page.total {
            1 => "1 customer".to_owned(),
            total => format!("{} customers", group_thousands(total)),
        };
        return view! { <p class="pager-range">{count}</p> }.into_any();
    }
    let range = format!(
        "{} customers",
        range_label(page.page, PAGE_SIZE, page.rows.len(), page.total)
    );
    let query = page.query.clone();
    let current = page.page;
    let last = page.page_count;
    let link = move |target: u32| query.with_page(target).href();
    let jump_query = page.query.clone();
    let jump_to = RwSignal::new(String::new());
    let on_jump = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Ok(target) = jump_to.get_untracked().trim().parse::<u32>() {
            go_to(&jump_query.with_page(target.clamp(1, last)), false);
        }
    };
    view! {
        <nav class="pager" aria-label="Customer pages">
            <div class="pager-links">
                <PagerLink label="First page" text="«" href=link(1) enabled={current > 1} />
                <PagerLink label="Previous page" text="‹" href=link(current.saturating_sub(1).max(1)) enabled={current > 1} />
                {pager_items(current, last)
                    .into_iter()
                    .map(|item| match item {
                        Some(number) if number == current => view! {
                            <span class="page-number current" aria-current="page">
                                {number}
                            </span>
                        }
                            .into_any(),
                        Some(number) => view! {
                            <a class="page-number" href=link(number) aria-label=format!("Page {number}")>
                                {number}
                            </a>
                        }
                            .into_any(),
                        None => view! { <span class="ellipsis" aria-hidden="true">"…"</span> }.into_any(),
                    })
                    .collect_view()}
                <PagerLink label="Next page" text="›" href=link((current + 1).min(last)) enabled={current < last} />
                <PagerLink label="Last page" text="»" href=link(last) enabled={current < last} />
            </div>
            <form class="jump" method="get" action="/customers" on:submit=on_jump>
                {page
                    .query
                    .to_pairs()
                    .into_iter()
                    .filter(|(key, _)| key != "page")
                    .map(|(key, value)| view! { <input type="hidden" name=key value=value /> })
                    .collect_view()}
                <label for="jump-to-page">"Go to page"</label>
                <input
                    id="jump-to-page"
                    name="page"
                    type="number"
                    min="1"
                    max=last.to_string()
                    inputmode="numeric"
                    prop:value=move || jump_to.get()
                    on:input=move |event| jump_to.set(event_target_value(&event))
                />
                <button type="submit" class="button">
                    "Go"
                </button>
            </form>
            <p class="pager-range">{range}</p>
        </nav>
    }
        .into_any()
}

#[component]
fn PagerLink(
    label: &'static str,
    text: &'static str,
    href: String,
    enabled: bool,
) -> impl IntoView {
    if enabled {
        view! {
            <a class="page-step" href=href aria-label=label>
                {text}
            </a>
        }
        .into_any()
    } else {
        view! {
            <span class="page-step disabled" aria-label=label aria-disabled="true">
                {text}
            </span>
        }
        .into_any()
    }
}
