//! The Customers page. The view lives in the URL: every control navigates to the URL of the
//! next view, and the page reads its [`CustomerQuery`] from the URL, so reload, shared links,
//! back and forward all show the same thing.

use super::model::{CustomerPage, CustomerRow, InteractionRow, RepresentativeOption};
use super::query::{
    CustomerQuery, Day, Period, RowFocus, SortDir, SortKey, HISTORY_PAGE_SIZE, MAX_EMAIL_CHARS,
    MAX_SEARCH_CHARS, PAGE_SIZE,
};
use super::saved_views::{SavedView, MAX_SAVED_VIEW_NAME_CHARS};
use super::server::{
    customer_fields, customer_representatives, customer_trend, delete_saved_view, list_customers,
    list_interactions, list_saved_views, rename_saved_view, save_view,
};
use super::trend::{moving_average, Trend, TREND_WINDOW};
use crate::auth::view::RequireReviewer;
use crate::components::{
    group_thousands, range_label, BandMark, DebouncedText, KindIcon, LoadError, Pager, Part, Step,
    Turn,
};
use crate::conversations::model::ConversationKind;
use crate::error::AppError;
use crate::orgs::model::{Band, CustomField, FieldKind, ScoreBands};
use crate::page::Page;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

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
    // The row the address asks to open (`open=`, `hpage=`): read apart from the view, so that
    // opening a row rewrites the address without asking for the table again.
    let focus = Memo::new(move |_| {
        RowFocus::from_pairs(crate::text::parse_query_string(&location.search.get()))
    });
    let search_box = NodeRef::<leptos::html::Input>::new();
    // `/` anywhere but in a text field goes to the search box, as in most web apps.
    let slash = window_event_listener(leptos::ev::keydown, move |event| {
        if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let typing = event.target().is_some_and(|_| {
            let element = event_target::<web_sys::Element>(&event);
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || element.has_attribute("contenteditable")
        });
        if !typing {
            if let Some(input) = search_box.get_untracked() {
                event.prevent_default();
                let _ = input.focus();
                input.select();
            }
        }
    });
    on_cleanup(move || slash.remove());
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

    // Submitting the filters (Enter) once the client is awake: the view the form names.
    let on_filters_submit = move |event: leptos::ev::SubmitEvent| {
        use leptos::wasm_bindgen::JsCast;
        event.prevent_default();
        if let Some(form) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
        {
            let pairs = super::early_input::form_pairs(&form);
            go_to(&CustomerQuery::from_pairs(pairs), false);
        }
    };
    // What was typed or ticked before the client woke is adopted, not reset: its view is
    // shown (the search typed runs) and focus and caret go back where they were.
    Effect::new(move |_| {
        let Some(captured) = super::early_input::take() else {
            return;
        };
        if !captured.pairs.is_empty() {
            let current = query.get_untracked();
            let mut adopted = CustomerQuery::from_pairs(captured.pairs);
            // The form does not carry the page: unchanged filters keep it.
            adopted.page = current.page;
            if adopted != current {
                adopted.page = 1;
                go_to(&adopted, true);
            }
        }
        if let Some(focus) = captured.focus {
            set_timeout(
                move || super::early_input::restore_focus(&focus),
                std::time::Duration::from_millis(50),
            );
        }
    });
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
                    // A plain GET form of the page's address: usable before the client wakes
                    // (Enter or Apply submits it), and read again when it does.
                    <form
                        class=super::early_input::FILTER_FORM_CLASS
                        method="get"
                        action="/customers"
                        on:submit=on_filters_submit
                    >
                        <SearchBox query=query node_ref=search_box />
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
                        <button type="submit" class="button apply">"Apply"</button>
                        <input type="hidden" name="sort" value=move || query.with(|q| q.sort.param()) prop:value=move || query.with(|q| q.sort.param()) />
                        <input type="hidden" name="dir" value=move || query.with(|q| q.dir.param()) prop:value=move || query.with(|q| q.dir.param()) />
                    </form>
                    <SavedViewsMenu query=query />
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
                                Ok(page) => {
                                    let known = fields.await.unwrap_or_default();
                                    let asked = query.get_untracked();
                                    let dropped = dropped_filter_notes(&asked, &page.query, &known);
                                    view! {
                                        {(!dropped.is_empty()).then(|| view! {
                                            <p class="notice" role="status">{dropped.join(" ")}</p>
                                        })}
                                        <CustomerTable page=page query=query focus=focus />
                                    }
                                        .into_any()
                                }
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

#[component]
fn SearchBox(query: Memo<CustomerQuery>, node_ref: NodeRef<leptos::html::Input>) -> impl IntoView {
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
            max_chars=MAX_SEARCH_CHARS
            search=true
            placeholder="Identifier or name"
            node_ref=node_ref
            name="q"
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
                            name=format!("{}{key}", super::query::FILTER_PREFIX)
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
                    <DebouncedText id=id label=field.label.clone() value=value on_settle=apply max_chars=MAX_SEARCH_CHARS name=format!("{}{key}", super::query::FILTER_PREFIX) />
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
            <select id="filter-period" name="period" prop:value=selected on:change=on_change>
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
        // Always in the form, shown for a custom range (before the client wakes, by CSS when
        // "Custom range" is chosen).
        <div class="control date" class:hidden=move || !custom.get()>
            <label for="filter-from">"From"</label>
            <input id="filter-from" name="from" type="date" node_ref=from_box value=from_value prop:value=from_value on:change=apply_range />
        </div>
        <div class="control date" class:hidden=move || !custom.get()>
            <label for="filter-to">"To"</label>
            <input id="filter-to" name="to" type="date" node_ref=to_box value=to_value prop:value=to_value on:change=apply_range />
        </div>
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
                            <input id=id.clone() type="checkbox" name="type" value=kind.as_str() checked=checked prop:checked=checked on:change=on_change />
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
                name="rep"
                type="text"
                list="filter-rep-options"
                placeholder="Anyone"
                autocomplete="off"
                spellcheck="false"
                maxlength=MAX_EMAIL_CHARS.to_string()
                value=value
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
fn CustomerTable(
    page: CustomerPage,
    query: Memo<CustomerQuery>,
    focus: Memo<RowFocus>,
) -> impl IntoView {
    if page.customers.rows.is_empty() {
        return view! { <EmptyState query=page.query total=page.customers.total /> }.into_any();
    }
    let applied = page.query.clone();
    let rows = page.customers.rows.clone();
    let bands = page.bands;
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
        <BandLegend bands=bands />
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
                        .map(|row| {
                            let open = asked.open.as_deref() == Some(row.identifier.as_str());
                            let hpage = if open { asked.hpage } else { 1 };
                            view! {
                                <CustomerRowView
                                    row=row
                                    applied=applied.clone()
                                    query=query
                                    open=open
                                    hpage=hpage
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
fn CustomerRowView(
    row: CustomerRow,
    /// The view the server applied: the history and trend are read under it.
    applied: CustomerQuery,
    /// The view in the address, which opening a row extends with `open=`.
    query: Memo<CustomerQuery>,
    open: bool,
    hpage: u32,
) -> impl IntoView {
    let expanded = RwSignal::new(false);
    // A row the address opens is opened in the browser, once the page is live: its history
    // and trend then load as for a click. (Rendered open by the server, their resources
    // would be created in a second render pass there and no longer match the client's.)
    Effect::new(move |_| {
        if open {
            expanded.set(true);
        }
    });
    let identifier = row.identifier.clone();
    // The address names the row last opened (and its history page), so it can be sent on.
    let show_in_address = {
        let identifier = identifier.clone();
        move |open: bool, hpage: u32| {
            let current = query.get_untracked();
            let address = if open {
                RowFocus::href(&current, &identifier, hpage)
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
            show_in_address(open, 1);
        }
    };
    let toggle_by_key = toggle.clone();
    let toggle_href = {
        let identifier = identifier.clone();
        move || {
            let current = query.get();
            if expanded.get() {
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
        <tr class="customer-row" class:expanded=move || expanded.get() on:click=move |_| toggle()>
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
                    aria-expanded=move || expanded.get().to_string()
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
            </td>
        </tr>
        <Show when=move || expanded.get()>
            <tr class="history-row" id=history_id.clone()>
                <td colspan="5">
                    <InteractionHistory
                        customer_id=customer_id
                        identifier=identifier.clone()
                        query=applied.clone()
                        first_page=hpage
                        on_page=Callback::new({
                            let show_in_address = show_in_address.clone();
                            move |page: u32| show_in_address(true, page)
                        })
                    />
                </td>
            </tr>
        </Show>
    }
}

/// Replaces the address without a new history entry or a scroll.
fn go_to_address(address: &str) {
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

#[component]
fn InteractionHistory(
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

/// What the bands mean, on the page beside the scores that show them.
#[component]
fn BandLegend(bands: ScoreBands) -> impl IntoView {
    view! {
        <ul class="band-legend" aria-label="Score bands">
            {Band::ALL
                .into_iter()
                .map(|band| {
                    let covers = bands.describe(band);
                    let covers = match band {
                        Band::Low => covers.to_lowercase(),
                        _ => covers,
                    };
                    view! {
                        <li>
                            <span class=format!("band {}", band.class()) aria-hidden="true">{band.glyph()}</span>
                            {format!("{}: {covers}", band.name())}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// The drawing area of the trend, in SVG user units.
const CHART_WIDTH: f64 = 640.0;
const CHART_HEIGHT: f64 = 150.0;
const CHART_LEFT: f64 = 34.0;
const CHART_RIGHT: f64 = 10.0;
const CHART_TOP: f64 = 10.0;
const CHART_BOTTOM: f64 = 24.0;

/// The row's scores over time: a point per conversation, the moving average, the band edges.
#[component]
fn TrendChart(trend: Trend, identifier: String) -> impl IntoView {
    let caption_id = format!(
        "trend-caption-{}",
        crate::text::encode_component(&identifier)
    );
    let points = trend.points;
    let bands = trend.bands;
    let drawn = points.len();
    let (start, end) = (
        points.first().map_or(0, |p| p.at_ms),
        points.last().map_or(0, |p| p.at_ms),
    );
    let span = (end - start).max(1) as f64;
    let plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;
    let plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
    let x = move |at_ms: i64| {
        if end == start {
            CHART_LEFT + plot_width / 2.0
        } else {
            CHART_LEFT + (at_ms - start) as f64 / span * plot_width
        }
    };
    let y = move |points_value: f64| {
        CHART_TOP + (1.0 - points_value.clamp(0.0, 100.0) / 100.0) * plot_height
    };
    let average = moving_average(&points, TREND_WINDOW);
    let line: String = points
        .iter()
        .zip(&average)
        .map(|(point, mean)| format!("{:.1},{:.1}", x(point.at_ms), y(*mean)))
        .collect::<Vec<_>>()
        .join(" ");
    let edges = [bands.low, bands.high].map(|edge| {
        let at = y(edge as f64 / 100.0);
        view! {
            <line class="band-edge" x1=CHART_LEFT x2=CHART_WIDTH - CHART_RIGHT y1=at y2=at></line>
            <text class="axis-label" x=CHART_LEFT - 4.0 y=at + 4.0 text-anchor="end">
                {crate::conversations::model::format_score(edge)}
            </text>
        }
    });
    let dots = points
        .iter()
        .map(|point| {
            let band = bands.band(point.score);
            view! {
                <circle
                    class=format!("trend-point {}", band.class())
                    cx=format!("{:.1}", x(point.at_ms))
                    cy=format!("{:.1}", y(point.score as f64 / 100.0))
                    r="3"
                ></circle>
            }
        })
        .collect_view();
    let more = (trend.total > drawn as i64).then(|| {
        format!(
            " The chart shows the latest {} of {} conversations.",
            group_thousands(drawn as i64),
            group_thousands(trend.total)
        )
    });
    view! {
        <figure class="trend">
            <svg
                class="trend-chart"
                viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("Score trend of {identifier}")
                aria-describedby=caption_id.clone()
            >
                <rect class="trend-frame" x=CHART_LEFT y=CHART_TOP width=plot_width height=plot_height></rect>
                {edges}
                {(drawn > 1).then(|| view! { <polyline class="trend-average" points=line></polyline> })}
                {dots}
                <text class="axis-label" x=CHART_LEFT y=CHART_HEIGHT - 6.0>{trend.first_label.clone()}</text>
                <text class="axis-label" x=CHART_WIDTH - CHART_RIGHT y=CHART_HEIGHT - 6.0 text-anchor="end">
                    {trend.last_label.clone()}
                </text>
            </svg>
            <figcaption id=caption_id>{trend.summary.clone()} {more}</figcaption>
        </figure>
    }
}

/// Why filters in the address were not applied: a field the organisation no longer has (a
/// saved view or a link older than a field's deletion), or a choice a select field lacks.
fn dropped_filter_notes(
    asked: &CustomerQuery,
    applied: &CustomerQuery,
    fields: &[CustomField],
) -> Vec<String> {
    asked
        .filters
        .iter()
        .filter(|(key, _)| !applied.filters.contains_key(*key))
        .map(
            |(key, value)| match fields.iter().find(|field| &field.key == key) {
                Some(field) => format!(
                    "The filter “{}: {value}” was dropped: it is not one of the field’s choices.",
                    field.label
                ),
                None => format!(
                    "The filter on “{key}” was dropped: the organisation no longer has that field."
                ),
            },
        )
        .collect()
}

/// A history's pager: buttons to the first, previous, next and last page, then the range.
const HISTORY_PAGER: &[Part] = &[
    Part::Step(Step::FIRST),
    Part::Step(Step::PREVIOUS),
    Part::Step(Step::NEXT),
    Part::Step(Step::LAST),
    Part::Range,
];

#[component]
fn HistoryTable(data: Page<InteractionRow>, turn_to: Callback<u32>) -> impl IntoView {
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
                                        <KindIcon kind=row.kind />
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

/// The table's steps, with the page numbers between the backward and the forward ones.
const CUSTOMER_PAGER: &[Part] = &[
    Part::Step(Step::FIRST),
    Part::Step(Step::PREVIOUS),
    Part::Numbers,
    Part::Step(Step::NEXT),
    Part::Step(Step::LAST),
];

/// The table's pager: links to every page, the numbers around this one, a jump to any page,
/// and the range; one page shows the count alone.
#[component]
fn CustomerPager(page: CustomerPage) -> impl IntoView {
    let customers = &page.customers;
    if customers.page_count <= 1 {
        let count = match customers.total {
            1 => "1 customer".to_owned(),
            total => format!("{} customers", group_thousands(total)),
        };
        return view! { <p class="pager-range">{count}</p> }.into_any();
    }
    let range = format!(
        "{} customers",
        range_label(
            customers.page,
            PAGE_SIZE,
            customers.rows.len(),
            customers.total
        )
    );
    let current = customers.page;
    let last = customers.page_count;
    let query = page.query.clone();
    let link = Callback::new(move |target: u32| query.with_page(target).href());
    let jump_query = page.query.clone();
    let jump_to = RwSignal::new(String::new());
    let on_jump = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Ok(target) = jump_to.get_untracked().trim().parse::<u32>() {
            go_to(&jump_query.with_page(target.clamp(1, last)), false);
        }
    };
    view! {
        <Pager
            class="pager"
            label="Customer pages"
            current=current
            last=last
            turn=Turn::Links(link)
            parts=CUSTOMER_PAGER
            parts_class="pager-links"
        >
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
        </Pager>
    }
    .into_any()
}

/// The person's saved views: a button beside the filters opens a panel that lists them
/// (each opens its view), saves the current view under a name, renames and deletes. The list
/// is read when the panel first opens, in the browser, so pages render without it.
#[component]
fn SavedViewsMenu(query: Memo<CustomerQuery>) -> impl IntoView {
    let open = RwSignal::new(false);
    let views = RwSignal::new(None::<Vec<SavedView>>);
    let status = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<i64>);
    let new_name = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let report = move |result: Result<String, AppError>| match result {
        Ok(message) => {
            problem.set(String::new());
            status.set(message);
        }
        Err(error) => {
            status.set(String::new());
            problem.set(error.to_string());
        }
    };
    let reload = move || {
        leptos::task::spawn_local(async move {
            match list_saved_views().await {
                Ok(list) => views.set(Some(list)),
                Err(error) => problem.set(format!("Saved views could not be loaded. {error}")),
            }
        });
    };
    let toggle = move |_| {
        let now_open = !open.get_untracked();
        open.set(now_open);
        if now_open && views.get_untracked().is_none() {
            reload();
        }
    };
    let on_save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let chosen = name.get_untracked();
        let current = query.get_untracked();
        leptos::task::spawn_local(async move {
            let result = save_view(chosen, current).await;
            busy.set(false);
            if result.is_ok() {
                name.set(String::new());
                reload();
            }
            report(result.map(|saved| format!("Saved “{}”.", saved.name)));
        });
    };
    let on_rename = move |id: i64| {
        let chosen = new_name.get_untracked();
        leptos::task::spawn_local(async move {
            let result = rename_saved_view(id, chosen).await;
            if result.is_ok() {
                editing.set(None);
                reload();
            }
            report(result.map(|renamed| format!("Renamed to “{}”.", renamed.name)));
        });
    };
    let on_delete = move |view: SavedView| {
        leptos::task::spawn_local(async move {
            let result = delete_saved_view(view.id).await;
            if result.is_ok() {
                reload();
            }
            report(result.map(|_| format!("Deleted “{}”.", view.name)));
        });
    };
    let button = NodeRef::<leptos::html::Button>::new();
    let container = NodeRef::<leptos::html::Div>::new();
    let on_panel_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" && editing.get_untracked().is_none() {
            open.set(false);
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    // The panel lies over the table: when focus moves on past it, it closes, so nothing that
    // has focus is ever hidden under it (WCAG 2.4.11).
    let on_focus_out = move |event: leptos::ev::FocusEvent| {
        let leaving = match (event.related_target(), container.get_untracked()) {
            (Some(next), Some(container)) => {
                use leptos::wasm_bindgen::JsCast;
                !next
                    .dyn_ref::<web_sys::Node>()
                    .is_some_and(|node| container.contains(Some(node)))
            }
            _ => false,
        };
        if leaving {
            open.set(false);
        }
    };
    view! {
        <div class="saved-views" node_ref=container on:focusout=on_focus_out>
            <button
                type="button"
                class="button"
                node_ref=button
                aria-expanded=move || open.get().to_string()
                aria-controls="saved-views-panel"
                on:click=toggle
            >
                "Saved views"
            </button>
            <div
                id="saved-views-panel"
                class="saved-views-panel"
                hidden=move || !open.get()
                on:keydown=on_panel_keydown
            >
                <h2 class="panel-title">"Saved views"</h2>
                {move || match views.get() {
                    None => view! { <p class="loading">"Loading saved views…"</p> }.into_any(),
                    Some(list) if list.is_empty() => view! {
                        <p class="panel-empty">"No saved views yet. Name the current view below to keep it."</p>
                    }
                        .into_any(),
                    Some(list) => view! {
                        <ul class="saved-view-list">
                            {list
                                .into_iter()
                                .map(|saved| {
                                    let id = saved.id;
                                    let label = saved.name.clone();
                                    let for_delete = saved.clone();
                                    let input_id = format!("rename-view-{id}");
                                    view! {
                                        <li>
                                            <Show
                                                when=move || editing.get() == Some(id)
                                                fallback={
                                                    let saved = saved.clone();
                                                    let label = label.clone();
                                                    let for_delete = for_delete.clone();
                                                    move || {
                                                        let label = label.clone();
                                                        let for_delete = for_delete.clone();
                                                        view! {
                                                            <a class="saved-view-link" href=saved.href() on:click=move |_| open.set(false)>
                                                                {saved.name.clone()}
                                                            </a>
                                                            <span class="saved-view-actions">
                                                                <button
                                                                    type="button"
                                                                    class="link-button"
                                                                    aria-label=format!("Rename {label}")
                                                                    on:click={
                                                                        let label = label.clone();
                                                                        move |_| {
                                                                            new_name.set(label.clone());
                                                                            editing.set(Some(id));
                                                                        }
                                                                    }
                                                                >
                                                                    "Rename"
                                                                </button>
                                                                <button
                                                                    type="button"
                                                                    class="link-button danger"
                                                                    aria-label=format!("Delete {label}")
                                                                    on:click=move |_| on_delete(for_delete.clone())
                                                                >
                                                                    "Delete"
                                                                </button>
                                                            </span>
                                                        }
                                                    }
                                                }
                                            >
                                                <form
                                                    class="rename-form"
                                                    on:submit=move |event: leptos::ev::SubmitEvent| {
                                                        event.prevent_default();
                                                        on_rename(id);
                                                    }
                                                >
                                                    <label for=input_id.clone()>{format!("New name for {}", label)}</label>
                                                    <input
                                                        id=input_id.clone()
                                                        type="text"
                                                        maxlength=MAX_SAVED_VIEW_NAME_CHARS.to_string()
                                                        prop:value=move || new_name.get()
                                                        on:input=move |event| new_name.set(event_target_value(&event))
                                                        on:keydown=move |event: web_sys::KeyboardEvent| {
                                                            if event.key() == "Escape" {
                                                                event.prevent_default();
                                                                editing.set(None);
                                                            }
                                                        }
                                                    />
                                                    <button type="submit" class="button">"Save name"</button>
                                                    <button type="button" class="button quiet" on:click=move |_| editing.set(None)>
                                                        "Cancel"
                                                    </button>
                                                </form>
                                            </Show>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any(),
                }}
                <form class="save-view-form" on:submit=on_save>
                    <label for="save-view-name">"Name this view"</label>
                    <div class="save-view-row">
                        <input
                            id="save-view-name"
                            type="text"
                            required
                            maxlength=MAX_SAVED_VIEW_NAME_CHARS.to_string()
                            autocomplete="off"
                            prop:value=move || name.get()
                            on:input=move |event| name.set(event_target_value(&event))
                        />
                        <button type="submit" class="button" disabled=move || busy.get()>
                            "Save view"
                        </button>
                    </div>
                </form>
                <p class="panel-status" role="status">{move || status.get()}</p>
                <Show when=move || !problem.with(String::is_empty)>
                    <p class="field-error" role="alert">{move || problem.get()}</p>
                </Show>
            </div>
        </div>
    }
}
