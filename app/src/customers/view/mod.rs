//! The Customers page. The view lives in the URL: every control navigates to the URL of the
//! next view, and the page reads its [`CustomerQuery`] from the URL, so reload, shared links,
//! back and forward all show the same thing.

mod filters;
mod history;
mod legend;
mod opened_row;
mod pager;
mod saved_views_menu;
mod table;
mod trend_chart;

use super::live::notice::LiveNotice;
use super::query::{CustomerQuery, RowFocus};
use super::server::{customer_fields, customer_representatives, list_customers};
use crate::auth::view::RequireReviewer;
use crate::components::LoadError;
use crate::orgs::model::CustomField;
use filters::{ChannelFilter, FieldFilters, PeriodFilter, RepresentativeFilter, SearchBox};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use saved_views_menu::SavedViewsMenu;
use table::CustomerTable;

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
pub fn CustomersRoute() -> impl IntoView {
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
    // The history of the row the address opens, read by the server for its page.
    let opened_on_server = Resource::new(
        move || focus.get(),
        move |focus| opened_row::read_opened_row(customers, focus),
    );
    // The browser shows what the server read only while it hydrates the server's page: later
    // views open their rows live.
    let hydrating = StoredValue::new(true);
    // The rows opened, kept across the live notice's Update; a new view starts closed.
    let opened = table::OpenedRows::default();
    provide_context(opened);
    Effect::new(move |_| {
        query.track();
        opened.forget_all();
    });
    // The data version of the rows on screen, for the live notice. Copied by an effect of the
    // page, outside every Suspense: a resource read under one (the notice sits inside the
    // sign-in gate's) counts as that Suspense's pending work, and each new view would render
    // the whole page again, taking focus and the rows on screen with it.
    let shown_version = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        let version =
            customers.with(|page| page.as_ref()?.as_ref().ok().map(|page| page.data_version));
        if version.is_some() {
            shown_version.set(version);
        }
    });
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
                <LiveNotice shown=shown_version.read_only() on_update=Callback::new(move |_| customers.refetch()) />
                <div class="results" aria-busy=move || busy.get().to_string()>
                    <Transition
                        fallback=|| view! { <p class="loading">"Loading customers…"</p> }
                        set_pending=set_pending
                    >
                        {move || Suspend::new(async move {
                            match customers.await {
                                Ok(page) => {
                                    let known = fields.await.unwrap_or_default();
                                    // Awaited on the server only: in the browser a new row
                                    // focus must not render the table again.
                                    #[cfg(feature = "ssr")]
                                    let opened = opened_on_server.await;
                                    #[cfg(not(feature = "ssr"))]
                                    let opened = if hydrating.get_value() {
                                        opened_on_server.get_untracked().flatten()
                                    } else {
                                        None
                                    };
                                    hydrating.set_value(false);
                                    let asked = query.get_untracked();
                                    let dropped = dropped_filter_notes(&asked, &page.query, &known);
                                    view! {
                                        {(!dropped.is_empty()).then(|| view! {
                                            <p class="notice" role="status">{dropped.join(" ")}</p>
                                        })}
                                        <CustomerTable page=page query=query focus=focus opened=opened />
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
